-- pgTAP: the alert functions' security (definer, pinned search_path, no PUBLIC) and who reads secrets
BEGIN;
CREATE EXTENSION learnloop;
SELECT plan(17);

-- the functions users call run as the owner, with their own checks ...
SELECT is_definer('ml', f, f || ' is SECURITY DEFINER')
  FROM unnest(ARRAY['create_channel', 'drop_channel', 'enable_channel', 'test_channel',
                    'create_alert', 'drop_alert', 'evaluate_alerts']) f;
-- ... the internal ones as their caller (only reachable through those)
SELECT isnt_definer('ml', f, f || ' is not SECURITY DEFINER')
  FROM unnest(ARRAY['judge_alert', 'record_alert_event', 'alert_payload']) f;
-- every SECURITY DEFINER function of ml pins its search_path
SELECT is((SELECT count(*)::int FROM pg_proc p
            WHERE p.pronamespace = 'ml'::regnamespace AND p.prosecdef
              AND NOT coalesce(p.proconfig @> ARRAY['search_path=pg_catalog, pg_temp'], false)), 0,
          'every SECURITY DEFINER function sets search_path = pg_catalog, pg_temp');

CREATE ROLE learnloop_tap_reader;
CREATE ROLE learnloop_tap_alerter;
SELECT ml.grant_access('learnloop_tap_reader', 'read');
SELECT ml.grant_access('learnloop_tap_alerter', 'alert');
SELECT column_privs_are('ml', 'channels', 'secret', 'learnloop_tap_reader', '{}'::text[], 'a reader cannot read secrets');
SELECT column_privs_are('ml', 'channels', 'secret', 'learnloop_tap_alerter', '{}'::text[], 'an alerter cannot read secrets');
SELECT column_privs_are('ml', 'channels', 'url', 'learnloop_tap_reader', '{}'::text[], 'a reader cannot read URLs');
SELECT column_privs_are('ml', 'channels', 'url', 'learnloop_tap_alerter', ARRAY['SELECT'], 'an alerter reads URLs');
SELECT ok(has_function_privilege('learnloop_tap_alerter', 'ml.create_channel(text, text, text, text)', 'EXECUTE')
          AND NOT has_function_privilege('learnloop_tap_reader', 'ml.create_channel(text, text, text, text)', 'EXECUTE'),
          'creating channels is the alert access''s, not read''s');
SELECT ok(NOT has_function_privilege('learnloop_tap_alerter', 'ml.channel_secret(text)', 'EXECUTE'),
          'the secret helper is nobody''s but the owner''s');

SELECT * FROM finish();
ROLLBACK;
