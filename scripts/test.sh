#!/usr/bin/env bash
# Runs every learnloop test suite against throwaway PostgreSQL 15 clusters:
# C unit tests, pg_regress, isolation specs, pgTAP (pg_prove) and multi-step
# shell tests.  Installs the dependencies and the extension first.  Exits
# non-zero on any failure; the last line counts the suites.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

scripts/install-deps.sh
scripts/build.sh --werror   # CI: a warning fails the build

counts=$(mktemp)
trap 'rm -f "$counts"' EXIT
export LEARNLOOP_SUITE_COUNTS=$counts

echo "==> test: starting a throwaway PostgreSQL 15 cluster (pg_virtualenv)"
status=0
pg_virtualenv -t -v 15 \
  -o "shared_preload_libraries=learnloop,pg_cron" \
  -o "cron.database_name=learnloop_cron" \
  -o "cron.use_background_workers=on" \
  -o "max_worker_processes=16" \
  scripts/run-suites.sh || status=1
read -r passed failed <"$counts" || { passed=0; failed=1; }

# tests that restart their server get a cluster of their own
for t in test/shell/restarts/*.sh; do
  echo "==> test: $t (own throwaway cluster)"
  if pg_virtualenv -t -v 15 -o "shared_preload_libraries=learnloop" bash "$t"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    status=1
  fi
done

# memory errors: the regression suites again, the server under memcheck
if command -v valgrind >/dev/null; then
  echo "==> test: scripts/valgrind.sh (server under valgrind memcheck)"
  if bash scripts/valgrind.sh; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    status=1
  fi
else
  echo "==> test: valgrind is not installed: memcheck run skipped (apt-get install valgrind)"
fi

echo "==> test: finished in $(( $(date +%s) - start ))s"
echo "suites: $passed passed, $failed failed"
exit $status
