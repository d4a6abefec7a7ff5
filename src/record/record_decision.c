/*-------------------------------------------------------------------------
 *
 * record_decision.c
 *	  ml.record_decision(): one decision into ml.MLTrainingData.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/args.h"
#include "common/json_number.h"
#include "common/spi_plan.h"
#include "fmgr.h"
#include "record/payload.h"
#include "record/record.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(learnloop_record_decision);

static SPIPlanPtr insert_plan = NULL;

#define INSERT_DECISION_SQL \
	"INSERT INTO ml.mltrainingdata " \
	"(task, unit_id, features, decision, source, experiment, variant, created_at) " \
	"VALUES ($1, $2, $3, $4, $5, $6, $7, COALESCE($8, pg_catalog.now())) " \
	"RETURNING id"

/*
 * Inserts one decision: task, unit_id, features, decision, source,
 * experiment, variant, created_at; a zero Datum is NULL.  Callers validate.
 */
int64
record_decision_insert(Datum *values)
{
	Oid			argtypes[8] = {TEXTOID, TEXTOID, JSONBOID, JSONBOID,
	TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID};
	char		nulls[8];
	bool		isnull;
	int64		id;
	int			i;

	for (i = 0; i < 8; i++)
		nulls[i] = (values[i] == (Datum) 0) ? 'n' : ' ';

	SPI_connect();
	if (SPI_execute_plan(spi_cached_plan(&insert_plan, INSERT_DECISION_SQL, 8, argtypes),
						 values, nulls, false, 1) != SPI_OK_INSERT_RETURNING ||
		SPI_processed != 1)
		elog(ERROR, "learnloop could not insert the decision");
	id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
									 SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	return id;
}

/*
 * The decision with the propensity an application that decided outside
 * learnloop logs for it: merged in as "propensity", unless the decision
 * already says so; a decision that says otherwise is a contradiction.
 */
static Jsonb *
with_propensity(Jsonb *decision, double propensity)
{
	JsonbValue	given;
	StringInfoData merged;

	payload_check_propensity(propensity);
	if (getKeyJsonValueFromContainer(&decision->root, "propensity", strlen("propensity"), &given))
	{
		/* payload_check_decision has checked that it is a number */
		if (DatumGetFloat8(DirectFunctionCall1(numeric_float8, NumericGetDatum(given.val.numeric))) != propensity)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the decision's propensity differs from the propensity argument %g", propensity),
					 errhint("Pass the propensity once: in the decision or as the argument.")));
		return decision;
	}
	initStringInfo(&merged);
	appendStringInfoString(&merged, "{\"propensity\": ");
	json_append_float8(&merged, propensity);
	appendStringInfoChar(&merged, '}');
	return DatumGetJsonbP(DirectFunctionCall2(jsonb_concat, JsonbPGetDatum(decision),
											  DirectFunctionCall1(jsonb_in, CStringGetDatum(merged.data))));
}

/*
 * Validates every argument before the insert, so a bad call writes nothing
 * and says what was wrong; the table's CHECK constraints repeat the rules
 * for rows written by plain INSERTs.
 */
Datum
learnloop_record_decision(PG_FUNCTION_ARGS)
{
	Datum		values[8];
	text	   *source;
	Jsonb	   *decision;

	values[0] = PointerGetDatum(payload_name_arg(fcinfo, 0, "task", true));
	values[1] = PointerGetDatum(payload_name_arg(fcinfo, 1, "unit_id", true));
	values[2] = PointerGetDatum(payload_features_arg(fcinfo, 2));
	decision = payload_object_arg(fcinfo, 3, "decision");
	payload_check_decision(decision);
	if (args_given(fcinfo, 8))
		decision = with_propensity(decision, PG_GETARG_FLOAT8(8));
	values[3] = PointerGetDatum(decision);

	source = payload_name_arg(fcinfo, 4, "source", false);
	values[4] = PointerGetDatum(payload_check_source(source));
	values[5] = PointerGetDatum(payload_name_arg(fcinfo, 5, "experiment", false));
	values[6] = PointerGetDatum(payload_name_arg(fcinfo, 6, "variant", false));
	payload_check_arm(values[5], values[1], values[6]);
	/* a decision was made at some time: "infinity" would sort past every period */
	if (!PG_ARGISNULL(7) && TIMESTAMP_NOT_FINITE(PG_GETARG_TIMESTAMPTZ(7)))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("created_at must be finite"),
				 errhint("created_at is when the decision was made; leave it out for now().")));
	values[7] = PG_ARGISNULL(7) ? (Datum) 0 : PG_GETARG_DATUM(7);

	PG_RETURN_INT64(record_decision_insert(values));
}
