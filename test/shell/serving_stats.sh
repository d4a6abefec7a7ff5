#!/usr/bin/env bash
# ml.serving_stats is in shared memory: calls counted in one backend are
# read in another, added to by a third, and read by a backend connected to
# another database, which sees the first database's rows under its name.
set -uo pipefail
cd "$(dirname "$0")"
. ./tap.sh
db=learnloop_serving_stats
other=learnloop_serving_stats_other
for d in "$db" "$other"; do
  dropdb --if-exists "$d" >/dev/null 2>&1
  createdb "$d"
  psql -X -q -d "$d" -c "CREATE EXTENSION learnloop"
done
q "CREATE TABLE t AS SELECT (i % 7)::float8 AS x, i % 7 > 3 AS y FROM generate_series(1, 300) i"
q "SELECT count(*) FROM ml.train('ssh_model', 't', 'y', params => '{\"num_round\": 2}')" >/dev/null
# a full reset first: the suites before this one (bad_input.sh's thousands
# of made-up model names) may have filled learnloop.serving_stats_max
q "SELECT ml.serving_stats_reset()" >/dev/null
# each q is its own backend
q "SELECT count(ml.predict('ssh_model', jsonb_build_object('x', i))) FROM generate_series(1, 25) i" >/dev/null
counts="SELECT calls || '/' || errors FROM ml.serving_stats WHERE database = '$db' AND model = 'ssh_model' AND function = 'predict'"
ok "$(q "$counts")" "25/0" "another backend reads the 25 calls"
q "SELECT count(ml.predict('ssh_model', jsonb_build_object('x', i))) FROM generate_series(1, 5) i" >/dev/null
psql -X -q -d "$db" -c "SELECT ml.predict('ssh_nope', '{\"x\": 1}'::jsonb)" >/dev/null 2>&1
ok "$(q "$counts")" "30/0" "a third backend's calls add up"
ok "$(q "SELECT calls || '/' || errors FROM ml.serving_stats WHERE database = '$db' AND model = 'ssh_nope'")" "1/1" \
   "a backend's error is counted for the others to see"
ok "$(psql -X -At -d "$other" -c "$counts")" "30/0" "a backend of another database reads them too"
# resetting one model from the other database removes nothing of this one
ok "$(psql -X -At -d "$other" -c "SELECT ml.serving_stats_reset('ssh_model')")" 0 \
   "a model's reset is for the current database only"
ok "$(q "SELECT ml.serving_stats_reset('ssh_model')")" 1 "its own database resets it"
ok "$(q "SELECT count(*) FROM ml.serving_stats WHERE database = '$db' AND model = 'ssh_model'")" 0 "and it is gone"
q "SELECT ml.serving_stats_reset('ssh_nope')" >/dev/null
for d in "$db" "$other"; do dropdb "$d"; done
finish
