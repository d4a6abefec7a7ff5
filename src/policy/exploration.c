/*-------------------------------------------------------------------------
 *
 * exploration.c
 *	  The action distributions of exploring policies.
 *
 * A policy scores every eligible action (higher is better) and then
 * draws its action from a distribution over them.  Logging that
 * distribution's probability of the action drawn (the propensity) is what
 * lets off-policy evaluation weigh the logged decisions later, so the
 * distribution computed here must be exactly the one sampled:
 *	- greedy: the first best action, with probability 1;
 *	- epsilon-greedy: epsilon spread uniformly, the rest on the best;
 *	- softmax: p(a) proportional to exp(score(a) / temperature);
 *	- SquareCB (Foster and Rakhlin's inverse-gap weighting): each action
 *	  but the best gets 1 / (K + gamma * (best score - its score)), the
 *	  best the rest.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "policy/exploration.h"

static const char *const method_names[] = {"greedy", "epsilon", "softmax", "squarecb"};

/*
 * Reads a method and its parameters as SQL passes them (a NULL pointer is
 * an argument left out: its default).  A parameter out of range is an
 * error rather than a clamp: a propensity logged under a parameter other
 * than the one asked for would mislead every later evaluation.
 */
void
exploration_init(Exploration *e, const char *method, const double *epsilon,
				 const double *temperature, const double *gamma)
{
	int			m;

	for (m = 0; m < lengthof(method_names); m++)
		if (method == NULL ? m == EXPLORE_GREEDY : strcmp(method, method_names[m]) == 0)
			break;
	if (m == lengthof(method_names))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown exploration method \"%s\"", method),
				 errhint("explore is 'greedy', 'epsilon', 'softmax' or 'squarecb'.")));
	e->method = (ExploreMethod) m;
	e->epsilon = epsilon ? *epsilon : EXPLORATION_DEFAULT_EPSILON;
	e->temperature = temperature ? *temperature : EXPLORATION_DEFAULT_TEMPERATURE;
	e->gamma = gamma ? *gamma : EXPLORATION_DEFAULT_GAMMA;
	if (!(e->epsilon >= 0 && e->epsilon <= 1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("epsilon must be from 0 to 1, not %g", e->epsilon),
				 errhint("epsilon is the share of decisions spread uniformly over the actions.")));
	if (!(e->temperature > 0 && isfinite(e->temperature)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("temperature must be a finite number above 0, not %g", e->temperature),
				 errhint("Smaller temperatures are greedier; scores are divided by it.")));
	if (!(e->gamma >= 0 && isfinite(e->gamma)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("gamma must be a finite number from 0, not %g", e->gamma),
				 errhint("Larger gammas are greedier; 0 spreads SquareCB's choice uniformly.")));
}

/* The first action with the highest score (scores are finite). */
int
exploration_best(const double *scores, int n)
{
	int			best = 0;

	for (int a = 1; a < n; a++)
		if (scores[a] > scores[best])
			best = a;
	return best;
}

/*
 * Fills probabilities[0 .. n-1] (n >= 1, finite scores).  The best
 * action's probability is computed as what the others leave, so the sum
 * is 1 up to the last bit.
 */
void
exploration_distribution(const Exploration *e, const double *scores, int n,
						 double *probabilities)
{
	int			best = exploration_best(scores, n);
	double		others = 0;

	for (int a = 0; a < n; a++)
	{
		if (a == best)
			continue;
		switch (e->method)
		{
			case EXPLORE_GREEDY:
				probabilities[a] = 0;
				break;
			case EXPLORE_EPSILON:
				probabilities[a] = e->epsilon / n;
				break;
			case EXPLORE_SOFTMAX:
				probabilities[a] = 0;	/* below */
				break;
			case EXPLORE_SQUARECB:
				probabilities[a] = 1.0 / (n + e->gamma * (scores[best] - scores[a]));
				break;
		}
		others += probabilities[a];
	}
	if (e->method == EXPLORE_SOFTMAX)
	{
		/* shifted by the best score, so no exp() overflows */
		double		total = 0;

		for (int a = 0; a < n; a++)
			total += probabilities[a] = exp((scores[a] - scores[best]) / e->temperature);
		others = 0;
		for (int a = 0; a < n; a++)
			if (a != best)
				others += probabilities[a] /= total;
	}
	probabilities[best] = Max(0.0, 1.0 - others);
}

/*
 * The action a uniform u in [0, 1) draws from probabilities[0 .. n-1]:
 * the one whose share of [0, 1), laid out in order, holds u.  An action
 * of probability 0 is never drawn, not even when rounding leaves u past
 * the last share (then the last action of positive probability is), so
 * the propensity logged is never 0.
 */
int
exploration_draw(const double *probabilities, int n, double u)
{
	double		upto = 0;
	int			last = -1;

	for (int a = 0; a < n; a++)
	{
		if (probabilities[a] <= 0)
			continue;
		upto += probabilities[a];
		if (u < upto)
			return a;
		last = a;
	}
	return last;
}

const char *
exploration_method_name(ExploreMethod method)
{
	return method_names[method];
}
