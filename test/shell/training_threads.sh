#!/usr/bin/env bash
# learnloop.training_threads is the superuser's limit on XGBoost threads per
# job: params => '{"nthread": 32}' must not exceed it.  Counts the worker's
# threads in /proc while it boosts, so it needs the server on this machine.
set -uo pipefail
cd "$(dirname "$0")"
. ./tap.sh
db=learnloop_threads
dropdb --if-exists "$db" >/dev/null 2>&1
createdb "$db"
q "CREATE EXTENSION learnloop"
q "CREATE TABLE big AS SELECT (i % 97)::float8 AS x1, ((i * 7) % 101)::float8 AS x2, i % 3 = 0 AS y
     FROM generate_series(1, 100000) i"

# the most threads the job's worker had over about two seconds of boosting
max_threads() {
  local pid most=0 n i
  pid=$(q "SELECT pid FROM ml.training_jobs WHERE job_id = $1 AND database = current_database()")
  for i in $(seq 1 20); do
    n=$(ls "/proc/$pid/task" 2>/dev/null | wc -l)
    [ "$n" -gt "$most" ] && most=$n
    sleep 0.1
  done
  echo "$most"
}

# with the limit at 1 (a superuser's SET reaches the worker), 32 asked gives 1
job=$(q "SET learnloop.training_threads = 1;
         SELECT ml.train_async('capped', 'big', 'y', params => '{\"num_round\": 100000, \"nthread\": 32}')")
wait_for "SELECT phase FROM ml.training_jobs WHERE job_id = $job AND database = current_database()" 300 training
ok "$(max_threads "$job")" 1 "nthread 32 under a limit of 1: the worker runs one thread"
q "SELECT ml.cancel_training($job)" >/dev/null
wait_for "SELECT status FROM ml.training_jobs WHERE job_id = $job AND database = current_database()" 100 failed

# a search's nthread is capped too
job=$(q "SET learnloop.training_threads = 1;
         SELECT ml.train_async('capped_search', 'big', 'y', params => '{\"num_round\": 100000}',
                               search => '{\"nthread\": [8, 16]}')")
wait_for "SELECT phase FROM ml.training_jobs WHERE job_id = $job AND database = current_database()" 300 training
ok "$(max_threads "$job")" 1 "nthread from a search under a limit of 1: one thread"
q "SELECT ml.cancel_training($job)" >/dev/null
wait_for "SELECT status FROM ml.training_jobs WHERE job_id = $job AND database = current_database()" 100 failed

# without a limit the trainer's nthread is used: the check can see threads
job=$(q "SET learnloop.training_threads = 0;
         SELECT ml.train_async('uncapped', 'big', 'y', params => '{\"num_round\": 100000, \"nthread\": 4}')")
wait_for "SELECT phase FROM ml.training_jobs WHERE job_id = $job AND database = current_database()" 300 training
threads=$(max_threads "$job")
ok "$([ "$threads" -ge 4 ] && echo more || echo "$threads")" more "nthread 4 without a limit: at least 4 threads"
q "SELECT ml.cancel_training($job)" >/dev/null
wait_for "SELECT status FROM ml.training_jobs WHERE job_id = $job AND database = current_database()" 100 failed

# the caller is told, once per job
out=$(PGOPTIONS='-c client_min_messages=notice' psql -X -q -At -d "$db" 2>&1 <<'SQL'
SET learnloop.training_threads = 2;
SELECT count(*) FROM ml.train('told', 'big', 'y', params => '{"num_round": 2, "nthread": 32}',
                              search => '{"max_depth": [2, 3]}');
SQL
)
ok "$(grep -c 'nthread 32 is capped at 2 by learnloop.training_threads' <<<"$out")" 1 "the cap is a notice, once"
ok "$(tail -n 1 <<<"$out")" 2 "the capped job trains every candidate"
# an nthread within the limit is not touched
out=$(PGOPTIONS='-c client_min_messages=notice' psql -X -q -At -d "$db" 2>&1 <<'SQL'
SET learnloop.training_threads = 2;
SELECT count(*) FROM ml.train('within', 'big', 'y', params => '{"num_round": 2, "nthread": 1}');
SQL
)
ok "$(grep -c 'capped' <<<"$out")" 0 "nthread 1 under a limit of 2: no notice"

dropdb "$db"
finish
