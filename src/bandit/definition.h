/*-------------------------------------------------------------------------
 *
 * definition.h
 *	  A bandit's row of ml.bandits, cached per backend.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_BANDIT_DEFINITION_H
#define LEARNLOOP_BANDIT_DEFINITION_H

#include "bandit/posterior.h"
#include "common/args.h"

/*
 * Thompson samples (draws times actions) one choice may take: the draws
 * run without a check for cancellation, so their number bounds the time
 * (about a tenth of a second at a million).
 */
#define BANDIT_MAX_SAMPLES 1000000

typedef enum BanditContext
{
	BANDIT_CONTEXT_UNIT,		/* a cell per unit */
	BANDIT_CONTEXT_NONE,		/* the population's cell only */
	BANDIT_CONTEXT_FEATURES		/* a cell per value of the features */
} BanditContext;

typedef struct BanditDefinition
{
	char		name[LEARNLOOP_MAX_NAME_BYTES + 1]; /* hash key */
	text	   *task;
	int			k;				/* number of actions */
	char	  **actions;
	BanditContext context;
	int			nkeys;			/* features of the cells (context features) */
	char	  **keys;
	char	   *reward;			/* the outcome's key that holds the reward */
	BanditPrior prior;
	int			draws;
} BanditDefinition;

extern const BanditDefinition *bandit_definition(text *name, bool read_only, bool missing_ok);
extern void bandit_corrupted(const char *name, const char *what) pg_attribute_noreturn();

#endif							/* LEARNLOOP_BANDIT_DEFINITION_H */
