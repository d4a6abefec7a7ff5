#!/usr/bin/env bash
# With no background worker slot free, ml.train fails at once with a hint,
# and registers nothing.  Restarts the test cluster twice.
set -uo pipefail
cd "$(dirname "$0")/.."
. ./tap.sh
db=learnloop_slots
restart() {
  pg_ctlcluster "${PGVERSION:-15}" regress restart
  for i in $(seq 1 50); do pg_isready -q && return 0; sleep 0.2; done
}
dropdb --if-exists "$db" >/dev/null 2>&1
createdb "$db"
q "CREATE EXTENSION learnloop"
q "CREATE TABLE t AS SELECT i::float8 AS x, i % 2 = 0 AS y FROM generate_series(1, 100) i"
q "ALTER SYSTEM SET max_worker_processes = 1" >/dev/null
restart
out=$(psql -X -d "$db" -c "SELECT * FROM ml.train('m', 't', 'y')" 2>&1)
echo "$out" | grep -q "could not start a training worker: every background worker slot is taken"
ok $? 0 "no free slot: a clear error"
echo "$out" | grep -q "HINT:  Raise max_worker_processes"
ok $? 0 "no free slot: the hint names max_worker_processes"
ok "$(q "SELECT count(*) FROM ml.models")" 0 "no free slot: nothing registered"
ok "$(q "SELECT status || ': ' || error FROM ml.training_jobs")" "failed: no background worker slot was free" \
   "no free slot: the job is marked failed"
q "ALTER SYSTEM RESET max_worker_processes" >/dev/null
restart
ok "$(q "SELECT count(*) FROM ml.train('m', 't', 'y', params => '{\"num_round\": 2}')")" 1 "with slots back, training works"
dropdb "$db"
finish
