-- Privileges: nothing for PUBLIC, and ml.grant_access for each kind of user
CREATE ROLE learnloop_test_app;
CREATE ROLE learnloop_test_analyst;
CREATE ROLE learnloop_test_nobody;
SELECT ml.grant_access('learnloop_test_app', 'record');
SELECT ml.grant_access('learnloop_test_analyst', 'read');
SELECT ml.grant_access('learnloop_test_nobody', 'everything');

-- a role without grants can do nothing
SET ROLE learnloop_test_nobody;
SELECT ml.record_decision('t', 'u', '{}', '{}');
SELECT count(*) FROM ml.mltrainingdata;
RESET ROLE;

-- an application can record decisions and outcomes, and nothing else
SET ROLE learnloop_test_app;
SELECT ml.record_decision('t', 'app-unit', '{"x": 1}', '{"action": "a"}') AS app_id \gset
SELECT ml.record_outcome(:app_id, '{"ok": true}');
SELECT features FROM ml.mltrainingdata WHERE id = :app_id;
UPDATE ml.mltrainingdata SET features = '{}' WHERE id = :app_id;
DELETE FROM ml.mltrainingdata WHERE id = :app_id;
SELECT count(*) FROM ml.models;
RESET ROLE;

-- an analyst reads everything and writes nothing
SET ROLE learnloop_test_analyst;
SELECT unit_id, features, outcome FROM ml.mltrainingdata WHERE id = :app_id;
SELECT ml.record_decision('t', 'u', '{}', '{}');
INSERT INTO ml.MLABTestResults (test_name) VALUES ('x');
RESET ROLE;

-- no SECURITY DEFINER function without a pinned search_path
SELECT p.proname
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'ml' AND p.prosecdef
   AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%');

REVOKE ALL ON ALL TABLES IN SCHEMA ml FROM learnloop_test_app, learnloop_test_analyst, learnloop_test_nobody;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA ml FROM learnloop_test_app, learnloop_test_analyst, learnloop_test_nobody;
REVOKE ALL ON SCHEMA ml FROM learnloop_test_app, learnloop_test_analyst, learnloop_test_nobody;
DROP ROLE learnloop_test_app;
DROP ROLE learnloop_test_analyst;
DROP ROLE learnloop_test_nobody;
