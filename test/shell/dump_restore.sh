#!/usr/bin/env bash
# A pg_dump of a database using learnloop, restored into an empty one, keeps
# every row of the extension's tables (decisions, models, deployments,
# experiments, monitoring, webhooks) exactly, the identity sequences where
# they were, and the restored models predict what the originals did.
set -uo pipefail
cd "$(dirname "$0")"
. ./tap.sh
db=learnloop_dump_src
restored=learnloop_dump_dst
dump=$(mktemp)
trap 'rm -f "$dump"' EXIT
for d in $db $restored; do dropdb --if-exists "$d" >/dev/null 2>&1; done
createdb "$db"
q "CREATE EXTENSION learnloop" || { echo "Bail out! CREATE EXTENSION failed"; exit 1; }
ok "$(q "SELECT coalesce(string_agg(c.relname, ' ' ORDER BY c.relname), 'none')
            FROM pg_class c JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
            JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'learnloop'
           WHERE c.relkind IN ('r', 'S') AND c.oid <> ALL (e.extconfig)")" none \
   "every table and sequence of the extension is marked for pg_dump"
q "CREATE TABLE t AS SELECT (i % 7)::float8 AS x, i % 7 > 3 AS y FROM generate_series(1, 300) i"
q "SELECT count(*) FROM ml.train('dr', 't', 'y', params => '{\"num_round\": 3}')" >/dev/null
q "SELECT count(*) FROM ml.train('dr', 't', 'y', params => '{\"num_round\": 4}')" >/dev/null
q "SELECT ml.deploy('dr', 1, 'dump test')" >/dev/null
q "SELECT name FROM ml.create_experiment('dx', ARRAY['a', 'b'], primary_metric => 'won')" >/dev/null
q "SELECT count(ml.assign_variant('dx', 'u' || i)) FROM generate_series(1, 40) i" >/dev/null
q "SELECT count(ml.record_outcome('dx', 'u' || i, 'score', i)) FROM generate_series(1, 20) i" >/dev/null
q "SELECT count(*) FROM (SELECT ml.decide('dr', 'u' || i, jsonb_build_object('x', i % 7), 'rules', experiment => 'dx', variant => ml.assign_variant('dx', 'u' || i)) FROM generate_series(1, 30) i) s" >/dev/null
q "SELECT count(ml.record_outcome(id, jsonb_build_object('won', id % 2 = 0))) FROM ml.MLTrainingData" >/dev/null
q "SELECT ml.update_weights('dx', ARRAY[0.4, 0.6])" >/dev/null
q "INSERT INTO ml.MLABTestResults (test_name, duration_days, results) VALUES ('dx', 1.5, '{\"verdict\": \"keep running\"}')" >/dev/null
q "INSERT INTO ml.MLMonitoringMetrics (model_name, model_version, period_start, period_end, metric, value) VALUES ('dr', 1, now() - interval '1 hour', now(), 'decisions', 30)"
q "INSERT INTO ml.channels (name, url) VALUES ('ops', 'https://hooks.example.com/x')"
q "INSERT INTO ml.webhook_outbox (channel, event_type, body) VALUES ('ops', 'test', '{}')"
q "SELECT nextval('ml.training_job_id_seq')" >/dev/null

tables="mltrainingdata models deployments mlevaluationresults experiments experiment_exposures experiment_outcomes
        experiment_allocations mlabtestresults mlmonitoringmetrics deployment_decisions channels webhook_outbox
        webhook_deliveries"
# one line per table: its name, row count and the md5 of its rows in a fixed order
contents() {
  local t
  for t in $tables; do
    psql -X -At -d "$1" -c "SELECT '$t ' || count(*) || ' ' || coalesce(md5(string_agg(r::text, '|' ORDER BY r::text)), '-') FROM ml.$t r"
  done
  psql -X -At -d "$1" -c "SELECT string_agg(c.relname || '=' || coalesce(s.last_value::text, '-'), ' ' ORDER BY c.relname)
                            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                            LEFT JOIN pg_sequences s ON s.schemaname = 'ml' AND s.sequencename = c.relname
                           WHERE n.nspname = 'ml' AND c.relkind = 'S'"
}
before=$(contents "$db")
ok "$(echo "$before" | awk 'NF == 3 && ($2 > 0 || $1 == "webhook_deliveries")' | wc -l)" 14 \
   "every table but the delivery log has rows to dump"
pg_dump -Fc -f "$dump" "$db"
createdb "$restored"
pg_restore --exit-on-error -d "$restored" "$dump" 2>&1
ok "$?" 0 "pg_restore succeeds"
after=$(contents "$restored")
for t in $tables; do
  ok "$(echo "$after" | grep "^$t ")" "$(echo "$before" | grep "^$t ")" "ml.$t restored row for row"
done
ok "$(echo "$after" | tail -1)" "$(echo "$before" | tail -1)" "the sequences restored where they were"
predictions="SELECT string_agg(round(ml.predict('dr', jsonb_build_object('x', i))::numeric, 6)::text, ' ' ORDER BY i) FROM generate_series(0, 6) i"
original=$(q "$predictions")
ok "$(echo "$original" | wc -w)" 7 "the original model predicts"
ok "$(db=$restored q "$predictions")" "$original" "the restored deployed model predicts what the original does"
ok "$(db=$restored q "SELECT ml.deployed_version('dr')")" 1 "the deployed version is restored"
ok "$(db=$restored q "SELECT ml.record_decision('dr', 'new', '{\"x\": 1}', '{\"action\": \"a\"}') > (SELECT max(id) FROM ml.MLTrainingData WHERE unit_id <> 'new')")" t \
   "a decision recorded after the restore gets a new id"
dropdb "$db"
dropdb "$restored"
finish
