/*-------------------------------------------------------------------------
 *
 * jobs.c
 *	  The shared-memory registry of training jobs behind ml.training_jobs.
 *
 * A fixed array of learnloop.max_training_jobs slots, allocated when the
 * library is in shared_preload_libraries.  Without it training still works;
 * only the live view and ml.cancel_training are unavailable.  Finished jobs
 * stay visible until their slot is needed again.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "common/srf.h"
#include "train/jobs.h"

PG_FUNCTION_INFO_V1(learnloop_training_jobs);
PG_FUNCTION_INFO_V1(learnloop_cancel_training);

typedef struct JobRegistry
{
	slock_t		mutex;
	int			njobs;
	TrainingJob jobs[FLEXIBLE_ARRAY_MEMBER];
} JobRegistry;

int			learnloop_max_training_jobs = 16;

static JobRegistry *registry = NULL;

static Size
registry_size(void)
{
	return add_size(offsetof(JobRegistry, jobs),
					mul_size(learnloop_max_training_jobs, sizeof(TrainingJob)));
}

void
jobs_request_shmem(void)
{
	RequestAddinShmemSpace(registry_size());
}

void
jobs_init_shmem(void)
{
	bool		found;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	registry = ShmemInitStruct("learnloop training jobs", registry_size(), &found);
	if (!found)
	{
		SpinLockInit(&registry->mutex);
		registry->njobs = learnloop_max_training_jobs;
		memset(registry->jobs, 0, mul_size(registry->njobs, sizeof(TrainingJob)));
	}
	LWLockRelease(AddinShmemInitLock);
}

bool
jobs_available(void)
{
	return registry != NULL;
}

/*
 * Takes a free slot, or the one of the oldest finished job, for a new job.
 * Returns -1 without a registry.
 */
int
jobs_register(int64 job_id, const char *model, Oid role, Oid database)
{
	int			slot = -1;
	int			i;

	if (registry == NULL)
		return -1;

	SpinLockAcquire(&registry->mutex);
	for (i = 0; i < registry->njobs; i++)
	{
		TrainingJob *job = &registry->jobs[i];

		if (job->status == JOB_FREE)
		{
			slot = i;
			break;
		}
		if (job->status != JOB_RUNNING &&
			(slot < 0 || job->finished < registry->jobs[slot].finished))
			slot = i;
	}
	if (slot >= 0)
	{
		TrainingJob *job = &registry->jobs[slot];

		memset(job, 0, sizeof(TrainingJob));
		job->status = JOB_RUNNING;
		job->job_id = job_id;
		job->role = role;
		job->database = database;
		job->caller_pid = MyProcPid;
		strlcpy(job->model, model, sizeof(job->model));
		strlcpy(job->phase, "starting", sizeof(job->phase));
		job->started = GetCurrentTimestamp();
	}
	SpinLockRelease(&registry->mutex);

	if (slot < 0)
		ereport(ERROR,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("too many training jobs are running"),
				 errhint("Wait for one to finish, or raise learnloop.max_training_jobs (needs a restart).")));
	return slot;
}

/* The slot, if it still belongs to the job, else NULL; call with the lock held. */
static TrainingJob *
job_in_slot(int slot, int64 job_id)
{
	if (registry == NULL || slot < 0 || slot >= registry->njobs ||
		registry->jobs[slot].job_id != job_id)
		return NULL;
	return &registry->jobs[slot];
}

void
jobs_set_worker(int slot, int64 job_id, int worker_pid)
{
	TrainingJob *job;

	if (registry == NULL)
		return;
	SpinLockAcquire(&registry->mutex);
	if ((job = job_in_slot(slot, job_id)) != NULL)
		job->worker_pid = worker_pid;
	SpinLockRelease(&registry->mutex);
}

void
jobs_set_phase(int slot, int64 job_id, const char *phase)
{
	TrainingJob *job;

	if (registry == NULL)
		return;
	SpinLockAcquire(&registry->mutex);
	if ((job = job_in_slot(slot, job_id)) != NULL)
		strlcpy(job->phase, phase, sizeof(job->phase));
	SpinLockRelease(&registry->mutex);
}

void
jobs_set_progress(int slot, int64 job_id, int candidate, int candidates,
				  int round, int total_rounds, int64 rows)
{
	TrainingJob *job;

	if (registry == NULL)
		return;
	SpinLockAcquire(&registry->mutex);
	if ((job = job_in_slot(slot, job_id)) != NULL)
	{
		job->candidate = candidate;
		job->candidates = candidates;
		job->round = round;
		job->total_rounds = total_rounds;
		job->rows = rows;
	}
	SpinLockRelease(&registry->mutex);
}

void
jobs_finish(int slot, int64 job_id, bool succeeded, const char *error)
{
	TrainingJob *job;

	if (registry == NULL)
		return;
	SpinLockAcquire(&registry->mutex);
	if ((job = job_in_slot(slot, job_id)) != NULL && job->status == JOB_RUNNING)
	{
		job->status = succeeded ? JOB_SUCCEEDED : JOB_FAILED;
		strlcpy(job->phase, succeeded ? "done" : "failed", sizeof(job->phase));
		if (error)
			strlcpy(job->error, error, sizeof(job->error));
		job->worker_pid = 0;
		job->finished = GetCurrentTimestamp();
	}
	SpinLockRelease(&registry->mutex);
}

bool
jobs_cancel_requested(int slot, int64 job_id)
{
	TrainingJob *job;
	bool		cancel = false;

	if (registry == NULL)
		return false;
	SpinLockAcquire(&registry->mutex);
	if ((job = job_in_slot(slot, job_id)) != NULL)
		cancel = job->cancel_requested;
	SpinLockRelease(&registry->mutex);
	return cancel;
}

static const char *
status_name(JobStatus status)
{
	switch (status)
	{
		case JOB_RUNNING:
			return "running";
		case JOB_SUCCEEDED:
			return "succeeded";
		case JOB_FAILED:
			return "failed";
		default:
			return "free";
	}
}

/* Rows of ml.training_jobs: every job in the registry, newest first by slot scan. */
Datum
learnloop_training_jobs(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = srf_materialize(fcinfo);
	int			i;

	if (registry == NULL)
		return (Datum) 0;

	for (i = 0; i < registry->njobs; i++)
	{
		TrainingJob job;
		Datum		values[15];
		bool		nulls[15] = {0};

		SpinLockAcquire(&registry->mutex);
		job = registry->jobs[i];
		SpinLockRelease(&registry->mutex);
		if (job.status == JOB_FREE)
			continue;

		values[0] = Int64GetDatum(job.job_id);
		values[1] = CStringGetTextDatum(job.model);
		values[2] = ObjectIdGetDatum(job.role);
		values[3] = ObjectIdGetDatum(job.database);
		values[4] = Int32GetDatum(job.worker_pid);
		nulls[4] = job.worker_pid == 0;
		values[5] = Int32GetDatum(job.caller_pid);
		values[6] = CStringGetTextDatum(job.phase);
		values[7] = Int32GetDatum(job.candidate);
		values[8] = Int32GetDatum(job.candidates);
		values[9] = Int32GetDatum(job.round);
		values[10] = Int32GetDatum(job.total_rounds);
		values[11] = Int64GetDatum(job.rows);
		values[12] = TimestampTzGetDatum(job.started);
		values[13] = CStringGetTextDatum(status_name(job.status));
		values[14] = CStringGetTextDatum(job.error);
		nulls[14] = job.error[0] == '\0';
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * Asks a running job to stop; the worker checks between rounds and while
 * loading.  Allowed to the job's role (and roles that have its privileges).
 */
Datum
learnloop_cancel_training(PG_FUNCTION_ARGS)
{
	int64		job_id = PG_GETARG_INT64(0);
	bool		found = false;
	bool		allowed = true;
	int			i;

	if (registry == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("training jobs can only be cancelled when learnloop is preloaded"),
				 errhint("Add learnloop to shared_preload_libraries, or cancel the session that called ml.train.")));

	SpinLockAcquire(&registry->mutex);
	for (i = 0; i < registry->njobs; i++)
	{
		TrainingJob *job = &registry->jobs[i];

		if (job->job_id != job_id || job->status != JOB_RUNNING)
			continue;
		found = true;
		allowed = has_privs_of_role(GetUserId(), job->role);
		if (allowed)
			job->cancel_requested = true;
	}
	SpinLockRelease(&registry->mutex);

	if (!allowed)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to cancel training job %lld", (long long) job_id),
				 errhint("Only the role that started the job, or a member of it, can cancel it.")));
	PG_RETURN_BOOL(found);
}
