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

void
double_array_add(DoubleArray *a, double value)
{
	if (a->n == a->capacity)
	{
		a->capacity = Max(a->capacity * 2, 1024);
		a->values = a->values ?
			repalloc_huge(a->values, sizeof(double) * a->capacity) :
			MemoryContextAllocHuge(CurrentMemoryContext, sizeof(double) * a->capacity);
	}
	a->values[a->n++] = value;
}

double
percentile_disc(const double *sorted, int64 n, double q)
{
	int64		pos;

	if (n == 0)
		return NAN;
	pos = (int64) ceil(q * n);
	return sorted[Max(pos, 1) - 1];
}
