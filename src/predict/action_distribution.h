/*-------------------------------------------------------------------------
 *
 * action_distribution.h
 *	  The probability with which an exploring policy chooses each of the
 *	  eligible actions a deployed model scored, for one unit.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_ACTION_DISTRIBUTION_H
#define LEARNLOOP_ACTION_DISTRIBUTION_H

#include "fmgr.h"

#include "policy/exploration.h"
#include "predict/action_scores.h"

typedef struct ActionDistribution
{
	ActionScores scores;		/* the eligible actions only, in the model's order */
	double	   *probabilities;	/* one per eligible action, summing to 1 */
	int			best;			/* the greedy choice: the first best score */
} ActionDistribution;

extern void exploration_args(FunctionCallInfo fcinfo, int argno, Exploration *e);

/* A text[] argument as an eligible set: -1 when NULL (every action) */
extern int	action_set_arg(FunctionCallInfo fcinfo, int argno, const char ***actions);
extern void action_scores_restrict(const CachedModel *model, ActionScores *scores,
								   const char *const *eligible, int neligible);
extern void action_distribution(CachedModel *model, const float *features,
								const char *action_feature, const char *const *eligible,
								int neligible, const Exploration *e, ActionDistribution *out);

#endif							/* LEARNLOOP_ACTION_DISTRIBUTION_H */
