#!/usr/bin/env bash
# Builds learnloop and installs it into Debian's PostgreSQL 15.
#   scripts/build.sh            as a user builds: warnings are shown
#   scripts/build.sh --werror   as the tests build (scripts/test.sh): a
#                               warning fails the build
set -euo pipefail
cd "$(dirname "$0")/.."
export PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
copt=()
case "${1:-}" in
  --werror) copt=(COPT=-Werror) ;;
  "") ;;
  *) echo "usage: $0 [--werror]" >&2; exit 2 ;;
esac
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "==> build: make ${copt[*]} (PG_CONFIG=$PG_CONFIG)"
make -s -j"$(nproc)" PG_CONFIG="$PG_CONFIG" "${copt[@]}"
echo "==> build: make install"
$sudo make -s install PG_CONFIG="$PG_CONFIG" "${copt[@]}" >/dev/null
