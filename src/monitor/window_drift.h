/*-------------------------------------------------------------------------
 *
 * window_drift.h
 *	  A window's feature values and predictions, gathered row by row, and
 *	  their drift against the model's reference (monitor/drift.h).
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_WINDOW_DRIFT_H
#define LEARNLOOP_WINDOW_DRIFT_H

#include "utils/jsonb.h"

#include "model/reference_json.h"
#include "monitor/drift.h"
#include "monitor/metric_rows.h"

/* decisions of a window whose features are read for the drift, by default (see window_drift.c) */
#define MONITOR_DRIFT_SAMPLE 100000

typedef struct WindowDrift WindowDrift;

extern WindowDrift *window_drift_create(const FeatureSchema *schema,
										const ModelReference *ref, int sample_size);

/*
 * Starts the sample's bar from an estimate of the window's rows (the
 * planner's; 0: none), before the first row is offered (window_drift.c).
 */
extern void window_drift_expect(WindowDrift *wd, double rows);

/*
 * After every row was offered: whether the sample is the window's rows of
 * lowest hash.  It is not when the estimate was too high; then restart
 * and offer the window's rows again (the same rows: the same snapshot).
 */
extern bool window_drift_complete(const WindowDrift *wd);
extern void window_drift_restart(WindowDrift *wd);

/*
 * Offers a decision (its row id) to the sample, and when it is taken
 * keeps its prediction (as the reference's "of" says; NaN for none: a
 * fallback) and reads its features (a jsonb object, detoasted only then):
 * each feature is the key of its name in features; a feature "action"
 * absent there is action, the decision's (NULL when it has none; an
 * outcome model scores the actions: ml.decide's default action_feature,
 * trained as decision->>'action' AS action).  A value of another type
 * than the model was trained on counts as missing.
 */
extern void window_drift_add(WindowDrift *wd, int64 id, Datum features,
							 const JsonbValue *action, double prediction);

extern void window_drift_emit(WindowDrift *wd, const DriftThresholds *thresholds,
							  MetricRows *rows);

#endif							/* LEARNLOOP_WINDOW_DRIFT_H */
