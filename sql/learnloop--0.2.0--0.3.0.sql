/* learnloop 0.2.0 -> 0.3.0: trust (no crash, no silent failure, no unsafe automatic deployment) */
\echo Use "ALTER EXTENSION learnloop UPDATE TO '0.3.0'" to load this file. \quit

/* ---------------------------------------------------------------------- */
/* Part "model": rows of the registry come from ml.train and ml.deploy     */
/* ---------------------------------------------------------------------- */

CREATE FUNCTION ml.registry_guard()
RETURNS trigger
AS 'MODULE_PATHNAME', 'learnloop_registry_guard'
LANGUAGE C;
COMMENT ON FUNCTION ml.registry_guard() IS
    'Trigger: refuses rows of ml.models not registered by ml.train, and rows of ml.deployments from roles that may not call ml.deploy, unless the role owns the table';
REVOKE EXECUTE ON FUNCTION ml.registry_guard() FROM PUBLIC;
CREATE TRIGGER models_registry_guard BEFORE INSERT OR UPDATE ON ml.models
    FOR EACH ROW EXECUTE FUNCTION ml.registry_guard();
COMMENT ON TRIGGER models_registry_guard ON ml.models IS
    'Only ml.train registers models (a hand-written model row is refused), unless the role owns the table';
CREATE TRIGGER deployments_registry_guard BEFORE INSERT OR UPDATE ON ml.deployments
    FOR EACH ROW EXECUTE FUNCTION ml.registry_guard();
COMMENT ON TRIGGER deployments_registry_guard ON ml.deployments IS
    'Only ml.train''s deploy policy and roles that may call ml.deploy deploy, unless the role owns the table';
