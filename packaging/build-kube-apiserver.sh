#!/usr/bin/env bash
# Build a real kube-apiserver from Debian's `kubernetes` source package
# (1.20.2 in bookworm) for the end-to-end tests, and cache the binary outside
# the work tree:
#
#     ${HNP_CACHE_DIR:-/var/cache/hnsnetpol}/kube-apiserver-<version>/kube-apiserver
#
# When that binary is already there (and runs), nothing else is done: a second
# run takes well under a second. On a brand-new machine it installs what it
# needs with apt (Go 1.19, rsync, dpkg-dev, reflect2), adds a deb-src twin of
# the configured Debian sources, fetches the source with `apt-get source`,
# swaps the vendored reflect2 1.0.1 (it crashes under Go 1.19) for Debian's
# 1.0.2 and runs `make WHAT=cmd/kube-apiserver` (about 4 minutes on 2 cores).
# The build tree, GOPATH and GOCACHE live in a temporary directory that is
# removed afterwards (HNP_KEEP_BUILD=1 keeps it).
#
# Prints the binary's path on its last line. Needs root (or sudo) for apt.
#
# Environment:
#   HNP_CACHE_DIR    cache root (default /var/cache/hnsnetpol)
#   HNP_BUILD_DIR    parent of the temporary build directory (default ${TMPDIR:-/tmp})
#   HNP_KEEP_BUILD   1: keep the build directory (its path is printed)
set -euo pipefail

KUBE_VERSION=1.20.2
cache_dir=${HNP_CACHE_DIR:-/var/cache/hnsnetpol}
dest_dir=$cache_dir/kube-apiserver-$KUBE_VERSION
dest=$dest_dir/kube-apiserver

log() { echo "build-kube-apiserver: $*" >&2; }
die() { echo "build-kube-apiserver: ERROR: $*" >&2; exit 1; }

cached_ok() {
    [ -x "$dest" ] && "$dest" --version >/dev/null 2>&1
}

if cached_ok; then
    log "cached: $dest ($("$dest" --version 2>&1))"
    echo "$dest"
    exit 0
fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "not root and no sudo: cannot install packages"
    sudo_cmd=(sudo)
fi

mkdir -p "$dest_dir" 2>/dev/null || "${sudo_cmd[@]}" mkdir -p "$dest_dir"
[ -w "$dest_dir" ] || "${sudo_cmd[@]}" chown "$(id -u):$(id -g)" "$cache_dir" "$dest_dir"

# One build at a time: a second caller waits, then finds the cached binary.
exec 9>"$dest_dir/.lock"
if ! flock -n 9; then
    log "another build holds $dest_dir/.lock; waiting"
    flock 9
fi
if cached_ok; then
    log "cached (built by a concurrent run): $dest"
    echo "$dest"
    exit 0
fi

start=$(date +%s)

# --- packages ---------------------------------------------------------------
packages=(golang-go rsync dpkg-dev golang-github-modern-go-reflect2-dev make)
missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if [ "${#missing[@]}" -gt 0 ]; then
    log "installing ${missing[*]}"
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
fi

# --- deb-src entries --------------------------------------------------------
# A separate file with `Types: deb-src` for every `Types: deb` stanza of the
# deb822 sources (the original file is left alone), or deb-src twins of the
# `deb` lines of a one-line-style sources.list.
src_file=/etc/apt/sources.list.d/hnsnetpol-deb-src.sources
new_src=$(mktemp)
trap 'rm -f "$new_src"' EXIT
{
    echo "# Written by hnsnetpol packaging/build-kube-apiserver.sh: source"
    echo "# entries for the suites of the binary ones, to fetch Debian's kubernetes."
    echo
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -e "$f" ] || continue
        [ "$f" = "$src_file" ] && continue
        # Paragraphs are separated by blank lines. Keep those whose Types
        # names `deb` but not already `deb-src`, with Types rewritten.
        awk '
            function flush() {
                if (n > 0 && isdeb && !hassrc && !disabled) {
                    for (i = 1; i <= n; i++) print buf[i]
                    print ""
                }
                n = 0; isdeb = 0; hassrc = 0; disabled = 0
            }
            /^[ \t]*$/ { flush(); next }
            /^Types:/ {
                for (i = 2; i <= NF; i++) {
                    if ($i == "deb") isdeb = 1
                    if ($i == "deb-src") hassrc = 1
                }
                buf[++n] = "Types: deb-src"; next
            }
            /^Enabled:[ \t]*(no|false)/ { disabled = 1 }
            { buf[++n] = $0 }
            END { flush() }
        ' "$f"
    done
} >"$new_src"
if ! grep -q '^Types: deb-src' "$new_src"; then
    # No deb822 stanza: fall back to the one-line format.
    : >"$new_src"
    src_file=/etc/apt/sources.list.d/hnsnetpol-deb-src.list
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -e "$f" ] || continue
        [ "$f" = "$src_file" ] && continue
        sed -n 's/^[ \t]*deb\([ \t]\)/deb-src\1/p' "$f"
    done >"$new_src"
fi
[ -s "$new_src" ] || die "no Debian 'deb' source entries found to derive deb-src entries from"
if ! cmp -s "$new_src" "$src_file" 2>/dev/null; then
    log "writing $src_file"
    "${sudo_cmd[@]}" install -m 0644 "$new_src" "$src_file"
    need_update=1
fi
if [ "${need_update:-0}" = 1 ] || ! apt-cache showsrc kubernetes 2>/dev/null | grep -q '^Package: kubernetes'; then
    log "apt-get update (with deb-src)"
    "${sudo_cmd[@]}" apt-get update -qq
fi
apt-cache showsrc kubernetes 2>/dev/null | grep -q '^Package: kubernetes' \
    || die "apt-cache showsrc kubernetes finds nothing even after apt-get update"
src_versions=$(apt-cache showsrc kubernetes | sed -n 's/^Version: //p' | sort -u | tr '\n' ' ')
log "kubernetes source versions available: $src_versions"

# --- fetch the source -------------------------------------------------------
build_parent=${HNP_BUILD_DIR:-${TMPDIR:-/tmp}}
mkdir -p "$build_parent"
work=$(mktemp -d "$build_parent/hnsnetpol-kube-build.XXXXXX")
cleanup() {
    rm -f "$new_src"
    if [ "${HNP_KEEP_BUILD:-0}" = 1 ]; then
        log "build directory kept: $work"
    else
        # Go module/build caches are written read-only.
        chmod -R u+w "$work" 2>/dev/null || true
        rm -rf "$work"
    fi
}
trap cleanup EXIT

# Keep Go entirely inside the build directory: no $HOME/go, no ~/.cache/go-build,
# no network (GOPROXY=off), no GOFLAGS from the caller.
export GOPATH=$work/gopath GOCACHE=$work/gocache GOMODCACHE=$work/gopath/pkg/mod
export XDG_CACHE_HOME=$work/xdg-cache GOENV=off GOPROXY=off GOTOOLCHAIN=local
export GOFLAGS=
unset GOROOT GOBIN GO111MODULE CGO_ENABLED GOOS GOARCH 2>/dev/null || true
export PATH=/usr/lib/go/bin:$PATH
log "go: $(go version)"

cd "$work"
log "apt-get source kubernetes (into $work)"
# As root apt cannot drop to the _apt user for a directory it does not own;
# that only costs a warning.
apt-get source -qq kubernetes >apt-source.log 2>&1 || {
    tail -n 30 apt-source.log >&2
    die "apt-get source kubernetes failed"
}
srcdir=$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'kubernetes-*' | head -n 1)
[ -n "$srcdir" ] || die "no kubernetes-* directory after apt-get source"
[ -f "$srcdir/cmd/kube-apiserver/apiserver.go" ] || die "$srcdir has no cmd/kube-apiserver"
log "source: $srcdir"

# --- reflect2 ---------------------------------------------------------------
r2=/usr/share/gocode/src/github.com/modern-go/reflect2
[ -d "$r2" ] || die "$r2 missing (golang-github-modern-go-reflect2-dev)"
[ -d "$srcdir/vendor/github.com/modern-go/reflect2" ] \
    || die "$srcdir/vendor/github.com/modern-go/reflect2 missing: the source layout changed"
log "replacing vendor/github.com/modern-go/reflect2 with Debian's $(dpkg-query -W -f='${Version}' golang-github-modern-go-reflect2-dev)"
rm -rf "$srcdir/vendor/github.com/modern-go/reflect2"
cp -rL "$r2" "$srcdir/vendor/github.com/modern-go/reflect2"
# Keep vendor/modules.txt honest about the version now vendored.
if [ -f "$srcdir/vendor/modules.txt" ]; then
    sed -i 's|^# github.com/modern-go/reflect2 v1\.0\.1$|# github.com/modern-go/reflect2 v1.0.2|' "$srcdir/vendor/modules.txt"
fi

# --- build ------------------------------------------------------------------
# Version stamp: the tarball has no .git, so give the build its version.
export KUBE_GIT_VERSION=v$KUBE_VERSION KUBE_GIT_TREE_STATE=clean
export KUBE_GIT_MAJOR=${KUBE_VERSION%%.*}
minor=${KUBE_VERSION#*.}
export KUBE_GIT_MINOR=${minor%%.*}
log "make WHAT=cmd/kube-apiserver (takes minutes; log: $srcdir/build.log)"
build_start=$(date +%s)
if ! make -C "$srcdir" WHAT=cmd/kube-apiserver >"$srcdir/build.log" 2>&1; then
    tail -n 40 "$srcdir/build.log" >&2
    HNP_KEEP_BUILD=1
    die "make WHAT=cmd/kube-apiserver failed (build directory kept: $work)"
fi
log "make took $(( $(date +%s) - build_start ))s"

bin=$(find "$srcdir/_output" -type f -name kube-apiserver -perm -u+x | head -n 1)
[ -n "$bin" ] || die "make succeeded but no kube-apiserver under $srcdir/_output"
"$bin" --version >/dev/null 2>&1 || die "$bin does not run"

install -m 0755 "$bin" "$dest.tmp.$$"
mv -f "$dest.tmp.$$" "$dest"
log "installed $dest ($("$dest" --version 2>&1), $(du -h "$dest" | cut -f1)) in $(( $(date +%s) - start ))s"
echo "$dest"
