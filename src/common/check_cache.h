/*-------------------------------------------------------------------------
 *
 * check_cache.h
 *	  A table's CHECK constraints, prepared once per backend, and the WHEN
 *	  clauses of its triggers and the predicates of its partial indexes.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_CHECK_CACHE_H
#define LEARNLOOP_CHECK_CACHE_H

#include "nodes/execnodes.h"
#include "utils/rel.h"

extern void check_constraints(Relation rel, TupleTableSlot *slot, ExprContext *econtext);
extern void check_cache_fill_quals(Relation rel, ResultRelInfo *rri, EState *estate);
extern void check_cache_fill_constraints(Relation rel, ResultRelInfo *rri, EState *estate);

#endif							/* LEARNLOOP_CHECK_CACHE_H */
