-- pgTAP: the deployment gate's API and privileges (decisions, history, deploy_guards, ml.validate_model)
BEGIN;
CREATE EXTENSION learnloop;
SELECT plan(22);

CREATE ROLE tap_gate_analyst;
CREATE ROLE tap_gate_trainer;
CREATE ROLE tap_gate_deployer;
SELECT ml.grant_access('tap_gate_analyst', 'read');
SELECT ml.grant_access('tap_gate_trainer', 'train');
SELECT ml.grant_access('tap_gate_deployer', 'deploy');

-- the objects
SELECT has_table('ml', 'deployment_decisions', 'every deployment decision is stored');
SELECT col_is_unique('ml', 'deployment_decisions', ARRAY['model_name', 'model_version'], 'one decision per version');
SELECT fk_ok('ml', 'deployment_decisions', ARRAY['model_name', 'model_version'], 'ml', 'models', ARRAY['name', 'version']);
SELECT has_view('ml', 'model_history', 'the deployment report');
SELECT columns_are('ml', 'model_history', ARRAY['model_name', 'version', 'trained_at', 'trained_by', 'train_rows',
    'test_rows', 'metric', 'score', 'champion_version', 'champion_score', 'coverage', 'champion_coverage', 'comparable',
    'policy', 'deployed', 'reason', 'live', 'lineage', 'cohort']);
SELECT has_column('ml', 'mlevaluationresults', 'feature_coverage', 'evaluations store their feature coverage');
SELECT is((SELECT pg_get_function_arguments('ml.train'::regproc) LIKE '%deploy_guards jsonb DEFAULT NULL::jsonb%'),
          true, 'ml.train takes deploy_guards, NULL by default');
SELECT is((SELECT pg_get_function_arguments('ml.train_async'::regproc) LIKE '%deploy_guards jsonb DEFAULT NULL::jsonb%'),
          true, 'ml.train_async takes deploy_guards, NULL by default');
SELECT has_function('ml', 'validate_model', ARRAY['text', 'integer']);
SELECT volatility_is('ml', 'validate_model', ARRAY['text', 'integer'], 'stable');

-- privileges: nothing for PUBLIC; readers read, trainers record decisions, deployers validate
SELECT function_privs_are('ml', 'validate_model', ARRAY['text', 'integer'], 'public', '{}'::text[]);
SELECT table_privs_are('ml', 'deployment_decisions', 'public', '{}'::text[]);
SELECT table_privs_are('ml', 'deployment_decisions', 'tap_gate_analyst', ARRAY['SELECT']);
SELECT table_privs_are('ml', 'model_history', 'tap_gate_analyst', ARRAY['SELECT']);
SELECT table_privs_are('ml', 'deployment_decisions', 'tap_gate_trainer', ARRAY['INSERT', 'SELECT']);
SELECT table_privs_are('ml', 'model_history', 'tap_gate_deployer', ARRAY['SELECT']);
SELECT function_privs_are('ml', 'validate_model', ARRAY['text', 'integer'], 'tap_gate_deployer', ARRAY['EXECUTE']);

-- deploy_guards fails before any worker starts
SELECT throws_ok($$SELECT * FROM ml.train('m', 't', 'y', deploy_guards => '"strict"')$$, '22023',
                 'deploy_guards must be a JSON object', 'deploy_guards must be an object');
SELECT throws_ok($$SELECT * FROM ml.train('m', 't', 'y', deploy_guards => '{"ece": {"absolute": "0.1"}}')$$, '22023',
                 'deploy_guards: the tolerance of "ece" must be a number, {"relative": x} or {"absolute": x}',
                 'a tolerance is a number');

-- a deployer cannot deploy a model that does not load, and nothing is written
INSERT INTO ml.models (name, version, task, feature_schema, model)
VALUES ('tap_forged', 1, 'regression', '{"task": "regression", "features": []}', '\x00'::bytea);
SET LOCAL ROLE tap_gate_deployer;
SELECT throws_like($$SELECT ml.deploy('tap_forged', 1)$$, 'model "tap_forged" version 1 cannot be loaded: %',
                   'ml.deploy refuses a model that cannot be loaded');
SELECT throws_ok($$SELECT ml.deploy('tap_forged', 1)$$, 'XX001', NULL, 'with SQLSTATE data_corrupted');
RESET ROLE;
SELECT is((SELECT count(*) FROM ml.deployments WHERE model_name = 'tap_forged'), 0::bigint, 'no deployment row');

SELECT * FROM finish();
ROLLBACK;
