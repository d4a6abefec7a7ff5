/*-------------------------------------------------------------------------
 *
 * serving_stats.c
 *	  Serving statistics in shared memory, as pg_stat_statements keeps its
 *	  counters: a fixed-size hash table of (database, model, function)
 *	  entries, each with its calls, errors, fallbacks and a latency sketch
 *	  (common/latency_sketch.h).  ml.serving_stats reads it,
 *	  ml.serving_latency_buckets reads the latency as Prometheus histogram
 *	  buckets (for ml.prometheus_metrics), ml.serving_stats_reset empties it.
 *
 * The hot path (every counted call) pays additions to a backend's pending
 * counts; they reach the shared table when the transaction ends (see
 * PendingEntry).  Latency is timed for a sample of the calls (see
 * call_is_timed): two clock reads cost ml.predict 4 to 7 % per row, more
 * than the whole counting may.  A new entry takes the table's lock
 * exclusively; when the table holds learnloop.serving_stats_max entries,
 * the calls are counted in "dropped" instead, and nothing is evicted:
 * ml.serving_stats_dropped() tells that the table is too small, where
 * silent eviction would make the counts of the evicted models wrong
 * without saying so.
 *
 * Needs learnloop in shared_preload_libraries; without it nothing is
 * counted and ml.serving_stats is empty.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "portability/instr_time.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"

#include "common/latency_sketch.h"
#include "common/srf.h"
#include "predict/serving_stats.h"

PG_FUNCTION_INFO_V1(learnloop_serving_stats_rows);
PG_FUNCTION_INFO_V1(learnloop_serving_stats_reset);
PG_FUNCTION_INFO_V1(learnloop_serving_stats_dropped);
PG_FUNCTION_INFO_V1(learnloop_serving_latency_buckets);

/*
 * Room for the longest task name (256 bytes, ml.MLTrainingData's CHECK);
 * a longer model name is counted under its first 256 bytes, as
 * pg_stat_activity cuts long queries.
 */
#define SERVING_MODEL_LEN (256 + 1)

#define SERVING_TRANCHE "learnloop serving stats"

static const char *const function_names[] = {
	[SERVING_PREDICT] = "predict",
	[SERVING_PREDICT_PROBA] = "predict_proba",
	[SERVING_PREDICT_LABEL] = "predict_label",
	[SERVING_EXPLAIN] = "explain",
	[SERVING_DECIDE] = "decide"
};

/* zero-padded, so that the hash and comparison of the whole struct are right */
typedef struct ServingKey
{
	Oid			database;
	int32		function;		/* a ServingFunction */
	char		model[SERVING_MODEL_LEN];
} ServingKey;

typedef struct ServingEntry
{
	ServingKey	key;			/* first: the hash key */
	slock_t		mutex;			/* guards everything below */
	uint64		calls;			/* including those that raised an error */
	uint64		errors;
	uint64		fallbacks;		/* ml.decide's fallback decisions */
	LatencySketch latency;		/* of the calls that returned */
} ServingEntry;

/*
 * The lock is shared to add a backend's counts into an existing entry and
 * exclusive to add or remove entries; nothing that can raise an error runs
 * while a flush holds it, since a flush also runs while a transaction
 * aborts.
 */
typedef struct ServingShared
{
	LWLock	   *lock;
	pg_atomic_uint64 dropped;	/* calls not counted: the table was full */
} ServingShared;

bool		learnloop_serving_stats = true;
int			learnloop_serving_stats_max = 500;
int			learnloop_serving_stats_time_every = 16;

static ServingShared *serving_shared = NULL;
static HTAB *serving_hash = NULL;

/*
 * Counts not yet added to the shared table: the hot path only adds to
 * these, in backend memory, and they are added to the table when the
 * transaction ends (or after PENDING_FLUSH_CALLS calls of one entry, so
 * that a long statement shows up before it ends).  That keeps the shared
 * lock, the hash lookup and the spinlock off the per-call path, where they
 * cost ml.predict over 15 % per row; pgstat's own counters wait for the
 * transaction's end likewise.
 *
 * A call is counted in calls when it starts and in the sketch when it
 * returns: the calls that raised are the difference, so no PG_TRY is
 * needed either.
 */
#define PENDING_SLOTS 8
#define PENDING_FLUSH_CALLS 10000

/*
 * Every call is timed until this many have returned since the entry was
 * last flushed (a transaction's, or 10,000 calls'), then one in
 * learnloop.serving_stats_time_every: an application that serves a few
 * calls per transaction has them all timed, a statement that predicts a
 * million rows a sample of them.
 */
#define TIME_FIRST_CALLS 64

typedef struct PendingEntry
{
	ServingKey	key;
	int			name_len;		/* of key.model */
	uint64		calls;
	uint64		fallbacks;
	uint64		untimed;		/* calls returned since the last timed one */
	uint64		last_ns;		/* the last timed call's latency */
	LatencySketch latency;		/* every returned call, untimed ones as the timed one after them */
} PendingEntry;

static PendingEntry pending[PENDING_SLOTS];
static int	npending = 0;
static int	last_slot = 0;
static bool xact_callback_registered = false;

/*
 * The serving call running now, for ml.decide's latency_us and fallback.
 * Serving functions do not run each other, so there is one at a time.
 */
typedef struct ServingCall
{
	instr_time	start;
	PendingEntry *counted;		/* NULL when not counted */
} ServingCall;

static ServingCall *current_call = NULL;

/*
 * An instr_time difference in nanoseconds (PostgreSQL 16 has
 * INSTR_TIME_GET_NANOSEC).  15's instr_time is a timespec where
 * clock_gettime exists, read in integers; elsewhere a timeval or a
 * counter, whose double is exact to the nanosecond for any call.
 */
static inline uint64
duration_ns(instr_time t)
{
#if defined(HAVE_CLOCK_GETTIME) && !defined(WIN32)
	return (uint64) t.tv_sec * UINT64CONST(1000000000) + (uint64) t.tv_nsec;
#else
	return (uint64) (INSTR_TIME_GET_DOUBLE(t) * 1e9 + 0.5);
#endif
}

static Size
serving_shmem_size(void)
{
	return add_size(MAXALIGN(sizeof(ServingShared)),
					hash_estimate_size(learnloop_serving_stats_max, sizeof(ServingEntry)));
}

void
serving_stats_request_shmem(void)
{
	RequestAddinShmemSpace(serving_shmem_size());
	RequestNamedLWLockTranche(SERVING_TRANCHE, 1);
}

/* Runs in the postmaster at startup and after a crash: the counts start empty. */
void
serving_stats_init_shmem(void)
{
	bool		found;
	HASHCTL		info;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	serving_shared = ShmemInitStruct("learnloop serving stats", sizeof(ServingShared), &found);
	if (!found)
	{
		serving_shared->lock = &(GetNamedLWLockTranche(SERVING_TRANCHE))->lock;
		pg_atomic_init_u64(&serving_shared->dropped, 0);
	}
	info.keysize = sizeof(ServingKey);
	info.entrysize = sizeof(ServingEntry);
	serving_hash = ShmemInitHash("learnloop serving stats hash",
								 learnloop_serving_stats_max, learnloop_serving_stats_max,
								 &info, HASH_ELEM | HASH_BLOBS);
	LWLockRelease(AddinShmemInitLock);
}

/*
 * Adds one pending entry to the shared table, or to the dropped count when
 * the table is full.  Allocates nothing and raises nothing, so that it can
 * run while a transaction aborts.
 */
static void
flush_entry(const PendingEntry *p)
{
	ServingEntry *entry;

	LWLockAcquire(serving_shared->lock, LW_SHARED);
	entry = hash_search(serving_hash, &p->key, HASH_FIND, NULL);
	if (entry == NULL)
	{
		LWLockRelease(serving_shared->lock);
		LWLockAcquire(serving_shared->lock, LW_EXCLUSIVE);
		entry = hash_search(serving_hash, &p->key, HASH_FIND, NULL);
		if (entry == NULL)
		{
			if (hash_get_num_entries(serving_hash) >= learnloop_serving_stats_max)
			{
				pg_atomic_fetch_add_u64(&serving_shared->dropped, p->calls);
				LWLockRelease(serving_shared->lock);
				return;
			}
			entry = hash_search(serving_hash, &p->key, HASH_ENTER, NULL);
			SpinLockInit(&entry->mutex);
			entry->calls = entry->errors = entry->fallbacks = 0;
			latency_sketch_reset(&entry->latency);
		}
	}
	SpinLockAcquire(&entry->mutex);
	entry->calls += p->calls;
	entry->errors += p->calls - p->latency.count;
	entry->fallbacks += p->fallbacks;
	latency_sketch_merge(&entry->latency, &p->latency);
	SpinLockRelease(&entry->mutex);
	LWLockRelease(serving_shared->lock);
}

/*
 * Counts the untimed calls since the last timed one as that one: the
 * sketch then holds every call that returned, so errors (calls that did not
 * return) stay exact.
 */
static void
settle_untimed(PendingEntry *p)
{
	if (p->untimed == 0)
		return;
	latency_sketch_insert_n(&p->latency, p->last_ns, p->untimed);
	p->untimed = 0;
}

static void
flush_pending(void)
{
	for (int i = 0; i < npending; i++)
	{
		settle_untimed(&pending[i]);
		flush_entry(&pending[i]);
	}
	npending = 0;
	last_slot = 0;
}

static void
flush_at_xact_end(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT)
		flush_pending();
}

static void
pending_reset(PendingEntry *p)
{
	p->calls = 0;
	p->fallbacks = 0;
	p->untimed = 0;
	p->last_ns = 0;
	latency_sketch_reset(&p->latency);
}

/*
 * The pending entry of a call, found by its model name (argument model_arg,
 * or default_arg when that is NULL): NULL when the call names no model
 * (it raises itself).  The last entry used is tried first.
 */
static PendingEntry *
pending_entry(FunctionCallInfo fcinfo, ServingFunction function, int model_arg, int default_arg)
{
	text	   *name;
	const char *data;
	int			len;
	PendingEntry *p;

	if (PG_ARGISNULL(model_arg))
	{
		if (default_arg < 0 || PG_ARGISNULL(default_arg))
			return NULL;
		model_arg = default_arg;
	}
	name = PG_GETARG_TEXT_PP(model_arg);
	data = VARDATA_ANY(name);
	len = VARSIZE_ANY_EXHDR(name);
	if (len >= SERVING_MODEL_LEN)
		len = pg_mbcliplen(data, len, SERVING_MODEL_LEN - 1);

	p = &pending[last_slot];
	if (last_slot < npending && p->key.function == function &&
		p->name_len == len && memcmp(p->key.model, data, len) == 0)
		return p;
	for (int i = 0; i < npending; i++)
	{
		p = &pending[i];
		if (p->key.function == function && p->name_len == len &&
			memcmp(p->key.model, data, len) == 0)
		{
			last_slot = i;
			return p;
		}
	}

	if (!xact_callback_registered)
	{
		RegisterXactCallback(flush_at_xact_end, NULL);
		xact_callback_registered = true;
	}
	if (npending == PENDING_SLOTS)
		flush_pending();
	p = &pending[npending];
	memset(&p->key, 0, sizeof(ServingKey));
	p->key.database = MyDatabaseId;
	p->key.function = function;
	memcpy(p->key.model, data, len);
	p->name_len = len;
	pending_reset(p);
	last_slot = npending++;
	return p;
}

/*
 * Whether to time the call just counted in p: the first TIME_FIRST_CALLS
 * that return, then one call in learnloop.serving_stats_time_every.  The
 * untimed calls in between are counted as the timed one after them (and at
 * a flush as the last one), a systematic sample of the latency.
 */
static inline bool
call_is_timed(const PendingEntry *p)
{
	return p->latency.count < TIME_FIRST_CALLS ||
		p->calls % learnloop_serving_stats_time_every == 0;
}

Datum
serving_stats_call(FunctionCallInfo fcinfo, ServingFunction function,
				   int model_arg, int default_arg, PGFunction impl)
{
	ServingCall call;
	instr_time	end;
	Datum		result;
	PendingEntry *p = NULL;

	if (learnloop_serving_stats && serving_hash != NULL)
		p = pending_entry(fcinfo, function, model_arg, default_arg);
	if (p)
		p->calls++;

	/* ml.decide times itself for its decision row, counted or not */
	if (function != SERVING_DECIDE && (p == NULL || !call_is_timed(p)))
	{
		result = impl(fcinfo);
		if (p)
			p->untimed++;
	}
	else
	{
		call.counted = p;
		INSTR_TIME_SET_CURRENT(call.start);
		current_call = &call;
		result = impl(fcinfo);
		current_call = NULL;
		if (p)
		{
			INSTR_TIME_SET_CURRENT(end);
			INSTR_TIME_SUBTRACT(end, call.start);
			p->last_ns = duration_ns(end);
			latency_sketch_insert_n(&p->latency, p->last_ns, 1 + p->untimed);
			p->untimed = 0;
		}
	}
	if (p && p->calls >= PENDING_FLUSH_CALLS)
	{
		settle_untimed(p);
		flush_entry(p);
		pending_reset(p);
	}
	return result;
}

/* Microseconds since the current serving call began. */
int64
serving_stats_elapsed_us(void)
{
	instr_time	now;

	Assert(current_call != NULL);
	INSTR_TIME_SET_CURRENT(now);
	INSTR_TIME_SUBTRACT(now, current_call->start);
	return INSTR_TIME_GET_MICROSEC(now);
}

/* The current call (ml.decide's) fell back. */
void
serving_stats_fallback(void)
{
	Assert(current_call != NULL);
	if (current_call->counted)
		current_call->counted->fallbacks++;
}

/* a latency in milliseconds, or NULL when no call returned */
static void
set_ms(Datum *values, bool *nulls, int i, double seconds, bool empty)
{
	nulls[i] = empty;
	values[i] = Float8GetDatum(seconds * 1000.0);
}

/* writes the row of one entry (a copy taken under its spinlock) */
typedef void (*EntryRowWriter) (ReturnSetInfo *rsinfo, const ServingEntry *entry);

/*
 * Writes a row per entry of every database, as pg_stat_statements shows
 * them; model names are no secret from roles that may read monitoring.
 * Each entry is copied under its spinlock, so a row is one consistent
 * snapshot of its counters.
 */
static Datum
entry_rows(FunctionCallInfo fcinfo, EntryRowWriter write_row)
{
	ReturnSetInfo *rsinfo = srf_materialize(fcinfo);
	HASH_SEQ_STATUS seq;
	ServingEntry *entry;
	ServingEntry *copy;

	if (serving_hash == NULL)
		return (Datum) 0;

	copy = palloc(sizeof(ServingEntry));
	LWLockAcquire(serving_shared->lock, LW_SHARED);
	hash_seq_init(&seq, serving_hash);
	while ((entry = hash_seq_search(&seq)) != NULL)
	{
		SpinLockAcquire(&entry->mutex);
		memcpy(copy, entry, sizeof(ServingEntry));
		SpinLockRelease(&entry->mutex);
		write_row(rsinfo, copy);
	}
	LWLockRelease(serving_shared->lock);
	return (Datum) 0;
}

/* A row of ml.serving_stats: counts and latency in milliseconds. */
static void
write_stats_row(ReturnSetInfo *rsinfo, const ServingEntry *copy)
{
	Datum		values[13];
	bool		nulls[13] = {false};
	bool		empty = copy->latency.count == 0;

	values[0] = ObjectIdGetDatum(copy->key.database);
	values[1] = CStringGetTextDatum(copy->key.model);
	values[2] = CStringGetTextDatum(function_names[copy->key.function]);
	values[3] = Int64GetDatum((int64) copy->calls);
	values[4] = Int64GetDatum((int64) copy->errors);
	values[5] = Int64GetDatum((int64) copy->fallbacks);
	set_ms(values, nulls, 6, latency_sketch_quantile(&copy->latency, 0.5), empty);
	set_ms(values, nulls, 7, latency_sketch_quantile(&copy->latency, 0.95), empty);
	set_ms(values, nulls, 8, latency_sketch_quantile(&copy->latency, 0.99), empty);
	set_ms(values, nulls, 9, empty ? 0 : latency_sketch_sum_seconds(&copy->latency) / copy->latency.count, empty);
	set_ms(values, nulls, 10, copy->latency.min_ns / 1e9, empty);
	set_ms(values, nulls, 11, copy->latency.max_ns / 1e9, empty);
	set_ms(values, nulls, 12, latency_sketch_sum_seconds(&copy->latency), false);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

Datum
learnloop_serving_stats_rows(PG_FUNCTION_ARGS)
{
	return entry_rows(fcinfo, write_stats_row);
}

/*
 * A row of ml.serving_latency_buckets(): the latency as a Prometheus
 * histogram in seconds, the fixed `le` bounds of latency_sketch.h with the
 * cumulative count at each (the +Inf bucket is count, the calls that
 * returned), and the exact sum.  The arrays are in the shape
 * postgres_exporter's HISTOGRAM columns read; ml.prometheus_metrics turns
 * them into one sample per bucket.
 */
static void
write_buckets_row(ReturnSetInfo *rsinfo, const ServingEntry *copy)
{
	Datum		values[7];
	bool		nulls[7] = {false};
	uint64		counts[LATENCY_SKETCH_DEFAULT_NLE];
	Datum		le_datums[LATENCY_SKETCH_DEFAULT_NLE];
	Datum		count_datums[LATENCY_SKETCH_DEFAULT_NLE];

	latency_sketch_cumulative(&copy->latency, latency_sketch_default_le,
							  LATENCY_SKETCH_DEFAULT_NLE, counts);
	for (int k = 0; k < LATENCY_SKETCH_DEFAULT_NLE; k++)
	{
		le_datums[k] = Float8GetDatum(latency_sketch_default_le[k]);
		count_datums[k] = Int64GetDatum((int64) counts[k]);
	}
	values[0] = ObjectIdGetDatum(copy->key.database);
	values[1] = CStringGetTextDatum(copy->key.model);
	values[2] = CStringGetTextDatum(function_names[copy->key.function]);
	values[3] = PointerGetDatum(construct_array(le_datums, LATENCY_SKETCH_DEFAULT_NLE, FLOAT8OID,
												sizeof(float8), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	values[4] = PointerGetDatum(construct_array(count_datums, LATENCY_SKETCH_DEFAULT_NLE, INT8OID,
												sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	values[5] = Float8GetDatum(latency_sketch_sum_seconds(&copy->latency));
	values[6] = Int64GetDatum((int64) copy->latency.count);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

Datum
learnloop_serving_latency_buckets(PG_FUNCTION_ARGS)
{
	return entry_rows(fcinfo, write_buckets_row);
}

/*
 * Removes the entries of one model in the current database, or (NULL) every
 * entry of every database and the dropped count; returns the entries
 * removed.
 */
Datum
learnloop_serving_stats_reset(PG_FUNCTION_ARGS)
{
	HASH_SEQ_STATUS seq;
	ServingEntry *entry;
	bool		all = PG_ARGISNULL(0);
	char	   *model = all ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0));
	int64		removed = 0;
	int			kept = 0;

	if (serving_hash == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("serving statistics are not kept"),
				 errhint("Add learnloop to shared_preload_libraries and restart the server.")));
	if (!all && strlen(model) >= SERVING_MODEL_LEN)
		model[pg_mbcliplen(model, strlen(model), SERVING_MODEL_LEN - 1)] = '\0';

	/* this backend's counts not yet added would bring the entries back */
	for (int i = 0; i < npending; i++)
		if (!all && (pending[i].key.database != MyDatabaseId ||
					 strcmp(pending[i].key.model, model) != 0))
			pending[kept++] = pending[i];
	npending = kept;
	last_slot = 0;

	LWLockAcquire(serving_shared->lock, LW_EXCLUSIVE);
	hash_seq_init(&seq, serving_hash);
	while ((entry = hash_seq_search(&seq)) != NULL)
	{
		if (!all && (entry->key.database != MyDatabaseId ||
					 strcmp(entry->key.model, model) != 0))
			continue;
		hash_search(serving_hash, &entry->key, HASH_REMOVE, NULL);
		removed++;
	}
	if (all)
		pg_atomic_write_u64(&serving_shared->dropped, 0);
	LWLockRelease(serving_shared->lock);
	PG_RETURN_INT64(removed);
}

/* Calls not counted since the last full reset because the table was full. */
Datum
learnloop_serving_stats_dropped(PG_FUNCTION_ARGS)
{
	if (serving_hash == NULL)
		PG_RETURN_NULL();
	PG_RETURN_INT64((int64) pg_atomic_read_u64(&serving_shared->dropped));
}
