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

/*
 * A decision's outcome that does not change an experiment outcome's value
 * leaves its recorded_at alone: retries, and a pg_restore (which copies the
 * experiment outcomes, then the decisions, firing the trigger), keep it.
 */
CREATE OR REPLACE FUNCTION ml.experiment_outcomes_from_decision()
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
                       'ml.deployment_decisions, ml.model_history, ml.webhook_outbox, ml.webhook_deliveries, ml.prometheus_metrics TO %s', grantee);
        EXECUTE format('GRANT SELECT (name, kind, enabled, created_by, created_at) ON ml.channels TO %s', grantee);
        EXECUTE format('GRANT INSERT ON ml.MLABTestResults TO %s', grantee);
        functions := '{build_info, training_jobs_status, serving_stats, serving_stats_dropped, serving_latency_buckets, deployed_version, '
                     'experiment_statistics, analyze, experiment_power, sample_size, power, growthbook_hash, bucket_ranges}';
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
SELECT pg_catalog.pg_extension_config_dump('ml.mltrainingdata_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('ml.deployments_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('ml.mlevaluationresults_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('ml.experiment_allocations_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('ml.mlabtestresults_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('ml.mlmonitoringmetrics_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('ml.deployment_decisions_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('ml.webhook_outbox_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('ml.webhook_deliveries_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('ml.training_job_id_seq', '');
