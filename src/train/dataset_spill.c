/*-------------------------------------------------------------------------
 *
 * dataset_spill.c
 *	  The features of a Dataset kept as rows in a file, not in memory: the
 *	  loader's side of training from a stream.
 *
 * Spilled, a Dataset still holds every row's label, group, time and
 * lineage (a few bytes a row, what the split needs), but of the features
 * only a window of the last DATASET_WINDOW_ROWS rows read: each full
 * window is written to the spill file as rows and the window starts over.
 * learnloop.training_memory decides when: from the first row ('stream'),
 * never ('memory'), or ('auto') when the feature columns would grow past
 * learnloop.training_memory_limit, in which case the rows already in
 * memory are written first.  Category codes in the file are the codes of
 * first appearance; dataset_finish keeps each dictionary's renumbering,
 * which dataset_spilled_row applies as rows are read back.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"

#include "train/dataset.h"

void
dataset_set_memory(Dataset *ds, TrainingMemory memory, int64 spill_above)
{
	ds->memory = memory;
	ds->spill_above = spill_above;
	if (memory == TRAINING_MEMORY_STREAM)
		dataset_spill_begin(ds);
}

/*
 * Whether nfeatures columns of capacity rows would pass the auto limit:
 * asked when the columns grow longer, and when one more is added.
 */
bool
dataset_spill_due(const Dataset *ds, int64 capacity, int nfeatures)
{
	return ds->memory == TRAINING_MEMORY_AUTO && ds->spill == NULL &&
		capacity * Max(nfeatures, 1) * (int64) sizeof(float) > ds->spill_above;
}

/* Writes rows [from, to) of the features, which are in memory, as rows. */
static void
write_rows(Dataset *ds, int64 from, int64 to)
{
	int			nf = ds->nfeatures;
	float	   *row = palloc(sizeof(float) * Max(nf, 1));

	for (int64 r = from; r < to; r++)
	{
		for (int f = 0; f < nf; f++)
			row[f] = ds->features[f]->values[r - ds->features[f]->first_row];
		spill_write(ds->spill, row, nf);
		if ((r & 4095) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	pfree(row);
}

/*
 * Starts spilling: the rows read so far go to a new file, and each
 * feature's column shrinks to a window.  The last row read stays in the
 * window, as the first of it: a jsonb key first seen in that row starts
 * the spill while the row is still being read.  Runs in the loading
 * transaction.
 */
void
dataset_spill_begin(Dataset *ds)
{
	int64		kept = Max(ds->nrows - 1, 0);

	Assert(ds->spill == NULL);
	ds->spill = spill_create(ds->cxt);
	write_rows(ds, 0, kept);
	for (int f = 0; f < ds->nfeatures; f++)
	{
		Feature    *feature = ds->features[f];
		float	   *window = MemoryContextAllocHuge(ds->cxt, sizeof(float) * DATASET_WINDOW_ROWS);

		for (int64 r = kept; r < ds->nrows; r++)
			window[r - kept] = feature->values[r - feature->first_row];
		pfree(feature->values);
		feature->values = window;
		feature->first_row = kept;
	}
	ds->window_start = kept;
}

/* Writes the window's rows to the file and starts the next window. */
void
dataset_spill_window(Dataset *ds)
{
	write_rows(ds, ds->window_start, ds->nrows);
	ds->window_start = ds->nrows;
	for (int f = 0; f < ds->nfeatures; f++)
		ds->features[f]->first_row = ds->nrows;
}

/*
 * Row row's features, as a finished in-memory Dataset would hold them:
 * missing where the row predates a feature, categories in sorted codes.
 */
void
dataset_spilled_row(Dataset *ds, int64 row, float *out)
{
	int			n = spill_read(ds->spill, row, out, ds->nfeatures);

	for (int f = 0; f < ds->nfeatures; f++)
	{
		const Feature *feature = ds->features[f];

		if (f >= n)
			out[f] = NAN;
		else if (feature->renumber && !isnan(out[f]))
		{
			int			code = (int) out[f];

			if (code < 0 || code >= feature->ncategories)
				elog(ERROR, "learnloop's spill file holds category code %d of feature \"%s\"",
					 code, feature->name);
			out[f] = (float) feature->renumber[code];
		}
	}
}
