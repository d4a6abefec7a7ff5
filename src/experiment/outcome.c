/*-------------------------------------------------------------------------
 *
 * outcome.c
 *	  ml.record_outcome(experiment, unit_id, metric, value).
 *
 * One row per (experiment, unit, metric) and the latest value wins: an
 * upsert, so a retried call writes the same row again, and under READ
 * COMMITTED two concurrent writers of the same key wait for each other and
 * the later one's value stays (nothing errors, nothing is lost).  The
 * variant is copied from the unit's exposure in the same statement, which
 * is also what refuses outcomes of units that were never exposed.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "common/spi_plan.h"
#include "experiment/args.h"
#include "experiment/config_cache.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(learnloop_record_experiment_outcome);

#define UPSERT_OUTCOME_SQL \
	"INSERT INTO ml.experiment_outcomes (experiment, unit_id, variant, metric, value) " \
	"SELECT e.experiment, e.unit_id, e.variant, $3, $4 FROM ml.experiment_exposures e " \
	"WHERE e.experiment OPERATOR(pg_catalog.=) $1 AND e.unit_id OPERATOR(pg_catalog.=) $2 " \
	"ON CONFLICT (experiment, unit_id, metric) DO UPDATE " \
	"SET value = excluded.value, recorded_at = pg_catalog.now() " \
	"RETURNING variant"

static SPIPlanPtr upsert_plan = NULL;

Datum
learnloop_record_experiment_outcome(PG_FUNCTION_ARGS)
{
	Oid			argtypes[4] = {TEXTOID, TEXTOID, TEXTOID, FLOAT8OID};
	Datum		values[4];
	Datum		variant;
	bool		isnull;
	double		value;

	values[0] = PointerGetDatum(experiment_text_arg(fcinfo, 0, "experiment"));
	values[1] = PointerGetDatum(experiment_text_arg(fcinfo, 1, "unit_id"));
	values[2] = PointerGetDatum(experiment_text_arg(fcinfo, 2, "metric"));
	value = experiment_float_arg(fcinfo, 3, "value", -HUGE_VAL, HUGE_VAL);
	values[3] = Float8GetDatum(value);
	/* outcomes of a stopped experiment still arrive: only the name must exist */
	experiment_lookup(fcinfo->flinfo, DatumGetTextPP(values[0]));

	SPI_connect();
	if (SPI_execute_plan(spi_cached_plan(&upsert_plan, UPSERT_OUTCOME_SQL, 4, argtypes),
						 values, NULL, false, 1) != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "learnloop could not record the outcome");
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("unit \"%s\" was not exposed to experiment \"%s\"",
						TextDatumGetCString(values[1]), TextDatumGetCString(values[0])),
				 errhint("Assign the unit with ml.assign_variant(..., log_exposure => true) before recording its outcomes.")));
	variant = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	variant = SPI_datumTransfer(variant, false, -1);
	SPI_finish();

	PG_RETURN_DATUM(variant);
}
