-- pgTAP: the training and deployment API
BEGIN;
CREATE EXTENSION learnloop;
SELECT plan(16);

SELECT has_function('ml', 'train', ARRAY['text', 'text', 'text', 'text', 'text[]', 'jsonb', 'double precision', 'text',
    'text', 'integer', 'text', 'text', 'integer', 'jsonb', 'text', 'integer', 'text', 'text', 'double precision', 'text', 'jsonb', 'text', 'jsonb',
    'text', 'integer', 'text', 'integer', 'boolean']);
SELECT is((SELECT proretset FROM pg_proc WHERE oid = 'ml.train'::regproc), true, 'ml.train returns a set');
SELECT volatility_is('ml', 'train', ARRAY['text', 'text', 'text', 'text', 'text[]', 'jsonb', 'double precision', 'text',
    'text', 'integer', 'text', 'text', 'integer', 'jsonb', 'text', 'integer', 'text', 'text', 'double precision', 'text', 'jsonb', 'text', 'jsonb',
    'text', 'integer', 'text', 'integer', 'boolean'], 'volatile');
SELECT has_function('ml', 'train_async', ARRAY['text', 'text', 'text', 'text', 'text[]', 'jsonb', 'double precision', 'text',
    'text', 'integer', 'text', 'text', 'integer', 'jsonb', 'text', 'integer', 'text', 'text', 'double precision', 'text', 'jsonb', 'text', 'jsonb',
    'text', 'integer', 'text', 'integer', 'boolean']);
SELECT has_view('ml', 'training_jobs', 'ml.training_jobs exists');
SELECT columns_are('ml', 'training_jobs', ARRAY['job_id', 'model', 'role', 'database', 'pid', 'caller_pid', 'phase',
    'candidate', 'candidates', 'round', 'total_rounds', 'rows', 'started', 'status', 'error', 'training_memory']);
SELECT has_function('ml', 'cancel_training', ARRAY['bigint']);
SELECT has_function('ml', 'deploy', ARRAY['text', 'integer', 'text']);
SELECT has_function('ml', 'rollback', ARRAY['text', 'text']);
SELECT volatility_is('ml', 'deployed_version', ARRAY['text'], 'stable');
SELECT has_sequence('ml', 'training_job_id_seq', 'job ids come from a sequence');
SELECT col_type_is('ml', 'models', 'feature_importance', 'jsonb', 'feature importance is stored');
SELECT function_privs_are('ml', 'train', ARRAY['text', 'text', 'text', 'text', 'text[]', 'jsonb', 'double precision', 'text',
    'text', 'integer', 'text', 'text', 'integer', 'jsonb', 'text', 'integer', 'text', 'text', 'double precision', 'text', 'jsonb', 'text', 'jsonb',
    'text', 'integer', 'text', 'integer', 'boolean'],
    'public', '{}'::text[]);
SELECT function_privs_are('ml', 'deploy', ARRAY['text', 'integer', 'text'], 'public', '{}'::text[]);
SELECT throws_ok($$SELECT * FROM ml.train('m', 't', 'y', split => 'sideways')$$, '22023',
                 'unknown split "sideways"', 'bad arguments fail before any worker starts');
SELECT throws_ok($$SELECT ml.rollback('never_deployed')$$, '55000', NULL, 'rollback needs history');

SELECT * FROM finish();
ROLLBACK;
