#!/usr/bin/env bash
# Set up the Windows cross-build of hnsnetpol on Debian 12 (bookworm): install
# the mingw-w64 toolchain and wine with apt, then build the libraries the agent
# links from Debian's own source packages (`apt-get source`) with mingw-w64,
# as static libraries with pkg-config files, into a prefix cached outside any
# build tree:
#
#     ${HNP_MINGW_PREFIX:-/var/cache/hnsnetpol/mingw64}/{include,lib,lib/pkgconfig}
#
#   jansson        CMake, static
#   libyaml        CMake, static; yaml-0.1.pc written here (CMake installs
#                  none) with -DYAML_DECLARE_STATIC, else yaml.h dllimports
#   cmocka         CMake; its static archive installed as libcmocka.a
#   curl           libcurl only: Schannel TLS, HTTP and HTTPS, no other
#                  protocol, no zlib/brotli/zstd/nghttp2/idn2/psl; static,
#                  libcurl.pc carries -DCURL_STATICLIB
#   libmicrohttpd  native W32 threads, no HTTPS (the metrics listener is
#                  plain HTTP), static
#
# cmake/mingw-w64-x86_64.cmake (in the repository beside packaging/) is the
# toolchain for the CMake builds here and for hnsnetpol itself. A stamp file
# in the prefix holds the SHA-256 of this script and that toolchain file: when
# it matches and the libraries are there, nothing else is done (well under a
# second); any change to either rebuilds the whole prefix (about 2 minutes on
# 2 cores). The new prefix is assembled beside the old one and swapped in at
# the end, so a failed run leaves the previous prefix intact.
#
# It also initialises the wine prefix the toolchain's test emulator uses
# (${WINEPREFIX:-/var/cache/hnsnetpol/wine64}) once, so ctest does not pay
# wine's first-start cost (and two tests do not race to create it).
#
# Needs root (or sudo) for apt. Fails loudly: any error stops the script with
# a message naming the step, and the build log's tail.
#
# Environment:
#   HNP_MINGW_PREFIX  deps prefix (default /var/cache/hnsnetpol/mingw64)
#   WINEPREFIX        wine prefix to initialise (default /var/cache/hnsnetpol/wine64)
#   HNP_BUILD_DIR     parent of the temporary build directory (default ${TMPDIR:-/tmp})
#   HNP_KEEP_BUILD    1: keep the build directory (kept anyway when a build fails)
#   HNP_JOBS          parallel make jobs (default: nproc)
set -euo pipefail

script_path=$(readlink -f "${BASH_SOURCE[0]}")
repo_dir=$(dirname "$(dirname "$script_path")")
toolchain=$repo_dir/cmake/mingw-w64-x86_64.cmake
host=x86_64-w64-mingw32
prefix=${HNP_MINGW_PREFIX:-/var/cache/hnsnetpol/mingw64}
prefix=${prefix%/}
wineprefix=${WINEPREFIX:-/var/cache/hnsnetpol/wine64}
stamp=$prefix/.hnsnetpol-mingw-deps.stamp
jobs=${HNP_JOBS:-$(nproc)}
sources=(jansson libyaml cmocka curl libmicrohttpd)
# What a complete prefix holds; checked before trusting the stamp.
expected=(lib/libjansson.a lib/libyaml.a lib/libcmocka.a lib/libcurl.a lib/libmicrohttpd.a
          lib/pkgconfig/jansson.pc lib/pkgconfig/yaml-0.1.pc lib/pkgconfig/cmocka.pc
          lib/pkgconfig/libcurl.pc lib/pkgconfig/libmicrohttpd.pc)

t_start=$(date +%s)
log() { echo "build-mingw-deps: $*" >&2; }
die() { echo "build-mingw-deps: ERROR: $*" >&2; exit 1; }
elapsed() { echo "$(( $(date +%s) - $1 ))s"; }

[ -f "$toolchain" ] || die "toolchain file $toolchain not found"
# The recipe: this script and the toolchain file the CMake builds use.
script_sum=$(cat "$script_path" "$toolchain" | sha256sum | cut -d' ' -f1)

prefix_ok() {
    [ -f "$stamp" ] && [ "$(sed -n 's/^recipe-sha256 //p' "$stamp")" = "$script_sum" ] || return 1
    local f
    for f in "${expected[@]}"; do
        [ -s "$prefix/$f" ] || return 1
    done
}

wine_ok() {
    [ -f "$wineprefix/system.reg" ] && [ -d "$wineprefix/drive_c/windows/system32" ]
}

tools_ok() {
    command -v $host-gcc-posix >/dev/null || command -v $host-gcc >/dev/null || return 1
    command -v wine >/dev/null
}

if prefix_ok && wine_ok && tools_ok; then
    log "cached: $prefix ($(sed -n 's/^sources //p' "$stamp"))"
    log "wine prefix: $wineprefix; $(elapsed "$t_start")"
    echo "$prefix"
    exit 0
fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "not root and no sudo: cannot install packages"
    sudo_cmd=(sudo)
fi

cache_root=$(dirname "$prefix")
mkdir -p "$cache_root" 2>/dev/null || "${sudo_cmd[@]}" mkdir -p "$cache_root"
[ -w "$cache_root" ] || "${sudo_cmd[@]}" chown "$(id -u):$(id -g)" "$cache_root"

# One run at a time: a second caller waits, then finds the finished prefix.
exec 9>"$prefix.lock"
if ! flock -n 9; then
    log "another run holds $prefix.lock; waiting"
    flock 9
fi

# --- packages ---------------------------------------------------------------
t=$(date +%s)
# gcc-mingw-w64-x86-64-posix: the posix thread model (winpthreads); the
# toolchain file prefers it. mingw-w64-x86-64-dev holds the Windows headers,
# import libraries and libwinpthread.a. wine64 runs the 64-bit programs; the
# `wine` package brings the /usr/bin/wine launcher.
packages=(gcc-mingw-w64-x86-64-posix binutils-mingw-w64-x86-64 mingw-w64-x86-64-dev
          wine wine64 cmake make pkg-config dpkg-dev xz-utils autoconf automake libtool)
missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if [ "${#missing[@]}" -gt 0 ]; then
    log "installing ${missing[*]}"
    "${sudo_cmd[@]}" apt-get update -qq -o DPkg::Lock::Timeout=600
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq \
        -o DPkg::Lock::Timeout=600 --no-install-recommends "${missing[@]}" >/dev/null
fi
cc=$(command -v $host-gcc-posix || command -v $host-gcc) || die "no $host-gcc after apt"
command -v wine >/dev/null || die "no wine after apt"
log "packages ready ($(elapsed "$t")): $($cc --version | head -n 1), $(wine --version 2>/dev/null)"

# --- wine prefix --------------------------------------------------------------
if ! wine_ok; then
    t=$(date +%s)
    log "initialising wine prefix $wineprefix (wineboot -i)"
    mkdir -p "$wineprefix"
    WINEPREFIX=$wineprefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=" \
        wineboot -i >/dev/null 2>&1 || die "wineboot -i failed for $wineprefix"
    # wineboot returns before the registry is flushed; wait for the server.
    WINEPREFIX=$wineprefix wineserver -w
    wine_ok || die "wine prefix $wineprefix incomplete after wineboot -i"
    log "wine prefix ready ($(elapsed "$t"))"
fi

if prefix_ok; then
    log "cached: $prefix ($(sed -n 's/^sources //p' "$stamp")); total $(elapsed "$t_start")"
    echo "$prefix"
    exit 0
fi

# --- deb-src entries ------------------------------------------------------------
# apt-get source needs deb-src entries. Another hnsnetpol script (or the
# admin) may have added them already: only when no deb-src entry exists at
# all is one written, as a deb822 file with `Types: deb-src` twins of the
# enabled `Types: deb` stanzas (or deb-src twins of one-line `deb` entries).
have_sources() {
    local p out
    for p in "${sources[@]}"; do
        # Not `apt-cache | grep -q`: grep's early exit would fail the pipe (pipefail).
        out=$(apt-cache showsrc "$p" 2>/dev/null) || return 1
        grep -q "^Package: $p\$" <<<"$out" || return 1
    done
}
any_deb_src() {
    grep -qsE '^[[:space:]]*Types:.*\bdeb-src\b' /etc/apt/sources.list.d/*.sources && return 0
    grep -qsE '^[[:space:]]*deb-src[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list
}
if ! have_sources; then
    if ! any_deb_src; then
        src_file=/etc/apt/sources.list.d/hnsnetpol-src.sources
        new_src=$(mktemp)
        {
            echo "# Written by hnsnetpol packaging/build-mingw-deps.sh: deb-src twins of"
            echo "# the configured Debian suites, for apt-get source."
            echo
            for f in /etc/apt/sources.list.d/*.sources; do
                [ -e "$f" ] || continue
                awk '
                    function flush() {
                        if (n > 0 && isdeb && !disabled) {
                            for (i = 1; i <= n; i++) print buf[i]
                            print ""
                        }
                        n = 0; isdeb = 0; disabled = 0
                    }
                    /^[ \t]*$/ { flush(); next }
                    /^Types:/ {
                        for (i = 2; i <= NF; i++) if ($i == "deb") isdeb = 1
                        buf[++n] = "Types: deb-src"; next
                    }
                    /^Enabled:[ \t]*(no|false)/ { disabled = 1 }
                    { buf[++n] = $0 }
                    END { flush() }
                ' "$f"
            done
        } >"$new_src"
        if ! grep -q '^Types: deb-src' "$new_src"; then
            src_file=/etc/apt/sources.list.d/hnsnetpol-src.list
            for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
                [ -e "$f" ] || continue
                sed -n 's/^[ \t]*deb\([ \t]\)/deb-src\1/p' "$f"
            done >"$new_src"
        fi
        if [ ! -s "$new_src" ]; then
            rm -f "$new_src"
            die "no 'deb' entries to derive deb-src entries from"
        fi
        log "writing $src_file"
        "${sudo_cmd[@]}" install -m 0644 "$new_src" "$src_file"
        rm -f "$new_src"
    fi
    log "apt-get update (for the source indexes)"
    "${sudo_cmd[@]}" apt-get update -qq -o DPkg::Lock::Timeout=600
    have_sources || die "apt-cache showsrc cannot find all of: ${sources[*]} (deb-src entries?)"
fi

# --- build directory ------------------------------------------------------------
build_parent=${HNP_BUILD_DIR:-${TMPDIR:-/tmp}}
mkdir -p "$build_parent"
work=$(mktemp -d "$build_parent/hnsnetpol-mingw-deps.XXXXXX")
# DESTDIR for every install: files land in $stage$prefix, on the prefix's file
# system so that the final swap is a rename.
stage=$prefix.stage
rm -rf "$stage"
keep=${HNP_KEEP_BUILD:-0}
current=setup
on_exit() {
    local rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "build-mingw-deps: FAILED in step '$current' after $(elapsed "$t_start");" \
             "build directory kept: $work" >&2
    elif [ "$keep" = 1 ]; then
        log "build directory kept: $work"
    else
        rm -rf "$work"
    fi
    rm -rf "$stage"
}
trap on_exit EXIT

# run LOG CMD...: run a build command with its output in LOG; on failure show
# the log's tail and stop.
run() {
    local logf=$1
    shift
    if ! "$@" >>"$logf" 2>&1; then
        tail -n 40 "$logf" >&2
        die "$current: '$*' failed (full log: $logf)"
    fi
}

cd "$work"
t=$(date +%s)
current="apt-get source"
# As root, apt cannot hand the download to the _apt user in a folder it does
# not own; that costs only a warning.
run "$work/apt-source.log" apt-get source -qq "${sources[@]}"
declare -A srcdir version
for p in "${sources[@]}"; do
    version[$p]=$(sed -n 's/^Version: //p' "$work"/${p}_*.dsc | head -n 1)
    dir=$(find "$work" -mindepth 1 -maxdepth 1 -type d -name "$p-*" | head -n 1)
    [ -n "$dir" ] || die "no $p-* directory after apt-get source"
    srcdir[$p]=$dir
done
versions=$(for p in "${sources[@]}"; do printf '%s=%s ' "$p" "${version[$p]}"; done)
log "sources fetched ($(elapsed "$t")): $versions"

# Plain -O2; the libraries are linked into the agent, not debugged here.
# __USE_MINGW_ANSI_STDIO: mingw's own C99 printf family (%zu, %lld), not
# msvcrt's; the toolchain file sets the same for hnsnetpol.
export CFLAGS="-O2 -D__USE_MINGW_ANSI_STDIO=1"
build_triplet=$(dpkg-architecture -qDEB_BUILD_GNU_TYPE 2>/dev/null || gcc -dumpmachine)

# cmake_build NAME SRCDIR ARGS...: configure, build and stage-install one CMake project.
cmake_build() {
    local name=$1 src=$2
    shift 2
    local logf=$work/$name.log
    run "$logf" cmake -S "$src" -B "$work/build-$name" -DCMAKE_TOOLCHAIN_FILE="$toolchain" \
        -DHNP_MINGW_PREFIX="$prefix" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$prefix" \
        -DCMAKE_INSTALL_LIBDIR=lib -DBUILD_SHARED_LIBS=OFF "$@"
    run "$logf" cmake --build "$work/build-$name" -j "$jobs"
    run "$logf" env DESTDIR="$stage" cmake --install "$work/build-$name"
}

# autotools_configure NAME SRCDIR ARGS...: configure for the mingw host. Both
# --build and --host are given so configure never tries to run a test program
# (through wine's binfmt handler, where one is registered).
autotools_configure() {
    local name=$1 src=$2
    shift 2
    [ -x "$src/configure" ] || (cd "$src" && run "$work/$name.log" autoreconf -fi)
    (cd "$src" && run "$work/$name.log" ./configure --build="$build_triplet" --host=$host \
        --prefix="$prefix" --libdir="$prefix/lib" --disable-shared --enable-static \
        CC="$cc" AR=$host-ar RANLIB=$host-ranlib STRIP=$host-strip "$@")
}

# --- jansson --------------------------------------------------------------------
t=$(date +%s); current=jansson
cmake_build jansson "${srcdir[jansson]}" -DJANSSON_BUILD_SHARED_LIBS=OFF -DJANSSON_EXAMPLES=OFF \
    -DJANSSON_WITHOUT_TESTS=ON -DJANSSON_BUILD_DOCS=OFF -DJANSSON_INSTALL=ON
log "jansson ${version[jansson]} built ($(elapsed "$t"))"

# --- libyaml --------------------------------------------------------------------
t=$(date +%s); current=libyaml
cmake_build libyaml "${srcdir[libyaml]}" -DBUILD_TESTING=OFF -DINSTALL_CMAKE_DIR=lib/cmake/yaml
yaml_version=$(sed -n 's/^set *( *YAML_VERSION_STRING *"\{0,1\}\([0-9.]*\).*/\1/p' \
    "${srcdir[libyaml]}/CMakeLists.txt" | head -n 1)
[ -n "$yaml_version" ] || yaml_version=${version[libyaml]%%-*}
mkdir -p "$stage$prefix/lib/pkgconfig"
cat >"$stage$prefix/lib/pkgconfig/yaml-0.1.pc" <<EOF
prefix=$prefix
exec_prefix=\${prefix}
includedir=\${prefix}/include
libdir=\${prefix}/lib

Name: LibYAML
Description: Library to parse and emit YAML (static, mingw-w64)
Version: $yaml_version
Cflags: -I\${includedir} -DYAML_DECLARE_STATIC
Libs: -L\${libdir} -lyaml
EOF
log "libyaml ${version[libyaml]} built ($(elapsed "$t"))"

# --- cmocka ---------------------------------------------------------------------
# cmocka 1.1.5 always builds a DLL and, with WITH_STATIC_LIB, an archive named
# cmocka-static. Keep only the archive, under the name cmocka.pc links (-lcmocka).
t=$(date +%s); current=cmocka
# cmocka.h marks print_message()/print_error() as printf-like with
# __printf__, which mingw GCC checks as msvcrt's format (no %zu). This cmocka
# is built with mingw's C99 printf (see CFLAGS), so on mingw declare them
# __gnu_printf__, whatever the including file has included before.
cmocka_h=${srcdir[cmocka]}/include/cmocka.h
perl -0pi -e '
    my $old = "#define CMOCKA_PRINTF_ATTRIBUTE(a,b) \\\n"
            . "    __attribute__ ((__format__ (__printf__, a, b)))\n";
    my $new = "#if defined(__MINGW32__) /* hnsnetpol build-mingw-deps.sh: C99 printf */\n"
            . "#define CMOCKA_PRINTF_ATTRIBUTE(a,b) \\\n"
            . "    __attribute__ ((__format__ (__gnu_printf__, a, b)))\n"
            . "#else\n" . $old . "#endif\n";
    s/\Q$old\E/$new/;
' "$cmocka_h"
grep -q '__gnu_printf__, a, b' "$cmocka_h" \
    || die "cmocka: cannot patch CMOCKA_PRINTF_ATTRIBUTE in $cmocka_h (layout changed?)"
cmake_build cmocka "${srcdir[cmocka]}" -DWITH_STATIC_LIB=ON -DWITH_EXAMPLES=OFF -DUNIT_TESTING=OFF \
    -DPICKY_DEVELOPER=OFF
[ -f "$stage$prefix/lib/libcmocka-static.a" ] || die "cmocka: no libcmocka-static.a installed"
mv -f "$stage$prefix/lib/libcmocka-static.a" "$stage$prefix/lib/libcmocka.a"
rm -f "$stage$prefix"/lib/libcmocka.dll.a "$stage$prefix"/bin/*cmocka*.dll
rmdir "$stage$prefix/bin" 2>/dev/null || true
rm -rf "$stage$prefix/lib/cmake/cmocka"
log "cmocka ${version[cmocka]} built ($(elapsed "$t"))"

# --- curl -----------------------------------------------------------------------
# libcurl only (not the curl tool). Schannel and SSPI are the only security
# back ends; every protocol except HTTP(S) is off. Debian's patches (CVE
# fixes) are applied by apt-get source; the upstream configure script is
# used as shipped (its patches to configure.ac concern Debian's GnuTLS/NSS
# flavours, LDAP and GSSAPI, all unused here).
t=$(date +%s); current=curl
autotools_configure curl "${srcdir[curl]}" \
    --with-schannel --enable-sspi \
    --without-zlib --without-brotli --without-zstd --without-nghttp2 --without-nghttp3 \
    --without-ngtcp2 --without-quiche --without-libidn2 --without-winidn --without-libpsl \
    --without-librtmp --without-libssh2 --without-libssh --without-wolfssh --without-libgsasl \
    --without-hyper --without-ca-bundle --without-ca-path --without-ca-fallback \
    --disable-ftp --disable-file --disable-ldap --disable-ldaps --disable-rtsp --disable-dict \
    --disable-telnet --disable-tftp --disable-pop3 --disable-imap --disable-smb --disable-smtp \
    --disable-gopher --disable-mqtt --disable-manual --disable-ntlm-wb --disable-websockets \
    --disable-libcurl-option --disable-dependency-tracking --enable-threaded-resolver \
    --disable-pthreads --enable-ipv6
if ! grep -qi 'SSL:.*schannel' "$work/curl.log"; then
    tail -n 40 "$work/curl.log" >&2
    die "curl: configure did not pick Schannel"
fi
run "$work/curl.log" make -C "${srcdir[curl]}/lib" -j "$jobs"
run "$work/curl.log" make -C "${srcdir[curl]}/lib" install DESTDIR="$stage"
run "$work/curl.log" make -C "${srcdir[curl]}/include" install DESTDIR="$stage"
run "$work/curl.log" make -C "${srcdir[curl]}" install-pkgconfigDATA DESTDIR="$stage"
grep -q 'CURL_STATICLIB' "$stage$prefix/lib/pkgconfig/libcurl.pc" \
    || die "curl: libcurl.pc lacks -DCURL_STATICLIB"
protocols=$(sed -n 's/^supported_protocols=//p' "$stage$prefix/lib/pkgconfig/libcurl.pc")
log "curl ${version[curl]} built, protocols $protocols ($(elapsed "$t"))"

# --- libmicrohttpd --------------------------------------------------------------
t=$(date +%s); current=libmicrohttpd
autotools_configure libmicrohttpd "${srcdir[libmicrohttpd]}" \
    --with-threads=auto --disable-https --without-gnutls --disable-doc --disable-examples \
    --disable-curl --disable-nls --disable-dependency-tracking
# configure 0.9.75 probes W32 threads only with --with-threads=auto (=w32
# fails), and auto prefers them on native Windows: check that it did.
grep -qE 'Threading lib: +w32' "$work/libmicrohttpd.log" \
    || die "libmicrohttpd: configure did not choose W32 threads"
mhd=${srcdir[libmicrohttpd]}
run "$work/libmicrohttpd.log" make -C "$mhd/src/microhttpd" -j "$jobs"
run "$work/libmicrohttpd.log" make -C "$mhd/src/microhttpd" install DESTDIR="$stage"
run "$work/libmicrohttpd.log" make -C "$mhd/src/include" install DESTDIR="$stage"
run "$work/libmicrohttpd.log" make -C "$mhd" install-pkgconfigDATA DESTDIR="$stage"
# configure adds -lws2_32 to its own LIBS but not to the .pc: a static link
# needs it.
mhd_pc=$stage$prefix/lib/pkgconfig/libmicrohttpd.pc
grep -q -- '-lws2_32' "$mhd_pc" || sed -i 's/^Libs\.private:.*/& -lws2_32/' "$mhd_pc"
grep -q '^Libs\.private:.*-lws2_32' "$mhd_pc" || die "libmicrohttpd: cannot add -lws2_32 to $mhd_pc"
log "libmicrohttpd ${version[libmicrohttpd]} built ($(elapsed "$t"))"

# --- check and swap in ------------------------------------------------------------
current="check"
rm -f "$stage$prefix"/lib/*.la
for f in "${expected[@]}"; do
    [ -s "$stage$prefix/$f" ] || die "missing from the new prefix: $f"
done
dlls=$(find "$stage$prefix" -name '*.dll' -o -name '*.dll.a')
[ -z "$dlls" ] || die "the prefix must hold static libraries only, found: $(echo $dlls)"
# Every library must be a Windows x86-64 archive, not a host one.
for a in "$stage$prefix"/lib/*.a; do
    formats=$($host-objdump -a "$a" 2>/dev/null | sed -n 's/.*file format //p' | sort -u)
    [ "$formats" = pe-x86-64 ] || die "$a is not a pe-x86-64 archive (formats: ${formats:-none})"
done
PKG_CONFIG_LIBDIR=$stage$prefix/lib/pkgconfig PKG_CONFIG_PATH= \
    pkg-config --exists --print-errors jansson yaml-0.1 cmocka libcurl libmicrohttpd \
    || die "pkg-config cannot resolve the new .pc files"

{
    echo "recipe-sha256 $script_sum"
    echo "sources $versions"
    echo "compiler $($cc --version | head -n 1)"
    echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ)"
} >"$stage$prefix/.hnsnetpol-mingw-deps.stamp"

current="swap"
rm -rf "$prefix.old"
[ -e "$prefix" ] && mv "$prefix" "$prefix.old"
mv "$stage$prefix" "$prefix"
rm -rf "$prefix.old"
log "prefix ready: $prefix; total $(elapsed "$t_start")"
echo "$prefix"
