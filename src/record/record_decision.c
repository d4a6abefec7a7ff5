/*-------------------------------------------------------------------------
 *
 * record_decision.c
 *	  ml.record_decision(): one decision into ml.MLTrainingData.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "common/args.h"
#include "common/compat.h"
#include "common/json_number.h"
#include "common/row_insert.h"
#include "common/spi_plan.h"
#include "fmgr.h"
#include "record/payload.h"
#include "record/record.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(learnloop_record_decision);

static SPIPlanPtr insert_plan = NULL;

#define INSERT_DECISION_SQL \
	"INSERT INTO ml.mltrainingdata " \
	"(task, unit_id, features, decision, source, experiment, variant, created_at) " \
	"VALUES ($1, $2, $3, $4, $5, $6, $7, COALESCE($8, pg_catalog.now())) " \
	"RETURNING id"

/* ml.MLTrainingData as created, for the direct insertion (augmented_from last) */
static const Oid decision_types[] = {INT8OID, TEXTOID, TEXTOID, TIMESTAMPTZOID, JSONBOID,
JSONBOID, JSONBOID, TIMESTAMPTZOID, TEXTOID, TEXTOID, TEXTOID, INT8OID};
static const AttrNumber decision_key[] = {1};
static const TableShape decisions_shape = {lengthof(decision_types), decision_types,
lengthof(decision_key), decision_key};

/* the columns of the SQL statement's parameters, in their order */
static const AttrNumber decision_columns[] = {2, 3, 5, 6, 9, 10, 11, 4};

/* what the statement needs: INSERT on those columns, SELECT on id (RETURNING) */
static const AttrNumber decision_id_column[] = {1};
static const ColumnPrivilege decision_privileges[] = {
	{ACL_INSERT, lengthof(decision_columns), decision_columns},
	{ACL_SELECT, lengthof(decision_id_column), decision_id_column}
};

/*
 * The sequence behind the id column, looked up in pg_depend once per
 * table: kept while the table's oid is the same and the sequence exists
 * (dropping the identity drops it).
 */
static Oid
decision_id_sequence(Relation rel)
{
	static Oid	rel_of_sequence = InvalidOid;
	static Oid	sequence = InvalidOid;

	if (RelationGetRelid(rel) != rel_of_sequence ||
		!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(sequence)))
	{
		sequence = identity_sequence(rel, 1);
		rel_of_sequence = RelationGetRelid(rel);
	}
	return sequence;
}

/*
 * Inserts the decision without the executor (row_insert.c), when the
 * table is as learnloop created it and the caller holds the statement's
 * privileges, without row-level security; returns false otherwise, having written nothing.  Each
 * statement through SPI would prepare the table's CHECK constraints again
 * from their stored text: the decision's insertion was most of
 * ml.decide's time.
 */
static bool
insert_directly(Datum *values, int64 *id)
{
	Relation	rel = ml_table_open("mltrainingdata", RowExclusiveLock);
	RowInsert	ins;
	TupleDesc	desc = RelationGetDescr(rel);

	/* the statement would give outcome and outcome_at a default the owner added */
	bool		direct = TupleDescAttr(desc, 0)->attidentity == ATTRIBUTE_IDENTITY_ALWAYS &&
		desc->natts == decisions_shape.natts &&
		!TupleDescAttr(desc, 6)->atthasdef && !TupleDescAttr(desc, 7)->atthasdef &&
		row_append_begin(&ins, rel, &decisions_shape, decision_privileges, lengthof(decision_privileges));

	if (direct)
	{
		memset(ins.slot->tts_isnull, true, sizeof(bool) * decisions_shape.natts);
		*id = nextval_internal(decision_id_sequence(rel), false);
		ins.slot->tts_values[0] = Int64GetDatum(*id);
		ins.slot->tts_isnull[0] = false;
		for (int i = 0; i < lengthof(decision_columns); i++)
		{
			ins.slot->tts_values[decision_columns[i] - 1] = values[i];
			ins.slot->tts_isnull[decision_columns[i] - 1] = values[i] == (Datum) 0;
		}
		if (values[7] == (Datum) 0)
		{
			ins.slot->tts_values[3] = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
			ins.slot->tts_isnull[3] = false;
		}
		row_append(&ins);
		row_insert_end(&ins);
	}
	table_close(rel, NoLock);
	return direct;
}

/*
 * Inserts one decision: task, unit_id, features, decision, source,
 * experiment, variant, created_at; a zero Datum is NULL (created_at NULL:
 * now()).  Callers validate.
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

	if (insert_directly(values, &id))
		return id;
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
