/*-------------------------------------------------------------------------
 *
 * reference.h
 *	  Reference distributions: what a feature (or the model's own
 *	  prediction) looked like when the model was trained, kept with the
 *	  model so that drift can later be measured against it.
 *
 * Pure computation on caller-provided memory, like model/metrics.c: no
 * palloc, no ereport, no backend call, so it links into the unit test.
 * The structs are plain values of fixed size; the SQL layer stores each
 * one as a jsonb object in the model's row, with these shapes:
 *
 *	numbers (and the model's predictions on its test set):
 *	  {"kind": "numeric", "count": 9500, "missing": 500,
 *	   "mean": 0.12, "sd": 0.98,
 *	   "edges": [e1, ..., e(nbins-1)],       -- interior edges, ascending
 *	   "shares": [s1, ..., s(nbins)],        -- sum to 1
 *	   "quantiles": [q1, ..., q(nquantiles)]}  -- ascending
 *	categories:
 *	  {"kind": "category", "count": 9800, "missing": 200,
 *	   "categories": ["sad", "happy", ...],  -- most frequent first
 *	   "shares": [s1, ..., s(ncategories)], "other": s}
 *
 * nbins and nquantiles are the lengths of "shares" and "quantiles", and
 * ncategories that of "categories"; reading one back must check every
 * length against the MONITOR_* limits below and every share against
 * [0, 1], since the stored row is data like any other.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_MODEL_REFERENCE_H
#define LEARNLOOP_MODEL_REFERENCE_H

/* equal-count bins of a numeric reference, for PSI */
#define MONITOR_BINS			10
/*
 * Points kept of a numeric reference for the Wasserstein distance: the
 * whole sample when it is this small, else this many quantiles, which
 * moves the distance by about 0.002 (normal) to 0.007 (exponential)
 * reference standard deviations against the whole sample, far below the
 * 0.1 that flags drift, in 8 kB per feature.
 */
#define MONITOR_QUANTILES		1000
/* categories kept by name; the rarer ones share the "other" bucket */
#define MONITOR_CATEGORIES		50

typedef struct NumericReference
{
	int64		count;			/* finite values in the sample */
	int64		missing;		/* NaN, infinite or null */
	double		mean;			/* of the finite values; NaN when count is 0 */
	double		sd;				/* population (ddof 0), as numpy's std */
	int			nbins;			/* 1 .. MONITOR_BINS; 0 when count is 0 */
	/* bin b holds [edges[b - 1], edges[b]), bin 0 from -inf, the last to +inf */
	double		edges[MONITOR_BINS - 1];
	double		shares[MONITOR_BINS];	/* every one > 0 by construction */
	int			nquantiles;		/* min(count, MONITOR_QUANTILES) */
	double		quantiles[MONITOR_QUANTILES];
} NumericReference;

typedef struct CategoryReference
{
	int64		count;			/* non-missing values */
	int64		missing;
	int			ncategories;	/* kept categories, 0 .. MONITOR_CATEGORIES */
	/* shares[0 .. ncategories - 1] the kept ones, shares[ncategories] "other" */
	double		shares[MONITOR_CATEGORIES + 1];
} CategoryReference;

/*
 * Builds a numeric reference from n values, NaN (or an infinity) meaning
 * missing.  values is reordered: on return its first ref->count entries
 * are the finite values in ascending order.
 */
extern void numeric_reference_build(double *values, int64 n,
									NumericReference *ref);

/*
 * Builds a category reference from the count of each distinct category
 * (counts[0 .. ndistinct - 1], in an order the caller fixes, e.g. by
 * name, which breaks ties) and the number of missing values.  kept must
 * hold ndistinct entries; on return kept[0 .. ref->ncategories - 1] are
 * the indexes into counts of the categories kept, most frequent first:
 * the caller names them in "categories" in that order.
 */
extern void category_reference_build(const int64 *counts, int ndistinct,
									 int64 missing, CategoryReference *ref,
									 int *kept);

/*
 * Moves the finite values of values[0 .. n - 1] to the front in ascending
 * order and returns their number; NaN and the infinities are missing.
 */
extern int64 sort_finite(double *values, int64 n);

/*
 * The equal-count cut rule shared by the reference bins and by the
 * equal-count ECE (monitor/quality.h): n ascending keys are split into
 * at most nbins runs of about n / nbins keys.  The cut aimed at position
 * b * n / nbins (integer division) moves forward to the end of a run of
 * equal keys, so that equal keys always share a bin and no bin is empty.
 * Writes the interior cut positions (each bin starts at one) to
 * cuts[0 .. return - 1], ascending, and returns their number (at most
 * nbins - 1).
 */
extern int	equal_count_cuts(const double *keys, int64 n, int nbins,
							 int64 *cuts);

#endif							/* LEARNLOOP_MODEL_REFERENCE_H */
