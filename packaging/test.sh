#!/usr/bin/env bash
# Install what is needed, build, and run every test: formatting, static
# checks (no dependency circle between modules, clang-tidy), the suite
# under AddressSanitizer + UndefinedBehaviorSanitizer, the suite under
# valgrind, the Windows build (mingw-w64) with its tests under wine, and last
# the debug build's suite (its ctest summary ends the log). All builds use
# -Werror. The end-to-end tests start a real kube-apiserver, built from
# Debian's source package the first time and cached under
# /var/cache/hnsnetpol; the mingw dependencies are cached there too.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=$(nproc)

"$top/packaging/install-deps.sh"

echo "== clang-format"
mapfile -t sources < <(git ls-files '*.c' '*.h' 2>/dev/null || find src include tests win -name '*.[ch]')
if [ "${#sources[@]}" -gt 0 ]; then
    clang-format --dry-run --Werror "${sources[@]}"
fi
echo "formatting clean"

echo "== modules: no dependency circle"
python3 "$top/packaging/check-includes.py"

echo "== clang-tidy (.clang-tidy) over the debug build's sources"
cmake --preset debug >/dev/null
"$top/packaging/clang-tidy.sh" "$top/build/debug"
echo "clang-tidy clean"

echo "== Windows dependencies (mingw-w64, cached)"
"$top/packaging/build-mingw-deps.sh"

for preset in asan valgrind mingw64 debug; do
    echo "== build and test: $preset"
    cmake --preset "$preset" >/dev/null
    cmake --build --preset "$preset" -j "$jobs"
    ctest --preset "$preset" -j "$jobs"
done
