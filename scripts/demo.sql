-- learnloop demo: decisions and outcomes, recorded and analysed in SQL
\pset footer off
\echo
\echo '==> 1. Install the extension: every object lives in schema ml'
CREATE EXTENSION learnloop;
SELECT ml.build_info();

\echo
\echo '==> 2. Simulate 200 users over 30 days (personas analytical/casual/emotional/explorer, 3 decisions a day)'
SELECT ml.simulate_users(users => 200, days => 30, seed => 42) AS decisions_recorded;
SELECT unit_id, created_at, features, decision, outcome
  FROM ml.MLTrainingData ORDER BY id LIMIT 3;

\echo
\echo '==> 3. The application records a decision, and later its outcome'
SELECT ml.record_decision(
           task     => 'response_strategy',
           unit_id  => 'learner-42',
           features => '{"hour_of_day": 21, "topic": "health", "message_length": 38,
                         "emotional_state": "stressed", "is_question": false}',
           decision => '{"action": "empathetic_support", "confidence": 0.74, "decided_by": "rules"}') AS decision_id
\gset
SELECT ml.record_outcome(:decision_id, '{"engagement": 0.81, "engaged": true}');
SELECT ml.record_outcome(:decision_id, '{"session_minutes": 14.5}') AS merged_outcome;

\echo
\echo '==> 4. What the loop knows: engagement per strategy and emotional state (rules logged the data)'
SELECT features->>'emotional_state' AS mood,
       decision->>'action' AS action,
       count(*) AS decisions,
       round(avg((outcome->>'engagement')::numeric), 3) AS avg_engagement,
       round(avg((outcome->>'engaged')::boolean::int), 3) AS engaged_rate
  FROM ml.MLTrainingData
 WHERE outcome IS NOT NULL AND features->>'emotional_state' IN ('stressed', 'curious')
 GROUP BY 1, 2 ORDER BY 1, avg_engagement DESC;

\echo
\echo '==> 5. Data lineage and outcome coverage'
SELECT source, count(*) AS decisions, count(outcome) AS with_outcome,
       round(100.0 * count(outcome) / count(*), 1) AS outcome_pct
  FROM ml.MLTrainingData GROUP BY source ORDER BY source;
