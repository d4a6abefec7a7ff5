-- ml.prometheus_metrics (issue 11): one row per Prometheus sample of the current database,
-- named by Prometheus's rules, with the values of its sources
SET client_min_messages = warning;
CREATE TABLE pm_data AS SELECT (i % 17)::float8 AS x1, (i % 17) > 8 AS y FROM generate_series(1, 300) i;
SELECT version FROM ml.train('pm_model', 'SELECT x1, y FROM pm_data', 'y', params => '{"num_round": 2}');
SELECT ml.serving_stats_reset('pm_model');
-- 10 predictions, one of them an error; 2 decisions, one by the fallback, one with an outcome
SELECT count(ml.predict('pm_model', jsonb_build_object('x1', i))) FROM generate_series(1, 9) i;
SELECT left(error_of($$SELECT ml.predict('pm_model', '{"x1": 1}'::jsonb, version => 99)$$), 5) AS bad_version;
SELECT decided_by FROM ml.decide('pm_task', 'u1', '{"x1": 3}', 'rules', model => 'pm_model', min_confidence => 1);
SELECT ml.record_outcome(decision_id, '{"engaged": true}') IS NOT NULL AS recorded
  FROM ml.decide('pm_task', 'u2', '{"x1": 3}', 'rules', model => 'pm_model', min_confidence => 0);

-- the serving counters are ml.serving_stats' of this database, fallbacks only for ml.decide
SELECT s.model, s.function, s.calls, s.errors, s.fallbacks
  FROM ml.serving_stats s WHERE s.database = current_database() AND s.model = 'pm_model' ORDER BY 1, 2;
(SELECT s.model, s.function, n.name, CASE n.name WHEN 'learnloop_serving_calls_total' THEN s.calls
                                                  WHEN 'learnloop_serving_errors_total' THEN s.errors
                                                  ELSE s.fallbacks END::float8
   FROM ml.serving_stats s
  CROSS JOIN (VALUES ('learnloop_serving_calls_total'), ('learnloop_serving_errors_total'),
                     ('learnloop_serving_fallbacks_total')) n (name)
  WHERE s.database = current_database() AND (n.name <> 'learnloop_serving_fallbacks_total' OR s.function = 'decide')
 EXCEPT
 SELECT labels->>'model', labels->>'function', name, value FROM ml.prometheus_metrics)
UNION ALL
(SELECT labels->>'model', labels->>'function', name, value FROM ml.prometheus_metrics
  WHERE name LIKE 'learnloop\_serving\_%\_total'
 EXCEPT
 SELECT s.model, s.function, n.name, CASE n.name WHEN 'learnloop_serving_calls_total' THEN s.calls
                                                 WHEN 'learnloop_serving_errors_total' THEN s.errors
                                                 ELSE s.fallbacks END::float8
   FROM ml.serving_stats s
  CROSS JOIN (VALUES ('learnloop_serving_calls_total'), ('learnloop_serving_errors_total'),
                     ('learnloop_serving_fallbacks_total')) n (name)
  WHERE s.database = current_database());

-- the latency histogram: per series the 19 fixed bounds and +Inf, cumulative, +Inf equal to
-- _count, _count the calls that returned, _sum the total time in seconds
CREATE VIEW pm_buckets AS
SELECT labels->>'model' AS model, labels->>'function' AS function, labels->>'le' AS le,
       (labels->>'le')::float8 AS bound, value
  FROM ml.prometheus_metrics WHERE name = 'learnloop_serving_latency_seconds_bucket';
SELECT string_agg(le, ' ' ORDER BY bound) AS bounds FROM pm_buckets WHERE model = 'pm_model' AND function = 'predict';
SELECT model, function, count(*) AS buckets,
       bool_and(value >= coalesce(previous, 0)) AS cumulative
  FROM (SELECT *, lag(value) OVER (PARTITION BY model, function ORDER BY bound) AS previous FROM pm_buckets) b
 GROUP BY model, function HAVING count(*) <> 20 OR NOT bool_and(value >= coalesce(previous, 0));
SELECT s.model, s.function, b.value AS inf, c.value AS count, s.calls - s.errors AS returned, m.value AS sum, s.total_ms
  FROM ml.serving_stats s
  LEFT JOIN pm_buckets b ON b.model = s.model AND b.function = s.function AND b.le = '+Inf'
  LEFT JOIN ml.prometheus_metrics c ON c.name = 'learnloop_serving_latency_seconds_count'
        AND c.labels = jsonb_build_object('database', s.database, 'model', s.model, 'function', s.function)
  LEFT JOIN ml.prometheus_metrics m ON m.name = 'learnloop_serving_latency_seconds_sum'
        AND m.labels = jsonb_build_object('database', s.database, 'model', s.model, 'function', s.function)
 WHERE s.database = current_database()
   AND (b.value IS DISTINCT FROM c.value OR c.value IS DISTINCT FROM (s.calls - s.errors)::float8
        OR abs(m.value - s.total_ms / 1000) > 1e-12 * s.total_ms OR m.value IS NULL);
SELECT b.value AS inf, c.value AS count FROM pm_buckets b, ml.prometheus_metrics c
 WHERE b.model = 'pm_model' AND b.function = 'predict' AND b.le = '+Inf'
   AND c.name = 'learnloop_serving_latency_seconds_count' AND c.labels->>'model' = 'pm_model'
   AND c.labels->>'function' = 'predict';
-- every latency is counted at its own place: none below the fastest call (less 1 %), all from
-- the slowest call on (plus 1 %), as the sketch's 1 % blur allows
SELECT b.model, b.function, b.le, b.value, s.min_ms, s.max_ms, s.calls - s.errors AS returned
  FROM pm_buckets b JOIN ml.serving_stats s ON s.model = b.model AND s.function = b.function
 WHERE s.database = current_database()
   AND ((b.bound < s.min_ms / 1000 * 0.99 AND b.value <> 0)
        OR (b.bound >= s.max_ms / 1000 * 1.01 AND b.value <> s.calls - s.errors));
SELECT count(*) > 0 AS some_bucket_between
  FROM pm_buckets b JOIN ml.serving_stats s ON s.model = b.model AND s.function = b.function
 WHERE s.database = current_database() AND b.value > 0 AND b.bound < 'infinity' AND b.bound <= s.max_ms / 1000 * 1.01;

-- decisions recorded: the rows of ml.MLTrainingData per task and source, with an outcome or not
(SELECT task, source, 'learnloop_decisions_total' AS name, count(*)::float8 FROM ml.MLTrainingData GROUP BY 1, 2
 UNION ALL
 SELECT task, source, 'learnloop_decisions_with_outcome_total', count(outcome)::float8 FROM ml.MLTrainingData GROUP BY 1, 2)
EXCEPT
SELECT labels->>'task', labels->>'source', name, value FROM ml.prometheus_metrics;
SELECT name, labels - 'database' AS labels, value FROM ml.prometheus_metrics
 WHERE labels->>'task' = 'pm_task' ORDER BY name;

-- monitoring: each model's latest window, overall slice; of two windows ending together the
-- shorter, of two versions the newer; _ms in seconds; NULL values, slices, names Prometheus
-- would refuse or misread, and models that are not in ml.models left out
INSERT INTO ml.MLMonitoringMetrics (model_name, model_version, period_start, period_end, metric, feature, decided_by, value)
VALUES ('pm_model', 1, '2026-01-01 00:00+00', '2026-01-01 01:00+00', 'accuracy', NULL, NULL, 0.5),
       ('pm_model', 1, '2026-01-01 00:00+00', '2026-01-01 01:00+00', 'log_loss', NULL, NULL, 0.4),
       ('pm_model', 1, '2026-01-01 01:00+00', '2026-01-01 02:00+00', 'accuracy', NULL, NULL, 0.75),
       ('pm_model', 1, '2026-01-01 00:00+00', '2026-01-01 02:00+00', 'accuracy', NULL, NULL, 0.6),
       ('pm_model', 1, '2026-01-01 01:00+00', '2026-01-01 02:00+00', 'accuracy', NULL, 'model', 0.9),
       ('pm_model', 1, '2026-01-01 01:00+00', '2026-01-01 02:00+00', 'ece', NULL, NULL, 0.1),
       ('pm_model', 2, '2026-01-01 01:00+00', '2026-01-01 02:00+00', 'ece', NULL, NULL, 0.2),
       ('pm_model', 1, '2026-01-01 01:00+00', '2026-01-01 02:00+00', 'latency_p95_ms', NULL, NULL, 2.5),
       ('pm_model', 1, '2026-01-01 01:00+00', '2026-01-01 02:00+00', 'drift_psi', 'x1', NULL, 0.25),
       ('pm_model', 1, '2026-01-01 01:00+00', '2026-01-01 02:00+00', 'drift', 'x1', NULL, NULL),
       ('pm_model', 1, '2026-01-01 01:00+00', '2026-01-01 02:00+00', 'Bad-Name', NULL, NULL, 1),
       ('pm_model', 1, '2026-01-01 01:00+00', '2026-01-01 02:00+00', 'decisions_total', NULL, NULL, 1),
       ('pm_ghost', 1, '2026-01-01 01:00+00', '2026-01-01 02:00+00', 'accuracy', NULL, NULL, 1);
SELECT name, labels - 'database' AS labels, value FROM ml.prometheus_metrics
 WHERE name LIKE 'learnloop\_monitoring\_%' AND labels->>'model' LIKE 'pm\_%' ORDER BY name, labels::text;

-- the webhook outbox by channel and state and the deliveries by channel and status, zeros included
INSERT INTO ml.channels (name, url, enabled) VALUES ('pm_ops', 'http://192.0.2.1/hook', false),
                                                    ('pm_quiet', 'http://192.0.2.1/quiet', false);
INSERT INTO ml.webhook_outbox (channel, event_type, body, state, next_attempt_at, created_at)
VALUES ('pm_ops', 'alert.firing', '{}', 'delivered', now(), now()),
       ('pm_ops', 'alert.firing', '{}', 'delivered', now(), now()),
       ('pm_ops', 'alert.resolved', '{}', 'dead', now(), now()),
       ('pm_ops', 'alert.firing', '{}', 'pending', 'infinity', '2026-01-01 03:00+00'),
       ('pm_ops', 'alert.firing', '{}', 'pending', 'infinity', '2026-01-01 04:00+00');
INSERT INTO ml.webhook_deliveries (outbox_id, event_id, channel, attempt, started_at, status)
SELECT id, event_id, channel, a, now(), CASE WHEN a < 3 THEN 'retry' ELSE 'delivered' END
  FROM ml.webhook_outbox, generate_series(1, 3) a WHERE channel = 'pm_ops' AND state = 'delivered';
SELECT name, labels - 'database' AS labels, value FROM ml.prometheus_metrics
 WHERE name LIKE 'learnloop\_webhook\_%' AND labels->>'channel' LIKE 'pm\_%' ORDER BY name, labels::text;

-- the metric families, and the rules every sample keeps: learnloop_ prefix, snake case, no unit
-- but base units, label names Prometheus accepts (none reserved, none about users), label
-- values strings, the current database on every sample, no series twice
-- (over every sample, with the monitoring rows and webhooks above in)
SELECT DISTINCT name FROM ml.prometheus_metrics
 WHERE labels->>'model' LIKE 'pm\_%' OR labels->>'task' LIKE 'pm\_%' OR labels->>'channel' LIKE 'pm\_%'
 ORDER BY name;
SELECT name, labels FROM ml.prometheus_metrics
 WHERE name !~ '^learnloop_[a-z0-9]+(_[a-z0-9]+)*$'
    OR name ~ '_(ms|milliseconds|us|microseconds|ns|minutes|hours|days|percent)(_|$)'
    OR value IS NULL
    OR labels->>'database' IS DISTINCT FROM current_database()
    OR EXISTS (SELECT FROM jsonb_each(labels) l
                WHERE l.key !~ '^[a-zA-Z_][a-zA-Z0-9_]*$' OR l.key ~ '^__' OR l.key ~ '(^|_)(user|unit)(_|$)'
                   OR jsonb_typeof(l.value) <> 'string');
SELECT name, labels, count(*) FROM ml.prometheus_metrics GROUP BY name, labels HAVING count(*) > 1;
-- counters and only counters end in _total (the serving, decision and delivery counts)
SELECT DISTINCT name FROM ml.prometheus_metrics
 WHERE (name ~ '_total$') <> (name ~ '^learnloop_(serving_(calls|errors|fallbacks)|decisions(_with_outcome)?|webhook_deliveries)_total$');

-- ml.serving_latency_buckets: the arrays postgres_exporter's HISTOGRAM reads, the view's numbers
SELECT b.model, b.function, array_length(b.le, 1) AS bounds, b.counts[19] <= b.count AS below_count, b.count
  FROM ml.serving_latency_buckets() b
 WHERE b.database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND b.model = 'pm_model'
 ORDER BY 1, 2;

-- who may read it: roles given 'read'; nobody else, PUBLIC included
CREATE ROLE pm_reader;
CREATE ROLE pm_nobody;
SELECT ml.grant_access('pm_reader', 'read');
SET ROLE pm_reader;
SELECT count(*) > 0 AS reads FROM ml.prometheus_metrics;
RESET ROLE;
SET ROLE pm_nobody;
SELECT left(error_of('SELECT count(*) FROM ml.prometheus_metrics'), 5) AS view_denied;
SELECT left(error_of('SELECT count(*) FROM ml.serving_latency_buckets()'), 5) AS function_denied;
RESET ROLE;
SELECT has_function_privilege('public', 'ml.serving_latency_buckets()', 'EXECUTE') AS public_executes;

DROP OWNED BY pm_reader, pm_nobody;
DROP ROLE pm_reader, pm_nobody;
DELETE FROM ml.webhook_outbox WHERE channel LIKE 'pm\_%';
DELETE FROM ml.channels WHERE name LIKE 'pm\_%';
DELETE FROM ml.MLMonitoringMetrics WHERE model_name LIKE 'pm\_%';
DROP VIEW pm_buckets;
DROP TABLE pm_data;
