/*-------------------------------------------------------------------------
 *
 * registry.h
 *	  Reading the champion and registering a trained model.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_REGISTRY_H
#define LEARNLOOP_REGISTRY_H

#include "train/train_run.h"

extern void registry_load_champion(TrainRun *run, MemoryContext cxt);
extern void registry_save(TrainRun *run, int64 job_id);
extern void registry_result_json(const TrainRun *run, int64 job_id, StringInfo out);

#endif							/* LEARNLOOP_REGISTRY_H */
