#!/usr/bin/env bash
# Benchmark: webhook delivery (issue 11, "Performance"), to a local receiver
# (bench/fast_receiver.py: asyncio, answers 200 at once and logs each
# request's arrival time; the tests' receiver.py takes only about 300
# requests a second), figures and ratios measured in one run:
#  1. throughput: EVENTS events committed in one transaction, events per
#     second from the commit to the last arrival (target: >= 500/s); the
#     baseline is the same receiver fed the same number of requests by the
#     curl tool, 16 in parallel on kept-alive connections (the worker's
#     default learnloop.webhook_max_in_flight): what the receiver itself can
#     take, so the ratio says how much of it the worker reaches;
#  2. latency: LATENCY_EVENTS events, one per transaction, 20 ms apart, the
#     time from each COMMIT (read just before it: the commit's own flush is
#     counted) to the event's arrival (target: median under 100 ms); the
#     baseline is one direct curl request to the receiver.
# The channel has a secret: the worker signs every request.
#
#   bash bench/webhooks.sh                      # a throwaway cluster (pg_virtualenv)
#   BENCH_SERVER=running bash bench/webhooks.sh # the server of PGHOST/PGPORT, which must
#       # have learnloop.webhook_databases = 'learnloop_bench', webhook_allow_private on and
#       # webhook_role = 'learnloop_bench_sender' (created and granted here)
#   EVENTS=5000 LATENCY_EVENTS=200 bash bench/webhooks.sh
# Needs the extension installed and learnloop in shared_preload_libraries.
set -euo pipefail
cd "$(dirname "$0")/.."
export EVENTS=${EVENTS:-5000} LATENCY_EVENTS=${LATENCY_EVENTS:-200}

body='
set -euo pipefail
db=learnloop_bench
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" -c "$1"; }
. test/shell/tap.sh >/dev/null
. test/notify/webhook_test_lib.sh
export RECEIVER_PROGRAM=bench/fast_receiver.py
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
q "CREATE EXTENSION learnloop"
psql -X -q -d postgres -c "DROP ROLE IF EXISTS learnloop_bench_sender" -c "CREATE ROLE learnloop_bench_sender LOGIN"
q "SELECT ml.grant_access(\$\$learnloop_bench_sender\$\$, \$\$deliver\$\$)" >/dev/null
[ "$(q "SHOW learnloop.webhook_allow_private")" = on ] ||
  { echo "learnloop.webhook_allow_private must be on (the receiver is on 127.0.0.1)"; exit 1; }
# the worker retries every 10 s until the database, its role and their grants exist
for i in $(seq 1 400); do
  [ "$(q "SELECT count(*) FROM pg_stat_activity WHERE backend_type = \$\$learnloop webhook delivery\$\$ AND datname = current_database()")" = 1 ] && break
  [ "$i" = 400 ] && { echo "no delivery worker serves $db (learnloop.webhook_databases)"; exit 1; }
  sleep 0.1
done
now() { /usr/bin/python3 -c "import time; print(\"%.6f\" % time.time())"; }

# 1. throughput
start_receiver
q "INSERT INTO ml.channels (name, url, secret) VALUES (\$\$bench\$\$, \$\$http://127.0.0.1:$RECEIVER_PORT/hook\$\$, \$\$$WEBHOOK_SECRET\$\$)"
body_json="{\"event\": \"alert.firing\", \"alert\": \"accuracy_low\", \"model\": \"m\", \"value\": 0.61, \"threshold\": 0.7}"
q "INSERT INTO ml.webhook_outbox (channel, event_type, body)
   SELECT \$\$bench\$\$, \$\$alert.firing\$\$, \$\$$body_json\$\$ FROM generate_series(1, $EVENTS)"
committed=$(now)
for i in $(seq 1 1200); do
  [ "$(q "SELECT count(*) FROM ml.webhook_outbox WHERE state = \$\$delivered\$\$")" = "$EVENTS" ] && break
  sleep 0.1
done
[ "$(received "$RECEIVER_LOG")" = "$EVENTS" ] || { echo "only $(received "$RECEIVER_LOG") of $EVENTS events arrived"; exit 1; }
last=$(received "$RECEIVER_LOG" time | sort -n | tail -n 1)
worker_rate=$(echo "scale=1; $EVENTS / ($last - $committed)" | bc)

start_receiver
config="$webhook_work/curl.config"
echo "$body_json" >"$webhook_work/body.json"
for i in $(seq 1 "$EVENTS"); do
  [ "$i" -gt 1 ] && echo next
  printf "url = \"http://127.0.0.1:%s/hook\"\ndata = \"@%s\"\nheader = \"Content-Type: application/json\"\noutput = \"/dev/null\"\n" \
    "$RECEIVER_PORT" "$webhook_work/body.json"
done >"$config"
started=$(now)
curl --silent --no-progress-meter --parallel --parallel-max 16 -K "$config"
curl_last=$(received "$RECEIVER_LOG" time | sort -n | tail -n 1)
[ "$(received "$RECEIVER_LOG")" = "$EVENTS" ] || { echo "curl: only $(received "$RECEIVER_LOG") of $EVENTS requests arrived"; exit 1; }
curl_rate=$(echo "scale=1; $EVENTS / ($curl_last - $started)" | bc)

# 2. latency: one event per transaction; the time is read just before its
# COMMIT, so the figure includes the commit itself
start_receiver
q "UPDATE ml.channels SET url = \$\$http://127.0.0.1:$RECEIVER_PORT/hook\$\$"
for i in $(seq 1 "$LATENCY_EVENTS"); do
  printf "BEGIN;\nINSERT INTO ml.webhook_outbox (channel, event_type, body) VALUES (\$\$bench\$\$, \$\$alert.firing\$\$, \$\${\"n\": %d}\$\$);\n" "$i"
  printf "SELECT %d, extract(epoch FROM clock_timestamp());\nCOMMIT;\nSELECT pg_sleep(0.02);\n" "$i"
done | psql -X -q -At -F " " -d "$db" | grep " " >"$webhook_work/commits"
for i in $(seq 1 100); do
  [ "$(received "$RECEIVER_LOG")" = "$LATENCY_EVENTS" ] && break
  sleep 0.1
done
latencies=$(/usr/bin/python3 -c "
import json, statistics, sys
commits = dict(line.split() for line in open(sys.argv[1]))
lat = sorted((e[\"time\"] - float(commits[str(json.loads(e[\"body\"])[\"n\"])])) * 1000
             for e in map(json.loads, open(sys.argv[2])))
print(\"%.1f %.1f %.1f %d\" % (statistics.median(lat), lat[int(0.95 * (len(lat) - 1))], lat[-1], len(lat)))
" "$webhook_work/commits" "$RECEIVER_LOG")
read -r median p95 worst n <<<"$latencies"
direct=$(for i in 1 2 3 4 5 6 7 8 9; do
  curl -s -o /dev/null -w "%{time_total}\n" -H "Content-Type: application/json" -d "{}" "http://127.0.0.1:$RECEIVER_PORT/hook"
done | sort -n | sed -n 5p)
direct_ms=$(echo "scale=2; $direct * 1000 / 1" | bc)

echo "receiver: bench/fast_receiver.py (one Python thread, asyncio, a log line flushed per request) on 127.0.0.1; signed requests"
echo "1. throughput: $EVENTS events in one transaction: $worker_rate events/s from commit to last arrival (target >= 500)"
echo "   curl --parallel-max 16 to the same receiver: $curl_rate requests/s -> worker / curl = $(echo "scale=3; $worker_rate / $curl_rate" | bc)"
echo "2. commit -> arrival, $n events one per transaction: median $median ms, p95 $p95 ms, max $worst ms (target: median < 100 ms)"
echo "   one direct curl request to the receiver: $direct_ms ms (median of 9) -> median / direct = $(echo "scale=2; $median / $direct_ms" | bc)"
stop_receivers
psql -X -q -d postgres -c "DROP DATABASE $db WITH (FORCE)" -c "DROP ROLE learnloop_bench_sender"
'
if [ "${BENCH_SERVER:-}" = running ]; then
  bash -c "$body"
else
  pg_virtualenv -t -v 15 -o shared_preload_libraries=learnloop -o max_worker_processes=16 \
    -o learnloop.webhook_databases=learnloop_bench -o learnloop.webhook_allow_private=on \
    -o learnloop.webhook_role=learnloop_bench_sender bash -c "$body" 2>&1 |
    grep -v "UTC \[" | grep -v "cluster 15/regress"
fi
