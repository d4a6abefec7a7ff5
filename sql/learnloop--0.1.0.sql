/* learnloop 0.1.0: the learning-loop schema and the recording half of the loop */

\echo Use "CREATE EXTENSION learnloop" to load this file. \quit

/*
 * Decisions and their outcomes: one row per decision an application made.
 * Created unquoted, so MLTrainingData, mltrainingdata and MLTRAININGDATA all work.
 */
CREATE TABLE ml.MLTrainingData (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    task        text NOT NULL CHECK (task <> ''),
    unit_id     text NOT NULL CHECK (unit_id <> ''),
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    features    jsonb NOT NULL CHECK (pg_catalog.jsonb_typeof(features) = 'object'),
    decision    jsonb NOT NULL CHECK (pg_catalog.jsonb_typeof(decision) = 'object'),
    outcome     jsonb CHECK (outcome IS NULL OR pg_catalog.jsonb_typeof(outcome) = 'object'),
    outcome_at  timestamptz,
    source      text NOT NULL DEFAULT 'real'
                CHECK (source IN ('real', 'synthetic', 'augmented')),
    experiment  text,
    variant     text,
    CHECK (variant IS NULL OR experiment IS NOT NULL)
);
CREATE INDEX mltrainingdata_task_time_idx ON ml.MLTrainingData (task, created_at);
CREATE INDEX mltrainingdata_unit_time_idx ON ml.MLTrainingData (unit_id, created_at);
CREATE INDEX mltrainingdata_experiment_idx ON ml.MLTrainingData (experiment, variant)
    WHERE experiment IS NOT NULL;

COMMENT ON TABLE ml.MLTrainingData IS
    'One row per decision: its features, the decision taken, the outcome learned later, data lineage and experiment arm';
COMMENT ON COLUMN ml.MLTrainingData.id IS 'Decision id, returned by ml.record_decision';
COMMENT ON COLUMN ml.MLTrainingData.task IS 'Decision problem, e.g. response_strategy';
COMMENT ON COLUMN ml.MLTrainingData.unit_id IS 'The user, learner or other unit the decision was made for';
COMMENT ON COLUMN ml.MLTrainingData.created_at IS 'When the decision was made';
COMMENT ON COLUMN ml.MLTrainingData.features IS 'Model inputs at decision time (JSON object)';
COMMENT ON COLUMN ml.MLTrainingData.decision IS 'The decision (labels): action, confidence, decided_by (model version, rules, ...)';
COMMENT ON COLUMN ml.MLTrainingData.outcome IS 'Outcome keys merged in by ml.record_outcome; NULL until the first outcome';
COMMENT ON COLUMN ml.MLTrainingData.outcome_at IS 'When the first outcome was recorded';
COMMENT ON COLUMN ml.MLTrainingData.source IS 'Data lineage: real, synthetic or augmented';
COMMENT ON COLUMN ml.MLTrainingData.experiment IS 'Experiment the decision belongs to, if any';
COMMENT ON COLUMN ml.MLTrainingData.variant IS 'Experiment variant that made the decision, if any';

/* Model registry: every trained model version, with its bytes, so models back up and replicate with the data. */
CREATE TABLE ml.models (
    name             text NOT NULL CHECK (name <> ''),
    version          integer NOT NULL CHECK (version > 0),
    task             text NOT NULL CHECK (task IN ('classification', 'regression', 'ranking')),
    params           jsonb NOT NULL DEFAULT '{}',
    feature_schema   jsonb NOT NULL,
    model            bytea NOT NULL,
    train_rows       bigint,
    test_rows        bigint,
    objective        text,
    rounds           integer,
    feature_importance jsonb,
    training_seconds double precision,
    load_seconds     double precision,
    evaluator        text,
    job_id           bigint,
    trained_by       name NOT NULL DEFAULT CURRENT_USER,
    created_at       timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (name, version)
);
COMMENT ON TABLE ml.models IS 'Model registry: one row per trained model version';
COMMENT ON COLUMN ml.models.name IS 'Model name, e.g. response_strategy';
COMMENT ON COLUMN ml.models.version IS 'Version, 1, 2, ... per name';
COMMENT ON COLUMN ml.models.task IS 'classification, regression or ranking';
COMMENT ON COLUMN ml.models.params IS 'Training parameters (XGBoost parameters, num_round, split, ...)';
COMMENT ON COLUMN ml.models.feature_schema IS 'Feature names, order, types, category dictionaries and class labels, as used in training';
COMMENT ON COLUMN ml.models.model IS 'The XGBoost model (UBJSON)';
COMMENT ON COLUMN ml.models.train_rows IS 'Rows the model was trained on';
COMMENT ON COLUMN ml.models.test_rows IS 'Rows held out for evaluation';
COMMENT ON COLUMN ml.models.objective IS 'XGBoost objective';
COMMENT ON COLUMN ml.models.rounds IS 'Boosting rounds kept (after early stopping)';
COMMENT ON COLUMN ml.models.feature_importance IS 'Average gain per feature';
COMMENT ON COLUMN ml.models.training_seconds IS 'Wall time of boosting and evaluation';
COMMENT ON COLUMN ml.models.load_seconds IS 'Wall time of reading the training rows';
COMMENT ON COLUMN ml.models.job_id IS 'Training job that produced the model';
COMMENT ON COLUMN ml.models.evaluator IS 'How serving evaluates it: native (compiled trees) or xgboost, with the reason';
COMMENT ON COLUMN ml.models.trained_by IS 'Role that trained the model';
COMMENT ON COLUMN ml.models.created_at IS 'When the model was registered';

/* Append-only deployment history: the newest row per model is the deployed version; a rollback is a row too. */
CREATE TABLE ml.deployments (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    model_name     text NOT NULL,
    model_version  integer NOT NULL,
    action         text NOT NULL CHECK (action IN ('deploy', 'rollback')),
    reason         text,
    deployed_by    name NOT NULL DEFAULT CURRENT_USER,
    deployed_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    FOREIGN KEY (model_name, model_version) REFERENCES ml.models (name, version)
);
CREATE INDEX deployments_model_idx ON ml.deployments (model_name, id);
COMMENT ON TABLE ml.deployments IS 'Append-only deployment history; the newest row of a model names its deployed version';
COMMENT ON COLUMN ml.deployments.id IS 'Increasing deployment id';
COMMENT ON COLUMN ml.deployments.model_name IS 'Deployed model';
COMMENT ON COLUMN ml.deployments.model_version IS 'Version that became active';
COMMENT ON COLUMN ml.deployments.action IS 'deploy or rollback';
COMMENT ON COLUMN ml.deployments.reason IS 'Why: first model, better metric, manual, ...';
COMMENT ON COLUMN ml.deployments.deployed_by IS 'Role that deployed';
COMMENT ON COLUMN ml.deployments.deployed_at IS 'When it was deployed';

/* Evaluation of a model version on a test set. */
CREATE TABLE ml.MLEvaluationResults (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    model_name     text NOT NULL,
    model_version  integer NOT NULL,
    accuracy       double precision,
    metrics        jsonb NOT NULL DEFAULT '{}',
    test_rows      bigint,
    created_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
    FOREIGN KEY (model_name, model_version) REFERENCES ml.models (name, version) ON DELETE CASCADE
);
CREATE INDEX mlevaluationresults_model_idx ON ml.MLEvaluationResults (model_name, model_version);
COMMENT ON TABLE ml.MLEvaluationResults IS 'Evaluation of a model version on a held-out test set';
COMMENT ON COLUMN ml.MLEvaluationResults.id IS 'Evaluation id';
COMMENT ON COLUMN ml.MLEvaluationResults.model_name IS 'Evaluated model';
COMMENT ON COLUMN ml.MLEvaluationResults.model_version IS 'Evaluated version';
COMMENT ON COLUMN ml.MLEvaluationResults.accuracy IS 'Accuracy for classifiers, NULL otherwise';
COMMENT ON COLUMN ml.MLEvaluationResults.metrics IS 'All metrics: per-class precision/recall/F1, AUC, log loss, RMSE, NDCG, ...';
COMMENT ON COLUMN ml.MLEvaluationResults.test_rows IS 'Rows in the test set';
COMMENT ON COLUMN ml.MLEvaluationResults.created_at IS 'When the evaluation ran';

/* Experiments: A/B tests and bandits, assigned deterministically by ml.assign_variant. */
CREATE TABLE ml.experiments (
    name               text PRIMARY KEY CHECK (name <> ''),
    variants           text[] NOT NULL,
    weights            double precision[] NOT NULL,
    coverage           double precision NOT NULL DEFAULT 1 CHECK (coverage >= 0 AND coverage <= 1),
    hash_seed          text NOT NULL,
    hash_version       integer NOT NULL DEFAULT 2 CHECK (hash_version IN (1, 2)),
    status             text NOT NULL DEFAULT 'running' CHECK (status IN ('draft', 'running', 'stopped')),
    primary_metric     text,
    guardrail_metrics  text[] NOT NULL DEFAULT '{}',
    min_sample_size    integer NOT NULL DEFAULT 0 CHECK (min_sample_size >= 0),
    allocation         text NOT NULL DEFAULT 'fixed' CHECK (allocation IN ('fixed', 'thompson')),
    created_at         timestamptz NOT NULL DEFAULT pg_catalog.now(),
    started_at         timestamptz,
    stopped_at         timestamptz,
    CHECK (pg_catalog.cardinality(variants) >= 2),
    CHECK (pg_catalog.cardinality(variants) = pg_catalog.cardinality(weights))
);
COMMENT ON TABLE ml.experiments IS 'Experiments: variants, weights, coverage and hashing, compatible with the GrowthBook SDK';
COMMENT ON COLUMN ml.experiments.name IS 'Experiment key';
COMMENT ON COLUMN ml.experiments.variants IS 'Variant names; the first is the control';
COMMENT ON COLUMN ml.experiments.weights IS 'Traffic weights per variant, summing to 1';
COMMENT ON COLUMN ml.experiments.coverage IS 'Fraction of units included';
COMMENT ON COLUMN ml.experiments.hash_seed IS 'Hashing seed (defaults to the name)';
COMMENT ON COLUMN ml.experiments.hash_version IS 'GrowthBook hash version, 1 or 2';
COMMENT ON COLUMN ml.experiments.status IS 'draft, running or stopped';
COMMENT ON COLUMN ml.experiments.primary_metric IS 'Outcome metric the experiment is decided on';
COMMENT ON COLUMN ml.experiments.guardrail_metrics IS 'Metrics that must not get worse';
COMMENT ON COLUMN ml.experiments.min_sample_size IS 'Units per variant before a verdict';
COMMENT ON COLUMN ml.experiments.allocation IS 'fixed weights or thompson sampling';
COMMENT ON COLUMN ml.experiments.created_at IS 'When the experiment was created';
COMMENT ON COLUMN ml.experiments.started_at IS 'When it started running';
COMMENT ON COLUMN ml.experiments.stopped_at IS 'When it stopped';

/* Exposures: the first assignment of each unit, sticky. */
CREATE TABLE ml.experiment_exposures (
    experiment  text NOT NULL REFERENCES ml.experiments (name) ON DELETE CASCADE,
    unit_id     text NOT NULL,
    variant     text NOT NULL,
    exposed_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (experiment, unit_id)
);
COMMENT ON TABLE ml.experiment_exposures IS 'First assignment of each unit to an experiment variant; never moved';
COMMENT ON COLUMN ml.experiment_exposures.experiment IS 'Experiment';
COMMENT ON COLUMN ml.experiment_exposures.unit_id IS 'Exposed unit';
COMMENT ON COLUMN ml.experiment_exposures.variant IS 'Variant the unit was exposed to';
COMMENT ON COLUMN ml.experiment_exposures.exposed_at IS 'Time of first exposure';

/* Stored experiment analyses. */
CREATE TABLE ml.MLABTestResults (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    test_name   text NOT NULL,
    duration    double precision,
    results     jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now()
);
CREATE INDEX mlabtestresults_test_idx ON ml.MLABTestResults (test_name, created_at);
COMMENT ON TABLE ml.MLABTestResults IS 'Stored analyses of experiments (one row per ml.analyze run)';
COMMENT ON COLUMN ml.MLABTestResults.id IS 'Analysis id';
COMMENT ON COLUMN ml.MLABTestResults.test_name IS 'Experiment name';
COMMENT ON COLUMN ml.MLABTestResults.duration IS 'Days the experiment had run when analysed';
COMMENT ON COLUMN ml.MLABTestResults.results IS 'Per-variant statistics and verdict';
COMMENT ON COLUMN ml.MLABTestResults.created_at IS 'When the analysis ran';

/* Monitoring snapshots of a model in production. */
CREATE TABLE ml.MLMonitoringMetrics (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    model_name    text,
    period_start  timestamptz NOT NULL,
    period_end    timestamptz NOT NULL,
    metrics       jsonb NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CHECK (period_end >= period_start)
);
CREATE INDEX mlmonitoringmetrics_model_idx ON ml.MLMonitoringMetrics (model_name, period_end);
COMMENT ON TABLE ml.MLMonitoringMetrics IS 'Monitoring snapshots: decision counts, outcome rates, latency, drift per period';
COMMENT ON COLUMN ml.MLMonitoringMetrics.id IS 'Snapshot id';
COMMENT ON COLUMN ml.MLMonitoringMetrics.model_name IS 'Monitored model, NULL for the whole loop';
COMMENT ON COLUMN ml.MLMonitoringMetrics.period_start IS 'Start of the measured period';
COMMENT ON COLUMN ml.MLMonitoringMetrics.period_end IS 'End of the measured period';
COMMENT ON COLUMN ml.MLMonitoringMetrics.metrics IS 'Measured metrics';
COMMENT ON COLUMN ml.MLMonitoringMetrics.created_at IS 'When the snapshot was taken';

/* ---------------------------------------------------------------------- */
/* Recording decisions and outcomes                                        */
/* ---------------------------------------------------------------------- */

CREATE FUNCTION ml.record_decision(
    task        text,
    unit_id     text,
    features    jsonb,
    decision    jsonb,
    source      text DEFAULT 'real',
    experiment  text DEFAULT NULL,
    variant     text DEFAULT NULL,
    created_at  timestamptz DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'learnloop_record_decision'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION ml.record_decision(text, text, jsonb, jsonb, text, text, text, timestamptz) IS
    'Records one decision and returns its id, for ml.record_outcome later';

CREATE FUNCTION ml.record_outcome(decision_id bigint, outcome jsonb)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'learnloop_record_outcome'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION ml.record_outcome(bigint, jsonb) IS
    'Merges outcome keys into a decision (latest value per key wins; safe to retry) and returns the merged outcome';

/* ---------------------------------------------------------------------- */
/* Simulated users                                                         */
/* ---------------------------------------------------------------------- */

CREATE FUNCTION ml.simulated_decisions(
    users              integer,
    days               integer,
    seed               integer DEFAULT 42,
    decisions_per_day  integer DEFAULT 3,
    start_at           timestamptz DEFAULT '2026-01-01 00:00:00+00')
RETURNS TABLE (unit_id text, created_at timestamptz, features jsonb, decision jsonb,
               outcome jsonb, outcome_at timestamptz)
AS 'MODULE_PATHNAME', 'learnloop_simulated_decisions'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 1000;
COMMENT ON FUNCTION ml.simulated_decisions(integer, integer, integer, integer, timestamptz) IS
    'Deterministic workload of simulated users: decisions of a rules policy with exploration and outcomes from a known ground truth';

CREATE FUNCTION ml.simulate_outcome(
    unit_id   text,
    features  jsonb,
    action    text,
    seed      integer DEFAULT 42)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'learnloop_simulate_outcome'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml.simulate_outcome(text, jsonb, text, integer) IS
    'Outcome the simulated user would give to an action: the ground truth behind ml.simulated_decisions';

CREATE FUNCTION ml.simulate_users(
    users              integer,
    days               integer,
    seed               integer DEFAULT 42,
    decisions_per_day  integer DEFAULT 3,
    start_at           timestamptz DEFAULT NULL,
    task               text DEFAULT 'response_strategy')
RETURNS bigint
LANGUAGE sql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH inserted AS (
        INSERT INTO ml.MLTrainingData
            (task, unit_id, created_at, features, decision, outcome, outcome_at, source)
        SELECT simulate_users.task, s.unit_id, s.created_at, s.features, s.decision, s.outcome, s.outcome_at, 'synthetic'
          FROM ml.simulated_decisions(users, days, seed, decisions_per_day,
                   coalesce(start_at, date_trunc('day', now()) - make_interval(days => days))) AS s
        RETURNING 1)
    SELECT count(*) FROM inserted
$$;
COMMENT ON FUNCTION ml.simulate_users(integer, integer, integer, integer, timestamptz, text) IS
    'Inserts a simulated learning-loop workload into ml.MLTrainingData (source synthetic) and returns the row count';

/* ---------------------------------------------------------------------- */
/* Training, the registry and deployments                                  */
/* ---------------------------------------------------------------------- */

CREATE SEQUENCE ml.training_job_id_seq;
COMMENT ON SEQUENCE ml.training_job_id_seq IS 'Training job ids';

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
    evaluate_on            text DEFAULT 'all')
RETURNS TABLE (model_name text, version integer, hyperparams jsonb, metric_name text,
               score double precision, champion_score double precision, deployed boolean,
               reason text, job_id bigint)
AS 'MODULE_PATHNAME', 'learnloop_train'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION ml.train(text, text, text, text, text[], jsonb, double precision, text, text, integer, text, text, integer, jsonb, text, integer, text, text, double precision, text) IS
    'Trains an XGBoost model in a background worker as the calling role, evaluates it, registers it and deploys it by policy; one row per candidate';

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
    evaluate_on            text DEFAULT 'all')
RETURNS bigint
AS 'MODULE_PATHNAME', 'learnloop_train_async'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION ml.train_async(text, text, text, text, text[], jsonb, double precision, text, text, integer, text, text, integer, jsonb, text, integer, text, text, double precision, text) IS
    'Starts ml.train in the background and returns its job id at once; follow it in ml.training_jobs';

CREATE FUNCTION ml.training_jobs_status()
RETURNS TABLE (job_id bigint, model text, role oid, database oid, pid integer, caller_pid integer,
               phase text, candidate integer, candidates integer, round integer, total_rounds integer,
               rows bigint, started timestamptz, status text, error text)
AS 'MODULE_PATHNAME', 'learnloop_training_jobs'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION ml.training_jobs_status() IS 'Training jobs in shared memory (needs learnloop in shared_preload_libraries); see ml.training_jobs';

CREATE VIEW ml.training_jobs AS
    SELECT j.job_id, j.model, j.role::regrole AS role, d.datname AS database, j.pid, j.caller_pid,
           j.phase, j.candidate, j.candidates, j.round, j.total_rounds, j.rows, j.started,
           j.status, j.error
      FROM ml.training_jobs_status() j
      LEFT JOIN pg_catalog.pg_database d ON d.oid = j.database;
COMMENT ON VIEW ml.training_jobs IS 'Running and recent training jobs: phase, round, rows, status and error';

CREATE FUNCTION ml.cancel_training(job_id bigint)
RETURNS boolean
AS 'MODULE_PATHNAME', 'learnloop_cancel_training'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION ml.cancel_training(bigint) IS
    'Asks a running training job to stop; true if it was running';

CREATE FUNCTION ml.deployed_version(model text)
RETURNS integer
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT d.model_version FROM ml.deployments d WHERE d.model_name = $1 ORDER BY d.id DESC LIMIT 1
$$;
COMMENT ON FUNCTION ml.deployed_version(text) IS 'The deployed version of a model, or NULL';

CREATE FUNCTION ml.deploy(model text, version integer, reason text DEFAULT 'manual')
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
    INSERT INTO ml.deployments (model_name, model_version, action, reason)
        VALUES (deploy.model, deploy.version, 'deploy', deploy.reason)
        RETURNING id INTO new_id;
    RETURN new_id;
END
$$;
COMMENT ON FUNCTION ml.deploy(text, integer, text) IS 'Deploys a model version; returns the deployment id';

CREATE FUNCTION ml.rollback(model text, reason text DEFAULT 'rollback')
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
    INSERT INTO ml.deployments (model_name, model_version, action, reason)
        VALUES (rollback.model, target, 'rollback', rollback.reason);
    RETURN target;
END
$$;
COMMENT ON FUNCTION ml.rollback(text, text) IS
    'Returns a model to the version deployed before the current one; returns that version';

/* ---------------------------------------------------------------------- */
/* Serving                                                                 */
/* ---------------------------------------------------------------------- */

CREATE FUNCTION ml.predict(model text, features jsonb, version integer DEFAULT NULL)
RETURNS double precision
AS 'MODULE_PATHNAME', 'learnloop_predict'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION ml.predict(text, jsonb, integer) IS
    'Prediction for features by name: regression value, positive-class probability or ranking score; the deployed version unless one is given';

CREATE FUNCTION ml.predict(model text, features real[], version integer DEFAULT NULL)
RETURNS double precision
AS 'MODULE_PATHNAME', 'learnloop_predict'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION ml.predict(text, real[], integer) IS
    'Prediction for features in the model''s order (NULL or NaN missing)';

CREATE FUNCTION ml.predict_proba(model text, features jsonb, version integer DEFAULT NULL)
RETURNS double precision[]
AS 'MODULE_PATHNAME', 'learnloop_predict_proba'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION ml.predict_proba(text, jsonb, integer) IS
    'Class probabilities of a classifier, in the order of its feature_schema classes';

CREATE FUNCTION ml.predict_proba(model text, features real[], version integer DEFAULT NULL)
RETURNS double precision[]
AS 'MODULE_PATHNAME', 'learnloop_predict_proba'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION ml.predict_proba(text, real[], integer) IS
    'Class probabilities of a classifier for features in the model''s order';

CREATE FUNCTION ml.predict_label(model text, features jsonb, version integer DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'learnloop_predict_label'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION ml.predict_label(text, jsonb, integer) IS
    'The most probable class of a classifier, as trained (text)';

CREATE FUNCTION ml.predict_label(model text, features real[], version integer DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'learnloop_predict_label'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION ml.predict_label(text, real[], integer) IS
    'The most probable class of a classifier for features in the model''s order';

CREATE FUNCTION ml.explain(model text, features jsonb, version integer DEFAULT NULL)
RETURNS TABLE (feature text, value double precision, contribution double precision)
AS 'MODULE_PATHNAME', 'learnloop_explain'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION ml.explain(text, jsonb, integer) IS
    'Per-feature contributions (SHAP values) to one prediction, and the bias';

CREATE FUNCTION ml.decide(
    task            text,
    unit_id         text,
    features        jsonb,
    fallback        text,
    model           text DEFAULT NULL,
    min_confidence  double precision DEFAULT 0.5,
    action_feature  text DEFAULT 'action',
    experiment      text DEFAULT NULL,
    variant         text DEFAULT NULL)
RETURNS TABLE (decision_id bigint, action text, confidence double precision, decided_by text)
AS 'MODULE_PATHNAME', 'learnloop_decide'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION ml.decide(text, text, jsonb, text, text, double precision, text, text, text) IS
    'Chooses an action with the deployed model (or the fallback when there is none or it is unsure), records the decision and returns its id';

CREATE FUNCTION ml.model_cache()
RETURNS TABLE (model text, version integer, evaluator text, reason text, memory_bytes bigint, model_bytes bigint)
AS 'MODULE_PATHNAME', 'learnloop_model_cache'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION ml.model_cache() IS 'Models this backend holds for serving, how they are evaluated and their memory';

CREATE FUNCTION ml.invalidate_table_cache()
RETURNS trigger
AS 'MODULE_PATHNAME', 'learnloop_invalidate_table_cache'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION ml.invalidate_table_cache() IS
    'Statement trigger: sends a relcache invalidation for the table, so every backend (replicas too) reloads what it cached from it';

CREATE TRIGGER models_invalidate_cache
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ml.models
    FOR EACH STATEMENT EXECUTE FUNCTION ml.invalidate_table_cache();
COMMENT ON TRIGGER models_invalidate_cache ON ml.models IS
    'Tells every backend, replicas included, to drop its cached models';
CREATE TRIGGER deployments_invalidate_cache
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ml.deployments
    FOR EACH STATEMENT EXECUTE FUNCTION ml.invalidate_table_cache();
COMMENT ON TRIGGER deployments_invalidate_cache ON ml.deployments IS
    'Tells every backend, replicas included, which versions are now deployed';

/* ---------------------------------------------------------------------- */
/* Build information and privileges                                        */
/* ---------------------------------------------------------------------- */

CREATE FUNCTION ml.build_info()
RETURNS jsonb
AS 'MODULE_PATHNAME', 'learnloop_build_info'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION ml.build_info() IS
    'Versions of learnloop and of the libraries it runs with (XGBoost, libcurl, cJSON), for bug reports';

CREATE FUNCTION ml.grant_access(grantee regrole, access text)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    EXECUTE format('GRANT USAGE ON SCHEMA ml TO %s', grantee);
    CASE access
    WHEN 'predict' THEN
        EXECUTE format('GRANT SELECT ON ml.models, ml.deployments TO %s', grantee);
        EXECUTE format('GRANT EXECUTE ON FUNCTION ml.predict(text, jsonb, integer), ml.predict(text, real[], integer), '
                       'ml.predict_proba(text, jsonb, integer), ml.predict_proba(text, real[], integer), '
                       'ml.predict_label(text, jsonb, integer), ml.predict_label(text, real[], integer), '
                       'ml.explain(text, jsonb, integer), ml.model_cache(), ml.deployed_version(text) TO %s', grantee);
    WHEN 'record' THEN
        PERFORM ml.grant_access(grantee, 'predict');
        EXECUTE format('GRANT EXECUTE ON FUNCTION ml.record_decision(text, text, jsonb, jsonb, text, text, text, timestamptz), '
                       'ml.record_outcome(bigint, jsonb), '
                       'ml.decide(text, text, jsonb, text, text, double precision, text, text, text) TO %s', grantee);
        EXECUTE format('GRANT INSERT (task, unit_id, created_at, features, decision, source, experiment, variant), '
                       'SELECT (id, outcome, outcome_at), UPDATE (outcome, outcome_at) ON ml.MLTrainingData TO %s', grantee);
    WHEN 'read' THEN
        EXECUTE format('GRANT SELECT ON ml.MLTrainingData, ml.models, ml.deployments, ml.MLEvaluationResults, '
                       'ml.experiments, ml.experiment_exposures, ml.MLABTestResults, ml.MLMonitoringMetrics, '
                       'ml.training_jobs TO %s', grantee);
        EXECUTE format('GRANT EXECUTE ON FUNCTION ml.build_info(), ml.training_jobs_status(), '
                       'ml.deployed_version(text) TO %s', grantee);
    WHEN 'train' THEN
        EXECUTE format('GRANT SELECT ON ml.MLTrainingData, ml.models, ml.deployments, ml.MLEvaluationResults, '
                       'ml.training_jobs TO %s', grantee);
        EXECUTE format('GRANT INSERT ON ml.models, ml.MLEvaluationResults, ml.deployments TO %s', grantee);
        EXECUTE format('GRANT USAGE ON SEQUENCE ml.training_job_id_seq TO %s', grantee);
        EXECUTE format('GRANT EXECUTE ON FUNCTION ml.train(text, text, text, text, text[], jsonb, double precision, '
                       'text, text, integer, text, text, integer, jsonb, text, integer, text, text, double precision, text), '
                       'ml.train_async(text, text, text, text, text[], jsonb, double precision, '
                       'text, text, integer, text, text, integer, jsonb, text, integer, text, text, double precision, text), '
                       'ml.training_jobs_status(), ml.cancel_training(bigint), ml.deployed_version(text) TO %s', grantee);
        EXECUTE format('GRANT EXECUTE ON FUNCTION ml.simulated_decisions(integer, integer, integer, integer, timestamptz), '
                       'ml.simulate_outcome(text, jsonb, text, integer) TO %s', grantee);
    WHEN 'deploy' THEN
        EXECUTE format('GRANT SELECT ON ml.models, ml.deployments TO %s', grantee);
        EXECUTE format('GRANT INSERT ON ml.deployments TO %s', grantee);
        EXECUTE format('GRANT EXECUTE ON FUNCTION ml.deploy(text, integer, text), ml.rollback(text, text), '
                       'ml.deployed_version(text) TO %s', grantee);
    ELSE
        RAISE EXCEPTION 'unknown access level "%"', access
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use record, predict, read, train or deploy.';
    END CASE;
END
$$;
COMMENT ON FUNCTION ml.grant_access(regrole, text) IS
    'Grants a role what one kind of user needs: record (applications), read (analysts), train or deploy';

/* Functions are executable by PUBLIC by default: learnloop grants nothing a DBA has not chosen. */
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA ml FROM PUBLIC;

COMMENT ON INDEX ml.mltrainingdata_task_time_idx IS 'Training exports and monitoring: one task over a time range';
COMMENT ON INDEX ml.mltrainingdata_unit_time_idx IS 'A unit''s history, newest last';
COMMENT ON INDEX ml.mltrainingdata_experiment_idx IS 'Experiment analysis: decisions per variant';
COMMENT ON INDEX ml.deployments_model_idx IS 'The newest deployment of a model';
COMMENT ON INDEX ml.mlevaluationresults_model_idx IS 'Evaluations of a model version';
COMMENT ON INDEX ml.mlabtestresults_test_idx IS 'Analyses of an experiment over time';
COMMENT ON INDEX ml.mlmonitoringmetrics_model_idx IS 'Monitoring history of a model';
