#!/usr/bin/env bash
# 0.2.0 -> 0.3.0 drops and re-creates ml.decide and ml.explain (their
# arguments and result columns changed): the roles ml.grant_access gave
# them to keep them across the update, and nobody else gets them.  Every
# grant the update makes on a role's behalf is the DBA's, not one of the
# extension's initial privileges (pg_init_privs), so pg_dump keeps it.
# 0.3.0 -> 0.4.0 gives ml.serving_stats and ml.report to the roles given read before.
set -uo pipefail
cd "$(dirname "$0")"
. ./tap.sh
db=learnloop_upgrade_grants
dropdb --if-exists "$db" >/dev/null 2>&1
createdb "$db"
roles="ll_up_app ll_up_reader ll_up_exp ll_up_read ll_up_train"
for r in $roles; do q "DROP ROLE IF EXISTS $r; CREATE ROLE $r" >/dev/null; done
q "CREATE EXTENSION learnloop VERSION '0.2.0'"
q "SELECT ml.grant_access('ll_up_app', 'record'); SELECT ml.grant_access('ll_up_reader', 'predict')" >/dev/null
q "SELECT ml.grant_access('ll_up_exp', 'experiment'); SELECT ml.grant_access('ll_up_read', 'read')" >/dev/null
q "ALTER EXTENSION learnloop UPDATE TO '0.3.0'"
ok "$(q "SELECT has_function_privilege('ll_up_app', 'ml.decide(text, text, jsonb, text, text, float8, text, text, text, float8)', 'EXECUTE')")" \
   t "an application role keeps ml.decide"
ok "$(q "SELECT has_function_privilege('ll_up_reader', 'ml.explain(text, jsonb, integer, text)', 'EXECUTE')")" \
   t "a predict role keeps ml.explain"
ok "$(q "SELECT has_function_privilege('public', 'ml.decide(text, text, jsonb, text, text, float8, text, text, text, float8)', 'EXECUTE')")" \
   f "PUBLIC does not get ml.decide"
ok "$(q "SELECT has_function_privilege('ll_up_exp', 'ml.check_choice(text, text, text[])', 'EXECUTE')")" \
   t "an experiment role gets ml.check_choice"
ok "$(q "SELECT has_table_privilege('ll_up_read', 'ml.\"MLTrainingData\"', 'SELECT')")" \
   t "a read role gets the quoted-name views"
ok "$(q "SELECT count(*) FROM pg_proc WHERE proname IN ('learnloop_replace_function', 'learnloop_grant_as_dba')")" 0 \
   "the update's helpers are gone"
ok "$(q "SELECT string_agg(DISTINCT pg_describe_object(i.classoid, i.objoid, i.objsubid) || ' to ' || a.grantee::regrole::text, ', ')
           FROM pg_init_privs i, aclexplode(i.initprivs) a
          WHERE a.grantee::regrole::text LIKE 'll\_up\_%'")" "" \
   "no role's grant is recorded as one of the extension's initial privileges"
# 0.3.0 -> 0.4.0: the roles given 'read' before get ml.serving_stats, nobody else does
q "SELECT ml.grant_access('ll_up_train', 'train')" >/dev/null
q "ALTER EXTENSION learnloop UPDATE TO '0.4.0'"
# the simulation's functions are re-created with a drift argument: a train role keeps them
ok "$(q "SELECT has_function_privilege('ll_up_train', 'ml.simulated_decisions(integer, integer, integer, integer, timestamptz, double precision)', 'EXECUTE')
            AND has_function_privilege('ll_up_train', 'ml.simulate_outcome(text, jsonb, text, integer, double precision)', 'EXECUTE')")" \
   t "a train role keeps ml.simulated_decisions and ml.simulate_outcome, now with drift"
ok "$(q "SELECT has_function_privilege('public', 'ml.simulated_decisions(integer, integer, integer, integer, timestamptz, double precision)', 'EXECUTE')
            OR has_function_privilege('ll_up_read', 'ml.simulate_outcome(text, jsonb, text, integer, double precision)', 'EXECUTE')")" \
   f "PUBLIC and other roles do not get the re-created simulation functions"
ok "$(q "SELECT has_table_privilege('ll_up_read', 'ml.serving_stats', 'SELECT') AND has_function_privilege('ll_up_read', 'ml.serving_stats_dropped()', 'EXECUTE')")" \
   t "a read role gets ml.serving_stats"
ok "$(q "SELECT has_table_privilege('ll_up_app', 'ml.serving_stats', 'SELECT') OR has_function_privilege('ll_up_read', 'ml.serving_stats_reset(text)', 'EXECUTE') OR has_function_privilege('public', 'ml.serving_stats()', 'EXECUTE')")" \
   f "other roles and PUBLIC do not get ml.serving_stats, and a read role cannot reset it"
ok "$(q "SELECT has_function_privilege('ll_up_read', 'ml.report(text, timestamptz)', 'EXECUTE')")" \
   t "a read role gets ml.report"
ok "$(q "SELECT has_function_privilege('ll_up_app', 'ml.report(text, timestamptz)', 'EXECUTE') OR has_function_privilege('public', 'ml.report(text, timestamptz)', 'EXECUTE')")" \
   f "other roles and PUBLIC do not get ml.report"
ok "$(q "SELECT has_function_privilege('ll_up_train', 'ml.monitor(text, interval, timestamptz, integer, text, jsonb)', 'EXECUTE')
              AND has_function_privilege('ll_up_read', 'ml.monitoring_history(text, text, timestamptz, text, text, text, text)', 'EXECUTE')
              AND NOT has_function_privilege('ll_up_read', 'ml.monitor(text, interval, timestamptz, integer, text, jsonb)', 'EXECUTE')")" \
   t "a train role gets ml.monitor, a read role ml.monitoring_history (and not ml.monitor)"
ok "$(q "SELECT has_table_privilege('ll_up_read', 'ml.prometheus_metrics', 'SELECT')
              AND has_table_privilege('ll_up_read', 'ml.monitoring', 'SELECT')
              AND has_table_privilege('ll_up_read', 'ml.alert_events', 'SELECT')
              AND has_table_privilege('ll_up_read', 'ml.webhook_deliveries', 'SELECT')
              AND has_column_privilege('ll_up_read', 'ml.channels', 'name', 'SELECT')")" \
   t "a read role gets the other objects 'read' gives in 0.4.0 (Prometheus, monitoring, alerts, webhooks)"
ok "$(q "SELECT has_column_privilege('ll_up_read', 'ml.channels', 'secret', 'SELECT')
              OR has_column_privilege('ll_up_read', 'ml.channels', 'url', 'SELECT')
              OR has_table_privilege('ll_up_app', 'ml.alert_events', 'SELECT')")" \
   f "but not the channels' secrets or URLs, and other roles get none of it"
# ml.decide and ml.record_decision are re-created with exploration's arguments: the roles keep them;
# 'record' gets ml.record_fallback, 'predict' (and so 'record') ml.action_distribution
ok "$(q "SELECT has_function_privilege('ll_up_app', 'ml.decide(text, text, jsonb, text, text, float8, text, text, text, float8, text, float8, float8, float8, bigint, text[])', 'EXECUTE')
              AND has_function_privilege('ll_up_app', 'ml.record_decision(text, text, jsonb, jsonb, text, text, text, timestamptz, float8)', 'EXECUTE')
              AND has_function_privilege('ll_up_app', 'ml.record_fallback(bigint, text)', 'EXECUTE')
              AND has_function_privilege('ll_up_app', 'ml.action_distribution(text, jsonb, text, float8, float8, float8, text[], integer, text)', 'EXECUTE')
              AND has_function_privilege('ll_up_reader', 'ml.action_distribution(text, jsonb, text, float8, float8, float8, text[], integer, text)', 'EXECUTE')")" \
   t "a record role keeps ml.decide and ml.record_decision and gets ml.record_fallback; predict roles get ml.action_distribution"
ok "$(q "SELECT has_function_privilege('ll_up_reader', 'ml.record_fallback(bigint, text)', 'EXECUTE')
              OR has_function_privilege('ll_up_read', 'ml.decide(text, text, jsonb, text, text, float8, text, text, text, float8, text, float8, float8, float8, bigint, text[])', 'EXECUTE')
              OR has_function_privilege('public', 'ml.record_fallback(bigint, text)', 'EXECUTE')
              OR has_function_privilege('public', 'ml.action_distribution(text, jsonb, text, float8, float8, float8, text[], integer, text)', 'EXECUTE')
              OR has_function_privilege('public', 'ml.decide(text, text, jsonb, text, text, float8, text, text, text, float8, text, float8, float8, float8, bigint, text[])', 'EXECUTE')")" \
   f "other roles and PUBLIC get none of them"
# bandits, off-policy evaluation and the simulation's truth (created after the re-grant's helper)
ok "$(q "SELECT has_function_privilege('ll_up_app', 'ml.choose(text, text, jsonb, bigint)', 'EXECUTE')
              AND has_function_privilege('ll_up_app', 'ml.bandit_distribution(text, text, jsonb, integer, bigint)', 'EXECUTE')
              AND has_table_privilege('ll_up_app', 'ml.bandit_arms', 'SELECT')
              AND has_function_privilege('ll_up_read', 'ml.bandit_distribution(text, text, jsonb, integer, bigint)', 'EXECUTE')
              AND has_table_privilege('ll_up_read', 'ml.bandits', 'SELECT')
              AND has_function_privilege('ll_up_train', 'ml.evaluate_policy(text, text, text, timestamptz, timestamptz, text, float8, float8, float8, integer, text, text, float8, integer, bigint, float8)', 'EXECUTE')
              AND has_function_privilege('ll_up_train', 'ml.create_bandit(text, text[], text, text, text, text, text, float8, integer)', 'EXECUTE')
              AND has_table_privilege('ll_up_train', 'ml.bandits', 'INSERT')
              AND has_function_privilege('ll_up_train', 'ml.simulate_expected_outcome(text, jsonb, text, integer, float8, text)', 'EXECUTE')")" \
   t "roles given record, read or train before the update get the bandits, ml.evaluate_policy and the simulation's truth as their access gives them"
ok "$(q "SELECT has_function_privilege('ll_up_reader', 'ml.choose(text, text, jsonb, bigint)', 'EXECUTE')
              OR has_function_privilege('ll_up_read', 'ml.choose(text, text, jsonb, bigint)', 'EXECUTE')
              OR has_function_privilege('ll_up_app', 'ml.evaluate_policy(text, text, text, timestamptz, timestamptz, text, float8, float8, float8, integer, text, text, float8, integer, bigint, float8)', 'EXECUTE')
              OR has_table_privilege('ll_up_read', 'ml.bandits', 'INSERT')
              OR has_function_privilege('public', 'ml.choose(text, text, jsonb, bigint)', 'EXECUTE')")" \
   f "and no more: predict and read roles cannot choose, record roles cannot evaluate, read roles cannot create bandits, PUBLIC nothing"
# experiment metrics: ml.analyze is re-created with correct_metrics; an experiment role gets the
# metric definitions, a read role keeps the analysis and gets what a defined metric's analysis reads
ok "$(q "SELECT has_function_privilege('ll_up_exp', 'ml.create_metric(text, text, text, text, text, text, text, text, interval, float8, text, integer, text, interval, float8, text)', 'EXECUTE')
              AND has_function_privilege('ll_up_exp', 'ml.drop_metric(text)', 'EXECUTE')
              AND has_table_privilege('ll_up_exp', 'ml.metrics', 'INSERT')
              AND has_function_privilege('ll_up_read', 'ml.analyze(text, text, float8, text, boolean, text, boolean)', 'EXECUTE')
              AND has_function_privilege('ll_up_read', 'ml.experiment_statistics(text, text, float8, text, boolean, text, boolean)', 'EXECUTE')
              AND has_function_privilege('ll_up_read', 'ml.outcome_number(jsonb, text)', 'EXECUTE')
              AND has_table_privilege('ll_up_read', 'ml.metrics', 'SELECT')")" \
   t "an experiment role gets ml.create_metric and ml.drop_metric, a read role keeps the analysis and reads metrics"
ok "$(q "SELECT has_function_privilege('ll_up_read', 'ml.create_metric(text, text, text, text, text, text, text, text, interval, float8, text, integer, text, interval, float8, text)', 'EXECUTE')
              OR has_table_privilege('ll_up_read', 'ml.metrics', 'INSERT')
              OR has_table_privilege('ll_up_app', 'ml.metrics', 'SELECT')
              OR has_function_privilege('public', 'ml.analyze(text, text, float8, text, boolean, text, boolean)', 'EXECUTE')")" \
   f "and no more: read roles cannot define metrics, record roles cannot read them, PUBLIC nothing"
# ml.predict_batch: predict and train roles (and record roles, which predict) get it, as their access gives it
ok "$(q "SELECT has_function_privilege('ll_up_reader', 'ml.predict_batch(text, text, text, text[], text, text, integer, bigint)', 'EXECUTE')
              AND has_function_privilege('ll_up_app', 'ml.predict_batch(text, text, text, text[], text, text, integer, bigint)', 'EXECUTE')
              AND has_function_privilege('ll_up_train', 'ml.predict_batch(text, text, text, text[], text, text, integer, bigint)', 'EXECUTE')")" \
   t "predict, record and train roles get ml.predict_batch"
ok "$(q "SELECT has_function_privilege('ll_up_read', 'ml.predict_batch(text, text, text, text[], text, text, integer, bigint)', 'EXECUTE')
              OR has_function_privilege('ll_up_exp', 'ml.predict_batch(text, text, text, text[], text, text, integer, bigint)', 'EXECUTE')
              OR has_function_privilege('public', 'ml.predict_batch(text, text, text, text[], text, text, integer, bigint)', 'EXECUTE')")" \
   f "read and experiment roles and PUBLIC do not"
ok "$(q "SELECT count(*) FROM pg_class WHERE relname = 'learnloop_explore_grants'")" 0 \
   "the update's table of old grants is gone"
ok "$(q "SELECT count(*) FROM pg_proc WHERE proname IN ('learnloop_grant_as_dba', 'learnloop_replace_function')")" 0 \
   "the 0.4.0 update's helpers are gone"
ok "$(q "SELECT string_agg(DISTINCT pg_describe_object(i.classoid, i.objoid, i.objsubid) || ' to ' || a.grantee::regrole::text, ', ')
           FROM pg_init_privs i, aclexplode(i.initprivs) a
          WHERE a.grantee::regrole::text LIKE 'll\_up\_%'")" "" \
   "after 0.4.0, still no role's grant is recorded as one of the extension's initial privileges"
# an extension member's grants are dumped with the extension: not under -n ml
dump=$(pg_dump -s "$db")
ok "$(echo "$dump" | grep -c '^GRANT ALL ON FUNCTION ml\.decide(.*actions text\[\]) TO ll_up_app;$')" 1 \
   "pg_dump keeps the grant of the new ml.decide (0.4.0's, with exploration)"
ok "$(echo "$dump" | grep -c '^GRANT ALL ON FUNCTION ml\.record_fallback(decision_id bigint, action text) TO ll_up_app;$')" 1 \
   "pg_dump keeps the grant of ml.record_fallback"
ok "$(echo "$dump" | grep -c '^GRANT ALL ON FUNCTION ml\.explain(.*text) TO ll_up_reader;$')" 1 \
   "pg_dump keeps the grant of the new ml.explain"
ok "$(echo "$dump" | grep -c '^GRANT ALL ON FUNCTION ml\.check_choice(.*) TO ll_up_exp;$')" 1 \
   "pg_dump keeps the grant of ml.check_choice"
ok "$(echo "$dump" | grep -c '^GRANT SELECT ON TABLE ml\."MLTrainingData" TO ll_up_read;$')" 1 \
   "pg_dump keeps the grants on the quoted-name views"
ok "$(echo "$dump" | grep -c '^GRANT SELECT ON TABLE ml\.serving_stats TO ll_up_read;$')" 1 \
   "pg_dump keeps the grant of ml.serving_stats"
ok "$(echo "$dump" | grep -c '^GRANT ALL ON FUNCTION ml\.report(model text, since timestamp with time zone) TO ll_up_read;$')" 1 \
   "pg_dump keeps the grant of ml.report"
ok "$(echo "$dump" | grep -c '^GRANT ALL ON FUNCTION ml\.simulated_decisions(.*double precision) TO ll_up_train;$')" 1 \
   "pg_dump keeps the grant of the new ml.simulated_decisions"
ok "$(echo "$dump" | grep -c '^GRANT ALL ON FUNCTION ml\.predict_batch(.*) TO ll_up_reader;$')" 1 \
   "pg_dump keeps the grant of ml.predict_batch"
dropdb "$db"
for r in $roles; do psql -X -q -d postgres -c "DROP ROLE $r"; done
finish
