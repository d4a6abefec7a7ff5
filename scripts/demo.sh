#!/usr/bin/env bash
# The learning-loop demo: installs what is missing, builds and installs
# learnloop, starts a throwaway PostgreSQL 15 cluster with
# shared_preload_libraries = learnloop and runs scripts/demo.sql in it.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

scripts/install-deps.sh
scripts/build.sh

echo "==> demo: starting a throwaway PostgreSQL 15 cluster (pg_virtualenv)"
pg_virtualenv -t -v 15 \
  -o "shared_preload_libraries=learnloop" \
  psql -X -v ON_ERROR_STOP=1 --echo-queries -f scripts/demo.sql
echo "==> demo: finished in $(( $(date +%s) - start ))s; the cluster was thrown away"
