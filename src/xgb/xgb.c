/*-------------------------------------------------------------------------
 *
 * xgb.c
 *	  XGBoost's C API, with errors raised as PostgreSQL errors and handles
 *	  freed with a memory context.
 *
 * The C API catches every C++ exception and returns -1, so no exception
 * crosses our frames; and we raise only after a call has returned, so no
 * longjmp crosses XGBoost's.  Handles are recorded in a struct whose
 * memory context callback frees them: an error anywhere frees them when the
 * context is reset, with no PG_TRY at every call site.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>
#include <unistd.h>

#include "utils/memutils.h"

#include "learnloop.h"
#include "xgb/xgb.h"

/* XGBoost's log lines, kept by a callback that must not call PostgreSQL */
static char captured_log[1024];

/* The first line of XGBoost's last error, palloc'd, without its source location. */
char *
xgb_last_error(void)
{
	const char *message = XGBGetLastError();
	const char *newline;

	/* drop the "[12:34:56] ./src/file.cc:26: " prefix of XGBoost's messages */
	if (message[0] == '[')
	{
		const char *close = strstr(message, "] ");
		const char *location_end = close ? strstr(close + 2, ": ") : NULL;

		if (location_end && memchr(close + 2, ' ', location_end - close - 2) == NULL)
			message = location_end + 2;
	}
	newline = strchr(message, '\n');
	return pnstrdup(message, newline ? newline - message : strlen(message));
}

void
xgb_check_rc(int rc, const char *call)
{
	if (rc == 0)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
			 errmsg("XGBoost failed: %s", xgb_last_error()),
			 errdetail("In %s.", call),
			 errhint("Check the parameters against XGBoost's documentation.")));
}

static void
free_handles(void *arg)
{
	XgbHandles *h = arg;
	int			i;

	for (i = 0; i < XGB_MAX_HANDLES; i++)
	{
		if (h->boosters[i])
			XGBoosterFree(h->boosters[i]);
		if (h->dmatrices[i])
			XGDMatrixFree(h->dmatrices[i]);
		h->boosters[i] = NULL;
		h->dmatrices[i] = NULL;
	}
}

XgbHandles *
xgb_handles_create(MemoryContext cxt)
{
	XgbHandles *h = MemoryContextAllocZero(cxt, sizeof(XgbHandles));
	MemoryContextCallback *cb = MemoryContextAlloc(cxt, sizeof(MemoryContextCallback));

	cb->func = free_handles;
	cb->arg = h;
	MemoryContextRegisterResetCallback(cxt, cb);
	return h;
}

static int
free_slot(void **slots)
{
	int			i;

	for (i = 0; i < XGB_MAX_HANDLES; i++)
		if (slots[i] == NULL)
			return i;
	elog(ERROR, "learnloop holds too many XGBoost handles");
	return -1;
}

/* A DMatrix of a dense row-major matrix; NaN is missing. */
DMatrixHandle
xgb_dmatrix(XgbHandles *h, const float *data, int64 nrows, int ncols, int nthread)
{
	int			slot = free_slot(h->dmatrices);

	xgb_check(XGDMatrixCreateFromMat_omp(data, nrows, ncols, NAN,
										 &h->dmatrices[slot], nthread));
	return h->dmatrices[slot];
}

/* A proxy DMatrix, which an iterator fills with one batch at a time. */
DMatrixHandle
xgb_proxy(XgbHandles *h)
{
	int			slot = free_slot(h->dmatrices);

	xgb_check(XGProxyDMatrixCreate(&h->dmatrices[slot]));
	return h->dmatrices[slot];
}

/* Makes the proxy's batch a dense row-major block of floats; NaN is missing. */
void
xgb_proxy_set_dense(DMatrixHandle proxy, const float *data, int64 nrows, int ncols)
{
	char		array[160];

	snprintf(array, sizeof(array),
			 "{\"data\": [" UINT64_FORMAT ", true], \"shape\": [" INT64_FORMAT ", %d], "
			 "\"typestr\": \"<f4\", \"version\": 3}",
			 (uint64) (uintptr_t) data, nrows, ncols);
	xgb_check(XGProxyDMatrixSetDataDense(proxy, array));
}

/*
 * XGBoost's QuantileDMatrix of the batches an iterator gives through a
 * proxy, quantised into max_bin bins.  Returns XGBoost's code, not an
 * error: the iterator may have stopped for an error of its own, which the
 * caller raises first.  On success *out is the matrix, freed with h.
 */
int
xgb_quantile_dmatrix(XgbHandles *h, DataIterHandle iter, DMatrixHandle proxy,
					 DataIterResetCallback *reset, XGDMatrixCallbackNext *next,
					 int nthread, int max_bin, DMatrixHandle *out)
{
	int			slot = free_slot(h->dmatrices);
	char		config[128];
	int			rc;

	snprintf(config, sizeof(config), "{\"missing\": NaN, \"nthread\": %d, \"max_bin\": %d}",
			 nthread, max_bin);
	rc = XGQuantileDMatrixCreateFromCallback(iter, proxy, NULL, reset, next, config,
											 &h->dmatrices[slot]);
	*out = rc == 0 ? h->dmatrices[slot] : NULL;
	if (rc != 0)
		h->dmatrices[slot] = NULL;
	return rc;
}

BoosterHandle
xgb_booster(XgbHandles *h, DMatrixHandle *cache, int ncache)
{
	int			slot = free_slot(h->boosters);

	xgb_check(XGBoosterCreate(cache, ncache, &h->boosters[slot]));
	return h->boosters[slot];
}

BoosterHandle
xgb_booster_from_buffer(XgbHandles *h, const void *buf, size_t len)
{
	BoosterHandle b = xgb_booster(h, NULL, 0);

	xgb_check(XGBoosterLoadModelFromBuffer(b, buf, len));
	return b;
}

/*
 * A booster's model as bytes, in XGBoost's "ubj" or "json" format: what
 * ml.models stores (ubj), and what ml.export_model returns.  The buffer is
 * XGBoost's until its next call, so it is copied at once.
 */
bytea *
xgb_save_model(BoosterHandle booster, const char *format)
{
	bst_ulong	len;
	const char *buf;
	bytea	   *out;

	xgb_check(XGBoosterSaveModelToBuffer(booster, psprintf("{\"format\": \"%s\"}", format),
										 &len, &buf));
	out = palloc(VARHDRSZ + len);
	SET_VARSIZE(out, VARHDRSZ + len);
	memcpy(VARDATA(out), buf, len);
	return out;
}

/* The first rounds of a booster: what early stopping keeps. */
BoosterHandle
xgb_booster_slice(XgbHandles *h, BoosterHandle booster, int rounds)
{
	int			slot = free_slot(h->boosters);

	xgb_check(XGBoosterSlice(booster, 0, rounds, 1, &h->boosters[slot]));
	return h->boosters[slot];
}

/* Predictions for a DMatrix, copied out of XGBoost's thread-local buffer. */
float *
xgb_predict(BoosterHandle booster, DMatrixHandle dm, int64 n, int *ncols)
{
	const bst_ulong *shape;
	bst_ulong	dim;
	const float *result;
	float	   *copy;
	int64		total;

	xgb_check(XGBoosterPredictFromDMatrix(booster, dm,
										  "{\"type\": 0, \"training\": false, \"iteration_begin\": 0, "
										  "\"iteration_end\": 0, \"strict_shape\": false}",
										  &shape, &dim, &result));
	*ncols = dim > 1 ? (int) shape[1] : 1;
	total = n * *ncols;
	copy = MemoryContextAllocHuge(CurrentMemoryContext, Max(total, 1) * sizeof(float));
	memcpy(copy, result, total * sizeof(float));
	return copy;
}

/* Feature names and XGBoost types (q, i or c) of a DMatrix. */
void
xgb_set_names(DMatrixHandle dm, const char **names, const char **types, int n)
{
	xgb_check(XGDMatrixSetStrFeatureInfo(dm, "feature_name", names, n));
	xgb_check(XGDMatrixSetStrFeatureInfo(dm, "feature_type", types, n));
}

void
xgb_free_dmatrix(XgbHandles *h, DMatrixHandle m)
{
	for (int i = 0; i < XGB_MAX_HANDLES; i++)
		if (h->dmatrices[i] == m)
		{
			h->dmatrices[i] = NULL;
			xgb_check(XGDMatrixFree(m));
		}
}

void
xgb_free_booster(XgbHandles *h, BoosterHandle b)
{
	for (int i = 0; i < XGB_MAX_HANDLES; i++)
		if (h->boosters[i] == b)
		{
			h->boosters[i] = NULL;
			xgb_check(XGBoosterFree(b));
		}
}

/*
 * Runs inside XGBoost: only copies the line, never calls PostgreSQL.  A
 * line longer than the room left keeps its head and its end, where XGBoost
 * says what is wrong ("Parameters: { ... } are not used.", after names that
 * may be long).
 */
static void
keep_log_line(const char *line)
{
	size_t		used = strlen(captured_log);
	size_t		room = sizeof(captured_log) - used;
	size_t		len = strlen(line);

	if (len + 2 > room && room > 128)
		snprintf(captured_log + used, room, "%.*s...%s\n",
				 (int) (room - 128), line, line + len - 123);
	else if (used < sizeof(captured_log) - 2)
		snprintf(captured_log + used, room, "%s\n", line);
}

/* Starts capturing XGBoost's log, e.g. its warning about unused parameters. */
void
xgb_capture_log(void)
{
	captured_log[0] = '\0';
	xgb_check(XGBRegisterLogCallback(keep_log_line));
}

const char *
xgb_captured_log(void)
{
	return captured_log;
}

/* learnloop.training_threads, or every online core when it is 0. */
int
xgb_default_threads(void)
{
	long		cores;

	if (learnloop_training_threads > 0)
		return learnloop_training_threads;
	cores = sysconf(_SC_NPROCESSORS_ONLN);
	return cores > 0 ? (int) cores : 1;
}
