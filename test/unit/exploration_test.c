/*-------------------------------------------------------------------------
 *
 * exploration_test.c
 *	  Standalone TAP test of src/policy/exploration.c: each method's
 *	  probabilities against its formula (computed here in long double,
 *	  apart from the code under test), sums of 1, 100,000 seeded draws per
 *	  method within 4.5 binomial standard deviations of the propensities,
 *	  actions of probability 0 never drawn, and the parameter checks.
 *	  Exits non-zero when any check fails.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/prng.h"
#include "policy/exploration.h"
#include "tap.h"

#define K			5
#define NDRAWS		100000

/*
 * ereport() without a backend: the checks of exploration_init raise
 * through these, and errfinish jumps back to the test with the SQLSTATE.
 */
static sigjmp_buf raised;
static int	raised_code;

bool
errstart(int elevel, const char *domain)
{
	return true;
}

bool
errstart_cold(int elevel, const char *domain)
{
	return true;
}

int
errcode(int sqlerrcode)
{
	raised_code = sqlerrcode;
	return 0;
}

int
errmsg(const char *fmt,...)
{
	return 0;
}

int
errhint(const char *fmt,...)
{
	return 0;
}

void
errfinish(const char *filename, int lineno, const char *funcname)
{
	siglongjmp(raised, 1);
}

static void
check(bool ok, const char *what)
{
	tap_line(ok);
	printf("%s\n", what);
}

/* Two scores tie for the best: the first of them (index 1) is the best. */
static const double scores[K] = {0.2, 0.9, 0.5, 0.9, 0.1};
#define BEST 1

/* The formulas, in long double */
static void
expected(ExploreMethod method, double param, long double *p)
{
	long double rest = 1;
	long double total = 0;

	for (int a = 0; a < K; a++)
	{
		switch (method)
		{
			case EXPLORE_GREEDY:
				p[a] = 0;
				break;
			case EXPLORE_EPSILON:
				p[a] = (long double) param / K;
				break;
			case EXPLORE_SOFTMAX:
				total += p[a] = expl(((long double) scores[a] - 0.9L) / param);
				break;
			case EXPLORE_SQUARECB:
				p[a] = 1.0L / (K + (long double) param * (0.9L - (long double) scores[a]));
				break;
		}
	}
	if (method == EXPLORE_SOFTMAX)
		for (int a = 0; a < K; a++)
			p[a] /= total;
	for (int a = 0; a < K; a++)
		if (a != BEST)
			rest -= p[a];
	p[BEST] = rest;
}

static void
init(Exploration *e, const char *method, double epsilon, double temperature, double gamma)
{
	exploration_init(e, method, &epsilon, &temperature, &gamma);
}

/* exploration_init raises 22023 for these */
static bool
refused(const char *method, double epsilon, double temperature, double gamma)
{
	Exploration e;

	raised_code = 0;
	if (sigsetjmp(raised, 0) == 0)
	{
		init(&e, method, epsilon, temperature, gamma);
		return false;
	}
	return raised_code == ERRCODE_INVALID_PARAMETER_VALUE;
}

int
main(void)
{
	static const struct
	{
		const char *method;
		double		param;
	}			cases[] = {{"greedy", 0}, {"epsilon", 0.3}, {"softmax", 0.1}, {"squarecb", 50}};
	Exploration e;
	char		what[200];

	if (sigsetjmp(raised, 0) != 0)
	{
		printf("Bail out! an unexpected error was raised (SQLSTATE code %d)\n", raised_code);
		return 2;
	}

	/* defaults */
	exploration_init(&e, "epsilon", NULL, NULL, NULL);
	check(e.method == EXPLORE_EPSILON && e.epsilon == 0.1 && e.temperature == 0.1 && e.gamma == 50,
		  "defaults: epsilon 0.1, temperature 0.1, gamma 50");
	exploration_init(&e, NULL, NULL, NULL, NULL);
	check(e.method == EXPLORE_GREEDY, "no method is greedy");
	check(exploration_best(scores, K) == BEST, "ties go to the first best action");

	for (int c = 0; c < lengthof(cases); c++)
	{
		double		p[K];
		long double want[K];
		long double total = 0;
		double		err = 0;
		int			counts[K] = {0};
		bool		within = true;
		Prng		prng;

		init(&e, cases[c].method, c == 1 ? cases[c].param : 0.1, c == 2 ? cases[c].param : 0.1,
			 c == 3 ? cases[c].param : 50);
		exploration_distribution(&e, scores, K, p);
		expected(e.method, cases[c].param, want);
		for (int a = 0; a < K; a++)
		{
			err = fmax(err, fabsl(p[a] - want[a]));
			total += p[a];
		}
		snprintf(what, sizeof(what), "%s: the formula's probabilities (max error %.3g)",
				 cases[c].method, err);
		check(err < 1e-15, what);
		snprintf(what, sizeof(what), "%s: probabilities sum to 1", cases[c].method);
		check(fabsl(total - 1) < 1e-15, what);
		check(strcmp(exploration_method_name(e.method), cases[c].method) == 0, "the method's name");

		/* draws: seeded, so every run checks the same counts */
		prng_seed(&prng, 12 + c, "draws", 5);
		for (int i = 0; i < NDRAWS; i++)
			counts[exploration_draw(p, K, prng_uniform(&prng))]++;
		for (int a = 0; a < K; a++)
		{
			double		mean = NDRAWS * p[a];
			double		sd = sqrt(NDRAWS * p[a] * (1 - p[a]));

			if (fabs(counts[a] - mean) > 4.5 * sd || (p[a] == 0 && counts[a] != 0))
				within = false;
		}
		snprintf(what, sizeof(what),
				 "%s: %d seeded draws within 4.5 binomial sd of each propensity (%d %d %d %d %d)",
				 cases[c].method, NDRAWS, counts[0], counts[1], counts[2], counts[3], counts[4]);
		check(within, what);
	}

	/* the numbers, written out: epsilon 0.3 over 5 actions, SquareCB's tie */
	{
		double		p[K];

		init(&e, "epsilon", 0.3, 1, 1);
		exploration_distribution(&e, scores, K, p);
		check(fabs(p[0] - 0.06) < 1e-16 && fabs(p[BEST] - 0.76) < 1e-15 && fabs(p[3] - 0.06) < 1e-16,
			  "epsilon 0.3, 5 actions: 0.06 each, 0.76 for the best");
		init(&e, "squarecb", 0.1, 1, 50);
		exploration_distribution(&e, scores, K, p);
		check(p[3] == 0.2 && fabs(p[0] - 1.0 / 40) < 1e-16 && fabs(p[2] - 1.0 / 25) < 1e-16,
			  "squarecb gamma 50: a tie with the best gets 1/K, a gap of 0.7 1/40, of 0.4 1/25");
		init(&e, "squarecb", 0.1, 1, 0);
		exploration_distribution(&e, scores, K, p);
		check(p[0] == 0.2 && p[4] == 0.2 && fabs(p[BEST] - 0.2) < 1e-15, "squarecb gamma 0 is uniform");
	}

	/* exploration_draw: shares in order, zero never drawn, rounding goes to the last positive */
	{
		static const double half[K] = {0, 0.5, 0, 0.5, 0};
		static const double short_of_1[3] = {0.25, 0.75 - 1e-12, 0};

		check(exploration_draw(half, K, 0) == 1 && exploration_draw(half, K, 0.4999) == 1 &&
			  exploration_draw(half, K, 0.5) == 3 && exploration_draw(half, K, 0.9999999999999999) == 3,
			  "draws land in their shares; actions of probability 0 are never drawn");
		check(exploration_draw(short_of_1, 3, 0.9999999999999999) == 1,
			  "a u past the last share draws the last action of positive probability");
	}

	/* bad parameters */
	check(refused("epsilon", NAN, 1, 1), "NaN epsilon is refused");
	check(refused("epsilon", -0.1, 1, 1) && refused("epsilon", 1.1, 1, 1), "epsilon outside [0, 1] is refused");
	check(refused("softmax", 0.1, 0, 1) && refused("softmax", 0.1, -1, 1) && refused("softmax", 0.1, INFINITY, 1),
		  "a temperature that is not a finite number above 0 is refused");
	check(refused("squarecb", 0.1, 1, -1) && refused("squarecb", 0.1, 1, NAN), "a negative or NaN gamma is refused");
	check(refused("thompson", 0.1, 1, 1) && refused("Greedy", 0.1, 1, 1), "an unknown method is refused");
	check(!refused("epsilon", 0, 1, 0) && !refused("epsilon", 1, 1, 0), "epsilon 0 and 1 are allowed");

	return tap_finish();
}
