/*-------------------------------------------------------------------------
 *
 * posterior.h
 *	  A bandit's posteriors from its arms' sufficient statistics, and the
 *	  Thompson-sampling distribution ml.choose draws its action from.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_BANDIT_POSTERIOR_H
#define LEARNLOOP_BANDIT_POSTERIOR_H

/* An arm's rewards: count, sum and sum of squares (a row of ml.bandit_arms) */
typedef struct ArmStats
{
	double		n;
	double		sum;
	double		sq;
} ArmStats;

typedef struct BanditPrior
{
	bool		binary;			/* Beta posteriors, else normal */
	bool		population;		/* the other units' data as the prior */
	double		prior_weight;	/* most observations that prior counts for */
} BanditPrior;

/*
 * One posterior per action: p1, p2 are Beta's alpha and beta (binary) or
 * the normal's mean and standard deviation (continuous).
 */
extern void bandit_posteriors(const BanditPrior *prior, int k,
							  const ArmStats *own, const ArmStats *population,
							  bool own_is_population, double *p1, double *p2);
extern int	bandit_thompson(const BanditPrior *prior, int k, const double *p1,
							const double *p2, int draws, int bandit_draws,
							uint64 seed, double *probabilities);
extern int	bandit_pick(const double *probabilities, int k, uint64 seed);
extern int	bandit_greedy(const BanditPrior *prior, int k, const double *p1,
						  const double *p2);

#endif							/* LEARNLOOP_BANDIT_POSTERIOR_H */
