-- Rows of the registry come from ml.train and ml.deploy: a role granted
-- 'train' cannot register a hand-made model, nor deploy with a plain INSERT,
-- and a model name belongs to the role that trained its first version.
SET client_min_messages = warning;
CREATE ROLE learnloop_reg_alice;
CREATE ROLE learnloop_reg_bob;
CREATE ROLE learnloop_reg_deployer;
SELECT ml.grant_access('learnloop_reg_alice', 'train');
SELECT ml.grant_access('learnloop_reg_bob', 'train');
SELECT ml.grant_access('learnloop_reg_deployer', 'deploy');
CREATE TABLE reg_source AS
    SELECT (i % 7)::float8 AS x, (i % 7) > 3 AS y FROM generate_series(1, 200) i;
GRANT SELECT ON reg_source TO learnloop_reg_alice, learnloop_reg_bob;

-- ml.train registers and deploys as the trainer
SET ROLE learnloop_reg_alice;
SELECT model_name, version, deployed FROM ml.train('reg_a', 'reg_source', 'y', params => '{"num_round": 2}');
-- a hand-made row, even a copy of a real model, is refused; so is a plain deployment
SELECT error_of($$INSERT INTO ml.models (name, version, task, feature_schema, model)
                  SELECT 'reg_forged', 1, task, feature_schema, model FROM ml.models WHERE name = 'reg_a'$$);
SELECT error_of($$INSERT INTO ml.deployments (model_name, model_version, action, reason)
                  VALUES ('reg_a', 1, 'deploy', 'by hand')$$);
SELECT count(*) AS forged_rows FROM ml.models WHERE name = 'reg_forged';
RESET ROLE;

-- another trainer cannot add versions to alice's model (nor deploy them by the policy)
SET ROLE learnloop_reg_bob;
SELECT error_of($$SELECT * FROM ml.train('reg_a', 'reg_source', 'y', params => '{"num_round": 2}')$$);
SELECT model_name, version, deployed FROM ml.train('reg_b', 'reg_source', 'y', params => '{"num_round": 2}');
RESET ROLE;
SELECT name, version, trained_by FROM ml.models WHERE name LIKE 'reg\_%' ORDER BY name, version;

-- a member of alice's role may, as with tables a role owns
GRANT learnloop_reg_alice TO learnloop_reg_bob;
SET ROLE learnloop_reg_bob;
SELECT model_name, version FROM ml.train('reg_a', 'reg_source', 'y', params => '{"num_round": 2}');
RESET ROLE;
REVOKE learnloop_reg_alice FROM learnloop_reg_bob;

-- the deploy role deploys, with ml.deploy or a plain INSERT; it registers nothing
SET ROLE learnloop_reg_deployer;
SELECT ml.deploy('reg_a', 1) > 0 AS deployed;
SELECT error_of($$INSERT INTO ml.deployments (model_name, model_version, action, reason)
                  VALUES ('reg_a', 2, 'deploy', 'by hand')$$);
SELECT error_of($$INSERT INTO ml.models (name, version, task, feature_schema, model)
                  VALUES ('reg_forged', 1, 'regression', '{}', '')$$);
RESET ROLE;
SELECT model_version, reason FROM ml.deployments WHERE model_name = 'reg_a' ORDER BY id;

-- the table's owner (here the superuser) still writes rows directly, as a restore does
INSERT INTO ml.models (name, version, task, feature_schema, model)
    SELECT 'reg_copy', 1, task, feature_schema, model FROM ml.models WHERE name = 'reg_a' AND version = 1;
SELECT count(*) AS copied FROM ml.models WHERE name = 'reg_copy';

DELETE FROM ml.deployments WHERE model_name LIKE 'reg\_%';
DELETE FROM ml.mlevaluationresults WHERE model_name LIKE 'reg\_%';
DELETE FROM ml.models WHERE name LIKE 'reg\_%';
DROP TABLE reg_source;
REVOKE ALL ON ALL TABLES IN SCHEMA ml FROM learnloop_reg_alice, learnloop_reg_bob, learnloop_reg_deployer;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA ml FROM learnloop_reg_alice, learnloop_reg_bob;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA ml FROM learnloop_reg_alice, learnloop_reg_bob, learnloop_reg_deployer;
REVOKE ALL ON SCHEMA ml FROM learnloop_reg_alice, learnloop_reg_bob, learnloop_reg_deployer;
DROP ROLE learnloop_reg_alice;
DROP ROLE learnloop_reg_bob;
DROP ROLE learnloop_reg_deployer;
