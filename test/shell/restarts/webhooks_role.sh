#!/usr/bin/env bash
# The delivery worker never runs as a superuser: with learnloop.webhook_role
# empty no worker starts, with a superuser role the worker exits at once
# without delivering and is not restarted, and with a role of its own the
# events that waited meanwhile are delivered.
# Restarts the test cluster three times (LEARNLOOP_RESTART, when set, is
# the command).
set -uo pipefail
cd "$(dirname "$0")/../../.." || exit 1
. test/shell/tap.sh
. test/notify/webhook_test_lib.sh
db=learnloop_webhooks_role
sender=learnloop_webhook_role_sender
dropdb --if-exists "$db" >/dev/null 2>&1
createdb "$db"
q "CREATE EXTENSION learnloop"
delivery_role "$sender"
start_receiver
q "INSERT INTO ml.channels (name, url) VALUES ('role', 'http://127.0.0.1:$RECEIVER_PORT/')"
event=$(queue role)
workers="SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'learnloop webhook delivery'"

use_settings "learnloop.webhook_databases = '$db'" "learnloop.webhook_allow_private = on"
sleep 2
ok "$(q "$workers")" 0 "an empty learnloop.webhook_role starts no worker"

use_settings "learnloop.webhook_role = '$(q "SELECT current_user")'"
sleep 2
ok "$(q "SELECT rolsuper FROM pg_roles WHERE rolname = current_user") $(q "$workers")" "t 0" \
   "a superuser learnloop.webhook_role: the worker exits at once and is not restarted"
sleep 11   # past the worker's restart interval (10 s)
ok "$(q "$workers") $(q "SELECT state || ' ' || attempts FROM ml.webhook_outbox WHERE id = $event") $(received "$RECEIVER_LOG")" \
   "0 pending 0 0" "a superuser learnloop.webhook_role: still no worker, nothing sent, no attempt"

use_settings "learnloop.webhook_role = '$sender'"
wait_for "SELECT state FROM ml.webhook_outbox WHERE id = $event" 100 delivered
ok "$(q "SELECT a.usename || ' ' || r.rolsuper FROM pg_stat_activity a JOIN pg_roles r ON r.rolname = a.usename
          WHERE a.backend_type = 'learnloop webhook delivery'") $(q "SELECT state FROM ml.webhook_outbox WHERE id = $event")" \
   "$sender false delivered" "a role of its own: the worker runs as it and delivers the event that waited"

q "ALTER SYSTEM RESET ALL" >/dev/null
restart
dropdb "$db"
psql -X -q -d postgres -c "DROP ROLE $sender"
stop_receivers
finish
