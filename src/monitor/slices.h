/*-------------------------------------------------------------------------
 *
 * slices.h
 *	  Usage, realized and estimated quality and latency of a window's
 *	  decisions: overall, per decided_by and per experiment arm.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_SLICES_H
#define LEARNLOOP_SLICES_H

#include "monitor/metric_rows.h"

/*
 * Distinct decided_by values and experiment arms broken down; beyond them
 * a window's decisions count in the overall rows only.  ml.decide writes
 * a handful of decided_by values, but ml.record_decision takes any text.
 */
#define MONITOR_MAX_SLICES 100

/* What one decision contributes. */
typedef struct DecisionFacts
{
	const char *decided_by;		/* "model" or the decision's decided_by */
	int			decided_by_len;
	bool		by_model;
	const char *experiment;		/* NULL when none; not terminated */
	int			experiment_len;
	const char *variant;		/* NULL when none; not terminated */
	int			variant_len;
	bool		has_outcome;
	double		lag_seconds;	/* outcome_at - created_at; NaN without */
	bool		has_label;
	double		label;			/* 0/1, or the number */
	double		probability;	/* of classes[1]; NaN when none */
	double		latency_ms;		/* NaN when not recorded */
} DecisionFacts;

typedef struct SliceSet SliceSet;

/* quality: whether the model's labels are binary (accuracy, ECE, ...) */
extern SliceSet *slices_create(bool quality);
extern void slices_add(SliceSet *set, const DecisionFacts *facts);
extern void slices_emit(SliceSet *set, MetricRows *rows);

#endif							/* LEARNLOOP_SLICES_H */
