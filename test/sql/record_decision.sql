-- ml.record_decision: happy paths and every bad input
-- (rows counted from the file's start: suites before it may have logged decisions)
SELECT count(*) AS rows_at_start FROM ml.mltrainingdata \gset

SELECT ml.record_decision('response_strategy', 'user-1',
                          '{"hour_of_day": 14, "topic": "science"}',
                          '{"action": "detailed_explanation", "confidence": 0.82, "decided_by": "rules"}') > 0 AS recorded;
SELECT task, unit_id, features, decision, outcome, outcome_at, source, experiment, variant,
       created_at > now() - interval '1 minute' AS recent
  FROM ml.mltrainingdata ORDER BY id DESC LIMIT 1;

-- named parameters, lineage, experiment arm and a backfilled time (every unit is assigned 'ml')
SELECT name FROM ml.create_experiment('ml_vs_rules', ARRAY['rules', 'ml'], weights => '{0, 1}');
SELECT ml.record_decision(task => 'response_strategy', unit_id => 'user-2',
                          features => '{"hour_of_day": 9}', decision => '{"action": "brief_answer"}',
                          source => 'augmented', experiment => 'ml_vs_rules', variant => 'ml',
                          created_at => '2026-03-01 10:00:00+00') > 0 AS recorded;
SELECT unit_id, source, experiment, variant, created_at AT TIME ZONE 'UTC' AS created_utc
  FROM ml.mltrainingdata ORDER BY id DESC LIMIT 1;

-- ids increase
SELECT ml.record_decision('t', 'u', '{}', '{}') < ml.record_decision('t', 'u', '{}', '{}') AS increasing;

SELECT count(*) - :rows_at_start AS rows_before_bad_input FROM ml.mltrainingdata;

-- bad input: each a clear error with SQLSTATE and hint
SELECT error_of($$SELECT ml.record_decision(NULL, 'u', '{}', '{}')$$);
SELECT error_of($$SELECT ml.record_decision('', 'u', '{}', '{}')$$);
SELECT error_of($$SELECT ml.record_decision('t', NULL, '{}', '{}')$$);
SELECT error_of($$SELECT ml.record_decision('t', repeat('u', 300), '{}', '{}')$$);
SELECT error_of($$SELECT ml.record_decision('t', 'u', NULL, '{}')$$);
SELECT error_of($$SELECT ml.record_decision('t', 'u', '[1, 2]', '{}')$$);
SELECT error_of($$SELECT ml.record_decision('t', 'u', '"text"', '{}')$$);
SELECT error_of($$SELECT ml.record_decision('t', 'u', '{}', NULL)$$);
SELECT error_of($$SELECT ml.record_decision('t', 'u', '{}', '42')$$);
SELECT error_of($$SELECT ml.record_decision('t', 'u', '{}', '{"confidence": "high"}')$$);
SELECT error_of($$SELECT ml.record_decision('t', 'u', '{}', '{"confidence": 1.5}')$$);
SELECT error_of($$SELECT ml.record_decision('t', 'u', '{}', '{}', source => 'imagined')$$);
SELECT error_of($$SELECT ml.record_decision('t', 'u', '{}', '{}', source => NULL)$$);
SELECT error_of($$SELECT ml.record_decision('t', 'u', '{}', '{}', variant => 'ml')$$);
SELECT error_of($$SELECT ml.record_decision('t', 'u', '{}', '{}', experiment => '')$$);
SELECT error_of($$SELECT ml.record_decision('t', 'u', 'not json', '{}')$$);
SELECT error_of($$SELECT ml.record_decision('t', 'u', '{}', '{}', 'real', created_at => 'yesterday-ish')$$);

-- oversized payloads are refused before they are read
SET learnloop.max_payload_bytes = '1kB';
SELECT error_of(format($$SELECT ml.record_decision('t', 'u', '{"text": "%s"}', '{}')$$, repeat('x', 2000)));
SELECT error_of(format($$SELECT ml.record_decision('t', 'u', '{}', '{"why": "%s"}')$$, repeat('x', 2000)));
-- a payload that compresses well is measured uncompressed
SELECT error_of($$SELECT ml.record_decision('t', 'u', jsonb_build_object('text', repeat('x', 5000)), '{}')$$);
SELECT ml.record_decision('t', 'u', jsonb_build_object('text', repeat('x', 900)), '{}') > 0 AS under_limit_recorded;
RESET learnloop.max_payload_bytes;
-- the limit is a superuser setting, so applications cannot raise it
SELECT setting, context FROM pg_settings WHERE name = 'learnloop.max_payload_bytes';

-- nothing was half-written: exactly the one valid row more
SELECT count(*) - :rows_at_start AS rows_after_bad_input FROM ml.mltrainingdata;

-- the table refuses invalid rows written without the function
\set VERBOSITY terse
INSERT INTO ml.mltrainingdata (task, unit_id, features, decision, source) VALUES ('t', 'u', '{}', '{}', 'made_up');
INSERT INTO ml.mltrainingdata (task, unit_id, features, decision) VALUES ('t', 'u', '[]', '{}');
