-- pgTAP: the experiment functions and tables: existence, volatility, default-deny privileges
BEGIN;
CREATE EXTENSION learnloop;
SELECT plan(41);

SELECT has_table('ml', t, 'table ml.' || t) FROM unnest(ARRAY['experiments', 'experiment_exposures',
    'experiment_outcomes', 'experiment_allocations', 'mlabtestresults']) t;
SELECT col_is_pk('ml', 'experiment_outcomes', ARRAY['experiment', 'unit_id', 'metric'],
                 'one outcome row per experiment, unit and metric');
SELECT col_is_pk('ml', 'experiment_exposures', ARRAY['experiment', 'unit_id'], 'one exposure per unit');
SELECT has_trigger('ml', 'experiments', 'experiments_invalidate_cache', 'ml.experiments invalidates the cache');
SELECT has_trigger('ml', 'mltrainingdata', 'mltrainingdata_experiment_outcomes', 'decisions feed experiments');

-- every function exists with its volatility; nothing depending on configuration is IMMUTABLE
SELECT volatility_is('ml', f, args, v, f || ' is ' || v) FROM (VALUES
    ('create_experiment', ARRAY['text', 'text[]', 'double precision[]', 'double precision', 'text', 'integer',
                                'text', 'text', 'text[]', 'integer', 'text'], 'volatile'),
    ('set_experiment_status', ARRAY['text', 'text'], 'volatile'),
    ('update_weights', ARRAY['text', 'double precision[]', 'text'], 'volatile'),
    ('lock_experiment', ARRAY['text'], 'volatile'),
    ('assign_variant', ARRAY['text', 'text', 'boolean'], 'volatile'),
    ('record_outcome', ARRAY['text', 'text', 'text', 'double precision'], 'volatile'),
    ('experiment_statistics', ARRAY['text', 'text', 'double precision', 'text', 'boolean', 'text'], 'stable'),
    ('analyze', ARRAY['text', 'text', 'double precision', 'text', 'boolean', 'text'], 'volatile'),
    ('experiment_power', ARRAY['text', 'double precision', 'text', 'double precision', 'boolean'], 'stable'),
    ('thompson_weights', ARRAY['text', 'integer', 'double precision', 'integer', 'bigint'], 'stable'),
    ('update_allocation', ARRAY['text', 'integer', 'double precision', 'integer', 'bigint'], 'volatile'),
    ('sample_size', ARRAY['double precision', 'double precision', 'double precision', 'double precision',
                          'boolean', 'double precision'], 'immutable'),
    ('power', ARRAY['double precision', 'double precision', 'double precision', 'double precision',
                    'boolean', 'double precision'], 'immutable'),
    ('growthbook_hash', ARRAY['text', 'text', 'integer'], 'immutable'),
    ('bucket_ranges', ARRAY['double precision', 'double precision[]'], 'immutable'),
    ('check_weights', ARRAY['text[]', 'double precision[]'], 'immutable'),
    ('invalidate_table_cache', ARRAY[]::text[], 'volatile'),
    ('experiment_outcomes_from_decision', ARRAY[]::text[], 'volatile')
) AS f(f, args, v);

-- PUBLIC gets nothing: not the functions, not the tables
SELECT function_privs_are('ml', 'assign_variant', ARRAY['text', 'text', 'boolean'], 'public', '{}'::text[]);
SELECT function_privs_are('ml', 'record_outcome', ARRAY['text', 'text', 'text', 'double precision'], 'public', '{}'::text[]);
SELECT function_privs_are('ml', 'create_experiment', ARRAY['text', 'text[]', 'double precision[]', 'double precision',
    'text', 'integer', 'text', 'text', 'text[]', 'integer', 'text'], 'public', '{}'::text[]);
SELECT function_privs_are('ml', 'analyze', ARRAY['text', 'text', 'double precision', 'text', 'boolean', 'text'],
                          'public', '{}'::text[]);
SELECT function_privs_are('ml', 'update_allocation', ARRAY['text', 'integer', 'double precision', 'integer', 'bigint'],
                          'public', '{}'::text[]);
SELECT function_privs_are('ml', 'sample_size', ARRAY['double precision', 'double precision', 'double precision',
    'double precision', 'boolean', 'double precision'], 'public', '{}'::text[]);
SELECT table_privs_are('ml', t, 'public', '{}'::text[], 'PUBLIC has no privilege on ml.' || t)
  FROM unnest(ARRAY['experiments', 'experiment_exposures', 'experiment_outcomes', 'experiment_allocations']) t;

-- a role without grants is refused; with the grants listed in docs/experiments.md it works
CREATE ROLE tap_exp_nobody;
CREATE ROLE tap_exp_app;
SELECT is((ml.create_experiment('tap', ARRAY['a', 'b'])).name, 'tap', 'the owner creates an experiment');
GRANT USAGE ON SCHEMA ml TO tap_exp_nobody, tap_exp_app;
GRANT EXECUTE ON FUNCTION ml.assign_variant(text, text, boolean),
                          ml.record_outcome(text, text, text, double precision) TO tap_exp_app;
GRANT SELECT ON ml.experiments TO tap_exp_app;
GRANT SELECT, INSERT ON ml.experiment_exposures TO tap_exp_app;
GRANT SELECT, INSERT, UPDATE ON ml.experiment_outcomes TO tap_exp_app;
SET LOCAL ROLE tap_exp_nobody;
SELECT throws_ok($$SELECT ml.assign_variant('tap', 'u1')$$, '42501', NULL, 'no grant: no assignment');
RESET ROLE;
SET LOCAL ROLE tap_exp_app;
SELECT lives_ok($$SELECT ml.record_outcome('tap', 'u1', 'm', CASE WHEN ml.assign_variant('tap', 'u1') IS NULL THEN 0 ELSE 1 END)$$,
                'with the record grants: assign and record an outcome');
SELECT throws_ok($$SELECT ml.update_weights('tap', '{0.2, 0.8}')$$, '42501', NULL, 'an application cannot reweight');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
