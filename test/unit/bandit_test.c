/*-------------------------------------------------------------------------
 *
 * bandit_test.c
 *	  Standalone TAP test of the per-user bandit core (src/bandit/posterior.c):
 *	  the posteriors' parameters, exactly, with the population prior and its
 *	  cap; the Thompson distribution's exact cases; the pick following it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <math.h>

#include "bandit/posterior.h"
#include "tap.h"

static void
is_num(double got, double want, const char *what)
{
	bool		pass = fabs(got - want) <= 1e-12 * (1 + fabs(want));

	tap_line(pass);
	printf("%s", what);
	if (!pass)
		printf(" (got %.17g, want %.17g)", got, want);
	printf("\n");
}

int
main(void)
{
	BanditPrior binary = {true, true, 10.0};
	BanditPrior uniform = {true, false, 10.0};
	BanditPrior normal = {false, true, 10.0};
	/* action 0: the unit 3 of 4, the population 83 of 104 (others 80 of 100); action 1: none */
	ArmStats	own[2] = {{4, 3, 3}, {0, 0, 0}};
	ArmStats	population[2] = {{104, 83, 83}, {5, 1, 1}};
	double		p1[2],
				p2[2],
				probabilities[3];
	int			counts[3] = {0, 0, 0};

	/* others 100 > prior_weight 10: scaled by w = 0.1, 8 successes and 2 failures */
	bandit_posteriors(&binary, 2, own, population, false, p1, p2);
	is_num(p1[0], 1 + 8 + 3, "binary: alpha = 1 + w s_o + s_u, the others capped at prior_weight");
	is_num(p2[0], 1 + 2 + 1, "binary: beta = 1 + w (n_o - s_o) + (n_u - s_u)");
	is_num(p1[1], 1 + 1, "binary: 5 others under the cap count whole (w = 1), alpha");
	is_num(p2[1], 1 + 4, "binary: beta");

	bandit_posteriors(&uniform, 2, own, population, false, p1, p2);
	is_num(p1[0], 1 + 3, "uniform: the unit's own successes only");
	is_num(p2[0], 1 + 1, "uniform: the unit's own failures only");

	/* context none: the cell is the population, nothing is counted twice */
	bandit_posteriors(&binary, 2, population, population, true, p1, p2);
	is_num(p1[0], 1 + 83, "none: the population's successes");
	is_num(p2[0], 1 + 21, "none: the population's failures");

	/*
	 * continuous: the population's 109 rewards have mean m = 84 / 109 and
	 * squares 84, so sigma^2 = (1 + 84 - 109 m^2) / 110
	 */
	{
		double		m = 84.0 / 109;
		double		variance = (1 + 84 - 109 * m * m) / 110;

		bandit_posteriors(&normal, 2, own, population, false, p1, p2);
		is_num(p1[0], (m + 0.1 * 80 + 3) / (1 + 10 + 4), "normal: mean = (m + w s_o + s_u) / k");
		is_num(p2[0], sqrt(variance / 15), "normal: sd = sigma / sqrt(k)");
		is_num(p1[1], (m + 1) / (1 + 5), "normal: an arm without the unit's data");
	}

	/* a single action wins every draw, exactly */
	{
		double		a = 3,
					b = 5;

		bandit_thompson(&binary, 1, &a, &b, 37, 1, probabilities);
		is_num(probabilities[0], 1.0, "one action: probability 1");
	}

	/* shares are counts of draws, summing to 1 */
	{
		double		a[3] = {2, 1, 1},
					b[3] = {1, 1, 1};
		double		total = 0;

		bandit_thompson(&binary, 3, a, b, 1000, 7, probabilities);
		for (int i = 0; i < 3; i++)
			total += probabilities[i];
		is_num(total, 1.0, "the shares sum to 1");
		is_num(rint(probabilities[0] * 1000), probabilities[0] * 1000, "a share is a count of draws");

		/* the same seed, the same shares */
		{
			double		again[3];

			bandit_thompson(&binary, 3, a, b, 1000, 7, again);
			is_num(again[1], probabilities[1], "the same seed gives the same shares");
		}

		/* picks follow the shares: 30,000 picks within 4 binomial standard errors */
		for (int s = 0; s < 30000; s++)
			counts[bandit_pick(probabilities, 3, (uint64) s)]++;
		tap_line(fabs(counts[0] / 30000.0 - probabilities[0]) <
				 4 * sqrt(probabilities[0] * (1 - probabilities[0]) / 30000));
		printf("picks follow the shares (%d of 30000 for a share of %.3f)\n", counts[0], probabilities[0]);
	}

	/* identical posteriors: exactly 1 / k, whatever the draws */
	{
		double		a[3] = {4, 4, 4},
					b[3] = {2, 2, 2};

		bandit_thompson(&binary, 3, a, b, 100, 7, probabilities);
		is_num(probabilities[2], 1.0 / 3, "identical posteriors: exactly 1/3 each");
	}

	/* an action that never won is never picked, even when rounding leaves the draw past the shares */
	{
		double		shares[3] = {0.0, 1.0, 0.0};
		double		short_of_one[3] = {0.3, 0.3, 0.0};
		bool		never = true,
					last_with_share = true;

		for (int s = 0; s < 1000; s++)
		{
			never = never && bandit_pick(shares, 3, (uint64) s) == 1;
			last_with_share = last_with_share && bandit_pick(short_of_one, 3, (uint64) s) != 2;
		}
		tap_line(never && last_with_share);
		printf("an action with probability 0 is never picked\n");
	}
	return tap_finish();
}
