#!/usr/bin/env bash
# Weekly retraining is one pg_cron line: a real pg_cron in the test cluster
# (cron.database_name = learnloop_cron) runs a scheduled ml.train.
# pg_cron 1.4 schedules by the minute, so this waits up to two minutes.
set -uo pipefail
cd "$(dirname "$0")"
. ./tap.sh
db=learnloop_cron
createdb "$db" 2>/dev/null
q "CREATE EXTENSION IF NOT EXISTS pg_cron"
q "CREATE EXTENSION IF NOT EXISTS learnloop"
q "SELECT ml.simulate_users(50, 7, seed => 3)" >/dev/null
q "SELECT cron.schedule('retrain', '* * * * *', \$\$SELECT * FROM ml.train('cron_model', 'ml.mltrainingdata',
     \$t\$(outcome->>'engaged')::boolean\$t\$, features => ARRAY['features'], params => '{\"num_round\": 10}')\$\$)" >/dev/null
wait_for "SELECT count(*) > 0 FROM ml.models WHERE name = 'cron_model'" 1500 t
ok "$(q "SELECT count(*) > 0 FROM ml.models WHERE name = 'cron_model'")" t "pg_cron trained the model"
ok "$(q "SELECT ml.deployed_version('cron_model')")" 1 "the first scheduled model is deployed"
wait_for "SELECT count(*) > 0 FROM cron.job_run_details WHERE status = 'succeeded'" 100 t
ok "$(q "SELECT status FROM cron.job_run_details ORDER BY runid LIMIT 1")" succeeded "pg_cron recorded the run as succeeded"
q "SELECT cron.unschedule('retrain')" >/dev/null
finish
