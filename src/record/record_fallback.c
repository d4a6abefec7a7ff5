/*-------------------------------------------------------------------------
 *
 * record_fallback.c
 *	  ml.record_fallback(decision_id, action): the action an application
 *	  took after ml.decide left the decision to it ('unsure').
 *
 * ml.decide called without a fallback records a decision the model could
 * not take with no action, so that applications need not compute the
 * rules' (or a language model's) answer before every call.  The action the
 * application then used is filled in here as a fallback's: propensity 1
 * and the distribution {action: 1}; the model's suggestion, confidence
 * and score stay.  Filling in twice is allowed with the same action (a
 * retry), never with another: the logged action is what the outcome will
 * be credited to.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/args.h"
#include "common/spi_plan.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "record/payload.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/json.h"

PG_FUNCTION_INFO_V1(learnloop_record_fallback);

static SPIPlanPtr fill_plan = NULL;
static SPIPlanPtr lock_plan = NULL;

/* run as the caller: FOR UPDATE asks for UPDATE on a column of the row, as ml.record_outcome's */
#define LOCK_AS_CALLER_SQL \
	"SELECT id FROM ml.mltrainingdata WHERE id OPERATOR(pg_catalog.=) $1 FOR UPDATE"

/*
 * One UPDATE fills the action only into an unsure decision that has none
 * yet, and returns what the row then holds: under READ COMMITTED a
 * concurrent fill of the same row waits and re-evaluates the CASE on the
 * newer version, so of two different actions only the first is kept and
 * the second caller sees it.
 */
#define FILL_FALLBACK_SQL \
	"UPDATE ml.mltrainingdata " \
	"SET decision = CASE WHEN decision OPERATOR(pg_catalog.->>) 'decided_by' OPERATOR(pg_catalog.=) 'unsure' " \
	"                     AND decision OPERATOR(pg_catalog.->>) 'action' IS NULL " \
	"               THEN decision OPERATOR(pg_catalog.||) $2 ELSE decision END " \
	"WHERE id OPERATOR(pg_catalog.=) $1 " \
	"RETURNING decision OPERATOR(pg_catalog.->>) 'decided_by', decision OPERATOR(pg_catalog.->>) 'action', decision"

/*
 * ml.record_fallback runs as the extension's owner, so that applications
 * need no UPDATE on decisions; the row must still be one the caller may
 * see and update, under the caller's privileges and row-level security:
 * it is locked first as the caller, and one the caller cannot see does
 * not exist for them.
 */
static void
caller_may_update(int64 decision_id)
{
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(decision_id)};
	Oid			owner;
	int			context;
	volatile int result = 0;

	GetUserIdAndSecContext(&owner, &context);
	SetUserIdAndSecContext(GetOuterUserId(), context | SECURITY_LOCAL_USERID_CHANGE);
	PG_TRY();
	{
		result = SPI_execute_plan(spi_cached_plan(&lock_plan, LOCK_AS_CALLER_SQL, 1, argtypes),
								  values, NULL, false, 1);
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(owner, context);
	}
	PG_END_TRY();
	if (result != SPI_OK_SELECT)
		elog(ERROR, "learnloop could not lock the decision");
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("decision %lld does not exist", (long long) decision_id),
				 errhint("Pass the id that ml.decide returned; the decision may have been deleted.")));
}

Datum
learnloop_record_fallback(PG_FUNCTION_ARGS)
{
	Oid			argtypes[2] = {INT8OID, JSONBOID};
	Datum		values[2];
	int64		decision_id;
	char	   *action;
	StringInfoData fill;
	bool		isnull;
	char	   *decided_by;
	char	   *filled;
	Datum		decision;

	args_not_null(fcinfo, 0, "decision_id", "Pass the id that ml.decide returned.");
	decision_id = PG_GETARG_INT64(0);
	args_not_null(fcinfo, 1, "action", "Pass the action the application took.");
	action = text_to_cstring(payload_name_arg(fcinfo, 1, "action", false));

	initStringInfo(&fill);
	appendStringInfoString(&fill, "{\"action\": ");
	escape_json(&fill, action);
	appendStringInfoString(&fill, ", \"propensity\": 1, \"distribution\": {");
	escape_json(&fill, action);
	appendStringInfoString(&fill, ": 1}, \"explored\": false}");
	values[0] = Int64GetDatum(decision_id);
	values[1] = DirectFunctionCall1(jsonb_in, CStringGetDatum(fill.data));

	SPI_connect();
	caller_may_update(decision_id);
	if (SPI_execute_plan(spi_cached_plan(&fill_plan, FILL_FALLBACK_SQL, 2, argtypes),
						 values, NULL, false, 1) != SPI_OK_UPDATE_RETURNING)
		elog(ERROR, "learnloop could not record the fallback");
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("decision %lld does not exist", (long long) decision_id),
				 errhint("Pass the id that ml.decide returned; the decision may have been deleted.")));
	decided_by = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	filled = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	if (decided_by == NULL || strcmp(decided_by, "unsure") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("decision %lld is not unsure: it was decided by \"%s\"",
						(long long) decision_id, decided_by ? decided_by : "(nobody)"),
				 errhint("ml.record_fallback fills in the action of a decision ml.decide made without a fallback and left to the application (decided_by 'unsure').")));
	if (filled == NULL || strcmp(filled, action) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("decision %lld already has the fallback action \"%s\", not \"%s\"",
						(long long) decision_id, filled ? filled : "", action),
				 errhint("A decision's action is recorded once; the outcome is credited to it.")));
	decision = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull);
	decision = SPI_datumTransfer(decision, false, -1);
	SPI_finish();

	PG_RETURN_DATUM(decision);
}
