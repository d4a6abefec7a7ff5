#!/usr/bin/env bash
# The test suites themselves; scripts/test.sh runs this inside pg_virtualenv,
# which provides the server through PGHOST, PGPORT, PGUSER and PGPASSWORD.
# Every suite runs even when an earlier one failed; the counts go to
# $LEARNLOOP_SUITE_COUNTS for test.sh's summary.
set -uo pipefail
cd "$(dirname "$0")/.."
export PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
passed=0
failed=()

server_log_tail() {
  local log
  for log in "$(dirname "${PG_CLUSTER_CONF_ROOT:-/nonexistent}")"/log/*.log; do
    [ -f "$log" ] && { echo "---- last 40 lines of $log"; tail -n 40 "$log"; }
  done
}

# suite NAME COMMAND...: runs one suite and counts it
suite() {
  local name=$1 t0=$SECONDS
  shift
  echo "==> test: $name"
  if "$@"; then
    passed=$((passed + 1))
  else
    failed+=("$name")
  fi
  echo "==> test: $name took $((SECONDS - t0))s"
}

installcheck() {
  make -s installcheck PG_CONFIG="$PG_CONFIG" && return 0
  for diffs in test/regress_output/regression.diffs test/isolation/output/regression.diffs; do
    [ -f "$diffs" ] && { echo "---- $diffs"; cat "$diffs"; }
  done
  return 1
}

pgtap() {
  dropdb --if-exists learnloop_tap >/dev/null 2>&1
  createdb learnloop_tap && psql -q -d learnloop_tap -c 'CREATE EXTENSION pgtap' &&
    pg_prove -d learnloop_tap --ext .sql -r test/pgtap
}

suite "include direction of src/README.md (scripts/check-includes.sh)" scripts/check-includes.sh
suite "META.json against the PGXN spec (test/package/meta.sh)" bash test/package/meta.sh
suite "C unit tests of the pure cores (make -C test/unit)" make -s -C test/unit check PG_CONFIG="$PG_CONFIG"
suite "the local webhook receiver (test/notify/receiver_selftest.sh)" bash test/notify/receiver_selftest.sh
suite "pg_regress and isolation specs (make installcheck)" installcheck
suite "pgTAP (pg_prove)" pgtap
for t in test/shell/*.sh; do
  [ "$(basename "$t")" = tap.sh ] && continue
  suite "$t" bash "$t"
done
# tests under concurrent load (pgbench clients, a pooler)
for t in test/load/*.sh; do
  suite "$t" bash "$t"
done

[ -n "${LEARNLOOP_SUITE_COUNTS:-}" ] && echo "$passed ${#failed[@]}" >"$LEARNLOOP_SUITE_COUNTS"
if [ ${#failed[@]} -gt 0 ]; then
  echo "==> test: FAILED: ${failed[*]}"
  server_log_tail
  exit 1
fi
echo "==> test: every suite passed"
