-- Per-cohort models (issue 14): ml.train's cohort_column trains a global model and
-- one per cohort, each deployed against its own champion; serving routes a row to
-- its cohort's deployed model and falls back to the global one.
SET client_min_messages = warning;  -- progress notices depend on timing

-- Three cohorts with opposite rules, and a small one ('d', 30 rows).
CREATE TABLE cohort_rows AS
SELECT i AS id,
       CASE WHEN i % 100 < 3 THEN 'd' ELSE (ARRAY['a', 'b', 'c'])[1 + i % 3] END AS persona,
       ((i * 7919) % 1000) / 1000.0 AS x1,
       ((i * 104729) % 997) / 997.0 AS x2,
       i % 5 AS level
  FROM generate_series(1, 1200) i;
ALTER TABLE cohort_rows ADD COLUMN y boolean;
UPDATE cohort_rows SET y = CASE persona WHEN 'a' THEN x1 > 0.5 WHEN 'b' THEN x1 < 0.5
                                        WHEN 'c' THEN x2 > 0.5 ELSE x2 < 0.3 END;
SELECT persona, count(*) FROM cohort_rows GROUP BY 1 ORDER BY 1;

-- bad arguments: each a clear error, and nothing registered
SELECT error_of($$SELECT ml.train('coh', 'cohort_rows', 'y', cohort_column => '')$$);
SELECT error_of($$SELECT ml.train('coh', 'cohort_rows', 'y', cohort_column => 'persona', min_cohort_rows => 0)$$);
SELECT error_of($$SELECT ml.train('coh', 'cohort_rows', 'y', cohort_column => 'nosuch')$$);
SELECT error_of($$SELECT ml.train('coh', 'cohort_rows', 'y', features => ARRAY['x1', 'x2'], cohort_column => 'persona')$$);
SELECT error_of($$SELECT ml.train('coh', 'cohort_rows', 'y', cohort_column => 'level')$$);
SELECT error_of($$SELECT ml.train('coh', 'cohort_rows', 'y', cohort_column => 'persona',
                                  deploy_metric => 'policy_value', policy_evaluation => '{"task": "t", "reward": "r"}')$$);
SELECT count(*) AS registered FROM ml.models WHERE name = 'coh';

-- the cohort training: the global model first, then a, b, c; d is too small
SELECT model_name, version, deployed, reason
  FROM ml.train('coh', 'cohort_rows', 'y', features => ARRAY['persona', 'x1', 'x2'],
                params => '{"num_round": 20, "max_depth": 3}', seed => 7,
                cohort_column => 'persona', min_cohort_rows => 100);
SELECT version, cohort_column, cohort, train_rows, test_rows FROM ml.models WHERE name = 'coh' ORDER BY version;
SELECT model_version, cohort, action FROM ml.deployments WHERE model_name = 'coh' ORDER BY id;
SELECT model_version, cohort, champion_version, deployed FROM ml.deployment_decisions
 WHERE model_name = 'coh' ORDER BY model_version;
SELECT ml.deployed_version('coh') AS global_deployed;

-- each cohort's model is tested on its own rows: the global test rows of the cohort
SELECT r.model_version, r.metrics->>'cohort' AS cohort, r.test_rows = m.test_rows AS own_rows,
       (r.metrics->>'rows')::int = m.test_rows AS rows_counted
  FROM ml.mlevaluationresults r JOIN ml.models m ON m.name = r.model_name AND m.version = r.model_version
 WHERE r.model_name = 'coh' ORDER BY r.model_version;
-- the routed whole on the global test rows: every row of a, b and c by its cohort's model
SELECT r.metrics->'cohorts' AS cohorts, r.metrics->>'cohort_column' AS cohort_column,
       (r.metrics->>'routed_rows')::int = (SELECT sum(test_rows) FROM ml.models WHERE name = 'coh' AND cohort IS NOT NULL) AS routed_rows_are_the_cohorts,
       (r.metrics->'routed'->>'rows')::int = m.test_rows AS routed_on_all_test_rows,
       (r.metrics->'routed'->>'log_loss')::float8 < (r.metrics->>'log_loss')::float8 AS routed_beats_global
  FROM ml.mlevaluationresults r JOIN ml.models m ON m.name = r.model_name AND m.version = r.model_version
 WHERE r.model_name = 'coh' AND r.model_version = 1;

-- the global model is the model a plain ml.train of all rows gives for the seed
SELECT version FROM ml.train('coh_plain', 'cohort_rows', 'y', features => ARRAY['persona', 'x1', 'x2'],
                             params => '{"num_round": 20, "max_depth": 3}', seed => 7);
SELECT (SELECT model FROM ml.models WHERE name = 'coh' AND version = 1) =
       (SELECT model FROM ml.models WHERE name = 'coh_plain' AND version = 1) AS same_trees,
       max(abs(ml.predict('coh', to_jsonb(r) - 'y' - 'id' - 'level', 1) -
                   ml.predict('coh_plain', to_jsonb(r) - 'y' - 'id' - 'level'))) AS max_difference
  FROM cohort_rows r;

-- routing: a row goes to its cohort's deployed model
SELECT bool_and(ml.predict('coh', f) = ml.predict('coh', f, v)) AS routed_to_cohort, count(*)
  FROM (SELECT jsonb_build_object('persona', m.cohort, 'x1', r.x1, 'x2', r.x2) AS f, m.version AS v
          FROM ml.models m, cohort_rows r WHERE m.name = 'coh' AND m.cohort IS NOT NULL AND r.id <= 50) s;
-- and falls back to the global model: a too-small cohort, an unknown value, a null,
-- no key, a number; a positional float4[] row is not routed either
SELECT label, ml.predict('coh', f) = ml.predict('coh', f, 1) AS served_by_global
  FROM (VALUES ('too small', '{"persona": "d", "x1": 0.9, "x2": 0.1}'::jsonb),
               ('unknown', '{"persona": "zz", "x1": 0.9, "x2": 0.1}'),
               ('null', '{"persona": null, "x1": 0.9, "x2": 0.1}'),
               ('absent', '{"x1": 0.9, "x2": 0.1}'),
               ('number', '{"persona": 2, "x1": 0.9, "x2": 0.1}')) t (label, f);
SELECT ml.predict('coh', ARRAY[1, 0.9, 0.1]::real[]) = ml.predict('coh', ARRAY[1, 0.9, 0.1]::real[], 1) AS array_served_by_global;
-- the cohorts' rules differ, and routing follows them
SELECT p, round(ml.predict('coh', jsonb_build_object('persona', p, 'x1', 0.9, 'x2', 0.9))) AS high_x,
       round(ml.predict('coh', jsonb_build_object('persona', p, 'x1', 0.1, 'x2', 0.1))) AS low_x
  FROM unnest(ARRAY['a', 'b', 'c']) p;
-- predict_proba, predict_label and explain route too
SELECT (ml.predict_proba('coh', '{"persona": "b", "x1": 0.9}'::jsonb))[2] = ml.predict('coh', '{"persona": "b", "x1": 0.9}'::jsonb, 3) AS proba_routed,
       ml.predict_label('coh', '{"persona": "b", "x1": 0.9}'::jsonb) AS label_b,
       ml.predict_label('coh', '{"persona": "a", "x1": 0.9}'::jsonb) AS label_a;
SELECT (SELECT sum(contribution) FROM ml.explain('coh', '{"persona": "b", "x1": 0.9, "x2": 0.5}')) =
       (SELECT sum(contribution) FROM ml.explain('coh', '{"persona": "b", "x1": 0.9, "x2": 0.5}', 3)) AS explain_routed;

-- ml.decide says which model served, in decided_by and in the decision row
SELECT decided_by FROM ml.decide('cohort_task', 'u1', '{"persona": "b", "x1": 0.9, "x2": 0.1}', model => 'coh');
SELECT decided_by FROM ml.decide('cohort_task', 'u2', '{"persona": "d", "x1": 0.9, "x2": 0.1}', model => 'coh');
SELECT unit_id, decision->>'model' AS model, decision->>'version' AS version, decision->>'cohort' AS cohort
  FROM ml.mltrainingdata WHERE task = 'cohort_task' ORDER BY id;

-- champion/challenger cohort by cohort: a retraining compares each cohort's model with
-- that cohort's deployed one on the same rows (the same seed: the same models, none better)
SELECT version, deployed, reason
  FROM ml.train('coh', 'cohort_rows', 'y', features => ARRAY['persona', 'x1', 'x2'],
                params => '{"num_round": 20, "max_depth": 3}', seed => 7,
                cohort_column => 'persona', min_cohort_rows => 100);
SELECT d.model_version, d.cohort, d.champion_version, m.cohort AS champion_cohort, d.comparable,
       d.score = d.champion_score AS same_score, d.deployed
  FROM ml.deployment_decisions d JOIN ml.models m ON m.name = d.model_name AND m.version = d.champion_version
 WHERE d.model_name = 'coh' AND d.model_version > 4 ORDER BY d.model_version;
SELECT version, live, cohort FROM ml.model_history WHERE model_name = 'coh' ORDER BY version;

-- a cohort without a deployed model of its own is compared with the deployed global
-- model, which serves its rows: here the plain model of all rows, on log loss
SELECT version, deployed, reason
  FROM ml.train('coh_plain', 'cohort_rows', 'y', features => ARRAY['persona', 'x1', 'x2'],
                params => '{"num_round": 20, "max_depth": 3}', seed => 7, metric => 'log_loss',
                cohort_column => 'persona', min_cohort_rows => 100);
SELECT model_version, cohort, champion_version, deployed FROM ml.deployment_decisions
 WHERE model_name = 'coh_plain' ORDER BY model_version;
-- the global deployment stays the plain version 1, and rows of a deployed cohort are routed
SELECT ml.deployed_version('coh_plain') AS global_deployed,
       ml.predict('coh_plain', '{"persona": "b", "x1": 0.9}'::jsonb) = ml.predict('coh_plain', '{"persona": "b", "x1": 0.9}'::jsonb, 4) AS b_routed,
       ml.predict('coh_plain', '{"persona": "zz", "x1": 0.9}'::jsonb) = ml.predict('coh_plain', '{"persona": "zz", "x1": 0.9}'::jsonb, 1) AS unknown_global;

-- a cohort's champion stays its cohort's deployed model when a global version is
-- deployed after it
SELECT ml.deploy('coh_plain', 2) > 0 AS global_deployed_last;
SELECT version, deployed FROM ml.train('coh_plain', 'cohort_rows', 'y', features => ARRAY['persona', 'x1', 'x2'],
                                       params => '{"num_round": 20, "max_depth": 3}', seed => 7, metric => 'log_loss',
                                       cohort_column => 'persona', min_cohort_rows => 100, deploy => 'never');
SELECT model_version, cohort, champion_version FROM ml.deployment_decisions
 WHERE model_name = 'coh_plain' AND model_version > 5 ORDER BY model_version;

-- a cohort's deployment is its own: ml.deploy of a cohort's version moves that cohort
-- only, and ml.rollback and ml.deployed_version follow the global deployments
SELECT ml.deploy('coh', 7) > 0 AS deployed_b_again;
SELECT cohort FROM ml.deployments WHERE model_name = 'coh' ORDER BY id DESC LIMIT 1;
SELECT ml.deployed_version('coh') AS global_deployed;
SELECT error_of($$SELECT ml.rollback('coh')$$);
SELECT decided_by FROM ml.decide('cohort_task', 'u3', '{"persona": "b", "x1": 0.9, "x2": 0.1}', model => 'coh');

-- privileges: a role given 'predict' is routed; one given 'train' trains cohorts
CREATE ROLE learnloop_cohort_reader;
CREATE ROLE learnloop_cohort_trainer;
SELECT ml.grant_access('learnloop_cohort_reader', 'predict');
SELECT ml.grant_access('learnloop_cohort_trainer', 'train');
GRANT SELECT ON cohort_rows TO learnloop_cohort_trainer;
SET ROLE learnloop_cohort_reader;
SELECT ml.predict('coh', '{"persona": "a", "x1": 0.9}'::jsonb) = ml.predict('coh', '{"persona": "a", "x1": 0.9}'::jsonb, 2) AS reader_routed;
SELECT error_of($$SELECT ml.train('coh_reader', 'cohort_rows', 'y', cohort_column => 'persona')$$);
RESET ROLE;
SET ROLE learnloop_cohort_trainer;
SELECT count(*) AS rows, bool_and(model_name = 'coh_trainer') AS named
  FROM ml.train('coh_trainer', 'cohort_rows', 'y', features => ARRAY['persona', 'x1', 'x2'],
                params => '{"num_round": 5}', cohort_column => 'persona', min_cohort_rows => 100);
SELECT error_of($$INSERT INTO ml.deployments (model_name, model_version, action) VALUES ('coh_trainer', 2, 'deploy')$$);
SELECT error_of($$SELECT ml.deployment_cohort()$$);
RESET ROLE;
SELECT count(*) AS trainer_models, count(cohort) AS cohort_models, bool_and(trained_by = 'learnloop_cohort_trainer') AS by_trainer
  FROM ml.models WHERE name = 'coh_trainer';
DELETE FROM ml.mlevaluationresults WHERE model_name = 'coh_trainer';
DELETE FROM ml.deployment_decisions WHERE model_name = 'coh_trainer';
DELETE FROM ml.deployments WHERE model_name = 'coh_trainer';
DELETE FROM ml.models WHERE name = 'coh_trainer';
REVOKE ALL ON cohort_rows FROM learnloop_cohort_trainer;
REVOKE ALL ON ALL TABLES IN SCHEMA ml FROM learnloop_cohort_reader, learnloop_cohort_trainer;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA ml FROM learnloop_cohort_reader, learnloop_cohort_trainer;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA ml FROM learnloop_cohort_reader, learnloop_cohort_trainer;
REVOKE ALL ON SCHEMA ml FROM learnloop_cohort_reader, learnloop_cohort_trainer;
DROP ROLE learnloop_cohort_reader;
DROP ROLE learnloop_cohort_trainer;

-- leave nothing to the suites that follow
DELETE FROM ml.mltrainingdata WHERE task = 'cohort_task';
DELETE FROM ml.mlevaluationresults WHERE model_name IN ('coh', 'coh_plain');
DELETE FROM ml.deployment_decisions WHERE model_name IN ('coh', 'coh_plain');
DELETE FROM ml.deployments WHERE model_name IN ('coh', 'coh_plain');
DELETE FROM ml.models WHERE name IN ('coh', 'coh_plain');
DROP TABLE cohort_rows;
