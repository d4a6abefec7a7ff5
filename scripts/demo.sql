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

\echo
\echo '==> 6. An A/B test of the rules against a model, on the simulated users'
\echo '    (until serving exists, the "model" arm is a stand-in: it picks the action with the best'
\echo '     simulated engagement, i.e. an oracle; expect a large lift)'
SELECT ml.sample_size(baseline => 0.45, mde => 0.10) AS units_per_arm_for_10pct_lift;
SELECT name, variants, weights, hash_seed, status
  FROM ml.create_experiment('model_vs_rules', ARRAY['rules', 'model'],
                            primary_metric => 'engaged', guardrail_metrics => '{session_minutes}');
-- each simulated user's latest context: assign it, decide by its arm, record the decision,
-- and record the simulated outcome (ml.record_outcome by decision id feeds the experiment)
WITH latest AS (
    SELECT DISTINCT ON (unit_id) unit_id, features
      FROM ml.MLTrainingData WHERE source = 'synthetic' ORDER BY unit_id, created_at DESC),
arms AS (
    SELECT unit_id, features, ml.assign_variant('model_vs_rules', unit_id) AS variant FROM latest),
decided AS (
    SELECT a.unit_id, a.features, a.variant,
           CASE a.variant
           WHEN 'rules' THEN CASE WHEN a.features->>'emotional_state' IN ('stressed', 'sad') THEN 'empathetic_support'
                                  WHEN (a.features->>'message_length')::int > 40 OR (a.features->>'is_question')::boolean
                                       THEN 'detailed_explanation'
                                  WHEN a.features->>'emotional_state' = 'curious' THEN 'socratic_question'
                                  ELSE 'brief_answer' END
           ELSE (SELECT act FROM unnest(ARRAY['detailed_explanation', 'brief_answer', 'empathetic_support',
                                              'playful_tangent', 'socratic_question']) act
                  ORDER BY (ml.simulate_outcome(a.unit_id, a.features, act)->>'engagement')::float8 DESC LIMIT 1)
           END AS action
      FROM arms a)
SELECT variant, count(ml.record_outcome(
                    ml.record_decision('response_strategy', unit_id, features,
                                       jsonb_build_object('action', action, 'decided_by', variant),
                                       experiment => 'model_vs_rules', variant => variant),
                    ml.simulate_outcome(unit_id, features, action))) AS decisions_with_outcome
  FROM decided GROUP BY variant ORDER BY variant;
SELECT variant, units, round(mean::numeric, 3) AS engaged_rate, round(relative_lift::numeric, 3) AS relative_lift,
       round(relative_lift_ci_low::numeric, 3) AS rel_ci_low, round(relative_lift_ci_high::numeric, 3) AS rel_ci_high,
       round(p_value::numeric, 5) AS p_value, round(chance_to_win::numeric, 3) AS chance_to_win,
       round(srm_p_value::numeric, 3) AS srm_p_value, verdict
  FROM ml.analyze('model_vs_rules');
SELECT test_name, results->'guardrails'->'session_minutes'->1->>'verdict' AS session_minutes_verdict
  FROM ml.MLABTestResults ORDER BY id DESC LIMIT 1;
