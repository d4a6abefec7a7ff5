/*-------------------------------------------------------------------------
 *
 * evaluate.h
 *	  Metrics of predictions on held-out rows, as JSON and as numbers.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_EVALUATE_H
#define LEARNLOOP_EVALUATE_H

#include "lib/stringinfo.h"

#include "train/dataset.h"

#define METRICS_MAX 16

typedef struct Metrics
{
	int			n;
	const char *names[METRICS_MAX];
	double		values[METRICS_MAX];
	StringInfoData json;		/* every metric, with per-class details */
} Metrics;

/*
 * preds has ncols values per row: class probabilities for classifiers (one
 * column, of class 1, for binary objectives), else the prediction.  rows
 * are grouped contiguously for ranking.
 */
extern void evaluate(const Dataset *ds, const int64 *rows, int64 n,
					 const float *preds, int ncols, Metrics *out);
extern bool metrics_get(const Metrics *m, const char *name, double *value);
extern const char *metric_canonical(ModelTask task, const char *name);
extern const char *default_metric(ModelTask task);

#endif							/* LEARNLOOP_EVALUATE_H */
