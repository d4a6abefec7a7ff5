-- Per-cohort models with a warm start: ml.train(..., cohort_column, base_model)
-- refines one stored model for everyone and for each cohort with enough
-- rows: every model it registers continues from the base's trees.
SET client_min_messages = warning;
CREATE FUNCTION cw_trees(m text, v int) RETURNS jsonb LANGUAGE sql AS $$
    SELECT replace(convert_from(ml.export_model(m, v), 'UTF8'), 'NaN', 'null')::jsonb
           #> '{learner,gradient_booster,model,trees}'
$$;
-- two personas of 600 rows and one of 100 (too small for a model of its own)
CREATE TABLE cw_rows AS
    SELECT i, (i % 97) / 97.0 AS x, ((i * 7) % 89) / 89.0 AS y,
           CASE WHEN i <= 600 THEN 'owl' WHEN i <= 1200 THEN 'lark' ELSE 'finch' END AS p,
           CASE WHEN i <= 600 THEN (i % 97) / 97.0 > 0.5 ELSE ((i * 7) % 89) / 89.0 > 0.5 END AS label
      FROM generate_series(1, 1300) i;
SELECT model_name, version FROM ml.train('cw_base', 'cw_rows', 'label', features => '{x,y,p}',
                                         params => '{"num_round": 4}');
SELECT count(*) AS models
  FROM ml.train('cw', 'cw_rows', 'label', features => '{x,y,p}', params => '{"num_round": 3}',
                cohort_column => 'p', min_cohort_rows => 200, base_model => 'cw_base');
-- the global model and the two cohorts': each continued from the base, with its 4 trees first
SELECT version, cohort, lineage, base_model, base_version, rounds,
       jsonb_array_length(cw_trees('cw', version)) AS trees,
       (SELECT bool_and(cw_trees('cw', m.version)->i = cw_trees('cw_base', 1)->i)
          FROM generate_series(0, 3) i) AS base_trees_first
  FROM ml.models m WHERE name = 'cw' ORDER BY version;
-- a refresh per cohort keeps the base's trees' structure: as many trees, new leaves
SELECT count(*) AS refreshed_models
  FROM ml.train('cw_refresh', 'cw_rows', 'label', features => '{x,y,p}', cohort_column => 'p',
                min_cohort_rows => 200, base_model => 'cw_base', refresh => true);
SELECT cohort, lineage, rounds, jsonb_array_length(cw_trees('cw_refresh', version)) AS trees,
       (SELECT bool_and(cw_trees('cw_refresh', m.version)->i->'split_indices' =
                        cw_trees('cw_base', 1)->i->'split_indices')
          FROM generate_series(0, 3) i) AS same_splits,
       cw_trees('cw_refresh', version) <> cw_trees('cw_base', 1) AS new_leaves
  FROM ml.models m WHERE name = 'cw_refresh' ORDER BY version;

-- cohorts and warm starts work on the loaded rows: they train in memory, even when auto would
-- stream (8,000 rows of 3 features pass a 64kB limit), and asked to stream they are refused
-- before anything is registered
CREATE TABLE cw_big AS SELECT * FROM cw_rows, generate_series(1, 6) copy LIMIT 8000;
SET learnloop.training_memory = 'auto';
SET learnloop.training_memory_limit = '64kB';
SELECT model_name AS streamed_without_cohorts
  FROM ml.train('cw_plain', 'cw_big', 'label', features => '{x,y,p}', params => '{"num_round": 2}');
SELECT count(*) AS models FROM ml.train('cw_auto', 'cw_big', 'label', features => '{x,y,p}',
                                        params => '{"num_round": 2}', cohort_column => 'p',
                                        min_cohort_rows => 200, base_model => 'cw_base');
-- (the latest job of each: the job table outlives a dropped test database)
SELECT DISTINCT ON (model) model, training_memory FROM ml.training_jobs
 WHERE model IN ('cw_plain', 'cw_auto') ORDER BY model, job_id DESC;
SET learnloop.training_memory = 'stream';
SELECT error_of($$SELECT * FROM ml.train('cw_stream', 'cw_rows', 'label', features => '{x,y,p}',
                                          cohort_column => 'p', min_cohort_rows => 200)$$) AS cohorts_streamed;
SELECT error_of($$SELECT * FROM ml.train('cw_stream', 'cw_rows', 'label', features => '{x,y,p}',
                                          base_model => 'cw_base', refresh => true)$$) AS refresh_streamed;
SELECT count(*) AS registered FROM ml.models WHERE name = 'cw_stream';
RESET learnloop.training_memory;
RESET learnloop.training_memory_limit;
