-- Training sources of every shape that once crashed the worker or read
-- corrupted rows: label and group dictionaries (classification, ranking),
-- jsonb before or after other features, a wide text column, 1,599 columns,
-- and row filters.  scripts/valgrind.sh runs this file under memcheck.
SET client_min_messages = warning;
SELECT ml.simulate_users(users => 150, days => 7, seed => 42) AS simulated;

-- the demo's training, with the features in both orders
SELECT model_name, version, metric_name, score IS NOT NULL AS scored
  FROM ml.train('shape_jsonb_first', 'ml.MLTrainingData', $$(outcome->>'engaged')::boolean$$,
                features => ARRAY['features', $$decision->>'action' AS action$$],
                split => 'time', split_column => 'created_at', params => '{"num_round": 5}');
SELECT model_name, version, metric_name, score IS NOT NULL AS scored
  FROM ml.train('shape_jsonb_last', 'ml.MLTrainingData', $$(outcome->>'engaged')::boolean$$,
                features => ARRAY[$$decision->>'action' AS action$$, 'features'],
                split => 'time', split_column => 'created_at', params => '{"num_round": 5}');

-- a text target with many classes, filtered
SELECT model_name, metric_name, score IS NOT NULL AS scored
  FROM ml.train('shape_action', 'ml.MLTrainingData', $$decision->>'action'$$,
                features => ARRAY['features'], filter => $$unit_id < 'sim-42-5'$$,
                params => '{"num_round": 5}');

-- ranking: the group dictionary, filtered
SELECT model_name, metric_name, score IS NOT NULL AS scored
  FROM ml.train('shape_rank', 'ml.MLTrainingData', $$(outcome->>'engagement')::float8$$,
                features => ARRAY['features'], group_column => 'unit_id',
                filter => $$outcome ? 'engagement'$$, params => '{"num_round": 5}');

-- the dictionaries keep every class and group the rows had
SELECT name, jsonb_array_length(feature_schema->'classes') AS classes
  FROM ml.models WHERE name IN ('shape_jsonb_first', 'shape_jsonb_last', 'shape_action')
 ORDER BY 1;

-- a wide text column (categories longer than a dictionary key)
CREATE TABLE shape_wide AS
SELECT i, repeat(md5((i % 7)::text), 40) AS wide, (i % 2 = 0) AS y
  FROM generate_series(1, 300) i;
SELECT model_name, version
  FROM ml.train('shape_wide', 'shape_wide', 'y', features => ARRAY['wide', 'i'],
                params => '{"num_round": 3}');
SELECT train_rows + test_rows AS rows_used,
       jsonb_array_length(feature_schema->'features'->0->'categories') AS wide_categories
  FROM ml.models WHERE name = 'shape_wide';

-- 1,599 feature columns
DO $$
BEGIN
    EXECUTE format('CREATE TABLE shape_many AS SELECT g %% 2 = 0 AS y, %s FROM generate_series(1, 60) g',
                   (SELECT string_agg(format('g * %s AS c%s', i, i), ', ') FROM generate_series(1, 1599) i));
END $$;
SELECT model_name, version
  FROM ml.train('shape_many', 'shape_many', 'y', params => '{"num_round": 2}');
SELECT jsonb_array_length(feature_schema->'features') AS features
  FROM ml.models WHERE name = 'shape_many';
