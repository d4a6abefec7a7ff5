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
