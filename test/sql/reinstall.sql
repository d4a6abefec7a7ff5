-- DROP EXTENSION then CREATE EXTENSION works cleanly
DROP EXTENSION learnloop;
SELECT count(*) AS leftover_objects FROM pg_namespace n JOIN pg_class c ON c.relnamespace = n.oid WHERE n.nspname = 'ml';
SELECT count(*) AS ml_schema_left FROM pg_namespace WHERE nspname = 'ml';
CREATE EXTENSION learnloop;
SELECT count(*) AS rows FROM ml.mltrainingdata;
SELECT ml.record_decision('t', 'u', '{}', '{}') > 0 AS records_again;
SELECT ml.record_outcome((SELECT max(id) FROM ml.mltrainingdata), '{"ok": 1}');
DROP EXTENSION learnloop;
CREATE EXTENSION learnloop;
SELECT count(*) AS rows FROM ml.mltrainingdata;
