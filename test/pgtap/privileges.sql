-- pgTAP: who may record, read, train and deploy
BEGIN;
CREATE EXTENSION learnloop;
SELECT plan(24);

CREATE ROLE tap_app;
CREATE ROLE tap_analyst;
CREATE ROLE tap_trainer;
CREATE ROLE tap_deployer;
SELECT ml.grant_access('tap_app', 'record');
SELECT ml.grant_access('tap_analyst', 'read');
SELECT ml.grant_access('tap_trainer', 'train');
SELECT ml.grant_access('tap_deployer', 'deploy');

-- PUBLIC gets nothing
SELECT function_privs_are('ml', 'record_decision',
    ARRAY['text', 'text', 'jsonb', 'jsonb', 'text', 'text', 'text', 'timestamp with time zone', 'double precision'], 'public', '{}'::text[]);
SELECT function_privs_are('ml', 'record_outcome', ARRAY['bigint', 'jsonb'], 'public', '{}'::text[]);
SELECT function_privs_are('ml', 'simulate_users',
    ARRAY['integer', 'integer', 'integer', 'integer', 'timestamp with time zone', 'text', 'double precision'], 'public', '{}'::text[]);
SELECT table_privs_are('ml', 'mltrainingdata', 'public', '{}'::text[]);
SELECT table_privs_are('ml', 'models', 'public', '{}'::text[]);
SELECT schema_privs_are('ml', 'public', '{}'::text[]);

-- applications record: execute the two functions, insert, merge outcomes; no table-wide read
SELECT function_privs_are('ml', 'record_decision',
    ARRAY['text', 'text', 'jsonb', 'jsonb', 'text', 'text', 'text', 'timestamp with time zone', 'double precision'], 'tap_app', ARRAY['EXECUTE']);
SELECT function_privs_are('ml', 'record_outcome', ARRAY['bigint', 'jsonb'], 'tap_app', ARRAY['EXECUTE']);
SELECT table_privs_are('ml', 'mltrainingdata', 'tap_app', '{}'::text[], 'no table-wide privilege: columns only');
SELECT ok(has_column_privilege('tap_app', 'ml.mltrainingdata', 'outcome', 'UPDATE'), 'app may update outcome');
SELECT ok(NOT has_column_privilege('tap_app', 'ml.mltrainingdata', 'features', 'UPDATE'), 'app may not rewrite features');
SELECT ok(NOT has_column_privilege('tap_app', 'ml.mltrainingdata', 'features', 'SELECT'), 'app may not read features');
SELECT ok(has_column_privilege('tap_app', 'ml.mltrainingdata', 'features', 'INSERT'), 'app may insert features');

-- analysts read everything, write nothing
SELECT table_privs_are('ml', 'mltrainingdata', 'tap_analyst', ARRAY['SELECT']);
SELECT table_privs_are('ml', 'mlabtestresults', 'tap_analyst', ARRAY['INSERT', 'SELECT'], 'analysts store analyses (ml.analyze)');
SELECT function_privs_are('ml', 'record_decision',
    ARRAY['text', 'text', 'jsonb', 'jsonb', 'text', 'text', 'text', 'timestamp with time zone', 'double precision'], 'tap_analyst', '{}'::text[]);

-- trainers read the training data and register models; deployers deploy
SELECT table_privs_are('ml', 'models', 'tap_trainer', ARRAY['INSERT', 'SELECT']);
SELECT table_privs_are('ml', 'deployments', 'tap_deployer', ARRAY['INSERT', 'SELECT']);

-- behaviour under SET ROLE
SET LOCAL ROLE tap_app;
SELECT lives_ok($$SELECT ml.record_outcome(ml.record_decision('t', 'u', '{}', '{}'), '{"x": 1}')$$,
                'app records a decision and its outcome');
SELECT throws_ok($$SELECT ml.simulate_users(1, 1)$$, '42501', NULL, 'app cannot run the simulation');
-- a lazy fallback: the app fills in the action it took, though it may not rewrite decisions itself
SELECT is(ml.record_fallback(ml.record_decision('t', 'u', '{}', '{"action": null, "decided_by": "unsure"}'), 'rules')->>'action',
          'rules', 'app fills in the fallback it took');
SELECT throws_ok($$UPDATE ml.mltrainingdata SET decision = '{}'$$, '42501', NULL, 'app cannot rewrite decisions');
RESET ROLE;
SELECT function_privs_are('ml', 'record_fallback', ARRAY['bigint', 'text'], 'tap_app', ARRAY['EXECUTE']);
SELECT function_privs_are('ml', 'record_fallback', ARRAY['bigint', 'text'], 'tap_analyst', '{}'::text[]);

SELECT * FROM finish();
ROLLBACK;
