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
/* A model ml.import_model registers, its fields as ml.models has them */
typedef struct ImportRow
{
	const char *name;
	const char *task;
	const char *params;			/* jsonb text */
	const char *feature_schema; /* jsonb text */
	bytea	   *model;
	const char *objective;
	int			rounds;
	const char *evaluator;
} ImportRow;

extern int	registry_save_import(const ImportRow *row);
extern void registry_result_json(const TrainRun *run, int64 job_id, StringInfo out);

#endif							/* LEARNLOOP_REGISTRY_H */
