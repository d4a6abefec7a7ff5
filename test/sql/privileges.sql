-- Privileges: nothing for PUBLIC, and ml.grant_access for each kind of user
\set SHOW_CONTEXT never
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

-- an application records decisions and outcomes, nothing else (it serves predictions below,
-- once a model exists)
SET ROLE learnloop_test_app;
SELECT ml.record_decision('t', 'app-unit', '{"x": 1}', '{"action": "a"}') AS app_id \gset
SELECT ml.record_outcome(:app_id, '{"ok": true}');
SELECT features FROM ml.mltrainingdata WHERE id = :app_id;
UPDATE ml.mltrainingdata SET features = '{}' WHERE id = :app_id;
DELETE FROM ml.mltrainingdata WHERE id = :app_id;
SELECT count(*) FROM ml.mlevaluationresults;
SELECT ml.create_experiment('app_made', ARRAY['a', 'b']);
RESET ROLE;

-- an analyst reads everything and writes only stored analyses (ml.analyze)
SET ROLE learnloop_test_analyst;
SELECT unit_id, features, outcome FROM ml.mltrainingdata WHERE id = :app_id;
SELECT ml.record_decision('t', 'u', '{}', '{}');
INSERT INTO ml.models (name, version, task, feature_schema, model) VALUES ('x', 1, 'regression', '{}', '');
SELECT count(*) >= 0 AS analyst_reads_experiments FROM ml.experiments;
RESET ROLE;

-- training runs as the calling role: no SELECT on the source, no training
SET client_min_messages = warning;
CREATE ROLE learnloop_test_trainer;
SELECT ml.grant_access('learnloop_test_trainer', 'train');
CREATE TABLE priv_source AS
    SELECT (i % 7)::float8 AS x, (i % 7) > 3 AS y FROM generate_series(1, 200) i;
SET ROLE learnloop_test_trainer;
SELECT model_name FROM ml.train('priv', 'priv_source', 'y', params => '{"num_round": 2}');
RESET ROLE;
GRANT SELECT ON priv_source TO learnloop_test_trainer;
SET ROLE learnloop_test_trainer;
SELECT model_name, version, deployed FROM ml.train('priv', 'priv_source', 'y', params => '{"num_round": 2}');
SELECT name, trained_by, (SELECT deployed_by FROM ml.deployments WHERE model_name = 'priv') AS deployed_by
  FROM ml.models WHERE name = 'priv';
-- a trainer cannot read the loop's data through a query it could not run itself
SELECT model_name FROM ml.train('priv2', 'SELECT x, y FROM priv_source JOIN pg_authid ON true', 'y');
RESET ROLE;
SELECT count(*) AS priv2_models FROM ml.models WHERE name = 'priv2';
-- the application serves the trained model
SET ROLE learnloop_test_app;
SELECT ml.predict('priv', ARRAY[5]::real[]) > 0.5 AS app_predicts_true;
RESET ROLE;

-- no SECURITY DEFINER function without a pinned search_path
SELECT p.proname
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'ml' AND p.prosecdef
   AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%');

DELETE FROM ml.deployments WHERE model_name = 'priv';
DELETE FROM ml.models WHERE name = 'priv';
DROP TABLE priv_source;
REVOKE ALL ON ALL TABLES IN SCHEMA ml FROM learnloop_test_app, learnloop_test_analyst, learnloop_test_nobody, learnloop_test_trainer;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA ml FROM learnloop_test_trainer;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA ml FROM learnloop_test_app, learnloop_test_analyst, learnloop_test_nobody, learnloop_test_trainer;
REVOKE ALL ON SCHEMA ml FROM learnloop_test_app, learnloop_test_analyst, learnloop_test_nobody, learnloop_test_trainer;
DROP ROLE learnloop_test_trainer;
DROP ROLE learnloop_test_app;
DROP ROLE learnloop_test_analyst;
DROP ROLE learnloop_test_nobody;
