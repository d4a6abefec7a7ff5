-- search_path hijacking: learnloop's own SQL must never run another role's operators, functions,
-- aggregates, types or casts that sit before pg_catalog on the caller's search_path.  A role
-- without privileges plants them in a schema of its own; a superuser then calls every entry
-- point with that schema first.  Each planted object counts its calls in a sequence (which a
-- rolled-back subtransaction does not undo) and logs its name; both must stay untouched.
SET client_min_messages = warning;
CREATE ROLE learnloop_test_planter;
CREATE ROLE learnloop_test_sp_app;
DO $$ BEGIN EXECUTE format('GRANT CREATE ON DATABASE %I TO learnloop_test_planter', current_database()); END $$;

SET ROLE learnloop_test_planter;
CREATE SCHEMA sp_evil;
CREATE SEQUENCE sp_evil.hits;
CREATE TABLE sp_evil.ran (object text, ran_as name, statement text);
CREATE FUNCTION sp_evil.ran(what text) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog AS $$
BEGIN
    PERFORM pg_catalog.nextval('sp_evil.hits'::pg_catalog.regclass);
    INSERT INTO sp_evil.ran VALUES (what, current_user, current_query());
END $$;

-- every binary pg_catalog operator over these types (and the array operators for their
-- arrays), doing what the real one does after logging itself
DO $plant$
DECLARE
    scalars regtype[] := ARRAY['text', 'integer', 'bigint', 'smallint', 'double precision', 'real',
                               'numeric', 'boolean', 'jsonb', 'json', 'bytea', 'timestamp with time zone',
                               'timestamp without time zone', 'interval', 'name', 'character varying',
                               '"char"', 'oid']::regtype[];
    arrays regtype[] := ARRAY['text[]', 'integer[]', 'bigint[]', 'double precision[]', 'real[]',
                              'jsonb[]']::regtype[];
    r record;
    i integer := 0;
BEGIN
    FOR r IN
        SELECT o.oprname AS op, o.oprleft::regtype AS l, o.oprright::regtype AS rt, o.oprresult::regtype AS res
          FROM pg_operator o
         WHERE o.oprnamespace = 'pg_catalog'::regnamespace AND o.oprkind = 'b'
           AND o.oprleft = ANY (scalars) AND o.oprright = ANY (scalars)
        UNION ALL
        SELECT op, t, t, CASE op WHEN '||' THEN t ELSE 'boolean'::regtype END
          FROM unnest(arrays) t, unnest(ARRAY['=', '<>', '<', '>', '<=', '>=', '@>', '<@', '&&', '||']) op
    LOOP
        i := i + 1;
        EXECUTE format('CREATE FUNCTION sp_evil.op_%s(a %s, b %s) RETURNS %s LANGUAGE plpgsql VOLATILE '
                       'SET search_path = pg_catalog AS $f$BEGIN PERFORM sp_evil.ran(%L); '
                       'RETURN a OPERATOR(pg_catalog.%s) b; END$f$',
                       i, r.l, r.rt, r.res, format('operator %s(%s, %s)', r.op, r.l, r.rt), r.op);
        EXECUTE format('CREATE OPERATOR sp_evil.%s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = sp_evil.op_%s)',
                       r.op, r.l, r.rt, i);
    END LOOP;
END $plant$;

-- plain functions that SQL commonly calls, with every non-variadic signature over simple types
DO $plant$
DECLARE
    simple regtype[] := ARRAY['text', 'integer', 'bigint', 'smallint', 'double precision', 'real',
                              'numeric', 'boolean', 'jsonb', 'json', 'bytea', 'timestamp with time zone',
                              'interval', 'name', 'oid', 'regclass', 'character varying', 'text[]']::regtype[];
    r record;
    i integer := 0;
BEGIN
    FOR r IN
        SELECT p.proname AS name, p.prorettype::regtype AS res,
               (SELECT string_agg(format('a%s %s', n, t::regtype), ', ' ORDER BY n)
                  FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY AS a(t, n)) AS params,
               (SELECT string_agg(format('a%s', n), ', ' ORDER BY n)
                  FROM generate_series(1, p.pronargs) n) AS args,
               p.oid::regprocedure AS signature
          FROM pg_proc p
         WHERE p.pronamespace = 'pg_catalog'::regnamespace AND p.prokind = 'f' AND NOT p.proretset
           AND p.provariadic = 0 AND p.prorettype = ANY (simple || 'void'::regtype)
           AND p.proargtypes::oid[] <@ simple::oid[]
           AND p.proname IN ('now', 'statement_timestamp', 'transaction_timestamp', 'clock_timestamp',
                             'hashtext', 'hashtextextended', 'pg_advisory_xact_lock', 'pg_advisory_lock',
                             'pg_try_advisory_xact_lock', 'pg_advisory_xact_lock_shared', 'length',
                             'lower', 'upper', 'btrim', 'ltrim', 'rtrim', 'substr', 'replace', 'strpos',
                             'split_part', 'left', 'right', 'starts_with', 'md5', 'quote_ident',
                             'quote_literal', 'quote_nullable', 'jsonb_typeof', 'jsonb_array_length',
                             'jsonb_build_object', 'jsonb_build_array', 'jsonb_set', 'jsonb_strip_nulls',
                             'jsonb_exists', 'jsonb_object_field', 'jsonb_object_field_text', 'to_jsonb',
                             'jsonb_in', 'to_char', 'round', 'abs', 'sqrt', 'exp', 'ln', 'floor', 'ceil',
                             'random', 'current_setting', 'set_config', 'nextval', 'currval', 'setval',
                             'pg_notify', 'pg_backend_pid', 'current_database', 'has_table_privilege',
                             'has_function_privilege', 'pg_has_role', 'format', 'text', 'int4', 'int8',
                             'float8', 'numeric', 'array_length', 'array_upper', 'cardinality',
                             'string_to_array', 'array_to_string', 'array_position', 'pg_sleep',
                             'isfinite', 'date_trunc', 'age', 'txid_current', 'pg_current_xact_id')
    LOOP
        i := i + 1;
        EXECUTE format('CREATE FUNCTION sp_evil.%I(%s) RETURNS %s LANGUAGE plpgsql VOLATILE '
                       'SET search_path = pg_catalog AS $f$BEGIN PERFORM sp_evil.ran(%L); '
                       '%s pg_catalog.%I(%s); END$f$',
                       r.name, coalesce(r.params, ''), r.res, 'function ' || r.signature,
                       CASE WHEN r.res = 'void'::regtype THEN 'PERFORM' ELSE 'RETURN' END,
                       r.name, coalesce(r.args, ''));
    END LOOP;
END $plant$;

-- aggregates: count and max as the real ones, the others only logging
CREATE FUNCTION sp_evil.count_step(n bigint) RETURNS bigint
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog AS $$
BEGIN PERFORM sp_evil.ran('aggregate count'); RETURN n OPERATOR(pg_catalog.+) 1; END $$;
CREATE FUNCTION sp_evil.count_step(n bigint, v anyelement) RETURNS bigint
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog AS $$
BEGIN
    PERFORM sp_evil.ran('aggregate count(value)');
    RETURN n OPERATOR(pg_catalog.+) CASE WHEN v IS NULL THEN 0 ELSE 1 END;
END $$;
CREATE AGGREGATE sp_evil.count(*) (SFUNC = sp_evil.count_step, STYPE = bigint, INITCOND = '0');
CREATE AGGREGATE sp_evil.count(text) (SFUNC = sp_evil.count_step, STYPE = bigint, INITCOND = '0');
CREATE AGGREGATE sp_evil.count(bigint) (SFUNC = sp_evil.count_step, STYPE = bigint, INITCOND = '0');
CREATE AGGREGATE sp_evil.count(integer) (SFUNC = sp_evil.count_step, STYPE = bigint, INITCOND = '0');
CREATE FUNCTION sp_evil.max_step(s anyelement, v anyelement) RETURNS anyelement
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog AS $$
BEGIN
    PERFORM sp_evil.ran('aggregate max');
    RETURN CASE WHEN s IS NULL OR v OPERATOR(pg_catalog.>) s THEN v ELSE s END;
END $$;
CREATE FUNCTION sp_evil.min_step(s anyelement, v anyelement) RETURNS anyelement
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog AS $$
BEGIN
    PERFORM sp_evil.ran('aggregate min');
    RETURN CASE WHEN s IS NULL OR v OPERATOR(pg_catalog.<) s THEN v ELSE s END;
END $$;
CREATE FUNCTION sp_evil.log_step(s anyelement, v anyelement) RETURNS anyelement
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog AS $$
BEGIN PERFORM sp_evil.ran('aggregate over ' || pg_catalog.pg_typeof(v)); RETURN s; END $$;
DO $plant$
DECLARE
    t regtype;
BEGIN
    FOREACH t IN ARRAY ARRAY['integer', 'bigint', 'double precision', 'real', 'numeric', 'text',
                             'timestamp with time zone', 'jsonb', 'boolean']::regtype[]
    LOOP
        IF t NOT IN ('jsonb'::regtype, 'boolean'::regtype) THEN
            EXECUTE format('CREATE AGGREGATE sp_evil.max(%1$s) (SFUNC = sp_evil.max_step, STYPE = %1$s)', t);
            EXECUTE format('CREATE AGGREGATE sp_evil.min(%1$s) (SFUNC = sp_evil.min_step, STYPE = %1$s)', t);
        END IF;
        EXECUTE format('CREATE AGGREGATE sp_evil.array_agg(%1$s) (SFUNC = sp_evil.log_step, STYPE = %1$s)', t);
        IF t IN ('integer'::regtype, 'bigint'::regtype, 'double precision'::regtype, 'real'::regtype,
                 'numeric'::regtype) THEN
            EXECUTE format('CREATE AGGREGATE sp_evil.sum(%1$s) (SFUNC = sp_evil.log_step, STYPE = %1$s)', t);
            EXECUTE format('CREATE AGGREGATE sp_evil.avg(%1$s) (SFUNC = sp_evil.log_step, STYPE = %1$s)', t);
        END IF;
    END LOOP;
    EXECUTE 'CREATE AGGREGATE sp_evil.jsonb_agg(jsonb) (SFUNC = sp_evil.log_step, STYPE = jsonb)';
    EXECUTE 'CREATE AGGREGATE sp_evil.bool_and(boolean) (SFUNC = sp_evil.log_step, STYPE = boolean)';
    EXECUTE 'CREATE AGGREGATE sp_evil.bool_or(boolean) (SFUNC = sp_evil.log_step, STYPE = boolean)';
END $plant$;

-- types named like pg_catalog's, with casts into them from every common type: an unqualified
-- ::text, ::jsonb, ::int4 ... would resolve to these and run the cast function
DO $plant$
DECLARE
    targets text[] := ARRAY['text', 'jsonb', 'json', 'int4', 'int8', 'int2', 'float8', 'float4', 'numeric',
                            'bool', 'bytea', 'timestamptz', 'varchar', 'regclass', 'name', 'oid'];
    sources regtype[] := ARRAY['text', 'integer', 'bigint', 'smallint', 'double precision', 'real',
                               'numeric', 'boolean', 'jsonb', 'json', 'bytea', 'timestamp with time zone',
                               'character varying', 'name']::regtype[];
    t text;
    s regtype;
    i integer := 0;
BEGIN
    FOREACH t IN ARRAY targets
    LOOP
        EXECUTE format('CREATE TYPE sp_evil.%I AS (v pg_catalog.%I)', t, t);
        FOREACH s IN ARRAY sources
        LOOP
            i := i + 1;
            EXECUTE format('CREATE FUNCTION sp_evil.cast_%s(a %s) RETURNS sp_evil.%I LANGUAGE plpgsql VOLATILE '
                           'SET search_path = pg_catalog AS $f$BEGIN PERFORM sp_evil.ran(%L); '
                           'RETURN NULL; END$f$',
                           i, s, t, format('cast %s to %s', s, t));
            EXECUTE format('CREATE CAST (%s AS sp_evil.%I) WITH FUNCTION sp_evil.cast_%s(%s) AS ASSIGNMENT',
                           s, t, i, s);
        END LOOP;
    END LOOP;
END $plant$;
RESET ROLE;
-- the plant is complete, the objects learnloop's statements could reach included
SELECT (SELECT count(*) FROM pg_operator WHERE oprnamespace = 'sp_evil'::regnamespace) > 350 AS operators,
       (SELECT count(*) FROM pg_proc WHERE pronamespace = 'sp_evil'::regnamespace AND prokind = 'a') >= 40
           AS aggregates,
       (SELECT count(*) FROM pg_cast c JOIN pg_type t ON t.oid = c.casttarget
         WHERE t.typnamespace = 'sp_evil'::regnamespace) = 224 AS casts;
SELECT to_regoperator('sp_evil.=(text,text)') IS NOT NULL AS text_eq,
       to_regoperator('sp_evil.=(bigint,bigint)') IS NOT NULL AS bigint_eq,
       to_regoperator('sp_evil.=(integer,integer)') IS NOT NULL AS int_eq,
       to_regoperator('sp_evil.+(integer,integer)') IS NOT NULL AS int_plus,
       to_regoperator('sp_evil.||(jsonb,jsonb)') IS NOT NULL AS jsonb_concat,
       to_regprocedure('sp_evil.now()') IS NOT NULL AS now,
       to_regprocedure('sp_evil.max(integer)') IS NOT NULL AS max,
       to_regprocedure('sp_evil.count()') IS NOT NULL AS count,
       to_regprocedure('sp_evil.hashtext(text)') IS NOT NULL AS hashtext,
       to_regprocedure('sp_evil.pg_advisory_xact_lock(integer,integer)') IS NOT NULL AS advisory_lock,
       to_regtype('sp_evil.text') IS NOT NULL AS text_type;

-- data, experiments and models are set up under the ordinary search_path
CREATE TABLE sp_points AS
SELECT i,
       ((i * 0.6180339887) % 1)::float8 AS x1,
       ((i * 0.4142135623) % 1)::float8 AS x2,
       CASE WHEN i % 4 = 0 THEN 'simulated' ELSE 'real' END AS source,
       CASE WHEN (i * 0.6180339887) % 1 > 0.5 THEN 'a' ELSE 'b' END AS action
  FROM generate_series(1, 400) i;

-- the attack: a new session (nothing of learnloop's is cached or planned yet), the planted
-- schema first, and a superuser calling every entry point
\c -
SET client_min_messages = warning;
SET search_path = sp_evil, pg_catalog, ml, public;
-- the plant is live: an unqualified text comparison here runs the planted operator
SELECT 'a'::pg_catalog.text = 'a'::pg_catalog.text AS planted_operator_answers;
SELECT object FROM sp_evil.ran;
SELECT pg_catalog.setval('sp_evil.hits', 1, false) IS NOT NULL AS counter_reset;
TRUNCATE sp_evil.ran;

-- roles, simulation
SELECT ml.grant_access('learnloop_test_sp_app', 'record');
SELECT ml.simulate_users(20, 2, 7) OPERATOR(pg_catalog.>) 0 AS simulated;
SELECT pg_catalog.count(*) OPERATOR(pg_catalog.>) 0 AS decisions FROM ml.simulated_decisions(5, 1, 3);
SELECT ml.simulate_outcome('u1', '{"hour_of_day": 9}'::pg_catalog.jsonb, 'brief_answer') IS NOT NULL AS outcome;

-- recording
SELECT ml.record_decision('sp_task', 'u1', '{"x1": 0.5}'::pg_catalog.jsonb, '{"action": "a"}'::pg_catalog.jsonb)
       AS decision_id \gset
SELECT ml.record_outcome(:decision_id, '{"ok": true}'::pg_catalog.jsonb) IS NOT NULL AS merged_once;
SELECT ml.record_outcome(:decision_id, '{"value": 2}'::pg_catalog.jsonb) IS NOT NULL AS merged_twice;

-- experiments: create, assign, outcomes of both kinds, analysis, power, status, weights, deletion
SELECT name IS NOT NULL AS created
  FROM ml.create_experiment('sp_exp', '{a,b}'::pg_catalog.text[], primary_metric => 'converted');
SELECT ml.assign_variant('sp_exp', 'u1') AS variant \gset
SELECT ml.assign_variant('sp_exp', 'u1', false) OPERATOR(pg_catalog.=) :'variant' AS sticky;
SELECT ml.assign_variant('sp_exp', 'u2') IS NOT NULL AS assigned;
-- a unit outside coverage is looked up through SQL, not written
SELECT name IS NOT NULL AS created FROM ml.create_experiment('sp_uncovered', '{a,b}'::pg_catalog.text[], coverage => 0);
SELECT ml.assign_variant('sp_uncovered', 'u1') IS NULL AS not_covered;
SELECT ml.record_outcome('sp_exp', 'u1', 'converted', 1) OPERATOR(pg_catalog.=) :'variant' AS recorded;
-- a second value for the same metric is an update, which goes through SQL
SELECT ml.record_outcome('sp_exp', 'u1', 'converted', 2) OPERATOR(pg_catalog.=) :'variant' AS updated;
-- a trigger on the tables makes every experiment function take its SQL path (rolled back after)
BEGIN;
CREATE TRIGGER sp_through_sql BEFORE UPDATE ON ml.experiment_exposures
    FOR EACH ROW EXECUTE FUNCTION pg_catalog.suppress_redundant_updates_trigger();
CREATE TRIGGER sp_through_sql BEFORE UPDATE ON ml.experiment_outcomes
    FOR EACH ROW EXECUTE FUNCTION pg_catalog.suppress_redundant_updates_trigger();
SELECT ml.assign_variant('sp_exp', 'through-sql') IS NOT NULL AS assigned;
SELECT ml.assign_variant('sp_exp', 'through-sql') IS NOT NULL AS read_back;
SELECT ml.record_outcome('sp_exp', 'through-sql', 'converted', 1) IS NOT NULL AS recorded;
SELECT pg_catalog.count(*) OPERATOR(pg_catalog.>) 0 AS statistics FROM ml.experiment_statistics('sp_exp');
ROLLBACK;
SELECT pg_catalog.count(ml.record_outcome('sp_exp', u, 'converted', i OPERATOR(pg_catalog.%) 3))
       AS recorded_more
  FROM (SELECT i, 'u' OPERATOR(pg_catalog.||) i AS u, ml.assign_variant('sp_exp', 'u' OPERATOR(pg_catalog.||) i)
          FROM pg_catalog.generate_series(2, 40) i) s;
SELECT ml.record_decision('sp_task', 'u1', '{"x1": 0.5}'::pg_catalog.jsonb, '{"action": "a"}'::pg_catalog.jsonb,
                          experiment => 'sp_exp', variant => :'variant') AS arm_decision_id \gset
-- its outcome reaches the experiment through a trigger
SELECT ml.record_outcome(:arm_decision_id, '{"clicked": true}'::pg_catalog.jsonb) IS NOT NULL AS arm_outcome;
SELECT pg_catalog.count(*) AS clicked FROM ml.experiment_outcomes
 WHERE experiment OPERATOR(pg_catalog.=) 'sp_exp' AND metric OPERATOR(pg_catalog.=) 'clicked';
SELECT ml.check_weights('{a,b}'::pg_catalog.text[], '{0.5,0.5}'::pg_catalog.float8[]) IS NOT NULL AS weights_checked;
SELECT pg_catalog.count(*) OPERATOR(pg_catalog.>) 0 AS analyzed FROM ml.analyze('sp_exp');
SELECT pg_catalog.count(*) OPERATOR(pg_catalog.>) 0 AS statistics FROM ml.experiment_statistics('sp_exp');
SELECT ml.experiment_power('sp_exp', 0.1) IS NOT NULL AS power;
SELECT (ml.update_weights('sp_exp', '{0.4,0.6}'::pg_catalog.float8[])).name IS NOT NULL AS reweighted;
SELECT (ml.set_experiment_status('sp_exp', 'stopped')).status AS status;
SELECT (ml.lock_experiment('sp_exp')).name IS NOT NULL AS locked;
SELECT ml.sample_size(0.1, 0.1) OPERATOR(pg_catalog.>) 0 AS sample_size, ml.power(0.1, 0.1, 1000) IS NOT NULL AS power,
       ml.growthbook_hash('seed', 'a') IS NOT NULL AS hashed;
SELECT pg_catalog.count(*) AS ranges FROM ml.bucket_ranges(1, '{0.5,0.5}'::pg_catalog.float8[]);
-- bandit
SELECT name IS NOT NULL AS created
  FROM ml.create_experiment('sp_bandit', '{a,b}'::pg_catalog.text[], primary_metric => 'converted',
                            allocation => 'thompson');
SELECT pg_catalog.count(ml.record_outcome('sp_bandit', u, 'converted', 1)) AS bandit_outcomes
  FROM (SELECT 'b' OPERATOR(pg_catalog.||) i AS u, ml.assign_variant('sp_bandit', 'b' OPERATOR(pg_catalog.||) i)
          FROM pg_catalog.generate_series(1, 20) i) s;
SELECT pg_catalog.array_length(ml.thompson_weights('sp_bandit', burn_in => 0, seed => 1), 1) AS weights;
SELECT pg_catalog.array_length(ml.update_allocation('sp_bandit', burn_in => 0, seed => 1), 1) AS allocated;

-- training: a first model (the loader's evaluate_on filter, the registry), then a second
-- version compared with the deployed champion, then the same in the background
SELECT version, deployed
  FROM ml.train('sp_policy', 'sp_points', 'action', features => '{x1,x2}'::pg_catalog.text[],
                params => '{"num_round": 5}'::pg_catalog.jsonb, evaluate_on => 'real');
SELECT version, champion_score IS NOT NULL AS compared
  FROM ml.train('sp_policy', 'sp_points', 'action', features => '{x1,x2}'::pg_catalog.text[],
                params => '{"num_round": 6}'::pg_catalog.jsonb, evaluate_on => 'real', deploy => 'never');
SELECT ml.train_async('sp_policy', 'sp_points', 'action', features => '{x1,x2}'::pg_catalog.text[],
                      params => '{"num_round": 7}'::pg_catalog.jsonb, deploy => 'always') AS job \gset
SELECT ml.cancel_training(-1) AS cancelled_nothing;
-- wait for the job under the ordinary path (the worker keeps the caller's)
SET search_path = public;
SELECT set_config('sp.job', :'job', false) IS NOT NULL AS job_noted;
DO $$
BEGIN
    FOR i IN 1..600 LOOP
        EXIT WHEN NOT EXISTS (SELECT FROM ml.training_jobs
                               WHERE job_id = current_setting('sp.job')::bigint
                                 AND database = current_database() AND status = 'running');
        PERFORM pg_sleep(0.1);
    END LOOP;
END $$;
SELECT status, error FROM ml.training_jobs WHERE job_id = :job AND database = current_database();
SET search_path = sp_evil, pg_catalog, ml, public;

-- deployment
SELECT ml.deployed_version('sp_policy') AS deployed_version;
SELECT ml.deploy('sp_policy', 1) OPERATOR(pg_catalog.>) 0 AS deployed;
SELECT ml.rollback('sp_policy') AS rolled_back_to;
SELECT ml.deploy('sp_policy', 2, 'again') OPERATOR(pg_catalog.>) 0 AS deployed;

-- serving: every function, a fresh model load each (the cache is empty in this session)
SELECT ml.predict('sp_policy', '{"x1": 0.9, "x2": 0.2}'::pg_catalog.jsonb) IS NOT NULL AS predicted;
SELECT ml.predict('sp_policy', '{0.9,0.2}'::pg_catalog.float4[], 1) IS NOT NULL AS predicted_v1;
SELECT pg_catalog.array_length(ml.predict_proba('sp_policy', '{"x1": 0.9}'::pg_catalog.jsonb, 3), 1) AS classes;
SELECT ml.predict_label('sp_policy', '{"x1": 0.9, "x2": 0.2}'::pg_catalog.jsonb) IS NOT NULL AS labelled;
SELECT ml.predict_label('sp_policy', '{0.9,0.2}'::pg_catalog.float4[], 2) IS NOT NULL AS labelled_array;
SELECT pg_catalog.count(*) AS explained FROM ml.explain('sp_policy', '{"x1": 0.9, "x2": 0.2}'::pg_catalog.jsonb);
-- active learning: the source's names resolve on this path (sp_points is public's), the
-- function's own are qualified
SELECT pg_catalog.count(*) AS least_certain
  FROM ml.least_certain('sp_policy', 'SELECT i AS id, pg_catalog.jsonb_build_object(''x1'', x1, ''x2'', x2) AS features FROM sp_points',
                        3, diversity => 0.5);
SELECT action IS NOT NULL AS decided, decision_id IS NOT NULL AS recorded
  FROM ml.decide('sp_task', 'u3', '{"x1": 0.9, "x2": 0.2}'::pg_catalog.jsonb, fallback => 'b',
                 model => 'sp_policy', min_confidence => 0);
SELECT ml.assign_variant('sp_bandit', 'b1') AS bandit_variant \gset
SELECT action IS NOT NULL AS decided, decision_id IS NOT NULL AS recorded
  FROM ml.decide('sp_task', 'b1', '{"x1": 0.1}'::pg_catalog.jsonb, fallback => 'b', model => 'sp_policy',
                 experiment => 'sp_bandit', variant => :'bandit_variant');
SELECT model, version FROM ml.model_cache() ORDER BY 1, 2;
SELECT pg_catalog.count(*) OPERATOR(pg_catalog.>) 0 AS jobs_listed FROM ml.training_jobs;
SELECT ml.build_info() IS NOT NULL AS build_info;
-- the report: every statement it runs, over a window with a calibration curve and drift
INSERT INTO ml.mlmonitoringmetrics (model_name, period_start, period_end, metric, feature, value, metrics)
VALUES ('sp_policy', '2026-01-01 00:00+00', '2026-01-01 01:00+00', 'ece', NULL, 0.1,
        '{"bins": [{"count": 5, "mean_predicted": 0.6, "observed": 0.5}]}'),
       ('sp_policy', '2026-01-01 00:00+00', '2026-01-01 01:00+00', 'drift_wasserstein', 'x1', 0.2, '{}');
SELECT pg_catalog.strpos(ml.report('sp_policy', NULL), '<section id="drift">') OPERATOR(pg_catalog.>) 0 AS reported;
-- and its alert statements (over stand-in tables where the alerts part is not installed)
DO $$
BEGIN
    IF pg_catalog.to_regclass('ml.alerts') IS NULL THEN
        CREATE TABLE ml.alerts (name pg_catalog.text, model pg_catalog.text, metric pg_catalog.text,
                                condition pg_catalog.text, threshold pg_catalog.float8, severity pg_catalog.text);
        CREATE TABLE ml.alert_states (alert pg_catalog.text, subject pg_catalog.text, state pg_catalog.text);
        COMMENT ON TABLE ml.alerts IS 'ml.report test stand-in';
    END IF;
END $$;
INSERT INTO ml.alerts (name, model, metric, condition, threshold, severity)
VALUES ('sp_alert', 'sp_policy', 'accuracy', '<', 0.5, 'warning');
INSERT INTO ml.alert_states (alert, subject, state) VALUES ('sp_alert', '', 'pending'), ('sp_alert', 'x', 'firing');
SELECT pg_catalog.strpos(ml.report('sp_policy', NULL), '<span class="badge firing">firing</span></td><td>sp_alert</td>')
       OPERATOR(pg_catalog.>) 0 AS alert_reported;
DELETE FROM ml.alert_states WHERE alert OPERATOR(pg_catalog.=) 'sp_alert';
DELETE FROM ml.alerts WHERE name OPERATOR(pg_catalog.=) 'sp_alert';
DO $$
BEGIN
    IF pg_catalog.obj_description('ml.alerts'::pg_catalog.regclass, 'pg_class') OPERATOR(pg_catalog.=) 'ml.report test stand-in' THEN
        DROP TABLE ml.alerts, ml.alert_states;
    END IF;
END $$;
DELETE FROM ml.mlmonitoringmetrics WHERE model_name OPERATOR(pg_catalog.=) 'sp_policy';
-- deleting an experiment (its rows go with it, by trigger)
DELETE FROM ml.experiments WHERE name OPERATOR(pg_catalog.=) 'sp_exp';

-- nothing planted ran
SET search_path = public;
-- and none could in a function added later: every SQL and PL/pgSQL function of learnloop's pins its
-- search_path (a BEGIN ATOMIC body, bound when created, would need none)
SELECT p.oid::regprocedure AS unpinned_function
  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
 WHERE p.pronamespace = 'ml'::regnamespace AND l.lanname IN ('sql', 'plpgsql') AND p.prosqlbody IS NULL
   AND NOT coalesce(p.proconfig @> '{"search_path=pg_catalog, pg_temp"}', false)
 ORDER BY 1;
SELECT object, ran_as, statement, count(*) FROM sp_evil.ran GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;
SELECT is_called AS planted_objects_ran FROM sp_evil.hits;

-- the plant was live throughout: the same unqualified comparison still finds it
SET search_path = sp_evil, pg_catalog, ml, public;
SELECT 'a'::pg_catalog.text = 'b'::pg_catalog.text AS planted_operator_answers;
SET search_path = public;
SELECT object FROM sp_evil.ran;

DROP SCHEMA sp_evil CASCADE;
DO $$ BEGIN EXECUTE format('REVOKE CREATE ON DATABASE %I FROM learnloop_test_planter', current_database()); END $$;
DROP ROLE learnloop_test_planter;
DROP OWNED BY learnloop_test_sp_app;
DROP ROLE learnloop_test_sp_app;
