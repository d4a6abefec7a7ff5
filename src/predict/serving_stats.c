/*-------------------------------------------------------------------------
 *
 * serving_stats.c
 *	  Serving statistics in shared memory, as pg_stat_statements keeps its
 *	  counters: a fixed-size hash table of (database, model, function)
 *	  entries, each with its calls, errors, fallbacks and a latency sketch
 *	  (common/latency_sketch.h).  ml.serving_stats reads it,
 *	  ml.serving_stats_reset empties it.
 *
 * The hot path (every counted call) pays two clock reads, a shared LWLock,
 * a hash lookup and a spinlock around the entry's update.  A new entry
 * takes the lock exclusively; when the table holds
 * learnloop.serving_stats_max entries, the call is counted in "dropped"
 * instead, and nothing is evicted: ml.serving_stats_dropped() tells that
 * the table is too small, where silent eviction would make the counts of
 * the evicted models wrong without saying so.
 *
 * Needs learnloop in shared_preload_libraries; without it nothing is
 * counted and ml.serving_stats is empty.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "port/atomics.h"
#include "portability/instr_time.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"

#include "common/latency_sketch.h"
#include "common/srf.h"
#include "predict/serving_stats.h"

PG_FUNCTION_INFO_V1(learnloop_serving_stats_rows);
PG_FUNCTION_INFO_V1(learnloop_serving_stats_reset);
PG_FUNCTION_INFO_V1(learnloop_serving_stats_dropped);

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
 * The lock is shared to count into an existing entry and exclusive to add
 * or remove entries; nothing that can raise an error runs while the hot
 * path holds it.
 */
typedef struct ServingShared
{
	LWLock	   *lock;
	pg_atomic_uint64 dropped;	/* calls not counted: the table was full */
} ServingShared;

bool		learnloop_serving_stats = true;
int			learnloop_serving_stats_max = 500;

static ServingShared *serving_shared = NULL;
static HTAB *serving_hash = NULL;

/*
 * The serving call running now, for ml.decide's latency_us and fallback;
 * each call restores the one it ran inside (a model loaded by SPI could in
 * principle serve one).
 */
typedef struct ServingCall
{
	instr_time	start;
	bool		fallback;
} ServingCall;

static ServingCall *current_call = NULL;

/*
 * An instr_time difference in nanoseconds (PostgreSQL 16 has
 * INSTR_TIME_GET_NANOSEC; 15's instr_time is a timespec, a timeval or a
 * counter, and its double is exact to the nanosecond for any call).
 */
static inline uint64
duration_ns(instr_time t)
{
	return (uint64) (INSTR_TIME_GET_DOUBLE(t) * 1e9 + 0.5);
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

/* The key of a call: false when the call names no model (it raises itself). */
static bool
call_key(FunctionCallInfo fcinfo, ServingFunction function, int model_arg,
		 int default_arg, ServingKey *key)
{
	text	   *name;
	int			len;

	if (PG_ARGISNULL(model_arg))
	{
		if (default_arg < 0 || PG_ARGISNULL(default_arg))
			return false;
		model_arg = default_arg;
	}
	name = PG_GETARG_TEXT_PP(model_arg);
	memset(key, 0, sizeof(ServingKey));
	key->database = MyDatabaseId;
	key->function = function;
	len = VARSIZE_ANY_EXHDR(name);
	if (len >= SERVING_MODEL_LEN)
		len = pg_mbcliplen(VARDATA_ANY(name), len, SERVING_MODEL_LEN - 1);
	memcpy(key->model, VARDATA_ANY(name), len);
	return true;
}

/*
 * Counts one call: its latency when it returned (ok), an error when it
 * raised.  Allocates nothing, so that it can run while an error unwinds.
 */
static void
count_call(const ServingKey *key, bool ok, uint64 ns, bool fallback)
{
	ServingEntry *entry;

	/* builds the sketch's tables on first use, outside the spinlock */
	(void) latency_sketch_bucket(ns);

	LWLockAcquire(serving_shared->lock, LW_SHARED);
	entry = hash_search(serving_hash, key, HASH_FIND, NULL);
	if (entry == NULL)
	{
		LWLockRelease(serving_shared->lock);
		LWLockAcquire(serving_shared->lock, LW_EXCLUSIVE);
		entry = hash_search(serving_hash, key, HASH_FIND, NULL);
		if (entry == NULL)
		{
			if (hash_get_num_entries(serving_hash) >= learnloop_serving_stats_max)
			{
				pg_atomic_fetch_add_u64(&serving_shared->dropped, 1);
				LWLockRelease(serving_shared->lock);
				return;
			}
			entry = hash_search(serving_hash, key, HASH_ENTER, NULL);
			SpinLockInit(&entry->mutex);
			entry->calls = entry->errors = entry->fallbacks = 0;
			latency_sketch_reset(&entry->latency);
		}
	}
	SpinLockAcquire(&entry->mutex);
	entry->calls++;
	if (ok)
		latency_sketch_insert(&entry->latency, ns);
	else
		entry->errors++;
	if (fallback)
		entry->fallbacks++;
	SpinLockRelease(&entry->mutex);
	LWLockRelease(serving_shared->lock);
}

Datum
serving_stats_call(FunctionCallInfo fcinfo, ServingFunction function,
				   int model_arg, int default_arg, PGFunction impl)
{
	ServingCall call = {{0}, false};
	ServingCall *outer = current_call;
	ServingKey	key;
	instr_time	end;
	Datum		result;

	/* ml.decide times itself for its decision row even when nothing is counted */
	if (!learnloop_serving_stats || serving_hash == NULL ||
		!call_key(fcinfo, function, model_arg, default_arg, &key))
	{
		if (function != SERVING_DECIDE)
			return impl(fcinfo);
		INSTR_TIME_SET_CURRENT(call.start);
		current_call = &call;
		result = impl(fcinfo);
		current_call = outer;
		return result;
	}

	INSTR_TIME_SET_CURRENT(call.start);
	current_call = &call;
	PG_TRY();
	{
		result = impl(fcinfo);
	}
	PG_CATCH();
	{
		current_call = outer;
		count_call(&key, false, 0, false);
		PG_RE_THROW();
	}
	PG_END_TRY();
	INSTR_TIME_SET_CURRENT(end);
	current_call = outer;
	INSTR_TIME_SUBTRACT(end, call.start);
	count_call(&key, true, duration_ns(end), call.fallback);
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

void
serving_stats_fallback(void)
{
	Assert(current_call != NULL);
	current_call->fallback = true;
}

/* a latency in milliseconds, or NULL when no call returned */
static void
set_ms(Datum *values, bool *nulls, int i, double seconds, bool empty)
{
	nulls[i] = empty;
	values[i] = Float8GetDatum(seconds * 1000.0);
}

/*
 * Rows of ml.serving_stats: every entry of every database, as
 * pg_stat_statements shows them; model names are no secret from roles
 * that may read monitoring.
 */
Datum
learnloop_serving_stats_rows(PG_FUNCTION_ARGS)
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
		Datum		values[13];
		bool		nulls[13] = {false};
		bool		empty;

		SpinLockAcquire(&entry->mutex);
		memcpy(copy, entry, sizeof(ServingEntry));
		SpinLockRelease(&entry->mutex);

		empty = copy->latency.count == 0;
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
	LWLockRelease(serving_shared->lock);
	return (Datum) 0;
}

/*
 * Removes the entries of one model in the current database, or (NULL) every
 * entry of every database and the dropped count; returns the entries
 * removed.
 */
Datum
learnloop_serving_stats_reset(PG_FUNCTION_ARGS)
{
	ServingKey	key;
	HASH_SEQ_STATUS seq;
	ServingEntry *entry;
	bool		all = PG_ARGISNULL(0);
	int64		removed = 0;

	if (serving_hash == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("serving statistics are not kept"),
				 errhint("Add learnloop to shared_preload_libraries and restart the server.")));
	if (!all)
		call_key(fcinfo, SERVING_PREDICT, 0, -1, &key);

	LWLockAcquire(serving_shared->lock, LW_EXCLUSIVE);
	hash_seq_init(&seq, serving_hash);
	while ((entry = hash_seq_search(&seq)) != NULL)
	{
		if (!all && (entry->key.database != key.database ||
					 strcmp(entry->key.model, key.model) != 0))
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
