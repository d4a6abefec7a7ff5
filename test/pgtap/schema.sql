-- pgTAP: the learning-loop schema, its indexes and functions
BEGIN;
CREATE EXTENSION learnloop;
SELECT plan(56);

SELECT has_schema('ml');
SELECT tables_are('ml', ARRAY['mltrainingdata', 'models', 'deployments', 'mlevaluationresults',
                              'experiments', 'experiment_exposures', 'experiment_outcomes',
                              'experiment_allocations', 'mlabtestresults', 'mlmonitoringmetrics',
                              'deployment_decisions', 'channels', 'webhook_outbox', 'webhook_deliveries',
                              'alerts', 'alert_states', 'alert_events', 'bandits', 'bandit_arms', 'metrics']);

SELECT has_table('ml', 'mltrainingdata', 'MLTrainingData exists, created unquoted');
SELECT columns_are('ml', 'mltrainingdata', ARRAY['id', 'task', 'unit_id', 'created_at', 'features', 'decision',
                                               'outcome', 'outcome_at', 'source', 'experiment', 'variant',
                                               'augmented_from']);
SELECT col_type_is('ml', 'mltrainingdata', 'id', 'bigint', 'col_type_is ' || 'mltrainingdata' || '.' || 'id');
SELECT col_is_pk('ml', 'mltrainingdata', 'id', 'id is the primary key');
SELECT col_type_is('ml', 'mltrainingdata', 'features', 'jsonb', 'col_type_is ' || 'mltrainingdata' || '.' || 'features');
SELECT col_type_is('ml', 'mltrainingdata', 'decision', 'jsonb', 'col_type_is ' || 'mltrainingdata' || '.' || 'decision');
SELECT col_type_is('ml', 'mltrainingdata', 'outcome', 'jsonb', 'col_type_is ' || 'mltrainingdata' || '.' || 'outcome');
SELECT col_type_is('ml', 'mltrainingdata', 'created_at', 'timestamp with time zone', 'col_type_is ' || 'mltrainingdata' || '.' || 'created_at');
SELECT col_not_null('ml', 'mltrainingdata', 'features', 'col_not_null ' || 'mltrainingdata' || '.' || 'features');
SELECT col_is_null('ml', 'mltrainingdata', 'outcome', 'col_is_null ' || 'mltrainingdata' || '.' || 'outcome');
SELECT col_default_is('ml', 'mltrainingdata', 'source', 'real', 'col_default_is ' || 'mltrainingdata' || '.' || 'source');
SELECT col_has_check('ml', 'mltrainingdata', 'source', 'col_has_check ' || 'mltrainingdata' || '.' || 'source');
SELECT has_index('ml', 'mltrainingdata', 'mltrainingdata_task_time_idx', ARRAY['task', 'created_at']);
SELECT has_index('ml', 'mltrainingdata', 'mltrainingdata_unit_time_idx', ARRAY['unit_id', 'created_at']);
SELECT has_index('ml', 'mltrainingdata', 'mltrainingdata_experiment_idx', ARRAY['experiment', 'variant']);
SELECT fk_ok('ml', 'mltrainingdata', 'augmented_from', 'ml', 'mltrainingdata', 'id');
SELECT has_index('ml', 'mltrainingdata', 'mltrainingdata_augmented_from_idx', ARRAY['augmented_from']);

SELECT columns_are('ml', 'mlevaluationresults', ARRAY['id', 'model_name', 'model_version', 'accuracy', 'metrics',
                                                    'test_rows', 'created_at', 'feature_coverage']);
SELECT col_type_is('ml', 'mlevaluationresults', 'accuracy', 'double precision', 'col_type_is ' || 'mlevaluationresults' || '.' || 'accuracy');
SELECT fk_ok('ml', 'mlevaluationresults', ARRAY['model_name', 'model_version'], 'ml', 'models', ARRAY['name', 'version']);
SELECT columns_are('ml', 'mlabtestresults', ARRAY['id', 'test_name', 'duration_days', 'results', 'created_at']);
SELECT col_type_is('ml', 'mlabtestresults', 'results', 'jsonb', 'col_type_is ' || 'mlabtestresults' || '.' || 'results');
SELECT has_table('ml', 'mlmonitoringmetrics', 'MLMonitoringMetrics exists');
SELECT col_type_is('ml', 'models', 'model', 'bytea', 'col_type_is ' || 'models' || '.' || 'model');
SELECT col_is_pk('ml', 'models', ARRAY['name', 'version'], 'models are keyed by name and version');
SELECT fk_ok('ml', 'deployments', ARRAY['model_name', 'model_version'], 'ml', 'models', ARRAY['name', 'version']);
SELECT col_is_pk('ml', 'experiment_exposures', ARRAY['experiment', 'unit_id'], 'one exposure per unit and experiment');

SELECT has_function('ml', 'record_decision', ARRAY['text', 'text', 'jsonb', 'jsonb', 'text', 'text', 'text', 'timestamp with time zone', 'double precision']);
SELECT function_returns('ml', 'record_decision', ARRAY['text', 'text', 'jsonb', 'jsonb', 'text', 'text', 'text', 'timestamp with time zone', 'double precision'], 'bigint');
SELECT volatility_is('ml', 'record_decision', ARRAY['text', 'text', 'jsonb', 'jsonb', 'text', 'text', 'text', 'timestamp with time zone', 'double precision'], 'volatile');
SELECT has_function('ml', 'record_outcome', ARRAY['bigint', 'jsonb']);
SELECT function_returns('ml', 'record_outcome', ARRAY['bigint', 'jsonb'], 'jsonb');
SELECT function_lang_is('ml', 'record_outcome', ARRAY['bigint', 'jsonb'], 'c');
SELECT has_function('ml', 'simulated_decisions', ARRAY['integer', 'integer', 'integer', 'integer', 'timestamp with time zone', 'double precision']);
SELECT is_strict('ml', 'simulated_decisions', ARRAY['integer', 'integer', 'integer', 'integer', 'timestamp with time zone', 'double precision']);
SELECT has_function('ml', 'simulate_users', ARRAY['integer', 'integer', 'integer', 'integer', 'timestamp with time zone', 'text', 'double precision']);
SELECT has_function('ml', 'simulate_outcome', ARRAY['text', 'jsonb', 'text', 'integer', 'double precision']);
SELECT has_function('ml', 'simulated_decisions', ARRAY['jsonb', 'integer', 'integer', 'integer', 'timestamp with time zone']);
SELECT is_strict('ml', 'simulated_decisions', ARRAY['jsonb', 'integer', 'integer', 'integer', 'timestamp with time zone']);
SELECT has_function('ml', 'simulate_users', ARRAY['jsonb', 'text', 'integer', 'integer', 'integer', 'timestamp with time zone']);
SELECT has_function('ml', 'simulate_expected_outcome', ARRAY['jsonb', 'text', 'jsonb', 'text', 'integer']);
SELECT isnt_definer('ml', 'augment', ARRAY['text', 'text', 'integer', 'jsonb', 'integer'],
                    'ml.augment runs as the caller: its filter and its writes are the caller''s');
SELECT has_function('ml', 'monitor', ARRAY['text', 'interval', 'timestamp with time zone', 'integer', 'text', 'jsonb']);
SELECT is_definer('ml', 'monitor', ARRAY['text', 'interval', 'timestamp with time zone', 'integer', 'text', 'jsonb'],
                  'ml.monitor writes the metrics with the owner''s rights');
SELECT has_function('ml', 'evaluate_policy', ARRAY['text', 'text', 'text', 'timestamp with time zone',
       'timestamp with time zone', 'text', 'double precision', 'double precision', 'double precision', 'integer',
       'text', 'text', 'double precision', 'integer', 'bigint', 'double precision']);
SELECT isnt_definer('ml', 'evaluate_policy', ARRAY['text', 'text', 'text', 'timestamp with time zone',
       'timestamp with time zone', 'text', 'double precision', 'double precision', 'double precision', 'integer',
       'text', 'text', 'double precision', 'integer', 'bigint', 'double precision']);
SELECT has_function('ml', 'compare_policies', ARRAY['text', 'text', 'text', 'text', 'timestamp with time zone',
       'timestamp with time zone', 'text', 'double precision', 'double precision', 'double precision', 'integer',
       'integer', 'text', 'text', 'double precision', 'integer', 'bigint', 'double precision']);
SELECT isnt_definer('ml', 'compare_policies', ARRAY['text', 'text', 'text', 'text', 'timestamp with time zone',
       'timestamp with time zone', 'text', 'double precision', 'double precision', 'double precision', 'integer',
       'integer', 'text', 'text', 'double precision', 'integer', 'bigint', 'double precision']);
SELECT has_function('ml', 'build_info', '{}'::name[]);
SELECT has_function('ml', 'grant_access', ARRAY['regrole', 'text']);
SELECT isnt_definer('ml', 'record_decision', ARRAY['text', 'text', 'jsonb', 'jsonb', 'text', 'text', 'text', 'timestamp with time zone', 'double precision']);
SELECT isnt_definer('ml', 'record_outcome', ARRAY['bigint', 'jsonb']);
SELECT is((SELECT count(*)::int FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = 'ml' AND p.provolatile = 'i' AND p.proname NOT LIKE 'simulat%'
              AND p.proname NOT IN ('growthbook_hash', 'bucket_ranges', 'check_weights', 'check_choice', 'sample_size', 'power',
                                    'outcome_accum', 'outcome_combine', 'outcome_moments', 'bandit_reward',
                                    'outcome_number', 'uncertainty', 'uncertainty_spread')), 0,
          'only pure functions (simulation, hashing, sample sizes, moments, argument checks, uncertainty measures) are IMMUTABLE');
SELECT is((SELECT count(*)::int FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = 'ml' AND obj_description(p.oid, 'pg_proc') IS NULL), 0,
          'every function has a comment');

SELECT * FROM finish();
ROLLBACK;
