-- Defects found by the generated bad-input suite (test/shell/bad_input.sh),
-- each fixed and tested here.
SET client_min_messages = warning;
CREATE TABLE bif_src AS
SELECT i AS id, (i % 17)::float8 AS x1, ((i * 7) % 23)::float8 AS x2, (i % 17) > 8 AS y
  FROM generate_series(1, 200) i;
SELECT count(*) FROM ml.train('bif_cls', 'bif_src', 'y', features => ARRAY['x1', 'x2'],
                              params => '{"num_round": 2}', deploy => 'always');
RESET client_min_messages;

-- Corrupted rows that were served with values: a tree's num_feature that
-- disagrees with the learner's (the byte after "num_feature" and its UBJSON
-- string header is the first tree's count, "2" made "9"), two features of
-- one name, a schema objective that does not fit the schema's task, and a
-- task that does not fit the trees' objective.
INSERT INTO ml.models (name, version, task, params, feature_schema, model, objective, rounds,
                       feature_importance, train_rows, test_rows, trained_by)
SELECT 'bif_bad_' || k, 1, m.task, m.params, s, b, m.objective, m.rounds,
       m.feature_importance, m.train_rows, m.test_rows, m.trained_by
  FROM ml.models m,
  LATERAL (VALUES
    ('tree_num_feature', set_byte(m.model, position('num_feature'::bytea IN m.model) + 20, 57), m.feature_schema),
    ('duplicate_names', m.model, jsonb_set(m.feature_schema, '{features,1,name}', '"x1"')),
    ('schema_objective', m.model, jsonb_set(m.feature_schema, '{objective}', '"multi:softprob"')),
    ('schema_task', m.model, jsonb_set(m.feature_schema, '{task}', '"regression"'))
  ) v(k, b, s)
 WHERE m.name = 'bif_cls';
SELECT encode(substring(model FROM position('num_feature'::bytea IN model) + 21 FOR 1), 'escape') AS tree_count
  FROM ml.models WHERE name IN ('bif_cls', 'bif_bad_tree_num_feature') ORDER BY name;
SELECT name, error_of(format('SELECT ml.predict(%L, %L::jsonb, version => 1)', name, '{"x1": 1, "x2": 2}'))
  FROM ml.models WHERE name LIKE 'bif_bad_%' ORDER BY name;
-- ml.deploy refuses them and writes nothing; ml.decide falls back
SELECT error_of($$SELECT ml.deploy('bif_bad_duplicate_names', 1)$$);
SELECT count(*) FROM ml.deployments WHERE model_name LIKE 'bif_bad_%';
INSERT INTO ml.deployments (model_name, model_version, action, reason)
VALUES ('bif_bad_schema_objective', 1, 'deploy', 'bad_input_fixes: a corrupted row');
SET client_min_messages = error;
SELECT action, confidence, decided_by
  FROM ml.decide('bif_task', 'u1', '{"x1": 1, "x2": 2}', 'fallback', model => 'bif_bad_schema_objective');
RESET client_min_messages;
-- the intact model still serves
SELECT ml.validate_model('bif_cls', 1), ml.predict_label('bif_cls', '{"x1": 1, "x2": 2}'::jsonb) IS NOT NULL AS label;
