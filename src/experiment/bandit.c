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
 * Gamma(shape, 1) by Marsaglia and Tsang's squeeze method, its constants
 * computed once per arm rather than once per draw; for shape < 1,
 * Gamma(shape) = Gamma(shape + 1) * U^(1/shape).
 */
typedef struct GammaShape
{
	double		d;				/* (shape, or shape + 1) - 1/3 */
	double		c;				/* 1 / sqrt(9 d) */
	double		boost;			/* 1 / shape when shape < 1, else 0 */
} GammaShape;

static void
gamma_shape_init(GammaShape *g, double shape)
{
	g->boost = shape < 1.0 ? 1.0 / shape : 0.0;
	g->d = (shape < 1.0 ? shape + 1.0 : shape) - 1.0 / 3.0;
	g->c = 1.0 / sqrt(9.0 * g->d);
}

static double
gamma_draw(Prng *prng, const GammaShape *g)
{
	for (;;)
	{
		double		x = prng_standard_normal(prng);
		double		v = 1.0 + g->c * x;
		double		u;

		if (v <= 0.0)
			continue;
		v = v * v * v;
		u = 1.0 - prng_uniform(prng);	/* (0, 1]: log is finite */
		if (u < 1.0 - 0.0331 * x * x * x * x ||
			log(u) < 0.5 * x * x + g->d * (1.0 - v + log(v)))
		{
			if (g->boost > 0.0)
				return g->d * v * pow(1.0 - prng_uniform(prng), g->boost);
			return g->d * v;
		}
	}
}

#ifdef LEARNLOOP_UNIT_TEST
/* One Gamma(shape, 1) draw, for the unit test of its distribution */
double
gamma_sample(Prng *prng, double shape)
{
	GammaShape	g;

	gamma_shape_init(&g, shape);
	return gamma_draw(prng, &g);
}
#endif

/*
 * weights[i]: the share of `draws` joint draws of the k posteriors that arm
 * i wins (ties to the first).  Binary arms are Beta(p1, p2), drawn as
 * X / (X + Y) of two gammas; continuous arms normal(p1, p2).
 */
static void
thompson_run(bool beta, const double *p1, const double *p2, int k,
			 int draws, uint64 seed, double *weights)
{
	Prng		prng;
	GammaShape *shapes = NULL;
	int			d,
				i;

	prng_seed(&prng, seed, THOMPSON_KEY, strlen(THOMPSON_KEY));
	if (beta)
	{
		shapes = palloc(sizeof(GammaShape) * 2 * k);
		for (i = 0; i < k; i++)
		{
			gamma_shape_init(&shapes[2 * i], p1[i]);
			gamma_shape_init(&shapes[2 * i + 1], p2[i]);
		}
	}
	for (i = 0; i < k; i++)
		weights[i] = 0.0;
	for (d = 0; d < draws; d++)
	{
		double		best = -INFINITY;
		int			arg = 0;

		for (i = 0; i < k; i++)
		{
			double		x;

			if (beta)
			{
				double		a = gamma_draw(&prng, &shapes[2 * i]);

				x = a / (a + gamma_draw(&prng, &shapes[2 * i + 1]));
			}
			else
				x = p1[i] + p2[i] * prng_standard_normal(&prng);
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
	if (shapes)
		pfree(shapes);
}

void
thompson_weights(const double *alpha, const double *beta, int k,
				 int draws, uint64 seed, double *weights)
{
	thompson_run(true, alpha, beta, k, draws, seed, weights);
}

void
thompson_weights_normal(const double *mean, const double *se, int k,
						int draws, uint64 seed, double *weights)
{
	thompson_run(false, mean, se, k, draws, seed, weights);
}
