/*-------------------------------------------------------------------------
 *
 * jobs.h
 *	  The shared-memory table of training jobs behind ml.training_jobs.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_JOBS_H
#define LEARNLOOP_JOBS_H

#include "datatype/timestamp.h"

typedef enum JobStatus
{
	JOB_FREE = 0,
	JOB_RUNNING,
	JOB_SUCCEEDED,
	JOB_FAILED
} JobStatus;

#define JOB_TEXT_LEN 256

/* One job as any session sees it; protected by the job table's lock. */
typedef struct TrainingJob
{
	JobStatus	status;
	int64		job_id;
	Oid			role;
	Oid			database;
	int			caller_pid;
	int			worker_pid;
	bool		cancel_requested;
	char		model[NAMEDATALEN * 2];
	char		phase[16];
	char		training_memory[8]; /* "memory" or "stream" once loaded */
	int			candidate;
	int			candidates;
	int			round;
	int			total_rounds;
	int64		rows;
	TimestampTz started;
	TimestampTz finished;
	char		error[JOB_TEXT_LEN];
} TrainingJob;

extern int	learnloop_max_training_jobs;

extern void jobs_request_shmem(void);
extern void jobs_init_shmem(void);
extern int	jobs_register(int64 job_id, const char *model, Oid role, Oid database);
extern void jobs_set_worker(int slot, int64 job_id, Oid database, int worker_pid);
extern void jobs_set_phase(int slot, int64 job_id, Oid database, const char *phase);
extern void jobs_set_training_memory(int slot, int64 job_id, Oid database,
									 const char *training_memory);
extern void jobs_set_progress(int slot, int64 job_id, Oid database, int candidate,
							  int candidates, int round, int total_rounds, int64 rows);
extern void jobs_finish(int slot, int64 job_id, Oid database, bool succeeded, const char *error);
extern bool jobs_cancel_requested(int slot, int64 job_id, Oid database);

#endif							/* LEARNLOOP_JOBS_H */
