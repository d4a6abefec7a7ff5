#!/usr/bin/env bash
# SSRF: without learnloop.webhook_allow_private the delivery worker refuses
# to send to 127.0.0.1, localhost, [::1], a v4-mapped ::ffff:127.0.0.1 and
# 169.254.169.254 (the cloud metadata service): the receiver listening on
# 127.0.0.1 gets nothing, and each event is dead at its first attempt with
# the reason.  Only a superuser can allow private addresses (PGC_SIGHUP);
# once allowed, the v4-mapped form reaches the receiver (so the refusal
# was the address check's), link-local stays refused, and a redirect to a
# private address is not followed.  file:// and gopher:// URLs, which the
# channels' CHECK refuses, are written with the CHECK dropped in this
# throwaway database: the worker checks the stored URL again and sends
# nothing (libcurl's own CURLOPT_PROTOCOLS_STR "http,https" is a second
# guard behind that check, which SQL cannot reach).
# Restarts the test cluster (LEARNLOOP_RESTART, when set, is the command).
set -uo pipefail
cd "$(dirname "$0")/../../.." || exit 1
. test/shell/tap.sh
. test/notify/webhook_test_lib.sh
db=learnloop_webhooks_ssrf
dropdb --if-exists "$db" >/dev/null 2>&1
createdb "$db"
q "CREATE EXTENSION learnloop"
sender=learnloop_webhook_sender_ssrf
delivery_role "$sender"
use_settings "learnloop.webhook_databases = '$db'" "learnloop.webhook_role = '$sender'" "learnloop.webhook_retry_delay = '100ms'"
ok "$(q "SHOW learnloop.webhook_allow_private")" off "private addresses are refused by default"

start_receiver
port=$RECEIVER_PORT
# refused NAME URL: the event to URL is dead at once; prints its error
refused() {
  local id
  q "INSERT INTO ml.channels (name, url) VALUES ('$1', '$2')"
  id=$(queue "$1")
  wait_for "SELECT state FROM ml.webhook_outbox WHERE id = $id" 100 dead
  q "SELECT attempt || ':' || status || ':' || COALESCE(http_status::text, '') || ' ' || error
       FROM ml.webhook_deliveries WHERE outbox_id = $id"
}
off="(learnloop.webhook_allow_private is off)"
ok "$(refused loopback "http://127.0.0.1:$port/")" \
   "1:failed: refused: 127.0.0.1 is a loopback address $off" "127.0.0.1 refused"
ok "$(refused localhost "http://localhost:$port/" | sed -E 's/refused: (127\.0\.0\.1|::1) is/refused: ADDRESS is/')" \
   "1:failed: refused: ADDRESS is a loopback address $off" \
   "localhost refused: the addresses the name resolves to are checked"
ok "$(refused ipv6_loopback "http://[::1]:$port/")" \
   "1:failed: refused: ::1 is a loopback address $off" "[::1] refused"
ok "$(refused v4_mapped "http://[::ffff:127.0.0.1]:$port/")" \
   "1:failed: refused: ::ffff:127.0.0.1 is a loopback address $off" "[::ffff:127.0.0.1] (v4-mapped) refused"
ok "$(refused metadata "http://169.254.169.254/latest/meta-data/")" \
   "1:failed: refused: 169.254.169.254 is a link-local address (this includes the cloud metadata service) (never allowed)" \
   "169.254.169.254 refused"
ok "$(refused private "http://10.0.0.1:$port/")" \
   "1:failed: refused: 10.0.0.1 is a private address $off" "10.0.0.1 refused"
sleep 0.5
ok "$(received "$RECEIVER_LOG")" 0 "the receiver on 127.0.0.1 got no request"

# only a superuser sets it
q "CREATE ROLE learnloop_ssrf_app"
# sqlstate STATEMENT: its SQLSTATE, run as learnloop_ssrf_app
sqlstate() {
  psql -X -q -d "$db" -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -c "SET ROLE learnloop_ssrf_app" -c "$1" 2>&1 |
    sed -n 's/^ERROR:  \([0-9A-Z]\{5\}\):.*/\1/p'
}
ok "$(sqlstate "SET learnloop.webhook_allow_private = on")" 55P02 \
   "a session cannot set learnloop.webhook_allow_private (55P02)"
ok "$(sqlstate "ALTER SYSTEM SET learnloop.webhook_allow_private = on")" 42501 \
   "a role without superuser cannot ALTER SYSTEM it (42501)"
q "DROP ROLE learnloop_ssrf_app"

# allowed by the superuser: local receivers are reached, link-local is not
q "ALTER SYSTEM SET learnloop.webhook_allow_private = on" && q "SELECT pg_reload_conf()" >/dev/null
sleep 1
q "INSERT INTO ml.channels (name, url) VALUES ('v4_mapped_allowed', 'http://[::ffff:127.0.0.1]:$port/')"
id=$(queue v4_mapped_allowed)
wait_for "SELECT state FROM ml.webhook_outbox WHERE id = $id" 100 delivered
ok "$(attempts "$id") $(received "$RECEIVER_LOG")" "1:delivered:200 1" \
   "allowed: the v4-mapped address reaches the receiver"
ok "$(refused metadata_allowed "http://169.254.169.254/latest/meta-data/")" \
   "1:failed: refused: 169.254.169.254 is a link-local address (this includes the cloud metadata service) (never allowed)" \
   "allowed: 169.254.169.254 is still refused"

# a redirect to a private address is not followed
start_receiver --answer 302:http://169.254.169.254/latest/meta-data/ --answer 307:http://10.0.0.1/
q "INSERT INTO ml.channels (name, url) VALUES ('redirect', 'http://127.0.0.1:$RECEIVER_PORT/hook')"
id=$(queue redirect)
wait_for "SELECT state FROM ml.webhook_outbox WHERE id = $id" 100 dead
ok "$(q "SELECT attempt || ':' || status || ':' || http_status || ' ' || error FROM ml.webhook_deliveries WHERE outbox_id = $id")" \
   "1:failed:302 HTTP 302: redirect to http://169.254.169.254/latest/meta-data/ not followed" \
   "redirect: a 302 to the metadata service is a failed attempt naming the Location, not retried"
id=$(queue redirect)
wait_for "SELECT state FROM ml.webhook_outbox WHERE id = $id" 100 dead
ok "$(q "SELECT attempt || ':' || status || ':' || http_status || ' ' || error FROM ml.webhook_deliveries WHERE outbox_id = $id")" \
   "1:failed:307 HTTP 307: redirect to http://10.0.0.1/ not followed" "redirect: a 307 to 10.0.0.1 neither"
sleep 0.5
ok "$(received "$RECEIVER_LOG")" 2 "redirect: one request per event, nothing followed"

# file:// and gopher:// (to the receiver itself, private allowed): past the
# CHECK, refused by the worker
q "ALTER TABLE ml.channels DROP CONSTRAINT channels_url_check"
file=$(refused file "file:///etc/passwd")
gopher=$(refused gopher "gopher://127.0.0.1:$RECEIVER_PORT/_POST%20/hook")
why="Only http:// and https:// URLs are allowed, and the scheme must be written out."
ok "$file" "1:failed: refused: the channel's URL: $why" "file:// refused by the worker, not retried"
ok "$gopher" "1:failed: refused: the channel's URL: $why" "gopher:// refused by the worker, not retried"
sleep 0.5
ok "$(received "$RECEIVER_LOG")" 2 "gopher://: the receiver got nothing"

q "ALTER SYSTEM RESET ALL" >/dev/null
restart
stop_receivers
dropdb "$db"
psql -X -q -d postgres -c "DROP ROLE $sender"
finish
