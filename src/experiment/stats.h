/*-------------------------------------------------------------------------
 *
 * stats.h
 *	  Distributions and tests behind experiment analysis.  Pure C over
 *	  <math.h>: no memory allocation and no error reporting, so the same code
 *	  runs in the backend and in the standalone unit test.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_STATS_H
#define LEARNLOOP_STATS_H

/*
 * Treatment (1) against control (0).  Fields that are undefined for the
 * inputs (no variance, a zero control mean) are NaN.
 */
typedef struct AbTestResult
{
	double		diff;			/* mean1 - mean0 */
	double		se;				/* standard error of diff */
	double		df;				/* degrees of freedom; Inf for z tests */
	double		stat;			/* t or z statistic */
	double		p_value;		/* two-sided */
	double		ci_low;			/* CI of diff */
	double		ci_high;
	double		lift;			/* mean1 / mean0 - 1 */
	double		lift_ci_low;	/* delta-method CI of lift */
	double		lift_ci_high;
} AbTestResult;

extern double normal_cdf(double x);
extern double normal_quantile(double p);
extern double student_t_cdf(double t, double df);
extern double student_t_quantile(double p, double df);
extern double chi_square_sf(double x, double df);

extern AbTestResult welch_test(double mean1, double var1, double n1,
							   double mean0, double var0, double n0,
							   double alpha);
extern AbTestResult two_proportion_test(int64 x1, int64 n1, int64 x0, int64 n0,
										double alpha);
extern double srm_p_value(const int64 *counts, const double *weights, int k);
extern double chance_to_beat_control(double mean1, double se1,
									 double mean0, double se0);

extern void holm_adjust(const double *p, int k, double *out);
extern void benjamini_hochberg_adjust(const double *p, int k, double *out);

extern double sample_size_proportions(double baseline, double mde_relative,
									  double alpha, double power);
extern double sample_size_means(double sd, double mde_absolute,
								double alpha, double power);
extern double power_proportions(double baseline, double mde_relative,
								double alpha, double n);

extern double always_valid_ci_halfwidth(double se, double n, double alpha,
										double tau);
extern double always_valid_p_value(double diff, double se, double n,
								   double alpha, double tau);

#endif							/* LEARNLOOP_STATS_H */
