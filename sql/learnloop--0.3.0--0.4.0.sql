/* learnloop 0.3.0 -> 0.4.0: serving statistics, decision latency, monitoring, alerts and webhooks (issue 11) */
\echo Use "ALTER EXTENSION learnloop UPDATE TO '0.4.0'" to load this file. \quit

/* ml.decide's decision rows carry latency_us from now on: the C code writes it, no SQL changes. */

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

/* as the install script's REVOKE ... ON ALL FUNCTIONS does: nobody gets them until granted */
REVOKE EXECUTE ON FUNCTION ml.serving_stats(), ml.serving_stats_reset(text), ml.serving_stats_dropped() FROM PUBLIC;

/* ml.monitor writes one row per metric: the columns that say which */
ALTER TABLE ml.MLMonitoringMetrics
    ADD COLUMN model_version integer,
    ADD COLUMN metric        text,
    ADD COLUMN feature       text,
    ADD COLUMN experiment    text,
    ADD COLUMN variant       text,
    ADD COLUMN decided_by    text,
    ADD COLUMN value         double precision;
COMMENT ON COLUMN ml.MLMonitoringMetrics.model_version IS 'Model version the measured decisions were made with (ml.monitor)';
COMMENT ON COLUMN ml.MLMonitoringMetrics.metric IS 'Metric name, one per row (ml.monitor; docs/monitoring.md lists them); NULL in hand-written snapshots, whose figures are in metrics';
COMMENT ON COLUMN ml.MLMonitoringMetrics.feature IS 'Feature a drift metric is about; NULL for the others';
COMMENT ON COLUMN ml.MLMonitoringMetrics.experiment IS 'Experiment of the slice measured; NULL when the row covers every arm';
COMMENT ON COLUMN ml.MLMonitoringMetrics.variant IS 'Experiment arm of the slice measured; NULL when the row covers every arm';
COMMENT ON COLUMN ml.MLMonitoringMetrics.decided_by IS 'decided_by of the slice measured (model, fallback, ...); NULL when the row covers every decision';
COMMENT ON COLUMN ml.MLMonitoringMetrics.value IS 'The metric''s value; details (bins, counts) are in metrics';
CREATE OR REPLACE VIEW ml."MLMonitoringMetrics" AS SELECT * FROM ml.mlmonitoringmetrics;

/* the 'read' access covers ml.serving_stats */
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
    CASE ml.check_choice(access, 'access', '{record, predict, read, experiment, train, deploy, alert}')
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
                       'ml.MLABTestResults, ml.MLMonitoringMetrics, ml.training_jobs, ml.serving_stats, '
                       'ml.deployment_decisions, ml.model_history, ml.webhook_outbox, ml.webhook_deliveries TO %s', grantee);
        EXECUTE format('GRANT SELECT (name, kind, enabled, created_by, created_at) ON ml.channels TO %s', grantee);
        EXECUTE format('GRANT INSERT ON ml.MLABTestResults TO %s', grantee);
        functions := '{build_info, training_jobs_status, serving_stats, serving_stats_dropped, deployed_version, '
                     'experiment_statistics, analyze, experiment_power, sample_size, power, growthbook_hash, bucket_ranges, '
                     'monitoring_history}';
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
                     'simulated_decisions, simulate_outcome, monitor}';
    WHEN 'deploy' THEN
        EXECUTE format('GRANT SELECT ON ml.models, ml.deployments, ml.model_history TO %s', grantee);
        EXECUTE format('GRANT INSERT ON ml.deployments TO %s', grantee);
        functions := '{deploy, rollback, deployed_version, validate_model}';
    WHEN 'alert' THEN
        PERFORM ml.grant_access(grantee, 'read');
        EXECUTE format('GRANT SELECT (name, url, kind, enabled, created_by, created_at) ON ml.channels TO %s', grantee);
        functions := '{create_channel, drop_channel, create_alert, drop_alert}';
    END CASE;
    FOR fn IN SELECT p.oid FROM pg_proc p
               WHERE p.pronamespace = 'ml'::regnamespace AND p.proname = ANY (functions) LOOP
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %s', fn, grantee);
    END LOOP;
    PERFORM ml.grant_quoted_names(grantee);
END
$$;

COMMENT ON FUNCTION ml.grant_access(regrole, text) IS
    'Grants a role what one kind of user needs: record (applications), predict (serving only), read (analysts), experiment (experiment owners), train, deploy, or alert (channels and alert rules)';

/*
 * Roles given 'read' before the update get ml.serving_stats too, as grants
 * the DBA made (not extension initial privileges, which pg_dump leaves out:
 * see learnloop--0.2.0--0.3.0.sql).  'read' is the only access that grants
 * SELECT on ml.MLMonitoringMetrics.
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

DO $$
DECLARE
    grantee regrole;
BEGIN
    FOR grantee IN
        SELECT DISTINCT a.grantee::regrole
          FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a
         WHERE c.oid = 'ml.mlmonitoringmetrics'::regclass AND a.privilege_type = 'SELECT'
           AND a.grantee <> c.relowner AND a.grantee <> 0
    LOOP
        PERFORM ml.learnloop_grant_as_dba(
            ARRAY['ml.serving_stats'::regclass::oid, 'ml.serving_stats()'::regprocedure::oid,
                  'ml.serving_stats_dropped()'::regprocedure::oid],
            pg_catalog.format('GRANT SELECT ON ml.serving_stats TO %1$s; '
                              'GRANT EXECUTE ON FUNCTION ml.serving_stats(), ml.serving_stats_dropped() TO %1$s',
                              grantee));
    END LOOP;
END
$$;

DROP FUNCTION ml.learnloop_grant_as_dba(oid[], text);

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
CREATE INDEX webhook_outbox_pending_idx ON ml.webhook_outbox (next_attempt_at) WHERE state = 'pending';
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
COMMENT ON INDEX ml.webhook_outbox_pending_idx IS 'The delivery worker''s queue: pending events by due time';
COMMENT ON INDEX ml.webhook_deliveries_outbox_idx IS 'The attempts of one event';
COMMENT ON INDEX ml.webhook_outbox_event_id_key IS 'An event id names one event';

/* ---------------------------------------------------------------------- */
/* Issue 11, monitor: reference distributions, ml.monitor, history         */
/* ---------------------------------------------------------------------- */

/*
 * The simulation takes a drift (0 to 1): its functions are re-created with
 * the new argument, and the roles that could run them keep them, as grants
 * of the DBA's (not initial privileges, which pg_dump leaves out): the
 * same two helpers as learnloop--0.2.0--0.3.0.sql, dropped after use.
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
    'ml.simulated_decisions(integer, integer, integer, integer, timestamptz)',
    $def$
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
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 1000
$def$,
    'ml.simulated_decisions(integer, integer, integer, integer, timestamptz, double precision)');
COMMENT ON FUNCTION ml.simulated_decisions(integer, integer, integer, integer, timestamptz, double precision) IS
    'Deterministic workload of simulated users: decisions of a rules policy with exploration and outcomes from a known ground truth, shifted by drift (0 to 1)';

SELECT ml.learnloop_replace_function(
    'ml.simulate_outcome(text, jsonb, text, integer)',
    $def$
CREATE FUNCTION ml.simulate_outcome(
    unit_id   text,
    features  jsonb,
    action    text,
    seed      integer DEFAULT 42,
    drift     double precision DEFAULT 0)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'learnloop_simulate_outcome'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
$def$,
    'ml.simulate_outcome(text, jsonb, text, integer, double precision)');
COMMENT ON FUNCTION ml.simulate_outcome(text, jsonb, text, integer, double precision) IS
    'Outcome the simulated user would give to an action: the ground truth behind ml.simulated_decisions (of the world shifted by drift)';

SELECT ml.learnloop_replace_function(
    'ml.simulate_users(integer, integer, integer, integer, timestamptz, text)',
    $def$
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
$$
$def$,
    'ml.simulate_users(integer, integer, integer, integer, timestamptz, text, double precision)');
COMMENT ON FUNCTION ml.simulate_users(integer, integer, integer, integer, timestamptz, text, double precision) IS
    'Inserts a simulated learning-loop workload into ml.MLTrainingData (source synthetic), shifted by drift (0 to 1), and returns the row count';

DROP FUNCTION ml.learnloop_replace_function(regprocedure, text, text);
DROP FUNCTION ml.learnloop_grant_as_dba(oid[], text);

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
     * The alert rules over these rows are evaluated here, in the same transaction
     * (CONTRACT11.md): PERFORM ml.evaluate_alerts(monitor.model);
     */
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
