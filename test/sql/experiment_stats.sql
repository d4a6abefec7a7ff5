-- Experiment statistics against independent reference values computed with scipy
-- (test/fixtures/make_experiment_fixtures.py), plus sample sizes and power
CREATE FUNCTION pg_temp.close(got float8, want float8, tol float8 DEFAULT 1e-7) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT (got IS NULL AND want IS NULL) OR abs(got - want) <= tol * greatest(1e-3, abs(want))
$$;

CREATE TEMP TABLE fx_units (experiment text, unit_id text, variant text, value float8);
\copy fx_units FROM 'test/fixtures/experiment_units.csv' WITH (FORMAT csv)
CREATE TEMP TABLE fx_expected (experiment text, missing text, variant text, units float8, mean float8,
                               variance float8, lift float8, lift_ci_low float8, lift_ci_high float8,
                               relative_lift float8, relative_lift_ci_low float8, relative_lift_ci_high float8,
                               p_value float8, adjusted_p_value float8, chance_to_win float8, srm_p_value float8);
\copy fx_expected FROM 'test/fixtures/experiment_expected.csv' WITH (FORMAT csv)

SELECT name AS created FROM ml.create_experiment('fx_means', ARRAY['v0', 'v1', 'v2'], primary_metric => 'm', min_sample_size => 1000);
SELECT name AS created FROM ml.create_experiment('fx_conv', ARRAY['v0', 'v1'], primary_metric => 'm');
INSERT INTO ml.experiment_exposures (experiment, unit_id, variant)
    SELECT experiment, unit_id, variant FROM fx_units;
INSERT INTO ml.experiment_outcomes (experiment, unit_id, variant, metric, value)
    SELECT experiment, unit_id, variant, 'm', value FROM fx_units WHERE value IS NOT NULL;

-- units without a value count as 0 (missing => 'zero', the default) or are left out ('exclude')
SELECT e.experiment, e.missing, e.variant, s.test,
       CASE e.missing WHEN 'zero' THEN s.units ELSE s.units_with_value END = e.units AS units,
       pg_temp.close(s.mean, e.mean, 1e-12) AS mean,
       pg_temp.close(s.variance, e.variance, 1e-10) AS variance,
       pg_temp.close(s.lift, e.lift, 1e-10) AS lift,
       pg_temp.close(s.lift_ci_low, e.lift_ci_low) AND pg_temp.close(s.lift_ci_high, e.lift_ci_high) AS lift_ci,
       pg_temp.close(s.relative_lift, e.relative_lift, 1e-10) AS rel_lift,
       pg_temp.close(s.relative_lift_ci_low, e.relative_lift_ci_low)
           AND pg_temp.close(s.relative_lift_ci_high, e.relative_lift_ci_high) AS rel_lift_ci,
       pg_temp.close(s.p_value, e.p_value, 1e-6) AS p_value,
       pg_temp.close(s.adjusted_p_value, e.adjusted_p_value, 1e-6) AS holm,
       pg_temp.close(s.chance_to_win, e.chance_to_win, 1e-9) AS chance,
       pg_temp.close(s.srm_p_value, e.srm_p_value, 1e-9) AS srm
  FROM fx_expected e
  JOIN LATERAL ml.experiment_statistics(e.experiment, missing => e.missing) s ON s.variant = e.variant
 ORDER BY e.experiment DESC, e.missing DESC, e.variant;

-- units are counted from the exposures' index, with the snapshot's view of the rows: on pages
-- the visibility map marks all-visible and on the others, rows deleted or added in this
-- transaction included, always as a count(*) over the table sees them
CREATE TEMP VIEW units_check AS
SELECT s.variant, s.units, s.units = (SELECT count(*) FROM ml.experiment_exposures x
                                       WHERE x.experiment = 'fx_means' AND x.variant = s.variant) AS as_counted
  FROM ml.experiment_statistics('fx_means') s;
VACUUM ml.experiment_exposures;
SELECT * FROM units_check ORDER BY variant;
BEGIN;
DELETE FROM ml.experiment_exposures WHERE experiment = 'fx_means' AND variant = 'v1' AND unit_id LIKE '%7';
INSERT INTO ml.experiment_exposures (experiment, unit_id, variant)
    SELECT 'fx_means', 'extra-' || i, 'v2' FROM generate_series(1, 25) i;
SELECT * FROM units_check ORDER BY variant;
ROLLBACK;
SELECT * FROM units_check ORDER BY variant;

-- an index the owner changed (here made partial) or dropped is not trusted: the count is SQL,
-- which also skips a variant left NULL
BEGIN;
DROP INDEX ml.experiment_exposures_variant_idx;
CREATE INDEX experiment_exposures_variant_idx ON ml.experiment_exposures (experiment, variant)
    WHERE unit_id < 'u5';
SELECT * FROM units_check ORDER BY variant;
DROP INDEX ml.experiment_exposures_variant_idx;
ALTER TABLE ml.experiment_exposures ALTER COLUMN variant DROP NOT NULL;
INSERT INTO ml.experiment_exposures (experiment, unit_id, variant) VALUES ('fx_means', 'no-variant', NULL);
SELECT * FROM units_check ORDER BY variant;
ROLLBACK;

-- verdicts, the analysis stored in MLABTestResults, SRM flagged below 0.001
SELECT variant, verdict FROM ml.analyze('fx_means');
SELECT variant, verdict FROM ml.analyze('fx_conv');
SELECT test_name, duration_days >= 0 AS duration_ok, results->>'metric' AS metric, results->>'correction' AS correction,
       jsonb_array_length(results->'variants') AS variants, results->'variants'->1->>'verdict' AS v1_verdict
  FROM ml.MLABTestResults ORDER BY id;
UPDATE ml.experiments SET min_sample_size = 3000 WHERE name = 'fx_means';
SELECT variant, verdict FROM ml.experiment_statistics('fx_means');
UPDATE ml.experiments SET weights = '{0.4, 0.3, 0.3}' WHERE name = 'fx_means';
SELECT variant, srm_p_value < 0.001 AS srm_flagged, verdict FROM ml.experiment_statistics('fx_means');
UPDATE ml.experiments SET weights = '{0.3333333333333333, 0.3333333333333333, 0.3333333333333334}', min_sample_size = 0
 WHERE name = 'fx_means';

-- corrections: none = raw p, bh <= holm; sequential intervals are wider and p-values larger
SELECT n.variant,
       n.adjusted_p_value = n.p_value AS none_is_raw,
       b.adjusted_p_value <= h.adjusted_p_value AS bh_not_above_holm,
       q.lift_ci_high - q.lift_ci_low > h.lift_ci_high - h.lift_ci_low AS sequential_wider,
       q.relative_lift_ci_high - q.relative_lift_ci_low > h.relative_lift_ci_high - h.relative_lift_ci_low AS sequential_rel_wider,
       q.p_value >= h.p_value AS sequential_p_larger
  FROM ml.experiment_statistics('fx_means', correction => 'none') n
  JOIN ml.experiment_statistics('fx_means', correction => 'bh') b USING (variant)
  JOIN ml.experiment_statistics('fx_means') h USING (variant)
  JOIN ml.experiment_statistics('fx_means', sequential => true) q USING (variant)
 WHERE NOT n.is_control ORDER BY 1;

-- guardrail metrics are analysed and stored with the primary one
INSERT INTO ml.experiment_outcomes (experiment, unit_id, variant, metric, value)
    SELECT experiment, unit_id, variant, 'latency', 1 FROM fx_units WHERE experiment = 'fx_conv' LIMIT 100;
UPDATE ml.experiments SET guardrail_metrics = '{latency}' WHERE name = 'fx_conv';
SELECT count(*) AS rows FROM ml.analyze('fx_conv');
SELECT jsonb_array_length(results->'guardrails'->'latency') AS guardrail_variants
  FROM ml.MLABTestResults ORDER BY id DESC LIMIT 1;

-- sample size and power (two-proportion normal approximation; means with sd)
SELECT ml.sample_size(0.1, 0.1) AS conversion_10pct_lift,
       ml.sample_size(baseline => 0.1, mde => 0.01, relative => false) AS same_absolute,
       ml.sample_size(0.1, 0.1, alpha => 0.01, power => 0.9) AS stricter,
       ml.sample_size(10, 0.5, relative => false, sd => 3) AS mean_half_unit;
SELECT pg_temp.close(ml.power(0.1, 0.1, ml.sample_size(0.1, 0.1)), 0.8, 1e-3) AS power_inverts_sample_size,
       pg_temp.close(ml.power(10, 0.5, ml.sample_size(10, 0.5, relative => false, sd => 3), relative => false, sd => 3),
                     0.8, 1e-3) AS power_inverts_for_means;
SELECT ml.experiment_power('fx_conv', 0.2) > ml.experiment_power('fx_conv', 0.05) AS bigger_effect_more_power,
       ml.experiment_power('fx_conv', 0.2) BETWEEN 0 AND 1 AS in_range;

-- bad input
SELECT error_of($$SELECT * FROM ml.analyze('nope')$$) AS unknown_experiment;
SELECT name AS created FROM ml.create_experiment('no_metric', ARRAY['a', 'b']);
SELECT error_of($$SELECT * FROM ml.analyze('no_metric')$$) AS no_primary_metric;
SELECT error_of($$SELECT * FROM ml.analyze('fx_conv', correction => 'bonferroni')$$) AS correction;
SELECT error_of($$SELECT * FROM ml.analyze('fx_conv', missing => 'impute')$$) AS missing;
SELECT error_of($$SELECT * FROM ml.analyze('fx_conv', alpha => 0)$$) AS alpha;
SELECT error_of($$SELECT ml.sample_size(1.5, 0.1)$$) AS rate_above_one;
SELECT error_of($$SELECT ml.sample_size(0.1, 0)$$) AS zero_effect;
SELECT error_of($$SELECT ml.sample_size(0.5, 1.5)$$) AS rate_leaves_range;
SELECT error_of($$SELECT ml.sample_size(0.1, 0.1, power => 1)$$) AS power;
