-- Fixture of the bad-input suite (test/shell/bad_input.sh): the objects the
-- generated calls name when an argument is not the one under test, so that
-- each call differs from a valid one in exactly one argument.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
CREATE EXTENSION learnloop;

-- a training source: numeric, categorical, boolean, time and group columns
CREATE TABLE bi_src AS
SELECT i AS id, (i % 17)::float8 AS x1, ((i * 7) % 23)::float8 AS x2,
       (ARRAY['a', 'b', 'c'])[1 + i % 3] AS c, (i % 17) > 8 AS y,
       (i % 17)::float8 * 2 + (i % 5) AS v,
       timestamptz '2026-01-01' + i * interval '1 hour' AS t, i % 20 AS g
  FROM generate_series(1, 200) i;
-- a table that DML smuggled into a training source must leave alone
CREATE TABLE bi_victim AS SELECT * FROM bi_src;
CREATE SEQUENCE bi_seq;
-- roles are per cluster: an earlier run may have left it
DO $$BEGIN CREATE ROLE bi_role NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END$$;

-- models: a binary classifier, a multi-class policy over actions a/b/c, a
-- regressor, and a two-version model that deploy and rollback may move
SELECT count(*) FROM ml.train('bi_cls', 'bi_src', 'y', features => ARRAY['x1', 'x2', 'c'], params => '{"num_round": 3}');
SELECT count(*) FROM ml.train('bi_pol', 'bi_src', 'c', features => ARRAY['x1', 'x2'], params => '{"num_round": 2}');
SELECT count(*) FROM ml.train('bi_reg', 'bi_src', 'v', features => ARRAY['x1', 'x2'], params => '{"num_round": 3}');
SELECT count(*) FROM ml.train('bi_dep', 'bi_src', 'y', features => ARRAY['x1', 'x2'], params => '{"num_round": 2}');
SELECT count(*) FROM ml.train('bi_dep', 'bi_src', 'y', features => ARRAY['x1', 'x2'], params => '{"num_round": 3}', deploy => 'always');

-- experiments: a running one with exposures and outcomes, one whose status
-- the calls change, and a Thompson-sampling one
SELECT name FROM ml.create_experiment('bi_exp', ARRAY['a', 'b'], primary_metric => 'conv');
SELECT name FROM ml.create_experiment('bi_exp_st', ARRAY['a', 'b']);
SELECT name FROM ml.create_experiment('bi_tho', ARRAY['a', 'b'], primary_metric => 'conv', allocation => 'thompson');
SELECT count(ml.assign_variant(e, 'u' || i)) FROM generate_series(1, 40) i, unnest(ARRAY['bi_exp', 'bi_tho']) e;
SELECT count(ml.record_outcome(e, 'u' || i, 'conv', (i % 3 = 0)::int)) FROM generate_series(1, 40) i, unnest(ARRAY['bi_exp', 'bi_tho']) e;

-- channels and a rule for the alert functions (bi_ch_drop is dropped by ml.drop_channel's valid call)
SELECT ml.create_channel(c, 'https://hooks.example.com/bi') FROM unnest(ARRAY['bi_ch', 'bi_ch_drop']) c;
SELECT ml.create_alert('bi_alert', 'bi_cls', 'accuracy', '<', 0.5, channel => 'bi_ch');

-- decisions for ml.record_outcome
SELECT ml.record_decision('bi_task', 'u1', '{"x1": 1, "x2": 2}', '{"action": "a"}');
SELECT ml.record_decision('bi_task', 'u1', '{"x1": 1, "x2": 2}', '{"action": "a"}', experiment => 'bi_exp', variant => ml.assign_variant('bi_exp', 'u1'));

-- Corrupted copies of bi_cls, each under its own name and deployed with plain
-- INSERTs, as a role granted 'train' and 'deploy' could write them.  Offsets
-- come from the UBJSON layout: a key, then "[$l#L" and an 8-byte count, then
-- big-endian int32 elements.
CREATE TABLE bi_corruption (kind text PRIMARY KEY, model bytea, feature_schema jsonb);
CREATE FUNCTION bi_int32_at(m bytea, key text, value int) RETURNS bytea LANGUAGE sql AS $$
    SELECT set_byte(set_byte(set_byte(set_byte(m,
               p + 25, (value >> 24) & 255), p + 26, (value >> 16) & 255),
               p + 27, (value >> 8) & 255), p + 28, value & 255)
      FROM (SELECT position(convert_to(key, 'UTF8') IN m) AS p) s
$$;
INSERT INTO bi_corruption
SELECT k, m, s FROM (SELECT model AS m0, feature_schema AS s0 FROM ml.models WHERE name = 'bi_cls') b,
LATERAL (VALUES
  ('bytes_empty', ''::bytea, s0),
  ('bytes_half', substring(m0 FROM 1 FOR length(m0) / 2), s0),
  ('bytes_head16', substring(m0 FROM 1 FOR 16), s0),
  ('bytes_garbage', decode(repeat(md5('bi'), 128), 'hex'), s0),
  ('bytes_json_text', convert_to('{"learner": {}}', 'UTF8'), s0),
  ('bytes_flip_middle', set_byte(m0, length(m0) / 2, 255), s0),
  ('bytes_appended', m0 || decode('ffffffff', 'hex'), s0),
  ('left_child_out_of_range', bi_int32_at(m0, 'left_children', 2147483647), s0),
  ('left_child_negative', bi_int32_at(m0, 'left_children', -5), s0),
  ('left_child_cycle', bi_int32_at(m0, 'left_children', 0), s0),
  ('right_child_cycle', bi_int32_at(m0, 'right_children', 0), s0),
  ('split_index_out_of_range', bi_int32_at(m0, 'split_indices', 2147483647), s0),
  ('split_index_past_schema', bi_int32_at(m0, 'split_indices', 7), s0),
  ('parent_out_of_range', bi_int32_at(m0, 'parents', 2147483647), s0),
  ('num_feature_9', set_byte(m0, position('num_feature'::bytea IN m0) + 20, 57), s0),
  ('schema_empty_object', m0, '{}'::jsonb),
  ('schema_array', m0, '[]'::jsonb),
  ('schema_no_features', m0, s0 - 'features'),
  ('schema_zero_features', m0, jsonb_set(s0, '{features}', '[]')),
  ('schema_numeric_categories', m0, jsonb_set(s0, '{features,2,categories}', '[1, 2, 3]')),
  ('schema_no_categories', m0, s0 #- '{features,2,categories}'),
  ('schema_bogus_type', m0, jsonb_set(s0, '{features,0,type}', '"bogus"')),
  ('schema_feature_not_object', m0, jsonb_set(s0, '{features,0}', '42')),
  ('schema_duplicate_names', m0, jsonb_set(s0, '{features,1,name}', '"x1"')),
  ('schema_no_classes', m0, s0 - 'classes'),
  ('schema_one_class', m0, jsonb_set(s0, '{classes}', '["false"]')),
  ('schema_class_numbers', m0, jsonb_set(s0, '{classes}', '[0, 1]')),
  ('schema_objective_mismatch', m0, jsonb_set(s0, '{objective}', '"multi:softprob"')),
  ('schema_task_bogus', m0, jsonb_set(s0, '{task}', '"bogus"')),
  ('schema_2000_features', m0, jsonb_set(s0, '{features}',
      (SELECT jsonb_agg(jsonb_build_object('name', 'f' || i, 'type', 'numeric')) FROM generate_series(1, 2000) i)))
) v(k, m, s);
INSERT INTO ml.models (name, version, task, params, feature_schema, model, objective, rounds,
                       feature_importance, train_rows, test_rows, trained_by)
SELECT 'bi_bad_' || c.kind, 1, m.task, m.params, c.feature_schema, c.model, m.objective, m.rounds,
       m.feature_importance, m.train_rows, m.test_rows, m.trained_by
  FROM bi_corruption c, ml.models m WHERE m.name = 'bi_cls';
INSERT INTO ml.deployments (model_name, model_version, action, reason)
SELECT 'bi_bad_' || kind, 1, 'deploy', 'bad-input suite: corrupted model' FROM bi_corruption;

-- The state every failing call must leave unchanged: every table of schema ml
-- (read from the catalog, so new tables are covered), the tables of schema
-- public and the large objects; after a "|", what no call of a training
-- function may change, failing or not: the public tables, the large objects,
-- the decisions and the deployments.  Row hashes are summed, so that no sort
-- is needed.
CREATE FUNCTION bi_state() RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    r record;
    h text;
    whole text := '';
    side text := '';
BEGIN
    FOR r IN SELECT c.oid::regclass AS rel,
                    c.relnamespace = 'public'::regnamespace
                    OR c.oid IN ('ml.mltrainingdata'::regclass, 'ml.deployments'::regclass) AS is_side
               FROM pg_class c
              WHERE c.relnamespace IN ('ml'::regnamespace, 'public'::regnamespace)
                AND c.relkind IN ('r', 'p')
              ORDER BY c.oid
    LOOP
        EXECUTE format('SELECT count(*) || '':'' || coalesce(sum(hashtextextended(t::text, 0)::numeric), 0) FROM %s t', r.rel) INTO h;
        whole := whole || r.rel::text || '=' || h || ' ';
        IF r.is_side THEN
            side := side || r.rel::text || '=' || h || ' ';
        END IF;
    END LOOP;
    h := (SELECT count(*) FROM pg_largeobject_metadata)::text;
    RETURN md5(whole || h) || '|' || md5(side || h);
END $$;

-- After a call: waits (up to 15 s, as a 100-round job on a loaded machine
-- may take) for the training jobs it started (ml.train_async), so that
-- their writes are charged to it and not to the next input.
CREATE FUNCTION bi_settle() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    i int := 0;
BEGIN
    WHILE EXISTS (SELECT 1 FROM ml.training_jobs WHERE status = 'running') AND i < 300 LOOP
        PERFORM pg_sleep(0.05);
        i := i + 1;
    END LOOP;
END $$;
