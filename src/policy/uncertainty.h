/*-------------------------------------------------------------------------
 *
 * uncertainty.h
 *	  Active learning's two cores: how uncertain a classifier is about a
 *	  row (entropy, margin, least confidence of its class probabilities),
 *	  and a batch of uncertain rows spread over the feature space, so that
 *	  a batch to label is not n near-copies of one row.
 *
 * Pure: no backend call, so that test/unit links it without a server.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_UNCERTAINTY_H
#define LEARNLOOP_UNCERTAINTY_H

/* in the order of their SQL names (least_certain.c) */
typedef enum UncertaintyMeasure
{
	UNCERTAINTY_ENTROPY,		/* -sum p ln p, 0 ln 0 = 0; 0 .. ln k */
	UNCERTAINTY_MARGIN,			/* 1 - (p1 - p2), the two largest; 0 .. 1 */
	UNCERTAINTY_LEAST_CONFIDENT /* 1 - p1; 0 .. 1 - 1/k */
} UncertaintyMeasure;

extern double uncertainty(UncertaintyMeasure measure, const double *p, int k);
extern int	uncertainty_spread(const double *points, int npoints, int dims,
							   const double *scores, double diversity, int n,
							   int *chosen, double *nearest);

#endif							/* LEARNLOOP_UNCERTAINTY_H */
