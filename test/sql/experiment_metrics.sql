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
SELECT count(*) AS nothing_stored FROM ml.metrics WHERE name = 'bad';

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
