/*-------------------------------------------------------------------------
 *
 * stream.c
 *	  Training from a stream: the training rows' features never all sit in
 *	  memory, only XGBoost's quantised histogram bins of them.
 *
 * The loader spilled every row's features to a file (dataset_spill.c),
 * keeping what the split needs.  Once split, the validation and test rows
 * and an even sample of at most STREAM_REFERENCE_ROWS training rows (for
 * the reference distributions) are read back into a small Dataset, which
 * evaluation, the champion's re-scoring and the reference use as before.
 * The training rows go to XGBoost's QuantileDMatrix through its iterator
 * interface: XGBoost calls next() for batch after batch (and reset() to
 * start over: XGBoost 1.7.4 passes over the data four times, counting,
 * sketching the quantiles, then binning), and each batch is read from the
 * spill file into one reused buffer.
 *
 * Why a file rather than re-reading the portal for each pass: the loading
 * transaction's snapshot would have to stay open through the quantising,
 * the source's query would run four times (a join or a view as often), and
 * the rows would have to come in the same order each time, which a
 * parallel or synchronized scan does not promise.  The file is written
 * once, read at disk (or page cache) speed, and deleted with the job.
 *
 * The iterator's callbacks run in this process's thread, inside XGBoost's
 * C++: an error there (a read error, or a cancellation) must not unwind
 * through XGBoost's frames, so it is caught, next() reports the end of the
 * data, and the error is raised again once XGBoost has returned.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/memutils.h"

#include "common/json_tree.h"
#include "train/candidates.h"
#include "train/stream.h"

/*
 * A batch's size: XGBoost's work per batch has a fixed part (thread teams,
 * per-batch buffers), which smaller batches pay too often (4,096 rows of 20
 * features made quantising three times slower than 100,000 rows), while
 * the batch buffer is memory the stream exists to save.
 */
#define STREAM_BATCH_BYTES (8 * 1024 * 1024)
#define STREAM_MIN_BATCH_ROWS 1024
#define XGBOOST_DEFAULT_MAX_BIN 256

typedef struct StreamIter
{
	TrainRun   *run;
	DMatrixHandle proxy;
	const int64 *rows;			/* of run->spilled, in training order */
	int64		nrows;
	int64		next;			/* index in rows of the next batch's first */
	float	   *batch;
	int64		batch_rows;
	MemoryContext cxt;
	ErrorData  *error;			/* what stopped the iteration, or NULL */
} StreamIter;

/*
 * What one value of a parameter asks that a QuantileDMatrix cannot serve,
 * as "tree_method exact", or NULL.  XGBoost 1.7 boosts such a matrix with
 * the hist updater only (dart is hist trees too; the other updaters are
 * not).
 */
static char *
unsupported_value(const char *key, const cJSON *value)
{
	const char *v = cJSON_IsString(value) ? value->valuestring : NULL;

	if (v == NULL)
		return NULL;			/* not a name: XGBoost's own error later */
	if ((strcmp(key, "tree_method") == 0 && strcmp(v, "hist") != 0 && strcmp(v, "auto") != 0) ||
		(strcmp(key, "updater") == 0 && strcmp(v, "grow_quantile_histmaker") != 0))
		return psprintf("%s %s", key, v);
	return NULL;
}

/*
 * What in the caller's params or search a stream cannot train, as
 * "tree_method exact" or "a search over max_bin", or NULL.  Read from the
 * arguments before any row is, so that auto keeps such a job in memory and
 * stream refuses it before loading (dataset_load.c): the matrix is built
 * for the hist updater, and binned once for every candidate.
 */
char *
stream_unsupported(const char *params, const char *search)
{
	static const char *const keys[] = {"tree_method", "updater"};
	JsonTree   *p = json_tree_parse(params ? params : "{}");
	JsonTree   *s = json_tree_parse(search ? search : "{}");
	char	   *what = NULL;

	for (int k = 0; k < lengthof(keys) && what == NULL; k++)
	{
		const cJSON *values = s->root ? cJSON_GetObjectItemCaseSensitive(s->root, keys[k]) : NULL;
		const cJSON *value;

		if (p->root)
			what = unsupported_value(keys[k], cJSON_GetObjectItemCaseSensitive(p->root, keys[k]));
		if (cJSON_IsArray(values))
			cJSON_ArrayForEach(value, values)
			{
				if (what == NULL)
					what = unsupported_value(keys[k], value);
			}
	}
	if (what == NULL && s->root &&
		cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(s->root, "max_bin")) > 1)
		what = pstrdup("a search over max_bin");
	json_tree_free(p);
	json_tree_free(s);
	return what;
}

/*
 * The max_bin the candidates quantise with: the QuantileDMatrix is binned
 * once, and stream_unsupported let no search over max_bin through, so
 * every candidate has the first one's.
 */
static int
stream_max_bin(List *candidates)
{
	Candidate  *cand = linitial(candidates);
	int			max_bin = XGBOOST_DEFAULT_MAX_BIN;

	for (int i = 0; i < cand->nparams; i++)
		if (strcmp(cand->keys[i], "max_bin") == 0)
			max_bin = atoi(cand->values[i]);
	if (max_bin < 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_bin must be at least 2")));
	return max_bin;
}

/*
 * Reads the n spilled rows listed into held's rows [at, at + n): labels,
 * groups and features.
 */
static void
read_back(Dataset *spilled, Dataset *held, const int64 *rows, int64 n, int64 at, float *buf)
{
	for (int64 i = 0; i < n; i++)
	{
		int64		row = rows[i];

		dataset_spilled_row(spilled, row, buf);
		for (int f = 0; f < held->nfeatures; f++)
			held->features[f]->values[at + i] = buf[f];
		held->labels[at + i] = spilled->labels[row];
		if (held->groups)
			held->groups[at + i] = spilled->groups[row];
		if ((i & 4095) == 0)
			CHECK_FOR_INTERRUPTS();
	}
}

static int64 *
numbered(int64 first, int64 n)
{
	int64	   *rows = MemoryContextAllocHuge(CurrentMemoryContext, Max(n, 1) * sizeof(int64));

	for (int64 i = 0; i < n; i++)
		rows[i] = first + i;
	return rows;
}

/*
 * Makes run->ds the rows that stay in memory: the validation rows, the
 * test rows and the reference's sample of the training rows, in that
 * order, renumbering valid_rows and test_rows; the spilled Dataset and
 * train_rows stay for stream_dmatrix.
 */
void
stream_hold_out(TrainRun *run)
{
	Dataset    *spilled = run->ds;
	int64		nsample = Min(run->ntrain, STREAM_REFERENCE_ROWS);
	int64	   *sample = MemoryContextAllocHuge(CurrentMemoryContext, Max(nsample, 1) * sizeof(int64));
	Dataset    *held = dataset_like(spilled, run->nvalid + run->ntest + nsample);
	float	   *buf = palloc(sizeof(float) * spilled->nfeatures);

	/* evenly spaced over the training rows, in their order */
	for (int64 i = 0; i < nsample; i++)
		sample[i] = run->train_rows[i * run->ntrain / nsample];

	read_back(spilled, held, run->valid_rows, run->nvalid, 0, buf);
	read_back(spilled, held, run->test_rows, run->ntest, run->nvalid, buf);
	read_back(spilled, held, sample, nsample, run->nvalid + run->ntest, buf);
	pfree(buf);
	/* the split is made: only labels and groups of the training rows remain useful */
	if (spilled->times)
		pfree(spilled->times);
	if (spilled->evaluable)
		pfree(spilled->evaluable);
	spilled->times = NULL;
	spilled->evaluable = NULL;
	pfree(sample);
	pfree(run->valid_rows);
	pfree(run->test_rows);
	run->valid_rows = numbered(0, run->nvalid);
	run->test_rows = numbered(run->nvalid, run->ntest);
	run->reference_rows = numbered(run->nvalid + run->ntest, nsample);
	run->nreference = nsample;
	run->spilled = spilled;
	run->ds = held;
}

static void
iter_reset(DataIterHandle handle)
{
	((StreamIter *) handle)->next = 0;
}

/* One batch of training rows from the spill file into the proxy. */
static void
fill_batch(StreamIter *it)
{
	Dataset    *spilled = it->run->spilled;
	int			nf = spilled->nfeatures;
	int64		n = Min(it->batch_rows, it->nrows - it->next);

	/*
	 * XGBoost's frames are below: CHECK_FOR_INTERRUPTS would end the
	 * process there on SIGTERM (FATAL).  So interrupts are held through the
	 * batch, and a pending SIGTERM or cancel becomes an error here, which
	 * iter_next carries out of XGBoost; a signal that comes later waits for
	 * the next batch, or for the first check once XGBoost has returned.  An
	 * error resets the holdoff count.
	 */
	HOLD_INTERRUPTS();
	if (ProcDiePending)
		ereport(ERROR,
				(errcode(ERRCODE_ADMIN_SHUTDOWN),
				 errmsg("the training worker was asked to stop while quantising")));
	if (QueryCancelPending)
	{
		QueryCancelPending = false;
		ereport(ERROR,
				(errcode(ERRCODE_QUERY_CANCELED),
				 errmsg("canceling statement due to user request")));
	}
	progress_checkpoint(it->run->progress, "quantising", it->run->ntrain);
	for (int64 i = 0; i < n; i++)
		dataset_spilled_row(spilled, it->rows[it->next + i], it->batch + i * nf);
	xgb_proxy_set_dense(it->proxy, it->batch, n, nf);
	xgb_set_names(it->proxy, it->run->feature_names, it->run->feature_types, nf);
	it->next += n;
	RESUME_INTERRUPTS();
}

/*
 * XGBoost asks for the next batch: 1 when there is one, 0 at the end or
 * after an error, which is kept for stream_dmatrix to raise.
 */
static int
iter_next(DataIterHandle handle)
{
	StreamIter *it = handle;
	MemoryContext cxt = CurrentMemoryContext;

	if (it->error != NULL || it->next >= it->nrows)
		return 0;
	PG_TRY();
	{
		fill_batch(it);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(it->cxt);
		it->error = CopyErrorData();
		FlushErrorState();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
	return it->error == NULL ? 1 : 0;
}

/*
 * The QuantileDMatrix of the training rows, with their labels (and query
 * groups): the training rows' raw features are never all in memory, only
 * one batch of them and XGBoost's bins.
 */
DMatrixHandle
stream_dmatrix(TrainRun *run, List *candidates)
{
	StreamIter	it = {
		.run = run,
		.rows = run->train_rows,
		.nrows = run->ntrain,
		.cxt = CurrentMemoryContext,
	};
	int			nf = run->spilled->nfeatures;
	int			max_bin = stream_max_bin(candidates);
	DMatrixHandle dm;
	int			rc;

	it.batch_rows = Max(STREAM_BATCH_BYTES / ((int64) nf * sizeof(float)), STREAM_MIN_BATCH_ROWS);
	it.batch = MemoryContextAllocHuge(it.cxt, it.batch_rows * nf * sizeof(float));
	it.proxy = xgb_proxy(run->xgb);
	rc = xgb_quantile_dmatrix(run->xgb, &it, it.proxy, iter_reset, iter_next,
							  run->nthread, max_bin, &dm);
	if (it.error != NULL)
	{
		if (dm != NULL)
			xgb_free_dmatrix(run->xgb, dm);
		xgb_free_dmatrix(run->xgb, it.proxy);
		ReThrowError(it.error);
	}
	xgb_free_dmatrix(run->xgb, it.proxy);
	xgb_check_rc(rc, "XGQuantileDMatrixCreateFromCallback");
	pfree(it.batch);
	train_rows_info(run, run->spilled, dm, run->train_rows, run->ntrain);
	return dm;
}
