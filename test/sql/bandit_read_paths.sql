-- How ml.choose and ml.bandit_distribution read ml.bandits (a per-backend cache, dropped when the
-- table changes) and ml.bandit_arms (each cell through the hash index on the bandit and the cell,
-- read directly; SQL where row-level security, column grants, an altered table or another index of
-- that name need the executor): the same answers either way, changes seen at the next call,
-- privileges and policies applied, corrupted rows an error (XX001).
-- (error_of comes from schema.sql)

SELECT name FROM ml.create_bandit('paths', ARRAY['a', 'b', 'c'], reward_type => 'binary', draws => 1000) \gset
INSERT INTO ml.bandit_arms (bandit, cell, action, n, reward_sum, reward_sq) VALUES
    ('paths', 'u1', 'a', 200, 190, 190), ('paths', 'u1', 'b', 200, 10, 10),
    ('paths', '', 'a', 20, 10, 10), ('paths', '', 'b', 20, 10, 10), ('paths', '', 'c', 20, 4, 4);
CREATE TEMP TABLE direct AS
    SELECT action, probability FROM ml.bandit_distribution('paths', 'u1', seed => 7);
SELECT action, probability > 0.5 AS likely FROM direct ORDER BY action;

-- the cache follows the table: an update, a drop and a re-creation are seen at the next call
-- (a new unit: the population's Beta(6, 6), Beta(6, 6) and Beta(3, 9), so a has (1 - P(c)) / 2;
-- under prior uniform every posterior is Beta(1, 1), exactly 1/3 each)
SELECT action, round(propensity::numeric, 4) AS propensity FROM ml.choose('paths', 'u2', seed => 1);
UPDATE ml.bandits SET prior = 'uniform' WHERE name = 'paths';
SELECT action, propensity = 1.0 / 3 AS uniform_after_update FROM ml.choose('paths', 'u2', seed => 1);
UPDATE ml.bandits SET prior = 'population' WHERE name = 'paths';
SELECT name FROM ml.create_bandit('gone', ARRAY['x', 'y']);
SELECT action IN ('x', 'y') AS chosen FROM ml.choose('gone', 'u', seed => 1);
SELECT ml.drop_bandit('gone');
SELECT error_of($$SELECT ml.choose('gone', 'u', seed => 1)$$) AS dropped;
SELECT error_of($$SELECT * FROM ml.bandit_distribution('gone', 'u')$$) AS dropped_distribution;
SELECT name FROM ml.create_bandit('gone', ARRAY['z']);
SELECT action AS recreated FROM ml.choose('gone', 'u', seed => 1);
-- a rolled-back change does not stay in the cache
BEGIN;
UPDATE ml.bandits SET actions = ARRAY['w'] WHERE name = 'gone';
SELECT action AS in_transaction FROM ml.choose('gone', 'u', seed => 1);
ROLLBACK;
SELECT action AS after_rollback FROM ml.choose('gone', 'u', seed => 1);
SELECT ml.drop_bandit('gone');
-- a name longer than any bandit's
SELECT error_of(format('SELECT ml.choose(%L, %L)', repeat('n', 300), 'u')) AS long_name;

-- each cell is one lookup of the hash index: the unit's and the population's per call, the
-- population's alone for a new bandit's cell-less context
SELECT pg_stat_force_next_flush();
SELECT idx_scan AS lookups_before FROM pg_stat_user_indexes
 WHERE indexrelid = 'ml.bandit_arms_cell_idx'::regclass \gset
SELECT count(*) FROM ml.bandit_distribution('paths', 'u1', seed => 7);
SELECT name FROM ml.create_bandit('global', ARRAY['a', 'b'], context => 'none', reward_type => 'binary');
SELECT action IS NOT NULL AS chosen FROM ml.choose('global', 'anyone', seed => 1);
SELECT pg_stat_force_next_flush();
SELECT idx_scan - :lookups_before AS lookups FROM pg_stat_user_indexes
 WHERE indexrelid = 'ml.bandit_arms_cell_idx'::regclass;
SELECT ml.drop_bandit('global');
-- rows of another cell found by the lookup are not counted: units whose keys share their hash
-- (the first such pair among 300,000 unit ids: hashes depend on the byte order, so the pair is
-- found here), and a bandit and a cell that make another's key (names may hold the separator);
-- the other unit has no arms, so its two actions' posteriors are the same and each gets exactly 1/2
SELECT name FROM ml.create_bandit('hc', ARRAY['a', 'b'], reward_type => 'binary', prior => 'uniform');
SELECT units[1] AS unit_with_arms, units[2] AS unit_same_hash
  FROM (SELECT array_agg('u' || i ORDER BY i) AS units FROM generate_series(1, 300000) i
         GROUP BY hashtext('hc' || E'\x1f' || 'u' || i) HAVING count(*) > 1
         ORDER BY min(i) LIMIT 1) pair \gset
SELECT name FROM ml.create_bandit(E'k\x1fa', ARRAY['a', 'b'], reward_type => 'binary', prior => 'uniform');
SELECT name FROM ml.create_bandit('k', ARRAY['a', 'b'], reward_type => 'binary', prior => 'uniform');
INSERT INTO ml.bandit_arms (bandit, cell, action, n, reward_sum, reward_sq) VALUES
    ('hc', :'unit_with_arms', 'a', 100, 95, 95), ('hc', :'unit_with_arms', 'b', 100, 5, 5),
    (E'k\x1fa', 'b', 'a', 100, 95, 95), (E'k\x1fa', 'b', 'b', 100, 5, 5);
SELECT bandit, unit, action, round(probability::numeric, 3) AS probability
  FROM (VALUES ('hc', :'unit_with_arms', 'with arms'), ('hc', :'unit_same_hash', 'same hash'),
               (E'k\x1fa', 'b', 'b'), ('k', E'a\x1fb', E'a\x1fb')) c (bandit, cell, unit),
       ml.bandit_distribution(c.bandit, c.cell, seed => 7)
 ORDER BY bandit, unit, action;
-- another index of that name (an owner's) is not read: the same answers through SQL
BEGIN;
DROP INDEX ml.bandit_arms_cell_idx;
SELECT action, round(probability::numeric, 3) AS without_index FROM ml.bandit_distribution('hc', :'unit_with_arms', seed => 7) ORDER BY action;
CREATE TABLE ml.bandit_arms_cell_idx (x int);
SELECT action, round(probability::numeric, 3) AS a_table_of_that_name FROM ml.bandit_distribution('hc', :'unit_with_arms', seed => 7) ORDER BY action;
DROP TABLE ml.bandit_arms_cell_idx;
-- (another separator: an index SQL cannot use either, so its lookups are counted as none)
CREATE INDEX bandit_arms_cell_idx ON ml.bandit_arms USING hash ((bandit || '-' || cell));
SELECT action, round(probability::numeric, 3) AS other_index FROM ml.bandit_distribution('hc', :'unit_with_arms', seed => 7) ORDER BY action;
SELECT pg_stat_force_next_flush();
COMMIT;
BEGIN;
SELECT idx_scan AS other_index_lookups FROM pg_stat_user_indexes
 WHERE indexrelid = 'ml.bandit_arms_cell_idx'::regclass;
DROP INDEX ml.bandit_arms_cell_idx;
CREATE INDEX bandit_arms_cell_idx ON ml.bandit_arms
    USING hash ((bandit OPERATOR(pg_catalog.||) E'\x1f' OPERATOR(pg_catalog.||) cell));
COMMIT;
SELECT action, round(probability::numeric, 3) AS index_recreated FROM ml.bandit_distribution('hc', :'unit_with_arms', seed => 7) ORDER BY action;
SELECT pg_stat_force_next_flush();
SELECT idx_scan AS recreated_index_lookups FROM pg_stat_user_indexes
 WHERE indexrelid = 'ml.bandit_arms_cell_idx'::regclass;
SELECT ml.drop_bandit('hc'), ml.drop_bandit(E'k\x1fa'), ml.drop_bandit('k');

-- a role reading through SQL gets the direct path's answer
CREATE ROLE paths_app;
SELECT ml.grant_access('paths_app', 'record');
GRANT SELECT ON direct TO paths_app;
ALTER TABLE ml.bandit_arms ENABLE ROW LEVEL SECURITY;
ALTER TABLE ml.bandits ENABLE ROW LEVEL SECURITY;
CREATE POLICY all_arms ON ml.bandit_arms FOR SELECT TO paths_app USING (true);
CREATE POLICY all_bandits ON ml.bandits FOR SELECT TO paths_app USING (true);
SET ROLE paths_app;
SELECT count(*) AS same_as_direct
  FROM ml.bandit_distribution('paths', 'u1', seed => 7) d JOIN direct USING (action, probability);
RESET ROLE;
-- policies are applied: a hidden unit's arms are not counted, a hidden bandit does not exist
DROP POLICY all_arms ON ml.bandit_arms;
DROP POLICY all_bandits ON ml.bandits;
CREATE POLICY no_u1 ON ml.bandit_arms FOR SELECT TO paths_app USING (cell <> 'u1');
CREATE POLICY no_paths ON ml.bandits FOR SELECT TO paths_app USING (name <> 'paths');
SELECT name FROM ml.create_bandit('seen', ARRAY['a', 'b', 'c'], reward_type => 'binary', draws => 1000);
INSERT INTO ml.bandit_arms (bandit, cell, action, n, reward_sum, reward_sq)
    SELECT 'seen', cell, action, n, reward_sum, reward_sq FROM ml.bandit_arms WHERE bandit = 'paths';
SELECT action FROM ml.choose('paths', 'u1', seed => 1);
SELECT action FROM ml.choose('seen', 'u1', seed => 1);
SET ROLE paths_app;
SELECT error_of($$SELECT ml.choose('paths', 'u1', seed => 1)$$) AS hidden_bandit;
SELECT action, round(probability::numeric, 1) AS u1_hidden FROM ml.bandit_distribution('seen', 'u1', seed => 7) ORDER BY action;
RESET ROLE;
SELECT action, round(probability::numeric, 1) AS u1_counted FROM ml.bandit_distribution('seen', 'u1', seed => 7) ORDER BY action;
DROP POLICY no_u1 ON ml.bandit_arms;
DROP POLICY no_paths ON ml.bandits;
ALTER TABLE ml.bandit_arms DISABLE ROW LEVEL SECURITY;
ALTER TABLE ml.bandits DISABLE ROW LEVEL SECURITY;
-- without SELECT on ml.bandits the cached definition is not served (cached after the REVOKE)
REVOKE SELECT ON ml.bandits FROM paths_app;
SELECT action FROM ml.choose('paths', 'u1', seed => 1);
SET ROLE paths_app;
SELECT error_of($$SELECT ml.choose('paths', 'u1', seed => 1)$$) AS no_select;
RESET ROLE;
-- column grants only: SQL reads the arms and gets the same answer
REVOKE SELECT ON ml.bandit_arms FROM paths_app;
GRANT SELECT ON ml.bandits TO paths_app;
GRANT SELECT (bandit, cell, action, n, reward_sum, reward_sq) ON ml.bandit_arms TO paths_app;
SET ROLE paths_app;
SELECT count(*) AS column_grants_same
  FROM ml.bandit_distribution('paths', 'u1', seed => 7) d JOIN direct USING (action, probability);
RESET ROLE;

-- corrupted rows are errors on both paths, and a corrupted definition is not cached
BEGIN;
ALTER TABLE ml.bandits DROP CONSTRAINT bandits_draws_check;
UPDATE ml.bandits SET draws = 0 WHERE name = 'paths';
SELECT error_of($$SELECT ml.choose('paths', 'u1')$$) AS zero_draws;
SET ROLE paths_app;
SELECT error_of($$SELECT * FROM ml.bandit_distribution('paths', 'u1')$$) AS zero_draws_sql;
RESET ROLE;
ROLLBACK;
SELECT count(*) AS not_cached FROM ml.bandit_distribution('paths', 'u1', seed => 7) d JOIN direct USING (action, probability);
BEGIN;
UPDATE ml.bandits SET actions = ARRAY['a', NULL] WHERE name = 'paths';
SELECT error_of($$SELECT ml.choose('paths', 'u1')$$) AS null_action;
ROLLBACK;
BEGIN;
ALTER TABLE ml.bandits DROP CONSTRAINT bandits_context_check;
UPDATE ml.bandits SET context = 'moods' WHERE name = 'paths';
SELECT error_of($$SELECT ml.choose('paths', 'u1')$$) AS unknown_context;
ROLLBACK;
BEGIN;
ALTER TABLE ml.bandits DROP CONSTRAINT bandits_prior_weight_check;
UPDATE ml.bandits SET prior_weight = 'NaN' WHERE name = 'paths';
SELECT error_of($$SELECT ml.choose('paths', 'u1')$$) AS nan_prior_weight;
ROLLBACK;
BEGIN;
ALTER TABLE ml.bandit_arms ALTER COLUMN n DROP NOT NULL;
UPDATE ml.bandit_arms SET n = NULL WHERE bandit = 'paths' AND cell = '' AND action = 'c';
SELECT error_of($$SELECT ml.choose('paths', 'u1')$$) AS null_count;
SET ROLE paths_app;
SELECT error_of($$SELECT ml.choose('paths', 'u1')$$) AS null_count_sql;
RESET ROLE;
ROLLBACK;
BEGIN;
UPDATE ml.bandit_arms SET reward_sq = '-Infinity' WHERE bandit = 'paths' AND cell = 'u1' AND action = 'a';
SELECT error_of($$SELECT ml.choose('paths', 'u1')$$) AS infinite_square;
ROLLBACK;
-- an arm of an action the bandit no longer has is ignored
UPDATE ml.bandits SET actions = ARRAY['b', 'c'] WHERE name = 'paths';
SELECT action, round(probability::numeric, 1) AS probability FROM ml.bandit_distribution('paths', 'u1', seed => 7) ORDER BY action;
SET ROLE paths_app;
SELECT action, round(probability::numeric, 1) AS probability FROM ml.bandit_distribution('paths', 'u1', seed => 7) ORDER BY action;
RESET ROLE;

SELECT ml.drop_bandit('paths'), ml.drop_bandit('seen');
DELETE FROM ml.MLTrainingData WHERE task IN ('paths', 'gone', 'seen');
DROP OWNED BY paths_app;
DROP ROLE paths_app;
