/*-------------------------------------------------------------------------
 *
 * srf.h
 *	  Materialized set-returning functions on every supported version.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_SRF_H
#define LEARNLOOP_SRF_H

#include <math.h>

#include "fmgr.h"
#include "nodes/execnodes.h"

extern ReturnSetInfo *srf_materialize(FunctionCallInfo fcinfo);

/* A float8 column of a result row: NULL where the value is NaN (not computed). */
static inline Datum
float8_or_null(double x, bool *isnull)
{
	*isnull = isnan(x);
	return Float8GetDatum(x);
}

#endif							/* LEARNLOOP_SRF_H */
