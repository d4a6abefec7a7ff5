/*-------------------------------------------------------------------------
 *
 * champion.h
 *	  Re-scoring the deployed model on a new model's test set.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_CHAMPION_H
#define LEARNLOOP_CHAMPION_H

#include "train/train_run.h"

extern void champion_rescore(TrainRun *run);

#endif							/* LEARNLOOP_CHAMPION_H */
