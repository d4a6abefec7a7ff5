-- pgTAP: per-cohort models' catalog (issue 14): the cohort columns, the deployments'
-- trigger, the readers of the global deployment, and their privileges
BEGIN;
CREATE EXTENSION learnloop;
SELECT plan(14);

SELECT has_column('ml', 'models', 'cohort', 'a version records its cohort');
SELECT has_column('ml', 'models', 'cohort_column', 'a version records its training''s cohort column');
SELECT col_is_null('ml', 'models', 'cohort', 'the global model''s cohort is NULL');
SELECT has_column('ml', 'deployments', 'cohort', 'a deployment records its cohort');
SELECT has_column('ml', 'deployment_decisions', 'cohort', 'a decision records its cohort');
SELECT has_column('ml', 'model_history', 'cohort', 'the history shows the cohort');
SELECT has_trigger('ml', 'deployments', 'deployments_cohort', 'the cohort of a deployment is set by a trigger');
SELECT trigger_is('ml', 'deployments', 'deployments_cohort', 'ml', 'deployment_cohort', 'by ml.deployment_cohort()');
SELECT function_privs_are('ml', 'deployment_cohort', ARRAY[]::text[], 'public', ARRAY[]::text[],
                          'nobody calls the trigger function');
SELECT is_indexed('ml', 'deployments', ARRAY['model_name', 'cohort', 'id'], 'the cohorts'' deployments are indexed');

-- a cohort model's deployment is its cohort's; the readers follow the global one
SET LOCAL learnloop.unknown_features = 'ignore';
SELECT throws_ok($$INSERT INTO ml.models (name, version, task, feature_schema, model, cohort)
                   VALUES ('tap_cohort', 1, 'regression', '{}', '\x00', 'a')$$,
                 '23514', NULL, 'a cohort needs its cohort column');
INSERT INTO ml.models (name, version, task, feature_schema, model, cohort_column, cohort)
VALUES ('tap_cohort', 1, 'regression', '{}', '\x00', 'persona', NULL),
       ('tap_cohort', 2, 'regression', '{}', '\x00', 'persona', 'a');
INSERT INTO ml.deployments (model_name, model_version, action) VALUES ('tap_cohort', 1, 'deploy');
INSERT INTO ml.deployments (model_name, model_version, action, cohort) VALUES ('tap_cohort', 2, 'deploy', 'forged');
SELECT results_eq($$SELECT model_version, cohort FROM ml.deployments WHERE model_name = 'tap_cohort' ORDER BY id$$,
                  $$VALUES (1, NULL::text), (2, 'a')$$, 'the trigger writes the version''s cohort, whatever the row said');
SELECT is(ml.deployed_version('tap_cohort'), 1, 'ml.deployed_version is the global deployment');
SELECT results_eq($$SELECT version, live, cohort FROM ml.model_history WHERE model_name = 'tap_cohort' ORDER BY version$$,
                  $$VALUES (1, true, NULL::text), (2, true, 'a')$$, 'each version is live in its cohort');

SELECT * FROM finish();
ROLLBACK;
