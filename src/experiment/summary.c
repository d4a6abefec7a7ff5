/*-------------------------------------------------------------------------
 *
 * summary.c
 *	  Per-variant sufficient statistics of one metric of an experiment.
 *
 * The database does the heavy part: one aggregate over the exposures and
 * one over the metric's values, each grouped by variant (the outcome rows
 * carry their unit's variant, so no join of units is needed).  Zero-filled
 * units without a value are merged in afterwards with the pairwise update
 * of Chan et al., which stays accurate where sum-of-squares would cancel.
 *
 * Both aggregates are meant to read an index only: the exposures'
 * (experiment, variant) index and the outcomes' (experiment, metric,
 * variant) INCLUDE (value) index, both in variant order, so the groups need
 * no hashing.  That is about three times faster than a sequential scan and
 * a hash aggregate of the wide rows, but the planner prices it the other
 * way round, so the query is planned with enable_seqscan off (only for this
 * query: the setting is restored when it has run).  Index-only scans rely
 * on the visibility map, which (auto)vacuum keeps current.  The plan may
 * use parallel workers, as the same GROUP BY typed by hand may.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "common/spi_plan.h"
#include "experiment/summary.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#define SUMMARY_SQL \
	"SELECT x.variant, x.units, o.n, o.mean, o.variance, o.binary " \
	"FROM (SELECT variant, pg_catalog.count(*) AS units FROM ml.experiment_exposures " \
	"      WHERE experiment OPERATOR(pg_catalog.=) $1 GROUP BY variant) x " \
	"LEFT JOIN (SELECT variant, pg_catalog.count(*) AS n, pg_catalog.avg(value) AS mean, " \
	"                  pg_catalog.var_samp(value) AS variance, " \
	"                  pg_catalog.bool_and(value OPERATOR(pg_catalog.=) 0 " \
	"                                      OR value OPERATOR(pg_catalog.=) 1) AS binary " \
	"           FROM ml.experiment_outcomes " \
	"           WHERE experiment OPERATOR(pg_catalog.=) $1 AND metric OPERATOR(pg_catalog.=) $2 " \
	"           GROUP BY variant) o ON o.variant OPERATOR(pg_catalog.=) x.variant"

static SPIPlanPtr summary_plan = NULL;

static int
variant_index(const ExperimentConfig *exp, text *variant)
{
	int			i;

	for (i = 0; i < exp->nvariants; i++)
		if (VARSIZE_ANY_EXHDR(variant) == VARSIZE_ANY_EXHDR(exp->variants[i]) &&
			memcmp(VARDATA_ANY(variant), VARDATA_ANY(exp->variants[i]),
				   VARSIZE_ANY_EXHDR(variant)) == 0)
			return i;
	return -1;
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
	bool		binary = true;
	uint64		r;
	int			i;
	int			nestlevel;

	for (i = 0; i < exp->nvariants; i++)
	{
		out[i].units = out[i].with_value = out[i].n = 0;
		out[i].mean = out[i].variance = NAN;
	}
	values[0] = CStringGetTextDatum(exp->name);
	values[1] = CStringGetTextDatum(metric);
	SPI_connect();
	nestlevel = NewGUCNestLevel();
	(void) set_config_option("enable_seqscan", "off", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	if (SPI_execute_plan(spi_cached_plan_options(&summary_plan, SUMMARY_SQL, 2, argtypes,
												 CURSOR_OPT_PARALLEL_OK),
						 values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "learnloop could not summarize the experiment");
	AtEOXact_GUC(true, nestlevel);
	for (r = 0; r < SPI_processed; r++)
	{
		HeapTuple	row = SPI_tuptable->vals[r];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		VariantSummary *s;

		i = variant_index(exp, DatumGetTextPP(SPI_getbinval(row, desc, 1, &isnull)));
		if (i < 0)
			continue;			/* a variant the definition no longer has */
		s = &out[i];
		s->units = DatumGetInt64(SPI_getbinval(row, desc, 2, &isnull));
		s->with_value = DatumGetInt64(SPI_getbinval(row, desc, 3, &isnull));
		if (isnull)
			s->with_value = 0;
		s->n = s->with_value;
		if (s->with_value > 0)
		{
			s->mean = DatumGetFloat8(SPI_getbinval(row, desc, 4, &isnull));
			s->variance = DatumGetFloat8(SPI_getbinval(row, desc, 5, &isnull));
			if (isnull)
				s->variance = NAN;
			binary &= DatumGetBool(SPI_getbinval(row, desc, 6, &isnull));
		}
		if (zero_fill)
			add_zeros(s);
	}
	SPI_finish();
	return binary;
}
