/*-------------------------------------------------------------------------
 *
 * posterior.c
 *	  Thompson sampling for ml.choose: each action's posterior from its
 *	  cell's rewards with the population's as an empirical-Bayes prior, the
 *	  Thompson distribution (integrated for a few actions, thompson_exact.c,
 *	  else by Monte Carlo), and the pick from it.
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
#include "bandit/thompson_exact.h"
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
 * The last integrated distribution, by its exact inputs.  Every new unit
 * of a bandit has the same posteriors (the population's, as the prior)
 * until an outcome changes the population's arms, and a unit asked again
 * before its next outcome has its own again: so the integral often gets
 * the inputs it had at the backend's previous call.  The distribution is
 * a function of the inputs alone, so reusing it changes no propensity.
 */
typedef struct ThompsonMemo
{
	bool		valid;
	bool		binary;
	int			k;
	double		p1[THOMPSON_EXACT_MAX_ACTIONS];
	double		p2[THOMPSON_EXACT_MAX_ACTIONS];
	double		probabilities[THOMPSON_EXACT_MAX_ACTIONS];
} ThompsonMemo;

static ThompsonMemo last_integral;

static bool
memo_matches(bool binary, int k, const double *p1, const double *p2)
{
	if (!last_integral.valid || last_integral.binary != binary || last_integral.k != k)
		return false;
	for (int i = 0; i < k; i++)
		if (last_integral.p1[i] != p1[i] || last_integral.p2[i] != p2[i])
			return false;
	return true;
}

/* The integral of at most THOMPSON_EXACT_MAX_ACTIONS actions, or false */
static bool
integrated(bool binary, int k, const double *p1, const double *p2, double *probabilities)
{
	if (memo_matches(binary, k, p1, p2))
	{
		memcpy(probabilities, last_integral.probabilities, sizeof(double) * k);
		return true;
	}
	last_integral.valid = false;
	if (!thompson_exact(binary, k, p1, p2, probabilities))
		return false;
	last_integral.binary = binary;
	last_integral.k = k;
	memcpy(last_integral.p1, p1, sizeof(double) * k);
	memcpy(last_integral.p2, p2, sizeof(double) * k);
	memcpy(last_integral.probabilities, probabilities, sizeof(double) * k);
	last_integral.valid = true;
	return true;
}

/*
 * probabilities[i]: the probability that action i's sample is the highest.
 * Exact when every action has the same posterior (a new bandit, or a
 * new unit under prior uniform): 1 / k each, as symmetry gives.  Otherwise,
 * with draws 0 and at most THOMPSON_EXACT_MAX_ACTIONS actions, the
 * integral (thompson_exact.c, within 0.001); else the share of `draws`
 * Monte Carlo draws action i wins (ties to the first), a multiple of
 * 1 / draws, with the bandit's draws when the caller asked for none.
 * Returns the number of draws made: 0 when the distribution was computed.
 */
int
bandit_thompson(const BanditPrior *prior, int k, const double *p1, const double *p2,
				int draws, int bandit_draws, uint64 seed, double *probabilities)
{
	int			i;

	for (i = 1; i < k; i++)
		if (p1[i] != p1[0] || p2[i] != p2[0])
			break;
	if (i == k)
	{
		for (i = 0; i < k; i++)
			probabilities[i] = 1.0 / k;
		return 0;
	}
	if (draws == 0 && k <= THOMPSON_EXACT_MAX_ACTIONS &&
		integrated(prior->binary, k, p1, p2, probabilities))
		return 0;
	if (draws == 0)
		draws = bandit_draws;
	if (prior->binary)
		thompson_weights(p1, p2, k, draws, seed, probabilities);
	else
		thompson_weights_normal(p1, p2, k, draws, seed, probabilities);
	return draws;
}

/*
 * An action drawn from probabilities: with the Monte Carlo shares, the
 * winner of one of the draws, so the logged propensity is exactly the
 * probability the action was chosen with.  Actions with probability 0 are
 * skipped, so rounding can never pick one that never won; -1 when no action
 * has a probability (the caller's bug, which it reports).
 */
int
bandit_pick(const double *probabilities, int k, uint64 seed)
{
	Prng		prng;
	double		u;
	int			last = -1;

	prng_seed(&prng, seed, PICK_KEY, strlen(PICK_KEY));
	u = prng_uniform(&prng);
	for (int i = 0; i < k; i++)
	{
		if (!(probabilities[i] > 0))
			continue;
		last = i;
		if (u < probabilities[i])
			return i;
		u -= probabilities[i];
	}
	return last;				/* rounding left u past the last share */
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
