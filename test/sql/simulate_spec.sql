-- Simulated users from a user's spec (issue 14): ml.simulated_decisions(spec, ...),
-- ml.simulate_users(spec, task, ...), ml.simulate_expected_outcome(spec, ...)
SET extra_float_digits = 0;

-- A world of five actions: the persona (shown as a feature) and the device decide the best one
CREATE TEMP TABLE world AS SELECT $${
  "actions": ["hint", "worked_example", "quiz", "video", "encourage"],
  "decisions_per_day": 4,
  "features": {"level": {"integer": {"min": 1, "max": 5}},
               "device": {"categorical": {"mobile": 0.6, "desktop": 0.4}},
               "minutes": {"normal": {"mean": 20, "sd": 8, "min": 0}},
               "streak": {"bernoulli": 0.3}},
  "persona_feature": "persona",
  "personas": [
    {"name": "novice", "share": 0.5,
     "features": {"level": {"integer": {"min": 1, "max": 2}}},
     "truth": {"hint": 0.3, "worked_example": 0.7, "quiz": 0.15, "video": 0.4, "encourage": 0.3},
     "effects": [{"when": {"device": "mobile"}, "truth": {"video": 0.8, "worked_example": 0.5}}]},
    {"name": "expert", "share": 0.3,
     "features": {"level": {"integer": {"min": 4, "max": 5}}},
     "truth": {"hint": 0.2, "worked_example": 0.25, "quiz": 0.8, "video": 0.3, "encourage": 0.2}},
    {"name": "casual", "share": 0.2,
     "features": {"minutes": {"uniform": {"min": 1, "max": 5}}},
     "truth": {"hint": 0.2, "worked_example": 0.15, "quiz": 0.1, "video": 0.3, "encourage": 0.7}}],
  "outcome": {"key": "solved", "missing_rate": 0.1, "delay_minutes": 30},
  "policy": {"rules": [{"when": {"level": {"lte": 2}}, "action": "hint"},
                       {"when": {"device": "desktop", "streak": true},
                        "probabilities": {"quiz": 0.5, "video": 0.5}}],
             "default": "encourage", "exploration": 0.5}
}$$::jsonb AS spec;

CREATE TEMP TABLE sim AS
SELECT s.* FROM world, ml.simulated_decisions(world.spec, 400, 5, seed => 11) s;

-- users x days x decisions_per_day rows, one unit id per user, in time order per user
SELECT count(*) AS rows, count(DISTINCT unit_id) AS units,
       bool_and(unit_id ~ '^sim-11-[0-9]+$') AS unit_ids,
       min(created_at) >= '2026-01-01' AND max(created_at) < '2026-01-06' AS in_the_days
  FROM sim;
SELECT count(*) AS units_with_4_a_day
  FROM (SELECT unit_id, created_at::date FROM sim GROUP BY 1, 2 HAVING count(*) = 4) d;
-- deterministic for a seed; another seed draws other rows
SELECT (SELECT count(*) FROM (SELECT * FROM sim EXCEPT
                              SELECT s.* FROM world, ml.simulated_decisions(world.spec, 400, 5, seed => 11) s) d) AS differing,
       (SELECT count(*) FROM (SELECT s.* FROM world, ml.simulated_decisions(world.spec, 5, 2, seed => 12) s
                              EXCEPT SELECT * FROM sim) d) AS other_seed_new;

-- every unit keeps its persona; the shares are 0.5, 0.3, 0.2 (within 4.5 standard errors)
SELECT count(*) AS units_with_two_personas
  FROM (SELECT unit_id FROM sim GROUP BY 1 HAVING count(DISTINCT features->>'persona') > 1) d;
SELECT p.name, abs(count(DISTINCT s.unit_id) / 400.0 - p.share) < 4.5 * sqrt(p.share * (1 - p.share) / 400) AS share_ok
  FROM (VALUES ('novice', 0.5), ('expert', 0.3), ('casual', 0.2)) p (name, share)
  JOIN sim s ON s.features->>'persona' = p.name GROUP BY p.name, p.share ORDER BY p.name;

-- features: the persona's own distributions, the declared ones otherwise, of their kinds
SELECT features->>'persona' AS persona,
       min((features->>'level')::int) AS min_level, max((features->>'level')::int) AS max_level,
       min((features->>'minutes')::float8) >= 0 AS minutes_clamped,
       bool_and(jsonb_typeof(features->'streak') = 'boolean') AS streak_boolean,
       bool_and(features->>'device' IN ('mobile', 'desktop')) AS devices
  FROM sim GROUP BY 1 ORDER BY 1;
SELECT min((features->>'minutes')::float8) >= 1 AND max((features->>'minutes')::float8) <= 5 AS casual_uniform,
       bool_and((features->>'minutes')::numeric = round((features->>'minutes')::numeric, 4)) AS four_decimals
  FROM sim WHERE features->>'persona' = 'casual';
SELECT abs(avg((features->>'device' = 'mobile')::int) - 0.6) < 4.5 * sqrt(0.24 / count(*)) AS mobile_share_ok,
       abs(avg((features->>'streak')::boolean::int) - 0.3) < 4.5 * sqrt(0.21 / count(*)) AS streak_share_ok,
       abs(avg((features->>'minutes')::float8) - 20) < 4.5 * 8 / sqrt(count(*)) AS minutes_mean_ok
  FROM sim WHERE features->>'persona' = 'novice';

-- the logging policy: the first rule that holds, else the default, mixed with 50 % exploration;
-- every row logs the propensity of its action and the whole distribution, recomputed here
CREATE TEMP TABLE expected_policy AS
SELECT s.ctid AS row_id, a.action,
       0.5 * CASE WHEN (s.features->>'level')::int <= 2 THEN (a.action = 'hint')::int
                  WHEN s.features->>'device' = 'desktop' AND (s.features->>'streak')::boolean
                       THEN 0.5 * (a.action IN ('quiz', 'video'))::int
                  ELSE (a.action = 'encourage')::int END + 0.5 / 5 AS p,
       CASE WHEN (s.features->>'level')::int <= 2 THEN 1
            WHEN s.features->>'device' = 'desktop' AND (s.features->>'streak')::boolean THEN 2
            ELSE 0 END AS rule
  FROM sim s, unnest(ARRAY['hint', 'worked_example', 'quiz', 'video', 'encourage']) a (action);
SELECT count(*) FILTER (WHERE abs((s.decision->'distribution'->>e.action)::float8 - e.p) > 1e-12) AS wrong_distribution,
       count(*) FILTER (WHERE e.action = s.decision->>'action'
                          AND abs((s.decision->>'propensity')::float8 - e.p) > 1e-12) AS wrong_propensity,
       count(*) FILTER (WHERE (s.decision->>'rule')::int <> e.rule) AS wrong_rule,
       count(*) FILTER (WHERE e.action = s.decision->>'action' AND e.p = 0) AS impossible_actions
  FROM sim s JOIN expected_policy e ON e.row_id = s.ctid;
SELECT decision->>'decided_by' AS decided_by, bool_and((decision->>'explored')::boolean = (decision->>'decided_by' = 'exploration')) AS explored_flag,
       abs(count(*) / 8000.0 - 0.5) < 4.5 * sqrt(0.25 / 8000) AS half_ok
  FROM sim GROUP BY 1 ORDER BY 1;
-- exploration draws each of the five actions uniformly
SELECT decision->>'action' AS action,
       abs(count(*) / sum(count(*)) OVER () - 0.2) < 4.5 * sqrt(0.16 / sum(count(*)) OVER ()) AS uniform_ok
  FROM sim WHERE decision->>'decided_by' = 'exploration' GROUP BY 1 ORDER BY 1;
-- rule 2 draws quiz and video when it does not explore
SELECT decision->>'action' AS action, count(*) > 0 AS drawn
  FROM sim WHERE decision->>'decided_by' = 'rules' AND (decision->>'rule')::int = 2 GROUP BY 1 ORDER BY 1;

-- outcomes: 10 % missing, the key of the spec, 30 minutes after the decision
SELECT abs(avg((outcome IS NULL)::int) - 0.1) < 4.5 * sqrt(0.09 / count(*)) AS missing_ok,
       bool_and(outcome IS NULL OR (jsonb_typeof(outcome->'solved') = 'boolean' AND outcome - 'solved' = '{}')) AS key_ok,
       bool_and(outcome IS NULL = (outcome_at IS NULL)) AS times_with_outcomes,
       bool_and(outcome_at IS NULL OR outcome_at = created_at + interval '30 minutes') AS delay_ok
  FROM sim;
-- the drawn outcomes follow the truth: per persona and action, the solved count is within 4.5
-- standard deviations of the sum of the true probabilities (the effects included)
SELECT s.features->>'persona' AS persona, s.decision->>'action' AS action,
       abs(sum((s.outcome->>'solved')::boolean::int) - sum(t.p)) < 4.5 * sqrt(sum(t.p * (1 - t.p))) + 1e-9 AS draws_follow_truth
  FROM sim s, world,
       LATERAL (SELECT ml.simulate_expected_outcome(world.spec, s.unit_id, s.features, s.decision->>'action', 11) AS p) t
 WHERE s.outcome IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2;

-- the truth: a persona's value, replaced by the effects whose condition holds
SELECT e.device, e.action,
       ml.simulate_expected_outcome(world.spec, u.unit_id, jsonb_build_object('level', 1, 'device', e.device,
                                    'minutes', 10, 'streak', false), e.action, 11) AS truth
  FROM world, (SELECT unit_id FROM sim WHERE features->>'persona' = 'novice' LIMIT 1) u,
       (VALUES ('mobile', 'video'), ('mobile', 'worked_example'), ('desktop', 'video'),
               ('desktop', 'worked_example'), ('desktop', 'quiz')) e (device, action)
 ORDER BY 1, 2;
-- the persona comes from the unit id and the seed, not from the features' persona
SELECT ml.simulate_expected_outcome(world.spec, u.unit_id,
           '{"level": 5, "device": "desktop", "minutes": 3, "streak": true, "persona": "novice"}', 'quiz', 11) AS expert_quiz
  FROM world, (SELECT unit_id FROM sim WHERE features->>'persona' = 'expert' LIMIT 1) u;
-- the spec is read once per call site, and again when it changes from row to row
SELECT array_agg(ml.simulate_expected_outcome(jsonb_set(w.spec, '{personas,0,truth,quiz}', to_jsonb(v)), u.unit_id,
                     '{"level": 1, "device": "desktop", "minutes": 3, "streak": true}', 'quiz', 11) ORDER BY n) AS per_row_spec
  FROM world w, (SELECT unit_id FROM sim WHERE features->>'persona' = 'novice' LIMIT 1) u,
       unnest(ARRAY[0.1, 0.2, 0.2, 0.1]) WITH ORDINALITY AS t (v, n);
SELECT error_of($$SELECT ml.simulate_expected_outcome(spec, 'sim-11-1', '{"level": 1}', 'quiz', 11) FROM world$$);
SELECT error_of($$SELECT ml.simulate_expected_outcome(spec, 'sim-11-1', '{"level": "1", "device": "mobile", "minutes": 1, "streak": true}', 'quiz', 11) FROM world$$);
SELECT error_of($$SELECT ml.simulate_expected_outcome(spec, 'sim-11-1', '{}', 'dance', 11) FROM world$$);
SELECT error_of($$SELECT ml.simulate_expected_outcome(spec, 'sim-11-1', '[1]', 'quiz', 11) FROM world$$);

-- ml.simulate_users(spec, task, ...): the rows go into the caller's task, marked synthetic
SELECT ml.simulate_users(spec, 'tutoring', users => 400, days => 5, seed => 11, start_at => '2026-01-01 00:00:00+00') AS inserted
  FROM world;
SELECT count(*) AS rows, bool_and(source = 'synthetic') AS synthetic, bool_and(augmented_from IS NULL) AS no_original,
       count(*) = (SELECT count(*) FROM (SELECT unit_id, created_at, features, decision, outcome, outcome_at
                                            FROM ml.mltrainingdata WHERE task = 'tutoring'
                                          INTERSECT SELECT * FROM sim) d) AS the_same_rows
  FROM ml.mltrainingdata WHERE task = 'tutoring';
-- start_at defaults to the days before today
SELECT ml.simulate_users(spec, 'tutoring_now', users => 2, days => 3) AS inserted FROM world;
SELECT min(created_at) >= date_trunc('day', now()) - interval '3 days' AND max(created_at) < date_trunc('day', now()) AS before_today
  FROM ml.mltrainingdata WHERE task = 'tutoring_now';

-- the built-in world's calls are unchanged, by position and by name
SELECT ml.simulate_users(3, 1, seed => 5, task => 'builtin_named') AS builtin_named,
       ml.simulate_users(3, 1, 5, 3, '2026-01-01', 'builtin_positional') AS builtin_positional,
       ml.simulate_users(users => 2, days => 1, task => 'builtin_by_name') AS builtin_by_name;
SELECT task, bool_and(decision ? 'distribution') AS spec_shaped, count(*)
  FROM ml.mltrainingdata WHERE task LIKE 'builtin%' GROUP BY 1 ORDER BY 1;
SELECT count(*) AS builtin_rows FROM ml.simulated_decisions(2, 1, seed => 5);
SELECT count(*) AS spec_rows FROM world, ml.simulated_decisions(spec => world.spec, users => 2, days => 1);
SELECT ml.simulate_users(spec => spec, task => 'spec_by_name', users => 1, days => 1) AS spec_by_name FROM world;

-- A model trained on the simulated rows learns the world's best actions: on new users (another
-- seed) its greedy choice is the truly best action for almost every context
SET client_min_messages = warning;
SELECT version, deployed
  FROM ml.train('tutor', 'ml.mltrainingdata', $$(outcome->>'solved')::boolean$$,
                features => ARRAY['features', $$decision->>'action' AS action$$],
                filter => $$task = 'tutoring' AND outcome IS NOT NULL$$,
                params => '{"num_round": 60, "max_depth": 4, "eta": 0.2}');
RESET client_min_messages;
CREATE TEMP TABLE fresh AS
SELECT s.unit_id, s.features FROM world, ml.simulated_decisions(world.spec, 100, 1, seed => 99) s;
CREATE TEMP TABLE choices AS
SELECT f.unit_id, f.features,
       (SELECT d.action FROM ml.action_distribution('tutor', f.features) d WHERE d.probability = 1) AS chosen,
       (SELECT a FROM unnest(ARRAY['hint', 'worked_example', 'quiz', 'video', 'encourage']) a
         ORDER BY ml.simulate_expected_outcome(w.spec, f.unit_id, f.features, a, 99) DESC LIMIT 1) AS best
  FROM fresh f, world w;
SELECT features->>'persona' AS persona, features->>'device' AS device, best,
       avg((chosen = best)::int) >= 0.9 AS learned
  FROM choices GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;
SELECT avg(ml.simulate_expected_outcome(w.spec, c.unit_id, c.features, c.chosen, 99)) >=
       0.97 * avg(ml.simulate_expected_outcome(w.spec, c.unit_id, c.features, c.best, 99)) AS near_oracle_value
  FROM choices c, world w;

-- a spec with a mean outcome: drawn around the truth with the spec's sd
SELECT abs(avg((s.outcome->>'minutes')::float8) - 12) < 4.5 * 2 / sqrt(count(*)) AS mean_ok,
       abs(stddev((s.outcome->>'minutes')::float8) - 2) < 0.1 AS sd_ok,
       bool_and(s.outcome_at = s.created_at) AS no_delay,
       bool_and((s.decision->>'propensity')::float8 = 0.5) AS uniform_policy
  FROM ml.simulated_decisions('{"actions": ["a", "b"], "personas": [{"name": "p", "share": 1, "truth": {"a": 12, "b": 12}}],
                                "outcome": {"key": "minutes", "type": "mean", "sd": 2}}'::jsonb, 500, 4) s;
-- no features: the rows carry an empty object (or only the persona)
-- (a literal spec is cast to jsonb or passed by name: an untyped literal first would be the built-in world's users)
SELECT DISTINCT features FROM ml.simulated_decisions(spec => '{"actions": ["a"], "personas": [{"name": "p", "share": 1, "truth": {"a": 0.5}}]}', users => 2, days => 1);
SELECT DISTINCT features FROM ml.simulated_decisions('{"actions": ["a"], "persona_feature": "who", "personas": [{"name": "p", "share": 1, "truth": {"a": 0.5}}]}'::jsonb, 2, 1);
SELECT error_of($$SELECT count(*) FROM ml.simulated_decisions('{"actions": ["a"]}', 2, 1)$$) AS untyped_literal;

-- Every bad spec is a 22023 error naming the place, with a hint
CREATE TEMP TABLE bad_specs (n serial, spec text);
INSERT INTO bad_specs (spec) VALUES
  ('[]'),
  ('{"personas": []}'),
  ('{"actions": [], "personas": []}'),
  ('{"actions": ["a", "a"], "personas": []}'),
  ('{"actions": ["a", ""], "personas": []}'),
  ('{"actions": ["a", 1], "personas": []}'),
  ('{"actions": ["a"], "personas": [], "colour": 1}'),
  ('{"actions": ["a"]}'),
  ('{"actions": ["a"], "personas": []}'),
  ('{"actions": ["a"], "personas": [{"name": "p", "share": 1.5, "truth": {"a": 0.5}}]}'),
  ('{"actions": ["a"], "personas": [{"name": "p", "share": 0.5, "truth": {"a": 0.5}}]}'),
  ('{"actions": ["a"], "personas": [{"name": "p", "share": 0.5, "truth": {"a": 0.5}}, {"name": "p", "share": 0.5, "truth": {"a": 0.5}}]}'),
  ('{"actions": ["a"], "personas": [{"share": 1, "truth": {"a": 0.5}}]}'),
  ('{"actions": ["a"], "personas": [{"name": "p", "share": 1, "truth": {"a": 1.5}}]}'),
  ('{"actions": ["a"], "personas": [{"name": "p", "share": 1, "truth": {"a": -0.1}}]}'),
  ('{"actions": ["a", "b"], "personas": [{"name": "p", "share": 1, "truth": {"a": 0.5}}]}'),
  ('{"actions": ["a"], "personas": [{"name": "p", "share": 1, "truth": {"a": 0.5, "z": 0.5}}]}'),
  ('{"actions": ["a"], "personas": [{"name": "p", "share": 1, "truth": {"a": 0.5}, "mood": "x"}]}'),
  ('{"actions": ["a"], "personas": [{"name": "p", "share": 1, "truth": {"a": 0.5}, "features": {"x": {"bernoulli": 0.5}}}]}'),
  ('{"actions": ["a"], "features": {"x": {"bernoulli": 0.5}}, "personas": [{"name": "p", "share": 1, "truth": {"a": 0.5}, "features": {"x": {"normal": {"mean": 1, "sd": 1}}}}]}'),
  ('{"actions": ["a"], "features": {"x": {"bernoulli": 1.2}}, "personas": [{"name": "p", "share": 1, "truth": {"a": 0.5}}]}'),
  ('{"actions": ["a"], "features": {"x": {"categorical": {"u": 0.5, "v": 0.4}}}, "personas": [{"name": "p", "share": 1, "truth": {"a": 0.5}}]}'),
  ('{"actions": ["a"], "features": {"x": {"normal": {"mean": 1}}}, "personas": [{"name": "p", "share": 1, "truth": {"a": 0.5}}]}'),
  ('{"actions": ["a"], "features": {"x": {"normal": {"mean": 1, "sd": -1}}}, "personas": [{"name": "p", "share": 1, "truth": {"a": 0.5}}]}'),
  ('{"actions": ["a"], "features": {"x": {"uniform": {"min": 2, "max": 1}}}, "personas": [{"name": "p", "share": 1, "truth": {"a": 0.5}}]}'),
  ('{"actions": ["a"], "features": {"x": {"integer": {"min": 0.5, "max": 1}}}, "personas": [{"name": "p", "share": 1, "truth": {"a": 0.5}}]}'),
  ('{"actions": ["a"], "features": {"x": {"poisson": 3}}, "personas": [{"name": "p", "share": 1, "truth": {"a": 0.5}}]}'),
  ('{"actions": ["a"], "features": {"x": {"normal": {"mean": 1, "sd": 1}, "uniform": {"min": 1, "max": 2}}}, "personas": [{"name": "p", "share": 1, "truth": {"a": 0.5}}]}'),
  ('{"actions": ["a"], "features": {"x": {"constant": null}}, "personas": [{"name": "p", "share": 1, "truth": {"a": 0.5}}]}'),
  ('{"actions": ["a"], "features": {"x": {"constant": 1}}, "persona_feature": "x", "personas": [{"name": "p", "share": 1, "truth": {"a": 0.5}}]}'),
  ('{"actions": ["a"], "personas": [{"name": "p", "share": 1, "truth": {"a": 0.5}, "effects": [{"when": {"y": 1}, "truth": {"a": 0.1}}]}]}'),
  ('{"actions": ["a"], "features": {"x": {"constant": "s"}}, "personas": [{"name": "p", "share": 1, "truth": {"a": 0.5}, "effects": [{"when": {"x": {"lt": 3}}, "truth": {"a": 0.1}}]}]}'),
  ('{"actions": ["a"], "features": {"x": {"constant": 2}}, "personas": [{"name": "p", "share": 1, "truth": {"a": 0.5}, "effects": [{"when": {"x": "two"}, "truth": {"a": 0.1}}]}]}'),
  ('{"actions": ["a"], "features": {"x": {"constant": 2}}, "personas": [{"name": "p", "share": 1, "truth": {"a": 0.5}, "effects": [{"when": {"x": {"about": 2}}, "truth": {"a": 0.1}}]}]}'),
  ('{"actions": ["a"], "features": {"x": {"constant": 2}}, "personas": [{"name": "p", "share": 1, "truth": {"a": 0.5}, "effects": [{"when": {"x": {"in": []}}, "truth": {"a": 0.1}}]}]}'),
  ('{"actions": ["a"], "personas": [{"name": "p", "share": 1, "truth": {"a": 0.5}, "effects": [{"truth": {}}]}]}'),
  ('{"actions": ["a"], "personas": [{"name": "p", "share": 1, "truth": {"a": 0.5}}], "outcome": {"type": "count"}}'),
  ('{"actions": ["a"], "personas": [{"name": "p", "share": 1, "truth": {"a": 0.5}}], "outcome": {"missing_rate": 2}}'),
  ('{"actions": ["a"], "personas": [{"name": "p", "share": 1, "truth": {"a": 0.5}}], "outcome": {"delay_minutes": 2000}}'),
  ('{"actions": ["a"], "personas": [{"name": "p", "share": 1, "truth": {"a": 0.5}}], "decisions_per_day": 0}'),
  ('{"actions": ["a"], "personas": [{"name": "p", "share": 1, "truth": {"a": 0.5}}], "decisions_per_day": 2.5}'),
  ('{"actions": ["a"], "personas": [{"name": "p", "share": 1, "truth": {"a": 0.5}}], "policy": {"exploration": 1.1}}'),
  ('{"actions": ["a"], "personas": [{"name": "p", "share": 1, "truth": {"a": 0.5}}], "policy": {"default": "b"}}'),
  ('{"actions": ["a", "b"], "personas": [{"name": "p", "share": 1, "truth": {"a": 0.5, "b": 0.5}}], "policy": {"default": {"a": 0.7, "b": 0.7}}}'),
  ('{"actions": ["a"], "personas": [{"name": "p", "share": 1, "truth": {"a": 0.5}}], "policy": {"rules": [{"action": "a", "probabilities": {"a": 1}}]}}'),
  ('{"actions": ["a"], "personas": [{"name": "p", "share": 1, "truth": {"a": 0.5}}], "policy": {"rules": [{"when": {}}]}}'),
  ('{"actions": ["a"], "personas": [{"name": "p", "share": 1, "truth": {"a": 0.5}}], "policy": {"epsilon": 0.1}}'),
  ('{"actions": ["a"], "personas": [{"name": "p", "share": 1, "truth": {"a": 1e400}}], "outcome": {"type": "mean"}}'),
  -- finite numbers whose draws would not be: a uniform's width, a normal or a mean beyond 1e15
  -- (they wrote null features and outcomes)
  ('{"actions": ["a"], "features": {"x": {"uniform": {"min": -1e308, "max": 1e308}}}, "personas": [{"name": "p", "share": 1, "truth": {"a": 0.5}}]}'),
  ('{"actions": ["a"], "features": {"x": {"normal": {"mean": 1e306, "sd": 0}}}, "personas": [{"name": "p", "share": 1, "truth": {"a": 0.5}}]}'),
  ('{"actions": ["a"], "personas": [{"name": "p", "share": 1, "truth": {"a": 1e308}}], "outcome": {"type": "mean"}}');
SELECT n, error_of(format('SELECT count(*) FROM ml.simulated_decisions(%L::jsonb, 1, 1)', spec)) FROM bad_specs ORDER BY n;
-- shares within the documented tolerance (1e-6) are accepted
SELECT count(*) AS tolerated FROM ml.simulated_decisions('{"actions": ["a"], "personas": [{"name": "p", "share": 0.3333333, "truth": {"a": 0.5}},
    {"name": "q", "share": 0.3333333, "truth": {"a": 0.5}}, {"name": "r", "share": 0.3333333, "truth": {"a": 0.5}}]}'::jsonb, 1, 1);
-- numbers up to 1e15 are accepted, and every draw is a number
SELECT count(*) AS drawn, count(*) FILTER (WHERE jsonb_typeof(features->'x') = 'number'
                                           AND jsonb_typeof(outcome->'reward') = 'number') AS numbers
  FROM ml.simulated_decisions('{"actions": ["a"], "features": {"x": {"uniform": {"min": -1e15, "max": 1e15}}},
    "outcome": {"type": "mean", "sd": 1e15}, "personas": [{"name": "p", "share": 1, "truth": {"a": -1e15}}]}'::jsonb, 2, 2);
SELECT error_of($$SELECT count(*) FROM ml.simulated_decisions('{"actions": ["a"], "personas": [{"name": "p", "share": 0.333333, "truth": {"a": 0.5}},
    {"name": "q", "share": 0.333333, "truth": {"a": 0.5}}, {"name": "r", "share": 0.333333, "truth": {"a": 0.5}}]}'::jsonb, 1, 1)$$) AS beyond_tolerance;
-- and the arguments
SELECT error_of($$SELECT count(*) FROM world, ml.simulated_decisions(spec, 0, 1)$$);
SELECT error_of($$SELECT count(*) FROM world, ml.simulated_decisions(spec, 1, 3651)$$);
SELECT error_of($$SELECT count(*) FROM world, ml.simulated_decisions(spec, 1, 1, start_at => 'infinity')$$);
SELECT error_of($$SELECT ml.simulate_users('{"actions": []}'::jsonb, 'bad_spec_task')$$);
-- an untyped literal spec with an untyped task matches both worlds: PostgreSQL asks for the cast
SELECT error_of($$SELECT ml.simulate_users('{"actions": []}', 'x')$$) AS untyped;

-- privileges: the read-only forms come with 'train', as the built-in world's; the writing one with no access
SELECT p.oid::regprocedure AS function, has_function_privilege('public', p.oid, 'EXECUTE') AS public_may
  FROM pg_proc p WHERE p.pronamespace = 'ml'::regnamespace AND p.proargtypes[0] = 'jsonb'::regtype
   AND p.proname IN ('simulated_decisions', 'simulate_users', 'simulate_expected_outcome') ORDER BY 1::text;
CREATE ROLE spec_trainer;
SELECT ml.grant_access('spec_trainer', 'train');
GRANT SELECT ON world TO spec_trainer;
SET ROLE spec_trainer;
SELECT count(*) AS trainer_simulates FROM world, ml.simulated_decisions(world.spec, 1, 1);
SELECT ml.simulate_expected_outcome(spec, 'sim-42-1', '{"level": 1, "device": "mobile", "minutes": 1, "streak": true}', 'video') >= 0 AS trainer_reads_truth
  FROM world;
SELECT error_of($$SELECT ml.simulate_users(spec, 'trainer_task', 1, 1) FROM world$$) AS trainer_writes;
RESET ROLE;
DROP OWNED BY spec_trainer;
DROP ROLE spec_trainer;
