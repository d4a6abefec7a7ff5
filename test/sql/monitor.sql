-- ml.monitor (issue 11): the metrics of a hand-made window with known answers, idempotence,
-- a model without reference distributions, corrupted references, thresholds and privileges.
-- The model row is written by hand (as its owner may): ml.monitor reads its schema and
-- reference, never its bytes.
SET client_min_messages = notice;
SET timezone = 'UTC';
INSERT INTO ml.models (name, version, task, feature_schema, model, reference) VALUES
('mon', 1, 'classification',
 $${"task": "classification", "objective": "binary:logistic", "target": "(outcome->>'y')::boolean",
    "features": [{"name": "x", "type": "numeric"}, {"name": "c", "type": "categorical", "categories": ["a", "b", "c"]}],
    "classes": ["false", "true"]}$$,
 '\x00',
 $${"features": {
      "x": {"kind": "numeric", "count": 4, "missing": 0, "mean": 1.5, "sd": 1.118033988749895,
            "edges": [1, 2, 3], "shares": [0.25, 0.25, 0.25, 0.25], "quantiles": [0, 1, 2, 3]},
      "c": {"kind": "category", "count": 100, "missing": 0, "categories": ["a", "b"],
            "shares": [0.5, 0.5], "other": 0}},
    "prediction": {"kind": "numeric", "count": 4, "missing": 0, "mean": 0.5, "sd": 0.22360679774997896,
                   "edges": [0.4, 0.6, 0.8], "shares": [0.25, 0.25, 0.25, 0.25],
                   "quantiles": [0.2, 0.4, 0.6, 0.8], "of": "score"}}$$);

-- ten decisions in [09:00, 10:00): (decided_by, score, outcome y, lag s, latency us, arm)
CREATE TEMP TABLE mon_rows (n int, decided_by text, score float8, y boolean, lag int, latency int,
                            experiment text, variant text, features jsonb);
INSERT INTO mon_rows VALUES
 (1, 'model mon v1', 0.9, true, 60, 1000, 'e', 'A', '{"x": 1.5, "c": "a"}'),
 (2, 'model mon v1', 0.8, true, 120, 2000, 'e', 'A', '{"x": 1.5, "c": "a"}'),
 (3, 'model mon v1', 0.7, false, 180, 3000, 'e', 'B', '{"x": 1.5, "c": "a"}'),
 (4, 'model mon v1', 0.6, NULL, NULL, 4000, 'e', 'B', '{"x": 1.5, "c": "a"}'),
 (5, 'model mon v1', 0.2, false, 300, 5000, NULL, NULL, '{"x": 1.5, "c": "a"}'),
 (6, 'model mon v1', 0.3, NULL, NULL, 6000, NULL, NULL, '{"x": 1.5, "c": "a"}'),
 (7, 'fallback: model not confident', NULL, true, 600, 7000, 'e', 'A', '{"x": 1.5, "c": "a"}'),
 (8, 'fallback: no deployed model', NULL, false, 900, 8000, NULL, NULL, '{"x": 1.5, "c": "a"}'),
 (9, 'fallback: model not confident', NULL, NULL, NULL, 9000, NULL, NULL, '{"x": 1.5, "c": "z"}'),
 (10, 'model mon v1', 0.4, true, 30, 10000, NULL, NULL, '{}');
INSERT INTO ml.MLTrainingData (task, unit_id, created_at, features, decision, outcome, outcome_at, experiment, variant)
SELECT 'mon', 'u' || n, '2026-03-01 09:00'::timestamptz + n * interval '1 minute', features,
       jsonb_strip_nulls(jsonb_build_object('action', 'act', 'score', score, 'confidence', score,
                                            'decided_by', decided_by, 'latency_us', latency)),
       CASE WHEN y IS NOT NULL THEN jsonb_build_object('y', y) END,
       '2026-03-01 09:00'::timestamptz + n * interval '1 minute' + lag * interval '1 second', experiment, variant
  FROM mon_rows;
-- outside the window: before it, at its end (excluded), another task
INSERT INTO ml.MLTrainingData (task, unit_id, created_at, features, decision) VALUES
 ('mon', 'early', '2026-03-01 08:59:59.999', '{"x": 100}', '{"decided_by": "model mon v1", "score": 0.5}'),
 ('mon', 'late', '2026-03-01 10:00', '{"x": 100}', '{"decided_by": "model mon v1", "score": 0.5}'),
 ('other', 'other', '2026-03-01 09:30', '{"x": 100}', '{"decided_by": "model mon v1", "score": 0.5}');

CREATE TEMP TABLE run1 AS
SELECT * FROM ml.monitor('mon', window_end => '2026-03-01 10:00', thresholds => '{"min_rows": 1}');
SELECT count(*) AS rows_returned, count(DISTINCT model_version) AS versions, min(model_version) AS version,
       min(period_start) AS period_start, max(period_end) AS period_end FROM run1;
SELECT count(*) AS rows_written FROM ml.MLMonitoringMetrics WHERE model_name = 'mon';

-- the overall slice, rounded: usage, outcomes, quality, latency
SELECT metric, round(value::numeric, 6) AS value, metrics
  FROM run1 WHERE feature IS NULL AND decided_by IS NULL AND experiment IS NULL
   AND metric NOT LIKE '%drift%'
 ORDER BY metric;
-- the known answers, each computed by hand
SELECT bool_and(ok) AS all_known, array_agg(metric) FILTER (WHERE NOT ok) AS wrong FROM (
SELECT metric, CASE metric
    WHEN 'decisions' THEN value = 10
    WHEN 'ml_usage_rate' THEN abs(value - 0.7) < 1e-12
    WHEN 'fallback_rate' THEN abs(value - 0.3) < 1e-12
        AND metrics = '{"reasons": {"fallback: model not confident": 2, "fallback: no deployed model": 1}}'
    WHEN 'outcome_share' THEN abs(value - 0.7) < 1e-12
    WHEN 'outcome_lag_p50_seconds' THEN value = 180
    WHEN 'outcome_lag_p95_seconds' THEN value = 900
    WHEN 'outcome_rate' THEN abs(value - 4 / 7.0) < 1e-12
    WHEN 'accuracy' THEN abs(value - 0.6) < 1e-12
    WHEN 'log_loss' THEN abs(value - 0.5343822308972673) < 1e-6
    WHEN 'ece' THEN abs(value - 0.36) < 1e-12
    WHEN 'estimated_accuracy' THEN abs(value - 0.65) < 1e-12
    WHEN 'estimated_accuracy_matched' THEN abs(value - 0.76) < 1e-12
    WHEN 'latency_p50_ms' THEN value = 5
    WHEN 'latency_p95_ms' THEN value = 10
    WHEN 'latency_p99_ms' THEN value = 10
    END AS ok
  FROM run1 WHERE feature IS NULL AND decided_by IS NULL AND experiment IS NULL AND metric NOT LIKE '%drift%') k;
-- the calibration curve: bins [0.6], [0.7], [0.8, 0.8], [0.9] of the confidence
SELECT b->>'count' AS count, round((b->>'mean_predicted')::numeric, 6) AS mean_predicted,
       round((b->>'observed')::numeric, 6) AS observed
  FROM run1, jsonb_array_elements(metrics->'bins') b
 WHERE metric = 'ece' AND decided_by IS NULL AND experiment IS NULL;
-- the percentiles are percentile_disc's
SELECT (SELECT value FROM run1 WHERE metric = 'latency_p95_ms' AND decided_by IS NULL AND experiment IS NULL)
       = (SELECT percentile_disc(0.95) WITHIN GROUP (ORDER BY latency / 1000.0) FROM mon_rows) AS p95_is_percentile_disc,
       (SELECT value FROM run1 WHERE metric = 'outcome_lag_p50_seconds' AND decided_by IS NULL AND experiment IS NULL)
       = (SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY lag) FROM mon_rows) AS lag_is_percentile_disc;

-- percentiles are selected, not sorted: equal to percentile_disc on 1,001 latencies and lags with ties
INSERT INTO ml.MLTrainingData (task, unit_id, created_at, features, decision, outcome, outcome_at)
SELECT 'mon_many', 'u', '2026-03-01 09:00'::timestamptz + i * interval '1 second', '{}',
       jsonb_build_object('decided_by', 'rules', 'latency_us', (i * 7919) % 1000 + (i % 3) * 0.5),
       '{}', '2026-03-01 09:00'::timestamptz + i * interval '1 second' + ((i * 104729) % 97) * interval '1 minute'
  FROM generate_series(0, 1000) i;
SELECT bool_and(m.value = p.value) AS percentiles_as_percentile_disc, count(*) AS compared
  FROM ml.monitor('mon', window_end => '2026-03-01 10:00', task => 'mon_many') m
  JOIN (SELECT 'latency_p' || (q * 100)::int || '_ms' AS metric,
               percentile_disc(q) WITHIN GROUP (ORDER BY (decision->>'latency_us')::float8 / 1000) AS value
          FROM ml.MLTrainingData, unnest('{0.5, 0.95, 0.99}'::float8[]) q WHERE task = 'mon_many' GROUP BY q
        UNION ALL
        SELECT 'outcome_lag_p' || (q * 100)::int || '_seconds',
               percentile_disc(q) WITHIN GROUP (ORDER BY extract(epoch FROM outcome_at - created_at)::float8)
          FROM ml.MLTrainingData, unnest('{0.5, 0.95}'::float8[]) q WHERE task = 'mon_many' GROUP BY q) p
    ON p.metric = m.metric AND m.decided_by IS NULL AND m.experiment IS NULL;
-- an outcome written without outcome_at counts as an outcome, without a lag
INSERT INTO ml.MLTrainingData (task, unit_id, created_at, features, decision, outcome, outcome_at) VALUES
 ('mon_lagless', 'a', '2026-03-01 09:10', '{}', '{"decided_by": "rules"}', '{"y": true}', NULL),
 ('mon_lagless', 'b', '2026-03-01 09:20', '{}', '{"decided_by": "rules"}', '{"y": false}', '2026-03-01 09:21');
SELECT metric, value FROM ml.monitor('mon', window_end => '2026-03-01 10:00', task => 'mon_lagless')
 WHERE metric IN ('outcome_share', 'outcome_lag_p50_seconds', 'outcome_rate') AND decided_by IS NULL ORDER BY metric;
DELETE FROM ml.MLMonitoringMetrics WHERE model_name = 'mon';
SELECT count(*) > 0 AS rerun FROM ml.monitor('mon', window_end => '2026-03-01 10:00', thresholds => '{"min_rows": 1}');

-- the slices: per decided_by (model vs fallback) and per experiment arm
SELECT coalesce(decided_by, experiment || '/' || variant) AS slice, metric, round(value::numeric, 6) AS value
  FROM run1
 WHERE (decided_by IS NOT NULL OR experiment IS NOT NULL)
   AND metric IN ('decisions', 'ml_usage_rate', 'outcome_share', 'outcome_rate', 'accuracy',
                  'estimated_accuracy', 'latency_p50_ms')
 ORDER BY slice, metric;
SELECT coalesce(decided_by, experiment || '/' || variant) AS slice, metrics
  FROM run1 WHERE metric = 'fallback_rate' AND (decided_by IS NOT NULL OR experiment IS NOT NULL)
 ORDER BY slice;

-- drift against the reference (min_rows 1, so that ten rows are judged)
SELECT metric, feature, round(value::numeric, 6) AS value, metrics
  FROM run1 WHERE metric LIKE '%drift%' OR metric = 'missing_share'
 ORDER BY feature NULLS LAST, metric;
-- with the default min_rows (1000) nothing this small is judged, the distances still stand
SELECT metric, feature, value
  FROM ml.monitor('mon', window_end => '2026-03-01 10:00')
 WHERE metric IN ('drift', 'dataset_drift', 'prediction_drift')
 ORDER BY metric, feature;
SELECT round(value::numeric, 6) AS wasserstein_x FROM ml.MLMonitoringMetrics
 WHERE model_name = 'mon' AND metric = 'drift_wasserstein' AND feature = 'x';

-- idempotent: the same window again replaces its rows with the same values
CREATE TEMP TABLE before_rerun AS
SELECT metric, feature, experiment, variant, decided_by, value, metrics FROM ml.MLMonitoringMetrics WHERE model_name = 'mon';
SELECT count(*) > 0 AS returned FROM ml.monitor('mon', window_end => '2026-03-01 10:00');
SELECT count(*) AS rows_after_rerun,
       (SELECT count(*) FROM before_rerun) AS rows_before,
       NOT EXISTS (SELECT metric, feature, experiment, variant, decided_by, value, metrics
                     FROM ml.MLMonitoringMetrics WHERE model_name = 'mon'
                   EXCEPT SELECT * FROM before_rerun) AS same_values
  FROM ml.MLMonitoringMetrics WHERE model_name = 'mon';
-- augmented copies (ml.augment) are no decisions: with two copies of every row, x moved far,
-- the window's metrics are the same (they counted the copies, and drifted)
SELECT ml.augment('mon', copies => 2, noise => '{"x": {"sd": 50}}') AS copies;
SELECT count(*) > 0 AS returned FROM ml.monitor('mon', window_end => '2026-03-01 10:00');
SELECT count(*) AS rows_with_copies,
       NOT EXISTS (SELECT metric, feature, experiment, variant, decided_by, value, metrics
                     FROM ml.MLMonitoringMetrics WHERE model_name = 'mon'
                   EXCEPT SELECT * FROM before_rerun) AS same_values
  FROM ml.MLMonitoringMetrics WHERE model_name = 'mon';
DELETE FROM ml.MLTrainingData WHERE task = 'mon' AND source = 'augmented';
-- drift reads a sample of the window's features (100,000 decisions by default): here 5 of 10,
-- the rows whose ids hash lowest, whatever order they are read in
CREATE TEMP TABLE sampled AS
SELECT feature, metric, value, metrics FROM ml.monitor('mon', window_end => '2026-03-01 10:00',
                                                      thresholds => '{"min_rows": 1, "sample": 5}')
 WHERE metric IN ('drift_wasserstein', 'missing_share', 'drift_jensen_shannon');
SELECT feature, metric, (metrics->>'rows')::int + (metrics->>'missing')::int AS sampled, metrics->>'window_rows' AS window_rows
  FROM sampled ORDER BY feature, metric;
UPDATE ml.MLTrainingData SET unit_id = unit_id WHERE task = 'mon' AND id % 2 = 0;  -- new row versions, another order
SELECT count(*) AS same_sample_after_update
  FROM sampled s JOIN ml.monitor('mon', window_end => '2026-03-01 10:00', thresholds => '{"min_rows": 1, "sample": 5}') m
    USING (feature, metric)
 WHERE s.value IS NOT DISTINCT FROM m.value AND s.metrics = m.metrics;
SELECT error_of($q$SELECT count(*) FROM ml.monitor('mon', thresholds => '{"sample": 0.5}')$q$) AS fractional_sample;
SELECT count(*) > 0 AS back_to_the_whole FROM ml.monitor('mon', window_end => '2026-03-01 10:00');

-- another window adds its own rows; the history lists one value per window
SELECT count(*) > 0 AS returned FROM ml.monitor('mon', '30 minutes', '2026-03-01 09:30');
SELECT period_start, period_end, model_version, value
  FROM ml.monitoring_history('mon', 'decisions', since => '2026-03-01');
SELECT period_end, value FROM ml.monitoring_history('mon', 'decisions', '2026-03-01', decided_by => 'model');
SELECT period_end, round(value::numeric, 6) AS value
  FROM ml.monitoring_history('mon', 'drift_wasserstein', '2026-03-01', feature => 'x');
SELECT count(*) AS history_since_later FROM ml.monitoring_history('mon', 'decisions', '2026-03-01 09:45');

-- an empty window: counts are 0, the rest unknown
SELECT metric, value FROM ml.monitor('mon', window_end => '2026-02-01')
 WHERE metric IN ('decisions', 'ml_usage_rate', 'accuracy', 'latency_p50_ms', 'drift_wasserstein', 'dataset_drift')
 ORDER BY metric;

-- a model trained before 0.4.0 has no reference: a NOTICE, no drift rows, the rest measured
INSERT INTO ml.models (name, version, task, feature_schema, model)
SELECT 'mon', 2, task, feature_schema, model FROM ml.models WHERE name = 'mon' AND version = 1;
SELECT count(*) AS rows, count(*) FILTER (WHERE metric LIKE '%drift%') AS drift_rows,
       max(value) FILTER (WHERE metric = 'accuracy' AND decided_by IS NULL AND experiment IS NULL) AS accuracy
  FROM ml.monitor('mon', window_end => '2026-03-01 10:00', version => 2);
-- the window's rows now are version 2's (replaced, not added)
SELECT model_version, count(*) FROM ml.MLMonitoringMetrics
 WHERE model_name = 'mon' AND period_end = '2026-03-01 10:00' GROUP BY 1;

-- a target that is not an outcome key: no realized quality (a NOTICE), the rest measured
INSERT INTO ml.models (name, version, task, feature_schema, model)
SELECT 'mon', 3, task, jsonb_set(feature_schema, '{target}', '"y"'), model FROM ml.models WHERE name = 'mon' AND version = 1;
SELECT count(*) FILTER (WHERE metric IN ('accuracy', 'log_loss', 'ece')) AS quality_rows,
       count(*) FILTER (WHERE metric = 'decisions') AS decision_rows
  FROM ml.monitor('mon', window_end => '2026-03-01 10:00', version => 3);

-- corrupted references: an error naming what is wrong, never a crash or a wrong figure
CREATE FUNCTION pg_temp.corrupt(path text[], value jsonb) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    UPDATE ml.models SET reference = jsonb_set((SELECT reference FROM ml.models WHERE name = 'mon' AND version = 1),
                                               path, value)
     WHERE name = 'mon' AND version = 4;
    RETURN split_part(error_of($q$SELECT count(*) FROM ml.monitor('mon', window_end => '2026-03-01 10:00', version => 4)$q$),
                      ' | HINT', 1);
END $$;
INSERT INTO ml.models (name, version, task, feature_schema, model, reference)
SELECT 'mon', 4, task, feature_schema, model, reference FROM ml.models WHERE name = 'mon' AND version = 1;
SELECT pg_temp.corrupt('{features,x,sd}', '"big"') AS sd_not_number;
SELECT pg_temp.corrupt('{features,x,sd}', '-1') AS sd_negative;
SELECT pg_temp.corrupt('{features,x,shares}', '[0.5, 0.25, 0.25, 0.25]') AS shares_sum;
SELECT pg_temp.corrupt('{features,x,shares}', '[0.25, 0.25, 0.25, 0.25, 0, 0, 0, 0, 0, 0, 0]') AS too_many_bins;
SELECT pg_temp.corrupt('{features,x,edges}', '[1, 2]') AS edges_short;
SELECT pg_temp.corrupt('{features,x,edges}', '[1, 3, 2]') AS edges_unordered;
SELECT pg_temp.corrupt('{features,x,quantiles}', '[0, 1, 2]') AS quantiles_short;
SELECT pg_temp.corrupt('{features,x,count}', '1e300') AS count_huge;
SELECT pg_temp.corrupt('{features,x,count}', '2.5') AS count_fraction;
SELECT pg_temp.corrupt('{features,x,kind}', '"category"') AS kind_wrong;
SELECT pg_temp.corrupt('{features,c,categories}', '["a", "q"]') AS category_unknown;
SELECT pg_temp.corrupt('{features,c,categories}', '["a", "a"]') AS category_twice;
SELECT pg_temp.corrupt('{features,c,shares}', '[0.5]') AS category_shares_short;
SELECT pg_temp.corrupt('{features,c,other}', '-0.5') AS other_negative;
SELECT pg_temp.corrupt('{features,c}', '[1, 2]') AS feature_not_object;
SELECT pg_temp.corrupt('{features}', '{"x": {}}') AS feature_missing;
SELECT pg_temp.corrupt('{prediction,of}', '"nothing"') AS prediction_of;
SELECT pg_temp.corrupt('{prediction,quantiles}', '"[0.2]"') AS quantiles_not_array;
UPDATE ml.models SET reference = '[1, 2, 3]' WHERE name = 'mon' AND version = 4;
SELECT error_of($q$SELECT count(*) FROM ml.monitor('mon', window_end => '2026-03-01 10:00', version => 4)$q$) AS not_object;
-- the failed runs wrote nothing: the window keeps the rows of the last good run
SELECT model_version, count(*) FROM ml.MLMonitoringMetrics
 WHERE model_name = 'mon' AND period_end = '2026-03-01 10:00' GROUP BY 1;
-- a feature with no value in training is valid (no mean, no bins), but not with a mean
SELECT pg_temp.corrupt('{features,x}', '{"kind": "numeric", "count": 0, "missing": 3, "mean": null, "sd": null,
                                        "edges": [], "shares": [], "quantiles": []}') AS no_values;
SELECT pg_temp.corrupt('{features,x}', '{"kind": "numeric", "count": 0, "missing": 3, "mean": 1, "sd": null,
                                        "edges": [], "shares": [], "quantiles": []}') AS mean_without_values;
DELETE FROM ml.models WHERE name = 'mon' AND version = 4;

-- without a version: the one deployed at the window's end, else the newest
SELECT DISTINCT model_version AS newest FROM ml.monitor('mon', window_end => '2026-03-01 10:00');
INSERT INTO ml.deployments (model_name, model_version, action, deployed_at) VALUES
 ('mon', 1, 'deploy', '2026-03-01 00:00'), ('mon', 2, 'deploy', '2026-03-02 00:00');
SELECT DISTINCT model_version AS deployed_then FROM ml.monitor('mon', window_end => '2026-03-01 10:00');
SELECT DISTINCT model_version AS deployed_later FROM ml.monitor('mon', window_end => '2026-03-02 10:00');

-- arguments
SELECT error_of($q$SELECT count(*) FROM ml.monitor('nope')$q$) AS unknown_model;
SELECT error_of($q$SELECT count(*) FROM ml.monitor('mon', version => 9)$q$) AS unknown_version;
SELECT error_of($q$SELECT count(*) FROM ml.monitor('mon', '0 seconds')$q$) AS empty_window;
SELECT error_of($q$SELECT count(*) FROM ml.monitor('mon', NULL)$q$) AS null_window;
SELECT error_of($q$SELECT count(*) FROM ml.monitor('mon', thresholds => '{"wasserstein": -1}')$q$) AS negative_threshold;
SELECT error_of($q$SELECT count(*) FROM ml.monitor('mon', thresholds => '{"wasserstien": 0.2}')$q$) AS unknown_threshold;
SELECT error_of($q$SELECT count(*) FROM ml.monitor('mon', thresholds => '{"dataset_share": 0}')$q$) AS zero_share;
SELECT error_of($q$SELECT count(*) FROM ml.monitor('mon', thresholds => '[]')$q$) AS thresholds_not_object;
-- a stricter threshold judges the same distances differently
SELECT feature, value FROM ml.monitor('mon', window_end => '2026-03-01 10:00',
                                      thresholds => '{"min_rows": 1, "wasserstein": 0.9, "missing": 0.5}')
 WHERE metric = 'drift' ORDER BY feature;

-- the reference kept by training: per feature from the training rows, and the prediction of the
-- test rows as ml.decide records it (a policy's confidence, at least 0.5 for two classes; a
-- regression's value; none without a test set)
CREATE TABLE mon_train AS
SELECT (i % 17)::float8 AS x1, (ARRAY['a', 'b', 'c'])[1 + i % 3] AS cat, (i % 17) > 8 OR i % 3 = 0 AS y,
       (i % 17) * 2.0 + i % 3 AS amount
  FROM generate_series(1, 500) i;
SET client_min_messages = warning;
SELECT count(*) FROM ml.train('mon_policy', 'SELECT x1, cat, y FROM mon_train', 'y', params => '{"num_round": 3}');
SELECT count(*) FROM ml.train('mon_value', 'SELECT x1, cat, amount FROM mon_train', 'amount', params => '{"num_round": 3}');
SELECT count(*) FROM ml.train('mon_all', 'SELECT x1, cat, y FROM mon_train', 'y', test_size => 0, params => '{"num_round": 3}');
SET client_min_messages = notice;
SELECT name, reference->'prediction'->>'of' AS of,
       (reference->'prediction'->>'count')::bigint = test_rows AS one_per_test_row,
       (reference->'prediction'->'quantiles'->>0)::float8 >= 0.5 AS confident,
       (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(reference->'features') k) AS features,
       (reference->'features'->'x1'->>'count')::bigint = train_rows AS x1_counts_training_rows,
       reference->'features'->'cat'->'categories' AS categories, reference->'features'->'cat'->'shares' AS shares
  FROM ml.models WHERE name IN ('mon_policy', 'mon_value', 'mon_all') ORDER BY name;
-- and ml.monitor reads it back (no decisions: counts are 0, distances unknown)
SELECT count(*) FILTER (WHERE metric = 'drift_wasserstein') AS numeric_features,
       count(*) FILTER (WHERE metric = 'drift_jensen_shannon') AS category_features,
       count(*) FILTER (WHERE metric LIKE 'prediction_drift%') AS prediction_rows
  FROM ml.monitor('mon_policy');
SELECT count(*) FILTER (WHERE metric LIKE 'prediction_drift%') AS value_prediction_rows FROM ml.monitor('mon_value');
-- a model without a prediction reference over the hand-made window (whose features it lacks)
SELECT count(*) FILTER (WHERE metric LIKE 'prediction_drift%') AS prediction_rows,
       max(value) FILTER (WHERE metric = 'decisions' AND decided_by IS NULL AND experiment IS NULL) AS decisions,
       max(value) FILTER (WHERE metric = 'missing_share' AND feature = 'x1') AS x1_missing
  FROM ml.monitor('mon_all', window_end => '2026-03-01 10:00', task => 'mon');
DELETE FROM ml.MLMonitoringMetrics WHERE model_name IN ('mon_policy', 'mon_value', 'mon_all');
DROP TABLE mon_train;

-- privileges: 'train' runs ml.monitor, 'read' reads the history, PUBLIC neither
DROP ROLE IF EXISTS mon_trainer;
DROP ROLE IF EXISTS mon_reader;
CREATE ROLE mon_trainer;
CREATE ROLE mon_reader;
SELECT ml.grant_access('mon_trainer', 'train'), ml.grant_access('mon_reader', 'read');
SET ROLE mon_trainer;
SELECT count(*) > 0 AS trainer_monitors FROM ml.monitor('mon', window_end => '2026-03-01 10:00');
SELECT error_of($q$SELECT count(*) FROM ml.monitoring_history('mon', 'decisions')$q$) AS trainer_history;
SELECT error_of($q$SELECT count(*) FROM ml.monitor_window('mon', 1, 'mon', now(), now())$q$) AS trainer_window;
RESET ROLE;
SET ROLE mon_reader;
SELECT error_of($q$SELECT count(*) FROM ml.monitor('mon')$q$) AS reader_monitors;
SELECT count(*) AS reader_history FROM ml.monitoring_history('mon', 'decisions', '2026-03-01');
SELECT error_of($q$DELETE FROM ml.MLMonitoringMetrics$q$) AS reader_deletes;
RESET ROLE;
SELECT has_function_privilege('public', 'ml.monitor(text, interval, timestamptz, integer, text, jsonb)', 'EXECUTE') AS public_monitors,
       has_function_privilege('public', 'ml.monitoring_history(text, text, timestamptz, text, text, text, text)', 'EXECUTE') AS public_history;
DROP OWNED BY mon_trainer, mon_reader;
DROP ROLE mon_trainer;
DROP ROLE mon_reader;

-- hostile rows (a 'record' role can write them) do not stop the run: an infinite outcome_at has
-- no lag, a latency, score or feature beyond a double's range counts as not measured
INSERT INTO ml.MLTrainingData (task, unit_id, created_at, features, decision, outcome, outcome_at) VALUES
 ('mon_hostile', 'h1', '2026-03-01 09:10', '{"x": 1e400, "c": "a"}',
  '{"decided_by": "model mon v1", "score": 1e400, "latency_us": 1e400}', '{"y": true}', 'infinity'),
 ('mon_hostile', 'h2', '2026-03-01 09:20', '{"x": 2, "c": "a"}',
  '{"decided_by": "model mon v1", "score": 0.8, "latency_us": 2000}', '{"y": true}', '2026-03-01 09:21');
SELECT metric, round(value::numeric, 3) AS value
  FROM ml.monitor('mon', window_end => '2026-03-01 10:00', task => 'mon_hostile', thresholds => '{"min_rows": 1}')
 WHERE feature IS NULL AND decided_by IS NULL AND experiment IS NULL
   AND metric IN ('decisions', 'outcome_share', 'outcome_lag_p50_seconds', 'latency_p50_ms', 'accuracy')
 ORDER BY metric;
SELECT round(value::numeric, 3) AS missing_share_x
  FROM ml.MLMonitoringMetrics
 WHERE model_name = 'mon' AND period_end = '2026-03-01 10:00' AND metric = 'missing_share' AND feature = 'x';
SELECT error_of($q$SELECT count(*) FROM ml.monitor('mon', thresholds => '{"sample": 1000001}')$q$) AS sample_too_big;

DELETE FROM ml.MLMonitoringMetrics WHERE model_name = 'mon';
DELETE FROM ml.MLTrainingData WHERE task IN ('mon', 'other', 'mon_many', 'mon_lagless', 'mon_hostile');
DELETE FROM ml.deployment_decisions WHERE model_name LIKE 'mon%';
DELETE FROM ml.deployments WHERE model_name LIKE 'mon%';
DELETE FROM ml.models WHERE name LIKE 'mon%';
