/*-------------------------------------------------------------------------
 *
 * metric_stats.c
 *	  The statistics of a defined metric, following gbstats'
 *	  models/statistics.py and frequentist/tests.py (read for the formulas,
 *	  not copied): SampleMeanStatistic and ProportionStatistic,
 *	  RatioStatistic's delta method, RegressionAdjustedStatistic with
 *	  compute_theta, and TwoSidedTTest on absolute and relative effects.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "experiment/metric_stats.h"

/* Var(M / D) by the delta method, from per-unit moments (gbstats utils) */
static double
variance_of_ratio(double mean_m, double var_m, double mean_d, double var_d,
				  double cov)
{
	if (mean_d == 0.0)
		return NAN;
	return var_m / (mean_d * mean_d) +
		var_d * mean_m * mean_m / pow(mean_d, 4) -
		2.0 * cov * mean_m / pow(mean_d, 3);
}

ArmStatistic
mean_statistic(const ArmMoments *m, bool proportion)
{
	ArmStatistic s;

	s.n = m->n;
	s.mean = m->mean_y;
	s.variance = proportion ? m->mean_y * (1.0 - m->mean_y) : m->var_y;
	return s;
}

ArmStatistic
ratio_statistic(const ArmMoments *m)
{
	ArmStatistic s;

	s.n = m->n;
	s.mean = (m->mean_z == 0.0) ? NAN : m->mean_y / m->mean_z;
	s.variance = variance_of_ratio(m->mean_y, m->var_y, m->mean_z, m->var_z, m->cov_yz);
	return s;
}

/*
 * The pooled variance of z and covariance of y and z, merged pairwise
 * (Chan et al.) from the arms' moments; their ratio is the same with n or
 * n - 1 denominators, so proportions need no case of their own.
 */
double
cuped_theta(const ArmMoments *a, const ArmMoments *b)
{
	double		n = a->n + b->n;
	double		w = a->n * b->n / n;
	double		m2_y = a->var_y * (a->n - 1) + b->var_y * (b->n - 1) +
		w * (a->mean_y - b->mean_y) * (a->mean_y - b->mean_y);
	double		m2_z = a->var_z * (a->n - 1) + b->var_z * (b->n - 1) +
		w * (a->mean_z - b->mean_z) * (a->mean_z - b->mean_z);
	double		c = a->cov_yz * (a->n - 1) + b->cov_yz * (b->n - 1) +
		w * (a->mean_y - b->mean_y) * (a->mean_z - b->mean_z);

	if (!(m2_z > 0.0) || !(m2_y > 0.0) || !isfinite(c))
		return 0.0;
	return c / m2_z;
}

/*
 * gbstats takes the variances and covariance of two proportions with n
 * denominators (p (1 - p)), of anything else with n - 1.
 */
static void
cuped_moments(const ArmMoments *m, bool proportions, double *var_y,
			  double *var_z, double *cov)
{
	double		f = (proportions && m->n > 0) ? (m->n - 1) / m->n : 1.0;

	*var_y = m->var_y * f;
	*var_z = m->var_z * f;
	*cov = m->cov_yz * f;
}

ArmStatistic
cuped_statistic(const ArmMoments *m, double theta, bool proportions)
{
	ArmStatistic s;
	double		var_y,
				var_z,
				cov;

	cuped_moments(m, proportions, &var_y, &var_z, &cov);
	s.n = m->n;
	s.mean = m->mean_y - theta * m->mean_z;
	s.variance = var_y + theta * theta * var_z - 2.0 * theta * cov;
	return s;
}

double
relative_lift_variance(const ArmStatistic *b, const ArmStatistic *a)
{
	return variance_of_ratio(b->mean, b->variance / b->n, a->mean, a->variance / a->n, 0.0);
}

/*
 * gbstats' frequentist_variance_relative_cuped: the delta method on
 * (adjusted b - adjusted a) / (a's unadjusted mean).
 */
double
cuped_relative_lift_variance(const ArmMoments *b, const ArmMoments *a,
							 double theta, bool proportions)
{
	ArmStatistic sb = cuped_statistic(b, theta, proportions);
	double		base2 = a->mean_y * a->mean_y;
	double		var_y,
				var_z,
				cov;
	double		control;

	if (base2 == 0.0)
		return NAN;
	cuped_moments(a, proportions, &var_y, &var_z, &cov);
	control = var_y * b->mean_y * b->mean_y / base2 -
		2.0 * theta * cov * b->mean_y / a->mean_y + theta * theta * var_z;
	return sb.variance / (b->n * base2) + control / (a->n * base2);
}

AbTestResult
metric_t_test(const ArmStatistic *b, const ArmStatistic *a, double base,
			  double lift_variance, double alpha)
{
	/* as gbstats, no test without variance in both arms (NaN makes welch_test's se NaN) */
	AbTestResult res = welch_test(b->mean, b->variance > 0.0 ? b->variance : NAN, b->n,
								  a->mean, a->variance > 0.0 ? a->variance : NAN, a->n, alpha);
	double		tq = -student_t_quantile(0.5 * alpha, res.df);
	double		se_lift = sqrt(lift_variance);

	/* the relative lift on the control's mean, its interval from the t quantile */
	if (base == 0.0 || !isfinite(base))
		res.lift = res.lift_ci_low = res.lift_ci_high = NAN;
	else
	{
		res.lift = res.diff / fabs(base);
		res.lift_ci_low = res.lift - tq * se_lift;
		res.lift_ci_high = res.lift + tq * se_lift;
	}
	return res;
}
