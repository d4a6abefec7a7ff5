/*-------------------------------------------------------------------------
 *
 * registry.c
 *	  Reading the champion and registering a trained model.
 *
 * The model row, its evaluation, the champion's re-scoring, the deployment
 * policy's decision and the deployment are written in one transaction, as
 * the calling role: a failure or a cancel at any point leaves nothing
 * half-registered.
 * Versions of one name are numbered under an advisory lock, so concurrent
 * trainings of the same model get consecutive versions.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/snapmgr.h"

#include "common/json_number.h"
#include "train/registry.h"
#include "train/schema_json.h"

/* Reads the deployed model of the run's name, if any, into cxt. */
void
registry_load_champion(TrainRun *run, MemoryContext cxt)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(run->spec->model)};
	bool		isnull;
	bytea	   *model;
	Size		len;

	if (SPI_execute_with_args("SELECT d.model_version, m.feature_schema::pg_catalog.text, m.model "
							  "FROM ml.deployments d JOIN ml.models m "
							  "ON m.name OPERATOR(pg_catalog.=) d.model_name AND m.version OPERATOR(pg_catalog.=) d.model_version "
							  "WHERE d.model_name OPERATOR(pg_catalog.=) $1 ORDER BY d.id DESC LIMIT 1",
							  1, types, values, NULL, true, 1) != SPI_OK_SELECT)
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
	Oid			types[12] = {TEXTOID, INT4OID, TEXTOID, TEXTOID, FLOAT8OID, INT4OID,
	FLOAT8OID, FLOAT8OID, BOOLOID, JSONBOID, BOOLOID, TEXTOID};
	Datum		values[12];
	char		nulls[13] = "            ";

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
	if (SPI_execute_with_args("INSERT INTO ml.deployment_decisions (model_name, model_version, policy, "
							  "metric, score, champion_version, champion_score, champion_coverage, "
							  "comparable, guards, deployed, reason) "
							  "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
							  12, types, values, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "learnloop could not record the deployment decision");
}

void
registry_save(TrainRun *run, int64 job_id)
{
	Oid			types[14] = {TEXTOID, TEXTOID, JSONBOID, JSONBOID, BYTEAOID, INT8OID,
	INT8OID, FLOAT8OID, FLOAT8OID, TEXTOID, INT4OID, JSONBOID, INT8OID, TEXTOID};
	Datum		values[14];
	Oid			dtypes[3] = {TEXTOID, INT4OID, TEXTOID};
	Datum		dvalues[3];
	const char *model = run->spec->model;
	bool		isnull;
	int			version;

	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());

	values[0] = CStringGetTextDatum(model);
	if (SPI_execute_with_args("SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('learnloop.models'), "
							  "pg_catalog.hashtext($1))", 1, types, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "learnloop could not lock the model name");

	values[1] = CStringGetTextDatum(task_name(run->ds->task));
	values[2] = DirectFunctionCall1(jsonb_in, CStringGetDatum(run->winner->params));
	values[3] = DirectFunctionCall1(jsonb_in, CStringGetDatum(schema_json(run->ds, run->objective,
																		  run->spec->target)));
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
	if (SPI_execute_with_args("INSERT INTO ml.models (name, version, task, params, feature_schema, "
							  "model, train_rows, test_rows, training_seconds, load_seconds, objective, "
							  "rounds, feature_importance, job_id, evaluator) "
							  "SELECT $1, COALESCE(pg_catalog.max(version), 0) OPERATOR(pg_catalog.+) 1, $2, $3, $4, $5, $6, $7, $8, $9, "
							  "$10, $11, $12, $13, $14 FROM ml.models WHERE name OPERATOR(pg_catalog.=) $1 "
							  "RETURNING version",
							  14, types, values, NULL, false, 0) != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "learnloop could not register the model");
	version = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	run->winner->version = version;

	if (run->ntest > 0)
		insert_evaluation(run, model, version, &run->metrics, run->coverage, version);
	if (run->champion.scored)
		insert_evaluation(run, model, run->champion.version, &run->champion.metrics,
						  run->champion.coverage, version);
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

	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
}

static void
append_score(StringInfo out, bool has, double value)
{
	if (has)
		json_append_float8(out, value);
	else
		appendStringInfoString(out, "null");
}

/* The rows of ml.train's result, for the caller. */
void
registry_result_json(const TrainRun *run, int64 job_id, StringInfo out)
{
	ListCell   *lc;

	initStringInfo(out);
	appendStringInfoChar(out, '[');
	foreach(lc, run->candidates)
	{
		CandidateResult *c = lfirst(lc);

		appendStringInfoString(out, foreach_current_index(lc) > 0 ? ", {\"model\": " : "{\"model\": ");
		escape_json(out, run->spec->model);
		appendStringInfo(out, ", \"version\": %d, \"params\": %s, \"metric\": \"%s\", \"score\": ",
						 c->version, c->params, run->metric);
		append_score(out, c->has_score, c->score);
		appendStringInfoString(out, ", \"champion_score\": ");
		append_score(out, run->champion.has_score, run->champion.score);
		appendStringInfo(out, ", \"deployed\": %s, \"job_id\": " INT64_FORMAT ", \"reason\": ",
						 c->deployed ? "true" : "false", job_id);
		escape_json(out, c == run->winner ? run->deploy_reason : "not the best candidate");
		appendStringInfoChar(out, '}');
	}
	appendStringInfoChar(out, ']');
}
