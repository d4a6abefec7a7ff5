-- Experiments: GrowthBook-compatible bucketing, coverage, stickiness, split, caching, bad input

-- the SDK's reference hashes (v2 default, v1 on request, UTF-16 code units for non-ASCII ids)
SELECT ml.growthbook_hash('seed', 'a') = 0.0505 AS v2_seed_a,
       ml.growthbook_hash('b', 'a', 1) = 0.946 AS v1_b_a,
       ml.growthbook_hash('seed', 'b', 2) = 0.2696 AS v2_seed_b,
       ml.growthbook_hash('90850943850283058242805', '123') = 0.7516 AS v2_long_seed,
       ml.growthbook_hash('seed', 'ünïcödé') = 0.8354 AS v2_unicode,
       ml.growthbook_hash('checkout', '😀', 1) = 0.012 AS v1_astral,
       ml.growthbook_hash('', '用户-42') = 0.0836 AS v2_cjk_empty_seed;

-- 3 variations, coverage 0.2, weights .2/.3/.5 -> [0, .04), [.2, .26), [.5, .6)
SELECT variant, round(range_start::numeric, 12) AS range_start, round(range_end::numeric, 12) AS range_end
  FROM ml.bucket_ranges(0.2, '{0.2, 0.3, 0.5}');

-- the same values through assignment: weights bracket the hash exactly
SELECT name AS created FROM ml.create_experiment('bracket_v2_low', ARRAY['lo', 'hi'], '{0.0505, 0.9495}', hash_seed => 'seed');
SELECT name AS created FROM ml.create_experiment('bracket_v2_high', ARRAY['lo', 'hi'], '{0.0506, 0.9494}', hash_seed => 'seed');
SELECT name AS created FROM ml.create_experiment('bracket_v1_low', ARRAY['lo', 'hi'], '{0.946, 0.054}', hash_seed => 'b', hash_version => 1);
SELECT name AS created FROM ml.create_experiment('bracket_v1_high', ARRAY['lo', 'hi'], '{0.947, 0.053}', hash_seed => 'b', hash_version => 1);
SELECT name, ml.assign_variant(name, 'a', log_exposure => false) AS variant_of_a
  FROM ml.experiments WHERE name LIKE 'bracket%' ORDER BY name;

-- the hash seed defaults to the name; new experiments run, weights default to equal
SELECT name, variants, weights, coverage, hash_seed, hash_version, status, allocation,
       started_at IS NOT NULL AS started
  FROM ml.create_experiment('checkout', ARRAY['control', 'new']);
SELECT experiment, weights, source FROM ml.experiment_allocations WHERE experiment = 'checkout';

-- coverage: 0 excludes everyone, 1 nobody; excluded units get NULL and no exposure
SELECT name AS created FROM ml.create_experiment('cov0', ARRAY['a', 'b'], coverage => 0);
SELECT name AS created FROM ml.create_experiment('cov1', ARRAY['a', 'b'], coverage => 1);
SELECT name AS created FROM ml.create_experiment('cov_half', ARRAY['a', 'b'], coverage => 0.5);
SELECT count(ml.assign_variant('cov0', i::text)) AS cov0_assigned,
       count(ml.assign_variant('cov1', i::text, false)) AS cov1_assigned,
       count(ml.assign_variant('cov_half', i::text)) BETWEEN 4700 AND 5300 AS cov_half_about_half
  FROM generate_series(1, 10000) i;
SELECT experiment, count(*) FROM ml.experiment_exposures
 WHERE experiment IN ('cov0', 'cov_half') GROUP BY 1 ORDER BY 1;
-- raising coverage keeps every enrolled unit in its variant (ranges grow from their start)
CREATE TEMP TABLE half AS
    SELECT i, ml.assign_variant('cov_half', i::text, false) AS v FROM generate_series(1, 10000) i;
UPDATE ml.experiments SET coverage = 0.8 WHERE name = 'cov_half';
SELECT count(*) FILTER (WHERE v IS NOT NULL AND v <> ml.assign_variant('cov_half', i::text, false)) AS moved,
       count(*) FILTER (WHERE v IS NULL AND ml.assign_variant('cov_half', i::text, false) IS NOT NULL) > 0 AS newly_enrolled
  FROM half;

-- stickiness: exposed units keep their logged variant when the weights change
CREATE TEMP TABLE first AS
    SELECT i, ml.assign_variant('checkout', 'user-' || i) AS v FROM generate_series(1, 2000) i;
SELECT (ml.update_weights('checkout', '{0.1, 0.9}')).weights;
SELECT count(*) FILTER (WHERE ml.assign_variant('checkout', 'user-' || i) <> v) AS logged_moved,
       count(*) FILTER (WHERE ml.assign_variant('checkout', 'user-' || i, false) <> v) > 0 AS hash_alone_would_move,
       (SELECT count(*) FROM ml.experiment_exposures WHERE experiment = 'checkout') AS exposures
  FROM first;
-- new units follow the new weights
SELECT count(*) FILTER (WHERE ml.assign_variant('checkout', 'new-' || i) = 'new') BETWEEN 1700 AND 1900 AS new_units_follow_weights
  FROM generate_series(1, 2000) i;
SELECT experiment, weights, source FROM ml.experiment_allocations WHERE experiment = 'checkout' ORDER BY id;

-- distribution: 100,000 units split .2/.3/.5 within 5 binomial standard deviations
SELECT name AS created FROM ml.create_experiment('split', ARRAY['a', 'b', 'c'], '{0.2, 0.3, 0.5}');
WITH counts AS (
    SELECT v, count(*) AS n FROM (SELECT ml.assign_variant('split', 'u' || i, false) AS v
                                    FROM generate_series(1, 100000) i) s GROUP BY v),
expected(v, p) AS (VALUES ('a', 0.2), ('b', 0.3), ('c', 0.5))
SELECT e.v, abs(c.n - 100000 * e.p) < 5 * sqrt(100000 * e.p * (1 - e.p)) AS within_bounds
  FROM expected e JOIN counts c USING (v) ORDER BY e.v;
SELECT count(*) AS unassigned FROM generate_series(1, 100000) i
 WHERE ml.assign_variant('split', 'u' || i, false) IS NULL;

-- the cache follows every change of ml.experiments in this session (statement trigger)
SELECT ml.assign_variant('split', 'u1', false) AS before;
UPDATE ml.experiments SET weights = '{1, 0, 0}' WHERE name = 'split';
SELECT ml.assign_variant('split', 'u1', false) AS after_update;
BEGIN;
UPDATE ml.experiments SET weights = '{0, 0, 1}' WHERE name = 'split';
SELECT ml.assign_variant('split', 'u1', false) AS inside_transaction;
ROLLBACK;
SELECT ml.assign_variant('split', 'u1', false) AS after_rollback;
DELETE FROM ml.experiments WHERE name = 'split';
SELECT error_of($$SELECT ml.assign_variant('split', 'u1', false)$$) AS after_delete;

-- read-only transactions (and hot standbys) assign without logging, honouring logged variants
BEGIN READ ONLY;
SELECT ml.assign_variant('checkout', 'user-1') = (SELECT v FROM first WHERE i = 1) AS logged_variant_kept,
       ml.assign_variant('checkout', 'never-seen') IS NOT NULL AS hashed_when_not_logged;
COMMIT;
SELECT count(*) AS not_logged FROM ml.experiment_exposures WHERE unit_id = 'never-seen';

-- draft and stopped experiments
SELECT status, started_at IS NULL AS not_started
  FROM ml.create_experiment('later', ARRAY['a', 'b'], status => 'draft');
SELECT error_of($$SELECT ml.assign_variant('later', 'u1')$$) AS draft;
SELECT status, started_at IS NOT NULL AS started FROM ml.set_experiment_status('later', 'running');
SELECT status, stopped_at IS NOT NULL AS stopped FROM ml.set_experiment_status('later', 'stopped');
SELECT error_of($$SELECT ml.assign_variant('later', 'u1')$$) AS stopped;
SELECT error_of($$SELECT ml.update_weights('later', '{0.3, 0.7}')$$) AS reweight_stopped;
SELECT error_of($$SELECT ml.set_experiment_status('later', 'draft')$$) AS back_to_draft;

-- bad input
SELECT error_of($$SELECT ml.assign_variant('nope', 'u1')$$) AS unknown_experiment;
SELECT error_of($$SELECT ml.assign_variant('checkout', NULL)$$) AS null_unit;
SELECT error_of($$SELECT ml.assign_variant(NULL, 'u1')$$) AS null_experiment;
SELECT error_of($$SELECT ml.assign_variant('checkout', '')$$) AS empty_unit;
SELECT error_of($$SELECT ml.assign_variant('checkout', repeat('x', 300))$$) AS long_unit;
SELECT error_of($$SELECT ml.assign_variant('checkout', 'u1', NULL)$$) AS null_log_flag;
SELECT error_of($$SELECT ml.create_experiment('bad', ARRAY['a', 'b'], '{0.5, 0.6}')$$) AS weights_sum;
SELECT error_of($$SELECT ml.create_experiment('bad', ARRAY['a', 'b'], '{1}')$$) AS wrong_length;
SELECT error_of($$SELECT ml.create_experiment('bad', ARRAY['a', 'b'], '{-0.5, 1.5}')$$) AS negative_weight;
SELECT error_of($$SELECT ml.create_experiment('bad', ARRAY['a'])$$) AS one_variant;
SELECT error_of($$SELECT ml.create_experiment('bad', ARRAY['a', 'a'])$$) AS duplicate_variant;
SELECT error_of($$SELECT ml.create_experiment('bad', NULL)$$) AS null_variants;
SELECT error_of($$SELECT ml.create_experiment('bad', ARRAY['a', 'b'], coverage => 1.5)$$) AS coverage;
SELECT error_of($$SELECT ml.create_experiment('bad', ARRAY['a', 'b'], hash_version => 3)$$) AS hash_version;
SELECT error_of($$SELECT ml.create_experiment('bad', ARRAY['a', 'b'], status => 'stopped')$$) AS status;
SELECT error_of($$SELECT ml.create_experiment('bad', ARRAY['a', 'b'], allocation => 'greedy')$$) AS allocation;
SELECT error_of($$SELECT ml.create_experiment('bad', ARRAY['a', 'b'], allocation => 'thompson')$$) AS bandit_without_metric;
SELECT error_of($$SELECT ml.create_experiment('checkout', ARRAY['a', 'b'])$$) AS duplicate;
SELECT error_of($$SELECT ml.update_weights('checkout', '{0.5, 0.4}')$$) AS update_sum;
SELECT error_of($$SELECT ml.update_weights('nope', '{0.5, 0.5}')$$) AS update_unknown;
SELECT error_of($$SELECT ml.set_experiment_status('checkout', 'paused')$$) AS unknown_status;
SELECT error_of($$SELECT ml.growthbook_hash('s', 'v', 3)$$) AS hash_version_3;
SELECT count(*) AS bad_experiments_created FROM ml.experiments WHERE name = 'bad';
