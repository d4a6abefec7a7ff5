/*-------------------------------------------------------------------------
 *
 * stream.h
 *	  Training from a stream: the held-out rows read back into memory, and
 *	  XGBoost's QuantileDMatrix of the training rows built batch by batch
 *	  from the spill file.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_STREAM_H
#define LEARNLOOP_STREAM_H

#include "train/train_run.h"

/* rows of the training set that the reference distributions describe */
#define STREAM_REFERENCE_ROWS 100000

extern char *stream_unsupported(const char *params, const char *search);
extern void stream_hold_out(TrainRun *run);
extern DMatrixHandle stream_dmatrix(TrainRun *run, List *candidates);

#endif							/* LEARNLOOP_STREAM_H */
