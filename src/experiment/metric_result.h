/*-------------------------------------------------------------------------
 *
 * metric_result.h
 *	  One metric of an experiment analysed: every treatment against the
 *	  control, before the corrections and verdicts that need the other
 *	  metrics.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_METRIC_RESULT_H
#define LEARNLOOP_METRIC_RESULT_H

#include "experiment/config_cache.h"
#include "experiment/stats.h"
#include "experiment/summary.h"

typedef struct MetricResult
{
	const char *metric;
	const char *kind;			/* proportion, mean, count or ratio */
	const char *test;			/* two-proportion or welch */
	bool		lower;			/* lower is better */
	int64		min_units;		/* per arm, before a verdict */
	double		alpha;			/* a guardrail's own; NaN: the analysis' */
	VariantSummary *s;			/* [variant] */
	AbTestResult *res;			/* [variant], from 1 */
	bool		cuped;			/* adjusted and variance_reduction are set */
	AbTestResult *adjusted;		/* [variant], from 1 */
	double	   *variance_reduction; /* [variant], from 1 */
	double	   *chance;			/* [variant], from 1: P(better than control) */
} MetricResult;

/*
 * Analyses metric (a definition of ml.metrics, or else the outcomes of
 * that name, as before metrics could be defined).  An undefined metric
 * that no outcome has is an error unless it is the primary or a guardrail.
 */
extern void metric_result(const ExperimentConfig *exp, const char *metric,
						  double alpha, bool sequential, bool zero_fill,
						  MetricResult *out);

/* The test the verdict reads: CUPED's when there is one */
static inline const AbTestResult *
metric_decisive(const MetricResult *r, int variant)
{
	return r->cuped ? &r->adjusted[variant] : &r->res[variant];
}

#endif							/* LEARNLOOP_METRIC_RESULT_H */
