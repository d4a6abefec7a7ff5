-- start_at must leave the simulated period inside the timestamp range: an
-- infinite start once wrote rows whose created_at could not be read back
-- ("timestamp out of range" on every later SELECT of ml.MLTrainingData)
SELECT error_of($$SELECT count(*) FROM ml.simulated_decisions(1, 1, start_at => 'infinity')$$);
SELECT error_of($$SELECT count(*) FROM ml.simulated_decisions(1, 1, start_at => '-infinity')$$);
SELECT error_of($$SELECT count(*) FROM ml.simulated_decisions(1, 1, start_at => '294276-12-31 00:00:00+00')$$);
SELECT error_of($$SELECT count(*) FROM ml.simulated_decisions(1, 3650, start_at => '294270-01-01 00:00:00+00')$$);
SELECT error_of($$SELECT ml.simulate_users(1, 1, start_at => 'infinity')$$);
SELECT count(*) FROM ml.MLTrainingData WHERE source = 'synthetic' AND NOT isfinite(created_at);
-- the ends of the range still work when the period fits
SELECT count(*), min(created_at) < '0001-01-01 00:00:00+00 BC' AS before_christ
  FROM ml.simulated_decisions(1, 1, start_at => '4713-01-01 00:00:00+00 BC');
SELECT count(*), max(outcome_at) < 'infinity' AS finite
  FROM ml.simulated_decisions(1, 1, start_at => '294276-12-29 00:00:00+00');
