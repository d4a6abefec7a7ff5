-- Webhook delivery (issue 11): the settings and who may set them, and the outbox's wake-up
-- trigger (the delivery itself is tested against a receiver in test/shell/restarts/webhook*.sh)
SET client_min_messages = warning;
-- the database list and the role are read at server start; the rest at a reload, so only
-- postgresql.conf or ALTER SYSTEM (a superuser) sets them
SELECT name, setting, unit, context FROM pg_settings WHERE name LIKE 'learnloop.webhook%' ORDER BY name;
SELECT error_of($$SET learnloop.webhook_allow_private = on$$);
SELECT error_of($$SET learnloop.webhook_databases = 'a'$$);
CREATE ROLE webhook_settings_app;
GRANT USAGE ON SCHEMA ml TO webhook_settings_app;
SET ROLE webhook_settings_app;
\set VERBOSITY sqlstate
ALTER SYSTEM SET learnloop.webhook_allow_private = on;
\set VERBOSITY default
-- the trigger function: not executable by others, and only a trigger
SELECT error_of($$SELECT ml.webhook_outbox_wake()$$);
RESET ROLE;
REVOKE USAGE ON SCHEMA ml FROM webhook_settings_app;
DROP ROLE webhook_settings_app;
SELECT error_of($$SELECT ml.webhook_outbox_wake()$$);
-- tgtype 4: AFTER INSERT FOR EACH STATEMENT
SELECT tgname, tgtype, tgenabled FROM pg_trigger WHERE tgrelid = 'ml.webhook_outbox'::regclass AND NOT tgisinternal;
-- a rolled back insert leaves nothing to send
INSERT INTO ml.channels (name, url) VALUES ('ws_channel', 'https://hooks.example.com/x');
BEGIN;
INSERT INTO ml.webhook_outbox (channel, event_type, body) VALUES ('ws_channel', 'test.event', '{}');
ROLLBACK;
SELECT count(*) AS after_rollback FROM ml.webhook_outbox WHERE channel = 'ws_channel';
-- a database list that cannot be read is refused (the check hook), also in postgresql.conf
ALTER SYSTEM SET learnloop.webhook_databases = 'a,,b';
DELETE FROM ml.channels WHERE name = 'ws_channel';
