-- Generator of the bad-input suite (test/shell/bad_input.sh).  Prints one
-- input per line, "id<TAB>statement".  Every function of schema ml is read
-- from pg_proc, so a new function is covered without touching this file;
-- each call passes valid values (the fixture's objects) for the required
-- arguments and one bad value for the argument under test.
\set ON_ERROR_STOP 1
\pset format unaligned
\pset tuples_only on
\pset fieldsep '\t'

-- valid values per function ('*' for any) and argument name
-- (always: passed even when the argument has a default, to keep calls fast)
-- (type: only for arguments of that type, as overloads differ by type)
CREATE TEMP TABLE bi_valid (fn text, arg text, expr text, always boolean DEFAULT false, type regtype);
INSERT INTO bi_valid VALUES
  ('*', 'model', $$'bi_cls'$$),
  ('*', 'experiment', $$'bi_exp'$$),
  ('*', 'unit_id', $$'u1'$$),
  ('*', 'metric', $$'conv'$$),
  ('*', 'correction', $$'holm'$$),
  ('*', 'missing', $$'zero'$$),
  ('*', 'features', $$'{"x1": 1, "x2": 2, "c": "a"}'$$),
  ('*', 'version', '1'),
  ('*', 'weights', $$'{0.5, 0.5}'$$),
  ('*', 'variants', $$'{a, b}'$$),
  ('*', 'mde', '0.1'),
  ('*', 'baseline', '0.1'),
  ('*', 'users', '1'),
  ('*', 'days', '1'),
  ('decide', 'task', $$'bi_task'$$),
  ('decide', 'fallback', $$'a'$$),
  ('decide', 'features', $$'{"x1": 1, "x2": 2}'$$),
  ('record_decision', 'task', $$'bi_task'$$),
  ('record_decision', 'features', $$'{"x1": 1}'$$),
  ('record_decision', 'decision', $$'{"action": "a"}'$$),
  ('record_decision', 'source', $$'real'$$),
  ('record_outcome', 'decision_id', '(SELECT min(id) FROM ml.mltrainingdata)'),
  ('record_outcome', 'outcome', $$'{"ok": true}'$$),
  ('record_outcome', 'value', '1'),
  ('simulate_outcome', 'features', '(SELECT features FROM ml.simulated_decisions(1, 1) LIMIT 1)'),
  ('simulate_outcome', 'action', $$'detailed_explanation'$$),
  ('train', 'model', $$'bi_t'$$),
  ('train', 'source', $$'bi_src'$$),
  ('train', 'target', $$'y'$$),
  ('train', 'task', $$'classification'$$),
  ('train', 'split', $$'random'$$),
  ('train', 'search_method', $$'grid'$$),
  ('train', 'metric', $$'accuracy'$$),
  ('train', 'deploy', $$'never'$$),
  ('train', 'evaluate_on', $$'all'$$),
  ('deploy', 'model', $$'bi_dep'$$),
  ('import_model', 'name', $$'bi_imp'$$),
  ('import_model', 'model', $$(SELECT ml.export_model('bi_dep', 1))$$),
  ('export_model', 'name', $$'bi_dep'$$),
  ('export_model_schema', 'name', $$'bi_dep'$$),
  ('deploy', 'reason', $$'bad-input suite'$$),
  ('rollback', 'model', $$'bi_dep'$$),
  ('cancel_training', 'job_id', '999999'),
  ('create_experiment', 'name', $$'bi_new_' || nextval('bi_seq')$$),
  ('create_experiment', 'status', $$'running'$$),
  ('create_experiment', 'allocation', $$'fixed'$$),
  ('lock_experiment', 'name', $$'bi_exp'$$),
  ('set_experiment_status', 'name', $$'bi_exp_st'$$),
  ('set_experiment_status', 'status', $$'running'$$),
  ('update_weights', 'name', $$'bi_exp'$$),
  ('update_weights', 'source', $$'manual'$$),
  ('growthbook_hash', 'seed', $$'s'$$),
  ('growthbook_hash', 'value', $$'v'$$),
  ('bucket_ranges', 'coverage', '1'),
  ('outcome_accum', 'moments', $$'{1, 1, 0, 0}'$$),
  ('outcome_accum', 'value', '1'),
  ('outcome_combine', 'a', $$'{1, 1, 0, 0}'$$),
  ('outcome_combine', 'b', $$'{1, 0, 0, 0}'$$),
  ('outcome_moments', 'value', '1'),
  ('power', 'units', '1000'),
  ('thompson_weights', 'experiment', $$'bi_tho'$$),
  ('update_allocation', 'experiment', $$'bi_tho'$$),
  ('create_alert', 'name', $$'bi_alert_' || nextval('bi_seq')$$),
  ('create_alert', 'metric', $$'accuracy'$$),
  ('create_alert', 'severity', $$'warning'$$),
  ('drop_alert', 'name', $$'bi_alert'$$),
  ('create_channel', 'name', $$'bi_ch_' || nextval('bi_seq')$$),
  ('create_channel', 'url', $$'https://hooks.example.com/bi'$$),
  ('create_channel', 'kind', $$'json'$$),
  ('check_channel_url', 'url', $$'https://hooks.example.com/bi'$$),
  ('drop_channel', 'name', $$'bi_ch_drop'$$),
  ('enable_channel', 'name', $$'bi_ch'$$),
  ('test_channel', 'name', $$'bi_ch'$$),
  ('grant_access', 'grantee', $$'bi_role'$$),
  ('grant_access', 'access', $$'read'$$);
INSERT INTO bi_valid VALUES ('predict', 'features', $$'{1, 2, 0}'$$, false, 'real[]'),
                            ('train', 'params', $$'{"num_round": 2}'$$, true, NULL),
                            ('train', 'features', $$'{x1, x2, c}'$$, true, NULL),
                            ('decide', 'model', $$'bi_pol'$$, true, NULL),
                            ('decide', 'min_confidence', '0', true, NULL),
                            ('create_alert', 'condition', $$'<'$$, true, NULL),
                            ('create_alert', 'threshold', '0.5', true, NULL);
-- issue 12, sim: the simulation's ground truth and policy replay
INSERT INTO bi_valid VALUES ('simulate_expected_outcome', 'action', $$'detailed_explanation'$$),
                            ('simulate_policy_kind', 'policy', $$'rules'$$),
                            ('simulate_policy_value', 'policy', $$'rules'$$),
                            ('simulate_policy', 'policy', $$'rules'$$);
-- issue 14, simspec: a world described by a spec (its action named as the built-in world's), and augmentation
-- (one line: each input is one line of the generated list)
INSERT INTO bi_valid VALUES ('*', 'spec', $$'{"actions": ["detailed_explanation", "b"], "features": {"x1": {"normal": {"mean": 0, "sd": 1}}}, "personas": [{"name": "p", "share": 1, "truth": {"detailed_explanation": 0.3, "b": 0.6}, "effects": [{"when": {"x1": {"gt": 1}}, "truth": {"b": 0.9}}]}]}'::jsonb$$),
                            ('augment', 'task', $$'bi_task'$$);
UPDATE bi_valid SET fn = 'train_async' WHERE fn = 'train';
INSERT INTO bi_valid SELECT 'train', arg, expr, always, type FROM bi_valid WHERE fn = 'train_async';
INSERT INTO bi_valid SELECT f, arg, expr, always, type FROM bi_valid, unnest(ARRAY['predict_proba', 'predict_label']) f
 WHERE fn = 'predict';

-- bad values per argument type; %s is the argument's valid value, if any
CREATE TEMP TABLE bi_bad (type regtype, variant text, expr text);
INSERT INTO bi_bad VALUES
  ('text', 'null', 'NULL'),
  ('text', 'empty', $$''$$),
  ('text', 'blank', $$' '$$),
  ('text', 'long257', $$repeat('n', 257)$$),
  ('text', 'huge_1mb', $$repeat('x', 1048576)$$),
  ('text', 'unknown', $$'bi_no_such_name'$$),
  ('text', 'injection', $$'x''); DROP TABLE bi_victim; --'$$),
  ('text', 'quoted_name', $$'"MLTrainingData"'$$),
  ('text', 'control_chars', $$E'a\tb\nc'$$),
  ('text', 'unicode', $$'ünï-🙂'$$),
  ('text', 'upper', 'upper(%s)'),
  ('integer', 'null', 'NULL'),
  ('integer', 'negative', '-1'),
  ('integer', 'zero', '0'),
  ('integer', 'int_max', '2147483647'),
  ('integer', 'int_min', '-2147483648'),
  ('bigint', 'null', 'NULL'),
  ('bigint', 'negative', '-1'),
  ('bigint', 'zero', '0'),
  ('bigint', 'int64_max', '9223372036854775807'),
  ('bigint', 'int64_min', '-9223372036854775808'),
  ('double precision', 'null', 'NULL'),
  ('double precision', 'nan', $$'NaN'$$),
  ('double precision', 'infinity', $$'Infinity'$$),
  ('double precision', 'minus_infinity', $$'-Infinity'$$),
  ('double precision', 'negative', '-1'),
  ('double precision', 'zero', '0'),
  ('double precision', 'two', '2'),
  ('double precision', 'max', '1e308'),
  ('double precision', 'denormal', '5e-324'),
  ('boolean', 'null', 'NULL'),
  ('jsonb', 'null', 'NULL'),
  ('jsonb', 'json_null', $$'null'$$),
  ('jsonb', 'empty_array', $$'[]'$$),
  ('jsonb', 'array', $$'[1, 2, 3]'$$),
  ('jsonb', 'number', '''1'''),
  ('jsonb', 'string', $$'"s"'$$),
  ('jsonb', 'boolean', $$'true'$$),
  ('jsonb', 'empty_object', $$'{}'$$),
  ('jsonb', 'unknown_keys', $$'{"xOne": 1, "X2": 2}'$$),
  ('jsonb', 'nested_values', $$'{"x1": {"a": [1]}, "x2": [1, 2], "c": {"b": null}}'$$),
  ('jsonb', 'wrong_types', $$'{"x1": "text", "x2": true, "c": 5}'$$),
  ('jsonb', 'nan_string', $$'{"x1": "NaN", "x2": "Infinity"}'$$),
  ('jsonb', 'huge_number', $$'{"x1": 1e39, "x2": -1e400}'$$),
  ('jsonb', 'nested_10000', $$(repeat('[', 10000) || repeat(']', 10000))$$),
  ('jsonb', 'objects_2000_deep', $$(repeat('{"x1": ', 2000) || '1' || repeat('}', 2000))$$),
  ('jsonb', 'many_keys', $$(SELECT jsonb_object_agg('k' || i, i) FROM generate_series(1, 20000) i)$$),
  ('jsonb', 'size_1mb', $$(SELECT jsonb_object_agg('k' || i, repeat('v', 100)) FROM generate_series(1, 10000) i)$$),
  ('jsonb', 'key_1mb', $$jsonb_build_object(repeat('k', 1048576), 1)$$),
  ('text[]', 'null', 'NULL'),
  ('text[]', 'empty', $$'{}'$$),
  ('text[]', 'null_elements', $$'{NULL, NULL}'$$),
  ('text[]', 'empty_elements', $$'{"", ""}'$$),
  ('text[]', 'duplicates', $$'{a, a}'$$),
  ('text[]', 'two_dimensional', $$'{{a, b}, {c, d}}'$$),
  ('text[]', 'lower_bound_0', $$'[0:1]={a, b}'$$),
  ('text[]', 'elements_10000', $$(SELECT array_agg('e' || i) FROM generate_series(1, 10000) i)$$),
  ('text[]', 'element_1mb', $$ARRAY[repeat('e', 1048576), 'b']$$),
  ('text[]', 'injection', $$ARRAY['x1) FROM bi_src; DROP TABLE bi_victim; --', 'b']$$),
  ('double precision[]', 'null', 'NULL'),
  ('double precision[]', 'empty', $$'{}'$$),
  ('double precision[]', 'null_elements', $$'{NULL, NULL}'$$),
  ('double precision[]', 'nan', $$'{NaN, NaN}'$$),
  ('double precision[]', 'infinity', $$'{Infinity, 0}'$$),
  ('double precision[]', 'negative', $$'{-1, 2}'$$),
  ('double precision[]', 'one_element', $$'{1}'$$),
  ('double precision[]', 'two_dimensional', $$'{{0.5, 0.5}, {0.5, 0.5}}'$$),
  ('double precision[]', 'lower_bound_0', $$'[0:1]={0.5, 0.5}'$$),
  ('double precision[]', 'elements_100000', $$array_fill(0.00001::float8, ARRAY[100000])$$),
  ('real[]', 'null', 'NULL'),
  ('real[]', 'empty', $$'{}'$$),
  ('real[]', 'null_elements', $$'{NULL, NULL, NULL}'$$),
  ('real[]', 'nan', $$'{NaN, NaN, NaN}'$$),
  ('real[]', 'infinity', $$'{Infinity, 1, 0}'$$),
  ('real[]', 'too_short', $$'{1}'$$),
  ('real[]', 'too_long', $$'{1, 2, 0, 4, 5}'$$),
  ('real[]', 'elements_100000', $$array_fill(1::real, ARRAY[100000])$$),
  ('real[]', 'two_dimensional', $$'{{1, 2, 0}, {1, 2, 0}}'$$),
  ('real[]', 'lower_bound_5', $$'[5:7]={1, 2, 0}'$$),
  ('real[]', 'category_code_huge', $$'{1, 2, 1e30}'$$),
  ('real[]', 'category_code_negative', $$'{1, 2, -1}'$$),
  ('real[]', 'category_code_fraction', $$'{1, 2, 0.5}'$$),
  ('timestamp with time zone', 'null', 'NULL'),
  ('timestamp with time zone', 'infinity', $$'infinity'$$),
  ('timestamp with time zone', 'minus_infinity', $$'-infinity'$$),
  ('timestamp with time zone', 'far_future', $$'294276-12-31 00:00:00+00'$$),
  ('timestamp with time zone', 'before_christ', $$'4713-01-01 00:00:00+00 BC'$$),
  ('regrole', 'null', 'NULL'),
  ('regrole', 'invalid_oid', $$'-'$$),
  ('regrole', 'dangling_oid', '4294967295::oid');

-- the IN arguments of every function of schema ml
CREATE TEMP VIEW bi_args AS
SELECT p.oid, p.proname, p.prokind, p.pronargs, p.pronargdefaults, a.pos, a.name,
       a.type::regtype AS type, a.pos <= p.pronargs - p.pronargdefaults AS required,
       -- an overloaded name says its argument types
       p.proname || CASE WHEN (SELECT count(*) FROM pg_proc q WHERE q.pronamespace = p.pronamespace AND q.proname = p.proname) = 1 THEN ''
                         ELSE ':' || (SELECT string_agg(replace(replace(format_type(t, NULL), ' ', '_'), '[]', '_array'), ',' ORDER BY o)
                                        FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY u(t, o)) END AS sig
  FROM pg_proc p
  LEFT JOIN LATERAL (
        SELECT row_number() OVER (ORDER BY o) AS pos, n AS name, t AS type
          FROM unnest(coalesce(p.proallargtypes, p.proargtypes::oid[]), p.proargnames,
                      coalesce(p.proargmodes, array_fill('i'::"char", ARRAY[p.pronargs]))) WITH ORDINALITY u(t, n, m, o)
         WHERE m IN ('i', 'b')) a ON true
 WHERE p.pronamespace = 'ml'::regnamespace;

CREATE TEMP VIEW bi_value AS
SELECT a.oid, a.pos, a.name, a.type,
       a.required OR EXISTS (SELECT 1 FROM bi_valid v WHERE v.arg = a.name AND v.fn = a.proname AND v.always) AS required,
       coalesce((SELECT v.expr FROM bi_valid v
                  WHERE v.arg = a.name AND v.fn IN (a.proname, '*') AND coalesce(v.type = a.type, true)
                  ORDER BY v.fn = '*', v.type IS NULL LIMIT 1),
                CASE a.type WHEN 'text'::regtype THEN $$'x'$$ WHEN 'jsonb'::regtype THEN $$'{}'$$
                            WHEN 'boolean'::regtype THEN 'true' ELSE '1' END) AS valid
  FROM bi_args a WHERE a.pos IS NOT NULL;

-- call: the required arguments, with argument k replaced by bad value e
CREATE TEMP VIEW bi_calls AS
WITH fn AS (SELECT DISTINCT oid, proname, prokind, sig FROM bi_args),
cases AS (
    SELECT fn.oid, fn.sig || '//valid' AS id, NULL::int AS pos, NULL::text AS bad FROM fn
    UNION ALL
    SELECT v.oid, fn.sig || '/' || v.name || '/' || b.variant, v.pos,
           CASE WHEN b.expr LIKE '%\%s%' THEN replace(b.expr, '%s', '(' || v.valid || ')::text') ELSE b.expr END
      FROM bi_value v JOIN fn USING (oid) JOIN bi_bad b ON b.type = v.type
     WHERE b.variant <> 'upper' OR v.valid LIKE $$'%$$
)
SELECT c.id,
       CASE WHEN fn.prokind = 'a' THEN 'SELECT left(' || format('%I.%I', 'ml', fn.proname) || '(' || args || ')::text, 300)'
            ELSE 'SELECT left(string_agg(s::text, '' ; ''), 300) FROM ' || format('%I.%I', 'ml', fn.proname) || '(' || args || ') s'
       END AS sql
  FROM cases c JOIN fn USING (oid),
  LATERAL (SELECT coalesce(string_agg(format('%I => (%s)::%s', v.name, CASE WHEN v.pos = c.pos THEN c.bad ELSE v.valid END, v.type),
                                      ', ' ORDER BY v.pos), '') AS args
             FROM bi_value v WHERE v.oid = c.oid AND (v.required OR v.pos = c.pos)) a;

-- Hand-written inputs: DML, several statements and side effects as a
-- training source, target, filter, features or column; corrupted models.
CREATE TEMP TABLE bi_special (id text, sql text);
CREATE FUNCTION pg_temp.train_call(arg text, value text) RETURNS text LANGUAGE sql AS $$
    SELECT 'SELECT left(string_agg(s::text, '' ; ''), 300) FROM ml.train(model => ''bi_t'', '
           || concat_ws(', ', CASE WHEN arg <> 'source' THEN 'source => ''bi_src''' END,
                        CASE WHEN arg <> 'target' THEN 'target => ''y''' END,
                        CASE WHEN arg <> 'features' THEN 'features => ''{x1, x2, c}''' END,
                        format('%I => %L', arg, value)
                        || CASE arg WHEN 'features' THEN '::text[]' WHEN 'split_column' THEN ', split => ''time''' ELSE '' END)
           || ', params => ''{"num_round": 2}'', deploy => ''never'') s'
$$;
INSERT INTO bi_special
SELECT 'special/train/' || arg || '/' || variant, pg_temp.train_call(arg, value)
  FROM (VALUES
  ('source', 'delete', 'DELETE FROM bi_victim'),
  ('source', 'delete_returning', 'DELETE FROM bi_victim RETURNING *'),
  ('source', 'update_returning', 'UPDATE bi_victim SET y = NOT y RETURNING *'),
  ('source', 'insert_returning', 'INSERT INTO bi_victim SELECT * FROM bi_victim RETURNING *'),
  ('source', 'cte_delete', 'WITH d AS (DELETE FROM bi_victim RETURNING *) SELECT * FROM d'),
  ('source', 'select_then_drop', 'SELECT * FROM bi_src; DROP TABLE bi_victim'),
  ('source', 'select_1_then_drop', 'SELECT 1; DROP TABLE bi_victim'),
  ('source', 'name_then_drop', 'bi_src; DROP TABLE bi_victim'),
  ('source', 'close_paren_then_drop', 'bi_src) s; DROP TABLE bi_victim; --'),
  ('source', 'close_paren_join', 'SELECT * FROM bi_src) s, (SELECT 1 AS one'),
  ('source', 'truncate', 'TRUNCATE bi_victim'),
  ('source', 'drop', 'DROP TABLE bi_victim'),
  ('source', 'create_table_as', 'CREATE TABLE bi_created AS SELECT * FROM bi_src'),
  ('source', 'select_into', 'SELECT * INTO bi_created FROM bi_src'),
  ('source', 'for_update', 'SELECT * FROM bi_src FOR UPDATE'),
  ('source', 'copy', 'COPY bi_src TO STDOUT'),
  ('source', 'explain', 'EXPLAIN SELECT * FROM bi_src'),
  ('source', 'notify', $$SELECT *, pg_notify('bi', 'from a source') IS NULL AS n FROM bi_src$$),
  ('source', 'lo_create', 'SELECT *, lo_create(0) AS lo FROM bi_src'),
  ('source', 'nextval', $$SELECT *, nextval('bi_seq') AS s FROM bi_src$$),
  ('source', 'record_decision', $$SELECT *, ml.record_decision('bi_task', 'u1', '{}', '{}') AS d FROM bi_src$$),
  ('source', 'set_config', $$SELECT *, set_config('search_path', 'pg_temp', false) AS sp FROM bi_src$$),
  ('source', 'txid_current', 'SELECT *, txid_current() AS xid FROM bi_src'),
  ('source', 'advisory_lock', 'SELECT *, pg_advisory_lock(42) IS NULL AS l FROM bi_src'),
  ('source', 'registry_bytea', 'ml.models'),
  ('source', 'no_rows', 'SELECT * FROM bi_src WHERE false'),
  ('source', 'one_row', 'SELECT * FROM bi_src LIMIT 1'),
  ('source', 'parenthesised', '(SELECT * FROM bi_src)'),
  ('source', 'values', 'VALUES (1, true)'),
  ('target', 'lo_create', 'lo_create(0) > 0 AND y'),
  ('target', 'notify', $$pg_notify('bi', 'from a target') IS NULL AND y$$),
  ('target', 'nextval', $$nextval('bi_seq') > 0 AND y$$),
  ('target', 'record_decision', $$ml.record_decision('bi_task', 'u1', '{}', '{}') > 0 AND y$$),
  ('target', 'deploy', $$ml.deploy('bi_dep', 1) > 0 AND y$$),
  ('target', 'txid_current', 'txid_current() > 0 AND y'),
  ('target', 'then_drop', 'y; DROP TABLE bi_victim'),
  ('target', 'from_then_drop', 'y FROM bi_src; DROP TABLE bi_victim; --'),
  ('target', 'cte_delete', 'y AND (WITH d AS (DELETE FROM bi_victim RETURNING 1) SELECT true)'),
  ('target', 'terminate_self', 'pg_terminate_backend(pg_backend_pid()) AND y'),
  ('target', 'division_by_zero', 'x1 / 0 > 1'),
  ('target', 'subquery_rows', '(SELECT y FROM bi_src)'),
  ('target', 'aggregate', 'bool_or(y)'),
  ('target', 'window', 'lag(y) OVER ()'),
  ('target', 'set_returning', 'generate_series(1, 2) > 1'),
  ('filter', 'lo_create', 'lo_create(0) > 0'),
  ('filter', 'notify', $$pg_notify('bi', 'from a filter') IS NULL$$),
  ('filter', 'deploy', $$ml.deploy('bi_dep', 1) > 0$$),
  ('filter', 'then_drop', 'true; DROP TABLE bi_victim'),
  ('filter', 'close_paren', 'true) OR (true'),
  ('filter', 'not_boolean', 'x1'),
  ('filter', 'aggregate', 'bool_or(y)'),
  ('features', 'lo_create', '{x1, "lo_create(0) AS lo"}'),
  ('features', 'notify', $${x1, "pg_notify('bi', 'from a feature') IS NULL AS n"}$$),
  ('features', 'record_decision', $${x1, "ml.record_decision('bi_task', 'u1', '{}', '{}') AS d"}$$),
  ('features', 'from_then_drop', '{"x1 FROM bi_src; DROP TABLE bi_victim; --"}'),
  ('features', 'star', '{*}'),
  ('features', 'target_as_feature', '{x1, y}'),
  ('features', 'timestamp', '{x1, t}'),
  ('split_column', 'then_drop', 't; DROP TABLE bi_victim'),
  ('split_column', 'lo_create', 'lo_create(0)'),
  ('split_column', 'unknown', 'bi_no_such_column'),
  ('group_column', 'then_drop', 'g; DROP TABLE bi_victim'),
  ('group_column', 'lo_create', 'lo_create(0)'),
  ('group_column', 'unknown', 'bi_no_such_column')
  ) v(arg, variant, value);

-- every serving entry point on every corrupted model of the fixture
INSERT INTO bi_special
SELECT 'corrupt/' || c.kind || '/' || v.call, replace(v.sql, 'MODEL', quote_literal('bi_bad_' || c.kind))
  FROM bi_corruption c, (VALUES
  ('predict_jsonb', $$SELECT ml.predict(MODEL, '{"x1": 1, "x2": 2, "c": "a"}'::jsonb)$$),
  ('predict_jsonb_version', $$SELECT ml.predict(MODEL, '{"x1": 1, "x2": 2, "c": "b"}'::jsonb, version => 1)$$),
  ('predict_array', $$SELECT ml.predict(MODEL, '{1, 2, 0}'::real[])$$),
  ('predict_proba', $$SELECT ml.predict_proba(MODEL, '{"x1": 1, "x2": 2, "c": "a"}'::jsonb)$$),
  ('predict_label', $$SELECT ml.predict_label(MODEL, '{"x1": 1, "x2": 2, "c": "a"}'::jsonb)$$),
  ('explain', $$SELECT left(string_agg(e::text, ' ; '), 300) FROM ml.explain(MODEL, '{"x1": 1, "x2": 2, "c": "a"}'::jsonb) e$$),
  ('decide', $$SELECT left(string_agg(d::text, ' ; '), 300) FROM ml.decide('bi_task', 'u1', '{"x1": 1, "x2": 2, "c": "a"}', 'a', model => MODEL) d$$),
  ('deploy', $$SELECT ml.deploy(MODEL, 1, 'bad-input suite')$$)
  ) v(call, sql);

SELECT id, sql FROM bi_calls
UNION ALL
SELECT id, sql FROM bi_special
ORDER BY 1;
