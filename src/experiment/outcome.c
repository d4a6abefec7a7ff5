/*-------------------------------------------------------------------------
 *
 * outcome.c
 *	  ml.record_outcome(experiment, unit_id, metric, value).
 *
 * The experiment form of ml.record_outcome; the decision form, which also
 * feeds this table through a trigger when a decision names an experiment,
 * is record/record_outcome.c (one concept, see docs/reference.md).
 *
 * One row per (experiment, unit, metric) and the latest value wins: an
 * upsert, so a retried call writes the same row again, and under READ
 * COMMITTED two concurrent writers of the same key wait for each other and
 * the later one's value stays (nothing errors, nothing is lost).  The
 * variant is copied from the unit's exposure, which is also what refuses
 * outcomes of units that were never exposed.
 *
 * A first value, the common case, is inserted directly (row_insert.c);
 * an existing value is updated by the upsert statement, which also serves
 * every case the direct path declines.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/genam.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "common/row_insert.h"
#include "common/spi_plan.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/fmgroids.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "experiment/args.h"
#include "experiment/config_cache.h"
#include "experiment/tables.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(learnloop_record_experiment_outcome);

#define UPSERT_OUTCOME_SQL \
	"INSERT INTO ml.experiment_outcomes (experiment, unit_id, variant, metric, value) " \
	"SELECT e.experiment, e.unit_id, e.variant, $3, $4 FROM ml.experiment_exposures e " \
	"WHERE e.experiment OPERATOR(pg_catalog.=) $1 AND e.unit_id OPERATOR(pg_catalog.=) $2 " \
	"ON CONFLICT (experiment, unit_id, metric) DO UPDATE " \
	"SET value = excluded.value, recorded_at = pg_catalog.now() " \
	"RETURNING variant::pg_catalog.text"

static SPIPlanPtr upsert_plan = NULL;

static void
not_exposed(Datum experiment, Datum unit_id)
{
	ereport(ERROR,
			(errcode(ERRCODE_NO_DATA_FOUND),
			 errmsg("unit \"%s\" was not exposed to experiment \"%s\"",
					TextDatumGetCString(unit_id), TextDatumGetCString(experiment)),
			 errhint("Assign the unit with ml.assign_variant(..., log_exposure => true) before recording its outcomes.")));
}

/* The upsert through SQL, for what record_directly() leaves to it. */
static Datum
record_sql(Datum *values, bool *isnull)
{
	Oid			argtypes[4] = {TEXTOID, TEXTOID, TEXTOID, FLOAT8OID};
	Datum		variant;

	SPI_connect();
	if (SPI_execute_plan(spi_cached_plan(&upsert_plan, UPSERT_OUTCOME_SQL, 4, argtypes),
						 values, NULL, false, 1) != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "learnloop could not record the outcome");
	if (SPI_processed == 0)
		not_exposed(values[0], values[1]);
	variant = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, isnull);
	if (!*isnull)
		variant = SPI_datumTransfer(variant, false, -1);
	SPI_finish();
	return variant;
}

/*
 * The unit's exposed variant, read through the exposures' primary key with
 * the snapshot a new statement would take (after this statement's own
 * exposures); NULL when the unit was not exposed.
 */
static text *
exposed_variant(Relation exposures, Relation index, Datum experiment, Datum unit_id)
{
	TupleTableSlot *slot = table_slot_create(exposures, NULL);
	ScanKeyData keys[2];
	IndexScanDesc scan;
	Snapshot	snapshot;
	text	   *variant = NULL;
	bool		isnull;

	CommandCounterIncrement();
	snapshot = RegisterSnapshot(GetTransactionSnapshot());
	ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_TEXTEQ, experiment);
	keys[0].sk_collation = index->rd_indcollation[0];
	ScanKeyInit(&keys[1], 2, BTEqualStrategyNumber, F_TEXTEQ, unit_id);
	keys[1].sk_collation = index->rd_indcollation[1];
	scan = index_beginscan(exposures, index, snapshot, 2, 0);
	index_rescan(scan, keys, 2, NULL, 0);
	if (index_getnext_slot(scan, ForwardScanDirection, slot))
		variant = DatumGetTextPCopy(slot_getattr(slot, EXPOSURE_VARIANT_COLUMN, &isnull));
	index_endscan(scan);
	UnregisterSnapshot(snapshot);
	ExecDropSingleTupleTableSlot(slot);
	return variant;
}

/*
 * The new (experiment, unit, metric) row written directly (row_insert.c).
 * Returns false, having written nothing, when the value exists (a retry or
 * an update: the upsert's row locking is the executor's job) or when a
 * table needs the executor.
 */
static bool
record_directly(Relation outcomes, Datum *values, Datum *variant)
{
	Relation	exposures = ml_table_open("experiment_exposures", AccessShareLock);
	Relation	index = ml_index_open_plain(exposures, &exposures_shape,
											RelationGetPrimaryKeyIndex(exposures),
											exposures_shape.nkeys, exposures_shape.keys);
	RowInsert	ins;
	text	   *exposed = NULL;
	bool		inserted;

	if (index != NULL)
	{
		exposed = exposed_variant(exposures, index, values[0], values[1]);
		index_close(index, NoLock);
	}
	table_close(exposures, NoLock);
	if (index == NULL)
		return false;
	if (exposed == NULL)
		not_exposed(values[0], values[1]);
	if (!row_insert_begin(&ins, outcomes, &outcomes_shape, ACL_SELECT | ACL_INSERT | ACL_UPDATE))
		return false;
	ins.slot->tts_values[0] = values[0];
	ins.slot->tts_values[1] = values[1];
	ins.slot->tts_values[2] = PointerGetDatum(exposed);
	ins.slot->tts_values[3] = values[2];
	ins.slot->tts_values[4] = values[3];
	ins.slot->tts_values[5] = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
	memset(ins.slot->tts_isnull, false, OUTCOME_COLUMNS * sizeof(bool));
	inserted = row_insert_unless_conflict(&ins);
	row_insert_end(&ins);
	*variant = PointerGetDatum(exposed);
	return inserted;
}

Datum
learnloop_record_experiment_outcome(PG_FUNCTION_ARGS)
{
	Datum		values[4];
	Datum		variant;
	bool		isnull = false;
	Relation	outcomes = NULL;

	values[0] = PointerGetDatum(experiment_text_arg(fcinfo, 0, "experiment"));
	values[1] = PointerGetDatum(experiment_text_arg(fcinfo, 1, "unit_id"));
	values[2] = PointerGetDatum(experiment_text_arg(fcinfo, 2, "metric"));
	values[3] = Float8GetDatum(experiment_float_arg(fcinfo, 3, "value", -HUGE_VAL, HUGE_VAL));

	/*
	 * Lock the outcomes before reading the definition, as assign_variant
	 * locks the exposures: an experiment deleted meanwhile is then seen gone.
	 * Where nothing can be written the SQL statement raises the usual error.
	 */
	if (!RecoveryInProgress() && !XactReadOnly)
		outcomes = ml_table_open("experiment_outcomes", RowExclusiveLock);
	/* outcomes of a stopped experiment still arrive: only the name must exist */
	experiment_lookup(fcinfo->flinfo, DatumGetTextPP(values[0]));
	if (outcomes == NULL || !record_directly(outcomes, values, &variant))
		variant = record_sql(values, &isnull);
	if (outcomes != NULL)
		table_close(outcomes, NoLock);
	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(variant);
}
