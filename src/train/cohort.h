/*-------------------------------------------------------------------------
 *
 * cohort.h
 *	  Per-cohort models: one run per cohort of the global run's rows, and
 *	  the evaluation of the routed whole.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_COHORT_H
#define LEARNLOOP_COHORT_H

#include "train/train_run.h"

extern void cohort_prepare(TrainRun *global, MemoryContext cxt);
extern void cohort_train(TrainRun *global);

#endif							/* LEARNLOOP_COHORT_H */
