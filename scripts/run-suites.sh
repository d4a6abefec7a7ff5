#!/usr/bin/env bash
# The test suites themselves; scripts/test.sh runs this inside pg_virtualenv,
# which provides the server through PGHOST, PGPORT, PGUSER and PGPASSWORD.
set -uo pipefail
cd "$(dirname "$0")/.."
export PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
failed=()

server_log_tail() {
  local log
  for log in "$(dirname "${PG_CLUSTER_CONF_ROOT:-/nonexistent}")"/log/*.log; do
    [ -f "$log" ] && { echo "---- last 40 lines of $log"; tail -n 40 "$log"; }
  done
}

echo "==> test: C unit tests of the pure cores (make -C test/unit)"
make -s -C test/unit check PG_CONFIG="$PG_CONFIG" || failed+=(unit)

echo "==> test: pg_regress and isolation specs (make installcheck)"
if ! make -s installcheck PG_CONFIG="$PG_CONFIG"; then
  failed+=(installcheck)
  for diffs in regression.diffs test/isolation/output/regression.diffs; do
    [ -f "$diffs" ] && { echo "---- $diffs"; cat "$diffs"; }
  done
fi

echo "==> test: pgTAP (pg_prove)"
dropdb --if-exists learnloop_tap >/dev/null 2>&1
createdb learnloop_tap
psql -q -d learnloop_tap -c 'CREATE EXTENSION pgtap'
if ! pg_prove -d learnloop_tap --ext .sql -r test/pgtap; then
  failed+=(pgtap)
fi

echo "==> test: multi-step shell tests (test/shell)"
for t in test/shell/*.sh; do
  [ "$(basename "$t")" = tap.sh ] && continue
  echo "---- $t"
  bash "$t" || failed+=("$t")
done

echo "==> test: concurrent outcomes under pgbench"
if ! test/pgbench_outcomes.sh; then
  failed+=(pgbench)
fi

if [ ${#failed[@]} -gt 0 ]; then
  echo "==> test: FAILED: ${failed[*]}"
  server_log_tail
  exit 1
fi
echo "==> test: every suite passed"
