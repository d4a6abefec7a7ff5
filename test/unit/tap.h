/*-------------------------------------------------------------------------
 *
 * tap.h
 *	  The TAP lines of the standalone unit tests: each check starts its
 *	  line with "ok N - " or "not ok N - " here and writes its description
 *	  itself; the plan and the exit status come at the end.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_UNIT_TAP_H
#define LEARNLOOP_UNIT_TAP_H

#include <stdio.h>

static int	tap_tests = 0;
static int	tap_failed = 0;

/* Counts a check and starts its line; the caller ends it. */
static inline void
tap_line(bool ok)
{
	tap_tests++;
	if (!ok)
		tap_failed++;
	printf("%s %d - ", ok ? "ok" : "not ok", tap_tests);
}

/* After the last check: the plan, and 1 when a check failed. */
static inline int
tap_finish(void)
{
	printf("1..%d\n", tap_tests);
	if (tap_failed > 0)
		printf("# %d of %d checks failed\n", tap_failed, tap_tests);
	return tap_failed > 0 ? 1 : 0;
}

#endif							/* LEARNLOOP_UNIT_TAP_H */
