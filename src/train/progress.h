/*-------------------------------------------------------------------------
 *
 * progress.h
 *	  How loading and boosting report their progress and learn that they
 *	  must stop: through callbacks their caller gives them.
 *
 * dataset_load() and train_run() do not know who runs them.  Between
 * batches of rows and between rounds they call progress_checkpoint(), and
 * after each round progress_round(); whoever runs them decides what that
 * means, as an index build reports through pgstat_progress_update_param
 * whoever asked for it.  The training worker (worker.c) writes the job's
 * row of ml.training_jobs, relays a notice to ml.train's caller and stops
 * a job that ml.cancel_training cancelled.  A zeroed TrainProgress reports
 * nothing and stops nothing but what CHECK_FOR_INTERRUPTS() stops.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_PROGRESS_H
#define LEARNLOOP_PROGRESS_H

#include "miscadmin.h"

/* One boosting round done */
typedef struct TrainRound
{
	int			candidate;		/* from 1 */
	int			candidates;
	int			round;			/* from 1 */
	int			total_rounds;
	int64		rows;			/* training rows */
	const char *evaluation;		/* XGBoost's line for the validation rows
								 * ("valid-logloss:0.625..."), or NULL */
} TrainRound;

typedef struct TrainProgress
{
	/*
	 * At a point where stopping is safe: the phase ("loading", "training",
	 * "evaluating") and how many rows it has read or trains on.  Throws to
	 * stop the job.
	 */
	void		(*checkpoint) (void *state, const char *phase, int64 rows);
	/* After each boosting round */
	void		(*round) (void *state, const TrainRound *round);
	void	   *state;
} TrainProgress;

/*
 * Interrupts first, whoever the caller: a backend's query cancel or a
 * worker's SIGTERM must stop a load or a boosting in any case.
 */
static inline void
progress_checkpoint(const TrainProgress *progress, const char *phase, int64 rows)
{
	CHECK_FOR_INTERRUPTS();
	if (progress->checkpoint != NULL)
		progress->checkpoint(progress->state, phase, rows);
}

static inline void
progress_round(const TrainProgress *progress, const TrainRound *round)
{
	if (progress->round != NULL)
		progress->round(progress->state, round);
}

#endif							/* LEARNLOOP_PROGRESS_H */
