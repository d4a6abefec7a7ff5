/*-------------------------------------------------------------------------
 *
 * spi_plan.h
 *	  Per-backend cache of SPI plans for learnloop's fixed statements.
 *
 *	  Every statement learnloop runs through SPI, here or elsewhere, is parsed
 *	  under the caller's search_path, where another role may have put its own
 *	  "=" or now() before pg_catalog: they name every operator, function,
 *	  aggregate and type with its schema (OPERATOR(pg_catalog.=),
 *	  pg_catalog.now(), ::pg_catalog.text, ml.table), so that nothing but
 *	  pg_catalog's and learnloop's own objects can run inside them
 *	  (test/sql/search_path.sql plants such objects and calls every entry point).
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_SPI_PLAN_H
#define LEARNLOOP_SPI_PLAN_H

#include "executor/spi.h"

extern SPIPlanPtr spi_cached_plan(SPIPlanPtr *slot, const char *sql,
								  int nargs, Oid *argtypes);
extern SPIPlanPtr spi_cached_plan_options(SPIPlanPtr *slot, const char *sql,
										  int nargs, Oid *argtypes, int cursor_options);

#endif							/* LEARNLOOP_SPI_PLAN_H */
