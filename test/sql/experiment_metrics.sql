-- Experiment metrics (issue 13): definitions, per-unit aggregation, capping,
-- ratio metrics, CUPED, direction, guardrails and the decision column.

-- 1. Definitions: the stored row, defaults per kind and source
SELECT name, source, key, kind, aggregation, direction, cap_type, min_units, covariate_lookback, created_by = current_user AS by_me
  FROM ml.create_metric('lessons', kind => 'count');
SELECT name, key, kind, aggregation FROM ml.create_metric('completed', kind => 'proportion');
SELECT name, key, kind, aggregation FROM ml.create_metric('minutes', key => $$(outcome->>'minutes')::float8$$);
SELECT name, source, key, kind, aggregation FROM ml.create_metric('engaged_outcome', source => 'OUTCOME', key => 'engaged');
SELECT name, kind, aggregation, numerator, denominator FROM ml.create_metric('minutes_per_lesson', kind => 'ratio',
                                                                             numerator => 'minutes', denominator => 'lessons');
SELECT name, covariate, direction FROM ml.create_metric('minutes_cuped', key => 'minutes', covariate => 'minutes_cuped',
                                                        direction => 'Lower');

-- 2. Bad definitions: SQLSTATE, message and hint
SELECT error_of($$SELECT ml.create_metric('bad', aggregation => 'median')$$) AS unknown_aggregation;
SELECT error_of($$SELECT ml.create_metric('bad', kind => 'sum')$$) AS unknown_kind;
SELECT error_of($$SELECT ml.create_metric('bad', source => 'events')$$) AS unknown_source;
SELECT error_of($$SELECT ml.create_metric('bad', direction => 'up')$$) AS unknown_direction;
SELECT error_of($$SELECT ml.create_metric('bad', cap => 5, cap_type => 'value')$$) AS unknown_cap_type;
SELECT error_of($$SELECT ml.create_metric('bad', kind => 'ratio', numerator => 'minutes')$$) AS ratio_without_denominator;
SELECT error_of($$SELECT ml.create_metric('bad', kind => 'ratio', denominator => 'lessons')$$) AS ratio_without_numerator;
SELECT error_of($$SELECT ml.create_metric('bad', kind => 'ratio', numerator => 'nope', denominator => 'lessons')$$) AS ratio_unknown_part;
SELECT error_of($$SELECT ml.create_metric('bad', kind => 'ratio', numerator => 'bad', denominator => 'lessons')$$) AS ratio_of_itself;
SELECT error_of($$SELECT ml.create_metric('bad', kind => 'ratio', numerator => 'minutes_per_lesson', denominator => 'lessons')$$) AS ratio_of_ratio;
SELECT error_of($$SELECT ml.create_metric('bad', kind => 'ratio', numerator => 'engaged_outcome', denominator => 'lessons')$$) AS ratio_mixed_sources;
SELECT error_of($$SELECT ml.create_metric('bad', kind => 'ratio', numerator => 'minutes', denominator => 'lessons', aggregation => 'sum')$$) AS ratio_with_aggregation;
SELECT error_of($$SELECT ml.create_metric('bad', numerator => 'minutes', denominator => 'lessons')$$) AS parts_without_ratio;
SELECT error_of($$SELECT ml.create_metric('bad', conversion_window => '0 hours')$$) AS window_zero;
SELECT error_of($$SELECT ml.create_metric('bad', conversion_window => '-1 day')$$) AS window_negative;
SELECT error_of($$SELECT ml.create_metric('bad', cap => 1.5)$$) AS percentile_cap_above_1;
SELECT error_of($$SELECT ml.create_metric('bad', cap => 0)$$) AS percentile_cap_0;
SELECT error_of($$SELECT ml.create_metric('bad', cap => -3, cap_type => 'absolute')$$) AS absolute_cap_negative;
SELECT error_of($$SELECT ml.create_metric('bad', cap => 'NaN', cap_type => 'absolute')$$) AS cap_nan;
SELECT error_of($$SELECT ml.create_metric('bad', source => 'outcome', aggregation => 'sum')$$) AS outcome_not_last;
SELECT error_of($$SELECT ml.create_metric('bad', kind => 'proportion', aggregation => 'sum')$$) AS proportion_sum;
SELECT error_of($$SELECT ml.create_metric('bad', covariate => 'nope')$$) AS unknown_covariate;
SELECT error_of($$SELECT ml.create_metric('bad', covariate => 'minutes_per_lesson')$$) AS ratio_covariate;
SELECT error_of($$SELECT ml.create_metric('bad', kind => 'ratio', numerator => 'minutes', denominator => 'lessons', covariate => 'minutes')$$) AS covariate_of_ratio;
SELECT error_of($$SELECT ml.create_metric('bad', source => 'outcome', covariate => 'minutes')$$) AS covariate_of_outcome;
SELECT error_of($$SELECT ml.create_metric('bad', covariate => 'minutes', covariate_lookback => '0 days')$$) AS lookback_zero;
SELECT error_of($$SELECT ml.create_metric('bad', min_units => -1)$$) AS min_units_negative;
SELECT error_of($$SELECT ml.create_metric('bad', alpha => 0)$$) AS alpha_0;
SELECT error_of($$SELECT ml.create_metric('bad', alpha => 1)$$) AS alpha_1;
SELECT error_of($$SELECT ml.create_metric(NULL)$$) AS null_name;
SELECT error_of($$SELECT ml.create_metric('')$$) AS empty_name;
SELECT error_of($$SELECT ml.create_metric('lessons')$$) AS duplicate;
SELECT error_of($$SELECT ml.create_metric('bad', key => '')$$) AS empty_key;
-- an expression key is one expression over the decision row, with immutable pg_catalog functions only
SELECT error_of($$SELECT ml.create_metric('bad', key => '(SELECT count(*) FROM ml.models)')$$) AS subquery_key;
SELECT error_of($$SELECT ml.create_metric('bad', key => 'random()')$$) AS volatile_key;
SELECT error_of($$SELECT ml.create_metric('bad', key => 'public.error_of(''x'')::float8')$$) AS user_function_key;
SELECT error_of($$SELECT ml.create_metric('bad', key => '1 FROM ml.models')$$) AS from_key;
SELECT error_of($$SELECT ml.create_metric('bad', key => '1; DELETE FROM ml.metrics')$$) AS two_statements_key;
SELECT error_of($$SELECT ml.create_metric('bad', key => 'count(*)')$$) AS aggregate_key;
SELECT error_of($$SELECT ml.create_metric('bad', key => 'features')$$) = 'no error' AS plain_name_is_an_outcome_key;
SELECT ml.drop_metric('bad');
SELECT error_of($$SELECT ml.create_metric('bad', key => 'd.features')$$) AS jsonb_cast_key;
SELECT ml.drop_metric('bad');
SELECT error_of($$SELECT ml.create_metric('bad', key => 'current_user::text::float8')$$) AS session_value_key;
SELECT ml.check_metric_key($$outcome ? 'done'$$) AS boolean_expression_as_0_1;
SELECT ml.check_metric_key($$(outcome->>'m')::numeric * 2 -- a comment$$) AS comment_dropped;
-- a key may not name a type that is not a built-in base type: a domain's CHECK, or a row type
-- with a domain column cast from a literal (checked while the key is parsed), would run code of
-- the metric's author as whoever analyses; nor a function or operator of another schema
CREATE TABLE key_code_ran (at timestamptz);
CREATE FUNCTION key_code(x float8) RETURNS boolean LANGUAGE plpgsql AS $f$
BEGIN INSERT INTO key_code_ran VALUES (now()); RETURN true; END $f$;
CREATE DOMAIN key_domain AS float8 CHECK (key_code(VALUE));
CREATE DOMAIN key_text_domain AS text CHECK (key_code(length(VALUE)::float8));
CREATE TYPE key_row AS (f key_text_domain);
SELECT left(error_of($$SELECT ml.check_metric_key('(outcome->>''m'')::float8::public.key_domain')$$), 5) AS domain_cast,
       left(error_of($$SELECT ml.check_metric_key('length(((''(x)''::public.key_row).f)::text)')$$), 5) AS row_literal,
       left(error_of($$SELECT ml.check_metric_key('public.key_domain(1)')$$), 5) AS function_style_cast,
       left(error_of($$SELECT ml.check_metric_key('public.key_code(1)::int')$$), 5) AS other_schema_function,
       left(error_of($$SELECT ml.check_metric_key('1 OPERATOR(public.+) 1')$$), 5) AS other_schema_operator,
       left(error_of($$SELECT ml.check_metric_key('(outcome->>''m'')::ml.experiment_result')$$), 5) AS row_type;
-- nor call a function of pg_catalog that takes an object's identifier: satisfies_hash_partition
-- is immutable, yet opening the partitioned table it names simplifies the partition key's
-- expressions, which inlines and runs functions of the table's owner as the analyst
CREATE FUNCTION key_h(int) RETURNS int LANGUAGE sql IMMUTABLE SET search_path = public AS 'SELECT $1 + 1';
CREATE TABLE key_hp (a int) PARTITION BY HASH (key_h(a));
ALTER FUNCTION key_h(int) RESET ALL;
SELECT left(error_of($$SELECT ml.check_metric_key('pg_catalog.satisfies_hash_partition(''public.key_hp''::pg_catalog.regclass, 1, 0, 1)')$$), 5) AS hash_partition,
       left(error_of($$SELECT ml.check_metric_key('pg_catalog.satisfies_hash_partition(16384::oid, 1, 0, 1)')$$), 5) AS by_oid,
       left(error_of($$SELECT ml.check_metric_key('length(''public.key_hp''::regclass::text)')$$), 5) AS regclass_literal;
DROP TABLE key_hp;
DROP FUNCTION key_h(int);
-- every value a key makes is plain data, so no node reaches the catalog or other output
-- functions: arrays of object identifiers, XML (its output functions), text search and JSON
-- path values inside NULLIF or IN, a whole row; and no COLLATE (a collation is its owner's)
SELECT left(error_of($$SELECT ml.check_metric_key('(''{pg_authid}''::regclass[]) IS NULL')$$), 5) AS regclass_array,
       left(error_of($$SELECT ml.check_metric_key('length(xmlserialize(content xmlelement(name a, outcome) as text))')$$), 5) AS xml,
       left(error_of($$SELECT ml.check_metric_key('nullif(''x''::tsquery, ''y''::tsquery) IS NULL')$$), 5) AS tsquery_nullif,
       left(error_of($$SELECT ml.check_metric_key('outcome @? ANY(ARRAY[''$.a''::jsonpath])')$$), 5) AS jsonpath_any,
       left(error_of($$SELECT ml.check_metric_key('length(d::text)')$$), 5) AS whole_row,
       left(error_of($$SELECT ml.check_metric_key('(task COLLATE "C") = ''a''')$$), 5) AS collate;
SELECT left(error_of($$SELECT ml.create_metric('bad', key => '(outcome->>''m'')::float8::public.key_domain')$$), 5) AS created_with_domain;
SELECT count(*) AS key_code_runs FROM key_code_ran;
DROP TYPE key_row;
DROP DOMAIN key_domain, key_text_domain;
DROP FUNCTION key_code(float8);
DROP TABLE key_code_ran;
SELECT count(*) AS nothing_stored FROM ml.metrics WHERE name = 'bad';
-- a plain key reads the outcome's number (a boolean as 0/1) in one lookup; anything else is no event
SELECT ml.check_metric_key('minutes') AS plain_key_sql;
SELECT k, ml.outcome_number(o, k) AS value
  FROM (VALUES ('{"m": 2.5, "b": true, "f": false, "s": "3", "n": null, "o": {"m": 1}, "big": 1e400}'::jsonb)) v(o),
       unnest(ARRAY['m', 'b', 'f', 's', 'n', 'o', 'big', 'absent']) k;
SELECT ml.outcome_number('[1, 2]', '0') AS not_an_object, ml.outcome_number(NULL, 'm') AS null_outcome,
       ml.outcome_number('{"m": 1}', NULL) AS null_key;

-- 3. ml.drop_metric: false when unknown, refused while used
SELECT error_of($$SELECT ml.drop_metric('minutes')$$) AS used_by_ratio;
SELECT ml.drop_metric('nope') AS unknown;
SELECT ml.drop_metric('minutes_per_lesson') AS dropped, ml.drop_metric('minutes_per_lesson') AS again;
SELECT ml.drop_metric('minutes_cuped') AS own_covariate_dropped;

-- 4. Privileges: the 'experiment' access defines metrics, 'read' reads them
CREATE ROLE metrics_owner;
CREATE ROLE metrics_reader;
SELECT ml.grant_access('metrics_owner', 'experiment');
SELECT ml.grant_access('metrics_reader', 'read');
SET ROLE metrics_owner;
SELECT name, created_by FROM ml.create_metric('owned', kind => 'count');
SELECT ml.drop_metric('owned');
RESET ROLE;
SET ROLE metrics_reader;
SELECT count(*) > 0 AS reads_metrics FROM ml.metrics;
SELECT error_of($$SELECT ml.create_metric('not_mine')$$) AS reader_cannot_create;
RESET ROLE;
DROP OWNED BY metrics_owner, metrics_reader;
DROP ROLE metrics_owner, metrics_reader;

-- 5. Per-unit aggregation of many events per unit, against SQL computed here
-- 400 units exposed at 10:00 (half control, half treatment), each with 0 to 7
-- decisions of its variant at 10:00 + j hours; plus decisions that must not
-- count: before exposure, of the other variant, of a unit never exposed.
SELECT name FROM ml.create_experiment('m_exp', ARRAY['control', 'treatment'], primary_metric => 'minutes_sum');
INSERT INTO ml.experiment_exposures (experiment, unit_id, variant, exposed_at)
SELECT 'm_exp', 'u' || i, CASE WHEN i % 2 = 0 THEN 'control' ELSE 'treatment' END,
       timestamptz '2026-01-01 10:00+00' + (i % 5) * interval '1 minute'
  FROM generate_series(1, 400) i;
CREATE TABLE pg_temp.ev AS
SELECT 'u' || i AS unit_id, CASE WHEN i % 2 = 0 THEN 'control' ELSE 'treatment' END AS variant,
       timestamptz '2026-01-01 10:00+00' + (i % 5) * interval '1 minute' + j * interval '1 hour' AS at,
       jsonb_build_object('minutes', ((i * 7 + j * 13) % 17) + (i % 2) * (j % 3),
                          'done', ((i + j) % 4 = 0)) AS outcome
  FROM generate_series(1, 400) i, generate_series(0, 6) j
 WHERE j < (i % 8);
INSERT INTO ml.MLTrainingData (task, unit_id, created_at, features, decision, outcome, experiment, variant)
SELECT 'm_task', unit_id, at, '{}', '{}', outcome, 'm_exp', variant FROM pg_temp.ev;
-- none of these count (u5's values are neither numbers nor booleans: no event)
INSERT INTO ml.MLTrainingData (task, unit_id, created_at, features, decision, outcome, experiment, variant)
VALUES ('m_task', 'u1', '2026-01-01 09:00+00', '{}', '{}', '{"minutes": 1000, "done": true}', 'm_exp', 'treatment'),
       ('m_task', 'u2', '2026-01-01 11:00+00', '{}', '{}', '{"minutes": 1000, "done": true}', 'm_exp', 'treatment'),
       ('m_task', 'nobody', '2026-01-01 11:00+00', '{}', '{}', '{"minutes": 1000, "done": true}', 'm_exp', 'control'),
       ('m_task', 'u3', '2026-01-01 11:00+00', '{}', '{}', '{"minutes": 1000, "done": true}', 'other_exp', 'treatment'),
       ('m_task', 'u5', '2026-01-01 11:00+00', '{}', '{}', '{"minutes": "many", "done": "yes"}', 'm_exp', 'treatment');
SELECT count(*) AS events FROM pg_temp.ev;

SELECT name FROM ml.create_metric('minutes_sum', key => 'minutes', aggregation => 'sum');
SELECT name FROM ml.create_metric('minutes_mean', key => 'minutes', aggregation => 'mean');
SELECT name FROM ml.create_metric('minutes_max', key => 'minutes', aggregation => 'max');
SELECT name FROM ml.create_metric('minutes_last', key => 'minutes', aggregation => 'last');
SELECT name FROM ml.create_metric('decisions', key => $$CASE WHEN jsonb_typeof(outcome->'minutes') = 'number' THEN 1 END$$,
                                  kind => 'count');
SELECT name FROM ml.create_metric('any_done', key => 'done', kind => 'proportion');
SELECT name FROM ml.create_metric('minutes_2h', key => 'minutes', aggregation => 'sum', conversion_window => '2 hours 30 minutes');

-- the per-unit values computed independently: every exposed unit, its events
CREATE TABLE pg_temp.per_unit AS
SELECT x.unit_id, x.variant,
       coalesce((SELECT sum((e.outcome->>'minutes')::float8) FROM pg_temp.ev e WHERE e.unit_id = x.unit_id), 0) AS s,
       (SELECT avg((e.outcome->>'minutes')::float8) FROM pg_temp.ev e WHERE e.unit_id = x.unit_id) AS m,
       (SELECT max((e.outcome->>'minutes')::float8) FROM pg_temp.ev e WHERE e.unit_id = x.unit_id) AS mx,
       (SELECT (e.outcome->>'minutes')::float8 FROM pg_temp.ev e WHERE e.unit_id = x.unit_id ORDER BY e.at DESC LIMIT 1) AS l,
       (SELECT count(*) FROM pg_temp.ev e WHERE e.unit_id = x.unit_id)::float8 AS c,
       coalesce((SELECT bool_or((e.outcome->>'done')::boolean) FROM pg_temp.ev e WHERE e.unit_id = x.unit_id), false)::int::float8 AS a,
       coalesce((SELECT sum((e.outcome->>'minutes')::float8) FROM pg_temp.ev e
                  WHERE e.unit_id = x.unit_id AND e.at < x.exposed_at + interval '2 hours 30 minutes'), 0) AS w
  FROM ml.experiment_exposures x WHERE x.experiment = 'm_exp';

CREATE FUNCTION pg_temp.close(a double precision, b double precision) RETURNS boolean
LANGUAGE sql AS $$ SELECT abs(a - b) <= 1e-9 * greatest(1, abs(a), abs(b)) $$;
-- metric, the expected per-unit column, missing => zero
CREATE FUNCTION pg_temp.agrees(metric text, col text, missing text DEFAULT 'zero') RETURNS TABLE (variant text, units bigint, n bigint, mean_ok boolean, variance_ok boolean, lift_ok boolean)
LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY EXECUTE format($q$
        WITH expected AS (
            SELECT p.variant, count(*) AS units,
                   count(%1$s) FILTER (WHERE %2$L = 'exclude') + count(*) FILTER (WHERE %2$L = 'zero') AS n,
                   avg(CASE WHEN %2$L = 'zero' THEN coalesce(%1$s, 0) ELSE %1$s END) AS mean,
                   var_samp(CASE WHEN %2$L = 'zero' THEN coalesce(%1$s, 0) ELSE %1$s END) AS variance
              FROM pg_temp.per_unit p GROUP BY p.variant)
        SELECT s.variant, s.units, e.n, pg_temp.close(s.mean, e.mean), pg_temp.close(s.variance, e.variance),
               s.is_control OR pg_temp.close(s.lift, e.mean - (SELECT c.mean FROM expected c WHERE c.variant = 'control'))
          FROM ml.experiment_statistics('m_exp', %3$L, missing => %2$L) s JOIN expected e USING (variant)
         ORDER BY s.variant $q$, col, missing, metric);
END $$;
SELECT * FROM pg_temp.agrees('minutes_sum', 's');
SELECT * FROM pg_temp.agrees('minutes_mean', 'm');
SELECT * FROM pg_temp.agrees('minutes_mean', 'm', 'exclude');
SELECT * FROM pg_temp.agrees('minutes_max', 'mx', 'exclude');
SELECT * FROM pg_temp.agrees('minutes_last', 'l', 'exclude');
SELECT * FROM pg_temp.agrees('minutes_last', 'l');
SELECT * FROM pg_temp.agrees('decisions', 'c');
SELECT * FROM pg_temp.agrees('minutes_2h', 'w');
-- a proportion's variance is p (1 - p), as gbstats' ProportionStatistic
SELECT s.variant, s.units, s.kind, pg_temp.close(s.mean, e.mean) AS mean_ok,
       pg_temp.close(s.variance, e.mean * (1 - e.mean)) AS variance_ok
  FROM ml.experiment_statistics('m_exp', 'any_done') s
  JOIN (SELECT variant, avg(a) AS mean FROM pg_temp.per_unit GROUP BY variant) e USING (variant)
 ORDER BY s.variant;
-- units with an event in the window (units_with_value), and the new columns
SELECT variant, units, units_with_value, test, metric, kind, direction, cuped_lift IS NULL AS no_cuped
  FROM ml.experiment_statistics('m_exp', 'minutes_sum');

-- the same Welch test as the outcome path gets on the same per-unit values
SELECT name FROM ml.create_experiment('m_copy', ARRAY['control', 'treatment']);
INSERT INTO ml.experiment_exposures (experiment, unit_id, variant)
SELECT 'm_copy', unit_id, variant FROM pg_temp.per_unit;
INSERT INTO ml.experiment_outcomes (experiment, unit_id, variant, metric, value)
SELECT 'm_copy', unit_id, variant, 'minutes_total', s FROM pg_temp.per_unit;
SELECT d.variant, pg_temp.close(d.p_value, o.p_value) AS p_ok, pg_temp.close(d.lift_ci_low, o.lift_ci_low) AS ci_low_ok,
       pg_temp.close(d.lift_ci_high, o.lift_ci_high) AS ci_high_ok, d.p_value < 0.05 AS significant
  FROM ml.experiment_statistics('m_exp', 'minutes_sum') d
  JOIN ml.experiment_statistics('m_copy', 'minutes_total') o USING (variant)
 WHERE NOT d.is_control;
-- relative lift as gbstats: (treatment - control) / |control|, its interval at the same t quantile
SELECT pg_temp.close(d.relative_lift, d.lift / c.mean) AS relative_ok,
       pg_temp.close((d.relative_lift_ci_high - d.relative_lift) / (d.lift_ci_high - d.lift),
                     sqrt(t.variance / t.units / c.mean ^ 2 + t.mean ^ 2 * c.variance / c.units / c.mean ^ 4)
                     / sqrt(t.variance / t.units + c.variance / c.units)) AS relative_ci_ok
  FROM ml.experiment_statistics('m_exp', 'minutes_sum') d
  JOIN ml.experiment_statistics('m_exp', 'minutes_sum') t ON t.variant = d.variant
  JOIN ml.experiment_statistics('m_exp', 'minutes_sum') c ON c.is_control
 WHERE NOT d.is_control;

-- lower is better: the same data, the verdict and chance to win flip
SELECT name FROM ml.create_metric('minutes_lower', key => 'minutes', aggregation => 'sum', direction => 'lower');
SELECT h.variant, h.verdict AS higher_verdict, l.verdict AS lower_verdict,
       pg_temp.close(h.chance_to_win, 1 - l.chance_to_win) AS chance_flipped, h.lift = l.lift AS same_lift,
       l.direction
  FROM ml.experiment_statistics('m_exp', 'minutes_sum') h JOIN ml.experiment_statistics('m_exp', 'minutes_lower') l USING (variant)
 WHERE NOT h.is_control;

-- 6. Capping: the per-unit values after aggregation, upper cap only
SELECT name FROM ml.create_metric('minutes_cap20', key => 'minutes', aggregation => 'sum', cap => 20, cap_type => 'absolute');
SELECT name FROM ml.create_metric('minutes_p90', key => 'minutes', aggregation => 'sum', cap => 0.9);
SELECT name FROM ml.create_metric('minutes_mean_p90', key => 'minutes', aggregation => 'mean', cap => 0.9);
ALTER TABLE pg_temp.per_unit ADD COLUMN s_cap20 float8, ADD COLUMN s_p90 float8, ADD COLUMN m_p90 float8;
UPDATE pg_temp.per_unit SET s_cap20 = least(s, 20),
       s_p90 = least(s, (SELECT percentile_cont(0.9) WITHIN GROUP (ORDER BY s) FROM pg_temp.per_unit)),
       -- with missing => 'exclude' the percentile is over the units with a value
       m_p90 = least(m, (SELECT percentile_cont(0.9) WITHIN GROUP (ORDER BY m) FROM pg_temp.per_unit));
SELECT (SELECT max(s) FROM pg_temp.per_unit) AS max_sum, (SELECT max(s_p90) FROM pg_temp.per_unit) AS p90_of_sums;
SELECT * FROM pg_temp.agrees('minutes_cap20', 's_cap20');
SELECT * FROM pg_temp.agrees('minutes_p90', 's_p90');
SELECT * FROM pg_temp.agrees('minutes_mean_p90', 'm_p90', 'exclude');
-- capping changes the figures (the tests above would pass on uncapped values otherwise)
SELECT c.variant, c.mean < u.mean AS capped_mean_lower
  FROM ml.experiment_statistics('m_exp', 'minutes_p90') c JOIN ml.experiment_statistics('m_exp', 'minutes_sum') u USING (variant);

-- 7. Ratio metrics: sum of numerators / sum of denominators per arm, delta-method variance
SELECT name FROM ml.create_metric('minutes_per_decision', kind => 'ratio', numerator => 'minutes_sum', denominator => 'decisions');
SELECT s.variant, s.units, s.kind, s.test,
       pg_temp.close(s.mean, e.sx / e.sy) AS ratio_ok,
       pg_temp.close(s.variance, e.vx / e.my ^ 2 + e.vy * e.mx ^ 2 / e.my ^ 4 - 2 * e.cxy * e.mx / e.my ^ 3) AS delta_variance_ok
  FROM ml.experiment_statistics('m_exp', 'minutes_per_decision') s
  JOIN (SELECT variant, sum(s) AS sx, sum(c) AS sy, avg(s) AS mx, avg(c) AS my, var_samp(s) AS vx, var_samp(c) AS vy,
               covar_samp(s, c) AS cxy
          FROM pg_temp.per_unit GROUP BY variant) e USING (variant)
 ORDER BY s.variant;
SELECT pg_temp.close(t.lift, t.mean - c.mean) AS lift_ok,
       pg_temp.close(t.relative_lift, (t.mean - c.mean) / abs(c.mean)) AS relative_lift_ok,
       t.p_value BETWEEN 0 AND 1 AS p_value_ok, t.chance_to_win BETWEEN 0 AND 1 AS chance_ok
  FROM ml.experiment_statistics('m_exp', 'minutes_per_decision') t, ml.experiment_statistics('m_exp', 'minutes_per_decision') c
 WHERE NOT t.is_control AND c.is_control;
-- the intervals use the delta method's variances: the relative over the absolute half-width is
-- sqrt(v1/(n1 m0^2) + m1^2 v0/(n0 m0^4)) / sqrt(v1/n1 + v0/n0)
SELECT pg_temp.close((t.relative_lift_ci_high - t.relative_lift) / (t.lift_ci_high - t.lift),
                     sqrt(t.variance / t.units / c.mean ^ 2 + t.mean ^ 2 * c.variance / c.units / c.mean ^ 4)
                     / sqrt(t.variance / t.units + c.variance / c.units)) AS delta_se_ok
  FROM ml.experiment_statistics('m_exp', 'minutes_per_decision') t, ml.experiment_statistics('m_exp', 'minutes_per_decision') c
 WHERE NOT t.is_control AND c.is_control;
-- sequential testing works for ratios too: wider interval, larger p-value
SELECT (s.lift_ci_high - s.lift_ci_low) > (f.lift_ci_high - f.lift_ci_low) AS wider, s.p_value >= f.p_value AS larger_p
  FROM ml.experiment_statistics('m_exp', 'minutes_per_decision', sequential => true) s
  JOIN ml.experiment_statistics('m_exp', 'minutes_per_decision') f USING (variant)
 WHERE NOT s.is_control;

-- 8. Source outcome: the latest value per unit, the same figures as the undefined path
SELECT name FROM ml.create_metric('minutes_total_o', source => 'outcome', key => 'minutes_total');
SELECT d.variant, d.units, d.kind, pg_temp.close(d.mean, o.mean) AS mean_ok, pg_temp.close(d.variance, o.variance) AS variance_ok,
       d.is_control OR pg_temp.close(d.p_value, o.p_value) AS p_ok
  FROM ml.experiment_statistics('m_copy', 'minutes_total_o') d JOIN ml.experiment_statistics('m_copy', 'minutes_total') o USING (variant)
 ORDER BY d.variant;

-- 9. CUPED: a pre-exposure period that predicts the outcome reduces the variance
-- 600 units exposed at 10:00; each spent p in the 14 days before (and 1000 earlier,
-- outside the lookback), and p + noise (+ 2 in treatment) after.
SELECT name FROM ml.create_experiment('c_exp', ARRAY['control', 'treatment'], primary_metric => 'spend');
INSERT INTO ml.experiment_exposures (experiment, unit_id, variant, exposed_at)
SELECT 'c_exp', 'c' || i, CASE WHEN i % 2 = 0 THEN 'control' ELSE 'treatment' END, timestamptz '2026-02-01 10:00+00'
  FROM generate_series(1, 600) i;
CREATE TABLE pg_temp.cev AS
SELECT 'c' || i AS unit_id, CASE WHEN i % 2 = 0 THEN 'control' ELSE 'treatment' END AS variant,
       timestamptz '2026-02-01 10:00+00' + d * interval '1 day' AS at,
       CASE WHEN d < -14 THEN 1000
            WHEN d < 0 THEN (hashint4(i) % 50 + 50) % 50
            ELSE (hashint4(i) % 50 + 50) % 50 + (hashint4(-i) % 13 + 13) % 13 - 6 + 2 * (i % 2) END AS spend
  FROM generate_series(1, 600) i, unnest(ARRAY[-20, -3, 1]) d
 WHERE NOT (d = -3 AND i % 50 IN (0, 25));  -- a few units of each arm have no pre-period event
INSERT INTO ml.MLTrainingData (task, unit_id, created_at, features, decision, outcome, experiment, variant)
SELECT 'c_task', unit_id, at, '{}', '{}', jsonb_build_object('spend', spend), 'c_exp', variant FROM pg_temp.cev;
SELECT name, covariate FROM ml.create_metric('spend', key => 'spend', aggregation => 'sum', covariate => 'spend');
CREATE TABLE pg_temp.cu AS
SELECT x.variant,
       coalesce((SELECT sum(spend) FROM pg_temp.cev e WHERE e.unit_id = x.unit_id AND e.at >= x.exposed_at), 0)::float8 AS y,
       coalesce((SELECT sum(spend) FROM pg_temp.cev e WHERE e.unit_id = x.unit_id AND e.at < x.exposed_at
                   AND e.at >= x.exposed_at - interval '14 days'), 0)::float8 AS c
  FROM ml.experiment_exposures x WHERE x.experiment = 'c_exp';
CREATE TABLE pg_temp.cexp AS
WITH theta AS (SELECT covar_samp(y, c) / var_samp(c) AS theta FROM pg_temp.cu),
     arm AS (SELECT variant, count(*) AS n, avg(y) AS my, avg(c) AS mc, var_samp(y) AS vy, var_samp(c) AS vc,
                    covar_samp(y, c) AS cyc FROM pg_temp.cu GROUP BY variant)
SELECT t.theta,
       (tr.my - t.theta * tr.mc) - (co.my - t.theta * co.mc) AS cuped_lift,
       ((tr.my - t.theta * tr.mc) - (co.my - t.theta * co.mc)) / abs(co.my) AS cuped_relative_lift,
       1 - ((tr.vy + t.theta ^ 2 * tr.vc - 2 * t.theta * tr.cyc) / tr.n + (co.vy + t.theta ^ 2 * co.vc - 2 * t.theta * co.cyc) / co.n)
           / (tr.vy / tr.n + co.vy / co.n) AS variance_reduction
  FROM theta t, arm tr, arm co WHERE tr.variant = 'treatment' AND co.variant = 'control';
SELECT round(theta::numeric, 3) AS theta, round(variance_reduction::numeric, 3) AS expected_variance_reduction FROM pg_temp.cexp;
SELECT s.variant, pg_temp.close(s.cuped_lift, e.cuped_lift) AS cuped_lift_ok,
       pg_temp.close(s.cuped_relative_lift, e.cuped_relative_lift) AS cuped_relative_ok,
       pg_temp.close(s.variance_reduction, e.variance_reduction) AS variance_reduction_ok,
       s.variance_reduction > 0.5 AS reduces,
       (s.cuped_lift_ci_high - s.cuped_lift_ci_low) < (s.lift_ci_high - s.lift_ci_low) AS narrower,
       s.cuped_p_value < s.p_value AS smaller_p,
       s.cuped_lift_ci_low < 2 AND 2 < s.cuped_lift_ci_high AS covers_effect,
       pg_temp.close(s.lift, (SELECT avg(y) FILTER (WHERE variant = 'treatment') - avg(y) FILTER (WHERE variant = 'control')
                              FROM pg_temp.cu)) AS unadjusted_lift_ok
  FROM ml.experiment_statistics('c_exp') s, pg_temp.cexp e WHERE NOT s.is_control;
-- the adjusted relative interval is gbstats' (frequentist_variance_relative_cuped)
SELECT pg_temp.close((s.cuped_relative_lift_ci_high - s.cuped_relative_lift) / (s.cuped_lift_ci_high - s.cuped_lift),
                     sqrt(((tr.vy + e.theta ^ 2 * tr.vc - 2 * e.theta * tr.cyc) / tr.n
                           + (co.vy * tr.my ^ 2 / co.my ^ 2 - 2 * e.theta * co.cyc * tr.my / co.my + e.theta ^ 2 * co.vc) / co.n)
                          / co.my ^ 2)
                     / sqrt((tr.vy + e.theta ^ 2 * tr.vc - 2 * e.theta * tr.cyc) / tr.n
                            + (co.vy + e.theta ^ 2 * co.vc - 2 * e.theta * co.cyc) / co.n)) AS cuped_relative_ci_ok
  FROM ml.experiment_statistics('c_exp') s, pg_temp.cexp e,
       (SELECT avg(y) AS my, var_samp(y) AS vy, var_samp(c) AS vc, covar_samp(y, c) AS cyc, count(*) AS n
          FROM pg_temp.cu WHERE variant = 'treatment') tr,
       (SELECT avg(y) AS my, var_samp(y) AS vy, var_samp(c) AS vc, covar_samp(y, c) AS cyc, count(*) AS n
          FROM pg_temp.cu WHERE variant = 'control') co
 WHERE NOT s.is_control;
-- a covariate that predicts nothing (theta 0) leaves the figures unadjusted
SELECT name FROM ml.create_metric('spend_vs_nothing', key => 'spend', aggregation => 'sum', covariate => 'decisions');
SELECT s.cuped_lift = s.lift AS unadjusted, s.variance_reduction FROM ml.experiment_statistics('c_exp', 'spend_vs_nothing') s
 WHERE NOT s.is_control;

-- 10. Guardrails, verdicts and the decision column
-- ship: the primary is better and nothing holds it
SELECT variant, verdict, decision FROM ml.experiment_statistics('m_exp');
-- a guardrail significantly worse (one-sided, in its direction) holds the ship
UPDATE ml.experiments SET guardrail_metrics = '{minutes_lower}' WHERE name = 'm_exp';
SELECT variant, verdict, decision FROM ml.experiment_statistics('m_exp');
-- at its own (much smaller) alpha the same guardrail does not hold
SELECT name, alpha FROM ml.create_metric('minutes_lower_strict', key => 'minutes', aggregation => 'sum', direction => 'lower',
                                         alpha => 1e-12);
UPDATE ml.experiments SET guardrail_metrics = '{minutes_lower_strict}' WHERE name = 'm_exp';
SELECT variant, verdict, decision FROM ml.experiment_statistics('m_exp');
-- a guardrail that is better does not hold either
UPDATE ml.experiments SET guardrail_metrics = '{minutes_mean}' WHERE name = 'm_exp';
SELECT variant, verdict, decision FROM ml.experiment_statistics('m_exp');
-- keep control: every treatment worse
SELECT variant, verdict, decision FROM ml.experiment_statistics('m_exp', 'minutes_lower');
-- keep running: not significant
SELECT name FROM ml.create_metric('flat', key => $$CASE WHEN unit_id ~ '[0-4]$' THEN 1 ELSE 0 END$$, aggregation => 'max',
                                  kind => 'proportion');
SELECT variant, verdict, decision FROM ml.experiment_statistics('m_exp', 'flat');
-- keep running: an arm below the metric's min_units (the verdict is collecting data)
SELECT name, min_units FROM ml.create_metric('minutes_1000', key => 'minutes', aggregation => 'sum', min_units => 1000);
SELECT variant, verdict, decision FROM ml.experiment_statistics('m_exp', 'minutes_1000');
-- investigate: a sample ratio mismatch
SELECT name FROM ml.create_experiment('srm_exp', ARRAY['control', 'treatment']);
INSERT INTO ml.experiment_exposures (experiment, unit_id, variant, exposed_at)
SELECT 'srm_exp', unit_id, CASE WHEN variant = 'treatment' AND unit_id ~ '[0-5]$' THEN 'control' ELSE variant END, exposed_at
  FROM ml.experiment_exposures WHERE experiment = 'm_exp';
INSERT INTO ml.MLTrainingData (task, unit_id, created_at, features, decision, outcome, experiment, variant)
SELECT 'm_task', unit_id, at, '{}', '{}', outcome, 'srm_exp', variant FROM pg_temp.ev;
SELECT variant, units, verdict, decision FROM ml.experiment_statistics('srm_exp', 'minutes_sum');

-- correct_metrics: Holm across the primary and guardrail metrics (one treatment each here)
UPDATE ml.experiments SET guardrail_metrics = '{minutes_mean, any_done}' WHERE name = 'm_exp';
WITH p AS (SELECT m.metric, s.p_value FROM unnest(ARRAY['minutes_sum', 'minutes_mean', 'any_done']) m(metric),
                  ml.experiment_statistics('m_exp', m.metric) s WHERE NOT s.is_control),
     holm AS (SELECT metric, least(1, max((4 - r) * p_value) OVER (ORDER BY p_value)) AS adjusted
                FROM (SELECT metric, p_value, rank() OVER (ORDER BY p_value) AS r FROM p) q)
SELECT s.metric, pg_temp.close(s.adjusted_p_value, h.adjusted) AS holm_ok, s.adjusted_p_value > p.p_value AS corrected,
       pg_temp.close(u.adjusted_p_value, p.p_value) AS uncorrected_by_default
  FROM unnest(ARRAY['minutes_sum', 'minutes_mean', 'any_done']) m(metric),
       ml.experiment_statistics('m_exp', m.metric, correct_metrics => true) s,
       ml.experiment_statistics('m_exp', m.metric) u, holm h, p
 WHERE NOT s.is_control AND NOT u.is_control AND h.metric = m.metric AND p.metric = m.metric
 ORDER BY s.metric;
-- ml.analyze stores every metric's rows, the decision and the argument
SELECT count(*) FROM ml.analyze('m_exp', correct_metrics => true);
SELECT results->>'correct_metrics' AS correct_metrics, results->'variants'->1->>'decision' AS decision,
       results->'variants'->1->>'kind' AS kind, jsonb_object_keys(results->'guardrails') AS guardrail
  FROM ml.MLABTestResults WHERE test_name = 'm_exp' ORDER BY guardrail;

-- rows written around ml.create_metric are untrusted: checked again when analysed
INSERT INTO ml.metrics (name, key, kind, aggregation) VALUES ('sneaky', 'pg_catalog.pg_sleep(10)::text::float8', 'mean', 'sum');
SELECT error_of($$SELECT * FROM ml.experiment_statistics('m_exp', 'sneaky')$$) AS volatile_key_refused;
UPDATE ml.metrics SET key = '(SELECT count(*) FROM ml.models)' WHERE name = 'sneaky';
SELECT error_of($$SELECT * FROM ml.experiment_statistics('m_exp', 'sneaky')$$) AS subquery_key_refused;
UPDATE ml.metrics SET key = 'minutes)) FROM ml.models --' WHERE name = 'sneaky';
SELECT error_of($$SELECT * FROM ml.experiment_statistics('m_exp', 'sneaky')$$) AS injection_refused;
INSERT INTO ml.metrics (name, key, kind, numerator, denominator) VALUES ('sneaky_ratio', 'x', 'ratio', 'nope', 'minutes_sum');
SELECT error_of($$SELECT * FROM ml.experiment_statistics('m_exp', 'sneaky_ratio')$$) AS unknown_part_refused;
UPDATE ml.metrics SET numerator = 'minutes_per_decision' WHERE name = 'sneaky_ratio';
SELECT error_of($$SELECT * FROM ml.experiment_statistics('m_exp', 'sneaky_ratio')$$) AS ratio_part_refused;
-- a window or lookback of 0 or less (possible only with the table's CHECK dropped) is refused
-- as the row is read, not taken as "no event"
SELECT con.conname AS window_check FROM pg_constraint con
 WHERE con.conrelid = 'ml.metrics'::regclass AND pg_get_constraintdef(con.oid) LIKE '%conversion_window >%' \gset
SELECT con.conname AS lookback_check FROM pg_constraint con
 WHERE con.conrelid = 'ml.metrics'::regclass AND pg_get_constraintdef(con.oid) LIKE '%covariate_lookback >%' \gset
BEGIN;
ALTER TABLE ml.metrics DROP CONSTRAINT :"window_check", DROP CONSTRAINT :"lookback_check";
INSERT INTO ml.metrics (name, key, kind, aggregation, conversion_window) VALUES ('sneaky_window', 'minutes', 'mean', 'sum', '-1 day');
SELECT split_part(error_of($$SELECT * FROM ml.experiment_statistics('m_exp', 'sneaky_window')$$), ' | ', 1) AS negative_window_refused;
UPDATE ml.metrics SET conversion_window = NULL, covariate = 'sneaky_window', covariate_lookback = '0' WHERE name = 'sneaky_window';
SELECT split_part(error_of($$SELECT * FROM ml.experiment_statistics('m_exp', 'sneaky_window')$$), ' | ', 1) AS zero_lookback_refused;
ROLLBACK;
DELETE FROM ml.metrics WHERE name LIKE 'sneaky%';

-- three variants: the decision ships the best of the better ones
SELECT name FROM ml.create_experiment('m3_exp', ARRAY['control', 'good', 'best']);
INSERT INTO ml.experiment_exposures (experiment, unit_id, variant, exposed_at)
SELECT 'm3_exp', 'w' || i, (ARRAY['control', 'good', 'best'])[i % 3 + 1], timestamptz '2026-03-01 10:00+00'
  FROM generate_series(1, 900) i;
INSERT INTO ml.MLTrainingData (task, unit_id, created_at, features, decision, outcome, experiment, variant)
SELECT 'm_task', 'w' || i, timestamptz '2026-03-01 11:00+00', '{}', '{}',
       jsonb_build_object('minutes', (i * 7) % 11 + 3 * (i % 3)), 'm3_exp', (ARRAY['control', 'good', 'best'])[i % 3 + 1]
  FROM generate_series(1, 900) i;
SELECT variant, round(lift::numeric, 3) AS lift, verdict, decision FROM ml.experiment_statistics('m3_exp', 'minutes_sum');
-- sequential testing with CUPED: the always-valid intervals are wider, the adjusted ones too
SELECT (s.cuped_lift_ci_high - s.cuped_lift_ci_low) > (f.cuped_lift_ci_high - f.cuped_lift_ci_low) AS wider,
       s.cuped_p_value >= f.cuped_p_value AS larger_p, s.cuped_lift = f.cuped_lift AS same_lift
  FROM ml.experiment_statistics('c_exp', sequential => true) s JOIN ml.experiment_statistics('c_exp') f USING (variant)
 WHERE NOT s.is_control;

-- a role granted what analysts had before 0.4.0 (nothing on ml.metrics) still analyses defined
-- metrics by their definitions (read as the table's owner), with the events it may read
CREATE ROLE metrics_old_reader;
GRANT USAGE ON SCHEMA ml TO metrics_old_reader;
GRANT EXECUTE ON FUNCTION ml.experiment_statistics(text, text, double precision, text, boolean, text, boolean),
                          ml.outcome_number(jsonb, text) TO metrics_old_reader;
GRANT SELECT ON ml.experiments, ml.experiment_exposures, ml.experiment_outcomes TO metrics_old_reader;
SET ROLE metrics_old_reader;
SELECT error_of($$SELECT * FROM ml.experiment_statistics('m_exp', 'minutes_sum')$$) AS decisions_not_readable;
RESET ROLE;
GRANT SELECT ON ml.MLTrainingData TO metrics_old_reader;
SET ROLE metrics_old_reader;
SELECT variant, units, kind, metric FROM ml.experiment_statistics('m_exp', 'minutes_sum');
SELECT error_of($$SELECT * FROM ml.metrics$$) AS definitions_not_listed;
RESET ROLE;
DROP OWNED BY metrics_old_reader;
DROP ROLE metrics_old_reader;

-- leave nothing behind for the suites that follow
DELETE FROM ml.MLABTestResults WHERE test_name IN ('m_exp', 'm_copy', 'c_exp', 'srm_exp', 'm3_exp');
DELETE FROM ml.MLTrainingData WHERE task IN ('m_task', 'c_task');
DELETE FROM ml.experiments WHERE name IN ('m_exp', 'm_copy', 'c_exp', 'srm_exp', 'm3_exp');
DELETE FROM ml.metrics;

-- an experiment without units: no test, so NULL p-values, sequential or not (not 1)
SELECT name FROM ml.create_experiment('seq_empty', ARRAY['control', 'treatment']);
SELECT name FROM ml.create_metric('seq_empty_m', key => 'm', aggregation => 'sum');
SELECT variant, p_value IS NULL AS fixed_null,
       (SELECT s.p_value IS NULL FROM ml.experiment_statistics('seq_empty', 'seq_empty_m', sequential => true) s
         WHERE s.variant = f.variant) AS sequential_null
  FROM ml.experiment_statistics('seq_empty', 'seq_empty_m') f ORDER BY variant;
SELECT ml.drop_metric('seq_empty_m');
DELETE FROM ml.experiments WHERE name = 'seq_empty';

-- CUPED from decisions made before the exposure, which carry no experiment (a unit's history):
-- the covariate is every decision of the unit in the lookback before its exposure, whatever its
-- experiment; a decision older than the lookback, or another unit's, is not counted
SELECT name FROM ml.create_experiment('cu_history', ARRAY['control', 'treatment']);
INSERT INTO ml.experiment_exposures (experiment, unit_id, variant, exposed_at)
SELECT 'cu_history', 'cuh' || u, CASE WHEN u % 2 = 0 THEN 'control' ELSE 'treatment' END, '2026-01-10'
  FROM generate_series(1, 200) u;
INSERT INTO ml.MLTrainingData (task, unit_id, features, decision, outcome, created_at)
SELECT 'cuh_task', 'cuh' || u, '{}'::jsonb, '{}'::jsonb, jsonb_build_object('cuh_minutes', (u * 37) % 50), '2026-01-05'::timestamptz
  FROM generate_series(1, 200) u
UNION ALL
SELECT 'cuh_task', 'cuh' || u, '{}', '{}', jsonb_build_object('cuh_minutes', 1000), '2025-12-01'
  FROM generate_series(1, 200) u;
INSERT INTO ml.MLTrainingData (task, unit_id, features, decision, outcome, created_at, experiment, variant)
SELECT 'cuh_task', 'cuh' || u, '{}', '{}',
       jsonb_build_object('cuh_minutes', (u * 37) % 50 + CASE WHEN u % 2 = 1 THEN 2 ELSE 0 END + (u * 13) % 5),
       '2026-01-12', 'cu_history', CASE WHEN u % 2 = 0 THEN 'control' ELSE 'treatment' END
  FROM generate_series(1, 200) u;
SELECT name FROM ml.create_metric('cuh_minutes', key => 'cuh_minutes', aggregation => 'sum', covariate => 'cuh_minutes');
-- by hand: theta from the pooled arms' covariance of (post, pre) over the pre's variance
WITH u AS (SELECT x.variant, (SELECT sum((d.outcome->>'cuh_minutes')::float8) FROM ml.MLTrainingData d
                               WHERE d.unit_id = x.unit_id AND d.experiment = 'cu_history') AS y,
                  (SELECT coalesce(sum((d.outcome->>'cuh_minutes')::float8), 0) FROM ml.MLTrainingData d
                    WHERE d.unit_id = x.unit_id AND d.created_at >= x.exposed_at - interval '14 days'
                      AND d.created_at < x.exposed_at) AS z
             FROM ml.experiment_exposures x WHERE x.experiment = 'cu_history')
SELECT s.variant, round(s.lift::numeric, 3) AS lift, round(s.cuped_lift::numeric, 3) AS cuped_lift,
       abs(s.cuped_lift - ((SELECT avg(y) - (SELECT covar_samp(y, z) / var_samp(z) FROM u) * avg(z) FROM u WHERE variant = 'treatment')
                           - (SELECT avg(y) - (SELECT covar_samp(y, z) / var_samp(z) FROM u) * avg(z) FROM u WHERE variant = 'control'))) < 1e-9
           AS cuped_lift_by_hand,
       s.variance_reduction > 0.8 AS variance_reduced
  FROM ml.experiment_statistics('cu_history', 'cuh_minutes') s WHERE s.variant = 'treatment';
SELECT ml.drop_metric('cuh_minutes');
DELETE FROM ml.MLTrainingData WHERE task = 'cuh_task';
DELETE FROM ml.experiments WHERE name = 'cu_history';

-- a stray huge value: a clear error that says how out (cap the metric), not float8's overflow;
-- capped, the analysis runs
SELECT name FROM ml.create_experiment('huge', ARRAY['control', 'treatment']);
INSERT INTO ml.experiment_exposures (experiment, unit_id, variant)
SELECT 'huge', 'hg' || u, CASE WHEN u % 2 = 0 THEN 'control' ELSE 'treatment' END FROM generate_series(1, 10) u;
INSERT INTO ml.MLTrainingData (task, unit_id, features, decision, outcome, experiment, variant)
SELECT 'hg_task', 'hg' || u, '{}', '{}', jsonb_build_object('hg', CASE WHEN u = 3 THEN 1e200 ELSE u END),
       'huge', CASE WHEN u % 2 = 0 THEN 'control' ELSE 'treatment' END FROM generate_series(1, 10) u;
SELECT name FROM ml.create_metric('hg_sum', key => 'hg', aggregation => 'sum');
SELECT name FROM ml.create_metric('hg_capped', key => 'hg', aggregation => 'sum', cap => 100, cap_type => 'absolute');
SELECT left(error_of($$SELECT * FROM ml.experiment_statistics('huge', 'hg_sum')$$), 60) AS huge_value;
SELECT variant, mean FROM ml.experiment_statistics('huge', 'hg_capped') ORDER BY variant;
SELECT ml.drop_metric('hg_sum'), ml.drop_metric('hg_capped');
DELETE FROM ml.MLTrainingData WHERE task = 'hg_task';
DELETE FROM ml.experiments WHERE name = 'huge';
