/*-------------------------------------------------------------------------
 *
 * summary.h
 *	  Per-variant sufficient statistics of one metric of an experiment.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_SUMMARY_H
#define LEARNLOOP_SUMMARY_H

#include "experiment/config_cache.h"

typedef struct VariantSummary
{
	int64		units;			/* exposed units */
	int64		with_value;		/* of which have a value of the metric */
	int64		n;				/* units analysed: units or with_value */
	double		mean;			/* over the n units analysed */
	double		variance;		/* sample variance (n - 1), NaN if n < 2 */
} VariantSummary;

/*
 * Fills out[i] for variant i of exp.  With zero_fill, exposed units without
 * a value count as 0; otherwise they are left out.  Returns whether every
 * value is 0 or 1 (a conversion metric).
 */
extern bool experiment_summaries(const ExperimentConfig *exp, const char *metric,
								 bool zero_fill, VariantSummary *out);

#endif							/* LEARNLOOP_SUMMARY_H */
