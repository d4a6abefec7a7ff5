/*-------------------------------------------------------------------------
 *
 * exposure_count.h
 *	  Exposed units per variant, counted from the exposures' index.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_EXPOSURE_COUNT_H
#define LEARNLOOP_EXPOSURE_COUNT_H

#include "experiment/config_cache.h"

/* Adds to units[i] the exposed units of variant i that the snapshot sees. */
extern void count_exposures(const ExperimentConfig *exp, int64 *units);

#endif							/* LEARNLOOP_EXPOSURE_COUNT_H */
