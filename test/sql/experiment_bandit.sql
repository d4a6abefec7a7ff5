-- Thompson-sampling bandit: burn-in, minimum weight, history, convergence on simulated outcomes

SELECT name AS created FROM ml.create_experiment('bandit', ARRAY['a', 'b', 'c'], primary_metric => 'converted',
                            allocation => 'thompson');

-- one round: 500 new units assigned with logging; arm c converts at 15%, a and b at 8% and 10%
-- (a unit's draw is a fixed hash of its id, so the run is deterministic)
CREATE FUNCTION pg_temp.play(round integer) RETURNS double precision[] LANGUAGE sql AS $$
    SELECT count(ml.record_outcome('bandit', u, 'converted',
                 CASE WHEN (hashtext(u || '/draw') & 65535) / 65536.0
                           < CASE v WHEN 'a' THEN 0.08 WHEN 'b' THEN 0.10 ELSE 0.15 END
                      THEN 1 ELSE 0 END))
      FROM (SELECT u, ml.assign_variant('bandit', u) AS v
              FROM (SELECT 'r' || round || '-' || i AS u FROM generate_series(1, 500) i) s) a;
    SELECT ml.update_allocation('bandit', burn_in => 200, min_weight => 0.02, seed => round);
$$;

-- before the burn-in every arm keeps an equal share
SELECT pg_temp.play(0) = '{0.3333333333333333,0.3333333333333333,0.3333333333333333}' AS equal_during_burn_in;
SELECT round, w[3] AS weight_c
  FROM generate_series(1, 8) round, LATERAL (SELECT pg_temp.play(round) AS w) p \g /dev/null
SELECT weights[3] > 0.8 AS converged_to_c, weights[1] >= 0.02 AND weights[2] >= 0.02 AS min_weight_kept,
       abs(weights[1] + weights[2] + weights[3] - 1) < 1e-9 AS sums_to_one
  FROM ml.experiments WHERE name = 'bandit';
SELECT count(*) AS history_rows, count(*) FILTER (WHERE source = 'thompson') AS thompson_rows
  FROM ml.experiment_allocations WHERE experiment = 'bandit';
-- the share of c's exposures grew round after round
SELECT (SELECT count(*) FROM ml.experiment_exposures WHERE experiment = 'bandit' AND variant = 'c' AND unit_id LIKE 'r8-%')
     > (SELECT count(*) FROM ml.experiment_exposures WHERE experiment = 'bandit' AND variant = 'c' AND unit_id LIKE 'r0-%') * 2
       AS more_traffic_to_c;
-- the same data and seed give the same weights
SELECT ml.thompson_weights('bandit', seed => 7) = ml.thompson_weights('bandit', seed => 7) AS reproducible;
-- bandit weights move, so no sample-ratio test
SELECT bool_and(srm_p_value IS NULL) AS no_srm_for_bandits FROM ml.analyze('bandit');

-- bad input
SELECT name AS created FROM ml.create_experiment('fixed_one', ARRAY['a', 'b'], primary_metric => 'converted');
SELECT error_of($$SELECT ml.update_allocation('fixed_one')$$) AS fixed_allocation;
SELECT error_of($$SELECT ml.update_allocation('nope')$$) AS unknown;
SELECT error_of($$SELECT ml.thompson_weights('bandit', min_weight => 0.5)$$) AS min_weight_too_big;
SELECT error_of($$SELECT ml.thompson_weights('bandit', draws => 0)$$) AS no_draws;
