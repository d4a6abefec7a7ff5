#!/usr/bin/env bash
# Runs every learnloop test suite against throwaway PostgreSQL 15 clusters:
# C unit tests, pg_regress, isolation specs, pgTAP (pg_prove), multi-step
# shell and load tests, the Debian package and a memcheck run.  Installs
# the dependencies and the extension first.  Exits non-zero on any
# failure; the last line counts the suites.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

scripts/install-deps.sh
scripts/build.sh --werror   # CI: a warning fails the build

counts=$(mktemp)
memcheck_log=$(mktemp)
memcheck_pid=
# an interrupted run takes its memcheck run (a background job) down with it
trap '[ -n "${memcheck_pid:-}" ] && pkill -TERM -P "$memcheck_pid" 2>/dev/null; [ -n "${memcheck_pid:-}" ] && kill "$memcheck_pid" 2>/dev/null; rm -f "$counts" "$memcheck_log"' EXIT
export LEARNLOOP_SUITE_COUNTS=$counts

# memory errors: the regression suites again, the server under memcheck.
# It takes one core for a quarter of an hour, so it runs beside the suites
# below, on a server of its own, and is waited for before the Debian
# package replaces the installed extension.
if command -v valgrind >/dev/null; then
  echo "==> test: scripts/valgrind.sh started (server under valgrind memcheck, beside the other suites)"
  bash scripts/valgrind.sh >"$memcheck_log" 2>&1 &
  memcheck_pid=$!
else
  echo "==> test: valgrind is not installed: memcheck run skipped (apt-get install valgrind)"
fi

echo "==> test: starting a throwaway PostgreSQL 15 cluster (pg_virtualenv)"
status=0
pg_virtualenv -t -v 15 \
  -o "shared_preload_libraries=learnloop,pg_cron" \
  -o "cron.database_name=learnloop_cron" \
  -o "cron.use_background_workers=on" \
  -o "max_worker_processes=16" \
  scripts/run-suites.sh || status=1
read -r passed failed <"$counts" || { passed=0; failed=1; }

# counted NAME COMMAND...: a suite run outside run-suites.sh's cluster
counted() {
  local name=$1 t0=$SECONDS
  shift
  echo "==> test: $name"
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    status=1
  fi
  echo "==> test: $name took $((SECONDS - t0))s"
}

# the memcheck run's output, once it has finished, and its status
memcheck_result() {
  local s=0
  wait "$memcheck_pid" || s=$?
  memcheck_pid=
  cat "$memcheck_log"
  return $s
}

# tests that restart their server get a cluster of their own
for t in test/shell/restarts/*.sh; do
  counted "$t (own throwaway cluster)" pg_virtualenv -t -v 15 -o "shared_preload_libraries=learnloop" bash "$t"
done

[ -n "$memcheck_pid" ] &&
  counted "scripts/valgrind.sh (server under valgrind memcheck; waited for)" memcheck_result

# the Debian package: built from this tree, installed with apt, a model
# trained and served from it; the system is put back as it was after
counted "test/package/package.sh (the Debian package, built, installed and used)" bash test/package/package.sh

echo "==> test: finished in $(( $(date +%s) - start ))s"
echo "suites: $passed passed, $failed failed"
exit $status
