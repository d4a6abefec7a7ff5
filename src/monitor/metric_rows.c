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

/*
 * Moves the k-th smallest of values[lo .. hi] to position k, smaller ones
 * before it and larger ones after (Hoare's selection, median of three).
 */
static void
select_kth(double *v, int64 lo, int64 hi, int64 k)
{
	while (hi > lo)
	{
		int64		mid = lo + (hi - lo) / 2;
		double		pivot;
		int64		i = lo;
		int64		j = hi;
		double		t;

		/* the median of three as the pivot keeps sorted input linear */
		if (v[mid] < v[lo])
			t = v[mid], v[mid] = v[lo], v[lo] = t;
		if (v[hi] < v[lo])
			t = v[hi], v[hi] = v[lo], v[lo] = t;
		if (v[hi] < v[mid])
			t = v[hi], v[hi] = v[mid], v[mid] = t;
		pivot = v[mid];
		while (i <= j)
		{
			while (v[i] < pivot)
				i++;
			while (v[j] > pivot)
				j--;
			if (i <= j)
			{
				t = v[i], v[i] = v[j], v[j] = t;
				i++;
				j--;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			return;
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
