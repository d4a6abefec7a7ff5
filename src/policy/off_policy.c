/*-------------------------------------------------------------------------
 *
 * off_policy.c
 *	  Off-policy estimates of a candidate policy's value from the logged
 *	  decisions of another, in one streaming pass.
 *
 * For each logged row: the reward r, the logging policy's propensity p of
 * the action it took, the candidate's probability pi of that action, and,
 * for doubly robust, a direct-method model's predicted reward q(x, a) of
 * the logged action and its expectation under the candidate,
 * sum_a pi(a|x) q(x, a).  The importance weight is w = min(pi / p, M)
 * with M the clipping bound (docs/exploration.md):
 *	- logged: sum r / n, the logging policy's own value;
 *	- IPS: sum w r / n, unbiased without clipping;
 *	- SNIPS: sum w r / sum w, biased by O(1/n) but of smaller variance,
 *	  and always within the rewards' range;
 *	- DR: sum (q_pi + w (r - q_logged)) / n, unbiased when either the
 *	  propensities or the direct method are right.
 * Clipping trades variance for bias: a clipped weight counts less than the
 * row deserves, so with rewards >= 0 IPS underestimates by
 * E[(pi/p - M)+ r] at most; DR's bias is E[(pi/p - M)+ (r - q)], small
 * when the direct method is good.
 *
 * The intervals are Poisson-bootstrap percentile intervals: each row
 * enters each resample Poisson(1) times, which approximates the usual
 * resampling with replacement and lets every resample be accumulated as
 * the rows stream by, with no row kept.  A row's counts come from its own
 * stream, seeded by the seed and the row's key (its identity): the same rows
 * give the same intervals in any order, so the scan needs no sort.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>
#include <stdlib.h>

#include "policy/off_policy.h"

static const char *const estimator_names[OFF_POLICY_ESTIMATORS] = {"logged", "ips", "snips", "dr"};

/*
 * Poisson(1) counts by inversion of 32 uniform bits u: the count is the
 * number of k in 0 .. POISSON_MAX - 1 with u / 2^32 >= P(X <= k), that
 * is u >= poisson_threshold[k] (a draw of POISSON_MAX or more has
 * probability below 1e-13, and counts as POISSON_MAX).  Most draws are
 * read from the table of u's top byte; the few bytes whose range holds a
 * threshold (-1 there) compare.
 */
#define POISSON_MAX 16
static uint64 poisson_threshold[POISSON_MAX];
static int8 poisson_by_byte[256];

static void
poisson_init(void)
{
	double		p = 0.36787944117144233;	/* exp(-1) */
	double		cdf = p;

	if (poisson_threshold[0] != 0)
		return;
	for (int k = 0; k < POISSON_MAX; k++)
	{
		/* the smallest u with u / 2^32 >= cdf (the product is exact) */
		poisson_threshold[k] = (uint64) ceil(cdf * 4294967296.0);
		p /= k + 1;
		cdf += p;
	}
	for (int byte = 0; byte < 256; byte++)
	{
		uint64		low = (uint64) byte << 24;
		uint64		high = low + (1 << 24) - 1;
		int			k_low = 0,
					k_high = 0;

		while (k_low < POISSON_MAX && low >= poisson_threshold[k_low])
			k_low++;
		while (k_high < POISSON_MAX && high >= poisson_threshold[k_high])
			k_high++;
		poisson_by_byte[byte] = k_low == k_high ? k_low : -1;
	}
}

static inline int
poisson_draw(uint32 bits)
{
	int			k = poisson_by_byte[bits >> 24];

	if (k < 0)
		for (k = 0; k < POISSON_MAX && bits >= poisson_threshold[k];)
			k++;
	return k;
}

/*
 * boot must hold resamples entries (none when resamples is 0), and
 * outlive ope.  max_weight > 0; INFINITY clips nothing.
 */
void
off_policy_init(OffPolicy *ope, double max_weight, int resamples, uint64 seed,
				OffPolicySums *boot)
{
	memset(ope, 0, sizeof(*ope));
	ope->max_weight = max_weight;
	ope->resamples = resamples;
	prng_seed(&ope->prng, seed, "off-policy", strlen("off-policy"));
	ope->base = ope->prng.state;
	ope->boot = boot;
	if (resamples > 0)
		memset(boot, 0, sizeof(OffPolicySums) * resamples);
	poisson_init();
}

static inline void
sums_add(OffPolicySums *s, double count, double r, double wr, double w, double dr)
{
	s->n += count;
	s->reward += count * r;
	s->weighted += count * wr;
	s->weight += count * w;
	s->dr += count * dr;
}

/*
 * Adds a row to the full sample and to every resample (two counts per
 * 64-bit draw of the row's stream: its high half first).  The row must
 * be valid (see OffPolicyRow); rows without a direct method pass 0 for
 * both q terms, which makes DR's terms IPS's.
 */
void
off_policy_add(OffPolicy *ope, const OffPolicyRow *row)
{
	double		ratio = row->target / row->propensity;
	double		w = ratio;
	double		wr,
				dr;
	uint64		bits = 0;
	Prng		stream = {ope->base ^ (row->key * UINT64CONST(0xD1B54A32D192ED03))};

	if (ratio > ope->max_weight)
	{
		w = ope->max_weight;
		ope->clipped++;
	}
	if (ratio > ope->largest_weight)
		ope->largest_weight = ratio;
	wr = w * row->reward;
	dr = row->dm_policy + w * (row->reward - row->dm_logged);
	sums_add(&ope->total, 1, row->reward, wr, w, dr);
	ope->weight_squares += w * w;

	for (int b = 0; b < ope->resamples; b++)
	{
		int			count;

		if ((b & 1) == 0)
		{
			bits = prng_next(&stream);
			count = poisson_draw((uint32) (bits >> 32));
		}
		else
			count = poisson_draw((uint32) bits);
		/* a count of 0 adds nothing: no branch to mispredict */
		sums_add(&ope->boot[b], count, row->reward, wr, w, dr);
	}
}

/* Kish's effective sample size of the (clipped) weights: (sum w)^2 / sum w^2. */
double
off_policy_ess(const OffPolicy *ope)
{
	if (ope->weight_squares <= 0)
		return 0;
	return ope->total.weight * ope->total.weight / ope->weight_squares;
}

/* An estimator from a sample's sums; NaN when undefined. */
static double
estimate_of(const OffPolicySums *s, OffPolicyEstimator estimator)
{
	if (s->n <= 0)
		return NAN;
	switch (estimator)
	{
		case OPE_LOGGED:
			return s->reward / s->n;
		case OPE_IPS:
			return s->weighted / s->n;
		case OPE_SNIPS:
			return s->weight > 0 ? s->weighted / s->weight : NAN;
		case OPE_DR:
			return s->dr / s->n;
	}
	return NAN;
}

static int
compare_doubles(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return (x > y) - (x < y);
}

/* The q-quantile of sorted x[0 .. n-1], interpolated linearly (numpy's default, Hyndman-Fan 7). */
static double
quantile(const double *x, int n, double q)
{
	double		h = (n - 1) * q;
	int			lo = (int) floor(h);

	if (lo >= n - 1)
		return x[n - 1];
	return x[lo] + (h - lo) * (x[lo + 1] - x[lo]);
}

/* Sorts values[0 .. n-1] and sets the central interval of the given level; NaNs without values. */
static void
percentile_interval(double *values, int n, double level, double *low, double *high)
{
	if (n == 0)
	{
		*low = *high = NAN;
		return;
	}
	qsort(values, n, sizeof(double), compare_doubles);
	*low = quantile(values, n, (1 - level) / 2);
	*high = quantile(values, n, 1 - (1 - level) / 2);
}

/*
 * Fills out for one estimator.  level in (0, 1); scratch holds
 * 2 * resamples doubles.  Resamples where the estimator is undefined
 * (no row drawn, or SNIPS with no weight drawn) are left out of the
 * percentiles and of the standard error.
 */
void
off_policy_estimate(const OffPolicy *ope, OffPolicyEstimator estimator, double level,
					double *scratch, OffPolicyEstimate *out)
{
	double	   *values = scratch;
	double	   *lifts = scratch + ope->resamples;
	int			n = 0;
	double		mean = 0,
				squares = 0;

	out->value = estimate_of(&ope->total, estimator);
	out->lift = out->value - estimate_of(&ope->total, OPE_LOGGED);
	for (int b = 0; b < ope->resamples; b++)
	{
		double		v = estimate_of(&ope->boot[b], estimator);

		if (isnan(v))
			continue;
		values[n] = v;
		lifts[n] = v - estimate_of(&ope->boot[b], OPE_LOGGED);
		n++;
	}
	/* Welford's running mean and squares, stable for values close together */
	for (int i = 0; i < n; i++)
	{
		double		delta = values[i] - mean;

		mean += delta / (i + 1);
		squares += delta * (values[i] - mean);
	}
	out->std_error = n > 1 ? sqrt(squares / (n - 1)) : NAN;
	percentile_interval(values, n, level, &out->ci_low, &out->ci_high);
	percentile_interval(lifts, n, level, &out->lift_low, &out->lift_high);
}

/*
 * a's estimate minus b's, for two OffPolicy fed the same rows with the
 * same seed and resamples: each resample then drew the same counts for
 * both, and the interval is the percentile interval of the paired
 * differences (much narrower than the two intervals suggest when the
 * candidates agree on most rows).  scratch holds resamples doubles.
 */
void
off_policy_compare(const OffPolicy *a, const OffPolicy *b, OffPolicyEstimator estimator,
				   double level, double *scratch, OffPolicyComparison *out)
{
	int			n = 0;

	Assert(a->resamples == b->resamples);
	out->difference = estimate_of(&a->total, estimator) - estimate_of(&b->total, estimator);
	for (int i = 0; i < a->resamples; i++)
	{
		double		d = estimate_of(&a->boot[i], estimator) - estimate_of(&b->boot[i], estimator);

		if (!isnan(d))
			scratch[n++] = d;
	}
	percentile_interval(scratch, n, level, &out->low, &out->high);
}

const char *
off_policy_estimator_name(OffPolicyEstimator estimator)
{
	return estimator_names[estimator];
}
