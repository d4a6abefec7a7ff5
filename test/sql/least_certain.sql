-- Active learning (issue 14): ml.least_certain ranks a source's rows by how uncertain a classifier
-- is about them, against the same ranking computed independently here from ml.predict_proba
SET client_min_messages = warning;
CREATE TABLE lc_rows AS
SELECT i AS id, jsonb_build_object('x', (i % 17)::float8, 'c', (ARRAY['a', 'b', 'c'])[1 + i % 3]) AS features,
       (i % 17)::float8 AS x, (ARRAY['a', 'b', 'c'])[1 + i % 3] AS c,
       CASE WHEN i % 5 = 0 THEN '{"done": true}'::jsonb END AS outcome,
       -- a noisy boundary at x = 8, and three classes by x
       ((i % 17) > 8) <> ((i * 7919) % 10 = 0) AS y,
       CASE WHEN (i % 17) < 6 THEN 'low' WHEN (i % 17) < 12 THEN 'mid' ELSE 'high' END
           || CASE WHEN (i * 104729) % 9 = 0 THEN '' ELSE '' END AS level
  FROM generate_series(1, 3000) i;
SELECT version, deployed FROM ml.train('lc_binary', 'SELECT x, c, y FROM lc_rows', 'y',
                                       params => '{"num_round": 6, "max_depth": 3}');
SELECT version, deployed FROM ml.train('lc_levels', $$SELECT x, c, CASE WHEN id % 7 = 0 THEN 'mid' ELSE level END AS level FROM lc_rows$$,
                                       'level', params => '{"num_round": 6, "max_depth": 3}');

-- the measures on known probabilities: 0 ln 0 is 0, never NaN
SELECT ml.uncertainty('{0, 1}') AS certain, ml.uncertainty('{1, 0, 0}') AS certain3,
       ml.uncertainty('{0.5, 0.5}') = ln(2) AS entropy_half,
       abs(ml.uncertainty('{0.5, 0.3, 0.2}') - (-(0.5 * ln(0.5) + 0.3 * ln(0.3) + 0.2 * ln(0.2)))) < 1e-12 AS entropy3,
       ml.uncertainty('{0.5, 0.3, 0.2}', 'margin') AS margin, ml.uncertainty('{0.5, 0.3, 0.2}', 'least_confident') AS least_confident,
       ml.uncertainty('{0.2, 0.5, 0.3}', 'margin') AS margin_unsorted;

-- each strategy, each model: the batch is the top of the ranking computed here (ties by id as
-- text), rows with an outcome left out, the uncertainty and probabilities those of predict_proba
CREATE FUNCTION pg_temp.by_hand(model text, strategy text, n integer)
RETURNS TABLE (id text, u float8) LANGUAGE sql AS $$
    SELECT r.id::text,
           CASE strategy
               WHEN 'entropy' THEN -(SELECT sum(CASE WHEN q > 0 THEN q * ln(q) ELSE 0 END) FROM unnest(p) q)
               WHEN 'margin' THEN 1 - ((SELECT max(q) FROM unnest(p) q)
                                       - (SELECT q FROM unnest(p) q ORDER BY q DESC OFFSET 1 LIMIT 1))
               ELSE 1 - (SELECT max(q) FROM unnest(p) q) END
      FROM lc_rows r, LATERAL (SELECT ml.predict_proba(model, r.features) AS p) x
     WHERE r.outcome IS NULL
     ORDER BY 2 DESC, 1 LIMIT n
$$;
SELECT m.model, s.strategy,
       (SELECT array_agg(l.id ORDER BY l.rank) FROM ml.least_certain(m.model, 'lc_rows', 12, s.strategy) l)
           = (SELECT array_agg(h.id) FROM pg_temp.by_hand(m.model, s.strategy, 12) h) AS same_batch,
       (SELECT bool_and(abs(l.uncertainty - h.u) < 1e-12)
          FROM ml.least_certain(m.model, 'lc_rows', 12, s.strategy) l
          JOIN pg_temp.by_hand(m.model, s.strategy, 12) h USING (id)) AS same_scores,
       (SELECT bool_and(l.probabilities = ml.predict_proba(m.model, l.features) AND l.features = r.features)
          FROM ml.least_certain(m.model, 'lc_rows', 12, s.strategy) l JOIN lc_rows r ON r.id::text = l.id) AS rows_ok,
       (SELECT count(*) FROM ml.least_certain(m.model, 'lc_rows', 12, s.strategy) l
          JOIN lc_rows r ON r.id::text = l.id WHERE r.outcome IS NOT NULL) AS with_outcome
  FROM (VALUES ('lc_binary'), ('lc_levels')) m (model),
       (VALUES ('entropy'), ('margin'), ('least_confident')) s (strategy)
 ORDER BY 1, 2;

-- only_without_outcome => false takes every row; a source without an outcome column says so
SELECT count(*) FILTER (WHERE r.outcome IS NOT NULL) > 0 AS includes_outcomes
  FROM ml.least_certain('lc_binary', 'lc_rows', 200, only_without_outcome => false) l
  JOIN lc_rows r ON r.id::text = l.id;
SET client_min_messages = notice;
SELECT count(*) AS from_query
  FROM ml.least_certain('lc_binary', 'SELECT id * 10 AS key, features AS f FROM lc_rows', 7,
                        id_column => 'key', features_column => 'f');
SET client_min_messages = warning;

-- diversity: a source where the most uncertain row is repeated 40 times (ids that sort first),
-- among rows of every other feature vector
CREATE TABLE lc_copies AS
SELECT 'copy-' || lpad(i::text, 2, '0') AS id,
       (SELECT features FROM ml.least_certain('lc_binary', 'lc_rows', 1)) AS features
  FROM generate_series(1, 40) i
UNION ALL
SELECT 'other-' || lpad(i::text, 3, '0'),
       jsonb_build_object('x', (i % 17)::float8, 'c', (ARRAY['a', 'b', 'c'])[1 + i % 3])
  FROM generate_series(1, 360) i
 WHERE jsonb_build_object('x', (i % 17)::float8, 'c', (ARRAY['a', 'b', 'c'])[1 + i % 3])
       <> (SELECT features FROM ml.least_certain('lc_binary', 'lc_rows', 1));
SELECT count(DISTINCT features) AS distinct_without_diversity, min(id) AS first, max(id) AS last
  FROM ml.least_certain('lc_binary', 'lc_copies', 8);
SELECT count(DISTINCT features) AS distinct_with_diversity,
       (array_agg(id ORDER BY rank))[1] AS starts_at_most_uncertain
  FROM ml.least_certain('lc_binary', 'lc_copies', 8, diversity => 0.7);
-- the spread itself: farthest points first at diversity 1, plain ranking at 0
SELECT ml.uncertainty_spread(ARRAY['{"x": 0}', '{"x": 0.1}', '{"x": 10}', '{"x": 5}']::jsonb[],
                             '{0.9, 0.8, 0.1, 0.2}', 3, 1) AS farthest,
       ml.uncertainty_spread(ARRAY['{"x": 0}', '{"x": 0.1}', '{"x": 10}', '{"x": 5}']::jsonb[],
                             '{0.9, 0.8, 0.1, 0.2}', 3, 0) AS ranking,
       ml.uncertainty_spread(ARRAY['{"c": "a"}', '{"c": "a"}', '{"c": "b"}']::jsonb[], '{0.9, 0.8, 0.1}', 2, 0.5) AS categories,
       ml.uncertainty_spread('{}'::jsonb[], '{}', 3, 0.5) AS empty;

-- bad arguments are clear errors
SELECT left(error_of($$SELECT * FROM ml.least_certain('lc_nope', 'lc_rows')$$), 5) AS unknown_model;
SELECT left(error_of($$SELECT * FROM ml.least_certain('lc_binary', 'lc_rows', version => 9)$$), 5) AS unknown_version;
SELECT version FROM ml.train('lc_regression', 'SELECT x, c, id::float8 AS target FROM lc_rows', 'target',
                             params => '{"num_round": 2}');
SELECT left(error_of($$SELECT * FROM ml.least_certain('lc_regression', 'lc_rows')$$), 5) AS regression;
SELECT left(error_of($$SELECT * FROM ml.least_certain('lc_binary', 'lc_rows', 0)$$), 5) AS zero_rows,
       left(error_of($$SELECT * FROM ml.least_certain('lc_binary', 'lc_rows', strategy => 'random')$$), 5) AS strategy,
       left(error_of($$SELECT * FROM ml.least_certain('lc_binary', 'lc_rows', diversity => 1.5)$$), 5) AS diversity,
       left(error_of($$SELECT * FROM ml.least_certain('lc_binary', 'lc_rows', diversity => 'NaN')$$), 5) AS diversity_nan,
       left(error_of($$SELECT * FROM ml.least_certain('lc_binary', NULL)$$), 5) AS no_source,
       left(error_of($$SELECT * FROM ml.least_certain('lc_binary', 'lc_rows', id_column => 'nope')$$), 5) AS no_id,
       left(error_of($$SELECT ml.uncertainty('{0.5, NULL}')$$), 5) AS null_probability,
       left(error_of($$SELECT ml.uncertainty('{0.5, 1.5}')$$), 5) AS above_one,
       left(error_of($$SELECT ml.uncertainty('{NaN}')$$), 5) AS nan,
       left(error_of($$SELECT ml.uncertainty('{}')$$), 5) AS empty,
       left(error_of($$SELECT ml.uncertainty_spread(ARRAY['{}']::jsonb[], '{1, 2}', 1)$$), 5) AS lengths,
       left(error_of($$SELECT ml.uncertainty_spread(ARRAY['[1]']::jsonb[], '{1}', 1)$$), 5) AS not_object,
       left(error_of($$SELECT ml.uncertainty_spread(ARRAY['{}']::jsonb[], '{1}', -1)$$), 5) AS negative_n,
       left(error_of($$SELECT ml.uncertainty_spread(ARRAY['{}']::jsonb[], '{-1}', 1)$$), 5) AS negative_score,
       left(error_of($$SELECT ml.uncertainty_spread(array_fill('{}'::jsonb, ARRAY[20000]),
                                                   array_fill(0.5::float8, ARRAY[20000]), 1000)$$), 5) AS too_much_work,
       left(error_of($$SELECT * FROM ml.least_certain('lc_binary', 'lc_rows', 1001, diversity => 0.5)$$), 5) AS n_with_diversity;
