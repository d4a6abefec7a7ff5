-- Experiment outcomes: latest value wins, retries, refusals, and the decision-id path
CREATE FUNCTION pg_temp.error_of(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    state text; message text; hint text;
BEGIN
    EXECUTE sql;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
    RETURN state || ': ' || message || ' | HINT: ' || hint;
END $$;

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
SELECT pg_temp.error_of($$SELECT ml.record_outcome('ab', 'never-assigned', 'engaged', 1)$$) AS unexposed;
SELECT pg_temp.error_of($$SELECT ml.record_outcome('nope', 'u1', 'engaged', 1)$$) AS unknown_experiment;
SELECT pg_temp.error_of($$SELECT ml.record_outcome('ab', 'u1', 'engaged', 'NaN')$$) AS nan;
SELECT pg_temp.error_of($$SELECT ml.record_outcome('ab', 'u1', 'engaged', 'Infinity')$$) AS infinite;
SELECT pg_temp.error_of($$SELECT ml.record_outcome('ab', 'u1', 'engaged', NULL)$$) AS null_value;
SELECT pg_temp.error_of($$SELECT ml.record_outcome('ab', 'u1', NULL, 1)$$) AS null_metric;
SELECT pg_temp.error_of($$SELECT ml.record_outcome('ab', NULL, 'engaged', 1)$$) AS null_unit;

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
-- a decision claiming another variant than the unit's exposure feeds nothing
SELECT ml.record_decision('response_strategy', 'learner-7', '{}', '{"action": "brief_answer"}',
                          experiment => 'ab', variant => 'not-' || :'learner_variant') AS other_id \gset
SELECT ml.record_outcome(:other_id, '{"engaged": true, "extra": 5}') IS NOT NULL AS merged;
SELECT count(*) AS extra_rows FROM ml.experiment_outcomes WHERE metric = 'extra';
-- ... and neither does a decision of an unexposed unit
SELECT ml.record_outcome(ml.record_decision('t', 'stranger', '{}', '{}', experiment => 'ab', variant => 'model'),
                         '{"engaged": true}') IS NOT NULL AS merged;
SELECT count(*) AS stranger_rows FROM ml.experiment_outcomes WHERE unit_id = 'stranger';

-- deleting an experiment deletes its exposures, outcomes and weight history
DELETE FROM ml.experiments WHERE name = 'ab';
SELECT (SELECT count(*) FROM ml.experiment_exposures WHERE experiment = 'ab') AS exposures,
       (SELECT count(*) FROM ml.experiment_outcomes WHERE experiment = 'ab') AS outcomes,
       (SELECT count(*) FROM ml.experiment_allocations WHERE experiment = 'ab') AS allocations;
