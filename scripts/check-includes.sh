#!/usr/bin/env bash
# Checks the include direction of src/README.md: every #include
# "folder/header.h" in a folder of src/ names its own folder or one its
# row allows.  Only headers that exist under the checked src/ count, so
# PostgreSQL's "common/..." and "utils/..." are not ours.  The table is
# read from this checkout's src/README.md, so the check and the document
# cannot drift; it also refuses a table with a cycle (a folder naming one
# listed below it), an include by a relative path ("../x/y.h"), and a top
# header other than learnloop.h in a folder.  The top files (src/*.c,
# src/*.h) may include anything.
#
# Usage: scripts/check-includes.sh [SRC_DIR]   (default: this checkout's src)
# Prints each offending file and include; exits 1 if there is any.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
readme=$root/src/README.md
src=${1:-$root/src}
src=${src%/}

declare -A allowed=()
declare -A seen=()
errors=0

fail() {
  echo "$1"
  errors=$((errors + 1))
}

table=$(sed -n '/<!-- include-direction:begin/,/<!-- include-direction:end/p' "$readme" |
  grep '^| `' || true)
[ -n "$table" ] || { echo "$readme has no include-direction table"; exit 1; }

# the table's cells name folders in backticks, taken literally
# shellcheck disable=SC2016
while IFS='|' read -r _ folder_cell deps_cell _; do
  folder=$(grep -oE '`[a-z_]+`' <<<"$folder_cell" | head -n1 | tr -d '`')
  deps=$(grep -oE '`[a-z_]+`' <<<"$deps_cell" | tr -d '`' | tr '\n' ' ' || true)
  for dep in $deps; do
    [ -n "${seen[$dep]:-}" ] ||
      fail "src/README.md: $folder may include $dep, which is not listed above it (a cycle or an unknown folder)"
  done
  seen[$folder]=1
  deps=${deps% }
  allowed[$folder]=${deps:+ $deps}
done <<<"$table"

while IFS= read -r file; do
  rel=${file#"$src"/}
  folder=${rel%%/*}
  if [ -z "${seen[$folder]:-}" ]; then
    fail "src/$rel: folder $folder/ has no row in src/README.md's include direction"
    continue
  fi
  while IFS=: read -r line header; do
    case $header in
      *..*)
        fail "src/$rel:$line: includes \"$header\": a relative path hides which folder it reaches; name it from src/"
        continue ;;
      */*) ;;
      *)
        # a top header: only learnloop.h (the settings) is meant for the folders
        [ -f "$src/$header" ] && [ "$header" != learnloop.h ] &&
          fail "src/$rel:$line: includes the top header \"$header\"; a folder may include only learnloop.h of them"
        continue ;;
    esac
    target=${header%%/*}
    [ "$target" = "$folder" ] && continue
    [ -f "$src/$header" ] || continue
    case "${allowed[$folder]} " in
      *" $target "*) ;;
      *) fail "src/$rel:$line: includes \"$header\", but $folder/ may include only:${allowed[$folder]:- nothing of ours}" ;;
    esac
  done < <(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]+"[^"]+"' "$file" |
    sed -E 's/^([0-9]+):.*"([^"]+)".*/\1:\2/')
done < <(find "$src" -mindepth 2 -type f -name '*.[ch]' | sort)

if [ "$errors" -gt 0 ]; then
  echo "check-includes: $errors include(s) break the direction in src/README.md"
  exit 1
fi
echo "check-includes: every include of $src follows src/README.md"
