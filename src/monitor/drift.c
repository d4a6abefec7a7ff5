/*-------------------------------------------------------------------------
 *
 * drift.c
 *	  Distances between a window and a model's reference distributions,
 *	  and the flags that judge them (see drift.h and docs/monitoring.md).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "monitor/drift.h"

const DriftThresholds drift_default_thresholds = {
	.wasserstein = 0.1,
	.jensen_shannon = 0.1,
	.psi = 0.2,
	.missing = 0.1,
	.min_rows = 1000,
	.dataset_share = 0.5
};

double
psi(const double *ref_shares, const double *cur_shares, int n)
{
	double		sum = 0.0;

	for (int i = 0; i < n; i++)
	{
		double		r = ref_shares[i] > 0.0 ? ref_shares[i] : PSI_EPSILON;
		double		c = cur_shares[i] > 0.0 ? cur_shares[i] : PSI_EPSILON;

		sum += (c - r) * log(c / r);
	}
	return sum;
}

double
jensen_shannon(const double *p, const double *q, int n)
{
	double		psum = 0.0;
	double		qsum = 0.0;
	double		div = 0.0;

	for (int i = 0; i < n; i++)
	{
		psum += p[i];
		qsum += q[i];
	}
	if (!(psum > 0.0 && qsum > 0.0))
		return NAN;

	for (int i = 0; i < n; i++)
	{
		double		pi = p[i] / psum;
		double		qi = q[i] / qsum;
		double		m = (pi + qi) / 2.0;

		/* 0 * log(0 / m) is 0, as scipy's rel_entr has it */
		if (pi > 0.0)
			div += pi * log(pi / m);
		if (qi > 0.0)
			div += qi * log(qi / m);
	}
	/* rounding may leave an equal pair a hair below 0 */
	return sqrt(Max(div / (2.0 * M_LN2), 0.0));
}

/*
 * One walk over both sorted samples: between consecutive distinct values
 * the two CDFs are constant, and the area between them is their
 * difference times the gap.
 */
double
wasserstein1(const double *a, int64 na, const double *b, int64 nb)
{
	double		area = 0.0;
	double		prev;
	int64		i = 0;
	int64		j = 0;

	if (na == 0 || nb == 0)
		return NAN;

	prev = Min(a[0], b[0]);
	while (i < na || j < nb)
	{
		double		x = (j >= nb || (i < na && a[i] <= b[j])) ? a[i] : b[j];

		area += fabs((double) i / na - (double) j / nb) * (x - prev);
		prev = x;
		while (i < na && a[i] == x)
			i++;
		while (j < nb && b[j] == x)
			j++;
	}
	return area;
}

/*
 * value against threshold, when both sides are large enough: the
 * effective size m k / (m + k) is what the sampling noise of a
 * two-sample distance depends on.
 */
static DriftVerdict
judge(double value, double threshold, int64 m, int64 k,
	  const DriftThresholds *t)
{
	if (isnan(value) || m == 0 || k == 0 ||
		(double) m * k / ((double) m + k) < t->min_rows)
		return DRIFT_UNKNOWN;
	return value >= threshold ? DRIFT_YES : DRIFT_NO;
}

/*
 * The missing-value part, common to both kinds, and the feature's
 * verdict: drift when either part says so, unknown when neither does and
 * one of them could not judge.
 */
static void
finish_feature(int64 ref_count, int64 ref_missing, const DriftThresholds *t,
			   FeatureDrift *out)
{
	int64		ref_total = ref_count + ref_missing;
	int64		total = out->count + out->missing;
	double		ref_share = ref_total > 0 ? (double) ref_missing / ref_total : NAN;

	out->missing_share = total > 0 ? (double) out->missing / total : NAN;
	out->missing_change = out->missing_share - ref_share;
	out->missing_drift = judge(fabs(out->missing_change), t->missing,
							   ref_total, total, t);

	if (out->distribution == DRIFT_YES || out->missing_drift == DRIFT_YES)
		out->drift = DRIFT_YES;
	else if (out->distribution == DRIFT_UNKNOWN ||
			 out->missing_drift == DRIFT_UNKNOWN)
		out->drift = DRIFT_UNKNOWN;
	else
		out->drift = DRIFT_NO;
}

/* index of the first of the n ascending values that is >= x */
static int64
lower_bound(const double *values, int64 n, double x)
{
	int64		lo = 0;
	int64		hi = n;

	while (lo < hi)
	{
		int64		mid = lo + (hi - lo) / 2;

		if (values[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void
numeric_drift(const NumericReference *ref, double *values, int64 n,
			  const DriftThresholds *t, FeatureDrift *out)
{
	int64		k = sort_finite(values, n);

	out->count = k;
	out->missing = n - k;
	out->jensen_shannon = NAN;
	out->psi = NAN;
	out->wasserstein = NAN;
	if (k > 0 && ref->count > 0)
	{
		double		shares[MONITOR_BINS];
		int64		start = 0;

		for (int b = 0; b < ref->nbins; b++)
		{
			int64		end = b < ref->nbins - 1 ?
				lower_bound(values, k, ref->edges[b]) : k;

			shares[b] = (double) (end - start) / k;
			start = end;
		}
		out->psi = psi(ref->shares, shares, ref->nbins);
		out->wasserstein = wasserstein1(ref->quantiles, ref->nquantiles,
										values, k) /
			Max(ref->sd, WASSERSTEIN_MIN_SD);
	}
	out->distribution = judge(out->wasserstein, t->wasserstein,
							  ref->count, k, t);
	out->psi_drift = judge(out->psi, t->psi, ref->count, k, t);
	finish_feature(ref->count, ref->missing, t, out);
}

void
category_drift(const CategoryReference *ref, const int64 *counts,
			   int64 missing, const DriftThresholds *t, FeatureDrift *out)
{
	double		shares[MONITOR_CATEGORIES + 1];
	int			nbuckets = ref->ncategories + 1;
	int64		k = 0;

	for (int i = 0; i < nbuckets; i++)
		k += counts[i];

	out->count = k;
	out->missing = missing;
	out->wasserstein = NAN;
	out->psi = NAN;
	out->jensen_shannon = NAN;
	if (k > 0 && ref->count > 0)
	{
		for (int i = 0; i < nbuckets; i++)
			shares[i] = (double) counts[i] / k;
		out->psi = psi(ref->shares, shares, nbuckets);
		out->jensen_shannon = jensen_shannon(ref->shares, shares, nbuckets);
	}
	out->distribution = judge(out->jensen_shannon, t->jensen_shannon,
							  ref->count, k, t);
	out->psi_drift = judge(out->psi, t->psi, ref->count, k, t);
	finish_feature(ref->count, ref->missing, t, out);
}

DriftVerdict
dataset_drift(const FeatureDrift *features, int n, const DriftThresholds *t,
			  int *ndrifted, int *njudged)
{
	*ndrifted = 0;
	*njudged = 0;
	for (int i = 0; i < n; i++)
	{
		if (features[i].drift == DRIFT_UNKNOWN)
			continue;
		(*njudged)++;
		*ndrifted += (features[i].drift == DRIFT_YES);
	}
	if (*njudged == 0)
		return DRIFT_UNKNOWN;
	return *ndrifted >= t->dataset_share * *njudged ? DRIFT_YES : DRIFT_NO;
}
