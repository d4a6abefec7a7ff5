-- pgTAP: the serving API
BEGIN;
CREATE EXTENSION learnloop;
SELECT plan(15);

SELECT has_function('ml', 'predict', ARRAY['text', 'jsonb', 'integer']);
SELECT has_function('ml', 'predict', ARRAY['text', 'real[]', 'integer']);
SELECT has_function('ml', 'predict_proba', ARRAY['text', 'jsonb', 'integer']);
SELECT has_function('ml', 'predict_label', ARRAY['text', 'real[]', 'integer']);
SELECT has_function('ml', 'explain', ARRAY['text', 'jsonb', 'integer', 'text']);
SELECT has_function('ml', 'decide', ARRAY['text', 'text', 'jsonb', 'text', 'text', 'double precision', 'text', 'text', 'text', 'double precision', 'text', 'double precision', 'double precision', 'double precision', 'bigint', 'text[]']);
SELECT is((SELECT count(*)::int FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = 'ml' AND p.proname IN ('predict', 'predict_proba', 'predict_label', 'explain')
              AND (p.provolatile <> 's' OR p.proparallel <> 's')), 0,
          'every prediction function is STABLE and PARALLEL SAFE');
SELECT volatility_is('ml', 'decide', ARRAY['text', 'text', 'jsonb', 'text', 'text', 'double precision', 'text', 'text', 'text', 'double precision', 'text', 'double precision', 'double precision', 'double precision', 'bigint', 'text[]'],
                     'volatile');
SELECT has_trigger('ml', 'deployments', 'deployments_invalidate_cache', 'deployments invalidate serving caches');
SELECT has_trigger('ml', 'models', 'models_invalidate_cache', 'models invalidate serving caches');
SELECT col_type_is('ml', 'models', 'evaluator', 'text', 'the evaluator is visible per model');
SELECT function_privs_are('ml', 'predict', ARRAY['text', 'jsonb', 'integer'], 'public', '{}'::text[]);
SELECT throws_ok($$SELECT ml.predict('none', '{}'::jsonb)$$, '42704', 'model "none" does not exist',
                 'an unknown model is a clear error');
SELECT throws_ok($$SELECT ml.decide('none', 'u', '{}', 'rule_action')$$, '42704', 'model "none" does not exist',
                 'decide refuses an unknown model instead of falling back');
-- a registered version, never deployed (its bytes are never read)
INSERT INTO ml.models (name, version, task, feature_schema, model) VALUES ('t', 1, 'classification', '{}', '\x00');
SELECT is((SELECT decided_by FROM ml.decide('t', 'u', '{}', 'rule_action')), 'fallback: no deployed model',
          'decide degrades to the fallback when a known model has no deployment');

SELECT * FROM finish();
ROLLBACK;
