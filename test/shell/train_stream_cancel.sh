#!/usr/bin/env bash
# Training from a stream: while XGBoost quantises the spilled rows, the job
# holds its rows in a temporary file (and not in memory), ml.cancel_training
# and SIGTERM stop it while it quantises (the cancellation is raised inside
# a batch of XGBoost's iterator and re-raised once XGBoost has returned),
# and the worker leaves no temporary file, worker or model behind.  Beyond
# 100,000 training rows, the reference distributions come from an even
# sample.
#
# How fast is fast enough is measured in the same run, as the benchmarks
# do (these machines are noisy, and the suites run beside a server under
# valgrind): a stop must take at most half as long as the whole quantising
# phase of the same job left alone, the longer of two timings made just
# before and just after it.  A stop that waited for the quantising to end
# would take all of it; one at the next batch waits for the step XGBoost
# is in, which it cannot interrupt: a batch's sketching or binning at the
# default max_bin, 0.2 to 0.4 s on this 2-core machine.  With the overheads,
# the stops measured a tenth to a sixth of the 6 s phase of the 1,200,000
# rows (at max_bin 4096 XGBoost's own sketch merges take up to 0.7 s, and
# on a loaded machine came to 0.37 of a shorter phase).  Half is coarse: a
# stop between XGBoost's four passes over the batches, not within them,
# would pass too.
set -uo pipefail
cd "$(dirname "$0")"
. ./tap.sh
db=learnloop_stream_cancel
dropdb --if-exists "$db" >/dev/null 2>&1
createdb "$db"
q "CREATE EXTENSION learnloop"
cols=$(for k in $(seq 1 20); do printf ", ((i * 0.%04d618) %% 1)::float4 AS f%d" $((k * 613 % 9973)) "$k"; done)
q "CREATE TABLE wide AS SELECT (i * 0.0618034) % 1 > 0.5 AS y $cols FROM generate_series(1, 600000) i"
q "CREATE VIEW wide_twice AS SELECT * FROM wide UNION ALL SELECT * FROM wide"
jobs="(SELECT * FROM ml.training_jobs WHERE database = current_database() AND started >= '$(q "SELECT now()")') j"
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
stream_job() {
  q "SET learnloop.training_memory = 'stream';
     SELECT ml.train_async('$1', 'wide_twice', 'y', test_size => 0, params => '{\"num_round\": 1}')"
}

# quantising_ms: how long the quantising of the job below lasts when left
# alone, from the moment a poll sees it (the stops are timed from a request
# made just after such a poll); 0 when the job is never seen quantising
# or does not succeed.  Returns once its worker has exited, so that its
# temporary file is gone.
quantising_ms() {
  local job start ms
  job=$(stream_job "alone_$1")
  wait_for "SELECT phase FROM $jobs WHERE job_id = $job AND status = 'running'" 600 quantising ||
    { echo 0; return; }
  start=$(now_ms)
  wait_for "SELECT phase = 'quantising' AND status = 'running' FROM $jobs WHERE job_id = $job" 600 f
  ms=$(( $(now_ms) - start ))
  wait_for "SELECT status FROM $jobs WHERE job_id = $job" 600 succeeded || ms=0
  wait_for "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'learnloop training'" 100 0
  echo "$ms"
}
# check_stop WHAT MS BEFORE_MS AFTER_MS
check_stop() {
  local limit_ms=$(( ($3 > $4 ? $3 : $4) / 2 ))
  echo "# $1: the worker stopped $2 ms after the request; the quantising alone took $3 ms before and $4 ms after"
  ok "$([ "$3" -gt 0 ] && [ "$4" -gt 0 ] && echo t)" t "$1: the same job left alone succeeds, before and after"
  ok "$([ "$2" -le "$limit_ms" ] && echo fast || echo "slow: $2 ms")" fast "$1: stopped within half the quantising's time ($limit_ms ms)"
}

# the table twice: quantising takes a few seconds, time to be caught at it
before_ms=$(quantising_ms 1)
job=$(stream_job streamed)
wait_for "SELECT phase FROM $jobs WHERE job_id = $job AND status = 'running'" 600 quantising
ok "$(q "SELECT phase || ' ' || training_memory FROM $jobs WHERE job_id = $job")" "quantising stream" \
   "the job quantises, from a stream"
ok "$(q "SELECT count(*) > 0 FROM pg_ls_tmpdir() WHERE name LIKE 'pgsql_tmp' || (SELECT pid FROM $jobs WHERE job_id = $job) || '.%'")" t \
   "the worker's rows are in a temporary file"
start=$(now_ms)
ok "$(q "SELECT ml.cancel_training($job)")" t "cancel_training accepts the request"
wait_for "SELECT status FROM $jobs WHERE job_id = $job" 100 failed
wait_for "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'learnloop training'" 100 0
ms=$(( $(now_ms) - start ))
ok "$(q "SELECT status || ': ' || error FROM $jobs WHERE job_id = $job")" \
   "failed: training job $job was cancelled" "the job failed as cancelled"
ok "$(q "SELECT count(*) FROM pg_ls_tmpdir()")" 0 "no temporary file is left"
ok "$(q "SELECT count(*) FROM ml.models WHERE name = 'streamed'")" 0 "no model"
after_ms=$(quantising_ms 2)
check_stop "quantising" "$ms" "$before_ms" "$after_ms"

# SIGTERM while quantising: the worker stops as fast, and the process ends
# outside XGBoost's frames (the signal becomes an error carried out of the
# iterator), leaving no temporary file
before_ms=$after_ms
job=$(stream_job terminated)
wait_for "SELECT phase FROM $jobs WHERE job_id = $job AND status = 'running'" 600 quantising
start=$(now_ms)
ok "$(q "SELECT pg_terminate_backend(pid) FROM $jobs WHERE job_id = $job")" t "sigterm: the quantising worker is signalled"
wait_for "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'learnloop training'" 100 0
ms=$(( $(now_ms) - start ))
ok "$(q "SELECT status FROM $jobs WHERE job_id = $job")" failed "sigterm: the job failed"
ok "$(q "SELECT count(*) FROM pg_ls_tmpdir()")" 0 "sigterm: no temporary file is left"
ok "$(q "SELECT count(*) FROM ml.models WHERE name = 'terminated'")" 0 "sigterm: no model"
after_ms=$(quantising_ms 3)
check_stop "sigterm while quantising" "$ms" "$before_ms" "$after_ms"

# a job on the table itself, left alone, trains in either mode; with
# 480,000 training rows the reference distributions come from an even
# sample of 100,000 of them,
# which describes the features as all the rows do (the in-memory model's)
for way in stream memory; do
  ok "$(q "SET learnloop.training_memory = '$way';
           SELECT model_name || ' ' || version FROM ml.train('ref_$way', 'wide', 'y', params => '{\"num_round\": 5}')")" \
     "ref_$way 1" "a $way job that is left alone trains"
done
ok "$(q "SELECT string_agg(m.name || ' ' || (m.reference -> 'features' -> 'f1' ->> 'count'), ', ' ORDER BY m.name) FROM ml.models m WHERE m.name LIKE 'ref_%'")" \
   "ref_memory 480000, ref_stream 100000" "the streamed reference describes a sample of 100,000 training rows"
ok "$(q "SELECT bool_and(abs((s.reference -> 'features' -> f ->> 'mean')::float8 - (m.reference -> 'features' -> f ->> 'mean')::float8) < 0.01
                AND abs((s.reference -> 'features' -> f ->> 'sd')::float8 - (m.reference -> 'features' -> f ->> 'sd')::float8) < 0.01)
           FROM ml.models s, ml.models m, jsonb_object_keys(m.reference -> 'features') f
          WHERE s.name = 'ref_stream' AND m.name = 'ref_memory'")" t \
   "the sample's mean and standard deviation are within 0.01 of every training row's, for every feature"
ok "$(q "SELECT s.reference -> 'prediction' = m.reference -> 'prediction' FROM ml.models s, ml.models m
          WHERE s.name = 'ref_stream' AND m.name = 'ref_memory'")" t \
   "the prediction's reference (the test rows') is the in-memory model's"

dropdb "$db"
finish
