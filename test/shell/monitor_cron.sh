#!/usr/bin/env bash
# The monitoring recipe of docs/monitoring.md: pg_cron runs ml.monitor on a
# schedule (here every minute, over the hour up to the minute) and its rows
# appear in ml.MLMonitoringMetrics.  A real pg_cron in the test cluster
# (cron.database_name = learnloop_cron), as test/shell/pg_cron.sh; pg_cron
# 1.4 schedules by the minute, so this waits up to two minutes.
set -uo pipefail
cd "$(dirname "$0")"
. ./tap.sh
db=learnloop_cron
createdb "$db" 2>/dev/null
q "CREATE EXTENSION IF NOT EXISTS pg_cron"
q "CREATE EXTENSION IF NOT EXISTS learnloop"
q "DELETE FROM ml.MLMonitoringMetrics WHERE model_name = 'cron_monitored'"
q "DELETE FROM ml.MLTrainingData WHERE task = 'cron_monitored'"
q "DELETE FROM ml.models WHERE name = 'cron_monitored'"
# a model row written by its owner (ml.monitor reads its schema, not its bytes) and 20 decisions
q "INSERT INTO ml.models (name, version, task, feature_schema, model) VALUES ('cron_monitored', 1, 'classification',
     '{\"task\": \"classification\", \"objective\": \"binary:logistic\", \"target\": \"(outcome->>''y'')::boolean\",
       \"features\": [{\"name\": \"x\", \"type\": \"numeric\"}], \"classes\": [\"false\", \"true\"]}', '\\x00')"
q "INSERT INTO ml.MLTrainingData (task, unit_id, created_at, features, decision, outcome, outcome_at)
   SELECT 'cron_monitored', 'u' || i, now() - interval '5 minutes', jsonb_build_object('x', i),
          jsonb_build_object('decided_by', 'model cron_monitored v1', 'score', 0.9, 'latency_us', 100 * i),
          '{\"y\": true}', now()
     FROM generate_series(1, 20) i"
q "SELECT cron.schedule('monitor_cron_monitored', '* * * * *',
     \$\$SELECT count(*) FROM ml.monitor('cron_monitored', window_end => date_trunc('minute', now()))\$\$)" >/dev/null
wait_for "SELECT count(*) > 0 FROM ml.MLMonitoringMetrics WHERE model_name = 'cron_monitored'" 1500 t
ok "$(q "SELECT value FROM ml.MLMonitoringMetrics
          WHERE model_name = 'cron_monitored' AND metric = 'decisions' AND decided_by IS NULL AND experiment IS NULL
          ORDER BY period_end LIMIT 1")" 20 "pg_cron's ml.monitor wrote the window's decision count"
ok "$(q "SELECT value FROM ml.MLMonitoringMetrics
          WHERE model_name = 'cron_monitored' AND metric = 'accuracy' AND decided_by IS NULL AND experiment IS NULL
          ORDER BY period_end LIMIT 1")" 1 "and its realized accuracy"
ok "$(q "SELECT count(DISTINCT (period_start, period_end)) = count(*) FILTER (WHERE metric = 'decisions' AND decided_by IS NULL AND experiment IS NULL)
          AND bool_and(period_end = date_trunc('minute', period_end) AND period_end - period_start = interval '1 hour')
          FROM ml.MLMonitoringMetrics WHERE model_name = 'cron_monitored'")" t \
   "each run wrote one hour-long window ending on the minute, once"
wait_for "SELECT count(*) > 0 FROM cron.job_run_details d JOIN cron.job j USING (jobid)
          WHERE j.jobname = 'monitor_cron_monitored' AND d.status = 'succeeded'" 100 t
ok "$(q "SELECT d.status FROM cron.job_run_details d JOIN cron.job j USING (jobid)
          WHERE j.jobname = 'monitor_cron_monitored' ORDER BY d.runid LIMIT 1")" succeeded "pg_cron recorded the run as succeeded"
q "SELECT cron.unschedule('monitor_cron_monitored')" >/dev/null
q "DELETE FROM ml.MLMonitoringMetrics WHERE model_name = 'cron_monitored'"
q "DELETE FROM ml.MLTrainingData WHERE task = 'cron_monitored'"
q "DELETE FROM ml.models WHERE name = 'cron_monitored'"
finish
