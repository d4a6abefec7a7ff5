#!/usr/bin/env bash
# The delivery worker survives a failing bookkeeping: with INSERT on
# ml.webhook_deliveries revoked from its role, an attempt that was sent
# cannot be recorded.  The worker logs the error and keeps the result (it
# does not exit, which made the postmaster restart it and send the event
# again every 10 s), claims nothing more while the result is unrecorded,
# and records it once the grant is back; the event is sent once.
# Restarts the test cluster (LEARNLOOP_RESTART, when set, is the command).
set -uo pipefail
cd "$(dirname "$0")/../../.." || exit 1
. test/shell/tap.sh
. test/notify/webhook_test_lib.sh
db=learnloop_webhooks_bookkeeping
sender=learnloop_webhook_bookkeeper
dropdb --if-exists "$db" >/dev/null 2>&1
createdb "$db"
q "CREATE EXTENSION learnloop"
delivery_role "$sender"
# the log collector, so that the test can read the server log wherever it is
use_settings "learnloop.webhook_databases = '$db'" "learnloop.webhook_role = '$sender'" \
  "learnloop.webhook_allow_private = on" "logging_collector = on"
wait_for "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'learnloop webhook delivery' AND datname = '$db'" 100 1
# logged TEXT: lines of the server log containing TEXT
logged() { q "SELECT count(*) FROM regexp_split_to_table(pg_read_file(pg_current_logfile()), E'\n') l WHERE strpos(l, '$1') > 0"; }

start_receiver
q "INSERT INTO ml.channels (name, url) VALUES ('kept', 'http://127.0.0.1:$RECEIVER_PORT/')"
pid=$(worker_pid)
q "REVOKE INSERT ON ml.webhook_deliveries FROM $sender"
id=$(queue kept '{"n": 1}')
for _ in $(seq 1 50); do [ "$(received "$RECEIVER_LOG")" = 1 ] && break; sleep 0.1; done
sleep 1
second=$(queue kept '{"n": 2}')
# past the 10 s after which the postmaster restarted a worker that died
sleep 11
ok "$(received "$RECEIVER_LOG")" 1 "not recorded: the event was sent once, not again every 10 s, and none claimed meanwhile"
ok "$(worker_pid)" "$pid" "not recorded: the same worker runs"
ok "$(q "SELECT state || ' ' || attempts FROM ml.webhook_outbox WHERE id = $id")" "pending 0" \
   "not recorded: the event is still pending (its attempt not written)"
ok "$(( $(logged 'permission denied for table webhook_deliveries') >= 2 ))" 1 \
   "not recorded: the worker logs the error at each try"
ok "$(( $(logged 'finished attempts kept, no event claimed until they are recorded') >= 2 ))" 1 \
   "not recorded: and that the result is kept, with the next try"

q "GRANT INSERT ON ml.webhook_deliveries TO $sender"
wait_for "SELECT count(*) FROM ml.webhook_outbox WHERE id IN ($id, $second) AND state = 'delivered'" 300 2
ok "$(attempts "$id") / $(attempts "$second")" "1:delivered:200 / 1:delivered:200" \
   "granted again: the kept result is recorded, then the next event is claimed and delivered"
ok "$(received "$RECEIVER_LOG" body | tr -d '\n') $(worker_pid)" '{"n": 1}{"n": 2} '"$pid" \
   "granted again: each event sent once, by the same worker"

q "ALTER SYSTEM RESET ALL" >/dev/null
restart
stop_receivers
dropdb "$db"
psql -X -q -d postgres -c "DROP ROLE $sender"
finish
