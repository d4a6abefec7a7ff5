-- Per-user Thompson sampling on the simulation (ml.simulate_policy replays a policy over
-- simulated days and measures its regret against the oracle with the true P(engaged)):
-- it converges to each user's best action, with less cumulative regret than the fixed
-- rules and than a bandit without context, and new users get the population's best action.
-- 30 users, 60 days, 3 decisions a day: 5,400 decisions per policy.

SELECT name FROM ml.create_bandit('per_user', ml.simulated_actions(), context => 'unit', reward => 'engaged',
                                  reward_type => 'binary');
SELECT name FROM ml.create_bandit('global', ml.simulated_actions(), context => 'none', reward => 'engaged',
                                  reward_type => 'binary');

CREATE TEMP TABLE replay AS SELECT 'rules' AS policy, * FROM ml.simulate_policy('rules', 30, 60, seed => 7);
INSERT INTO replay SELECT 'per_user', * FROM ml.simulate_policy('bandit:per_user', 30, 60, seed => 7);
INSERT INTO replay SELECT 'global', * FROM ml.simulate_policy('bandit:global', 30, 60, seed => 7);

-- cumulative regret after 60 days: per-user bandit < rules, and < the bandit without context
SELECT (SELECT max(cumulative_regret) FROM replay WHERE policy = 'per_user') <
       (SELECT max(cumulative_regret) FROM replay WHERE policy = 'rules') AS less_regret_than_rules,
       (SELECT max(cumulative_regret) FROM replay WHERE policy = 'per_user') <
       (SELECT max(cumulative_regret) FROM replay WHERE policy = 'global') AS less_regret_than_global;
-- it learns: the last ten days' true reward beats its first ten days' and the rules'
SELECT avg(expected_reward) FILTER (WHERE policy = 'per_user' AND day > 50) >
       avg(expected_reward) FILTER (WHERE policy = 'per_user' AND day <= 10) AS improves,
       avg(expected_reward) FILTER (WHERE policy = 'per_user' AND day > 50) >
       avg(expected_reward) FILTER (WHERE policy = 'rules' AND day > 50) AS beats_rules_at_the_end
  FROM replay;

-- each user's best action: the one with the highest true P(engaged) over the user's own contexts;
-- in the last ten days the bandit chooses it far more often than in the first ten
CREATE TEMP TABLE chosen AS
SELECT d.unit_id, d.decision ->> 'action' AS action,
       d.created_at < (SELECT min(created_at) FROM ml.MLTrainingData WHERE decision ->> 'bandit' = 'per_user')
                      + interval '10 days' AS early,
       d.created_at >= (SELECT min(created_at) FROM ml.MLTrainingData WHERE decision ->> 'bandit' = 'per_user')
                       + interval '50 days' AS late,
       d.features
  FROM ml.MLTrainingData d WHERE d.decision ->> 'bandit' = 'per_user';
CREATE TEMP TABLE best AS
SELECT DISTINCT ON (unit_id) unit_id, action AS best_action
  FROM (SELECT c.unit_id, a.action, sum(ml.simulate_expected_outcome(c.unit_id, c.features, a.action, 7)) AS truth
          FROM chosen c, unnest(ml.simulated_actions()) a (action)
         GROUP BY 1, 2) t
 ORDER BY unit_id, truth DESC;
SELECT count(DISTINCT best_action) > 1 AS users_differ,
       avg((c.action = b.best_action)::integer) FILTER (WHERE c.late) >
       avg((c.action = b.best_action)::integer) FILTER (WHERE c.early) + 0.2 AS converges,
       avg((c.action = b.best_action)::integer) FILTER (WHERE c.late) > 0.6 AS mostly_best_at_the_end
  FROM chosen c JOIN best b USING (unit_id);

-- a new user starts from the population's best action
SELECT (SELECT action FROM ml.bandit_distribution('per_user', 'sim-7-new', draws => 20000, seed => 1)
         ORDER BY probability DESC LIMIT 1) =
       (SELECT action FROM ml.bandit_arms WHERE bandit = 'per_user' AND cell = ''
         ORDER BY reward_sum / n DESC LIMIT 1) AS new_user_gets_population_best;

SELECT ml.drop_bandit('per_user'), ml.drop_bandit('global');
DELETE FROM ml.MLTrainingData WHERE decision ? 'bandit' OR task = 'response_strategy';
