-- ml.simulate_expected_outcome: the true mean of ml.simulate_outcome's draws

-- Many draws of one question: the same unit, context and action, the
-- noise reseeded by a key the truth ignores ("draw").  The empirical mean of
-- each outcome key must lie within 4.5 standard errors of the expectation;
-- the rate of engaged within 4.5 binomial standard errors.  Each unit has
-- its own tastes (sd 0.25 in log-odds, ~0.06 in probability) and every
-- context effect is 0.2 to 0.9 in log-odds, while a standard error of
-- 20,000 draws is under 0.004: an expectation that missed either would fail.
CREATE TEMP TABLE questions (q int, unit_id text, features jsonb, action text, seed int, drift float8);
INSERT INTO questions VALUES
  (1, 'sim-42-1', '{"hour_of_day": 14, "emotional_state": "calm", "message_length": 60, "is_question": true}', 'detailed_explanation', 42, 0),
  (2, 'sim-42-2', '{"hour_of_day": 23, "emotional_state": "sad", "message_length": 8}', 'empathetic_support', 42, 0),
  (3, 'sim-42-2', '{"hour_of_day": 23, "emotional_state": "sad", "message_length": 8}', 'playful_tangent', 42, 0),
  (4, 'sim-7-5', '{"hour_of_day": 3, "emotional_state": "excited", "message_length": 20}', 'brief_answer', 7, 1),
  (5, 'sim-7-5', '{"hour_of_day": 10, "emotional_state": "curious", "message_length": 30}', 'socratic_question', 7, 0.5);

CREATE TEMP TABLE draws AS
SELECT q.q, d.draw, ml.simulate_outcome(q.unit_id, q.features || jsonb_build_object('draw', d.draw),
                                        q.action, q.seed, q.drift) AS outcome
  FROM questions q, generate_series(1, 20000) AS d (draw);

WITH empirical AS (
    SELECT q, count(*) AS n,
           avg((outcome->>'engaged')::bool::int) AS engaged,
           avg((outcome->>'engagement')::float8) AS engagement,
           stddev((outcome->>'engagement')::float8) AS engagement_sd,
           avg((outcome->>'session_minutes')::float8) AS minutes,
           stddev((outcome->>'session_minutes')::float8) AS minutes_sd
      FROM draws GROUP BY q),
truth AS (
    SELECT q, ml.simulate_expected_outcome(unit_id, features, action, seed, drift) AS engaged,
           ml.simulate_expected_outcome(unit_id, features, action, seed, drift, 'engagement') AS engagement,
           ml.simulate_expected_outcome(unit_id, features, action, seed, drift, 'session_minutes') AS minutes
      FROM questions)
SELECT q, e.n,
       abs(e.engaged - t.engaged) <= 4.5 * sqrt(t.engaged * (1 - t.engaged) / e.n) AS engaged_within_bounds,
       abs(e.engagement - t.engagement) <= 4.5 * e.engagement_sd / sqrt(e.n) AS engagement_within_bounds,
       -- engagement is printed with 4 decimals, minutes with 1: rounding adds at most half a unit
       abs(e.minutes - t.minutes) <= 4.5 * e.minutes_sd / sqrt(e.n) + 0.05 AS minutes_within_bounds,
       t.engaged BETWEEN 0 AND 1 AND t.engagement BETWEEN 0 AND 1 AND t.minutes BETWEEN 2 AND 27 AS in_range
  FROM empirical e JOIN truth t USING (q)
 ORDER BY q;

-- the questions differ in truth: the expectation is not one number for all
SELECT count(DISTINCT round(ml.simulate_expected_outcome(unit_id, features, action, seed, drift)::numeric, 3)) AS distinct_truths
  FROM questions;
-- stressed and sad users engage with empathy far more than with play
SELECT ml.simulate_expected_outcome(unit_id, features, 'empathetic_support', seed, drift) -
       ml.simulate_expected_outcome(unit_id, features, 'playful_tangent', seed, drift) > 0.2 AS empathy_beats_play
  FROM questions WHERE q = 2;

-- Across units and contexts: the contexts of a simulated workload, each with
-- every action.  The number of engaged draws is a sum of Bernoulli draws with
-- the expected probabilities, within 4.5 of its standard deviations of their sum.
WITH s AS (SELECT * FROM ml.simulated_decisions(300, 5, seed => 13)),
x AS (
    SELECT (ml.simulate_outcome(s.unit_id, s.features, a, 13)->>'engaged')::bool::int AS engaged,
           ml.simulate_expected_outcome(s.unit_id, s.features, a, 13) AS p
      FROM s, unnest(ARRAY['detailed_explanation', 'brief_answer', 'empathetic_support',
                           'playful_tangent', 'socratic_question']) AS a)
SELECT count(*) AS draws,
       abs(sum(engaged) - sum(p)) <= 4.5 * sqrt(sum(p * (1 - p))) AS engaged_count_within_bounds
  FROM x;

-- the logged outcomes of ml.simulated_decisions come from the same truth
WITH s AS (SELECT * FROM ml.simulated_decisions(300, 5, seed => 17) WHERE outcome IS NOT NULL),
x AS (SELECT (outcome->>'engaged')::bool::int AS engaged,
             ml.simulate_expected_outcome(unit_id, features, decision->>'action', 17) AS p
        FROM s)
SELECT abs(sum(engaged) - sum(p)) <= 4.5 * sqrt(sum(p * (1 - p))) AS logged_outcomes_within_bounds
  FROM x;

-- the truth ignores keys it does not know, as ml.simulate_outcome does, and is deterministic
SELECT ml.simulate_expected_outcome(unit_id, features, action, seed) =
       ml.simulate_expected_outcome(unit_id, features || '{"topic": "travel", "draw": 3}', action, seed) AS ignores_other_keys
  FROM questions WHERE q = 1;
-- drift changes the truth (the affinities fade, then reverse)
SELECT ml.simulate_expected_outcome(unit_id, features, action, seed, 0) <>
       ml.simulate_expected_outcome(unit_id, features, action, seed, 1) AS drift_changes_truth
  FROM questions WHERE q = 1;

-- bad inputs are clear errors; a NULL argument gives NULL (STRICT)
SELECT error_of($$SELECT ml.simulate_expected_outcome('sim-42-1', '{}', 'shout')$$);
SELECT error_of($$SELECT ml.simulate_expected_outcome('sim-42-1', '{}', 'brief_answer', key => 'minutes')$$);
SELECT error_of($$SELECT ml.simulate_expected_outcome('sim-42-1', '{"emotional_state": "grumpy"}', 'brief_answer')$$);
SELECT error_of($$SELECT ml.simulate_expected_outcome('sim-42-1', '{"hour_of_day": 24}', 'brief_answer')$$);
SELECT error_of($$SELECT ml.simulate_expected_outcome('sim-42-1', '[1]', 'brief_answer')$$);
SELECT error_of($$SELECT ml.simulate_expected_outcome('sim-42-1', '{}', 'brief_answer', drift => 1.5)$$);
SELECT error_of($$SELECT ml.simulate_expected_outcome('sim-42-1', '{}', 'brief_answer', drift => 'NaN')$$);
SELECT ml.simulate_expected_outcome('sim-42-1', NULL, 'brief_answer') IS NULL AS null_features_null,
       ml.simulate_expected_outcome('sim-42-1', '{}', 'brief_answer', key => NULL) IS NULL AS null_key_null;

-- its catalog entry: immutable, strict and parallel safe like its siblings
SELECT provolatile, proisstrict, proparallel
  FROM pg_proc WHERE oid = 'ml.simulate_expected_outcome(text, jsonb, text, integer, double precision, text)'::regprocedure;
