/*-------------------------------------------------------------------------
 *
 * guarded.h
 *	  Running a step whose failure the caller survives.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_GUARDED_H
#define LEARNLOOP_GUARDED_H

#include "utils/elog.h"

extern bool error_is_circumstantial(int sqlerrcode);
extern ErrorData *run_guarded(void (*step) (void *), void *arg);

#endif							/* LEARNLOOP_GUARDED_H */
