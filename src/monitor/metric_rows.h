/*-------------------------------------------------------------------------
 *
 * metric_rows.h
 *	  The rows ml.monitor measures: one per metric and slice, as
 *	  ml.MLMonitoringMetrics keeps them (docs/monitoring.md names them).
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_METRIC_ROWS_H
#define LEARNLOOP_METRIC_ROWS_H

#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/tuplestore.h"

/* Which decisions a row covers: all NULL for every decision of the window. */
typedef struct MetricSlice
{
	const char *experiment;
	const char *variant;
	const char *decided_by;
} MetricSlice;

typedef struct MetricRows
{
	Tuplestorestate *store;
	TupleDesc	desc;
} MetricRows;

/*
 * Appends (metric, feature, experiment, variant, decided_by, value,
 * metrics).  A NaN value is stored as NULL (not measured, or not judged);
 * details is a JSON object's text, or NULL for {}.
 */
extern void metric_row(MetricRows *rows, const char *metric, const char *feature,
					   const MetricSlice *slice, double value, const char *details);

/*
 * The q[i]-quantiles (q ascending) of n values as percentile_disc
 * computes them: the value at 1-based position ceil(q n) of the sorted
 * values; NaN when n is 0.  values is reordered (partly sorted), in
 * O(n) time on average rather than a sort's O(n log n).
 */
extern void percentiles_disc(double *values, int64 n, const double *q, int nq, double *out);

/* The k-th smallest (0-based) of n values, n > k; values is reordered. */
extern double kth_smallest(double *values, int64 n, int64 k);

#endif							/* LEARNLOOP_METRIC_ROWS_H */
