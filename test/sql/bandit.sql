-- Per-user Thompson-sampling bandits: ml.create_bandit, ml.choose, ml.bandit_distribution,
-- ml.record_outcome teaching ml.bandit_arms (error_of comes from schema.sql)

-- bad definitions are clear errors, with their SQLSTATE
SELECT error_of($$SELECT ml.create_bandit('b', ARRAY[]::text[])$$) AS empty_actions;
SELECT error_of($$SELECT ml.create_bandit('b', NULL)$$) AS null_actions;
SELECT error_of($$SELECT ml.create_bandit('b', ARRAY['a', NULL])$$) AS null_action;
SELECT error_of($$SELECT ml.create_bandit('b', ARRAY['a', 'b', 'a'])$$) AS duplicate_actions;
SELECT error_of($$SELECT ml.create_bandit('b', ARRAY['a', 'b'], prior => 'flat')$$) AS unknown_prior;
SELECT error_of($$SELECT ml.create_bandit('b', ARRAY['a', 'b'], context => '')$$) AS empty_context;
SELECT error_of($$SELECT ml.create_bandit('b', ARRAY['a', 'b'], context => 'mood, ,topic')$$) AS blank_context_key;
SELECT error_of($$SELECT ml.create_bandit('b', ARRAY['a', 'b'], context => 'mood,mood')$$) AS repeated_context_key;
SELECT error_of($$SELECT ml.create_bandit('b', ARRAY['a', 'b'], reward_type => 'ordinal')$$) AS unknown_reward_type;
SELECT error_of($$SELECT ml.create_bandit('b', ARRAY['a', 'b'], draws => 0)$$) AS zero_draws;
SELECT error_of($$SELECT ml.create_bandit('b', ARRAY['a', 'b'], prior_weight => 'NaN')$$) AS nan_prior_weight;
SELECT error_of($$SELECT ml.create_bandit('', ARRAY['a', 'b'])$$) AS empty_name;
SELECT error_of($$SELECT ml.create_bandit('b', ARRAY['a', repeat('x', 257)])$$) AS long_action;
SELECT error_of($$SELECT ml.create_bandit('b', ARRAY(SELECT 'a' || i FROM generate_series(1, 1001) i))$$) AS too_many_actions;
SELECT count(*) AS no_bandit_created FROM ml.bandits;

-- unknown bandits
SELECT error_of($$SELECT ml.choose('nope', 'u1')$$) AS choose_unknown;
SELECT error_of($$SELECT * FROM ml.bandit_distribution('nope', 'u1')$$) AS distribution_unknown;
SELECT error_of($$SELECT ml.drop_bandit('nope')$$) AS drop_unknown;
SELECT error_of($$SELECT ml.choose('nope', NULL)$$) AS choose_null_unit;

-- a per-unit binary bandit (no logged rewards: binary, with a NOTICE)
SELECT name, task, actions, context, features, reward, reward_type, prior, prior_weight, draws
  FROM ml.create_bandit('tone', ARRAY['brief', 'detailed', 'playful'], reward => 'engaged');
SELECT error_of($$SELECT ml.create_bandit('tone', ARRAY['x'])$$) AS duplicate_bandit;

-- one action: the choice is certain, exactly
SELECT name FROM ml.create_bandit('only', ARRAY['the_one'], reward_type => 'binary', draws => 7);
SELECT action, propensity FROM ml.choose('only', 'u1');
SELECT * FROM ml.bandit_distribution('only', 'u1');

-- the decision row carries the contract's keys; its propensity is its action's share of the distribution
SELECT decision_id AS first_id FROM ml.choose('tone', 'u1', '{"mood": "calm"}', seed => 11) \gset
SELECT task, unit_id, features, source, decision ->> 'bandit' AS bandit, decision ->> 'cell' AS cell,
       decision ->> 'decided_by' AS decided_by, decision -> 'explore' AS explore,
       (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(decision -> 'distribution') k) AS eligible,
       (SELECT sum(v::float8) FROM jsonb_each_text(decision -> 'distribution') d (k, v)) AS distribution_sum,
       (decision ->> 'propensity')::float8 = (decision -> 'distribution' ->> (decision ->> 'action'))::float8 AS propensity_matches,
       jsonb_typeof(decision -> 'explored') AS explored_type
  FROM ml.MLTrainingData WHERE id = :first_id;

-- the same seed, the same draw (and the same distribution); ml.bandit_distribution sums to 1
SELECT (SELECT (action, propensity) FROM ml.choose('tone', 'u1', seed => 11)) =
       (SELECT (action, propensity) FROM ml.choose('tone', 'u1', seed => 11)) AS same_seed_same_choice;
SELECT count(DISTINCT d.decision -> 'distribution') AS distributions
  FROM ml.MLTrainingData d WHERE d.decision ->> 'bandit' = 'tone' AND d.decision -> 'explore' ->> 'seed' = '11';
-- no outcome yet: every posterior is the same, so the distribution is exactly uniform
SELECT sum(probability) AS total, count(*) AS actions,
       bool_and(probability = 1::float8 / 3) AS exactly_one_third
  FROM ml.bandit_distribution('tone', 'u1');
SELECT array_agg(probability ORDER BY action) = (SELECT array_agg(probability ORDER BY action)
                                                   FROM ml.bandit_distribution('tone', 'u1'))
       AS stable_without_seed
  FROM ml.bandit_distribution('tone', 'u1');
SELECT sum(probability) AS total_100000_draws FROM ml.bandit_distribution('tone', 'u1', draws => 100000, seed => 3);
SELECT error_of($$SELECT * FROM ml.bandit_distribution('tone', 'u1', draws => 0)$$) AS zero_draws;

-- unseeded choices are drawn, not fixed (one action: always it)
SELECT count(DISTINCT action) AS actions_drawn
  FROM generate_series(1, 300) i, LATERAL ml.choose('only', 'u' || i) c;
SELECT count(DISTINCT c.action) AS tone_actions_drawn
  FROM generate_series(1, 200) i, LATERAL ml.choose('tone', 'fresh' || i) c;
DELETE FROM ml.MLTrainingData WHERE decision ->> 'bandit' = 'only' OR unit_id LIKE 'fresh%';

-- ml.record_outcome teaches the unit's arm and the population's, in its transaction
SELECT decision ->> 'action' AS first_action FROM ml.MLTrainingData WHERE id = :first_id \gset
SELECT ml.record_outcome(:first_id, '{"engaged": true}') IS NOT NULL AS recorded;
SELECT cell, action = :'first_action' AS is_chosen, n, reward_sum, reward_sq FROM ml.bandit_arms WHERE bandit = 'tone' ORDER BY cell;
-- a retry counts once
SELECT ml.record_outcome(:first_id, '{"engaged": true}') IS NOT NULL AS retried;
SELECT cell, n, reward_sum, reward_sq FROM ml.bandit_arms WHERE bandit = 'tone' ORDER BY cell;
-- a correction replaces the value (latest value wins): the arms change by the difference
SELECT ml.record_outcome(:first_id, '{"engaged": false, "minutes": 3}') IS NOT NULL AS corrected;
SELECT cell, n, reward_sum, reward_sq FROM ml.bandit_arms WHERE bandit = 'tone' ORDER BY cell;
-- other keys do not count; JSON null takes the reward back
SELECT ml.record_outcome(:first_id, '{"minutes": 4}') IS NOT NULL AS other_key;
SELECT cell, n, reward_sum FROM ml.bandit_arms WHERE bandit = 'tone' ORDER BY cell;
SELECT ml.record_outcome(:first_id, '{"engaged": null}') IS NOT NULL AS withdrawn;
SELECT cell, n, reward_sum, reward_sq FROM ml.bandit_arms WHERE bandit = 'tone' ORDER BY cell;
SELECT ml.record_outcome(:first_id, '{"engaged": 1}') IS NOT NULL AS as_number;
SELECT cell, n, reward_sum, reward_sq FROM ml.bandit_arms WHERE bandit = 'tone' ORDER BY cell;

-- bad rewards are errors and change nothing (NaN and infinity reach jsonb as strings)
SELECT error_of(format($$SELECT ml.record_outcome(%s, jsonb_build_object('engaged', 'NaN'::float8))$$, :first_id)) AS nan_reward;
SELECT error_of(format($$SELECT ml.record_outcome(%s, jsonb_build_object('engaged', '-Infinity'::float8))$$, :first_id)) AS infinite_reward;
SELECT error_of(format($$SELECT ml.record_outcome(%s, '{"engaged": 1e400}')$$, :first_id)) AS huge_reward;
SELECT error_of(format($$SELECT ml.record_outcome(%s, '{"engaged": 2}')$$, :first_id)) AS binary_out_of_range;
SELECT error_of(format($$SELECT ml.record_outcome(%s, '{"engaged": [1]}')$$, :first_id)) AS array_reward;
SELECT error_of(format($$SELECT ml.record_outcome(%s, '{"engaged": {"a": 1}}')$$, :first_id)) AS object_reward;
SELECT outcome FROM ml.MLTrainingData WHERE id = :first_id;
SELECT sum(n) AS n_unchanged FROM ml.bandit_arms WHERE bandit = 'tone';

-- a reward the bandit would refuse, stored before (an INSERT teaches nothing), was never counted:
-- replacing it counts the new reward once
INSERT INTO ml.MLTrainingData (task, unit_id, features, decision, outcome)
VALUES ('tone', 'u1', '{}', jsonb_build_object('action', :'first_action', 'bandit', 'tone', 'cell', 'u1'), '{"engaged": "oops"}')
RETURNING id AS imported_id \gset
SELECT cell, n, reward_sum FROM ml.bandit_arms WHERE bandit = 'tone' AND action = :'first_action' ORDER BY cell;
SELECT ml.record_outcome(:imported_id, '{"engaged": true}') AS replaced;
SELECT cell, n, reward_sum FROM ml.bandit_arms WHERE bandit = 'tone' AND action = :'first_action' ORDER BY cell;
SELECT ml.record_outcome(:imported_id, '{"engaged": null}') AS withdrawn;
DELETE FROM ml.MLTrainingData WHERE id = :imported_id;

-- empirical Bayes: a new unit starts from the population's best action; a unit's own history,
-- once it outnumbers prior_weight, outweighs the population; without the cap it would not
INSERT INTO ml.bandit_arms (bandit, cell, action, n, reward_sum, reward_sq) VALUES
    ('tone', '', 'brief', 130, 80, 80), ('tone', '', 'detailed', 130, 50, 50), ('tone', '', 'playful', 10, 5, 5),
    ('tone', 'loyal', 'brief', 30, 0, 0), ('tone', 'loyal', 'detailed', 30, 30, 30)
ON CONFLICT (bandit, cell, action) DO UPDATE SET n = EXCLUDED.n, reward_sum = EXCLUDED.reward_sum, reward_sq = EXCLUDED.reward_sq;
CREATE FUNCTION pg_temp.best(unit text) RETURNS text LANGUAGE sql AS $$
    SELECT action FROM ml.bandit_distribution('tone', unit, draws => 20000, seed => 1) ORDER BY probability DESC LIMIT 1
$$;
SELECT pg_temp.best('newcomer') AS newcomer_best, pg_temp.best('loyal') AS loyal_best;
SELECT action, probability > 0.95 AS sure FROM ml.bandit_distribution('tone', 'loyal', draws => 20000, seed => 1) ORDER BY action;
UPDATE ml.bandits SET prior_weight = 1e6 WHERE name = 'tone';
SELECT pg_temp.best('loyal') AS loyal_best_without_cap;
-- prior uniform ignores the population: the newcomer's actions are even
UPDATE ml.bandits SET prior_weight = 10, prior = 'uniform' WHERE name = 'tone';
SELECT action, round(probability::numeric, 1) AS probability FROM ml.bandit_distribution('tone', 'newcomer', draws => 20000, seed => 1) ORDER BY action;
-- the exact Thompson probability of two Beta arms: P(Beta(2,1) > Beta(1,1)) = 2/3
SELECT name FROM ml.create_bandit('pair', ARRAY['x', 'y'], reward_type => 'binary', prior => 'uniform');
INSERT INTO ml.bandit_arms (bandit, cell, action, n, reward_sum, reward_sq) VALUES ('pair', 'u', 'x', 1, 1, 1);
SELECT action, abs(probability - CASE action WHEN 'x' THEN 2 / 3.0 ELSE 1 / 3.0 END) < 0.005 AS exact_within_mc
  FROM ml.bandit_distribution('pair', 'u', draws => 200000, seed => 5) ORDER BY action;
-- without draws, two actions are integrated: within 0.001 of 2/3, whatever the seed
SELECT action, abs(probability - CASE action WHEN 'x' THEN 2 / 3.0 ELSE 1 / 3.0 END) < 0.001 AS integral_within_0_001,
       probability = (SELECT d.probability FROM ml.bandit_distribution('pair', 'u', seed => 99) d
                       WHERE d.action = i.action) AS seed_free
  FROM ml.bandit_distribution('pair', 'u', seed => 5) i ORDER BY action;
-- more actions than the integral takes (8): Monte Carlo with the bandit's draws, logged
SELECT name FROM ml.create_bandit('nine', ARRAY['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'],
                                  reward_type => 'binary', prior => 'uniform', draws => 50);
INSERT INTO ml.bandit_arms (bandit, cell, action, n, reward_sum, reward_sq) VALUES ('nine', 'u', 'a', 3, 2, 2);
SELECT decision_id AS nine_id, propensity AS nine_propensity FROM ml.choose('nine', 'u', seed => 3) \gset
SELECT abs(:nine_propensity * 50 - round(:nine_propensity * 50)) < 1e-9 AS multiple_of_1_50,
       decision -> 'explore' AS explore
  FROM ml.MLTrainingData WHERE id = :nine_id;
SELECT ml.drop_bandit('nine');

-- ml.choose draws from the distribution it logs: over 3,000 seeded choices x is chosen
-- with P(Beta(2,1) > Beta(1,1)) = 2/3, within 4 binomial standard
-- errors (0.034), and the logged propensities average the same
CREATE TEMP TABLE pair_choices AS
SELECT c.* FROM generate_series(1, 3000) s, LATERAL ml.choose('pair', 'u', seed => s) c;
SELECT abs(avg((action = 'x')::integer) - 2 / 3.0) < 4 * sqrt(2 / 9.0 / 3000) AS frequency_within_bounds,
       abs(avg(CASE action WHEN 'x' THEN propensity ELSE 1 - propensity END) - 2 / 3.0) < 0.02 AS propensities_agree
  FROM pair_choices;
DELETE FROM ml.MLTrainingData WHERE id IN (SELECT decision_id FROM pair_choices);

-- privileges: record may choose but not create; train creates and drops; nobody else
CREATE ROLE bandit_app;
CREATE ROLE bandit_trainer;
SELECT ml.grant_access('bandit_app', 'record'), ml.grant_access('bandit_trainer', 'train');
SET ROLE bandit_app;
SELECT decision_id AS app_decision, action FROM ml.choose('pair', 'u', seed => 1) \gset
SELECT :'action' AS action;
SELECT count(*) AS app_reads_distribution FROM ml.bandit_distribution('pair', 'u');
SELECT error_of($$SELECT ml.create_bandit('app_made', ARRAY['a'], reward_type => 'binary')$$) AS app_creates;
SELECT error_of($$INSERT INTO ml.bandit_arms (bandit, cell, action, n) VALUES ('pair', 'u', 'x', 1000)$$) AS app_writes_arms;
SET ROLE bandit_trainer;
SELECT name FROM ml.create_bandit('trained', ARRAY['a', 'b']);
SELECT ml.drop_bandit('trained');
SELECT error_of($$SELECT ml.choose('pair', 'u')$$) AS trainer_chooses;
-- the application's outcome teaches the bandit (through the trigger; it cannot write the arms itself)
SET ROLE bandit_app;
SELECT ml.record_outcome(:app_decision, '{"engaged": 1}') AS app_teaches;
RESET ROLE;
SELECT sum(n) AS n, sum(reward_sum) AS reward_sum FROM ml.bandit_arms WHERE bandit = 'pair' AND cell = 'u';
DELETE FROM ml.MLTrainingData WHERE decision ->> 'bandit' = 'pair';
UPDATE ml.bandit_arms SET n = 1, reward_sum = 1, reward_sq = 1 WHERE bandit = 'pair';
DROP OWNED BY bandit_app, bandit_trainer;
DROP ROLE bandit_app, bandit_trainer;

-- a decision row has the size limit of any decision (1000 actions of 250 bytes)
SELECT name FROM ml.create_bandit('big', ARRAY(SELECT repeat('x', 250) || i FROM generate_series(1, 1000) i),
                                  reward_type => 'binary', draws => 1);
SELECT error_of($$SELECT ml.choose('big', 'u')$$) AS too_large;
SELECT ml.drop_bandit('big');

-- a corrupted arm is an error, not a draw
UPDATE ml.bandit_arms SET reward_sum = 'Infinity' WHERE bandit = 'pair';
SELECT error_of($$SELECT * FROM ml.bandit_distribution('pair', 'u')$$) AS corrupted_arm;
UPDATE ml.bandit_arms SET n = -1, reward_sum = 1 WHERE bandit = 'pair';
SELECT error_of($$SELECT ml.choose('pair', 'u')$$) AS negative_count;

-- continuous rewards: normal posteriors; sums and squares exact
SELECT name, reward_type FROM ml.create_bandit('minutes', ARRAY['short', 'long'], context => 'none', reward => 'minutes',
                                               reward_type => 'continuous');
SELECT decision_id AS m1 FROM ml.choose('minutes', 'u1', seed => 1) \gset
SELECT decision_id AS m2 FROM ml.choose('minutes', 'u2', seed => 2) \gset
SELECT decision ->> 'cell' AS none_cell FROM ml.MLTrainingData WHERE id = :m1;
SELECT ml.record_outcome(:m1, '{"minutes": 2.5}') IS NOT NULL, ml.record_outcome(:m2, '{"minutes": -4}') IS NOT NULL;
SELECT ml.record_outcome(:m2, '{"minutes": 6}') IS NOT NULL AS corrected;
SELECT cell, sum(n) AS n, sum(reward_sum) AS reward_sum, sum(reward_sq) AS reward_sq
  FROM ml.bandit_arms WHERE bandit = 'minutes' GROUP BY cell;
SELECT error_of(format($$SELECT ml.record_outcome(%s, '{"minutes": "3"}')$$, :m1)) AS string_reward;
SELECT error_of(format($$SELECT ml.record_outcome(%s, '{"minutes": -1e101}')$$, :m1)) AS huge_continuous_reward;
SELECT ml.record_outcome(:m1, '{"minutes": 1e100}') IS NOT NULL AS largest_reward;
SELECT reward_sq < 'Infinity' AS squares_finite FROM ml.bandit_arms WHERE bandit = 'minutes' AND action = (SELECT decision ->> 'action' FROM ml.MLTrainingData WHERE id = :m1);
-- finite squares that overflow once added across the actions: an error, not infinite draws
BEGIN;
INSERT INTO ml.bandit_arms AS a (bandit, cell, action, n, reward_sum, reward_sq)
    VALUES ('minutes', '', 'short', 1, 1e150, 1e308), ('minutes', '', 'long', 1, 1e150, 1e308)
    ON CONFLICT ON CONSTRAINT bandit_arms_pkey DO UPDATE SET n = 1, reward_sum = 1e150, reward_sq = 1e308;
SELECT error_of($$SELECT * FROM ml.bandit_distribution('minutes', 'u3', draws => 10)$$) AS overflowing_squares;
ROLLBACK;
-- detection: the task's logged rewards are not all 0/1, so continuous
SELECT reward_type AS detected FROM ml.create_bandit('minutes2', ARRAY['short', 'long'], reward => 'minutes', task => 'minutes');

-- feature contexts: a posterior per cell of the features' values
SELECT name, context, features FROM ml.create_bandit('by_mood', ARRAY['calm_down', 'cheer_up'], context => 'mood, topic',
                                                     reward_type => 'binary');
SELECT decision_id AS f1 FROM ml.choose('by_mood', 'u1', '{"mood": "sad", "topic": 3, "other": 1}') \gset
SELECT decision ->> 'cell' AS cell FROM ml.MLTrainingData WHERE id = :f1;
SELECT ml.record_outcome(:f1, '{"engaged": 1}') IS NOT NULL AS recorded;
SELECT cell, n, reward_sum FROM ml.bandit_arms WHERE bandit = 'by_mood' ORDER BY cell;
SELECT error_of($$SELECT ml.choose('by_mood', 'u1', '{"mood": "sad"}')$$) AS missing_feature;
SELECT error_of($$SELECT ml.choose('by_mood', 'u1')$$) AS no_features;
SELECT error_of($$SELECT ml.choose('by_mood', 'u1', '{"mood": "sad", "topic": null}')$$) AS null_feature;

-- dropping a bandit drops its posteriors; later outcomes of its decisions teach nothing and fail nothing
SELECT ml.drop_bandit('by_mood');
SELECT count(*) AS arms_left FROM ml.bandit_arms WHERE bandit = 'by_mood';
SELECT ml.record_outcome(:f1, '{"engaged": 0}') AS outcome_after_drop;

-- the posteriors are read by index, whatever the number of units (a bitmap scan of the same
-- index is index access too: it is turned off so that the plan printed does not depend on
-- the table's statistics at that moment)
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT cell, action, n::float8, reward_sum, reward_sq FROM ml.bandit_arms
 WHERE bandit = 'tone' AND cell = 'u1'
UNION ALL
SELECT cell, action, n::float8, reward_sum, reward_sq FROM ml.bandit_arms
 WHERE bandit = 'tone' AND cell = '' AND '' <> 'u1';
RESET enable_seqscan;
RESET enable_bitmapscan;

-- an outcome set back to NULL takes its reward back: recorded again, it counts once
SELECT name FROM ml.create_bandit('undo', ARRAY['a', 'b'], reward => 'r', reward_type => 'binary');
SELECT decision_id AS u1 FROM ml.choose('undo', 'u1', seed => 1) \gset
SELECT ml.record_outcome(:u1, '{"r": 1}') IS NOT NULL AS recorded;
UPDATE ml.MLTrainingData SET outcome = NULL WHERE id = :u1;
SELECT sum(n) AS n_after_null, sum(reward_sum) AS sum_after_null FROM ml.bandit_arms WHERE bandit = 'undo';
SELECT ml.record_outcome(:u1, '{"r": 1}') IS NOT NULL AS recorded_again;
SELECT cell = '' AS population, n, reward_sum FROM ml.bandit_arms WHERE bandit = 'undo' ORDER BY cell;
-- a decision naming the bandit but no action (an application's own row) teaches nothing and blocks no outcome
SELECT ml.record_decision('undo', 'u2', '{}', '{"bandit": "undo", "decided_by": "app"}') AS no_action \gset
SELECT ml.record_outcome(:no_action, '{"r": 1}') AS outcome_without_action;
SELECT sum(n) AS n_unchanged FROM ml.bandit_arms WHERE bandit = 'undo';
-- the Thompson draws cannot be cancelled while they run: draws times actions is bounded
SELECT error_of($$SELECT ml.create_bandit('huge', (SELECT array_agg('a' || i) FROM generate_series(1, 1000) i),
                                          reward => 'r', reward_type => 'binary', draws => 2000)$$) AS too_many_samples;
SELECT error_of($$SELECT * FROM ml.bandit_distribution('undo', 'u1', draws => 600000)$$) AS too_many_draws;
-- a definition with an action listed twice is corrupted, not misread
UPDATE ml.bandits SET actions = '{a,a,b}' WHERE name = 'undo';
SELECT error_of($$SELECT * FROM ml.choose('undo', 'u1')$$) AS repeated_action;

-- an action with 800 million rewards against a new one (posterior sds 3.5e-5 and 0.71): the
-- integral gives the closed form Phi(0.55 / sqrt(0.5)) = 0.78166 (it once gave the new action
-- 0.848, the narrow one's steep tail stretched over the wide one's long grid intervals)
SELECT name FROM ml.create_bandit('wide_narrow', ARRAY['old', 'new'], reward_type => 'continuous');
INSERT INTO ml.bandit_arms (bandit, cell, action, n, reward_sum, reward_sq) VALUES
    ('wide_narrow', '', 'old', 800000000, 0, 800000000), ('wide_narrow', '', 'new', 1, 1.1, 1.21),
    ('wide_narrow', 'u1', 'old', 800000000, 0, 800000000), ('wide_narrow', 'u1', 'new', 1, 1.1, 1.21);
SELECT action, abs(probability - CASE action WHEN 'new' THEN 0.78166 ELSE 0.21834 END) < 0.001 AS closed_form
  FROM ml.bandit_distribution('wide_narrow', 'u1') ORDER BY action;

-- ml.bandit_reward, which the outcome trigger applies: strict for the new value, lenient for the
-- value before (one the bandit would refuse was recorded before it existed: never counted)
SELECT v, t, coalesce(ml.bandit_reward(v::jsonb, t, 'r', strict => false)::text, 'no reward') AS lenient,
       CASE WHEN error_of(format('SELECT ml.bandit_reward(%L, %L, ''r'')', v, t)) = 'no error'
            THEN coalesce(ml.bandit_reward(v::jsonb, t, 'r')::text, 'no reward')
            ELSE error_of(format('SELECT ml.bandit_reward(%L, %L, ''r'')', v, t)) END AS strict
  FROM unnest(ARRAY['true', 'false', '0.25', '1', 'null', '2', '-0.5', '"NaN"', '[1]', '{"a": 1}',
                    '1e100', '-1.0000000000000000000001e100', '123456789.123456789']) WITH ORDINALITY x (v, i),
       unnest(ARRAY['binary', 'continuous']) t
 ORDER BY i, t;
SELECT ml.bandit_reward(NULL, 'binary', 'r') IS NULL AS absent_is_no_reward;
-- the trigger fires only as learnloop creates it
CREATE TABLE not_decisions (decision jsonb, outcome jsonb, task text);
CREATE TRIGGER wrong_timing BEFORE UPDATE ON not_decisions FOR EACH ROW EXECUTE FUNCTION ml.bandit_outcome_from_decision();
INSERT INTO not_decisions VALUES ('{"bandit": "tone"}', NULL, 't');
SELECT error_of($$UPDATE not_decisions SET outcome = '{}'$$) AS wrong_timing;
DROP TABLE not_decisions;
CREATE TABLE not_decisions (decision text, outcome jsonb, task text);
CREATE TRIGGER wrong_table AFTER UPDATE ON not_decisions FOR EACH ROW EXECUTE FUNCTION ml.bandit_outcome_from_decision();
INSERT INTO not_decisions VALUES ('{"bandit": "tone"}', NULL, 't');
SELECT error_of($$UPDATE not_decisions SET outcome = '{}'$$) AS decision_not_jsonb;
DROP TABLE not_decisions;

SELECT ml.drop_bandit(name) FROM ml.bandits ORDER BY name;
DELETE FROM ml.MLTrainingData WHERE decision ? 'bandit' OR task = 'minutes';
