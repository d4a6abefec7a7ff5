/* learnloop 0.3.0: the learning-loop schema and the recording half of the loop */

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
    -- the row an augmented copy was made from (ml.augment); deleting it deletes its copies
    augmented_from bigint REFERENCES ml.MLTrainingData (id) ON DELETE CASCADE,
    CHECK (variant IS NULL OR experiment IS NOT NULL),
    CONSTRAINT mltrainingdata_augmented_from_check
        CHECK (augmented_from IS NULL OR source = 'augmented')
);
CREATE INDEX mltrainingdata_task_time_idx ON ml.MLTrainingData (task, created_at);
CREATE INDEX mltrainingdata_unit_time_idx ON ml.MLTrainingData (unit_id, created_at);
CREATE INDEX mltrainingdata_experiment_idx ON ml.MLTrainingData (experiment, variant)
    WHERE experiment IS NOT NULL;
CREATE INDEX mltrainingdata_augmented_from_idx ON ml.MLTrainingData (augmented_from)
    WHERE augmented_from IS NOT NULL;

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
COMMENT ON COLUMN ml.MLTrainingData.augmented_from IS
    'For an augmented copy (ml.augment): the id of the real decision it was made from; NULL otherwise';
COMMENT ON CONSTRAINT mltrainingdata_augmented_from_check ON ml.MLTrainingData IS
    'Only augmented rows name an original';

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
    feature_coverage double precision CHECK (feature_coverage BETWEEN 0 AND 1),
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
COMMENT ON COLUMN ml.MLEvaluationResults.feature_coverage IS
    'Share of the model''s feature values (features x test rows) present and not missing in the scored rows';

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

/*
 * Exposures: the first assignment of each unit, sticky.  Identifiers are
 * compared bytewise (COLLATE "C"): cheaper in every index probe, and an id
 * has no linguistic order.  No foreign keys, so that ml.assign_variant can
 * insert without the executor (src/common/row_insert.c): the functions
 * check the experiment, and deleting an experiment deletes its rows
 * through the trigger ml.experiments_delete_rows.
 */
CREATE TABLE ml.experiment_exposures (
    experiment  text COLLATE "C" NOT NULL,
    unit_id     text COLLATE "C" NOT NULL,
    variant     text COLLATE "C" NOT NULL,
    exposed_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (experiment, unit_id) INCLUDE (variant)
);
COMMENT ON TABLE ml.experiment_exposures IS 'First assignment of each unit to an experiment variant; never moved; deleted with the experiment';
COMMENT ON COLUMN ml.experiment_exposures.experiment IS 'Experiment';
COMMENT ON COLUMN ml.experiment_exposures.unit_id IS 'Exposed unit';
COMMENT ON COLUMN ml.experiment_exposures.variant IS 'Variant the unit was exposed to';
COMMENT ON COLUMN ml.experiment_exposures.exposed_at IS 'Time of first exposure';
CREATE INDEX experiment_exposures_variant_idx ON ml.experiment_exposures (experiment, variant);
COMMENT ON INDEX ml.experiment_exposures_variant_idx IS
    'Units per variant for ml.experiment_statistics, counted by an index-only scan';

/* Per-unit metric values of an experiment: one row per (experiment, unit, metric), the latest value wins. */
CREATE TABLE ml.experiment_outcomes (
    experiment   text COLLATE "C" NOT NULL,
    unit_id      text COLLATE "C" NOT NULL,
    variant      text COLLATE "C" NOT NULL,
    metric       text COLLATE "C" NOT NULL CHECK (metric <> ''),
    value        double precision NOT NULL CHECK (value <> 'NaN' AND value > '-Infinity' AND value < 'Infinity'),
    recorded_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (experiment, unit_id, metric)
);
COMMENT ON TABLE ml.experiment_outcomes IS 'Metric values of exposed units: one per (experiment, unit, metric), the latest recorded value wins; deleted with the experiment';
COMMENT ON COLUMN ml.experiment_outcomes.experiment IS 'Experiment';
COMMENT ON COLUMN ml.experiment_outcomes.unit_id IS 'Exposed unit';
COMMENT ON COLUMN ml.experiment_outcomes.variant IS 'The unit''s exposed variant, copied from ml.experiment_exposures';
COMMENT ON COLUMN ml.experiment_outcomes.metric IS 'Metric name, e.g. engaged or engagement';
COMMENT ON COLUMN ml.experiment_outcomes.value IS 'Latest value (booleans are stored as 0 and 1)';
COMMENT ON COLUMN ml.experiment_outcomes.recorded_at IS 'When the latest value was recorded';

/*
 * What the foreign keys would cascade.  The lock waits for writers that read
 * the definition before it was deleted and keeps later ones out until the
 * deletion commits; they lock these tables before reading the definition,
 * so they then find the experiment gone.
 */
CREATE FUNCTION ml.delete_experiment_rows()
RETURNS trigger
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        TRUNCATE ml.experiment_exposures, ml.experiment_outcomes;
        RETURN NULL;
    END IF;
    IF NOT EXISTS (SELECT FROM deleted) THEN
        RETURN NULL;
    END IF;
    -- an older snapshot would miss rows committed by the writers waited for
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'experiments can only be deleted under READ COMMITTED'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'A snapshot older than the deletion would not see exposures committed while it waited; '
                         'delete in a READ COMMITTED transaction.';
    END IF;
    LOCK TABLE ml.experiment_exposures, ml.experiment_outcomes IN SHARE ROW EXCLUSIVE MODE;
    DELETE FROM ml.experiment_outcomes o USING deleted d WHERE o.experiment = d.name;
    DELETE FROM ml.experiment_exposures e USING deleted d WHERE e.experiment = d.name;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION ml.delete_experiment_rows() IS
    'Trigger: deletes (or truncates) the exposures and outcomes of deleted experiments, after waiting for their writers';
CREATE TRIGGER experiments_delete_rows
    AFTER DELETE ON ml.experiments REFERENCING OLD TABLE AS deleted
    FOR EACH STATEMENT EXECUTE FUNCTION ml.delete_experiment_rows();
COMMENT ON TRIGGER experiments_delete_rows ON ml.experiments IS
    'Deletes the exposures and outcomes of deleted experiments';
CREATE TRIGGER experiments_truncate_rows
    AFTER TRUNCATE ON ml.experiments
    FOR EACH STATEMENT EXECUTE FUNCTION ml.delete_experiment_rows();
COMMENT ON TRIGGER experiments_truncate_rows ON ml.experiments IS
    'Truncates the exposures and outcomes with the experiments';

/* History of every weight change: creation, manual updates and bandit reallocations. */
CREATE TABLE ml.experiment_allocations (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    experiment  text NOT NULL REFERENCES ml.experiments (name) ON DELETE CASCADE,
    weights     double precision[] NOT NULL,
    source      text NOT NULL CHECK (source IN ('create', 'manual', 'thompson')),
    changed_by  name NOT NULL DEFAULT CURRENT_USER,
    changed_at  timestamptz NOT NULL DEFAULT pg_catalog.now()
);
CREATE INDEX experiment_allocations_experiment_idx ON ml.experiment_allocations (experiment, id);
COMMENT ON TABLE ml.experiment_allocations IS 'History of experiment weights: one row per creation, ml.update_weights and ml.update_allocation';
COMMENT ON COLUMN ml.experiment_allocations.id IS 'Increasing change id';
COMMENT ON COLUMN ml.experiment_allocations.experiment IS 'Experiment';
COMMENT ON COLUMN ml.experiment_allocations.weights IS 'Weights in force from changed_at, in variant order';
COMMENT ON COLUMN ml.experiment_allocations.source IS 'create, manual (ml.update_weights) or thompson (ml.update_allocation)';
COMMENT ON COLUMN ml.experiment_allocations.changed_by IS 'Role that changed the weights';
COMMENT ON COLUMN ml.experiment_allocations.changed_at IS 'When the weights changed';

/* Stored experiment analyses. */
CREATE TABLE ml.MLABTestResults (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    test_name   text NOT NULL,
    duration_days double precision,
    results     jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now()
);
CREATE INDEX mlabtestresults_test_idx ON ml.MLABTestResults (test_name, created_at);
COMMENT ON TABLE ml.MLABTestResults IS 'Stored analyses of experiments (one row per ml.analyze run)';
COMMENT ON COLUMN ml.MLABTestResults.id IS 'Analysis id';
COMMENT ON COLUMN ml.MLABTestResults.test_name IS 'Experiment name';
COMMENT ON COLUMN ml.MLABTestResults.duration_days IS 'Days the experiment had run when analysed';
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
    model_version integer,
    metric        text,
    feature       text,
    experiment    text,
    variant       text,
    decided_by    text,
    value         double precision,
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
COMMENT ON COLUMN ml.MLMonitoringMetrics.model_version IS 'Model version the measured decisions were made with (ml.monitor)';
COMMENT ON COLUMN ml.MLMonitoringMetrics.metric IS 'Metric name, one per row (ml.monitor; docs/monitoring.md lists them); NULL in hand-written snapshots, whose figures are in metrics';
COMMENT ON COLUMN ml.MLMonitoringMetrics.feature IS 'Feature a drift metric is about; NULL for the others';
COMMENT ON COLUMN ml.MLMonitoringMetrics.experiment IS 'Experiment of the slice measured; NULL when the row covers every arm';
COMMENT ON COLUMN ml.MLMonitoringMetrics.variant IS 'Experiment arm of the slice measured; NULL when the row covers every arm';
COMMENT ON COLUMN ml.MLMonitoringMetrics.decided_by IS 'decided_by of the slice measured (model, fallback, ...); NULL when the row covers every decision';
COMMENT ON COLUMN ml.MLMonitoringMetrics.value IS 'The metric''s value; details (bins, counts) are in metrics';

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
    created_at  timestamptz DEFAULT NULL,
    propensity  double precision DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'learnloop_record_decision'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION ml.record_decision(text, text, jsonb, jsonb, text, text, text, timestamptz, double precision) IS
    'Records one decision and returns its id, for ml.record_outcome later; propensity (0 to 1, above 0) is the probability with which the application chose the action, merged into decision for off-policy evaluation';

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
    start_at           timestamptz DEFAULT '2026-01-01 00:00:00+00',
    drift              double precision DEFAULT 0)
RETURNS TABLE (unit_id text, created_at timestamptz, features jsonb, decision jsonb,
               outcome jsonb, outcome_at timestamptz)
AS 'MODULE_PATHNAME', 'learnloop_simulated_decisions'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 1000;
COMMENT ON FUNCTION ml.simulated_decisions(integer, integer, integer, integer, timestamptz, double precision) IS
    'Deterministic workload of simulated users: decisions of a rules policy with exploration and outcomes from a known ground truth, shifted by drift (0 to 1)';

CREATE FUNCTION ml.simulate_outcome(
    unit_id   text,
    features  jsonb,
    action    text,
    seed      integer DEFAULT 42,
    drift     double precision DEFAULT 0)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'learnloop_simulate_outcome'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml.simulate_outcome(text, jsonb, text, integer, double precision) IS
    'Outcome the simulated user would give to an action: the ground truth behind ml.simulated_decisions (of the world shifted by drift)';

CREATE FUNCTION ml.simulate_users(
    users              integer,
    days               integer,
    seed               integer DEFAULT 42,
    decisions_per_day  integer DEFAULT 3,
    start_at           timestamptz DEFAULT NULL,
    task               text DEFAULT 'response_strategy',
    drift              double precision DEFAULT 0)
RETURNS bigint
LANGUAGE sql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH inserted AS (
        INSERT INTO ml.MLTrainingData
            (task, unit_id, created_at, features, decision, outcome, outcome_at, source)
        SELECT simulate_users.task, s.unit_id, s.created_at, s.features, s.decision, s.outcome, s.outcome_at, 'synthetic'
          FROM ml.simulated_decisions(users, days, seed, decisions_per_day,
                   coalesce(start_at, date_trunc('day', now()) - make_interval(days => days)), drift) AS s
        RETURNING 1)
    SELECT count(*) FROM inserted
$$;
COMMENT ON FUNCTION ml.simulate_users(integer, integer, integer, integer, timestamptz, text, double precision) IS
    'Inserts a simulated learning-loop workload into ml.MLTrainingData (source synthetic), shifted by drift (0 to 1), and returns the row count';

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
    evaluate_on            text DEFAULT 'all',
    deploy_guards          jsonb DEFAULT NULL,
    deploy_metric          text DEFAULT NULL,
    policy_evaluation      jsonb DEFAULT NULL,
    cohort_column          text DEFAULT NULL,
    min_cohort_rows        integer DEFAULT 200,
    base_model             text DEFAULT NULL,
    base_version           integer DEFAULT NULL,
    refresh                boolean DEFAULT false)
RETURNS TABLE (model_name text, version integer, hyperparams jsonb, metric_name text,
               score double precision, champion_score double precision, deployed boolean,
               reason text, job_id bigint)
AS 'MODULE_PATHNAME', 'learnloop_train'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION ml.train(text, text, text, text, text[], jsonb, double precision, text, text, integer, text, text, integer, jsonb, text, integer, text, text, double precision, text, jsonb, text, jsonb, text, integer, text, integer, boolean) IS
    'Trains an XGBoost model in a background worker as the calling role, evaluates it, registers it and deploys it by policy (key metric better by min_improvement, guard metrics within deploy_guards; or, with deploy_metric => ''policy_value'', its estimated value on the logged decisions policy_evaluation names); one row per candidate';

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
    deploy_guards          jsonb DEFAULT NULL,
    deploy_metric          text DEFAULT NULL,
    policy_evaluation      jsonb DEFAULT NULL,
    cohort_column          text DEFAULT NULL,
    min_cohort_rows        integer DEFAULT 200,
    base_model             text DEFAULT NULL,
    base_version           integer DEFAULT NULL,
    refresh                boolean DEFAULT false)
RETURNS bigint
AS 'MODULE_PATHNAME', 'learnloop_train_async'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION ml.train_async(text, text, text, text, text[], jsonb, double precision, text, text, integer, text, text, integer, jsonb, text, integer, text, text, double precision, text, jsonb, text, jsonb, text, integer, text, integer, boolean) IS
    'Starts ml.train in the background and returns its job id at once; follow it in ml.training_jobs';

CREATE FUNCTION ml.training_jobs_status()
RETURNS TABLE (job_id bigint, model text, role oid, database oid, pid integer, caller_pid integer,
               phase text, candidate integer, candidates integer, round integer, total_rounds integer,
               rows bigint, started timestamptz, status text, error text, training_memory text)
AS 'MODULE_PATHNAME', 'learnloop_training_jobs'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION ml.training_jobs_status() IS 'Training jobs in shared memory (needs learnloop in shared_preload_libraries); see ml.training_jobs';

CREATE VIEW ml.training_jobs AS
    SELECT j.job_id, j.model, j.role::regrole AS role, d.datname AS database, j.pid, j.caller_pid,
           j.phase, j.candidate, j.candidates, j.round, j.total_rounds, j.rows, j.started,
           j.status, j.error, j.training_memory
      FROM ml.training_jobs_status() j
      LEFT JOIN pg_catalog.pg_database d ON d.oid = j.database;
COMMENT ON VIEW ml.training_jobs IS 'Running and recent training jobs: phase, round, rows, status and error';
COMMENT ON COLUMN ml.training_jobs.training_memory IS
    'How the job held its rows: memory (float columns) or stream (spilled, quantised batch by batch); NULL until loaded';

CREATE FUNCTION ml.cancel_training(job_id bigint)
RETURNS boolean
AS 'MODULE_PATHNAME', 'learnloop_cancel_training'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION ml.cancel_training(bigint) IS
    'Asks a running training job to stop; true if it was running';

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

CREATE FUNCTION ml.explain(model text, features jsonb, version integer DEFAULT NULL, class text DEFAULT NULL)
RETURNS TABLE (feature text, value double precision, category text, contribution double precision, class text)
AS 'MODULE_PATHNAME', 'learnloop_explain'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION ml.explain(text, jsonb, integer, text) IS
    'Per-feature contributions (SHAP values) to one prediction, and the bias; category names the value of a categorical feature, class the class explained (a classifier''s predicted class unless class names one)';

CREATE FUNCTION ml.decide(
    task            text,
    unit_id         text,
    features        jsonb,
    fallback        text DEFAULT NULL,
    model           text DEFAULT NULL,
    min_confidence  double precision DEFAULT 0.5,
    action_feature  text DEFAULT 'action',
    experiment      text DEFAULT NULL,
    variant         text DEFAULT NULL,
    min_score       double precision DEFAULT NULL,
    explore         text DEFAULT 'greedy',
    epsilon         double precision DEFAULT NULL,
    temperature     double precision DEFAULT NULL,
    gamma           double precision DEFAULT NULL,
    seed            bigint DEFAULT NULL,
    actions         text[] DEFAULT NULL)
RETURNS TABLE (decision_id bigint, action text, confidence double precision, decided_by text,
               score double precision, propensity double precision)
AS 'MODULE_PATHNAME', 'learnloop_decide'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION ml.decide(text, text, jsonb, text, text, double precision, text, text, text, double precision, text, double precision, double precision, double precision, bigint, text[]) IS
    'Chooses an action with the deployed model among the eligible actions (greedy, or drawn with epsilon, softmax or squarecb exploration), or the fallback when there is no model, it is unsure or its score is below min_score (without a fallback: action NULL, decided_by unsure, for ml.record_fallback), records the decision with its propensity and returns its id; confidence is a probability, score an outcome model''s predicted outcome, propensity the probability the action was chosen with';

CREATE FUNCTION ml.model_cache()
RETURNS TABLE (model text, version integer, evaluator text, reason text, memory_bytes bigint, model_bytes bigint)
AS 'MODULE_PATHNAME', 'learnloop_model_cache'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION ml.model_cache() IS 'Models this backend holds for serving, how they are evaluated and their memory';

CREATE FUNCTION ml.serving_stats()
RETURNS TABLE (database oid, model text, function text, calls bigint, errors bigint, fallbacks bigint,
               p50_ms double precision, p95_ms double precision, p99_ms double precision,
               mean_ms double precision, min_ms double precision, max_ms double precision,
               total_ms double precision)
AS 'MODULE_PATHNAME', 'learnloop_serving_stats_rows'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION ml.serving_stats() IS
    'Serving statistics in shared memory (needs learnloop in shared_preload_libraries); see ml.serving_stats';

CREATE VIEW ml.serving_stats AS
    SELECT d.datname AS database, s.model, s.function, s.calls, s.errors, s.fallbacks,
           s.p50_ms, s.p95_ms, s.p99_ms, s.mean_ms, s.min_ms, s.max_ms, s.total_ms
      FROM ml.serving_stats() s
      LEFT JOIN pg_catalog.pg_database d ON d.oid = s.database;
COMMENT ON VIEW ml.serving_stats IS
    'Calls, errors, fallbacks and latency (milliseconds, percentiles within 1 %) of ml.predict*, ml.explain and ml.decide per database, model and function since the last reset';

CREATE FUNCTION ml.serving_stats_reset(model text DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'learnloop_serving_stats_reset'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION ml.serving_stats_reset(text) IS
    'Empties ml.serving_stats for one model of this database, or (NULL) everything and the dropped count; returns the entries removed';

CREATE FUNCTION ml.serving_stats_dropped()
RETURNS bigint
AS 'MODULE_PATHNAME', 'learnloop_serving_stats_dropped'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION ml.serving_stats_dropped() IS
    'Calls not counted in ml.serving_stats because it held learnloop.serving_stats_max entries, since the last full reset';

/* Statement-level trigger: other backends drop their cached copies of the table's rows. */
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
/* Experiments: A/B tests and Thompson-sampling bandits                    */
/* ---------------------------------------------------------------------- */

CREATE TRIGGER experiments_invalidate_cache
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ml.experiments
    FOR EACH STATEMENT EXECUTE FUNCTION ml.invalidate_table_cache();
COMMENT ON TRIGGER experiments_invalidate_cache ON ml.experiments IS
    'Keeps the per-backend experiment cache of ml.assign_variant current';

CREATE FUNCTION ml.check_weights(variants text[], weights double precision[])
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
COMMENT ON FUNCTION ml.check_weights(text[], double precision[]) IS
    'Validates weights against variants (one each, 0..1, summing to 1); NULL gives an equal split';

CREATE FUNCTION ml.create_experiment(
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
COMMENT ON FUNCTION ml.create_experiment(text, text[], double precision[], double precision, text, integer, text, text, text[], integer, text) IS
    'Creates an experiment (running unless created as draft) and returns its row';

/* Locks and returns an experiment, or raises the unknown-experiment error every function shares. */
CREATE FUNCTION ml.lock_experiment(name text)
RETURNS ml.experiments
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    locked ml.experiments;
BEGIN
    SELECT e.* INTO locked FROM ml.experiments e WHERE e.name = lock_experiment.name FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'experiment "%" does not exist', name
            USING ERRCODE = 'undefined_object',
                  HINT = 'ml.create_experiment creates one; ml.experiments lists them.';
    END IF;
    RETURN locked;
END
$$;
COMMENT ON FUNCTION ml.lock_experiment(text) IS
    'Locks an experiment''s row for a change and returns it; unknown names are an error (42704)';

CREATE FUNCTION ml.set_experiment_status(name text, status text)
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
COMMENT ON FUNCTION ml.set_experiment_status(text, text) IS
    'Starts (running), stops (stopped) or restarts an experiment; returns its row';

CREATE FUNCTION ml.update_weights(name text, weights double precision[], source text DEFAULT 'manual')
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
COMMENT ON FUNCTION ml.update_weights(text, double precision[], text) IS
    'Changes the weights of an experiment (exposed units keep their variant) and logs them in ml.experiment_allocations';

CREATE FUNCTION ml.growthbook_hash(seed text, value text, version integer DEFAULT 2)
RETURNS double precision
AS 'MODULE_PATHNAME', 'learnloop_growthbook_hash'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml.growthbook_hash(text, text, integer) IS
    'The GrowthBook SDK''s hash of a unit id in [0, 1): version 2 (default) or 1, over UTF-16 code units';

CREATE FUNCTION ml.bucket_ranges(coverage double precision, weights double precision[])
RETURNS TABLE (variant integer, range_start double precision, range_end double precision)
AS 'MODULE_PATHNAME', 'learnloop_bucket_ranges'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION ml.bucket_ranges(double precision, double precision[]) IS
    'The hash range [range_start, range_end) of each variant (1-based), as the GrowthBook SDK computes it';

CREATE FUNCTION ml.assign_variant(experiment text, unit_id text, log_exposure boolean DEFAULT true)
RETURNS text
AS 'MODULE_PATHNAME', 'learnloop_assign_variant'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION ml.assign_variant(text, text, boolean) IS
    'GrowthBook-compatible variant of a unit (NULL outside coverage); logs the first exposure and keeps exposed units in their variant';

CREATE FUNCTION ml.record_outcome(experiment text, unit_id text, metric text, value double precision)
RETURNS text
AS 'MODULE_PATHNAME', 'learnloop_record_experiment_outcome'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION ml.record_outcome(text, text, text, double precision) IS
    'Records the value of a metric for an exposed unit (latest value wins; safe to retry) and returns the unit''s variant';

/* Decisions that carry an experiment and variant feed their numeric and boolean outcome keys to the experiment. */
CREATE FUNCTION ml.experiment_outcomes_from_decision()
RETURNS trigger
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    INSERT INTO ml.experiment_outcomes AS o (experiment, unit_id, variant, metric, value)
    SELECT e.experiment, e.unit_id, e.variant, k.key,
           CASE jsonb_typeof(k.value) WHEN 'boolean' THEN (k.value)::boolean::integer ELSE (k.value)::float8 END
      FROM ml.experiment_exposures e, jsonb_each(NEW.outcome) k
     WHERE e.experiment = NEW.experiment AND e.unit_id = NEW.unit_id AND e.variant = NEW.variant
       AND jsonb_typeof(k.value) IN ('number', 'boolean')
    ON CONFLICT (experiment, unit_id, metric)
        DO UPDATE SET value = EXCLUDED.value, recorded_at = now()
        WHERE o.value IS DISTINCT FROM EXCLUDED.value;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION ml.experiment_outcomes_from_decision() IS
    'Trigger: copies numeric and boolean outcome keys of a decision made by an experiment arm into ml.experiment_outcomes, when the unit was exposed to that arm (an unchanged value is left as it was, with its recorded_at)';

CREATE TRIGGER mltrainingdata_experiment_outcomes
    AFTER INSERT OR UPDATE OF outcome ON ml.MLTrainingData
    FOR EACH ROW WHEN (NEW.experiment IS NOT NULL AND NEW.variant IS NOT NULL AND NEW.outcome IS NOT NULL)
    EXECUTE FUNCTION ml.experiment_outcomes_from_decision();
COMMENT ON TRIGGER mltrainingdata_experiment_outcomes ON ml.MLTrainingData IS
    'Feeds outcomes of decisions with an experiment and variant to ml.experiment_outcomes';

/* What the analysis needs of a metric's values, in one aggregate (src/experiment/moments.c). */
CREATE FUNCTION ml.outcome_accum(moments double precision[], value double precision)
RETURNS double precision[]
AS 'MODULE_PATHNAME', 'learnloop_outcome_accum'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml.outcome_accum(double precision[], double precision) IS
    'Transition function of ml.outcome_moments';
CREATE FUNCTION ml.outcome_combine(a double precision[], b double precision[])
RETURNS double precision[]
AS 'MODULE_PATHNAME', 'learnloop_outcome_combine'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml.outcome_combine(double precision[], double precision[]) IS
    'Merges two partial states of ml.outcome_moments (parallel aggregation)';
CREATE AGGREGATE ml.outcome_moments(value double precision) (
    SFUNC = ml.outcome_accum,
    STYPE = double precision[],
    COMBINEFUNC = ml.outcome_combine,
    INITCOND = '{0,0,0,0}',
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE ml.outcome_moments(double precision) IS
    '{n, sum, sum of squared deviations, values other than 0 and 1}: count, mean, variance and 0/1-ness in one pass';

CREATE TYPE ml.experiment_result AS (
    variant                text,
    is_control             boolean,
    units                  bigint,
    units_with_value       bigint,
    mean                   double precision,
    variance               double precision,
    test                   text,
    lift                   double precision,
    lift_ci_low            double precision,
    lift_ci_high           double precision,
    relative_lift          double precision,
    relative_lift_ci_low   double precision,
    relative_lift_ci_high  double precision,
    p_value                double precision,
    adjusted_p_value       double precision,
    chance_to_win          double precision,
    srm_p_value            double precision,
    verdict                text,
    metric                 text,
    kind                   text,
    direction              text,
    cuped_lift             double precision,
    cuped_lift_ci_low      double precision,
    cuped_lift_ci_high     double precision,
    cuped_relative_lift    double precision,
    cuped_relative_lift_ci_low double precision,
    cuped_relative_lift_ci_high double precision,
    cuped_p_value          double precision,
    variance_reduction     double precision,
    decision               text);
COMMENT ON TYPE ml.experiment_result IS
    'One variant of an experiment analysis, against the control (see docs/experiments.md for the definitions)';

CREATE FUNCTION ml.experiment_statistics(
    experiment  text,
    metric      text DEFAULT NULL,
    alpha       double precision DEFAULT 0.05,
    correction  text DEFAULT 'holm',
    sequential  boolean DEFAULT false,
    missing     text DEFAULT 'zero',
    correct_metrics boolean DEFAULT false)
RETURNS SETOF ml.experiment_result
AS 'MODULE_PATHNAME', 'learnloop_experiment_statistics'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION ml.experiment_statistics(text, text, double precision, text, boolean, text, boolean) IS
    'Per-variant statistics of an experiment against its control, without storing them (ml.analyze stores them)';

CREATE FUNCTION ml.analyze(
    experiment  text,
    metric      text DEFAULT NULL,
    alpha       double precision DEFAULT 0.05,
    correction  text DEFAULT 'holm',
    sequential  boolean DEFAULT false,
    missing     text DEFAULT 'zero',
    correct_metrics boolean DEFAULT false)
RETURNS SETOF ml.experiment_result
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    -- ANALYZE is a reserved word, so the arguments are $1 .. $7 here
    exp ml.experiments;
    stats jsonb;
    guardrails jsonb;
BEGIN
    SELECT jsonb_agg(to_jsonb(s) - 'ordinality' ORDER BY s.ordinality) INTO stats
      FROM ml.experiment_statistics($1, $2, $3, $4, $5, $6, $7) WITH ORDINALITY s;
    SELECT e.* INTO exp FROM ml.experiments e WHERE e.name = $1;
    SELECT jsonb_object_agg(g.metric, (SELECT jsonb_agg(to_jsonb(s) - 'ordinality' ORDER BY s.ordinality)
                                         FROM ml.experiment_statistics(exp.name, g.metric, $3, $4, $5, $6, $7)
                                              WITH ORDINALITY s))
      INTO guardrails
      FROM unnest(exp.guardrail_metrics) AS g(metric);
    INSERT INTO ml.MLABTestResults (test_name, duration_days, results)
        VALUES (exp.name,
                extract(epoch FROM coalesce(exp.stopped_at, now()) - coalesce(exp.started_at, now())) / 86400,
                jsonb_build_object('metric', coalesce($2, exp.primary_metric),
                                   'alpha', $3, 'correction', lower($4),
                                   'sequential', $5, 'missing', lower($6), 'correct_metrics', $7,
                                   'weights', to_jsonb(exp.weights), 'variants', stats,
                                   'guardrails', coalesce(guardrails, '{}')));
    RETURN QUERY SELECT r.* FROM jsonb_populate_recordset(NULL::ml.experiment_result, stats) r;
END
$$;
COMMENT ON FUNCTION ml.analyze(text, text, double precision, text, boolean, text, boolean) IS
    'Analyses an experiment on a metric (default: primary): one row per variant against the control, stored in ml.MLABTestResults';

CREATE FUNCTION ml.sample_size(
    baseline     double precision,
    mde          double precision,
    alpha        double precision DEFAULT 0.05,
    power        double precision DEFAULT 0.8,
    relative     boolean DEFAULT true,
    sd           double precision DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'learnloop_sample_size'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION ml.sample_size(double precision, double precision, double precision, double precision, boolean, double precision) IS
    'Units per variant for a two-sided test: of a conversion rate (baseline is the rate) or, with sd, of a mean';

CREATE FUNCTION ml.power(
    baseline     double precision,
    mde          double precision,
    units        double precision,
    alpha        double precision DEFAULT 0.05,
    relative     boolean DEFAULT true,
    sd           double precision DEFAULT NULL)
RETURNS double precision
AS 'MODULE_PATHNAME', 'learnloop_power'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION ml.power(double precision, double precision, double precision, double precision, boolean, double precision) IS
    'Power of a two-sided test with the given units per variant: the inverse of ml.sample_size';

CREATE FUNCTION ml.experiment_power(
    experiment  text,
    mde         double precision,
    metric      text DEFAULT NULL,
    alpha       double precision DEFAULT 0.05,
    relative    boolean DEFAULT true)
RETURNS double precision
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT ml.power(c.mean, experiment_power.mde, t.units, experiment_power.alpha, experiment_power.relative,
                    CASE WHEN c.test = 'two-proportion' THEN NULL ELSE sqrt(c.variance) END)
      FROM ml.experiment_statistics(experiment_power.experiment, experiment_power.metric, experiment_power.alpha) c,
           LATERAL (SELECT min(s.units) AS units
                      FROM ml.experiment_statistics(experiment_power.experiment, experiment_power.metric,
                                                    experiment_power.alpha) s) t
     WHERE c.is_control
$$;
COMMENT ON FUNCTION ml.experiment_power(text, double precision, text, double precision, boolean) IS
    'Power of a running experiment to detect mde with the units it has (the smallest variant), at the control''s observed rate or variance';

CREATE FUNCTION ml.thompson_weights(
    experiment  text,
    burn_in     integer DEFAULT 100,
    min_weight  double precision DEFAULT 0.01,
    draws       integer DEFAULT 10000,
    seed        bigint DEFAULT NULL)
RETURNS double precision[]
AS 'MODULE_PATHNAME', 'learnloop_thompson_weights'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION ml.thompson_weights(text, integer, double precision, integer, bigint) IS
    'Thompson-sampling weights of a bandit on its primary metric: P(each arm is best), equal until every arm has burn_in units, at least min_weight each';

CREATE FUNCTION ml.update_allocation(
    experiment  text,
    burn_in     integer DEFAULT 100,
    min_weight  double precision DEFAULT 0.01,
    draws       integer DEFAULT 10000,
    seed        bigint DEFAULT NULL)
RETURNS double precision[]
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    current ml.experiments := ml.lock_experiment(experiment);
BEGIN
    IF current.allocation <> 'thompson' THEN
        RAISE EXCEPTION 'experiment "%" has fixed allocation', experiment
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Create the experiment with allocation => ''thompson'', or change fixed weights with ml.update_weights.';
    END IF;
    RETURN (ml.update_weights(experiment,
                              ml.thompson_weights(experiment, burn_in, min_weight, draws, seed),
                              'thompson')).weights;
END
$$;
COMMENT ON FUNCTION ml.update_allocation(text, integer, double precision, integer, bigint) IS
    'Recomputes a bandit''s weights by Thompson sampling and stores them (history in ml.experiment_allocations); schedule it with pg_cron';

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
DECLARE
    functions text[];
    fn regprocedure;
BEGIN
    EXECUTE format('GRANT USAGE ON SCHEMA ml TO %s', grantee);
    CASE ml.check_choice(access, 'access', '{record, predict, read, experiment, train, deploy, alert, deliver}')
    WHEN 'predict' THEN
        EXECUTE format('GRANT SELECT ON ml.models, ml.deployments TO %s', grantee);
        functions := '{predict, predict_proba, predict_label, explain, model_cache, deployed_version, action_distribution, '
                     'least_certain, uncertainty, uncertainty_spread, predict_batch}';
    WHEN 'record' THEN
        PERFORM ml.grant_access(grantee, 'predict');
        EXECUTE format('GRANT INSERT (task, unit_id, created_at, features, decision, source, experiment, variant), '
                       'SELECT (id, outcome, outcome_at), UPDATE (outcome, outcome_at) ON ml.MLTrainingData TO %s', grantee);
        EXECUTE format('GRANT SELECT ON ml.experiments TO %s', grantee);
        EXECUTE format('GRANT SELECT, INSERT ON ml.experiment_exposures TO %s', grantee);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE ON ml.experiment_outcomes TO %s', grantee);
        EXECUTE format('GRANT SELECT ON ml.bandits, ml.bandit_arms TO %s', grantee);
        functions := '{record_decision, record_outcome, decide, assign_variant, record_fallback, choose, '
                     'bandit_distribution}';
    WHEN 'read' THEN
        EXECUTE format('GRANT SELECT ON ml.MLTrainingData, ml.models, ml.deployments, ml.MLEvaluationResults, '
                       'ml.experiments, ml.experiment_exposures, ml.experiment_outcomes, ml.experiment_allocations, '
                       'ml.MLABTestResults, ml.MLMonitoringMetrics, ml.training_jobs, ml.serving_stats, '
                       'ml.deployment_decisions, ml.model_history, ml.webhook_outbox, ml.webhook_deliveries, '
                       'ml.prometheus_metrics, ml.alerts, ml.alert_states, ml.alert_events, ml.monitoring, '
                       'ml.bandits, ml.bandit_arms, ml.metrics TO %s', grantee);
        EXECUTE format('GRANT SELECT (name, kind, enabled, created_by, created_at) ON ml.channels TO %s', grantee);
        EXECUTE format('GRANT INSERT ON ml.MLABTestResults TO %s', grantee);
        functions := '{build_info, training_jobs_status, serving_stats, serving_stats_dropped, serving_latency_buckets, '
                     'deployed_version, experiment_statistics, analyze, experiment_power, sample_size, power, '
                     'growthbook_hash, bucket_ranges, experiment_srm, report, monitoring_history, '
                     'bandit_distribution, export_model, export_model_schema, outcome_number}';
    WHEN 'experiment' THEN
        EXECUTE format('GRANT SELECT, INSERT, UPDATE ON ml.experiments TO %s', grantee);
        EXECUTE format('GRANT SELECT, INSERT ON ml.experiment_allocations TO %s', grantee);
        EXECUTE format('GRANT SELECT ON ml.experiment_exposures, ml.experiment_outcomes TO %s', grantee);
        EXECUTE format('GRANT SELECT, INSERT, DELETE ON ml.metrics TO %s', grantee);
        functions := '{create_experiment, set_experiment_status, update_weights, update_allocation, '
                     'thompson_weights, lock_experiment, check_weights, check_choice, create_metric, drop_metric, '
                     'check_metric_key, outcome_number}';
    WHEN 'train' THEN
        EXECUTE format('GRANT SELECT ON ml.MLTrainingData, ml.models, ml.deployments, ml.MLEvaluationResults, '
                       'ml.training_jobs, ml.deployment_decisions, ml.model_history TO %s', grantee);
        EXECUTE format('GRANT INSERT ON ml.models, ml.MLEvaluationResults, ml.deployments, '
                       'ml.deployment_decisions TO %s', grantee);
        EXECUTE format('GRANT USAGE ON SEQUENCE ml.training_job_id_seq TO %s', grantee);
        EXECUTE format('GRANT SELECT, INSERT, DELETE ON ml.bandits TO %s', grantee);
        EXECUTE format('GRANT SELECT ON ml.bandit_arms TO %s', grantee);
        functions := '{train, train_async, training_jobs_status, cancel_training, deployed_version, '
                     'simulated_decisions, simulate_outcome, simulate_expected_outcome, simulated_contexts, '
                     'simulated_actions, simulate_rules_action, simulate_policy_kind, simulate_policy_value, monitor, '
                     'evaluate_policy, compare_policies, create_bandit, drop_bandit, bandit_distribution, check_choice, '
                     'least_certain, uncertainty, uncertainty_spread, import_model, export_model, export_model_schema, predict_batch}';
    WHEN 'deploy' THEN
        EXECUTE format('GRANT SELECT ON ml.models, ml.deployments, ml.model_history TO %s', grantee);
        EXECUTE format('GRANT INSERT ON ml.deployments TO %s', grantee);
        functions := '{deploy, rollback, deployed_version, validate_model, export_model, export_model_schema}';
    WHEN 'alert' THEN
        PERFORM ml.grant_access(grantee, 'read');
        EXECUTE format('GRANT SELECT (name, url, kind, enabled, created_by, created_at) ON ml.channels TO %s', grantee);
        functions := '{create_channel, drop_channel, enable_channel, test_channel, create_alert, drop_alert, '
                     'evaluate_alerts}';
    WHEN 'deliver' THEN
        -- the role of learnloop.webhook_role: what the delivery worker reads and writes, nothing else
        EXECUTE format('GRANT SELECT (name, url, secret, enabled) ON ml.channels TO %s', grantee);
        EXECUTE format('GRANT SELECT, UPDATE (state, attempts, next_attempt_at, delivered_at, last_error) '
                       'ON ml.webhook_outbox TO %s', grantee);
        EXECUTE format('GRANT INSERT ON ml.webhook_deliveries TO %s', grantee);
        functions := '{}';
    END CASE;
    FOR fn IN SELECT p.oid FROM pg_proc p
               WHERE p.pronamespace = 'ml'::regnamespace AND p.proname = ANY (functions) LOOP
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %s', fn, grantee);
    END LOOP;
    PERFORM ml.grant_quoted_names(grantee);
END
$$;
COMMENT ON FUNCTION ml.grant_access(regrole, text) IS
    'Grants a role what one kind of user needs: record (applications), predict (serving only), read (analysts), experiment (experiment owners), train, deploy, alert (channels and alert rules) or deliver (the webhook delivery worker''s role)';

/* Functions are executable by PUBLIC by default: learnloop grants nothing a DBA has not chosen. */
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA ml FROM PUBLIC;
/* pure arithmetic over its input, like avg(): callable by whoever may read the outcomes */
GRANT EXECUTE ON ROUTINE ml.outcome_moments(double precision) TO PUBLIC;

COMMENT ON INDEX ml.mltrainingdata_task_time_idx IS 'Training exports and monitoring: one task over a time range';
COMMENT ON INDEX ml.mltrainingdata_unit_time_idx IS 'A unit''s history, newest last';
COMMENT ON INDEX ml.mltrainingdata_experiment_idx IS 'Experiment analysis: decisions per variant';
COMMENT ON INDEX ml.mltrainingdata_augmented_from_idx IS
    'The copies of a decision: deleting it deletes them (ON DELETE CASCADE) without a scan';
COMMENT ON INDEX ml.deployments_model_idx IS 'The newest deployment of a model';
COMMENT ON INDEX ml.mlevaluationresults_model_idx IS 'Evaluations of a model version';
COMMENT ON INDEX ml.experiment_allocations_experiment_idx IS 'Weight history of an experiment';
COMMENT ON INDEX ml.mlabtestresults_test_idx IS 'Analyses of an experiment over time';
COMMENT ON INDEX ml.mlmonitoringmetrics_model_idx IS 'Monitoring history of a model';

/* ---------------------------------------------------------------------- */
/* Issue 9, part 2: automatic deployment never ships a worse model         */
/* ---------------------------------------------------------------------- */

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

CREATE FUNCTION ml.validate_model(model text, version integer)
RETURNS text
AS 'MODULE_PATHNAME', 'learnloop_validate_model'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml.validate_model(text, integer) IS
    'Loads and compiles a model version as serving does; returns native or xgboost: why not native, or raises when it cannot be loaded';
REVOKE EXECUTE ON FUNCTION ml.validate_model(text, integer) FROM PUBLIC;
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
               AND pg_catalog.octet_length(variant) BETWEEN 1 AND 256),
    ADD CONSTRAINT mltrainingdata_confidence_check
        CHECK (CASE pg_catalog.jsonb_typeof(decision -> 'confidence')
                   WHEN 'number' THEN (decision -> 'confidence')::numeric BETWEEN 0 AND 1
                   ELSE decision -> 'confidence' IS NULL
               END);
COMMENT ON CONSTRAINT mltrainingdata_names_check ON ml.MLTrainingData IS
    'task, unit_id, experiment and variant: at most 256 bytes, experiment and variant not empty (as ml.record_decision checks)';
COMMENT ON CONSTRAINT mltrainingdata_confidence_check ON ml.MLTrainingData IS
    'decision.confidence, when present, is a number between 0 and 1 (as ml.record_decision checks)';

/* ---------------------------------------------------------------------- */
/* Issue 11: monitoring, alerts and webhooks                               */
/* ---------------------------------------------------------------------- */

/* ml.monitor replaces a window's rows instead of adding to them: one row per metric and slice */
CREATE UNIQUE INDEX mlmonitoringmetrics_window_metric_idx ON ml.MLMonitoringMetrics
    (model_name, period_start, period_end, metric, COALESCE(model_version, 0), COALESCE(feature, ''),
     COALESCE(experiment, ''), COALESCE(variant, ''), COALESCE(decided_by, ''))
    WHERE metric IS NOT NULL;
COMMENT ON INDEX ml.mlmonitoringmetrics_window_metric_idx IS
    'One row per model, window, metric and slice: re-running ml.monitor over a window replaces its rows';

/* Where alerts go: a webhook URL and how its payload is shaped. */
CREATE TABLE ml.channels (
    name        text PRIMARY KEY CHECK (name <> '' AND pg_catalog.octet_length(name) <= 256),
    url         text NOT NULL CHECK (url ~ '^https?://'),
    kind        text NOT NULL DEFAULT 'json' CHECK (kind IN ('json', 'slack', 'alertmanager')),
    secret      text CHECK (secret IS NULL OR secret LIKE 'whsec\_%'),
    enabled     boolean NOT NULL DEFAULT true,
    created_by  name NOT NULL DEFAULT CURRENT_USER,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE ml.channels IS 'Webhook channels that alerts are sent to';
COMMENT ON COLUMN ml.channels.name IS 'Channel name, named by alerts';
COMMENT ON COLUMN ml.channels.url IS 'Webhook URL (http or https); a Slack URL is itself a secret, so readers do not see it';
COMMENT ON COLUMN ml.channels.kind IS 'Payload shape: json (learnloop''s event), slack (incoming-webhook text) or alertmanager (webhook version 4)';
COMMENT ON COLUMN ml.channels.secret IS 'Standard Webhooks signing secret (whsec_...), or NULL for unsigned requests; readable only by the extension''s owner';
COMMENT ON COLUMN ml.channels.enabled IS 'false: events for the channel are not queued';
COMMENT ON COLUMN ml.channels.created_by IS 'Role that created the channel';
COMMENT ON COLUMN ml.channels.created_at IS 'When the channel was created';

/*
 * Events waiting for delivery, written in the transaction that caused them
 * (committed means it will be sent, rolled back means it never was), and
 * kept after delivery as the record of what was sent.
 */
CREATE TABLE ml.webhook_outbox (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id         uuid NOT NULL DEFAULT pg_catalog.gen_random_uuid() UNIQUE,
    channel          text NOT NULL REFERENCES ml.channels (name) ON DELETE CASCADE,
    event_type       text NOT NULL CHECK (event_type <> ''),
    body             text NOT NULL,
    state            text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    created_at       timestamptz NOT NULL DEFAULT pg_catalog.now(),
    delivered_at     timestamptz,
    last_error       text
);
COMMENT ON TABLE ml.webhook_outbox IS 'Webhook events: queued in the transaction that caused them, sent at least once by the delivery worker';
COMMENT ON COLUMN ml.webhook_outbox.id IS 'Queue order';
COMMENT ON COLUMN ml.webhook_outbox.event_id IS 'Sent as webhook-id on every attempt, so receivers can drop duplicates';
COMMENT ON COLUMN ml.webhook_outbox.channel IS 'Channel it is sent to';
COMMENT ON COLUMN ml.webhook_outbox.event_type IS 'What happened, e.g. alert.firing, alert.resolved';
COMMENT ON COLUMN ml.webhook_outbox.body IS 'The request body exactly as sent (JSON in the channel''s shape)';
COMMENT ON COLUMN ml.webhook_outbox.state IS 'pending (to send or retry), delivered (a 2xx answer) or dead (attempts exhausted or refused)';
COMMENT ON COLUMN ml.webhook_outbox.attempts IS 'Attempts made so far';
COMMENT ON COLUMN ml.webhook_outbox.next_attempt_at IS 'Earliest time of the next attempt (backoff)';
COMMENT ON COLUMN ml.webhook_outbox.created_at IS 'When the event was queued';
COMMENT ON COLUMN ml.webhook_outbox.delivered_at IS 'When a receiver accepted it';
COMMENT ON COLUMN ml.webhook_outbox.last_error IS 'Why the last attempt failed';

/* Every delivery attempt, successful or not. */
CREATE TABLE ml.webhook_deliveries (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    outbox_id    bigint NOT NULL REFERENCES ml.webhook_outbox (id) ON DELETE CASCADE,
    event_id     uuid NOT NULL,
    channel      text NOT NULL,
    attempt      integer NOT NULL CHECK (attempt > 0),
    started_at   timestamptz NOT NULL,
    duration_ms  double precision,
    http_status  integer,
    status       text NOT NULL CHECK (status IN ('delivered', 'retry', 'failed', 'dead')),
    error        text
);
CREATE INDEX webhook_deliveries_outbox_idx ON ml.webhook_deliveries (outbox_id, attempt);
COMMENT ON TABLE ml.webhook_deliveries IS 'Log of every webhook delivery attempt';
COMMENT ON COLUMN ml.webhook_deliveries.id IS 'Attempt id, in order';
COMMENT ON COLUMN ml.webhook_deliveries.outbox_id IS 'The event attempted (ml.webhook_outbox)';
COMMENT ON COLUMN ml.webhook_deliveries.event_id IS 'The event''s webhook-id';
COMMENT ON COLUMN ml.webhook_deliveries.channel IS 'Channel attempted';
COMMENT ON COLUMN ml.webhook_deliveries.attempt IS '1 for the first attempt, 2 for the first retry, ...';
COMMENT ON COLUMN ml.webhook_deliveries.started_at IS 'When the attempt started';
COMMENT ON COLUMN ml.webhook_deliveries.duration_ms IS 'Time until the answer, the error or the timeout';
COMMENT ON COLUMN ml.webhook_deliveries.http_status IS 'HTTP status answered, NULL when none came';
COMMENT ON COLUMN ml.webhook_deliveries.status IS 'delivered (2xx), retry (5xx, 429, timeout, connection error), failed (other 4xx, not retried) or dead (the last attempt allowed)';
COMMENT ON COLUMN ml.webhook_deliveries.error IS 'What went wrong, in words';
COMMENT ON INDEX ml.webhook_deliveries_outbox_idx IS 'The attempts of one event';
COMMENT ON INDEX ml.webhook_outbox_event_id_key IS 'An event id names one event';

/* ---------------------------------------------------------------------- */
/* Issue 11, prometheus: ml.prometheus_metrics, the samples exporters read */
/* ---------------------------------------------------------------------- */

CREATE FUNCTION ml.serving_latency_buckets()
RETURNS TABLE (database oid, model text, function text, le double precision[], counts bigint[],
               sum_seconds double precision, count bigint)
AS 'MODULE_PATHNAME', 'learnloop_serving_latency_buckets'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION ml.serving_latency_buckets() IS
    'Serving latency per database, model and function as a Prometheus histogram in seconds: the fixed le bounds (10 us .. 10 s), the cumulative count at each, the sum and the count (the +Inf bucket); as postgres_exporter''s HISTOGRAM columns read it';
REVOKE EXECUTE ON FUNCTION ml.serving_latency_buckets() FROM PUBLIC;

/*
 * One row per Prometheus sample of the current database, named as
 * Prometheus asks (learnloop_ prefix, seconds, _total counters, a cumulative
 * histogram); labels is a jsonb object of strings.  Every sample carries
 * database = the current database, so that exporters scraping several
 * databases never emit one series twice; ml.serving_stats' rows of other
 * databases are theirs to report.  docs/monitoring.md lists the metrics.
 */
CREATE VIEW ml.prometheus_metrics AS
    /* serving counters: each entry read once, so the three agree */
    SELECT v.name,
           pg_catalog.jsonb_build_object('database', pg_catalog.current_database(),
                                         'model', s.model, 'function', s.function) AS labels,
           v.value
      FROM ml.serving_stats() s
      CROSS JOIN LATERAL (VALUES ('learnloop_serving_calls_total', s.calls::double precision),
                                 ('learnloop_serving_errors_total', s.errors::double precision),
                                 ('learnloop_serving_fallbacks_total',
                                  CASE WHEN s.function = 'decide' THEN s.fallbacks::double precision END)) v (name, value)
     WHERE s.database = (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database())
       AND v.value IS NOT NULL
    UNION ALL
    /* serving latency: cumulative buckets, +Inf equal to _count, _sum in seconds */
    SELECT 'learnloop_serving_latency_seconds' || v.suffix,
           pg_catalog.jsonb_build_object('database', pg_catalog.current_database(),
                                         'model', b.model, 'function', b.function) || v.le,
           v.value
      FROM ml.serving_latency_buckets() b
      CROSS JOIN LATERAL (SELECT '_bucket', pg_catalog.jsonb_build_object('le', u.le::text), u.count::double precision
                            FROM unnest(b.le, b.counts) u (le, count)
                          UNION ALL
                          VALUES ('_bucket', '{"le": "+Inf"}'::jsonb, b.count::double precision),
                                 ('_sum', '{}', b.sum_seconds),
                                 ('_count', '{}', b.count::double precision)) v (suffix, le, value)
     WHERE b.database = (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database())
    UNION ALL
    /*
     * decisions recorded (rows of ml.MLTrainingData), and those with an
     * outcome: a scan each, so a constant name per branch, which a query
     * for other names prunes
     */
    SELECT 'learnloop_decisions_total',
           pg_catalog.jsonb_build_object('database', pg_catalog.current_database(), 'task', r.task, 'source', r.source),
           pg_catalog.count(*)::double precision
      FROM ml.MLTrainingData r GROUP BY r.task, r.source
    UNION ALL
    SELECT 'learnloop_decisions_with_outcome_total',
           pg_catalog.jsonb_build_object('database', pg_catalog.current_database(), 'task', r.task, 'source', r.source),
           pg_catalog.count(r.outcome)::double precision
      FROM ml.MLTrainingData r GROUP BY r.task, r.source
    UNION ALL
    /*
     * ml.monitor's figures of each model's latest window, overall slice
     * (drift per feature): one gauge per metric, _ms turned into _seconds;
     * of two windows ending together the shorter, of two versions in one
     * window the newer.  A name Prometheus would refuse or misread (a
     * reserved suffix) is left out, and so is a NULL (not judged) value.
     */
    SELECT 'learnloop_monitoring_' || CASE WHEN m.metric LIKE '%\_ms' THEN pg_catalog.left(m.metric, -3) || '_seconds'
                                           ELSE m.metric END,
           pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object('database', pg_catalog.current_database(),
                                                                      'model', m.model_name,
                                                                      'version', m.model_version::text,
                                                                      'feature', m.feature)),
           CASE WHEN m.metric LIKE '%\_ms' THEN m.value / 1000 ELSE m.value END
      FROM (SELECT DISTINCT ON (w.metric, w.feature, w.model_name) w.model_name, w.model_version, w.metric, w.feature, w.value
              FROM (SELECT DISTINCT n.name FROM ml.models n) n
              CROSS JOIN LATERAL (SELECT pg_catalog.max(l.period_end) AS period_end FROM ml.MLMonitoringMetrics l
                                   WHERE l.model_name = n.name AND l.metric IS NOT NULL) latest
              JOIN ml.MLMonitoringMetrics w ON w.model_name = n.name AND w.period_end = latest.period_end
             WHERE w.metric ~ '^[a-z][a-z0-9_]*$' AND w.metric !~ '_(total|count|sum|bucket|created|info)$'
               AND w.experiment IS NULL AND w.variant IS NULL AND w.decided_by IS NULL
             ORDER BY w.metric, w.feature, w.model_name, w.period_start DESC, w.model_version DESC NULLS LAST, w.id DESC) m
     WHERE m.value IS NOT NULL
    UNION ALL
    /* when each model's latest window ended: a monitor that stopped running shows here */
    SELECT 'learnloop_monitoring_window_end_timestamp_seconds',
           pg_catalog.jsonb_build_object('database', pg_catalog.current_database(), 'model', n.name),
           pg_catalog.date_part('epoch', latest.period_end)
      FROM (SELECT DISTINCT n.name FROM ml.models n) n
      CROSS JOIN LATERAL (SELECT pg_catalog.max(l.period_end) AS period_end FROM ml.MLMonitoringMetrics l
                           WHERE l.model_name = n.name AND l.metric IS NOT NULL) latest
     WHERE latest.period_end IS NOT NULL
    UNION ALL
    /* the webhook outbox by channel and state, every state of every channel (0 included) */
    SELECT 'learnloop_webhook_outbox_events',
           pg_catalog.jsonb_build_object('database', pg_catalog.current_database(), 'channel', c.name, 'state', s.state),
           pg_catalog.count(o.id)::double precision
      FROM ml.channels c
      CROSS JOIN (VALUES ('pending'), ('delivered'), ('dead')) s (state)
      LEFT JOIN ml.webhook_outbox o ON o.channel = c.name AND o.state = s.state
     GROUP BY c.name, s.state
    UNION ALL
    /* the oldest event still waiting, per channel: a delivery that is stuck shows here */
    SELECT 'learnloop_webhook_outbox_oldest_pending_timestamp_seconds',
           pg_catalog.jsonb_build_object('database', pg_catalog.current_database(), 'channel', o.channel),
           pg_catalog.date_part('epoch', pg_catalog.min(o.created_at))
      FROM ml.webhook_outbox o
     WHERE o.state = 'pending'
     GROUP BY o.channel
    UNION ALL
    /* delivery attempts by channel and status, every status of every channel (0 included) */
    SELECT 'learnloop_webhook_deliveries_total',
           pg_catalog.jsonb_build_object('database', pg_catalog.current_database(), 'channel', c.name, 'status', s.status),
           pg_catalog.count(d.id)::double precision
      FROM ml.channels c
      CROSS JOIN (VALUES ('delivered'), ('retry'), ('failed'), ('dead')) s (status)
      LEFT JOIN ml.webhook_deliveries d ON d.channel = c.name AND d.status = s.status
     GROUP BY c.name, s.status;
COMMENT ON VIEW ml.prometheus_metrics IS
    'Prometheus samples of the current database, one row per sample: serving calls, errors, fallbacks and latency histogram, decisions recorded, the latest monitoring figures per model, the webhook outbox and deliveries; the configurations in contrib/prometheus/ read it';
COMMENT ON COLUMN ml.prometheus_metrics.name IS 'Metric name: learnloop_ prefix, base units (seconds), _total for counters, _bucket/_sum/_count for the histogram';
COMMENT ON COLUMN ml.prometheus_metrics.labels IS 'Label names and values (all strings) as a jsonb object; always database, never a user id';
COMMENT ON COLUMN ml.prometheus_metrics.value IS 'The sample''s value';

/* Issue 11, alerts: rules over the monitored metrics, their states and     */
/* history, the channels' functions, and the payloads queued in the outbox  */
/* ---------------------------------------------------------------------- */

/* The checks ml.create_channel runs (src/notify/channel_check.c). */
CREATE FUNCTION ml.check_channel_url(url text)
RETURNS text
AS 'MODULE_PATHNAME', 'learnloop_check_channel_url'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION ml.check_channel_url(text) IS
    'The URL if a webhook channel may have it (http or https, a host, no credentials, no literal address webhooks are never sent to), else an error; warns of a loopback or private address';
REVOKE EXECUTE ON FUNCTION ml.check_channel_url(text) FROM PUBLIC;

CREATE FUNCTION ml.channel_secret(secret text)
RETURNS text
AS 'MODULE_PATHNAME', 'learnloop_channel_secret'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION ml.channel_secret(text) IS
    'What ml.create_channel stores for its secret argument: NULL, a new random whsec_ secret for ''generate'', or the given one once it has the Standard Webhooks form';
REVOKE EXECUTE ON FUNCTION ml.channel_secret(text) FROM PUBLIC;

/* Who called a SECURITY DEFINER function (src/common/outer_role.c): ml.create_channel and ml.create_alert record it. */
CREATE FUNCTION ml.outer_role()
RETURNS name
AS 'MODULE_PATHNAME', 'learnloop_outer_role'
LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION ml.outer_role() IS
    'The role in effect outside any function (SET ROLE counts, SECURITY DEFINER does not): who called ml.create_channel or ml.create_alert';
REVOKE EXECUTE ON FUNCTION ml.outer_role() FROM PUBLIC;

/* The SRM alert rule reads this: the same test as ml.experiment_statistics' srm_p_value, without a metric. */
CREATE FUNCTION ml.experiment_srm(experiment text)
RETURNS double precision
AS 'MODULE_PATHNAME', 'learnloop_experiment_srm'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION ml.experiment_srm(text) IS
    'Sample ratio mismatch p-value of an experiment''s exposed units against its weights (chi-square, as srm_p_value in ml.experiment_statistics); NULL for Thompson sampling or no units';
REVOKE EXECUTE ON FUNCTION ml.experiment_srm(text) FROM PUBLIC;

/*
 * The newest window of a model's metric (overall slice): what each alert
 * rule judges and what ml.monitoring shows, found without reading a
 * model's history (a forward scan, newest first).
 */
CREATE INDEX mlmonitoringmetrics_latest_idx ON ml.MLMonitoringMetrics
    (model_name, metric, COALESCE(feature, ''), period_end DESC, period_start DESC,
     COALESCE(model_version, -1) DESC, id DESC)
    WHERE metric IS NOT NULL AND experiment IS NULL AND variant IS NULL AND decided_by IS NULL;
COMMENT ON INDEX ml.mlmonitoringmetrics_latest_idx IS
    'Newest window first per model, metric and feature, overall slice only: ml.evaluate_alerts and ml.monitoring';

/* Alert rules. */
CREATE TABLE ml.alerts (
    name             text PRIMARY KEY CHECK (name <> '' AND pg_catalog.octet_length(name) <= 256),
    model            text,
    metric           text NOT NULL CHECK (metric <> ''),
    feature          text,
    experiment       text,
    condition        text NOT NULL CHECK (condition IN ('>', '>=', '<', '<=', '=', '<>')),
    threshold        double precision NOT NULL
                     CHECK (threshold NOT IN ('NaN', 'Infinity', '-Infinity')),
    for_windows      integer NOT NULL DEFAULT 1 CHECK (for_windows BETWEEN 1 AND 1000),
    severity         text NOT NULL DEFAULT 'warning' CHECK (severity IN ('info', 'warning', 'critical')),
    channel          text REFERENCES ml.channels (name),
    repeat_interval  interval NOT NULL DEFAULT '4 hours' CHECK (repeat_interval > '0'),
    created_by       name NOT NULL DEFAULT CURRENT_USER,
    created_at       timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CHECK (CASE WHEN metric = 'srm_p_value' THEN model IS NULL AND feature IS NULL
                ELSE model IS NOT NULL AND experiment IS NULL END)
);
COMMENT ON TABLE ml.alerts IS 'Alert rules over the monitored metrics (ml.create_alert), evaluated by ml.evaluate_alerts';
COMMENT ON COLUMN ml.alerts.name IS 'Rule name (Alertmanager''s alertname)';
COMMENT ON COLUMN ml.alerts.model IS 'Model whose ml.MLMonitoringMetrics rows are judged; NULL for the SRM rule';
COMMENT ON COLUMN ml.alerts.metric IS 'Metric judged (docs/monitoring.md lists them), or srm_p_value: the built-in sample ratio mismatch rule over experiments';
COMMENT ON COLUMN ml.alerts.feature IS 'Feature of a per-feature drift metric; NULL for the others';
COMMENT ON COLUMN ml.alerts.experiment IS 'SRM rule only: the experiment watched, NULL for every running one';
COMMENT ON COLUMN ml.alerts.condition IS 'How value compares with threshold when the rule is breached: >, >=, <, <=, = or <>';
COMMENT ON COLUMN ml.alerts.threshold IS 'The value compared with (finite)';
COMMENT ON COLUMN ml.alerts.for_windows IS 'Consecutive breaching windows before pending becomes firing';
COMMENT ON COLUMN ml.alerts.severity IS 'info, warning or critical (Alertmanager''s severity label)';
COMMENT ON COLUMN ml.alerts.channel IS 'Channel notified of firing and resolved; NULL: states and events only';
COMMENT ON COLUMN ml.alerts.repeat_interval IS 'While firing, notified again after this long';
COMMENT ON COLUMN ml.alerts.created_by IS 'Role that created the rule';
COMMENT ON COLUMN ml.alerts.created_at IS 'When the rule was created';

/* Where each rule stands: one row per rule, and per experiment for the SRM rule. */
CREATE TABLE ml.alert_states (
    alert             text NOT NULL REFERENCES ml.alerts (name) ON DELETE CASCADE,
    subject           text NOT NULL DEFAULT '',
    state             text NOT NULL DEFAULT 'inactive' CHECK (state IN ('inactive', 'pending', 'firing')),
    breaches          integer NOT NULL DEFAULT 0 CHECK (breaches >= 0),
    value             double precision,
    window_start      timestamptz,
    window_end        timestamptz,
    active_since      timestamptz,
    last_notified_at  timestamptz,
    updated_at        timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (alert, subject)
);
COMMENT ON TABLE ml.alert_states IS 'State of each alert rule (inactive, pending, firing), kept by ml.evaluate_alerts';
COMMENT ON COLUMN ml.alert_states.alert IS 'Rule (ml.alerts)';
COMMENT ON COLUMN ml.alert_states.subject IS 'What the state is about within the rule: the experiment for the SRM rule, '''' for a model''s metric';
COMMENT ON COLUMN ml.alert_states.state IS 'inactive (ok), pending (breached, fewer than for_windows windows yet) or firing';
COMMENT ON COLUMN ml.alert_states.breaches IS 'Consecutive breaching windows so far (a window without a value neither adds nor resets)';
COMMENT ON COLUMN ml.alert_states.value IS 'Value of the last window judged; NULL when it was not measured';
COMMENT ON COLUMN ml.alert_states.window_start IS 'Start of the last window judged';
COMMENT ON COLUMN ml.alert_states.window_end IS 'End of the last window judged: an older or equal window is not judged again';
COMMENT ON COLUMN ml.alert_states.active_since IS 'End of the first breaching window of the current episode (startsAt); NULL when inactive';
COMMENT ON COLUMN ml.alert_states.last_notified_at IS 'When the episode''s last firing or repeat event was made (the repeat interval counts from it)';
COMMENT ON COLUMN ml.alert_states.updated_at IS 'When the state was last changed';

/* History of every transition and repeat notification. */
CREATE TABLE ml.alert_events (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id      uuid UNIQUE,
    alert         text NOT NULL,
    subject       text NOT NULL,
    model         text,
    metric        text NOT NULL,
    feature       text,
    experiment    text,
    severity      text NOT NULL,
    condition     text NOT NULL,
    threshold     double precision NOT NULL,
    for_windows   integer NOT NULL,
    value         double precision,
    breaches      integer NOT NULL,
    from_state    text NOT NULL CHECK (from_state IN ('inactive', 'pending', 'firing')),
    to_state      text NOT NULL CHECK (to_state IN ('inactive', 'pending', 'firing', 'resolved')),
    repeat        boolean NOT NULL DEFAULT false,
    window_start  timestamptz,
    window_end    timestamptz,
    starts_at     timestamptz,
    ends_at       timestamptz,
    channel       text,
    at            timestamptz NOT NULL DEFAULT pg_catalog.now()
);
CREATE INDEX alert_events_alert_idx ON ml.alert_events (alert, id);
COMMENT ON TABLE ml.alert_events IS 'Alert history: every state transition and repeat notification, written with the monitoring run that caused it';
COMMENT ON COLUMN ml.alert_events.id IS 'Event order';
COMMENT ON COLUMN ml.alert_events.event_id IS 'ml.webhook_outbox.event_id of the notification queued for it; NULL when none was (pending, cleared, no channel, channel disabled)';
COMMENT ON COLUMN ml.alert_events.alert IS 'Rule name (kept when the rule is dropped)';
COMMENT ON COLUMN ml.alert_events.subject IS 'ml.alert_states.subject: the experiment for the SRM rule, '''' otherwise';
COMMENT ON COLUMN ml.alert_events.model IS 'Model of the rule; NULL for the SRM rule';
COMMENT ON COLUMN ml.alert_events.metric IS 'Metric of the rule';
COMMENT ON COLUMN ml.alert_events.feature IS 'Feature of the rule, if any';
COMMENT ON COLUMN ml.alert_events.experiment IS 'Experiment judged by the SRM rule';
COMMENT ON COLUMN ml.alert_events.severity IS 'The rule''s severity then';
COMMENT ON COLUMN ml.alert_events.condition IS 'The rule''s condition then';
COMMENT ON COLUMN ml.alert_events.threshold IS 'The rule''s threshold then';
COMMENT ON COLUMN ml.alert_events.for_windows IS 'The rule''s for_windows then';
COMMENT ON COLUMN ml.alert_events.value IS 'Value of the window judged';
COMMENT ON COLUMN ml.alert_events.breaches IS 'Consecutive breaching windows after this window';
COMMENT ON COLUMN ml.alert_events.from_state IS 'State before';
COMMENT ON COLUMN ml.alert_events.to_state IS 'State after: pending, firing, resolved (firing ended) or inactive (pending ended without firing)';
COMMENT ON COLUMN ml.alert_events.repeat IS 'true: a repeat notification of an alert still firing, not a transition';
COMMENT ON COLUMN ml.alert_events.window_start IS 'Start of the window judged';
COMMENT ON COLUMN ml.alert_events.window_end IS 'End of the window judged';
COMMENT ON COLUMN ml.alert_events.starts_at IS 'When the episode began: end of its first breaching window';
COMMENT ON COLUMN ml.alert_events.ends_at IS 'resolved: end of the first window that no longer breached';
COMMENT ON COLUMN ml.alert_events.channel IS 'The rule''s channel then';
COMMENT ON COLUMN ml.alert_events.at IS 'When the event was made (the evaluating transaction''s time)';
COMMENT ON INDEX ml.alert_events_alert_idx IS 'History of one rule';
COMMENT ON INDEX ml.alert_events_event_id_key IS 'One alert event per notification';

/* RFC 3339 in UTC, as Alertmanager writes it (milliseconds); NULL for a time it cannot write. */
CREATE FUNCTION ml.rfc3339(t timestamptz)
RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN CASE WHEN t >= '0001-01-01 00:00:00+00' AND t < '10000-01-01 00:00:00+00'
            THEN to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') END;
COMMENT ON FUNCTION ml.rfc3339(timestamptz) IS
    'A time as RFC 3339 in UTC with milliseconds (2026-11-30T19:00:00.000Z), as webhook payloads carry it; NULL outside years 1 to 9999 (infinity included), which RFC 3339 cannot write';
REVOKE EXECUTE ON FUNCTION ml.rfc3339(timestamptz) FROM PUBLIC;

/* The one-line summary every payload carries (Slack's text, Alertmanager's summary). */
CREATE FUNCTION ml.alert_summary(ev ml.alert_events)
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN format('%s %s [%s]: %s %s = %s %s',
              upper(CASE WHEN ev.to_state = 'resolved' THEN 'resolved' ELSE 'firing' END),
              ev.alert, ev.severity,
              CASE WHEN ev.experiment IS NOT NULL THEN 'experiment ' || ev.experiment ELSE 'model ' || ev.model END,
              ev.metric || coalesce(' (feature ' || ev.feature || ')', ''),
              -- four significant digits, as people read them (the event's value field keeps them all)
              CASE WHEN ev.value IS NULL THEN 'not measured'
                   WHEN ev.value = 0 OR NOT ev.value BETWEEN -1e15 AND 1e15 THEN ev.value::text
                   WHEN abs(ev.value) < 1e-4 THEN trim(to_char(ev.value, '9.999EEEE'))
                   ELSE trim_scale(round(ev.value::numeric, greatest(0, 3 - floor(log(abs(ev.value)))::int)))::text
              END,
              CASE WHEN ev.to_state = 'resolved'
                   THEN format('(alert when %s %s)', ev.condition, ev.threshold)
                   ELSE format('%s %s for %s window%s', ev.condition, ev.threshold, ev.breaches,
                               CASE WHEN ev.breaches = 1 THEN '' ELSE 's' END)
              END)
       || CASE WHEN ev.window_end IS NULL THEN ''
               ELSE format(', window %s to %s', ml.rfc3339(ev.window_start), ml.rfc3339(ev.window_end)) END
       || CASE WHEN ev.repeat THEN ' (still firing)' ELSE '' END;
COMMENT ON FUNCTION ml.alert_summary(ml.alert_events) IS
    'One readable line about an alert event: status, rule, severity, what was measured, its value against the condition, the window';
REVOKE EXECUTE ON FUNCTION ml.alert_summary(ml.alert_events) FROM PUBLIC;

/*
 * The request body of an alert event in a channel's shape: learnloop's JSON
 * event, Slack's incoming-webhook text, or Alertmanager's webhook version 4.
 * Written once, at evaluation, so every retry sends the same bytes.
 */
CREATE FUNCTION ml.alert_payload(kind text, channel text, event_type text, event_id uuid, ev ml.alert_events)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    status text := CASE WHEN ev.to_state = 'resolved' THEN 'resolved' ELSE 'firing' END;
    summary text := ml.alert_summary(ev);
    labels jsonb;
    annotations jsonb;
BEGIN
    CASE kind
    WHEN 'json' THEN
        RETURN jsonb_build_object(
            'type', event_type,
            'event_id', event_id, 'alert', ev.alert, 'status', status, 'repeat', ev.repeat,
            'severity', ev.severity, 'model', ev.model, 'metric', ev.metric, 'feature', ev.feature,
            'experiment', ev.experiment, 'condition', ev.condition, 'threshold', ev.threshold,
            'value', ev.value, 'for_windows', ev.for_windows, 'breaching_windows', ev.breaches,
            'window', jsonb_build_object('start', ml.rfc3339(ev.window_start), 'end', ml.rfc3339(ev.window_end)),
            'starts_at', ml.rfc3339(ev.starts_at), 'ends_at', ml.rfc3339(ev.ends_at),
            'summary', summary, 'occurred_at', ml.rfc3339(ev.at))::text;
    WHEN 'slack' THEN
        -- Slack reads &, < and > in text as markup: its documented escapes
        RETURN jsonb_build_object('text', replace(replace(replace(summary, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'))::text;
    WHEN 'alertmanager' THEN
        labels := jsonb_strip_nulls(jsonb_build_object(
            'alertname', ev.alert, 'severity', ev.severity, 'model', ev.model, 'metric', ev.metric,
            'feature', ev.feature, 'experiment', ev.experiment, 'source', 'learnloop'));
        annotations := jsonb_strip_nulls(jsonb_build_object(
            'summary', summary, 'value', ev.value::text,
            'threshold', ev.condition || ' ' || ev.threshold::text,
            'windows', ev.breaches::text || ' of ' || ev.for_windows::text));
        RETURN jsonb_build_object(
            'version', '4',
            'groupKey', format('{}:{alertname=%s}', to_jsonb(ev.alert)::text),
            'truncatedAlerts', 0,
            'status', status,
            'receiver', channel,
            'groupLabels', jsonb_build_object('alertname', ev.alert),
            'commonLabels', labels,
            'commonAnnotations', annotations,
            'externalURL', '',
            'alerts', jsonb_build_array(jsonb_build_object(
                'status', status, 'labels', labels, 'annotations', annotations,
                'startsAt', ml.rfc3339(coalesce(ev.starts_at, ev.at)),
                -- Alertmanager's zero time: not ended yet
                'endsAt', coalesce(ml.rfc3339(ev.ends_at), '0001-01-01T00:00:00Z'),
                'generatorURL', '',
                'fingerprint', left(md5(labels::text), 16))))::text;
    END CASE;
END
$$;
COMMENT ON FUNCTION ml.alert_payload(text, text, text, uuid, ml.alert_events) IS
    'Request body of an alert event for a channel kind: json (learnloop''s event), slack ({"text": ...}) or alertmanager (webhook version 4); docs/monitoring.md describes each field';
REVOKE EXECUTE ON FUNCTION ml.alert_payload(text, text, text, uuid, ml.alert_events) FROM PUBLIC;

/* Records an alert event and, when it notifies and its channel is enabled, queues its body. */
CREATE FUNCTION ml.record_alert_event(ev ml.alert_events, notify boolean)
RETURNS ml.alert_events
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    ch ml.channels;
    event_type text := CASE WHEN ev.to_state = 'resolved' THEN 'alert.resolved' ELSE 'alert.firing' END;
BEGIN
    ev.event_id := NULL;
    ev.at := now();
    IF notify THEN
        SELECT c.* INTO ch FROM ml.channels c WHERE c.name = ev.channel AND c.enabled;
        IF FOUND THEN
            ev.event_id := gen_random_uuid();
            INSERT INTO ml.webhook_outbox (event_id, channel, event_type, body)
                VALUES (ev.event_id, ch.name, event_type,
                        ml.alert_payload(ch.kind, ch.name, event_type, ev.event_id, ev));
        END IF;
    END IF;
    INSERT INTO ml.alert_events (event_id, alert, subject, model, metric, feature, experiment, severity,
                                 condition, threshold, for_windows, value, breaches, from_state, to_state,
                                 repeat, window_start, window_end, starts_at, ends_at, channel, at)
        VALUES (ev.event_id, ev.alert, ev.subject, ev.model, ev.metric, ev.feature, ev.experiment, ev.severity,
                ev.condition, ev.threshold, ev.for_windows, ev.value, ev.breaches, ev.from_state, ev.to_state,
                ev.repeat, ev.window_start, ev.window_end, ev.starts_at, ev.ends_at, ev.channel, ev.at)
        RETURNING * INTO ev;
    RETURN ev;
END
$$;
COMMENT ON FUNCTION ml.record_alert_event(ml.alert_events, boolean) IS
    'Appends an alert event to ml.alert_events and, if it notifies and the rule''s channel is enabled, its body to ml.webhook_outbox (same event id)';
REVOKE EXECUTE ON FUNCTION ml.record_alert_event(ml.alert_events, boolean) FROM PUBLIC;

/*
 * One rule (and subject) judged on one window: the state machine.
 *   breach (value meets the condition): inactive -> pending (or firing when
 *     for_windows is 1), pending -> firing after for_windows consecutive
 *     breaching windows;
 *   no breach: firing -> resolved (notified), pending -> inactive (not);
 *   value NULL or NaN (not measured): neither; the count stays as it was;
 *   a window not newer than the last one judged is not judged again;
 *   out of scope (the SRM rule's experiment stopped or was deleted): no breach;
 *   still firing and repeat_interval since the last notification: notified again.
 */
CREATE FUNCTION ml.judge_alert(rule ml.alerts, subject text, value double precision,
                               window_start timestamptz, window_end timestamptz,
                               in_scope boolean DEFAULT true)
RETURNS SETOF ml.alert_events
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    st ml.alert_states;
    ev ml.alert_events;
    measured boolean := value IS NOT NULL AND value <> 'NaN';
    breach boolean;
    next_state text;
BEGIN
    INSERT INTO ml.alert_states AS s (alert, subject) VALUES (rule.name, judge_alert.subject)
        ON CONFLICT DO NOTHING;
    SELECT s.* INTO STRICT st FROM ml.alert_states s
     WHERE s.alert = rule.name AND s.subject = judge_alert.subject FOR UPDATE;

    ev.alert := rule.name; ev.subject := judge_alert.subject; ev.model := rule.model;
    ev.metric := rule.metric; ev.feature := rule.feature;
    ev.experiment := CASE WHEN rule.metric = 'srm_p_value' THEN judge_alert.subject END;
    ev.severity := rule.severity; ev.condition := rule.condition; ev.threshold := rule.threshold;
    ev.for_windows := rule.for_windows; ev.channel := rule.channel; ev.repeat := false;
    ev.value := value; ev.window_start := window_start; ev.window_end := window_end;
    ev.from_state := st.state;

    IF st.window_end IS NULL OR judge_alert.window_end > st.window_end THEN
        st.window_start := judge_alert.window_start;
        st.window_end := judge_alert.window_end;
        st.value := judge_alert.value;
        breach := CASE WHEN NOT in_scope THEN false
                       WHEN NOT measured THEN NULL
                       WHEN rule.condition = '>' THEN value > rule.threshold
                       WHEN rule.condition = '>=' THEN value >= rule.threshold
                       WHEN rule.condition = '<' THEN value < rule.threshold
                       WHEN rule.condition = '<=' THEN value <= rule.threshold
                       WHEN rule.condition = '=' THEN value = rule.threshold
                       WHEN rule.condition = '<>' THEN value <> rule.threshold END;
        IF breach IS NOT NULL THEN
            IF breach THEN
                st.breaches := st.breaches + 1;
                st.active_since := coalesce(st.active_since, judge_alert.window_end);
                next_state := CASE WHEN st.breaches >= rule.for_windows THEN 'firing' ELSE 'pending' END;
            ELSE
                st.breaches := 0;
                next_state := 'inactive';
            END IF;
            IF next_state <> st.state THEN
                ev.breaches := st.breaches;
                ev.starts_at := st.active_since;
                ev.to_state := CASE WHEN next_state = 'inactive' AND st.state = 'firing' THEN 'resolved'
                                    ELSE next_state END;
                ev.ends_at := CASE WHEN ev.to_state = 'resolved' THEN judge_alert.window_end END;
                RETURN NEXT ml.record_alert_event(ev, ev.to_state IN ('firing', 'resolved'));
                IF next_state = 'firing' THEN
                    st.last_notified_at := now();
                END IF;
                IF next_state = 'inactive' THEN
                    st.active_since := NULL;
                    st.last_notified_at := NULL;
                END IF;
                st.state := next_state;
            END IF;
        END IF;
        st.updated_at := now();
    END IF;

    IF st.state = 'firing' AND ev.from_state = 'firing' AND st.last_notified_at + rule.repeat_interval <= now() THEN
        ev.breaches := st.breaches; ev.starts_at := st.active_since; ev.ends_at := NULL;
        ev.to_state := 'firing'; ev.repeat := true;
        ev.value := st.value; ev.window_start := st.window_start; ev.window_end := st.window_end;
        RETURN NEXT ml.record_alert_event(ev, true);
        st.last_notified_at := now();
        st.updated_at := now();
    END IF;

    UPDATE ml.alert_states s
       SET state = st.state, breaches = st.breaches, value = st.value, window_start = st.window_start,
           window_end = st.window_end, active_since = st.active_since,
           last_notified_at = st.last_notified_at, updated_at = st.updated_at
     WHERE s.alert = rule.name AND s.subject = judge_alert.subject;
END
$$;
COMMENT ON FUNCTION ml.judge_alert(ml.alerts, text, double precision, timestamptz, timestamptz, boolean) IS
    'Judges one alert rule on one window: moves its state (pending, firing, resolved), records the events and queues their notifications';
REVOKE EXECUTE ON FUNCTION ml.judge_alert(ml.alerts, text, double precision, timestamptz, timestamptz, boolean) FROM PUBLIC;

/*
 * Evaluates the rules of a model (NULL: every model) on the newest window of
 * their metric, and the SRM rules on the experiments; ml.monitor calls it at
 * the end of its run, in its transaction.
 */
CREATE FUNCTION ml.evaluate_alerts(model text DEFAULT NULL)
RETURNS SETOF ml.alert_events
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    rule ml.alerts;
    m record;
    e record;
BEGIN
    FOR rule IN SELECT a.* FROM ml.alerts a
                 WHERE evaluate_alerts.model IS NULL OR a.model = evaluate_alerts.model
                    OR a.metric = 'srm_p_value'
                 ORDER BY a.name LOOP
        IF rule.metric = 'srm_p_value' THEN
            -- the running experiments, and those stopped or deleted while their alert was
            -- active: out of the rule's scope, their alert resolves
            FOR e IN SELECT x.name AS subject, x.status = 'running' AS running, true AS present,
                            coalesce(x.started_at, x.created_at) AS started
                       FROM ml.experiments x
                      WHERE (rule.experiment IS NULL OR x.name = rule.experiment)
                        AND (x.status = 'running'
                             OR EXISTS (SELECT FROM ml.alert_states s
                                         WHERE s.alert = rule.name AND s.subject = x.name AND s.state <> 'inactive'))
                     UNION ALL
                     SELECT s.subject, false, false, NULL
                       FROM ml.alert_states s
                      WHERE s.alert = rule.name AND s.state <> 'inactive'
                        AND NOT EXISTS (SELECT FROM ml.experiments x WHERE x.name = s.subject)
                      ORDER BY 1 LOOP
                RETURN QUERY SELECT * FROM ml.judge_alert(
                    rule, e.subject, CASE WHEN e.present THEN ml.experiment_srm(e.subject) END,
                    coalesce(e.started, now()), now(), e.running);
            END LOOP;
        ELSE
            SELECT r.value, r.period_start, r.period_end INTO m
              FROM ml.MLMonitoringMetrics r
             WHERE r.model_name = rule.model AND r.metric = rule.metric
               AND COALESCE(r.feature, '') = COALESCE(rule.feature, '')
               AND r.experiment IS NULL AND r.variant IS NULL AND r.decided_by IS NULL
             ORDER BY r.period_end DESC, r.period_start DESC, COALESCE(r.model_version, -1) DESC, r.id DESC
             LIMIT 1;
            IF FOUND THEN
                RETURN QUERY SELECT * FROM ml.judge_alert(rule, '', m.value, m.period_start, m.period_end);
            END IF;
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION ml.evaluate_alerts(text) IS
    'Judges the alert rules of a model (NULL: all) on the newest window of their metric, and the SRM rules on the experiments; returns the events made, whose notifications are queued in ml.webhook_outbox in the same transaction';
REVOKE EXECUTE ON FUNCTION ml.evaluate_alerts(text) FROM PUBLIC;

/* The metric names ml.monitor writes (docs/monitoring.md), and which are per feature; STABLE: the list grows with releases. */
CREATE FUNCTION ml.monitoring_metric_names(per_feature boolean)
RETURNS text[]
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN CASE WHEN per_feature
            THEN '{drift_wasserstein, drift_jensen_shannon, drift_psi, missing_share, drift}'::text[]
            ELSE '{decisions, ml_usage_rate, fallback_rate, outcome_share, outcome_lag_p50_seconds, '
                 'outcome_lag_p95_seconds, outcome_rate, accuracy, log_loss, ece, estimated_accuracy, '
                 'estimated_accuracy_matched, latency_p50_ms, latency_p95_ms, latency_p99_ms, '
                 'prediction_drift_wasserstein, prediction_drift_psi, prediction_drift, dataset_drift, '
                 'drifted_features_share}'::text[] END;
COMMENT ON FUNCTION ml.monitoring_metric_names(boolean) IS
    'The metric names ml.monitor writes: per feature (true) or not (false); ml.create_alert checks rules against them';
REVOKE EXECUTE ON FUNCTION ml.monitoring_metric_names(boolean) FROM PUBLIC;

CREATE FUNCTION ml.create_alert(
    name             text,
    model            text,
    metric           text,
    condition        text DEFAULT NULL,
    threshold        double precision DEFAULT NULL,
    for_windows      integer DEFAULT 1,
    severity         text DEFAULT 'warning',
    channel          text DEFAULT NULL,
    feature          text DEFAULT NULL,
    repeat_interval  interval DEFAULT '4 hours',
    experiment       text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    srm boolean := metric = 'srm_p_value';
BEGIN
    IF name IS NULL OR name = '' OR octet_length(name) > 256 THEN
        RAISE EXCEPTION 'alert name must be 1 to 256 bytes'
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Name the rule, e.g. ''p95_latency''.';
    END IF;
    IF metric IS NULL THEN
        RAISE EXCEPTION 'metric must not be NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Name a metric ml.monitor writes (docs/monitoring.md), or srm_p_value for the sample ratio mismatch rule.';
    END IF;
    IF srm THEN
        IF model IS NOT NULL OR feature IS NOT NULL THEN
            RAISE EXCEPTION 'the srm_p_value rule watches experiments, not a model''s metric'
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Pass model => NULL and, to watch one experiment only, experiment => its name.';
        END IF;
        IF experiment IS NOT NULL AND NOT EXISTS (SELECT FROM ml.experiments x WHERE x.name = create_alert.experiment) THEN
            RAISE EXCEPTION 'experiment "%" does not exist', experiment
                USING ERRCODE = 'undefined_object', HINT = 'ml.experiments lists them; NULL watches every running one.';
        END IF;
        condition := coalesce(condition, '<');
        threshold := coalesce(threshold, 0.001);
    ELSE
        IF experiment IS NOT NULL THEN
            RAISE EXCEPTION 'experiment is for the srm_p_value rule only'
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'A model''s rule judges its overall metric: leave experiment NULL.';
        END IF;
        IF model IS NULL THEN
            RAISE EXCEPTION 'model must not be NULL'
                USING ERRCODE = 'null_value_not_allowed', HINT = 'Name the model whose metric the rule watches.';
        END IF;
        IF NOT EXISTS (SELECT FROM ml.models x WHERE x.name = create_alert.model)
           AND NOT EXISTS (SELECT FROM ml.MLMonitoringMetrics r WHERE r.model_name = create_alert.model) THEN
            RAISE EXCEPTION 'model "%" has no trained version and no monitoring rows', model
                USING ERRCODE = 'undefined_object', HINT = 'Model names are case-sensitive: ml.models lists them.';
        END IF;
        IF metric <> ALL (ml.monitoring_metric_names(true) || ml.monitoring_metric_names(false))
           AND NOT EXISTS (SELECT FROM ml.MLMonitoringMetrics r
                            WHERE r.model_name = create_alert.model AND r.metric = create_alert.metric) THEN
            RAISE EXCEPTION 'metric "%" is not monitored', metric
                USING ERRCODE = 'undefined_object',
                      HINT = 'Name a metric ml.monitor writes, such as accuracy, latency_p95_ms or drift (docs/monitoring.md lists them).';
        END IF;
        IF (feature IS NOT NULL) <> (metric = ANY (ml.monitoring_metric_names(true))) THEN
            RAISE EXCEPTION '%', CASE WHEN feature IS NULL THEN format('metric "%s" is measured per feature', metric)
                                      ELSE format('metric "%s" is not measured per feature', metric) END
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'feature => ''...'' goes with drift_wasserstein, drift_jensen_shannon, drift_psi, missing_share and drift only.';
        END IF;
        IF condition IS NULL OR threshold IS NULL THEN
            RAISE EXCEPTION 'condition and threshold must not be NULL'
                USING ERRCODE = 'null_value_not_allowed', HINT = 'e.g. condition => ''>'', threshold => 250.';
        END IF;
    END IF;
    condition := ml.check_choice(condition, 'condition', '{>, >=, <, <=, =, <>}');
    IF threshold IN ('NaN', 'Infinity', '-Infinity') THEN
        RAISE EXCEPTION 'threshold must be a finite number'
            USING ERRCODE = 'invalid_parameter_value', HINT = 'e.g. threshold => 0.8.';
    END IF;
    IF for_windows IS NULL OR for_windows NOT BETWEEN 1 AND 1000 THEN
        RAISE EXCEPTION 'for_windows must be between 1 and 1000'
            USING ERRCODE = 'invalid_parameter_value', HINT = '1 fires on the first breaching window.';
    END IF;
    severity := ml.check_choice(severity, 'severity', '{info, warning, critical}');
    IF repeat_interval IS NULL OR repeat_interval <= '0' THEN
        RAISE EXCEPTION 'repeat_interval must be positive'
            USING ERRCODE = 'invalid_parameter_value', HINT = 'The default is ''4 hours'', as Alertmanager''s.';
    END IF;
    IF channel IS NOT NULL AND NOT EXISTS (SELECT FROM ml.channels c WHERE c.name = create_alert.channel) THEN
        RAISE EXCEPTION 'channel "%" does not exist', channel
            USING ERRCODE = 'undefined_object', HINT = 'Create it first with ml.create_channel.';
    END IF;
    IF EXISTS (SELECT FROM ml.alerts a WHERE a.name = create_alert.name) THEN
        RAISE EXCEPTION 'alert "%" already exists', name
            USING ERRCODE = 'duplicate_object', HINT = 'Drop it first with ml.drop_alert, or choose another name.';
    END IF;
    INSERT INTO ml.alerts (name, model, metric, feature, experiment, condition, threshold, for_windows,
                           severity, channel, repeat_interval, created_by)
        VALUES (create_alert.name, create_alert.model, create_alert.metric, create_alert.feature,
                create_alert.experiment, create_alert.condition, create_alert.threshold, create_alert.for_windows,
                create_alert.severity, create_alert.channel, create_alert.repeat_interval, ml.outer_role());
    IF NOT srm THEN
        INSERT INTO ml.alert_states (alert) VALUES (create_alert.name);
    END IF;
END
$$;
COMMENT ON FUNCTION ml.create_alert(text, text, text, text, double precision, integer, text, text, text, interval, text) IS
    'Creates an alert rule: a model''s metric (feature for drift) compared with a threshold on each new window, firing after for_windows breaching windows; metric srm_p_value with model NULL is the sample ratio mismatch rule (p < 0.001) on running experiments';
REVOKE EXECUTE ON FUNCTION ml.create_alert(text, text, text, text, double precision, integer, text, text, text, interval, text) FROM PUBLIC;

CREATE FUNCTION ml.drop_alert(name text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    DELETE FROM ml.alerts a WHERE a.name = drop_alert.name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'alert "%" does not exist', name
            USING ERRCODE = 'undefined_object', HINT = 'ml.alerts lists them.';
    END IF;
END
$$;
COMMENT ON FUNCTION ml.drop_alert(text) IS
    'Drops an alert rule and its state (its events stay in ml.alert_events); a firing alert is not notified as resolved';
REVOKE EXECUTE ON FUNCTION ml.drop_alert(text) FROM PUBLIC;

CREATE FUNCTION ml.create_channel(name text, url text, kind text DEFAULT 'json', secret text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    stored text;
BEGIN
    IF name IS NULL OR name = '' OR octet_length(name) > 256 THEN
        RAISE EXCEPTION 'channel name must be 1 to 256 bytes'
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Name the channel, e.g. ''ops''.';
    END IF;
    url := ml.check_channel_url(url);
    -- the scheme in lower case, as ml.channels' CHECK and the delivery worker read it
    url := lower(split_part(url, ':', 1)) || substr(url, length(split_part(url, ':', 1)) + 1);
    kind := ml.check_choice(kind, 'kind', '{json, slack, alertmanager}');
    stored := ml.channel_secret(secret);
    IF EXISTS (SELECT FROM ml.channels c WHERE c.name = create_channel.name) THEN
        RAISE EXCEPTION 'channel "%" already exists', name
            USING ERRCODE = 'duplicate_object', HINT = 'Drop it first with ml.drop_channel, or choose another name.';
    END IF;
    INSERT INTO ml.channels (name, url, kind, secret, created_by)
        VALUES (create_channel.name, create_channel.url, create_channel.kind, stored, ml.outer_role());
    RETURN stored;
END
$$;
COMMENT ON FUNCTION ml.create_channel(text, text, text, text) IS
    'Creates a webhook channel (url checked: http or https only); secret => ''generate'' makes a Standard Webhooks secret; returns the secret, which only the extension''s owner can read later';
REVOKE EXECUTE ON FUNCTION ml.create_channel(text, text, text, text) FROM PUBLIC;

CREATE FUNCTION ml.drop_channel(name text)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    users text;
BEGIN
    SELECT string_agg(a.name, ', ' ORDER BY a.name) INTO users FROM ml.alerts a WHERE a.channel = drop_channel.name;
    IF users IS NOT NULL THEN
        RAISE EXCEPTION 'channel "%" is used by alerts: %', name, users
            USING ERRCODE = 'dependent_objects_still_exist', HINT = 'Drop those alerts first with ml.drop_alert.';
    END IF;
    DELETE FROM ml.channels c WHERE c.name = drop_channel.name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'channel "%" does not exist', name
            USING ERRCODE = 'undefined_object', HINT = 'ml.channels lists them.';
    END IF;
END
$$;
COMMENT ON FUNCTION ml.drop_channel(text) IS
    'Drops a webhook channel no alert uses, with its queued events and their delivery log';
REVOKE EXECUTE ON FUNCTION ml.drop_channel(text) FROM PUBLIC;

CREATE FUNCTION ml.enable_channel(name text, enabled boolean DEFAULT true)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF enabled IS NULL THEN
        RAISE EXCEPTION 'enabled must not be NULL'
            USING ERRCODE = 'null_value_not_allowed', HINT = 'true queues events for the channel, false does not.';
    END IF;
    UPDATE ml.channels c SET enabled = enable_channel.enabled WHERE c.name = enable_channel.name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'channel "%" does not exist', name
            USING ERRCODE = 'undefined_object', HINT = 'ml.channels lists them.';
    END IF;
END
$$;
COMMENT ON FUNCTION ml.enable_channel(text, boolean) IS
    'Enables a channel (or disables it: enabled => false); a disabled channel''s alert events are recorded but not queued';
REVOKE EXECUTE ON FUNCTION ml.enable_channel(text, boolean) FROM PUBLIC;

CREATE FUNCTION ml.test_channel(name text)
RETURNS uuid
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    ch ml.channels;
    ev ml.alert_events;
BEGIN
    SELECT c.* INTO ch FROM ml.channels c WHERE c.name = test_channel.name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'channel "%" does not exist', name
            USING ERRCODE = 'undefined_object', HINT = 'ml.channels lists them.';
    END IF;
    IF NOT ch.enabled THEN
        RAISE EXCEPTION 'channel "%" is disabled', name
            USING ERRCODE = 'object_not_in_prerequisite_state', HINT = 'Enable it with ml.enable_channel.';
    END IF;
    ev.event_id := gen_random_uuid();
    ev.alert := 'learnloop_test'; ev.subject := 'test'; ev.metric := 'test'; ev.severity := 'info';
    ev.condition := '='; ev.threshold := 0; ev.for_windows := 1; ev.value := 0; ev.breaches := 1;
    ev.from_state := 'inactive'; ev.to_state := 'firing'; ev.repeat := false; ev.at := now();
    ev.starts_at := now(); ev.model := 'test';
    INSERT INTO ml.webhook_outbox (event_id, channel, event_type, body)
        VALUES (ev.event_id, ch.name, 'alert.test', ml.alert_payload(ch.kind, ch.name, 'alert.test', ev.event_id, ev));
    RETURN ev.event_id;
END
$$;
COMMENT ON FUNCTION ml.test_channel(text) IS
    'Queues a test event (alert learnloop_test, firing, event type alert.test) in the channel''s shape; returns its event id';
REVOKE EXECUTE ON FUNCTION ml.test_channel(text) FROM PUBLIC;

/*
 * The latest value of each model's metrics, with its status against the
 * alert rules.  The series (model, metric, feature) are walked one index
 * probe each (a loose index scan: PostgreSQL 15 has no skip scan), then the
 * newest row of each is one more probe, so the view costs what the number
 * of series costs, not the length of the history.
 */
CREATE VIEW ml.monitoring AS
    WITH RECURSIVE series AS (
        (SELECT m.model_name, m.metric, COALESCE(m.feature, '') AS feature_key
           FROM ml.MLMonitoringMetrics m
          WHERE m.metric IS NOT NULL AND m.model_name IS NOT NULL
            AND m.experiment IS NULL AND m.variant IS NULL AND m.decided_by IS NULL
          ORDER BY m.model_name, m.metric, COALESCE(m.feature, '')
          LIMIT 1)
        UNION ALL
        SELECT n.model_name, n.metric, n.feature_key
          FROM series s
         CROSS JOIN LATERAL (
               SELECT m.model_name, m.metric, COALESCE(m.feature, '') AS feature_key
                 FROM ml.MLMonitoringMetrics m
                WHERE m.metric IS NOT NULL
                  AND m.experiment IS NULL AND m.variant IS NULL AND m.decided_by IS NULL
                  AND (m.model_name, m.metric, COALESCE(m.feature, '')) > (s.model_name, s.metric, s.feature_key)
                ORDER BY m.model_name, m.metric, COALESCE(m.feature, '')
                LIMIT 1) n
    )
    SELECT l.model_name AS model, l.model_version, l.metric, l.feature, l.value,
           l.period_start, l.period_end,
           CASE WHEN r.alerts IS NULL THEN 'no rule'
                WHEN r.firing THEN 'firing'
                WHEN r.pending THEN 'pending'
                ELSE 'ok' END AS status,
           r.alerts
      FROM series s
     CROSS JOIN LATERAL (
           SELECT m.* FROM ml.MLMonitoringMetrics m
            WHERE m.model_name = s.model_name AND m.metric = s.metric
              AND COALESCE(m.feature, '') = s.feature_key
              AND m.experiment IS NULL AND m.variant IS NULL AND m.decided_by IS NULL
            ORDER BY m.period_end DESC, m.period_start DESC, COALESCE(m.model_version, -1) DESC, m.id DESC
            LIMIT 1) l
      LEFT JOIN LATERAL (
            SELECT array_agg(a.name ORDER BY a.name) AS alerts,
                   bool_or(st.state = 'firing') AS firing,
                   bool_or(st.state = 'pending') AS pending
              FROM ml.alerts a
              LEFT JOIN ml.alert_states st ON st.alert = a.name AND st.subject = ''
             WHERE a.model = l.model_name AND a.metric = l.metric
               AND a.feature IS NOT DISTINCT FROM l.feature) r ON true;
COMMENT ON VIEW ml.monitoring IS
    'Latest value of each model''s metrics (overall slice; per feature for drift), and its status against the alert rules: firing, pending, ok or no rule';

/* Issue 11, report: ml.report, a model's monitoring as one self-contained HTML page */
CREATE FUNCTION ml.report(model text, since timestamptz DEFAULT pg_catalog.now() - interval '7 days')
RETURNS text
AS 'MODULE_PATHNAME', 'learnloop_report'
LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION ml.report(text, timestamptz) IS
    'A self-contained HTML page (inline CSS and SVG, no script) of a model''s monitoring windows ending at or after since (NULL: all): decisions, ML usage, realized and estimated accuracy, latency, the newest calibration curve and drift, and its alert rules';
REVOKE EXECUTE ON FUNCTION ml.report(text, timestamptz) FROM PUBLIC;

/* Issue 11, deliver: a committed outbox row wakes the delivery worker */
CREATE FUNCTION ml.webhook_outbox_wake()
RETURNS trigger
AS 'MODULE_PATHNAME', 'learnloop_webhook_outbox_wake'
LANGUAGE C;
REVOKE ALL ON FUNCTION ml.webhook_outbox_wake() FROM PUBLIC;
COMMENT ON FUNCTION ml.webhook_outbox_wake() IS
    'Trigger of ml.webhook_outbox: at commit, sets the latch of the delivery worker serving this database (no polling delay; a rollback wakes nobody)';
CREATE TRIGGER webhook_outbox_wake AFTER INSERT ON ml.webhook_outbox
    FOR EACH STATEMENT EXECUTE FUNCTION ml.webhook_outbox_wake();
COMMENT ON TRIGGER webhook_outbox_wake ON ml.webhook_outbox IS
    'Wakes the delivery worker when the inserting transaction commits';

/* ---------------------------------------------------------------------- */
/* Issue 11, monitor: reference distributions, ml.monitor, history         */
/* ---------------------------------------------------------------------- */

/* Kept by training from 0.4.0 on; NULL for older models, which ml.monitor measures without drift. */
ALTER TABLE ml.models ADD COLUMN reference jsonb;
COMMENT ON COLUMN ml.models.reference IS
    'Reference distributions at training: per feature (quantile bins, category shares, missing) and of the model''s predictions on its test set; NULL before 0.4.0';

CREATE FUNCTION ml.monitor_window(model text, version integer, task text, period_start timestamptz,
                                  period_end timestamptz, thresholds jsonb DEFAULT NULL)
RETURNS TABLE (metric text, feature text, experiment text, variant text, decided_by text,
               value double precision, metrics jsonb)
AS 'MODULE_PATHNAME', 'learnloop_monitor_window'
LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION ml.monitor_window(text, integer, text, timestamptz, timestamptz, jsonb) IS
    'The metric rows of one window of a model''s decisions, without writing them: ml.monitor writes them';

CREATE FUNCTION ml.monitor(model text, "window" interval DEFAULT '1 hour',
                           window_end timestamptz DEFAULT pg_catalog.now(),
                           version integer DEFAULT NULL, task text DEFAULT NULL,
                           thresholds jsonb DEFAULT NULL)
RETURNS TABLE (model_version integer, period_start timestamptz, period_end timestamptz, metric text,
               feature text, experiment text, variant text, decided_by text,
               value double precision, metrics jsonb)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v integer := monitor.version;
    start_at timestamptz;
BEGIN
    IF monitor.model IS NULL OR monitor."window" IS NULL OR monitor.window_end IS NULL THEN
        RAISE EXCEPTION 'ml.monitor needs a model, a window and its end'
            USING ERRCODE = '22004', HINT = 'Leave window and window_end out for the last hour.';
    END IF;
    IF NOT isfinite(monitor.window_end) THEN
        RAISE EXCEPTION 'window_end must be a finite time, not %', monitor.window_end
            USING ERRCODE = '22008', HINT = 'Leave it out for now().';
    END IF;
    IF monitor."window" <= interval '0' THEN
        RAISE EXCEPTION 'the window must be longer than 0, not %', monitor."window"
            USING ERRCODE = '22023', HINT = 'e.g. ''1 hour'' or ''1 day''.';
    END IF;
    start_at := monitor.window_end - monitor."window";
    /* the version deployed at the window's end, else the newest */
    IF v IS NULL THEN
        SELECT d.model_version INTO v FROM ml.deployments d
         WHERE d.model_name = monitor.model AND d.deployed_at <= monitor.window_end
           AND d.cohort IS NULL
         ORDER BY d.id DESC LIMIT 1;
    END IF;
    IF v IS NULL THEN
        SELECT max(m.version) INTO v FROM ml.models m WHERE m.name = monitor.model;
    END IF;
    IF v IS NULL THEN
        RAISE EXCEPTION 'model "%" does not exist', monitor.model
            USING ERRCODE = '42704', HINT = 'ml.models lists the trained models.';
    END IF;

    /* concurrent runs for a model wait for each other; a window's rows are replaced, never doubled */
    PERFORM pg_advisory_xact_lock(hashtext('learnloop.monitor'), hashtext(monitor.model));
    DELETE FROM ml.MLMonitoringMetrics m
     WHERE m.model_name = monitor.model AND m.period_start = start_at
       AND m.period_end = monitor.window_end AND m.metric IS NOT NULL;
    RETURN QUERY
    WITH written AS (
        INSERT INTO ml.MLMonitoringMetrics AS t (model_name, period_start, period_end, model_version, metric,
                                                 feature, experiment, variant, decided_by, value, metrics)
        SELECT monitor.model, start_at, monitor.window_end, v, r.metric, r.feature, r.experiment,
               r.variant, r.decided_by, r.value, r.metrics
          FROM ml.monitor_window(monitor.model, v, coalesce(monitor.task, monitor.model), start_at,
                                 monitor.window_end, monitor.thresholds) r
        RETURNING t.model_version, t.period_start, t.period_end, t.metric, t.feature, t.experiment,
                  t.variant, t.decided_by, t.value, t.metrics)
    SELECT * FROM written;
    /*
     * The alert rules over the new rows, in this transaction: their state
     * changes and the notifications they queue commit or roll back with
     * the rows.
     */
    PERFORM ml.evaluate_alerts(monitor.model);
END
$$;
COMMENT ON FUNCTION ml.monitor(text, interval, timestamptz, integer, text, jsonb) IS
    'Measures a model''s decisions in [window_end - window, window_end): usage, realized and estimated quality, latency and drift, and writes them to ml.MLMonitoringMetrics, replacing the window''s rows; returns them';

CREATE FUNCTION ml.monitoring_history(model text, metric text,
                                      since timestamptz DEFAULT pg_catalog.now() - interval '7 days',
                                      feature text DEFAULT NULL, decided_by text DEFAULT NULL,
                                      experiment text DEFAULT NULL, variant text DEFAULT NULL)
RETURNS TABLE (period_start timestamptz, period_end timestamptz, model_version integer,
               value double precision, metrics jsonb)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT m.period_start, m.period_end, m.model_version, m.value, m.metrics
      FROM ml.MLMonitoringMetrics m
     WHERE m.model_name = monitoring_history.model AND m.metric = monitoring_history.metric
       AND m.period_end >= monitoring_history.since
       AND m.feature IS NOT DISTINCT FROM monitoring_history.feature
       AND m.decided_by IS NOT DISTINCT FROM monitoring_history.decided_by
       AND m.experiment IS NOT DISTINCT FROM monitoring_history.experiment
       AND m.variant IS NOT DISTINCT FROM monitoring_history.variant
     ORDER BY m.period_end, m.period_start
$$;
COMMENT ON FUNCTION ml.monitoring_history(text, text, timestamptz, text, text, text, text) IS
    'One metric of a model over time, one row per window since a time (the overall slice unless a feature, decided_by or arm is named)';

REVOKE EXECUTE ON FUNCTION ml.monitor_window(text, integer, text, timestamptz, timestamptz, jsonb),
    ml.monitor(text, interval, timestamptz, integer, text, jsonb),
    ml.monitoring_history(text, text, timestamptz, text, text, text, text) FROM PUBLIC;

/*
 * pg_dump leaves out the rows of an extension's tables unless the extension
 * marks them: every table here holds the users' data (decisions, models,
 * experiments, monitoring, webhooks), so a dump and restore keeps it all,
 * with each sequence where it was.  One call per statement: each call
 * rewrites the extension's catalog row.
 */
SELECT pg_catalog.pg_extension_config_dump('ml.mltrainingdata', '');
SELECT pg_catalog.pg_extension_config_dump('ml.models', '');
SELECT pg_catalog.pg_extension_config_dump('ml.deployments', '');
SELECT pg_catalog.pg_extension_config_dump('ml.mlevaluationresults', '');
SELECT pg_catalog.pg_extension_config_dump('ml.experiments', '');
SELECT pg_catalog.pg_extension_config_dump('ml.experiment_exposures', '');
SELECT pg_catalog.pg_extension_config_dump('ml.experiment_outcomes', '');
SELECT pg_catalog.pg_extension_config_dump('ml.experiment_allocations', '');
SELECT pg_catalog.pg_extension_config_dump('ml.mlabtestresults', '');
SELECT pg_catalog.pg_extension_config_dump('ml.mlmonitoringmetrics', '');
SELECT pg_catalog.pg_extension_config_dump('ml.deployment_decisions', '');
SELECT pg_catalog.pg_extension_config_dump('ml.channels', '');
SELECT pg_catalog.pg_extension_config_dump('ml.webhook_outbox', '');
SELECT pg_catalog.pg_extension_config_dump('ml.webhook_deliveries', '');
SELECT pg_catalog.pg_extension_config_dump('ml.alerts', '');
SELECT pg_catalog.pg_extension_config_dump('ml.alert_states', '');
SELECT pg_catalog.pg_extension_config_dump('ml.alert_events', '');
SELECT pg_catalog.pg_extension_config_dump('ml.mltrainingdata_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('ml.deployments_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('ml.mlevaluationresults_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('ml.experiment_allocations_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('ml.mlabtestresults_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('ml.mlmonitoringmetrics_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('ml.deployment_decisions_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('ml.webhook_outbox_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('ml.webhook_deliveries_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('ml.alert_events_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('ml.training_job_id_seq', '');

/* Issue 11, deliver fixes: the claim reads enabled channels' queues only */
CREATE INDEX webhook_outbox_channel_due_idx ON ml.webhook_outbox (channel, next_attempt_at, id)
    WHERE state = 'pending';
COMMENT ON INDEX ml.webhook_outbox_channel_due_idx IS
    'The delivery worker''s claim, channel by channel: an enabled channel''s pending events by due time, then queue order (a disabled channel''s backlog is not read)';

/* Issue 12, explore: exploration in ml.decide, its distribution, lazy fallbacks */
CREATE FUNCTION ml.action_distribution(
    model           text,
    features        jsonb,
    explore         text DEFAULT 'greedy',
    epsilon         double precision DEFAULT NULL,
    temperature     double precision DEFAULT NULL,
    gamma           double precision DEFAULT NULL,
    actions         text[] DEFAULT NULL,
    version         integer DEFAULT NULL,
    action_feature  text DEFAULT 'action')
RETURNS TABLE (action text, probability double precision, score double precision)
AS 'MODULE_PATHNAME', 'learnloop_action_distribution'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION ml.action_distribution(text, jsonb, text, double precision, double precision, double precision, text[], integer, text) IS
    'The probability with which ml.decide would choose each eligible action (actions; NULL: every action the model knows) under an exploration method (greedy, epsilon, softmax, squarecb), and the model''s score of it; the deployed version unless one is given';
REVOKE EXECUTE ON FUNCTION ml.action_distribution(text, jsonb, text, double precision, double precision, double precision, text[], integer, text) FROM PUBLIC;

/* ---------------------------------------------------------------------- */
/* Issue 12, sim: the simulation's ground truth and policy replay          */
/* ---------------------------------------------------------------------- */

CREATE FUNCTION ml.simulate_expected_outcome(
    unit_id   text,
    features  jsonb,
    action    text,
    seed      integer DEFAULT 42,
    drift     double precision DEFAULT 0,
    key       text DEFAULT 'engaged')
RETURNS double precision
AS 'MODULE_PATHNAME', 'learnloop_simulate_expected_outcome'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml.simulate_expected_outcome(text, jsonb, text, integer, double precision, text) IS
    'True mean of an outcome key over ml.simulate_outcome''s draws for the same user, context and action: for engaged (the default) the probability that the simulated user engages';
REVOKE EXECUTE ON FUNCTION ml.simulate_expected_outcome(text, jsonb, text, integer, double precision, text) FROM PUBLIC;

CREATE FUNCTION ml.simulated_actions()
RETURNS text[]
AS 'MODULE_PATHNAME', 'learnloop_simulated_actions'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml.simulated_actions() IS
    'The response strategies the simulated users answer to, in the simulation''s order';
REVOKE EXECUTE ON FUNCTION ml.simulated_actions() FROM PUBLIC;

CREATE FUNCTION ml.simulate_rules_action(features jsonb)
RETURNS text
AS 'MODULE_PATHNAME', 'learnloop_simulate_rules_action'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml.simulate_rules_action(jsonb) IS
    'The action the simulation''s hand-written rules (the logging policy of ml.simulated_decisions, without its exploration) choose for features';
REVOKE EXECUTE ON FUNCTION ml.simulate_rules_action(jsonb) FROM PUBLIC;

CREATE FUNCTION ml.simulated_contexts(
    users              integer,
    days               integer,
    seed               integer DEFAULT 42,
    decisions_per_day  integer DEFAULT 3,
    start_at           timestamptz DEFAULT '2026-01-01 00:00:00+00',
    drift              double precision DEFAULT 0)
RETURNS TABLE (unit_id text, day integer, created_at timestamptz, features jsonb, rules_action text)
AS 'MODULE_PATHNAME', 'learnloop_simulated_contexts'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 1000;
COMMENT ON FUNCTION ml.simulated_contexts(integer, integer, integer, integer, timestamptz, double precision) IS
    'Deterministic decision contexts of simulated users (the users of ml.simulated_decisions for the seed), each with its day and the rules'' action: what ml.simulate_policy replays a policy on';
REVOKE EXECUTE ON FUNCTION ml.simulated_contexts(integer, integer, integer, integer, timestamptz, double precision) FROM PUBLIC;

/* A replayed policy: 'rules', 'oracle', 'model:<name>' or 'bandit:<name>', as (kind, name). */
CREATE FUNCTION ml.simulate_policy_kind(policy text, explore text DEFAULT 'greedy',
                                        epsilon double precision DEFAULT NULL,
                                        temperature double precision DEFAULT NULL,
                                        gamma double precision DEFAULT NULL,
                                        OUT kind text, OUT name text)
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF policy IN ('rules', 'oracle') THEN
        kind := policy;
    ELSIF policy ~ '^(model|bandit):.' THEN
        kind := split_part(policy, ':', 1);
        name := substr(policy, length(kind) + 2);
    ELSE
        RAISE EXCEPTION 'unknown policy "%"', policy
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'A policy is rules, oracle, model:<name> (its deployed version, through ml.decide) or bandit:<name> (through ml.choose).';
    END IF;
    IF kind <> 'model' AND (explore IS DISTINCT FROM 'greedy' OR epsilon IS NOT NULL OR temperature IS NOT NULL
                            OR gamma IS NOT NULL) THEN
        RAISE EXCEPTION 'policy "%" does not explore', policy
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'explore, epsilon, temperature and gamma are ml.decide''s, for a model:<name> policy; a bandit explores by Thompson sampling.';
    END IF;
END
$$;
COMMENT ON FUNCTION ml.simulate_policy_kind(text, text, double precision, double precision, double precision) IS
    'Splits a simulated policy (rules, oracle, model:<name>, bandit:<name>) into its kind and name; 22023 for anything else, or for exploration arguments given to a policy other than a model';
REVOKE EXECUTE ON FUNCTION ml.simulate_policy_kind(text, text, double precision, double precision, double precision) FROM PUBLIC;

CREATE FUNCTION ml.simulate_policy_value(
    policy          text,
    unit_id         text,
    features        jsonb,
    seed            integer DEFAULT 42,
    drift           double precision DEFAULT 0,
    reward          text DEFAULT 'engaged',
    explore         text DEFAULT 'greedy',
    epsilon         double precision DEFAULT NULL,
    temperature     double precision DEFAULT NULL,
    gamma           double precision DEFAULT NULL,
    actions         text[] DEFAULT NULL,
    action_feature  text DEFAULT 'action')
RETURNS double precision
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p record;
    value double precision;
BEGIN
    IF policy IS NULL OR unit_id IS NULL OR features IS NULL OR seed IS NULL OR drift IS NULL OR reward IS NULL THEN
        RETURN NULL;
    END IF;
    p := ml.simulate_policy_kind(policy, explore, epsilon, temperature, gamma);
    IF actions IS NOT NULL AND (p.kind IN ('rules', 'bandit') OR cardinality(actions) = 0
                                OR array_position(actions, NULL) IS NOT NULL) THEN
        RAISE EXCEPTION 'actions must be NULL or a non-empty array without NULLs, and only for an oracle or a model'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'actions is the eligible set an oracle or a model chooses from; rules and bandits choose among their own.';
    END IF;
    CASE p.kind
    WHEN 'rules' THEN
        value := ml.simulate_expected_outcome(unit_id, features, ml.simulate_rules_action(features), seed, drift, reward);
    WHEN 'oracle' THEN
        SELECT max(ml.simulate_expected_outcome(unit_id, features, a, seed, drift, reward)) INTO value
          FROM unnest(coalesce(actions, ml.simulated_actions())) a;
    WHEN 'model' THEN
        EXECUTE 'SELECT sum(d.probability * ml.simulate_expected_outcome($1, $2, d.action, $3, $4, $5))
                   FROM ml.action_distribution($6, $2, explore => $7, epsilon => $8, temperature => $9,
                                               gamma => $10, actions => $11, action_feature => $12) d'
           INTO value
          USING unit_id, features, seed, drift, reward, p.name, explore, epsilon, temperature, gamma, actions, action_feature;
    WHEN 'bandit' THEN
        EXECUTE 'SELECT sum(d.probability * ml.simulate_expected_outcome($1, $2, d.action, $3, $4, $5))
                   FROM ml.bandit_distribution($6, $1, $2) d'
           INTO value
          USING unit_id, features, seed, drift, reward, p.name;
    END CASE;
    RETURN value;
END
$$;
COMMENT ON FUNCTION ml.simulate_policy_value(text, text, jsonb, integer, double precision, text, text, double precision, double precision, double precision, text[], text) IS
    'True expected reward of a policy (rules, oracle, model:<name> with its exploration, bandit:<name>) on one simulated context: each action''s probability under the policy times ml.simulate_expected_outcome; average it over logged rows for the true value an off-policy estimate should find';
REVOKE EXECUTE ON FUNCTION ml.simulate_policy_value(text, text, jsonb, integer, double precision, text, text, double precision, double precision, double precision, text[], text) FROM PUBLIC;

CREATE FUNCTION ml.simulate_policy(
    policy             text,
    users              integer,
    days               integer,
    seed               integer DEFAULT 42,
    decisions_per_day  integer DEFAULT 3,
    start_at           timestamptz DEFAULT NULL,
    task               text DEFAULT 'response_strategy',
    drift              double precision DEFAULT 0,
    explore            text DEFAULT 'greedy',
    epsilon            double precision DEFAULT NULL,
    temperature        double precision DEFAULT NULL,
    gamma              double precision DEFAULT NULL,
    reward             text DEFAULT 'engaged',
    min_confidence     double precision DEFAULT 0,
    action_feature     text DEFAULT 'action')
RETURNS TABLE (day integer, decisions bigint, realized_reward double precision, expected_reward double precision,
               oracle_reward double precision, regret double precision, cumulative_regret double precision)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p record;
    strategies constant text[] := ml.simulated_actions();
    reward_key constant text := simulate_policy.reward;
    first_day timestamptz := coalesce(start_at, date_trunc('day', now()) - make_interval(days => days));
    c record;
    n bigint := 0;
    current_day integer;
    unit integer;
    ema double precision[];
    previous double precision[];
    features jsonb;
    truths double precision[];
    oracle double precision;
    chosen text;
    chosen_truth double precision;
    logged_id bigint;
    drawn jsonb;
    decide_sql text;
    day_decisions bigint;
    day_reward double precision;
    day_expected double precision;
    day_oracle double precision;
    total_regret double precision := 0;
BEGIN
    IF policy IS NULL OR users IS NULL OR days IS NULL OR seed IS NULL OR decisions_per_day IS NULL
       OR task IS NULL OR drift IS NULL OR reward_key IS NULL THEN
        RAISE EXCEPTION 'policy, users, days, seed, decisions_per_day, task, drift and reward must not be NULL'
            USING ERRCODE = 'null_value_not_allowed', HINT = 'Leave an argument out to take its default.';
    END IF;
    p := ml.simulate_policy_kind(policy, explore, epsilon, temperature, gamma);
    -- checked before anything is recorded: the reward key, a model that decides
    PERFORM ml.simulate_expected_outcome('sim', '{}', strategies[1], seed, drift, reward_key);
    IF p.kind = 'model' AND ml.deployed_version(p.name) IS NULL THEN
        RAISE EXCEPTION 'model "%" has no deployed version', p.name
            USING ERRCODE = 'undefined_object',
                  HINT = 'Train and deploy it first (ml.train, ml.deploy): ml.decide would only fall back to the rules.';
    END IF;
    IF p.kind = 'model' THEN
        -- exploration arguments only when asked for: greedy is ml.decide's default
        decide_sql := 'SELECT d.decision_id, d.action FROM ml.decide($1, $2, $3, fallback => $4, model => $5, '
                      'min_confidence => $6, action_feature => $7'
                      || CASE WHEN explore IS DISTINCT FROM 'greedy' OR epsilon IS NOT NULL
                                   OR temperature IS NOT NULL OR gamma IS NOT NULL
                              THEN ', explore => $8, epsilon => $9, temperature => $10, gamma => $11, seed => $12'
                              ELSE '' END
                      || ') d';
    END IF;
    ema := array_fill(0.5::double precision, ARRAY[users]);
    previous := ema;

    -- every user's decisions in time order, so that a learning policy learns as the days go
    FOR c IN SELECT s.*, split_part(s.unit_id, '-', 3)::integer AS unit
               FROM ml.simulated_contexts(users, days, seed, decisions_per_day, first_day, drift) s
              ORDER BY s.created_at, s.unit_id COLLATE "C"
    LOOP
        IF current_day IS DISTINCT FROM c.day THEN
            IF current_day IS NOT NULL THEN
                RETURN QUERY SELECT current_day, day_decisions, day_reward / day_decisions,
                                    day_expected / day_decisions, day_oracle / day_decisions,
                                    day_oracle - day_expected, total_regret;
            END IF;
            current_day := c.day;
            day_decisions := 0; day_reward := 0; day_expected := 0; day_oracle := 0;
        END IF;
        n := n + 1;
        unit := c.unit;
        -- the unit's engagement history, as ml.simulated_decisions keeps it, from this policy's outcomes
        features := c.features || jsonb_build_object(
            'recent_engagement', round(ema[unit]::numeric, 4),
            'engagement_trend', round((ema[unit] - previous[unit])::numeric, 4));
        truths := ARRAY(SELECT ml.simulate_expected_outcome(c.unit_id, c.features, a, seed, drift, reward_key)
                          FROM unnest(strategies) WITH ORDINALITY AS s (a, i) ORDER BY i);
        oracle := (SELECT max(t) FROM unnest(truths) t);

        CASE p.kind
        WHEN 'rules', 'oracle' THEN
            chosen := CASE p.kind WHEN 'rules' THEN c.rules_action
                      ELSE strategies[array_position(truths, oracle)] END;
            logged_id := ml.record_decision(task, c.unit_id, features,
                                           jsonb_build_object('action', chosen, 'decided_by', p.kind, 'propensity', 1),
                                           'synthetic', created_at => c.created_at);
        WHEN 'model' THEN
            EXECUTE decide_sql INTO logged_id, chosen
              USING task, c.unit_id, features, c.rules_action, p.name, min_confidence, action_feature,
                    explore, epsilon, temperature, gamma, seed::bigint * 4294967296 + n;
        WHEN 'bandit' THEN
            EXECUTE 'SELECT d.decision_id, d.action FROM ml.choose($1, $2, $3, seed => $4) d' INTO logged_id, chosen
              USING p.name, c.unit_id, features, seed::bigint * 4294967296 + n;
        END CASE;

        chosen_truth := truths[array_position(strategies, chosen)];
        IF chosen_truth IS NULL THEN
            RAISE EXCEPTION 'policy "%" chose "%", which the simulated users do not know', policy, chosen
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = format('The simulated users answer to %s.', array_to_string(strategies, ', '));
        END IF;
        drawn := ml.simulate_outcome(c.unit_id, c.features, chosen, seed, drift);
        -- the simulated times and source, before the outcome (ml.record_outcome keeps outcome_at)
        UPDATE ml.MLTrainingData t
           SET source = 'synthetic', created_at = c.created_at,
               outcome_at = c.created_at + make_interval(secs => (drawn->>'session_minutes')::double precision * 60)
         WHERE t.id = logged_id;
        PERFORM ml.record_outcome(logged_id, drawn);

        previous[unit] := ema[unit];
        ema[unit] := 0.8 * ema[unit] + 0.2 * (drawn->>'engagement')::double precision;
        day_decisions := day_decisions + 1;
        day_reward := day_reward + CASE jsonb_typeof(drawn->reward_key)
                                   WHEN 'boolean' THEN (drawn->>reward_key)::boolean::integer
                                   ELSE (drawn->>reward_key)::double precision END;
        day_expected := day_expected + chosen_truth;
        day_oracle := day_oracle + oracle;
        total_regret := total_regret + oracle - chosen_truth;
    END LOOP;
    IF current_day IS NOT NULL THEN
        RETURN QUERY SELECT current_day, day_decisions, day_reward / day_decisions,
                            day_expected / day_decisions, day_oracle / day_decisions,
                            day_oracle - day_expected, total_regret;
    END IF;
END
$$;
COMMENT ON FUNCTION ml.simulate_policy(text, integer, integer, integer, integer, timestamptz, text, double precision, text, double precision, double precision, double precision, text, double precision, text) IS
    'Replays a policy (rules, oracle, model:<name> through ml.decide with exploration, bandit:<name> through ml.choose) online over simulated users'' days: records each decision and its drawn outcome (source synthetic) and returns per day the realized reward, the true expected reward of the chosen actions, the oracle''s, and the regret';
REVOKE EXECUTE ON FUNCTION ml.simulate_policy(text, integer, integer, integer, integer, timestamptz, text, double precision, text, double precision, double precision, double precision, text, double precision, text) FROM PUBLIC;

/* ---------------------------------------------------------------------- */
/* Issue 12, bandits: per-user Thompson-sampling bandits that learn online */
/* ---------------------------------------------------------------------- */

CREATE TABLE ml.bandits (
    name          text PRIMARY KEY CHECK (name <> ''),
    task          text NOT NULL CHECK (task <> ''),
    actions       text[] NOT NULL CHECK (pg_catalog.cardinality(actions) BETWEEN 1 AND 1000),
    context       text NOT NULL CHECK (context IN ('unit', 'none', 'features')),
    features      text[] CHECK ((context = 'features') = (features IS NOT NULL)),
    reward        text NOT NULL CHECK (reward <> ''),
    reward_type   text NOT NULL CHECK (reward_type IN ('binary', 'continuous')),
    prior         text NOT NULL CHECK (prior IN ('population', 'uniform')),
    prior_weight  double precision NOT NULL CHECK (prior_weight >= 0 AND prior_weight < 'Infinity'),
    draws         integer NOT NULL CHECK (draws BETWEEN 1 AND 1000000),
    created_by    name NOT NULL DEFAULT CURRENT_USER,
    created_at    timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE ml.bandits IS
    'Thompson-sampling bandits: ml.choose picks an action per unit (or context cell), ml.record_outcome teaches them online';
COMMENT ON COLUMN ml.bandits.name IS 'Bandit name, named by ml.choose and by the decisions it logs (decision->>''bandit'')';
COMMENT ON COLUMN ml.bandits.task IS 'Task of the decisions ml.choose logs in ml.MLTrainingData';
COMMENT ON COLUMN ml.bandits.actions IS 'The actions it chooses among';
COMMENT ON COLUMN ml.bandits.context IS 'unit (a posterior per unit and action), none (one per action) or features (one per cell of the categorical features)';
COMMENT ON COLUMN ml.bandits.features IS 'For context features: the feature keys whose values make a cell';
COMMENT ON COLUMN ml.bandits.reward IS 'Outcome key whose value is the reward (number or boolean)';
COMMENT ON COLUMN ml.bandits.reward_type IS 'binary (Beta posteriors, rewards 0 to 1) or continuous (normal posteriors)';
COMMENT ON COLUMN ml.bandits.prior IS 'population (the other units'' data per action as the prior, empirical Bayes) or uniform';
COMMENT ON COLUMN ml.bandits.prior_weight IS 'Most observations the population prior counts for (it is scaled down to this many), so a unit''s own history soon outweighs it';
COMMENT ON COLUMN ml.bandits.draws IS 'Monte Carlo draws behind each choice''s distribution and propensity when the bandit has more than 8 actions (up to 8 the distribution is integrated)';
COMMENT ON COLUMN ml.bandits.created_by IS 'Role that created the bandit';
COMMENT ON COLUMN ml.bandits.created_at IS 'When the bandit was created';
SELECT pg_catalog.pg_extension_config_dump('ml.bandits', '');

-- the key in the "C" collation: ml.choose looks up two cells per call, and the
-- byte comparison is cheaper than a locale's (the order of identifiers does not matter)
CREATE TABLE ml.bandit_arms (
    bandit      text COLLATE "C" NOT NULL REFERENCES ml.bandits (name) ON DELETE CASCADE,
    cell        text COLLATE "C" NOT NULL,
    action      text COLLATE "C" NOT NULL,
    n           bigint NOT NULL DEFAULT 0,
    reward_sum  double precision NOT NULL DEFAULT 0,
    reward_sq   double precision NOT NULL DEFAULT 0,
    updated_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (bandit, cell, action)
);
COMMENT ON TABLE ml.bandit_arms IS
    'Sufficient statistics of each bandit arm''s posterior, per cell (unit, feature cell) and for the population (cell ''''), kept by ml.record_outcome';
COMMENT ON COLUMN ml.bandit_arms.bandit IS 'The bandit';
COMMENT ON COLUMN ml.bandit_arms.cell IS 'The unit id (context unit), the feature cell as a JSON object''s text (context features), or '''' for the population (every decision of the bandit)';
COMMENT ON COLUMN ml.bandit_arms.action IS 'The action';
COMMENT ON COLUMN ml.bandit_arms.n IS 'Decisions with a reward';
COMMENT ON COLUMN ml.bandit_arms.reward_sum IS 'Sum of their rewards';
COMMENT ON COLUMN ml.bandit_arms.reward_sq IS 'Sum of their squared rewards';
COMMENT ON COLUMN ml.bandit_arms.updated_at IS 'Last reward counted';
-- ml.choose looks up two cells per call (the unit's and the population's): hashed, each is
-- one bucket page, where the primary key's descent compared text on each of its levels;
-- src/bandit/load.c builds the same key
CREATE INDEX bandit_arms_cell_idx ON ml.bandit_arms
    USING hash ((bandit OPERATOR(pg_catalog.||) E'\x1f' OPERATOR(pg_catalog.||) cell));
COMMENT ON INDEX ml.bandit_arms_cell_idx IS
    'Finds a cell''s arms (the bandit and the cell joined by a unit separator) for ml.choose and ml.bandit_distribution';
SELECT pg_catalog.pg_extension_config_dump('ml.bandit_arms', '');

CREATE FUNCTION ml.create_bandit(
    name          text,
    actions       text[],
    context       text DEFAULT 'unit',
    reward        text DEFAULT 'engaged',
    prior         text DEFAULT 'population',
    reward_type   text DEFAULT NULL,
    task          text DEFAULT NULL,
    prior_weight  double precision DEFAULT 10,
    draws         integer DEFAULT 100)
RETURNS ml.bandits
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    created ml.bandits;
    keys text[];
    detected text;
BEGIN
    IF coalesce(name, '') = '' OR coalesce(reward, '') = '' OR task = '' THEN
        RAISE EXCEPTION 'name and reward must be non-empty text, and task NULL or non-empty'
            USING ERRCODE = '22023', HINT = 'For example ml.create_bandit(''tone'', ARRAY[''brief'', ''detailed''], reward => ''engaged'').';
    END IF;
    IF coalesce(cardinality(actions), 0) = 0 OR array_position(actions, NULL) IS NOT NULL
       OR array_position(actions, '') IS NOT NULL THEN
        RAISE EXCEPTION 'a bandit needs a non-empty array of non-empty actions'
            USING ERRCODE = '22023', HINT = 'Pass the actions it chooses among, for example ARRAY[''brief'', ''detailed''].';
    END IF;
    IF (SELECT count(DISTINCT a) FROM unnest(actions) a) <> cardinality(actions) THEN
        RAISE EXCEPTION 'the actions of a bandit must be distinct: %', actions
            USING ERRCODE = '22023', HINT = 'List each action once.';
    END IF;
    IF lower(coalesce(context, '')) IN ('unit', 'none') THEN
        context := lower(context);
    ELSE
        keys := ARRAY(SELECT btrim(k) FROM unnest(string_to_array(context, ',')) k);
        IF coalesce(cardinality(keys), 0) = 0 OR array_position(keys, '') IS NOT NULL
           OR (SELECT count(DISTINCT k) FROM unnest(keys) k) <> cardinality(keys) THEN
            RAISE EXCEPTION 'unknown context "%"', context
                USING ERRCODE = '22023',
                      HINT = 'context is unit (a posterior per unit), none (one per action) or a comma-separated list of distinct categorical feature keys, e.g. ''emotional_state,topic''.';
        END IF;
        context := 'features';
    END IF;
    IF cardinality(actions) > 1000 THEN
        RAISE EXCEPTION 'a bandit has at most 1000 actions, not %', cardinality(actions)
            USING ERRCODE = '22023', HINT = 'Every choice samples every action''s posterior.';
    END IF;
    IF greatest(octet_length(name), octet_length(reward), octet_length(task),
                (SELECT max(octet_length(a)) FROM unnest(actions || keys) a)) > 256 THEN
        RAISE EXCEPTION 'the name, task, reward, actions and context keys of a bandit are at most 256 bytes each'
            USING ERRCODE = '22001', HINT = 'Use short keys, as for decisions'' tasks and actions.';
    END IF;
    prior := ml.check_choice(prior, 'prior', '{population, uniform}');
    IF reward_type IS NULL THEN
        -- detect from the task's logged rewards: all boolean or 0/1 is binary
        SELECT CASE WHEN count(*) = 0 THEN NULL
                    WHEN bool_and(jsonb_typeof(v) = 'boolean' OR (jsonb_typeof(v) = 'number' AND v::text IN ('0', '1')))
                    THEN 'binary' ELSE 'continuous' END
          INTO detected
          FROM (SELECT d.outcome -> create_bandit.reward AS v
                  FROM ml.MLTrainingData d
                 WHERE d.task = coalesce(create_bandit.task, create_bandit.name)
                   AND d.outcome ? create_bandit.reward
                 ORDER BY d.created_at DESC LIMIT 1000) r
         WHERE jsonb_typeof(v) IN ('boolean', 'number');
        IF detected IS NULL THEN
            RAISE NOTICE 'no logged reward "%" to detect the reward type from: binary', reward
                USING HINT = 'Pass reward_type => ''continuous'' for rewards other than 0/1.';
        END IF;
        reward_type := coalesce(detected, 'binary');
    END IF;
    reward_type := ml.check_choice(reward_type, 'reward_type', '{binary, continuous}');
    IF prior_weight IS NULL OR NOT (prior_weight >= 0 AND prior_weight < 'Infinity') THEN
        RAISE EXCEPTION 'prior_weight must be a finite number >= 0, not %', prior_weight
            USING ERRCODE = '22023', HINT = 'It is the most observations the population prior counts for; 0 ignores the population.';
    END IF;
    IF draws IS NULL OR draws NOT BETWEEN 1 AND 1000000 OR draws::bigint * cardinality(actions) > 1000000 THEN
        RAISE EXCEPTION 'draws must be from 1 to 1000000 and draws times the % actions at most 1000000, not %',
                        cardinality(actions), draws
            USING ERRCODE = '22023', HINT = 'The Monte Carlo draws per choice with more than 8 actions; more draws follow the posterior more closely and cost more (they are bounded, as a choice cannot be cancelled while it draws).';
    END IF;
    INSERT INTO ml.bandits (name, task, actions, context, features, reward, reward_type, prior, prior_weight, draws)
    VALUES (create_bandit.name, coalesce(create_bandit.task, create_bandit.name), create_bandit.actions,
            create_bandit.context, keys, create_bandit.reward, create_bandit.reward_type,
            create_bandit.prior, create_bandit.prior_weight, create_bandit.draws)
    RETURNING * INTO created;
    RETURN created;
EXCEPTION WHEN unique_violation THEN
    RAISE EXCEPTION 'bandit "%" already exists', create_bandit.name
        USING ERRCODE = '42710', HINT = 'Drop it with ml.drop_bandit, or choose another name.';
END
$$;
COMMENT ON FUNCTION ml.create_bandit(text, text[], text, text, text, text, text, double precision, integer) IS
    'Creates a Thompson-sampling bandit over actions, per unit (context unit), per feature cell (a list of feature keys) or global (none), learning the reward outcome key online';

CREATE FUNCTION ml.drop_bandit(name text)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    DELETE FROM ml.bandits b WHERE b.name = drop_bandit.name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'bandit "%" does not exist', drop_bandit.name
            USING ERRCODE = '42704', HINT = 'ml.bandits lists the bandits.';
    END IF;
END
$$;
COMMENT ON FUNCTION ml.drop_bandit(text) IS
    'Drops a bandit and its posteriors (its logged decisions stay in ml.MLTrainingData)';

CREATE FUNCTION ml.choose(
    bandit       text,
    unit_id      text,
    features     jsonb DEFAULT NULL,
    seed         bigint DEFAULT NULL,
    OUT decision_id bigint,
    OUT action      text,
    OUT propensity  double precision)
AS 'MODULE_PATHNAME', 'learnloop_choose'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION ml.choose(text, text, jsonb, bigint) IS
    'Chooses an action for a unit by Thompson sampling from the bandit''s posteriors and logs the decision (with its propensity) in ml.MLTrainingData; the same seed gives the same draw';

CREATE FUNCTION ml.bandit_distribution(
    bandit    text,
    unit_id   text,
    features  jsonb DEFAULT NULL,
    draws     integer DEFAULT NULL,
    seed      bigint DEFAULT NULL)
RETURNS TABLE (action text, probability double precision)
AS 'MODULE_PATHNAME', 'learnloop_bandit_distribution'
LANGUAGE C STABLE;
COMMENT ON FUNCTION ml.bandit_distribution(text, text, jsonb, integer, bigint) IS
    'The probability with which ml.choose would pick each action for a unit now (integrated for up to 8 actions, else Monte Carlo with the bandit''s draws; given draws, Monte Carlo with that many); logs nothing';

/*
 * The reward of an outcome value for a bandit: NULL when absent, an error
 * when it cannot be one (strict), or NULL then too (not strict: a value
 * recorded before, which was refused or never counted).
 */
CREATE FUNCTION ml.bandit_reward(value jsonb, reward_type text, reward text, strict boolean DEFAULT true)
RETURNS double precision
AS 'MODULE_PATHNAME', 'learnloop_bandit_reward'
LANGUAGE C IMMUTABLE;
COMMENT ON FUNCTION ml.bandit_reward(jsonb, text, text, boolean) IS
    'A bandit''s reward from an outcome value: booleans count 0/1, JSON null or absent is no reward, NaN, infinite or (binary) out-of-range values are errors (strict) or no reward';

/*
 * ml.record_outcome teaches the bandit in its own transaction.  The arms are
 * changed by the difference between the reward now and before, so a retry
 * (the same value again) counts once and a corrected value replaces the old
 * one.  Each upsert adds to the row's current values under its row lock, so
 * concurrent outcomes lose nothing; the population row is always locked
 * first, so two of them never deadlock.
 */
CREATE FUNCTION ml.bandit_outcome_from_decision()
RETURNS trigger
AS 'MODULE_PATHNAME', 'learnloop_bandit_outcome_from_decision'
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION ml.bandit_outcome_from_decision() IS
    'Trigger: adds a bandit decision''s reward (the change since its previous value) to its cell''s and the population''s arm in ml.bandit_arms';

/*
 * on UPDATE only: a decision is logged without its outcome, and every INSERT would pay for the
 * WHEN; an outcome set back to NULL takes its reward back
 */
CREATE TRIGGER mltrainingdata_bandit_outcomes
    AFTER UPDATE OF outcome ON ml.MLTrainingData
    FOR EACH ROW WHEN (NEW.decision ? 'bandit')
    EXECUTE FUNCTION ml.bandit_outcome_from_decision();
COMMENT ON TRIGGER mltrainingdata_bandit_outcomes ON ml.MLTrainingData IS
    'Teaches bandits: outcomes recorded (ml.record_outcome or UPDATE) on decisions made by ml.choose update ml.bandit_arms in the same transaction';

REVOKE EXECUTE ON FUNCTION ml.create_bandit(text, text[], text, text, text, text, text, double precision, integer),
    ml.drop_bandit(text), ml.choose(text, text, jsonb, bigint),
    ml.bandit_distribution(text, text, jsonb, integer, bigint), ml.bandit_reward(jsonb, text, text, boolean),
    ml.bandit_outcome_from_decision() FROM PUBLIC;

/* Issue 12, off-policy evaluation: ml.evaluate_policy */
CREATE FUNCTION ml.evaluate_policy(task text, candidate text, reward text,
                                   since timestamptz DEFAULT NULL, until timestamptz DEFAULT NULL,
                                   explore text DEFAULT 'greedy', epsilon double precision DEFAULT NULL,
                                   temperature double precision DEFAULT NULL, gamma double precision DEFAULT NULL,
                                   version integer DEFAULT NULL, dm_model text DEFAULT NULL,
                                   action_feature text DEFAULT 'action',
                                   max_weight double precision DEFAULT 100, bootstrap integer DEFAULT 1000,
                                   seed bigint DEFAULT 42, confidence double precision DEFAULT 0.95)
RETURNS TABLE (estimator text, value double precision, ci_low double precision, ci_high double precision,
               std_error double precision, lift double precision, lift_low double precision,
               lift_high double precision, n bigint, ess double precision, clipped bigint,
               largest_weight double precision, excluded bigint, unsupported double precision,
               warnings text[])
AS 'MODULE_PATHNAME', 'learnloop_evaluate_policy'
LANGUAGE C STABLE PARALLEL RESTRICTED;
REVOKE EXECUTE ON FUNCTION ml.evaluate_policy(text, text, text, timestamptz, timestamptz, text,
    double precision, double precision, double precision, integer, text, text, double precision,
    integer, bigint, double precision) FROM PUBLIC;
COMMENT ON FUNCTION ml.evaluate_policy(text, text, text, timestamptz, timestamptz, text,
    double precision, double precision, double precision, integer, text, text, double precision,
    integer, bigint, double precision) IS
    'Estimates off-policy the mean reward a candidate model (version NULL: its newest), exploring as explore says, would have earned on the task''s logged decisions of [since, until) that carry a propensity: one row each for the logged policy''s own value, IPS, self-normalised IPS and doubly robust (direct method: dm_model, else the candidate when it is an outcome model), with weights clipped at max_weight and seeded Poisson-bootstrap percentile intervals';

/* Issue 12, off-policy evaluation: ml.compare_policies (champion/challenger by policy value) */
CREATE FUNCTION ml.compare_policies(task text, candidate text, baseline text, reward text,
                                    since timestamptz DEFAULT NULL, until timestamptz DEFAULT NULL,
                                    explore text DEFAULT 'greedy', epsilon double precision DEFAULT NULL,
                                    temperature double precision DEFAULT NULL, gamma double precision DEFAULT NULL,
                                    candidate_version integer DEFAULT NULL, baseline_version integer DEFAULT NULL,
                                    dm_model text DEFAULT NULL, action_feature text DEFAULT 'action',
                                    max_weight double precision DEFAULT 100, bootstrap integer DEFAULT 1000,
                                    seed bigint DEFAULT 42, confidence double precision DEFAULT 0.95)
RETURNS TABLE (estimator text, candidate_value double precision, baseline_value double precision,
               difference double precision, ci_low double precision, ci_high double precision, n bigint,
               candidate_ess double precision, baseline_ess double precision, excluded bigint)
AS 'MODULE_PATHNAME', 'learnloop_compare_policies'
LANGUAGE C STABLE PARALLEL RESTRICTED;
REVOKE EXECUTE ON FUNCTION ml.compare_policies(text, text, text, text, timestamptz, timestamptz, text,
    double precision, double precision, double precision, integer, integer, text, text, double precision,
    integer, bigint, double precision) FROM PUBLIC;
COMMENT ON FUNCTION ml.compare_policies(text, text, text, text, timestamptz, timestamptz, text,
    double precision, double precision, double precision, integer, integer, text, text, double precision,
    integer, bigint, double precision) IS
    'Champion/challenger by estimated policy value: the candidate (version NULL: its newest) against the baseline (version NULL: the deployed one) on the same logged decisions in one pass, with the same clipping and bootstrap counts: per estimator (ips, snips, dr) both values and the difference with its paired percentile interval';

CREATE FUNCTION ml.record_fallback(decision_id bigint, action text)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'learnloop_record_fallback'
LANGUAGE C VOLATILE SECURITY DEFINER PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION ml.record_fallback(bigint, text) IS
    'Fills in the action an application took for a decision ml.decide left to it (decided_by unsure, no fallback given): propensity 1, the model''s suggestion kept; returns the decision';
REVOKE EXECUTE ON FUNCTION ml.record_fallback(bigint, text) FROM PUBLIC;

/* Issue 12, bandits (hot path): ml.choose caches ml.bandits per backend */
CREATE TRIGGER bandits_invalidate_cache
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ml.bandits
    FOR EACH STATEMENT EXECUTE FUNCTION ml.invalidate_table_cache();
COMMENT ON TRIGGER bandits_invalidate_cache ON ml.bandits IS
    'Keeps the per-backend bandit definitions of ml.choose and ml.bandit_distribution current';

/* Issue 14, active learning: ml.least_certain and its two C parts */
CREATE FUNCTION ml.uncertainty(probabilities double precision[], strategy text DEFAULT 'entropy')
RETURNS double precision
AS 'MODULE_PATHNAME', 'learnloop_uncertainty'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
REVOKE EXECUTE ON FUNCTION ml.uncertainty(double precision[], text) FROM PUBLIC;
COMMENT ON FUNCTION ml.uncertainty(double precision[], text) IS
    'How uncertain a classifier is about a row, from its class probabilities (ml.predict_proba): entropy (nats, 0 ln 0 = 0), margin (1 minus the gap between the two most probable classes) or least_confident (1 minus the largest probability); larger is less certain';

CREATE FUNCTION ml.uncertainty_spread(features jsonb[], scores double precision[], n integer,
                                      diversity double precision DEFAULT 0.5)
RETURNS integer[]
AS 'MODULE_PATHNAME', 'learnloop_uncertainty_spread'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
REVOKE EXECUTE ON FUNCTION ml.uncertainty_spread(jsonb[], double precision[], integer, double precision) FROM PUBLIC;
COMMENT ON FUNCTION ml.uncertainty_spread(jsonb[], double precision[], integer, double precision) IS
    'Positions (from 1, in the order chosen) of n candidates spread over their features: the most uncertain first, then each maximising (1 - diversity) * its score + diversity * its distance to the nearest chosen, both scaled to their maxima; numbers standardised, strings and booleans one-hot';

CREATE FUNCTION ml.least_certain(
    model                text,
    source               text,
    n                    integer DEFAULT 10,
    strategy             text DEFAULT 'entropy',
    only_without_outcome boolean DEFAULT true,
    diversity            double precision DEFAULT 0,
    id_column            text DEFAULT 'id',
    features_column      text DEFAULT 'features',
    version              integer DEFAULT NULL)
RETURNS TABLE (rank integer, id text, features jsonb, uncertainty double precision,
               probabilities double precision[])
AS 'MODULE_PATHNAME', 'learnloop_least_certain'
LANGUAGE C STABLE PARALLEL RESTRICTED;
REVOKE EXECUTE ON FUNCTION ml.least_certain(text, text, integer, text, boolean, double precision, text, text, integer) FROM PUBLIC;
COMMENT ON FUNCTION ml.least_certain(text, text, integer, text, boolean, double precision, text, text, integer) IS
    'Active learning: the n rows of source (a table, view or query with an id and a jsonb features column) where the classifier (version NULL: the deployed one) is least certain by strategy (entropy, margin, least_confident), only rows without an outcome when the source has that column; diversity > 0 spreads the batch over the features among the 10 n most uncertain';

/* ---------------------------------------------------------------------- */
/* Issue 14, import and export: models from and to a notebook's XGBoost    */
/* ---------------------------------------------------------------------- */

ALTER TABLE ml.models ADD COLUMN lineage text NOT NULL DEFAULT 'trained'
    CHECK (lineage IN ('trained', 'imported'));
COMMENT ON COLUMN ml.models.lineage IS
    'Where the version came from: trained (ml.train) or imported (ml.import_model)';

CREATE FUNCTION ml.import_model(name text, model bytea, format text DEFAULT NULL,
                                features jsonb DEFAULT NULL, classes text[] DEFAULT NULL,
                                deploy boolean DEFAULT false, check_rows jsonb DEFAULT NULL,
                                OUT model_name text, OUT version integer, OUT evaluator text,
                                OUT deployed boolean, OUT checked_rows integer,
                                OUT max_difference double precision)
RETURNS record
AS 'MODULE_PATHNAME', 'learnloop_import_model'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION ml.import_model(text, bytea, text, jsonb, text[], boolean, jsonb) IS
    'Registers a model saved by XGBoost elsewhere (JSON or UBJSON, 1.x or 2.x) as a new version with lineage imported, once it loads, its features match and check_rows are reproduced within 1e-6';
REVOKE EXECUTE ON FUNCTION ml.import_model(text, bytea, text, jsonb, text[], boolean, jsonb) FROM PUBLIC;

CREATE FUNCTION ml.export_model(name text, version integer DEFAULT NULL, format text DEFAULT 'json')
RETURNS bytea
AS 'MODULE_PATHNAME', 'learnloop_export_model'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION ml.export_model(text, integer, text) IS
    'A model version (default: the deployed one) as XGBoost JSON or UBJSON bytes, with its feature names and types, for xgboost.Booster().load_model';
REVOKE EXECUTE ON FUNCTION ml.export_model(text, integer, text) FROM PUBLIC;

CREATE FUNCTION ml.export_model_schema(name text, version integer DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v integer := export_model_schema.version;
    result jsonb;
BEGIN
    IF export_model_schema.name IS NULL THEN
        RAISE EXCEPTION 'name must not be NULL' USING ERRCODE = 'null_value_not_allowed',
              HINT = 'Pass the name of a model in ml.models.';
    END IF;
    IF v < 1 THEN
        RAISE EXCEPTION 'model version % is out of range', v USING ERRCODE = 'invalid_parameter_value',
              HINT = 'Versions count from 1; pass NULL (or leave version out) for the deployed version.';
    END IF;
    IF NOT EXISTS (SELECT FROM ml.models m WHERE m.name = export_model_schema.name) THEN
        RAISE EXCEPTION 'model "%" does not exist', export_model_schema.name USING ERRCODE = 'undefined_object',
              HINT = 'ml.models lists the trained and imported models.';
    END IF;
    IF v IS NULL THEN
        v := ml.deployed_version(export_model_schema.name);
        IF v IS NULL THEN
            RAISE EXCEPTION 'model "%" has no deployed version', export_model_schema.name
                  USING ERRCODE = 'no_data_found', HINT = 'Pass a version: ml.model_history lists them.';
        END IF;
    END IF;
    SELECT m.feature_schema || jsonb_build_object('model', m.name, 'version', m.version, 'lineage', m.lineage)
      INTO result FROM ml.models m WHERE m.name = export_model_schema.name AND m.version = v;
    IF result IS NULL THEN
        RAISE EXCEPTION 'model "%" has no version %', export_model_schema.name, v USING ERRCODE = 'no_data_found',
              HINT = 'ml.model_history lists the versions.';
    END IF;
    RETURN result;
END
$$;
COMMENT ON FUNCTION ml.export_model_schema(text, integer) IS
    'The feature schema of a model version (default: the deployed one): task, objective, feature names in order, types, category dictionaries and classes, with the model, version and lineage';
REVOKE EXECUTE ON FUNCTION ml.export_model_schema(text, integer) FROM PUBLIC;

/* Issue 13, metrics: experiment metric definitions (ml.metrics, ml.create_metric, ml.drop_metric) */
CREATE TABLE ml.metrics (
    name               text COLLATE "C" PRIMARY KEY CHECK (name <> '' AND octet_length(name) <= 256),
    source             text NOT NULL DEFAULT 'decision' CHECK (source IN ('decision', 'outcome')),
    key                text NOT NULL CHECK (key <> ''),
    kind               text NOT NULL DEFAULT 'mean' CHECK (kind IN ('proportion', 'mean', 'count', 'ratio')),
    aggregation        text CHECK (aggregation IN ('sum', 'mean', 'max', 'any', 'count', 'last')),
    numerator          text COLLATE "C",
    denominator        text COLLATE "C",
    direction          text NOT NULL DEFAULT 'higher' CHECK (direction IN ('higher', 'lower')),
    conversion_window  interval CHECK (conversion_window > '0'),
    cap                double precision,
    cap_type           text NOT NULL DEFAULT 'percentile' CHECK (cap_type IN ('percentile', 'absolute')),
    min_units          integer NOT NULL DEFAULT 0 CHECK (min_units >= 0),
    covariate          text COLLATE "C",
    covariate_lookback interval NOT NULL DEFAULT '14 days' CHECK (covariate_lookback > '0'),
    alpha              double precision CHECK (alpha > 0 AND alpha < 1),
    description        text,
    created_by         name NOT NULL DEFAULT CURRENT_USER,
    created_at         timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CHECK ((kind = 'ratio') = (numerator IS NOT NULL AND denominator IS NOT NULL AND aggregation IS NULL))
);
COMMENT ON TABLE ml.metrics IS
    'Experiment metrics (ml.create_metric): how a unit''s events become one value, and how the arms are compared';
COMMENT ON COLUMN ml.metrics.name IS 'Metric name, as experiments list it (primary_metric, guardrail_metrics)';
COMMENT ON COLUMN ml.metrics.source IS 'decision (events: the decisions of the unit''s exposed variant) or outcome (ml.experiment_outcomes)';
COMMENT ON COLUMN ml.metrics.key IS 'An outcome key, or (source decision) an SQL expression over the decision row';
COMMENT ON COLUMN ml.metrics.kind IS 'proportion, mean, count or ratio';
COMMENT ON COLUMN ml.metrics.aggregation IS 'Per unit: sum, mean, max, any, count or last (NULL for ratio metrics)';
COMMENT ON COLUMN ml.metrics.numerator IS 'Ratio metrics: the metric summed over the units above';
COMMENT ON COLUMN ml.metrics.denominator IS 'Ratio metrics: the metric summed over the units below';
COMMENT ON COLUMN ml.metrics.direction IS 'higher or lower: which way is better';
COMMENT ON COLUMN ml.metrics.conversion_window IS 'Only events before first exposure + this interval count (NULL: no limit)';
COMMENT ON COLUMN ml.metrics.cap IS 'Winsorisation of the per-unit values: a percentile (0 < cap < 1) or a value (NULL: none)';
COMMENT ON COLUMN ml.metrics.cap_type IS 'percentile (of all analysed units pooled) or absolute';
COMMENT ON COLUMN ml.metrics.min_units IS 'Units per arm before a verdict other than collecting data';
COMMENT ON COLUMN ml.metrics.covariate IS 'CUPED: the metric measured over each unit''s events before its first exposure';
COMMENT ON COLUMN ml.metrics.covariate_lookback IS 'CUPED: how far before the first exposure the covariate''s events count';
COMMENT ON COLUMN ml.metrics.alpha IS 'A guardrail''s own one-sided alpha (NULL: the analysis'')';
COMMENT ON COLUMN ml.metrics.description IS 'Free text';
COMMENT ON COLUMN ml.metrics.created_by IS 'Role that created the metric';
COMMENT ON COLUMN ml.metrics.created_at IS 'When the metric was created';
SELECT pg_catalog.pg_extension_config_dump('ml.metrics', '');

CREATE FUNCTION ml.check_metric_key(key text)
RETURNS text
AS 'MODULE_PATHNAME', 'learnloop_check_metric_key'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION ml.check_metric_key(text) IS
    'The SQL a decision metric''s key is analysed as: an outcome key''s number or boolean, or an expression over the decision row once checked (one expression, no sub-query, only immutable pg_catalog functions)';
REVOKE EXECUTE ON FUNCTION ml.check_metric_key(text) FROM PUBLIC;

CREATE FUNCTION ml.outcome_number(outcome jsonb, key text)
RETURNS double precision
AS 'MODULE_PATHNAME', 'learnloop_outcome_number'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION ml.outcome_number(jsonb, text) IS
    'The number at a key of an outcome object (a boolean as 0 or 1), else NULL: the event value of a decision metric''s outcome key';
REVOKE EXECUTE ON FUNCTION ml.outcome_number(jsonb, text) FROM PUBLIC;

CREATE FUNCTION ml.create_metric(
    name               text,
    source             text DEFAULT 'decision',
    key                text DEFAULT NULL,
    kind               text DEFAULT 'mean',
    aggregation        text DEFAULT NULL,
    numerator          text DEFAULT NULL,
    denominator        text DEFAULT NULL,
    direction          text DEFAULT 'higher',
    conversion_window  interval DEFAULT NULL,
    cap                double precision DEFAULT NULL,
    cap_type           text DEFAULT 'percentile',
    min_units          integer DEFAULT 0,
    covariate          text DEFAULT NULL,
    covariate_lookback interval DEFAULT '14 days',
    alpha              double precision DEFAULT NULL,
    description        text DEFAULT NULL)
RETURNS ml.metrics
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    created ml.metrics;
    part ml.metrics;
    part_name text;
BEGIN
    IF name IS NULL OR name = '' OR octet_length(name) > 256 THEN
        RAISE EXCEPTION 'a metric needs a non-empty name of at most 256 bytes'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'For example ml.create_metric(''completion_rate'', kind => ''proportion'', key => ''completed'').';
    END IF;
    source := ml.check_choice(source, 'source', '{decision, outcome}');
    kind := ml.check_choice(kind, 'kind', '{proportion, mean, count, ratio}');
    direction := ml.check_choice(direction, 'direction', '{higher, lower}');
    cap_type := ml.check_choice(cap_type, 'cap_type', '{percentile, absolute}');
    IF kind = 'ratio' THEN
        IF numerator IS NULL OR denominator IS NULL THEN
            RAISE EXCEPTION 'ratio metric "%" needs a numerator and a denominator', name
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Name two metrics, e.g. numerator => ''revenue'', denominator => ''orders''.';
        END IF;
        IF aggregation IS NOT NULL THEN
            RAISE EXCEPTION 'ratio metric "%" takes no aggregation', name
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'The numerator and the denominator are aggregated per unit as their own definitions say.';
        END IF;
        IF numerator = name OR denominator = name THEN
            RAISE EXCEPTION 'ratio metric "%" cannot be its own numerator or denominator', name
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Name two other metrics.';
        END IF;
        FOREACH part_name IN ARRAY ARRAY[numerator, denominator] LOOP
            SELECT m.* INTO part FROM ml.metrics m WHERE m.name = part_name;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'metric "%" does not exist', part_name
                    USING ERRCODE = 'undefined_object',
                          HINT = 'Create the numerator and the denominator with ml.create_metric first.';
            END IF;
            IF part.kind = 'ratio' THEN
                RAISE EXCEPTION 'the numerator and denominator of "%" cannot be ratio metrics ("%" is one)', name, part_name
                    USING ERRCODE = 'invalid_parameter_value',
                          HINT = 'Use the metrics of the ratio''s numerator and denominator themselves.';
            END IF;
            IF part.source <> source THEN
                RAISE EXCEPTION 'the numerator and denominator of "%" must have its source (%), "%" has %',
                                name, source, part_name, part.source
                    USING ERRCODE = 'invalid_parameter_value',
                          HINT = 'Give the ratio metric the source of its parts.';
            END IF;
        END LOOP;
        key := name;
    ELSE
        IF numerator IS NOT NULL OR denominator IS NOT NULL THEN
            RAISE EXCEPTION 'numerator and denominator are for ratio metrics, not %', kind
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Pass kind => ''ratio'', or leave numerator and denominator out.';
        END IF;
        key := coalesce(key, name);
        IF key = '' OR octet_length(key) > 4096 THEN
            RAISE EXCEPTION 'key must be a non-empty outcome key or expression of at most 4096 bytes'
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Leave key out to use the metric''s name as the outcome key.';
        END IF;
        aggregation := ml.check_choice(coalesce(aggregation,
                                                CASE WHEN source = 'outcome' THEN 'last'
                                                     WHEN kind = 'proportion' THEN 'any'
                                                     WHEN kind = 'count' THEN 'count'
                                                     ELSE 'sum' END),
                                       'aggregation', '{sum, mean, max, any, count, last}');
        IF source = 'outcome' AND aggregation <> 'last' THEN
            RAISE EXCEPTION 'metrics of source outcome have aggregation last, not %', aggregation
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'ml.experiment_outcomes keeps one value per unit, the latest; aggregate decisions with source => ''decision''.';
        END IF;
        IF kind = 'proportion' AND aggregation NOT IN ('any', 'last', 'max') THEN
            RAISE EXCEPTION 'a proportion is aggregated per unit by any, last or max, not %', aggregation
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Use kind => ''mean'' for sums and averages per unit, or ''count'' for counts.';
        END IF;
        IF source = 'decision' THEN
            PERFORM ml.check_metric_key(key);
        END IF;
    END IF;
    IF conversion_window IS NOT NULL AND conversion_window <= interval '0' THEN
        RAISE EXCEPTION 'conversion_window must be positive, not %', conversion_window
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Events count from the first exposure until first exposure + conversion_window; leave it out for no limit.';
    END IF;
    IF cap IS NOT NULL AND (cap = 'NaN' OR cap = 'Infinity'
                            OR (cap_type = 'percentile' AND NOT (cap > 0 AND cap < 1))
                            OR (cap_type = 'absolute' AND NOT cap > 0)) THEN
        RAISE EXCEPTION 'cap % is out of range for cap_type %', cap, cap_type
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'A percentile cap is between 0 and 1 (e.g. 0.99), an absolute cap a positive value.';
    END IF;
    IF min_units IS NULL OR min_units < 0 THEN
        RAISE EXCEPTION 'min_units must be 0 or more, not %', min_units
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'min_units is the number of units each arm needs before a verdict.';
    END IF;
    IF alpha IS NOT NULL AND NOT (alpha > 0 AND alpha < 1) THEN
        RAISE EXCEPTION 'alpha must be between 0 and 1, not %', alpha
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'alpha is a guardrail''s own one-sided significance level, e.g. 0.05; leave it out to use the analysis''.';
    END IF;
    IF covariate_lookback IS NULL OR covariate_lookback <= interval '0' THEN
        RAISE EXCEPTION 'covariate_lookback must be positive, not %', covariate_lookback
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'The covariate counts the events in [first exposure - covariate_lookback, first exposure).';
    END IF;
    IF covariate IS NOT NULL THEN
        IF kind = 'ratio' THEN
            RAISE EXCEPTION 'ratio metric "%" cannot have a covariate', name
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'CUPED applies to proportion, mean and count metrics.';
        END IF;
        IF source <> 'decision' THEN
            RAISE EXCEPTION 'metric "%" of source outcome cannot have a covariate', name
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Outcomes are recorded after exposure; CUPED needs the decisions before it (source => ''decision'').';
        END IF;
        IF covariate = name THEN
            part.kind := kind;
            part.source := source;
        ELSE
            SELECT m.* INTO part FROM ml.metrics m WHERE m.name = create_metric.covariate;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'covariate metric "%" does not exist', covariate
                    USING ERRCODE = 'undefined_object',
                          HINT = 'Name an existing metric, or the metric itself for its own pre-exposure value.';
            END IF;
        END IF;
        IF part.kind = 'ratio' OR part.source <> 'decision' THEN
            RAISE EXCEPTION 'covariate "%" must be a proportion, mean or count metric of source decision', covariate
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'The covariate is measured on the unit''s decisions before its first exposure.';
        END IF;
    END IF;
    IF EXISTS (SELECT FROM ml.metrics m WHERE m.name = create_metric.name) THEN
        RAISE EXCEPTION 'metric "%" already exists', name
            USING ERRCODE = 'duplicate_object',
                  HINT = 'Drop it with ml.drop_metric first, or pick another name.';
    END IF;
    INSERT INTO ml.metrics AS m (name, source, key, kind, aggregation, numerator, denominator, direction,
                                 conversion_window, cap, cap_type, min_units, covariate, covariate_lookback,
                                 alpha, description)
        VALUES (name, source, key, kind, aggregation,
                CASE WHEN kind = 'ratio' THEN numerator END, CASE WHEN kind = 'ratio' THEN denominator END,
                direction, conversion_window, cap, cap_type, min_units, covariate, covariate_lookback,
                alpha, description)
        RETURNING m.* INTO created;
    RETURN created;
END
$$;
COMMENT ON FUNCTION ml.create_metric(text, text, text, text, text, text, text, text, interval, double precision,
                                     text, integer, text, interval, double precision, text) IS
    'Defines an experiment metric: its events (decisions or outcomes), per-unit aggregation, kind, direction, conversion window, capping, CUPED covariate; returns the stored row';
REVOKE EXECUTE ON FUNCTION ml.create_metric(text, text, text, text, text, text, text, text, interval,
                                            double precision, text, integer, text, interval, double precision,
                                            text) FROM PUBLIC;

CREATE FUNCTION ml.drop_metric(name text)
RETURNS boolean
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    user_name text;
BEGIN
    SELECT m.name INTO user_name FROM ml.metrics m
     WHERE m.name <> drop_metric.name
       AND drop_metric.name IN (m.numerator, m.denominator, m.covariate)
     ORDER BY m.name LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'metric "%" is used by metric "%"', name, user_name
            USING ERRCODE = 'dependent_objects_still_exist',
                  HINT = 'Drop the metrics that use it (as numerator, denominator or covariate) first.';
    END IF;
    DELETE FROM ml.metrics m WHERE m.name = drop_metric.name;
    RETURN FOUND;
END
$$;
COMMENT ON FUNCTION ml.drop_metric(text) IS
    'Drops a metric definition (false when there is none); refused while another metric uses it';
REVOKE EXECUTE ON FUNCTION ml.drop_metric(text) FROM PUBLIC;

/* Issue 14, warm starts: lineage 'continued' and 'refreshed', and the base a version started from */
ALTER TABLE ml.models DROP CONSTRAINT models_lineage_check,
    ADD CONSTRAINT models_lineage_check
        CHECK (lineage IN ('trained', 'imported', 'continued', 'refreshed')),
    ADD COLUMN base_model text,
    ADD COLUMN base_version integer,
    ADD CONSTRAINT models_base_check CHECK ((base_model IS NULL) = (base_version IS NULL)
                                            AND (base_model IS NULL) = (lineage NOT IN ('continued', 'refreshed')));
COMMENT ON COLUMN ml.models.lineage IS
    'Where the version came from: trained (ml.train), imported (ml.import_model), continued (ml.train with base_model: more trees after the base''s) or refreshed (ml.train with base_model and refresh: the base''s trees with leaves refitted)';
COMMENT ON COLUMN ml.models.base_model IS
    'The model a continued or refreshed version started from (ml.train''s base_model), NULL otherwise';
COMMENT ON COLUMN ml.models.base_version IS
    'The version of base_model it started from, NULL otherwise';

/*
 * Issue 15, batch: scoring whole tables.  The serving functions' COST says
 * what a row's prediction costs next to reading it (about 0.25 of a cost
 * unit, 100 x cpu_operator_cost, measured on 100 trees of depth 6: see
 * docs/scaling.md), so that the planner runs a scan that predicts in
 * parallel workers (the default COST 1 made a narrow table's scan serial);
 * ml.explain's SHAP values cost about a thousand predictions.  Then
 * ml.predict_batch: a source scored into a new table, in parallel, with
 * progress NOTICEs.
 */
ALTER FUNCTION ml.predict(text, jsonb, integer) COST 100;
ALTER FUNCTION ml.predict(text, real[], integer) COST 100;
ALTER FUNCTION ml.predict_proba(text, jsonb, integer) COST 100;
ALTER FUNCTION ml.predict_proba(text, real[], integer) COST 100;
ALTER FUNCTION ml.predict_label(text, jsonb, integer) COST 100;
ALTER FUNCTION ml.predict_label(text, real[], integer) COST 100;
ALTER FUNCTION ml.explain(text, jsonb, integer, text) COST 100000;

CREATE FUNCTION ml.predict_batch(
    model           text,
    source          text,
    "into"          text,
    id_columns      text[] DEFAULT '{id}',
    features        text DEFAULT 'features',
    output          text DEFAULT 'predict',
    version         integer DEFAULT NULL,
    progress_every  bigint DEFAULT 1000000,
    OUT rows_written bigint,
    OUT model_version integer)
RETURNS record
AS 'MODULE_PATHNAME', 'learnloop_predict_batch'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION ml.predict_batch(text, text, text, text[], text, text, integer, bigint) IS
    'Scores every row of a source (table, view or query) with a model into a new table "into": the id columns and the prediction (output predict, proba or label), by one SELECT that may run in parallel workers, as the caller, with a NOTICE every progress_every rows; the version is pinned at the start';
REVOKE EXECUTE ON FUNCTION ml.predict_batch(text, text, text, text[], text, text, integer, bigint) FROM PUBLIC;

/* ---------------------------------------------------------------------- */
/* Issue 14, cohorts: one model per cohort, routed by the cohort's value   */
/* ---------------------------------------------------------------------- */

ALTER TABLE ml.models ADD COLUMN cohort_column text;
ALTER TABLE ml.models ADD COLUMN cohort text;
ALTER TABLE ml.models ADD CONSTRAINT models_cohort_check
    CHECK (cohort IS NULL OR cohort_column IS NOT NULL);
COMMENT ON COLUMN ml.models.cohort_column IS
    'The feature ml.train''s cohort_column named: set on the global model and every cohort''s model of that training; NULL without cohorts';
COMMENT ON COLUMN ml.models.cohort IS
    'The cohort (the cohort_column''s value) whose rows the version was trained on; NULL for a model of all rows';
COMMENT ON CONSTRAINT models_cohort_check ON ml.models IS 'A cohort''s model names its cohort column';

ALTER TABLE ml.deployments ADD COLUMN cohort text;
COMMENT ON COLUMN ml.deployments.cohort IS
    'The deployed version''s cohort (ml.models.cohort), set by a trigger; NULL: the global deployment, which ml.deployed_version, ml.rollback and the other readers follow';
CREATE INDEX deployments_cohort_idx ON ml.deployments (model_name, cohort, id) WHERE cohort IS NOT NULL;
COMMENT ON INDEX ml.deployments_cohort_idx IS 'The newest deployment of each cohort of a model, read when serving routes';
COMMENT ON TABLE ml.deployments IS
    'Append-only deployment history; the newest row of a model whose cohort is NULL names its deployed (global) version, the newest of a cohort that cohort''s';

ALTER TABLE ml.deployment_decisions ADD COLUMN cohort text;
COMMENT ON COLUMN ml.deployment_decisions.cohort IS
    'The cohort of the version decided on; its champion is that cohort''s deployed version, else the deployed global one; NULL: a model of all rows against the global champion';

CREATE FUNCTION ml.deployment_cohort()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- a deployment belongs to its version's cohort, whoever writes the row
    NEW.cohort := (SELECT m.cohort FROM ml.models m
                    WHERE m.name = NEW.model_name AND m.version = NEW.model_version);
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION ml.deployment_cohort() IS
    'Trigger of ml.deployments: records the deployed version''s cohort, so each cohort has its own deployment history';
REVOKE EXECUTE ON FUNCTION ml.deployment_cohort() FROM PUBLIC;
CREATE TRIGGER deployments_cohort BEFORE INSERT OR UPDATE ON ml.deployments
    FOR EACH ROW EXECUTE FUNCTION ml.deployment_cohort();
COMMENT ON TRIGGER deployments_cohort ON ml.deployments IS
    'Sets the row''s cohort from the deployed version''s';

CREATE FUNCTION ml.deployed_version(model text)
RETURNS integer
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT d.model_version FROM ml.deployments d
     WHERE d.model_name = $1 AND d.cohort IS NULL ORDER BY d.id DESC LIMIT 1
$$;
COMMENT ON FUNCTION ml.deployed_version(text) IS
    'The deployed version of a model (its global one when it has cohorts), or NULL';
REVOKE EXECUTE ON FUNCTION ml.deployed_version(text) FROM PUBLIC;

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
    -- (the global deployments: a cohort's is rolled back with ml.deploy)
    FOR step IN SELECT d.action, d.model_version FROM ml.deployments d
                 WHERE d.model_name = rollback.model AND d.cohort IS NULL ORDER BY d.id LOOP
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
COMMENT ON FUNCTION ml.rollback(text, text) IS
    'Returns a model''s global deployment to the version deployed before the current one; returns that version';
REVOKE EXECUTE ON FUNCTION ml.rollback(text, text) FROM PUBLIC;

CREATE VIEW ml.model_history AS
    SELECT m.name AS model_name, m.version, m.created_at AS trained_at, m.trained_by,
           m.train_rows, m.test_rows, d.metric, d.score,
           d.champion_version, d.champion_score,
           e.feature_coverage AS coverage, d.champion_coverage, d.comparable,
           d.policy, d.deployed, d.reason,
           m.version = (SELECT l.model_version FROM ml.deployments l
                         WHERE l.model_name = m.name AND l.cohort IS NOT DISTINCT FROM m.cohort
                         ORDER BY l.id DESC LIMIT 1) AS live,
           m.lineage,
           m.cohort
      FROM ml.models m
      LEFT JOIN ml.deployment_decisions d ON d.model_name = m.name AND d.model_version = m.version
      LEFT JOIN LATERAL (SELECT r.feature_coverage FROM ml.MLEvaluationResults r
                          WHERE r.model_name = m.name AND r.model_version = m.version
                            AND NOT r.metrics ? 'rescored_for_version'
                          ORDER BY r.id DESC LIMIT 1) e ON true;
COMMENT ON VIEW ml.model_history IS
    'Deployment report, one row per model version: when and by whom trained, rows, key metric, the champion''s on the same rows, feature coverage, deployed or not and why, whether it is live (for its cohort), its lineage and cohort';

/* ---------------------------------------------------------------------- */
/* Issue 14, simulated users: a world the user describes, and augmentation */
/* ---------------------------------------------------------------------- */


CREATE FUNCTION ml.simulated_decisions(
    spec      jsonb,
    users     integer DEFAULT 100,
    days      integer DEFAULT 14,
    seed      integer DEFAULT 42,
    start_at  timestamptz DEFAULT '2026-01-01 00:00:00+00')
RETURNS TABLE (unit_id text, created_at timestamptz, features jsonb, decision jsonb,
               outcome jsonb, outcome_at timestamptz)
AS 'MODULE_PATHNAME', 'learnloop_simulated_spec_decisions'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 1000;
COMMENT ON FUNCTION ml.simulated_decisions(jsonb, integer, integer, integer, timestamptz) IS
    'Deterministic workload of a simulated world the spec describes (actions, personas, feature distributions, true outcomes, decisions per day, logging policy): logged decisions with propensities and outcomes drawn from the truth';
REVOKE EXECUTE ON FUNCTION ml.simulated_decisions(jsonb, integer, integer, integer, timestamptz) FROM PUBLIC;

CREATE FUNCTION ml.simulate_users(
    spec      jsonb,
    task      text,
    users     integer DEFAULT 100,
    days      integer DEFAULT 14,
    seed      integer DEFAULT 42,
    start_at  timestamptz DEFAULT NULL)
RETURNS bigint
LANGUAGE sql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH inserted AS (
        INSERT INTO ml.MLTrainingData
            (task, unit_id, created_at, features, decision, outcome, outcome_at, source)
        SELECT simulate_users.task, s.unit_id, s.created_at, s.features, s.decision, s.outcome, s.outcome_at, 'synthetic'
          FROM ml.simulated_decisions(spec, users, days, seed,
                   coalesce(start_at, date_trunc('day', now()) - make_interval(days => days))) AS s
        RETURNING 1)
    SELECT count(*) FROM inserted
$$;
COMMENT ON FUNCTION ml.simulate_users(jsonb, text, integer, integer, integer, timestamptz) IS
    'Inserts the workload of the world the spec describes into the caller''s task in ml.MLTrainingData (source synthetic) and returns the row count';
REVOKE EXECUTE ON FUNCTION ml.simulate_users(jsonb, text, integer, integer, integer, timestamptz) FROM PUBLIC;

CREATE FUNCTION ml.simulate_expected_outcome(
    spec      jsonb,
    unit_id   text,
    features  jsonb,
    action    text,
    seed      integer DEFAULT 42)
RETURNS double precision
AS 'MODULE_PATHNAME', 'learnloop_simulate_spec_expected_outcome'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml.simulate_expected_outcome(jsonb, text, jsonb, text, integer) IS
    'Ground truth of the world the spec describes: the true probability (binary outcome) or mean of the action for the unit (its persona from its id and the seed) in the context';
REVOKE EXECUTE ON FUNCTION ml.simulate_expected_outcome(jsonb, text, jsonb, text, integer) FROM PUBLIC;

CREATE FUNCTION ml.augment(
    task           text,
    source_filter  text DEFAULT NULL,
    copies         integer DEFAULT 1,
    noise          jsonb DEFAULT '{}',
    seed           integer DEFAULT 42)
RETURNS bigint
AS 'MODULE_PATHNAME', 'learnloop_augment'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION ml.augment(text, text, integer, jsonb, integer) IS
    'Writes copies perturbed by noise of the task''s real decisions (those source_filter, one expression run as the caller, selects) as source augmented with augmented_from naming the original; returns the row count';
REVOKE EXECUTE ON FUNCTION ml.augment(text, text, integer, jsonb, integer) FROM PUBLIC;
