#!/usr/bin/env bash
# A deploy on the primary reaches an open session on a streaming hot standby:
# train and deploy on the primary, predict on the replica, deploy another
# version, and the replica's same session serves the new version (the cache
# invalidation is WAL-logged, no polling).
set -uo pipefail
cd "$(dirname "$0")"
. ./tap.sh
db=learnloop_replica
bin=/usr/lib/postgresql/${PGVERSION:-15}/bin
standby=$(mktemp -d /tmp/learnloop_standby.XXXXXX)
port=$((PGPORT + 17))
chown postgres "$standby"
cleanup() {
  runuser -u postgres -- "$bin/pg_ctl" -D "$standby/data" -m immediate stop >/dev/null 2>&1
  [ "$tap_failed" -gt 0 ] && cat "$standby/log" >&2
  rm -rf "$standby"
}
trap cleanup EXIT

dropdb --if-exists "$db" >/dev/null 2>&1
createdb "$db"
q "CREATE EXTENSION learnloop"
q "CREATE TABLE points AS SELECT ((i * 0.618034) % 1)::float8 AS x, ((i * 0.414214) % 1)::float8 AS z,
     ((i * 0.618034) % 1) + ((i * 0.414214) % 1) > 1 AS y FROM generate_series(1, 2000) i"
q "SELECT count(*) FROM ml.train('rep', 'points', 'y', params => '{\"num_round\": 5, \"max_depth\": 2}')" >/dev/null
q "SELECT count(*) FROM ml.train('rep', 'points', 'y', params => '{\"num_round\": 40, \"max_depth\": 6}', deploy => 'never')" >/dev/null

runuser -u postgres -- pg_basebackup -h localhost -p "$PGPORT" -U postgres -D "$standby/data" -R -X stream --checkpoint=fast >/dev/null 2>&1
cat >"$standby/data/postgresql.conf" <<CONF
port = $port
listen_addresses = ''
unix_socket_directories = '$standby'
shared_preload_libraries = 'learnloop'
hot_standby = on
max_worker_processes = $(q "SHOW max_worker_processes")
max_connections = $(q "SHOW max_connections")
CONF
printf 'local all all trust\n' >"$standby/data/pg_hba.conf"
: >"$standby/data/pg_ident.conf"
chown -R postgres "$standby/data"
runuser -u postgres -- "$bin/pg_ctl" -D "$standby/data" -l "$standby/log" -w start >/dev/null
ok $? 0 "the standby started"
ok "$(psql -X -At -h "$standby" -p "$port" -U postgres -d "$db" -c 'SELECT pg_is_in_recovery()')" t "it is a hot standby"

row='{"x": 0.9, "z": 0.3}'
v1=$(q "SELECT ml.predict('rep', '$row'::jsonb, 1)")
v2=$(q "SELECT ml.predict('rep', '$row'::jsonb, 2)")
[ "$v1" != "$v2" ]
ok $? 0 "the two versions predict differently ($v1, $v2)"

# one standby session across the deploy: its output, line by line
out=$(psql -X -At -h "$standby" -p "$port" -U postgres -d "$db" <<SQL
SELECT ml.predict('rep', '$row'::jsonb);
SELECT evaluator FROM ml.model_cache();
\! psql -X -q -At -h localhost -p $PGPORT -d $db -c "SELECT ml.deploy('rep', 2)" >/dev/null
\! for i in \$(seq 1 100); do [ "\$(psql -X -At -h $standby -p $port -U postgres -d $db -c "SELECT ml.deployed_version('rep')")" = 2 ] && break; sleep 0.1; done
SELECT ml.predict('rep', '$row'::jsonb);
SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend';
SQL
)
ok "$(echo "$out" | sed -n 1p)" "$v1" "the replica serves the deployed version 1"
ok "$(echo "$out" | sed -n 2p)" native "with the native evaluator"
ok "$(echo "$out" | sed -n 3p)" "$v2" "the same replica session serves version 2 after the deploy"

# the replica is read-only: predicting works, recording does not
ok "$(psql -X -At -h "$standby" -p "$port" -U postgres -d "$db" -c "SELECT ml.predict_label('rep', '$row'::jsonb)")" \
   "$(q "SELECT ml.predict_label('rep', '$row'::jsonb)")" "predict_label agrees on primary and replica"
dropdb "$db"
finish
