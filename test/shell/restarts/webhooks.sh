#!/usr/bin/env bash
# The webhook delivery worker against a local receiver that the test starts
# (test/notify/receiver.py): it runs as the role learnloop.webhook_role
# names, not a superuser; requests are signed per Standard Webhooks and the
# receiver verifies them (a wrong secret gets 401, not retried); 500 then
# 200 is retried after a backoff, with the same webhook-id; 400 is not
# retried (dead); a 429's Retry-After is honoured; a receiver that hangs
# past learnloop.webhook_timeout is a retried timeout; after
# learnloop.webhook_max_attempts the event is dead; a commit wakes the
# worker (each event arrives well before the periodic check would find it)
# and a rollback sends nothing; several requests are in flight at once;
# the answer read is capped; a channel, or the extension, dropped while a
# request is in flight is no error; a stored secret or URL the worker
# refuses sends nothing.
# Restarts the test cluster (LEARNLOOP_RESTART, when set, is the command).
set -uo pipefail
cd "$(dirname "$0")/../../.." || exit 1
. test/shell/tap.sh
. test/notify/webhook_test_lib.sh
db=learnloop_webhooks
sender=learnloop_webhook_sender
dropdb --if-exists "$db" >/dev/null 2>&1
createdb "$db"
q "CREATE EXTENSION learnloop"
# the grants of the delivery role (ml.grant_access's 'deliver', which docs/monitoring.md lists)
delivery_role "$sender"
grants="SELECT ml.grant_access('$sender', 'deliver')"   # again after re-creating the extension
use_settings "learnloop.webhook_databases = '$db'" "learnloop.webhook_role = '$sender'" \
  "learnloop.webhook_allow_private = on" "learnloop.webhook_retry_delay = '100ms'" \
  "learnloop.webhook_timeout = '1s'" "learnloop.webhook_max_attempts = 3"
wait_for "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'learnloop webhook delivery' AND datname = '$db'" 100 1
ok "$(q "SELECT a.usename || ' ' || r.rolsuper FROM pg_stat_activity a JOIN pg_roles r ON r.rolname = a.usename
          WHERE a.backend_type = 'learnloop webhook delivery'")" "$sender false" \
   "one worker, for the database named, running as learnloop.webhook_role (no superuser)"

# channel NAME PORT [SECRET]
channel() {
  q "INSERT INTO ml.channels (name, url, secret) VALUES ('$1', 'http://127.0.0.1:$2/hook/$1', ${3:-NULL})"
}

# signed, verified by the receiver
start_receiver --secret "$WEBHOOK_SECRET" --tolerance 300
channel signed "$RECEIVER_PORT" "'$WEBHOOK_SECRET'"
id=$(queue signed '{"alert": "accuracy_low", "value": 0.61}')
wait_for "SELECT state FROM ml.webhook_outbox WHERE id = $id" 100 delivered
ok "$(attempts "$id")" "1:delivered:200" "signed: delivered at the first attempt"
ok "$(received "$RECEIVER_LOG" signature)" valid "signed: the receiver verified the signature"
ok "$(received "$RECEIVER_LOG" webhook-id)" "$(q "SELECT event_id FROM ml.webhook_outbox WHERE id = $id")" \
   "signed: webhook-id is the event id"
ok "$(received "$RECEIVER_LOG" body)" '{"alert": "accuracy_low", "value": 0.61}' "signed: the body as stored"
ok "$(received "$RECEIVER_LOG" method) $(received "$RECEIVER_LOG" path) $(received "$RECEIVER_LOG" content-type)" \
   "POST /hook/signed application/json" "signed: a POST of JSON to the URL's path"
ok "$(received "$RECEIVER_LOG" user-agent | sed 's/[0-9.]*//g')" "learnloop/ (webhook delivery)" \
   "signed: the User-Agent names learnloop"
ok "$(q "SELECT delivered_at IS NOT NULL AND last_error IS NULL AND attempts = 1 FROM ml.webhook_outbox WHERE id = $id")" t \
   "signed: the outbox row is marked delivered"
ok "$(q "SELECT duration_ms >= 0 AND duration_ms < 1000 AND error IS NULL FROM ml.webhook_deliveries WHERE outbox_id = $id")" t \
   "signed: the attempt's duration is logged"

# a channel whose secret the receiver does not share: 401, not retried
q "INSERT INTO ml.channels (name, url, secret)
   VALUES ('forged', 'http://127.0.0.1:$RECEIVER_PORT/hook/forged', 'whsec_' || encode(sha256('other'), 'base64'))"
id=$(queue forged)
wait_for "SELECT state FROM ml.webhook_outbox WHERE id = $id" 100 dead
ok "$(attempts "$id")" "1:failed:401" "another secret: the receiver refuses the signature (401), not retried"
ok "$(received "$RECEIVER_LOG" signature | tail -n 1)" invalid "another secret: the receiver saw an invalid signature"

# stored values the channels' CHECKs let through but the worker refuses
# before sending anything: a secret that is not base64, a URL with a
# password (the error does not quote it)
q "INSERT INTO ml.channels (name, url, secret) VALUES ('bad_secret', 'http://127.0.0.1:$RECEIVER_PORT/', 'whsec_!!!')"
id=$(queue bad_secret)
wait_for "SELECT state FROM ml.webhook_outbox WHERE id = $id" 100 dead
ok "$(q "SELECT attempt || ':' || status || ':' || COALESCE(http_status::text, '') || ':' || COALESCE(duration_ms::text, '') || ' ' || error
          FROM ml.webhook_deliveries WHERE outbox_id = $id")" \
   '1:failed:: refused: the channel'"'"'s secret: What follows "whsec_" is not base64.' \
   "a secret that is not base64: refused before sending, not retried"
q "INSERT INTO ml.channels (name, url) VALUES ('password', 'http://user:hunter2@127.0.0.1:$RECEIVER_PORT/')"
id=$(queue password)
wait_for "SELECT state FROM ml.webhook_outbox WHERE id = $id" 100 dead
ok "$(q "SELECT error FROM ml.webhook_deliveries WHERE outbox_id = $id")" \
   "refused: the channel's URL: A user name or password in the URL is not allowed; authenticate with the channel's signing secret." \
   "a password in the URL: refused before sending, not quoted"
ok "$(received "$RECEIVER_LOG")" 2 "refused before sending: the receiver got nothing more"

# 500, then 200
start_receiver --answer 500
channel flaky "$RECEIVER_PORT"
id=$(queue flaky)
wait_for "SELECT state FROM ml.webhook_outbox WHERE id = $id" 100 delivered
ok "$(attempts "$id")" "1:retry:500 2:delivered:200" "500 then 200: retried, both attempts logged"
ok "$(received "$RECEIVER_LOG" webhook-id | sort -u | wc -l) $(received "$RECEIVER_LOG")" "1 2" \
   "500 then 200: two requests with the same webhook-id"
ok "$(q "SELECT (max(started_at) - min(started_at)) >= interval '50ms' FROM ml.webhook_deliveries WHERE outbox_id = $id")" t \
   "500 then 200: the retry waited its backoff (at least half of learnloop.webhook_retry_delay)"
ok "$(q "SELECT error FROM ml.webhook_deliveries WHERE outbox_id = $id AND attempt = 1")" "HTTP 500: 500" \
   "500 then 200: the error holds the status and the answer's start"
ok "$(q "SELECT attempts || ' ' || (last_error IS NULL) FROM ml.webhook_outbox WHERE id = $id")" "2 true" \
   "500 then 200: the outbox counts two attempts, no error left"
ok "$(received "$RECEIVER_LOG" webhook-signature | sort -u) $(received "$RECEIVER_LOG" webhook-timestamp | grep -c '^[0-9]\{10\}$')" " 2" \
   "500 then 200: a channel without a secret: no webhook-signature, a webhook-timestamp each"

# 400: not retried
start_receiver --answer 400
channel bad_request "$RECEIVER_PORT"
id=$(queue bad_request)
wait_for "SELECT state FROM ml.webhook_outbox WHERE id = $id" 100 dead
sleep 0.5
ok "$(attempts "$id") $(received "$RECEIVER_LOG")" "1:failed:400 1" "400: one attempt, failed, not retried"
ok "$(q "SELECT state || ': ' || last_error FROM ml.webhook_outbox WHERE id = $id")" "dead: HTTP 400: 400" \
   "400: the event is dead, with the reason"

# 429 with Retry-After: 1 second, more than the backoff
start_receiver --answer 429:1
channel busy "$RECEIVER_PORT"
id=$(queue busy)
wait_for "SELECT state FROM ml.webhook_outbox WHERE id = $id" 100 delivered
ok "$(attempts "$id")" "1:retry:429 2:delivered:200" "429: retried"
ok "$(q "SELECT (max(started_at) - min(started_at)) >= interval '1s' FROM ml.webhook_deliveries WHERE outbox_id = $id")" t \
   "429: the retry waited for Retry-After"

# a receiver that hangs past learnloop.webhook_timeout (1 s)
start_receiver --answer hang:5
channel hanging "$RECEIVER_PORT"
id=$(queue hanging)
wait_for "SELECT state FROM ml.webhook_outbox WHERE id = $id" 100 delivered
ok "$(attempts "$id")" "1:retry: 2:delivered:200" "hang: a timeout, retried, then delivered"
ok "$(q "SELECT error LIKE 'Timeout was reached: %' AND duration_ms >= 900 FROM ml.webhook_deliveries WHERE outbox_id = $id AND attempt = 1")" t \
   "hang: the attempt is logged as a timeout after about learnloop.webhook_timeout"

# always 503: dead after learnloop.webhook_max_attempts (3)
start_receiver --default 503
channel down "$RECEIVER_PORT"
id=$(queue down)
wait_for "SELECT state FROM ml.webhook_outbox WHERE id = $id" 100 dead
ok "$(attempts "$id")" "1:retry:503 2:retry:503 3:dead:503" "503 forever: dead at the third attempt"
sleep 0.5
ok "$(received "$RECEIVER_LOG")" 3 "503 forever: no fourth request"

# nothing listens: a connection error, retried
port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
channel nobody "$port"
id=$(queue nobody)
wait_for "SELECT count(*) FROM ml.webhook_deliveries WHERE outbox_id = $id" 100 1
ok "$(q "SELECT status || ' ' || (http_status IS NULL) || ' ' || (error LIKE 'Couldn''t connect to server%')
          FROM ml.webhook_deliveries WHERE outbox_id = $id AND attempt = 1")" "retry true true" \
   "connection refused: retried, no HTTP status, the error says why"

# a commit wakes the worker: each of 5 events arrives well within the
# 5-second periodic check; a rollback sends nothing
start_receiver
channel fast "$RECEIVER_PORT"
for i in 1 2 3 4 5; do
  queue fast "{\"n\": $i}" >/dev/null
  sleep 0.3
done
q "BEGIN; INSERT INTO ml.webhook_outbox (channel, event_type, body) VALUES ('fast', 'test.event', '{\"n\": 0}'); ROLLBACK"
wait_for "SELECT count(*) FROM ml.webhook_outbox WHERE channel = 'fast' AND state = 'delivered'" 100 5
sleep 1
ok "$(received "$RECEIVER_LOG" body | tr -d '\n')" '{"n": 1}{"n": 2}{"n": 3}{"n": 4}{"n": 5}' \
   "commit and rollback: the 5 committed events arrive, in order, and the rolled back one never"
lag=$(q "SELECT max(d.started_at - o.created_at) < interval '1s' FROM ml.webhook_outbox o
          JOIN ml.webhook_deliveries d ON d.outbox_id = o.id WHERE o.channel = 'fast'")
ok "$lag" t "commit: each event's attempt started within a second of its transaction (woken, not polled)"

# several in flight: 5 events to a receiver that holds every request 1 s
# (5: the receiver's listen backlog; more connections at once would wait
# for a SYN retransmission)
start_receiver --default hang:1
q "UPDATE ml.webhook_outbox SET state = 'dead' WHERE state = 'pending'"
q "ALTER SYSTEM SET learnloop.webhook_timeout = '5s'" && q "SELECT pg_reload_conf()" >/dev/null
sleep 0.5
channel slow "$RECEIVER_PORT"
q "INSERT INTO ml.webhook_outbox (channel, event_type, body) SELECT 'slow', 'test.event', '{}' FROM generate_series(1, 5)"
wait_for "SELECT count(*) FROM ml.webhook_outbox WHERE channel = 'slow' AND state = 'delivered'" 100 5
ok "$(q "SELECT count(*) FROM ml.webhook_deliveries d JOIN ml.webhook_outbox o ON o.id = d.outbox_id
          WHERE o.channel = 'slow' AND d.status = 'delivered'")" 5 "in flight: all 5 delivered"
ok "$(received "$RECEIVER_LOG" time | sort -n | sed -n '1p;$p' | tr '\n' ' ' | awk '{ print ($2 - $1 < 0.9) }')" 1 \
   "in flight: the 5 requests arrived together, not one hanging second after another"

# the answer read is capped: with 1 byte, a 500's status still counts
start_receiver --answer 500
q "ALTER SYSTEM SET learnloop.webhook_max_response_bytes = 1" && q "SELECT pg_reload_conf()" >/dev/null
sleep 0.5
channel capped "$RECEIVER_PORT"
id=$(queue capped)
wait_for "SELECT state FROM ml.webhook_outbox WHERE id = $id" 100 delivered
ok "$(attempts "$id")" "1:retry:500 2:delivered:200" "answer cap: the status is read, the 500 retried"
ok "$(q "SELECT string_agg(COALESCE(error, '-'), ' / ' ORDER BY attempt) FROM ml.webhook_deliveries WHERE outbox_id = $id")" \
   "HTTP 500: 500 (answer cut off after 1 bytes) / -" "answer cap: the attempt says the answer was cut off"

# a channel dropped while its event is in flight: nothing to record, the
# worker carries on
start_receiver --answer hang:2
channel dropped "$RECEIVER_PORT"
queue dropped >/dev/null
for i in $(seq 1 50); do [ "$(received "$RECEIVER_LOG")" = 1 ] && break; sleep 0.1; done
pid=$(worker_pid)
q "DELETE FROM ml.channels WHERE name = 'dropped'"
sleep 2.5
id=$(queue capped)
wait_for "SELECT state FROM ml.webhook_outbox WHERE id = $id" 100 delivered
ok "$(worker_pid) $(q "SELECT count(*) FROM ml.webhook_deliveries WHERE channel = 'dropped'")" "$pid 0" \
   "a channel dropped mid-flight: no attempt recorded, the same worker delivers the next event"

# the extension dropped while a request is in flight, then created again
# (with the role's grants): the same worker carries on with the new tables
start_receiver --answer hang:2
channel dropped_ext "$RECEIVER_PORT"
queue dropped_ext >/dev/null
for i in $(seq 1 50); do [ "$(received "$RECEIVER_LOG")" = 1 ] && break; sleep 0.1; done
q "DROP EXTENSION learnloop CASCADE"
sleep 2.5
q "CREATE EXTENSION learnloop; $grants"   # one transaction: the worker never sees the tables ungranted
channel recreated "$RECEIVER_PORT"
id=$(queue recreated)
wait_for "SELECT state FROM ml.webhook_outbox WHERE id = $id" 100 delivered
ok "$(worker_pid) $(attempts "$id")" "$pid 1:delivered:200" \
   "the extension dropped mid-flight and created again: the same worker delivers to the new tables"

q "ALTER SYSTEM RESET ALL" >/dev/null
restart
stop_receivers
dropdb "$db"
psql -X -q -d postgres -c "DROP ROLE $sender"
finish
