/* learnloop 0.2.0 -> 0.3.0: trust (no crash, no silent failure, no unsafe automatic deployment) */
\echo Use "ALTER EXTENSION learnloop UPDATE TO '0.3.0'" to load this file. \quit

/* ---- part "defaults" (issue 9, section 4 and argument checks of section 6) ---- */

/*
 * ml.decide gains min_score and a score column; ml.explain a class argument
 * and column.  A signature change needs DROP and CREATE: each new function
 * gets the EXECUTE grants the old one had (ml.grant_access gave them), so
 * that an application's role keeps deciding across the update.
 */
CREATE FUNCTION ml.learnloop_replace_function(old regprocedure, definition text, new_signature text)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    grants aclitem[] := (SELECT proacl FROM pg_proc WHERE oid = old);
    owner oid := (SELECT proowner FROM pg_proc WHERE oid = old);
    g record;
BEGIN
    EXECUTE format('DROP FUNCTION %s', old);
    EXECUTE definition;
    EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', new_signature);
    FOR g IN SELECT DISTINCT a.grantee, a.is_grantable FROM aclexplode(grants) a
              WHERE a.privilege_type = 'EXECUTE' AND a.grantee <> 0 AND a.grantee <> owner LOOP
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %s%s', new_signature, g.grantee::regrole,
                       CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
    END LOOP;
END
$$;

SELECT ml.learnloop_replace_function(
    'ml.decide(text, text, jsonb, text, text, double precision, text, text, text)',
    $def$
CREATE FUNCTION ml.decide(
    task            text,
    unit_id         text,
    features        jsonb,
    fallback        text,
    model           text DEFAULT NULL,
    min_confidence  double precision DEFAULT 0.5,
    action_feature  text DEFAULT 'action',
    experiment      text DEFAULT NULL,
    variant         text DEFAULT NULL,
    min_score       double precision DEFAULT NULL)
RETURNS TABLE (decision_id bigint, action text, confidence double precision, decided_by text,
               score double precision)
AS 'MODULE_PATHNAME', 'learnloop_decide'
LANGUAGE C VOLATILE PARALLEL UNSAFE
$def$,
    'ml.decide(text, text, jsonb, text, text, double precision, text, text, text, double precision)');
COMMENT ON FUNCTION ml.decide(text, text, jsonb, text, text, double precision, text, text, text, double precision) IS
    'Chooses an action with the deployed model (or the fallback when there is none, it is unsure or its score is below min_score), records the decision and returns its id; confidence is a probability, score an outcome model''s predicted outcome';

SELECT ml.learnloop_replace_function(
    'ml.explain(text, jsonb, integer)',
    $def$
CREATE FUNCTION ml.explain(model text, features jsonb, version integer DEFAULT NULL, class text DEFAULT NULL)
RETURNS TABLE (feature text, value double precision, category text, contribution double precision, class text)
AS 'MODULE_PATHNAME', 'learnloop_explain'
LANGUAGE C STABLE PARALLEL SAFE
$def$,
    'ml.explain(text, jsonb, integer, text)');
COMMENT ON FUNCTION ml.explain(text, jsonb, integer, text) IS
    'Per-feature contributions (SHAP values) to one prediction, and the bias; category names the value of a categorical feature, class the class explained (a classifier''s predicted class unless class names one)';

DROP FUNCTION ml.learnloop_replace_function(regprocedure, text, text);

/* Durations say their unit: the analysis's run time is in days. */
ALTER TABLE ml.MLABTestResults RENAME COLUMN duration TO duration_days;
CREATE OR REPLACE FUNCTION ml.analyze(
    experiment  text,
    metric      text DEFAULT NULL,
    alpha       double precision DEFAULT 0.05,
    correction  text DEFAULT 'holm',
    sequential  boolean DEFAULT false,
    missing     text DEFAULT 'zero')
RETURNS SETOF ml.experiment_result
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    -- ANALYZE is a reserved word, so the arguments are $1 .. $6 here
    exp ml.experiments;
    stats jsonb;
    guardrails jsonb;
BEGIN
    SELECT jsonb_agg(to_jsonb(s) - 'ordinality' ORDER BY s.ordinality) INTO stats
      FROM ml.experiment_statistics($1, $2, $3, $4, $5, $6) WITH ORDINALITY s;
    SELECT e.* INTO exp FROM ml.experiments e WHERE e.name = $1;
    SELECT jsonb_object_agg(g.metric, (SELECT jsonb_agg(to_jsonb(s) - 'ordinality' ORDER BY s.ordinality)
                                         FROM ml.experiment_statistics(exp.name, g.metric, $3, $4, $5, $6)
                                              WITH ORDINALITY s))
      INTO guardrails
      FROM unnest(exp.guardrail_metrics) AS g(metric);
    INSERT INTO ml.MLABTestResults (test_name, duration_days, results)
        VALUES (exp.name,
                extract(epoch FROM coalesce(exp.stopped_at, now()) - coalesce(exp.started_at, now())) / 86400,
                jsonb_build_object('metric', coalesce($2, exp.primary_metric),
                                   'alpha', $3, 'correction', $4,
                                   'sequential', $5, 'missing', $6,
                                   'weights', to_jsonb(exp.weights), 'variants', stats,
                                   'guardrails', coalesce(guardrails, '{}')));
    RETURN QUERY SELECT r.* FROM jsonb_populate_recordset(NULL::ml.experiment_result, stats) r;
END
$$;

/* Documented limits enforced: names no other function would take, NULL weights. */
CREATE OR REPLACE FUNCTION ml.create_experiment(
    name               text,
    variants           text[],
    weights            double precision[] DEFAULT NULL,
    coverage           double precision DEFAULT 1,
    hash_seed          text DEFAULT NULL,
    hash_version       integer DEFAULT 2,
    status             text DEFAULT 'running',
    primary_metric     text DEFAULT NULL,
    guardrail_metrics  text[] DEFAULT '{}',
    min_sample_size    integer DEFAULT 0,
    allocation         text DEFAULT 'fixed')
RETURNS ml.experiments
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    created ml.experiments;
BEGIN
    IF name IS NULL OR name = '' OR variants IS NULL THEN
        RAISE EXCEPTION 'experiment name and variants must not be NULL or empty'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'For example ml.create_experiment(''model_vs_rules'', ARRAY[''rules'', ''model'']).';
    END IF;
    -- the limit every function that takes these names enforces: none may be unusable
    IF octet_length(name) > 256 OR octet_length(primary_metric) > 256
       OR EXISTS (SELECT FROM unnest(variants || guardrail_metrics) n WHERE octet_length(n) > 256) THEN
        RAISE EXCEPTION 'experiment, variant and metric names are at most 256 bytes'
            USING ERRCODE = 'string_data_right_truncation',
                  HINT = 'Use short keys: ml.assign_variant and ml.record_outcome refuse longer names.';
    END IF;
    IF cardinality(variants) < 2 OR array_position(variants, NULL) IS NOT NULL OR '' = ANY (variants)
       OR (SELECT count(DISTINCT v) FROM unnest(variants) v) <> cardinality(variants) THEN
        RAISE EXCEPTION 'an experiment needs at least two distinct, non-empty variants: %', variants
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'The first variant is the control, e.g. ARRAY[''control'', ''treatment''].';
    END IF;
    IF coverage IS NULL OR NOT (coverage >= 0 AND coverage <= 1) THEN
        RAISE EXCEPTION 'coverage must be between 0 and 1, not %', coverage
            USING ERRCODE = 'numeric_value_out_of_range',
                  HINT = 'coverage is the fraction of units included in the experiment.';
    END IF;
    IF hash_version IS NULL OR hash_version NOT IN (1, 2) THEN
        RAISE EXCEPTION 'unknown hash_version %', hash_version
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'GrowthBook hash versions are 2 (the default) and 1 (legacy).';
    END IF;
    IF status IS NULL OR status NOT IN ('draft', 'running') THEN
        RAISE EXCEPTION 'a new experiment must be draft or running, not %', status
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Create it as draft and start it later with ml.set_experiment_status.';
    END IF;
    IF allocation IS NULL OR allocation NOT IN ('fixed', 'thompson') THEN
        RAISE EXCEPTION 'unknown allocation %', allocation
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'allocation is fixed or thompson.';
    END IF;
    IF allocation = 'thompson' AND primary_metric IS NULL THEN
        RAISE EXCEPTION 'a thompson experiment needs a primary_metric'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'The bandit allocates traffic on the primary metric.';
    END IF;
    IF min_sample_size IS NULL OR min_sample_size < 0 THEN
        RAISE EXCEPTION 'min_sample_size must be 0 or more, not %', min_sample_size
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'ml.sample_size computes one.';
    END IF;
    IF EXISTS (SELECT 1 FROM ml.experiments e WHERE e.name = create_experiment.name) THEN
        RAISE EXCEPTION 'experiment "%" already exists', name
            USING ERRCODE = 'duplicate_object',
                  HINT = 'Pick another name; ml.update_weights and ml.set_experiment_status change an existing one.';
    END IF;
    INSERT INTO ml.experiments AS e (name, variants, weights, coverage, hash_seed, hash_version, status,
                                     primary_metric, guardrail_metrics, min_sample_size, allocation, started_at)
        VALUES (name, variants, ml.check_weights(variants, weights), coverage, coalesce(hash_seed, name),
                hash_version, status, primary_metric, coalesce(guardrail_metrics, '{}'), min_sample_size,
                allocation, CASE WHEN status = 'running' THEN now() END)
        RETURNING e.* INTO created;
    INSERT INTO ml.experiment_allocations (experiment, weights, source)
        VALUES (created.name, created.weights, 'create');
    RETURN created;
END
$$;
CREATE OR REPLACE FUNCTION ml.update_weights(name text, weights double precision[], source text DEFAULT 'manual')
RETURNS ml.experiments
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    current ml.experiments;
BEGIN
    IF name IS NULL OR weights IS NULL THEN
        RAISE EXCEPTION 'experiment name and weights must not be NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass one weight per variant; ml.check_weights(variants, NULL) gives an equal split.';
    END IF;
    current := ml.lock_experiment(name);
    IF current.status = 'stopped' THEN
        RAISE EXCEPTION 'experiment "%" is stopped', name
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Restart it with ml.set_experiment_status(name, ''running'') first.';
    END IF;
    IF source IS NULL OR source NOT IN ('manual', 'thompson') THEN
        RAISE EXCEPTION 'unknown weights source %', source
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'source is manual or thompson.';
    END IF;
    UPDATE ml.experiments e SET weights = ml.check_weights(current.variants, update_weights.weights)
     WHERE e.name = update_weights.name
    RETURNING e.* INTO current;
    INSERT INTO ml.experiment_allocations (experiment, weights, source)
        VALUES (current.name, current.weights, update_weights.source);
    RETURN current;
END
$$;
