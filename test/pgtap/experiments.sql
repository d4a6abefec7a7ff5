-- pgTAP: the experiment functions and tables: existence, volatility, default-deny privileges
BEGIN;
CREATE EXTENSION learnloop;
SELECT plan(52);

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
    ('experiment_statistics', ARRAY['text', 'text', 'double precision', 'text', 'boolean', 'text', 'boolean'], 'stable'),
    ('analyze', ARRAY['text', 'text', 'double precision', 'text', 'boolean', 'text', 'boolean'], 'volatile'),
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
SELECT function_privs_are('ml', 'analyze', ARRAY['text', 'text', 'double precision', 'text', 'boolean', 'text', 'boolean'],
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
-- no-values: a declared metric without outcomes, analysed for its unit counts
SELECT is((ml.create_experiment('tap', ARRAY['a', 'b'], guardrail_metrics => ARRAY['no-values'])).name, 'tap',
          'the owner creates an experiment');
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

-- the direct writes need every privilege the SQL statements would: SELECT alone writes nothing,
-- and neither analysis nor outcome reads past row-level security or missing SELECT
CREATE ROLE tap_exp_reader;
GRANT USAGE ON SCHEMA ml TO tap_exp_reader;
GRANT EXECUTE ON FUNCTION ml.assign_variant(text, text, boolean),
                          ml.record_outcome(text, text, text, double precision),
                          ml.experiment_statistics(text, text, double precision, text, boolean, text, boolean) TO tap_exp_reader;
GRANT SELECT ON ml.experiments, ml.experiment_exposures, ml.experiment_outcomes TO tap_exp_reader;
SET LOCAL ROLE tap_exp_reader;
SELECT throws_ok($$SELECT ml.assign_variant('tap', 'reader-new')$$, '42501', NULL,
                 'SELECT without INSERT: no exposure logged');
SELECT throws_ok($$SELECT ml.record_outcome('tap', 'u1', 'other', 1)$$, '42501', NULL,
                 'SELECT without INSERT: no outcome recorded');
RESET ROLE;
REVOKE SELECT ON ml.experiment_exposures FROM tap_exp_reader;
SET LOCAL ROLE tap_exp_reader;
SELECT throws_ok($$SELECT count(*) FROM ml.experiment_statistics('tap', 'm')$$, '42501', NULL,
                 'no SELECT on the exposures: no unit counts either');
RESET ROLE;
ALTER TABLE ml.experiment_exposures ENABLE ROW LEVEL SECURITY;
CREATE POLICY tap_hide_u1 ON ml.experiment_exposures USING (unit_id <> 'u1');
GRANT SELECT ON ml.experiment_exposures TO tap_exp_app;
SET LOCAL ROLE tap_exp_app;
SELECT throws_ok($$SELECT ml.record_outcome('tap', 'u1', 'hidden', 1)$$, 'P0002', NULL,
                 'an exposure hidden by row-level security is not there for record_outcome');
RESET ROLE;
GRANT EXECUTE ON FUNCTION ml.experiment_statistics(text, text, double precision, text, boolean, text, boolean) TO tap_exp_app;
SET LOCAL ROLE tap_exp_app;
SELECT is((SELECT sum(units)::int FROM ml.experiment_statistics('tap', 'no-values')), 0,
          'the analysis counts only the exposures row-level security shows');
RESET ROLE;
DROP POLICY tap_hide_u1 ON ml.experiment_exposures;
ALTER TABLE ml.experiment_exposures DISABLE ROW LEVEL SECURITY;
SELECT is((SELECT sum(units)::int FROM ml.experiment_statistics('tap', 'no-values')), 1, 'the owner counts every exposure');

-- ml.outcome_moments: one pass for count, mean, variance and 0/1-ness, equal to the SQL spelling
CREATE TEMP TABLE tap_values AS SELECT (i % 7) * 0.37 + (i % 3) AS v, i FROM generate_series(1, 5000) i;
SELECT is((SELECT ml.outcome_moments(v) FROM (VALUES (0.0), (1.0), (1.0), (0.0)) t(v)),
          '{4, 2, 1, 0}'::float8[], 'moments of 0/1 values: n, sum, squared deviations, no other value');
SELECT ok((SELECT m[1] = n AND abs(m[2] / m[1] - mean) < 1e-12 AND abs(m[3] / (m[1] - 1) - variance) < 1e-9
                  AND m[4] = others
             FROM (SELECT ml.outcome_moments(v) AS m, count(*) AS n, avg(v) AS mean, var_samp(v) AS variance,
                          count(*) FILTER (WHERE v NOT IN (0, 1)) AS others
                     FROM tap_values) a),
          'moments agree with count, avg, var_samp and the non-0/1 count');
SELECT ok((SELECT abs(c[3] - m[3]) < 1e-9 * m[3] AND c[1] = m[1] AND abs(c[2] - m[2]) < 1e-9 * m[2]
             FROM (SELECT ml.outcome_combine((SELECT ml.outcome_moments(v) FROM tap_values WHERE i <= 1234),
                                             (SELECT ml.outcome_moments(v) FROM tap_values WHERE i > 1234)) AS c,
                          (SELECT ml.outcome_moments(v) FROM tap_values) AS m) t),
          'two partial states merge into the state of the whole (parallel aggregation)');
SELECT throws_ok($$SELECT ml.outcome_accum('{1, 2}', 1)$$, '22023', NULL, 'a malformed state is refused');
SELECT function_privs_are('ml', 'outcome_moments', ARRAY['double precision'], 'public', ARRAY['EXECUTE'],
                          'the arithmetic of outcome_moments is the one routine PUBLIC may run');

SELECT * FROM finish();
ROLLBACK;
