/*-------------------------------------------------------------------------
 *
 * serving_stats.h
 *	  Calls, errors, fallbacks and latency of the serving functions
 *	  (ml.predict*, ml.explain, ml.decide) per database, model and
 *	  function, in shared memory: the rows of ml.serving_stats.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_SERVING_STATS_H
#define LEARNLOOP_SERVING_STATS_H

#include "fmgr.h"

typedef enum ServingFunction
{
	SERVING_PREDICT,
	SERVING_PREDICT_PROBA,
	SERVING_PREDICT_LABEL,
	SERVING_EXPLAIN,
	SERVING_DECIDE
} ServingFunction;

extern bool learnloop_serving_stats;
extern int	learnloop_serving_stats_max;
extern int	learnloop_serving_stats_time_every;

extern void serving_stats_request_shmem(void);
extern void serving_stats_init_shmem(void);

/*
 * Runs impl(fcinfo) as one counted call of function on the model named by
 * argument model_arg (or, when that is NULL, by default_arg; -1 for none).
 */
extern Datum serving_stats_call(FunctionCallInfo fcinfo, ServingFunction function,
								int model_arg, int default_arg, PGFunction impl);

/* for ml.decide, inside serving_stats_call: its latency so far, and a fallback */
extern int64 serving_stats_elapsed_us(void);
extern void serving_stats_fallback(void);

#endif							/* LEARNLOOP_SERVING_STATS_H */
