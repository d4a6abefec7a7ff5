#!/usr/bin/env bash
# kill -9 of a training worker mid-load, mid-boost and mid-save: the
# postmaster reinitializes shared memory and the cluster recovers, the
# caller gets an error, ml.training_jobs shows the job as failed (it would
# have vanished with the shared memory), and no partial model is left.
# Crashes the test cluster three times.
set -uo pipefail
cd "$(dirname "$0")/.."
. ./tap.sh
db=learnloop_kill
dropdb --if-exists "$db" >/dev/null 2>&1
createdb "$db"
q "CREATE EXTENSION learnloop"
q "CREATE TABLE big AS SELECT (i % 97)::float8 AS x1, ((i * 7) % 101)::float8 AS x2, i % 3 = 0 AS y
     FROM generate_series(1, 100000) i"
q "CREATE FUNCTION slow_save() RETURNS trigger LANGUAGE plpgsql AS \$\$
     BEGIN PERFORM pg_sleep(30); RETURN NEW; END \$\$"
# the registry is the server's and outlives restarts, and job ids are per
# database: only this run's jobs of this database count
jobs="(SELECT * FROM ml.training_jobs WHERE database = current_database() AND started >= '$(q "SELECT now()")') j"

# waits for the server to accept queries again after a crash
recovered() {
  local i
  for i in $(seq 1 100); do
    [ "$(q "SELECT 1" 2>/dev/null)" = 1 ] && return 0
    sleep 0.2
  done
  return 1
}

# kill_in PHASE SOURCE PARAMS: a synchronous ml.train, killed in PHASE
kill_in() {
  local phase=$1 source=$2 params=$3 model="kill_$1" pid caller rc
  psql -X -d "$db" -c "SELECT * FROM ml.train('$model', \$\$$source\$\$, 'y', params => '$params')" \
    >"/tmp/learnloop_kill_$phase.out" 2>&1 &
  caller=$!
  wait_for "SELECT phase FROM $jobs WHERE model = '$model' AND status = 'running'" 600 "$phase"
  ok "$(q "SELECT phase FROM $jobs WHERE model = '$model'")" "$phase" "$phase: the job reached its phase"
  pid=$(q "SELECT pid FROM $jobs WHERE model = '$model'")
  kill -9 "$pid"
  wait "$caller"
  rc=$?
  ok "$([ "$rc" -ne 0 ] && echo failed)" failed "$phase: the caller's statement fails"
  grep -Eq "server closed the connection unexpectedly|terminating connection because of crash" \
    "/tmp/learnloop_kill_$phase.out"
  ok $? 0 "$phase: the caller reads that the server crashed"
  recovered
  ok $? 0 "$phase: the cluster recovers"
  ok "$(q "SELECT status || ': ' || error FROM $jobs WHERE model = '$model'")" \
     "failed: the server restarted while the job ran (its worker crashed, was killed, or the server stopped)" \
     "$phase: the job is marked failed"
  ok "$(q "SELECT count(*) FROM ml.models WHERE name = '$model'")" 0 "$phase: no model"
  ok "$(q "SELECT count(*) FROM ml.MLEvaluationResults WHERE model_name = '$model'") $(q "SELECT count(*) FROM ml.deployments WHERE model_name = '$model'")" \
     "0 0" "$phase: no evaluation, no deployment"
}

kill_in loading "SELECT x1, x2, y FROM big WHERE pg_sleep(0.001) IS NOT NULL LIMIT 20000" '{"num_round": 2}'
kill_in training "SELECT * FROM big" '{"num_round": 100000, "max_depth": 8}'
q "CREATE TRIGGER slow_save BEFORE INSERT ON ml.models FOR EACH ROW EXECUTE FUNCTION slow_save()"
kill_in saving "SELECT * FROM big" '{"num_round": 5}'
q "DROP TRIGGER slow_save ON ml.models"

# an asynchronous job killed mid-boost has no caller: it shows failed too
job=$(q "SELECT ml.train_async('kill_async', 'big', 'y', params => '{\"num_round\": 100000, \"max_depth\": 8}')")
wait_for "SELECT phase FROM $jobs WHERE job_id = $job AND status = 'running'" 600 training
kill -9 "$(q "SELECT pid FROM $jobs WHERE job_id = $job")"
recovered
ok $? 0 "async: the cluster recovers"
ok "$(q "SELECT status FROM $jobs WHERE job_id = $job")" failed "async: the job is marked failed"
ok "$(q "SELECT count(*) || ' jobs, ' || count(DISTINCT job_id) || ' ids' FROM $jobs")" "4 jobs, 4 ids" \
   "a crash does not hand a job id out again"
ok "$(q "SELECT count(*) FROM ml.train('after_kills', 'big', 'y', params => '{\"num_round\": 2}')")" 1 \
   "training works after the crashes"
dropdb "$db"
finish
