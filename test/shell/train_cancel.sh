#!/usr/bin/env bash
# Cancelling or terminating the session that called ml.train stops the
# training worker: no orphan worker, no partial model, the job is failed.
set -uo pipefail
cd "$(dirname "$0")"
. ./tap.sh
db=learnloop_cancel
dropdb --if-exists "$db" >/dev/null 2>&1
createdb "$db"
q "CREATE EXTENSION learnloop"
# the registry is the server's and outlives restarts, and job ids are per
# database: only this run's jobs of this database count
jobs="(SELECT * FROM ml.training_jobs WHERE database = current_database() AND started >= '$(q "SELECT now()")') j"
q "CREATE TABLE big AS SELECT (i % 97)::float8 AS x1, ((i * 7) % 101)::float8 AS x2, i % 3 = 0 AS y
     FROM generate_series(1, 100000) i"

for how in cancel terminate; do
  model="slow_$how"
  psql -X -d "$db" -c "SELECT * FROM ml.train('$model', 'big', 'y', params => '{\"num_round\": 100000, \"max_depth\": 8}')" \
    >"/tmp/learnloop_$how.out" 2>&1 &
  caller=$!
  wait_for "SELECT phase FROM $jobs WHERE model = '$model' AND status = 'running'" 300 training
  ok "$(q "SELECT phase FROM $jobs WHERE model = '$model'")" training "$how: the job is training"
  ok "$(q "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'learnloop training'")" 1 "$how: one worker runs"
  q "SELECT pg_${how}_backend(caller_pid) FROM $jobs WHERE model = '$model'" >/dev/null
  wait "$caller"
  wait_for "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'learnloop training'" 100 0
  ok "$(q "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'learnloop training'")" 0 "$how: the worker is gone"
  ok "$(q "SELECT count(*) FROM ml.models WHERE name = '$model'")" 0 "$how: no model was registered"
  ok "$(q "SELECT status FROM $jobs WHERE model = '$model'")" failed "$how: the job is marked failed"
done
# a worker that dies is an error for its caller, not a hang
model=killed_worker
psql -X -d "$db" -c "SELECT * FROM ml.train('$model', 'big', 'y', params => '{\"num_round\": 100000, \"max_depth\": 8}')" \
  >/tmp/learnloop_killed.out 2>&1 &
caller=$!
wait_for "SELECT phase FROM $jobs WHERE model = '$model' AND status = 'running'" 300 training
q "SELECT pg_terminate_backend(pid) FROM $jobs WHERE model = '$model'" >/dev/null
wait "$caller"
ok $? 1 "killed worker: the caller's statement fails"
grep -q "ERROR:  terminating background worker" /tmp/learnloop_killed.out
ok $? 0 "killed worker: the caller sees why"
ok "$(q "SELECT count(*) FROM ml.models WHERE name = '$model'")" 0 "killed worker: no model"
ok "$(q "SELECT status FROM $jobs WHERE model = '$model'")" failed "killed worker: the job is failed"
ok "$(q "SELECT 1")" 1 "killed worker: the caller's session survives"

grep -q "canceling statement due to user request" /tmp/learnloop_cancel.out
ok $? 0 "cancel: the caller saw its statement cancelled"

# ml.cancel_training stops an asynchronous job
job=$(q "SELECT ml.train_async('async_job', 'big', 'y', params => '{\"num_round\": 100000, \"max_depth\": 8}')")
wait_for "SELECT phase FROM $jobs WHERE job_id = $job" 300 training
ok "$(q "SELECT ml.cancel_training($job)")" t "cancel_training: a running job accepts the request"
wait_for "SELECT status FROM $jobs WHERE job_id = $job" 100 failed
ok "$(q "SELECT status || ': ' || error FROM $jobs WHERE job_id = $job")" \
   "failed: training job $job was cancelled" "cancel_training: the job failed with the reason"
ok "$(q "SELECT count(*) FROM ml.models WHERE name = 'async_job'")" 0 "cancel_training: no model"
ok "$(q "SELECT ml.cancel_training($job)")" f "cancel_training: a finished job is not running"

# an asynchronous job that finishes registers its model
job=$(q "SELECT ml.train_async('async_done', 'big', 'y', params => '{\"num_round\": 3}')")
wait_for "SELECT status FROM $jobs WHERE job_id = $job" 300 succeeded
ok "$(q "SELECT count(*) FROM ml.models WHERE name = 'async_done' AND job_id = $job")" 1 "train_async: the model is registered"

dropdb "$db"
finish
