-- Alerts: channels, rules, their lifecycle over hand-written monitoring windows, the outbox
-- bodies of the three channel kinds, the SRM rule, the ml.monitoring view and the privileges.
-- (error_of() comes from the schema suite.)
\set SHOW_CONTEXT never
SET TIME ZONE 'UTC';

-- ---------------------------------------------------------------- channels
-- URLs: http and https only, written out, with a host and without credentials
SELECT u, error_of(format('SELECT ml.create_channel(''c'', %L)', u))
  FROM (VALUES ('file:///etc/passwd'), ('gopher://example.com/'), ('ftp://example.com/'),
               ('example.com/hook'), ('//example.com/hook'), ('https://'), ('http://:80/'),
               ('http://exa mple.com/'), ('http://[zz]/'), (''), (NULL)) v(u);
-- credentials are refused without quoting the URL (it holds a password)
SELECT error_of('SELECT ml.create_channel(''c'', ''https://me:s3cret@example.com/'')');
-- literal addresses webhooks are never sent to are refused now; loopback and private warn
SELECT u, error_of(format('SELECT ml.create_channel(''c'', %L)', u))
  FROM (VALUES ('http://169.254.169.254/latest/meta-data/'), ('http://[::ffff:169.254.169.254]/'),
               ('http://224.0.0.1/'), ('http://[fe80::1]/')) v(u);
SELECT ml.create_channel('local', 'http://127.1:8080/hook');
SELECT ml.create_channel('private', 'http://[::1]:8080/hook');
SELECT ml.create_channel('upper', 'HTTPS://Hooks.Example.com/Path');
SELECT url FROM ml.channels WHERE name = 'upper';
SELECT ml.drop_channel('upper');
SELECT count(*) AS channels_so_far FROM ml.channels;
SELECT ml.drop_channel('local'), ml.drop_channel('private');

-- secrets: the Standard Webhooks form, or generated; never quoted in an error
SELECT s, error_of(format('SELECT ml.create_channel(''c'', ''https://example.com/'', secret => %L)', s))
  FROM (VALUES ('abc'), ('whsec_!!!!'), ('whsec_' || encode('short', 'base64')),
               ('whsec_' || encode(decode(repeat('ab', 65), 'hex'), 'base64'))) v(s);
SELECT ml.create_channel('ops', 'https://hooks.example.com/learnloop', secret => 'generate') AS generated \gset
SELECT :'generated' ~ '^whsec_[A-Za-z0-9+/]{43}=$' AS generated_is_32_bytes,
       secret = :'generated' AS stored FROM ml.channels WHERE name = 'ops';
SELECT ml.create_channel('ops2', 'https://hooks.example.com/2', secret => 'generate') <> :'generated' AS secrets_differ;
SELECT ml.create_channel('given', 'https://hooks.example.com/3', secret => 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')
       AS given_secret_returned;
SELECT ml.create_channel('slack', 'https://hooks.slack.example.com/services/T/B/X', kind => 'Slack');
SELECT ml.create_channel('am', 'https://alertmanager.example.com/api/v2/alerts', kind => 'alertmanager');
SELECT error_of('SELECT ml.create_channel(''ops'', ''https://example.com/'')');
SELECT error_of('SELECT ml.create_channel(''x'', ''https://example.com/'', kind => ''teams'')');
SELECT error_of('SELECT ml.create_channel('''', ''https://example.com/'')');
SELECT error_of('SELECT ml.drop_channel(''nope'')');
SELECT name, url, kind, secret IS NOT NULL AS signed, enabled FROM ml.channels ORDER BY name;

-- --------------------------------------------------------------- rules
-- a model is known by its monitoring rows (or a trained version)
CREATE FUNCTION pg_temp.win(metric text, hour int, value float8, feature text DEFAULT NULL,
                            model text DEFAULT 'm', decided_by text DEFAULT NULL)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO ml.MLMonitoringMetrics (model_name, model_version, period_start, period_end, metric, feature, decided_by, value)
    VALUES (model, 1, timestamptz '2026-01-01 00:00+00' + (hour - 1) * interval '1 hour',
            timestamptz '2026-01-01 00:00+00' + hour * interval '1 hour', metric, feature, decided_by, value)
$$;
SELECT pg_temp.win('decisions', 0, 100);

SELECT error_of(sql) FROM (VALUES
    ('SELECT ml.create_alert(''a'', ''nomodel'', ''accuracy'', ''<'', 0.8)'),
    ('SELECT ml.create_alert(''a'', ''m'', ''acuracy'', ''<'', 0.8)'),
    ('SELECT ml.create_alert(''a'', ''m'', ''accuracy'', ''!'', 0.8)'),
    ('SELECT ml.create_alert(''a'', ''m'', ''accuracy'', ''<'', NULL)'),
    ('SELECT ml.create_alert(''a'', ''m'', ''accuracy'', ''<'', ''NaN'')'),
    ('SELECT ml.create_alert(''a'', ''m'', ''accuracy'', ''<'', 0.8, for_windows => 0)'),
    ('SELECT ml.create_alert(''a'', ''m'', ''accuracy'', ''<'', 0.8, severity => ''page'')'),
    ('SELECT ml.create_alert(''a'', ''m'', ''accuracy'', ''<'', 0.8, channel => ''nochannel'')'),
    ('SELECT ml.create_alert(''a'', ''m'', ''accuracy'', ''<'', 0.8, repeat_interval => ''0'')'),
    ('SELECT ml.create_alert(''a'', ''m'', ''drift_psi'', ''>'', 0.2)'),
    ('SELECT ml.create_alert(''a'', ''m'', ''accuracy'', ''<'', 0.8, feature => ''age'')'),
    ('SELECT ml.create_alert(''a'', ''m'', ''accuracy'', ''<'', 0.8, experiment => ''e'')'),
    ('SELECT ml.create_alert(''a'', ''m'', ''srm_p_value'')'),
    ('SELECT ml.create_alert(''a'', NULL, ''srm_p_value'', experiment => ''noexp'')'),
    ('SELECT ml.create_alert(''a'', NULL, ''accuracy'', ''<'', 0.8)'),
    ('SELECT ml.create_alert('''', ''m'', ''accuracy'', ''<'', 0.8)'),
    ('SELECT ml.drop_alert(''nope'')')) v(sql);
SELECT count(*) AS rules_after_refusals FROM ml.alerts;

-- p95 latency above 200 ms for two windows; accuracy below 0.8 at once; drift of one feature
SELECT ml.create_alert('p95', 'm', 'latency_p95_ms', '>', 200, for_windows => 2, channel => 'ops');
SELECT ml.create_alert('acc', 'm', 'accuracy', '<', 0.8, severity => 'critical', channel => 'am');
SELECT ml.create_alert('age_drift', 'm', 'drift_psi', '>=', 0.2, channel => 'slack', feature => 'age');
SELECT error_of('SELECT ml.create_alert(''p95'', ''m'', ''latency_p95_ms'', ''>'', 1)');
SELECT error_of('SELECT ml.drop_channel(''ops'')');
SELECT name, model, metric, feature, condition, threshold, for_windows, severity, channel, repeat_interval
  FROM ml.alerts ORDER BY name;

-- what an evaluation made: the events and the outbox rows they queued
-- (plpgsql: the outbox is read by a statement of its own, whose snapshot sees the rows queued)
CREATE FUNCTION pg_temp.eval(model text DEFAULT 'm')
RETURNS TABLE (alert text, from_state text, to_state text, repeat boolean, value float8, breaches int, queued text)
LANGUAGE plpgsql AS $$
DECLARE
    evs ml.alert_events[] := ARRAY(SELECT e FROM ml.evaluate_alerts(model) e);
BEGIN
    RETURN QUERY
        SELECT e.alert, e.from_state, e.to_state, e.repeat, e.value, e.breaches,
               (SELECT o.event_type || ' to ' || o.channel FROM ml.webhook_outbox o WHERE o.event_id = e.event_id)
          FROM unnest(evs) e ORDER BY e.alert, e.id;
END
$$;
-- ------------------------------------------------ lifecycle of a for_windows 2 rule
-- window 1 breaches: pending, nothing sent
SELECT pg_temp.win('latency_p95_ms', 1, 250);
SELECT * FROM pg_temp.eval();
-- the same window again (ml.monitor re-run): not judged twice
SELECT * FROM pg_temp.eval();
SELECT state, breaches FROM ml.alert_states WHERE alert = 'p95';
-- window 2 not measured (NULL): neither a breach nor a recovery
SELECT pg_temp.win('latency_p95_ms', 2, NULL);
SELECT * FROM pg_temp.eval();
SELECT state, breaches, value, window_end FROM ml.alert_states WHERE alert = 'p95';
-- window 3 breaches: the second breaching window, firing, queued once
SELECT pg_temp.win('latency_p95_ms', 3, 300);
SELECT * FROM pg_temp.eval();
-- still breaching: deduplicated, nothing new (repeat_interval 4 hours not reached)
SELECT pg_temp.win('latency_p95_ms', 4, 280);
SELECT * FROM pg_temp.eval();
-- breakdown and drift rows of the same metric are not the overall slice: not judged
SELECT pg_temp.win('latency_p95_ms', 5, 10, decided_by => 'model');
SELECT * FROM pg_temp.eval();
-- the repeat interval has passed since the firing notification: sent again, same window
UPDATE ml.alert_states SET last_notified_at = last_notified_at - interval '4 hours' WHERE alert = 'p95';
SELECT * FROM pg_temp.eval();
SELECT * FROM pg_temp.eval();
-- window 5 recovers: resolved, sent
SELECT pg_temp.win('latency_p95_ms', 5, 150);
SELECT * FROM pg_temp.eval();
-- a new episode that ends while pending: pending then inactive, nothing sent
SELECT pg_temp.win('latency_p95_ms', 6, 201);
SELECT * FROM pg_temp.eval();
SELECT pg_temp.win('latency_p95_ms', 7, 200);
SELECT * FROM pg_temp.eval();
-- an older window (a backfill) is not judged
SELECT pg_temp.win('latency_p95_ms', -3, 999);
SELECT * FROM pg_temp.eval();
SELECT alert, from_state, to_state, repeat, value, breaches, window_end, starts_at, ends_at,
       event_id IS NOT NULL AS sent
  FROM ml.alert_events WHERE alert = 'p95' ORDER BY id;

-- ------------------------------------------------ the JSON event's body
SELECT o.event_type, o.channel, o.state,
       (o.body::jsonb ->> 'event_id')::uuid = o.event_id AS body_has_event_id,
       o.body::jsonb - 'event_id' - 'occurred_at' AS body
  FROM ml.webhook_outbox o WHERE o.channel = 'ops' ORDER BY o.id;
-- every JSON event field is documented and present
SELECT array_agg(k ORDER BY k) AS json_event_fields
  FROM jsonb_object_keys((SELECT body::jsonb FROM ml.webhook_outbox WHERE channel = 'ops' ORDER BY id LIMIT 1)) k;
SELECT (body::jsonb ->> 'occurred_at') ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$' AS rfc3339
  FROM ml.webhook_outbox WHERE channel = 'ops' ORDER BY id LIMIT 1;

-- ------------------------------------------------ Alertmanager (webhook version 4)
SELECT pg_temp.win('accuracy', 1, 0.91);
SELECT pg_temp.win('accuracy', 2, 0.62);
SELECT * FROM pg_temp.eval();
SELECT pg_temp.win('accuracy', 3, 0.85);
SELECT * FROM pg_temp.eval();
SELECT o.event_type, jsonb_pretty(o.body::jsonb) FROM ml.webhook_outbox o WHERE o.channel = 'am' ORDER BY o.id;
-- the fingerprint names the label set: the same for firing and resolved
SELECT count(DISTINCT body::jsonb #>> '{alerts,0,fingerprint}') AS fingerprints,
       bool_and(body::jsonb #>> '{alerts,0,fingerprint}' ~ '^[0-9a-f]{16}$') AS hex16
  FROM ml.webhook_outbox WHERE channel = 'am';

-- ------------------------------------------------ Slack, and a disabled channel
SELECT ml.enable_channel('slack', false);
SELECT pg_temp.win('drift_psi', 3, 0.5, feature => 'age');
SELECT pg_temp.win('drift_psi', 3, 0.01, feature => 'income');
SELECT * FROM pg_temp.eval();
SELECT ml.enable_channel('slack');
SELECT pg_temp.win('drift_psi', 4, 0.05, feature => 'age');
SELECT * FROM pg_temp.eval();
SELECT body FROM ml.webhook_outbox WHERE channel = 'slack' ORDER BY id;
SELECT error_of('SELECT ml.enable_channel(''nope'')');

-- ------------------------------------------------ the ml.monitoring view
SELECT pg_temp.win('latency_p95_ms', 8, 500);
SELECT pg_temp.win('decisions', 8, 40, model => 'other');
SELECT * FROM ml.evaluate_alerts('other');
SELECT model, metric, feature, value, period_end, status, alerts FROM ml.monitoring ORDER BY model, metric, feature;
SELECT * FROM pg_temp.eval();
SELECT model, metric, feature, status FROM ml.monitoring WHERE status <> 'no rule' ORDER BY metric, feature;

-- ------------------------------------------------ rollback: no event, no outbox row, no state change
SELECT count(*) AS events, (SELECT count(*) FROM ml.webhook_outbox) AS outbox FROM ml.alert_events \gset
BEGIN;
SELECT pg_temp.win('latency_p95_ms', 9, 900);
SELECT pg_temp.win('accuracy', 9, 0.1);
SELECT alert, to_state, queued FROM pg_temp.eval();
ROLLBACK;
SELECT count(*) = :events AS events_unchanged,
       (SELECT count(*) FROM ml.webhook_outbox) = :outbox AS outbox_unchanged FROM ml.alert_events;
SELECT alert, state, breaches, window_end FROM ml.alert_states ORDER BY alert;

-- ------------------------------------------------ test events
SELECT ml.test_channel('am') AS test_id \gset
SELECT event_type, body::jsonb ->> 'status' AS status, body::jsonb #>> '{commonLabels,alertname}' AS alertname
  FROM ml.webhook_outbox WHERE event_id = :'test_id';
SELECT ml.test_channel('ops') AS test_id \gset
SELECT body::jsonb ->> 'type' AS type, body::jsonb ->> 'alert' AS alert FROM ml.webhook_outbox WHERE event_id = :'test_id';
SELECT ml.enable_channel('ops', false);
SELECT error_of('SELECT ml.test_channel(''ops'')');
SELECT ml.enable_channel('ops');

-- ------------------------------------------------ the built-in SRM rule
-- (earlier suites leave experiments running: the rule watches them too, this suite reads its own)
SELECT (ml.create_experiment('alerts_split', ARRAY['control', 'treatment'], primary_metric => 'converted')).name;
SELECT ml.create_alert('srm', NULL, 'srm_p_value', channel => 'ops', severity => 'critical');
SELECT condition, threshold, experiment FROM ml.alerts WHERE name = 'srm';
-- 1000 against 800 units on a 50/50 split: chi-square 22.2, p = 2.4e-6
INSERT INTO ml.experiment_exposures (experiment, unit_id, variant)
    SELECT 'alerts_split', 'u' || i, CASE WHEN i <= 1000 THEN 'control' ELSE 'treatment' END
      FROM generate_series(1, 1800) i;
SELECT round(ml.experiment_srm('alerts_split')::numeric, 8) AS srm_p,
       round(srm_p_value::numeric, 8) AS statistics_srm_p
  FROM ml.experiment_statistics('alerts_split') LIMIT 1;
SELECT alert, experiment, to_state, value < 0.001 AS p_below, event_id IS NOT NULL AS notified
  FROM ml.evaluate_alerts() WHERE alert = 'srm' AND experiment LIKE 'alerts\_%';
SELECT body::jsonb ->> 'summary' ~ '^FIRING srm \[critical\]: experiment alerts_split srm_p_value = 2\.428\d*e-06 < 0\.001 for 1 window, window ' AS summary_ok,
       body::jsonb ->> 'experiment' AS experiment, body::jsonb ->> 'model' AS model,
       (body::jsonb ->> 'value')::float8 < 0.001 AS value_below
  FROM ml.webhook_outbox WHERE body::jsonb ->> 'alert' = 'srm' AND body::jsonb ->> 'experiment' = 'alerts_split';
-- still mismatched: nothing new; balanced again: resolved
SELECT count(*) AS srm_events FROM ml.evaluate_alerts() WHERE alert = 'srm' AND experiment LIKE 'alerts\_%';
INSERT INTO ml.experiment_exposures (experiment, unit_id, variant)
    SELECT 'alerts_split', 'v' || i, 'treatment' FROM generate_series(1, 200) i;
SELECT alert, experiment, to_state, round(value::numeric, 3) AS p FROM ml.evaluate_alerts() WHERE alert = 'srm' AND experiment LIKE 'alerts\_%';
-- a stopped experiment is out of the rule: its firing alert resolves
INSERT INTO ml.experiment_exposures (experiment, unit_id, variant)
    SELECT 'alerts_split', 'w' || i, 'control' FROM generate_series(1, 300) i;
SELECT alert, experiment, to_state FROM ml.evaluate_alerts() WHERE alert = 'srm' AND experiment LIKE 'alerts\_%';
SELECT (ml.set_experiment_status('alerts_split', 'stopped')).status;
SELECT alert, experiment, to_state, value < 0.001 AS p_still_below FROM ml.evaluate_alerts() WHERE alert = 'srm' AND experiment LIKE 'alerts\_%';
SELECT count(*) AS srm_events_after_stop FROM ml.evaluate_alerts() WHERE alert = 'srm' AND experiment LIKE 'alerts\_%';
-- a deleted experiment too (its p-value is gone: NULL)
SELECT (ml.create_experiment('alerts_split2', ARRAY['a', 'b'])).name;
INSERT INTO ml.experiment_exposures (experiment, unit_id, variant)
    SELECT 'alerts_split2', 'u' || i, CASE WHEN i <= 700 THEN 'a' ELSE 'b' END FROM generate_series(1, 1000) i;
SELECT alert, experiment, to_state FROM ml.evaluate_alerts() WHERE alert = 'srm' AND experiment LIKE 'alerts\_%';
DELETE FROM ml.experiments WHERE name = 'alerts_split2';
SELECT alert, experiment, to_state, value FROM ml.evaluate_alerts() WHERE alert = 'srm' AND experiment LIKE 'alerts\_%';
SELECT count(*) AS srm_events_after_delete FROM ml.evaluate_alerts() WHERE alert = 'srm' AND experiment LIKE 'alerts\_%';
-- a Thompson-sampling experiment has no fixed split: its p-value is NULL, never judged
SELECT (ml.create_experiment('alerts_bandit', ARRAY['a', 'b'], allocation => 'thompson', primary_metric => 'converted')).name;
INSERT INTO ml.experiment_exposures (experiment, unit_id, variant)
    SELECT 'alerts_bandit', 'u' || i, CASE WHEN i <= 900 THEN 'a' ELSE 'b' END FROM generate_series(1, 1000) i;
SELECT ml.experiment_srm('alerts_bandit') AS thompson_srm;
SELECT count(*) AS bandit_events FROM ml.evaluate_alerts() WHERE alert = 'srm' AND experiment LIKE 'alerts\_%';
SELECT subject, state, value < 0.001 AS p_below FROM ml.alert_states
 WHERE alert = 'srm' AND subject LIKE 'alerts\_%' ORDER BY subject;
DELETE FROM ml.experiments WHERE name = 'alerts_bandit';

-- ------------------------------------------------ privileges
CREATE ROLE learnloop_test_alert_reader;
CREATE ROLE learnloop_test_alerter;
CREATE ROLE learnloop_test_alert_nobody;
SELECT ml.grant_access('learnloop_test_alert_reader', 'read');
SELECT ml.grant_access('learnloop_test_alerter', 'alert');
-- a reader sees the rules, states, events, the view and the channels' names, never a URL or secret
SET ROLE learnloop_test_alert_reader;
SELECT count(*) > 0 AS reads_rules FROM ml.alerts;
SELECT count(*) > 0 AS reads_events FROM ml.alert_events;
SELECT count(*) > 0 AS reads_monitoring FROM ml.monitoring;
SELECT name, kind, enabled FROM ml.channels ORDER BY name LIMIT 1;
SELECT error_of('SELECT secret FROM ml.channels');
SELECT error_of('SELECT url FROM ml.channels');
SELECT error_of('SELECT * FROM ml.channels');
SELECT error_of('SELECT ml.create_channel(''r'', ''https://example.com/'')');
SELECT error_of('SELECT ml.create_alert(''r'', ''m'', ''accuracy'', ''<'', 0.5)');
SELECT error_of('SELECT ml.evaluate_alerts()');
SELECT error_of('UPDATE ml.alert_states SET state = ''inactive''');
SELECT error_of('INSERT INTO ml.webhook_outbox (channel, event_type, body) VALUES (''ops'', ''x'', ''{}'')');
RESET ROLE;
-- the 'alert' access creates channels and rules, reads URLs, never secrets
SET ROLE learnloop_test_alerter;
SELECT ml.create_channel('team', 'https://hooks.example.com/team', secret => 'generate') ~ '^whsec_' AS got_its_secret;
SELECT ml.create_alert('team_acc', 'm', 'accuracy', '<', 0.5, channel => 'team');
SELECT name, url, created_by FROM ml.channels WHERE name = 'team';
SELECT created_by FROM ml.alerts WHERE name = 'team_acc';
SELECT error_of('SELECT secret FROM ml.channels');
SELECT error_of('UPDATE ml.channels SET url = ''https://evil.example.com/''');
SELECT error_of('INSERT INTO ml.alerts (name, model, metric, condition, threshold) VALUES (''x'', ''m'', ''accuracy'', ''<'', 1)');
SELECT error_of('SELECT ml.create_channel(''bad'', ''file:///etc/passwd'')');
SELECT count(*) >= 0 AS evaluates FROM ml.evaluate_alerts('m');
SELECT ml.drop_alert('team_acc'), ml.drop_channel('team');
-- internal functions stay the owner's
SELECT error_of('SELECT ml.channel_secret(''generate'')');
SELECT error_of('SELECT ml.judge_alert(a, '''', 1, now(), now()) FROM ml.alerts a');
RESET ROLE;
SET ROLE learnloop_test_alert_nobody;
SELECT error_of('SELECT count(*) FROM ml.alerts');
SELECT error_of('SELECT count(*) FROM ml.monitoring');
SELECT error_of('SELECT ml.create_channel(''n'', ''https://example.com/'')');
RESET ROLE;
DROP OWNED BY learnloop_test_alert_reader, learnloop_test_alerter, learnloop_test_alert_nobody;
DROP ROLE learnloop_test_alert_reader, learnloop_test_alerter, learnloop_test_alert_nobody;

-- dropping a rule keeps its history and removes its state and its line in ml.monitoring's rules
SELECT ml.drop_alert('p95');
SELECT count(*) AS p95_states, (SELECT count(*) FROM ml.alert_events WHERE alert = 'p95') AS p95_events
  FROM ml.alert_states WHERE alert = 'p95';
SELECT status FROM ml.monitoring WHERE model = 'm' AND metric = 'latency_p95_ms';

-- clean up for the suites that follow
SELECT ml.drop_alert(name) FROM ml.alerts ORDER BY name;
SELECT ml.drop_channel(name) FROM ml.channels ORDER BY name;
DELETE FROM ml.alert_events;
DELETE FROM ml.MLMonitoringMetrics WHERE model_name IN ('m', 'other');
DELETE FROM ml.experiments WHERE name = 'alerts_split';
