#!/usr/bin/env bash
# 0.2.0 -> 0.3.0 drops and re-creates ml.decide and ml.explain (their
# arguments and result columns changed): the roles ml.grant_access gave
# them to keep them across the update, and nobody else gets them.
set -uo pipefail
cd "$(dirname "$0")"
. ./tap.sh
db=learnloop_upgrade_grants
dropdb --if-exists "$db" >/dev/null 2>&1
createdb "$db"
q "DROP ROLE IF EXISTS ll_up_app; DROP ROLE IF EXISTS ll_up_reader; CREATE ROLE ll_up_app; CREATE ROLE ll_up_reader" >/dev/null
q "CREATE EXTENSION learnloop VERSION '0.2.0'"
q "SELECT ml.grant_access('ll_up_app', 'record'); SELECT ml.grant_access('ll_up_reader', 'predict')" >/dev/null
q "ALTER EXTENSION learnloop UPDATE TO '0.3.0'"
ok "$(q "SELECT has_function_privilege('ll_up_app', 'ml.decide(text, text, jsonb, text, text, float8, text, text, text, float8)', 'EXECUTE')")" \
   t "an application role keeps ml.decide"
ok "$(q "SELECT has_function_privilege('ll_up_reader', 'ml.explain(text, jsonb, integer, text)', 'EXECUTE')")" \
   t "a predict role keeps ml.explain"
ok "$(q "SELECT has_function_privilege('public', 'ml.decide(text, text, jsonb, text, text, float8, text, text, text, float8)', 'EXECUTE')")" \
   f "PUBLIC does not get ml.decide"
ok "$(q "SELECT count(*) FROM pg_proc WHERE proname = 'learnloop_replace_function'")" 0 "the update's helper is gone"
dropdb "$db"
psql -X -q -d postgres -c "DROP ROLE ll_up_app" -c "DROP ROLE ll_up_reader"
finish
