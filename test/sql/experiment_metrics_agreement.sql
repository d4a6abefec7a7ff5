-- Experiment metrics (ml.create_metric) against GrowthBook's own statistics engine, gbstats,
-- on the same events: per-unit aggregation, conversion window, capping, ratio (delta method),
-- CUPED, lower-is-better, a guardrail holding a ship and every decision. Events and expected
-- values from test/fixtures/make_metric_fixtures.py (see docs/experiments.md, "Agreement
-- with GrowthBook"); every value within 1e-6, relative.
CREATE FUNCTION pg_temp.close(got float8, want float8, tol float8 DEFAULT 1e-6) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT (got IS NULL AND want IS NULL) OR abs(got - want) <= tol * greatest(1e-3, abs(want))
$$;

-- one row per event (a unit without events: one row without event_at, key and value)
CREATE TEMP TABLE fx_events (scenario text, experiment text, unit_id text, variant text,
                             exposed_at timestamptz, event_at timestamptz, key text, value float8);
\copy fx_events FROM 'test/fixtures/metric_events.csv' WITH (FORMAT csv, HEADER true)
-- one row per expected value: a column of ml.experiment_result (gb_* rows are gbstats'
-- intermediate figures, for whoever debugs a disagreement: not columns)
CREATE TEMP TABLE fx_expected (scenario text, metric text, variant text, "column" text, value text);
\copy fx_expected FROM 'test/fixtures/metric_expected.csv' WITH (FORMAT csv, HEADER true)

-- the metrics, all from decisions (source 'decision', the default)
SELECT name FROM ml.create_metric('fx_agg_sum', key => 'spend', aggregation => 'sum');
SELECT name FROM ml.create_metric('fx_agg_mean', key => 'spend', aggregation => 'mean');
SELECT name FROM ml.create_metric('fx_agg_max', key => 'spend', aggregation => 'max');
SELECT name FROM ml.create_metric('fx_agg_last', key => 'spend', aggregation => 'last');
SELECT name FROM ml.create_metric('fx_agg_count', key => 'spend', kind => 'count');
SELECT name FROM ml.create_metric('fx_agg_any', key => 'clicked', kind => 'proportion');
-- a key that is an SQL expression over the decision row: NULL (other rows, small spends) is no event
SELECT name FROM ml.create_metric('fx_agg_big', key => $$CASE WHEN (outcome ->> 'spend')::float8 > 20 THEN 1 END$$,
                                  kind => 'count');
SELECT name FROM ml.create_metric('fx_win_1d', key => 'purchase', kind => 'count', conversion_window => '1 day');
SELECT name FROM ml.create_metric('fx_win_all', key => 'purchase', kind => 'count');
SELECT name FROM ml.create_metric('fx_cap_pct', key => 'revenue', cap => 0.95);
SELECT name FROM ml.create_metric('fx_cap_abs', key => 'revenue', cap => 60, cap_type => 'absolute');
SELECT name FROM ml.create_metric('fx_cap_none', key => 'revenue');
SELECT name FROM ml.create_metric('fx_ratio_revenue', key => 'revenue');
SELECT name FROM ml.create_metric('fx_ratio_sessions', key => 'session', kind => 'count');
SELECT name FROM ml.create_metric('fx_ratio_rps', kind => 'ratio', numerator => 'fx_ratio_revenue',
                                  denominator => 'fx_ratio_sessions');
SELECT name FROM ml.create_metric('fx_cuped_pre', key => 'minutes');
SELECT name FROM ml.create_metric('fx_cuped_minutes', key => 'minutes', covariate => 'fx_cuped_pre');
SELECT name FROM ml.create_metric('fx_lower_load', key => 'load_ms', aggregation => 'mean', direction => 'lower');
SELECT name FROM ml.create_metric('fx_guard_conv', key => 'converted', kind => 'proportion');
SELECT name FROM ml.create_metric('fx_guard_latency', key => 'latency_ms', aggregation => 'mean',
                                  direction => 'lower', alpha => 0.1);
SELECT name FROM ml.create_metric('fx_keep_lessons', key => 'lesson', kind => 'count');
SELECT name FROM ml.create_metric('fx_running_tasks', key => 'task', min_units => 400);
SELECT name FROM ml.create_metric('fx_flat_tasks', key => 'task');
SELECT name FROM ml.create_metric('fx_srm_tasks', key => 'task');
-- and two from ml.record_outcome (source 'outcome': the latest value of each unit)
SELECT name FROM ml.create_metric('fx_out_score', source => 'outcome', key => 'score');
SELECT name FROM ml.create_metric('fx_out_passed', source => 'outcome', key => 'passed', kind => 'proportion');

-- the experiments (equal weights), their exposures and their decisions: one decision per
-- event, its outcome {key: value} (clicked and converted as JSON booleans); fx_outcome's
-- events are outcomes recorded with ml.record_outcome instead
SELECT name AS created FROM ml.create_experiment('fx_agg', ARRAY['control', 'treatment'], primary_metric => 'fx_agg_sum');
SELECT name AS created FROM ml.create_experiment('fx_window', ARRAY['control', 'treatment'], primary_metric => 'fx_win_1d');
SELECT name AS created FROM ml.create_experiment('fx_cap', ARRAY['control', 'treatment'], primary_metric => 'fx_cap_pct');
SELECT name AS created FROM ml.create_experiment('fx_ratio', ARRAY['control', 'treatment'], primary_metric => 'fx_ratio_rps');
SELECT name AS created FROM ml.create_experiment('fx_cuped', ARRAY['control', 'treatment'], primary_metric => 'fx_cuped_minutes');
SELECT name AS created FROM ml.create_experiment('fx_lower', ARRAY['control', 'treatment'], primary_metric => 'fx_lower_load');
SELECT name AS created FROM ml.create_experiment('fx_guard', ARRAY['control', 'a', 'b'], primary_metric => 'fx_guard_conv',
                                                 guardrail_metrics => '{fx_guard_latency}');
SELECT name AS created FROM ml.create_experiment('fx_keep', ARRAY['control', 'treatment'], primary_metric => 'fx_keep_lessons');
SELECT name AS created FROM ml.create_experiment('fx_running', ARRAY['control', 'treatment'], primary_metric => 'fx_running_tasks');
SELECT name AS created FROM ml.create_experiment('fx_flat', ARRAY['control', 'treatment'], primary_metric => 'fx_flat_tasks');
SELECT name AS created FROM ml.create_experiment('fx_srm', ARRAY['control', 'treatment'], primary_metric => 'fx_srm_tasks');
SELECT name AS created FROM ml.create_experiment('fx_outcome', ARRAY['control', 'treatment'], primary_metric => 'fx_out_score');
INSERT INTO ml.experiment_exposures (experiment, unit_id, variant, exposed_at)
    SELECT DISTINCT experiment, unit_id, variant, exposed_at FROM fx_events;
INSERT INTO ml.MLTrainingData (task, unit_id, created_at, features, decision, outcome, source, experiment, variant)
    SELECT experiment, unit_id, event_at, '{}', '{}',
           jsonb_build_object(key, CASE WHEN key IN ('clicked', 'converted') THEN to_jsonb(value <> 0)
                                        ELSE to_jsonb(value) END),
           'real', experiment, variant
      FROM fx_events WHERE key IS NOT NULL AND scenario <> 'outcome' ORDER BY event_at, experiment, unit_id, key;
-- fx_outcome's values are recorded one by one, in time order
DO $$
DECLARE
    e record;
BEGIN
    FOR e IN SELECT * FROM fx_events WHERE scenario = 'outcome' AND key IS NOT NULL ORDER BY event_at LOOP
        PERFORM ml.record_outcome(e.experiment, e.unit_id, e.key, e.value);
    END LOOP;
END
$$;

-- the fixtures' per-unit values, recomputed here by a plain two-level GROUP BY (per unit, then
-- per variant) over the events, agree with the expected means: the data was loaded as made
CREATE TEMP VIEW fx_per_unit AS
SELECT e.scenario, x.unit_id, x.variant, e.key,
       sum(e.value) FILTER (WHERE e.event_at >= x.exposed_at) AS s,
       avg(e.value) FILTER (WHERE e.event_at >= x.exposed_at) AS m,
       max(e.value) FILTER (WHERE e.event_at >= x.exposed_at) AS mx,
       count(*) FILTER (WHERE e.event_at >= x.exposed_at) AS n,
       count(*) FILTER (WHERE e.event_at >= x.exposed_at AND e.event_at < x.exposed_at + interval '1 day') AS n_1d,
       count(*) FILTER (WHERE e.event_at >= x.exposed_at AND e.value > 20) AS n_big,
       bool_or(e.value <> 0) FILTER (WHERE e.event_at >= x.exposed_at) AS any,
       (array_agg(e.value ORDER BY e.event_at DESC) FILTER (WHERE e.event_at >= x.exposed_at))[1] AS last
  FROM ml.experiment_exposures x
  JOIN fx_events e ON e.experiment = x.experiment AND e.unit_id = x.unit_id AND e.key IS NOT NULL
 GROUP BY 1, 2, 3, 4;
SELECT w.scenario, w.metric,
       bool_and(pg_temp.close(g.mean, w.value::float8, 1e-12)) AS per_unit_sql_agrees
  FROM fx_expected w
  JOIN (SELECT k.scenario, k.metric, x.variant,
               sum(CASE k.metric WHEN 'fx_agg_sum' THEN p.s WHEN 'fx_agg_mean' THEN p.m WHEN 'fx_agg_max' THEN p.mx
                                 WHEN 'fx_agg_last' THEN p.last WHEN 'fx_agg_count' THEN p.n
                                 WHEN 'fx_agg_any' THEN p.any::int WHEN 'fx_agg_big' THEN p.n_big
                                 WHEN 'fx_win_1d' THEN p.n_1d
                                 WHEN 'fx_win_all' THEN p.n END)
               / count(*) AS mean       -- a unit without a value counts as 0
          FROM (VALUES ('aggregation', 'fx_agg', 'fx_agg_sum', 'spend'), ('aggregation', 'fx_agg', 'fx_agg_mean', 'spend'),
                       ('aggregation', 'fx_agg', 'fx_agg_max', 'spend'), ('aggregation', 'fx_agg', 'fx_agg_last', 'spend'),
                       ('aggregation', 'fx_agg', 'fx_agg_count', 'spend'), ('aggregation', 'fx_agg', 'fx_agg_any', 'clicked'),
                       ('aggregation', 'fx_agg', 'fx_agg_big', 'spend'),
                       ('window', 'fx_window', 'fx_win_1d', 'purchase'), ('window', 'fx_window', 'fx_win_all', 'purchase'))
               k (scenario, experiment, metric, key)
          JOIN ml.experiment_exposures x ON x.experiment = k.experiment
          LEFT JOIN fx_per_unit p ON (p.scenario, p.unit_id, p.key) = (k.scenario, x.unit_id, k.key)
         GROUP BY 1, 2, 3) g
    ON (g.scenario, g.metric, g.variant) = (w.scenario, w.metric, w.variant)
 WHERE w."column" = 'mean'
 GROUP BY 1, 2 ORDER BY 1, 2;

-- and fx_outcome's recorded values (the latest of each unit, 0 for a unit without one)
SELECT w.metric, bool_and(pg_temp.close(g.mean, w.value::float8, 1e-12)) AS recorded_outcomes_agree
  FROM fx_expected w
  JOIN (SELECT k.metric, x.variant, sum(coalesce(o.value, 0)) / count(*) AS mean
          FROM (VALUES ('fx_out_score', 'score'), ('fx_out_passed', 'passed')) k (metric, key)
          JOIN ml.experiment_exposures x ON x.experiment = 'fx_outcome'
          LEFT JOIN ml.experiment_outcomes o
            ON (o.experiment, o.unit_id, o.metric) = (x.experiment, x.unit_id, k.key)
         GROUP BY 1, 2) g ON (g.metric, g.variant) = (w.metric, w.variant)
 WHERE w.scenario = 'outcome' AND w."column" = 'mean'
 GROUP BY 1 ORDER BY 1;

-- every metric of every scenario, through ml.experiment_statistics, and again with
-- sequential => true (expected values named sequential.<column>)
CREATE TEMP TABLE fx_got AS
SELECT r.scenario, r.metric, s.variant, to_jsonb(s) AS got, to_jsonb(q) AS got_sequential
  FROM (SELECT DISTINCT w.scenario, v.experiment, w.metric
          FROM fx_expected w JOIN (SELECT DISTINCT scenario, experiment FROM fx_events) v USING (scenario)) r
 CROSS JOIN LATERAL ml.experiment_statistics(r.experiment, metric => r.metric) s
  LEFT JOIN LATERAL ml.experiment_statistics(r.experiment, metric => r.metric, sequential => true) q
    ON q.variant = s.variant;
CREATE TEMP VIEW fx_check AS
SELECT scenario, metric, variant, "column", want, got,
       CASE WHEN "column" IN ('verdict', 'decision') THEN got = want
            ELSE pg_temp.close(got::float8, want::float8) END AS ok
  FROM (SELECT w.scenario, w.metric, w.variant, w."column", w.value AS want,
               CASE WHEN w."column" LIKE 'sequential.%' THEN g.got_sequential ->> substr(w."column", 12)
                    ELSE g.got ->> w."column" END AS got
          FROM fx_expected w
          LEFT JOIN fx_got g USING (scenario, metric, variant)
         WHERE w."column" NOT LIKE 'gb\_%') c;

-- each value that disagrees with gbstats (none)
SELECT scenario, metric, variant, "column", want, got FROM fx_check WHERE ok IS NOT TRUE ORDER BY 1, 2, 3, 4;
-- per metric: units, means, variances, lifts and their intervals, p-values (raw and Holm),
-- chance to win, SRM, CUPED figures, sequential intervals and p-values, and verdicts as
-- gbstats and the contract have them
SELECT scenario, metric, count(DISTINCT variant) = count(DISTINCT variant) FILTER (WHERE got IS NOT NULL) AS analysed,
       bool_and(ok IS TRUE) AS agrees
  FROM fx_check GROUP BY 1, 2 ORDER BY 1, 2;

-- CUPED: the pre-period predicts the outcome, so the variance of the lift shrinks and the
-- adjusted interval is narrower than the unadjusted one
SELECT (got ->> 'variance_reduction')::float8 > 0.2 AS variance_reduced,
       (got ->> 'cuped_lift_ci_high')::float8 - (got ->> 'cuped_lift_ci_low')::float8
           < (got ->> 'lift_ci_high')::float8 - (got ->> 'lift_ci_low')::float8 AS cuped_narrower
  FROM fx_got WHERE metric = 'fx_cuped_minutes' AND variant = 'treatment';

-- ml.analyze on each experiment's primary metric: the verdicts and the decision
SELECT v.scenario, a.variant, a.verdict, a.decision,
       a.verdict = wv.value AND a.decision = wd.value AS as_expected
  FROM (SELECT DISTINCT scenario, experiment FROM fx_events) v
 CROSS JOIN LATERAL ml.analyze(v.experiment) WITH ORDINALITY a
  JOIN ml.experiments x ON x.name = v.experiment
  LEFT JOIN fx_expected wv ON (wv.scenario, wv.metric, wv.variant, wv."column") = (v.scenario, x.primary_metric, a.variant, 'verdict')
  LEFT JOIN fx_expected wd ON (wd.scenario, wd.metric, wd.variant, wd."column") = (v.scenario, x.primary_metric, a.variant, 'decision')
 ORDER BY v.scenario, a.ordinality;
