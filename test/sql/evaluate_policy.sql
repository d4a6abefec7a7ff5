-- ml.evaluate_policy: off-policy estimates of a candidate model on logged
-- decisions, against the simulation's true value and independent SQL
-- recomputations; exclusions, warnings and bad inputs.  The training sources
-- are ordered: their random split, and so the models, must not depend on
-- where earlier suites left free space in ml.MLTrainingData; the simulated
-- times are fixed, as the bootstrap draws from each decision's unit and time.
SET client_min_messages = warning;
SELECT ml.simulate_users(users => 150, days => 5, seed => 100, task => 'ope_train', start_at => '2026-01-01') AS simulated;
SELECT model_name, version
  FROM ml.train('ope_eng', $$SELECT * FROM ml.MLTrainingData WHERE task = 'ope_train' AND outcome ? 'engaged' ORDER BY id$$,
                $$(outcome->>'engaged')::boolean$$,
                features => ARRAY['features', $$decision->>'action' AS action$$], params => '{"num_round": 20}');
-- ten logs of the rules with 30% uniform exploration (propensities logged), one per seed
SELECT sum(ml.simulate_users(users => 80, days => 5, seed => s, task => 'ope_' || s, start_at => '2026-01-01')) AS logged
  FROM generate_series(1, 10) s;

-- the candidate's estimates on each log (the NOTICEs of rows without an outcome are tested below), and its true value on the same contexts
CREATE TEMP TABLE est AS
SELECT s, e.* FROM generate_series(1, 10) s, ml.evaluate_policy('ope_' || s, 'ope_eng', 'engaged') e;
CREATE TEMP TABLE truth AS
SELECT s, avg(ml.simulate_policy_value('model:ope_eng', d.unit_id, d.features, s)) AS truth
  FROM generate_series(1, 10) s
  JOIN ml.MLTrainingData d ON d.task = 'ope_' || s AND d.outcome ? 'engaged'
 GROUP BY s;

-- IPS, SNIPS and DR: the 95% interval holds the true value in at least 9 of 10 seeds
SELECT estimator, count(*) FILTER (WHERE t.truth BETWEEN ci_low AND ci_high) >= 9 AS covered_9_of_10,
       bool_and(ci_low < value AND value < ci_high) AS value_inside
  FROM est e JOIN truth t USING (s)
 WHERE estimator <> 'logged' GROUP BY estimator ORDER BY estimator;

-- the point estimates recomputed independently in SQL from the rows and ml.action_distribution
CREATE TEMP TABLE terms AS
SELECT d.task, (d.outcome->>'engaged')::boolean::int AS r, (d.decision->>'propensity')::float8 AS p,
       coalesce((SELECT probability FROM ml.action_distribution('ope_eng', d.features) a
                  WHERE a.action = d.decision->>'action'), 0) AS pi,
       (SELECT score FROM ml.action_distribution('ope_eng', d.features) a
         WHERE a.action = d.decision->>'action') AS q_logged,
       (SELECT sum(probability * score) FROM ml.action_distribution('ope_eng', d.features)) AS q_policy
  FROM ml.MLTrainingData d
 WHERE d.task IN ('ope_1', 'ope_2') AND d.outcome ? 'engaged';
WITH sql AS (
    SELECT task, count(*) AS n, avg(r) AS logged, avg(pi / p * r) AS ips, sum(pi / p * r) / sum(pi / p) AS snips,
           avg(q_policy + pi / p * (r - q_logged)) AS dr, sum(pi / p) ^ 2 / sum((pi / p) ^ 2) AS ess
      FROM terms GROUP BY task)
SELECT sql.task, e.estimator, e.n = sql.n AS same_n,
       abs(e.value - CASE e.estimator WHEN 'logged' THEN sql.logged WHEN 'ips' THEN sql.ips
                                      WHEN 'snips' THEN sql.snips ELSE sql.dr END) < 1e-9 AS same_value,
       abs(e.ess - CASE e.estimator WHEN 'logged' THEN sql.n ELSE sql.ess END) < 1e-6 AS same_ess,
       e.clipped = 0 AS unclipped, e.warnings = '{}' AS no_warnings
  FROM sql JOIN est e ON 'ope_' || e.s = sql.task
 ORDER BY 1, 2;

-- the same rows and seed give the same intervals; another seed other ones
SELECT a.estimator, a.ci_low = b.ci_low AND a.ci_high = b.ci_high AS same_seed_same_interval,
       a.ci_low <> c.ci_low AS other_seed_other_interval
  FROM ml.evaluate_policy('ope_1', 'ope_eng', 'engaged', bootstrap => 200) a
  JOIN ml.evaluate_policy('ope_1', 'ope_eng', 'engaged', bootstrap => 200) b USING (estimator)
  JOIN ml.evaluate_policy('ope_1', 'ope_eng', 'engaged', bootstrap => 200, seed => 7) c USING (estimator)
 ORDER BY 1;
-- no resamples: no intervals
SELECT estimator, value IS NOT NULL AS has_value, ci_low IS NULL AND ci_high IS NULL AS no_interval
  FROM ml.evaluate_policy('ope_1', 'ope_eng', 'engaged', bootstrap => 0) ORDER BY 1;

-- clipping: the weights above max_weight are counted (here 1 / 0.06 of explored rows the
-- candidate agrees with), clipped, and warned about when they are more than 5% of the rows
SELECT e.estimator, e.clipped = (SELECT count(*) FROM terms WHERE task = 'ope_1' AND pi / p > 2) AS clipped_counted,
       e.clipped > 0 AS some_clipped, e.largest_weight = 1 / 0.06 AS largest_before_clipping,
       abs(e.value - (SELECT avg(least(pi / p, 2) * r) FROM terms WHERE task = 'ope_1')) < 1e-9 AS ips_of_clipped_weights,
       cardinality(e.warnings) AS warnings
  FROM ml.evaluate_policy('ope_1', 'ope_eng', 'engaged', max_weight => 2, bootstrap => 0) e
 WHERE estimator = 'ips';
-- more than 5% of the weights clipped: a WARNING, and the warnings column says it
SELECT estimator, clipped > 0.05 * n AS many_clipped, warnings
  FROM ml.evaluate_policy('ope_1', 'ope_eng', 'engaged', max_weight => 1.2, bootstrap => 0)
 WHERE estimator = 'ips';
-- NULL clips nothing
SELECT clipped, abs(value - (SELECT avg(pi / p * r) FROM terms WHERE task = 'ope_1')) < 1e-9 AS unclipped_ips
  FROM ml.evaluate_policy('ope_1', 'ope_eng', 'engaged', max_weight => NULL, bootstrap => 0)
 WHERE estimator = 'ips';

-- a candidate equal to the logging policy: logged with the candidate's own epsilon-greedy
-- distribution (propensity and distribution as ml.decide logs them), every weight is 1
SET client_min_messages = warning;
SELECT setseed(0.25);
INSERT INTO ml.MLTrainingData (task, unit_id, created_at, features, decision, outcome, source)
SELECT 'ope_same', c.unit_id, c.created_at, c.features,
       jsonb_build_object('action', pick.action, 'propensity', pick.probability, 'distribution', dist.object),
       ml.simulate_outcome(c.unit_id, c.features, pick.action, 3), 'synthetic'
  FROM ml.simulated_contexts(60, 5, 3) c,
       LATERAL (SELECT jsonb_object_agg(action, probability) AS object, random() AS u
                  FROM ml.action_distribution('ope_eng', c.features, 'epsilon', 0.3)) dist,
       LATERAL (SELECT action, probability
                  FROM (SELECT action, probability,
                               sum(probability) OVER (ORDER BY action) AS upto
                          FROM ml.action_distribution('ope_eng', c.features, 'epsilon', 0.3)) a
                 WHERE dist.u < upto OR upto > 1 - 1e-12
                 ORDER BY upto LIMIT 1) pick;
SELECT estimator, n = (SELECT count(*) FROM ml.MLTrainingData WHERE task = 'ope_same') AS all_rows,
       abs(value - (SELECT avg((outcome->>'engaged')::boolean::int) FROM ml.MLTrainingData WHERE task = 'ope_same')) < 1e-12
         AS equals_logged_value,
       abs(ess - n) < 1e-6 AS ess_is_n, largest_weight, unsupported
  FROM ml.evaluate_policy('ope_same', 'ope_eng', 'engaged', explore => 'epsilon', epsilon => 0.3)
 WHERE estimator IN ('logged', 'ips', 'snips') ORDER BY 1;
-- the greedy candidate on the same log: the logged distribution covers every action
SELECT estimator, unsupported, lift > 0 AS greedy_beats_exploring
  FROM ml.evaluate_policy('ope_same', 'ope_eng', 'engaged') WHERE estimator = 'snips';

-- a candidate taking an action the logging policy gave probability 0 (the rules alone, no
-- exploration): the overlap WARNINGs, and the unsupported share
SET client_min_messages = warning;
INSERT INTO ml.MLTrainingData (task, unit_id, created_at, features, decision, outcome, source)
SELECT 'ope_rules', c.unit_id, c.created_at, c.features,
       jsonb_build_object('action', c.rules_action, 'propensity', 1,
                          'distribution', (SELECT jsonb_object_agg(a, (a = c.rules_action)::int)
                                             FROM unnest(ml.simulated_actions()) a)),
       ml.simulate_outcome(c.unit_id, c.features, c.rules_action, 4), 'synthetic'
  FROM ml.simulated_contexts(40, 5, 4) c;
SELECT estimator, n, round(unsupported::numeric, 4) = round((
         SELECT avg((ml.simulate_rules_action(features) <> (SELECT action FROM ml.action_distribution('ope_eng', features)
                                                             ORDER BY probability DESC LIMIT 1))::int)
           FROM ml.MLTrainingData WHERE task = 'ope_rules')::numeric, 4) AS unsupported_is_disagreement,
       unsupported > 0.01 AS warned, array_length(warnings, 1) >= 1 AS has_warnings,
       warnings[1] LIKE '%% of the candidate''s probability goes to actions the logging policy gave probability 0' AS overlap_warning
  FROM ml.evaluate_policy('ope_rules', 'ope_eng', 'engaged', bootstrap => 0) WHERE estimator = 'ips';

-- the same decisions logged as fallbacks log them (ml.decide's and ml.record_fallback's rows): a
-- distribution of the one action taken, nothing about the others.  The candidate still chooses
-- among all its actions (no "eligible" set was logged), the others have logged probability 0:
-- the same estimates and unsupported share as with the whole distribution, not the logged value
INSERT INTO ml.MLTrainingData (task, unit_id, created_at, features, decision, outcome, source)
SELECT 'ope_fallback', unit_id, created_at, features,
       jsonb_build_object('action', decision->>'action', 'propensity', 1, 'decided_by', 'fallback: model not confident',
                          'distribution', jsonb_build_object(decision->>'action', 1)),
       outcome, 'synthetic'
  FROM ml.MLTrainingData WHERE task = 'ope_rules' ORDER BY id;
SELECT f.estimator, f.value = r.value AS same_value, f.unsupported = r.unsupported AS same_unsupported,
       f.value <> l.value AS not_the_logged_value
  FROM ml.evaluate_policy('ope_fallback', 'ope_eng', 'engaged', bootstrap => 0) f
  JOIN ml.evaluate_policy('ope_rules', 'ope_eng', 'engaged', bootstrap => 0) r USING (estimator)
  JOIN ml.evaluate_policy('ope_fallback', 'ope_eng', 'engaged', bootstrap => 0) l ON l.estimator = 'logged'
 WHERE f.estimator IN ('ips', 'snips') ORDER BY 1;
-- a logged "eligible" set restricts the candidate: allowed only the rules' own action it takes it
UPDATE ml.MLTrainingData SET decision = decision || jsonb_build_object('eligible', jsonb_build_array(decision->>'action'))
 WHERE task = 'ope_fallback';
SELECT estimator, value = (SELECT value FROM ml.evaluate_policy('ope_fallback', 'ope_eng', 'engaged', bootstrap => 0)
                            WHERE estimator = 'logged') AS equals_logged, unsupported
  FROM ml.evaluate_policy('ope_fallback', 'ope_eng', 'engaged', bootstrap => 0) WHERE estimator = 'ips';

-- rows without a propensity, an action or the reward, or with a propensity outside (0, 1], are
-- counted and excluded, with a NOTICE
RESET client_min_messages;
INSERT INTO ml.MLTrainingData (task, unit_id, created_at, features, decision, outcome, source)
SELECT 'ope_mixed', unit_id, created_at, features,
       CASE WHEN i % 10 = 0 THEN decision - 'propensity'
            WHEN i % 10 = 1 THEN jsonb_set(decision, '{propensity}', '0')
            WHEN i % 10 = 2 THEN jsonb_set(decision, '{propensity}', '1.5')
            WHEN i % 10 = 3 THEN jsonb_set(decision, '{propensity}', '"high"')
            WHEN i % 10 = 4 THEN decision - 'action'
            ELSE decision END,
       CASE WHEN i % 10 = 5 THEN outcome - 'engaged'
            WHEN i % 10 = 6 THEN NULL
            WHEN i % 10 = 7 THEN jsonb_set(outcome, '{engaged}', 'null')
            WHEN i % 10 = 8 THEN jsonb_set(outcome, '{engaged}', to_jsonb((outcome->>'engaged')::boolean::int))
            ELSE outcome END, source
  FROM (SELECT d.*, row_number() OVER (ORDER BY id) AS i
          FROM ml.MLTrainingData d WHERE task = 'ope_1' AND outcome ? 'engaged' LIMIT 200) d;
SELECT estimator, n, excluded
  FROM ml.evaluate_policy('ope_mixed', 'ope_eng', 'engaged', bootstrap => 0) WHERE estimator = 'logged';
-- a number reward counts as itself, a boolean as 0 or 1: the logged value is their mean
SELECT abs(value - (SELECT avg(CASE jsonb_typeof(outcome->'engaged') WHEN 'boolean' THEN (outcome->>'engaged')::boolean::int
                                    ELSE (outcome->>'engaged')::float8 END)
                      FROM (SELECT *, row_number() OVER (ORDER BY id) AS i FROM ml.MLTrainingData
                             WHERE task = 'ope_mixed') m WHERE i % 10 IN (8, 9))) < 1e-12 AS logged_value
  FROM ml.evaluate_policy('ope_mixed', 'ope_eng', 'engaged', bootstrap => 0) WHERE estimator = 'logged';
-- every row excluded: the values are NULL, n is 0
SELECT estimator, value, ci_low, n, excluded, ess
  FROM ml.evaluate_policy('ope_1', 'ope_eng', 'no_such_reward', bootstrap => 10) ORDER BY estimator;

-- a policy candidate (its classes are the actions) has no direct method: DR is NULL
SET client_min_messages = warning;
SELECT model_name FROM ml.train('ope_policy', $$SELECT * FROM ml.MLTrainingData WHERE task = 'ope_train' ORDER BY id$$,
                                $$decision->>'action'$$, features => ARRAY['features'], params => '{"num_round": 5}');
RESET client_min_messages;
SELECT estimator, value IS NULL AS no_value, ci_low IS NULL AS no_interval
  FROM ml.evaluate_policy('ope_1', 'ope_policy', 'engaged', bootstrap => 20) WHERE estimator IN ('ips', 'dr') ORDER BY 1;
-- ... unless an outcome model is given as the direct method
SET client_min_messages = warning;
SELECT estimator, value IS NOT NULL AS has_value
  FROM ml.evaluate_policy('ope_1', 'ope_policy', 'engaged', dm_model => 'ope_eng', bootstrap => 20) WHERE estimator = 'dr';

-- bad inputs: clear errors
SELECT error_of($$SELECT * FROM ml.evaluate_policy('no_such_task', 'ope_eng', 'engaged')$$);
SELECT error_of($$SELECT * FROM ml.evaluate_policy('ope_1', 'no_such_model', 'engaged')$$);
SELECT error_of($$SELECT * FROM ml.evaluate_policy('ope_1', 'ope_eng', 'engaged', dm_model => 'no_such_model')$$);
SELECT error_of($$SELECT * FROM ml.evaluate_policy('ope_1', 'ope_eng', 'engaged', dm_model => 'ope_policy')$$);
SELECT error_of($$SELECT * FROM ml.evaluate_policy('ope_1', 'ope_eng', 'engaged', version => 0)$$);
SELECT error_of($$SELECT * FROM ml.evaluate_policy('ope_1', 'ope_eng', 'engaged', version => 9)$$);
SELECT error_of($$SELECT * FROM ml.evaluate_policy(NULL, 'ope_eng', 'engaged')$$);
SELECT error_of($$SELECT * FROM ml.evaluate_policy('ope_1', 'ope_eng', NULL)$$);
SELECT error_of($$SELECT * FROM ml.evaluate_policy('ope_1', 'ope_eng', 'engaged', max_weight => 0)$$);
SELECT error_of($$SELECT * FROM ml.evaluate_policy('ope_1', 'ope_eng', 'engaged', max_weight => 'NaN')$$);
SELECT error_of($$SELECT * FROM ml.evaluate_policy('ope_1', 'ope_eng', 'engaged', bootstrap => -1)$$);
SELECT error_of($$SELECT * FROM ml.evaluate_policy('ope_1', 'ope_eng', 'engaged', bootstrap => 100001)$$);
SELECT error_of($$SELECT * FROM ml.evaluate_policy('ope_1', 'ope_eng', 'engaged', confidence => 1)$$);
SELECT error_of($$SELECT * FROM ml.evaluate_policy('ope_1', 'ope_eng', 'engaged', explore => 'epsilon', epsilon => 2)$$);
SELECT error_of($$SELECT * FROM ml.evaluate_policy('ope_1', 'ope_eng', 'engaged', explore => 'boltzmann')$$);
-- a reward that is there but no finite number or boolean ("NaN", a string) is an error, not a row left out
INSERT INTO ml.MLTrainingData (task, unit_id, features, decision, outcome)
VALUES ('ope_nan', 'u1', '{"hour_of_day": 3}', '{"action": "brief_answer", "propensity": 0.5}', '{"engaged": "NaN"}');
SELECT regexp_replace(error_of($$SELECT * FROM ml.evaluate_policy('ope_nan', 'ope_eng', 'engaged')$$),
                      'decision [0-9]+', 'decision N');
RESET client_min_messages;

-- a bandit candidate ('bandit:<name>'): its Thompson probabilities for each row's unit, as
-- ml.bandit_distribution gives them; recomputed in SQL
SET client_min_messages = warning;
SELECT name FROM ml.create_bandit('ope_b', ml.simulated_actions(), context => 'none', reward => 'engaged', prior => 'uniform');
RESET client_min_messages;
CREATE TEMP TABLE bandit_terms AS
SELECT (d.outcome->>'engaged')::boolean::int AS r, (d.decision->>'propensity')::float8 AS p,
       coalesce((SELECT probability FROM ml.bandit_distribution('ope_b', d.unit_id, d.features) b
                  WHERE b.action = d.decision->>'action'), 0) AS pi
  FROM ml.MLTrainingData d WHERE d.task = 'ope_1' AND d.outcome ? 'engaged';
SELECT e.estimator, e.n = (SELECT count(*) FROM bandit_terms) AS same_n,
       abs(e.value - CASE e.estimator WHEN 'logged' THEN (SELECT avg(r) FROM bandit_terms)
                                      WHEN 'ips' THEN (SELECT avg(pi / p * r) FROM bandit_terms)
                                      WHEN 'snips' THEN (SELECT sum(pi / p * r) / sum(pi / p) FROM bandit_terms) END) < 1e-9
         AS same_value, e.value IS NULL AS no_value
  FROM ml.evaluate_policy('ope_1', 'bandit:ope_b', 'engaged', bootstrap => 0) e ORDER BY 1;
-- with an outcome model as its direct method, DR too
SELECT estimator, value IS NOT NULL AS has_value
  FROM ml.evaluate_policy('ope_1', 'bandit:ope_b', 'engaged', dm_model => 'ope_eng', bootstrap => 0)
 WHERE estimator = 'dr';
SELECT error_of($$SELECT * FROM ml.evaluate_policy('ope_1', 'bandit:no_such_bandit', 'engaged')$$);

-- ml.compare_policies: the candidate against a baseline (the deployed version by default) on the
-- same rows in one pass: the difference is the two ml.evaluate_policy values' (same rows, same
-- clipping), its interval paired
SET client_min_messages = warning;
CREATE TEMP TABLE single AS
SELECT m.model, e.* FROM unnest(ARRAY['ope_eng', 'ope_policy']) m(model),
       ml.evaluate_policy('ope_1', m.model, 'engaged', dm_model => 'ope_eng', bootstrap => 0) e;
SELECT c.estimator, c.n = s.n AS same_rows,
       abs(c.candidate_value - s.value) < 1e-12 AS candidate_value,
       abs(c.baseline_value - b.value) < 1e-12 AS baseline_value,
       abs(c.difference - (s.value - b.value)) < 1e-12 AS difference,
       c.ci_low < c.difference AND c.difference < c.ci_high AS inside,
       c.ci_high - c.ci_low < (s2.ci_high - s2.ci_low) + (b2.ci_high - b2.ci_low) AS paired_narrower
  FROM ml.compare_policies('ope_1', 'ope_eng', 'ope_policy', 'engaged', dm_model => 'ope_eng') c
  JOIN single s ON s.model = 'ope_eng' AND s.estimator = c.estimator
  JOIN single b ON b.model = 'ope_policy' AND b.estimator = c.estimator
  JOIN ml.evaluate_policy('ope_1', 'ope_eng', 'engaged', dm_model => 'ope_eng') s2 ON s2.estimator = c.estimator
  JOIN ml.evaluate_policy('ope_1', 'ope_policy', 'engaged', dm_model => 'ope_eng') b2 ON b2.estimator = c.estimator
 ORDER BY 1;
-- a policy against itself: no difference, and no width
SELECT estimator, difference, ci_low, ci_high
  FROM ml.compare_policies('ope_1', 'ope_eng', 'ope_eng', 'engaged', bootstrap => 100) ORDER BY 1;
-- the deployed baseline by default; without a direct method for both, DR is NULL
SELECT estimator, difference IS NULL AS no_difference
  FROM ml.compare_policies('ope_1', 'ope_eng', 'ope_policy', 'engaged', bootstrap => 0) ORDER BY 1;
SELECT error_of($$SELECT * FROM ml.compare_policies('ope_1', 'ope_eng', 'no_such_model', 'engaged')$$);
SELECT error_of($$SELECT * FROM ml.compare_policies('ope_1', 'ope_eng', NULL, 'engaged')$$);
SELECT error_of($$SELECT * FROM ml.compare_policies('ope_1', 'ope_eng', 'ope_policy', 'engaged', baseline_version => 5)$$);
RESET client_min_messages;

-- ml.train(..., deploy_metric => 'policy_value'): champion/challenger by estimated policy value
-- on the logged decisions policy_evaluation names (ml.compare_policies, DR by default)
SET client_min_messages = warning;
-- the champion: a model of the opposite outcome, whose greedy policy picks poor actions (deployed,
-- the first of its name)
SELECT model_name, version, deployed
  FROM ml.train('ope_gate', $$SELECT * FROM ml.MLTrainingData WHERE task = 'ope_train' AND outcome ? 'engaged' ORDER BY id$$,
                $$NOT (outcome->>'engaged')::boolean$$,
                features => ARRAY['features', $$decision->>'action' AS action$$], params => '{"num_round": 3}');
-- the challenger on all the data: compared by policy value on the 'ope_2' log, and deployed only
-- when its DR value beats the champion's by the margin with the paired interval above 0
CREATE TEMP TABLE gate AS
SELECT model_name, version, deployed, reason
  FROM ml.train('ope_gate', $$SELECT * FROM ml.MLTrainingData WHERE task = 'ope_train' AND outcome ? 'engaged' ORDER BY id$$,
                $$(outcome->>'engaged')::boolean$$,
                features => ARRAY['features', $$decision->>'action' AS action$$], params => '{"num_round": 20}',
                deploy_metric => 'policy_value',
                policy_evaluation => '{"task": "ope_2", "reward": "engaged", "bootstrap": 200}');
SELECT g.version, g.deployed, g.deployed = (c.difference >= 0.05 * abs(c.baseline_value) AND c.ci_low > 0) AS decided_by_policy_value,
       g.reason LIKE '%deploy_metric policy_value (dr on ' || c.n || ' logged decisions): v2 %' AS reason_says_it,
       g.deployed = (ml.deployed_version('ope_gate') = 2) AS deployment_follows
  FROM gate g,
       ml.compare_policies('ope_2', 'ope_gate', 'ope_gate', 'engaged', candidate_version => 2,
                           baseline_version => 1, bootstrap => 200) c
 WHERE c.estimator = 'dr';
SELECT d.model_version, d.deployed, d.reason = g.reason AS recorded
  FROM ml.deployment_decisions d JOIN gate g ON g.version = d.model_version
 WHERE d.model_name = 'ope_gate';
-- a margin the challenger cannot reach: not deployed, whatever the accuracy says
SELECT version, deployed,
       reason LIKE '%: not better (deploying needs a difference of at least 90% of the champion''s value and its interval above 0)' AS not_better
  FROM ml.train('ope_gate', $$SELECT * FROM ml.MLTrainingData WHERE task = 'ope_train' AND outcome ? 'engaged' ORDER BY id$$,
                $$(outcome->>'engaged')::boolean$$,
                features => ARRAY['features', $$decision->>'action' AS action$$], params => '{"num_round": 20}',
                min_improvement => 0.9, deploy_metric => 'policy_value',
                policy_evaluation => '{"task": "ope_2", "reward": "engaged", "bootstrap": 100}');
-- the comparison fails (no logged decision of the task): the training fails, nothing is registered
SELECT error_of($$SELECT * FROM ml.train('ope_gate', $q$SELECT * FROM ml.MLTrainingData WHERE task = 'ope_train' AND outcome ? 'engaged' ORDER BY id$q$,
                $q$(outcome->>'engaged')::boolean$q$,
                features => ARRAY['features', $q$decision->>'action' AS action$q$], params => '{"num_round": 2}',
                deploy_metric => 'policy_value', policy_evaluation => '{"task": "no_such_task", "reward": "engaged"}')$$);
SELECT max(version) AS still_three FROM ml.models WHERE name = 'ope_gate';
-- bad arguments, before any training
SELECT error_of($$SELECT * FROM ml.train('ope_gate', 'ml.MLTrainingData', 'true', deploy_metric => 'policy_value')$$);
SELECT error_of($$SELECT * FROM ml.train('ope_gate', 'ml.MLTrainingData', 'true', deploy_metric => 'accuracy')$$);
SELECT error_of($$SELECT * FROM ml.train('ope_gate', 'ml.MLTrainingData', 'true', policy_evaluation => '{"task": "t"}')$$);
SELECT error_of($$SELECT * FROM ml.train('ope_gate', 'ml.MLTrainingData', 'true', deploy_metric => 'policy_value', policy_evaluation => '{"task": "t"}')$$);
SELECT error_of($$SELECT * FROM ml.train('ope_gate', 'ml.MLTrainingData', 'true', deploy_metric => 'policy_value', policy_evaluation => '{"task": "t", "reward": "r", "estimator": "mean"}')$$);
SELECT error_of($$SELECT * FROM ml.train('ope_gate', 'ml.MLTrainingData', 'true', deploy_metric => 'policy_value', policy_evaluation => '{"task": "t", "reward": "r", "clip": 3}')$$);
RESET client_min_messages;

-- privileges: in the train access (the caller's rights: it reads ml.MLTrainingData and ml.models)
SET client_min_messages = warning;
CREATE ROLE learnloop_test_ope_trainer;
CREATE ROLE learnloop_test_ope_reader;
SELECT ml.grant_access('learnloop_test_ope_trainer', 'train');
SELECT ml.grant_access('learnloop_test_ope_reader', 'read');
SET ROLE learnloop_test_ope_trainer;
SELECT estimator, n FROM ml.evaluate_policy('ope_1', 'ope_eng', 'engaged', bootstrap => 0) ORDER BY 1;
SELECT estimator, n FROM ml.compare_policies('ope_1', 'ope_eng', 'ope_eng', 'engaged', bootstrap => 0) ORDER BY 1;
SET ROLE learnloop_test_ope_reader;
SELECT error_of($$SELECT * FROM ml.evaluate_policy('ope_1', 'ope_eng', 'engaged')$$);
RESET ROLE;
DROP OWNED BY learnloop_test_ope_trainer, learnloop_test_ope_reader;
DROP ROLE learnloop_test_ope_trainer, learnloop_test_ope_reader;
RESET client_min_messages;
