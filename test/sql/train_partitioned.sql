-- Training from a source partitioned by time (declarative partitioning), on its
-- newest partitions by a filter, on a sample; scoring it in parallel
SET client_min_messages = warning;
SET timezone = 'UTC';

-- shaped like ml.MLTrainingData, one partition a month
CREATE TABLE part_events (
    id          bigint NOT NULL,
    task        text NOT NULL,
    unit_id     text NOT NULL,
    created_at  timestamptz NOT NULL,
    features    jsonb NOT NULL,
    decision    jsonb,
    outcome     jsonb,
    source      text NOT NULL DEFAULT 'real',
    PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);
CREATE TABLE part_events_2026_01 PARTITION OF part_events FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
CREATE TABLE part_events_2026_02 PARTITION OF part_events FOR VALUES FROM ('2026-02-01') TO ('2026-03-01');
CREATE TABLE part_events_2026_03 PARTITION OF part_events FOR VALUES FROM ('2026-03-01') TO ('2026-04-01');
CREATE TABLE part_events_2026_04 PARTITION OF part_events FOR VALUES FROM ('2026-04-01') TO ('2026-05-01');
-- 4,000 decisions over the four months; engagement depends on x1, x2 and the action
INSERT INTO part_events (id, task, unit_id, created_at, features, decision, outcome)
SELECT i, 'respond', 'u' || (i % 300),
       timestamptz '2026-01-01 00:00+00' + (i - 1) * interval '43 minutes',
       jsonb_build_object('x1', round(((i * 0.6180339887) % 1)::numeric, 4),
                          'x2', round(((i * 0.4142135623) % 1)::numeric, 4)),
       jsonb_build_object('action', (ARRAY['brief', 'detailed'])[1 + i % 2]),
       jsonb_build_object('engaged', (((i * 0.6180339887) % 1) + ((i * 0.4142135623) % 1) > 1) = (i % 2 = 0))
  FROM generate_series(1, 4000) i;
ANALYZE part_events;
SELECT tableoid::regclass AS partition, count(*) FROM part_events GROUP BY 1 ORDER BY 1;

-- the partitioned table by name, time split on the partition key
SELECT model_name, version, metric_name, score > 0.9 AS accurate, deployed
  FROM ml.train('part_engaged', 'part_events', $$(outcome->>'engaged')::boolean$$,
                features => ARRAY['features', $$decision->>'action' AS action$$],
                split => 'time', split_column => 'created_at', params => '{"num_round": 40}');
SELECT train_rows + test_rows AS rows, test_rows, feature_schema->'features' @> '[{"name": "action"}]' AS has_action
  FROM ml.models WHERE name = 'part_engaged' AND version = 1;
-- the time split's test rows are the newest: all in the last partition
SELECT (SELECT count(*) FROM part_events_2026_04) >= test_rows AS test_rows_fit_in_april
  FROM ml.models WHERE name = 'part_engaged' AND version = 1;

-- the newest partitions only, by a filter on the partition key: the planner
-- reads those partitions alone (the worker's query has this WHERE)
EXPLAIN (COSTS OFF) SELECT features FROM part_events AS learnloop_source
 WHERE (created_at >= timestamptz '2026-03-01 00:00+00');
SELECT model_name, version, deployed
  FROM ml.train('part_recent', 'part_events', $$(outcome->>'engaged')::boolean$$,
                features => ARRAY['features', $$decision->>'action' AS action$$],
                filter => $$created_at >= timestamptz '2026-03-01 00:00+00'$$,
                split => 'time', split_column => 'created_at', params => '{"num_round": 40}');
SELECT m.train_rows + m.test_rows AS rows,
       m.train_rows + m.test_rows = (SELECT count(*) FROM part_events_2026_03) + (SELECT count(*) FROM part_events_2026_04)
           AS rows_of_march_and_april
  FROM ml.models m WHERE m.name = 'part_recent';
-- one partition by its own name trains too
SELECT model_name, version
  FROM ml.train('part_april', 'part_events_2026_04', $$(outcome->>'engaged')::boolean$$,
                features => ARRAY['features', $$decision->>'action' AS action$$], params => '{"num_round": 10}');
SELECT m.train_rows + m.test_rows = (SELECT count(*) FROM part_events_2026_04) AS rows_of_april
  FROM ml.models m WHERE m.name = 'part_april';

-- a sample of every partition (repeatable: the same rows each time it is read)
SELECT model_name, version
  FROM ml.train('part_sample', 'SELECT * FROM part_events TABLESAMPLE BERNOULLI (25) REPEATABLE (7)',
                $$(outcome->>'engaged')::boolean$$,
                features => ARRAY['features', $$decision->>'action' AS action$$], params => '{"num_round": 10}');
SELECT m.train_rows + m.test_rows AS sample_rows,
       m.train_rows + m.test_rows = (SELECT count(*) FROM part_events TABLESAMPLE BERNOULLI (25) REPEATABLE (7))
           AS the_sample,
       m.train_rows + m.test_rows < 4000 * 0.35 AS about_a_quarter
  FROM ml.models m WHERE m.name = 'part_sample';

-- scoring the partitioned table: a parallel append of its partitions
SET max_parallel_workers_per_gather = 2;
SET min_parallel_table_scan_size = 0;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
EXPLAIN (COSTS OFF)
SELECT id, ml.predict('part_engaged', features || jsonb_build_object('action', decision->>'action')) FROM part_events;
SELECT * FROM ml.predict_batch('part_engaged', 'part_events', 'part_scores', id_columns => '{id, created_at}',
                               features => $$features || jsonb_build_object('action', decision->>'action')$$);
RESET max_parallel_workers_per_gather;
RESET min_parallel_table_scan_size;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
SELECT count(*) AS rows,
       count(*) FILTER (WHERE s.prediction = ml.predict('part_engaged', e.features || jsonb_build_object('action', e.decision->>'action')))
           AS equal_to_predict
  FROM part_scores s JOIN part_events e USING (id, created_at);
RESET timezone;
