/*-------------------------------------------------------------------------
 *
 * check_cache.h
 *	  A table's CHECK constraints, prepared once per backend.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_CHECK_CACHE_H
#define LEARNLOOP_CHECK_CACHE_H

#include "nodes/execnodes.h"
#include "utils/rel.h"

extern void check_constraints(Relation rel, TupleTableSlot *slot, ExprContext *econtext);

#endif							/* LEARNLOOP_CHECK_CACHE_H */
