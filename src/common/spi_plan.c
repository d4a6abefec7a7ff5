/*-------------------------------------------------------------------------
 *
 * spi_plan.c
 *	  Per-backend cache of SPI plans for learnloop's fixed statements.
 *
 * The hot-path functions run one fixed statement each; preparing it once
 * per backend keeps parse analysis off the hot path, and the plan cache
 * still replans after DDL on the tables.  Statements name every object
 * schema-qualified (operators too), so the caller's search_path at the
 * first call cannot change what a cached plan means.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/spi_plan.h"

/*
 * Returns the plan kept in *slot, preparing and keeping it on first use,
 * with the given CURSOR_OPT_* planner options (CURSOR_OPT_PARALLEL_OK lets
 * a read-only aggregate use parallel workers).  Must be called between
 * SPI_connect and SPI_finish.
 */
SPIPlanPtr
spi_cached_plan_options(SPIPlanPtr *slot, const char *sql, int nargs, Oid *argtypes,
						int cursor_options)
{
	if (*slot == NULL)
	{
		SPIPlanPtr	plan = SPI_prepare_cursor(sql, nargs, argtypes, cursor_options);

		if (plan == NULL)
			elog(ERROR, "learnloop could not prepare \"%s\": %s",
				 sql, SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "learnloop could not keep the plan of \"%s\"", sql);
		*slot = plan;
	}
	return *slot;
}

/* spi_cached_plan_options without planner options: a serial plan */
SPIPlanPtr
spi_cached_plan(SPIPlanPtr *slot, const char *sql, int nargs, Oid *argtypes)
{
	return spi_cached_plan_options(slot, sql, nargs, argtypes, 0);
}
