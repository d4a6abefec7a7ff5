/*-------------------------------------------------------------------------
 *
 * predict.h
 *	  Predictions of one row by a cached model.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_PREDICT_H
#define LEARNLOOP_PREDICT_H

#include "predict/model_cache.h"

#define PREDICT_MAX_OUTPUTS 1024

/* Outputs of one row: per class probabilities, or one value. */
typedef struct Prediction
{
	int			n;
	double		values[PREDICT_MAX_OUTPUTS];
} Prediction;

extern void predict_row(CachedModel *model, const float *features, Prediction *out);
extern int	predicted_class(const CachedModel *model, const Prediction *p, double *confidence);

#endif							/* LEARNLOOP_PREDICT_H */
