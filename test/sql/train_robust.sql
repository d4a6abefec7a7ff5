-- Training robustness: hyperparameters that are not finite, a source that
-- writes, simulations that must stay cancellable, and job errors that only
-- the job's role may read
SET client_min_messages = warning;  -- progress notices depend on timing
-- the registry is the server's: only jobs of this run count
SELECT now() AS robust_start \gset

CREATE TABLE robust_points AS
SELECT ((i * 0.6180339887) % 1)::float8 AS x, i % 2 = 0 AS y,
       CASE WHEN i = 7 THEN 'TOPSECRET-1' ELSE i::text END AS code
  FROM generate_series(1, 200) i;

-- NaN and infinity, as strings XGBoost would parse or numbers beyond a
-- double, in params or in a search, are refused before any worker starts
SELECT error_of($$SELECT * FROM ml.train('robust_nan', 'robust_points', 'y', params => '{"eta": "nan"}')$$);
SELECT error_of($$SELECT * FROM ml.train('robust_nan', 'robust_points', 'y', params => '{"eta": "NaN "}')$$);
SELECT error_of($$SELECT * FROM ml.train('robust_nan', 'robust_points', 'y', params => '{"max_delta_step": "-Infinity"}')$$);
SELECT error_of($$SELECT * FROM ml.train('robust_nan', 'robust_points', 'y', params => '{"lambda": 1e400}')$$);
SELECT error_of($$SELECT * FROM ml.train('robust_nan', 'robust_points', 'y', search => '{"eta": [0.1, "inf"]}')$$);
-- a linear booster, which training cannot read (no feature gains, no slice of the best rounds)
SELECT error_of($$SELECT * FROM ml.train('robust_nan', 'robust_points', 'y', params => '{"booster": "gblinear"}')$$);
SELECT error_of($$SELECT * FROM ml.train('robust_nan', 'robust_points', 'y', search => '{"booster": ["gbtree", "gblinear"]}')$$);
-- names are not numbers, and finite numbers pass
SELECT model_name, version FROM ml.train('robust_nan', 'robust_points', 'y',
    params => '{"eta": "0.3", "objective": "binary:logistic", "num_round": 2}');
-- the refused ones started no job: one job, the last one
SELECT count(*) FROM ml.training_jobs WHERE model = 'robust_nan' AND started >= :'robust_start';

-- the loading transaction refuses writes: a large object created by the
-- target expression is an error, and nothing is left behind
SELECT count(*) AS large_objects FROM pg_largeobject_metadata;
SELECT error_of($$SELECT * FROM ml.train('robust_lo', 'SELECT x, y FROM robust_points', 'y AND lo_create(0) > 0')$$);
SELECT count(*) AS large_objects FROM pg_largeobject_metadata;
SELECT count(*) FROM ml.models WHERE name = 'robust_lo';
-- and so is unlinking one: it survives
SELECT lo_create(0) AS robust_lo \gset
SELECT error_of(format($$SELECT * FROM ml.train('robust_lo',
    'SELECT x, y, CASE WHEN x = (SELECT min(x) FROM robust_points) THEN lo_unlink(%s) END AS unlinked FROM robust_points',
    'y')$$, :robust_lo));
SELECT count(*) AS large_objects FROM pg_largeobject_metadata WHERE oid = :robust_lo;
SELECT lo_unlink(:robust_lo);
-- a temporary table made by a function the source calls is refused too
CREATE FUNCTION robust_temp_writer() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    CREATE TEMP TABLE IF NOT EXISTS robust_scratch (i int);
    RETURN true;
END $$;
SELECT error_of($$SELECT * FROM ml.train('robust_temp', 'SELECT x, y FROM robust_points WHERE robust_temp_writer()', 'y')$$);

-- the loading transaction is rolled back: a notification sent by the
-- source never reaches a listener (psql would print it below)
LISTEN robust_channel;
SELECT model_name, version FROM ml.train('robust_notify',
    $$SELECT x, y FROM robust_points WHERE pg_notify('robust_channel', 'leaked') IS NOT NULL$$, 'y',
    params => '{"num_round": 2}');
SELECT 'no notification' AS listener;
UNLISTEN robust_channel;

-- simulations of millions of users stop at a timeout
SELECT count(*) AS robust_rows FROM ml.MLTrainingData \gset
\set VERBOSITY terse
SET statement_timeout = '300ms';
SELECT ml.simulate_users(10000000, 1);
SELECT count(*) FROM ml.simulated_decisions(10000000, 1, 42, 3, now());
RESET statement_timeout;
\set VERBOSITY default
SELECT count(*) = :robust_rows AS nothing_inserted FROM ml.MLTrainingData;

-- a job's error may quote data: only the job's role (and its members and
-- pg_read_all_stats) read it in ml.training_jobs; others see the job
CREATE ROLE learnloop_robust_owner;
CREATE ROLE learnloop_robust_other;
CREATE ROLE learnloop_robust_member IN ROLE learnloop_robust_owner;
SELECT ml.grant_access('learnloop_robust_owner', 'train');
SELECT ml.grant_access('learnloop_robust_other', 'train');
SELECT ml.grant_access('learnloop_robust_member', 'read');
GRANT SELECT ON robust_points TO learnloop_robust_owner;
SET ROLE learnloop_robust_owner;
SELECT error_of($$SELECT * FROM ml.train('robust_secret', 'SELECT x, code::int AS c, y FROM robust_points', 'y')$$);
SELECT status, error FROM ml.training_jobs WHERE model = 'robust_secret' AND started >= :'robust_start';
SET ROLE learnloop_robust_other;
SELECT status, role, error IS NULL AS error_hidden FROM ml.training_jobs WHERE model = 'robust_secret' AND started >= :'robust_start';
SELECT count(*) FROM ml.training_jobs WHERE error LIKE '%TOPSECRET%';
SET ROLE learnloop_robust_member;
SELECT status, error FROM ml.training_jobs WHERE model = 'robust_secret' AND started >= :'robust_start';
RESET ROLE;
SELECT status, error FROM ml.training_jobs WHERE model = 'robust_secret' AND started >= :'robust_start';

DROP OWNED BY learnloop_robust_owner, learnloop_robust_other, learnloop_robust_member;
DROP ROLE learnloop_robust_member, learnloop_robust_owner, learnloop_robust_other;
DROP FUNCTION robust_temp_writer();
DROP TABLE robust_points;
