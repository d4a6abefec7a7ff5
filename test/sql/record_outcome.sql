-- ml.record_outcome: merge semantics, retries and bad input

-- a search_path set before the first call with look-alike objects cannot change what the cached plans do
CREATE SCHEMA evil;
CREATE FUNCTION evil.now() RETURNS timestamptz LANGUAGE sql AS $$ SELECT '2000-01-01'::timestamptz $$;
SET search_path = evil, pg_catalog, public;
SELECT ml.record_decision('t', 'u', '{}', '{}') AS evil_id \gset
SELECT created_at > '2001-01-01' AS real_now FROM ml.mltrainingdata WHERE id = :evil_id;
RESET search_path;
DROP SCHEMA evil CASCADE;

SELECT ml.record_decision('response_strategy', 'learner-7', '{"hour_of_day": 20}',
                          '{"action": "brief_answer"}') AS id \gset

-- the first outcome creates the document and stamps outcome_at
SELECT ml.record_outcome(:id, '{"nextAccuracy": 0.85, "sessionCompleted": true}');
SELECT outcome_at IS NOT NULL AS stamped FROM ml.mltrainingdata WHERE id = :id;
SELECT outcome_at AS first_outcome_at FROM ml.mltrainingdata WHERE id = :id \gset

-- later keys merge in; the same key keeps the latest value
SELECT ml.record_outcome(:id, '{"nextEngagement": 0.75}');
SELECT ml.record_outcome(:id, '{"nextAccuracy": 0.9}');

-- a retry of the same call changes nothing
SELECT ml.record_outcome(:id, '{"nextAccuracy": 0.9}');
SELECT outcome, outcome_at = :'first_outcome_at' AS outcome_at_kept
  FROM ml.mltrainingdata WHERE id = :id;

-- nested values are replaced whole, as jsonb || does
SELECT ml.record_outcome(:id, '{"detail": {"a": 1}}');
SELECT ml.record_outcome(:id, '{"detail": {"b": 2}}');
-- an empty object is a no-op
SELECT ml.record_outcome(:id, '{}');

-- features and decision are untouched
SELECT features, decision FROM ml.mltrainingdata WHERE id = :id;

-- bad input
SELECT error_of($$SELECT ml.record_outcome(-1, '{"x": 1}')$$);
SELECT error_of($$SELECT ml.record_outcome(NULL, '{"x": 1}')$$);
SELECT error_of(format($$SELECT ml.record_outcome(%s, NULL)$$, :id));
SELECT error_of(format($$SELECT ml.record_outcome(%s, '[1]')$$, :id));
SELECT error_of(format($$SELECT ml.record_outcome(%s, 'true')$$, :id));
SET learnloop.max_payload_bytes = '1kB';
SELECT error_of(format($$SELECT ml.record_outcome(%s, jsonb_build_object('log', repeat('y', 3000)))$$, :id));
RESET learnloop.max_payload_bytes;
SELECT outcome FROM ml.mltrainingdata WHERE id = :id;

-- a failed statement in a transaction leaves no partial merge behind
BEGIN;
SELECT ml.record_outcome(:id, '{"in_tx": 1}');
SELECT ml.record_outcome(:id, '[]');
ROLLBACK;
SELECT outcome ? 'in_tx' AS partial_merge FROM ml.mltrainingdata WHERE id = :id;


-- the merge's statement checks the table's CHECK constraints as any UPDATE does (it is given them
-- planned): one added later is enforced at once, and is gone with its transaction
BEGIN;
ALTER TABLE ml.MLTrainingData ADD CONSTRAINT no_forbidden_outcome CHECK (NOT outcome ? 'forbidden');
SELECT error_of(format($$SELECT ml.record_outcome(%s, '{"forbidden": 1}')$$, :id));
SELECT ml.record_outcome(:id, '{"allowed": 1}') ? 'allowed' AS allowed_merged;
ROLLBACK;
SELECT ml.record_outcome(:id, '{"forbidden": 1}') ? 'forbidden' AS merged_after_rollback;
-- an UPDATE of the table by other SQL still checks them too
SELECT error_of(format($$UPDATE ml.MLTrainingData SET decision = '[]' WHERE id = %s$$, :id));
-- the constraints given are the table's own at each call: one swapped for another (their count
-- the same) is enforced instead at once; and one that calls a user's function, replaced in
-- between, is evaluated as it now reads
BEGIN;
ALTER TABLE ml.MLTrainingData ADD CONSTRAINT no_a CHECK (NOT outcome ? 'a_key');
SELECT ml.record_outcome(:id, '{"warm": 1}') ? 'warm' AS warmed;
SELECT error_of(format($$SELECT ml.record_outcome(%s, '{"a_key": 1}')$$, :id));
ALTER TABLE ml.MLTrainingData DROP CONSTRAINT no_a, ADD CONSTRAINT no_b CHECK (NOT outcome ? 'b_key');
SELECT error_of(format($$SELECT ml.record_outcome(%s, '{"b_key": 1}')$$, :id));
SELECT ml.record_outcome(:id, '{"a_key": 1}') ? 'a_key' AS a_allowed_now;
CREATE FUNCTION public.outcome_allowed(o jsonb) RETURNS boolean LANGUAGE sql IMMUTABLE
    AS $$ SELECT NOT o ? 'c_key' $$;
ALTER TABLE ml.MLTrainingData ADD CONSTRAINT allowed_by_function CHECK (public.outcome_allowed(outcome));
SELECT error_of(format($$SELECT ml.record_outcome(%s, '{"c_key": 1}')$$, :id));
CREATE OR REPLACE FUNCTION public.outcome_allowed(o jsonb) RETURNS boolean LANGUAGE sql IMMUTABLE
    AS $$ SELECT NOT o ? 'd_key' $$;
SELECT error_of(format($$SELECT ml.record_outcome(%s, '{"d_key": 1}')$$, :id));
SELECT ml.record_outcome(:id, '{"c_key": 1}') ? 'c_key' AS c_allowed_now;
ROLLBACK;
