-- ml.monitor's shortcuts give what the plain way gives (src/monitor/monitor.c, object_keys.c,
-- window_drift.c): the lag computed in C is date_part('epoch', outcome_at - created_at); an
-- object whose keys are the previous object's bytes cut into other keys is matched again; the
-- drift's sample is the same rows when the planner's estimate of the window's rows is too high.
SET client_min_messages = warning;
SET timezone = 'UTC';
INSERT INTO ml.models (name, version, task, feature_schema, model, reference) VALUES
('monx', 1, 'classification',
 $${"task": "classification", "objective": "binary:logistic", "target": "(outcome->>'y')::boolean",
    "features": [{"name": "xfeature", "type": "numeric"},
                 {"name": "cfeature", "type": "categorical", "categories": ["a", "b"]}],
    "classes": ["false", "true"]}$$,
 '\x00',
 $${"features": {
      "xfeature": {"kind": "numeric", "count": 4, "missing": 0, "mean": 1.5, "sd": 1.118033988749895,
                   "edges": [1, 2, 3], "shares": [0.25, 0.25, 0.25, 0.25], "quantiles": [0, 1, 2, 3]},
      "cfeature": {"kind": "category", "count": 100, "missing": 0, "categories": ["a", "b"],
                   "shares": [0.5, 0.5], "other": 0}},
    "prediction": {"kind": "numeric", "count": 4, "missing": 0, "mean": 0.5, "sd": 0.22360679774997896,
                   "edges": [0.4, 0.6, 0.8], "shares": [0.25, 0.25, 0.25, 0.25],
                   "quantiles": [0.2, 0.4, 0.6, 0.8], "of": "score"}}$$);

-- lags of every sign and size, with microseconds, over days, and none when not finite: each
-- window's percentiles are percentile_disc's of date_part's values, bit for bit
INSERT INTO ml.MLTrainingData (task, unit_id, created_at, features, decision, outcome, outcome_at)
SELECT 'lag' || k, 'u' || i, '2026-03-01 09:00'::timestamptz + i * interval '7.000013 seconds', '{}',
       '{"decided_by": "rules"}', '{"y": true}',
       CASE WHEN i % 17 = 0 THEN 'infinity'::timestamptz
            ELSE '2026-03-01 09:00'::timestamptz + i * interval '7.000013 seconds'
                 + (i - 200) * (ARRAY[interval '0.000001 seconds', interval '13 hours 7 minutes 3.000007 seconds',
                                      interval '3 days 0.5 seconds', interval '-1 day 23:59:59.999999'])[k] END
  FROM generate_series(1, 4) k, generate_series(0, 300) i;
-- and lags whose seconds and days, each rounded, do not add up to the whole span rounded once
INSERT INTO ml.MLTrainingData (task, unit_id, created_at, features, decision, outcome, outcome_at)
SELECT 'lag5', 'u' || i, '2026-03-01 09:00', '{}', '{"decided_by": "rules"}', '{"y": true}',
       '2026-03-01 09:00'::timestamptz + i * interval '13 hours 7 minutes 3.000007 seconds'
  FROM generate_series(1, 3000) i
 WHERE date_part('epoch', ('2026-03-01 09:00'::timestamptz + i * interval '13 hours 7 minutes 3.000007 seconds')
                         - '2026-03-01 09:00'::timestamptz)
       <> extract(epoch FROM ('2026-03-01 09:00'::timestamptz + i * interval '13 hours 7 minutes 3.000007 seconds')
                             - '2026-03-01 09:00'::timestamptz)::float8;
SELECT w.task, count(*) FILTER (WHERE m.metric = 'outcome_lag_p50_seconds' AND m.value = s.p50) AS p50_as_sql,
       count(*) FILTER (WHERE m.metric = 'outcome_lag_p95_seconds' AND m.value = s.p95) AS p95_as_sql,
       min(s.p50) < 0 AS negative_p50, min(s.p95) <> round(min(s.p95)) AS fractional_p95
  FROM (SELECT 'lag' || k AS task FROM generate_series(1, 5) k) w,
       ml.monitor_window('monx', 1, w.task, '2026-03-01', '2026-03-02') m,
       LATERAL (SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY date_part('epoch', outcome_at - created_at)) AS p50,
                       percentile_disc(0.95) WITHIN GROUP (ORDER BY date_part('epoch', outcome_at - created_at)) AS p95
                  FROM ml.MLTrainingData d WHERE d.task = w.task AND isfinite(outcome_at)) s
 WHERE m.decided_by IS NULL AND m.experiment IS NULL
 GROUP BY w.task ORDER BY w.task;

-- decisions whose keys are the same bytes cut otherwise ("e", "score" / "es", "core", then the
-- same keys), one after the other: only the first kind has a score, so the quality of the
-- window of both is the quality of the window of the first kind only
INSERT INTO ml.MLTrainingData (task, unit_id, created_at, features, decision, outcome, outcome_at)
SELECT t, 'u' || i, '2026-03-01 09:00'::timestamptz + i * interval '1 minute', '{"xfeature": 1}',
       CASE WHEN i % 2 = 0
            THEN jsonb_build_object('e', 1, 'score', (i * 37 % 100) / 100.0)
            ELSE jsonb_build_object('es', 1, 'core', (i * 37 % 100) / 100.0) END
         || jsonb_build_object('action', 'act', 'confidence', 0.5, 'decided_by', 'model monx v1',
                               'latency_us', i),
       jsonb_build_object('y', i % 3 = 0), '2026-03-01 09:00'::timestamptz + i * interval '1 minute'
  FROM unnest('{both, scored}'::text[]) t, generate_series(0, 199) i
 WHERE t = 'both' OR i % 2 = 0;
SELECT (SELECT count(*) FROM jsonb_object_keys(decision)) AS keys,
       (SELECT string_agg(k, '' ORDER BY length(k), k) FROM jsonb_object_keys(decision) k) AS key_bytes
  FROM ml.MLTrainingData WHERE task = 'both' AND unit_id IN ('u0', 'u1') ORDER BY unit_id;
SELECT b.metric, b.value = s.value AS same_value, b.metrics = s.metrics AS same_details, b.metrics->>'rows' AS rows
  FROM ml.monitor_window('monx', 1, 'both', '2026-03-01', '2026-03-02') b
  JOIN ml.monitor_window('monx', 1, 'scored', '2026-03-01', '2026-03-02') s USING (metric)
 WHERE b.metric IN ('accuracy', 'log_loss', 'ece', 'estimated_accuracy_matched')
   AND b.decided_by IS NULL AND b.experiment IS NULL AND s.decided_by IS NULL AND s.experiment IS NULL
 ORDER BY b.metric;

-- the drift's sample when the planner expects far more rows than the window has (600 rows
-- analyzed, then 500 deleted): the sample's bar starts too low, and the window is read again;
-- the sample of 50 rows is the one measured once the statistics are right again (a window of
-- every row, so that the estimate is the task's rows whatever else the table holds)
BEGIN;
INSERT INTO ml.MLTrainingData (task, unit_id, created_at, features, decision, outcome, outcome_at)
SELECT 'shrunk', 'u' || i, '2026-03-01 09:00'::timestamptz + i * interval '1 second',
       jsonb_build_object('xfeature', i % 7 / 2.0, 'cfeature', (ARRAY['a', 'b', 'z'])[i % 3 + 1]),
       jsonb_build_object('decided_by', 'model monx v1', 'score', (i * 37 % 100) / 100.0, 'latency_us', i),
       jsonb_build_object('y', i % 3 = 0), '2026-03-01 09:00'::timestamptz + i * interval '1 second'
  FROM generate_series(1, 600) i;
ANALYZE ml.MLTrainingData;
DELETE FROM ml.MLTrainingData WHERE task = 'shrunk' AND unit_id <> ALL (SELECT 'u' || i FROM generate_series(1, 600, 6) i);
CREATE FUNCTION pg_temp.estimated_rows(task text) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE plan json;
BEGIN
  EXECUTE format('EXPLAIN (FORMAT JSON) SELECT * FROM ml.MLTrainingData WHERE task = %L
                   AND created_at >= %L AND created_at < %L', task, '2000-01-01', '2100-01-01') INTO plan;
  RETURN (plan->0->'Plan'->>'Plan Rows')::float8;
END $$;
SELECT pg_temp.estimated_rows('shrunk') > 1.5 * 50 * 100 / 50 AS estimate_too_high,
       (SELECT count(*) FROM ml.MLTrainingData WHERE task = 'shrunk') AS rows;
CREATE TEMP TABLE shrunk_stale AS
SELECT * FROM ml.monitor_window('monx', 1, 'shrunk', '2000-01-01', '2100-01-01', '{"sample": 50, "min_rows": 1}');
ANALYZE ml.MLTrainingData;
SELECT pg_temp.estimated_rows('shrunk') BETWEEN 50 AND 150 AS estimate_right;
CREATE TEMP TABLE shrunk_fresh AS
SELECT * FROM ml.monitor_window('monx', 1, 'shrunk', '2000-01-01', '2100-01-01', '{"sample": 50, "min_rows": 1}');
SELECT metric, feature, metrics->>'rows' AS sampled, metrics->>'window_rows' AS window_rows
  FROM shrunk_stale WHERE metric IN ('drift_wasserstein', 'drift_jensen_shannon') ORDER BY feature;
SELECT count(*) AS rows, count(*) FILTER (WHERE metric LIKE '%drift%') AS drift_rows FROM shrunk_stale;
SELECT count(*) AS differing FROM (
  (SELECT metric, feature, experiment, variant, decided_by, value, metrics FROM shrunk_stale
   EXCEPT SELECT metric, feature, experiment, variant, decided_by, value, metrics FROM shrunk_fresh)
  UNION ALL
  (SELECT metric, feature, experiment, variant, decided_by, value, metrics FROM shrunk_fresh
   EXCEPT SELECT metric, feature, experiment, variant, decided_by, value, metrics FROM shrunk_stale)) d;
ROLLBACK;

-- leave nothing behind for the suites after this one
DELETE FROM ml.MLTrainingData WHERE task IN ('lag1', 'lag2', 'lag3', 'lag4', 'lag5', 'both', 'scored');
DELETE FROM ml.models WHERE name = 'monx';
