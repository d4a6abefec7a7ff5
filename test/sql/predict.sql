-- Serving: ml.predict, predict_proba, predict_label, explain, decide, on the models train.sql made
SET client_min_messages = warning;

-- every model trained so far compiles to native trees
SELECT name, version, evaluator FROM ml.models WHERE name IN ('binary', 'levels', 'linear', 'ranker') ORDER BY 1, 2;

-- the stored metrics, recomputed in SQL from ml.predict on the same test rows
WITH test AS (SELECT * FROM binary_data ORDER BY at DESC LIMIT 600),
     p AS (SELECT y, ml.predict('binary', to_jsonb(test), 1) AS prob FROM test)
SELECT abs(avg(((prob >= 0.5) = y)::int) - (SELECT accuracy FROM ml.mlevaluationresults
                                             WHERE model_name = 'binary' AND model_version = 1
                                               AND NOT metrics ? 'rescored_for_version')) < 1e-9 AS accuracy_matches,
       abs(avg(-ln(CASE WHEN y THEN greatest(prob, 1e-15) ELSE greatest(1 - prob, 1e-15) END))
           - (SELECT (metrics->>'log_loss')::float8 FROM ml.mlevaluationresults
               WHERE model_name = 'binary' AND model_version = 1 AND NOT metrics ? 'rescored_for_version')) < 1e-5
           AS log_loss_matches
  FROM p;
WITH test AS (SELECT * FROM multi_data ORDER BY at DESC LIMIT 600)
SELECT abs(avg((ml.predict_label('levels', to_jsonb(test)) = level)::int)
           - (SELECT accuracy FROM ml.mlevaluationresults WHERE model_name = 'levels')) < 1e-9 AS accuracy_matches
  FROM test;
WITH test AS (SELECT 2 * x1 - x2 + 0.5 AS y, x1, x2 FROM train_points ORDER BY at DESC LIMIT 600)
SELECT abs(sqrt(avg((ml.predict('linear', ARRAY[x1, x2]::real[]) - y) ^ 2))
           - (SELECT (metrics->>'rmse')::float8 FROM ml.mlevaluationresults WHERE model_name = 'linear')) < 1e-5 AS rmse_matches
  FROM test;

-- jsonb and array forms agree; unknown keys are ignored, absent ones missing
SELECT ml.predict('linear', '{"x1": 0.3, "x2": 0.6, "noise": "ignored"}'::jsonb) =
       ml.predict('linear', ARRAY[0.3, 0.6]::real[]) AS same,
       ml.predict('linear', '{"x1": 0.3}'::jsonb) = ml.predict('linear', ARRAY[0.3, NULL]::real[]) AS missing_same,
       ml.predict('linear', ARRAY[0.3, 'NaN']::real[]) = ml.predict('linear', ARRAY[0.3, NULL]::real[]) AS nan_is_missing;

-- classifiers: probabilities, labels as trained, categories through the dictionary
SELECT ml.predict_label('levels', '{"x1": 0.1, "x2": 0.5}'::jsonb) AS low,
       ml.predict_label('levels', '{"x1": 0.9, "x2": 0.5}'::jsonb) AS high,
       abs((SELECT sum(p) FROM unnest(ml.predict_proba('levels', '{"x1": 0.5}'::jsonb)) p) - 1) < 1e-6 AS sums_to_one,
       array_length(ml.predict_proba('binary', '{"x1": 0.9, "x2": 0.9, "colour": "red"}'::jsonb), 1) AS binary_classes;
SELECT ml.predict_label('binary', '{"x1": 0.9, "x2": 0.9, "colour": "red"}'::jsonb, 1) AS red,
       ml.predict_label('binary', '{"x1": 0.9, "x2": 0.9, "colour": "blue"}'::jsonb, 1) AS blue,
       ml.predict('binary', '{"x1": 0.9, "x2": 0.9, "colour": "purple"}'::jsonb, 1) =
       ml.predict('binary', '{"x1": 0.9, "x2": 0.9}'::jsonb, 1) AS unseen_category_is_missing;

-- a pinned version, and the deployed one follows ml.deploy in the same session
SELECT ml.deployed_version('binary') AS deployed;
SELECT ml.predict('binary', '{"x1": 0.7, "x2": 0.4, "colour": "green"}'::jsonb) =
       ml.predict('binary', '{"x1": 0.7, "x2": 0.4, "colour": "green"}'::jsonb, 1) AS serves_v1;
SELECT ml.deploy('binary', 4) > 0 AS redeployed;
SELECT ml.predict('binary', '{"x1": 0.7, "x2": 0.4, "colour": "green"}'::jsonb) =
       ml.predict('binary', '{"x1": 0.7, "x2": 0.4, "colour": "green"}'::jsonb, 4) AS serves_v4;
SELECT model, version, evaluator FROM ml.model_cache() ORDER BY 1, 2;

-- explain: contributions and bias add up to the margin
SELECT count(*) AS rows, bool_or(feature = '(bias)') AS has_bias
  FROM ml.explain('binary', '{"x1": 0.7, "x2": 0.4, "colour": "green"}');
SELECT abs(sum(contribution) - ln(p / (1 - p))) < 1e-4 AS adds_up
  FROM ml.explain('binary', '{"x1": 0.7, "x2": 0.4, "colour": "green"}'),
       (SELECT ml.predict('binary', '{"x1": 0.7, "x2": 0.4, "colour": "green"}'::jsonb) AS p) s
 GROUP BY p;
SELECT feature, value IS NULL AS missing FROM ml.explain('linear', '{"x1": 0.5}') ORDER BY feature;
SELECT feature, category FROM ml.explain('binary', '{"x1": 0.7, "colour": "green"}') ORDER BY feature;

-- predictions in parallel workers give the same sum as serially
CREATE TABLE many AS SELECT ((i * 0.618034) % 1)::real AS x1, ((i * 0.414214) % 1)::real AS x2
  FROM generate_series(1, 100000) i;
ANALYZE many;
SET max_parallel_workers_per_gather = 0;
SELECT sum(ml.predict('linear', ARRAY[x1, x2])) AS serial FROM many \gset
SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
EXPLAIN (COSTS OFF) SELECT sum(ml.predict('linear', ARRAY[x1, x2])) FROM many;
SELECT abs(sum(ml.predict('linear', ARRAY[x1, x2])) - :serial) < 1e-6 * abs(:serial) AS parallel_equals_serial FROM many;
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;

-- decide: with the engagement model (an outcome model with an action feature)
SELECT action IN ('detailed_explanation', 'brief_answer', 'empathetic_support', 'playful_tangent', 'socratic_question') AS known_action,
       confidence BETWEEN 0.5 AND 1 AS confident, decided_by LIKE 'model engagement v%' AS by_model
  FROM ml.decide('response_strategy', 'learner-9',
                 '{"hour_of_day": 22, "emotional_state": "sad", "message_length": 40, "topic": "health"}',
                 fallback => 'brief_answer', model => 'engagement', min_confidence => 0.5);
SELECT decision->>'decided_by' LIKE 'model engagement v%' AS recorded_by_model, decision ? 'confidence' AS has_confidence,
       source, unit_id FROM ml.mltrainingdata ORDER BY id DESC LIMIT 1;
-- not confident enough: the fallback decides, and is recorded as such
SELECT action, confidence, decided_by
  FROM ml.decide('response_strategy', 'learner-9', '{"hour_of_day": 22}', fallback => 'brief_answer',
                 model => 'engagement', min_confidence => 0.999);
-- a model name that does not exist is an error, not a fallback (see silent_failures.sql)
SELECT error_of($$SELECT ml.decide('no_such_task', 'learner-9', '{"x": 1}', fallback => 'rules_choice')$$);
SELECT ml.record_outcome((SELECT max(id) FROM ml.mltrainingdata), '{"engaged": true}') AS outcome_recorded;
-- a policy model: a classifier whose classes are the actions
SELECT action, decided_by FROM ml.decide('levels', 'u', '{"x1": 0.95, "x2": 0.1}', fallback => 'mid', min_confidence => 0);

-- bad input: clear errors
SELECT error_of($$SELECT ml.predict('no_such_model', '{}'::jsonb)$$);
SELECT error_of($$SELECT ml.predict('binary', '{}'::jsonb, 99)$$);
SELECT count(*) AS trained FROM ml.train('undeployed', 'binary_plain', 'y', params => '{"num_round": 2}', deploy => 'never');
SELECT error_of($$SELECT ml.predict('undeployed', '{}'::jsonb)$$);
SELECT ml.predict('undeployed', '{}'::jsonb, 1) BETWEEN 0 AND 1 AS pinned_version_serves;
SELECT error_of($$SELECT ml.predict('linear', ARRAY[1, 2, 3]::real[])$$);
SELECT error_of($$SELECT ml.predict('linear', ARRAY[1, 'Infinity']::real[])$$);
SELECT error_of($$SELECT ml.predict('linear', '{"x1": "high"}'::jsonb)$$);
SELECT error_of($$SELECT ml.predict('linear', '{"x1": [1, 2]}'::jsonb)$$);
SELECT error_of($$SELECT ml.predict('linear', '[1, 2]'::jsonb)$$);
SELECT error_of($$SELECT ml.predict('linear', NULL::jsonb)$$);
SELECT error_of($$SELECT ml.predict('levels', '{"x1": 0.5}'::jsonb)$$);
SELECT error_of($$SELECT ml.predict_proba('linear', '{"x1": 0.5}'::jsonb)$$);
SELECT error_of($$SELECT ml.decide('t', 'u', '{}', fallback => NULL)$$);
SELECT error_of($$SELECT ml.decide('t', 'u', '{}', 'a', model => 'linear')$$);

-- a model the native evaluator cannot compile is served by XGBoost, visibly
SELECT version, deployed FROM ml.train('darted', 'binary_plain', 'y', params => '{"booster": "dart", "num_round": 5}');
SELECT evaluator FROM ml.models WHERE name = 'darted';
SELECT ml.predict('darted', '{"x1": 0.9, "x2": 0.9, "colour": "red"}'::jsonb) > 0.5 AS served,
       ml.predict('darted', '{"x1": 0.1, "x2": 0.1, "colour": "red"}'::jsonb) < 0.5 AS served_low;
SELECT model, evaluator, reason FROM ml.model_cache() WHERE model = 'darted';
SELECT abs(sum(contribution) - ln(p / (1 - p))) < 1e-4 AS explain_adds_up
  FROM ml.explain('darted', '{"x1": 0.9, "x2": 0.2, "colour": "blue"}'),
       (SELECT ml.predict('darted', '{"x1": 0.9, "x2": 0.2, "colour": "blue"}'::jsonb) AS p) s
 GROUP BY p;

-- jsonb numbers are read exactly as PostgreSQL's own numeric -> float8 -> real casts read them
-- (ml.explain shows the value the model saw)
WITH v AS (SELECT ((i * 0.000123456789)::numeric(30, 12) * (10 ^ (i % 13 - 6))::numeric) * (1 - 2 * (i % 2)) AS a
             FROM generate_series(1, 2000) i)
SELECT bool_and(e.value = a::float8::real::float8) AS same_conversion, count(*) AS checked
  FROM v, LATERAL ml.explain('linear', jsonb_build_object('x1', a)) e
 WHERE e.feature = 'x1';

-- the cache keeps at most learnloop.model_cache_size models, evicting the least recently used
SET learnloop.model_cache_size = 2;
SELECT ml.predict('linear', ARRAY[0.1, 0.2]::real[]) IS NOT NULL AS a,
       ml.predict_label('levels', ARRAY[0.1, 0.2]::real[]) IS NOT NULL AS b;
SELECT ml.predict('darted', '{"x1": 0.5}'::jsonb) IS NOT NULL AS c;
SELECT count(*) AS cached, bool_or(model = 'darted') AS newest_kept, bool_or(model = 'levels') AS recent_kept
  FROM ml.model_cache();
RESET learnloop.model_cache_size;
