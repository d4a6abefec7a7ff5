/*-------------------------------------------------------------------------
 *
 * uncertainty_test.c
 *	  Standalone TAP test of src/policy/uncertainty.c: the three measures
 *	  against their formulas (0 ln 0 taken as 0), and the spread of a
 *	  batch: the plain ranking at diversity 0, a farthest-point traversal
 *	  at 1, ties to the earlier candidate, NaN scores never chosen.
 *	  Exits non-zero when any check fails.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>
#include <stdio.h>

#include "policy/uncertainty.h"
#include "tap.h"

static void
check(bool ok, const char *what)
{
	tap_line(ok);
	printf("%s\n", what);
}

static bool
close_to(double got, double want)
{
	return fabs(got - want) <= 1e-15 * Max(1.0, fabs(want));
}

static bool
same(const int *got, const int *want, int n)
{
	for (int i = 0; i < n; i++)
		if (got[i] != want[i])
			return false;
	return true;
}

static void
test_measures(void)
{
	static const double certain[] = {0, 1, 0};
	static const double half[] = {0.5, 0.5};
	static const double three[] = {0.2, 0.5, 0.3};

	check(uncertainty(UNCERTAINTY_ENTROPY, certain, 3) == 0 &&
		  uncertainty(UNCERTAINTY_MARGIN, certain, 3) == 0 &&
		  uncertainty(UNCERTAINTY_LEAST_CONFIDENT, certain, 3) == 0,
		  "a certain row: every measure 0, no NaN from 0 ln 0");
	check(close_to(uncertainty(UNCERTAINTY_ENTROPY, half, 2), log(2.0)) &&
		  close_to(uncertainty(UNCERTAINTY_MARGIN, half, 2), 1.0) &&
		  close_to(uncertainty(UNCERTAINTY_LEAST_CONFIDENT, half, 2), 0.5),
		  "a coin flip: entropy ln 2, margin 1, least confident 1/2");
	check(close_to(uncertainty(UNCERTAINTY_ENTROPY, three, 3),
				   -(0.2 * log(0.2) + 0.5 * log(0.5) + 0.3 * log(0.3))) &&
		  close_to(uncertainty(UNCERTAINTY_MARGIN, three, 3), 1 - (0.5 - 0.3)) &&
		  close_to(uncertainty(UNCERTAINTY_LEAST_CONFIDENT, three, 3), 0.5),
		  "three classes out of order: the two largest found wherever they are");
}

static void
test_spread(void)
{
	/* one coordinate: 0, 0.1, 10, 5 */
	static const double points[] = {0, 0.1, 10, 5};
	static const double scores[] = {0.9, 0.8, 0.1, 0.2};
	static const double ties[] = {0.5, 0.5, 0.5, 0.5};
	static const double with_nan[] = {NAN, 0.3, NAN, 0.2};
	int			chosen[4];
	double		work[4];
	static const int ranking[] = {0, 1, 3};
	static const int farthest[] = {0, 2, 3};
	static const int tied[] = {0, 1, 2, 3};
	static const int finite[] = {1, 3};

	check(uncertainty_spread(points, 4, 1, scores, 0, 3, chosen, work) == 3 &&
		  same(chosen, ranking, 3), "diversity 0: the ranking by score");
	check(uncertainty_spread(points, 4, 1, scores, 1, 3, chosen, work) == 3 &&
		  same(chosen, farthest, 3), "diversity 1: most uncertain first, then the farthest points");
	check(uncertainty_spread(points, 4, 1, ties, 0, 4, chosen, work) == 4 &&
		  same(chosen, tied, 4), "equal scores: the earlier candidate first");
	check(uncertainty_spread(points, 4, 1, scores, 0.5, 9, chosen, work) == 4,
		  "n beyond the candidates: every candidate, once");
	check(uncertainty_spread(points, 4, 1, with_nan, 0.5, 4, chosen, work) == 2 &&
		  same(chosen, finite, 2), "NaN scores are never chosen");
	check(uncertainty_spread(points, 0, 1, scores, 0.5, 3, chosen, work) == 0,
		  "no candidates: none chosen");
}

int
main(void)
{
	test_measures();
	test_spread();
	return tap_finish();
}
