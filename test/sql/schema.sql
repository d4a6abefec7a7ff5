-- The learning-loop schema: objects, spellings, comments, build information

-- The suites that follow report an error as one line, SQLSTATE, message and hint
CREATE FUNCTION public.error_of(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    state text; message text; hint text;
BEGIN
    EXECUTE sql;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
    RETURN state || ': ' || message || ' | HINT: ' || coalesce(hint, '');
END $$;
SELECT c.relname, c.relkind
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'ml'
 ORDER BY c.relname;

SELECT p.proname, p.pronargs AS args,
       p.provolatile, p.proparallel, p.prosecdef
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'ml'
 ORDER BY 1, 2;

-- created unquoted: every spelling reaches the same tables
SELECT count(*) FROM ml.MLTrainingData;
SELECT count(*) FROM ml.mltrainingdata;
SELECT count(*) FROM ml.MLTRAININGDATA;
SELECT count(*) FROM ml.mlevaluationresults;
SELECT count(*) FROM ml.MLABTestResults;
SELECT count(*) FROM ml.MlMonitoringMetrics;

-- every table, column, index and function has a comment
SELECT c.relname AS uncommented_relation
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'ml' AND c.relkind IN ('r', 'i', 'v') AND c.relname NOT LIKE '%_pkey'
   AND obj_description(c.oid, 'pg_class') IS NULL;
SELECT c.relname, a.attname AS uncommented_column
  FROM pg_attribute a
  JOIN pg_class c ON c.oid = a.attrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'ml' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
   AND col_description(c.oid, a.attnum) IS NULL;
SELECT p.proname AS uncommented_function
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'ml' AND obj_description(p.oid, 'pg_proc') IS NULL;

-- nothing is executable by PUBLIC
SELECT p.proname AS public_function
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'ml' AND has_function_privilege('public', p.oid, 'EXECUTE');

-- the libraries are linked and loaded
SELECT key FROM jsonb_object_keys(ml.build_info()) AS key ORDER BY key;
SELECT ml.build_info()->>'learnloop' AS learnloop,
       ml.build_info()->>'xgboost' ~ '^\d+\.\d+\.\d+$' AS xgboost_version_ok,
       ml.build_info()->>'libcurl' ~ '^\d+\.\d+' AS libcurl_version_ok,
       ml.build_info()->>'cjson' ~ '^\d+\.\d+' AS cjson_version_ok;

-- settings
SHOW learnloop.max_payload_bytes;
SET learnloop.no_such_setting = 1;
