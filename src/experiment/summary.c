/*-------------------------------------------------------------------------
 *
 * summary.c
 *	  Per-variant sufficient statistics of one metric of an experiment.
 *
 * Units per variant are counted from the exposures' index
 * (exposure_count.c); the metric's values are aggregated by one GROUP BY
 * variant over the outcomes (the outcome rows carry their unit's variant,
 * so no join of units is needed), planned as the same query typed by hand
 * would be, parallel workers included.  Zero-filled units without a value
 * are merged in afterwards with the pairwise update of Chan et al., which
 * stays accurate where sum-of-squares would cancel.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/value.h"
#include "parser/parse_func.h"
#include "common/spi_plan.h"
#include "experiment/exposure_count.h"
#include "experiment/summary.h"
#include "utils/array.h"
#include "utils/builtins.h"

#define SUMMARY_SQL \
	"SELECT variant::pg_catalog.text, ml.outcome_moments(value) FROM ml.experiment_outcomes " \
	"WHERE experiment OPERATOR(pg_catalog.=) $1 AND metric OPERATOR(pg_catalog.=) $2 " \
	"GROUP BY variant"

static SPIPlanPtr summary_plan = NULL;

/*
 * The aggregate came with 0.2.0: a database still at 0.1.0 after the library
 * was upgraded gets told what to run, not "function does not exist".
 */
static void
require_outcome_moments(void)
{
	Oid			argtype = FLOAT8OID;

	if (summary_plan != NULL ||
		OidIsValid(LookupFuncName(list_make2(makeString("ml"), makeString("outcome_moments")),
								  1, &argtype, true)))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("learnloop's SQL objects in this database are older than its library"),
			 errdetail("ml.outcome_moments(double precision), added in 0.2.0, is missing."),
			 errhint("Run ALTER EXTENSION learnloop UPDATE in this database.")));
}

/* Merges (units - with_value) zeros into the values' mean and variance. */
static void
add_zeros(VariantSummary *s)
{
	double		na = s->with_value;
	double		m2 = (na > 1) ? s->variance * (na - 1) : 0.0;

	s->n = s->units;
	if (s->n == 0 || s->n == s->with_value)
		return;
	if (na == 0)
	{
		s->mean = 0.0;
		m2 = 0.0;
	}
	else
	{
		m2 += s->mean * s->mean * na * (s->n - na) / s->n;
		s->mean = s->mean * na / s->n;
	}
	s->variance = (s->n > 1) ? m2 / (s->n - 1) : NAN;
}

bool
experiment_summaries(const ExperimentConfig *exp, const char *metric,
					 bool zero_fill, VariantSummary *out)
{
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	Datum		values[2];
	int64	   *units = palloc0(exp->nvariants * sizeof(int64));
	bool		binary = true;
	uint64		r;
	int			i;

	require_outcome_moments();
	count_exposures(exp, units);
	for (i = 0; i < exp->nvariants; i++)
	{
		out[i].units = units[i];
		out[i].with_value = out[i].n = 0;
		out[i].mean = out[i].variance = NAN;
	}
	values[0] = CStringGetTextDatum(exp->name);
	values[1] = CStringGetTextDatum(metric);
	SPI_connect();
	if (SPI_execute_plan(spi_cached_plan_options(&summary_plan, SUMMARY_SQL, 2, argtypes,
												 CURSOR_OPT_PARALLEL_OK),
						 values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "learnloop could not summarize the experiment");
	for (r = 0; r < SPI_processed; r++)
	{
		HeapTuple	row = SPI_tuptable->vals[r];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		Datum		variant = SPI_getbinval(row, desc, 1, &isnull);
		VariantSummary *s;
		float8	   *m;

		i = isnull ? -1 : experiment_variant_index(exp, DatumGetTextPP(variant));
		if (i < 0)
			continue;			/* a variant the definition no longer has */
		s = &out[i];
		m = (float8 *) ARR_DATA_PTR(DatumGetArrayTypeP(SPI_getbinval(row, desc, 2, &isnull)));
		s->with_value = s->n = (int64) m[0];
		/* values written around ml.record_outcome may lack an exposure */
		s->units = Max(s->units, s->with_value);
		s->mean = m[1] / m[0];
		s->variance = (m[0] > 1) ? m[2] / (m[0] - 1) : NAN;
		binary &= (m[3] == 0);
	}
	SPI_finish();
	if (zero_fill)
		for (i = 0; i < exp->nvariants; i++)
			add_zeros(&out[i]);
	return binary;
}
