/* learnloop 0.2.0 -> 0.3.0: trust (no crash, no silent failure, no unsafe automatic deployment) */
\echo Use "ALTER EXTENSION learnloop UPDATE TO '0.3.0'" to load this file. \quit

/*
 * The update re-grants, on new and re-created objects, what roles were
 * granted before.  A GRANT in an extension script counts as one of the
 * extension's initial privileges, which pg_dump leaves out: a dump and
 * restore would lose these grants.  This helper runs a command that grants
 * and puts the initial privileges of the objects granted on (targets) back
 * as they were, so pg_dump keeps the grants like any the DBA made.  Dropped
 * at the end of the script.
 */
CREATE FUNCTION ml.learnloop_grant_as_dba(targets oid[], command text)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    saved pg_init_privs[] := ARRAY(SELECT i FROM pg_init_privs i WHERE i.objoid = ANY (targets));
BEGIN
    EXECUTE command;
    DELETE FROM pg_init_privs i WHERE i.objoid = ANY (targets);
    INSERT INTO pg_init_privs SELECT * FROM unnest(saved);
END
$$;

/* ---- part "defaults" (issue 9, section 4 and argument checks of section 6) ---- */

/*
 * ml.decide gains min_score and a score column; ml.explain a class argument
 * and column.  A signature change needs DROP and CREATE: each new function
 * gets the EXECUTE grants the old one had (ml.grant_access gave them), so
 * that an application's role keeps deciding across the update.
 */
CREATE FUNCTION ml.learnloop_replace_function(old regprocedure, definition text, new_signature text)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    grants aclitem[] := (SELECT proacl FROM pg_proc WHERE oid = old);
    owner oid := (SELECT proowner FROM pg_proc WHERE oid = old);
    g record;
BEGIN
    EXECUTE format('DROP FUNCTION %s', old);
    EXECUTE definition;
    EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', new_signature);
    FOR g IN SELECT DISTINCT a.grantee, a.is_grantable FROM aclexplode(grants) a
              WHERE a.privilege_type = 'EXECUTE' AND a.grantee <> 0 AND a.grantee <> owner LOOP
        PERFORM ml.learnloop_grant_as_dba(ARRAY[new_signature::regprocedure::oid],
            format('GRANT EXECUTE ON FUNCTION %s TO %s%s', new_signature, g.grantee::regrole,
                   CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END));
    END LOOP;
END
$$;

SELECT ml.learnloop_replace_function(
    'ml.decide(text, text, jsonb, text, text, double precision, text, text, text)',
    $def$
CREATE FUNCTION ml.decide(
    task            text,
    unit_id         text,
    features        jsonb,
    fallback        text,
    model           text DEFAULT NULL,
    min_confidence  double precision DEFAULT 0.5,
    action_feature  text DEFAULT 'action',
    experiment      text DEFAULT NULL,
    variant         text DEFAULT NULL,
    min_score       double precision DEFAULT NULL)
RETURNS TABLE (decision_id bigint, action text, confidence double precision, decided_by text,
               score double precision)
AS 'MODULE_PATHNAME', 'learnloop_decide'
LANGUAGE C VOLATILE PARALLEL UNSAFE
$def$,
    'ml.decide(text, text, jsonb, text, text, double precision, text, text, text, double precision)');
COMMENT ON FUNCTION ml.decide(text, text, jsonb, text, text, double precision, text, text, text, double precision) IS
    'Chooses an action with the deployed model (or the fallback when there is none, it is unsure or its score is below min_score), records the decision and returns its id; confidence is a probability, score an outcome model''s predicted outcome';

SELECT ml.learnloop_replace_function(
    'ml.explain(text, jsonb, integer)',
    $def$
CREATE FUNCTION ml.explain(model text, features jsonb, version integer DEFAULT NULL, class text DEFAULT NULL)
RETURNS TABLE (feature text, value double precision, category text, contribution double precision, class text)
AS 'MODULE_PATHNAME', 'learnloop_explain'
LANGUAGE C STABLE PARALLEL SAFE
$def$,
    'ml.explain(text, jsonb, integer, text)');
COMMENT ON FUNCTION ml.explain(text, jsonb, integer, text) IS
    'Per-feature contributions (SHAP values) to one prediction, and the bias; category names the value of a categorical feature, class the class explained (a classifier''s predicted class unless class names one)';

DROP FUNCTION ml.learnloop_replace_function(regprocedure, text, text);

/* Durations say their unit: the analysis's run time is in days. */
ALTER TABLE ml.MLABTestResults RENAME COLUMN duration TO duration_days;

/* Documented limits enforced: names no other function would take, NULL weights. */


/* ---------------------------------------------------------------------- */
/* Issue 9, part 2: automatic deployment never ships a worse model         */
/* ---------------------------------------------------------------------- */

/* The evaluations' feature coverage */
ALTER TABLE ml.MLEvaluationResults
    ADD COLUMN feature_coverage double precision CHECK (feature_coverage BETWEEN 0 AND 1);
COMMENT ON COLUMN ml.MLEvaluationResults.feature_coverage IS
    'Share of the model''s feature values (features x test rows) present and not missing in the scored rows';

/* Every decision of the deployment policy about a trained model, deployed or not, with its reason. */
CREATE TABLE ml.deployment_decisions (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    model_name        text NOT NULL,
    model_version     integer NOT NULL,
    policy            text NOT NULL CHECK (policy IN ('auto', 'never', 'always')),
    metric            text NOT NULL,
    score             double precision,
    champion_version  integer,
    champion_score    double precision,
    champion_coverage double precision CHECK (champion_coverage BETWEEN 0 AND 1),
    comparable        boolean,
    guards            jsonb,
    deployed          boolean NOT NULL,
    reason            text NOT NULL,
    decided_by        name NOT NULL DEFAULT CURRENT_USER,
    decided_at        timestamptz NOT NULL DEFAULT pg_catalog.now(),
    UNIQUE (model_name, model_version),
    FOREIGN KEY (model_name, model_version) REFERENCES ml.models (name, version) ON DELETE CASCADE
);
COMMENT ON TABLE ml.deployment_decisions IS
    'The deployment policy''s decision about each trained model version, deployed or not, with its reason';
COMMENT ON COLUMN ml.deployment_decisions.id IS 'Decision id';
COMMENT ON COLUMN ml.deployment_decisions.model_name IS 'Trained model';
COMMENT ON COLUMN ml.deployment_decisions.model_version IS 'Version the decision is about';
COMMENT ON COLUMN ml.deployment_decisions.policy IS 'ml.train''s deploy argument: auto, never or always';
COMMENT ON COLUMN ml.deployment_decisions.metric IS 'Key metric';
COMMENT ON COLUMN ml.deployment_decisions.score IS 'The new model''s key metric on its test rows';
COMMENT ON COLUMN ml.deployment_decisions.champion_version IS 'The version deployed when it was trained, if any';
COMMENT ON COLUMN ml.deployment_decisions.champion_score IS 'The champion''s key metric re-scored on the same test rows, when comparable';
COMMENT ON COLUMN ml.deployment_decisions.champion_coverage IS
    'Share of the champion''s feature values (features x test rows) the test rows carry';
COMMENT ON COLUMN ml.deployment_decisions.comparable IS
    'Whether the key metrics were compared: the test rows carry the champion''s features and both metrics are numbers';
COMMENT ON COLUMN ml.deployment_decisions.guards IS
    'Each guard metric: the new and the champion''s value, the tolerance and whether it passed';
COMMENT ON COLUMN ml.deployment_decisions.deployed IS 'Whether the policy deployed it';
COMMENT ON COLUMN ml.deployment_decisions.reason IS 'Why: the numbers compared, the margin, the guards, or what made them incomparable';
COMMENT ON COLUMN ml.deployment_decisions.decided_by IS 'Role that trained the model';
COMMENT ON COLUMN ml.deployment_decisions.decided_at IS 'When the decision was made';
COMMENT ON INDEX ml.deployment_decisions_model_name_model_version_key IS 'One decision per model version';

CREATE VIEW ml.model_history AS
    SELECT m.name AS model_name, m.version, m.created_at AS trained_at, m.trained_by,
           m.train_rows, m.test_rows, d.metric, d.score,
           d.champion_version, d.champion_score,
           e.feature_coverage AS coverage, d.champion_coverage, d.comparable,
           d.policy, d.deployed, d.reason,
           m.version = (SELECT l.model_version FROM ml.deployments l
                         WHERE l.model_name = m.name ORDER BY l.id DESC LIMIT 1) AS live
      FROM ml.models m
      LEFT JOIN ml.deployment_decisions d ON d.model_name = m.name AND d.model_version = m.version
      LEFT JOIN LATERAL (SELECT r.feature_coverage FROM ml.MLEvaluationResults r
                          WHERE r.model_name = m.name AND r.model_version = m.version
                            AND NOT r.metrics ? 'rescored_for_version'
                          ORDER BY r.id DESC LIMIT 1) e ON true;
COMMENT ON VIEW ml.model_history IS
    'Deployment report, one row per model version: when and by whom trained, rows, key metric, the champion''s on the same rows, feature coverage, deployed or not and why, and whether it is live';

CREATE FUNCTION ml.validate_model(model text, version integer)
RETURNS text
AS 'MODULE_PATHNAME', 'learnloop_validate_model'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml.validate_model(text, integer) IS
    'Loads and compiles a model version as serving does; returns native or xgboost: why not native, or raises when it cannot be loaded';
REVOKE EXECUTE ON FUNCTION ml.validate_model(text, integer) FROM PUBLIC;

/* ml.train and ml.train_async take deploy_guards: a new argument is a new function */
CREATE FUNCTION ml.train(
    model                  text,
    source                 text,
    target                 text,
    task                   text DEFAULT NULL,
    features               text[] DEFAULT NULL,
    params                 jsonb DEFAULT '{}',
    test_size              double precision DEFAULT 0.2,
    split                  text DEFAULT 'random',
    split_column           text DEFAULT NULL,
    seed                   integer DEFAULT 42,
    filter                 text DEFAULT NULL,
    group_column           text DEFAULT NULL,
    early_stopping_rounds  integer DEFAULT NULL,
    search                 jsonb DEFAULT NULL,
    search_method          text DEFAULT 'grid',
    search_trials          integer DEFAULT 10,
    metric                 text DEFAULT NULL,
    deploy                 text DEFAULT 'auto',
    min_improvement        double precision DEFAULT 0.05,
    evaluate_on            text DEFAULT 'all',
    deploy_guards          jsonb DEFAULT NULL)
RETURNS TABLE (model_name text, version integer, hyperparams jsonb, metric_name text,
               score double precision, champion_score double precision, deployed boolean,
               reason text, job_id bigint)
AS 'MODULE_PATHNAME', 'learnloop_train'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION ml.train(text, text, text, text, text[], jsonb, double precision, text, text, integer, text, text, integer, jsonb, text, integer, text, text, double precision, text, jsonb) IS
    'Trains an XGBoost model in a background worker as the calling role, evaluates it, registers it and deploys it by policy (key metric better by min_improvement, guard metrics within deploy_guards); one row per candidate';
CREATE FUNCTION ml.train_async(
    model                  text,
    source                 text,
    target                 text,
    task                   text DEFAULT NULL,
    features               text[] DEFAULT NULL,
    params                 jsonb DEFAULT '{}',
    test_size              double precision DEFAULT 0.2,
    split                  text DEFAULT 'random',
    split_column           text DEFAULT NULL,
    seed                   integer DEFAULT 42,
    filter                 text DEFAULT NULL,
    group_column           text DEFAULT NULL,
    early_stopping_rounds  integer DEFAULT NULL,
    search                 jsonb DEFAULT NULL,
    search_method          text DEFAULT 'grid',
    search_trials          integer DEFAULT 10,
    metric                 text DEFAULT NULL,
    deploy                 text DEFAULT 'auto',
    min_improvement        double precision DEFAULT 0.05,
    evaluate_on            text DEFAULT 'all',
    deploy_guards          jsonb DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'learnloop_train_async'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION ml.train_async(text, text, text, text, text[], jsonb, double precision, text, text, integer, text, text, integer, jsonb, text, integer, text, text, double precision, text, jsonb) IS
    'Starts ml.train in the background and returns its job id at once; follow it in ml.training_jobs';
REVOKE EXECUTE ON FUNCTION ml.train(text, text, text, text, text[], jsonb, double precision, text, text, integer, text, text, integer, jsonb, text, integer, text, text, double precision, text, jsonb) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION ml.train_async(text, text, text, text, text[], jsonb, double precision, text, text, integer, text, text, integer, jsonb, text, integer, text, text, double precision, text, jsonb) FROM PUBLIC;

/*
 * The roles that could train, read or deploy before keep doing so: they
 * get the new functions, the decisions and the history as ml.grant_access
 * gives them now, as grants pg_dump keeps (ml.learnloop_grant_as_dba).
 */
DO $$
DECLARE
    carry record;
    grantee regrole;
    targets oid[] := ARRAY['ml.deployment_decisions'::regclass, 'ml.model_history'::regclass,
                           'ml.validate_model(text, integer)'::regprocedure,
                           'ml.train(text, text, text, text, text[], jsonb, double precision, text, text, integer, text, text, integer, jsonb, text, integer, text, text, double precision, text, jsonb)'::regprocedure,
                           'ml.train_async(text, text, text, text, text[], jsonb, double precision, text, text, integer, text, text, integer, jsonb, text, integer, text, text, double precision, text, jsonb)'::regprocedure]::oid[];
BEGIN
    FOR carry IN
        SELECT * FROM (VALUES
            ('ml.train(text, text, text, text, text[], jsonb, double precision, text, text, integer, text, text, integer, jsonb, text, integer, text, text, double precision, text)'::regprocedure::oid, 'EXECUTE',
             'EXECUTE ON FUNCTION ml.train(text, text, text, text, text[], jsonb, double precision, text, text, integer, text, text, integer, jsonb, text, integer, text, text, double precision, text, jsonb)'),
            ('ml.train_async(text, text, text, text, text[], jsonb, double precision, text, text, integer, text, text, integer, jsonb, text, integer, text, text, double precision, text)'::regprocedure::oid, 'EXECUTE',
             'EXECUTE ON FUNCTION ml.train_async(text, text, text, text, text[], jsonb, double precision, text, text, integer, text, text, integer, jsonb, text, integer, text, text, double precision, text, jsonb)'),
            ('ml.models'::regclass::oid, 'INSERT', 'INSERT, SELECT ON ml.deployment_decisions'),
            ('ml.mlevaluationresults'::regclass::oid, 'SELECT', 'SELECT ON ml.deployment_decisions, ml.model_history'),
            ('ml.deploy(text, integer, text)'::regprocedure::oid, 'EXECUTE',
             'EXECUTE ON FUNCTION ml.validate_model(text, integer)'),
            ('ml.deploy(text, integer, text)'::regprocedure::oid, 'EXECUTE', 'SELECT ON ml.model_history')
        ) AS c (object, privilege, grants) LOOP
        FOR grantee IN
            SELECT DISTINCT a.grantee::regrole
              FROM (SELECT c.relacl, c.relowner FROM pg_catalog.pg_class c WHERE c.oid = carry.object
                    UNION ALL
                    SELECT p.proacl, p.proowner FROM pg_catalog.pg_proc p WHERE p.oid = carry.object) o (acl, owner),
                   pg_catalog.aclexplode(o.acl) a
             WHERE a.privilege_type = carry.privilege AND a.grantee <> 0 AND a.grantee <> o.owner LOOP
            PERFORM ml.learnloop_grant_as_dba(targets, pg_catalog.format('GRANT %s TO %s', carry.grants, grantee));
        END LOOP;
    END LOOP;
END
$$;
DROP FUNCTION ml.train(text, text, text, text, text[], jsonb, double precision, text, text, integer, text, text, integer, jsonb, text, integer, text, text, double precision, text);
DROP FUNCTION ml.train_async(text, text, text, text, text[], jsonb, double precision, text, text, integer, text, text, integer, jsonb, text, integer, text, text, double precision, text);

/* ml.deploy and ml.rollback check that serving can load the version; the privileges cover the new objects */
CREATE OR REPLACE FUNCTION ml.deploy(model text, version integer, reason text DEFAULT 'manual')
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    new_id bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('learnloop.models'), hashtext(deploy.model));
    IF NOT EXISTS (SELECT 1 FROM ml.models m WHERE m.name = deploy.model AND m.version = deploy.version) THEN
        RAISE EXCEPTION 'model "%" has no version %', deploy.model, deploy.version
            USING ERRCODE = 'no_data_found',
                  HINT = 'ml.models lists the trained versions.';
    END IF;
    -- serving must be able to load it: refuse it now rather than fail every prediction
    PERFORM ml.validate_model(deploy.model, deploy.version);
    INSERT INTO ml.deployments (model_name, model_version, action, reason)
        VALUES (deploy.model, deploy.version, 'deploy', deploy.reason)
        RETURNING id INTO new_id;
    RETURN new_id;
END
$$;
COMMENT ON FUNCTION ml.deploy(text, integer, text) IS
    'Deploys a model version after checking that serving can load it; returns the deployment id';
CREATE OR REPLACE FUNCTION ml.rollback(model text, reason text DEFAULT 'rollback')
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    history integer[] := '{}';
    step record;
    target integer;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('learnloop.models'), hashtext(rollback.model));
    -- deployments push a version, rollbacks pop one: the top is deployed
    FOR step IN SELECT d.action, d.model_version FROM ml.deployments d
                 WHERE d.model_name = rollback.model ORDER BY d.id LOOP
        IF step.action = 'deploy' THEN
            history := history || step.model_version;
        ELSE
            history := history[1:cardinality(history) - 1];
        END IF;
    END LOOP;
    IF cardinality(history) < 2 THEN
        RAISE EXCEPTION 'model "%" has no earlier deployment to roll back to', rollback.model
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'ml.deployments shows the history; ml.deploy deploys any trained version.';
    END IF;
    target := history[cardinality(history) - 1];
    PERFORM ml.validate_model(rollback.model, target);
    INSERT INTO ml.deployments (model_name, model_version, action, reason)
        VALUES (rollback.model, target, 'rollback', rollback.reason);
    RETURN target;
END
$$;


/* ---------------------------------------------------------------------- */
/* Part "model": rows of the registry come from ml.train and ml.deploy     */
/* ---------------------------------------------------------------------- */

CREATE FUNCTION ml.registry_guard()
RETURNS trigger
AS 'MODULE_PATHNAME', 'learnloop_registry_guard'
LANGUAGE C;
COMMENT ON FUNCTION ml.registry_guard() IS
    'Trigger: refuses rows of ml.models not registered by ml.train, and rows of ml.deployments from roles that may not call ml.deploy, unless the role owns the table';
REVOKE EXECUTE ON FUNCTION ml.registry_guard() FROM PUBLIC;
CREATE TRIGGER models_registry_guard BEFORE INSERT OR UPDATE ON ml.models
    FOR EACH ROW EXECUTE FUNCTION ml.registry_guard();
COMMENT ON TRIGGER models_registry_guard ON ml.models IS
    'Only ml.train registers models (a hand-written model row is refused), unless the role owns the table';
CREATE TRIGGER deployments_registry_guard BEFORE INSERT OR UPDATE ON ml.deployments
    FOR EACH ROW EXECUTE FUNCTION ml.registry_guard();
COMMENT ON TRIGGER deployments_registry_guard ON ml.deployments IS
    'Only ml.train''s deploy policy and roles that may call ml.deploy deploy, unless the role owns the table';


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
    -- a role that does not exist has nothing to copy, but is a mistake, not a no-op
    IF grantee IS NULL THEN
        RAISE EXCEPTION 'grantee must not be NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Name a role, as ml.grant_access does.';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles r WHERE r.oid = grantee) THEN
        RAISE EXCEPTION 'role with OID % does not exist', grantee::oid
            USING ERRCODE = 'undefined_object',
                  HINT = 'Name an existing role; pg_roles lists them.';
    END IF;
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
    current ml.experiments;
BEGIN
    IF name IS NULL OR weights IS NULL THEN
        RAISE EXCEPTION 'experiment name and weights must not be NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass one weight per variant; ml.check_weights(variants, NULL) gives an equal split.';
    END IF;
    current := ml.lock_experiment(name);
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
    INSERT INTO ml.MLABTestResults (test_name, duration_days, results)
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
                       'ml.MLABTestResults, ml.MLMonitoringMetrics, ml.training_jobs, '
                       'ml.deployment_decisions, ml.model_history TO %s', grantee);
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
                       'ml.training_jobs, ml.deployment_decisions, ml.model_history TO %s', grantee);
        EXECUTE format('GRANT INSERT ON ml.models, ml.MLEvaluationResults, ml.deployments, '
                       'ml.deployment_decisions TO %s', grantee);
        EXECUTE format('GRANT USAGE ON SEQUENCE ml.training_job_id_seq TO %s', grantee);
        functions := '{train, train_async, training_jobs_status, cancel_training, deployed_version, '
                     'simulated_decisions, simulate_outcome}';
    WHEN 'deploy' THEN
        EXECUTE format('GRANT SELECT ON ml.models, ml.deployments, ml.model_history TO %s', grantee);
        EXECUTE format('GRANT INSERT ON ml.deployments TO %s', grantee);
        functions := '{deploy, rollback, deployed_version, validate_model}';
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
        PERFORM ml.learnloop_grant_as_dba(ARRAY['ml.check_choice(text, text, text[])'::regprocedure::oid],
            pg_catalog.format('GRANT EXECUTE ON FUNCTION ml.check_choice(text, text, text[]) TO %s', grantee));
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
        PERFORM ml.learnloop_grant_as_dba(
            ARRAY['ml."MLTrainingData"'::regclass, 'ml."MLEvaluationResults"'::regclass,
                  'ml."MLABTestResults"'::regclass, 'ml."MLMonitoringMetrics"'::regclass]::oid[],
            pg_catalog.format('SELECT ml.grant_quoted_names(%L)', grantee));
    END LOOP;
END
$$;


-- badinput (issue 9, section 8): a NULL or empty guardrail metric is refused
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
    -- the limit every function that takes these names enforces: none may be unusable
    IF octet_length(name) > 256 OR octet_length(primary_metric) > 256
       OR EXISTS (SELECT FROM unnest(variants || guardrail_metrics) n WHERE octet_length(n) > 256) THEN
        RAISE EXCEPTION 'experiment, variant and metric names are at most 256 bytes'
            USING ERRCODE = 'string_data_right_truncation',
                  HINT = 'Use short keys: ml.assign_variant and ml.record_outcome refuse longer names.';
    END IF;
    IF cardinality(variants) < 2 OR array_position(variants, NULL) IS NOT NULL OR '' = ANY (variants)
       OR (SELECT count(DISTINCT v) FROM unnest(variants) v) <> cardinality(variants) THEN
        RAISE EXCEPTION 'an experiment needs at least two distinct, non-empty variants: %', variants
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'The first variant is the control, e.g. ARRAY[''control'', ''treatment''].';
    END IF;
    -- ml.analyze analyzes every guardrail metric: a NULL or empty one would make it fail for
    -- good, and a repeated one would be analyzed (and counted in the corrections) twice
    IF array_position(guardrail_metrics, NULL) IS NOT NULL OR '' = ANY (guardrail_metrics)
       OR (SELECT count(DISTINCT m) FROM unnest(guardrail_metrics) m) <> cardinality(guardrail_metrics) THEN
        RAISE EXCEPTION 'guardrail metrics must be distinct, non-empty names: %', guardrail_metrics
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'For example ARRAY[''errors'', ''latency_ms''], or leave guardrail_metrics out.';
    END IF;
    -- an empty primary metric names no outcome: ml.analyze would find none
    IF primary_metric = '' THEN
        RAISE EXCEPTION 'primary_metric must be a non-empty name or NULL'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Name the metric ml.record_outcome records, e.g. ''conversion'', or leave it out.';
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
/* the update's helpers are not part of the extension */
DROP FUNCTION ml.learnloop_grant_as_dba(oid[], text);

/* badinput2: the bad-input suite's fixes.  ml.check_weights refuses NULL variants
   (they passed any weights) and what is not a list of two or more */
CREATE OR REPLACE FUNCTION ml.check_weights(variants text[], weights double precision[])
RETURNS double precision[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF variants IS NULL THEN
        RAISE EXCEPTION 'variants must not be NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass the experiment''s variants, e.g. ARRAY[''control'', ''treatment''].';
    END IF;
    -- as ml.create_experiment and ml.bucket_ranges: lists, and an experiment has two variants or more
    IF cardinality(variants) < 2 OR array_ndims(variants) > 1 OR array_ndims(weights) > 1 THEN
        RAISE EXCEPTION 'variants and weights must be one-dimensional lists of two or more'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'One weight per variant, in the same order, e.g. ''{control, treatment}'' and ''{0.5, 0.5}''.';
    END IF;
    IF weights IS NULL THEN
        RETURN array_fill(1.0::float8 / cardinality(variants), ARRAY[cardinality(variants)]);
    END IF;
    IF cardinality(weights) <> cardinality(variants) THEN
        RAISE EXCEPTION 'experiment has % variants but % weights', cardinality(variants), cardinality(weights)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Give one weight per variant, in the same order, or leave weights out for an equal split.';
    END IF;
    IF array_position(weights, NULL) IS NOT NULL
       OR EXISTS (SELECT 1 FROM unnest(weights) w WHERE NOT (w >= 0 AND w <= 1)) THEN
        RAISE EXCEPTION 'weights must be between 0 and 1: %', weights
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'A weight is the fraction of covered traffic a variant gets.';
    END IF;
    IF abs((SELECT sum(w) FROM unnest(weights) w) - 1) > 1e-6 THEN
        RAISE EXCEPTION 'weights must sum to 1, not %', (SELECT sum(w) FROM unnest(weights) w)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'For example ''{0.5, 0.5}'' or ''{0.2, 0.3, 0.5}''.';
    END IF;
    RETURN weights;
END
$$;
