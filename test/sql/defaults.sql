-- Defaults that surprised (issue 9, section 4) and argument checks that let
-- wrong answers through (section 6): each case fails before its fix.
SET client_min_messages = warning;

CREATE TABLE dflt AS
SELECT i, (i % 7) / 7.0 AS x1, ((i * 3) % 11) / 11.0 AS x2,
       (((i % 7) / 7.0 + ((i * 3) % 11) / 11.0) > 0.9)::int AS y01,
       1 + i % 5 AS stars,
       (((i % 7) / 7.0 + ((i * 3) % 11) / 11.0) > 0.9)::int::float8 AS yfloat,
       (((i % 7) / 7.0 + ((i * 3) % 11) / 11.0) > 0.9)::int * 3 + 2 AS y25,
       (ARRAY['calm', 'busy', 'late'])[1 + i % 3] AS action,
       ((i % 7) + CASE (ARRAY['calm', 'busy', 'late'])[1 + i % 3] WHEN 'busy' THEN 10 ELSE 0 END)::float8 AS gain,
       (ARRAY['low', 'mid', 'high'])[1 + ((i % 7) / 3)] AS level
  FROM generate_series(1, 600) i;

-- 1. the task inferred from the target: an integer 0/1 or 2/5 target is a
--    classifier, an integer with more values and any float a regression
SELECT model_name, version FROM ml.train('inf_int01', 'dflt', 'y01', features => ARRAY['x1', 'x2'],
                                         params => '{"num_round": 3}');
SELECT model_name, version FROM ml.train('inf_int25', 'dflt', 'y25', features => ARRAY['x1', 'x2'],
                                         params => '{"num_round": 3}');
SELECT model_name, version FROM ml.train('inf_stars', 'dflt', 'stars', features => ARRAY['x1', 'x2'],
                                         params => '{"num_round": 3}');
SELECT model_name, version FROM ml.train('inf_float', 'dflt', 'yfloat', features => ARRAY['x1', 'x2'],
                                         params => '{"num_round": 3}');
SELECT model_name, version FROM ml.train('inf_bool', 'dflt', 'y01::boolean', features => ARRAY['x1', 'x2'],
                                         params => '{"num_round": 3}');
SELECT model_name, version FROM ml.train('inf_forced', 'dflt', 'y01', features => ARRAY['x1', 'x2'],
                                         task => 'regression', params => '{"num_round": 3}');
SELECT name, task, objective, feature_schema->'classes' AS classes
  FROM ml.models WHERE name LIKE 'inf\_%' ORDER BY name;
SELECT ml.predict_label('inf_int25', '{"x1": 0.9, "x2": 0.9}'::jsonb) AS high,
       ml.predict_label('inf_int25', '{"x1": 0, "x2": 0}'::jsonb) AS low;

-- 2. numbers in jsonb read back exactly, in their shortest form
SELECT model_name FROM ml.train('exact', 'dflt', 'y01', features => ARRAY['x1', 'x2'],
                                params => '{"num_round": 3, "eta": 0.30000000000000004, "lambda": 1.748852}');
SELECT params->>'eta' AS eta, params->>'lambda' AS lambda,
       (params->>'eta')::float8 = 0.1::float8 + 0.2::float8 AS eta_exact
  FROM ml.models WHERE name = 'exact';
-- every digit a double needs (not 10), and no more than it needs (not 17)
SELECT length(metrics->>'log_loss') > 12 AND length(metrics->>'ece') > 12 AS all_digits,
       (SELECT bool_and(v::text = (v::text)::float8::text)
          FROM jsonb_each(metrics) e(k, v) WHERE jsonb_typeof(v) = 'number') AS metrics_shortest
  FROM ml.mlevaluationresults WHERE model_name = 'exact';
-- XGBoost's float gains with a float's digits (not 6)
SELECT bool_and(length(replace(v::text, '.', '')) > 6) AS importance_all_digits,
       bool_and(v::text = (v::text)::float4::text) AS importance_shortest
  FROM ml.models, jsonb_each(feature_importance) e(k, v) WHERE name = 'exact';

-- 3. ml.decide: confidence is a probability only; an outcome model's
--    predicted value is the score, held to min_score
SELECT model_name FROM ml.train('gain_model', 'dflt', 'gain', features => ARRAY['x1', 'x2', 'action'],
                                params => '{"num_round": 20}');
SELECT action, confidence, score > 10 AS score_is_the_value, decided_by
  FROM ml.decide('gain_task', 'u1', '{"x1": 0.5, "x2": 0.5}', fallback => 'rules', model => 'gain_model');
SELECT decision ? 'confidence' AS has_confidence, (decision->>'score')::float8 > 10 AS score_unclipped
  FROM ml.mltrainingdata WHERE task = 'gain_task' ORDER BY id DESC LIMIT 1;
SELECT action, confidence, score, decided_by
  FROM ml.decide('gain_task', 'u1', '{"x1": 0.5, "x2": 0.5}', fallback => 'rules', model => 'gain_model',
                 min_score => 1000);
-- a classifier outcome model: its probability is both
SELECT model_name FROM ml.train('win_model', 'dflt', 'gain > 12', features => ARRAY['x1', 'x2', 'action'],
                                params => '{"num_round": 5}');
SELECT decision_id AS win_id, confidence AS win_confidence, confidence = score AS confidence_is_score,
       confidence BETWEEN 0 AND 1 AS probability, decided_by
  FROM ml.decide('win_task', 'u1', '{"x1": 0.9, "x2": 0.5}', fallback => 'rules', model => 'win_model',
                 min_confidence => 0) \gset
SELECT :'confidence_is_score' AS confidence_is_score, :'probability' AS probability, :'decided_by' AS decided_by,
       (decision->>'confidence')::float8 = :win_confidence AS stored_exactly
  FROM ml.mltrainingdata WHERE id = :win_id;
-- a policy: the probability of the chosen class, no score
SELECT model_name FROM ml.train('policy', 'dflt', 'level', features => ARRAY['x1', 'x2'], params => '{"num_round": 5}');
SELECT action, confidence BETWEEN 0 AND 1 AS probability, score
  FROM ml.decide('policy_task', 'u1', '{"x1": 0.9, "x2": 0.5}', fallback => 'rules', model => 'policy',
                 min_confidence => 0);
SELECT error_of($$SELECT ml.decide('t', 'u', '{}', 'a', model => 'gain_model', min_score => 'NaN')$$);

-- 4. ml.explain names the class it explains, and explains the one asked for
SELECT DISTINCT class = ml.predict_label('policy', '{"x1": 0.9, "x2": 0.5}'::jsonb) AS predicted_class
  FROM ml.explain('policy', '{"x1": 0.9, "x2": 0.5}');
SELECT class, count(*) AS rows FROM ml.explain('policy', '{"x1": 0.9, "x2": 0.5}', class => 'low') GROUP BY class;
SELECT (SELECT sum(contribution) FROM ml.explain('policy', '{"x1": 0.9, "x2": 0.5}', class => 'low')) <>
       (SELECT sum(contribution) FROM ml.explain('policy', '{"x1": 0.9, "x2": 0.5}', class => 'high')) AS per_class;
-- binary: the positive class, or the other one with the signs turned
SELECT DISTINCT class FROM ml.explain('inf_int01', '{"x1": 0.5, "x2": 0.5}');
SELECT bool_and(p.contribution = -n.contribution) AS negated
  FROM ml.explain('inf_int01', '{"x1": 0.5, "x2": 0.5}') p
  JOIN ml.explain('inf_int01', '{"x1": 0.5, "x2": 0.5}', class => '0') n USING (feature);
SELECT DISTINCT class IS NULL AS no_class FROM ml.explain('inf_stars', '{"x1": 0.5}');
SELECT error_of($$SELECT * FROM ml.explain('policy', '{}', class => 'nope')$$);
SELECT error_of($$SELECT * FROM ml.explain('inf_stars', '{}', class => '1')$$);

-- 5. a version below 1 is an error, not the deployed version
SELECT error_of($$SELECT ml.predict('inf_stars', '{}'::jsonb, -1)$$);
SELECT error_of($$SELECT ml.predict('inf_stars', ARRAY[0.1, 0.2]::real[], -2147483648)$$);
SELECT error_of($$SELECT ml.predict_label('policy', '{}'::jsonb, 0)$$);
SELECT error_of($$SELECT * FROM ml.explain('inf_stars', '{}', version => -1)$$);

-- 6. a jsonb number beyond real's range is refused as the real[] form refuses it
SELECT error_of($$SELECT ml.predict('inf_stars', '{"x1": 1e39}'::jsonb)$$);
SELECT error_of($$SELECT ml.predict('inf_stars', ARRAY[1e39, 0]::real[])$$);
SELECT error_of($$SELECT * FROM ml.decide('t', 'u', '{"x1": -1e39}', 'a', model => 'gain_model')$$);
SELECT ml.predict('inf_stars', '{"x1": 3e38}'::jsonb) IS NOT NULL AS in_range_serves;
CREATE TABLE dflt_huge AS SELECT i, i % 2 AS y, jsonb_build_object('x', CASE WHEN i = 5 THEN 1e39 ELSE i END) AS f
  FROM generate_series(1, 50) i;
SELECT error_of($$SELECT * FROM ml.train('huge', 'dflt_huge', 'y', features => ARRAY['f'])$$);

-- 7. sample size: no overflow, no zero
SELECT error_of($$SELECT ml.sample_size(0.1, 1e-12)$$) AS tiny_effect;
SELECT ml.sample_size(10, 1, relative => false, sd => 1e-300) AS tiny_sd,
       ml.sample_size(10, 1, relative => false, sd => 1e-5) AS small_sd;
-- a relative effect of 2 is +200%, the same design as the absolute one
SELECT ml.sample_size(0.1, 2) = ml.sample_size(0.1, 0.2, relative => false) AS relative_2,
       ml.power(0.1, 2, 100) = ml.power(0.1, 0.2, 100, relative => false) AS power_relative_2;

-- 8. learnloop.max_payload_bytes holds for the merged outcome
SET learnloop.max_payload_bytes = 1024;
SELECT ml.record_decision('payload', 'u', '{}', '{"action": "a"}') AS did \gset
SELECT count(ml.record_outcome(:did, jsonb_build_object('k' || i, repeat('x', 400)))) AS merged
  FROM generate_series(1, 2) i;
SELECT error_of(format($$SELECT ml.record_outcome(%s, '{"k3": "%s"}')$$, :did, repeat('x', 400)));
SELECT octet_length(outcome::text) < 1024 AS unchanged, outcome ? 'k3' AS has_k3
  FROM ml.mltrainingdata WHERE id = :did;
RESET learnloop.max_payload_bytes;

-- 9. names no other function would take are refused on creation
SELECT error_of(format($$SELECT ml.create_experiment(%L, ARRAY['a', 'b'])$$, repeat('e', 257)));
SELECT error_of(format($$SELECT ml.create_experiment('e', ARRAY['a', %L])$$, repeat('v', 257)));
SELECT error_of(format($$SELECT ml.create_experiment('e', ARRAY['a', 'b'], primary_metric => %L)$$, repeat('m', 257)));
SELECT (ml.create_experiment(repeat('e', 256), ARRAY['a', 'b'])).status AS at_limit;
SELECT ml.assign_variant(repeat('e', 256), 'u1') IN ('a', 'b') AS usable;

-- 10. features are flat, at any depth (5,000 levels fit in max_payload_bytes; 10,000 do not)
SELECT error_of($$SELECT ml.record_decision('t', 'u', '{"a": {"b": 1}}', '{}')$$);
SELECT error_of(format($$SELECT ml.record_decision('t', 'u', %L, '{}')$$,
                       '{"deep": ' || repeat('[', 5000) || repeat(']', 5000) || '}'));
SELECT error_of($$SELECT * FROM ml.decide('t', 'u', '{"x1": [1]}', 'a')$$);
SELECT ml.record_decision('t', 'u', '{"a": 1, "b": "s", "c": true, "d": null}', '{}') > 0 AS flat_recorded;

-- 11. bucket ranges of NaN, infinite or negative weights
SELECT error_of($$SELECT * FROM ml.bucket_ranges(1, '{NaN, 0.5}')$$);
SELECT error_of($$SELECT * FROM ml.bucket_ranges(1, '{Infinity, 0.5}')$$);
SELECT error_of($$SELECT * FROM ml.bucket_ranges(1, '{-0.5, 1.5}')$$);

-- 12. Thompson weights of a fixed experiment, weights of NULL
SELECT (ml.create_experiment('dflt_fixed', ARRAY['a', 'b'], primary_metric => 'm')).allocation;
SELECT error_of($$SELECT ml.thompson_weights('dflt_fixed')$$);
SELECT error_of($$SELECT ml.update_weights('dflt_fixed', NULL)$$);
SELECT error_of($$SELECT ml.update_weights(NULL, '{0.5, 0.5}')$$);
SELECT weights FROM ml.experiments WHERE name = 'dflt_fixed';
