/*
 * Micro-benchmark of ml.choose's Thompson distribution for five Beta arms
 * that differ (as a bandit that has learned has them): the integral
 * (src/bandit/thompson_exact.c) against 100 Monte Carlo draws
 * (thompson_weights, the way beyond 8 actions or with draws given), in
 * CPU time per distribution, the two in turns in one run, best of REPS
 * rounds.  By hand only: it reports times and their ratio, it judges
 * nothing (the machine may be shared).
 *
 *   thompson_bench [REPS]
 */
#include "postgres.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bandit/thompson_exact.h"
#include "experiment/bandit.h"

#define CALLS		20000
#define ARMS		5

/* a unit's posteriors: successes and failures of five actions, with the population's prior */
static const double alpha[ARMS] = {13.2, 9.7, 21.4, 4.1, 16.8};
static const double beta[ARMS] = {31.5, 35.1, 27.9, 40.2, 29.6};

static double
cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

int
main(int argc, char **argv)
{
	int			reps = argc > 1 ? atoi(argv[1]) : 5;
	double		best_exact = 1e30,
				best_draws = 1e30,
				probs[ARMS],
				sink = 0;

	for (int r = 0; r < reps; r++)
	{
		double		t0 = cpu_us();

		for (int i = 0; i < CALLS; i++)
		{
			if (!thompson_exact(true, ARMS, alpha, beta, probs))
				return 1;
			sink += probs[i % ARMS];
		}
		best_exact = Min(best_exact, (cpu_us() - t0) / CALLS);
		t0 = cpu_us();
		for (int i = 0; i < CALLS; i++)
		{
			thompson_weights(alpha, beta, ARMS, 100, (uint64) i, probs);
			sink += probs[i % ARMS];
		}
		best_draws = Min(best_draws, (cpu_us() - t0) / CALLS);
	}
	printf("five Beta arms, CPU per distribution (best of %d x %d): integral %.1f us, 100 draws %.1f us, ratio %.2f (checksum %.0f)\n",
		   reps, CALLS, best_exact, best_draws, best_exact / best_draws, sink);
	return 0;
}
