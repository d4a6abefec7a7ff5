#!/usr/bin/env bash
# Experiment benchmarks, each against a bare baseline measured in the same run:
#   1. ml.assign_variant without logging vs count(hashtext(i::text)), 1M calls
#   2. pgbench, 8 clients: assign with logging + record_outcome per transaction
#      vs a plain INSERT of the same row into a bare table; for scale, the
#      same against hand-written SQL doing the least those semantics need (an
#      exposure insert ON CONFLICT DO NOTHING and an outcome upsert into two
#      tables with primary keys only); run with the cluster's settings, then
#      again with fsync on (durable commits, as production runs)
#   3. ml.analyze over N outcomes vs a bare GROUP BY variant with avg/variance
#      over the same table, ml.experiment_outcomes
# Usage (installs nothing; learnloop must be installed):
#   pg_virtualenv -t -v 15 -o shared_preload_libraries=learnloop bench/experiments.sh [N]
set -euo pipefail
n=${1:-1000000}
secs=${BENCH_SECONDS:-20}
db=learnloop_bench
dropdb --if-exists "$db" >/dev/null 2>&1
createdb "$db"
q() { psql -qXtA -v ON_ERROR_STOP=1 -d "$db" "$@"; }
q -c "CREATE EXTENSION learnloop" -c "SELECT name FROM ml.create_experiment('bench', ARRAY['a', 'b'])" >/dev/null
# the best of three wall times of a statement
q <<'SQL'
CREATE FUNCTION best_seconds(sql text) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz; best float8 := 'Infinity';
BEGIN
    FOR i IN 1..3 LOOP
        t0 := clock_timestamp();
        EXECUTE sql;
        best := least(best, extract(epoch FROM clock_timestamp() - t0));
    END LOOP;
    RETURN best;
END $$;
SQL

echo "== 1. assign_variant without logging, 1,000,000 calls (best of 3)"
q <<'SQL'
SELECT format('assign_variant: %s calls/s; count(hashtext(i::text)): %s calls/s; ratio %s',
              round(1e6 / a), round(1e6 / h), round((h / a)::numeric, 2))
  FROM (SELECT best_seconds('SELECT count(ml.assign_variant(''bench'', i::text, false)) FROM generate_series(1, 1000000) i') AS a,
               best_seconds('SELECT count(hashtext(i::text)) FROM generate_series(1, 1000000) i') AS h) t;
SQL

echo "== 2. pgbench, 8 clients, ${secs}s each"
q <<'SQL'
CREATE TABLE bare (experiment text, unit_id text, variant text, metric text, value float8, at timestamptz DEFAULT now());
CREATE TABLE sql_exposures (experiment text COLLATE "C", unit_id text COLLATE "C", variant text COLLATE "C",
                            exposed_at timestamptz DEFAULT now(), PRIMARY KEY (experiment, unit_id) INCLUDE (variant));
CREATE TABLE sql_outcomes (experiment text COLLATE "C", unit_id text COLLATE "C", variant text COLLATE "C",
                           metric text COLLATE "C", value float8, recorded_at timestamptz DEFAULT now(),
                           PRIMARY KEY (experiment, unit_id, metric));
SQL
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat >"$dir/loop.sql" <<'SQL'
\set u random(1, 100000000)
SELECT ml.record_outcome('bench', 'u' || :u, 'clicks', 1) FROM (SELECT ml.assign_variant('bench', 'u' || :u)) a;
SQL
cat >"$dir/bare.sql" <<'SQL'
\set u random(1, 100000000)
INSERT INTO bare (experiment, unit_id, variant, metric, value) VALUES ('bench', 'u' || :u, 'a', 'clicks', 1);
SQL
cat >"$dir/floor.sql" <<'SQL'
\set u random(1, 100000000)
WITH e AS (INSERT INTO sql_exposures (experiment, unit_id, variant) VALUES ('bench', 'u' || :u, 'a') ON CONFLICT DO NOTHING)
INSERT INTO sql_outcomes (experiment, unit_id, variant, metric, value) VALUES ('bench', 'u' || :u, 'a', 'clicks', 1)
    ON CONFLICT (experiment, unit_id, metric) DO UPDATE SET value = excluded.value;
SQL
tps() { pgbench -n -c 8 -j 2 -T "$secs" -f "$1" "$db" 2>/dev/null | sed -n 's/^tps = \([0-9.]*\).*/\1/p'; }
ratios() {
  loop=$(tps "$dir/loop.sql")
  bare=$(tps "$dir/bare.sql")
  floor=$(tps "$dir/floor.sql")
  echo "fsync=$(q -c 'SHOW fsync'): assign+record_outcome: $loop tps; bare INSERT: $bare tps; ratio $(echo "scale=2; $loop / $bare" | bc)" \
       "| hand-written SQL floor: $floor tps, ratio to bare $(echo "scale=2; $floor / $bare" | bc), learnloop to floor $(echo "scale=2; $loop / $floor" | bc)"
}
ratios
q -c "ALTER SYSTEM SET fsync = on" -c "SELECT pg_reload_conf()" >/dev/null
sleep 1
ratios
q -c "ALTER SYSTEM RESET fsync" -c "SELECT pg_reload_conf()" >/dev/null

echo "== 3. ml.analyze over $n outcomes (best of 3)"
q <<SQL
SELECT name FROM ml.create_experiment('big', ARRAY['a', 'b', 'c'], primary_metric => 'm') \g /dev/null
INSERT INTO ml.experiment_exposures (experiment, unit_id, variant)
    SELECT 'big', 'u' || i, (ARRAY['a', 'b', 'c'])[1 + i % 3] FROM generate_series(1, $n) i;
INSERT INTO ml.experiment_outcomes (experiment, unit_id, variant, metric, value)
    SELECT 'big', 'u' || i, (ARRAY['a', 'b', 'c'])[1 + i % 3], 'm', (i % 7) * 0.5 FROM generate_series(1, $n) i;
VACUUM ANALYZE ml.experiment_exposures, ml.experiment_outcomes;
SQL
q <<'SQL'
SELECT format('ml.analyze: %s s; bare GROUP BY: %s s; ratio %s', round(a::numeric, 3), round(b::numeric, 3),
              round((a / b)::numeric, 2))
  FROM (SELECT best_seconds('SELECT count(*) FROM ml.analyze(''big'')') AS a,
               best_seconds('SELECT variant, count(*), avg(value), var_samp(value) FROM ml.experiment_outcomes GROUP BY variant') AS b) t;
SQL
dropdb "$db"
