/*-------------------------------------------------------------------------
 *
 * task.h
 *	  What a model predicts: a class, a value or a rank, and the XGBoost
 *	  objectives that fit each.  Stored with every model (its schema's
 *	  "task"), chosen by ml.train and checked again by serving.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_TASK_H
#define LEARNLOOP_TASK_H

typedef enum ModelTask
{
	TASK_INFER = 0,				/* ml.train's "not given": never stored */
	TASK_CLASSIFICATION,
	TASK_REGRESSION,
	TASK_RANKING
} ModelTask;

#define NTASKS (TASK_RANKING + 1)

/* The tasks' names as stored and as ml.train's task argument takes them */
extern const char *const task_names[NTASKS];

extern const char *task_name(ModelTask task);
extern bool objective_fits_task(ModelTask task, int nclasses, const char *objective);

#endif							/* LEARNLOOP_TASK_H */
