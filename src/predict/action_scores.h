/*-------------------------------------------------------------------------
 *
 * action_scores.h
 *	  Every action a deployed model can choose, scored for one unit.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_ACTION_SCORES_H
#define LEARNLOOP_ACTION_SCORES_H

#include "predict/model_cache.h"

typedef struct ActionScores
{
	int			n;				/* number of actions, >= 1 */
	const char **actions;		/* the model's names, not copied */
	double	   *scores;			/* higher is better, finite */
	bool		probabilities;	/* scores are probabilities (a confidence) */
	bool		predicted_outcomes; /* an outcome model's (else a policy's classes) */
} ActionScores;

extern void action_scores(CachedModel *model, const float *features,
						  const char *action_feature, ActionScores *out);

#endif							/* LEARNLOOP_ACTION_SCORES_H */
