/*-------------------------------------------------------------------------
 *
 * thompson_exact.h
 *	  The Thompson distribution of a few actions by numerical integration.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_THOMPSON_EXACT_H
#define LEARNLOOP_THOMPSON_EXACT_H

/* up to this many actions the integral costs less than 100 draws of Beta posteriors */
#define THOMPSON_EXACT_MAX_ACTIONS 8

extern bool thompson_exact(bool binary, int k, const double *p1,
						   const double *p2, double *probabilities);

#endif							/* LEARNLOOP_THOMPSON_EXACT_H */
