/* learnloop 0.1.0 -> 0.2.0: experiment writes without the executor, bytewise identifiers */
\echo Use "ALTER EXTENSION learnloop UPDATE TO '0.2.0'" to load this file. \quit

/* The functions check the experiment; deletion cascades through a trigger (below). */
ALTER TABLE ml.experiment_outcomes DROP CONSTRAINT experiment_outcomes_experiment_unit_id_fkey;
ALTER TABLE ml.experiment_exposures DROP CONSTRAINT experiment_exposures_experiment_fkey;

/*
 * The analysis reads a metric's values with the planner's choice: a sequential
 * scan for a large experiment, the primary key's experiment prefix for a small
 * one.  This index only cost every first outcome one more insertion.
 */
DROP INDEX IF EXISTS ml.experiment_outcomes_metric_idx;

/* Identifiers compare bytewise; the indexes are rebuilt, the tables are not rewritten. */
ALTER TABLE ml.experiment_exposures
    ALTER COLUMN experiment TYPE text COLLATE "C",
    ALTER COLUMN unit_id TYPE text COLLATE "C",
    ALTER COLUMN variant TYPE text COLLATE "C";
ALTER TABLE ml.experiment_outcomes
    ALTER COLUMN experiment TYPE text COLLATE "C",
    ALTER COLUMN unit_id TYPE text COLLATE "C",
    ALTER COLUMN variant TYPE text COLLATE "C",
    ALTER COLUMN metric TYPE text COLLATE "C";
COMMENT ON TABLE ml.experiment_exposures IS 'First assignment of each unit to an experiment variant; never moved; deleted with the experiment';
COMMENT ON TABLE ml.experiment_outcomes IS 'Metric values of exposed units: one per (experiment, unit, metric), the latest recorded value wins; deleted with the experiment';

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
/* as the full script: the new functions for nobody but their owner, the arithmetic for PUBLIC */
REVOKE EXECUTE ON FUNCTION ml.delete_experiment_rows(), ml.outcome_accum(double precision[], double precision),
    ml.outcome_combine(double precision[], double precision[]) FROM PUBLIC;
REVOKE EXECUTE ON ROUTINE ml.outcome_moments(double precision) FROM PUBLIC;
GRANT EXECUTE ON ROUTINE ml.outcome_moments(double precision) TO PUBLIC;
