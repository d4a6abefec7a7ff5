/*-------------------------------------------------------------------------
 *
 * assign.c
 *	  ml.assign_variant(): GrowthBook bucketing with sticky exposures.
 *
 * Without logging the call is a cache lookup and two FNV passes.  With
 * logging, the first assignment of a unit is inserted with ON CONFLICT DO
 * NOTHING, and a unit already exposed gets its logged variant back, so
 * changing weights (by hand or by the bandit) never moves an exposed unit.
 * On a hot standby or in a read-only transaction nothing can be written:
 * the logged variant is still honoured, the hash decides for the others.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "common/spi_plan.h"
#include "experiment/args.h"
#include "experiment/config_cache.h"
#include "experiment/growthbook_hash.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(learnloop_assign_variant);

#define INSERT_EXPOSURE_SQL \
	"INSERT INTO ml.experiment_exposures (experiment, unit_id, variant) " \
	"VALUES ($1, $2, $3) ON CONFLICT (experiment, unit_id) DO NOTHING"

#define SELECT_EXPOSURE_SQL \
	"SELECT variant FROM ml.experiment_exposures " \
	"WHERE experiment OPERATOR(pg_catalog.=) $1 AND unit_id OPERATOR(pg_catalog.=) $2"

static SPIPlanPtr insert_plan = NULL;
static SPIPlanPtr select_plan = NULL;

/*
 * The unit's variant after logging: hashed (NULL outside coverage) for a
 * new unit, the logged one for a unit exposed before.  Under READ COMMITTED
 * the read-back takes a new snapshot, so it sees a concurrent first exposure
 * that made our insert do nothing.
 */
static text *
log_exposure(text *experiment, text *unit_id, text *hashed)
{
	Oid			argtypes[3] = {TEXTOID, TEXTOID, TEXTOID};
	Datum		values[3];
	text	   *variant = NULL;
	bool		can_write = !RecoveryInProgress() && !XactReadOnly;

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
		if (SPI_processed == 1)
			variant = DatumGetTextPP(SPI_datumTransfer(SPI_getbinval(SPI_tuptable->vals[0],
																	 SPI_tuptable->tupdesc,
																	 1, &isnull),
													   false, -1));
		else
			variant = hashed;
	}
	SPI_finish();
	return variant;
}

Datum
learnloop_assign_variant(PG_FUNCTION_ARGS)
{
	text	   *name = experiment_text_arg(fcinfo, 0, "experiment");
	text	   *unit_id = experiment_text_arg(fcinfo, 1, "unit_id");
	bool		logging = experiment_bool_arg(fcinfo, 2, "log_exposure");
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
		variant = log_exposure(name, unit_id, variant);
	if (variant == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(variant);
}
