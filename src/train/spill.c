/*-------------------------------------------------------------------------
 *
 * spill.c
 *	  A temporary file of feature rows, for training from a stream.
 *
 * Rows are written once, in the order the source gave them, as float4 of
 * the features known when the row was written: a jsonb key first seen at
 * row 10,000 makes later rows wider, never earlier ones, so the file is a
 * few segments of rows of one width each, and the offset of a row is
 * computed, not stored.  A reader asks for any row; rows asked in
 * ascending order (the usual case) are read sequentially.
 *
 * The file is a BufFile that outlives transactions: it is written in the
 * loading transaction and read while boosting, which holds none.  It is
 * closed (and deleted) when its memory context goes, or at process exit.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "storage/buffile.h"
#include "utils/memutils.h"

#include "train/spill.h"

/* Rows [first_row, next segment's first_row) have nfeatures floats each */
typedef struct SpillSegment
{
	int64		first_row;
	int			nfeatures;
	int64		offset;			/* of first_row, in bytes */
} SpillSegment;

struct Spill
{
	BufFile    *file;
	MemoryContext cxt;
	int64		nrows;
	int64		written;		/* bytes */
	int64		position;		/* where the file's cursor is, in bytes */
	int			nsegments;
	int			segment_capacity;
	SpillSegment *segments;
	int			last;			/* the segment read last */
};

static void
spill_close(void *arg)
{
	Spill	   *spill = arg;

	if (spill->file != NULL)
		BufFileClose(spill->file);
	spill->file = NULL;
}

/*
 * A new empty spill file, in the current transaction (temp_tablespaces is
 * read from the catalog), living as long as cxt.
 */
Spill *
spill_create(MemoryContext cxt)
{
	MemoryContext old = MemoryContextSwitchTo(cxt);
	Spill	   *spill = palloc0(sizeof(Spill));
	MemoryContextCallback *cb = palloc(sizeof(MemoryContextCallback));

	spill->cxt = cxt;
	spill->segment_capacity = 8;
	spill->segments = palloc(sizeof(SpillSegment) * spill->segment_capacity);
	spill->file = BufFileCreateTemp(true);
	cb->func = spill_close;
	cb->arg = spill;
	MemoryContextRegisterResetCallback(cxt, cb);
	MemoryContextSwitchTo(old);
	return spill;
}

/* Appends one row of nfeatures values. */
void
spill_write(Spill *spill, const float *row, int nfeatures)
{
	SpillSegment *seg = spill->nsegments > 0 ? &spill->segments[spill->nsegments - 1] : NULL;

	if (seg == NULL || seg->nfeatures != nfeatures)
	{
		if (spill->nsegments == spill->segment_capacity)
		{
			spill->segment_capacity *= 2;
			spill->segments = repalloc(spill->segments,
									   sizeof(SpillSegment) * spill->segment_capacity);
		}
		seg = &spill->segments[spill->nsegments++];
		seg->first_row = spill->nrows;
		seg->nfeatures = nfeatures;
		seg->offset = spill->written;
	}
	BufFileWrite(spill->file, (void *) row, sizeof(float) * nfeatures);
	spill->written += sizeof(float) * nfeatures;
	spill->position = spill->written;
	spill->nrows++;
}

int64
spill_rows(const Spill *spill)
{
	return spill->nrows;
}

/* The segment that holds row, starting from the one read last. */
static SpillSegment *
find_segment(Spill *spill, int64 row)
{
	int			s = spill->last;

	if (row < spill->segments[s].first_row)
		s = 0;
	while (s + 1 < spill->nsegments && spill->segments[s + 1].first_row <= row)
		s++;
	spill->last = s;
	return &spill->segments[s];
}

/*
 * Moves the file's cursor to offset: a short way forward by reading past
 * the bytes between (a row skipped by the split), else by seeking to the
 * block and reading to the byte.
 */
static void
move_to(Spill *spill, int64 offset)
{
	char		skip[BLCKSZ];
	int64		gap = offset - spill->position;

	if (gap < 0 || gap > 4 * BLCKSZ)
	{
		if (BufFileSeekBlock(spill->file, (long) (offset / BLCKSZ)) != 0)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not seek in learnloop's training spill file: %m")));
		spill->position = offset - offset % BLCKSZ;
		gap = offset % BLCKSZ;
	}
	while (gap > 0)
	{
		size_t		n = Min(gap, (int64) sizeof(skip));

		if (BufFileRead(spill->file, skip, n) != n)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not read learnloop's training spill file: %m")));
		gap -= n;
		spill->position += n;
	}
}

/*
 * Reads row into out, which has room for nfeatures values; returns how
 * many the row has (the caller fills the rest as missing).
 */
int
spill_read(Spill *spill, int64 row, float *out, int nfeatures)
{
	SpillSegment *seg;
	int64		offset;
	size_t		bytes;

	if (row < 0 || row >= spill->nrows)
		elog(ERROR, "learnloop's spill file has no row " INT64_FORMAT, row);
	seg = find_segment(spill, row);
	if (seg->nfeatures > nfeatures)
		elog(ERROR, "learnloop's spill row " INT64_FORMAT " is wider than the dataset", row);
	offset = seg->offset + (row - seg->first_row) * seg->nfeatures * (int64) sizeof(float);
	if (offset != spill->position)
		move_to(spill, offset);
	bytes = sizeof(float) * seg->nfeatures;
	if (BufFileRead(spill->file, out, bytes) != bytes)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read learnloop's training spill file: %m")));
	spill->position += bytes;
	return seg->nfeatures;
}
