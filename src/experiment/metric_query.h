/*-------------------------------------------------------------------------
 *
 * metric_query.h
 *	  A defined metric's per-arm moments over an experiment's units: one
 *	  generated statement that aggregates the events per unit, then the
 *	  units per variant.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_METRIC_QUERY_H
#define LEARNLOOP_METRIC_QUERY_H

#include "experiment/config_cache.h"
#include "experiment/metric_def.h"
#include "experiment/metric_stats.h"

typedef struct MetricArm
{
	int64		units;			/* exposed units */
	int64		with_value;		/* of which have an event of the metric (the numerator) */
	ArmMoments	m;				/* over the units analysed (m.n) */
} MetricArm;

/*
 * out[i] for variant i of exp.  zero_fill: a unit without a value counts
 * as 0 (sum, count and any always give one).
 */
extern void metric_moments(const ExperimentConfig *exp, const MetricDef *def,
						   bool zero_fill, MetricArm *out);

#endif							/* LEARNLOOP_METRIC_QUERY_H */
