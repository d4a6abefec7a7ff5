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
