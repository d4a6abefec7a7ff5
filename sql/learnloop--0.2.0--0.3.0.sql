/* learnloop 0.2.0 -> 0.3.0: trust (no crash, no silent failure, no unsafe automatic deployment) */
\echo Use "ALTER EXTENSION learnloop UPDATE TO '0.3.0'" to load this file. \quit

-- badinput (issue 9, section 8): a NULL or empty guardrail metric is refused
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
    IF cardinality(variants) < 2 OR array_position(variants, NULL) IS NOT NULL OR '' = ANY (variants)
       OR (SELECT count(DISTINCT v) FROM unnest(variants) v) <> cardinality(variants) THEN
        RAISE EXCEPTION 'an experiment needs at least two distinct, non-empty variants: %', variants
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'The first variant is the control, e.g. ARRAY[''control'', ''treatment''].';
    END IF;
    -- ml.analyze analyzes every guardrail metric: a NULL or empty one would make it fail for good
    IF array_position(guardrail_metrics, NULL) IS NOT NULL OR '' = ANY (guardrail_metrics) THEN
        RAISE EXCEPTION 'guardrail metrics must be non-empty names: %', guardrail_metrics
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'For example ARRAY[''errors'', ''latency_ms''], or leave guardrail_metrics out.';
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
