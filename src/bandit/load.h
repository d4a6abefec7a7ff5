/*-------------------------------------------------------------------------
 *
 * load.h
 *	  A bandit's definition and its arms' statistics for one cell, read
 *	  from ml.bandits and ml.bandit_arms.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_BANDIT_LOAD_H
#define LEARNLOOP_BANDIT_LOAD_H

#include "bandit/posterior.h"
#include "utils/jsonb.h"

typedef struct BanditState
{
	char	   *name;
	text	   *task;
	int			k;				/* number of actions */
	char	  **actions;
	BanditPrior prior;
	int			draws;
	bool		by_unit;		/* context unit */
	char	   *cell;			/* the unit, the feature cell, or "" (none) */
	ArmStats   *own;			/* the cell's arm per action */
	ArmStats   *population;		/* the population's arm per action */
} BanditState;

extern void bandit_load(text *name, text *unit_id, Jsonb *features, BanditState *state);

#endif							/* LEARNLOOP_BANDIT_LOAD_H */
