/*-------------------------------------------------------------------------
 *
 * drift.h
 *	  Drift of a window of decisions against a model's reference
 *	  distributions: the distances, and the flags that judge them.
 *
 * Pure computation on caller-provided memory (see model/reference.h).
 * How ml.monitor uses it, per feature of the deployed model:
 *	numbers: collect the window's values as doubles (null -> NaN), call
 *	  numeric_drift() with the feature's NumericReference;
 *	categories: map each value to its index in the reference's
 *	  "categories" (anything else, unseen or beyond the cap, to
 *	  ncategories, the "other" bucket), count them, call category_drift();
 *	the prediction: numeric_drift() with the predictions' reference;
 * then dataset_drift() over the features (not the prediction), and store
 * each FeatureDrift member as a metric row, a DriftVerdict as a boolean
 * that is null when DRIFT_UNKNOWN.  docs/monitoring.md states the rules.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_MONITOR_DRIFT_H
#define LEARNLOOP_MONITOR_DRIFT_H

#include "model/reference.h"

/* zero shares become this in PSI, as Evidently's psi does */
#define PSI_EPSILON			0.0001
/* Wasserstein's normaliser when the reference is constant, as Evidently's */
#define WASSERSTEIN_MIN_SD	0.001

typedef enum DriftVerdict
{
	DRIFT_UNKNOWN = -1,			/* too few rows to judge, or undefined */
	DRIFT_NO = 0,
	DRIFT_YES = 1
} DriftVerdict;

/*
 * The rules; drift_default_thresholds has the documented defaults.  Each
 * threshold is a size of change, never a p-value, so a large window of an
 * unchanged distribution is not flagged; a window too small to measure
 * the change (min_rows, below) is not judged at all.
 */
typedef struct DriftThresholds
{
	double		wasserstein;	/* numbers: normed W1 >= this drifts (0.1) */
	double		jensen_shannon; /* categories: JS distance >= this (0.1) */
	double		psi;			/* PSI >= this: psi_drift (0.2) */
	double		missing;		/* |missing share change| >= this (0.1) */
	/*
	 * Judged only when the effective size m k / (m + k) of the reference
	 * (m values) and window (k values) reaches this (1000): below it the
	 * distance between two samples of one distribution exceeds 0.1 by
	 * chance alone.
	 */
	double		min_rows;
	double		dataset_share;	/* dataset drifts when this share drifts (0.5) */
} DriftThresholds;

extern const DriftThresholds drift_default_thresholds;

typedef struct FeatureDrift
{
	int64		count;			/* non-missing values in the window */
	int64		missing;
	double		missing_share;	/* in the window; NaN when it is empty */
	double		missing_change; /* window share - reference share */
	double		psi;			/* NaN when either side has no value */
	double		jensen_shannon; /* categories only, else NaN */
	double		wasserstein;	/* numbers only (normed), else NaN */
	DriftVerdict distribution;	/* wasserstein or jensen_shannon */
	DriftVerdict psi_drift;		/* reported beside, not in drift */
	DriftVerdict missing_drift;
	DriftVerdict drift;			/* distribution or missing_drift */
} FeatureDrift;

/*
 * Population stability index of n shares against the reference's:
 * sum (cur - ref) * ln(cur / ref), each share of 0 replaced by
 * PSI_EPSILON first (without renormalising), so an empty bin costs a
 * finite amount.
 */
extern double psi(const double *ref_shares, const double *cur_shares, int n);

/*
 * Jensen-Shannon distance of two distributions over n buckets, as scipy's
 * jensenshannon(p, q, base=2): both are normalised to sum 1, and the
 * result is the square root of the JS divergence in bits, 0 for equal
 * and 1 for disjoint distributions.  NaN when either sums to 0.
 */
extern double jensen_shannon(const double *p, const double *q, int n);

/*
 * Wasserstein-1 distance between the empirical distributions of a[0 ..
 * na - 1] and b[0 .. nb - 1], both ascending, as scipy's
 * wasserstein_distance: the area between the two CDFs.  NaN when either
 * is empty.
 */
extern double wasserstein1(const double *a, int64 na, const double *b,
						   int64 nb);

/*
 * The window's values against a numeric reference.  values holds n
 * values, NaN (or an infinity) missing, and is reordered: its finite
 * values end sorted at the front.  wasserstein is W1 between the
 * reference's quantiles and the window, over Max(ref->sd,
 * WASSERSTEIN_MIN_SD); psi is over the reference's bins.
 */
extern void numeric_drift(const NumericReference *ref, double *values,
						  int64 n, const DriftThresholds *thresholds,
						  FeatureDrift *out);

/*
 * The window's category counts against a category reference: counts has
 * ref->ncategories + 1 entries, the last the "other" bucket.  psi and
 * jensen_shannon are over those buckets.
 */
extern void category_drift(const CategoryReference *ref, const int64 *counts,
						   int64 missing, const DriftThresholds *thresholds,
						   FeatureDrift *out);

/*
 * The dataset-level flag over n features: DRIFT_YES when at least
 * dataset_share of the features judged (drift not DRIFT_UNKNOWN) drift,
 * DRIFT_UNKNOWN when none is judged.  *ndrifted and *njudged receive the
 * counts.
 */
extern DriftVerdict dataset_drift(const FeatureDrift *features, int n,
								  const DriftThresholds *thresholds,
								  int *ndrifted, int *njudged);

#endif							/* LEARNLOOP_MONITOR_DRIFT_H */
