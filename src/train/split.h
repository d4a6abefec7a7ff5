/*-------------------------------------------------------------------------
 *
 * split.h
 *	  Train, validation and test rows of a training job.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_SPLIT_H
#define LEARNLOOP_SPLIT_H

#include "train/train_run.h"

extern void split_rows(TrainRun *run);

#endif							/* LEARNLOOP_SPLIT_H */
