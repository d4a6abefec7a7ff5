-- Warm starts: ml.train(..., base_model, base_version, refresh) continues
-- boosting from a stored version's trees, or refits their leaves, on new
-- rows put into the base's feature schema.
SET client_min_messages = warning;
-- the trees of a version, through ml.export_model's JSON (XGBoost writes NaN
-- as the threshold of a categorical split, which jsonb reads as null)
CREATE FUNCTION warm_trees(m text, v int) RETURNS jsonb LANGUAGE sql AS $$
    SELECT replace(convert_from(ml.export_model(m, v), 'UTF8'), 'NaN', 'null')::jsonb
           #> '{learner,gradient_booster,model,trees}'
$$;
-- the rows of the base's world: the label follows x and the colour;
-- the new world's: it follows y
CREATE TABLE warm_old AS
    SELECT i, (i % 97) / 97.0 AS x, ((i * 7) % 89) / 89.0 AS y,
           (ARRAY['red', 'green', 'blue'])[1 + i % 3] AS c,
           ((i % 97) / 97.0 + CASE WHEN i % 3 = 0 THEN 0.3 ELSE 0 END > 0.6) AS label
      FROM generate_series(1, 2000) i;
CREATE TABLE warm_new AS
    SELECT i, (i % 97) / 97.0 AS x, ((i * 7) % 89) / 89.0 AS y,
           (ARRAY['red', 'green', 'blue'])[1 + i % 3] AS c,
           (((i * 7) % 89) / 89.0 > 0.4) AS label
      FROM generate_series(1, 1000) i;

SELECT model_name, version, deployed
  FROM ml.train('warm', 'warm_old', 'label', features => '{x,y,c}', params => '{"num_round": 10}');

-- continued: the next version of the same name, ten more trees after the base's ten, compared with
-- the base (the deployed champion) on the same new test rows, which it predicts better
SELECT model_name, version, deployed, score > champion_score AS beats_base, score >= 0.95 AS good
  FROM ml.train('warm', 'warm_new', 'label', features => '{x,y,c}', params => '{"num_round": 10}',
                base_model => 'warm');
SELECT version, lineage, base_model, base_version, rounds, evaluator, params->>'objective' AS objective
  FROM ml.models WHERE name = 'warm' ORDER BY version;
-- the first ten trees are the base's, unchanged; ten new ones follow
SELECT jsonb_array_length(warm_trees('warm', 1)) AS base_trees,
       jsonb_array_length(warm_trees('warm', 2)) AS continued_trees,
       (SELECT bool_and(warm_trees('warm', 2)->i = warm_trees('warm', 1)->i)
          FROM generate_series(0, 9) i) AS base_trees_first;
-- accuracy on the new world's rows, served: the continued version against its base
SELECT avg(((ml.predict('warm', jsonb_build_object('x', x, 'y', y, 'c', c), version => 2) > 0.5) = label)::int) >
       avg(((ml.predict('warm', jsonb_build_object('x', x, 'y', y, 'c', c), version => 1) > 0.5) = label)::int) + 0.2
       AS served_better
  FROM warm_new;
SELECT model_name, version, lineage, live FROM ml.model_history WHERE model_name = 'warm' ORDER BY version;

-- base_version picks a version (here the first, not the deployed second); another name may start
-- from it; the features listed in another order are put in the base's order; eta 0 adds trees with
-- zero leaves, so the new model predicts exactly what the base predicts: the base's trees read the
-- features they were trained on
SELECT model_name, version
  FROM ml.train('warm_zero', 'warm_new', 'label', features => '{c,y,x}',
                params => '{"num_round": 3, "eta": 0}', base_model => 'warm', base_version => 1);
SELECT lineage, base_model, base_version, rounds,
       feature_schema->'features' = (SELECT feature_schema->'features' FROM ml.models
                                      WHERE name = 'warm' AND version = 1) AS base_schema
  FROM ml.models WHERE name = 'warm_zero';
SELECT bool_and(ml.predict('warm_zero', f) = ml.predict('warm', f, version => 1)) AS same_predictions,
       count(*) AS rows
  FROM (SELECT jsonb_build_object('x', x, 'y', y, 'c', c) AS f FROM warm_new) r;

-- early stopping keeps the base's rounds and the best new ones: the slice counts from the base's trees
SELECT version FROM ml.train('warm_early', 'warm_new', 'label', features => '{x,y,c}', params => '{"num_round": 200}',
                             early_stopping_rounds => 3, base_model => 'warm', base_version => 1);
SELECT rounds > 10 AS kept_new_rounds, rounds < 210 AS stopped_early,
       jsonb_array_length(warm_trees('warm_early', 1)) = rounds AS trees_are_rounds,
       (SELECT bool_and(warm_trees('warm_early', 1)->i = warm_trees('warm', 1)->i)
          FROM generate_series(0, 9) i) AS base_trees_first
  FROM ml.models WHERE name = 'warm_early';
-- three classes: the base's class dictionary, num_class and multi:softprob carry over
CREATE TABLE warm_three AS
    SELECT (i % 10) AS x, (ARRAY['low', 'mid', 'high'])[1 + (i % 10) / 4] AS level FROM generate_series(1, 600) i;
SELECT version FROM ml.train('warm_three', 'warm_three', 'level', params => '{"num_round": 3}');
SELECT version, score > 0.9 AS good
  FROM ml.train('warm_three', '(SELECT * FROM warm_three WHERE level <> ''low'')', 'level', params => '{"num_round": 3}',
                base_model => 'warm_three', deploy => 'never');
SELECT version, objective, rounds, feature_schema->'classes' AS classes, params->>'num_class' AS num_class
  FROM ml.models WHERE name = 'warm_three' ORDER BY version;
SELECT ml.predict_label('warm_three', '{"x": 9}'::jsonb, version => 2) AS high,
       ml.predict_label('warm_three', '{"x": 5}'::jsonb, version => 2) AS mid,
       ml.predict_label('warm_three', '{"x": 1}'::jsonb, version => 2) AS low_from_the_base;

-- refresh: the base's trees with the same splits, leaves refitted on the new rows; as many trees
CREATE FUNCTION warm_structure(t jsonb) RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_build_object('left', t->'left_children', 'right', t->'right_children',
                              'features', t->'split_indices', 'types', t->'split_type',
                              'default_left', t->'default_left', 'categories', t->'categories',
                              'thresholds', (SELECT jsonb_agg(CASE WHEN (t->'left_children'->>n)::int = -1
                                                                   THEN NULL ELSE t->'split_conditions'->n END
                                                              ORDER BY n)
                                               FROM generate_series(0, jsonb_array_length(t->'left_children') - 1) n))
$$;
CREATE FUNCTION warm_leaves(t jsonb) RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_agg(t->'split_conditions'->n ORDER BY n)
      FROM generate_series(0, jsonb_array_length(t->'left_children') - 1) n
     WHERE (t->'left_children'->>n)::int = -1
$$;
SELECT model_name, version, deployed, hyperparams->>'updater' AS updater,
       hyperparams->>'process_type' AS process_type, hyperparams->>'num_round' AS num_round
  FROM ml.train('warm_refresh', 'warm_new', 'label', features => '{x,y,c}',
                base_model => 'warm', base_version => 1, refresh => true);
SELECT lineage, base_model, base_version, rounds FROM ml.models WHERE name = 'warm_refresh';
SELECT jsonb_array_length(warm_trees('warm_refresh', 1)) AS refreshed_trees,
       bool_and(warm_structure(warm_trees('warm_refresh', 1)->i) = warm_structure(warm_trees('warm', 1)->i))
           AS same_structure,
       bool_and(warm_leaves(warm_trees('warm_refresh', 1)->i) <> warm_leaves(warm_trees('warm', 1)->i))
           AS new_leaves
  FROM generate_series(0, 9) i;

-- a refresh takes the base's parameters under the caller's (its leaves are refitted with the learning
-- rate and regularisation they were grown with): refreshed on the base's own training rows (the same
-- split, by the same seed), the leaves come back as they were
SELECT version FROM ml.train('warm_eta', 'warm_old', 'label', features => '{x,y,c}',
                             params => '{"num_round": 6, "eta": 0.1, "lambda": 2}');
SELECT hyperparams->>'eta' AS eta, hyperparams->>'lambda' AS lambda, hyperparams->>'num_round' AS num_round
  FROM ml.train('warm_eta_same', 'warm_old', 'label', features => '{x,y,c}', base_model => 'warm_eta', refresh => true);
SELECT bool_and(warm_structure(warm_trees('warm_eta_same', 1)->i) = warm_structure(warm_trees('warm_eta', 1)->i))
           AS same_structure,
       max((SELECT max(abs((a.v #>> '{}')::float8 - (b.v #>> '{}')::float8))
              FROM jsonb_array_elements(warm_leaves(warm_trees('warm_eta_same', 1)->i)) WITH ORDINALITY a (v, n)
              JOIN jsonb_array_elements(warm_leaves(warm_trees('warm_eta', 1)->i)) WITH ORDINALITY b (v, m)
                ON m = n)) < 1e-6 AS same_leaves
  FROM generate_series(0, 5) i;
-- the caller's eta wins, and then the leaves differ
SELECT hyperparams->>'eta' AS eta, hyperparams->>'lambda' AS lambda
  FROM ml.train('warm_eta_fast', 'warm_old', 'label', features => '{x,y,c}', params => '{"eta": 0.3}',
                base_model => 'warm_eta', refresh => true);
SELECT bool_and(warm_leaves(warm_trees('warm_eta_fast', 1)->i) <> warm_leaves(warm_trees('warm_eta', 1)->i))
           AS new_leaves
  FROM generate_series(0, 5) i;

-- the rows' categories are coded in the base's dictionary: a base that learned "green" and new
-- rows with only green and red (sorted alone, green would take blue's code 0) where red is positive
CREATE TABLE warm_colour_old AS
    SELECT (ARRAY['red', 'green', 'blue'])[1 + i % 3] AS c, i % 3 = 1 AS label
      FROM generate_series(1, 600) i;
CREATE TABLE warm_colour_new AS
    SELECT (ARRAY['red', 'green'])[1 + i % 2] AS c, i % 2 = 0 AS label
      FROM generate_series(1, 600) i;
SELECT version FROM ml.train('warm_colour', 'warm_colour_old', 'label', params => '{"num_round": 5}');
SELECT version, deployed
  FROM ml.train('warm_colour', 'warm_colour_new', 'label', params => '{"num_round": 30}', base_model => 'warm_colour');
SELECT c, round(ml.predict('warm_colour', jsonb_build_object('c', c))::numeric) AS predicted
  FROM unnest('{red,green}'::text[]) c ORDER BY c;
SELECT feature_schema->'features' AS features FROM ml.models WHERE name = 'warm_colour' AND version = 2;

-- a category the base never saw is missing, as serving reads it, and the model keeps the base's
-- dictionary (test/shell/warm_notice.sh checks the NOTICE that counts those rows)
CREATE TABLE warm_colour_purple AS
    SELECT (ARRAY['red', 'purple', 'purple', 'green'])[1 + i % 4] AS c, i % 2 = 0 AS label
      FROM generate_series(1, 400) i;
SELECT version FROM ml.train('warm_colour', 'warm_colour_purple', 'label', params => '{"num_round": 2}',
                             base_model => 'warm_colour', base_version => 1, deploy => 'never');
SELECT feature_schema->'features'->0->'categories' AS categories
  FROM ml.models WHERE name = 'warm_colour' AND version = 3;
SET client_min_messages = error;   -- the empty row's warning
SELECT ml.predict('warm_colour', '{"c": "purple"}'::jsonb, version => 3) =
       ml.predict('warm_colour', '{}'::jsonb, version => 3)
       AS purple_is_missing;
SET client_min_messages = warning;

-- a regression base: an integer target of two values stays a regression's
CREATE TABLE warm_reg AS SELECT i % 10 AS x, (i % 2) AS target FROM generate_series(1, 300) i;
SELECT version FROM ml.train('warm_reg', 'warm_reg', 'target', task => 'regression', params => '{"num_round": 3}');
SELECT version FROM ml.train('warm_reg', 'warm_reg', 'target', params => '{"num_round": 3}', base_model => 'warm_reg');
SELECT version, task, lineage, rounds FROM ml.models WHERE name = 'warm_reg' ORDER BY version;

-- every mismatch and bad argument is an error that names it, and registers nothing
SELECT count(*) AS models_before FROM ml.models \gset
-- a feature the base lacks; a feature of the base the rows lack; another type
SELECT error_of($$SELECT * FROM ml.train('warm_bad', 'warm_new', 'label', features => '{x,y,c,i}', base_model => 'warm')$$);
SELECT error_of($$SELECT * FROM ml.train('warm_bad', 'warm_new', 'label', features => '{x,c}', base_model => 'warm')$$);
SELECT error_of($$SELECT * FROM ml.train('warm_bad', 'warm_new', 'label', features => '{x,y,"i AS c"}', base_model => 'warm')$$);
-- a class the base does not have; another task; another objective
SELECT error_of($$SELECT * FROM ml.train('warm_bad', 'warm_new', 'CASE WHEN label THEN ''yes'' ELSE ''maybe'' END',
                                          features => '{x,y,c}', base_model => 'warm')$$);
SELECT error_of($$SELECT * FROM ml.train('warm_bad', 'warm_new', 'label::int', task => 'regression',
                                          features => '{x,y,c}', base_model => 'warm')$$);
SELECT error_of($$SELECT * FROM ml.train('warm_bad', 'warm_reg', 'target', params => '{"objective": "reg:pseudohubererror"}',
                                          base_model => 'warm_reg')$$);
-- a refresh refits the base's rounds, no more, no fewer, and does not stop early
SELECT error_of($$SELECT * FROM ml.train('warm_bad', 'warm_new', 'label', features => '{x,y,c}',
                                          params => '{"num_round": 11}', base_model => 'warm', refresh => true)$$);
SELECT error_of($$SELECT * FROM ml.train('warm_bad', 'warm_new', 'label', features => '{x,y,c}',
                                          base_model => 'warm', refresh => true, early_stopping_rounds => 3)$$);
-- params that would drop or refit the base's trees instead of boosting after them: another booster
-- (XGBoost makes a new, empty one), a refit (process_type update) that refresh => true does not ask for,
-- also from a search
SELECT error_of($$SELECT * FROM ml.train('warm_bad', 'warm_new', 'label', features => '{x,y,c}',
                                          params => '{"booster": "dart", "num_round": 2}', base_model => 'warm')$$);
SELECT error_of($$SELECT * FROM ml.train('warm_bad', 'warm_new', 'label', features => '{x,y,c}',
                                          params => '{"process_type": "update", "updater": "refresh", "num_round": 10}',
                                          base_model => 'warm', base_version => 1)$$);
SELECT error_of($$SELECT * FROM ml.train('warm_bad', 'warm_new', 'label', features => '{x,y,c}', params => '{"num_round": 2}',
                                          search => '{"booster": ["gbtree", "dart"]}', base_model => 'warm')$$);
SELECT error_of($$SELECT * FROM ml.train('warm_bad', 'warm_new', 'label', features => '{x,y,c}',
                                          params => '{"booster": "dart"}', base_model => 'warm', refresh => true)$$);
-- no such model, version, deployed version; arguments without base_model; versions from 1
SELECT error_of($$SELECT * FROM ml.train('warm_bad', 'warm_new', 'label', base_model => 'warm_nothing')$$);
SELECT error_of($$SELECT * FROM ml.train('warm_bad', 'warm_new', 'label', base_model => 'warm', base_version => 99)$$);
SELECT error_of($$SELECT * FROM ml.train('warm_bad', 'warm_new', 'label', refresh => true)$$);
SELECT error_of($$SELECT * FROM ml.train('warm_bad', 'warm_new', 'label', base_version => 1)$$);
SELECT error_of($$SELECT * FROM ml.train('warm_bad', 'warm_new', 'label', base_model => 'warm', base_version => 0)$$);
-- a base the native evaluator does not serve: a gblinear model, which neither ml.train (its
-- defaults are tree parameters) nor ml.import_model registers, as a superuser's hand-made row
-- that no version of its name deploys; and a base whose row is corrupted
INSERT INTO ml.models (name, version, task, feature_schema, model, objective, rounds)
VALUES ('warm_linear', 1, 'classification',
        '{"task": "classification", "target": "label", "classes": ["false", "true"], "objective": "binary:logistic",
          "features": [{"name": "x", "type": "numeric"}, {"name": "y", "type": "numeric"}]}',
        convert_to('{"learner":{"attributes":{},"feature_names":["x","y"],"feature_types":["float","float"],'
                   '"gradient_booster":{"model":{"boosted_rounds":2,"weights":[0.5,1.5,-0.25]},"name":"gblinear"},'
                   '"learner_model_param":{"base_score":"5E-1","boost_from_average":"1","num_class":"0",'
                   '"num_feature":"2","num_target":"1"},"objective":{"name":"binary:logistic",'
                   '"reg_loss_param":{"scale_pos_weight":"1"}}},"version":[1,7,4]}', 'UTF8'),
        'binary:logistic', 2);
SELECT error_of($$SELECT * FROM ml.train('warm_bad', 'warm_new', 'label', features => '{x,y}', base_model => 'warm_linear')$$);
SELECT error_of($$SELECT * FROM ml.train('warm_bad', 'warm_new', 'label', features => '{x,y}', base_model => 'warm_linear',
                                          base_version => 1)$$);
-- a dart model, which XGBoost serves (not the native evaluator)
SELECT version FROM ml.train('warm_dart', 'warm_new', 'label', features => '{x,y,c}',
                             params => '{"booster": "dart", "num_round": 2}');
SELECT evaluator FROM ml.models WHERE name = 'warm_dart';
SELECT error_of($$SELECT * FROM ml.train('warm_bad', 'warm_new', 'label', features => '{x,y,c}', base_model => 'warm_dart')$$);
UPDATE ml.models SET model = substr(model, 1, 40) WHERE name = 'warm_zero';
SELECT error_of($$SELECT * FROM ml.train('warm_bad', 'warm_new', 'label', features => '{x,y,c}',
                                          base_model => 'warm_zero', base_version => 1)$$);
-- trees that read three features under a schema of two; params that are not an object (a refresh reads them)
UPDATE ml.models SET feature_schema = jsonb_set(feature_schema, '{features}', (feature_schema->'features') - 2)
 WHERE name = 'warm_eta';
SELECT error_of($$SELECT * FROM ml.train('warm_bad', 'warm_new', 'label', features => '{x,y}', base_model => 'warm_eta')$$);
UPDATE ml.models SET params = '[1]' WHERE name = 'warm_eta_fast';
SELECT error_of($$SELECT * FROM ml.train('warm_bad', 'warm_new', 'label', features => '{x,y,c}', base_model => 'warm_eta_fast',
                                          refresh => true)$$);
-- a NULL in an altered table is an error, not a crash (committed: the training worker reads it)
ALTER TABLE ml.models ALTER COLUMN params DROP NOT NULL;
UPDATE ml.models SET params = NULL WHERE name = 'warm_eta_fast';
SELECT error_of($$SELECT * FROM ml.train('warm_bad', 'warm_new', 'label', features => '{x,y,c}', base_model => 'warm_eta_fast',
                                          refresh => true)$$);
UPDATE ml.models SET params = '[1]' WHERE name = 'warm_eta_fast';
ALTER TABLE ml.models ALTER COLUMN params SET NOT NULL;
SELECT count(*) - :models_before - 2 AS registered FROM ml.models;

-- the base is read as the caller: a row-level policy that hides other roles' models hides the base
CREATE ROLE learnloop_warm_trainer;
SELECT ml.grant_access('learnloop_warm_trainer', 'train');
GRANT SELECT ON warm_new TO learnloop_warm_trainer;
ALTER TABLE ml.models ENABLE ROW LEVEL SECURITY;
CREATE POLICY warm_own ON ml.models USING (trained_by = current_user);
SET ROLE learnloop_warm_trainer;
SELECT error_of($$SELECT * FROM ml.train('warm_mine', 'warm_new', 'label', features => '{x,y,c}', base_model => 'warm')$$);
SELECT version FROM ml.train('warm_mine', 'warm_new', 'label', features => '{x,y,c}', params => '{"num_round": 2}');
SELECT version, deployed FROM ml.train('warm_mine', 'warm_new', 'label', features => '{x,y,c}',
                                       params => '{"num_round": 2}', base_model => 'warm_mine');
RESET ROLE;
DROP POLICY warm_own ON ml.models;
ALTER TABLE ml.models DISABLE ROW LEVEL SECURITY;
SELECT name, version, trained_by, lineage, base_model, base_version FROM ml.models WHERE name = 'warm_mine' ORDER BY version;
-- a hand-made lineage or base is refused by ml.models' checks
SELECT error_of($$UPDATE ml.models SET lineage = 'continued' WHERE name = 'warm' AND version = 1$$);
SELECT error_of($$UPDATE ml.models SET base_model = NULL WHERE name = 'warm' AND version = 2$$);

DROP TABLE warm_old, warm_new, warm_three, warm_colour_old, warm_colour_new, warm_colour_purple, warm_reg;
DROP FUNCTION warm_trees(text, int), warm_structure(jsonb), warm_leaves(jsonb);
REVOKE ALL ON ALL TABLES IN SCHEMA ml FROM learnloop_warm_trainer;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA ml FROM learnloop_warm_trainer;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA ml FROM learnloop_warm_trainer;
REVOKE ALL ON SCHEMA ml FROM learnloop_warm_trainer;
DROP ROLE learnloop_warm_trainer;
