/*-------------------------------------------------------------------------
 *
 * jobs.c
 *	  The shared-memory table of training jobs behind ml.training_jobs.
 *
 * A fixed array of learnloop.max_training_jobs slots, allocated when the
 * library is in shared_preload_libraries.  Without it training still works;
 * only the live view and ml.cancel_training are unavailable.  Finished jobs
 * stay visible until their slot is needed again.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include "access/htup_details.h"
#include "catalog/pg_authid.h"
#include "common/file_perm.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/procarray.h"
#include "storage/shmem.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "common/srf.h"
#include "train/jobs.h"

PG_FUNCTION_INFO_V1(learnloop_training_jobs);
PG_FUNCTION_INFO_V1(learnloop_cancel_training);

/*
 * The job table is guarded by one LWLock: readers of ml.training_jobs share
 * it, and nothing that can raise an error runs while it is held.
 */
typedef struct JobTable
{
	LWLock	   *lock;
	int			njobs;
	TrainingJob jobs[FLEXIBLE_ARRAY_MEMBER];
} JobTable;

#define JOBS_TRANCHE "learnloop training jobs"

/*
 * A copy of the job table in a file, so that jobs running when the server
 * crashed (a worker killed with SIGKILL makes the postmaster reinitialize
 * shared memory) come back as failed instead of vanishing.  Rewritten
 * whenever a job starts or ends; pg_stat_tmp is for such transient files.
 */
#define JOBS_FILE PG_STAT_TMP_DIR "/learnloop_jobs"
#define JOBS_FILE_MAGIC 0x6c6c6a31	/* "llj1" */

typedef struct JobsFileHeader
{
	uint32		magic;
	int32		njobs;
	Size		job_size;
} JobsFileHeader;

int			learnloop_max_training_jobs = 16;

static JobTable *job_table = NULL;

static Size
job_table_size(void)
{
	return add_size(offsetof(JobTable, jobs),
					mul_size(learnloop_max_training_jobs, sizeof(TrainingJob)));
}

void
jobs_request_shmem(void)
{
	RequestAddinShmemSpace(job_table_size());
	RequestNamedLWLockTranche(JOBS_TRANCHE, 1);
}

/*
 * Writes the job table to JOBS_FILE with plain system calls, so it can run
 * under the lock: returns false with errno set instead of raising an error.
 * A temporary file renamed over the old one keeps the copy whole.
 */
static bool
jobs_file_write(void)
{
	JobsFileHeader header = {JOBS_FILE_MAGIC, job_table->njobs, sizeof(TrainingJob)};
	Size		len = mul_size(job_table->njobs, sizeof(TrainingJob));
	int			fd;
	bool		ok;

	fd = open(JOBS_FILE ".tmp", O_WRONLY | O_CREAT | O_TRUNC | PG_BINARY, pg_file_create_mode);
	if (fd < 0)
		return false;
	ok = write(fd, &header, sizeof(header)) == sizeof(header) &&
		write(fd, job_table->jobs, len) == (ssize_t) len;
	if (close(fd) != 0)
		ok = false;
	return ok && rename(JOBS_FILE ".tmp", JOBS_FILE) == 0;
}

/* Reads JOBS_FILE into the job table, if it holds a table of the same shape. */
static void
jobs_file_read(void)
{
	JobsFileHeader header;
	Size		len = mul_size(job_table->njobs, sizeof(TrainingJob));
	TimestampTz now = GetCurrentTimestamp();
	int			fd = open(JOBS_FILE, O_RDONLY | PG_BINARY, 0);
	bool		ok;
	int			i;

	if (fd < 0)
		return;
	ok = read(fd, &header, sizeof(header)) == sizeof(header) &&
		header.magic == JOBS_FILE_MAGIC && header.njobs == job_table->njobs &&
		header.job_size == sizeof(TrainingJob) &&
		read(fd, job_table->jobs, len) == (ssize_t) len;
	close(fd);
	if (!ok)
	{
		/* another size of table, or a torn file: start empty */
		memset(job_table->jobs, 0, len);
		return;
	}
	for (i = 0; i < job_table->njobs; i++)
	{
		TrainingJob *job = &job_table->jobs[i];

		/* a damaged file must not make readers run past a string */
		job->model[sizeof(job->model) - 1] = '\0';
		job->phase[sizeof(job->phase) - 1] = '\0';
		job->error[sizeof(job->error) - 1] = '\0';
		if (job->status < JOB_FREE || job->status > JOB_FAILED)
			job->status = JOB_FREE;
		if (job->status != JOB_RUNNING)
			continue;
		job->status = JOB_FAILED;
		strlcpy(job->phase, "failed", sizeof(job->phase));
		strlcpy(job->error, "the server restarted while the job ran (its worker crashed, was killed, or the server stopped)",
				sizeof(job->error));
		job->worker_pid = 0;
		job->finished = now;
	}
}

/*
 * Runs in the postmaster, at startup and after every crash: jobs that were
 * running before are failed now.  Errors here would stop the server, so a
 * file that cannot be read or written only costs the history (and a LOG).
 */
void
jobs_init_shmem(void)
{
	bool		found;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	job_table = ShmemInitStruct("learnloop training jobs", job_table_size(), &found);
	if (!found)
	{
		job_table->lock = &(GetNamedLWLockTranche(JOBS_TRANCHE))->lock;
		job_table->njobs = learnloop_max_training_jobs;
		memset(job_table->jobs, 0, mul_size(job_table->njobs, sizeof(TrainingJob)));
		jobs_file_read();
		if (!jobs_file_write())
			ereport(LOG,
					(errcode_for_file_access(),
					 errmsg("learnloop could not write \"%s\": %m", JOBS_FILE)));
	}
	LWLockRelease(AddinShmemInitLock);
}

/* Releases the lock held exclusively after a change worth keeping on disk. */
static void
release_and_save(void)
{
	bool		saved = jobs_file_write();
	int			save_errno = errno;

	LWLockRelease(job_table->lock);
	if (!saved)
	{
		errno = save_errno;
		ereport(WARNING,
				(errcode_for_file_access(),
				 errmsg("could not write \"%s\": %m", JOBS_FILE),
				 errdetail("A server crash during this training job would lose its entry in ml.training_jobs.")));
	}
}

/*
 * Takes a free slot, or the one of the oldest finished job, for a new job.
 * Returns -1 without a job table.
 */
int
jobs_register(int64 job_id, const char *model, Oid role, Oid database)
{
	TimestampTz now = GetCurrentTimestamp();
	int			slot = -1;
	int			i;

	if (job_table == NULL)
		return -1;

	LWLockAcquire(job_table->lock, LW_EXCLUSIVE);
	for (i = 0; i < job_table->njobs; i++)
	{
		TrainingJob *job = &job_table->jobs[i];

		if (job->status == JOB_FREE)
		{
			slot = i;
			break;
		}
		if (job->status != JOB_RUNNING &&
			(slot < 0 || job->finished < job_table->jobs[slot].finished))
			slot = i;
	}
	if (slot < 0)
	{
		LWLockRelease(job_table->lock);
		ereport(ERROR,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("too many training jobs are running"),
				 errhint("Wait for one to finish, or raise learnloop.max_training_jobs (needs a restart).")));
	}
	else
	{
		TrainingJob *job = &job_table->jobs[slot];

		memset(job, 0, sizeof(TrainingJob));
		job->status = JOB_RUNNING;
		job->job_id = job_id;
		job->role = role;
		job->database = database;
		job->caller_pid = MyProcPid;
		strlcpy(job->model, model, sizeof(job->model));
		strlcpy(job->phase, "starting", sizeof(job->phase));
		job->started = now;
	}
	release_and_save();
	return slot;
}

/*
 * The slot, if it still belongs to the job, else NULL; call with the lock
 * held.  Job ids come from a sequence of each database: the slot may have
 * passed to another database's job of the same id.
 */
static TrainingJob *
job_in_slot(int slot, int64 job_id, Oid database)
{
	if (job_table == NULL || slot < 0 || slot >= job_table->njobs ||
		job_table->jobs[slot].job_id != job_id ||
		job_table->jobs[slot].database != database)
		return NULL;
	return &job_table->jobs[slot];
}

void
jobs_set_worker(int slot, int64 job_id, Oid database, int worker_pid)
{
	TrainingJob *job;

	if (job_table == NULL)
		return;
	LWLockAcquire(job_table->lock, LW_EXCLUSIVE);
	if ((job = job_in_slot(slot, job_id, database)) != NULL && job->status == JOB_RUNNING)
		job->worker_pid = worker_pid;
	release_and_save();
}

void
jobs_set_phase(int slot, int64 job_id, Oid database, const char *phase)
{
	TrainingJob *job;

	if (job_table == NULL)
		return;
	LWLockAcquire(job_table->lock, LW_EXCLUSIVE);
	if ((job = job_in_slot(slot, job_id, database)) != NULL)
		strlcpy(job->phase, phase, sizeof(job->phase));
	LWLockRelease(job_table->lock);
}

/* Which way the job's rows are held: memory or stream (ml.training_jobs). */
void
jobs_set_training_memory(int slot, int64 job_id, Oid database, const char *training_memory)
{
	TrainingJob *job;

	if (job_table == NULL)
		return;
	LWLockAcquire(job_table->lock, LW_EXCLUSIVE);
	if ((job = job_in_slot(slot, job_id, database)) != NULL)
		strlcpy(job->training_memory, training_memory, sizeof(job->training_memory));
	release_and_save();
}

void
jobs_set_progress(int slot, int64 job_id, Oid database, int candidate,
				  int candidates, int round, int total_rounds, int64 rows)
{
	TrainingJob *job;

	if (job_table == NULL)
		return;
	LWLockAcquire(job_table->lock, LW_EXCLUSIVE);
	if ((job = job_in_slot(slot, job_id, database)) != NULL)
	{
		job->candidate = candidate;
		job->candidates = candidates;
		job->round = round;
		job->total_rounds = total_rounds;
		job->rows = rows;
	}
	LWLockRelease(job_table->lock);
}

/*
 * Ends a running job.  When worker_pid is not 0, only if that process
 * still runs it: a reader that found the worker gone must not fail a job
 * whose slot a new worker took in the meantime.
 */
static void
finish_job(int slot, int64 job_id, Oid database, int worker_pid, bool succeeded,
		   const char *error)
{
	TimestampTz now = GetCurrentTimestamp();
	TrainingJob *job;

	if (job_table == NULL)
		return;
	LWLockAcquire(job_table->lock, LW_EXCLUSIVE);
	if ((job = job_in_slot(slot, job_id, database)) != NULL && job->status == JOB_RUNNING &&
		(worker_pid == 0 || job->worker_pid == worker_pid))
	{
		job->status = succeeded ? JOB_SUCCEEDED : JOB_FAILED;
		strlcpy(job->phase, succeeded ? "done" : "failed", sizeof(job->phase));
		if (error)
			strlcpy(job->error, error, sizeof(job->error));
		job->worker_pid = 0;
		job->finished = now;
	}
	release_and_save();
}

void
jobs_finish(int slot, int64 job_id, Oid database, bool succeeded, const char *error)
{
	finish_job(slot, job_id, database, 0, succeeded, error);
}

bool
jobs_cancel_requested(int slot, int64 job_id, Oid database)
{
	TrainingJob *job;
	bool		cancel = false;

	if (job_table == NULL)
		return false;
	LWLockAcquire(job_table->lock, LW_SHARED);
	if ((job = job_in_slot(slot, job_id, database)) != NULL)
		cancel = job->cancel_requested;
	LWLockRelease(job_table->lock);
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

/*
 * A running job whose worker process is gone (it died without running its
 * exit hooks) is failed here, at the next read; the copy is refreshed.
 */
static void
fail_if_worker_gone(int slot, TrainingJob *job)
{
	if (job->status != JOB_RUNNING || job->worker_pid == 0 ||
		kill(job->worker_pid, 0) == 0 || errno != ESRCH)
		return;
	finish_job(slot, job->job_id, job->database, job->worker_pid, false,
			   "the training worker exited without finishing the job");
	LWLockAcquire(job_table->lock, LW_SHARED);
	*job = job_table->jobs[slot];
	LWLockRelease(job_table->lock);
}

/*
 * Rows of ml.training_jobs: every job in the job table, in slot order.  As
 * pg_stat_activity does with queries, a job's error (which may quote data
 * the reader cannot read) shows only to roles that have the privileges of
 * the job's role, or of pg_read_all_stats.
 */
Datum
learnloop_training_jobs(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = srf_materialize(fcinfo);
	TrainingJob *jobs;
	bool		read_all;
	int			i;

	if (job_table == NULL)
		return (Datum) 0;

	jobs = palloc(mul_size(job_table->njobs, sizeof(TrainingJob)));
	LWLockAcquire(job_table->lock, LW_SHARED);
	memcpy(jobs, job_table->jobs, mul_size(job_table->njobs, sizeof(TrainingJob)));
	LWLockRelease(job_table->lock);

	read_all = has_privs_of_role(GetUserId(), ROLE_PG_READ_ALL_STATS);
	for (i = 0; i < job_table->njobs; i++)
	{
		TrainingJob *job = &jobs[i];
		Datum		values[16];
		bool		nulls[16] = {0};

		if (job->status == JOB_FREE)
			continue;
		fail_if_worker_gone(i, job);
		if (job->status == JOB_FREE)
			continue;

		values[0] = Int64GetDatum(job->job_id);
		values[1] = CStringGetTextDatum(job->model);
		values[2] = ObjectIdGetDatum(job->role);
		values[3] = ObjectIdGetDatum(job->database);
		values[4] = Int32GetDatum(job->worker_pid);
		nulls[4] = job->worker_pid == 0;
		values[5] = Int32GetDatum(job->caller_pid);
		values[6] = CStringGetTextDatum(job->phase);
		values[7] = Int32GetDatum(job->candidate);
		values[8] = Int32GetDatum(job->candidates);
		values[9] = Int32GetDatum(job->round);
		values[10] = Int32GetDatum(job->total_rounds);
		values[11] = Int64GetDatum(job->rows);
		values[12] = TimestampTzGetDatum(job->started);
		values[13] = CStringGetTextDatum(status_name(job->status));
		values[14] = CStringGetTextDatum(job->error);
		nulls[14] = job->error[0] == '\0' ||
			!(read_all || has_privs_of_role(GetUserId(), job->role));
		values[15] = CStringGetTextDatum(job->training_memory);
		nulls[15] = job->training_memory[0] == '\0';
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	pfree(jobs);
	return (Datum) 0;
}

/*
 * Asks a running job to stop: sets the job's flag, which the worker checks
 * between batches and rounds, and sends the worker SIGINT as
 * pg_cancel_backend would, so that a long query, batch or sleep inside the
 * loading or saving transaction stops at its next interrupt check too.
 * Allowed to the job's role (and roles that have its privileges).
 */
Datum
learnloop_cancel_training(PG_FUNCTION_ARGS)
{
	int64		job_id = PG_GETARG_INT64(0);
	bool		found = false;
	Oid			role = InvalidOid;
	int			worker_pid = 0;
	int			i;

	if (job_table == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("training jobs can only be cancelled when learnloop is preloaded"),
				 errhint("Add learnloop to shared_preload_libraries, or cancel the session that called ml.train.")));

	/* who owns it, looked up under the lock; checked after releasing it */
	LWLockAcquire(job_table->lock, LW_SHARED);
	for (i = 0; i < job_table->njobs; i++)
	{
		TrainingJob *job = &job_table->jobs[i];

		/* job ids come from a sequence of each database */
		if (job->job_id == job_id && job->database == MyDatabaseId &&
			job->status == JOB_RUNNING)
		{
			found = true;
			role = job->role;
			break;
		}
	}
	LWLockRelease(job_table->lock);
	if (!found)
		PG_RETURN_BOOL(false);

	if (!has_privs_of_role(GetUserId(), role))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to cancel training job %lld", (long long) job_id),
				 errhint("Only the role that started the job, or a member of it, can cancel it.")));

	/* the slot may have changed hands meanwhile: match the job again */
	found = false;
	LWLockAcquire(job_table->lock, LW_EXCLUSIVE);
	if (job_table->jobs[i].job_id == job_id && job_table->jobs[i].database == MyDatabaseId &&
		job_table->jobs[i].status == JOB_RUNNING)
	{
		found = true;
		job_table->jobs[i].cancel_requested = true;
		worker_pid = job_table->jobs[i].worker_pid;
	}
	LWLockRelease(job_table->lock);

	/* as pg_cancel_backend does: only a process that is still a backend */
	if (worker_pid != 0 && BackendPidGetProc(worker_pid) != NULL)
		(void) kill(worker_pid, SIGINT);
	PG_RETURN_BOOL(found);
}
