/* learnloop 0.3.0 -> 0.4.0: serving statistics and decision latency (issue 11) */
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
                       'ml.MLABTestResults, ml.MLMonitoringMetrics, ml.training_jobs, ml.serving_stats, '
                       'ml.deployment_decisions, ml.model_history TO %s', grantee);
        EXECUTE format('GRANT INSERT ON ml.MLABTestResults TO %s', grantee);
        functions := '{build_info, training_jobs_status, serving_stats, serving_stats_dropped, deployed_version, '
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
    END CASE;
    FOR fn IN SELECT p.oid FROM pg_proc p
               WHERE p.pronamespace = 'ml'::regnamespace AND p.proname = ANY (functions) LOOP
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %s', fn, grantee);
    END LOOP;
    PERFORM ml.grant_quoted_names(grantee);
END
$$;

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
