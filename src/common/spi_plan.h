/*-------------------------------------------------------------------------
 *
 * spi_plan.h
 *	  Per-backend cache of SPI plans for learnloop's fixed statements.
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
