-- The training worker: it takes the caller's settings whole, keeps its
-- XGBoost handles in bounds, and stays under the superuser's thread limit
SET client_min_messages = warning;  -- progress notices depend on timing

-- early stopping slices the best rounds off a booster; the full booster is
-- freed, so a 20-candidate grid does not run out of XGBoost handles
CREATE TABLE es_points AS
SELECT i, ((i * 0.6180339887) % 1)::float8 AS x1, ((i * 0.4142135623) % 1)::float8 AS x2,
       ((i * 0.6180339887) % 1) + 0.5 * ((i * 0.7548776662) % 1) > 0.75 AS y
  FROM generate_series(1, 2000) i;
SELECT count(*) AS candidates, count(version) AS registered
  FROM ml.train('es_grid', 'es_points', 'y',
                search => '{"max_depth": [3, 4, 5, 6, 8], "eta": [0.5, 0.7, 0.9, 1.0]}',
                params => '{"num_round": 60}', early_stopping_rounds => 2);
SELECT rounds < 60 AS stopped_early FROM ml.models WHERE name = 'es_grid';

-- a search_path longer than 1,024 bytes reaches the worker whole: cut at
-- 1,023 bytes, its last schema s_longer became s_long, another table
CREATE SCHEMA s_long;
CREATE TABLE s_long.sp_data AS SELECT (i % 7)::float8 AS x, i % 2 = 0 AS y FROM generate_series(1, 20) i;
CREATE SCHEMA s_longer;
CREATE TABLE s_longer.sp_data AS SELECT (i % 7)::float8 AS x, i % 2 = 0 AS y FROM generate_series(1, 200) i;
SELECT length(set_config('search_path',
         string_agg('pad' || lpad(g::text, 2, '0') || repeat('x', CASE WHEN g < 17 THEN 53 ELSE 50 END), ', ')
           || ', s_longer', false)) AS search_path_bytes
  FROM generate_series(1, 17) g;
SELECT left(current_setting('search_path'), 1023) LIKE '%, s_long' AS cut_names_another_schema,
       (SELECT count(*) FROM sp_data) AS caller_rows;
SELECT version FROM ml.train('sp_model', 'sp_data', 'y', params => '{"num_round": 2}');
RESET search_path;
SELECT train_rows + test_rows AS trained_rows FROM ml.models WHERE name = 'sp_model';

-- TimeZone and DateStyle: the filter reads a timestamp's local date as text,
-- which only the caller's two settings make match 20 of the 400 rows
CREATE TABLE tz_points AS
SELECT i, ((i * 0.6180339887) % 1)::float8 AS x, i % 2 = 0 AS y,
       timestamptz '2026-01-01 00:00:00+00' + i * interval '30 minutes' AS at
  FROM generate_series(0, 399) i;
SET TimeZone = 'Pacific/Kiritimati';
SET DateStyle = 'SQL, MDY';
SELECT count(*) AS caller_rows FROM tz_points WHERE at::date::text = '01/01/2026';
SELECT version FROM ml.train('tz_model', 'tz_points', 'y', features => ARRAY['x'],
                             filter => $$at::date::text = '01/01/2026'$$, params => '{"num_round": 2}');
-- a target computed from the local date: in UTC the first 48 rows are all
-- of 2026-01-01 (a single class), in the caller's time zone only 20 of them
SELECT version FROM ml.train('tz_target', 'SELECT x, at FROM tz_points WHERE i < 48',
                             $$at::date = date '2026-01-01'$$, features => ARRAY['x'],
                             params => '{"num_round": 2}');
SELECT count(*) FILTER (WHERE at::date = date '2026-01-01') AS caller_true_rows
  FROM tz_points WHERE i < 48;
RESET TimeZone;
RESET DateStyle;
SELECT train_rows + test_rows AS trained_rows FROM ml.models WHERE name = 'tz_model';
SELECT feature_schema->'classes' AS classes, train_rows + test_rows AS trained_rows
  FROM ml.models WHERE name = 'tz_target';

-- a worker's error keeps its SQLSTATE and says where it comes from
CREATE FUNCTION error_context_of(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    state text; context text;
BEGIN
    EXECUTE sql;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, context = PG_EXCEPTION_CONTEXT;
    RETURN state || ': ' || split_part(context, E'\n', 1);
END $$;
SELECT error_context_of($$SELECT * FROM ml.train('no_source', 'no_such_table', 'y')$$);
