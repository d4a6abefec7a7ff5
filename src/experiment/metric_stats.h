/*-------------------------------------------------------------------------
 *
 * metric_stats.h
 *	  The statistics of a defined metric, as GrowthBook's engine (gbstats)
 *	  computes them: per-arm statistics of proportion, mean, count and ratio
 *	  metrics, CUPED's regression adjustment, and the two-sided t test with
 *	  Welch-Satterthwaite degrees of freedom on absolute and relative lifts.
 *	  Pure C, as stats.h.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_METRIC_STATS_H
#define LEARNLOOP_METRIC_STATS_H

#include "experiment/stats.h"

/*
 * One arm's per-unit values y and, for a ratio metric its denominator,
 * for CUPED its covariate, z: sample means, variances and covariance (n - 1).
 */
typedef struct ArmMoments
{
	double		n;
	double		mean_y;
	double		var_y;
	double		mean_z;
	double		var_z;
	double		cov_yz;
} ArmMoments;

/* An arm's statistic: its estimate and the variance of one unit's share */
typedef struct ArmStatistic
{
	double		n;
	double		mean;
	double		variance;
} ArmStatistic;

/* proportion: variance p (1 - p); otherwise the sample variance */
extern ArmStatistic mean_statistic(const ArmMoments *m, bool proportion);

/* sum y / sum z with the delta method's variance (gbstats RatioStatistic) */
extern ArmStatistic ratio_statistic(const ArmMoments *m);

/*
 * CUPED's theta on the two arms pooled (gbstats compute_theta): the
 * covariance of y and z over the variance of z; 0 when either is 0.
 */
extern double cuped_theta(const ArmMoments *a, const ArmMoments *b);

/* y - theta z: the adjusted statistic of one arm */
extern ArmStatistic cuped_statistic(const ArmMoments *m, double theta,
									bool proportions);

/*
 * Treatment b against control a: diff and its interval with Welch's t,
 * lift = diff / |base| (base: the control's unadjusted mean) with the
 * given variance of the lift, its interval at the same quantile.
 */
extern AbTestResult metric_t_test(const ArmStatistic *b, const ArmStatistic *a,
								  double base, double lift_variance,
								  double alpha);

/* the variance of diff / |a's mean| when the arms are independent */
extern double relative_lift_variance(const ArmStatistic *b, const ArmStatistic *a);

/* the same for CUPED, where the control's unadjusted mean is the base */
extern double cuped_relative_lift_variance(const ArmMoments *b, const ArmMoments *a,
										   double theta, bool proportions);

#endif							/* LEARNLOOP_METRIC_STATS_H */
