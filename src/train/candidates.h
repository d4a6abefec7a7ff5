/*-------------------------------------------------------------------------
 *
 * candidates.h
 *	  The parameter sets a training job tries: one, or a search's grid or
 *	  random draws.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_CANDIDATES_H
#define LEARNLOOP_CANDIDATES_H

#include "train/train_run.h"

#define MAX_CANDIDATES 1000
#define MAX_PARAMS 64

typedef struct Candidate
{
	char	   *params_json;	/* as reported: every parameter, num_round too */
	char	   *objective;
	int			num_round;
	int			rounds;			/* rounds kept after early stopping */
	int			nparams;
	char	   *keys[MAX_PARAMS];
	char	   *values[MAX_PARAMS];
} Candidate;

extern List *candidates_build(TrainRun *run);
extern void candidate_apply(const Candidate *cand, BoosterHandle booster);

#endif							/* LEARNLOOP_CANDIDATES_H */
