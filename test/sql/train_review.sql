-- Fixes from the training review: guard metrics in any case, and a caller
-- whose default_transaction_read_only is on
SET client_min_messages = warning;  -- progress notices depend on timing

CREATE TABLE review_points AS
SELECT ((i * 0.6180339887) % 1)::float8 AS x1,
       ((i * 0.4142135623) % 1)::float8 AS x2,
       ((i * 0.6180339887) % 1) + ((i * 0.4142135623) % 1) > 1 AS y
  FROM generate_series(1, 2000) i;

-- deploy_guards keys are matched in any case, and then compared under
-- evaluate()'s spelling: LOG_LOSS is the log_loss guard, with both scores
SELECT version, deployed FROM ml.train('review_guard', 'review_points', 'y', params => '{"num_round": 10}');
SELECT version, deployed,
       reason ~ 'guards: log_loss [0-9.]+ vs [0-9.]+ within its 0.05 absolute tolerance$' AS guard_within
  FROM ml.train('review_guard', 'review_points', 'y', params => '{"num_round": 10}',
                deploy_guards => '{"LOG_LOSS": {"absolute": 0.05}}', min_improvement => 0);
SELECT jsonb_object_keys(guards) AS guard, guards->'log_loss'->>'passed' AS passed,
       guards->'log_loss'->>'score' IS NOT NULL AND guards->'log_loss'->>'champion_score' IS NOT NULL AS scored
  FROM ml.deployment_decisions WHERE model_name = 'review_guard' AND model_version = 2;
-- the key metric in another case is still the key metric, refused as a guard
SELECT error_of($$SELECT * FROM ml.train('review_guard', 'review_points', 'y', deploy_guards => '{"ACCURACY": 0.1}')$$);
SELECT error_of($$SELECT * FROM ml.train('review_guard', 'review_points', 'y', metric => 'LOG_LOSS', deploy_guards => '{"Log_Loss": 0.1}')$$);

-- The worker takes on the caller's settings, but not a read-only default:
-- the caller's transaction is read-write, so the model is registered
SET default_transaction_read_only = on;
BEGIN READ WRITE;
SELECT version, deployed FROM ml.train('review_read_only', 'review_points', 'y', params => '{"num_round": 5}');
COMMIT;
SELECT model_version, deployed FROM ml.deployment_decisions WHERE model_name = 'review_read_only';
-- a read-only transaction still refuses to train, before any boosting
SELECT error_of($$SELECT * FROM ml.train('review_read_only', 'review_points', 'y')$$);
RESET default_transaction_read_only;
