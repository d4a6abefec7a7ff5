/*-------------------------------------------------------------------------
 *
 * registry.c
 *	  Reading the champion and registering a trained model.
 *
 * The model registry is ml.models and ml.deployments, and "registry"
 * names nothing else in learnloop (the shared-memory list of training
 * jobs is the job table, jobs.c).
 *
 * The model row, its evaluation, the champion's re-scoring, the deployment
 * policy's decision and the deployment are written in one transaction, as
 * the calling role: a failure or a cancel at any point leaves nothing
 * half-registered.
 * Versions of one name are numbered under an advisory lock, so concurrent
 * trainings of the same model get consecutive versions.
 *
 * Rows of ml.models are untrusted when served, and only this file writes
 * them: a trigger (learnloop_registry_guard) refuses other INSERTs and
 * UPDATEs from roles that do not own the table, so that a role granted
 * 'train' cannot register a model by hand.  A model name belongs to the role
 * that trained its first version: other trainers cannot replace it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/xact.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/catcache.h"
#include "utils/json.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "common/json_number.h"
#include "train/policy_gate.h"
#include "train/registry.h"
#include "train/warm.h"

/*
 * Set while registry_save writes the registry's rows, in the training
 * worker; an error there ends the worker (worker.c), so the flag never
 * outlives a failed write.  registry_save_import sets it in a backend,
 * and resets it on every path.
 */
static bool registry_writing = false;

/*
 * Refuses to register a new version of a name whose first version another
 * role trained, unless the current role has that role's privileges (as a
 * member, or by SET ROLE) or is a superuser: the name's versions, and what
 * the deploy policy deploys under it, stay that role's.
 */
static void
check_name_owner(const char *model)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(model)};
	char	   *owner;
	Oid			owner_id;

	if (SPI_execute_with_args("SELECT trained_by::pg_catalog.text FROM ml.models "
							  "WHERE name OPERATOR(pg_catalog.=) $1 ORDER BY version LIMIT 1",
							  1, types, values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "learnloop could not read ml.models");
	if (SPI_processed == 0 || superuser())
		return;
	owner = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	owner_id = get_role_oid(owner, true);
	if (!OidIsValid(owner_id) || !has_privs_of_role(GetUserId(), owner_id))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("model \"%s\" belongs to role \"%s\"", model, owner),
				 errdetail("Its first version was trained by that role; role \"%s\" may not add versions.",
						   GetUserNameFromId(GetUserId(), false)),
				 errhint("Train it as a member of role \"%s\" (SET ROLE), or choose another model name.",
						 owner)));
}

/*
 * Reads the deployed model of the run's name, if any, into cxt: for a
 * cohort's run, the cohort's deployed version, else the global one (which
 * serves the cohort's rows until a model of the cohort is deployed).
 */
void
registry_load_champion(TrainRun *run, MemoryContext cxt)
{
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		values[2] = {CStringGetTextDatum(run->spec->model),
	run->cohort ? CStringGetTextDatum(run->cohort) : (Datum) 0};
	char		nulls[2] = {' ', run->cohort ? ' ' : 'n'};
	bool		isnull;
	bytea	   *model;
	Size		len;

	/* early, so that a training that could not be registered does not run */
	check_name_owner(run->spec->model);

	if (SPI_execute_with_args("SELECT d.model_version, m.feature_schema::pg_catalog.text, m.model "
							  "FROM ml.deployments d JOIN ml.models m "
							  "ON m.name OPERATOR(pg_catalog.=) d.model_name AND m.version OPERATOR(pg_catalog.=) d.model_version "
							  "WHERE d.model_name OPERATOR(pg_catalog.=) $1 "
							  "AND (d.cohort IS NULL OR d.cohort OPERATOR(pg_catalog.=) $2) "
							  "ORDER BY d.cohort IS NULL, d.id DESC LIMIT 1",
							  2, types, values, nulls, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "learnloop could not read the deployed model");
	if (SPI_processed == 0)
		return;
	run->champion.version = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0],
														SPI_tuptable->tupdesc, 1, &isnull));
	run->champion.schema = MemoryContextStrdup(cxt, SPI_getvalue(SPI_tuptable->vals[0],
																 SPI_tuptable->tupdesc, 2));
	model = DatumGetByteaPP(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull));
	len = VARSIZE_ANY_EXHDR(model);
	run->champion.model = MemoryContextAlloc(cxt, VARHDRSZ + len);
	SET_VARSIZE(run->champion.model, VARHDRSZ + len);
	memcpy(VARDATA(run->champion.model), VARDATA_ANY(model), len);
}

static Datum
nullable_float(double value, char *null)
{
	*null = isnan(value) ? 'n' : ' ';
	return Float8GetDatum(value);
}

/* Adds the evaluation's headline numbers to its JSON document. */
static char *
evaluation_json(const TrainRun *run, const Metrics *m, int version, bool rescore)
{
	StringInfoData out;

	initStringInfo(&out);
	appendStringInfo(&out, "%.*s, \"metric\": \"%s\", \"evaluated_on\": \"%s\"",
					 m->json.len - 1, m->json.data, run->metric,
					 run->spec->evaluate_on_real ? "real" : "all");
	if (rescore)
		appendStringInfo(&out, ", \"rescored_for_version\": %d", version);
	else if (run->evaluation_extra)
		appendStringInfo(&out, ", %s", run->evaluation_extra);
	appendStringInfoChar(&out, '}');
	return out.data;
}

static void
insert_evaluation(const TrainRun *run, const char *model, int version,
				  const Metrics *m, double coverage, int new_version)
{
	Oid			types[6] = {TEXTOID, INT4OID, FLOAT8OID, JSONBOID, INT8OID, FLOAT8OID};
	Datum		values[6];
	char		nulls[7] = "      ";
	double		accuracy = NAN;

	metrics_get(m, "accuracy", &accuracy);
	values[0] = CStringGetTextDatum(model);
	values[1] = Int32GetDatum(version);
	values[2] = nullable_float(accuracy, &nulls[2]);
	values[3] = DirectFunctionCall1(jsonb_in,
									CStringGetDatum(evaluation_json(run, m, new_version,
																	version != new_version)));
	values[4] = Int64GetDatum(run->ntest);
	values[5] = nullable_float(coverage, &nulls[5]);
	if (SPI_execute_with_args("INSERT INTO ml.mlevaluationresults "
							  "(model_name, model_version, accuracy, metrics, test_rows, feature_coverage) "
							  "VALUES ($1, $2, $3, $4, $5, $6)",
							  6, types, values, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "learnloop could not record the evaluation");
}

/* The policy's decision about the registered model, deployed or not. */
static void
insert_decision(const TrainRun *run, int version)
{
	static const char *const policies[] = {"auto", "never", "always"};
	const Champion *ch = &run->champion;
	Oid			types[13] = {TEXTOID, INT4OID, TEXTOID, TEXTOID, FLOAT8OID, INT4OID,
	FLOAT8OID, FLOAT8OID, BOOLOID, JSONBOID, BOOLOID, TEXTOID, TEXTOID};
	Datum		values[13];
	char		nulls[14] = "             ";

	values[0] = CStringGetTextDatum(run->spec->model);
	values[1] = Int32GetDatum(version);
	values[2] = CStringGetTextDatum(policies[run->spec->deploy]);
	values[3] = CStringGetTextDatum(run->metric);
	values[4] = nullable_float(run->winner->has_score ? run->winner->score : NAN, &nulls[4]);
	values[5] = Int32GetDatum(ch->version);
	nulls[5] = ch->version > 0 ? ' ' : 'n';
	values[6] = nullable_float(ch->has_score ? ch->score : NAN, &nulls[6]);
	values[7] = nullable_float(ch->version > 0 ? ch->coverage : NAN, &nulls[7]);
	values[8] = BoolGetDatum(run->comparable);
	nulls[8] = ch->version > 0 ? ' ' : 'n';
	if (run->guards_json)
		values[9] = DirectFunctionCall1(jsonb_in, CStringGetDatum(run->guards_json));
	else
		nulls[9] = 'n';
	values[10] = BoolGetDatum(run->deploy);
	values[11] = CStringGetTextDatum(run->deploy_reason);
	values[12] = run->cohort ? CStringGetTextDatum(run->cohort) : (Datum) 0;
	nulls[12] = run->cohort ? ' ' : 'n';
	if (SPI_execute_with_args("INSERT INTO ml.deployment_decisions (model_name, model_version, policy, "
							  "metric, score, champion_version, champion_score, champion_coverage, "
							  "comparable, guards, deployed, reason, cohort) "
							  "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
							  13, types, values, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "learnloop could not record the deployment decision");
}

/*
 * Registers one run's model (the global one or a cohort's) as the next
 * version of its name, with its evaluations, decision and deployment; in
 * registry_save's transaction, under its lock.
 */
static void
save_run(TrainRun *run, int64 job_id)
{
	Oid			types[20] = {TEXTOID, TEXTOID, JSONBOID, JSONBOID, BYTEAOID, INT8OID,
		INT8OID, FLOAT8OID, FLOAT8OID, TEXTOID, INT4OID, JSONBOID, INT8OID, TEXTOID, JSONBOID,
	TEXTOID, TEXTOID, INT4OID, TEXTOID, TEXTOID};
	Datum		values[20];
	char		nulls[21] = "                    ";
	Oid			dtypes[3] = {TEXTOID, INT4OID, TEXTOID};
	Datum		dvalues[3];
	const char *model = run->spec->model;
	char	   *schema;
	bool		isnull;
	int			version;

	values[0] = CStringGetTextDatum(model);
	values[1] = CStringGetTextDatum(task_name(run->ds->task));
	values[2] = DirectFunctionCall1(jsonb_in, CStringGetDatum(run->winner->params));
	schema = schema_json(dataset_schema(run->ds, run->objective), run->spec->target);
	values[3] = DirectFunctionCall1(jsonb_in, CStringGetDatum(schema));
	values[4] = PointerGetDatum(run->model);
	values[5] = Int64GetDatum(run->ntrain + run->nvalid);
	values[6] = Int64GetDatum(run->ntest);
	values[7] = Float8GetDatum(run->train_seconds);
	values[8] = Float8GetDatum(run->load_seconds);
	values[9] = CStringGetTextDatum(run->objective);
	values[10] = Int32GetDatum(run->rounds);
	values[11] = DirectFunctionCall1(jsonb_in, CStringGetDatum(run->importance));
	values[12] = Int64GetDatum(job_id);
	values[13] = CStringGetTextDatum(run->evaluator);
	values[14] = DirectFunctionCall1(jsonb_in, CStringGetDatum(run->reference));
	/* a warm start's lineage and base (warm.c) */
	values[15] = CStringGetTextDatum(warm_lineage(run));
	if (run->warm)
	{
		values[16] = CStringGetTextDatum(run->warm->name);
		values[17] = Int32GetDatum(run->warm->version);
	}
	else
		nulls[16] = nulls[17] = 'n';
	/* a cohort's model (cohort.c) */
	values[18] = run->spec->cohort_column ? CStringGetTextDatum(run->spec->cohort_column) : (Datum) 0;
	nulls[18] = run->spec->cohort_column ? ' ' : 'n';
	values[19] = run->cohort ? CStringGetTextDatum(run->cohort) : (Datum) 0;
	nulls[19] = run->cohort ? ' ' : 'n';
	if (SPI_execute_with_args("INSERT INTO ml.models (name, version, task, params, feature_schema, "
							  "model, train_rows, test_rows, training_seconds, load_seconds, objective, "
							  "rounds, feature_importance, job_id, evaluator, reference, lineage, base_model, base_version, "
							  "cohort_column, cohort) "
							  "SELECT $1, COALESCE(pg_catalog.max(version), 0) OPERATOR(pg_catalog.+) 1, $2, $3, $4, $5, $6, $7, $8, $9, "
							  "$10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20 FROM ml.models WHERE name OPERATOR(pg_catalog.=) $1 "
							  "RETURNING version",
							  20, types, values, nulls, false, 0) != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "learnloop could not register the model");
	version = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	run->winner->version = version;

	if (run->ntest > 0)
		insert_evaluation(run, model, version, &run->metrics, run->coverage, version);
	if (run->champion.scored)
		insert_evaluation(run, model, run->champion.version, &run->champion.metrics,
						  run->champion.coverage, version);
	if (policy_gate_pending(run))
		policy_gate_decide(run, version);
	insert_decision(run, version);

	if (run->deploy)
	{
		dvalues[0] = CStringGetTextDatum(model);
		dvalues[1] = Int32GetDatum(version);
		dvalues[2] = CStringGetTextDatum(run->deploy_reason);
		if (SPI_execute_with_args("INSERT INTO ml.deployments (model_name, model_version, action, reason) "
								  "VALUES ($1, $2, 'deploy', $3)",
								  3, dtypes, dvalues, NULL, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "learnloop could not deploy the model");
	}
}

/*
 * Registers the run's model, and those of its cohorts, in one transaction
 * under the name's lock: the versions of one training are consecutive.
 */
void
registry_save(TrainRun *run, int64 job_id)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(run->spec->model)};
	ListCell   *lc;

	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());

	if (SPI_execute_with_args("SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('learnloop.models'), "
							  "pg_catalog.hashtext($1))", 1, types, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "learnloop could not lock the model name");
	check_name_owner(run->spec->model);

	registry_writing = true;
	save_run(run, job_id);
	foreach(lc, run->cohorts)
		save_run(lfirst(lc), job_id);
	registry_writing = false;

	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
}

/*
 * Registers an imported model as the next version of its name, with
 * lineage 'imported', in the caller's transaction and as the calling role
 * (which needs INSERT on ml.models: the 'train' access), under the same
 * lock and name ownership as a training.  The caller is connected to SPI
 * and has validated the row as serving will read it.  Returns the version.
 */
int
registry_save_import(const ImportRow *row)
{
	Oid			types[8] = {TEXTOID, TEXTOID, JSONBOID, JSONBOID, BYTEAOID, TEXTOID, INT4OID, TEXTOID};
	Datum		values[8];
	bool		isnull;
	int			version = 0;

	values[0] = CStringGetTextDatum(row->name);
	if (SPI_execute_with_args("SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('learnloop.models'), "
							  "pg_catalog.hashtext($1))", 1, types, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "learnloop could not lock the model name");
	check_name_owner(row->name);
	values[1] = CStringGetTextDatum(row->task);
	values[2] = DirectFunctionCall1(jsonb_in, CStringGetDatum(row->params));
	values[3] = DirectFunctionCall1(jsonb_in, CStringGetDatum(row->feature_schema));
	values[4] = PointerGetDatum(row->model);
	values[5] = CStringGetTextDatum(row->objective);
	values[6] = Int32GetDatum(row->rounds);
	values[7] = CStringGetTextDatum(row->evaluator);
	/* in a backend an error does not end the process: the flag is reset on every path */
	registry_writing = true;
	PG_TRY();
	{
		if (SPI_execute_with_args("INSERT INTO ml.models (name, version, task, params, feature_schema, "
								  "model, objective, rounds, evaluator, lineage) "
								  "SELECT $1, COALESCE(pg_catalog.max(version), 0) OPERATOR(pg_catalog.+) 1, "
								  "$2, $3, $4, $5, $6, $7, $8, 'imported' "
								  "FROM ml.models WHERE name OPERATOR(pg_catalog.=) $1 RETURNING version",
								  8, types, values, NULL, false, 0) != SPI_OK_INSERT_RETURNING)
			elog(ERROR, "learnloop could not register the model");
		version = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	}
	PG_FINALLY();
	{
		registry_writing = false;
	}
	PG_END_TRY();
	return version;
}

/* Whether the current role may call a function ml.deploy: it was granted 'deploy'. */
static bool
may_deploy(Oid namespace)
{
	CatCList   *procs = SearchSysCacheList1(PROCNAMEARGSNSP, CStringGetDatum("deploy"));
	bool		may = false;

	for (int i = 0; i < procs->n_members && !may; i++)
	{
		Form_pg_proc proc = (Form_pg_proc) GETSTRUCT(&procs->members[i]->tuple);

		may = proc->pronamespace == namespace &&
			pg_proc_aclcheck(proc->oid, GetUserId(), ACL_EXECUTE) == ACLCHECK_OK;
	}
	ReleaseSysCacheList(procs);
	return may;
}

PG_FUNCTION_INFO_V1(learnloop_registry_guard);

/*
 * BEFORE INSERT OR UPDATE row trigger of ml.models and ml.deployments.  A
 * role's INSERT grant on them exists for ml.train's registry, which runs as
 * that role; a row written any other way is refused, unless the role owns
 * the table (a superuser, or a restore).  ml.deployments also takes the
 * rows of roles that may call ml.deploy, whose own function writes it.
 */
Datum
learnloop_registry_guard(PG_FUNCTION_ARGS)
{
	TriggerData *trigger = (TriggerData *) fcinfo->context;
	Relation	rel;
	bool		deployments;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(trigger->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigger->tg_event))
		elog(ERROR, "ml.registry_guard must be a BEFORE ROW trigger");
	rel = trigger->tg_relation;
	deployments = strcmp(RelationGetRelationName(rel), "deployments") == 0;
	if (!registry_writing && !superuser() &&
		!has_privs_of_role(GetUserId(), rel->rd_rel->relowner) &&
		!(deployments && may_deploy(RelationGetNamespace(rel))))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("role \"%s\" may not write ml.%s directly",
						GetUserNameFromId(GetUserId(), false), RelationGetRelationName(rel)),
				 errdetail(deployments ?
						   "Models are deployed by ml.train's deploy policy and by ml.deploy and ml.rollback." :
						   "Models are registered by ml.train, which validates what it registers."),
				 errhint(deployments ?
						 "Deploy with ml.deploy, granted by ml.grant_access(role, 'deploy')." :
						 "Train the model with ml.train, or import it with ml.import_model.")));
	return PointerGetDatum(TRIGGER_FIRED_BY_UPDATE(trigger->tg_event) ?
						   trigger->tg_newtuple : trigger->tg_trigtuple);
}

static void
append_score(StringInfo out, bool has, double value)
{
	if (has)
		json_append_float8(out, value);
	else
		appendStringInfoString(out, "null");
}

/* One run's candidates as rows of ml.train's result; a cohort's reasons name it. */
static void
append_run_rows(const TrainRun *run, int64 job_id, StringInfo out)
{
	ListCell   *lc;

	foreach(lc, run->candidates)
	{
		CandidateResult *c = lfirst(lc);
		const char *reason = c == run->winner ? run->deploy_reason : "not the best candidate";

		appendStringInfoString(out, out->len > 1 ? ", {\"model\": " : "{\"model\": ");
		escape_json(out, run->spec->model);
		appendStringInfo(out, ", \"version\": %d, \"params\": %s, \"metric\": \"%s\", \"score\": ",
						 c->version, c->params, run->metric);
		append_score(out, c->has_score, c->score);
		appendStringInfoString(out, ", \"champion_score\": ");
		append_score(out, run->champion.has_score, run->champion.score);
		appendStringInfo(out, ", \"deployed\": %s, \"job_id\": " INT64_FORMAT ", \"reason\": ",
						 c->deployed ? "true" : "false", job_id);
		escape_json(out, run->cohort ? psprintf("cohort \"%s\": %s", run->cohort, reason) : reason);
		appendStringInfoChar(out, '}');
	}
}

/* The rows of ml.train's result, for the caller: the global model's, then each cohort's. */
void
registry_result_json(const TrainRun *run, int64 job_id, StringInfo out)
{
	ListCell   *lc;

	initStringInfo(out);
	appendStringInfoChar(out, '[');
	append_run_rows(run, job_id, out);
	foreach(lc, run->cohorts)
		append_run_rows(lfirst(lc), job_id, out);
	appendStringInfoChar(out, ']');
}
