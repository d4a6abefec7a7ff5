#!/usr/bin/env bash
# learnloop.serving_stats_max bounds ml.serving_stats: with room for 3
# entries, the calls of a fourth model are counted in
# ml.serving_stats_dropped() and nothing is evicted; a full reset makes
# room again.  Restarts the test cluster twice (LEARNLOOP_RESTART, when
# set, is the command that restarts it).
set -uo pipefail
cd "$(dirname "$0")/.."
. ./tap.sh
db=learnloop_serving_max
restart() {
  ${LEARNLOOP_RESTART:-pg_ctlcluster ${PGVERSION:-15} regress restart}
  for i in $(seq 1 50); do pg_isready -q && return 0; sleep 0.2; done
}
dropdb --if-exists "$db" >/dev/null 2>&1
createdb "$db"
q "CREATE EXTENSION learnloop"
q "ALTER SYSTEM SET learnloop.serving_stats_max = 3" >/dev/null
restart
ok "$(q "SHOW learnloop.serving_stats_max")" 3 "the table holds 3 entries"
q "CREATE TABLE t AS SELECT (i % 7)::float8 AS x, i % 7 > 3 AS y FROM generate_series(1, 300) i"
for m in ssm_a ssm_b ssm_c ssm_d; do
  q "SELECT count(*) FROM ml.train('$m', 't', 'y', params => '{\"num_round\": 2}')" >/dev/null
done
q "SELECT ml.serving_stats_reset()" >/dev/null
for m in ssm_a ssm_b ssm_c ssm_d; do
  q "SELECT count(ml.predict('$m', jsonb_build_object('x', i))) FROM generate_series(1, 4) i" >/dev/null
done
ok "$(q "SELECT string_agg(model || ':' || calls, ' ' ORDER BY model) FROM ml.serving_stats")" \
   "ssm_a:4 ssm_b:4 ssm_c:4" "the first three models are counted, none evicted"
ok "$(q "SELECT ml.serving_stats_dropped()")" 4 "the fourth model's 4 calls are dropped, and counted"
q "SELECT count(ml.predict('ssm_a', '{\"x\": 1}'::jsonb))" >/dev/null
ok "$(q "SELECT calls FROM ml.serving_stats WHERE model = 'ssm_a'")" 5 "a model already in the table is still counted"
ok "$(q "SELECT ml.serving_stats_reset('ssm_b')")" 1 "one model's reset frees its entry"
q "SELECT count(ml.predict('ssm_d', '{\"x\": 1}'::jsonb))" >/dev/null
ok "$(q "SELECT string_agg(model || ':' || calls, ' ' ORDER BY model) || ' dropped ' || ml.serving_stats_dropped() FROM ml.serving_stats")" \
   "ssm_a:5 ssm_c:4 ssm_d:1 dropped 4" "the freed entry takes the next model"
ok "$(q "SELECT ml.serving_stats_reset()")" 3 "a full reset removes every entry"
ok "$(q "SELECT ml.serving_stats_dropped()")" 0 "... and the dropped count"
q "ALTER SYSTEM RESET learnloop.serving_stats_max" >/dev/null
restart
ok "$(q "SHOW learnloop.serving_stats_max")" 500 "the default is back"
dropdb "$db"
finish
