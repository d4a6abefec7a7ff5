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

#endif							/* LEARNLOOP_SPI_PLAN_H */
