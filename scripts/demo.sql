-- learnloop demo: decisions and outcomes, recorded and analysed in SQL
\pset footer off
\echo
\echo '==> 1. Install the extension: every object lives in schema ml'
CREATE EXTENSION learnloop;
SELECT ml.build_info();

\echo
\echo '==> 2. Simulate 2,000 users over 14 days (personas analytical/casual/emotional/explorer, 3 decisions a day)'
SELECT ml.simulate_users(users => 2000, days => 14, seed => 42) AS decisions_recorded;
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
\echo '==> 6. Train a model of engagement from the features and the action taken (XGBoost, in a background worker)'
SELECT model_name, version, metric_name, round(score::numeric, 4) AS accuracy, deployed, reason
  FROM ml.train('engagement', 'ml.MLTrainingData', $$(outcome->>'engaged')::boolean$$,
                features => ARRAY['features', $$decision->>'action' AS action$$],
                split => 'time', split_column => 'created_at',
                params => '{"num_round": 150, "max_depth": 5, "eta": 0.1}', early_stopping_rounds => 15);
SELECT name, version, rounds, train_rows, test_rows, round(load_seconds::numeric, 2) AS load_s,
       round(training_seconds::numeric, 2) AS train_s, evaluator
  FROM ml.models WHERE name = 'engagement';
SELECT round(accuracy::numeric, 4) AS accuracy, round((metrics->>'roc_auc')::numeric, 4) AS roc_auc,
       round((metrics->>'log_loss')::numeric, 4) AS log_loss, round((metrics->>'ece')::numeric, 4) AS calibration_error,
       metrics->'confusion_matrix' AS confusion_matrix
  FROM ml.MLEvaluationResults WHERE model_name = 'engagement';
SELECT key AS feature, round(value::numeric, 2) AS gain
  FROM ml.models, jsonb_each_text(feature_importance) WHERE name = 'engagement' ORDER BY value::float8 DESC LIMIT 5;

\echo
\echo '==> 7. Serve it: predicted engagement of each action for a sad user late at night, why, and a decision'
SELECT action, round(ml.predict('engagement', jsonb_build_object('hour_of_day', 23, 'emotional_state', 'sad',
                                 'message_length', 35, 'topic', 'relationships', 'action', action))::numeric, 3) AS p_engaged
  FROM unnest(ARRAY['detailed_explanation', 'brief_answer', 'empathetic_support', 'playful_tangent', 'socratic_question']) action
 ORDER BY p_engaged DESC;
SELECT feature, coalesce(category, value::text) AS value, round(contribution::numeric, 3) AS contribution
  FROM ml.explain('engagement', '{"hour_of_day": 23, "emotional_state": "sad", "message_length": 35,
                                  "topic": "relationships", "action": "empathetic_support"}')
 ORDER BY abs(contribution) DESC LIMIT 5;
SELECT * FROM ml.decide('response_strategy', 'learner-42',
                        '{"hour_of_day": 23, "emotional_state": "sad", "message_length": 35, "topic": "relationships"}',
                        fallback => 'brief_answer', model => 'engagement');

\echo
\echo '==> 8. Before the model serves anyone: its value on the decisions the rules logged (off-policy evaluation)'
-- the rules logged every decision with its propensity: 30 % of them explore uniformly
SELECT decision->>'action' AS action, decision->>'decided_by' AS decided_by, decision->>'propensity' AS propensity
  FROM ml.MLTrainingData WHERE source = 'synthetic' ORDER BY id LIMIT 3;
-- the model, exploring with epsilon 0.1, on the last three days (about those the time split held out)
SELECT max(created_at) - interval '3 days' AS held_out_from FROM ml.MLTrainingData WHERE source = 'synthetic' \gset
SELECT estimator, round(value::numeric, 3) AS engaged_rate, round(ci_low::numeric, 3) AS ci_low,
       round(ci_high::numeric, 3) AS ci_high, n, round(ess) AS effective_n
  FROM ml.evaluate_policy('response_strategy', 'engagement', 'engaged', since => :'held_out_from',
                          explore => 'epsilon', epsilon => 0.1);

\echo
\echo '==> 9. The A/B test confirms it: the rules against the model (exploring, epsilon 0.1) over the next three days'
SELECT ml.sample_size(baseline => 0.55, mde => 0.10) AS units_per_arm_for_10pct_lift;
SELECT name, variants, weights, hash_seed, status
  FROM ml.create_experiment('model_vs_rules', ARRAY['rules', 'model'],
                            primary_metric => 'engaged', guardrail_metrics => '{session_minutes}');
-- the same users' next three days, each conversation randomized on its own: the rules arm
-- applies the rules, the model arm asks ml.decide (which falls back to the rules when unsure, and
-- explores 10 % of the time, each decision logged with its propensity); the users answer
CREATE TEMP TABLE arms AS
SELECT conversation, unit_id, features, rules_action, ml.assign_variant('model_vs_rules', conversation) AS variant
  FROM (SELECT c.unit_id || '/' || row_number() OVER (PARTITION BY c.unit_id ORDER BY c.created_at) AS conversation,
               c.unit_id, c.features, c.rules_action
          FROM ml.simulated_contexts(users => 2000, days => 17, seed => 42) c
         WHERE c.day > 14) c;
CREATE TEMP TABLE decided AS
SELECT a.unit_id, a.features, a.variant, d.decision_id, d.action, d.decided_by, d.propensity
  FROM arms a,
       LATERAL (SELECT * FROM ml.decide('response_strategy', a.conversation, a.features, fallback => a.rules_action,
                                        model => 'engagement', experiment => 'model_vs_rules', variant => a.variant,
                                        explore => 'epsilon', epsilon => 0.1)
                 WHERE a.variant = 'model'
                UNION ALL
                SELECT ml.record_decision('response_strategy', a.conversation, a.features,
                                          jsonb_build_object('action', a.rules_action, 'decided_by', 'rules'),
                                          experiment => 'model_vs_rules', variant => a.variant, propensity => 1),
                       a.rules_action, NULL, 'rules', NULL, 1
                 WHERE a.variant = 'rules') d;
SELECT variant, decided_by, count(*) AS decisions, round(avg(propensity)::numeric, 3) AS mean_propensity
  FROM decided GROUP BY 1, 2 ORDER BY 1, 2;
SELECT count(ml.record_outcome(decision_id, ml.simulate_outcome(unit_id, features, action))) AS outcomes_recorded
  FROM decided;
SELECT variant, units, round(mean::numeric, 3) AS engaged_rate, round(relative_lift::numeric, 3) AS relative_lift,
       round(relative_lift_ci_low::numeric, 3) AS rel_ci_low, round(relative_lift_ci_high::numeric, 3) AS rel_ci_high,
       round(p_value::numeric, 5) AS p_value, round(chance_to_win::numeric, 3) AS chance_to_win,
       round(srm_p_value::numeric, 3) AS srm_p_value, verdict
  FROM ml.analyze('model_vs_rules');
SELECT test_name, results->'guardrails'->'session_minutes'->1->>'verdict' AS session_minutes_verdict
  FROM ml.MLABTestResults ORDER BY id DESC LIMIT 1;

\echo
\echo '==> 10. A per-user bandit learns each user''s best strategy online (Thompson sampling, no retraining)'
SELECT name, context, reward, prior, draws
  FROM ml.create_bandit('tone', ml.simulated_actions(), context => 'unit', reward => 'engaged', reward_type => 'binary');
-- 200 new simulated users over three weeks: ml.choose decides, each outcome updates the user's
-- posterior (and the population's, their prior) at once; the rules replayed on the same days
CREATE TEMP TABLE bandit_days AS
SELECT * FROM ml.simulate_policy('bandit:tone', users => 200, days => 21, seed => 9, task => 'bandit_demo');
CREATE TEMP TABLE rules_days AS
SELECT * FROM ml.simulate_policy('rules', users => 200, days => 21, seed => 9, task => 'rules_demo');
-- the true engagement rate of each day's choices (the simulation knows it), against the best possible
SELECT day, round(r.expected_reward::numeric, 3) AS rules, round(b.expected_reward::numeric, 3) AS bandit,
       round(b.oracle_reward::numeric, 3) AS best_possible
  FROM bandit_days b JOIN rules_days r USING (day) WHERE day IN (1, 3, 7, 14, 21) ORDER BY day;

\echo
\echo '==> 11. Watch the model in production: alerts go to a webhook (the local receiver the demo started)'
-- the delivery worker's role gets what it needs; the channel signs its requests (Standard Webhooks)
SELECT ml.grant_access('learnloop_webhook_sender', 'deliver');
SELECT ml.create_channel('ops', :'receiver_url', secret => :'webhook_secret') IS NOT NULL AS channel_created;
SELECT ml.create_alert('engagement drifted', 'engagement', 'dataset_drift', '>=', 1,
                       severity => 'critical', channel => 'ops');
SELECT ml.create_alert('engagement accuracy low', 'engagement', 'accuracy', '<', 0.6, channel => 'ops');
-- the last three days of two weeks of 1,000 users in the usual world (the days a time split tests
-- on), decided by the model; the users answer
SELECT now() AS usual_from \gset
SELECT count(*) AS decisions
  FROM ml.simulated_decisions(users => 1000, days => 14, seed => 7) s,
       ml.decide('response_strategy', s.unit_id, s.features, 'brief_answer', model => 'engagement', min_confidence => 0) d
 WHERE s.created_at >= '2026-01-12';
UPDATE ml.MLTrainingData SET outcome = ml.simulate_outcome(unit_id, features, decision->>'action', 7),
                             outcome_at = now()
 WHERE task = 'response_strategy' AND outcome IS NULL AND created_at >= :'usual_from';
-- a monitoring run over those decisions (pg_cron would run it every hour: docs/monitoring.md)
SELECT metric, trim_scale(round(value::numeric, 3)) AS value
  FROM ml.monitor('engagement', "window" => now() - :'usual_from'::timestamptz, task => 'response_strategy')
 WHERE feature IS NULL AND decided_by IS NULL AND experiment IS NULL
   AND metric IN ('decisions', 'ml_usage_rate', 'accuracy', 'estimated_accuracy_matched', 'ece',
                  'latency_p95_ms', 'prediction_drift_wasserstein', 'prediction_drift', 'dataset_drift')
 ORDER BY metric;
SELECT now() AS shifted_from \gset

\echo
\echo '==> 12. The world shifts (more emotional users, later and longer messages): monitoring sees it, the alert fires'
SELECT count(*) AS decisions
  FROM ml.simulated_decisions(users => 1000, days => 14, seed => 8, drift => 1) s,
       ml.decide('response_strategy', s.unit_id, s.features, 'brief_answer', model => 'engagement', min_confidence => 0) d
 WHERE s.created_at >= '2026-01-12';
UPDATE ml.MLTrainingData SET outcome = ml.simulate_outcome(unit_id, features, decision->>'action', 8, drift => 1),
                             outcome_at = now()
 WHERE task = 'response_strategy' AND outcome IS NULL AND created_at >= :'shifted_from';
SELECT metric, trim_scale(round(value::numeric, 3)) AS value
  FROM ml.monitor('engagement', "window" => now() - :'shifted_from'::timestamptz, task => 'response_strategy')
 WHERE feature IS NULL AND decided_by IS NULL AND experiment IS NULL
   AND metric IN ('decisions', 'accuracy', 'estimated_accuracy_matched', 'ece', 'prediction_drift',
                  'dataset_drift', 'drifted_features_share')
 ORDER BY metric;
SELECT metric, feature, round(value::numeric, 3) AS value, status FROM ml.monitoring
 WHERE model = 'engagement' AND metric IN ('accuracy', 'dataset_drift', 'drift_wasserstein', 'drift_jensen_shannon')
 ORDER BY metric, feature;
SELECT e.alert, e.from_state, e.to_state, round(e.value::numeric, 3) AS value, o.body::jsonb->>'summary' AS notification
  FROM ml.alert_events e LEFT JOIN ml.webhook_outbox o ON o.event_id = e.event_id ORDER BY e.id;
-- the worker was woken when the alerts committed: wait for it (at most 30 s)
DO $$
BEGIN
    FOR i IN 1 .. 300 LOOP
        EXIT WHEN NOT EXISTS (SELECT FROM ml.webhook_outbox WHERE state = 'pending');
        PERFORM pg_sleep(0.1);
    END LOOP;
END
$$;
SELECT o.event_type, o.state, d.attempt, d.http_status, round(d.duration_ms::numeric, 1) AS duration_ms
  FROM ml.webhook_outbox o LEFT JOIN ml.webhook_deliveries d ON d.outbox_id = o.id ORDER BY o.id, d.attempt;
-- the report: one self-contained HTML page
SELECT ml.report('engagement') \g (format=unaligned tuples_only=on) :report_path
