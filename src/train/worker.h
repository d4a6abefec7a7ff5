/*-------------------------------------------------------------------------
 *
 * worker.h
 *	  The training background worker, as its launcher (launcher.c) sees
 *	  it.  What it runs reports through progress.h, not through this.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_WORKER_H
#define LEARNLOOP_WORKER_H

#include "storage/dsm.h"

/* Where the caller's DSM segment keeps things */
#define TRAIN_SHM_MAGIC 0x6c6c7472	/* "lltr" */
#define TRAIN_KEY_JOB 1
#define TRAIN_KEY_QUEUE 2
#define TRAIN_KEY_GUC 3			/* the caller's settings, SerializeGUCState */
#define TRAIN_KEY_LIBRARIES 4	/* the caller's libraries, for their settings */
#define TRAIN_QUEUE_SIZE 65536

/* Message types the worker sends besides errors and notices */
#define TRAIN_MSG_RESULT 'R'

/* What the caller hands the worker */
typedef struct TrainJobShared
{
	int64		job_id;
	int			job_slot;
	Oid			database;
	Oid			session_user_id;
	Oid			current_user_id;
	bool		async;
	char		spec[FLEXIBLE_ARRAY_MEMBER];	/* JSON, see spec.c */
} TrainJobShared;

extern PGDLLEXPORT void learnloop_training_worker_main(Datum main_arg);

#endif							/* LEARNLOOP_WORKER_H */
