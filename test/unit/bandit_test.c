/*-------------------------------------------------------------------------
 *
 * bandit_test.c
 *	  Standalone TAP test of the per-user bandit core (src/bandit/posterior.c):
 *	  the posteriors' parameters, exactly, with the population prior and its
 *	  cap; the Thompson distribution's exact cases, its integral against
 *	  closed forms and a 4-million-draw Monte Carlo; the pick following it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <math.h>

#include "bandit/posterior.h"
#include "bandit/thompson_exact.h"
#include "experiment/bandit.h"
#include "tap.h"

/* Phi, for the closed form of two normal arms */
static double
normal_cdf(double z)
{
	return 0.5 * erfc(-z / sqrt(2.0));
}

/*
 * The integral against a reference: every probability within tolerance
 * (0.001 for the closed forms; 0.0015 against 4,000,000 Monte Carlo draws,
 * whose own standard error is at most 0.00025), and summing to 1.
 */
static void
is_distribution(const double *got, const double *want, int k, double tolerance, const char *what)
{
	double		worst = 0,
				total = 0;

	for (int i = 0; i < k; i++)
	{
		worst = fmax(worst, fabs(got[i] - want[i]));
		total += got[i];
	}
	tap_line(worst <= tolerance && fabs(total - 1) < 1e-12);
	printf("%s (largest difference %.5f, sum %.15f)\n", what, worst, total);
}

/* thompson_exact() against closed forms and Monte Carlo */
static void
test_integral(void)
{
	double		got[16],
				want[16];

	/* P(Beta(2, 1) > Beta(1, 1)) = 2/3 */
	{
		double		a[2] = {2, 1},
					b[2] = {1, 1};

		thompson_exact(true, 2, a, b, got);
		want[0] = 2.0 / 3;
		want[1] = 1.0 / 3;
		is_distribution(got, want, 2, 0.001, "integral: Beta(2,1) beats Beta(1,1) with 2/3");
	}
	/* two normals: Phi((m1 - m2) / sqrt(s1^2 + s2^2)), a narrow and a wide one */
	{
		double		m[2] = {1.0, 0.7},
					s[2] = {0.01, 0.4};

		thompson_exact(false, 2, m, s, got);
		want[0] = normal_cdf(0.3 / sqrt(0.0001 + 0.16));
		want[1] = 1 - want[0];
		is_distribution(got, want, 2, 0.001, "integral: two normals, the closed form");
	}
	/* against Monte Carlo: cases with every kind of posterior */
	{
		struct
		{
			const char *what;
			bool		binary;
			int			k;
			double		p1[8];
			double		p2[8];
		}			cases[] = {
			{"a new unit's five arms (population prior, weight 10)", true, 5,
			{4, 6, 5, 5, 5}, {8, 6, 7, 7, 7}},
			{"five arms with a history", true, 5,
			{1.03, 3.05, 4.04, 3.05, 1.03}, {12.97, 10.95, 9.96, 10.95, 12.97}},
			{"a wide Beta (x^0.3 at an edge) against a narrow one", true, 2,
			{1.3, 500}, {1.2, 600}},
			{"mixed widths, one far behind", true, 5,
			{1, 1.5, 30, 3000, 2}, {1, 1.2, 70, 7000, 5}},
			{"eight normal arms of different widths", false, 8,
			{1.0, 1.2, 0.9, 1.1, 1.05, 0.2, 1.15, 1.1}, {0.1, 0.1, 0.1, 0.3, 0.02, 0.05, 0.5, 0.01}},
		};

		for (int c = 0; c < (int) lengthof(cases); c++)
		{
			bool		done = thompson_exact(cases[c].binary, cases[c].k, cases[c].p1, cases[c].p2, got);

			if (cases[c].binary)
				thompson_weights(cases[c].p1, cases[c].p2, cases[c].k, 4000000, 1, want);
			else
				thompson_weights_normal(cases[c].p1, cases[c].p2, cases[c].k, 4000000, 1, want);
			tap_line(done);
			printf("integral computed: %s\n", cases[c].what);
			is_distribution(got, want, cases[c].k, 0.0015, cases[c].what);
		}
	}
	/*
	 * The grid's size bound: eight normals, each ten times narrower than
	 * the last, all spanning one point, so that every one takes part and
	 * each steps through its own span around the narrower ones' (187
	 * nodes, where the bound is 8 * 26 + 2); they must fit (else Monte
	 * Carlo, false) and give a distribution.
	 */
	{
		double		m[THOMPSON_EXACT_MAX_ACTIONS],
					s[THOMPSON_EXACT_MAX_ACTIONS],
					total = 0;
		bool		done;

		for (int i = 0; i < THOMPSON_EXACT_MAX_ACTIONS; i++)
		{
			s[i] = pow(10, -i);
			m[i] = 0.3 * s[i];
		}
		done = thompson_exact(false, THOMPSON_EXACT_MAX_ACTIONS, m, s, got);
		for (int i = 0; i < THOMPSON_EXACT_MAX_ACTIONS; i++)
			total += got[i];
		tap_line(done && fabs(total - 1) < 1e-12);
		printf("integral: eight nested normals 1 to 1e-7 wide fit the grid's bound (sum %.15f)\n", total);
	}
	/* an arm far below another cannot win: exactly 0, and never picked */
	{
		double		m[3] = {0.0, 5.0, 5.1},
					s[3] = {0.1, 0.2, 0.2};

		thompson_exact(false, 3, m, s, got);
		tap_line(got[0] == 0.0 && got[1] > 0.3 && got[2] > 0.3);
		printf("integral: an arm 25 sd behind gets exactly 0\n");
	}

	/*
	 * A narrow normal against a wide one, 10 to 1e8 times narrower (an
	 * action with millions of rewards against a new one), at every offset:
	 * the closed form.  The grid's intervals next to the narrow one's nodes
	 * are the wide one's long; its tail's slope times that length squared
	 * once made the distribution function leave [0, 1] (0 for a share of
	 * 0.87).
	 */
	{
		double		worst = 0;
		bool		all_done = true;

		for (int e = 1; e <= 8; e++)
			for (int o = -40; o <= 40; o++)
			{
				double		m[2] = {o * 0.05 + 0.013, 0.0},
							s[2] = {pow(10, -e), 1.0};
				double		want0 = normal_cdf(m[0] / sqrt(s[0] * s[0] + 1));

				all_done = all_done && thompson_exact(false, 2, m, s, got);
				worst = fmax(worst, fabs(got[0] - want0));
			}
		tap_line(all_done && worst <= 0.001);
		printf("integral: a normal 10 to 1e8 times narrower than the other, the closed form (largest difference %.5f)\n",
			   worst);
	}

	/*
	 * Beta(a, 1) against Beta(p, q): P = 1 - B(p + a, q) / B(p, q), for a
	 * skewed logit (Beta(64, 1) falls like e^(64 y) on one side, e^-y on the
	 * other) against narrow and wide ones, and mirrored (Beta(1, a) against
	 * Beta(q, p) wins with 1 - P).
	 */
	{
		static const double shapes[] = {1, 4, 16, 64};
		static const double fractions[] = {0.01, 0.1, 0.3, 0.5, 0.9, 0.99};
		double		worst = 0;
		bool		all_done = true;

		for (int a = 0; a < (int) lengthof(shapes); a++)
			for (int e = 1; e <= 7; e += 2)
				for (int fr = 0; fr < (int) lengthof(fractions); fr++)
				{
					double		n = pow(10, e);
					double		p = 1 + fractions[fr] * n,
								q = 1 + (1 - fractions[fr]) * n;
					double		want0 = 1 - exp(lgamma(p + shapes[a]) + lgamma(p + q) -
												lgamma(p) - lgamma(p + q + shapes[a]));
					double		alpha[2] = {shapes[a], p},
								beta[2] = {1, q};

					all_done = all_done && thompson_exact(true, 2, alpha, beta, got);
					worst = fmax(worst, fabs(got[0] - want0));
					alpha[0] = 1;
					beta[0] = shapes[a];
					alpha[1] = q;
					beta[1] = p;
					all_done = all_done && thompson_exact(true, 2, alpha, beta, got);
					worst = fmax(worst, fabs(got[0] - (1 - want0)));
				}
		tap_line(all_done && worst <= 0.001);
		printf("integral: Beta(a, 1) and Beta(1, a) against narrow and wide Betas, the closed form (largest difference %.5f)\n",
			   worst);
	}

	/*
	 * Parameters where the rule does not hold are refused (false: Monte
	 * Carlo instead), never integrated into a wrong distribution: not
	 * finite, a Beta's below 1 or beyond 1e12 observations, a normal's sd
	 * 0 or too small to space nodes around its mean.
	 */
	{
		static const struct
		{
			bool		binary;
			double		p1;
			double		p2;
		}			refused[] = {
			{true, NAN, 2}, {true, 2, INFINITY}, {true, 0.001, 1}, {true, 1, 0.5},
			{true, 1e12, 1e12}, {false, NAN, 1}, {false, 0, INFINITY}, {false, 0, 0},
			{false, 1, -1}, {false, 1e9, 1e-3},
		};
		bool		all_refused = true;

		for (int c = 0; c < (int) lengthof(refused); c++)
		{
			double		m[2] = {refused[c].p1, 1},
						s[2] = {refused[c].p2, 1};

			all_refused = all_refused && !thompson_exact(refused[c].binary, 2, m, s, got);
		}
		tap_line(all_refused);
		printf("integral: parameters outside the rule's range are refused\n");
	}
}

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

		bandit_thompson(&binary, 1, &a, &b, 37, 37, 1, probabilities);
		is_num(probabilities[0], 1.0, "one action: probability 1");
	}

	/* shares are counts of draws, summing to 1 */
	{
		double		a[3] = {2, 1, 1},
					b[3] = {1, 1, 1};
		double		total = 0;

		bandit_thompson(&binary, 3, a, b, 1000, 100, 7, probabilities);
		for (int i = 0; i < 3; i++)
			total += probabilities[i];
		is_num(total, 1.0, "the shares sum to 1");
		is_num(rint(probabilities[0] * 1000), probabilities[0] * 1000, "a share is a count of draws");

		/* the same seed, the same shares */
		{
			double		again[3];

			bandit_thompson(&binary, 3, a, b, 1000, 100, 7, again);
			is_num(again[1], probabilities[1], "the same seed gives the same shares");
		}

		/* picks follow the shares: 30,000 picks within 4 binomial standard errors */
		for (int s = 0; s < 30000; s++)
			counts[bandit_pick(probabilities, 3, (uint64) s)]++;
		tap_line(fabs(counts[0] / 30000.0 - probabilities[0]) <
				 4 * sqrt(probabilities[0] * (1 - probabilities[0]) / 30000));
		printf("picks follow the shares (%d of 30000 for a share of %.3f)\n", counts[0], probabilities[0]);
	}

	/* with draws 0, a few actions are integrated: no draw made */
	{
		double		a[3] = {2, 1, 1},
					b[3] = {1, 1, 1};
		int			made = bandit_thompson(&binary, 3, a, b, 0, 100, 7, probabilities);

		tap_line(made == 0 && fabs(rint(probabilities[0] * 100) - probabilities[0] * 100) > 1e-6);
		printf("draws 0: the integral, not a multiple of 1/100\n");
	}

	/*
	 * the last integral is reused for the same inputs only: B after A is
	 * B's own integral, and A again is A's
	 */
	{
		double		a[3] = {5, 3, 9},
					b[3] = {7, 4, 8},
					a2[3] = {5, 3, 9.5},
					first[3],
					second[3],
					again[3],
					direct[3];
		bool		same = true;

		bandit_thompson(&binary, 3, a, b, 0, 100, 7, first);
		bandit_thompson(&binary, 3, a2, b, 0, 100, 7, second);
		thompson_exact(true, 3, a2, b, direct);
		for (int i = 0; i < 3; i++)
			same = same && second[i] == direct[i] && second[i] != first[i];
		bandit_thompson(&binary, 3, a, b, 0, 100, 7, again);
		thompson_exact(true, 3, a, b, direct);
		for (int i = 0; i < 3; i++)
			same = same && again[i] == direct[i] && again[i] == first[i];
		tap_line(same);
		printf("the last integral is reused for exactly its inputs only\n");
	}

	/* more actions than the integral takes: the bandit's draws */
	{
		double		a[THOMPSON_EXACT_MAX_ACTIONS + 1],
					b[THOMPSON_EXACT_MAX_ACTIONS + 1],
					many[THOMPSON_EXACT_MAX_ACTIONS + 1];
		int			made;

		for (int i = 0; i <= THOMPSON_EXACT_MAX_ACTIONS; i++)
		{
			a[i] = 1 + i;
			b[i] = 3;
		}
		made = bandit_thompson(&binary, THOMPSON_EXACT_MAX_ACTIONS + 1, a, b, 0, 100, 7, many);
		tap_line(made == 100 &&
				 fabs(rint(many[THOMPSON_EXACT_MAX_ACTIONS] * 100) - many[THOMPSON_EXACT_MAX_ACTIONS] * 100) < 1e-9);
		printf("more than %d actions: Monte Carlo with the bandit's 100 draws\n", THOMPSON_EXACT_MAX_ACTIONS);
	}

	test_integral();

	/* identical posteriors: exactly 1 / k, whatever the draws */
	{
		double		a[3] = {4, 4, 4},
					b[3] = {2, 2, 2};

		bandit_thompson(&binary, 3, a, b, 0, 100, 7, probabilities);
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
