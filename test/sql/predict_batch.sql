-- Scoring whole tables: the serving functions' cost and parallel plans, ml.predict_batch
SET client_min_messages = warning;

CREATE TABLE batch_points AS
SELECT i AS id, 'u' || i AS unit,
       ((i * 0.6180339887) % 1)::real AS x1,
       ((i * 0.4142135623) % 1)::real AS x2,
       (ARRAY['red', 'green', 'blue'])[1 + i % 3] AS colour
  FROM generate_series(1, 3000) i;
ANALYZE batch_points;
CREATE VIEW batch_data AS
SELECT x1, x2, colour, ((x1 + x2 > 1) <> (colour = 'blue')) AS y,
       CASE WHEN x1 < 0.3 THEN 'low' WHEN x1 < 0.7 THEN 'mid' ELSE 'high' END AS level
  FROM batch_points;
SELECT model_name, version, deployed
  FROM ml.train('batch_bin', 'SELECT x1, x2, colour, y FROM batch_data', 'y', params => '{"num_round": 20}');
SELECT model_name, version, deployed
  FROM ml.train('batch_levels', 'SELECT x1, x2, level FROM batch_data', 'level', params => '{"num_round": 10}');
SELECT model_name, version, deployed
  FROM ml.train('batch_bin', 'SELECT x1, x2, colour, y FROM batch_data', 'y', deploy => 'never',
                params => '{"num_round": 5}');

-- a prediction costs 100 operators (explain a thousand predictions), so that
-- the planner puts a scan that predicts in parallel workers
SELECT p.oid::regprocedure AS function, p.procost
  FROM pg_proc p
 WHERE p.pronamespace = 'ml'::regnamespace
   AND p.proname IN ('predict', 'predict_proba', 'predict_label', 'explain')
 ORDER BY 1::text;

-- a narrow table of 100,000 rows, below the default 8 MB for a parallel scan
CREATE TABLE batch_many AS
SELECT i AS id, ((i * 0.6180339887) % 1)::real AS x1, ((i * 0.4142135623) % 1)::real AS x2
  FROM generate_series(1, 100000) i;
ANALYZE batch_many;
SET max_parallel_workers_per_gather = 2;
SET min_parallel_table_scan_size = 0;
-- parallel_setup_cost and parallel_tuple_cost stay at their defaults: the
-- prediction's cost is what pays for the workers and for sending the rows
EXPLAIN (COSTS OFF) SELECT id, ml.predict('batch_bin', ARRAY[x1, x2, NULL]) FROM batch_many;
EXPLAIN (COSTS OFF) SELECT id, ml.predict('batch_bin', jsonb_build_object('x1', x1, 'x2', x2)) FROM batch_many;
EXPLAIN (COSTS OFF) SELECT id, ml.predict_proba('batch_levels', ARRAY[x1, x2]) FROM batch_many;
-- the same scan without a prediction is not worth the workers
EXPLAIN (COSTS OFF) SELECT id, x1 + x2 FROM batch_many;
-- and with the default cost of a C function (1) neither is the prediction's
BEGIN;
ALTER FUNCTION ml.predict(text, real[], integer) COST 1;
EXPLAIN (COSTS OFF) SELECT id, ml.predict('batch_bin', ARRAY[x1, x2, NULL]) FROM batch_many;
ROLLBACK;
RESET max_parallel_workers_per_gather;
RESET min_parallel_table_scan_size;

-- ml.predict_batch: the id column and the prediction of every row, as ml.predict gives it
\set VERBOSITY terse
SET client_min_messages = notice;
SELECT * FROM ml.predict_batch('batch_bin', 'SELECT id, x1, x2, colour FROM batch_points', 'batch_scores',
                               features => 'jsonb_build_object(''x1'', x1, ''x2'', x2, ''colour'', colour)',
                               progress_every => 1000);
SET client_min_messages = warning;
SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS type
  FROM pg_attribute a WHERE a.attrelid = 'batch_scores'::regclass AND a.attnum > 0 ORDER BY a.attnum;
SELECT count(*) AS rows, count(DISTINCT s.id) AS ids,
       count(*) FILTER (WHERE s.prediction = ml.predict('batch_bin', jsonb_build_object('x1', p.x1, 'x2', p.x2, 'colour', p.colour), 1))
           AS equal_to_predict
  FROM batch_scores s JOIN batch_points p USING (id);

-- a table name (with its columns as features), several id columns of any
-- type, a pinned version that is not the deployed one, class probabilities
-- and labels
CREATE SCHEMA batch_out;
SELECT * FROM ml.predict_batch('batch_bin', 'batch_points', 'batch_out."Scores v3"', id_columns => '{unit, id}',
                               features => 'ARRAY[x1, x2, NULL]', version => 2);
SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS type
  FROM pg_attribute a WHERE a.attrelid = 'batch_out."Scores v3"'::regclass AND a.attnum > 0 ORDER BY a.attnum;
SELECT count(*) AS rows,
       count(*) FILTER (WHERE s.prediction = ml.predict('batch_bin', ARRAY[p.x1, p.x2, NULL], 2)) AS equal_to_v2,
       count(*) FILTER (WHERE s.prediction = ml.predict('batch_bin', ARRAY[p.x1, p.x2, NULL], 1)) < 3000
           AS not_the_deployed_v1,
       count(*) FILTER (WHERE s.unit = p.unit) AS units
  FROM batch_out."Scores v3" s JOIN batch_points p USING (id);
SELECT * FROM ml.predict_batch('batch_levels', 'batch_points', 'batch_proba', features => 'ARRAY[x1, x2]',
                               output => 'proba');
SELECT * FROM ml.predict_batch('batch_levels', 'batch_points', 'batch_labels', features => 'ARRAY[x1, x2]',
                               output => 'LABEL');
SELECT count(*) FILTER (WHERE b.probabilities = ml.predict_proba('batch_levels', ARRAY[p.x1, p.x2])) AS proba_equal,
       count(*) FILTER (WHERE l.label = ml.predict_label('batch_levels', ARRAY[p.x1, p.x2])) AS label_equal,
       count(DISTINCT l.label) AS labels
  FROM batch_points p JOIN batch_proba b USING (id) JOIN batch_labels l USING (id);
-- an empty source makes an empty table
SELECT * FROM ml.predict_batch('batch_bin', 'SELECT * FROM batch_points WHERE id < 0', 'batch_none',
                               features => 'ARRAY[x1, x2, NULL]');
SELECT count(*) FROM batch_none;

-- the scoring runs in parallel workers when the plan says so, and writes the same rows
SET max_parallel_workers_per_gather = 2;
SET min_parallel_table_scan_size = 0;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
\set VERBOSITY default
SET client_min_messages = notice;
SELECT * FROM ml.predict_batch('batch_bin', 'batch_many', 'batch_parallel', features => 'ARRAY[x1, x2, NULL]');
-- into a temporary table: the leader writes it while the workers read the source
SELECT * FROM ml.predict_batch('batch_bin', 'batch_many', 'pg_temp.batch_temp', features => 'ARRAY[x1, x2, NULL]');
SET max_parallel_workers_per_gather = 0;
SELECT * FROM ml.predict_batch('batch_bin', 'batch_many', 'batch_serial', features => 'ARRAY[x1, x2, NULL]');
SET client_min_messages = warning;
\set VERBOSITY terse
RESET max_parallel_workers_per_gather;
RESET min_parallel_table_scan_size;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
SELECT count(*) AS rows, count(*) FILTER (WHERE p.prediction = s.prediction) AS equal,
       count(*) FILTER (WHERE t.prediction = s.prediction) AS temp_equal
  FROM batch_parallel p JOIN batch_serial s USING (id) JOIN pg_temp.batch_temp t USING (id);

-- errors; none leaves a table behind
SELECT error_of(sql) FROM (VALUES
  ($$SELECT ml.predict_batch('batch_bin', 'batch_points', 'batch_scores', features => 'ARRAY[x1, x2, NULL]')$$),
  ($$SELECT ml.predict_batch('nobody', 'batch_points', 'batch_e1')$$),
  ($$SELECT ml.predict_batch('batch_bin', 'batch_points', 'batch_e1', version => 0)$$),
  ($$SELECT ml.predict_batch('batch_bin', 'batch_points', 'batch_e1', version => 9)$$),
  ($$SELECT ml.predict_batch('batch_bin', 'batch_points', 'batch_e1', output => 'probability')$$),
  ($$SELECT ml.predict_batch('batch_bin', 'batch_points', 'batch_e1', progress_every => 0)$$),
  ($$SELECT ml.predict_batch('batch_bin', 'batch_points', NULL)$$),
  ($$SELECT ml.predict_batch('batch_bin', 'batch_points', 'batch e1')$$),
  ($$SELECT ml.predict_batch('batch_bin', 'batch_points', 'batch_e1', id_columns => '{id, NULL}')$$),
  ($$SELECT ml.predict_batch('batch_bin', 'batch_points', 'batch_e1', id_columns => '{{id}, {x1}}')$$),
  ($$SELECT ml.predict_batch('batch_bin', 'batch_points', 'batch_e1', id_columns => '{nope}')$$),
  -- the model's own errors: features of no serving type, a class model asked for one number
  ($$SELECT ml.predict_batch('batch_bin', 'batch_points', 'batch_e1', features => 'x1')$$),
  ($$SELECT ml.predict_batch('batch_levels', 'batch_points', 'batch_e1', features => 'ARRAY[x1, x2]')$$),
  -- one SELECT only: statements smuggled in are refused before anything runs
  ($$SELECT ml.predict_batch('batch_bin', 'batch_points', 'batch_e1',
       features => 'ARRAY[x1, x2, NULL]), 1) AS prediction FROM batch_points AS s; DROP TABLE batch_points; SELECT ((1')$$),
  ($$SELECT ml.predict_batch('batch_bin', 'batch_points AS s; DROP TABLE batch_points; SELECT 1 FROM batch_points',
       'batch_e1', features => 'ARRAY[x1, x2, NULL]')$$),
  ($$SELECT ml.predict_batch('batch_bin', 'batch_points', 'batch_e1 AS SELECT 1; DROP TABLE batch_points; CREATE TABLE batch_e2',
       features => 'ARRAY[x1, x2, NULL]')$$)) AS t (sql);
SELECT count(*) AS still_there FROM batch_points;
-- a cancel (here a statement timeout) stops it and rolls it back
SET statement_timeout = '300ms';
SELECT * FROM ml.predict_batch('batch_bin', 'SELECT *, pg_sleep(0.001) FROM batch_many', 'batch_e1',
                               features => 'ARRAY[x1, x2, NULL]');
RESET statement_timeout;
-- an event trigger that gives the new table an index: refused (the rows would miss it)
CREATE FUNCTION batch_add_index() RETURNS event_trigger LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
    FOR r IN SELECT * FROM pg_event_trigger_ddl_commands() WHERE object_type = 'table' LOOP
        EXECUTE format('CREATE INDEX ON %s (id)', r.object_identity);
    END LOOP;
END $$;
CREATE EVENT TRIGGER batch_add_index ON ddl_command_end WHEN TAG IN ('CREATE TABLE AS')
    EXECUTE FUNCTION batch_add_index();
SELECT error_of($$SELECT ml.predict_batch('batch_bin', 'batch_points', 'batch_e1', features => 'ARRAY[x1, x2, NULL]')$$);
DROP EVENT TRIGGER batch_add_index;
SELECT count(*) AS leftovers FROM pg_class WHERE relname LIKE 'batch_e%';

-- privileges: it reads the source and creates the table as the caller
CREATE ROLE batch_scorer;
CREATE ROLE batch_nobody;
SELECT ml.grant_access('batch_scorer', 'predict');
GRANT USAGE, CREATE ON SCHEMA batch_out TO batch_scorer;
SET ROLE batch_nobody;
SELECT error_of($$SELECT ml.predict_batch('batch_bin', 'batch_points', 'batch_out.mine', features => 'ARRAY[x1, x2, NULL]')$$);
SET ROLE batch_scorer;
-- the source is read as the caller
SELECT error_of($$SELECT ml.predict_batch('batch_bin', 'batch_points', 'batch_out.mine', features => 'ARRAY[x1, x2, NULL]')$$);
RESET ROLE;
GRANT SELECT (id, x1, x2) ON batch_points TO batch_scorer;
SET ROLE batch_scorer;
-- and the table created as the caller, where it may create
SELECT error_of($$SELECT ml.predict_batch('batch_bin', 'batch_points', 'public.mine', features => 'ARRAY[x1, x2, NULL]')$$);
SELECT * FROM ml.predict_batch('batch_bin', 'batch_points', 'batch_out.mine', features => 'ARRAY[x1, x2, NULL]');
RESET ROLE;
SELECT tableowner, (SELECT count(*) FROM batch_out.mine) AS rows FROM pg_tables
 WHERE schemaname = 'batch_out' AND tablename = 'mine';
DROP TABLE batch_out.mine;
REVOKE ALL ON batch_points FROM batch_scorer;
REVOKE ALL ON SCHEMA batch_out FROM batch_scorer;
DROP OWNED BY batch_scorer;
DROP ROLE batch_scorer;
DROP ROLE batch_nobody;
\set VERBOSITY default

-- into names the table it creates, in the schema CREATE TABLE picks: a
-- temporary table of the same name, which a name lookup finds first, gets
-- no rows
SET client_min_messages = warning;
CREATE TEMP TABLE batch_shadow (id integer, prediction double precision);
SELECT * FROM ml.predict_batch('batch_bin', 'batch_points', 'batch_shadow', features => 'ARRAY[x1, x2, NULL]');
SELECT (SELECT count(*) FROM pg_temp.batch_shadow) AS temp_rows,
       (SELECT count(*) FROM public.batch_shadow) AS created_rows;
-- a comment at the end of source cannot swallow the rest of the statement
-- (WITH NO DATA: the table would get every row twice)
SELECT error_of($$SELECT ml.predict_batch('batch_bin', 'batch_points AS s --', 'batch_e3',
                                          features => 'ARRAY[x1, x2, NULL]')$$);
SELECT * FROM ml.predict_batch('batch_bin', 'SELECT id, x1, x2 FROM batch_points -- all of them', 'batch_commented',
                               features => 'ARRAY[x1, x2, NULL] -- the serving order');
SELECT count(*) AS rows, count(DISTINCT id) AS ids FROM batch_commented;
SELECT count(*) AS leftovers FROM pg_class WHERE relname = 'batch_e3';
