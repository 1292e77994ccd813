#!/usr/bin/env bash
# clang-tidy.sh BUILD_DIR - run clang-tidy (.clang-tidy at the top) over every
# C file of src/ and win/ that BUILD_DIR's compile_commands.json compiles
# (src/posix/ on Linux; win/ in a mingw build tree). A finding fails the run.
# packaging/test.sh runs it on the debug build.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:?usage: clang-tidy.sh BUILD_DIR}
db="$build/compile_commands.json"
[ -f "$db" ] || { echo "clang-tidy.sh: no $db (configure the build first)" >&2; exit 2; }
mapfile -t files < <(cd "$top" && git ls-files 'src/*.c' 'win/*.c' 2>/dev/null || find src win -name '*.c')
compiled=()
for f in "${files[@]}"; do
    grep -q "\"file\": \"$top/$f\"" "$db" && compiled+=("$top/$f")
done
echo "clang-tidy: ${#compiled[@]} files"
printf '%s\n' "${compiled[@]}" | xargs -P "$(nproc)" -n 4 clang-tidy -p "$build" --quiet 2>/dev/null
