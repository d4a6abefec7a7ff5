/*-------------------------------------------------------------------------
 *
 * prng.c
 *	  splitmix64: tiny state, full 64-bit period, good enough statistics
 *	  for simulation, and a stream fixed forever by its definition.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "common/prng.h"

/* Seeds a stream from a number and a key, so every unit has its own stream. */
void
prng_seed(Prng *prng, uint64 seed, const char *key, size_t keylen)
{
	uint64		h = UINT64CONST(14695981039346656037);	/* FNV-1a 64 */
	size_t		i;

	for (i = 0; i < keylen; i++)
	{
		h ^= (unsigned char) key[i];
		h *= UINT64CONST(1099511628211);
	}
	prng->state = h ^ (seed * UINT64CONST(0x9E3779B97F4A7C15));
}

uint64
prng_next(Prng *prng)
{
	uint64		z = (prng->state += UINT64CONST(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64CONST(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64CONST(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

/* Uniform in [0, 1) with 53 random bits. */
double
prng_uniform(Prng *prng)
{
	return (prng_next(prng) >> 11) * (1.0 / 9007199254740992.0);
}

/* Normal deviate by Box-Muller; one of the pair is discarded for simplicity. */
double
prng_normal(Prng *prng, double mean, double sd)
{
	double		u1 = 1.0 - prng_uniform(prng);	/* (0, 1]: log is finite */
	double		u2 = prng_uniform(prng);

	return mean + sd * sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

/*
 * The ziggurat of Marsaglia and Tsang (2000) for the standard normal: the
 * half-density f(x) = exp(-x^2 / 2) is covered by 256 layers of equal area
 * v, each a rectangle [0, x_i] x [f(x_i), f(x_{i+1})] (layer 0 is the base
 * rectangle [0, r] x [0, f(r)] with the tail beyond r).  One 64-bit draw
 * gives the layer, the sign and the abscissa; about 99 % of draws are
 * inside their layer's part that lies wholly under the curve and cost no
 * transcendental function.  Thompson sampling makes hundreds of normal
 * draws per ml.choose, where Box-Muller's log and cosine were half its
 * time.  prng_normal keeps Box-Muller: the simulation's streams stay as
 * they were.
 */
#define ZIGGURAT_LAYERS 256
#define ZIGGURAT_R 3.6541528853610088	/* where the tail starts */
#define ZIGGURAT_V 4.92867323399e-3 /* each layer's area */

static double ziggurat_x[ZIGGURAT_LAYERS + 1];
static double ziggurat_f[ZIGGURAT_LAYERS + 1];
static bool ziggurat_ready = false;

static void
ziggurat_init(void)
{
	int			i;

	ziggurat_x[0] = ZIGGURAT_V / exp(-0.5 * ZIGGURAT_R * ZIGGURAT_R);
	ziggurat_x[1] = ZIGGURAT_R;
	for (i = 1; i < ZIGGURAT_LAYERS - 1; i++)
		ziggurat_x[i + 1] = sqrt(-2.0 * log(ZIGGURAT_V / ziggurat_x[i] +
											exp(-0.5 * ziggurat_x[i] * ziggurat_x[i])));
	/* the top layer ends at 0 (the recursion reaches 1 + 2e-11 there, not 1) */
	ziggurat_x[ZIGGURAT_LAYERS] = 0.0;
	for (i = 0; i <= ZIGGURAT_LAYERS; i++)
		ziggurat_f[i] = exp(-0.5 * ziggurat_x[i] * ziggurat_x[i]);
	ziggurat_ready = true;
}

/* The tail beyond r, by Marsaglia's exponential rejection */
static double
ziggurat_tail(Prng *prng)
{
	for (;;)
	{
		double		a = -log(1.0 - prng_uniform(prng)) / ZIGGURAT_R;
		double		b = -log(1.0 - prng_uniform(prng));

		if (b + b >= a * a)
			return ZIGGURAT_R + a;
	}
}

#ifdef LEARNLOOP_UNIT_TEST
/* One draw from the tail alone: the 1 in 4000 normal draws too few to test it */
double
prng_normal_tail(Prng *prng)
{
	return ziggurat_tail(prng);
}
#endif

double
prng_standard_normal(Prng *prng)
{
	static const double sign_of_bit[2] = {1.0, -1.0};

	if (!ziggurat_ready)
		ziggurat_init();
	for (;;)
	{
		uint64		bits = prng_next(prng);
		int			layer = bits & (ZIGGURAT_LAYERS - 1);
		double		sign = sign_of_bit[(bits >> 8) & 1];
		double		x = (bits >> 11) * (1.0 / 9007199254740992.0) * ziggurat_x[layer];

		/* the sign by a table, not a branch that is taken half the time */
		if (x < ziggurat_x[layer + 1])
			return sign * x;
		if (layer == 0)
			x = ziggurat_tail(prng);
		else if (ziggurat_f[layer] + prng_uniform(prng) * (ziggurat_f[layer + 1] - ziggurat_f[layer])
				 >= exp(-0.5 * x * x))
			continue;			/* above the curve in the layer's wedge */
		return sign * x;
	}
}

/* Index drawn with probability proportional to weights[i]. */
int
prng_choose(Prng *prng, const double *weights, int n)
{
	double		total = 0.0;
	double		x;
	int			i;

	for (i = 0; i < n; i++)
		total += weights[i];
	x = prng_uniform(prng) * total;
	for (i = 0; i < n - 1; i++)
	{
		if (x < weights[i])
			return i;
		x -= weights[i];
	}
	return n - 1;
}
