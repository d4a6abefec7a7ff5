-- Experiment outcomes: latest value wins, retries, refusals, and the decision-id path

SELECT name AS created FROM ml.create_experiment('ab', ARRAY['rules', 'model'], hash_seed => 'fixed-seed');
SELECT ml.assign_variant('ab', 'u1') AS u1_variant, ml.assign_variant('ab', 'u2') AS u2_variant;

-- one value per (experiment, unit, metric): the latest wins, a retry changes nothing
SELECT ml.record_outcome('ab', 'u1', 'engaged', 0) AS variant;
SELECT ml.record_outcome('ab', 'u1', 'engaged', 1) AS variant;
SELECT ml.record_outcome('ab', 'u1', 'engaged', 1) AS variant;
SELECT ml.record_outcome(experiment => 'ab', unit_id => 'u1', metric => 'minutes', value => 12.5) AS variant;
SELECT unit_id, variant, metric, value FROM ml.experiment_outcomes WHERE experiment = 'ab' ORDER BY unit_id, metric;

-- a stopped experiment still takes late outcomes
SELECT status FROM ml.set_experiment_status('ab', 'stopped');
SELECT ml.record_outcome('ab', 'u2', 'engaged', 1) AS late_outcome;
SELECT status FROM ml.set_experiment_status('ab', 'running');

-- refusals
SELECT error_of($$SELECT ml.record_outcome('ab', 'never-assigned', 'engaged', 1)$$) AS unexposed;
SELECT error_of($$SELECT ml.record_outcome('nope', 'u1', 'engaged', 1)$$) AS unknown_experiment;
SELECT error_of($$SELECT ml.record_outcome('ab', 'u1', 'engaged', 'NaN')$$) AS nan;
SELECT error_of($$SELECT ml.record_outcome('ab', 'u1', 'engaged', 'Infinity')$$) AS infinite;
SELECT error_of($$SELECT ml.record_outcome('ab', 'u1', 'engaged', NULL)$$) AS null_value;
SELECT error_of($$SELECT ml.record_outcome('ab', 'u1', NULL, 1)$$) AS null_metric;
SELECT error_of($$SELECT ml.record_outcome('ab', NULL, 'engaged', 1)$$) AS null_unit;

-- decisions made by an arm feed the experiment: numeric and boolean keys, for exposed units
-- whose exposure matches the decision's variant
SELECT ml.assign_variant('ab', 'learner-7') AS learner_variant \gset
SELECT ml.record_decision('response_strategy', 'learner-7', '{}', '{"action": "brief_answer"}',
                          experiment => 'ab', variant => :'learner_variant') AS decision_id \gset
SELECT ml.record_outcome(:decision_id, '{"engaged": true, "engagement": 0.75, "note": "text is ignored"}');
SELECT unit_id, variant = :'learner_variant' AS same_variant, metric, value
  FROM ml.experiment_outcomes WHERE unit_id = 'learner-7' ORDER BY metric;
SELECT ml.record_outcome(:decision_id, '{"engaged": false}') IS NOT NULL AS merged;
SELECT metric, value FROM ml.experiment_outcomes WHERE unit_id = 'learner-7' ORDER BY metric;
-- a decision claiming another variant than the unit's exposure is an error (see silent_failures.sql);
-- written by a plain INSERT, it feeds nothing
INSERT INTO ml.mltrainingdata (task, unit_id, features, decision, experiment, variant)
     VALUES ('response_strategy', 'learner-7', '{}', '{"action": "brief_answer"}', 'ab', 'not-' || :'learner_variant')
  RETURNING id AS other_id \gset
SELECT ml.record_outcome(:other_id, '{"engaged": true, "extra": 5}') IS NOT NULL AS merged;
SELECT count(*) AS extra_rows FROM ml.experiment_outcomes WHERE metric = 'extra';
-- ... and neither does a decision of an unexposed unit (its assigned variant, by the hash, is rules)
SELECT ml.record_outcome(ml.record_decision('t', 'stranger', '{}', '{}', experiment => 'ab', variant => 'rules'),
                         '{"engaged": true}') IS NOT NULL AS merged;
SELECT count(*) AS stranger_rows FROM ml.experiment_outcomes WHERE unit_id = 'stranger';

-- an exposure and its outcome in one statement: the outcome sees the exposure just written
SELECT ml.record_outcome('ab', 'same-statement', 'engaged', 1) = v AS outcome_of_new_exposure
  FROM (SELECT ml.assign_variant('ab', 'same-statement') AS v) a;
-- rolled-back writes leave nothing behind, in a transaction and in a subtransaction
BEGIN;
SELECT ml.assign_variant('ab', 'rolled-back') IS NOT NULL AS assigned;
SAVEPOINT s;
SELECT ml.record_outcome('ab', 'rolled-back', 'engaged', 1) IS NOT NULL AS recorded;
ROLLBACK TO s;
SELECT count(*) AS outcomes_after_savepoint FROM ml.experiment_outcomes WHERE unit_id = 'rolled-back';
ROLLBACK;
SELECT count(*) AS exposures_after_rollback FROM ml.experiment_exposures WHERE unit_id = 'rolled-back';

-- tables with a trigger of their own (or row security, or columns added) are written
-- through SQL, so the trigger fires; the results are the same
CREATE TABLE audit (tbl text, op text, unit_id text, value float8);
CREATE FUNCTION audit_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO audit VALUES (TG_TABLE_NAME, TG_OP, NEW.unit_id, (to_jsonb(NEW)->>'value')::float8);
    RETURN NEW;
END $$;
CREATE TRIGGER audit AFTER INSERT OR UPDATE ON ml.experiment_exposures FOR EACH ROW EXECUTE FUNCTION audit_row();
CREATE TRIGGER audit AFTER INSERT OR UPDATE ON ml.experiment_outcomes FOR EACH ROW EXECUTE FUNCTION audit_row();
SELECT ml.assign_variant('ab', 'audited') = ml.assign_variant('ab', 'audited', false) AS hashed_variant,
       ml.assign_variant('ab', 'audited') = ml.assign_variant('ab', 'audited', false) AS logged_variant;
SELECT ml.record_outcome('ab', 'audited', 'engaged', 0) = ml.assign_variant('ab', 'audited') AS recorded;
SELECT ml.record_outcome('ab', 'audited', 'engaged', 1) IS NOT NULL AS updated;
SELECT error_of($$SELECT ml.record_outcome('ab', 'unaudited', 'engaged', 1)$$) AS unexposed_through_sql;
SELECT tbl, op, unit_id, value FROM audit ORDER BY tbl, op;
SELECT variant = ml.assign_variant('ab', 'audited', false) AS same_variant, value
  FROM ml.experiment_outcomes WHERE unit_id = 'audited';
DROP TRIGGER audit ON ml.experiment_exposures;
DROP TRIGGER audit ON ml.experiment_outcomes;

-- constraints a DBA adds hold on the direct path too, and stop holding once dropped
ALTER TABLE ml.experiment_outcomes ADD CONSTRAINT at_most_100 CHECK (value <= 100);
SELECT error_of($$SELECT ml.record_outcome('ab', 'u2', 'minutes', 1000)$$) AS over_100;
SELECT ml.record_outcome('ab', 'u2', 'minutes', 100) IS NOT NULL AS at_100;
ALTER TABLE ml.experiment_outcomes DROP CONSTRAINT at_most_100;
SELECT ml.record_outcome('ab', 'u2', 'seconds', 1000) IS NOT NULL AS over_100_without_constraint;

-- a unit exposed before costs no transaction id (nothing is written)
BEGIN;
SELECT ml.assign_variant('ab', 'u1') IS NOT NULL AS assigned_again;
SELECT pg_current_xact_id_if_assigned() IS NULL AS no_transaction_id;
COMMIT;

-- a column whose type the owner changed: the functions go through SQL instead of crashing
ALTER TABLE ml.experiment_outcomes ALTER COLUMN value TYPE numeric;
SELECT ml.record_outcome('ab', 'u2', 'after_alter', 2.5) IS NOT NULL AS recorded_through_sql;
ALTER TABLE ml.experiment_outcomes ALTER COLUMN value TYPE double precision;
SELECT value FROM ml.experiment_outcomes WHERE unit_id = 'u2' AND metric = 'after_alter';

-- deletions under REPEATABLE READ are refused: their snapshot could miss rows written meanwhile
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT error_of($$DELETE FROM ml.experiments WHERE name = 'ab'$$) AS repeatable_read_delete;
ROLLBACK;
-- TRUNCATE reaches the exposures and outcomes too
BEGIN;
TRUNCATE ml.experiments CASCADE;
SELECT (SELECT count(*) FROM ml.experiment_exposures) AS exposures,
       (SELECT count(*) FROM ml.experiment_outcomes) AS outcomes;
ROLLBACK;

-- a CHECK constraint whose function logs another exposure: the nested write gets its own
-- prepared constraints, and both rows are written
CREATE FUNCTION reenter(u text) RETURNS boolean LANGUAGE sql AS $$
    SELECT ml.assign_variant('ab', 'in-' || u) IS NOT NULL;
    SELECT true;
$$;
ALTER TABLE ml.experiment_exposures ADD CONSTRAINT reenters CHECK (unit_id LIKE 'in-%' OR reenter(unit_id));
SELECT ml.assign_variant('ab', 'outer') IS NOT NULL AS outer_assigned;
SELECT unit_id FROM ml.experiment_exposures WHERE unit_id LIKE '%outer' ORDER BY unit_id;
ALTER TABLE ml.experiment_exposures DROP CONSTRAINT reenters;

-- deleting an experiment deletes its exposures, outcomes and weight history
DELETE FROM ml.experiments WHERE name = 'ab';
SELECT (SELECT count(*) FROM ml.experiment_exposures WHERE experiment = 'ab') AS exposures,
       (SELECT count(*) FROM ml.experiment_outcomes WHERE experiment = 'ab') AS outcomes,
       (SELECT count(*) FROM ml.experiment_allocations WHERE experiment = 'ab') AS allocations;
