/* learnloop 0.2.0 -> 0.3.0: trust (no crash, no silent failure, no unsafe automatic deployment) */
\echo Use "ALTER EXTENSION learnloop UPDATE TO '0.3.0'" to load this file. \quit

/* ---------------------------------------------------------------------- */
/* No silent failures (issue 9, part 3)                                    */
/* ---------------------------------------------------------------------- */

/* One matcher for every choice argument: the C functions' and, through this, the PL/pgSQL ones'. */
CREATE FUNCTION ml.check_choice(value text, argname text, choices text[])
RETURNS text
AS 'MODULE_PATHNAME', 'learnloop_check_choice'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION ml.check_choice(text, text, text[]) IS
    'The canonical spelling of a choice argument, matched case-insensitively; an unknown or NULL value is an error naming the choices';
REVOKE EXECUTE ON FUNCTION ml.check_choice(text, text, text[]) FROM PUBLIC;

/*
 * The card's table names as ORMs such as Prisma write them, quoted: views
 * over the tables, simple enough to be updatable, so INSERT, UPDATE and
 * DELETE through them reach the tables (with their defaults, CHECKs and
 * triggers).  Privileges are checked on the views, which ml.grant_access
 * grants as it grants the tables.  Not security_invoker: with it, an
 * INSERT ... RETURNING through the view (what ORMs send) would need SELECT
 * on every column of the table, which an application role does not have.
 */
CREATE VIEW ml."MLTrainingData" AS SELECT * FROM ml.mltrainingdata;
CREATE VIEW ml."MLEvaluationResults" AS SELECT * FROM ml.mlevaluationresults;
CREATE VIEW ml."MLABTestResults" AS SELECT * FROM ml.mlabtestresults;
CREATE VIEW ml."MLMonitoringMetrics" AS SELECT * FROM ml.mlmonitoringmetrics;
COMMENT ON VIEW ml."MLTrainingData" IS 'ml.MLTrainingData under its quoted name (as Prisma writes it); updatable';
COMMENT ON VIEW ml."MLEvaluationResults" IS 'ml.MLEvaluationResults under its quoted name (as Prisma writes it); updatable';
COMMENT ON VIEW ml."MLABTestResults" IS 'ml.MLABTestResults under its quoted name (as Prisma writes it); updatable';
COMMENT ON VIEW ml."MLMonitoringMetrics" IS 'ml.MLMonitoringMetrics under its quoted name (as Prisma writes it); updatable';

/* Gives a role on each quoted-name view exactly what it has on the table (grant_access calls it). */
CREATE FUNCTION ml.grant_quoted_names(grantee regrole)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t regclass;
    v regclass;
    privilege text;
    col name;
BEGIN
    FOR t, v IN VALUES ('ml.mltrainingdata'::regclass, 'ml."MLTrainingData"'::regclass),
                       ('ml.mlevaluationresults', 'ml."MLEvaluationResults"'),
                       ('ml.mlabtestresults', 'ml."MLABTestResults"'),
                       ('ml.mlmonitoringmetrics', 'ml."MLMonitoringMetrics"') LOOP
        FOR privilege IN SELECT a.privilege_type FROM pg_class c, aclexplode(c.relacl) a
                          WHERE c.oid = t AND a.grantee = grant_quoted_names.grantee LOOP
            EXECUTE format('GRANT %s ON %s TO %s', privilege, v, grantee);
        END LOOP;
        FOR privilege, col IN SELECT a.privilege_type, att.attname FROM pg_attribute att, aclexplode(att.attacl) a
                               WHERE att.attrelid = t AND a.grantee = grant_quoted_names.grantee LOOP
            EXECUTE format('GRANT %s (%I) ON %s TO %s', privilege, col, v, grantee);
        END LOOP;
    END LOOP;
END
$$;
COMMENT ON FUNCTION ml.grant_quoted_names(regrole) IS
    'Grants a role on the quoted-name views (ml."MLTrainingData", ...) what it has on their tables; ml.grant_access calls it';
REVOKE EXECUTE ON FUNCTION ml.grant_quoted_names(regrole) FROM PUBLIC;

/*
 * The per-row rules of ml.record_decision, repeated as CHECK constraints for
 * rows written by plain INSERT or UPDATE (through either spelling): names at
 * most 256 bytes and not empty, and a decision's confidence a number in 0..1.
 * The payload size limit (a setting) and the experiment checks (other
 * tables) stay with the functions.
 */
ALTER TABLE ml.MLTrainingData
    ADD CONSTRAINT mltrainingdata_names_check
        CHECK (pg_catalog.octet_length(task) <= 256 AND pg_catalog.octet_length(unit_id) <= 256
               AND pg_catalog.octet_length(experiment) BETWEEN 1 AND 256
               AND pg_catalog.octet_length(variant) BETWEEN 1 AND 256) NOT VALID,
    ADD CONSTRAINT mltrainingdata_confidence_check
        CHECK (CASE pg_catalog.jsonb_typeof(decision -> 'confidence')
                   WHEN 'number' THEN (decision -> 'confidence')::numeric BETWEEN 0 AND 1
                   ELSE decision -> 'confidence' IS NULL
               END) NOT VALID;
COMMENT ON CONSTRAINT mltrainingdata_names_check ON ml.MLTrainingData IS
    'task, unit_id, experiment and variant: at most 256 bytes, experiment and variant not empty (as ml.record_decision checks)';
COMMENT ON CONSTRAINT mltrainingdata_confidence_check ON ml.MLTrainingData IS
    'decision.confidence, when present, is a number between 0 and 1 (as ml.record_decision checks)';
/* rows written before the update: validate, or say which constraint they break and keep it for new rows */
DO $$
DECLARE
    c text;
BEGIN
    FOREACH c IN ARRAY ARRAY['mltrainingdata_names_check', 'mltrainingdata_confidence_check'] LOOP
        BEGIN
            EXECUTE pg_catalog.format('ALTER TABLE ml.MLTrainingData VALIDATE CONSTRAINT %I', c);
        EXCEPTION WHEN check_violation THEN
            RAISE WARNING 'rows of ml.MLTrainingData written before 0.3.0 break the new constraint %', c
                USING HINT = pg_catalog.format('It checks new rows only (NOT VALID): correct or delete the old rows that break it '
                                               '(pg_get_constraintdef shows the rule), then run '
                                               'ALTER TABLE ml.MLTrainingData VALIDATE CONSTRAINT %I.', c);
        END;
    END LOOP;
END
$$;

/* choice arguments are case-insensitive, and grant_access covers the quoted names: the functions changed */
CREATE OR REPLACE FUNCTION ml.create_experiment(
    name               text,
    variants           text[],
    weights            double precision[] DEFAULT NULL,
    coverage           double precision DEFAULT 1,
    hash_seed          text DEFAULT NULL,
    hash_version       integer DEFAULT 2,
    status             text DEFAULT 'running',
    primary_metric     text DEFAULT NULL,
    guardrail_metrics  text[] DEFAULT '{}',
    min_sample_size    integer DEFAULT 0,
    allocation         text DEFAULT 'fixed')
RETURNS ml.experiments
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    created ml.experiments;
BEGIN
    IF name IS NULL OR name = '' OR variants IS NULL THEN
        RAISE EXCEPTION 'experiment name and variants must not be NULL or empty'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'For example ml.create_experiment(''model_vs_rules'', ARRAY[''rules'', ''model'']).';
    END IF;
    IF cardinality(variants) < 2 OR array_position(variants, NULL) IS NOT NULL OR '' = ANY (variants)
       OR (SELECT count(DISTINCT v) FROM unnest(variants) v) <> cardinality(variants) THEN
        RAISE EXCEPTION 'an experiment needs at least two distinct, non-empty variants: %', variants
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'The first variant is the control, e.g. ARRAY[''control'', ''treatment''].';
    END IF;
    IF coverage IS NULL OR NOT (coverage >= 0 AND coverage <= 1) THEN
        RAISE EXCEPTION 'coverage must be between 0 and 1, not %', coverage
            USING ERRCODE = 'numeric_value_out_of_range',
                  HINT = 'coverage is the fraction of units included in the experiment.';
    END IF;
    IF hash_version IS NULL OR hash_version NOT IN (1, 2) THEN
        RAISE EXCEPTION 'unknown hash_version %', hash_version
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'GrowthBook hash versions are 2 (the default) and 1 (legacy).';
    END IF;
    -- a new experiment is a draft or running: create a draft and start it later
    status := ml.check_choice(status, 'status', '{draft, running}');
    allocation := ml.check_choice(allocation, 'allocation', '{fixed, thompson}');
    IF allocation = 'thompson' AND primary_metric IS NULL THEN
        RAISE EXCEPTION 'a thompson experiment needs a primary_metric'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'The bandit allocates traffic on the primary metric.';
    END IF;
    IF min_sample_size IS NULL OR min_sample_size < 0 THEN
        RAISE EXCEPTION 'min_sample_size must be 0 or more, not %', min_sample_size
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'ml.sample_size computes one.';
    END IF;
    IF EXISTS (SELECT 1 FROM ml.experiments e WHERE e.name = create_experiment.name) THEN
        RAISE EXCEPTION 'experiment "%" already exists', name
            USING ERRCODE = 'duplicate_object',
                  HINT = 'Pick another name; ml.update_weights and ml.set_experiment_status change an existing one.';
    END IF;
    INSERT INTO ml.experiments AS e (name, variants, weights, coverage, hash_seed, hash_version, status,
                                     primary_metric, guardrail_metrics, min_sample_size, allocation, started_at)
        VALUES (name, variants, ml.check_weights(variants, weights), coverage, coalesce(hash_seed, name),
                hash_version, status, primary_metric, coalesce(guardrail_metrics, '{}'), min_sample_size,
                allocation, CASE WHEN status = 'running' THEN now() END)
        RETURNING e.* INTO created;
    INSERT INTO ml.experiment_allocations (experiment, weights, source)
        VALUES (created.name, created.weights, 'create');
    RETURN created;
END
$$;

CREATE OR REPLACE FUNCTION ml.set_experiment_status(name text, status text)
RETURNS ml.experiments
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    current ml.experiments := ml.lock_experiment(name);
BEGIN
    status := ml.check_choice(status, 'status', '{draft, running, stopped}');
    IF status = 'draft' AND current.started_at IS NOT NULL THEN
        RAISE EXCEPTION 'experiment "%" has run and cannot go back to draft', name
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Stop it instead, or create a new experiment.';
    END IF;
    UPDATE ml.experiments e
       SET status = set_experiment_status.status,
           started_at = coalesce(e.started_at, CASE WHEN set_experiment_status.status = 'running' THEN now() END),
           stopped_at = CASE WHEN set_experiment_status.status = 'stopped' THEN coalesce(e.stopped_at, now()) END
     WHERE e.name = set_experiment_status.name
    RETURNING e.* INTO current;
    RETURN current;
END
$$;

CREATE OR REPLACE FUNCTION ml.update_weights(name text, weights double precision[], source text DEFAULT 'manual')
RETURNS ml.experiments
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    current ml.experiments := ml.lock_experiment(name);
BEGIN
    IF current.status = 'stopped' THEN
        RAISE EXCEPTION 'experiment "%" is stopped', name
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Restart it with ml.set_experiment_status(name, ''running'') first.';
    END IF;
    source := ml.check_choice(source, 'source', '{manual, thompson}');
    UPDATE ml.experiments e SET weights = ml.check_weights(current.variants, update_weights.weights)
     WHERE e.name = update_weights.name
    RETURNING e.* INTO current;
    INSERT INTO ml.experiment_allocations (experiment, weights, source)
        VALUES (current.name, current.weights, update_weights.source);
    RETURN current;
END
$$;

CREATE OR REPLACE FUNCTION ml.analyze(
    experiment  text,
    metric      text DEFAULT NULL,
    alpha       double precision DEFAULT 0.05,
    correction  text DEFAULT 'holm',
    sequential  boolean DEFAULT false,
    missing     text DEFAULT 'zero')
RETURNS SETOF ml.experiment_result
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    -- ANALYZE is a reserved word, so the arguments are $1 .. $6 here
    exp ml.experiments;
    stats jsonb;
    guardrails jsonb;
BEGIN
    SELECT jsonb_agg(to_jsonb(s) - 'ordinality' ORDER BY s.ordinality) INTO stats
      FROM ml.experiment_statistics($1, $2, $3, $4, $5, $6) WITH ORDINALITY s;
    SELECT e.* INTO exp FROM ml.experiments e WHERE e.name = $1;
    SELECT jsonb_object_agg(g.metric, (SELECT jsonb_agg(to_jsonb(s) - 'ordinality' ORDER BY s.ordinality)
                                         FROM ml.experiment_statistics(exp.name, g.metric, $3, $4, $5, $6)
                                              WITH ORDINALITY s))
      INTO guardrails
      FROM unnest(exp.guardrail_metrics) AS g(metric);
    INSERT INTO ml.MLABTestResults (test_name, duration, results)
        VALUES (exp.name,
                extract(epoch FROM coalesce(exp.stopped_at, now()) - coalesce(exp.started_at, now())) / 86400,
                jsonb_build_object('metric', coalesce($2, exp.primary_metric),
                                   'alpha', $3, 'correction', lower($4),
                                   'sequential', $5, 'missing', lower($6),
                                   'weights', to_jsonb(exp.weights), 'variants', stats,
                                   'guardrails', coalesce(guardrails, '{}')));
    RETURN QUERY SELECT r.* FROM jsonb_populate_recordset(NULL::ml.experiment_result, stats) r;
END
$$;

CREATE OR REPLACE FUNCTION ml.grant_access(grantee regrole, access text)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    functions text[];
    fn regprocedure;
BEGIN
    EXECUTE format('GRANT USAGE ON SCHEMA ml TO %s', grantee);
    CASE ml.check_choice(access, 'access', '{record, predict, read, experiment, train, deploy}')
    WHEN 'predict' THEN
        EXECUTE format('GRANT SELECT ON ml.models, ml.deployments TO %s', grantee);
        functions := '{predict, predict_proba, predict_label, explain, model_cache, deployed_version}';
    WHEN 'record' THEN
        PERFORM ml.grant_access(grantee, 'predict');
        EXECUTE format('GRANT INSERT (task, unit_id, created_at, features, decision, source, experiment, variant), '
                       'SELECT (id, outcome, outcome_at), UPDATE (outcome, outcome_at) ON ml.MLTrainingData TO %s', grantee);
        EXECUTE format('GRANT SELECT ON ml.experiments TO %s', grantee);
        EXECUTE format('GRANT SELECT, INSERT ON ml.experiment_exposures TO %s', grantee);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE ON ml.experiment_outcomes TO %s', grantee);
        functions := '{record_decision, record_outcome, decide, assign_variant}';
    WHEN 'read' THEN
        EXECUTE format('GRANT SELECT ON ml.MLTrainingData, ml.models, ml.deployments, ml.MLEvaluationResults, '
                       'ml.experiments, ml.experiment_exposures, ml.experiment_outcomes, ml.experiment_allocations, '
                       'ml.MLABTestResults, ml.MLMonitoringMetrics, ml.training_jobs TO %s', grantee);
        EXECUTE format('GRANT INSERT ON ml.MLABTestResults TO %s', grantee);
        functions := '{build_info, training_jobs_status, deployed_version, experiment_statistics, analyze, '
                     'experiment_power, sample_size, power, growthbook_hash, bucket_ranges}';
    WHEN 'experiment' THEN
        EXECUTE format('GRANT SELECT, INSERT, UPDATE ON ml.experiments TO %s', grantee);
        EXECUTE format('GRANT SELECT, INSERT ON ml.experiment_allocations TO %s', grantee);
        EXECUTE format('GRANT SELECT ON ml.experiment_exposures, ml.experiment_outcomes TO %s', grantee);
        functions := '{create_experiment, set_experiment_status, update_weights, update_allocation, '
                     'thompson_weights, lock_experiment, check_weights, check_choice}';
    WHEN 'train' THEN
        EXECUTE format('GRANT SELECT ON ml.MLTrainingData, ml.models, ml.deployments, ml.MLEvaluationResults, '
                       'ml.training_jobs TO %s', grantee);
        EXECUTE format('GRANT INSERT ON ml.models, ml.MLEvaluationResults, ml.deployments TO %s', grantee);
        EXECUTE format('GRANT USAGE ON SEQUENCE ml.training_job_id_seq TO %s', grantee);
        functions := '{train, train_async, training_jobs_status, cancel_training, deployed_version, '
                     'simulated_decisions, simulate_outcome}';
    WHEN 'deploy' THEN
        EXECUTE format('GRANT SELECT ON ml.models, ml.deployments TO %s', grantee);
        EXECUTE format('GRANT INSERT ON ml.deployments TO %s', grantee);
        functions := '{deploy, rollback, deployed_version}';
    END CASE;
    FOR fn IN SELECT p.oid FROM pg_proc p
               WHERE p.pronamespace = 'ml'::regnamespace AND p.proname = ANY (functions) LOOP
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %s', fn, grantee);
    END LOOP;
    PERFORM ml.grant_quoted_names(grantee);
END
$$;

/* roles granted before the update keep what they could do, and get it on the quoted names */
DO $$
DECLARE
    grantee regrole;
BEGIN
    FOR grantee IN
        SELECT DISTINCT a.grantee::regrole
          FROM pg_catalog.pg_proc p, pg_catalog.aclexplode(p.proacl) a
         WHERE p.oid = 'ml.create_experiment(text, text[], double precision[], double precision, text, integer, text, text, text[], integer, text)'::regprocedure
           AND a.privilege_type = 'EXECUTE' AND a.grantee <> p.proowner AND a.grantee <> 0
    LOOP
        EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION ml.check_choice(text, text, text[]) TO %s', grantee);
    END LOOP;
    FOR grantee IN
        SELECT DISTINCT a.grantee::regrole
          FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a
         WHERE c.oid IN ('ml.mltrainingdata'::regclass, 'ml.mlevaluationresults'::regclass,
                         'ml.mlabtestresults'::regclass, 'ml.mlmonitoringmetrics'::regclass)
           AND a.grantee <> c.relowner AND a.grantee <> 0
        UNION
        SELECT a.grantee::regrole
          FROM pg_catalog.pg_attribute att, pg_catalog.aclexplode(att.attacl) a
         WHERE att.attrelid = 'ml.mltrainingdata'::regclass
    LOOP
        PERFORM ml.grant_quoted_names(grantee);
    END LOOP;
END
$$;
