/*-------------------------------------------------------------------------
 *
 * lineage.c
 *	  Augmented copies in a training job with evaluate_on => 'real'.
 *
 * ml.augment writes copies of real decisions with augmented_from, the id
 * of the original.  A copy is not real, so it is never a test row; but a
 * copy of a test row that trains would let the model see its test row
 * (nearly the same features, the same label).  When the source has the
 * integer columns id and augmented_from (ml.MLTrainingData, or a view or
 * query that keeps them) and the caller may read them, the loader reads
 * both; here each copy is mapped
 * to the loaded row of its original, and the split (split.c) sends the
 * copy where the original went, except that the copy of a test row is
 * left out.  A copy whose original was not loaded (filtered out, or a NULL
 * target) trains as any non-real row.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "utils/memutils.h"
#include "utils/plancache.h"

#include "train/lineage.h"

#define NO_VALUE PG_INT64_MIN

static bool
integer_type(Oid type)
{
	return type == INT2OID || type == INT4OID || type == INT8OID;
}

static int
column_number(TupleDesc tupdesc, const char *name)
{
	for (int c = 0; c < tupdesc->natts; c++)
		if (!TupleDescAttr(tupdesc, c)->attisdropped &&
			strcmp(NameStr(TupleDescAttr(tupdesc, c)->attname), name) == 0)
			return c;
	return -1;
}

/* A statement on the source, prepared (never run): one statement, as the loader's. */
static SPIPlanPtr
prepare_on_source(const TrainSpec *spec, const char *columns)
{
	SPIPlanPtr	plan = SPI_prepare(psprintf(spec->source_is_query ? "SELECT %s FROM (%s) AS learnloop_source LIMIT 0"
											: "SELECT %s FROM %s AS learnloop_source LIMIT 0",
											columns, spec->source), 0, NULL);

	if (plan == NULL)
		elog(ERROR, "learnloop could not prepare a statement on the training source: %s",
			 SPI_result_code_string(SPI_result));
	return plan;
}

/*
 * Whether the caller may read the prepared statement's columns: the
 * executor's privilege check, without running it.
 */
static bool
may_read(SPIPlanPtr plan)
{
	ListCell   *lc;

	foreach(lc, SPI_plan_get_plan_sources(plan))
	{
		CachedPlanSource *source = (CachedPlanSource *) lfirst(lc);
		ListCell   *q;

		foreach(q, source->query_list)
			if (!ExecCheckRTPerms(lfirst_node(Query, q)->rtable, false))
				return false;
	}
	return true;
}

/*
 * Whether the source has integer columns id and augmented_from that the
 * caller may read: its columns are the prepared "SELECT *"'s, and the
 * privileges those of a statement reading the two (a role granted some
 * columns of the source trains as before).  Nothing is run.
 */
bool
lineage_available(const TrainSpec *spec)
{
	SPIPlanPtr	plan = prepare_on_source(spec, "*");
	CachedPlanSource *source = linitial(SPI_plan_get_plan_sources(plan));
	TupleDesc	columns = source->resultDesc;
	int			id = column_number(columns, "id");
	int			from = column_number(columns, "augmented_from");
	bool		available;

	available = id >= 0 && from >= 0 &&
		integer_type(TupleDescAttr(columns, id)->atttypid) &&
		integer_type(TupleDescAttr(columns, from)->atttypid);
	SPI_freeplan(plan);
	if (available)
	{
		plan = prepare_on_source(spec, "learnloop_source.id, learnloop_source.augmented_from");
		available = may_read(plan);
		SPI_freeplan(plan);
	}
	return available;
}

/* The two columns, after the loader's others: first and first + 1 from 0. */
void
lineage_append_columns(StringInfo query)
{
	appendStringInfoString(query, ", learnloop_source.id AS learnloop_id, "
						   "learnloop_source.augmented_from AS learnloop_from");
}

void
lineage_start(Lineage *lineage, MemoryContext cxt, TupleDesc tupdesc, int first)
{
	lineage->cxt = cxt;
	lineage->id_type = TupleDescAttr(tupdesc, first)->atttypid;
	lineage->from_type = TupleDescAttr(tupdesc, first + 1)->atttypid;
	lineage->capacity = 1024;
	lineage->ids = MemoryContextAllocHuge(cxt, lineage->capacity * sizeof(int64));
	lineage->from = MemoryContextAllocHuge(cxt, lineage->capacity * sizeof(int64));
}

static int64
integer_value(HeapTuple tuple, TupleDesc tupdesc, int c, Oid type)
{
	bool		isnull;
	Datum		value = SPI_getbinval(tuple, tupdesc, c + 1, &isnull);

	if (isnull)
		return NO_VALUE;
	return type == INT8OID ? DatumGetInt64(value) :
		type == INT4OID ? DatumGetInt32(value) : DatumGetInt16(value);
}

/* The id and original of the loaded row number row (rows come in order). */
void
lineage_read(Lineage *lineage, HeapTuple tuple, TupleDesc tupdesc, int first, int64 row)
{
	if (row >= lineage->capacity)
	{
		lineage->capacity *= 2;
		lineage->ids = repalloc_huge(lineage->ids, lineage->capacity * sizeof(int64));
		lineage->from = repalloc_huge(lineage->from, lineage->capacity * sizeof(int64));
	}
	lineage->ids[row] = integer_value(tuple, tupdesc, first, lineage->id_type);
	lineage->from[row] = integer_value(tuple, tupdesc, first + 1, lineage->from_type);
}

typedef struct IdRow
{
	int64		id;
	int64		row;
} IdRow;

static int
compare_id_row(const void *a, const void *b)
{
	const IdRow *x = a;
	const IdRow *y = b;

	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return (x->row > y->row) - (x->row < y->row);
}

/*
 * ds->copy_of: for each loaded row that is not real and names an original
 * among the loaded real rows, that row; -1 for every other row.  An id
 * that several real rows share (a source that repeats rows) maps to the
 * first of them.  The real rows' ids are sorted and searched (16 bytes a
 * row, less than a hash table's); without a copy nothing is built.  The
 * loaded ids are freed.
 */
void
lineage_resolve(Lineage *lineage, Dataset *ds)
{
	IdRow	   *real;
	int64		nreal = 0;
	int64		ncopies = 0;

	for (int64 r = 0; r < ds->nrows; r++)
		ncopies += !ds->evaluable[r] && lineage->from[r] != NO_VALUE;
	if (ncopies > 0)
	{
		real = MemoryContextAllocHuge(CurrentMemoryContext, Max(ds->nrows, 1) * sizeof(IdRow));
		for (int64 r = 0; r < ds->nrows; r++)
			if (ds->evaluable[r] && lineage->ids[r] != NO_VALUE)
			{
				real[nreal].id = lineage->ids[r];
				real[nreal++].row = r;
			}
		qsort(real, nreal, sizeof(IdRow), compare_id_row);
		ds->copy_of = MemoryContextAllocHuge(ds->cxt, ds->nrows * sizeof(int64));
		for (int64 r = 0; r < ds->nrows; r++)
		{
			int64		lo = 0,
						hi = nreal;

			ds->copy_of[r] = -1;
			if (ds->evaluable[r] || lineage->from[r] == NO_VALUE)
				continue;
			/* the first real row whose id is not below the original's */
			while (lo < hi)
			{
				int64		mid = lo + (hi - lo) / 2;

				if (real[mid].id < lineage->from[r])
					lo = mid + 1;
				else
					hi = mid;
			}
			if (lo < nreal && real[lo].id == lineage->from[r])
				ds->copy_of[r] = real[lo].row;
		}
		pfree(real);
	}
	pfree(lineage->ids);
	pfree(lineage->from);
}
