#!/usr/bin/env bash
# ml.predict_batch's scoring query runs in parallel workers that really
# start (the regression test sees the plan, not the run): auto_explain
# prints the nested statement's executed plan as a NOTICE, with the workers
# launched and the rows each returned, and the rows written equal
# ml.predict's.  Needs max_worker_processes above the 2 workers asked (the
# test clusters have 16).
set -uo pipefail
cd "$(dirname "$0")"
. ./tap.sh
db=learnloop_batch_workers
dropdb --if-exists "$db" >/dev/null 2>&1
createdb "$db"
q "CREATE EXTENSION learnloop"
q "CREATE TABLE pts AS SELECT i AS id, ((i * 0.6180339887) % 1)::real AS x1, ((i * 0.4142135623) % 1)::real AS x2
     FROM generate_series(1, 200000) i; ANALYZE pts"
q "SELECT ml.train('w', 'SELECT x1, x2, x1 + x2 > 1 AS y FROM pts WHERE id <= 3000', 'y',
                   params => '{\"num_round\": 10}')" >/dev/null

plan=$(psql -X -q -At -d "$db" -v ON_ERROR_STOP=1 2>&1 <<'SQL'
LOAD 'auto_explain';
SET auto_explain.log_min_duration = 0;
SET auto_explain.log_nested_statements = on;
SET auto_explain.log_analyze = on;
SET auto_explain.log_timing = off;
SET auto_explain.log_level = notice;
SET client_min_messages = notice;
SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SELECT rows_written FROM ml.predict_batch('w', 'pts', 'scored', features => 'ARRAY[x1, x2]');
SQL
)
nested=$(echo "$plan" | sed -n '/Query Text: SELECT s.id, ml.predict/,/^NOTICE\|^[0-9]/p')
ok "$(echo "$nested" | grep -c 'Parallel Seq Scan on pts')" 1 "the scoring query is a parallel scan of the source"
ok "$(echo "$nested" | sed -n 's/.*Workers Launched: \([0-9]*\).*/\1/p')" 2 "two workers were launched"
ok "$(echo "$plan" | tail -1)" 200000 "every row written"
ok "$(q "SELECT count(*) FROM scored s JOIN pts p USING (id) WHERE s.prediction = ml.predict('w', ARRAY[p.x1, p.x2])")" \
   200000 "the rows the workers scored equal ml.predict's"
dropdb "$db"
finish
