#!/usr/bin/env bash
# Runs every learnloop test suite against a throwaway PostgreSQL 15 cluster:
# pg_regress, the isolation specs and pgTAP (pg_prove).  Installs the
# dependencies and the extension first.  Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

scripts/install-deps.sh
scripts/build.sh

echo "==> test: starting a throwaway PostgreSQL 15 cluster (pg_virtualenv)"
pg_virtualenv -t -v 15 \
  -o "shared_preload_libraries=learnloop,pg_cron" \
  -o "cron.database_name=learnloop_cron" \
  -o "cron.use_background_workers=on" \
  -o "max_worker_processes=16" \
  scripts/run-suites.sh

# tests that restart their server get a cluster of their own
for t in test/shell/restarts/*.sh; do
  echo "==> test: $t (own throwaway cluster)"
  pg_virtualenv -t -v 15 -o "shared_preload_libraries=learnloop" bash "$t"
done
echo "==> test: all suites passed in $(( $(date +%s) - start ))s"
