/*-------------------------------------------------------------------------
 *
 * lineage.h
 *	  Augmented copies in a training job (evaluate_on => 'real'): which
 *	  loaded row each copy was made from, so that the split sends a copy
 *	  where its original goes and a copy of a test row never trains.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_LINEAGE_H
#define LEARNLOOP_LINEAGE_H

#include "lib/stringinfo.h"

#include "train/dataset.h"

/* The ids and originals of the loaded rows, while loading. */
typedef struct Lineage
{
	MemoryContext cxt;
	Oid			id_type;
	Oid			from_type;
	int64		capacity;
	int64	   *ids;			/* per loaded row; PG_INT64_MIN for NULL */
	int64	   *from;			/* per loaded row; PG_INT64_MIN for NULL */
} Lineage;

extern bool lineage_available(const TrainSpec *spec);
extern void lineage_append_columns(StringInfo query);
extern void lineage_start(Lineage *lineage, MemoryContext cxt, TupleDesc tupdesc, int first);
extern void lineage_read(Lineage *lineage, HeapTuple tuple, TupleDesc tupdesc, int first, int64 row);
extern void lineage_resolve(Lineage *lineage, Dataset *ds);

#endif							/* LEARNLOOP_LINEAGE_H */
