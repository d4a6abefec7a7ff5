-- The decision row written without the executor (src/common/row_insert.c,
-- row_append): the same row, constraints, indexes and triggers as the
-- INSERT it replaces, and that INSERT whenever the table or the caller
-- needs it.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS amcheck;
CREATE TEMP TABLE before_ids AS SELECT coalesce(max(id), 0) AS last FROM ml.MLTrainingData;

SELECT name FROM ml.create_experiment('insert_e', ARRAY['v0', 'v1', 'v2']);
-- ids from the identity, created_at now() unless given, every column as passed
BEGIN;
SELECT first_id > (SELECT last FROM before_ids) AS past_every_row, second_id - first_id AS next_id
  FROM (SELECT ml.record_decision('insert_t', 'u1', '{"x": 1}', '{"action": "a"}') AS first_id,
               ml.record_decision('insert_t', 'u2', '{"x": 2}', '{"action": "b"}', source => 'synthetic',
                                  experiment => 'insert_e', variant => ml.assign_variant('insert_e', 'u2'), created_at => '2026-01-02 03:04:05+00')
                 AS second_id) ids;
SELECT unit_id, created_at = now() AS at_now, created_at = '2026-01-02 03:04:05+00' AS at_given, features, decision, outcome, outcome_at, source, experiment, variant
  FROM ml.MLTrainingData WHERE task = 'insert_t' ORDER BY id;
COMMIT;

-- every index holds every row (the partial experiment index too)
SELECT count(ml.record_decision('insert_t', 'u' || i, jsonb_build_object('x', i), '{"action": "a"}',
                                experiment => CASE WHEN i % 2 = 0 THEN 'insert_e' END,
                                variant => CASE WHEN i % 2 = 0 THEN ml.assign_variant('insert_e', 'u' || i) END)) AS recorded
  FROM generate_series(3, 200) i;
SELECT count(*) FROM ml.MLTrainingData WHERE task = 'insert_t';
SELECT c.relname, bt_index_check(c.oid, heapallindexed => true) AS checked
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
 WHERE i.indrelid = 'ml.mltrainingdata'::regclass ORDER BY 1;
SET enable_seqscan = off;
SELECT count(*) AS in_experiment_index FROM ml.MLTrainingData WHERE experiment = 'insert_e';
RESET enable_seqscan;

-- a CHECK constraint added by the owner holds at once
ALTER TABLE ml.MLTrainingData ADD CONSTRAINT insert_t_no_banned CHECK (unit_id <> 'banned');
SELECT error_of($$SELECT ml.record_decision('insert_t', 'banned', '{}', '{"action": "a"}')$$);
ALTER TABLE ml.MLTrainingData DROP CONSTRAINT insert_t_no_banned;
SELECT ml.record_decision('insert_t', 'banned', '{}', '{"action": "a"}') IS NOT NULL AS recorded_once_dropped;

-- a default the owner gives outcome is the INSERT's to apply
ALTER TABLE ml.MLTrainingData ALTER COLUMN outcome SET DEFAULT '{"pending": true}';
SELECT ml.record_decision('insert_t', 'defaulted', '{}', '{"action": "a"}') AS defaulted_id \gset
SELECT outcome FROM ml.MLTrainingData WHERE id = :defaulted_id;
ALTER TABLE ml.MLTrainingData ALTER COLUMN outcome DROP DEFAULT;

-- a duplicate id (a row inserted past the sequence) is the usual unique violation, and nothing is written
INSERT INTO ml.MLTrainingData (id, task, unit_id, features, decision) OVERRIDING SYSTEM VALUE
SELECT last_value + 1, 'insert_t', 'manual', '{}', '{"action": "m"}'
  FROM ml.mltrainingdata_id_seq;
SELECT error_of($$SELECT ml.record_decision('insert_t', 'collides', '{}', '{"action": "a"}')$$);
SELECT count(*) AS collided_rows FROM ml.MLTrainingData WHERE unit_id = 'collides';
SELECT ml.record_decision('insert_t', 'after_collision', '{}', '{"action": "a"}') IS NOT NULL AS next_recorded;

-- triggers after each row fire; a foreign key (its triggers) is checked
CREATE TABLE insert_log (decision_id bigint, unit_id text);
CREATE FUNCTION log_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO insert_log VALUES (NEW.id, NEW.unit_id); RETURN NULL; END $$;
CREATE TRIGGER insert_t_after AFTER INSERT ON ml.MLTrainingData FOR EACH ROW EXECUTE FUNCTION log_insert();
SELECT ml.record_decision('insert_t', 'logged', '{}', '{"action": "a"}') AS logged_id \gset
SELECT decision_id = :logged_id AS after_trigger_fired, unit_id FROM insert_log;
DROP TRIGGER insert_t_after ON ml.MLTrainingData;
CREATE TABLE insert_tasks (task text PRIMARY KEY);
INSERT INTO insert_tasks VALUES ('insert_t');
ALTER TABLE ml.MLTrainingData ADD CONSTRAINT insert_t_task_fk FOREIGN KEY (task) REFERENCES insert_tasks NOT VALID;
SELECT ml.record_decision('insert_t', 'fk_ok', '{}', '{"action": "a"}') IS NOT NULL AS known_task_recorded;
SELECT error_of($$SELECT ml.record_decision('insert_unknown', 'fk', '{}', '{"action": "a"}')$$);
ALTER TABLE ml.MLTrainingData DROP CONSTRAINT insert_t_task_fk;
-- the direct insertion skips the check of a key whose columns are all NULL in the row (it
-- passes under any MATCH); one with a NULL and a value is still checked: MATCH FULL refuses it
CREATE TABLE insert_task_experiments (task text, experiment text, PRIMARY KEY (task, experiment));
CREATE TABLE insert_variants (experiment text, variant text, PRIMARY KEY (experiment, variant));
ALTER TABLE ml.MLTrainingData ADD CONSTRAINT insert_t_full_fk FOREIGN KEY (experiment, variant)
    REFERENCES insert_variants MATCH FULL NOT VALID;
ALTER TABLE ml.MLTrainingData ADD CONSTRAINT insert_t_mixed_fk FOREIGN KEY (task, experiment)
    REFERENCES insert_task_experiments MATCH FULL NOT VALID;
SELECT error_of($$SELECT ml.record_decision('insert_t', 'fk_mixed', '{}', '{"action": "a"}')$$);
ALTER TABLE ml.MLTrainingData DROP CONSTRAINT insert_t_mixed_fk;
SELECT ml.record_decision('insert_t', 'fk_all_null', '{}', '{"action": "a"}') IS NOT NULL AS all_null_key_recorded;
SELECT count(*) FROM ml.MLTrainingData WHERE unit_id IN ('fk_mixed', 'fk_all_null');
ALTER TABLE ml.MLTrainingData DROP CONSTRAINT insert_t_full_fk;

-- a trigger before the row changes it: the INSERT statement runs it
CREATE FUNCTION tag_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.decision := NEW.decision || '{"tagged": true}'; RETURN NEW; END $$;
CREATE TRIGGER insert_t_before BEFORE INSERT ON ml.MLTrainingData FOR EACH ROW EXECUTE FUNCTION tag_insert();
SELECT ml.record_decision('insert_t', 'tagged', '{}', '{"action": "a"}') AS tagged_id \gset
SELECT decision FROM ml.MLTrainingData WHERE id = :tagged_id;
DROP TRIGGER insert_t_before ON ml.MLTrainingData;

-- a read-only transaction writes nothing
BEGIN READ ONLY;
SELECT error_of($$SELECT ml.record_decision('insert_t', 'read_only', '{}', '{"action": "a"}')$$);
ROLLBACK;

-- an application role with the record access (column grants) writes directly or not, the same;
-- row-level security is the executor's: its policy holds
CREATE ROLE insert_app;
SELECT ml.grant_access('insert_app', 'record');
SET ROLE insert_app;
SELECT ml.record_decision('insert_t', 'app', '{}', '{"action": "a"}') IS NOT NULL AS app_recorded;
RESET ROLE;
ALTER TABLE ml.MLTrainingData ENABLE ROW LEVEL SECURITY;
CREATE POLICY insert_t_only ON ml.MLTrainingData FOR ALL TO insert_app USING (task = 'insert_t') WITH CHECK (task = 'insert_t');
SET ROLE insert_app;
SELECT ml.record_decision('insert_t', 'app_rls', '{}', '{"action": "a"}') IS NOT NULL AS allowed_by_policy;
SELECT error_of($$SELECT ml.record_decision('insert_other', 'app_rls', '{}', '{"action": "a"}')$$);
RESET ROLE;
-- ml.record_fallback runs as the extension's owner, yet fills in only decisions the caller sees
SELECT ml.record_decision('insert_other', 'fallback_rls', '{}', '{"decided_by": "unsure"}') AS hidden_unsure \gset
SELECT ml.record_decision('insert_t', 'fallback_rls', '{}', '{"decided_by": "unsure"}') AS visible_unsure \gset
SET ROLE insert_app;
SELECT replace(error_of(format('SELECT ml.record_fallback(%s, %L)', :hidden_unsure, 'attacker_action')),
               :'hidden_unsure', 'N') AS hidden_decision;
SELECT ml.record_fallback(:visible_unsure, 'rules_action') ->> 'action' AS visible_decision_filled;
RESET ROLE;
SELECT decision ->> 'action' IS NULL AS hidden_left_unsure FROM ml.MLTrainingData WHERE id = :hidden_unsure;
DROP POLICY insert_t_only ON ml.MLTrainingData;
ALTER TABLE ml.MLTrainingData DISABLE ROW LEVEL SECURITY;
SELECT unit_id FROM ml.MLTrainingData WHERE task IN ('insert_t', 'insert_other') AND unit_id LIKE 'app%' ORDER BY id;

-- the WHEN clauses and index predicates kept planned across insertions (check_cache.c): each
-- insertion evaluates its own, so a whole-row WHEN keeps answering right call after call...
CREATE TABLE insert_seen (unit_id text);
CREATE FUNCTION note_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO insert_seen VALUES (NEW.unit_id); RETURN NULL; END $$;
CREATE TRIGGER whole_row AFTER INSERT ON ml.MLTrainingData FOR EACH ROW
    WHEN (row_to_json(NEW)::text LIKE '%"task":"insert_wr"%') EXECUTE FUNCTION note_insert();
SELECT count(ml.record_decision('insert_wr', 'wr' || g, '{}', '{"action": "a"}')) AS whole_row_calls
  FROM generate_series(1, 5) g;
SELECT count(ml.record_decision('insert_t', 'not_wr' || g, '{}', '{"action": "a"}')) AS other_calls
  FROM generate_series(1, 3) g;
SELECT string_agg(unit_id, ' ' ORDER BY unit_id) AS noted FROM insert_seen;
DROP TRIGGER whole_row ON ml.MLTrainingData;
-- ... the WHEN of a trigger of another event is never planned for an insertion (folding 1/0
-- would raise), nor that of a disabled trigger...
CREATE TRIGGER on_update AFTER UPDATE ON ml.MLTrainingData FOR EACH ROW
    WHEN (NEW.outcome IS NOT NULL AND 1 / 0 = 1) EXECUTE FUNCTION note_insert();
CREATE TRIGGER disabled AFTER INSERT ON ml.MLTrainingData FOR EACH ROW
    WHEN (NEW.unit_id IS NOT NULL AND 1 / 0 = 1) EXECUTE FUNCTION note_insert();
ALTER TABLE ml.MLTrainingData DISABLE TRIGGER disabled;
SELECT ml.record_decision('insert_t', 'beside_update_trigger', '{}', '{"action": "a"}') IS NOT NULL AS inserted;
DROP TRIGGER on_update ON ml.MLTrainingData;
DROP TRIGGER disabled ON ml.MLTrainingData;
-- ... and a WHEN whose domain's check writes the table again evaluates as INSERT evaluates it:
-- the nested insertion has an expression state of its own
TRUNCATE insert_seen;
CREATE FUNCTION insert_nested(u text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    IF u = 'outer1' THEN PERFORM ml.record_decision('insert_t', 'inner1', '{}', '{"action": "a"}'); END IF;
    RETURN true;
END $$;
CREATE DOMAIN insert_checked AS text CHECK (insert_nested(VALUE));
CREATE TRIGGER nested_when AFTER INSERT ON ml.MLTrainingData FOR EACH ROW
    WHEN (NEW.unit_id::insert_checked = 'outer1' OR NEW.unit_id::insert_checked = 'inner1')
    EXECUTE FUNCTION note_insert();
SELECT ml.record_decision('insert_t', 'warm', '{}', '{"action": "a"}') IS NOT NULL AS warm;
SELECT ml.record_decision('insert_t', 'outer1', '{}', '{"action": "a"}') IS NOT NULL AS outer_call;
SELECT string_agg(unit_id, ' ' ORDER BY unit_id) AS noted,
       (SELECT count(*) FROM ml.MLTrainingData WHERE task = 'insert_t' AND unit_id = 'inner1') AS inner_rows
  FROM insert_seen;
DROP TRIGGER nested_when ON ml.MLTrainingData;
DROP DOMAIN insert_checked;
DROP FUNCTION insert_nested(text), note_insert();
DROP TABLE insert_seen;

-- clean up
DELETE FROM ml.MLTrainingData WHERE task IN ('insert_t', 'insert_other', 'insert_unknown');
DELETE FROM ml.experiment_exposures WHERE experiment = 'insert_e';
DELETE FROM ml.experiments WHERE name = 'insert_e';
REVOKE ALL ON ALL TABLES IN SCHEMA ml FROM insert_app;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA ml FROM insert_app;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA ml FROM insert_app;
REVOKE ALL ON SCHEMA ml FROM insert_app;
DROP ROLE insert_app;
DROP TABLE insert_log, insert_tasks;
DROP FUNCTION log_insert(), tag_insert();
