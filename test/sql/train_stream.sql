-- Training from a stream (learnloop.training_memory): the features are
-- spilled to a temporary file and quantised batch by batch into XGBoost's
-- QuantileDMatrix.  Every loader feature must give the same model as the
-- in-memory path: numbers, booleans, NULLs, text categories, jsonb keys
-- that appear late, ranking groups, a time split, evaluate_on => 'real',
-- a filter, validation rows (early stopping) and a search.  12,000 rows
-- are several of the stream's 4,096-row batches and windows.
SET client_min_messages = warning;
CREATE TABLE stream_rows AS
SELECT i AS id,
       (i % 97) / 9.7 AS x1,
       CASE WHEN i % 11 = 0 THEN NULL ELSE ((i * 7919) % 1000) / 100.0 END AS x2,
       i % 5 = 0 AS flag,
       (ARRAY['red', 'green', 'blue', 'cyan'])[1 + (i * 31) % 4] AS colour,
       CASE WHEN i > 6000 THEN jsonb_build_object('late', i % 7, 'tag', 'k' || i % 3)
            ELSE jsonb_build_object('early', i % 5) END AS extra,
       i / 40 AS query,
       timestamp '2026-01-01' + i * interval '1 minute' AS at,
       CASE WHEN i % 4 = 0 THEN 'synthetic' ELSE 'real' END AS source
  FROM generate_series(1, 12000) i;
ALTER TABLE stream_rows ADD COLUMN y boolean, ADD COLUMN relevance integer;
UPDATE stream_rows
   SET y = ((x1 + coalesce(x2, 5) + CASE colour WHEN 'red' THEN 3 ELSE 0 END) > 9)
           <> (abs(hashint4(id)) % 100 < 15),
       relevance = (x1 > 5)::int + (colour = 'blue')::int + (abs(hashint4(id)) % 3 = 0)::int;

-- Trains model_memory and model_stream with the same arguments, forced each
-- way; returns both scores and whether the stored models are the same.
CREATE FUNCTION train_both(stem text, args text)
RETURNS TABLE (memory_scores double precision[], stream_scores double precision[],
               same_trees boolean, same_schema boolean, same_reference boolean,
               same_evaluation boolean, paths text)
LANGUAGE plpgsql AS $$
DECLARE
    way text;
    scores double precision[];
BEGIN
    FOREACH way IN ARRAY ARRAY['memory', 'stream'] LOOP
        PERFORM set_config('learnloop.training_memory', way, true);
        EXECUTE format('SELECT array_agg(round(score::numeric, 6)::float8 ORDER BY version) FROM ml.train(%L, %s)',
                       stem || '_' || way, args) INTO scores;
        IF way = 'memory' THEN memory_scores := scores; ELSE stream_scores := scores; END IF;
    END LOOP;
    PERFORM set_config('learnloop.training_memory', 'auto', true);
    RETURN QUERY
    SELECT memory_scores, stream_scores, a.model = b.model, a.feature_schema = b.feature_schema, a.reference = b.reference,
           (SELECT e.metrics FROM ml.MLEvaluationResults e WHERE e.model_name = a.name ORDER BY e.model_version DESC LIMIT 1) =
           (SELECT e.metrics FROM ml.MLEvaluationResults e WHERE e.model_name = b.name ORDER BY e.model_version DESC LIMIT 1),
           (SELECT string_agg(j.training_memory, ', ' ORDER BY j.job_id) FROM ml.training_jobs j
             WHERE j.model IN (a.name, b.name) AND j.database = current_database())
      FROM ml.models a, ml.models b
     WHERE a.name = stem || '_memory' AND b.name = stem || '_stream'
       AND a.version = (SELECT max(version) FROM ml.models WHERE name = a.name)
       AND b.version = (SELECT max(version) FROM ml.models WHERE name = b.name);
END
$$;

-- numbers, NULLs, booleans, text categories and jsonb keys (two appear at row 6,001)
SELECT * FROM train_both('plain', $$'stream_rows', 'y', features => ARRAY['x1', 'x2', 'flag', 'colour', 'extra'], seed => 3$$);
-- the dictionaries of the spilled categories are the sorted ones
SELECT f ->> 'name' AS feature, f ->> 'type' AS type, f -> 'categories' AS categories
  FROM ml.models, jsonb_array_elements(feature_schema -> 'features') f WHERE name = 'plain_stream';

-- every column but the target a feature, a filter, evaluate_on => 'real' (source is excluded)
SELECT * FROM train_both('real', $$'SELECT x1, x2, colour, extra, source, y FROM stream_rows', 'y', features => NULL,
    filter => 'x1 > 1', evaluate_on => 'real', seed => 4$$);
SELECT train_rows + test_rows AS rows, test_rows,
       (SELECT count(*) FROM stream_rows WHERE x1 > 1 AND source = 'real') >= test_rows AS only_real
  FROM ml.models WHERE name = 'real_stream';

-- a time split, validation rows and early stopping
SELECT * FROM train_both('timed', $$'stream_rows', 'y', features => ARRAY['x1', 'x2', 'colour'], split => 'time', split_column => 'at',
    early_stopping_rounds => 5, params => '{"num_round": 200, "eta": 0.3}', seed => 5$$);
SELECT rounds < 200 AS stopped_early FROM ml.models WHERE name = 'timed_stream';

-- a search picks on the validation rows
SELECT * FROM train_both('searched', $$'stream_rows', 'y', features => ARRAY['x1', 'x2', 'colour'],
    search => '{"max_depth": [2, 4], "eta": [0.1, 0.5]}', early_stopping_rounds => 3, seed => 6$$);

-- ranking: query groups stay whole, in the training matrix too
-- (one thread: ranking's score moves in the last digits with XGBoost's thread count, which
-- would make the expected output depend on the machine's cores)
SELECT * FROM train_both('ranked', $$'stream_rows', 'relevance', features => ARRAY['x1', 'x2', 'colour'], group_column => 'query', seed => 7, params => '{"nthread": 1}'$$);

-- regression with max_bin from params, which the quantised matrix takes
SELECT * FROM train_both('binned', $$'stream_rows', 'x1', features => ARRAY['x2', 'colour', 'relevance'], params => '{"max_bin": 16, "num_round": 20}', seed => 8$$);

-- 250 jsonb keys of 9,000 rows are two of the stream's 8 MB batches
CREATE TABLE wide_rows AS
SELECT i AS id, (SELECT jsonb_object_agg('k' || k, ((i::bigint * k * 7919) % 1000) / 10.0) FROM generate_series(1, 250) k) AS wide,
       ((i * 7919) % 1000 > 500) <> (abs(hashint4(i)) % 100 < 20) AS y
  FROM generate_series(1, 9000) i;
SELECT * FROM train_both('wide', $$'wide_rows', 'y', features => ARRAY['wide'], params => '{"num_round": 10}', seed => 9$$);

-- auto streams once the feature columns would pass the limit, else stays in memory
SET learnloop.training_memory = 'auto';
SET learnloop.training_memory_limit = '64kB';
SELECT model_name FROM ml.train('auto_small', 'stream_rows', 'y', features => ARRAY['x1', 'x2'], filter => 'id <= 2000');
SELECT model_name FROM ml.train('auto_large', 'stream_rows', 'y', features => ARRAY['x1', 'x2', 'flag', 'colour', 'extra']);
SELECT model, training_memory FROM ml.training_jobs
 WHERE model LIKE 'auto_%' AND database = current_database() ORDER BY job_id;
-- the switch came at row 2,048 (4,096 rows of 5 features pass 64kB): the rows
-- read before it went to the file as the later ones did
SET learnloop.training_memory = 'memory';
SELECT model_name FROM ml.train('auto_large_memory', 'stream_rows', 'y', features => ARRAY['x1', 'x2', 'flag', 'colour', 'extra']);
SELECT a.model = b.model AS same_trees, a.reference = b.reference AS same_reference
  FROM ml.models a, ml.models b WHERE a.name = 'auto_large' AND b.name = 'auto_large_memory';
-- 40 jsonb keys first seen at row 1,401 of 1,500 make the columns (2,048
-- rows long) pass 64kB before the columns grow again: auto streams from the
-- key that passes it, which comes while its row is read
CREATE TABLE late_keys AS
SELECT i AS id, (i % 97) / 9.7 AS x1,
       CASE WHEN i > 1400 THEN (SELECT jsonb_object_agg('k' || k, (i * k) % 13) FROM generate_series(1, 40) k) END AS extra,
       ((i % 97) > 40) <> (abs(hashint4(i)) % 100 < 15) AS y
  FROM generate_series(1, 1500) i;
SET learnloop.training_memory = 'auto';
SET learnloop.training_memory_limit = '64kB';
SELECT model_name FROM ml.train('late_auto', 'late_keys', 'y', features => ARRAY['x1', 'extra'], seed => 2);
SET learnloop.training_memory = 'memory';
SELECT model_name FROM ml.train('late_memory', 'late_keys', 'y', features => ARRAY['x1', 'extra'], seed => 2);
SELECT model, training_memory FROM ml.training_jobs
 WHERE model LIKE 'late_%' AND database = current_database() ORDER BY job_id;
SELECT a.model = b.model AS same_trees, a.reference = b.reference AS same_reference
  FROM ml.models a, ml.models b WHERE a.name = 'late_auto' AND b.name = 'late_memory';
SET learnloop.training_memory = 'auto';
RESET learnloop.training_memory_limit;
SHOW learnloop.training_memory_limit;

-- what a stream cannot do is an error with a hint, not a quiet fallback
SET learnloop.training_memory = 'stream';
\set VERBOSITY default
SELECT error_of($$SELECT * FROM ml.train('bins', 'stream_rows', 'y', features => ARRAY['x1'], search => '{"max_bin": [16, 32]}', early_stopping_rounds => 2)$$);
SELECT error_of($$SELECT * FROM ml.train('exact', 'stream_rows', 'y', features => ARRAY['x1'], params => '{"tree_method": "exact"}')$$);
SELECT error_of($$SELECT * FROM ml.train('colmaker', 'stream_rows', 'y', features => ARRAY['x1'], search => '{"updater": ["grow_quantile_histmaker", "grow_colmaker"]}', early_stopping_rounds => 2)$$);
-- refused before a row is read: the job never spilled
SELECT count(*) AS spilled_jobs FROM ml.training_jobs
 WHERE model IN ('bins', 'exact', 'colmaker') AND database = current_database() AND training_memory IS NOT NULL;
-- under auto the same jobs train, in memory, however large
SET learnloop.training_memory = 'auto';
SET learnloop.training_memory_limit = '64kB';
SELECT model_name FROM ml.train('kept_exact', 'stream_rows', 'y', features => ARRAY['x1', 'x2', 'flag'], params => '{"tree_method": "exact", "num_round": 3}', deploy => 'never');
SELECT DISTINCT model_name FROM ml.train('kept_bins', 'stream_rows', 'y', features => ARRAY['x1', 'x2', 'flag'], search => '{"max_bin": [16, 32]}', early_stopping_rounds => 2, deploy => 'never');
SELECT model, training_memory FROM ml.training_jobs
 WHERE model LIKE 'kept\_%' AND database = current_database() ORDER BY job_id;
RESET learnloop.training_memory_limit;
SET learnloop.training_memory = 'stream';
SELECT error_of($$SELECT * FROM ml.train('none', 'stream_rows', 'y', features => ARRAY['x1'], filter => 'false')$$);
SET learnloop.training_memory = 'sometimes';
RESET learnloop.training_memory;

-- the spill files are gone with the jobs, once their workers have exited
DO $$
BEGIN
    FOR i IN 1..200 LOOP
        EXIT WHEN NOT EXISTS (SELECT FROM pg_stat_activity WHERE backend_type = 'learnloop training');
        PERFORM pg_sleep(0.05);
    END LOOP;
END
$$;
SELECT count(*) AS temporary_files FROM pg_ls_tmpdir();
