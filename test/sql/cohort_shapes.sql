-- Per-cohort models of every task, cohorts a split leaves without training rows,
-- and routing through a model cache smaller than the cohorts.
SET client_min_messages = warning;  -- progress notices depend on timing

-- multi-class: cohort 'b' never sees class 'z'; the routed whole still has all three
CREATE TABLE cohort_multi AS
SELECT i AS id, CASE WHEN i % 2 = 0 THEN 'a' ELSE 'b' END AS grp,
       ((i * 7919) % 1000) / 1000.0 AS x
  FROM generate_series(1, 800) i;
ALTER TABLE cohort_multi ADD COLUMN label text;
UPDATE cohort_multi SET label = CASE WHEN grp = 'a' THEN (ARRAY['x', 'y', 'z'])[1 + floor(x * 3)::int]
                                     ELSE (ARRAY['x', 'y'])[1 + floor(x * 2)::int] END;
SELECT version, deployed FROM ml.train('coh_multi', 'cohort_multi', 'label', features => ARRAY['grp', 'x'],
                                       params => '{"num_round": 10}', cohort_column => 'grp', min_cohort_rows => 100);
SELECT version, cohort, feature_schema->'classes' AS classes FROM ml.models WHERE name = 'coh_multi' ORDER BY version;
SELECT (metrics->'routed'->>'rows')::int AS routed_rows, jsonb_array_length(metrics->'routed'->'confusion_matrix'->'labels') AS classes
  FROM ml.mlevaluationresults WHERE model_name = 'coh_multi' AND model_version = 1;
SELECT g, ml.predict_label('coh_multi', jsonb_build_object('grp', g, 'x', 0.95)) AS label,
       array_length(ml.predict_proba('coh_multi', jsonb_build_object('grp', g, 'x', 0.95)), 1) AS probabilities
  FROM unnest(ARRAY['a', 'b']) g;

-- regression: each cohort its own slope
CREATE TABLE cohort_reg AS
SELECT i AS id, CASE WHEN i % 2 = 0 THEN 'up' ELSE 'down' END AS grp,
       ((i * 7919) % 1000) / 1000.0 AS x
  FROM generate_series(1, 800) i;
ALTER TABLE cohort_reg ADD COLUMN y float8;
UPDATE cohort_reg SET y = CASE grp WHEN 'up' THEN 10 * x ELSE -10 * x END;
SELECT version, deployed FROM ml.train('coh_reg', 'cohort_reg', 'y', features => ARRAY['grp', 'x'],
                                       params => '{"num_round": 30}', cohort_column => 'grp', min_cohort_rows => 100);
SELECT g, round(ml.predict('coh_reg', jsonb_build_object('grp', g, 'x', 0.9))::numeric) AS at_0_9
  FROM unnest(ARRAY['up', 'down']) g;
SELECT (metrics->'routed'->>'rmse')::float8 < (metrics->>'rmse')::float8 AS routed_rmse_lower
  FROM ml.mlevaluationresults WHERE model_name = 'coh_reg' AND model_version = 1;

-- ranking: cohorts of query groups
CREATE TABLE cohort_rank AS
SELECT q, CASE WHEN q % 2 = 0 THEN 'even' ELSE 'odd' END AS grp, d,
       ((q * 31 + d * 17) % 100) / 100.0 AS x
  FROM generate_series(1, 120) q, generate_series(1, 5) d;
ALTER TABLE cohort_rank ADD COLUMN rel int;
UPDATE cohort_rank SET rel = CASE WHEN grp = 'even' THEN floor(x * 3)::int ELSE 2 - floor(x * 3)::int END;
SELECT count(*) AS models, count(*) FILTER (WHERE deployed) AS deployed
  FROM ml.train('coh_rank', 'SELECT q, grp, x, rel FROM cohort_rank', 'rel', group_column => 'q',
                features => ARRAY['grp', 'x'], params => '{"num_round": 10}',
                cohort_column => 'grp', min_cohort_rows => 100);
SELECT ml.predict('coh_rank', '{"grp": "even", "x": 0.9}'::jsonb) > ml.predict('coh_rank', '{"grp": "even", "x": 0.1}'::jsonb) AS even_up,
       ml.predict('coh_rank', '{"grp": "odd", "x": 0.9}'::jsonb) < ml.predict('coh_rank', '{"grp": "odd", "x": 0.1}'::jsonb) AS odd_down;

-- one-row cohorts: those the split puts in the test rows get no model, and are
-- served by the global model; the others get one
CREATE TABLE cohort_tiny AS
SELECT i AS id, CASE WHEN i <= 8 THEN 'solo' || i ELSE 'crowd' END AS grp,
       ((i * 7919) % 1000) / 1000.0 AS x, i % 2 = 0 AS y
  FROM generate_series(1, 400) i;
SELECT count(*) AS rows FROM ml.train('coh_tiny', 'cohort_tiny', 'y', features => ARRAY['grp', 'x'],
                                      params => '{"num_round": 3}', test_size => 0.5,
                                      cohort_column => 'grp', min_cohort_rows => 1);
SELECT count(*) FILTER (WHERE cohort LIKE 'solo%') BETWEEN 1 AND 7 AS some_solos_trained,
       bool_and(train_rows = 1) FILTER (WHERE cohort LIKE 'solo%') AS of_one_row,
       bool_and(test_rows = 0) FILTER (WHERE cohort LIKE 'solo%') AS tested_on_none
  FROM ml.models WHERE name = 'coh_tiny';
SELECT bool_and(ml.predict('coh_tiny', to_jsonb(t) - 'y' - 'id') =
                ml.predict('coh_tiny', to_jsonb(t) - 'y' - 'id', coalesce(m.version, 1))) AS each_served_by_its_model
  FROM cohort_tiny t LEFT JOIN ml.models m ON m.name = 'coh_tiny' AND m.cohort = t.grp;

-- a cache of one model: rows of alternating cohorts evict each other's model and the
-- global one at every call, and every prediction is still its model's
SET learnloop.model_cache_size = 1;
SELECT bool_and(ml.predict('coh_reg', f) = expected) AS routed_right, count(*)
  FROM (SELECT jsonb_build_object('grp', g, 'x', i / 20.0) AS f, g
          FROM generate_series(1, 20) i, unnest(ARRAY['up', 'down', 'other']) g) s,
       LATERAL (SELECT ml.predict('coh_reg', s.f, m.version) AS expected
                  FROM ml.models m WHERE m.name = 'coh_reg'
                   AND m.version = coalesce((SELECT version FROM ml.models WHERE name = 'coh_reg' AND cohort = s.g), 1)) e;
SELECT count(*) <= 1 AS cache_within_size FROM ml.model_cache();
RESET learnloop.model_cache_size;

DELETE FROM ml.mlevaluationresults WHERE model_name LIKE 'coh\_%';
DELETE FROM ml.deployment_decisions WHERE model_name LIKE 'coh\_%';
DELETE FROM ml.deployments WHERE model_name LIKE 'coh\_%';
DELETE FROM ml.models WHERE name LIKE 'coh\_%';
DROP TABLE cohort_multi, cohort_reg, cohort_rank, cohort_tiny;
