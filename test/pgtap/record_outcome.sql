-- pgTAP: the merge behaviour of record_outcome
BEGIN;
CREATE EXTENSION learnloop;
SELECT plan(9);

SELECT ml.record_decision('response_strategy', 'u-1', '{"hour_of_day": 9}', '{"action": "brief_answer"}') AS id \gset

SELECT is(outcome, NULL, 'a new decision has no outcome') FROM ml.mltrainingdata WHERE id = :id;
SELECT is(ml.record_outcome(:id, '{"engaged": true}'), '{"engaged": true}'::jsonb, 'first outcome stored');
SELECT is(ml.record_outcome(:id, '{"minutes": 4}'), '{"engaged": true, "minutes": 4}'::jsonb, 'second key merged');
SELECT is(ml.record_outcome(:id, '{"engaged": false}'), '{"engaged": false, "minutes": 4}'::jsonb, 'same key: latest wins');
SELECT is(ml.record_outcome(:id, '{"engaged": false}'), '{"engaged": false, "minutes": 4}'::jsonb, 'retry is idempotent');
SELECT is(outcome, '{"engaged": false, "minutes": 4}'::jsonb, 'stored document matches the returned one')
  FROM ml.mltrainingdata WHERE id = :id;
SELECT throws_ok(format($$SELECT ml.record_outcome(%s, '[]')$$, :id), '22023', NULL, 'non-object outcome refused');
SELECT throws_ok($$SELECT ml.record_outcome(9223372036854775807, '{}')$$, 'P0002', NULL, 'unknown decision refused');
SELECT is(decision, '{"action": "brief_answer"}'::jsonb, 'decision untouched by outcomes')
  FROM ml.mltrainingdata WHERE id = :id;

SELECT * FROM finish();
ROLLBACK;
