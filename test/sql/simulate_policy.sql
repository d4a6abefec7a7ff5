-- ml.simulated_contexts, ml.simulate_policy (online replay of a policy over simulated days)
-- and ml.simulate_policy_value (a policy's true value on given contexts)
SET client_min_messages = warning;  -- training progress notices depend on timing
SET timezone = 'UTC';
SELECT coalesce(max(id), 0) AS before_replays FROM ml.mltrainingdata \gset

-- the contexts: users x days x decisions_per_day rows, deterministic, the
-- rules' action for each as ml.simulate_rules_action reads it from the features
SELECT count(*) AS contexts, count(DISTINCT unit_id) AS units, min(day) AS first_day, max(day) AS last_day,
       bool_and(created_at >= '2026-03-01'::timestamptz + (day - 1) * interval '1 day'
                AND created_at < '2026-03-01'::timestamptz + day * interval '1 day') AS day_matches_time,
       bool_and(rules_action = ml.simulate_rules_action(features)) AS rules_action_of_features,
       bool_and(NOT features ? 'recent_engagement' AND features ? 'sessions_so_far') AS history_left_to_the_policy
  FROM ml.simulated_contexts(40, 6, seed => 5, start_at => '2026-03-01');
SELECT (SELECT md5(string_agg(c::text, '|')) FROM ml.simulated_contexts(30, 4, seed => 1) c) =
       (SELECT md5(string_agg(c::text, '|')) FROM ml.simulated_contexts(30, 4, seed => 1) c) AS same_seed_same_contexts,
       (SELECT md5(string_agg(c::text, '|')) FROM ml.simulated_contexts(30, 4, seed => 1) c) <>
       (SELECT md5(string_agg(c::text, '|')) FROM ml.simulated_contexts(30, 4, seed => 2) c) AS other_seed_other_contexts;
-- the rules as written: stressed or sad -> empathy; long or a question -> detail; curious -> socratic; else brief
SELECT ml.simulate_rules_action('{"emotional_state": "sad", "message_length": 80}') AS sad,
       ml.simulate_rules_action('{"emotional_state": "calm", "is_question": true}') AS question,
       ml.simulate_rules_action('{"emotional_state": "curious", "message_length": 10}') AS curious,
       ml.simulate_rules_action('{"emotional_state": "excited", "message_length": 10}') AS otherwise,
       ml.simulated_actions() AS actions;

-- Replay the rules and the oracle (the truly best action per context) on the same contexts
CREATE TEMP TABLE rules_run AS
SELECT * FROM ml.simulate_policy('rules', 60, 7, seed => 31, start_at => '2026-03-01', task => 'simpol_rules');
CREATE TEMP TABLE oracle_run AS
SELECT * FROM ml.simulate_policy('oracle', 60, 7, seed => 31, start_at => '2026-03-01', task => 'simpol_oracle');
SELECT day, decisions FROM rules_run ORDER BY day;

-- every decision recorded (synthetic, at its simulated time, with its outcome and
-- propensity 1), its action the rules' action for the features it was decided on
SELECT task, count(*) AS decisions, count(outcome) AS outcomes,
       bool_and(source = 'synthetic') AS synthetic,
       bool_and(created_at >= '2026-03-01' AND created_at < '2026-03-08') AS simulated_times,
       bool_and(outcome_at > created_at) AS outcome_after_decision,
       bool_and((decision->>'propensity')::float8 = 1) AS propensity_one,
       bool_and(decision->>'action' = ml.simulate_rules_action(features)) AS rules_actions,
       bool_and(features ? 'recent_engagement' AND features ? 'engagement_trend') AS with_history
  FROM ml.mltrainingdata WHERE id > :before_replays AND task IN ('simpol_rules', 'simpol_oracle')
 GROUP BY task ORDER BY task;

-- the returned numbers, recomputed independently from the recorded rows: the
-- expected reward is the mean truth of the recorded actions, the realized
-- reward the engaged rate of the recorded outcomes, the oracle the mean of
-- each context's best truth
CREATE TEMP TABLE rules_rows AS
SELECT floor(extract(epoch FROM created_at - '2026-03-01'::timestamptz) / 86400)::int + 1 AS day,
       ml.simulate_expected_outcome(unit_id, features, decision->>'action', 31) AS truth,
       (SELECT max(ml.simulate_expected_outcome(unit_id, features, a, 31)) FROM unnest(ml.simulated_actions()) a) AS best,
       (outcome->>'engaged')::boolean::int AS engaged
  FROM ml.mltrainingdata WHERE id > :before_replays AND task = 'simpol_rules';
SELECT r.day, abs(r.expected_reward - x.truth) < 1e-12 AS expected_matches,
       abs(r.realized_reward - x.engaged) < 1e-12 AS realized_matches,
       abs(r.oracle_reward - x.best) < 1e-12 AS oracle_matches,
       abs(r.regret - x.regret) < 1e-9 AS regret_matches
  FROM rules_run r
  JOIN (SELECT day, avg(truth) AS truth, avg(engaged) AS engaged, avg(best) AS best, sum(best - truth) AS regret
          FROM rules_rows GROUP BY day) x USING (day)
 ORDER BY r.day;
SELECT abs((SELECT cumulative_regret FROM rules_run WHERE day = 7) - (SELECT sum(best - truth) FROM rules_rows)) < 1e-9
       AS cumulative_regret_matches,
       (SELECT bool_and(cumulative_regret >= 0) FROM rules_run) AS regret_never_negative;

-- the oracle: no policy's expected reward beats it; it has no regret; the
-- rules leave a lot (the simulation's > 20 points of lift for the oracle)
SELECT bool_and(o.oracle_reward = r.oracle_reward) AS same_contexts_same_oracle,
       bool_and(o.expected_reward = o.oracle_reward AND o.cumulative_regret = 0) AS oracle_no_regret,
       bool_and(r.expected_reward <= r.oracle_reward) AS rules_below_oracle,
       avg(o.expected_reward) - avg(r.expected_reward) > 0.05 AS oracle_clearly_better,
       -- the realized rewards are draws around the truth (binomial, 180 decisions a day)
       bool_and(abs(r.realized_reward - r.expected_reward) < 4.5 * sqrt(0.25 / r.decisions)) AS rules_realized_near_truth
  FROM oracle_run o JOIN rules_run r USING (day);

-- reproducible: the same seed replays the same decisions and outcomes
SELECT count(*) AS differing_days
  FROM (SELECT * FROM rules_run
        EXCEPT
        SELECT * FROM ml.simulate_policy('rules', 60, 7, seed => 31, start_at => '2026-03-01', task => 'simpol_rules2')) d;
SELECT (SELECT string_agg(decision->>'action' || (outcome->>'engaged'), ',' ORDER BY created_at, unit_id COLLATE "C", id)
          FROM ml.mltrainingdata WHERE id > :before_replays AND task = 'simpol_rules') =
       (SELECT string_agg(decision->>'action' || (outcome->>'engaged'), ',' ORDER BY created_at, unit_id COLLATE "C", id)
          FROM ml.mltrainingdata WHERE id > :before_replays AND task = 'simpol_rules2') AS same_rows;

-- A model trained on the simulation's logged data (the rules with 30 % exploration)
-- decides through ml.decide: lower regret than the rules on the same contexts
CREATE TABLE simpol_log AS
SELECT 'simpol_log'::text AS task, * FROM ml.simulated_decisions(300, 14, seed => 31, start_at => '2026-01-01');
SELECT version, deployed
  FROM ml.train('simpol_engagement', 'simpol_log', $$(outcome->>'engaged')::boolean$$,
                features => ARRAY['features', $$decision->>'action' AS action$$],
                filter => 'outcome IS NOT NULL', split => 'time', split_column => 'created_at',
                params => '{"num_round": 60, "max_depth": 4}');
CREATE TEMP TABLE model_run AS
SELECT * FROM ml.simulate_policy('model:simpol_engagement', 60, 7, seed => 31, start_at => '2026-03-01',
                                 task => 'simpol_model');
SELECT count(*) AS decisions,
       bool_and(decision->>'decided_by' = 'model simpol_engagement v1') AS all_by_the_model,
       bool_and(source = 'synthetic') AS synthetic
  FROM ml.mltrainingdata WHERE id > :before_replays AND task = 'simpol_model';
SELECT (SELECT cumulative_regret FROM model_run WHERE day = 7) <
       0.6 * (SELECT cumulative_regret FROM rules_run WHERE day = 7) AS model_regret_below_rules,
       (SELECT avg(expected_reward) FROM model_run) > (SELECT avg(expected_reward) FROM rules_run) AS model_better_than_rules,
       (SELECT bool_and(m.expected_reward <= m.oracle_reward AND m.oracle_reward = o.oracle_reward)
          FROM model_run m JOIN oracle_run o USING (day)) AS model_below_oracle;
SELECT count(*) AS differing_days
  FROM (SELECT * FROM model_run
        EXCEPT
        SELECT * FROM ml.simulate_policy('model:simpol_engagement', 60, 7, seed => 31, start_at => '2026-03-01',
                                         task => 'simpol_model2')) d;

-- A model that explores (ml.decide's epsilon-greedy): the replay logs each
-- decision's propensity, as often explored as epsilon says
CREATE TEMP TABLE eps_run AS
SELECT * FROM ml.simulate_policy('model:simpol_engagement', 60, 7, seed => 31, start_at => '2026-03-01',
                                 task => 'simpol_eps', explore => 'epsilon', epsilon => 0.2);
CREATE TEMP TABLE eps_rows AS
SELECT id, unit_id, features, decision, outcome FROM ml.mltrainingdata
 WHERE id > :before_replays AND task = 'simpol_eps';
SELECT count(*) AS decisions,
       bool_and(decision->'explore'->>'method' = 'epsilon') AS epsilon_logged,
       -- a non-greedy action is drawn with probability 0.2 x 4/5: within 4.5 binomial standard errors
       abs(avg((decision->>'explored')::boolean::int) - 0.16) < 4.5 * sqrt(0.16 * 0.84 / count(*)) AS explored_share,
       bool_and(abs((decision->>'propensity')::float8 -
                    CASE WHEN (decision->>'explored')::boolean THEN 0.04 ELSE 0.84 END) < 1e-12) AS propensities
  FROM eps_rows;
-- the replay's expected reward is the truth of the drawn actions: near the
-- policy's true value (ml.simulate_policy_value through ml.action_distribution)
SELECT abs((SELECT sum(expected_reward * decisions) / sum(decisions) FROM eps_run) -
           avg(ml.simulate_policy_value('model:simpol_engagement', unit_id, features, 31,
                                        explore => 'epsilon', epsilon => 0.2))) < 0.03 AS replay_near_value
  FROM eps_rows;
-- exploring costs regret against the greedy model on the same contexts
SELECT (SELECT cumulative_regret FROM eps_run WHERE day = 7) >
       (SELECT cumulative_regret FROM model_run WHERE day = 7) AS exploring_costs_regret;
-- reproducible with the same arguments (the draws are seeded by the seed, the task, the unit and the features)
DELETE FROM ml.mltrainingdata WHERE id > :before_replays AND task = 'simpol_eps';
SELECT count(*) AS differing_days
  FROM (SELECT * FROM eps_run
        EXCEPT
        SELECT * FROM ml.simulate_policy('model:simpol_engagement', 60, 7, seed => 31, start_at => '2026-03-01',
                                         task => 'simpol_eps', explore => 'epsilon', epsilon => 0.2)) d;
SELECT count(*) AS differing_rows
  FROM (SELECT unit_id, features, decision - 'latency_us', outcome FROM eps_rows
        EXCEPT
        SELECT unit_id, features, decision - 'latency_us', outcome FROM ml.mltrainingdata
         WHERE id > :before_replays AND task = 'simpol_eps') d;
SELECT error_of($$SELECT * FROM ml.simulate_policy('model:simpol_engagement', 2, 2, explore => 'epsilon', epsilon => 2)$$);

-- A per-user bandit (ml.choose) learns online from the replay's outcomes
SELECT count(*) AS created FROM ml.create_bandit('simpol_tone', ml.simulated_actions(), context => 'unit',
                                                 reward => 'engaged', reward_type => 'binary', task => 'simpol_bandit');
CREATE TEMP TABLE bandit_run AS
SELECT * FROM ml.simulate_policy('bandit:simpol_tone', 60, 7, seed => 31, start_at => '2026-03-01');
SELECT count(*) AS decisions, bool_and(decision->>'bandit' = 'simpol_tone') AS by_the_bandit,
       bool_and(source = 'synthetic') AS synthetic, count(outcome) AS outcomes,
       bool_and((decision->>'propensity')::float8 > 0 AND (decision->>'propensity')::float8 <= 1) AS propensities
  FROM ml.mltrainingdata WHERE id > :before_replays AND task = 'simpol_bandit';
-- every outcome reached the bandit's population arms as it came
SELECT sum(n) AS rewards_counted FROM ml.bandit_arms WHERE bandit = 'simpol_tone' AND cell = '';
-- it learns: its last days' regret below its first days'; never above the oracle
SELECT (SELECT avg(regret) FROM bandit_run WHERE day >= 5) < (SELECT avg(regret) FROM bandit_run WHERE day <= 2) AS regret_falls,
       (SELECT bool_and(b.expected_reward <= b.oracle_reward AND b.oracle_reward = o.oracle_reward)
          FROM bandit_run b JOIN oracle_run o USING (day)) AS bandit_below_oracle;
-- the bandit's true value: its Thompson probabilities times the truth
SELECT bool_and(abs(ml.simulate_policy_value('bandit:simpol_tone', unit_id, features, 31) -
                    (SELECT sum(d.probability * ml.simulate_expected_outcome(unit_id, features, d.action, 31))
                       FROM ml.bandit_distribution('simpol_tone', unit_id, features) d)) < 1e-12) AS bandit_value
  FROM ml.mltrainingdata WHERE id > :before_replays AND task = 'simpol_bandit' AND unit_id IN ('sim-31-1', 'sim-31-2');
-- reproducible from the same start: a new bandit, the same replay
DELETE FROM ml.mltrainingdata WHERE id > :before_replays AND task = 'simpol_bandit';
SELECT ml.drop_bandit('simpol_tone') IS NOT NULL AS dropped;
SELECT count(*) AS created FROM ml.create_bandit('simpol_tone', ml.simulated_actions(), context => 'unit',
                                                 reward => 'engaged', reward_type => 'binary', task => 'simpol_bandit');
SELECT count(*) AS differing_days
  FROM (SELECT * FROM bandit_run
        EXCEPT
        SELECT * FROM ml.simulate_policy('bandit:simpol_tone', 60, 7, seed => 31, start_at => '2026-03-01')) d;
SELECT ml.drop_bandit('simpol_tone') IS NOT NULL AS dropped;
SELECT error_of($$SELECT * FROM ml.simulate_policy('bandit:no_such_bandit', 2, 2)$$);
SELECT error_of($$SELECT * FROM ml.simulate_policy('bandit:no_such_bandit', 2, 2, explore => 'softmax')$$);

-- The value of a model policy through ml.action_distribution: greedy, the
-- truth of the model's own choice in the replay; epsilon-greedy, (1 - epsilon)
-- x that + epsilon x the mean truth of all actions; restricted to one eligible
-- action, that action's truth
SELECT bool_and(abs(ml.simulate_policy_value('model:simpol_engagement', unit_id, features, 31) -
                    ml.simulate_expected_outcome(unit_id, features, decision->>'action', 31)) < 1e-12) AS greedy_value,
       bool_and(abs(ml.simulate_policy_value('model:simpol_engagement', unit_id, features, 31,
                                             explore => 'epsilon', epsilon => 0.2) -
                    (0.8 * ml.simulate_expected_outcome(unit_id, features, decision->>'action', 31) +
                     0.2 * (SELECT avg(ml.simulate_expected_outcome(unit_id, features, a, 31))
                              FROM unnest(ml.simulated_actions()) a))) < 1e-12) AS epsilon_value,
       bool_and(ml.simulate_policy_value('model:simpol_engagement', unit_id, features, 31,
                                         actions => ARRAY['socratic_question']) =
                ml.simulate_expected_outcome(unit_id, features, 'socratic_question', 31)) AS one_eligible_action
  FROM ml.mltrainingdata WHERE id > :before_replays AND task = 'simpol_model';

-- ml.simulate_policy_value: a policy's true value per context; on the replayed
-- rows it is the truth of the replayed action (deterministic policies)
SELECT bool_and(abs(ml.simulate_policy_value('rules', unit_id, features, 31) -
                    ml.simulate_expected_outcome(unit_id, features, decision->>'action', 31)) < 1e-12) AS rules_value,
       bool_and(ml.simulate_policy_value('oracle', unit_id, features, 31) >=
                ml.simulate_policy_value('rules', unit_id, features, 31)) AS oracle_at_least_rules,
       abs(avg(ml.simulate_policy_value('oracle', unit_id, features, 31)) -
           (SELECT avg(oracle_reward) FROM oracle_run)) < 1e-12 AS oracle_value_is_replayed_oracle,
       bool_and(ml.simulate_policy_value('oracle', unit_id, features, 31, actions => ARRAY['brief_answer']) =
                ml.simulate_expected_outcome(unit_id, features, 'brief_answer', 31)) AS oracle_among_eligible
  FROM ml.mltrainingdata WHERE id > :before_replays AND task = 'simpol_rules';

-- The truth is what an unbiased off-policy estimate finds: on the logged
-- workload of ml.simulated_decisions (the rules with 30 % uniform exploration
-- and their propensities), the inverse-propensity estimate of the rules' and
-- of the oracle's value lies within 4.5 standard errors of the mean of
-- ml.simulate_policy_value on the same rows
WITH logged AS (
    SELECT unit_id, features, decision->>'action' AS action, (decision->>'propensity')::float8 AS propensity,
           (outcome->>'engaged')::boolean::int AS engaged
      FROM ml.simulated_decisions(300, 10, seed => 41) WHERE outcome IS NOT NULL),
terms AS (
    SELECT c.policy,
           CASE WHEN l.action = CASE c.policy WHEN 'rules' THEN ml.simulate_rules_action(l.features)
                                ELSE (SELECT a FROM unnest(ml.simulated_actions()) a
                                       ORDER BY ml.simulate_expected_outcome(l.unit_id, l.features, a, 41) DESC LIMIT 1) END
                THEN l.engaged / l.propensity ELSE 0 END AS ips,
           ml.simulate_policy_value(c.policy, l.unit_id, l.features, 41) AS truth
      FROM logged l, (VALUES ('rules'), ('oracle')) c (policy))
SELECT policy, count(*) AS rows,
       abs(avg(ips) - avg(truth)) < 4.5 * stddev(ips) / sqrt(count(*)) AS ips_within_bounds_of_truth
  FROM terms GROUP BY policy ORDER BY policy;

-- bad inputs are clear errors, before anything is recorded
SELECT count(*) AS before_errors FROM ml.mltrainingdata WHERE id > :before_replays \gset
SELECT error_of($$SELECT * FROM ml.simulate_policy('gpt4', 2, 2)$$);
SELECT error_of($$SELECT * FROM ml.simulate_policy('model:', 2, 2)$$);
SELECT error_of($$SELECT * FROM ml.simulate_policy('rules', 2, 2, explore => 'epsilon', epsilon => 0.1)$$);
SELECT error_of($$SELECT * FROM ml.simulate_policy('oracle', 2, 2, temperature => 1)$$);
SELECT error_of($$SELECT * FROM ml.simulate_policy('rules', 0, 2)$$);
SELECT error_of($$SELECT * FROM ml.simulate_policy('rules', 2, 0)$$);
SELECT error_of($$SELECT * FROM ml.simulate_policy('rules', 2, 2, decisions_per_day => 49)$$);
SELECT error_of($$SELECT * FROM ml.simulate_policy('rules', NULL, 2)$$);
SELECT error_of($$SELECT * FROM ml.simulate_policy(NULL, 2, 2)$$);
SELECT error_of($$SELECT * FROM ml.simulate_policy('rules', 2, 2, drift => 2)$$);
SELECT error_of($$SELECT * FROM ml.simulate_policy('rules', 2, 2, reward => 'minutes')$$);
SELECT error_of($$SELECT * FROM ml.simulate_policy('model:no_such_model', 2, 2)$$);
SELECT error_of($$SELECT * FROM ml.simulate_policy('rules', 2, 2, start_at => 'infinity')$$);
SELECT error_of($$SELECT ml.simulate_policy_value('sometimes', 'sim-1-1', '{}')$$);
SELECT error_of($$SELECT ml.simulate_policy_value('bandit:', 'sim-1-1', '{}')$$);
SELECT error_of($$SELECT ml.simulate_policy_value('rules', 'sim-1-1', '{}', reward => 'minutes')$$);
SELECT error_of($$SELECT ml.simulate_policy_value('oracle', 'sim-1-1', '{}', actions => '{}')$$);
SELECT error_of($$SELECT ml.simulate_policy_value('oracle', 'sim-1-1', '{}', actions => '{brief_answer, NULL}')$$);
SELECT error_of($$SELECT ml.simulate_policy_value('oracle', 'sim-1-1', '{}', actions => '{brief_answer, shout}')$$);
SELECT error_of($$SELECT ml.simulate_policy_value('rules', 'sim-1-1', '{}', actions => '{brief_answer}')$$);
SELECT error_of($$SELECT count(*) FROM ml.simulated_contexts(0, 1)$$);
SELECT ml.simulate_policy_value('rules', 'sim-1-1', NULL) IS NULL AS null_features_null,
       ml.simulate_policy_value(NULL, 'sim-1-1', '{}') IS NULL AS null_policy_null;
SELECT count(*) - :before_errors AS recorded_by_errors FROM ml.mltrainingdata WHERE id > :before_replays;

-- privileges: 'train' gets the pure simulation functions (with the other
-- simulation functions); the replay writes rows and teaches bandits, so like
-- ml.simulate_users it is granted by no access; PUBLIC gets none
DROP ROLE IF EXISTS simpol_trainer;
DROP ROLE IF EXISTS simpol_app;
CREATE ROLE simpol_trainer;
CREATE ROLE simpol_app;
SELECT ml.grant_access('simpol_trainer', 'train'), ml.grant_access('simpol_app', 'record');
SET ROLE simpol_trainer;
SELECT count(*) AS trainer_contexts,
       count(DISTINCT ml.simulate_expected_outcome(unit_id, features, rules_action, 1)) > 1 AS trainer_truth,
       bool_and(ml.simulate_policy_value('rules', unit_id, features, 1) BETWEEN 0 AND 1) AS trainer_rules_value
  FROM ml.simulated_contexts(2, 2, seed => 1);
SELECT error_of($$SELECT * FROM ml.simulate_policy('rules', 1, 1)$$) AS trainer_replays;
RESET ROLE;
SET ROLE simpol_app;
SELECT error_of($$SELECT * FROM ml.simulate_policy('rules', 1, 1)$$) AS app_replays;
SELECT error_of($$SELECT ml.simulate_expected_outcome('sim-1-1', '{}', 'brief_answer')$$) AS app_truth;
RESET ROLE;
SELECT p.oid::regprocedure AS public_executes
  FROM pg_proc p
 WHERE p.pronamespace = 'ml'::regnamespace AND p.proname ~ '^simulat'
   AND has_function_privilege('public', p.oid, 'EXECUTE');
DROP OWNED BY simpol_trainer, simpol_app;
DROP ROLE simpol_trainer;
DROP ROLE simpol_app;

-- the suites after this one see none of these rows
DELETE FROM ml.mltrainingdata WHERE id > :before_replays;
DROP TABLE simpol_log;
DELETE FROM ml.deployment_decisions WHERE model_name = 'simpol_engagement';
DELETE FROM ml.deployments WHERE model_name = 'simpol_engagement';
DELETE FROM ml.mlevaluationresults WHERE model_name = 'simpol_engagement';
DELETE FROM ml.models WHERE name = 'simpol_engagement';
