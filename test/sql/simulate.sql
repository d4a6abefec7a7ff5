-- Simulated users: size, determinism, realism and a learnable ground truth
SELECT count(*) AS rows, count(DISTINCT unit_id) AS units,
       min(created_at) AT TIME ZONE 'UTC' >= '2026-01-01' AS starts_at_start,
       max(created_at) AT TIME ZONE 'UTC' < '2026-01-15' AS ends_within_days
  FROM ml.simulated_decisions(50, 14, seed => 7);

SELECT * FROM ml.simulated_decisions(1, 1, seed => 7, decisions_per_day => 2);

-- deterministic for a seed, different for another
SELECT (SELECT md5(string_agg(s::text, '|')) FROM ml.simulated_decisions(30, 5, seed => 1) s) =
       (SELECT md5(string_agg(s::text, '|')) FROM ml.simulated_decisions(30, 5, seed => 1) s) AS same_seed_same_rows,
       (SELECT md5(string_agg(s::text, '|')) FROM ml.simulated_decisions(30, 5, seed => 1) s) <>
       (SELECT md5(string_agg(s::text, '|')) FROM ml.simulated_decisions(30, 5, seed => 2) s) AS other_seed_other_rows;

-- realism: about 7% of outcomes never arrive; every strategy is logged; the
-- features carry the hidden persona (message length spreads widely)
WITH s AS (SELECT * FROM ml.simulated_decisions(400, 10, seed => 3))
SELECT round(avg((outcome IS NULL)::int), 2) AS missing_outcome_rate,
       count(DISTINCT decision->>'action') AS strategies,
       count(DISTINCT features->>'emotional_state') AS moods,
       count(DISTINCT features->>'topic') AS topics,
       percentile_disc(0.1) WITHIN GROUP (ORDER BY (features->>'message_length')::int) < 15 AS short_messages,
       percentile_disc(0.9) WITHIN GROUP (ORDER BY (features->>'message_length')::int) > 60 AS long_messages,
       bool_and((decision->>'propensity')::float8 BETWEEN 0.06 AND 0.76) AS propensities_valid
  FROM s;

-- the ground truth is real: stressed users engage with empathy, not play
WITH s AS (SELECT * FROM ml.simulated_decisions(400, 10, seed => 3))
SELECT decision->>'action' AS action,
       avg((outcome->>'engagement')::float8) > 0.5 AS engaging
  FROM s
 WHERE features->>'emotional_state' IN ('stressed', 'sad')
   AND decision->>'action' IN ('empathetic_support', 'playful_tangent')
 GROUP BY 1 ORDER BY 1;

-- and learnable: choosing the best action per context (the oracle a model
-- approaches) beats the rules that logged the data by a clear margin
WITH s AS (SELECT * FROM ml.simulated_decisions(200, 5, seed => 11) WHERE outcome IS NOT NULL),
best AS (
    SELECT s.unit_id, s.features, s.outcome,
           max((ml.simulate_outcome(s.unit_id, s.features, a, 11)->>'engaged')::bool::int) AS oracle_engaged,
           max(CASE WHEN a = s.decision->>'action'
                    THEN (ml.simulate_outcome(s.unit_id, s.features, a, 11)->>'engaged')::bool::int END) AS replayed
      FROM s, unnest(ARRAY['detailed_explanation', 'brief_answer', 'empathetic_support',
                           'playful_tangent', 'socratic_question']) AS a
     GROUP BY s.unit_id, s.features, s.outcome)
SELECT avg(oracle_engaged) - avg((outcome->>'engaged')::bool::int) > 0.2 AS oracle_beats_logged_policy
  FROM best;

-- ml.simulate_outcome is deterministic and validates its input
SELECT ml.simulate_outcome('sim-11-1', '{"hour_of_day": 22, "emotional_state": "sad", "message_length": 40}',
                           'empathetic_support', 11) =
       ml.simulate_outcome('sim-11-1', '{"hour_of_day": 22, "emotional_state": "sad", "message_length": 40}',
                           'empathetic_support', 11) AS deterministic;
SELECT ml.simulate_outcome('sim-11-1', '{}', 'shout', 11);
SELECT ml.simulate_outcome('sim-11-1', '{"emotional_state": "grumpy"}', 'brief_answer', 11);
SELECT ml.simulate_outcome('sim-11-1', '{"hour_of_day": "noon"}', 'brief_answer', 11);
SELECT ml.simulate_outcome('sim-11-1', '[]', 'brief_answer', 11);

-- bounds
SELECT count(*) FROM ml.simulated_decisions(0, 1);
SELECT count(*) FROM ml.simulated_decisions(1, 0);
SELECT count(*) FROM ml.simulated_decisions(1, 1, decisions_per_day => 49);

-- ml.simulate_users writes synthetic rows into the loop's table
SELECT ml.simulate_users(20, 7, seed => 5, start_at => '2026-02-01') AS inserted;
SELECT source, task, count(*), count(outcome) > 0 AS has_outcomes
  FROM ml.mltrainingdata WHERE unit_id LIKE 'sim-5-%' GROUP BY 1, 2;
-- by default the simulation ends today
SELECT ml.simulate_users(2, 3, seed => 6) AS inserted;
SELECT max(created_at) < date_trunc('day', now()) AND min(created_at) >= date_trunc('day', now()) - interval '3 days' AS ends_today
  FROM ml.mltrainingdata WHERE unit_id LIKE 'sim-6-%';
