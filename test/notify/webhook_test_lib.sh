# shellcheck shell=bash disable=SC2034
# Helpers for the delivery worker's tests (test/shell/restarts/webhook*.sh)
# and bench/webhooks.sh: source after test/shell/tap.sh, with $db set and
# the current directory the repository's root.
#   restart                 restarts the test cluster (LEARNLOOP_RESTART, when
#                           set, is the command; else pg_virtualenv's cluster)
#   start_receiver ARGS...  starts test/notify/receiver.py (or $RECEIVER_PROGRAM)
#                           with ARGS; sets RECEIVER_PORT and RECEIVER_LOG;
#                           stopped at exit
#   queue CHANNEL [BODY]    inserts an outbox event, prints its id
#   attempts ID             "1:retry:500 2:delivered:200": an event's attempts
#   received LOG [FIELD]    the requests a receiver logged: their count, or
#                           one FIELD per line (a log field: body, signature,
#                           answer, time; else a header, name in lower case)
#   worker_pid              pid of this database's delivery worker
#   use_settings 'NAME = VALUE' ...   ALTER SYSTEM each, then restart
WEBHOOK_SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
webhook_work=$(mktemp -d /tmp/learnloop_webhooks.XXXXXX)
chmod 755 "$webhook_work"
receiver_pids=()

stop_receivers() {
  local pid
  for pid in "${receiver_pids[@]}"; do kill "$pid" 2>/dev/null; done
  receiver_pids=()
}
trap 'stop_receivers; rm -rf "$webhook_work"' EXIT

restart() {
  local i
  ${LEARNLOOP_RESTART:-pg_ctlcluster ${PGVERSION:-15} regress restart} >/dev/null
  for i in $(seq 1 100); do
    pg_isready -q && [ "$(q "SELECT 1" 2>/dev/null)" = 1 ] && return 0
    sleep 0.2
  done
  return 1
}

use_settings() {
  local setting
  for setting in "$@"; do q "ALTER SYSTEM SET $setting" >/dev/null; done
  restart
}

start_receiver() {
  local _
  RECEIVER_LOG=$(mktemp "$webhook_work/receiver.XXXXXX")
  /usr/bin/python3 "${RECEIVER_PROGRAM:-test/notify/receiver.py}" --log "$RECEIVER_LOG" "$@" >"$RECEIVER_LOG.port" &
  receiver_pids+=($!)
  for _ in $(seq 1 400); do
    RECEIVER_PORT=$(head -n 1 "$RECEIVER_LOG.port" 2>/dev/null)
    [ -n "$RECEIVER_PORT" ] && return 0
    sleep 0.05
  done
  echo "the receiver did not start" >&2
  return 1
}

# delivery_role NAME: a LOGIN role with ml.grant_access's 'deliver', for learnloop.webhook_role
delivery_role() {
  q "DROP ROLE IF EXISTS $1" 2>/dev/null
  q "CREATE ROLE $1 LOGIN"
  q "SELECT ml.grant_access('$1', 'deliver')"
}

queue() {
  q "INSERT INTO ml.webhook_outbox (channel, event_type, body)
     VALUES ('$1', 'test.event', '${2:-{\"test\": true\}}') RETURNING id"
}

attempts() {
  q "SELECT string_agg(attempt || ':' || status || ':' || COALESCE(http_status::text, ''), ' ' ORDER BY attempt)
       FROM ml.webhook_deliveries WHERE outbox_id = $1"
}

received() {
  if [ $# -eq 1 ]; then
    wc -l <"$1" | tr -d ' '
  else
    /usr/bin/python3 -c '
import json, sys
for line in open(sys.argv[1]):
    entry = json.loads(line)
    print(entry.get(sys.argv[2], entry["headers"].get(sys.argv[2], "")))
' "$1" "$2"
  fi
}

worker_pid() {
  q "SELECT pid FROM pg_stat_activity
      WHERE backend_type = 'learnloop webhook delivery' AND datname = current_database()"
}
