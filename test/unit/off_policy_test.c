/*-------------------------------------------------------------------------
 *
 * off_policy_test.c
 *	  Standalone TAP test of src/policy/off_policy.c against the numpy
 *	  references of off_policy_fixtures.h (make_off_policy_fixtures.py),
 *	  and a large seeded sample whose true values are known analytically.
 *	  Exits non-zero when any check fails.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/prng.h"
#include "policy/off_policy.h"
#include "off_policy_fixtures.h"
#include "tap.h"

/* Relative 1e-9 (only the order of sums differs from numpy's); NaN matches only NaN. */
static bool
close_to(double got, double want)
{
	if (isnan(want) || isnan(got))
		return isnan(want) && isnan(got);
	return fabs(got - want) <= 1e-9 * Max(1.0, fabs(want));
}

static void
check(bool ok, const char *what, const char *name, double got, double want)
{
	tap_line(ok);
	printf("%s %s (got %.17g, want %.17g)\n", name, what, got, want);
}

static void
check_case(const char *name, const OffPolicyCase *c)
{
	OffPolicy	ope;
	OffPolicySums *boot = malloc(sizeof(OffPolicySums) * c->resamples);
	double	   *scratch = malloc(sizeof(double) * 2 * c->resamples);

	off_policy_init(&ope, c->max_weight, c->resamples, c->seed, boot);
	for (int i = 0; i < c->nrows; i++)
		off_policy_add(&ope, &c->rows[i]);
	check(ope.clipped == c->clipped, "clipped rows", name, ope.clipped, c->clipped);
	check(close_to(ope.largest_weight, c->largest_weight), "largest weight", name,
		  ope.largest_weight, c->largest_weight);
	check(close_to(off_policy_ess(&ope), c->ess), "effective sample size", name,
		  off_policy_ess(&ope), c->ess);
	for (int e = 0; e < OFF_POLICY_ESTIMATORS; e++)
	{
		OffPolicyEstimate got;
		const OffPolicyExpected *want = &c->expected[e];
		char		what[64];

		off_policy_estimate(&ope, (OffPolicyEstimator) e, c->level, scratch, &got);
#define CHECK_FIELD(field) \
		snprintf(what, sizeof(what), "%s " #field, off_policy_estimator_name((OffPolicyEstimator) e)); \
		check(close_to(got.field, want->field), what, name, got.field, want->field)
		CHECK_FIELD(value);
		CHECK_FIELD(ci_low);
		CHECK_FIELD(ci_high);
		CHECK_FIELD(std_error);
		CHECK_FIELD(lift);
		CHECK_FIELD(lift_low);
		CHECK_FIELD(lift_high);
#undef CHECK_FIELD
	}
	free(boot);
	free(scratch);
}

/*
 * The unclipped case's candidate against another on the same rows: the
 * paired differences' interval, against numpy's.
 */
static void
check_comparison(const char *name, const OffPolicyCase *a, const OffPolicyComparisonCase *c)
{
	OffPolicy	ope_a,
				ope_b;
	OffPolicySums *boot_a = malloc(sizeof(OffPolicySums) * a->resamples);
	OffPolicySums *boot_b = malloc(sizeof(OffPolicySums) * a->resamples);
	double	   *scratch = malloc(sizeof(double) * a->resamples);

	off_policy_init(&ope_a, a->max_weight, a->resamples, a->seed, boot_a);
	off_policy_init(&ope_b, a->max_weight, a->resamples, a->seed, boot_b);
	for (int i = 0; i < a->nrows; i++)
	{
		off_policy_add(&ope_a, &a->rows[i]);
		off_policy_add(&ope_b, &c->b_rows[i]);
	}
	for (int e = 0; e < OFF_POLICY_ESTIMATORS; e++)
	{
		OffPolicyComparison got;
		const double *want = c->expected[e];

		off_policy_compare(&ope_a, &ope_b, (OffPolicyEstimator) e, a->level, scratch, &got);
		tap_line(close_to(got.difference, want[0]) && close_to(got.low, want[1]) && close_to(got.high, want[2]));
		printf("%s %s: difference %.17g [%.17g, %.17g] (want %.17g [%.17g, %.17g])\n", name,
			   off_policy_estimator_name((OffPolicyEstimator) e), got.difference, got.low, got.high,
			   want[0], want[1], want[2]);
	}
	free(boot_a);
	free(boot_b);
	free(scratch);
}

/*
 * A row's bootstrap counts follow its key, not its position: the rows in
 * reverse order give the same intervals (up to the order of the sums).
 */
static void
check_order(const char *name, const OffPolicyCase *c)
{
	OffPolicy	forward,
				backward;
	OffPolicySums *boot1 = malloc(sizeof(OffPolicySums) * c->resamples);
	OffPolicySums *boot2 = malloc(sizeof(OffPolicySums) * c->resamples);
	double	   *scratch = malloc(sizeof(double) * 2 * c->resamples);

	off_policy_init(&forward, c->max_weight, c->resamples, c->seed, boot1);
	off_policy_init(&backward, c->max_weight, c->resamples, c->seed, boot2);
	for (int i = 0; i < c->nrows; i++)
	{
		off_policy_add(&forward, &c->rows[i]);
		off_policy_add(&backward, &c->rows[c->nrows - 1 - i]);
	}
	for (int e = 0; e < OFF_POLICY_ESTIMATORS; e++)
	{
		OffPolicyEstimate a,
					b;

		off_policy_estimate(&forward, (OffPolicyEstimator) e, c->level, scratch, &a);
		off_policy_estimate(&backward, (OffPolicyEstimator) e, c->level, scratch, &b);
		tap_line(close_to(a.ci_low, b.ci_low) && close_to(a.ci_high, b.ci_high) &&
				 close_to(a.lift_low, b.lift_low) && close_to(a.lift_high, b.lift_high));
		printf("%s %s: the same interval in reverse row order\n", name,
			   off_policy_estimator_name((OffPolicyEstimator) e));
	}
	free(boot1);
	free(boot2);
	free(scratch);
}

/*
 * 200,000 rows of a uniform logging policy over 4 actions with Bernoulli
 * rewards of known means, and a candidate that takes action 3 with 0.7
 * and the others with 0.1: its true value is sum pi(a) mu(a).  Each
 * estimator's 95% interval must hold it (a seeded sample: this is a
 * check of the bias, not a coin toss), and be narrow.
 */
static void
check_truth(void)
{
	static const double mu[4] = {0.2, 0.4, 0.5, 0.8};
	static const double pi[4] = {0.1, 0.1, 0.1, 0.7};
	double		truth = 0;
	OffPolicy	ope;
	int			resamples = 500;
	OffPolicySums *boot = malloc(sizeof(OffPolicySums) * resamples);
	double	   *scratch = malloc(sizeof(double) * 2 * resamples);
	Prng		prng;

	for (int a = 0; a < 4; a++)
		truth += pi[a] * mu[a];
	prng_seed(&prng, 11, "truth", 5);
	off_policy_init(&ope, INFINITY, resamples, 1, boot);
	for (int i = 0; i < 200000; i++)
	{
		int			a = (int) (prng_uniform(&prng) * 4);
		OffPolicyRow row;

		row.key = i + 1;
		row.reward = prng_uniform(&prng) < mu[a] ? 1 : 0;
		row.propensity = 0.25;
		row.target = pi[a];
		/* a direct method off by +0.1 everywhere: DR stays unbiased */
		row.dm_logged = mu[a] + 0.1;
		row.dm_policy = truth + 0.1;
		off_policy_add(&ope, &row);
	}
	for (int e = OPE_IPS; e <= OPE_DR; e++)
	{
		OffPolicyEstimate got;

		off_policy_estimate(&ope, (OffPolicyEstimator) e, 0.95, scratch, &got);
		tap_line(got.ci_low <= truth && truth <= got.ci_high && got.ci_high - got.ci_low < 0.02);
		printf("%s's 95%% interval [%.4f, %.4f] holds the true value %.4f\n",
			   off_policy_estimator_name((OffPolicyEstimator) e), got.ci_low, got.ci_high, truth);
	}
	free(boot);
	free(scratch);
}

int
main(void)
{
	check_case("unclipped", &unclipped);
	check_case("clipped", &clipped);
	check_case("no_direct_method", &no_direct_method);
	check_case("tiny", &tiny);
	check_comparison("unclipped_vs_uniform", &unclipped, &unclipped_vs_uniform);
	check_order("clipped", &clipped);
	check_truth();
	return tap_finish();
}
