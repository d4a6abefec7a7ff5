-- Exploration in ml.decide (issue 12): ml.action_distribution's probabilities against each
-- method's formula, greedy unchanged, seeded draws reproducible and as frequent as their
-- propensities, the decision row's keys, lazy fallbacks, ml.record_decision's propensity, and
-- bad inputs.
SET client_min_messages = warning;
SET extra_float_digits = 0;

-- an outcome model: the engagement of five actions, learned from the simulation
SELECT ml.simulate_users(60, 10, seed => 5, task => 'ex_train') AS simulated;
SELECT deployed FROM ml.train('ex', $$(SELECT * FROM ml.mltrainingdata WHERE task = 'ex_train')$$,
                              $$(outcome->>'engaged')::boolean$$,
                              features => ARRAY['features', $$decision->>'action' AS action$$],
                              params => '{"num_round": 20, "max_depth": 3}');
CREATE TEMP TABLE units AS
SELECT row_number() OVER (ORDER BY id) AS n, features FROM ml.mltrainingdata WHERE task = 'ex_train' ORDER BY id LIMIT 25;
-- every action's score computed apart from ml.action_distribution: ml.predict with the action set
CREATE TEMP TABLE scored AS
SELECT u.n, a.action, a.k, ml.predict('ex', u.features || jsonb_build_object('action', a.action)) AS score
  FROM units u,
       unnest('{brief_answer, detailed_explanation, empathetic_support, playful_tangent, socratic_question}'::text[])
           WITH ORDINALITY a (action, k);
CREATE TEMP VIEW best AS
SELECT DISTINCT ON (n) n, action, score FROM scored ORDER BY n, score DESC, k;

-- the formulas, from the independent scores: K = 5 actions, b the best
CREATE TEMP VIEW expected AS
SELECT s.n, s.action, m.method,
       CASE m.method
           WHEN 'greedy' THEN (s.action = b.action)::int::float8
           WHEN 'epsilon' THEN CASE WHEN s.action = b.action THEN 1 - 0.2 * 4 / 5 ELSE 0.2 / 5 END
           WHEN 'softmax' THEN exp((s.score - b.score) / 0.05)
                               / sum(exp((s.score - b.score) / 0.05)) OVER (PARTITION BY s.n, m.method)
           WHEN 'squarecb' THEN CASE WHEN s.action <> b.action THEN 1 / (5 + 30 * (b.score - s.score)) END
       END AS p
  FROM scored s JOIN best b USING (n), unnest('{greedy, epsilon, softmax, squarecb}'::text[]) m (method);
CREATE TEMP TABLE got AS
SELECT u.n, m.method, d.*
  FROM units u, unnest('{greedy, epsilon, softmax, squarecb}'::text[]) m (method),
       ml.action_distribution('ex', u.features, m.method, epsilon => 0.2, temperature => 0.05, gamma => 30) d;
-- every row: the same scores, probabilities that sum to 1 and match the formula
-- (SquareCB's best gets what the others leave)
SELECT g.method, count(*) AS rows,
       max(abs(g.score - s.score)) < 1e-12 AS same_scores,
       max(abs(coalesce(e.p, 1 - (SELECT sum(e2.p) FROM expected e2
                                   WHERE e2.n = g.n AND e2.method = g.method AND e2.p IS NOT NULL)) - g.probability)) < 1e-12
           AS formula,
       bool_and(g.probability >= 0) AS non_negative
  FROM got g JOIN scored s USING (n, action) JOIN expected e USING (n, action, method)
 GROUP BY g.method ORDER BY 1;
SELECT method, max(abs(total - 1)) < 1e-15 AS sums_to_1
  FROM (SELECT n, method, sum(probability) AS total FROM got GROUP BY 1, 2) t GROUP BY 1 ORDER BY 1;
-- the numbers themselves, for one unit: epsilon 0.2 over 5 actions is 0.04 each and 0.84 for the best
SELECT action = (SELECT action FROM best WHERE n = 1) AS is_best, probability
  FROM got WHERE n = 1 AND method = 'epsilon' ORDER BY probability DESC, action;
-- SquareCB with gamma 0 and epsilon 1 are uniform; softmax with a huge temperature nearly so
SELECT round(probability::numeric, 12) AS p, count(*)
  FROM units u, ml.action_distribution('ex', u.features, 'squarecb', gamma => 0) GROUP BY 1;
SELECT round(probability::numeric, 12) AS p, count(*)
  FROM units u, ml.action_distribution('ex', u.features, 'epsilon', epsilon => 1) GROUP BY 1;
-- the defaults: epsilon 0.1, temperature 0.1, gamma 50
SELECT bool_and(abs(d.probability - CASE WHEN d.action = b.action THEN 1 - 0.1 * 4 / 5 ELSE 0.1 / 5 END) < 1e-12) AS epsilon_default
  FROM units u JOIN best b USING (n), ml.action_distribution('ex', u.features, 'epsilon') d;
SELECT bool_and(abs(d.probability - 1 / (5 + 50 * (b.score - d.score))) < 1e-12) AS gamma_default
  FROM units u JOIN best b USING (n), ml.action_distribution('ex', u.features, 'squarecb') d WHERE d.action <> b.action;

-- greedy is unchanged: the best action by the independent scores, its score as confidence, propensity 1
CREATE TEMP TABLE greedy AS
SELECT u.n, d.* FROM units u, ml.decide('ex_serve', 'g' || u.n, u.features, 'rules', model => 'ex', min_confidence => 0) d;
SELECT count(*) AS decisions, bool_and(g.action = b.action) AS best_action,
       bool_and(abs(g.confidence - b.score) < 1e-12 AND g.confidence = g.score) AS best_confidence,
       bool_and(g.decided_by LIKE 'model ex v%') AS by_model, bool_and(g.propensity = 1) AS propensity_1
  FROM greedy g JOIN best b USING (n);
-- its row: the greedy distribution over every action, the method, not explored
SELECT decision->'explore' AS explore, decision->'explored' AS explored, decision->'propensity' AS propensity,
       (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(decision->'distribution') k) AS eligible,
       (SELECT sum(v::float8) FROM jsonb_each_text(decision->'distribution') e (k, v)) AS total,
       decision->'distribution'->>(decision->>'action') AS p_action, decision ? 'suggested' AS suggested
  FROM ml.mltrainingdata WHERE task = 'ex_serve' ORDER BY id DESC LIMIT 1;

-- an eligible set: only its actions, in the model's order whatever the set's order, the best among them
SELECT d.action, d.probability = CASE WHEN d.action = (SELECT action FROM scored WHERE n = 1 AND action IN ('brief_answer', 'socratic_question')
                                                        ORDER BY score DESC, k LIMIT 1) THEN 0.75 ELSE 0.25 END AS formula,
       d.score = s.score AS same_score
  FROM ml.action_distribution('ex', (SELECT features FROM units WHERE n = 1), 'epsilon', epsilon => 0.5,
                              actions => '{socratic_question, brief_answer, socratic_question}') d
  JOIN scored s ON s.n = 1 AND s.action = d.action;
CREATE TEMP TABLE eligible AS
SELECT * FROM ml.decide('ex_serve', 'e1', (SELECT features FROM units WHERE n = 1), 'rules', model => 'ex',
                        min_confidence => 0, actions => '{socratic_question, brief_answer}');
SELECT e.action = (SELECT action FROM scored WHERE n = 1 AND action IN ('brief_answer', 'socratic_question')
                    ORDER BY score DESC, k LIMIT 1) AS best_eligible, e.propensity,
       (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(t.decision->'distribution') k) AS logged_set
  FROM eligible e JOIN ml.mltrainingdata t ON t.id = e.decision_id;

-- seeds: the same call draws the same action; the row says the method, its parameter and the seed
-- (min_confidence => 0 * i: a call per row, not one call whose result the join repeats)
SELECT count(*) AS calls, count(DISTINCT decision_id) AS decisions, count(DISTINCT action) AS actions_drawn,
       count(DISTINCT propensity) AS propensities
  FROM generate_series(1, 20) i,
       ml.decide('ex_serve', 'u-seeded', (SELECT features FROM units WHERE n = 2), 'rules', model => 'ex',
                 min_confidence => 0 * i, explore => 'epsilon', epsilon => 1, seed => 42) d;
SELECT decision->'explore' AS explore FROM ml.mltrainingdata WHERE task = 'ex_serve' ORDER BY id DESC LIMIT 1;
-- other seeds, other units draw otherwise; without a seed, draws are independent
SELECT count(DISTINCT action) AS actions_drawn
  FROM generate_series(1, 200) i,
       ml.decide('ex_serve', 'u-seeded', (SELECT features FROM units WHERE n = 2), 'rules', model => 'ex',
                 min_confidence => 0, explore => 'epsilon', epsilon => 1, seed => i) d;
SELECT count(DISTINCT action) AS actions_drawn
  FROM generate_series(1, 200) i,
       ml.decide('ex_serve', 'u-' || i, (SELECT features FROM units WHERE n = 2), 'rules', model => 'ex',
                 min_confidence => 0, explore => 'epsilon', epsilon => 1, seed => 42) d;
CREATE TEMP TABLE unseeded AS
SELECT d.* FROM generate_series(1, 200) i,
       ml.decide('ex_serve', 'u-unseeded', (SELECT features FROM units WHERE n = 2), 'rules', model => 'ex',
                 min_confidence => 0 * i, explore => 'epsilon', epsilon => 1) d;
SELECT count(DISTINCT u.decision_id) AS decisions, count(DISTINCT u.action) AS actions_drawn, bool_and(NOT (t.decision->'explore') ? 'seed') AS no_seed_logged
  FROM unseeded u JOIN ml.mltrainingdata t ON t.id = u.decision_id;

-- 30,000 seeded draws per method: each action as often as its propensity says, within 4.5 binomial
-- standard deviations; the propensity logged is the distribution's probability, explored when not
-- the best (the unit test draws 100,000 per method through the same functions)
CREATE TEMP TABLE drawn AS
SELECT m.method, d.decision_id, d.action, d.propensity
  FROM unnest('{epsilon, softmax, squarecb}'::text[]) m (method), generate_series(1, 30000) i,
       ml.decide('ex_draws', 'u-draws', (SELECT features FROM units WHERE n = 3), 'rules', model => 'ex',
                 min_confidence => 0, explore => m.method, epsilon => 0.3, temperature => 0.05, gamma => 30, seed => i) d;
CREATE TEMP TABLE draws AS
SELECT d.method, d.action, d.propensity, t.decision FROM drawn d JOIN ml.mltrainingdata t ON t.id = d.decision_id;
SELECT method, count(*) AS draws FROM draws GROUP BY 1 ORDER BY 1;
SELECT e.method, count(*) AS actions,
       bool_and(abs(coalesce(c.drawn, 0) - 30000 * e.probability) <= 4.5 * sqrt(30000 * e.probability * (1 - e.probability)))
           AS within_bounds,
       bool_and(c.drawn IS NULL OR c.propensities = 1 AND c.propensity = e.probability) AS propensity_exact,
       bool_and(c.drawn IS NULL OR c.explored = (e.action <> (SELECT action FROM best WHERE n = 3))) AS explored_flag,
       bool_and(c.drawn IS NULL OR c.same_distribution) AS distribution_logged,
       min(e.probability) > 0 AS every_action_possible
  FROM (SELECT m.method, d.* FROM unnest('{epsilon, softmax, squarecb}'::text[]) m (method),
               ml.action_distribution('ex', (SELECT features FROM units WHERE n = 3), m.method, epsilon => 0.3,
                                      temperature => 0.05, gamma => 30) d) e
  LEFT JOIN (SELECT method, action, count(*) AS drawn, count(DISTINCT propensity) AS propensities,
                    min(propensity) AS propensity, bool_and((decision->>'explored')::boolean) AS explored,
                    bool_and((decision->'distribution'->>action)::float8 = propensity) AS same_distribution
               FROM draws GROUP BY 1, 2) c USING (method, action)
 GROUP BY 1 ORDER BY 1;
DELETE FROM ml.mltrainingdata WHERE task = 'ex_draws';

-- the gate is the best action's: not confident enough, the fallback decides (propensity 1) and the
-- row keeps the model's suggestion, its confidence and score; the call returns no confidence
SELECT action, confidence, score, decided_by, propensity
  FROM ml.decide('ex_serve', 'f1', (SELECT features FROM units WHERE n = 4), 'rules', model => 'ex',
                 min_confidence => 0.9999, explore => 'epsilon', epsilon => 1);
SELECT decision->>'suggested' = (SELECT action FROM best WHERE n = 4) AS suggested_best,
       abs((decision->>'confidence')::float8 - (SELECT score FROM best WHERE n = 4)) < 1e-12 AS confidence_kept,
       decision->'distribution' AS distribution, decision->'propensity' AS propensity,
       decision ? 'explore' AS explore_logged, decision->'explored' AS explored
  FROM ml.mltrainingdata WHERE task = 'ex_serve' ORDER BY id DESC LIMIT 1;

-- lazy fallback: no fallback given, the model unsure: no action, the row recorded anyway
SELECT action, confidence, decided_by, score, propensity
  FROM ml.decide('ex_serve', 'lazy', (SELECT features FROM units WHERE n = 5), model => 'ex', min_confidence => 0.9999);
SELECT max(id) AS lazy_id FROM ml.mltrainingdata WHERE task = 'ex_serve' \gset
SELECT decision->'action' AS action, decision->>'reason' AS reason,
       decision->>'suggested' = (SELECT action FROM best WHERE n = 5) AS suggested_best,
       decision ? 'confidence' AS confidence_kept, decision ? 'propensity' AS has_propensity
  FROM ml.mltrainingdata WHERE id = :lazy_id;
-- the application took its rules' action: filled in as a fallback's, the suggestion kept
SELECT r->>'action' AS action, r->'propensity' AS propensity, r->'distribution' AS distribution,
       r->>'decided_by' AS decided_by, r->>'suggested' = (SELECT action FROM best WHERE n = 5) AS suggested_kept
  FROM ml.record_fallback(:lazy_id, 'brief_answer') r;
-- a retry with the same action changes nothing; the outcome is recorded on the row as on any other
SELECT ml.record_fallback(:lazy_id, 'brief_answer') = (SELECT decision FROM ml.mltrainingdata WHERE id = :lazy_id) AS idempotent;
SELECT ml.record_outcome(:lazy_id, '{"engaged": true}') AS outcome;
SELECT decision->>'action' AS action, outcome FROM ml.mltrainingdata WHERE id = :lazy_id;
-- another action, an unknown decision, a decision that is not unsure: errors
SELECT regexp_replace(error_of(format('SELECT ml.record_fallback(%s, %L)', :lazy_id, 'playful_tangent')), 'decision \d+', 'decision N');
SELECT error_of('SELECT ml.record_fallback(-7, ''brief_answer'')');
SELECT regexp_replace(error_of(format('SELECT ml.record_fallback(%s, %L)', (SELECT max(decision_id) FROM greedy), 'brief_answer')),
                      'decision \d+', 'decision N');
SELECT error_of(format('SELECT ml.record_fallback(%s, NULL)', :lazy_id));
SELECT error_of('SELECT ml.record_fallback(NULL, ''brief_answer'')');
-- with no deployed model, lazily too
SELECT count(*) AS trained FROM ml.train('ex_undeployed', $$(SELECT * FROM ml.mltrainingdata WHERE task = 'ex_train')$$,
                                         $$(outcome->>'engaged')::boolean$$,
                                         features => ARRAY['features', $$decision->>'action' AS action$$],
                                         params => '{"num_round": 2}', deploy => 'never');
SELECT action, decided_by, propensity FROM ml.decide('ex_serve', 'lazy2', '{}', model => 'ex_undeployed');
SELECT decision->>'reason' AS reason, decision ? 'suggested' AS suggested
  FROM ml.mltrainingdata WHERE task = 'ex_serve' ORDER BY id DESC LIMIT 1;

-- ml.monitor: only the model's decisions count as the model's; a fallback row keeps the model's
-- confidence and suggestion, and still counts as the fallback's, by its decided_by
SELECT count(*) AS decided FROM units u,
       ml.decide('ex_mon', 'm' || u.n, u.features, 'rules', model => 'ex',
                 min_confidence => CASE WHEN u.n <= 5 THEN 0 ELSE 0.9999 END) d WHERE u.n <= 8;
SELECT count(*) FILTER (WHERE decision ? 'confidence') AS with_confidence,
       count(*) FILTER (WHERE decision ? 'suggested') AS suggested
  FROM ml.mltrainingdata WHERE task = 'ex_mon';
SELECT metric, value, metrics FROM ml.monitor_window('ex', 1, 'ex_mon', now() - interval '1 hour', now() + interval '1 hour')
 WHERE metric IN ('decisions', 'ml_usage_rate', 'fallback_rate') AND feature IS NULL AND decided_by IS NULL
   AND experiment IS NULL ORDER BY 1;

-- ml.record_decision: an application's own propensity, merged into the decision
SELECT ml.record_decision('ex_app', 'u', '{}', '{"action": "a"}', propensity => 0.25) AS app_id \gset
SELECT decision FROM ml.mltrainingdata WHERE id = :app_id;
SELECT ml.record_decision('ex_app', 'u', '{}', '{"action": "a", "propensity": 0.5}', propensity => 0.5) AS app_id \gset
SELECT decision FROM ml.mltrainingdata WHERE id = :app_id;
SELECT error_of($$SELECT ml.record_decision('ex_app', 'u', '{}', '{"action": "a", "propensity": 0.5}', propensity => 0.25)$$);
SELECT error_of($$SELECT ml.record_decision('ex_app', 'u', '{}', '{"action": "a"}', propensity => 0)$$);
SELECT error_of($$SELECT ml.record_decision('ex_app', 'u', '{}', '{"action": "a"}', propensity => 1.5)$$);
SELECT error_of($$SELECT ml.record_decision('ex_app', 'u', '{}', '{"action": "a"}', propensity => 'NaN')$$);
SELECT error_of($$SELECT ml.record_decision('ex_app', 'u', '{}', '{"action": "a", "propensity": "high"}')$$);
SELECT error_of($$SELECT ml.record_decision('ex_app', 'u', '{}', '{"action": "a", "propensity": -0.1}')$$);

-- bad inputs: clear errors, nothing recorded
SELECT count(*) AS before FROM ml.mltrainingdata WHERE task = 'ex_bad';
SELECT error_of($$SELECT ml.decide('ex_bad', 'u', '{}', 'r', model => 'ex', explore => 'epsilon', epsilon => -0.1)$$);
SELECT error_of($$SELECT ml.decide('ex_bad', 'u', '{}', 'r', model => 'ex', explore => 'epsilon', epsilon => 1.1)$$);
SELECT error_of($$SELECT ml.decide('ex_bad', 'u', '{}', 'r', model => 'ex', explore => 'epsilon', epsilon => 'NaN')$$);
SELECT error_of($$SELECT ml.decide('ex_bad', 'u', '{}', 'r', model => 'ex', explore => 'thompson')$$);
SELECT error_of($$SELECT ml.decide('ex_bad', 'u', '{}', 'r', model => 'ex', explore => 'softmax', temperature => 0)$$);
SELECT error_of($$SELECT ml.decide('ex_bad', 'u', '{}', 'r', model => 'ex', explore => 'softmax', temperature => -1)$$);
SELECT error_of($$SELECT ml.decide('ex_bad', 'u', '{}', 'r', model => 'ex', explore => 'softmax', temperature => 'Infinity')$$);
SELECT error_of($$SELECT ml.decide('ex_bad', 'u', '{}', 'r', model => 'ex', explore => 'squarecb', gamma => -1)$$);
SELECT error_of($$SELECT ml.decide('ex_bad', 'u', '{}', 'r', model => 'ex', actions => '{}')$$);
SELECT error_of($$SELECT ml.decide('ex_bad', 'u', '{}', 'r', model => 'ex', actions => '{brief_answer, shouting}')$$);
SELECT error_of($$SELECT ml.decide('ex_bad', 'u', '{}', 'r', model => 'ex', actions => '{brief_answer, NULL}')$$);
SELECT error_of($$SELECT ml.decide('ex_bad', 'u', '{}', 'r', model => 'ex_undeployed', actions => '{}')$$);
SELECT count(*) AS after FROM ml.mltrainingdata WHERE task = 'ex_bad';
SELECT error_of($$SELECT * FROM ml.action_distribution('ex', '{}', 'epsilon', epsilon => 2)$$);
SELECT error_of($$SELECT * FROM ml.action_distribution('ex', '{}', actions => '{nobody}')$$);
SELECT error_of($$SELECT * FROM ml.action_distribution('ex', '{}', version => 0)$$);
SELECT error_of($$SELECT * FROM ml.action_distribution('ex_undeployed', '{}')$$);
SELECT error_of($$SELECT * FROM ml.action_distribution(NULL, '{}')$$);
SELECT count(*) AS pinned_version_rows FROM ml.action_distribution('ex_undeployed', '{}', version => 1);
