-- ml.monitor reads a decision's and a features object's keys in one pass over the object's
-- sorted keys (src/monitor/object_keys.c): the same window with 40 more keys in every object
-- (past jsonb's stride of 32 entries, before and after the keys read, a key equal to the one
-- read but one byte longer) gives every metric exactly as without them.
SET client_min_messages = warning;
SET timezone = 'UTC';
INSERT INTO ml.models (name, version, task, feature_schema, model, reference) VALUES
('monk', 1, 'classification',
 $${"task": "classification", "objective": "binary:logistic", "target": "(outcome->>'y')::boolean",
    "features": [{"name": "xfeature", "type": "numeric"},
                 {"name": "cfeature", "type": "categorical", "categories": ["a", "b"]},
                 {"name": "flag", "type": "boolean"}],
    "classes": ["false", "true"]}$$,
 '\x00',
 $${"features": {
      "xfeature": {"kind": "numeric", "count": 4, "missing": 0, "mean": 1.5, "sd": 1.118033988749895,
                   "edges": [1, 2, 3], "shares": [0.25, 0.25, 0.25, 0.25], "quantiles": [0, 1, 2, 3]},
      "cfeature": {"kind": "category", "count": 100, "missing": 0, "categories": ["a", "b"],
                   "shares": [0.5, 0.5], "other": 0},
      "flag": {"kind": "numeric", "count": 4, "missing": 0, "mean": 0.5, "sd": 0.5,
               "edges": [1], "shares": [0.5, 0.5], "quantiles": [0, 0, 1, 1]}},
    "prediction": {"kind": "numeric", "count": 4, "missing": 0, "mean": 0.5, "sd": 0.22360679774997896,
                   "edges": [0.4, 0.6, 0.8], "shares": [0.25, 0.25, 0.25, 0.25],
                   "quantiles": [0.2, 0.4, 0.6, 0.8], "of": "score"}}$$);

-- 300 decisions: model and fallback, some without a score, latency or feature, two arms
CREATE TEMP TABLE monk_rows AS
SELECT i, '2026-03-01 09:00'::timestamptz + i * interval '10 seconds' AS created_at,
       jsonb_strip_nulls(jsonb_build_object(
           'xfeature', CASE WHEN i % 11 <> 0 THEN (i * 37 % 100) / 25.0 END,
           'cfeature', CASE WHEN i % 13 <> 0 THEN (ARRAY['a', 'b', 'z'])[i % 3 + 1] END,
           'flag', CASE WHEN i % 7 <> 0 THEN i % 2 = 0 END)) AS features,
       jsonb_strip_nulls(jsonb_build_object(
           'action', 'act', 'score', CASE WHEN i % 5 <> 0 THEN (i * 61 % 100) / 100.0 END,
           'confidence', (i * 61 % 100) / 100.0,
           'decided_by', CASE WHEN i % 4 = 0 THEN 'fallback: model not confident' ELSE 'model monk v1' END,
           'latency_us', CASE WHEN i % 9 <> 0 THEN i * 17 % 500 END)) AS decision,
       CASE WHEN i % 6 <> 0 THEN jsonb_build_object('y', i * 61 % 100 + i % 3 * 20 >= 50) END AS outcome,
       i * 7 % 300 AS lag, 'e' AS experiment, CASE WHEN i % 2 = 0 THEN 'A' ELSE 'B' END AS variant
  FROM generate_series(1, 300) i;
-- 40 more keys: p00 .. p39 (sorted before the keys read) and the keys read, one byte longer
-- (sorted after them); any value type
CREATE FUNCTION pg_temp.padded(o jsonb) RETURNS jsonb LANGUAGE sql AS $$
  SELECT o || (SELECT jsonb_object_agg('p' || lpad(k::text, 2, '0'),
                                       CASE k % 4 WHEN 0 THEN to_jsonb(k) WHEN 1 THEN to_jsonb('v' || k)
                                                  WHEN 2 THEN '{"score": 1, "xfeature": 2}'::jsonb ELSE 'null' END)
                 FROM generate_series(0, 39) k)
            || (SELECT jsonb_object_agg(key || 'x', 'true'::jsonb) FROM jsonb_object_keys(o) key)
$$;
INSERT INTO ml.MLTrainingData (task, unit_id, created_at, features, decision, outcome, outcome_at, experiment, variant)
SELECT t, 'u' || i, created_at, CASE WHEN t = 'plain' THEN features ELSE pg_temp.padded(features) END,
       CASE WHEN t = 'plain' THEN decision ELSE pg_temp.padded(decision) END,
       outcome, CASE WHEN outcome IS NOT NULL THEN created_at + lag * interval '1 second' END, experiment, variant
  FROM monk_rows, unnest('{plain, padded}'::text[]) t;
SELECT jsonb_typeof(features) AS features, (SELECT count(*) FROM jsonb_object_keys(features)) > 40 AS padded_features,
       (SELECT count(*) FROM jsonb_object_keys(decision)) > 40 AS padded_decision
  FROM ml.MLTrainingData WHERE task = 'padded' AND unit_id = 'u1';

CREATE TEMP TABLE monk_plain AS
SELECT * FROM ml.monitor('monk', window_end => '2026-03-01 10:00', task => 'plain', thresholds => '{"min_rows": 1}');
CREATE TEMP TABLE monk_padded AS
SELECT * FROM ml.monitor('monk', window_end => '2026-03-01 10:00', task => 'padded', thresholds => '{"min_rows": 1}');
-- every metric measured, the quality and drift among them
SELECT count(*) AS metrics, count(value) AS measured,
       count(*) FILTER (WHERE metric IN ('accuracy', 'ece', 'latency_p99_ms', 'drift_wasserstein',
                                         'drift_jensen_shannon', 'prediction_drift_psi') AND value IS NOT NULL) AS key_metrics
  FROM monk_plain;
SELECT value AS decisions FROM monk_plain WHERE metric = 'decisions' AND decided_by IS NULL AND experiment IS NULL;
-- the same rows and values with and without the extra keys
SELECT count(*) AS differing FROM (
  (SELECT metric, feature, experiment, variant, decided_by, value, metrics FROM monk_plain
   EXCEPT SELECT metric, feature, experiment, variant, decided_by, value, metrics FROM monk_padded)
  UNION ALL
  (SELECT metric, feature, experiment, variant, decided_by, value, metrics FROM monk_padded
   EXCEPT SELECT metric, feature, experiment, variant, decided_by, value, metrics FROM monk_plain)) d;
-- and the features read as they are: the missing shares of the three features
SELECT feature, round(value::numeric, 6) AS missing_share FROM monk_padded
 WHERE metric = 'missing_share' ORDER BY feature;

-- the label is outcome->>'y' as SQL gives it, read without the expression: a JSON string or
-- boolean names a class; a number, null, object or array, or an absent key, does not (an outcome
-- is always an object)
INSERT INTO ml.MLTrainingData (task, unit_id, created_at, features, decision, outcome, outcome_at)
SELECT 'labels', 'u' || i, '2026-03-01 09:00'::timestamptz + i * interval '1 minute', '{}',
       '{"decided_by": "rules"}',
       (ARRAY['{"y": "true"}', '{"y": true}', '{"y": "false"}', '{"y": false}', '{"y": 1}', '{"y": null}',
              '{"y": {"true": 1}}', '{"y": ["true"]}', '{"z": true}', '{"y": "tru"}'])[i % 10 + 1]::jsonb,
       '2026-03-01 09:30'
  FROM generate_series(0, 29) i;
SELECT m.value = s.rate AS rate_as_sql, m.metrics->>'rows' = s.labelled::text AS rows_as_sql, s.labelled, s.rate
  FROM ml.monitor('monk', window_end => '2026-03-01 10:00', task => 'labels') m,
       (SELECT count(*) AS labelled, avg((outcome->>'y')::boolean::int)::float8 AS rate
          FROM ml.MLTrainingData WHERE task = 'labels' AND outcome->>'y' IN ('true', 'false')) s
 WHERE m.metric = 'outcome_rate' AND m.decided_by IS NULL AND m.experiment IS NULL;

-- leave nothing behind for the suites after this one (ml.monitoring lists every model's rows)
DELETE FROM ml.MLMonitoringMetrics WHERE model_name = 'monk';
DELETE FROM ml.MLTrainingData WHERE task IN ('plain', 'padded', 'labels');
DELETE FROM ml.models WHERE name = 'monk';
