#!/usr/bin/env bash
# Experiment metrics (issue 13): ml.analyze of a metric aggregated per unit
# from the decisions (ml.create_metric: the sum of an outcome key per unit)
# over EVENTS decisions of UNITS exposed units, against a bare two-level
# GROUP BY over the same rows in the same run (per unit, then per variant,
# with avg and var_samp, the same key extracted): the least SQL that gives
# the same figures without the exposures, windows and checks.  Each
# statement's best of five wall times, measured in turns (load that comes
# and goes on a shared machine weighs on both alike).
# Target: ml.analyze at most 2 times the bare GROUP BY at 10,000,000 events
# from 1,000,000 units (the default; pass smaller sizes for a quick run).
# Usage (installs nothing; learnloop must be installed):
#   pg_virtualenv -t -v 15 -o shared_preload_libraries=learnloop bench/experiment_metrics.sh [events] [units]
set -euo pipefail
events=${1:-10000000}
units=${2:-1000000}
db=learnloop_bench_metrics
dropdb --if-exists "$db" >/dev/null 2>&1
createdb "$db"
q() { psql -qXtA -v ON_ERROR_STOP=1 -d "$db" "$@"; }
q -c "CREATE EXTENSION learnloop" \
  -c "SELECT name FROM ml.create_experiment('bench', ARRAY['a', 'b'], primary_metric => 'minutes')" \
  -c "SELECT name FROM ml.create_metric('minutes', key => 'minutes', aggregation => 'sum')" >/dev/null
echo "== loading $units exposed units and $events decisions"
q <<SQL
INSERT INTO ml.experiment_exposures (experiment, unit_id, variant, exposed_at)
SELECT 'bench', 'u' || u, CASE WHEN u % 2 = 0 THEN 'a' ELSE 'b' END, timestamptz '2026-01-01' + (u % 3600) * interval '1 second'
  FROM generate_series(1, $units) u;
-- loaded as finished decisions: the outcome triggers (copying keys into ml.experiment_outcomes,
-- feeding bandits) are what recording costs, not what the analysis reads
ALTER TABLE ml.MLTrainingData DISABLE TRIGGER USER;
INSERT INTO ml.MLTrainingData (task, unit_id, created_at, features, decision, outcome, experiment, variant)
SELECT 'bench', 'u' || u, timestamptz '2026-01-02' + i * interval '1 minute', '{}', '{"action": "x"}',
       jsonb_build_object('minutes', (i * 7 + u) % 30 + u % 2), 'bench', CASE WHEN u % 2 = 0 THEN 'a' ELSE 'b' END
  FROM generate_series(1, $units) u, generate_series(1, ($events + $units - 1) / $units) i
 WHERE (u - 1) * (($events + $units - 1) / $units) + i <= $events;
ALTER TABLE ml.MLTrainingData ENABLE TRIGGER USER;
VACUUM ANALYZE ml.experiment_exposures, ml.MLTrainingData;
CREATE FUNCTION best_seconds(sqls text[]) RETURNS float8[] LANGUAGE plpgsql AS \$\$
DECLARE t0 timestamptz; best float8[] := array_fill('Infinity'::float8, ARRAY[cardinality(sqls)]);
BEGIN
    FOR round IN 1..5 LOOP
        FOR s IN 1..cardinality(sqls) LOOP
            t0 := clock_timestamp();
            EXECUTE sqls[s];
            best[s] := least(best[s], extract(epoch FROM clock_timestamp() - t0));
        END LOOP;
    END LOOP;
    RETURN best;
END \$\$;
SQL
echo "== ml.analyze('bench') (per unit, then per variant) vs a bare two-level GROUP BY, best of 5"
q <<'SQL'
SELECT format('events %s, units %s: ml.analyze %s s; bare GROUP BY %s s; ratio %s (target <= 2)',
              (SELECT count(*) FROM ml.MLTrainingData), (SELECT count(*) FROM ml.experiment_exposures),
              round(t[1]::numeric, 3), round(t[2]::numeric, 3), round((t[1] / t[2])::numeric, 2))
  FROM (SELECT best_seconds(ARRAY[
    $$SELECT count(*) FROM ml.analyze('bench')$$,
    $$SELECT count(*) FROM (SELECT variant, count(*), avg(s), var_samp(s)
                              FROM (SELECT unit_id, variant, sum((outcome->>'minutes')::float8) AS s
                                      FROM ml.MLTrainingData WHERE experiment = 'bench'
                                     GROUP BY unit_id, variant) u
                             GROUP BY variant) v$$]) AS t) b;
SQL
SQL_CHECK=$(q -c "SELECT string_agg(variant || ' ' || units || ' ' || round(mean::numeric, 6), ', ' ORDER BY variant) FROM ml.experiment_statistics('bench')")
echo "figures: $SQL_CHECK"
dropdb "$db"
