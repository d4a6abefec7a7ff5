/*-------------------------------------------------------------------------
 *
 * worker.c
 *	  The training background worker.
 *
 * Started by ml.train for one job.  It connects to the caller's database
 * as the caller's session user and takes on the caller's current role, so
 * it reads only what that role may read and registers the model as that
 * role.  Its errors and notices travel to the caller through a shm_mq (as
 * a parallel worker's do); a caller that goes away terminates it.
 *
 * The three phases hold no transaction between them:
 *	1. load the rows and the champion in one read-only transaction, which
 *	   is rolled back (it must not write, and what it did is discarded);
 *	2. train and evaluate with no snapshot held;
 *	3. register model, evaluations and deployment in one transaction.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "libpq/pqformat.h"
#include "libpq/pqmq.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/shm_mq.h"
#include "storage/shm_toc.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "train/cohort.h"
#include "train/jobs.h"
#include "train/registry.h"
#include "train/train_run.h"
#include "train/warm.h"
#include "train/worker.h"

static TrainJobShared *job = NULL;
static MemoryContext job_cxt = NULL;

/* The worker's side of progress.h */
typedef struct WorkerProgress
{
	TrainJobShared *job;
	TimestampTz boosting_started;	/* of the current candidate */
	TimestampTz last_notice;
	int			last_candidate;
} WorkerProgress;

static void
pg_attribute_noreturn()
report_cancelled(int64 job_id)
{
	ereport(ERROR,
			(errcode(ERRCODE_QUERY_CANCELED),
			 errmsg("training job %lld was cancelled", (long long) job_id)));
	pg_unreachable();
}

/*
 * Between batches and rounds: the flag ml.cancel_training sets (which
 * stops the job even when its SIGINT found no worker pid to signal yet),
 * and the phase and rows that ml.training_jobs shows.
 */
static void
worker_checkpoint(void *state, const char *phase, int64 rows)
{
	TrainJobShared *wjob = ((WorkerProgress *) state)->job;

	if (jobs_cancel_requested(wjob->job_slot, wjob->job_id, wjob->database))
		report_cancelled(wjob->job_id);
	jobs_set_phase(wjob->job_slot, wjob->job_id, wjob->database, phase);
	if (strcmp(phase, "loading") == 0)
		jobs_set_progress(wjob->job_slot, wjob->job_id, wjob->database, 0, 0, 0, 0, rows);
}

/*
 * XGBoost's evaluation line ("valid-logloss:0.62501078945208455 ...") with
 * each value at four significant digits, as people read progress.
 */
static char *
rounded_evaluation(const char *metric)
{
	StringInfoData out;
	char	   *copy = pstrdup(metric);
	char	   *token;
	char	   *save;

	initStringInfo(&out);
	for (token = strtok_r(copy, " \t", &save); token; token = strtok_r(NULL, " \t", &save))
	{
		char	   *colon = strrchr(token, ':');
		char	   *end;
		double		value = colon ? strtod(colon + 1, &end) : 0;

		if (out.len > 0)
			appendStringInfoChar(&out, ' ');
		if (colon && end != colon + 1 && *end == '\0')
			appendStringInfo(&out, "%.*s %.4g", (int) (colon - token), token, value);
		else
			appendStringInfoString(&out, token);
	}
	return out.data;
}

/* Progress after a round: the job table always, the caller at most once a second. */
static void
worker_round(void *state, const TrainRound *r)
{
	WorkerProgress *wp = state;
	TimestampTz now = GetCurrentTimestamp();
	double		elapsed;

	jobs_set_progress(wp->job->job_slot, wp->job->job_id, wp->job->database, r->candidate,
					  r->candidates, r->round, r->total_rounds, r->rows);
	if (r->candidate != wp->last_candidate)
	{
		wp->boosting_started = now;
		wp->last_notice = now;
		wp->last_candidate = r->candidate;
	}
	if (!TimestampDifferenceExceeds(wp->last_notice, now, 1000) && r->round < r->total_rounds)
		return;
	wp->last_notice = now;
	elapsed = (now - wp->boosting_started) / 1e6;
	ereport(NOTICE,
			(errmsg("%sround %d/%d%s%s, %.0f rows/s, ETA %.0fs",
					r->candidates > 1 ? psprintf("candidate %d/%d, ", r->candidate, r->candidates) : "",
					r->round, r->total_rounds, r->evaluation ? ": " : "",
					r->evaluation ? rounded_evaluation(r->evaluation) : "",
					elapsed > 0 ? r->rows * (double) r->round / elapsed : 0.0,
					elapsed / r->round * (r->total_rounds - r->round))));
}

/* On any exit, FATAL ones included: the job is failed unless it finished. */
static void
worker_exit(int code, Datum arg)
{
	if (job_cxt != NULL)
		MemoryContextDelete(job_cxt);	/* frees XGBoost's handles */
	job_cxt = NULL;
	if (job != NULL)
		jobs_finish(job->job_slot, job->job_id, job->database, false,
					"the training worker was terminated before the job finished");
}

/*
 * Takes on the caller's libraries and settings, as a parallel worker does
 * (ParallelWorkerMain), in a transaction of their own: check hooks may read
 * the catalogs.  Messages to the caller stay in the database's encoding,
 * whatever client_encoding the caller's client asked for, because the
 * caller converts them when it relays them.
 *
 * default_transaction_read_only is not taken on: the caller's transaction
 * was read-write (nextval of the job id refuses a read-only one), whatever
 * the default, so the saving transaction is too.  The loading transaction
 * sets itself read-only.
 */
static void
restore_caller_state(shm_toc *toc)
{
	StartTransactionCommand();
	RestoreLibraryState(shm_toc_lookup(toc, TRAIN_KEY_LIBRARIES, false));
	RestoreGUCState(shm_toc_lookup(toc, TRAIN_KEY_GUC, false));
	SetConfigOption("default_transaction_read_only", "off", PGC_USERSET, PGC_S_SESSION);
	CommitTransactionCommand();
	SetClientEncoding(GetDatabaseEncoding());
}

/*
 * Phase 1: reads the data, the base of a warm start and the champion, as
 * the role, in one snapshot of a read-only transaction that is rolled back.
 */
static void
load_phase(TrainRun *run)
{
	TimestampTz start = GetCurrentTimestamp();
	long		secs;
	int			usecs;

	jobs_set_phase(job->job_slot, job->job_id, job->database, "loading");
	StartTransactionCommand();
	XactReadOnly = true;
	SetConfigOption("synchronize_seqscans", "off", PGC_USERSET, PGC_S_SESSION);
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, psprintf("learnloop: loading rows for model %s", run->spec->model));
	if (run->spec->base_model)
		warm_load_base(run, job_cxt);
	run->ds = dataset_load(run->spec, job_cxt, run->progress);
	if (run->warm)
		warm_conform_dataset(run);
	jobs_set_training_memory(job->job_slot, job->job_id, job->database,
							 run->ds->spill ? "stream" : "memory");
	registry_load_champion(run, job_cxt);
	if (run->spec->cohort_column != NULL)
		cohort_prepare(run, job_cxt);

	/*
	 * The source may only read.  XactReadOnly stops most writes, but not
	 * all (lo_create, temporary tables): any write gives the transaction an
	 * id, which is refused here; and the transaction is rolled back, never
	 * committed, so nothing it did (a pg_notify, say) outlives it.
	 */
	if (GetCurrentTransactionIdIfAny() != InvalidTransactionId)
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("the training source of model %s wrote to the database", run->spec->model),
				 errdetail("Reading the rows, target and features gave the loading transaction a transaction id, which only a write does."),
				 errhint("A source, target, feature or filter must only read: no large object, temporary table or other change.")));
	SPI_finish();
	PopActiveSnapshot();
	AbortCurrentTransaction();
	MemoryContextSwitchTo(job_cxt);
	TimestampDifference(start, GetCurrentTimestamp(), &secs, &usecs);
	run->load_seconds = secs + usecs / 1e6;
	if (run->ds->null_labels > 0)
		ereport(NOTICE,
				(errmsg("skipped %lld rows whose target is NULL", (long long) run->ds->null_labels)));
}

/* ml.train's answer, through the queue; ml.train_async's caller is gone. */
static void
send_result(TrainRun *run)
{
	StringInfoData result;
	StringInfoData msg;

	registry_result_json(run, job->job_id, &result);
	pq_beginmessage(&msg, TRAIN_MSG_RESULT);
	pq_sendbytes(&msg, result.data, result.len);
	pq_endmessage(&msg);
}

static void
run_job(void)
{
	TrainRun   *run;
	WorkerProgress state = {.job = job};
	TrainProgress progress = {worker_checkpoint, worker_round, &state};
	MemoryContext old;

	job_cxt = AllocSetContextCreate(TopMemoryContext, "learnloop training job",
									ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(job_cxt);
	run = palloc0(sizeof(TrainRun));
	run->spec = spec_from_json(job->spec);
	run->nthread = xgb_default_threads();
	run->progress = &progress;

	load_phase(run);

	/* 2: train and evaluate, no snapshot held */
	pgstat_report_activity(STATE_RUNNING, psprintf("learnloop: training model %s", run->spec->model));
	run->xgb = xgb_handles_create(job_cxt);
	xgb_capture_log();
	train_run(run);
	if (run->spec->cohort_column != NULL)
		cohort_train(run);

	/* 3: register everything in one transaction, then answer */
	jobs_set_phase(job->job_slot, job->job_id, job->database, "saving");
	registry_save(run, job->job_id);
	/* committed: a cancellation arriving now is too late to fail the job */
	HOLD_CANCEL_INTERRUPTS();
	if (!job->async)
		send_result(run);
	MemoryContextSwitchTo(old);
}

/*
 * ml.cancel_training's SIGINT stops the worker as "canceling statement due
 * to user request"; the caller and ml.training_jobs should read that the
 * job was cancelled.  Leaves that error as the current one, and returns it.
 */
static ErrorData *
cancelled_error(void)
{
	PG_TRY();
	{
		report_cancelled(job->job_id);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(TopMemoryContext);
	}
	PG_END_TRY();
	return CopyErrorData();
}

/*
 * Finds the job in the caller's segment; ml.train's worker sends its
 * errors and notices to the caller's queue from now on.
 */
static shm_toc *
attach_job(Datum main_arg)
{
	dsm_segment *seg = dsm_attach(DatumGetUInt32(main_arg));
	shm_toc    *toc;

	if (seg == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the training job's shared memory is gone")));
	toc = shm_toc_attach(TRAIN_SHM_MAGIC, dsm_segment_address(seg));
	if (toc == NULL)
		elog(ERROR, "learnloop training worker found no job in its shared memory");
	job = shm_toc_lookup(toc, TRAIN_KEY_JOB, false);
	if (job->async)
		dsm_unpin_segment(dsm_segment_handle(seg));
	else
	{
		shm_mq	   *mq = shm_toc_lookup(toc, TRAIN_KEY_QUEUE, false);

		shm_mq_set_sender(mq, MyProc);
		pq_redirect_to_shm_mq(seg, shm_mq_attach(mq, seg, NULL));
	}
	return toc;
}

/*
 * The job failed: reports the error as an ERROR (to the caller, through
 * the queue) and leaves.
 */
static void
pg_attribute_noreturn()
fail_job(void)
{
	ErrorData  *edata;

	MemoryContextSwitchTo(TopMemoryContext);
	edata = CopyErrorData();
	if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED &&
		jobs_cancel_requested(job->job_slot, job->job_id, job->database))
	{
		FlushErrorState();
		edata = cancelled_error();
	}
	/* the job table first: the caller reads it as soon as the error arrives */
	jobs_finish(job->job_slot, job->job_id, job->database, false, edata->message);
	/* finished: worker_exit must not fail the slot's next job */
	job = NULL;
	EmitErrorReport();
	proc_exit(1);
}

void
learnloop_training_worker_main(Datum main_arg)
{
	shm_toc    *toc;

	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	CurrentResourceOwner = ResourceOwnerCreate(NULL, "learnloop training worker");
	toc = attach_job(main_arg);
	before_shmem_exit(worker_exit, (Datum) 0);

	BackgroundWorkerInitializeConnectionByOid(job->database, job->session_user_id, 0);
	SetClientEncoding(GetDatabaseEncoding());
	jobs_set_worker(job->job_slot, job->job_id, job->database, MyProcPid);

	PG_TRY();
	{
		restore_caller_state(toc);
		SetUserIdAndSecContext(job->current_user_id, SECURITY_LOCAL_USERID_CHANGE);
		run_job();
	}
	PG_CATCH();
	{
		fail_job();
	}
	PG_END_TRY();

	jobs_finish(job->job_slot, job->job_id, job->database, true, NULL);
	job = NULL;
	MemoryContextDelete(job_cxt);
	job_cxt = NULL;
}
