/*-------------------------------------------------------------------------
 *
 * stats.c
 *	  Frequentist A/B analysis: tests, multiple-comparison adjustment,
 *	  sample sizes and sequential (always-valid) inference.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "experiment/stats.h"

/*
 * Fills the relative lift and its delta-method CI.  var1 and var0 are
 * per-unit variances; Var(m1/m0) ~ v1/(n1 m0^2) + m1^2 v0/(n0 m0^4).
 */
static void
set_lift(AbTestResult *res, double mean1, double var1, double n1,
		 double mean0, double var0, double n0, double z)
{
	double		m02 = mean0 * mean0;
	double		se;

	if (mean0 == 0.0)
	{
		res->lift = res->lift_ci_low = res->lift_ci_high = NAN;
		return;
	}
	se = sqrt(var1 / (n1 * m02) + mean1 * mean1 * var0 / (n0 * m02 * m02));
	res->lift = mean1 / mean0 - 1.0;
	res->lift_ci_low = res->lift - z * se;
	res->lift_ci_high = res->lift + z * se;
}

/*
 * Welch's unequal-variance t test from summary statistics (sample variances
 * with n - 1 denominators), with Welch-Satterthwaite degrees of freedom.
 */
AbTestResult
welch_test(double mean1, double var1, double n1,
		   double mean0, double var0, double n0, double alpha)
{
	AbTestResult res;
	double		v1 = var1 / n1;
	double		v0 = var0 / n0;
	double		tq;

	res.diff = mean1 - mean0;
	res.se = sqrt(v1 + v0);
	res.df = (v1 + v0) * (v1 + v0) /
		(v1 * v1 / (n1 - 1.0) + v0 * v0 / (n0 - 1.0));
	if (!(res.se > 0.0) || n1 < 2.0 || n0 < 2.0)
		res.se = res.df = NAN;
	res.stat = res.diff / res.se;
	res.p_value = 2.0 * student_t_cdf(-fabs(res.stat), res.df);
	tq = -student_t_quantile(0.5 * alpha, res.df);
	res.ci_low = res.diff - tq * res.se;
	res.ci_high = res.diff + tq * res.se;
	set_lift(&res, mean1, var1, n1, mean0, var0, n0,
			 -normal_quantile(0.5 * alpha));
	return res;
}

/*
 * Two-proportion z test: the p-value uses the pooled rate (the null says
 * both rates are equal), the CI the unpooled standard error reported in se.
 */
AbTestResult
two_proportion_test(int64 x1, int64 n1, int64 x0, int64 n0, double alpha)
{
	AbTestResult res;
	double		p1 = (double) x1 / n1;
	double		p0 = (double) x0 / n0;
	double		pooled = (double) (x1 + x0) / (n1 + n0);
	double		se_pooled = sqrt(pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n0));
	double		z = -normal_quantile(0.5 * alpha);

	res.diff = p1 - p0;
	res.se = sqrt(p1 * (1.0 - p1) / n1 + p0 * (1.0 - p0) / n0);
	res.df = INFINITY;
	res.stat = (se_pooled > 0.0) ? res.diff / se_pooled : NAN;
	res.p_value = 2.0 * normal_cdf(-fabs(res.stat));
	res.ci_low = res.diff - z * res.se;
	res.ci_high = res.diff + z * res.se;
	set_lift(&res, p1, p1 * (1.0 - p1), n1, p0, p0 * (1.0 - p0), n0, z);
	return res;
}

/*
 * Sample ratio mismatch: chi-square goodness of fit of the observed counts
 * to the configured split (weights > 0, normalized here), df = k - 1.
 */
double
srm_p_value(const int64 *counts, const double *weights, int k)
{
	double		total = 0.0;
	double		wsum = 0.0;
	double		stat = 0.0;
	int			i;

	if (k < 2)
		return NAN;
	for (i = 0; i < k; i++)
	{
		total += counts[i];
		wsum += weights[i];
	}
	for (i = 0; i < k; i++)
	{
		double		expected = total * weights[i] / wsum;
		double		d = counts[i] - expected;

		stat += d * d / expected;
	}
	return chi_square_sf(stat, k - 1);
}

/* P(treatment > control) under independent normal posteriors, flat prior. */
double
chance_to_beat_control(double mean1, double se1, double mean0, double se0)
{
	return normal_cdf((mean1 - mean0) / sqrt(se1 * se1 + se0 * se0));
}

/*
 * Holm step-down: the i-th smallest p (0-based) is scaled by k - i, then a
 * running maximum keeps the order.  Written without sorting: the scaled value
 * of each p uses the count of strictly smaller p's (tied p's share the
 * largest factor, as a running maximum would give them), and the running
 * maximum is the maximum over all p's not above it.  Overwriting out[i] with
 * its final value is safe, because that value is itself a maximum over a
 * subset of what every larger p takes its maximum over.  Quadratic in k,
 * which is the number of comparisons in one analysis.
 */
void
holm_adjust(const double *p, int k, double *out)
{
	int			i,
				j;

	for (i = 0; i < k; i++)
	{
		int			below = 0;

		for (j = 0; j < k; j++)
			below += (p[j] < p[i]);
		out[i] = (k - below) * p[i];
	}
	for (i = 0; i < k; i++)
	{
		double		m = out[i];

		for (j = 0; j < k; j++)
			if (p[j] <= p[i] && out[j] > m)
				m = out[j];
		out[i] = Min(m, 1.0);
	}
}

/*
 * Benjamini-Hochberg step-up: the p of rank r (1-based) is scaled by k / r,
 * then a running minimum from the top keeps the order.  Same sort-free scheme
 * as holm_adjust, with ties sharing the largest rank.
 */
void
benjamini_hochberg_adjust(const double *p, int k, double *out)
{
	int			i,
				j;

	for (i = 0; i < k; i++)
	{
		int			rank = 0;

		for (j = 0; j < k; j++)
			rank += (p[j] <= p[i]);
		out[i] = p[i] * k / rank;
	}
	for (i = 0; i < k; i++)
	{
		double		m = out[i];

		for (j = 0; j < k; j++)
			if (p[j] >= p[i] && out[j] < m)
				m = out[j];
		out[i] = Min(m, 1.0);
	}
}

/*
 * Units per variant for a two-sided test of two proportions (normal
 * approximation, no continuity correction), not rounded:
 *	 n = (z_a sqrt(2 pbar (1 - pbar)) + z_b sqrt(p0 q0 + p1 q1))^2 / (p1 - p0)^2
 */
double
sample_size_proportions(double baseline, double mde_relative,
						double alpha, double power)
{
	double		p0 = baseline;
	double		p1 = baseline * (1.0 + mde_relative);
	double		pbar = 0.5 * (p0 + p1);
	double		za = -normal_quantile(0.5 * alpha);
	double		zb = normal_quantile(power);
	double		num = za * sqrt(2.0 * pbar * (1.0 - pbar)) +
		zb * sqrt(p0 * (1.0 - p0) + p1 * (1.0 - p1));

	return num * num / ((p1 - p0) * (p1 - p0));
}

/* Units per variant to detect an absolute difference of means, two-sided. */
double
sample_size_means(double sd, double mde_absolute, double alpha, double power)
{
	double		z = -normal_quantile(0.5 * alpha) + normal_quantile(power);

	return 2.0 * sd * sd * z * z / (mde_absolute * mde_absolute);
}

/* Power with n units per variant; the inverse of sample_size_proportions. */
double
power_proportions(double baseline, double mde_relative, double alpha, double n)
{
	double		p0 = baseline;
	double		p1 = baseline * (1.0 + mde_relative);
	double		pbar = 0.5 * (p0 + p1);
	double		za = -normal_quantile(0.5 * alpha);

	return normal_cdf((fabs(p1 - p0) * sqrt(n) -
					   za * sqrt(2.0 * pbar * (1.0 - pbar))) /
					  sqrt(p0 * (1.0 - p0) + p1 * (1.0 - p1)));
}

/*
 * Sequential testing as in GrowthBook's stats engine (gbstats): the
 * asymptotic confidence sequence of Waudby-Smith et al. (arXiv 2103.06476,
 * eq. 9), valid at every peek.  n is the total sample size (both arms), se
 * the standard error of the estimate, and tau GrowthBook's tuning parameter
 * (default 5000: the sample size at which the sequence is tightest).
 *	 rho^2 = (-2 ln(alpha) + ln(1 - 2 ln(alpha))) / tau
 *	 halfwidth = se * sqrt(2 (n rho^2 + 1) / (n rho^2)
 *						   * ln(sqrt(n rho^2 + 1) / alpha))
 */
static double
sequential_rho2(double alpha, double tau)
{
	double		l = -2.0 * log(alpha);

	return (l + log(l + 1.0)) / tau;
}

double
always_valid_ci_halfwidth(double se, double n, double alpha, double tau)
{
	double		nr2 = n * sequential_rho2(alpha, tau);

	return se * sqrt(2.0 * (nr2 + 1.0) / nr2 * log(sqrt(nr2 + 1.0) / alpha));
}

/*
 * The matching always-valid p-value, 1 / e-value of the normal mixture
 * (eq. 155 there), capped at 1; it equals alpha where |diff| is the
 * halfwidth above.
 *	 p = sqrt(n rho^2 + 1) * exp(-n rho^2 z^2 / (2 (n rho^2 + 1))), z = diff/se
 */
double
always_valid_p_value(double diff, double se, double n, double alpha,
					 double tau)
{
	double		nr2 = n * sequential_rho2(alpha, tau);
	double		z = diff / se;
	double		p = sqrt(nr2 + 1.0) * exp(-nr2 * z * z / (2.0 * (nr2 + 1.0)));

	/* no test (an empty arm, no variance): NaN, as the fixed-horizon p-value, not 1 */
	if (isnan(p))
		return NAN;
	return Min(p, 1.0);
}
