#!/usr/bin/env bash
# Checks that every C source and header is in the house format
# (.clang-format at the repository root): clang-format would change
# nothing. On failure it lists the files and the first lines it would
# change in each, so the fix is `clang-format -i FILE`.
#
# Usage: bash tests/lint/format.sh [SOURCE_DIR]
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "${1:-"$script_dir/../.."}" && pwd)
cd "$src"
command -v clang-format >/dev/null 2>&1 || {
    echo "format.sh: clang-format is not installed (scripts/test installs it)" >&2
    exit 1
}

bad=()
while IFS= read -r f; do
    clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done < <(find src include tests -name '*.[ch]' | sort)

if [ "${#bad[@]}" -gt 0 ]; then
    printf 'format: %d file(s) differ from .clang-format:\n' "${#bad[@]}" >&2
    for f in "${bad[@]}"; do
        printf '  %s\n' "$f" >&2
        clang-format "$f" | diff -u "$f" - | sed -n '3,12p' | sed 's/^/    /' >&2 || true
    done
    exit 1
fi
echo "format: $(find src include tests -name '*.[ch]' | wc -l) files match .clang-format"
