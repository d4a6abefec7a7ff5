#!/usr/bin/env bash
# The delivery worker's claim does not read a disabled channel's backlog:
# with 20000 pending events on a disabled channel, the claims that deliver
# an enabled channel's events (and the periodic ones) read a few index
# entries of ml.webhook_outbox, not the backlog at every claim.  Counted in
# pg_stat_user_indexes, flushed when the worker ends.  A finished attempt
# is recorded at once after learnloop.webhook_max_in_flight was lowered
# below the number in flight.
# Restarts the test cluster (LEARNLOOP_RESTART, when set, is the command).
set -uo pipefail
cd "$(dirname "$0")/../../.." || exit 1
. test/shell/tap.sh
. test/notify/webhook_test_lib.sh
db=learnloop_webhooks_claim
dropdb --if-exists "$db" >/dev/null 2>&1
createdb "$db"
q "CREATE EXTENSION learnloop"
sender=learnloop_webhook_sender_claim
delivery_role "$sender"
use_settings "learnloop.webhook_databases = '$db'" "learnloop.webhook_role = '$sender'" "learnloop.webhook_allow_private = on"
wait_for "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'learnloop webhook delivery' AND datname = '$db'" 100 1
start_receiver
q "INSERT INTO ml.channels (name, url, enabled) VALUES ('off', 'http://127.0.0.1:$RECEIVER_PORT/', false),
   ('on', 'http://127.0.0.1:$RECEIVER_PORT/', true)"
q "INSERT INTO ml.webhook_outbox (channel, event_type, body) SELECT 'off', 'test.event', '{}' FROM generate_series(1, 20000)"
q "SELECT pg_stat_reset()" >/dev/null
for i in 1 2 3; do
  queue on "{\"n\": $i}" >/dev/null
  sleep 0.3
done
# waits on the receiver: the test's own queries of the outbox would count
for _ in $(seq 1 100); do [ "$(received "$RECEIVER_LOG")" = 3 ] && break; sleep 0.1; done
sleep 5.5   # a periodic claim too
pid=$(worker_pid)
q "SELECT pg_terminate_backend($pid)" >/dev/null
for _ in $(seq 1 100); do [ -d "/proc/$pid" ] || break; sleep 0.05; done
sleep 0.5
read_entries=$(q "SELECT sum(idx_tup_read) FROM pg_stat_user_indexes WHERE relid = 'ml.webhook_outbox'::regclass")
seq_read=$(q "SELECT seq_tup_read FROM pg_stat_user_tables WHERE relid = 'ml.webhook_outbox'::regclass")
ok "$(received "$RECEIVER_LOG") $(q "SELECT count(*) FROM ml.webhook_outbox WHERE channel = 'off' AND state = 'pending'")" \
   "3 20000" "the enabled channel's 3 events delivered, the disabled channel's 20000 waiting"
ok "$(( read_entries < 1000 ))" 1 "the claims read a few index entries, not the disabled backlog ($read_entries read)"
ok "$seq_read" 0 "and no sequential scan of the outbox"

# learnloop.webhook_max_in_flight lowered by a reload below the number in
# flight: an attempt that finishes is recorded at once, not when enough
# others have finished to make room again
wait_for "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'learnloop webhook delivery' AND datname = '$db'" 150 1
start_receiver --answer hang:1 --answer hang:6 --answer hang:6 --answer hang:6 --answer hang:6
q "INSERT INTO ml.channels (name, url) VALUES ('lowered', 'http://127.0.0.1:$RECEIVER_PORT/')"
q "INSERT INTO ml.webhook_outbox (channel, event_type, body) SELECT 'lowered', 'test.event', '{}' FROM generate_series(1, 5)"
for _ in $(seq 1 50); do [ "$(received "$RECEIVER_LOG")" = 5 ] && break; sleep 0.1; done
q "ALTER SYSTEM SET learnloop.webhook_max_in_flight = 2" && q "SELECT pg_reload_conf()" >/dev/null
sleep 2.5
ok "$(q "SELECT count(*) FROM ml.webhook_deliveries WHERE channel = 'lowered'")" 1 \
   "max_in_flight lowered below the 5 in flight: the attempt that finished after 1 s is recorded at once"
wait_for "SELECT count(*) FROM ml.webhook_outbox WHERE channel = 'lowered' AND state = 'delivered'" 150 5
ok "$(q "SELECT count(*) FROM ml.webhook_outbox WHERE channel = 'lowered' AND state = 'delivered'") $(received "$RECEIVER_LOG")" \
   "5 5" "max_in_flight lowered: all 5 delivered, each sent once"

q "ALTER SYSTEM RESET ALL" >/dev/null
restart
stop_receivers
dropdb "$db"
psql -X -q -d postgres -c "DROP ROLE $sender"
finish
