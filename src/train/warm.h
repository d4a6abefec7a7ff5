/*-------------------------------------------------------------------------
 *
 * warm.h
 *	  Warm starts: training that continues from, or refreshes, the trees
 *	  of a stored model (ml.train's base_model, base_version, refresh).
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_WARM_H
#define LEARNLOOP_WARM_H

#include "common/json_tree.h"
#include "train/candidates.h"
#include "train/train_run.h"

/* The stored model a training starts from */
typedef struct WarmBase
{
	char	   *name;
	int			version;
	bool		refresh;		/* refit its leaves instead of adding trees */
	FeatureSchema *schema;		/* its features, dictionaries and classes */
	bytea	   *model;			/* its bytes, checked in phase 2 */
	char	   *params;			/* its ml.models.params, JSON */
	char	   *objective;		/* read from its trees (phase 2) */
	int			rounds;			/* its boosted rounds (phase 2) */
} WarmBase;

/* Phase 1, before the rows are read: the base's row, read as the role. */
extern void warm_load_base(TrainRun *run, MemoryContext cxt);

/* Phase 1, once the rows are read: the rows in the base's feature schema. */
extern void warm_conform_dataset(TrainRun *run);

/* Phase 2, once per training (cohorts share the base): checks its trees, learns its objective and rounds. */
extern void warm_prepare(TrainRun *run);

/* Phase 2: the base's parameters under the caller's (candidates.c). */
extern void warm_params(const TrainRun *run, cJSON *params);

/*
 * Phase 2: a booster for one candidate that holds the base's trees, the
 * hook every training loop (one model or one per cohort) starts from.
 */
extern BoosterHandle warm_booster(TrainRun *run, const Candidate *cand,
								  DMatrixHandle *cache, int ncache);

/* The iteration the first new round is: the base's rounds, 0 for refresh. */
extern int	warm_first_round(const TrainRun *run);

/* ml.models.lineage of the trained version */
extern const char *warm_lineage(const TrainRun *run);

#endif							/* LEARNLOOP_WARM_H */
