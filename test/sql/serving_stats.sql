-- Serving statistics (issue 11): ml.serving_stats counts calls, errors, fallbacks and latency
-- of ml.predict*, ml.explain and ml.decide per database, model and function in shared memory
SET client_min_messages = warning;
SELECT ml.serving_stats_reset() >= 0 AS reset_all, ml.serving_stats_dropped() AS dropped;
CREATE TABLE ss_data AS
SELECT (i % 17)::float8 AS x1, ((i * 7) % 13)::float8 AS x2, (ARRAY['a', 'b', 'c'])[1 + i % 3] AS action,
       (i % 17) > 8 OR i % 3 = 0 AS y
  FROM generate_series(1, 600) i;
SELECT version, deployed FROM ml.train('ss_model', 'SELECT x1, x2, action, y FROM ss_data', 'y',
                                       params => '{"num_round": 4, "max_depth": 3}');
CREATE VIEW ss AS
SELECT model, function, calls, errors, fallbacks, p50_ms IS NOT NULL AS timed
  FROM ml.serving_stats WHERE database = current_database() AND model LIKE 'ss\_%'
 ORDER BY model, function;
SELECT * FROM ss;

-- known calls: 10 predict (both forms), 3 predict_proba, 2 predict_label, 1 explain
SELECT count(ml.predict('ss_model', jsonb_build_object('x1', i, 'x2', 1, 'action', 'a'))) FROM generate_series(1, 7) i;
SELECT count(ml.predict('ss_model', ARRAY[i, 1, 0]::real[])) FROM generate_series(1, 3) i;
SELECT count(ml.predict_proba('ss_model', '{"x1": 3, "x2": 1, "action": "b"}'::jsonb)) FROM generate_series(1, 3);
SELECT count(ml.predict_label('ss_model', '{"x1": 3, "x2": 1, "action": "b"}'::jsonb)) FROM generate_series(1, 2);
SELECT count(*) > 0 AS explained FROM ml.explain('ss_model', '{"x1": 3, "x2": 1, "action": "b"}');
-- ml.decide: the model decides twice and is not confident enough once (a fallback); a task
-- whose model does not exist is an error, counted under the task's name
SELECT (ml.decide('ss_task', 'u1', '{"x1": 3, "x2": 1}', 'rules', model => 'ss_model',
                  min_confidence => 0)).decided_by LIKE 'model ss_model%' AS by_model
  FROM generate_series(1, 2);
SELECT decided_by FROM ml.decide('ss_task', 'u2', '{"x1": 3, "x2": 1}', 'rules', model => 'ss_model', min_confidence => 1);
SELECT left(error_of($$SELECT ml.decide('ss_nomodel', 'u3', '{"x1": 3}', 'rules')$$), 5) AS no_model;
-- errors are counted, under the model named: one that does not exist, and a bad argument
SELECT left(error_of($$SELECT ml.predict('ss_missing', '{"x1": 1}'::jsonb)$$), 5) AS missing;
SELECT left(error_of($$SELECT ml.predict_label('ss_model', '{"x1": 1}'::jsonb, version => 99)$$), 5) AS bad_version;
SELECT * FROM ss;

-- the latency of every decision is in its row: a non-negative whole number of microseconds
SELECT count(*) AS decisions,
       bool_and(jsonb_typeof(decision->'latency_us') = 'number'
                AND (decision->>'latency_us')::numeric = trunc((decision->>'latency_us')::numeric)
                AND (decision->>'latency_us')::numeric >= 0) AS latency_us_ok
  FROM ml.mltrainingdata WHERE task IN ('ss_task', 'ss_nomodel');

-- percentiles are ordered and inside [min, max]; the mean too; the total is calls times the mean
SELECT function,
       min_ms > 0 AND min_ms <= p50_ms AND p50_ms <= p95_ms AND p95_ms <= p99_ms AND p99_ms <= max_ms AS ordered,
       mean_ms BETWEEN min_ms AND max_ms AS mean_inside,
       abs(total_ms - mean_ms * (calls - errors)) < 1e-6 * total_ms AS total_ok
  FROM ml.serving_stats WHERE database = current_database() AND model = 'ss_model' ORDER BY function;

-- a sample of the calls is timed (the first 64 of a transaction, then one in
-- learnloop.serving_stats_time_every), but every call that returned is in the latency: the
-- untimed ones count as a timed one, so count and errors stay exact
SELECT ml.serving_stats_reset('ss_model') AS removed;
SET learnloop.serving_stats_time_every = 1000000;
SELECT count(ml.predict('ss_model', ARRAY[i % 17, 1, 0]::real[])) FROM generate_series(1, 1000) i;
SELECT left(error_of($$SELECT ml.predict('ss_model', ARRAY[1, 2]::real[])$$), 5) AS wrong_length;
SET learnloop.serving_stats_time_every = 7;
SELECT count(ml.predict('ss_model', ARRAY[i % 17, 1, 0]::real[])) FROM generate_series(1, 500) i;
RESET learnloop.serving_stats_time_every;
SELECT function, calls, errors,
       (SELECT b.count FROM ml.serving_latency_buckets() b
         WHERE b.database = s.database AND b.model = s.model AND b.function = s.function) AS latency_count,
       min_ms <= p50_ms AND p50_ms <= p99_ms AND p99_ms <= max_ms AS ordered,
       abs(total_ms - mean_ms * (calls - errors)) < 1e-6 * total_ms AS total_ok
  FROM ml.serving_stats() s
 WHERE database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND model = 'ss_model';
SELECT left(error_of($$SET learnloop.serving_stats_time_every = 0$$), 5) AS zero;

-- switched off, nothing is counted (and decisions still carry their latency)
SET learnloop.serving_stats = off;
SELECT count(ml.predict('ss_model', '{"x1": 3, "x2": 1, "action": "b"}'::jsonb)) FROM generate_series(1, 5);
SELECT decided_by FROM ml.decide('ss_task', 'u4', '{"x1": 3, "x2": 1}', 'rules', model => 'ss_model', min_confidence => 0);
SELECT decision ? 'latency_us' AS has_latency FROM ml.mltrainingdata WHERE task = 'ss_task' AND unit_id = 'u4';
SELECT left(error_of($$SELECT ml.predict('ss_missing', '{"x1": 1}'::jsonb)$$), 5) AS missing;
RESET learnloop.serving_stats;
SELECT * FROM ss;
-- the setting is the superuser's: an application cannot hide its calls
CREATE ROLE ss_reader;
CREATE ROLE ss_nobody;
SELECT ml.grant_access('ss_reader', 'read');
SET ROLE ss_reader;
SELECT left(error_of($$SET learnloop.serving_stats = off$$), 5) AS set_off;
SELECT left(error_of($$SET learnloop.serving_stats_time_every = 1000$$), 5) AS set_time_every;

-- privileges: the 'read' access reads, it does not reset; a role without it reads nothing
SELECT count(*) AS rows FROM ml.serving_stats WHERE database = current_database() AND model LIKE 'ss\_%';
SELECT ml.serving_stats_dropped() AS dropped;
SELECT left(error_of($$SELECT ml.serving_stats_reset()$$), 5) AS reset_denied;
SET ROLE ss_nobody;
SELECT left(error_of($$SELECT count(*) FROM ml.serving_stats$$), 5) AS read_denied;
SELECT left(error_of($$SELECT count(*) FROM ml.serving_stats()$$), 5) AS function_denied;
RESET ROLE;
-- reset may be granted
GRANT EXECUTE ON FUNCTION ml.serving_stats_reset(text) TO ss_reader;
SET ROLE ss_reader;
-- one model of this database: its five functions
SELECT ml.serving_stats_reset('ss_model') AS removed;
RESET ROLE;
SELECT * FROM ss;
SELECT ml.serving_stats_reset('ss_no_such_model') AS removed;
SELECT ml.serving_stats_reset() >= 2 AS reset_all;
SELECT * FROM ss;

DROP OWNED BY ss_reader, ss_nobody;
DROP ROLE ss_reader;
DROP ROLE ss_nobody;
