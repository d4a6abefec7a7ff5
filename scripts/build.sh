#!/usr/bin/env bash
# Builds learnloop and installs it into Debian's PostgreSQL 15.
set -euo pipefail
cd "$(dirname "$0")/.."
export PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "==> build: make (PG_CONFIG=$PG_CONFIG)"
make -s -j"$(nproc)" PG_CONFIG="$PG_CONFIG"
echo "==> build: make install"
$sudo make -s install PG_CONFIG="$PG_CONFIG" >/dev/null
