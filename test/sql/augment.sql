-- ml.augment (issue 14): perturbed copies of real decisions, source 'augmented', with
-- augmented_from naming the original
SET extra_float_digits = 0;

SELECT count(ml.record_decision('aug_t', 'u' || (i % 40), jsonb_build_object(
           'x', i / 10.0, 'n', i % 7, 'c', (ARRAY['red', 'green', 'blue'])[i % 3 + 1], 'b', i % 2 = 0,
           'big', 12345678901234567890.5, 'gone', NULL),
           jsonb_build_object('action', CASE WHEN i % 2 = 0 THEN 'a' ELSE 'b' END, 'propensity', 0.5),
           created_at => '2026-02-01 00:00:00+00'::timestamptz + i * interval '1 hour')) AS recorded
  FROM generate_series(1, 200) i;
SELECT count(ml.record_outcome(id, jsonb_build_object('y', (features->>'x')::float8 > 10)))
  FROM ml.mltrainingdata WHERE task = 'aug_t' AND (features->>'n')::int < 5;
-- a synthetic row and a row of another task: never copied
INSERT INTO ml.mltrainingdata (task, unit_id, features, decision, source)
VALUES ('aug_t', 'syn', '{"x": 1}', '{"action": "a"}', 'synthetic'),
       ('aug_other', 'zz_other', '{"x": 1}', '{"action": "a"}', 'real');
CREATE TEMP TABLE originals AS SELECT * FROM ml.mltrainingdata WHERE task = 'aug_t' AND source = 'real';

SELECT ml.augment('aug_t', copies => 3, seed => 7,
                  noise => '{"x": {"sd": 0.5}, "n": {"relative_sd": 0.2, "round": true, "min": 0, "max": 6},
                             "c": {"flip": 0.3}, "b": {"flip": 0.3}, "gone": {"drop": 0.5}}') AS written;
CREATE TEMP TABLE copies AS SELECT * FROM ml.mltrainingdata WHERE task = 'aug_t' AND source = 'augmented';

-- three copies of every real row, nothing else; everything but the features is the original's
SELECT count(*) AS copies, count(DISTINCT augmented_from) AS originals,
       bool_and(augmented_from IN (SELECT id FROM originals)) AS from_real_rows,
       (SELECT count(*) FROM ml.mltrainingdata WHERE task = 'aug_other' OR unit_id = 'syn') AS others_untouched
  FROM copies;
SELECT bool_and(c.unit_id = o.unit_id AND c.created_at = o.created_at AND c.decision = o.decision
                AND c.outcome IS NOT DISTINCT FROM o.outcome AND c.outcome_at IS NOT DISTINCT FROM o.outcome_at) AS copied,
       bool_and(c.experiment IS NULL AND c.variant IS NULL) AS no_experiment,
       bool_and(c.features->'big' = o.features->'big') AS unruled_exact,
       bool_and(c.id > o.id) AS new_ids
  FROM copies c JOIN originals o ON o.id = c.augmented_from;
-- the quoted-name view shows the column too
SELECT count(*) AS through_the_view FROM ml."MLTrainingData" WHERE augmented_from IS NOT NULL;
-- the noise: sd 0.5 added to x; n relative, rounded and clamped; flips at 30 %; drops at 50 %
SELECT abs(avg((c.features->>'x')::float8 - (o.features->>'x')::float8)) < 4.5 * 0.5 / sqrt(600) AS x_unbiased,
       abs(stddev((c.features->>'x')::float8 - (o.features->>'x')::float8) - 0.5) < 0.07 AS x_sd,
       bool_and((c.features->>'n')::numeric = round((c.features->>'n')::numeric)) AS n_whole,
       bool_and((c.features->>'n')::int BETWEEN 0 AND 6) AS n_clamped,
       count(*) FILTER (WHERE c.features->'n' <> o.features->'n') > 0 AS n_perturbed,
       abs(avg((c.features->'b' <> o.features->'b')::int) - 0.3) < 4.5 * sqrt(0.21 / 600) AS booleans_flipped,
       abs(avg((c.features->'c' <> o.features->'c')::int) - 0.3) < 4.5 * sqrt(0.21 / 600) AS strings_flipped,
       bool_and(c.features->>'c' IN ('red', 'green', 'blue')) AS seen_values,
       abs(avg((NOT c.features ? 'gone')::int) - 0.5) < 4.5 * sqrt(0.25 / 600) AS dropped,
       bool_and(NOT c.features ? 'gone' OR c.features->'gone' = 'null') AS null_kept
  FROM copies c JOIN originals o ON o.id = c.augmented_from;
-- a flipped string takes each other value about equally often
SELECT o.features->>'c' AS original, c.features->>'c' AS flipped_to, count(*) > 10 AS often
  FROM copies c JOIN originals o ON o.id = c.augmented_from
 WHERE c.features->'c' <> o.features->'c' GROUP BY 1, 2 ORDER BY 1, 2;

-- deterministic for a seed: the same call writes the same copies again; another seed others
SELECT ml.augment('aug_t', copies => 3, seed => 7,
                  noise => '{"x": {"sd": 0.5}, "n": {"relative_sd": 0.2, "round": true, "min": 0, "max": 6},
                             "c": {"flip": 0.3}, "b": {"flip": 0.3}, "gone": {"drop": 0.5}}') AS again;
SELECT count(*) AS unmatched
  FROM (SELECT augmented_from, features FROM ml.mltrainingdata WHERE task = 'aug_t' AND source = 'augmented'
                                                                  AND id NOT IN (SELECT id FROM copies)
        EXCEPT ALL SELECT augmented_from, features FROM copies) d;
DELETE FROM ml.mltrainingdata WHERE task = 'aug_t' AND source = 'augmented' AND id NOT IN (SELECT id FROM copies);
SELECT ml.augment('aug_t', copies => 1, seed => 8, noise => '{"x": {"sd": 0.5}}') AS other_seed;
SELECT count(*) AS seed_8_copies,
       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM copies c WHERE c.augmented_from = n.augmented_from
                                                           AND c.features->'x' = n.features->'x')) AS equal_to_a_seed_7_copy
  FROM ml.mltrainingdata n
 WHERE n.task = 'aug_t' AND n.source = 'augmented' AND n.id NOT IN (SELECT id FROM copies);
DELETE FROM ml.mltrainingdata WHERE task = 'aug_t' AND source = 'augmented' AND id NOT IN (SELECT id FROM copies);

-- empty noise copies the rows unchanged (oversampling); the filter selects among the real rows
SELECT ml.augment('aug_t', $$features->>'c' = 'red' AND outcome IS NOT NULL$$) AS red_with_outcome;
SELECT count(*) AS copied, bool_and(n.features = o.features) AS unchanged,
       count(*) = (SELECT count(*) FROM originals WHERE features->>'c' = 'red' AND outcome IS NOT NULL) AS all_selected
  FROM ml.mltrainingdata n JOIN originals o ON o.id = n.augmented_from
 WHERE n.task = 'aug_t' AND n.source = 'augmented' AND n.id NOT IN (SELECT id FROM copies);
-- nothing selected: nothing written
SELECT ml.augment('aug_t', 'false', noise => '{"nowhere": {"sd": 1}}') AS none_selected;
SELECT ml.augment('no_such_task') AS no_rows;

-- the filter is one expression: it cannot close the parentheses, add a clause or a statement
SELECT error_of($$SELECT ml.augment('aug_t', 'true) OR (true')$$);
SELECT error_of($$SELECT ml.augment('aug_t', 'true; DELETE FROM ml.mltrainingdata')$$);
SELECT error_of($$SELECT ml.augment('aug_t', 'true UNION SELECT 1')$$);
SELECT error_of($$SELECT ml.augment('aug_t', 'true FROM pg_class')$$);
SELECT error_of($$SELECT ml.augment('aug_t', 'no_such_column > 1')$$);
SELECT error_of($$SELECT ml.augment('aug_t', '1')$$);
SELECT count(*) AS rows_after_refusals FROM ml.mltrainingdata WHERE task = 'aug_t';

-- the arguments and the noise
SELECT error_of($$SELECT ml.augment('aug_t', copies => 0)$$);
SELECT error_of($$SELECT ml.augment('aug_t', copies => 101)$$);
SELECT error_of($$SELECT ml.augment(NULL)$$);
SELECT error_of($$SELECT ml.augment('aug_t', noise => NULL)$$);
SELECT error_of($$SELECT ml.augment('aug_t', noise => '[1]')$$);
SELECT error_of($$SELECT ml.augment('aug_t', noise => '{"x": 1}')$$);
SELECT error_of($$SELECT ml.augment('aug_t', noise => '{"x": {"sd": -1}}')$$);
SELECT error_of($$SELECT ml.augment('aug_t', noise => '{"x": {"sd": "1"}}')$$);
SELECT error_of($$SELECT ml.augment('aug_t', noise => '{"c": {"flip": 1.5}}')$$);
SELECT error_of($$SELECT ml.augment('aug_t', noise => '{"x": {"jitter": 1}}')$$);
SELECT error_of($$SELECT ml.augment('aug_t', noise => '{"x": {"round": true}}')$$);
SELECT error_of($$SELECT ml.augment('aug_t', noise => '{"x": {"sd": 1, "min": 2, "max": 1}}')$$);
SELECT regexp_replace(error_of($$SELECT ml.augment('aug_t', noise => '{"c": {"sd": 1}}')$$), 'decision [0-9]+', 'decision N') AS error_of;
SELECT regexp_replace(error_of($$SELECT ml.augment('aug_t', noise => '{"x": {"flip": 0.5}}')$$), 'decision [0-9]+', 'decision N') AS error_of;
SELECT regexp_replace(error_of($$SELECT ml.augment('aug_t', noise => '{"big": {"flip": 0.5}}')$$), 'decision [0-9]+', 'decision N') AS error_of;
SELECT error_of($$SELECT ml.augment('aug_t', noise => '{"X": {"sd": 1}}')$$);
SELECT count(*) AS rows_after_errors FROM ml.mltrainingdata WHERE task = 'aug_t';
-- noise that carries a value past double precision is an error (22003), never a numeric
-- Infinity in jsonb (which no JSON reader, nor a restore, accepts); clamped, it is written
SELECT ml.record_decision('aug_huge', 'u1', '{"x": 1e308}', '{"action": "a"}') > 0 AS recorded;
SELECT regexp_replace(error_of($$SELECT ml.augment('aug_huge', copies => 20, noise => '{"x": {"relative_sd": 1}}')$$),
                      'decision [0-9]+', 'decision N') AS error_of;
SELECT ml.augment('aug_huge', copies => 20, noise => '{"x": {"relative_sd": 1, "min": -1e308, "max": 1e308}}') AS clamped;
SELECT count(*) AS copies, bool_and(features::text::jsonb = features) AS valid_json,
       count(*) FILTER (WHERE features->'x' = '1e308') > 0 AS some_at_max
  FROM ml.mltrainingdata WHERE task = 'aug_huge' AND source = 'augmented';
DELETE FROM ml.mltrainingdata WHERE task = 'aug_huge';

-- off-policy evaluation reads logged decisions: augmented copies are none (they counted their
-- originals again, with perturbed contexts and the same bootstrap counts)
SELECT (ml.create_bandit('aug_bandit', ARRAY['a', 'b'], task => 'aug_t', reward => 'y')).name AS bandit;
SET client_min_messages = warning;
SELECT e.estimator, e.n, e.excluded,
       e.n + e.excluded = (SELECT count(*) FROM ml.mltrainingdata WHERE task = 'aug_t' AND source <> 'augmented') AS real_and_synthetic_only
  FROM ml.evaluate_policy('aug_t', 'bandit:aug_bandit', 'y', bootstrap => 0) e ORDER BY 1;
SELECT c.estimator, c.n, c.excluded
  FROM ml.compare_policies('aug_t', 'bandit:aug_bandit', 'bandit:aug_bandit', 'y', bootstrap => 0) c ORDER BY 1;
RESET client_min_messages;
SELECT 1 AS dropped FROM ml.drop_bandit('aug_bandit');

-- only augmented rows name an original; deleting an original deletes its copies
SELECT error_of($$INSERT INTO ml.mltrainingdata (task, unit_id, features, decision, augmented_from)
                  SELECT 'aug_t', 'u', '{}', '{}', min(id) FROM originals$$);
SELECT error_of($$INSERT INTO ml.mltrainingdata (task, unit_id, features, decision, source, augmented_from)
                  VALUES ('aug_t', 'u', '{}', '{}', 'augmented', -1)$$);
DELETE FROM ml.mltrainingdata WHERE id = (SELECT min(id) FROM originals);
SELECT count(*) AS copies_left_of_the_deleted
  FROM ml.mltrainingdata WHERE augmented_from = (SELECT min(id) FROM originals);

-- evaluate_on => 'real': the test rows are real rows only (test_size of the real rows); every
-- copy goes where its original goes, and the copies of test rows are left out, so that no
-- test row trains in disguise; with 'all' every row is used and copies can test
SELECT count(ml.record_decision('aug_split', 'u' || i, jsonb_build_object('x', i), '{"action": "a"}')) AS recorded
  FROM generate_series(1, 100) i;
SELECT count(ml.record_outcome(id, jsonb_build_object('y', (features->>'x')::int % 3 = 0)))
  FROM ml.mltrainingdata WHERE task = 'aug_split';
SELECT ml.augment('aug_split', copies => 2, noise => '{"x": {"sd": 0.01}}') AS copies;
SET client_min_messages = warning;
CREATE TEMP TABLE split_runs AS
SELECT 'real' AS evaluate_on, t.model_name, t.version
  FROM ml.train('aug_model', 'ml.mltrainingdata', $$(outcome->>'y')::boolean$$,
                features => ARRAY[$$(features->>'x')::float8 AS x$$],
                filter => $$task = 'aug_split'$$, evaluate_on => 'real', params => '{"num_round": 5}') t;
INSERT INTO split_runs
SELECT 'all', t.model_name, t.version
  FROM ml.train('aug_model', 'ml.mltrainingdata', $$(outcome->>'y')::boolean$$,
                features => ARRAY[$$(features->>'x')::float8 AS x$$],
                filter => $$task = 'aug_split'$$, evaluate_on => 'all', deploy => 'never',
                params => '{"num_round": 5}') t;
-- a query source that keeps id and augmented_from, all its columns as features, early stopping:
-- validation rows are real too (a tenth of the 80 real training rows), and the copies of the 8
-- validation rows are left out as the test rows' are (2 x (20 + 8) = 56); augmented_from is no feature
INSERT INTO split_runs
SELECT 'real, query', t.model_name, t.version
  FROM ml.train('aug_model', $$SELECT id, augmented_from, source, (features->>'x')::float8 AS x,
                                      (outcome->>'y')::boolean AS y
                                 FROM ml.mltrainingdata WHERE task = 'aug_split'$$, 'y',
                evaluate_on => 'real', deploy => 'never', early_stopping_rounds => 2,
                params => '{"num_round": 5}') t;
-- a source without the lineage columns: the copies all train, as before
INSERT INTO split_runs
SELECT 'real, no lineage', t.model_name, t.version
  FROM ml.train('aug_model', $$SELECT source, (features->>'x')::float8 AS x, (outcome->>'y')::boolean AS y
                                 FROM ml.mltrainingdata WHERE task = 'aug_split'$$, 'y',
                evaluate_on => 'real', deploy => 'never', params => '{"num_round": 5}') t;
-- a trainer that may read some columns only: without id and augmented_from the copies all
-- train (no error for the columns it cannot read); once granted them, they follow their originals
CREATE ROLE aug_trainer;
SELECT ml.grant_access('aug_trainer', 'train');
REVOKE SELECT ON ml.mltrainingdata FROM aug_trainer;
GRANT SELECT (task, source, features, outcome) ON ml.mltrainingdata TO aug_trainer;
GRANT INSERT ON split_runs TO aug_trainer;
SET ROLE aug_trainer;
INSERT INTO split_runs
SELECT 'real, some columns', t.model_name, t.version
  FROM ml.train('aug_trainer_model', 'ml.mltrainingdata', $$(outcome->>'y')::boolean$$,
                features => ARRAY[$$(features->>'x')::float8 AS x$$],
                filter => $$task = 'aug_split'$$, evaluate_on => 'real', deploy => 'never',
                params => '{"num_round": 5}') t;
RESET ROLE;
GRANT SELECT (id, augmented_from) ON ml.mltrainingdata TO aug_trainer;
SET ROLE aug_trainer;
INSERT INTO split_runs
SELECT 'real, granted lineage', t.model_name, t.version
  FROM ml.train('aug_trainer_model', 'ml.mltrainingdata', $$(outcome->>'y')::boolean$$,
                features => ARRAY[$$(features->>'x')::float8 AS x$$],
                filter => $$task = 'aug_split'$$, evaluate_on => 'real', deploy => 'never',
                params => '{"num_round": 5}') t;
RESET ROLE;
RESET client_min_messages;
SELECT r.evaluate_on, m.test_rows, m.train_rows, 300 - m.train_rows - m.test_rows AS left_out,
       (SELECT string_agg(f->>'name', ', ') FROM jsonb_array_elements(m.feature_schema->'features') f) AS features
  FROM split_runs r JOIN ml.models m ON m.name = r.model_name AND m.version = r.version
 ORDER BY r.model_name, r.version;

DROP OWNED BY aug_trainer;
DROP ROLE aug_trainer;

-- ranking splits whole query groups: with evaluate_on => 'real' a group with a real row may
-- test, with its real rows only, and the copies of its rows are left out wherever their group
-- (here flipped) went. 40 groups of 5 real rows, 10 synthetic rows in each of 10 of them, a
-- copy of every real row in another group: 8 test groups of 5 real rows test, and the 40 copies
-- of their rows do not train (before, about 107 rows tested, synthetic rows and copies among
-- them, and every other row trained, copies of test rows among them)
INSERT INTO ml.mltrainingdata (task, unit_id, features, decision, outcome, source)
SELECT 'aug_rank', 'q' || g, jsonb_build_object('x', i, 'q', 'q' || g), '{"action": "a"}',
       jsonb_build_object('rel', (i + g) % 4), 'real'
  FROM generate_series(1, 40) g, generate_series(1, 5) i;
INSERT INTO ml.mltrainingdata (task, unit_id, features, decision, outcome, source)
SELECT 'aug_rank', 'q' || g, jsonb_build_object('x', i, 'q', 'q' || g), '{"action": "a"}',
       jsonb_build_object('rel', i % 4), 'synthetic'
  FROM generate_series(1, 10) g, generate_series(1, 10) i;
SELECT ml.augment('aug_rank', noise => '{"q": {"flip": 1}, "x": {"sd": 0.1}}') AS copies;
SET client_min_messages = warning;
CREATE TEMP TABLE rank_run AS
SELECT t.model_name, t.version
  FROM ml.train('aug_rank_model', $$SELECT id, augmented_from, source, features->>'q' AS q,
                                          (features->>'x')::float8 AS x, (outcome->>'rel')::int AS rel
                                     FROM ml.mltrainingdata WHERE task = 'aug_rank'$$, 'rel',
                group_column => 'q', task => 'ranking', evaluate_on => 'real', deploy => 'never',
                params => '{"num_round": 3}') t;
RESET client_min_messages;
SELECT m.test_rows, m.train_rows <= 500 - 40 - 40 AS copies_of_test_rows_left_out
  FROM rank_run r JOIN ml.models m ON m.name = r.model_name AND m.version = r.version;

-- validation rows are real too, so evaluate_on => 'real' needs two real training rows for early
-- stopping or a search: one real training row (of 2 real rows) and 298 synthetic ones is an
-- error (it trained early_stopping_rounds + 1 rounds without validation rows, whatever the rows
-- said), and so are no real rows for a search without test rows (its hint said test_size => 0)
CREATE TABLE few_real AS
SELECT i, (i % 7)::float8 AS x, i % 7 > 3 AS y, CASE WHEN i <= 2 THEN 'real' ELSE 'synthetic' END AS source,
       CASE WHEN i % 2 = 0 THEN 'a' ELSE 'b' END AS c
  FROM generate_series(1, 300) i;
SET client_min_messages = warning;
SELECT error_of($$SELECT * FROM ml.train('few_real', 'SELECT x, y, source FROM few_real', 'y',
                  evaluate_on => 'real', early_stopping_rounds => 3, deploy => 'never')$$);
SELECT error_of($$SELECT * FROM ml.train('few_real', 'SELECT x, y, source FROM few_real WHERE source = ''synthetic''', 'y',
                  evaluate_on => 'real', test_size => 0, search => '{"max_depth": [1, 3]}', deploy => 'never')$$);
-- a cohort without validation rows (here its rows are all synthetic) is served by the global
-- model (it trained early_stopping_rounds + 1 rounds); the real cohort trains every round
UPDATE few_real SET source = CASE c WHEN 'a' THEN 'real' ELSE 'synthetic' END;
CREATE TEMP TABLE few_real_run AS
SELECT t.model_name, t.version
  FROM ml.train('few_real', 'SELECT x, y, c, source FROM few_real', 'y', evaluate_on => 'real',
                early_stopping_rounds => 3, cohort_column => 'c', min_cohort_rows => 10, deploy => 'never',
                params => '{"num_round": 20, "eta": 0.01}') t;
RESET client_min_messages;
SELECT m.cohort, m.rounds FROM few_real_run r JOIN ml.models m ON m.name = r.model_name AND m.version = r.version
 ORDER BY m.cohort NULLS FIRST;
DROP TABLE few_real;

-- privileges: nobody but the owner runs it; a caller needs the table's privileges, and its
-- filter runs as that caller
SELECT has_function_privilege('public', 'ml.augment(text, text, integer, jsonb, integer)', 'EXECUTE') AS public_may;
CREATE ROLE aug_writer;
CREATE TABLE aug_secret (x int);
GRANT USAGE ON SCHEMA ml TO aug_writer;
GRANT EXECUTE ON FUNCTION ml.augment(text, text, integer, jsonb, integer) TO aug_writer;
GRANT SELECT ON ml.mltrainingdata TO aug_writer;
SET ROLE aug_writer;
SELECT error_of($$SELECT ml.augment('aug_t', 'outcome IS NOT NULL')$$) AS without_insert;
RESET ROLE;
GRANT INSERT ON ml.mltrainingdata TO aug_writer;
SET ROLE aug_writer;
SELECT error_of($$SELECT ml.augment('aug_t', 'EXISTS (SELECT 1 FROM aug_secret)')$$) AS filter_as_caller;
RESET ROLE;
SELECT max(id) AS before_caller FROM ml.mltrainingdata \gset
SET ROLE aug_writer;
SELECT ml.augment('aug_t', $$unit_id = 'u1'$$) AS written_by_the_caller;
RESET ROLE;
SELECT count(*) AS by_the_caller FROM ml.mltrainingdata WHERE task = 'aug_t' AND source = 'augmented' AND unit_id = 'u1'
   AND id > :before_caller;
DROP TABLE aug_secret;
REVOKE ALL ON ml.mltrainingdata FROM aug_writer;
REVOKE ALL ON FUNCTION ml.augment(text, text, integer, jsonb, integer) FROM aug_writer;
REVOKE ALL ON SCHEMA ml FROM aug_writer;
DROP ROLE aug_writer;
