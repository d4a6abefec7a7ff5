/*-------------------------------------------------------------------------
 *
 * srf.h
 *	  Materialized set-returning functions on every supported version.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_SRF_H
#define LEARNLOOP_SRF_H

#include "fmgr.h"
#include "nodes/execnodes.h"

extern ReturnSetInfo *srf_materialize(FunctionCallInfo fcinfo);

#endif							/* LEARNLOOP_SRF_H */
