/*-------------------------------------------------------------------------
 *
 * reference_build.h
 *	  The reference distributions of a trained model, from the rows it was
 *	  trained on and its predictions on its test set.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_REFERENCE_BUILD_H
#define LEARNLOOP_REFERENCE_BUILD_H

#include "train/train_run.h"

/* The JSON of ml.models.reference (model/reference_json.h has its shape). */
extern char *reference_build_json(TrainRun *run, BoosterHandle booster);

#endif							/* LEARNLOOP_REFERENCE_BUILD_H */
