-- ml.monitor evaluates the alert rules in its own transaction (issue 11): a run that rolls
-- back leaves no alert state, event or queued notification; a committed run fires the rule
-- and queues its event; a later window that no longer breaches resolves it.
SET client_min_messages = warning;
SET timezone = 'UTC';
INSERT INTO ml.models (name, version, task, feature_schema, model) VALUES
('ma', 1, 'classification',
 $${"task": "classification", "objective": "binary:logistic", "target": "(outcome->>'y')::boolean",
    "features": [{"name": "x", "type": "numeric"}], "classes": ["false", "true"]}$$,
 '\x00');
-- hour 1: four model decisions, two right (accuracy 0.5); hour 2: four, all right (1.0)
INSERT INTO ml.MLTrainingData (task, unit_id, created_at, features, decision, outcome, outcome_at)
SELECT 'ma', 'u' || h || '_' || n, '2026-03-01 09:00'::timestamptz + (h - 1) * interval '1 hour' + n * interval '1 minute',
       '{"x": 1}', jsonb_build_object('action', 'a', 'score', s, 'decided_by', 'model ma v1', 'latency_us', 1000),
       jsonb_build_object('y', y), '2026-03-01 11:00'
  FROM (VALUES (1, 1, 0.9, true), (1, 2, 0.8, false), (1, 3, 0.3, false), (1, 4, 0.2, true),
               (2, 1, 0.9, true), (2, 2, 0.8, true), (2, 3, 0.3, false), (2, 4, 0.2, false)) v (h, n, s, y);
SELECT ml.create_channel('ma_ops', 'https://hooks.example.com/ma') IS NULL AS unsigned;
SELECT ml.create_alert('ma_accuracy', 'ma', 'accuracy', '<', 0.9, channel => 'ma_ops');

-- a run that rolls back: its rows, the rule's state change, events and notifications all go
BEGIN;
SELECT count(*) > 0 AS measured FROM ml.monitor('ma', window_end => '2026-03-01 10:00');
SELECT state, breaches FROM ml.alert_states WHERE alert = 'ma_accuracy';
SELECT count(*) AS queued_inside FROM ml.webhook_outbox WHERE channel = 'ma_ops';
ROLLBACK;
SELECT (SELECT count(*) FROM ml.MLMonitoringMetrics WHERE model_name = 'ma') AS rows,
       (SELECT state || ' ' || breaches FROM ml.alert_states WHERE alert = 'ma_accuracy') AS state,
       (SELECT count(*) FROM ml.alert_events WHERE alert = 'ma_accuracy') AS events,
       (SELECT count(*) FROM ml.webhook_outbox WHERE channel = 'ma_ops') AS queued;

-- committed: the rule fires on hour 1 and its event is queued once
SELECT round(value::numeric, 3) AS accuracy
  FROM ml.monitor('ma', window_end => '2026-03-01 10:00')
 WHERE metric = 'accuracy' AND decided_by IS NULL AND experiment IS NULL;
SELECT alert, from_state, to_state, value, threshold, window_end FROM ml.alert_events WHERE alert = 'ma_accuracy' ORDER BY id;
SELECT event_type, state, body::jsonb->>'alert' AS alert, body::jsonb->>'value' AS value,
       split_part(body::jsonb->>'summary', ', window', 1) AS summary
  FROM ml.webhook_outbox WHERE channel = 'ma_ops' ORDER BY id;
SELECT metric, round(value::numeric, 3) AS value, status FROM ml.monitoring WHERE model = 'ma' AND metric = 'accuracy';

-- the same window again: replaced, not judged twice
SELECT count(*) > 0 AS measured FROM ml.monitor('ma', window_end => '2026-03-01 10:00');
SELECT count(*) AS events FROM ml.alert_events WHERE alert = 'ma_accuracy';

-- hour 2 is accurate: resolved, and queued
SELECT round(value::numeric, 3) AS accuracy
  FROM ml.monitor('ma', window_end => '2026-03-01 11:00')
 WHERE metric = 'accuracy' AND decided_by IS NULL AND experiment IS NULL;
SELECT alert, from_state, to_state, value, window_end FROM ml.alert_events WHERE alert = 'ma_accuracy' ORDER BY id;
SELECT event_type FROM ml.webhook_outbox WHERE channel = 'ma_ops' ORDER BY id;
SELECT metric, round(value::numeric, 3) AS value, status FROM ml.monitoring WHERE model = 'ma' AND metric = 'accuracy';

SELECT ml.drop_alert('ma_accuracy');
SELECT ml.drop_channel('ma_ops');
DELETE FROM ml.MLMonitoringMetrics WHERE model_name = 'ma';
DELETE FROM ml.MLTrainingData WHERE task = 'ma';
DELETE FROM ml.models WHERE name = 'ma';
