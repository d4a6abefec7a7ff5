/*-------------------------------------------------------------------------
 *
 * learnloop.c
 *	  Module entry point: settings, shared memory and the webhook
 *	  delivery workers' registration.
 *
 * _PG_init may run in the postmaster (shared_preload_libraries), which
 * forks every backend, so it only defines settings and asks for shared
 * memory: no XGBoost, OpenMP or libcurl call may happen here.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "common/compat.h"
#include "learnloop.h"
#include "notify/delivery.h"
#include "predict/feature_vector.h"
#include "predict/model_cache.h"
#include "predict/serving_stats.h"
#include "record/record.h"
#include "train/dataset.h"
#include "train/jobs.h"

PG_MODULE_MAGIC;

int			learnloop_max_payload_bytes = 64 * 1024;
int			learnloop_training_threads = 0;
int			learnloop_training_memory = TRAINING_MEMORY_AUTO;
int			learnloop_training_memory_limit = 64 * 1024;

static const struct config_enum_entry training_memory_options[] = {
	{"auto", TRAINING_MEMORY_AUTO, false},
	{"memory", TRAINING_MEMORY_MEMORY, false},
	{"stream", TRAINING_MEMORY_STREAM, false},
	{NULL, 0, false}
};

#if PG_VERSION_NUM >= 150000
static shmem_request_hook_type prev_shmem_request_hook = NULL;
#endif
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

extern PGDLLEXPORT void _PG_init(void);

#if PG_VERSION_NUM >= 150000
static void
learnloop_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	jobs_request_shmem();
	serving_stats_request_shmem();
	webhook_wake_request_shmem();
}
#endif

static void
learnloop_shmem_startup(void)
{
	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	jobs_init_shmem();
	serving_stats_init_shmem();
	webhook_wake_init_shmem();
}

void
_PG_init(void)
{
	DefineCustomIntVariable("learnloop.max_payload_bytes",
							"Largest features, decision or outcome document accepted.",
							"Protects the hot recording path and the training data from runaway payloads.",
							&learnloop_max_payload_bytes,
							64 * 1024,
							1024,
							MaxAllocSize / 2,
							PGC_SUSET,
							GUC_UNIT_BYTE,
							NULL, NULL, NULL);

	DefineCustomIntVariable("learnloop.training_threads",
							"XGBoost threads per training job; 0 uses every core.",
							NULL,
							&learnloop_training_threads,
							0,
							0,
							1024,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);

	DefineCustomEnumVariable("learnloop.training_memory",
							 "Where ml.train keeps the training rows' features: auto, memory or stream.",
							 "memory holds them as float columns; stream spills them to a temporary file and "
							 "builds XGBoost's quantised matrix from it batch by batch; auto streams once the "
							 "columns would pass learnloop.training_memory_limit.",
							 &learnloop_training_memory,
							 TRAINING_MEMORY_AUTO,
							 training_memory_options,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("learnloop.training_memory_limit",
							"Size of the training rows' feature columns above which learnloop.training_memory = auto trains from a stream.",
							NULL,
							&learnloop_training_memory_limit,
							64 * 1024,
							64,
							MAX_KILOBYTES,
							PGC_USERSET,
							GUC_UNIT_KB,
							NULL, NULL, NULL);

	DefineCustomIntVariable("learnloop.model_cache_size",
							"Models each backend keeps loaded for serving.",
							"The least recently used model is evicted beyond this.",
							&learnloop_model_cache_size,
							16,
							1,
							10000,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);

	DefineCustomEnumVariable("learnloop.unknown_features",
							 "What serving does with feature keys the model does not know: ignore, warning or error.",
							 "A misspelt key is otherwise a silently missing feature.  A row with none of the "
							 "model's features is a WARNING even with ignore, and an error with error.",
							 &learnloop_unknown_features,
							 UNKNOWN_FEATURES_WARNING,
							 unknown_features_options,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	/*
	 * Superuser-only: an application role must not be able to hide its own
	 * calls from the monitoring.
	 */
	DefineCustomBoolVariable("learnloop.serving_stats",
							 "Counts calls, errors, fallbacks and latency of ml.predict*, ml.explain and ml.decide in ml.serving_stats.",
							 "Needs learnloop in shared_preload_libraries.",
							 &learnloop_serving_stats,
							 true,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	/*
	 * Superuser-only as well: the counts stay exact whatever it is, but a
	 * role could otherwise make the latency figures coarser than the
	 * administrator chose.
	 */
	DefineCustomIntVariable("learnloop.serving_stats_time_every",
							"Times one serving call in this many for ml.serving_stats' latency, after the first 64 of a transaction.",
							"1 times every call; each timed call stands for the untimed ones before it.  Calls are counted exactly either way.",
							&learnloop_serving_stats_time_every,
							16,
							1,
							1000000,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);

	/*
	 * Settings of shared memory and of the webhook delivery workers exist
	 * only when the library is preloaded: loaded later (CREATE EXTENSION
	 * without shared_preload_libraries), defining a postmaster setting is
	 * FATAL for the backend, and neither the memory nor the workers are
	 * there.  The functions that need them say so.
	 */
	if (process_shared_preload_libraries_in_progress)
	{
		DefineCustomIntVariable("learnloop.max_training_jobs",
								"Training jobs that ml.training_jobs can show at once.",
								"Needs learnloop in shared_preload_libraries.",
								&learnloop_max_training_jobs,
								16,
								1,
								1024,
								PGC_POSTMASTER,
								0,
								NULL, NULL, NULL);

		DefineCustomIntVariable("learnloop.serving_stats_max",
								"Entries (database, model, function) that ml.serving_stats can hold.",
								"Calls of further entries are counted in ml.serving_stats_dropped(); each entry takes about 7.5 kB of shared memory.",
								&learnloop_serving_stats_max,
								500,
								1,
								100000,
								PGC_POSTMASTER,
								0,
								NULL, NULL, NULL);

		webhook_define_settings();
	}

	/* after every definition: it removes the placeholders of undefined names */
	MarkGUCPrefixReserved("learnloop");

	/* every process that loads the library: a hook, no work */
	record_outcome_install_hook();

	if (!process_shared_preload_libraries_in_progress)
		return;

#if PG_VERSION_NUM >= 150000
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = learnloop_shmem_request;
#else
	jobs_request_shmem();
	serving_stats_request_shmem();
	webhook_wake_request_shmem();
#endif
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = learnloop_shmem_startup;
	webhook_register_workers();
}
