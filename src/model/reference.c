/*-------------------------------------------------------------------------
 *
 * reference.c
 *	  Reference distributions of features and predictions, built from the
 *	  training sample (see reference.h and docs/monitoring.md).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>
#include <stdlib.h>

#include "model/reference.h"

/*
 * An ascending sort of finite doubles with the comparison inlined:
 * ml.monitor sorts a million values per numeric feature of a window, and
 * qsort's call per comparison costs half of that.
 */
#define ST_SORT sort_doubles
#define ST_ELEMENT_TYPE double
#define ST_COMPARE(a, b) ((*(a) > *(b)) - (*(a) < *(b)))
#define ST_SCOPE static
#define ST_DEFINE
#include "lib/sort_template.h"

int64
sort_finite(double *values, int64 n)
{
	int64		count = 0;

	for (int64 i = 0; i < n; i++)
		if (isfinite(values[i]))
			values[count++] = values[i];
	sort_doubles(values, count);
	return count;
}

int
equal_count_cuts(const double *keys, int64 n, int nbins, int64 *cuts)
{
	int			ncuts = 0;
	int64		last = 0;

	for (int b = 1; b < nbins; b++)
	{
		int64		t = b * n / nbins;

		if (t <= last)
			continue;
		/* keep a run of equal keys in the bin it starts in */
		while (t < n && keys[t - 1] == keys[t])
			t++;
		if (t >= n)
			break;
		cuts[ncuts++] = t;
		last = t;
	}
	return ncuts;
}

/*
 * Bins are equal-count over the sorted finite values with ties kept
 * together, so a feature that is 0 for 70 % of rows gets one bin of 0.7
 * rather than seven identical edges; every reference bin holds at least
 * one value, so only the current window's shares can be 0 (see psi()).
 * The quantile points are the values at ranks floor((j + 0.5) * count /
 * nquantiles): the whole sorted sample when count <= MONITOR_QUANTILES.
 */
void
numeric_reference_build(double *values, int64 n, NumericReference *ref)
{
	int64		count = sort_finite(values, n);
	int64		cuts[MONITOR_BINS - 1];
	int64		start = 0;
	double		sum = 0.0;
	double		sq = 0.0;
	int			ncuts;
	int64		i;

	ref->count = count;
	ref->missing = n - count;
	for (i = 0; i < count; i++)
		sum += values[i];
	ref->mean = count > 0 ? sum / count : NAN;
	/* a second pass around the mean, free of cancellation */
	for (i = 0; i < count; i++)
		sq += (values[i] - ref->mean) * (values[i] - ref->mean);
	ref->sd = count > 0 ? sqrt(sq / count) : NAN;

	if (count == 0)
	{
		ref->nbins = 0;
		ref->nquantiles = 0;
		return;
	}

	ncuts = equal_count_cuts(values, count, MONITOR_BINS, cuts);
	ref->nbins = ncuts + 1;
	for (int b = 0; b < ref->nbins; b++)
	{
		int64		end = b < ncuts ? cuts[b] : count;

		if (b < ncuts)
			ref->edges[b] = values[end];
		ref->shares[b] = (double) (end - start) / count;
		start = end;
	}

	ref->nquantiles = (int) Min(count, (int64) MONITOR_QUANTILES);
	for (int j = 0; j < ref->nquantiles; j++)
		ref->quantiles[j] =
			values[(int64) floor((j + 0.5) * (double) count / ref->nquantiles)];
}

/* Whether category a comes before b: more frequent first, then by index. */
static bool
category_before(const int64 *counts, int a, int b)
{
	return counts[a] > counts[b] || (counts[a] == counts[b] && a < b);
}

/*
 * A selection of the MONITOR_CATEGORIES most frequent categories, which
 * costs MONITOR_CATEGORIES passes over the distinct ones and no scratch
 * beyond kept.  A category never seen (count 0) is not kept.
 */
void
category_reference_build(const int64 *counts, int ndistinct, int64 missing,
						 CategoryReference *ref, int *kept)
{
	int64		count = 0;
	int64		kept_count = 0;
	int			k;

	for (int i = 0; i < ndistinct; i++)
	{
		kept[i] = i;
		count += counts[i];
	}

	for (k = 0; k < Min(ndistinct, MONITOR_CATEGORIES); k++)
	{
		int			best = k;
		int			swap;

		for (int i = k + 1; i < ndistinct; i++)
			if (category_before(counts, kept[i], kept[best]))
				best = i;
		if (counts[kept[best]] == 0)
			break;
		swap = kept[k];
		kept[k] = kept[best];
		kept[best] = swap;
		ref->shares[k] = (double) counts[kept[k]] / count;
		kept_count += counts[kept[k]];
	}

	ref->count = count;
	ref->missing = missing;
	ref->ncategories = k;
	ref->shares[k] = count > 0 ? (double) (count - kept_count) / count : 0.0;
}
