/*-------------------------------------------------------------------------
 *
 * guarded.h
 *	  Running a step whose failure the caller survives.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_GUARDED_H
#define LEARNLOOP_GUARDED_H

extern bool run_guarded(void (*step) (void *), void *arg, char **failure);

#endif							/* LEARNLOOP_GUARDED_H */
