#!/usr/bin/env bash
# The shipped exporter configurations (contrib/prometheus/) with the real
# Debian exporters: prometheus-postgres-exporter and prometheus-sql-exporter
# are started against a test database on free ports, their /metrics pages
# fetched with curl, and the learnloop samples found there with the values
# of ml.prometheus_metrics and of the calls and rows made here.  The
# exporters are stopped on exit, whatever happens.
set -uo pipefail
cd "$(dirname "$0")"
. ./tap.sh
db=learnloop_prometheus
contrib=$(cd ../../contrib/prometheus && pwd)
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT

for exe in prometheus-postgres-exporter prometheus-sql-exporter; do
  if ! command -v "$exe" >/dev/null; then
    echo "not ok 1 - $exe is not installed (scripts/install-deps.sh installs it)"
    exit 1
  fi
done

dropdb --if-exists "$db" >/dev/null 2>&1
createdb "$db"
q "CREATE EXTENSION learnloop"
q "CREATE TABLE t AS SELECT (i % 17)::float8 AS x1, (i % 17) > 8 AS y FROM generate_series(1, 300) i"
q "SELECT count(*) FROM ml.train('prom_model', 'SELECT x1, y FROM t', 'y', params => '{\"num_round\": 2}')" >/dev/null
# a full reset: earlier suites (bad_input.sh's made-up model names) can fill learnloop.serving_stats_max,
# and a full table counts a new model's calls as dropped, not under its name
q "SELECT ml.serving_stats_reset()" >/dev/null
# 11 predictions, one of them an error; 3 decisions, one by the fallback
q "SELECT count(ml.predict('prom_model', jsonb_build_object('x1', i))) FROM generate_series(1, 10) i" >/dev/null
psql -X -q -d "$db" -c "SELECT ml.predict('prom_model', '{\"x1\": 1}'::jsonb, version => 99)" >/dev/null 2>&1
q "SELECT count(*) FROM ml.decide('prom_task', 'u1', '{\"x1\": 3}', 'rules', model => 'prom_model', min_confidence => 0),
                      generate_series(1, 2)" >/dev/null
q "SELECT ml.decide('prom_task', 'u2', '{\"x1\": 3}', 'rules', model => 'prom_model', min_confidence => 1)" >/dev/null
# what ml.monitor and the delivery worker would have written: two windows, the
# later one with a slice (not exported) and a figure in milliseconds; a
# disabled channel with events delivered, dead and pending far in the future
q "INSERT INTO ml.MLMonitoringMetrics (model_name, model_version, period_start, period_end, metric, feature, decided_by, value)
   VALUES ('prom_model', 1, '2026-01-01 00:00+00', '2026-01-01 01:00+00', 'accuracy', NULL, NULL, 0.5),
          ('prom_model', 1, '2026-01-01 01:00+00', '2026-01-01 02:00+00', 'accuracy', NULL, NULL, 0.75),
          ('prom_model', 1, '2026-01-01 01:00+00', '2026-01-01 02:00+00', 'accuracy', NULL, 'model', 0.9),
          ('prom_model', 1, '2026-01-01 01:00+00', '2026-01-01 02:00+00', 'latency_p95_ms', NULL, NULL, 2.5),
          ('prom_model', 1, '2026-01-01 01:00+00', '2026-01-01 02:00+00', 'drift_psi', 'x1', NULL, 0.25)"
q "INSERT INTO ml.channels (name, url, enabled) VALUES ('prom_ops', 'http://192.0.2.1/hook', false)"
q "INSERT INTO ml.webhook_outbox (channel, event_type, body, state, next_attempt_at, created_at)
   VALUES ('prom_ops', 'alert.firing', '{}', 'delivered', now(), now()),
          ('prom_ops', 'alert.firing', '{}', 'dead', now(), now()),
          ('prom_ops', 'alert.firing', '{}', 'pending', 'infinity', '2026-01-01 03:00+00')"
q "INSERT INTO ml.webhook_deliveries (outbox_id, event_id, channel, attempt, started_at, status)
   SELECT id, event_id, channel, a, now(), CASE a WHEN 1 THEN 'retry' ELSE 'delivered' END
     FROM ml.webhook_outbox, generate_series(1, 2) a WHERE state = 'delivered'"

# the view's samples, what each page must show
psql -X -At -F $'\t' -d "$db" -c "SELECT name, labels, value FROM ml.prometheus_metrics" >"$work/expected.tsv"
ok "$(grep -c . "$work/expected.tsv")" 63 \
   "the view has the samples made here (5 serving counters, 2 x 22 histogram, 2 decisions, 3 monitoring, 1 window, 3 + 1 outbox, 4 deliveries)"

free_port() { /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# fetches /metrics from port $1 into $2 once the page has line $3 (up to 20 s)
fetch() {
  local i
  for i in $(seq 1 100); do
    if curl -sf "http://127.0.0.1:$1/metrics" -o "$2" && grep -q "$3" "$2"; then return 0; fi
    sleep 0.2
  done
  return 1
}
value() { grep -F "$2" "$1" | grep -v '^#' | awk '{print $NF}'; }
# sql_exporter picks its driver by the scheme: postgres://, not postgresql://
dsn="postgres://$PGUSER@/$db?host=$PGHOST&port=$PGPORT&sslmode=disable"
# Go's lib/pq, in both exporters, panics on environment settings it does
# not support (pg_virtualenv sets PGSYSCONFDIR); the password and the rest
# it reads from PGPASSWORD and the DSN
unset PGSYSCONFDIR PGSERVICE PGSERVICEFILE PGREALM PGLOCALEDIR

# --- prometheus-postgres-exporter with contrib/prometheus/postgres_exporter.yml
port=$(free_port)
DATA_SOURCE_NAME="$dsn" prometheus-postgres-exporter --web.listen-address="127.0.0.1:$port" \
  --extend.query-path="$contrib/postgres_exporter.yml" --disable-default-metrics --disable-settings-metrics \
  >"$work/postgres_exporter.log" 2>&1 &
pids+=($!)
page="$work/postgres_exporter.txt"
if fetch "$port" "$page" '^learnloop_serving_calls_total'; then
  ok "$(/usr/bin/python3 prometheus/compare.py postgres "$page" "$work/expected.tsv")" 63/63/0 \
     "postgres_exporter: every sample of the view, with its value, and no other"
  ok "$(value "$page" 'learnloop_serving_calls_total{database="learnloop_prometheus",function="predict",model="prom_model"')" 11 \
     "postgres_exporter: the 11 predictions"
  ok "$(value "$page" 'learnloop_serving_errors_total{database="learnloop_prometheus",function="predict",model="prom_model"')" 1 \
     "postgres_exporter: the one that raised"
  ok "$(value "$page" 'learnloop_serving_fallbacks_total{database="learnloop_prometheus",function="decide",model="prom_model"')" 1 \
     "postgres_exporter: the one fallback of 3 decisions"
  ok "$(grep -c '^# TYPE learnloop_serving_latency_seconds histogram$' "$page")/$(grep -c '^# TYPE learnloop_serving_calls_total counter$' "$page")" 1/1 \
     "postgres_exporter: the latency is a histogram, the calls a counter"
  ok "$(value "$page" 'learnloop_serving_latency_seconds_bucket{database="learnloop_prometheus",function="predict",model="prom_model",server="'"$PGHOST:$PGPORT"'",le="+Inf"}')/$(value "$page" 'learnloop_serving_latency_seconds_count{database="learnloop_prometheus",function="predict",model="prom_model"')" 10/10 \
     "postgres_exporter: +Inf bucket and _count are the 10 predictions that returned"
  ok "$(grep '^learnloop_serving_latency_seconds_bucket{.*function="predict",model="prom_model"' "$page" | awk '{print $NF}' | sort -n -c && echo sorted)" sorted \
     "postgres_exporter: the buckets are cumulative"
  ok "$(value "$page" 'learnloop_monitoring_accuracy{database="learnloop_prometheus",model="prom_model"')/$(value "$page" 'learnloop_monitoring_latency_p95_seconds{')/$(value "$page" 'learnloop_monitoring_drift_psi{database="learnloop_prometheus",feature="x1"')" \
     0.75/0.0025/0.25 "postgres_exporter: the latest window's figures, milliseconds in seconds, drift per feature"
  ok "$(value "$page" 'learnloop_webhook_outbox_events{channel="prom_ops",database="learnloop_prometheus",server="'"$PGHOST:$PGPORT"'",state="pending"}')/$(value "$page" 'learnloop_webhook_deliveries_total{channel="prom_ops",database="learnloop_prometheus",server="'"$PGHOST:$PGPORT"'",status="retry"}')/$(value "$page" 'learnloop_webhook_outbox_oldest_pending_timestamp_seconds{')" \
     1/1/1.7672364e+09 "postgres_exporter: the outbox and the deliveries"
else
  echo "not ok - postgres_exporter served no learnloop metric"; tap_failed=$((tap_failed + 1)); cat "$work/postgres_exporter.log"
fi

# --- prometheus-sql-exporter with contrib/prometheus/sql_exporter.yml
port=$(free_port)
LEARNLOOP_DSN="$dsn" prometheus-sql-exporter -config.file="$contrib/sql_exporter.yml" \
  -web.listen-address="127.0.0.1:$port" >"$work/sql_exporter.log" 2>&1 &
pids+=($!)
page="$work/sql_exporter.txt"
if fetch "$port" "$page" '^sql_learnloop_webhook_deliveries_total'; then
  ok "$(/usr/bin/python3 prometheus/compare.py sql "$page" "$work/expected.tsv")" 63/63/0 \
     "sql_exporter: every sample of the view, with its value, and no other"
  ok "$(value "$page" 'sql_learnloop_serving_calls_total{col="value",database="learnloop_prometheus",driver="postgres",function="predict",host="",model="prom_model"')" 11 \
     "sql_exporter: the 11 predictions"
  ok "$(value "$page" 'sql_learnloop_monitoring{col="value",database="learnloop_prometheus",driver="postgres",feature="",host="",metric="accuracy",model="prom_model"')" 0.75 \
     "sql_exporter: a monitoring figure under the metric label"
  ok "$(grep -c '^sql_exporter_last_scrape_failed{.*} 1$' "$page")" 0 "sql_exporter: no query failed"
else
  echo "not ok - sql_exporter served no learnloop metric"; tap_failed=$((tap_failed + 1)); cat "$work/sql_exporter.log"
fi

cleanup
trap - EXIT
ok "$(for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && echo "$pid"; done)" "" "the exporters are stopped"
dropdb "$db"
finish
