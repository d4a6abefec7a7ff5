/*-------------------------------------------------------------------------
 *
 * bandit.c
 *	  Thompson sampling over Beta (conversion) and normal (continuous
 *	  metric) posteriors.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "experiment/bandit.h"

/* Fixed stream key, so the weights depend only on the caller's seed. */
#define THOMPSON_KEY "thompson"

/*
 * Gamma(shape, 1) by Marsaglia and Tsang's squeeze method; for shape < 1,
 * Gamma(shape) = Gamma(shape + 1) * U^(1/shape).
 */
double
gamma_sample(Prng *prng, double shape)
{
	double		d,
				c;

	if (shape < 1.0)
	{
		double		u = 1.0 - prng_uniform(prng);	/* (0, 1] */

		return gamma_sample(prng, shape + 1.0) * pow(u, 1.0 / shape);
	}
	d = shape - 1.0 / 3.0;
	c = 1.0 / sqrt(9.0 * d);
	for (;;)
	{
		double		x = prng_normal(prng, 0.0, 1.0);
		double		v = 1.0 + c * x;
		double		u;

		if (v <= 0.0)
			continue;
		v = v * v * v;
		u = 1.0 - prng_uniform(prng);
		if (u < 1.0 - 0.0331 * x * x * x * x ||
			log(u) < 0.5 * x * x + d * (1.0 - v + log(v)))
			return d * v;
	}
}

double
beta_sample(Prng *prng, double a, double b)
{
	double		x = gamma_sample(prng, a);
	double		y = gamma_sample(prng, b);

	return x / (x + y);
}

typedef double (*ArmSampler) (Prng *prng, double p1, double p2);

/*
 * weights[i] estimates P(arm i draws the highest value) over the given number
 * of draws.  The win counts live in weights until the end, so no workspace
 * is needed.
 */
static void
thompson_run(ArmSampler sample, const double *p1, const double *p2, int k,
			 int draws, uint64 seed, double *weights)
{
	Prng		prng;
	int			d,
				i;

	prng_seed(&prng, seed, THOMPSON_KEY, strlen(THOMPSON_KEY));
	for (i = 0; i < k; i++)
		weights[i] = 0.0;
	for (d = 0; d < draws; d++)
	{
		double		best = -INFINITY;
		int			arg = 0;

		for (i = 0; i < k; i++)
		{
			double		x = sample(&prng, p1[i], p2[i]);

			if (x > best)
			{
				best = x;
				arg = i;
			}
		}
		weights[arg] += 1.0;
	}
	for (i = 0; i < k; i++)
		weights[i] /= draws;
}

/* Conversion arms with independent Beta(alpha[i], beta[i]) posteriors. */
void
thompson_weights(const double *alpha, const double *beta, int k,
				 int draws, uint64 seed, double *weights)
{
	thompson_run(beta_sample, alpha, beta, k, draws, seed, weights);
}

/* Continuous-metric arms with normal posteriors N(mean[i], se[i]^2). */
void
thompson_weights_normal(const double *mean, const double *se, int k,
						int draws, uint64 seed, double *weights)
{
	thompson_run(prng_normal, mean, se, k, draws, seed, weights);
}
