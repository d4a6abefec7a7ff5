/*-------------------------------------------------------------------------
 *
 * record_outcome.c
 *	  ml.record_outcome(decision_id, outcome): merges an outcome.
 *
 * ml.record_outcome is one concept in two forms (docs/reference.md): this
 * decision form, and the experiment form of experiment/outcome.c, which
 * stores one metric of an experiment's unit.  They meet in
 * ml.experiment_outcomes: the trigger ml.experiment_outcomes_from_decision
 * copies the numeric and boolean keys merged here into it when the
 * decision names an experiment and the unit's variant.
 *
 * The merge is one SQL UPDATE, so that the executor keeps its semantics
 * (the row locked and re-read under concurrent merges, triggers, HOT), but
 * the executor parses and plans the table's CHECK constraints from their
 * stored text for every statement, which was half of the call: an
 * ExecutorStart hook gives the merge's own statement the constraints
 * check_cache.c keeps planned.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/args.h"
#include "common/check_cache.h"
#include "common/spi_plan.h"
#include "executor/executor.h"
#include "fmgr.h"
#include "record/payload.h"
#include "record/record.h"
#include "utils/plancache.h"

PG_FUNCTION_INFO_V1(learnloop_record_outcome);

static SPIPlanPtr merge_plan = NULL;

static ExecutorStart_hook_type prev_executor_start = NULL;

/*
 * The merge plan's query text: SPI passes this very pointer as the source
 * text of each of its executions, and no other statement has it.
 */
static const char *merge_source = NULL;

/*
 * The merge's statement gets the table's planned CHECK constraints (its
 * one result relation, after the executor opened it); any other statement
 * starts as usual.
 */
static void
merge_executor_start(QueryDesc *queryDesc, int eflags)
{
	if (prev_executor_start)
		prev_executor_start(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);
#if PG_VERSION_NUM >= 140000 && PG_VERSION_NUM < 180000
	if (merge_source != NULL && queryDesc->sourceText == merge_source &&
		queryDesc->operation == CMD_UPDATE &&
		list_length(queryDesc->estate->es_opened_result_relations) == 1)
	{
		ResultRelInfo *rri = linitial(queryDesc->estate->es_opened_result_relations);

		check_cache_fill_constraints(rri->ri_RelationDesc, rri, queryDesc->estate);
	}
#endif
}

/* From _PG_init: a hook only, no work. */
void
record_outcome_install_hook(void)
{
	prev_executor_start = ExecutorStart_hook;
	ExecutorStart_hook = merge_executor_start;
}

/*
 * One UPDATE merges the keys: under READ COMMITTED a concurrent merge into
 * the same row waits and then re-evaluates "outcome || $2" on the newer row
 * version, so neither writer's keys are lost.  outcome_at keeps the first
 * arrival, so retrying the same call changes nothing a reader can see.
 */
#define MERGE_OUTCOME_SQL \
	"UPDATE ml.mltrainingdata " \
	"SET outcome = COALESCE(outcome, '{}'::pg_catalog.jsonb) OPERATOR(pg_catalog.||) $2, " \
	"    outcome_at = COALESCE(outcome_at, pg_catalog.now()) " \
	"WHERE id OPERATOR(pg_catalog.=) $1 RETURNING outcome"

Datum
learnloop_record_outcome(PG_FUNCTION_ARGS)
{
	Oid			argtypes[2] = {INT8OID, JSONBOID};
	Datum		values[2];
	Datum		merged;
	bool		isnull;
	int64		decision_id;
	SPIPlanPtr	plan;

	args_not_null(fcinfo, 0, "decision_id", "Pass the id that ml.record_decision returned.");
	decision_id = PG_GETARG_INT64(0);
	values[0] = Int64GetDatum(decision_id);
	values[1] = PointerGetDatum(payload_object_arg(fcinfo, 1, "outcome"));

	SPI_connect();
	plan = spi_cached_plan(&merge_plan, MERGE_OUTCOME_SQL, 2, argtypes);
	merge_source = ((CachedPlanSource *) linitial(SPI_plan_get_plan_sources(plan)))->query_string;
	if (SPI_execute_plan(plan, values, NULL, false, 1) != SPI_OK_UPDATE_RETURNING)
		elog(ERROR, "learnloop could not merge the outcome");
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("decision %lld does not exist", (long long) decision_id),
				 errhint("Pass the id that ml.record_decision returned; the decision may have been deleted.")));
	merged = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

	/*
	 * The limit is on the outcome stored, not on each call's part of it:
	 * merges of small documents must not grow one row without bound.  The
	 * error undoes the UPDATE.
	 */
	payload_check_size(merged, "the merged outcome");
	merged = SPI_datumTransfer(merged, false, -1);
	SPI_finish();

	PG_RETURN_DATUM(merged);
}
