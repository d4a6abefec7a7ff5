#!/usr/bin/env bash
# ml.train without a task says which task it inferred and how to choose
# another (a NOTICE with a HINT, relayed from the training worker): an
# integer target with two values trains a classifier, one with more a
# regression; a task the caller names is not announced.
set -uo pipefail
cd "$(dirname "$0")"
. ./tap.sh
db=learnloop_task_notice
dropdb --if-exists "$db" >/dev/null 2>&1
createdb "$db"
q "CREATE EXTENSION learnloop"
q "CREATE TABLE t AS SELECT (i % 10) / 10.0 AS x, (i % 10 > 4)::int AS y01, i % 4 AS y4, (i % 10 > 4) AS yb
     FROM generate_series(1, 300) i"

# the notice and its hint, as psql prints them (other notices: progress)
notice() {
  PGOPTIONS='-c client_min_messages=notice' psql -X -q -At -d "$db" \
    -c "SELECT version FROM ml.train('$1', 't', '$2', features => ARRAY['x'], params => '{\"num_round\": 2}' $3)" 2>&1 |
    grep -A1 'NOTICE:  training a' | sed 's/^ *//'
}
ok "$(notice m01 y01 '')" "NOTICE:  training a classification model: the integer target has exactly two distinct values, 0 and 1
HINT:  Pass task => 'classification', 'regression' or 'ranking' to choose the task." \
   "an integer 0/1 target: classification, said with how to choose another"
ok "$(notice m4 y4 '' | head -1)" "NOTICE:  training a regression model: the integer target has more than two distinct values" \
   "an integer target with four values: regression"
ok "$(notice mb yb '' | head -1)" "NOTICE:  training a classification model: the target is of type boolean" \
   "a boolean target: classification"
ok "$(notice mx "x::float8" '' | head -1)" "NOTICE:  training a regression model: the target is a number (double precision)" \
   "a float target: regression"
ok "$(notice mr y01 ", task => 'regression'")" "" "a task the caller names is not announced"
ok "$(q "SELECT string_agg(name || ':' || task, ' ' ORDER BY name) FROM ml.models")" \
   "m01:classification m4:regression mb:classification mr:regression mx:regression" "the tasks as announced"
dropdb "$db"
finish
