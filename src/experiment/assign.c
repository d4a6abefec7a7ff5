/*-------------------------------------------------------------------------
 *
 * assign.c
 *	  ml.assign_variant(): GrowthBook bucketing with sticky exposures.
 *
 * Without logging the call is a cache lookup and two FNV passes.  With
 * logging, the first assignment of a unit is inserted as by ON CONFLICT DO
 * NOTHING (directly, see row_insert.c), and a unit already exposed gets its
 * logged variant back, so changing weights (by hand or by the bandit) never
 * moves an exposed unit.
 * On a hot standby or in a read-only transaction nothing can be written:
 * the logged variant is still honoured, the hash decides for the others.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "access/table.h"
#include "common/row_insert.h"
#include "common/spi_plan.h"
#include "experiment/args.h"
#include "experiment/config_cache.h"
#include "experiment/growthbook_hash.h"
#include "experiment/tables.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(learnloop_assign_variant);

#define INSERT_EXPOSURE_SQL \
	"INSERT INTO ml.experiment_exposures (experiment, unit_id, variant) " \
	"VALUES ($1, $2, $3) ON CONFLICT (experiment, unit_id) DO NOTHING"

#define SELECT_EXPOSURE_SQL \
	"SELECT variant::pg_catalog.text FROM ml.experiment_exposures " \
	"WHERE experiment OPERATOR(pg_catalog.=) $1 AND unit_id OPERATOR(pg_catalog.=) $2"

static SPIPlanPtr insert_plan = NULL;
static SPIPlanPtr select_plan = NULL;

/*
 * The unit's logged variant, through SQL: for a unit outside coverage (an
 * exposure from before the coverage shrank is still honoured), where
 * nothing can be written, and for tables row_insert_begin() declines.
 * Under READ COMMITTED the read-back takes a new snapshot, so it sees a
 * concurrent first exposure that made our insert do nothing.
 */
static text *
log_exposure_sql(text *experiment, text *unit_id, text *hashed, bool can_write)
{
	Oid			argtypes[3] = {TEXTOID, TEXTOID, TEXTOID};
	Datum		values[3];
	text	   *variant = NULL;

	values[0] = PointerGetDatum(experiment);
	values[1] = PointerGetDatum(unit_id);
	values[2] = PointerGetDatum(hashed);
	SPI_connect();
	if (hashed != NULL && can_write)
	{
		if (SPI_execute_plan(spi_cached_plan(&insert_plan, INSERT_EXPOSURE_SQL, 3, argtypes),
							 values, NULL, false, 1) != SPI_OK_INSERT)
			elog(ERROR, "learnloop could not log the exposure");
		if (SPI_processed == 1)
			variant = hashed;
	}
	if (variant == NULL)
	{
		bool		isnull;

		if (SPI_execute_plan(spi_cached_plan(&select_plan, SELECT_EXPOSURE_SQL, 2, argtypes),
							 values, NULL, !can_write, 1) != SPI_OK_SELECT)
			elog(ERROR, "learnloop could not read the exposure");
		variant = hashed;
		if (SPI_processed == 1)
		{
			Datum		logged = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
											   1, &isnull);

			if (!isnull)
				variant = DatumGetTextPP(SPI_datumTransfer(logged, false, -1));
		}
	}
	SPI_finish();
	return variant;
}

/*
 * The unit's variant after logging: hashed (NULL outside coverage) for a
 * new unit, the logged one for a unit exposed before.  exposures is the
 * table, locked, when this transaction can write.
 */
static text *
log_exposure(Relation exposures, text *experiment, text *unit_id, text *hashed)
{
	RowInsert	ins;
	text	   *variant;
	bool		isnull;

	if (hashed == NULL || exposures == NULL ||
		!row_insert_begin(&ins, exposures, &exposures_shape, ACL_INSERT | ACL_SELECT))
		return log_exposure_sql(experiment, unit_id, hashed, exposures != NULL);
	ins.slot->tts_values[0] = PointerGetDatum(experiment);
	ins.slot->tts_values[1] = PointerGetDatum(unit_id);
	ins.slot->tts_values[2] = PointerGetDatum(hashed);
	ins.slot->tts_values[3] = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
	memset(ins.slot->tts_isnull, false, EXPOSURE_COLUMNS * sizeof(bool));
	if (row_insert_unless_conflict(&ins))
		variant = hashed;
	else
		variant = DatumGetTextPCopy(slot_getattr(ins.slot, EXPOSURE_VARIANT_COLUMN, &isnull));
	row_insert_end(&ins);
	return variant;
}

/*
 * The variant a unit is assigned, as ml.assign_variant without logging
 * returns it: the logged exposure, else the hash (NULL outside coverage).
 * Unknown experiments raise 42704.
 */
text *
experiment_assigned_variant(text *name, text *unit_id)
{
	ExperimentConfig *exp = experiment_find(name);
	char		unit[LEARNLOOP_MAX_NAME_BYTES + 1];
	text	   *hashed = NULL;
	int			i;

	text_to_cstring_buffer(unit_id, unit, sizeof(unit));
	i = gb_choose_variant(gb_hash(exp->hash_seed, unit, exp->hash_version),
						  exp->nvariants, exp->starts, exp->ends);
	if (i >= 0)
		hashed = DatumGetTextPCopy(PointerGetDatum(exp->variants[i]));
	return log_exposure_sql(name, unit_id, hashed, false);
}

Datum
learnloop_assign_variant(PG_FUNCTION_ARGS)
{
	text	   *name = experiment_text_arg(fcinfo, 0, "experiment");
	text	   *unit_id = experiment_text_arg(fcinfo, 1, "unit_id");
	bool		logging = experiment_bool_arg(fcinfo, 2, "log_exposure");
	bool		can_write = logging && !RecoveryInProgress() && !XactReadOnly;

	/*
	 * Lock the exposures before reading the definition: deleting an
	 * experiment locks them out first (see ml.experiments' delete trigger),
	 * so a definition read after our lock cannot be deleted under us.
	 */
	Relation	exposures = can_write ?
		ml_table_open("experiment_exposures", RowExclusiveLock) : NULL;
	ExperimentConfig *exp = experiment_lookup(fcinfo->flinfo, name);
	char		unit[LEARNLOOP_MAX_NAME_BYTES + 1];
	text	   *variant = NULL;
	int			i;

	experiment_require_running(exp);
	text_to_cstring_buffer(unit_id, unit, sizeof(unit));
	i = gb_choose_variant(gb_hash(exp->hash_seed, unit, exp->hash_version),
						  exp->nvariants, exp->starts, exp->ends);
	/* copy: the cache entry may be released by the next lookup */
	if (i >= 0)
		variant = DatumGetTextPCopy(PointerGetDatum(exp->variants[i]));
	if (logging)
		variant = log_exposure(exposures, name, unit_id, variant);
	if (exposures != NULL)
		table_close(exposures, NoLock);
	if (variant == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(variant);
}
