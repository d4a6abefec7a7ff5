-- A NULL or empty guardrail metric is refused when the experiment is created:
-- ml.analyze analyzes every guardrail metric, so such an experiment could
-- never be analyzed (22004 / 22023 from inside ml.analyze)
SELECT error_of($$SELECT ml.create_experiment('guard_null', ARRAY['a', 'b'], guardrail_metrics => '{NULL}')$$);
SELECT error_of($$SELECT ml.create_experiment('guard_empty', ARRAY['a', 'b'], guardrail_metrics => ARRAY['errors', ''])$$);
SELECT count(*) FROM ml.experiments WHERE name LIKE 'guard%';
-- names, none, or NULL (none) are accepted, and the experiment analyzes
SELECT name, guardrail_metrics FROM ml.create_experiment('guard_ok', ARRAY['a', 'b'], primary_metric => 'conv',
                                                        guardrail_metrics => ARRAY['errors']);
SELECT name, guardrail_metrics FROM ml.create_experiment('guard_none', ARRAY['a', 'b'], guardrail_metrics => NULL);
SELECT count(ml.assign_variant('guard_ok', 'u' || i)) FROM generate_series(1, 4) i;
SELECT count(*) FROM ml.analyze('guard_ok');
DELETE FROM ml.experiments WHERE name LIKE 'guard%';
