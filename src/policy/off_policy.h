/*-------------------------------------------------------------------------
 *
 * off_policy.h
 *	  Off-policy estimators of a candidate policy's value from logged
 *	  decisions: the logged policy's own value, IPS, self-normalised IPS
 *	  and doubly robust, with clipped weights, the effective sample size
 *	  and Poisson-bootstrap percentile intervals, in one streaming pass.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_OFF_POLICY_H
#define LEARNLOOP_OFF_POLICY_H

#include "common/prng.h"

typedef enum OffPolicyEstimator
{
	OPE_LOGGED,					/* mean reward of the logged decisions */
	OPE_IPS,					/* inverse propensity scoring */
	OPE_SNIPS,					/* self-normalised IPS */
	OPE_DR						/* doubly robust */
} OffPolicyEstimator;

#define OFF_POLICY_ESTIMATORS 4

/* One logged decision, as the estimators see it. */
typedef struct OffPolicyRow
{
	uint64		key;			/* the row's identity: seeds its bootstrap counts */
	double		reward;			/* finite */
	double		propensity;		/* logging policy's p(logged action), (0, 1] */
	double		target;			/* candidate's pi(logged action), [0, 1] */
	double		dm_logged;		/* direct method: q(x, logged action) */
	double		dm_policy;		/* direct method: sum over a of pi(a) q(x, a) */
} OffPolicyRow;

/* Sums of one (re)sample: the estimators are ratios of them. */
typedef struct OffPolicySums
{
	double		n;				/* rows (bootstrap: the sum of their counts) */
	double		reward;			/* sum of r */
	double		weighted;		/* sum of w r */
	double		weight;			/* sum of w */
	double		dr;				/* sum of dm_policy + w (r - dm_logged) */
} OffPolicySums;

typedef struct OffPolicy
{
	double		max_weight;		/* clipping; INFINITY: none */
	int			resamples;		/* bootstrap resamples, 0: no intervals */
	Prng		prng;
	uint64		base;			/* the seed's state, which each row's key varies */
	OffPolicySums total;
	double		weight_squares; /* sum of w^2, for the ESS */
	double		largest_weight; /* the largest pi / p seen, before clipping */
	int64		clipped;		/* rows whose pi / p exceeded max_weight */
	OffPolicySums *boot;		/* resamples entries, the caller's memory */
} OffPolicy;

/* One estimator's value and percentile interval, and its difference with the logged value's. */
typedef struct OffPolicyEstimate
{
	double		value;			/* NaN: undefined (no row, or SNIPS with no weight) */
	double		ci_low;			/* NaN without resamples */
	double		ci_high;
	double		std_error;		/* the resamples' standard deviation */
	double		lift;			/* value - logged value */
	double		lift_low;		/* its paired percentile interval */
	double		lift_high;
} OffPolicyEstimate;

/* Two candidates on the same rows and resamples: a's value minus b's, and its paired interval. */
typedef struct OffPolicyComparison
{
	double		difference;		/* NaN when either is undefined */
	double		low;
	double		high;
} OffPolicyComparison;

extern void off_policy_init(OffPolicy *ope, double max_weight, int resamples, uint64 seed,
							OffPolicySums *boot);
extern void off_policy_add(OffPolicy *ope, const OffPolicyRow *row);
extern double off_policy_ess(const OffPolicy *ope);
extern void off_policy_estimate(const OffPolicy *ope, OffPolicyEstimator estimator, double level,
								double *scratch, OffPolicyEstimate *out);
extern void off_policy_compare(const OffPolicy *a, const OffPolicy *b, OffPolicyEstimator estimator,
							   double level, double *scratch, OffPolicyComparison *out);
extern const char *off_policy_estimator_name(OffPolicyEstimator estimator);

#endif							/* LEARNLOOP_OFF_POLICY_H */
