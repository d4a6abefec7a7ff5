#!/usr/bin/env bash
# ml.cancel_training stops a job within about a second in every phase:
# loading (a source that sleeps per row), training (long boosting) and
# saving (a trigger on ml.models that sleeps); and a DROP EXTENSION during
# a training fails the job cleanly.  Prints how long each stop took.
set -uo pipefail
cd "$(dirname "$0")"
. ./tap.sh
db=learnloop_cancel_phases
limit_ms=2000   # "about a second", with room for a loaded test machine
dropdb --if-exists "$db" >/dev/null 2>&1
createdb "$db"
q "CREATE EXTENSION learnloop"
q "CREATE TABLE big AS SELECT (i % 97)::float8 AS x1, ((i * 7) % 101)::float8 AS x2, i % 3 = 0 AS y
     FROM generate_series(1, 100000) i"
# 20,000 rows of 1 ms each: a loading phase of 20 s, in batches of 10,000
slow_source="SELECT x1, x2, y FROM big WHERE pg_sleep(0.001) IS NOT NULL LIMIT 20000"
q "CREATE FUNCTION slow_save() RETURNS trigger LANGUAGE plpgsql AS \$\$
     BEGIN PERFORM pg_sleep(30); RETURN NEW; END \$\$"
q "CREATE TRIGGER slow_save BEFORE INSERT ON ml.models FOR EACH ROW EXECUTE FUNCTION slow_save()"

# the registry is the server's and outlives restarts, and job ids are per
# database: only this run's jobs of this database count
jobs="(SELECT * FROM ml.training_jobs WHERE database = current_database() AND started >= '$(q "SELECT now()")') j"
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
workers() { q "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'learnloop training'"; }

# cancel_in PHASE SOURCE PARAMS: starts a job, waits for PHASE, cancels it
cancel_in() {
  local phase=$1 source=$2 params=$3 model="phase_$1" job start ms
  job=$(q "SELECT ml.train_async('$model', \$\$$source\$\$, 'y', params => '$params')")
  wait_for "SELECT phase FROM $jobs WHERE job_id = $job AND status = 'running'" 600 "$phase"
  ok "$(q "SELECT phase FROM $jobs WHERE job_id = $job")" "$phase" "$phase: the job reached its phase"
  sleep 0.5
  start=$(now_ms)
  ok "$(q "SELECT ml.cancel_training($job)")" t "$phase: cancel_training accepts the request"
  wait_for "SELECT status FROM $jobs WHERE job_id = $job" 100 failed
  wait_for "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'learnloop training'" 100 0
  ms=$(( $(now_ms) - start ))
  echo "# $phase: the worker stopped ${ms} ms after ml.cancel_training"
  ok "$([ "$ms" -le "$limit_ms" ] && echo fast || echo "slow: $ms ms")" fast "$phase: stopped within $limit_ms ms"
  ok "$(q "SELECT status || ': ' || error FROM $jobs WHERE job_id = $job")" \
     "failed: training job $job was cancelled" "$phase: the job failed as cancelled"
  ok "$(workers)" 0 "$phase: no worker left"
  ok "$(q "SELECT count(*) FROM ml.models WHERE name = '$model'")" 0 "$phase: no model"
}

cancel_in loading "$slow_source" '{"num_round": 2}'
cancel_in training "SELECT * FROM big" '{"num_round": 100000, "max_depth": 8}'
cancel_in saving "SELECT * FROM big" '{"num_round": 5}'

# the caller of ml.train sees the cancellation as its statement's error
psql -X -d "$db" -c "SELECT * FROM ml.train('sync_loading', \$\$$slow_source\$\$, 'y')" \
  >/tmp/learnloop_phases_sync.out 2>&1 &
caller=$!
wait_for "SELECT phase FROM $jobs WHERE model = 'sync_loading' AND status = 'running'" 600 loading
start=$(now_ms)
q "SELECT ml.cancel_training(job_id) FROM $jobs WHERE model = 'sync_loading' AND status = 'running'" >/dev/null
wait "$caller"
ok $? 1 "sync loading: the caller's statement fails"
ms=$(( $(now_ms) - start ))
echo "# sync loading: the caller returned ${ms} ms after ml.cancel_training"
ok "$([ "$ms" -le "$limit_ms" ] && echo fast || echo "slow: $ms ms")" fast "sync loading: the caller returned within $limit_ms ms"
grep -q "ERROR:  training job [0-9]* was cancelled" /tmp/learnloop_phases_sync.out
ok $? 0 "sync loading: the caller reads that the job was cancelled"
q "DROP TRIGGER slow_save ON ml.models"

# SIGTERM (pg_terminate_backend of the worker) stops a loading worker as fast
job=$(q "SELECT ml.train_async('terminated', \$\$$slow_source\$\$, 'y')")
wait_for "SELECT phase FROM $jobs WHERE job_id = $job AND status = 'running'" 600 loading
start=$(now_ms)
ok "$(q "SELECT pg_terminate_backend(pid) FROM $jobs WHERE job_id = $job")" t "sigterm: the worker is signalled"
wait_for "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'learnloop training'" 100 0
ms=$(( $(now_ms) - start ))
echo "# sigterm: the worker stopped ${ms} ms after pg_terminate_backend"
ok "$([ "$ms" -le "$limit_ms" ] && echo fast || echo "slow: $ms ms")" fast "sigterm: stopped within $limit_ms ms"
ok "$(q "SELECT status || ': ' || error FROM $jobs WHERE job_id = $job")" \
   "failed: the training worker was terminated before the job finished" "sigterm: the job is failed and its slot free to reuse"

# DROP EXTENSION while a job loads: the job fails when it next needs the
# extension's tables, the server stays up, and a new install works
job=$(q "SELECT ml.train_async('dropped', \$\$SELECT x1, x2, y FROM big WHERE pg_sleep(0.0005) IS NOT NULL LIMIT 4000\$\$, 'y')")
wait_for "SELECT phase FROM $jobs WHERE job_id = $job AND status = 'running'" 600 loading
q "DROP EXTENSION learnloop CASCADE" >/dev/null
ok $? 0 "drop extension: the DROP does not wait for the job"
wait_for "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'learnloop training'" 200 0
ok "$(workers)" 0 "drop extension: the worker ended"
q "CREATE EXTENSION learnloop"
ok "$(q "SELECT status FROM $jobs WHERE model = 'dropped' AND job_id = $job")" failed \
   "drop extension: the job is marked failed"
ok "$(q "SELECT count(*) FROM ml.train('after_drop', 'big', 'y', params => '{\"num_round\": 2}')")" 1 \
   "drop extension: training works after a new CREATE EXTENSION"

dropdb "$db"
finish
