/*-------------------------------------------------------------------------
 *
 * srm.h
 *	  Sample ratio mismatch of an experiment: do the exposed units follow
 *	  the configured split?
 *
 * One definition for ml.experiment_statistics (its srm_p_value column and
 * its "sample ratio mismatch" verdict) and for ml.experiment_srm, which the
 * built-in SRM alert rule reads without naming a metric.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_SRM_H
#define LEARNLOOP_SRM_H

#include "experiment/config_cache.h"

/* p below this is a mismatch: the verdict's and the alert rule's default */
#define SRM_THRESHOLD 0.001

/*
 * The chi-square p-value of units[i] (exposed units of variant i) against
 * the weights; NaN for a Thompson-sampling experiment (its weights move, so
 * there is no fixed split), 0 when a variant of weight 0 has units.
 */
extern double experiment_srm(const ExperimentConfig *exp, const int64 *units);

#endif							/* LEARNLOOP_SRM_H */
