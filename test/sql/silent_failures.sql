-- No silent failures (issue 9, part 3): each case is a clear error, or a documented, visible degradation
SET client_min_messages = warning;

CREATE TABLE sf_policy AS
SELECT i, (i % 10) / 10.0 AS x1, (i % 7) / 7.0 AS x2,
       CASE WHEN i % 10 < 5 THEN 'brief' ELSE 'long' END AS action
  FROM generate_series(1, 400) i;
SELECT version, deployed FROM ml.train('sf_policy', 'sf_policy', 'action', features => ARRAY['x1', 'x2'],
                                       params => '{"num_round": 3}');
SELECT version, deployed FROM ml.train('sf_dart', 'sf_policy', 'action', features => ARRAY['x1', 'x2'],
                                       params => '{"booster": "dart", "num_round": 3}');
-- choice arguments of ml.train take any case (they did before; the same matcher now serves every function)
SELECT version, deployed FROM ml.train('sf_idle', 'sf_policy', 'action', task => 'Classification',
                                       features => ARRAY['x1', 'x2'], params => '{"num_round": 2}',
                                       split => 'RANDOM', deploy => 'Never');
-- and so does its metric (it did not): a choice among the model's metric names, kept in their spelling
SELECT metric_name, deployed FROM ml.train('sf_metric', 'sf_policy', 'action', features => ARRAY['x1', 'x2'],
                                           params => '{"num_round": 1}', metric => 'ROC_AUC', deploy => 'never');

-- 1. ml.decide: an unknown model is an error (42704), and nothing is recorded
SELECT count(*) AS decisions_before FROM ml.mltrainingdata \gset
SELECT error_of($$SELECT ml.decide('sf_task', 'u1', '{"x1": 0.9}', 'rules', model => 'sf_no_such_model')$$);
SELECT error_of($$SELECT ml.decide('sf_no_such_task', 'u1', '{"x1": 0.9}', 'rules')$$);
SELECT count(*) - :decisions_before AS rows_written FROM ml.mltrainingdata;
-- ... and so it is for ml.predict
SELECT error_of($$SELECT ml.predict('sf_no_such_model', '{}'::jsonb)$$);
-- a known model without a deployment falls back, as documented
SELECT action, confidence, decided_by FROM ml.decide('sf_task', 'u1', '{"x1": 0.9}', 'rules', model => 'sf_idle');
SELECT error_of($$SELECT ml.predict('sf_idle', '{}'::jsonb)$$);
-- the deployed models decide (sf_dart is evaluated by XGBoost)
SELECT action, decided_by FROM ml.decide('sf_task', 'u1', '{"x1": 0.9, "x2": 0.5}', 'rules',
                                         model => 'sf_policy', min_confidence => 0);
SELECT action, decided_by FROM ml.decide('sf_task', 'u1', '{"x1": 0.9, "x2": 0.5}', 'rules',
                                         model => 'sf_dart', min_confidence => 0);
SELECT model, evaluator FROM ml.model_cache() WHERE model LIKE 'sf\_%' ORDER BY 1;
-- a model that cannot choose an action is the caller's error, evaluated natively or by XGBoost alike
SELECT version, deployed FROM ml.train('sf_dart_reg', 'sf_policy', 'x2', features => ARRAY['x1'],
                                       params => '{"booster": "dart", "num_round": 2}');
SELECT error_of($$SELECT ml.decide('sf_task', 'u1', '{"x1": 0.9}', 'rules', model => 'sf_dart_reg')$$);

-- 2. feature keys the model does not know (learnloop.unknown_features)
SHOW learnloop.unknown_features;
-- warning (the default): a misspelt key is said once per call site and set of keys, not per row
SELECT round(ml.predict('sf_idle', '{"x1": 0.9, "X2": 0.5}'::jsonb, 1)::numeric, 6) =
       round(ml.predict('sf_idle', '{"x1": 0.9}'::jsonb, 1)::numeric, 6) AS x2_was_missing;
SELECT count(*) AS rows_predicted
  FROM (SELECT ml.predict('sf_idle', jsonb_build_object('x1', i / 10.0, 'hourOfDay', i), 1)
          FROM generate_series(1, 5) i) p;
-- a row with none of the model's features is a warning, per row, even with ignore
SET learnloop.unknown_features = 'ignore';
SELECT ml.predict('sf_idle', '{"X1": 0.9, "colour": "red"}'::jsonb, 1) IS NOT NULL AS predicted_anyway;
SELECT ml.predict('sf_idle', '{"x1": null}'::jsonb, 1) IS NOT NULL AS predicted_anyway;
SELECT ml.predict('sf_idle', '{"x1": 0.9, "extra": 1}'::jsonb, 1) IS NOT NULL AS ignored_silently;
-- error: every call, also from a call site that already built its key layout
SET learnloop.unknown_features = 'Error';
SHOW learnloop.unknown_features;
SELECT error_of($$SELECT ml.predict('sf_idle', '{"x1": 0.9, "X2": 0.5}'::jsonb, 1)$$);
SELECT error_of($$SELECT ml.predict('sf_idle', jsonb_build_object('x1', i, 'a', 1, 'b', 2, 'c', 3, 'd', 4, 'e', 5, 'f', 6), 1)
                    FROM generate_series(1, 3) i$$);
SELECT error_of($$SELECT ml.predict('sf_idle', '{}'::jsonb, 1)$$);
SELECT error_of($$SELECT ml.decide('sf_task', 'u1', '{"x1": 0.9, "x_2": 0.5}', 'rules', model => 'sf_policy')$$);
SELECT ml.predict('sf_idle', '{"x1": 0.9, "x2": 0.5}'::jsonb, 1) IS NOT NULL AS known_keys_pass;
SELECT ml.predict('sf_idle', ARRAY[0.9, NULL]::real[], 1) IS NOT NULL AS arrays_are_positional;
SELECT error_of($$SET learnloop.unknown_features = 'loud'$$);
RESET learnloop.unknown_features;
-- the three decisions of part 1, none from the refused call
SELECT count(*) AS decisions_of_u1 FROM ml.mltrainingdata WHERE task = 'sf_task' AND unit_id = 'u1';

-- 3. a deployed model that cannot be loaded: ml.decide falls back with a WARNING, ml.predict raises
UPDATE ml.models SET model = '\x7b2262726f6b656e'::bytea WHERE name IN ('sf_policy', 'sf_dart');
SELECT action, confidence, decided_by FROM ml.decide('sf_task', 'u2', '{"x1": 0.9, "x2": 0.5}', 'rules',
                                                     model => 'sf_policy', min_confidence => 0);
-- latency_us varies: its shape is checked, the rest printed
SELECT decision - 'latency_us' AS decision,
       jsonb_typeof(decision->'latency_us') = 'number'
       AND (decision->>'latency_us')::numeric = trunc((decision->>'latency_us')::numeric)
       AND (decision->>'latency_us')::numeric >= 0 AS latency_us_ok
  FROM ml.mltrainingdata ORDER BY id DESC LIMIT 1;
SELECT error_of($$SELECT ml.predict('sf_policy', '{"x1": 0.9}'::jsonb)$$);
-- the session keeps working, the failed load left nothing behind, and the next call tries again
SELECT action, decided_by FROM ml.decide('sf_task', 'u2', '{"x1": 0.9}', 'rules', model => 'sf_dart');
SELECT action, decided_by FROM ml.decide('sf_task', 'u2', '{"x1": 0.9}', 'rules', model => 'sf_dart');
SELECT count(*) AS cached_broken FROM ml.model_cache() WHERE model IN ('sf_policy', 'sf_dart');
-- a rollback-like fix: deploy the working version of another name's bytes, and decide serves again
UPDATE ml.models SET model = (SELECT model FROM ml.models WHERE name = 'sf_idle' AND version = 1)
 WHERE name = 'sf_policy';
SELECT action, decided_by FROM ml.decide('sf_task', 'u2', '{"x1": 0.9, "x2": 0.5}', 'rules',
                                         model => 'sf_policy', min_confidence => 0);

-- 4. experiments: an unknown experiment, or a variant other than the unit's, is an error
SELECT name, status, allocation FROM ml.create_experiment('sf_exp', ARRAY['rules', 'model'], status => 'Draft',
                                                          allocation => 'FIXED', primary_metric => 'revenue',
                                                          guardrail_metrics => ARRAY['latency']);
SELECT status FROM ml.set_experiment_status('sf_exp', 'Running');
SELECT weights FROM ml.update_weights('sf_exp', '{0.5, 0.5}', source => 'Manual');
SELECT source FROM ml.experiment_allocations WHERE experiment = 'sf_exp' ORDER BY id DESC LIMIT 1;
SELECT ml.assign_variant('sf_exp', 'unit-' || i) AS variant, count(*)
  FROM generate_series(1, 40) i GROUP BY 1 ORDER BY 1;
SELECT ml.assign_variant('sf_exp', 'unit-1') AS unit1_variant \gset
SELECT count(*) AS decisions_before FROM ml.mltrainingdata \gset
SELECT error_of($$SELECT ml.record_decision('t', 'unit-1', '{}', '{}', experiment => 'sf_no_such_exp')$$);
SELECT error_of($$SELECT ml.record_decision('t', 'unit-1', '{}', '{}', experiment => 'sf_no_such_exp', variant => 'rules')$$);
SELECT error_of(format($$SELECT ml.record_decision('t', 'unit-1', '{}', '{}', experiment => 'sf_exp', variant => %L)$$,
                       CASE :'unit1_variant' WHEN 'rules' THEN 'model' ELSE 'rules' END));
SELECT error_of($$SELECT ml.record_decision('t', 'unit-1', '{}', '{}', experiment => 'sf_exp', variant => 'Rules')$$);
SELECT error_of($$SELECT ml.decide('t', 'unit-1', '{"x1": 0.9}', 'rules', model => 'sf_idle', experiment => 'sf_no_such_exp')$$);
SELECT error_of(format($$SELECT ml.decide('t', 'unit-1', '{"x1": 0.9}', 'rules', model => 'sf_idle', experiment => 'sf_exp', variant => %L)$$,
                       CASE :'unit1_variant' WHEN 'rules' THEN 'model' ELSE 'rules' END));
SELECT count(*) - :decisions_before AS rows_written FROM ml.mltrainingdata;
-- the assigned variant passes, from both functions; an experiment without a variant too
SELECT ml.record_decision('t', 'unit-1', '{}', '{}', experiment => 'sf_exp', variant => :'unit1_variant') > 0 AS recorded;
SELECT decided_by FROM ml.decide('t', 'unit-1', '{"x1": 0.9}', 'rules', model => 'sf_idle',
                                 experiment => 'sf_exp', variant => :'unit1_variant');
SELECT ml.record_decision('t', 'unit-1', '{}', '{}', experiment => 'sf_exp') > 0 AS recorded;
-- an unexposed unit's assigned variant is the hash's, as ml.assign_variant without logging says
SELECT ml.record_decision('t', 'fresh-unit', '{}', '{}', experiment => 'sf_exp',
                          variant => ml.assign_variant('sf_exp', 'fresh-unit', log_exposure => false)) > 0 AS recorded;
-- a unit outside the coverage has no variant
SELECT name FROM ml.create_experiment('sf_nobody', ARRAY['a', 'b'], coverage => 0);
SELECT error_of($$SELECT ml.record_decision('t', 'unit-1', '{}', '{}', experiment => 'sf_nobody', variant => 'a')$$);

-- 5. ml.analyze: a metric that no outcome has is an error, and nothing is stored
SELECT count(*) FILTER (WHERE ml.record_outcome('sf_exp', 'unit-' || i, 'engaged', i % 3) IS NOT NULL) AS outcomes
  FROM generate_series(1, 40) i;
SELECT count(*) AS analyses_before FROM ml.mlabtestresults WHERE test_name = 'sf_exp' \gset
SELECT error_of($$SELECT * FROM ml.analyze('sf_exp', 'Engaged')$$);
SELECT error_of($$SELECT * FROM ml.analyze('sf_exp', 'engagement')$$);
SELECT error_of($$SELECT * FROM ml.experiment_statistics('sf_exp', 'engagment')$$);
SELECT count(*) - :analyses_before AS stored FROM ml.mlabtestresults WHERE test_name = 'sf_exp';
-- declared metrics are analysed before their first outcome: the primary, and the guardrail
SELECT variant, units, units_with_value, verdict FROM ml.experiment_statistics('sf_exp') ORDER BY variant;
SELECT variant, units_with_value FROM ml.experiment_statistics('sf_exp', 'latency') ORDER BY variant;
-- a metric with outcomes is analysed and stored; the choices take any case and are stored in lowercase
SELECT variant, units_with_value, test FROM ml.analyze('sf_exp', 'engaged', correction => 'Holm', missing => 'Exclude')
 ORDER BY variant;
SELECT results->>'correction' AS correction, results->>'missing' AS missing, results->>'metric' AS metric
  FROM ml.mlabtestresults WHERE test_name = 'sf_exp' ORDER BY id DESC LIMIT 1;
SELECT count(*) - :analyses_before AS stored FROM ml.mlabtestresults WHERE test_name = 'sf_exp';
SELECT count(*) AS rows FROM ml.experiment_statistics('sf_exp', 'engaged', correction => 'BH', missing => 'ZERO');
SELECT error_of($$SELECT * FROM ml.experiment_statistics('sf_exp', 'engaged', correction => 'bonferroni')$$);

-- 6. one choice matcher: C functions and, through ml.check_choice, PL/pgSQL ones
SELECT ml.record_decision('t', 'u3', '{}', '{}', source => 'Synthetic') AS id \gset
SELECT source FROM ml.mltrainingdata WHERE id = :id;
SELECT ml.check_choice('Thompson', 'allocation', '{fixed, thompson}') AS canonical;
SELECT error_of($$SELECT ml.check_choice('greedy', 'allocation', '{fixed, thompson}')$$);
SELECT error_of($$SELECT ml.check_choice('fixed', 'allocation', NULL)$$);
SELECT error_of($$SELECT ml.check_choice('fixed', NULL, '{thompson, NULL}')$$);
SELECT error_of($$SELECT ml.check_choice(NULL, 'allocation', '{fixed, thompson}')$$);
SELECT error_of($$SELECT ml.create_experiment('sf_bad', ARRAY['a', 'b'], status => 'Stopped')$$);
SELECT error_of($$SELECT ml.create_experiment('sf_bad', ARRAY['a', 'b'], status => NULL)$$);
SELECT error_of($$SELECT ml.set_experiment_status('sf_exp', 'paused')$$);
SELECT error_of($$SELECT ml.grant_access('pg_monitor', 'everything')$$);

-- 7. the card's table names, quoted as Prisma writes them
SELECT (SELECT count(*) FROM ml."MLTrainingData") = (SELECT count(*) FROM ml.mltrainingdata) AS same_rows,
       (SELECT count(*) FROM ml."MLEvaluationResults") = (SELECT count(*) FROM ml.mlevaluationresults) AS same_evaluations,
       (SELECT count(*) FROM ml."MLABTestResults") = (SELECT count(*) FROM ml.mlabtestresults) AS same_analyses,
       (SELECT count(*) FROM ml."MLMonitoringMetrics") = (SELECT count(*) FROM ml.mlmonitoringmetrics) AS same_snapshots;
INSERT INTO ml."MLTrainingData" (task, unit_id, features, decision)
     VALUES ('sf_orm', 'u4', '{"x1": 1}', '{"action": "brief", "confidence": 0.7}')
  RETURNING task, unit_id, source, outcome IS NULL AS no_outcome, created_at > now() - interval '1 minute' AS recent;
UPDATE ml."MLTrainingData" SET outcome = '{"engaged": true}' WHERE task = 'sf_orm' RETURNING outcome;
SELECT task, outcome FROM ml.MLTrainingData WHERE task = 'sf_orm';
INSERT INTO ml."MLMonitoringMetrics" (model_name, period_start, period_end)
     VALUES ('sf_policy', '2026-01-01', '2026-01-02') RETURNING model_name, metrics;
SELECT count(*) AS through_the_table FROM ml.mlmonitoringmetrics WHERE model_name = 'sf_policy';
DELETE FROM ml."MLMonitoringMetrics" WHERE model_name = 'sf_policy';
SELECT count(*) AS after_delete FROM ml.mlmonitoringmetrics WHERE model_name = 'sf_policy';
-- the table's rules hold through the view
SELECT error_of($$INSERT INTO ml."MLTrainingData" (task, unit_id, features, decision) VALUES ('', 'u', '{}', '{}')$$);
-- only the card's exact case, and the unquoted names, exist
SELECT error_of($$SELECT count(*) FROM ml."MLTRAININGDATA"$$);

-- 8. CHECK constraints repeat the functions' per-row rules for plain INSERTs
SELECT error_of($$SELECT ml.record_decision('t', 'u', '{}', '{"confidence": 1.2}')$$);
SELECT error_of($$INSERT INTO ml.MLTrainingData (task, unit_id, features, decision) VALUES ('t', 'u', '{}', '{"confidence": 1.2}')$$);
SELECT error_of($$INSERT INTO ml.MLTrainingData (task, unit_id, features, decision) VALUES ('t', 'u', '{}', '{"confidence": -0.1}')$$);
SELECT error_of($$INSERT INTO ml.MLTrainingData (task, unit_id, features, decision) VALUES ('t', 'u', '{}', '{"confidence": "high"}')$$);
SELECT error_of($$INSERT INTO ml.MLTrainingData (task, unit_id, features, decision) VALUES ('t', 'u', '{}', '{"confidence": null}')$$);
SELECT error_of($$UPDATE ml.MLTrainingData SET decision = '{"confidence": 2}' WHERE task = 'sf_orm'$$);
SELECT error_of($$INSERT INTO ml.MLTrainingData (task, unit_id, features, decision) VALUES (repeat('t', 257), 'u', '{}', '{}')$$);
SELECT error_of($$INSERT INTO ml.MLTrainingData (task, unit_id, features, decision, experiment) VALUES ('t', 'u', '{}', '{}', '')$$);
SELECT error_of($$INSERT INTO ml.MLTrainingData (task, unit_id, features, decision, source) VALUES ('t', 'u', '{}', '{}', 'Real')$$);
-- what the function accepts, the table accepts
INSERT INTO ml.MLTrainingData (task, unit_id, features, decision, experiment, variant)
     VALUES (repeat('t', 256), 'u', '{}', '{"confidence": 1}', repeat('e', 256), 'v'),
            ('t', 'u', '{}', '{"confidence": 0, "action": "a"}', NULL, NULL)
  RETURNING octet_length(task) AS task_bytes, decision->'confidence' AS confidence;
