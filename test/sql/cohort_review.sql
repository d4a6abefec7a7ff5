-- Per-cohort models, review (issue 14): cohorts with warm starts, routes that only
-- reach cohort models of the deployed global model's task, target and classes, and
-- cohort values that serving reads as numbers or booleans.
SET client_min_messages = warning;  -- progress notices depend on timing

CREATE TABLE review_rows AS
SELECT i AS id, (ARRAY['a', 'b', 'c'])[1 + i % 3] AS persona, (i % 3)::text AS grp,
       (i % 2 = 0)::text AS even,
       ((i * 7919) % 1000) / 1000.0 AS x1, ((i * 104729) % 997) / 997.0 AS x2
  FROM generate_series(1, 900) i;
ALTER TABLE review_rows ADD COLUMN y boolean;
UPDATE review_rows SET y = CASE persona WHEN 'a' THEN x1 > 0.5 WHEN 'b' THEN x1 < 0.5 ELSE x2 > 0.5 END;

-- 1. cohorts with base_model: every model of the training starts from the base's trees
SELECT version FROM ml.train('rv_base', 'review_rows', 'y', features => ARRAY['persona', 'x1', 'x2'],
                                     params => '{"num_round": 4, "max_depth": 2}', seed => 3);
SELECT count(*) AS models FROM ml.train('rv_warm', 'review_rows', 'y', features => ARRAY['persona', 'x1', 'x2'],
                                        params => '{"num_round": 3, "max_depth": 2}', seed => 3,
                                        cohort_column => 'persona', min_cohort_rows => 100,
                                        base_model => 'rv_base');
SELECT version, cohort, lineage, base_model, base_version, rounds
  FROM ml.models WHERE name = 'rv_warm' ORDER BY version;
-- base_model without base_version starts from the deployed global version, not from the
-- newest deployment, which after a cohort training is the last cohort's
SELECT version FROM ml.train('rv_from', 'review_rows', 'y', features => ARRAY['persona', 'x1', 'x2'],
                             params => '{"num_round": 2, "max_depth": 2}', seed => 3, base_model => 'rv_warm');
SELECT m.base_version, ml.deployed_version('rv_warm') AS global_deployed,
       (SELECT d.model_version FROM ml.deployments d WHERE d.model_name = 'rv_warm' ORDER BY d.id DESC LIMIT 1) AS newest_deployment
  FROM ml.models m WHERE m.name = 'rv_from';
-- and with refresh => true each refits the base's trees, adding none
SELECT count(*) AS models FROM ml.train('rv_refresh', 'review_rows', 'y', features => ARRAY['persona', 'x1', 'x2'],
                                        seed => 3, cohort_column => 'persona', min_cohort_rows => 100,
                                        base_model => 'rv_base', refresh => true);
SELECT version, cohort, lineage, base_model, base_version, rounds
  FROM ml.models WHERE name = 'rv_refresh' ORDER BY version;

-- 2. a cohort model is served only while the deployed global model has its task,
-- target and classes: a regression of another target deployed as the global model
-- serves every row, and the cohorts' classifiers serve again once it is rolled back
SELECT count(*) AS models FROM ml.train('rv', 'review_rows', 'y', features => ARRAY['persona', 'x1', 'x2'],
                                        params => '{"num_round": 5, "max_depth": 2}', seed => 3,
                                        cohort_column => 'persona', min_cohort_rows => 100);
SELECT ml.predict('rv', '{"persona": "a", "x1": 0.9, "x2": 0.1}'::jsonb) =
       ml.predict('rv', '{"persona": "a", "x1": 0.9, "x2": 0.1}'::jsonb, 2) AS a_routed;
SELECT version, deployed FROM ml.train('rv', 'review_rows', 'x1', features => ARRAY['persona', 'x2'],
                                       params => '{"num_round": 5}', seed => 3, deploy => 'always');
SELECT ml.predict('rv', '{"persona": "a", "x2": 0.1}'::jsonb) =
       ml.predict('rv', '{"persona": "a", "x2": 0.1}'::jsonb, 5) AS a_served_by_the_regression;
SELECT error_of($$SELECT ml.predict_proba('rv', '{"persona": "a", "x2": 0.1}'::jsonb)$$);
SELECT error_of($$SELECT ml.decide('rv_task', 'u1', '{"persona": "a", "x2": 0.1}', model => 'rv')$$);
SELECT ml.rollback('rv') AS global_back_to;
SELECT ml.predict('rv', '{"persona": "a", "x1": 0.9, "x2": 0.1}'::jsonb) =
       ml.predict('rv', '{"persona": "a", "x1": 0.9, "x2": 0.1}'::jsonb, 2) AS a_routed_again;
-- an imported global version names no target: the cohorts of its task and classes are routed
SELECT version FROM ml.import_model('rv', ml.export_model('rv', 1), features => ml.export_model_schema('rv', 1)->'features',
                                    classes => ARRAY['false', 'true'], deploy => true);
SELECT ml.predict('rv', '{"persona": "a", "x1": 0.9, "x2": 0.1}'::jsonb) =
       ml.predict('rv', '{"persona": "a", "x1": 0.9, "x2": 0.1}'::jsonb, 2) AS a_routed_under_the_import;
-- the same target with other classes (a multi-class target named y) is not routed either
SELECT version, deployed FROM ml.train('rv', $$SELECT persona, x1, x2, CASE WHEN x1 < 0.3 THEN 'lo'
                                                 WHEN x1 < 0.6 THEN 'mid' ELSE 'hi' END AS y FROM review_rows$$,
                                       'y', params => '{"num_round": 5}', seed => 3, deploy => 'always');
SELECT ml.predict_label('rv', '{"persona": "a", "x1": 0.9, "x2": 0.1}'::jsonb) AS a_label_of_the_multiclass;

-- 3. a cohort value serving reads as a category from a number or a boolean is routed
-- as the models read it: {"grp": 1} is cohort "1", {"even": true} cohort "true"
SELECT count(*) AS models FROM ml.train('rv_num', 'review_rows', 'y', features => ARRAY['grp', 'x1', 'x2'],
                                        params => '{"num_round": 5, "max_depth": 2}', seed => 3,
                                        cohort_column => 'grp', min_cohort_rows => 100);
SELECT version, cohort FROM ml.models WHERE name = 'rv_num' ORDER BY version;
SELECT g, ml.predict('rv_num', jsonb_build_object('grp', g, 'x1', 0.9, 'x2', 0.1)) =
          ml.predict('rv_num', jsonb_build_object('grp', g, 'x1', 0.9, 'x2', 0.1),
                     (SELECT version FROM ml.models WHERE name = 'rv_num' AND cohort = g::text)) AS routed
  FROM unnest(ARRAY[0, 1, 2]) g;
SELECT decided_by FROM ml.decide('rv_task', 'u2', '{"grp": 1, "x1": 0.9, "x2": 0.1}', model => 'rv_num');
SELECT count(*) AS models FROM ml.train('rv_bool', 'review_rows', 'y', features => ARRAY['even', 'x1', 'x2'],
                                        params => '{"num_round": 5, "max_depth": 2}', seed => 3,
                                        cohort_column => 'even', min_cohort_rows => 100);
SELECT e, ml.predict('rv_bool', jsonb_build_object('even', e, 'x1', 0.9, 'x2', 0.1)) =
          ml.predict('rv_bool', jsonb_build_object('even', e, 'x1', 0.9, 'x2', 0.1),
                     (SELECT version FROM ml.models WHERE name = 'rv_bool' AND cohort = e::text)) AS routed
  FROM unnest(ARRAY[true, false]) e;

-- 4. a key the models do not know is warned about once per model that serves a call
-- site, not once per row whose cohort differs from the last row's (30 rows of three
-- cohorts: three warnings, as a call site of one version gives one)
SELECT round(sum(ml.predict('rv_warm', to_jsonb(r) - 'y' - 'grp' - 'even'))::numeric, 3) > 0 AS routed_sum
  FROM (SELECT * FROM review_rows WHERE id <= 30 ORDER BY id) r;
SELECT round(sum(ml.predict('rv_warm', to_jsonb(r) - 'y' - 'grp' - 'even', 1))::numeric, 3) > 0 AS global_sum
  FROM (SELECT * FROM review_rows WHERE id <= 30 ORDER BY id) r;
