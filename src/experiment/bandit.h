/*-------------------------------------------------------------------------
 *
 * bandit.h
 *	  Thompson sampling weights: the probability that each arm is best,
 *	  estimated by seeded Monte Carlo so a rerun gives the same split.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_BANDIT_H
#define LEARNLOOP_BANDIT_H

#include "common/prng.h"

#ifdef LEARNLOOP_UNIT_TEST
extern double gamma_sample(Prng *prng, double shape);
#endif
extern void thompson_weights(const double *alpha, const double *beta, int k,
							 int draws, uint64 seed, double *weights);
extern void thompson_weights_normal(const double *mean, const double *se,
									int k, int draws, uint64 seed,
									double *weights);

#endif							/* LEARNLOOP_BANDIT_H */
