/*-------------------------------------------------------------------------
 *
 * posterior.c
 *	  Thompson sampling for ml.choose: each action's posterior from its
 *	  cell's rewards with the population's as an empirical-Bayes prior, the
 *	  Monte Carlo distribution of the best draw, and the pick from it.
 *
 * Binary rewards (0 to 1): Beta(1 + w s_o + s_u, 1 + w (n_o - s_o) +
 * (n_u - s_u)), where u is the unit's (cell's) arm, o the others' (the
 * population minus the cell) and w = min(1, prior_weight / n_o) scales the
 * others down to at most prior_weight observations (0 for prior uniform).
 * Continuous rewards: a normal with k = 1 + w n_o + n_u observations, mean
 * (m + w s_o + s_u) / k and standard deviation sigma / sqrt(k), where the
 * one pseudo-observation m is the population's mean over every action and
 * sigma^2 = (1 + the population's sum of squared deviations from m) /
 * (1 + its count).  docs/exploration.md derives and explains the choices.
 *
 * Pure C (no SPI): ml.bandit_arms is read by choose.c, which checks it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "bandit/posterior.h"
#include "common/prng.h"
#include "experiment/bandit.h"

#define PICK_KEY "bandit pick"

/* The others' statistics: the population without the cell, never below 0 */
static ArmStats
others_of(const ArmStats *own, const ArmStats *population, bool own_is_population)
{
	ArmStats	o = {0, 0, 0};

	if (!own_is_population && population->n > own->n)
	{
		o.n = population->n - own->n;
		o.sum = population->sum - own->sum;
		o.sq = Max(population->sq - own->sq, 0.0);
	}
	return o;
}

/* Share of the others' observations the prior counts: at most prior_weight */
static double
prior_scale(const BanditPrior *prior, double n_others)
{
	if (!prior->population || n_others <= 0)
		return 0.0;
	return n_others > prior->prior_weight ? prior->prior_weight / n_others : 1.0;
}

void
bandit_posteriors(const BanditPrior *prior, int k, const ArmStats *own,
				  const ArmStats *population, bool own_is_population,
				  double *p1, double *p2)
{
	double		total_n = 0,
				total_sum = 0,
				total_sq = 0,
				grand_mean = 0,
				variance = 1;
	int			i;

	if (!prior->binary)
	{
		for (i = 0; i < k; i++)
		{
			total_n += population[i].n;
			total_sum += population[i].sum;
			total_sq += population[i].sq;
		}
		if (total_n > 0)
			grand_mean = total_sum / total_n;
		/* sum of squared deviations from the mean, which rounding may take below 0 */
		variance = (1.0 + Max(total_sq - total_n * grand_mean * grand_mean, 0.0)) / (1.0 + total_n);
	}
	for (i = 0; i < k; i++)
	{
		ArmStats	o = others_of(&own[i], &population[i], own_is_population);
		double		w = prior_scale(prior, o.n);

		if (prior->binary)
		{
			/* sums drift by rounding under corrections: keep each in [0, n] */
			double		s_o = Min(Max(o.sum, 0.0), o.n);
			double		s_u = Min(Max(own[i].sum, 0.0), own[i].n);

			p1[i] = 1.0 + w * s_o + s_u;
			p2[i] = 1.0 + w * (o.n - s_o) + (own[i].n - s_u);
		}
		else
		{
			double		n = 1.0 + w * o.n + own[i].n;

			p1[i] = (grand_mean + w * o.sum + own[i].sum) / n;
			p2[i] = sqrt(variance / n);
		}
	}
}

/*
 * probabilities[i]: the share of draws in which action i's sample is the
 * highest (ties to the first), a multiple of 1 / draws.
 */
void
bandit_thompson(const BanditPrior *prior, int k, const double *p1, const double *p2,
				int draws, uint64 seed, double *probabilities)
{
	if (prior->binary)
		thompson_weights(p1, p2, k, draws, seed, probabilities);
	else
		thompson_weights_normal(p1, p2, k, draws, seed, probabilities);
}

/*
 * The action of one of the draws, chosen uniformly: exactly the
 * distribution bandit_thompson returned, so the logged propensity is the
 * probability the action was chosen with.  Counts are integers, so no
 * rounding can pick an action that never won.
 */
int
bandit_pick(const double *probabilities, int k, int draws, uint64 seed)
{
	Prng		prng;
	int64		target;
	int			i;

	prng_seed(&prng, seed, PICK_KEY, strlen(PICK_KEY));
	target = (int64) (prng_next(&prng) % (uint64) draws);
	for (i = 0; i < k; i++)
	{
		target -= (int64) rint(probabilities[i] * draws);
		if (target < 0)
			return i;
	}
	elog(ERROR, "Thompson draws do not add up to %d", draws);
	return -1;					/* keep compiler quiet */
}

/* The action with the best posterior mean (the first of ties): not exploring */
int
bandit_greedy(const BanditPrior *prior, int k, const double *p1, const double *p2)
{
	int			best = 0;
	double		best_mean = -INFINITY;
	int			i;

	for (i = 0; i < k; i++)
	{
		double		mean = prior->binary ? p1[i] / (p1[i] + p2[i]) : p1[i];

		if (mean > best_mean)
		{
			best_mean = mean;
			best = i;
		}
	}
	return best;
}
