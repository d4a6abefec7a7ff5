/*-------------------------------------------------------------------------
 *
 * launcher.c
 *	  ml.train and ml.train_async: start a training worker for a job.
 *
 * The caller validates the arguments, registers the job, puts it in a DSM
 * segment with a message queue, starts a dynamic background worker and
 * (for ml.train) relays the worker's notices and errors until the result
 * arrives.  If the caller is cancelled or ends, detaching from the segment
 * terminates the worker; a worker that dies detaches the queue, which the
 * caller reports as an error instead of waiting forever.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/namespace.h"
#include "commands/sequence.h"
#include "libpq/pqformat.h"
#include "libpq/pqmq.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/shm_mq.h"
#include "storage/shm_toc.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "common/json_tree.h"
#include "common/compat.h"
#include "common/srf.h"
#include "train/jobs.h"
#include "train/spec.h"
#include "train/worker.h"

PG_FUNCTION_INFO_V1(learnloop_train);
PG_FUNCTION_INFO_V1(learnloop_train_async);

typedef struct LaunchedJob
{
	int64		job_id;
	const char *model;
	dsm_segment *seg;
	shm_mq_handle *queue;
	BackgroundWorkerHandle *handle;
} LaunchedJob;

/* Detaching from the job's segment (error, cancel, exit) stops the worker. */
static void
terminate_worker(dsm_segment *seg, Datum arg)
{
	TerminateBackgroundWorker((BackgroundWorkerHandle *) DatumGetPointer(arg));
}

static int64
next_job_id(void)
{
	Oid			seq = get_relname_relid("training_job_id_seq", get_namespace_oid("ml", false));
	int64		job_id = DatumGetInt64(DirectFunctionCall1(nextval_oid, ObjectIdGetDatum(seq)));

	/*
	 * nextval's WAL record is flushed only when a transaction commits: flush
	 * it now, or a crash during the job (which ends this transaction too)
	 * would hand the same job id to the next job.  The end of the last
	 * record, not the insert position: that one may lie past a page header
	 * not yet written, a request XLogFlush cannot satisfy.
	 */
	XLogFlush(learnloop_xlog_insert_end());
	return job_id;
}

/*
 * The job's DSM segment: the job and its spec, the caller's libraries and
 * settings, and for ml.train the queue of the worker's messages.
 */
static TrainJobShared *
job_segment(LaunchedJob *launched, const StringInfoData *json, bool async)
{
	shm_toc_estimator e;
	Size		job_size = add_size(offsetof(TrainJobShared, spec), json->len + 1);
	Size		guc_size = EstimateGUCStateSpace();
	Size		library_size = EstimateLibraryStateSpace();
	char	   *space;
	shm_toc    *toc;
	TrainJobShared *job;

	shm_toc_initialize_estimator(&e);
	shm_toc_estimate_chunk(&e, job_size);
	shm_toc_estimate_chunk(&e, TRAIN_QUEUE_SIZE);
	shm_toc_estimate_chunk(&e, guc_size);
	shm_toc_estimate_chunk(&e, library_size);
	shm_toc_estimate_keys(&e, 4);
	launched->seg = dsm_create(shm_toc_estimate(&e), 0);
	toc = shm_toc_create(TRAIN_SHM_MAGIC, dsm_segment_address(launched->seg),
						 shm_toc_estimate(&e));

	job = shm_toc_allocate(toc, job_size);
	job->job_id = launched->job_id;
	job->job_slot = jobs_register(launched->job_id, launched->model, GetUserId(), MyDatabaseId);
	job->database = MyDatabaseId;
	job->session_user_id = GetSessionUserId();
	job->current_user_id = GetUserId();
	job->async = async;
	memcpy(job->spec, json->data, json->len + 1);
	shm_toc_insert(toc, TRAIN_KEY_JOB, job);

	/*
	 * Every setting of the caller, whole (search_path, TimeZone, DateStyle,
	 * ...), as parallel query hands them to its workers: the worker must
	 * resolve names and compute expressions as the caller would.
	 */
	space = shm_toc_allocate(toc, library_size);
	SerializeLibraryState(library_size, space);
	shm_toc_insert(toc, TRAIN_KEY_LIBRARIES, space);
	space = shm_toc_allocate(toc, guc_size);
	SerializeGUCState(guc_size, space);
	shm_toc_insert(toc, TRAIN_KEY_GUC, space);

	if (!async)
	{
		shm_mq	   *mq = shm_mq_create(shm_toc_allocate(toc, TRAIN_QUEUE_SIZE), TRAIN_QUEUE_SIZE);

		shm_toc_insert(toc, TRAIN_KEY_QUEUE, mq);
		shm_mq_set_receiver(mq, MyProc);
		launched->queue = shm_mq_attach(mq, launched->seg, NULL);
	}
	else
	{
		/* the worker keeps the segment alive once it has attached */
		dsm_pin_segment(launched->seg);
	}
	return job;
}

/* Starts the job's worker and waits until it runs; the job fails if not. */
static void
start_worker(LaunchedJob *launched, const TrainJobShared *job)
{
	BackgroundWorker worker = {0};
	MemoryContext old;
	pid_t		pid;

	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	strlcpy(worker.bgw_library_name, "learnloop", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "learnloop_training_worker_main", BGW_MAXLEN);
	snprintf(worker.bgw_name, BGW_MAXLEN, "learnloop training job " INT64_FORMAT, launched->job_id);
	strlcpy(worker.bgw_type, "learnloop training", BGW_MAXLEN);
	worker.bgw_main_arg = UInt32GetDatum(dsm_segment_handle(launched->seg));
	worker.bgw_notify_pid = MyProcPid;

	old = MemoryContextSwitchTo(TopTransactionContext);
	if (!RegisterDynamicBackgroundWorker(&worker, &launched->handle))
	{
		jobs_finish(job->job_slot, launched->job_id, MyDatabaseId, false, "no background worker slot was free");
		ereport(ERROR,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("could not start a training worker: every background worker slot is taken"),
				 errhint("Raise max_worker_processes (now %d) and restart, or wait for other jobs to finish.",
						 max_worker_processes)));
	}
	MemoryContextSwitchTo(old);

	if (!job->async)
	{
		on_dsm_detach(launched->seg, terminate_worker, PointerGetDatum(launched->handle));
		shm_mq_set_handle(launched->queue, launched->handle);
	}
	if (WaitForBackgroundWorkerStartup(launched->handle, &pid) != BGWH_STARTED)
	{
		jobs_finish(job->job_slot, launched->job_id, MyDatabaseId, false, "the training worker could not start");
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("the training worker could not start"),
				 errhint("See the server log.")));
	}
	/* known from now on, so that a worker that dies is seen as dead */
	jobs_set_worker(job->job_slot, launched->job_id, MyDatabaseId, pid);
}

static LaunchedJob
launch(TrainSpec *spec, bool async)
{
	LaunchedJob launched = {0};
	StringInfoData json;

	initStringInfo(&json);
	spec_to_json(spec, &json);
	launched.job_id = next_job_id();
	launched.model = spec->model;
	start_worker(&launched, job_segment(&launched, &json, async));
	return launched;
}

/*
 * Relays the worker's notices and errors; returns the result document.
 * Errors from the worker are rethrown here as errors of this statement,
 * never as FATAL: a worker's death is no reason to end the session.  A
 * context line says where they come from, as parallel query's does.
 */
static char *
receive(LaunchedJob *launched)
{
	char	   *result = NULL;

	for (;;)
	{
		Size		len;
		void	   *data;
		StringInfoData msg;
		char		msgtype;

		if (shm_mq_receive(launched->queue, &len, &data, false) != SHM_MQ_SUCCESS)
			break;
		msg.data = data;
		msg.len = len;
		msg.maxlen = len;
		msg.cursor = 0;
		msgtype = pq_getmsgbyte(&msg);
		if (msgtype == 'E' || msgtype == 'N')
		{
			ErrorData	edata;
			char	   *worker_context;

			pq_parse_errornotice(&msg, &edata);
			edata.elevel = Min(edata.elevel, ERROR);
			worker_context = psprintf("learnloop training worker of model \"%s\"",
									  launched->model);
			edata.context = edata.context ?
				psprintf("%s\n%s", edata.context, worker_context) : worker_context;
			ThrowErrorData(&edata);
		}
		else if (msgtype == TRAIN_MSG_RESULT)
			result = pnstrdup(msg.data + msg.cursor, msg.len - msg.cursor);
	}
	if (result == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("the training worker exited without a result"),
				 errhint("See the server log: it may have been terminated or crashed.")));
	return result;
}

static Datum
json_float(const cJSON *item, bool *isnull)
{
	*isnull = !cJSON_IsNumber(item);
	return Float8GetDatum(*isnull ? 0 : item->valuedouble);
}

/* ml.train: trains, waits, and returns one row per candidate. */
Datum
learnloop_train(PG_FUNCTION_ARGS)
{
	TrainSpec  *spec = spec_from_args(fcinfo);
	ReturnSetInfo *rsinfo = srf_materialize(fcinfo);
	LaunchedJob launched = launch(spec, false);
	JsonTree   *rows = json_tree_parse(receive(&launched));
	const cJSON *row;

	cJSON_ArrayForEach(row, rows->root)
	{
		Datum		values[9];
		bool		nulls[9] = {0};
		int			version = cJSON_GetObjectItem(row, "version")->valueint;
		char	   *params = json_print(cJSON_GetObjectItem(row, "params"));

		values[0] = CStringGetTextDatum(cJSON_GetObjectItem(row, "model")->valuestring);
		values[1] = Int32GetDatum(version);
		nulls[1] = version == 0;
		values[2] = DirectFunctionCall1(jsonb_in, CStringGetDatum(params));
		values[3] = CStringGetTextDatum(cJSON_GetObjectItem(row, "metric")->valuestring);
		values[4] = json_float(cJSON_GetObjectItem(row, "score"), &nulls[4]);
		values[5] = json_float(cJSON_GetObjectItem(row, "champion_score"), &nulls[5]);
		values[6] = BoolGetDatum(cJSON_IsTrue(cJSON_GetObjectItem(row, "deployed")));
		values[7] = CStringGetTextDatum(cJSON_GetObjectItem(row, "reason")->valuestring);
		values[8] = Int64GetDatum(launched.job_id);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	json_tree_free(rows);
	dsm_detach(launched.seg);
	return (Datum) 0;
}

/* ml.train_async: starts the job and returns its id at once. */
Datum
learnloop_train_async(PG_FUNCTION_ARGS)
{
	TrainSpec  *spec = spec_from_args(fcinfo);
	LaunchedJob launched = launch(spec, true);

	dsm_detach(launched.seg);
	PG_RETURN_INT64(launched.job_id);
}
