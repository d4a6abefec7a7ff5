#!/usr/bin/env bash
# The 0.3.0 update adds CHECK constraints to ml.MLTrainingData (names, and a
# decision's confidence in 0..1): rows written before the update that break
# one leave it NOT VALID with a WARNING (the update still succeeds), clean
# tables get it validated, and new rows are checked either way.  Roles
# granted before the update get the quoted-name views and ml.check_choice.
set -uo pipefail
cd "$(dirname "$0")"
. ./tap.sh
db=learnloop_upgrade_checks

prepare() {
  dropdb --if-exists "$db" >/dev/null 2>&1
  createdb "$db"
  q "CREATE EXTENSION learnloop VERSION '0.2.0'"
}
update() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" -c "ALTER EXTENSION learnloop UPDATE TO '0.3.0'" 2>&1; }
validated() { q "SELECT string_agg(conname || '=' || convalidated, ',' ORDER BY conname) FROM pg_constraint
                 WHERE conrelid = 'ml.mltrainingdata'::regclass AND conname IN ('mltrainingdata_names_check', 'mltrainingdata_confidence_check')"; }
insert_error() { psql -X -q -At -d "$db" -c "INSERT INTO ml.MLTrainingData (task, unit_id, features, decision) VALUES ($1)" 2>&1 | head -1; }

# a row with confidence 1.2 from before the update
prepare
q "INSERT INTO ml.MLTrainingData (task, unit_id, features, decision) VALUES ('t', 'u', '{}', '{\"confidence\": 1.2}')"
out=$(update)
ok "$(echo "$out" | grep -c 'WARNING:  rows of ml.MLTrainingData written before 0.3.0 break the new constraint mltrainingdata_confidence_check')" 1 \
   "the update warns about the old row that breaks the confidence check"
ok "$(q "SELECT extversion FROM pg_extension WHERE extname = 'learnloop'")" 0.3.0 "the update succeeds anyway"
ok "$(validated)" "mltrainingdata_confidence_check=false,mltrainingdata_names_check=true" \
   "the broken constraint stays NOT VALID, the other is validated"
ok "$(insert_error "'t', 'u', '{}', '{\"confidence\": 1.3}'")" \
   'ERROR:  new row for relation "mltrainingdata" violates check constraint "mltrainingdata_confidence_check"' \
   "new rows are checked by the NOT VALID constraint"
q "DELETE FROM ml.MLTrainingData WHERE decision->>'confidence' = '1.2'"
q "ALTER TABLE ml.MLTrainingData VALIDATE CONSTRAINT mltrainingdata_confidence_check"
ok "$(validated)" "mltrainingdata_confidence_check=true,mltrainingdata_names_check=true" \
   "once the row is gone the hint's VALIDATE succeeds"

# clean rows, and a role granted before the update
prepare
q "DROP ROLE IF EXISTS learnloop_upgrade_app" >/dev/null 2>&1
q "CREATE ROLE learnloop_upgrade_app"
q "SELECT ml.grant_access('learnloop_upgrade_app', 'record')" >/dev/null
q "SELECT ml.grant_access('learnloop_upgrade_app', 'experiment')" >/dev/null
q "INSERT INTO ml.MLTrainingData (task, unit_id, features, decision) VALUES ('t', 'u', '{}', '{\"confidence\": 0.5}')"
out=$(update)
ok "$out" "" "a clean table updates without a warning"
ok "$(validated)" "mltrainingdata_confidence_check=true,mltrainingdata_names_check=true" "both constraints are validated"
ok "$(insert_error "'t', repeat('u', 257), '{}', '{}'")" \
   'ERROR:  new row for relation "mltrainingdata" violates check constraint "mltrainingdata_names_check"' \
   "a unit id over 256 bytes is refused by a plain INSERT"
ok "$(q "SET ROLE learnloop_upgrade_app; INSERT INTO ml.\"MLTrainingData\" (task, unit_id, features, decision)
         VALUES ('t', 'u2', '{}', '{}') RETURNING id > 0")" t \
   "the role granted before the update inserts through the quoted name"
ok "$(psql -X -q -At -d "$db" -c "SET ROLE learnloop_upgrade_app; SELECT features FROM ml.\"MLTrainingData\"" 2>&1 | head -1)" \
   'ERROR:  permission denied for view MLTrainingData' \
   "... with the table's column grants: features stay unreadable"
ok "$(q "SET ROLE learnloop_upgrade_app; SELECT name FROM ml.create_experiment('up', ARRAY['a', 'b'], status => 'Draft')")" up \
   "... and creates experiments through ml.check_choice"
dropdb "$db"
q() { psql -X -q -At -v ON_ERROR_STOP=1 -c "$1"; }
q "DROP ROLE learnloop_upgrade_app"
finish
