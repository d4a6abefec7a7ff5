-- Defects of the serving path found by a review (issue 9): each case failed before its fix
SET client_min_messages = warning;
CREATE TABLE sr_data AS
SELECT (i % 17)::float8 AS x1, ((i * 7) % 13)::float8 AS x2, (ARRAY['a', 'b', 'c'])[1 + i % 3] AS action,
       (i % 17) > 8 OR i % 3 = 0 AS y, (ARRAY['low', 'mid', 'high'])[1 + (i % 17) / 6] AS level
  FROM generate_series(1, 600) i;
SELECT version, deployed FROM ml.train('sr_outcome', 'SELECT x1, x2, action, y FROM sr_data', 'y',
                                       params => '{"num_round": 4, "max_depth": 3}');
SELECT version, deployed FROM ml.train('sr_dart', 'SELECT x1, x2, action, y FROM sr_data', 'y',
                                       params => '{"booster": "dart", "num_round": 4, "max_depth": 3}');
SELECT version, deployed FROM ml.train('sr_multi', 'SELECT x1, x2, level FROM sr_data', 'level',
                                       params => '{"booster": "dart", "num_round": 4, "max_depth": 3}');

-- another version of a model, its schema edited; deployed behind ml.deploy's back (it would refuse it)
CREATE FUNCTION sr_corrupt(m text, s jsonb) RETURNS int LANGUAGE sql AS $$
  INSERT INTO ml.models (name, version, task, feature_schema, model)
  SELECT name, version + 1, task, s, model FROM ml.models WHERE name = m AND version = 1;
  INSERT INTO ml.deployments (model_name, model_version, action, reason) VALUES (m, 2, 'deploy', 'corrupted');
  SELECT 2;
$$;
-- version 1's feature schema with the action feature's categories (or the classes) replaced
CREATE FUNCTION sr_schema(m text, categories jsonb, classes jsonb DEFAULT NULL) RETURNS jsonb LANGUAGE sql AS $$
  SELECT jsonb_set(s, '{classes}', coalesce(classes, s -> 'classes'))
    FROM (SELECT CASE WHEN categories IS NULL THEN feature_schema
                      ELSE jsonb_set(feature_schema,
                                     ARRAY['features', (SELECT (o - 1)::text FROM jsonb_array_elements(feature_schema -> 'features')
                                                                                  WITH ORDINALITY e(f, o) WHERE f ->> 'name' = 'action'),
                                           'categories'], categories) END AS s
            FROM ml.models WHERE name = m AND version = 1) v;
$$;
-- 1. an action feature without categories: refused as corrupted (ml.decide crashed on its NULL action)
SELECT sr_corrupt('sr_outcome', sr_schema('sr_outcome', '[]'));
SELECT error_of($$SELECT ml.predict('sr_outcome', '{"x1": 3, "x2": 1, "action": "b"}'::jsonb)$$);
SELECT action, decided_by FROM ml.decide('sr_task', 'u1', '{"x1": 3, "x2": 1}', 'rules', model => 'sr_outcome');
SELECT error_of($$SELECT ml.validate_model('sr_outcome', 2)$$);
-- ... and a classifier with fewer than two classes (ml.explain read past them), XGBoost evaluating it or not
SELECT sr_corrupt('sr_dart', sr_schema('sr_dart', NULL, '["only"]'));
SELECT error_of($$SELECT count(*) FROM ml.explain('sr_dart', '{"x1": 3, "x2": 1, "action": "b"}')$$);
UPDATE ml.models SET feature_schema = sr_schema('sr_dart', NULL, '[]') WHERE name = 'sr_dart' AND version = 2;
SELECT error_of($$SELECT count(*) FROM ml.explain('sr_dart', '{"x1": 3, "x2": 1, "action": "b"}')$$);

-- 3. the class count of a model XGBoost evaluates is checked when it loads, as for compiled trees:
-- a binary dart model whose schema names five classes (served wrong labels) ...
UPDATE ml.models SET feature_schema = sr_schema('sr_dart', NULL, '["a", "b", "c", "d", "e"]')
 WHERE name = 'sr_dart' AND version = 2;
SELECT error_of($$SELECT ml.predict_label('sr_dart', '{"x1": 3, "x2": 1, "action": "b"}'::jsonb)$$);
SELECT action, decided_by FROM ml.decide('sr_task', 'u1', '{"x1": 3, "x2": 1}', 'rules', model => 'sr_dart');
-- ... and a three-class dart model whose schema names two (predict_label raised inside ml.decide)
SELECT sr_corrupt('sr_multi', sr_schema('sr_multi', NULL, '["high", "low"]'));
SELECT error_of($$SELECT ml.predict_label('sr_multi', '{"x1": 16, "x2": 1}'::jsonb)$$);
SELECT action, decided_by FROM ml.decide('sr_task', 'u1', '{"x1": 16, "x2": 1}', 'rules', model => 'sr_multi');
SELECT error_of($$SELECT ml.validate_model('sr_multi', 2)$$);
-- version 1 serves again
SELECT ml.deploy('sr_multi', 1) > 0 AS redeployed;

-- 4. ml.explain of a multi-class model XGBoost evaluates, without class: the predicted class,
-- whose contributions add up to its margin (they were read from the prediction's buffers)
SELECT evaluator FROM ml.models WHERE name = 'sr_multi' AND version = 1;
WITH r(row) AS (VALUES ('{"x1": 16, "x2": 1}'::jsonb), ('{"x1": 2, "x2": 5}'), ('{"x1": 8, "x2": 9}')),
     e AS (SELECT r.row, e.class, sum(e.contribution) AS margin, count(*) AS n
             FROM r, LATERAL ml.explain('sr_multi', r.row) e GROUP BY 1, 2),
     c AS (SELECT r.row, e.class, sum(e.contribution) AS margin
             FROM r, LATERAL ml.explain('sr_multi', r.row, class => ml.predict_label('sr_multi', r.row)) e GROUP BY 1, 2)
SELECT e.row, e.class, e.class = ml.predict_label('sr_multi', e.row) AS predicted, e.n,
       abs(e.margin - c.margin) < 1e-6 AS same_as_named_class
  FROM e JOIN c USING (row) ORDER BY 1;
-- the margins of two classes differ by the log of their probabilities' ratio (classes high, low, mid)
WITH p AS (SELECT ml.predict_proba('sr_multi', '{"x1": 16, "x2": 1}'::jsonb) AS proba),
     m AS (SELECT c, i, (SELECT sum(contribution) FROM ml.explain('sr_multi', '{"x1": 16, "x2": 1}', class => c)) AS margin
             FROM unnest(ARRAY['high', 'low', 'mid']) WITH ORDINALITY u(c, i))
SELECT bool_and(abs((m.margin - h.margin) - ln(p.proba[m.i] / p.proba[1])) < 1e-4) AS adds_up, count(*) AS classes
  FROM m, m h, p WHERE h.c = 'high';

-- 5. a deployed model that cannot be loaded (sr_dart's version 2) evicts no healthy model
UPDATE ml.models SET name = name WHERE false;   -- empties the cache
SET learnloop.model_cache_size = 2;
SELECT ml.predict('sr_outcome', '{"x1": 3, "x2": 1, "action": "b"}'::jsonb, 1) BETWEEN 0 AND 1 AS served,
       ml.predict_label('sr_multi', '{"x1": 3, "x2": 1}'::jsonb) AS label;
SELECT model, version FROM ml.model_cache() ORDER BY 1;
SET client_min_messages = error;
SELECT decided_by FROM generate_series(1, 3), LATERAL ml.decide('sr_task', 'u1', '{"x1": 3, "x2": 1}', 'rules', model => 'sr_dart');
RESET client_min_messages;
SELECT model, version FROM ml.model_cache() ORDER BY 1;
RESET learnloop.model_cache_size;

-- 6. an error that is not the model's (here a missing privilege) is raised, not a fallback or "corrupted"
CREATE ROLE sr_reader;
SELECT ml.grant_access('sr_reader', 'record'), ml.grant_access('sr_reader', 'deploy');
-- it may look names up, not read the models
REVOKE SELECT ON ml.models FROM sr_reader;
GRANT SELECT (name, version) ON ml.models TO sr_reader;
SET ROLE sr_reader;
SELECT error_of($$SELECT ml.validate_model('sr_outcome', 1)$$);
SELECT error_of($$SELECT decided_by FROM ml.decide('sr_task', 'u1', '{"x1": 3, "x2": 1}', 'rules', model => 'sr_dart')$$);
RESET ROLE;
DROP OWNED BY sr_reader;
DROP ROLE sr_reader;
