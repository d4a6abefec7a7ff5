/*-------------------------------------------------------------------------
 *
 * prng.h
 *	  A small seeded random generator whose streams never change between
 *	  PostgreSQL versions or platforms (unlike random() and setseed()).
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_PRNG_H
#define LEARNLOOP_PRNG_H

typedef struct Prng
{
	uint64		state;
} Prng;

extern void prng_seed(Prng *prng, uint64 seed, const char *key, size_t keylen);
extern uint64 prng_next(Prng *prng);
extern double prng_uniform(Prng *prng);
extern double prng_normal(Prng *prng, double mean, double sd);
extern double prng_standard_normal(Prng *prng);
#ifdef LEARNLOOP_UNIT_TEST
extern double prng_normal_tail(Prng *prng);
#endif
extern int	prng_choose(Prng *prng, const double *weights, int n);

#endif							/* LEARNLOOP_PRNG_H */
