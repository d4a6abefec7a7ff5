-- ml.import_model, ml.export_model, ml.export_model_schema: models from and
-- to a notebook.  The model is a small binary classifier (features x and y,
-- two trees) as Python's XGBoost 1.7.4 save_raw('json') wrote it, and the
-- predictions Python made of three rows; test/shell/notebook_roundtrip.sh
-- trains in Python itself.
SET client_min_messages = warning;
CREATE TABLE nb (j text);
INSERT INTO nb VALUES ('{"learner":{"attributes":{"best_iteration":"1","best_ntree_limit":"2"},"feature_names":["x","y"],"feature_types":["float","float"],"gradient_booster":{"model":{"gbtree_model_param":{"num_parallel_tree":"1","num_trees":"2","size_leaf_vector":"0"},"tree_info":[0,0],"trees":[{"base_weights":[-1.5384616E-1,-1.7333333E0,9.84127E-1,-1.804878E0,-5E-1,-6.666667E-1,1.6521739E0],"categories":[],"categories_nodes":[],"categories_segments":[],"categories_sizes":[],"default_left":[1,1,1,0,0,0,0],"id":0,"left_children":[1,3,5,-1,-1,-1,-1],"loss_changes":[4.8438583E1,9.024429E-2,1.8470669E1,0E0,0E0,0E0,0E0],"parents":[2147483647,0,0,1,1,2,2],"right_children":[2,4,6,-1,-1,-1,-1],"split_conditions":[3.5E0,7.5E0,3.5E0,-9.02439E-1,-2.5E-1,-3.3333334E-1,8.2608694E-1],"split_indices":[1,0,0,0,0,0,0],"split_type":[0,0,0,0,0,0,0],"sum_hessian":[2.5E1,1.025E1,1.475E1,9.25E0,1E0,4.25E0,1.05E1],"tree_param":{"num_deleted":"0","num_feature":"2","num_nodes":"7","size_leaf_vector":"0"}},{"base_weights":[-1.21018566E-1,-1.1928358E0,6.1956894E-1,-1.0813142E0,9.421913E-1],"categories":[],"categories_nodes":[],"categories_segments":[],"categories_sizes":[],"default_left":[1,0,1,0,0],"id":1,"left_children":[1,-1,3,-1,-1],"loss_changes":[1.8685192E1,0E0,8.716793E0,0E0,0E0],"parents":[2147483647,0,0,2,2],"right_children":[2,-1,4,-1,-1],"split_conditions":[3.5E0,-5.964179E-1,5E-1,-5.406571E-1,4.7109565E-1],"split_indices":[1,0,0,0,0],"split_type":[0,0,0,0,0],"sum_hessian":[2.1608624E1,8.580218E0,1.3028404E1,1.702275E0,1.132613E1],"tree_param":{"num_deleted":"0","num_feature":"2","num_nodes":"5","size_leaf_vector":"0"}}]},"name":"gbtree"},"learner_model_param":{"base_score":"5E-1","boost_from_average":"1","num_class":"0","num_feature":"2","num_target":"1"},"objective":{"name":"binary:logistic","reg_loss_param":{"scale_pos_weight":"1"}}},"version":[1,7,4]}');
CREATE TABLE nb_rows (r jsonb);
INSERT INTO nb_rows VALUES ('[{"features": {"x": 1, "y": 2}, "prediction": 0.18259607255458832},
                              {"features": {"x": 8, "y": 7}, "prediction": 0.7853604555130005},
                              {"features": {"x": 5}, "prediction": 0.18259607255458832}]');
-- imports with the rows checked; error_of gives the SQLSTATE, message and hint of a refusal
CREATE FUNCTION try_import(doc text, extra text DEFAULT '', model text DEFAULT 'imp') RETURNS text
LANGUAGE sql AS $$
    SELECT error_of(format('SELECT ml.import_model(%L, %L::bytea%s)', model, convert_to(doc, 'UTF8'), extra))
$$;
CREATE FUNCTION models() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM ml.models $$;
SELECT models() AS models_before \gset

-- the import: names from the model, classes given, the rows reproduced exactly, the native evaluator
SELECT * FROM ml.import_model('imp', convert_to((SELECT j FROM nb), 'UTF8'), classes => '{no,yes}',
                              check_rows => (SELECT r FROM nb_rows));
SELECT name, version, task, objective, rounds, evaluator, lineage, params, train_rows
  FROM ml.models WHERE name = 'imp';
SELECT ml.export_model_schema('imp', 1);
-- serving predicts what Python predicted
SELECT ml.deploy('imp', 1) > 0 AS deployed;
SELECT round(ml.predict('imp', '{"x": 1, "y": 2}'::jsonb)::numeric, 9) AS p1,
       round(ml.predict('imp', '{"x": 8, "y": 7}'::jsonb)::numeric, 9) AS p2,
       ml.predict_label('imp', '{"x": 8, "y": 7}'::jsonb, version => 1) AS label;
-- the history: the import's lineage, and no deployment decision (none was made by a policy)
SELECT model_name, version, lineage, live, deployed FROM ml.model_history WHERE model_name = 'imp';

-- round trip: the export of each format imports again, with its names, and predicts the same
SELECT format, i.version, i.evaluator, i.checked_rows, i.max_difference
  FROM unnest(ARRAY['json', 'ubj']) format,
       ml.import_model('imp_rt', ml.export_model('imp', 1, format), classes => '{no,yes}',
                       check_rows => (SELECT r FROM nb_rows)) i;
SELECT ml.export_model('imp_rt', 1) = ml.export_model('imp', 1) AS same_json,
       ml.export_model('imp_rt', 2, 'ubj') = ml.export_model('imp', NULL, 'ubj') AS same_ubj,
       substr(convert_from(ml.export_model('imp'), 'UTF8'), 1, 80) AS exported;
-- XGBoost 2.x writes base_score as a one-element list (JSON and UBJSON), converted documents as a number
SELECT form, i.version, i.checked_rows, i.max_difference
  FROM (VALUES ('2.x json', convert_to(replace((SELECT j FROM nb), '"base_score":"5E-1"', '"base_score":"[5E-1]"'), 'UTF8')),
               ('number json', convert_to(replace((SELECT j FROM nb), '"base_score":"5E-1"', '"base_score":0.5'), 'UTF8')),
               ('2.x ubj', decode(replace(encode(ml.export_model('imp', 1, 'ubj'), 'hex'),
                                          '534c000000000000000435452d31', '534c00000000000000065b35452d315d'), 'hex'))) f (form, b),
       ml.import_model('imp_2x', b, check_rows => (SELECT r FROM nb_rows)) i;
-- a notebook's prediction within 1e-6 passes (printed with fewer digits, say)
SELECT version, checked_rows, max_difference < 1e-6 AS within
  FROM ml.import_model('imp_rt', ml.export_model('imp', 1), check_rows => replace((SELECT r FROM nb_rows)::text,
                       '0.7853604555130005', '0.7853609')::jsonb);
-- a categorical feature: the model types it "c" and the caller gives its dictionary (code i is the
-- i-th category); exported, the model keeps the type, and the schema's features import it again
SELECT version, evaluator, checked_rows
  FROM ml.import_model('imp_cat', convert_to(replace((SELECT j FROM nb), '"feature_types":["float","float"]',
                                                     '"feature_types":["float","c"]'), 'UTF8'),
                       features => '["x", {"name": "y", "type": "categorical",
                                           "categories": ["c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9"]}]',
                       check_rows => '[{"features": {"x": 1, "y": "c2"}, "prediction": 0.18259607255458832},
                                       {"features": {"x": 8, "y": "c7"}, "prediction": 0.7853604555130005}]');
SELECT version, checked_rows, max_difference
  FROM ml.import_model('imp_cat', ml.export_model('imp_cat', 1, 'ubj'),
                       features => ml.export_model_schema('imp_cat', 1)->'features',
                       check_rows => '[{"features": {"x": 8, "y": "c7"}, "prediction": 0.7853604555130005}]');
SELECT error_of('SELECT ml.import_model(''imp_cat'', ml.export_model(''imp_cat'', 1))');
-- deploy => true deploys the new version
SELECT version, deployed FROM ml.import_model('imp', convert_to((SELECT j FROM nb), 'UTF8'), deploy => true);
SELECT ml.deployed_version('imp'), ml.export_model_schema('imp')->>'version' AS schema_version,
       ml.export_model_schema('imp')->'classes' AS default_classes;
SELECT models() - :models_before AS imported;

-- refusals: each is an error with its SQLSTATE, and stores nothing
SELECT models() AS models_before \gset
SELECT error_of('SELECT ml.import_model(NULL, ''{}''::bytea)');
SELECT error_of('SELECT ml.import_model(''imp'', NULL)');
SELECT error_of('SELECT ml.import_model('''', ''{}''::bytea)');
SELECT try_import('');
SELECT try_import('hello');
SELECT try_import('{"learner": 1}');
SELECT try_import(j, ', format => ''xml''') FROM nb;
SELECT try_import(j, ', format => ''ubj''') FROM nb;
SELECT error_of(format('SELECT ml.import_model(''imp'', %L::bytea, format => ''json'')', ml.export_model('imp', 1, 'ubj')));
-- hostile documents: nesting, a length beyond the bytes, two base_scores, a feature count the trees contradict
SELECT try_import(repeat('{"a":', 100) || '1' || repeat('}', 100));
SELECT error_of(format('SELECT ml.import_model(''imp'', %L::bytea)', '\x7b4c7fffffffffffffff'));
SELECT try_import(replace(j, '"base_score":"5E-1"', '"base_score":"[5E-1,5E-1]"')) FROM nb;
SELECT try_import(replace(j, '"base_score":"5E-1"', '"base_score":"[5E-1]"'), ', features => ''["base_score", "y"]''')
  FROM (SELECT replace(j, '"feature_names":["x","y"]', '"feature_names":["base_score","y"]') AS j FROM nb) s;
SELECT try_import(replace(j, '"num_feature":"2","num_target"', '"num_feature":"3","num_target"')) FROM nb;
SELECT try_import(replace(j, '"left_children":[1,3,5,-1,-1,-1,-1]', '"left_children":[1,3,0,-1,-1,-1,-1]')) FROM nb;
-- sizes that would size allocations: a million features at most; a class count the trees do not have
SELECT try_import(replace(j, '"num_feature":"2"', '"num_feature":"2000000"')) FROM nb;
SELECT try_import(replace(replace(j, '"num_class":"0"', '"num_class":"5000"'), 'binary:logistic', 'multi:softprob')) FROM nb;
-- objectives learnloop does not serve
SELECT try_import(replace(j, 'binary:logistic', 'binary:hinge')) FROM nb;
SELECT try_import(replace(j, 'binary:logistic', 'multi:softmax')) FROM nb;
-- features and classes that do not match the model
SELECT try_import(j, ', features => ''["x"]''') FROM nb;
SELECT try_import(j, ', features => ''["x", "z"]''') FROM nb;
SELECT try_import(j, ', features => ''{"x": 1}''') FROM nb;
SELECT try_import(replace(j, '"feature_names":["x","y"]', '"feature_names":[]'), ', features => ''["x", "x"]''') FROM nb;
SELECT try_import(j, ', features => ''[{"name": "x", "type": "real"}, "y"]''') FROM nb;
SELECT try_import(replace(j, '"feature_types":["float","float"]', '"feature_types":["float","c"]')) FROM nb;
SELECT try_import(replace(j, '"feature_types":["float","float"]', '"feature_types":["float","c"]'),
                  ', features => ''["x", {"name": "y", "type": "numeric"}]''') FROM nb;
SELECT try_import(replace(j, '"feature_types":["float","float"]', '"feature_types":["float","c"]'),
                  ', features => ''["x", {"name": "y", "type": "categorical", "categories": []}]''') FROM nb;
SELECT try_import(replace(j, '"feature_types":["float","float"]', '"feature_types":["float","c"]'),
                  ', features => ''["x", {"name": "y", "type": "categorical", "categories": ["a", "b", "a"]}]''') FROM nb;
SELECT try_import(j, format(', classes => %L', ARRAY[repeat('c', 256), 'b'])) FROM nb;
SELECT try_import(j, ', classes => ''{a,b,c}''') FROM nb;
SELECT try_import(j, ', classes => ''{a,a}''') FROM nb;
SELECT try_import(j, ', classes => ''{a,NULL}''') FROM nb;
SELECT try_import(replace(j, 'binary:logistic', 'reg:squarederror'), ', classes => ''{a,b}''') FROM nb;
-- check rows the model does not reproduce, or that are not check rows
SELECT try_import(j, format(', check_rows => %L', replace(r::text, '0.7853604555130005', '0.7853624555130005'))) FROM nb, nb_rows;
SELECT try_import(j, ', check_rows => ''{"features": {}}''') FROM nb;
SELECT try_import(j, ', check_rows => ''[{"features": {"x": 1}}]''') FROM nb;
SELECT try_import(j, ', check_rows => ''[{"features": {"x": 1}, "prediction": [0.8, 0.2]}]''') FROM nb;
SELECT try_import(j, ', check_rows => ''[{"features": [1, 2], "prediction": 0.2}]''') FROM nb;
SELECT models() - :models_before AS stored_by_refusals;

-- truncated and bit-flipped bytes: always an error or a model that reproduces the check rows, never a crash
CREATE TABLE damaged (kind text, state text);
SET client_min_messages = error;  -- a flipped feature name leaves the check rows' keys unknown: warnings
DO $$
DECLARE
    formats text[] := ARRAY['json', 'ubj'];
    f text;
    b bytea;
    d bytea;
    i integer;
    state text;
BEGIN
    FOREACH f IN ARRAY formats LOOP
        b := ml.export_model('imp', 1, f);
        FOR i IN 0 .. length(b) - 1 BY 13 LOOP
            BEGIN
                PERFORM ml.import_model('damaged', substr(b, 1, i), check_rows => (SELECT r FROM nb_rows));
                state := 'imported';
            EXCEPTION WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE;
            END;
            INSERT INTO damaged VALUES (f || ' truncated', state);
        END LOOP;
        FOR i IN 0 .. 8 * length(b) - 1 BY 29 LOOP
            d := set_bit(b, i, 1 - get_bit(b, i));
            BEGIN
                PERFORM ml.import_model('damaged', d, classes => '{no,yes}', check_rows => (SELECT r FROM nb_rows));
                state := 'imported';
            EXCEPTION WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE;
            END;
            INSERT INTO damaged VALUES (f || ' bit-flipped', state);
        END LOOP;
    END LOOP;
END
$$;
SET client_min_messages = warning;
-- every refusal is one of import's own SQLSTATEs; an import that passed reproduced the check rows
SELECT kind, state IN ('imported', '22P03', '22023', '0A000', '22000') AS expected_outcome,
       count(*) > 0 AS seen
  FROM damaged GROUP BY 1, 2 ORDER BY 1, 2;
SELECT kind, count(*) FILTER (WHERE state = 'imported') AS imported, count(*) AS tried
  FROM damaged WHERE kind LIKE '%truncated' GROUP BY 1 ORDER BY 1;
SELECT (SELECT count(*) FROM damaged WHERE state = 'imported') =
       (SELECT count(*) FROM ml.models WHERE name = 'damaged') AS only_imports_stored;

-- export's errors
SELECT error_of('SELECT ml.export_model(NULL)');
SELECT error_of('SELECT ml.export_model(''nope'')');
SELECT error_of('SELECT ml.export_model(''imp_rt'')');
SELECT error_of('SELECT ml.export_model(''imp'', 9)');
SELECT error_of('SELECT ml.export_model(''imp'', 0)');
SELECT error_of('SELECT ml.export_model(''imp'', 1, ''xml'')');
SELECT error_of('SELECT ml.export_model_schema(''nope'')');
SELECT error_of('SELECT ml.export_model_schema(''imp_rt'')');
SELECT error_of('SELECT ml.export_model_schema(''imp'', 9)');
-- a damaged row is not handed to XGBoost
UPDATE ml.models SET model = '\x7b4c00' WHERE name = 'imp_rt' AND version = 1;
SELECT error_of('SELECT ml.export_model(''imp_rt'', 1)');
-- a NULL where the table (altered) no longer forbids one is an error, not a crash
BEGIN;
ALTER TABLE ml.models ALTER COLUMN model DROP NOT NULL, ALTER COLUMN feature_schema DROP NOT NULL;
UPDATE ml.models SET model = NULL WHERE name = 'imp_rt' AND version = 1;
SELECT error_of('SELECT ml.export_model(''imp_rt'', 1)');
UPDATE ml.models SET model = '\x7b4c00', feature_schema = NULL WHERE name = 'imp_rt' AND version = 1;
SELECT error_of('SELECT ml.export_model(''imp_rt'', 1)');
ROLLBACK;

-- an imported champion is re-scored by ml.train's deployment policy like a trained one
SELECT version, deployed FROM ml.import_model('imp_champ', convert_to((SELECT j FROM nb), 'UTF8'),
                                              classes => '{false,true}', deploy => true);
CREATE TABLE imp_train AS SELECT (i % 10)::float8 AS x, ((i * 7) % 10)::float8 AS y,
                                 ((i % 10) + ((i * 7) % 10)) > 9 AS label
                            FROM generate_series(1, 500) i;
SELECT version, champion_score IS NOT NULL AS champion_rescored
  FROM ml.train('imp_champ', 'imp_train', 'label', params => '{"num_round": 5}');
SELECT version, lineage, champion_version, comparable FROM ml.model_history
 WHERE model_name = 'imp_champ' ORDER BY version;

-- privileges: import is the 'train' access; deploying too needs 'deploy'; export is read access to the models
CREATE ROLE imp_trainer;
CREATE ROLE imp_reader;
CREATE ROLE imp_app;
SELECT ml.grant_access('imp_trainer', 'train'), ml.grant_access('imp_reader', 'read'),
       ml.grant_access('imp_app', 'predict');
GRANT SELECT ON nb, nb_rows TO imp_trainer, imp_reader, imp_app;
SELECT models() AS models_before \gset
SET ROLE imp_trainer;
SELECT version, evaluator FROM ml.import_model('imp_t', convert_to((SELECT j FROM nb), 'UTF8'));
SELECT version, lineage, trained_by FROM ml.models WHERE name = 'imp_t';
SELECT try_import(j, ', deploy => true', 'imp_t') FROM nb;
SELECT length(ml.export_model('imp_t', 1)) > 0 AS trainer_exports;
SET ROLE imp_reader;
SELECT try_import(j, '', 'imp_r') FROM nb;
SELECT length(ml.export_model('imp', 1, 'ubj')) > 0 AS reader_exports,
       ml.export_model_schema('imp', 1)->'features' AS features;
SET ROLE imp_app;
SELECT error_of('SELECT ml.export_model(''imp'', 1)');
RESET ROLE;
SELECT models() - :models_before AS stored_by_roles;
-- a name belongs to the role that made its first version
SET ROLE imp_trainer;
SELECT try_import(j) FROM nb;
RESET ROLE;
DROP OWNED BY imp_trainer, imp_reader, imp_app;
DROP ROLE imp_trainer, imp_reader, imp_app;
