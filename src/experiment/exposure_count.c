/*-------------------------------------------------------------------------
 *
 * exposure_count.c
 *	  Exposed units per variant, counted from the exposures' index.
 *
 * The analysis needs the number of units of each variant, which is one
 * entry per unit of ml.experiment_exposures_variant_idx.  Counted by SQL,
 * as an index-only scan feeding a grouped count(*), each entry costs an
 * executor tuple, a grouping comparison and an aggregate call: as much as
 * the whole aggregation of the outcomes.  Here each variant's key is
 * scanned in turn (the index is deduplicated: long posting lists of heap
 * TIDs) and the TIDs are counted directly, with the visibility rule of an
 * index-only scan: an entry on an all-visible heap page counts, any other
 * counts if its heap tuple is visible to the snapshot.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/relscan.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/visibilitymap.h"
#include "common/row_insert.h"
#include "executor/tuptable.h"
#include "experiment/exposure_count.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"

#define VARIANT_INDEX "experiment_exposures_variant_idx"

/* The units that the scan, positioned on one key, sees. */
static int64
count_entries(IndexScanDesc scan, Relation heap, TupleTableSlot *slot, Buffer *vmbuffer)
{
	ItemPointer tid;
	int64		n = 0;

	while ((tid = index_getnext_tid(scan, ForwardScanDirection)) != NULL)
	{
		CHECK_FOR_INTERRUPTS();
		if (VM_ALL_VISIBLE(heap, ItemPointerGetBlockNumber(tid), vmbuffer) ||
			index_fetch_heap(scan, slot))
			n++;
	}
	return n;
}

void
count_exposures(const ExperimentConfig *exp, int64 *units)
{
	Relation	heap = ml_table_open("experiment_exposures", AccessShareLock);
	Oid			indexoid = get_relname_relid(VARIANT_INDEX, RelationGetNamespace(heap));
	Relation	index;
	TupleTableSlot *slot = table_slot_create(heap, NULL);
	Buffer		vmbuffer = InvalidBuffer;
	ScanKeyData keys[2];
	IndexScanDesc scan;
	int			i;

	if (!OidIsValid(indexoid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("index ml.%s is missing", VARIANT_INDEX),
				 errhint("Reinstall learnloop, or recreate the index as the extension script does.")));
	index = index_open(indexoid, AccessShareLock);
	scan = index_beginscan(heap, index, GetActiveSnapshot(), 2, 0);
	ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_TEXTEQ, CStringGetTextDatum(exp->name));
	keys[0].sk_collation = index->rd_indcollation[0];
	for (i = 0; i < exp->nvariants; i++)
	{
		ScanKeyInit(&keys[1], 2, BTEqualStrategyNumber, F_TEXTEQ,
					PointerGetDatum(exp->variants[i]));
		keys[1].sk_collation = index->rd_indcollation[1];
		index_rescan(scan, keys, 2, NULL, 0);
		units[i] += count_entries(scan, heap, slot, &vmbuffer);
	}
	if (BufferIsValid(vmbuffer))
		ReleaseBuffer(vmbuffer);
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	index_close(index, AccessShareLock);
	table_close(heap, AccessShareLock);
}
