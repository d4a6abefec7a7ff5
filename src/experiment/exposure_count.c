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
 * TIDs) and the TIDs are counted as an index-only scan would return them:
 * an entry on an all-visible heap page counts (with the page's predicate
 * lock for SERIALIZABLE), any other counts if its heap tuple is visible to
 * the snapshot, and the scan keeps its leaf page pinned so that VACUUM
 * cannot recycle the TIDs under it.
 *
 * That is only done for the table and index as learnloop created them,
 * for a caller who may read the table whole; otherwise the count is the
 * SQL query, which applies column privileges and row-level security.
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
#include "catalog/pg_type.h"
#include "common/spi_plan.h"
#include "executor/tuptable.h"
#include "experiment/exposure_count.h"
#include "experiment/tables.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/predicate.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"

#define VARIANT_INDEX "experiment_exposures_variant_idx"

#define COUNT_SQL \
	"SELECT variant::pg_catalog.text, pg_catalog.count(*) FROM ml.experiment_exposures " \
	"WHERE experiment OPERATOR(pg_catalog.=) $1 GROUP BY variant"

static SPIPlanPtr count_plan = NULL;

/* The units that the scan, positioned on one key, sees. */
static int64
count_entries(IndexScanDesc scan, TupleTableSlot *slot, Buffer *vmbuffer)
{
	Relation	heap = scan->heapRelation;
	ItemPointer tid;
	int64		n = 0;

	while ((tid = index_getnext_tid(scan, ForwardScanDirection)) != NULL)
	{
		CHECK_FOR_INTERRUPTS();
		if (VM_ALL_VISIBLE(heap, ItemPointerGetBlockNumber(tid), vmbuffer))
		{
			PredicateLockPage(heap, ItemPointerGetBlockNumber(tid), scan->xs_snapshot);
			n++;
		}
		else if (index_fetch_heap(scan, slot))
			n++;
	}
	return n;
}

static void
count_from_index(const ExperimentConfig *exp, Relation heap, Relation index, int64 *units)
{
	TupleTableSlot *slot = table_slot_create(heap, NULL);
	Buffer		vmbuffer = InvalidBuffer;
	ScanKeyData keys[2];
	IndexScanDesc scan;
	int			i;

	scan = index_beginscan(heap, index, GetActiveSnapshot(), 2, 0);
	/* as an index-only scan: keeps the leaf pinned while its TIDs are used */
	scan->xs_want_itup = true;
	ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_TEXTEQ, CStringGetTextDatum(exp->name));
	keys[0].sk_collation = index->rd_indcollation[0];
	for (i = 0; i < exp->nvariants; i++)
	{
		ScanKeyInit(&keys[1], 2, BTEqualStrategyNumber, F_TEXTEQ,
					PointerGetDatum(exp->variants[i]));
		keys[1].sk_collation = index->rd_indcollation[1];
		index_rescan(scan, keys, 2, NULL, 0);
		units[i] += count_entries(scan, slot, &vmbuffer);
	}
	if (BufferIsValid(vmbuffer))
		ReleaseBuffer(vmbuffer);
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
}

static void
count_with_sql(const ExperimentConfig *exp, int64 *units)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(exp->name)};
	uint64		r;

	SPI_connect();
	if (SPI_execute_plan(spi_cached_plan(&count_plan, COUNT_SQL, 1, argtypes),
						 values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "learnloop could not count the exposures");
	for (r = 0; r < SPI_processed; r++)
	{
		bool		isnull;
		HeapTuple	row = SPI_tuptable->vals[r];
		Datum		variant = SPI_getbinval(row, SPI_tuptable->tupdesc, 1, &isnull);
		int			i = isnull ? -1 : experiment_variant_index(exp, DatumGetTextPP(variant));

		if (i >= 0)
			units[i] += DatumGetInt64(SPI_getbinval(row, SPI_tuptable->tupdesc, 2, &isnull));
	}
	SPI_finish();
}

void
count_exposures(const ExperimentConfig *exp, int64 *units)
{
	Relation	heap = ml_table_open("experiment_exposures", AccessShareLock);
	Relation	index = ml_index_open_plain(heap, &exposures_shape,
											get_relname_relid(VARIANT_INDEX,
															  RelationGetNamespace(heap)),
											2, exposures_variant_index_keys);

	if (index != NULL)
	{
		count_from_index(exp, heap, index, units);
		index_close(index, NoLock);
	}
	else
		count_with_sql(exp, units);
	table_close(heap, NoLock);
}
