/*-------------------------------------------------------------------------
 *
 * uncertainty.c
 *	  Uncertainty of a classifier's probabilities, and the spread of a
 *	  batch of uncertain rows (see uncertainty.h).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "policy/uncertainty.h"

/*
 * The uncertainty of probabilities p[0 .. k-1] (k >= 1, each in [0, 1]):
 * larger is less certain.  Entropy takes 0 ln 0 as its limit 0, so a
 * probability of exactly 0 (or 1) is never a NaN.
 */
double
uncertainty(UncertaintyMeasure measure, const double *p, int k)
{
	double		first = 0,
				second = 0,
				entropy = 0;

	for (int i = 0; i < k; i++)
	{
		if (p[i] > 0)
			entropy -= p[i] * log(p[i]);
		if (p[i] > first)
		{
			second = first;
			first = p[i];
		}
		else if (p[i] > second)
			second = p[i];
	}
	switch (measure)
	{
		case UNCERTAINTY_ENTROPY:
			return entropy;
		case UNCERTAINTY_MARGIN:
			return 1.0 - (first - second);
		case UNCERTAINTY_LEAST_CONFIDENT:
			return 1.0 - first;
	}
	return NAN;
}

/* Euclidean distance between two points of dims coordinates */
static double
distance(const double *a, const double *b, int dims)
{
	double		sum = 0;

	for (int d = 0; d < dims; d++)
		sum += (a[d] - b[d]) * (a[d] - b[d]);
	return sqrt(sum);
}

/*
 * Chooses n of npoints candidates (points: npoints rows of dims
 * coordinates, already on comparable scales; scores: their uncertainty,
 * >= 0) into chosen[], in the order chosen, using nearest[] (npoints) as
 * scratch; returns how many (fewer when there are fewer candidates).  The
 * first is the most uncertain; each next one maximises
 *		(1 - diversity) * score / max score + diversity * d / max d
 * where d is its distance to the nearest row already chosen and the maxima
 * are over the candidates left: diversity 0 is the plain ranking by score,
 * 1 a farthest-point traversal that starts at the most uncertain row.
 * Ties go to the earlier candidate, so the result is deterministic.
 */
int
uncertainty_spread(const double *points, int npoints, int dims,
				   const double *scores, double diversity, int n,
				   int *chosen, double *nearest)
{
	int			count = 0;

	/* nearest[i]: distance to the nearest chosen row; NaN once i is chosen (or never) */
	for (int i = 0; i < npoints; i++)
		nearest[i] = isnan(scores[i]) ? NAN : INFINITY;
	while (count < n && count < npoints)
	{
		double		max_score = 0,
					max_distance = 0,
					best_value = -INFINITY;
		int			best = -1;

		for (int i = 0; i < npoints; i++)
			if (!isnan(nearest[i]))
			{
				max_score = Max(max_score, scores[i]);
				if (isfinite(nearest[i]))
					max_distance = Max(max_distance, nearest[i]);
			}
		for (int i = 0; i < npoints; i++)
		{
			double		value;

			if (isnan(nearest[i]))
				continue;
			if (count == 0)
				value = scores[i];
			else
				value = (1.0 - diversity) * (max_score > 0 ? scores[i] / max_score : 0) +
					diversity * (max_distance > 0 ? nearest[i] / max_distance : 0);
			if (value > best_value)
			{
				best_value = value;
				best = i;
			}
		}
		if (best < 0)
			break;				/* only rows with a NaN score left */
		nearest[best] = NAN;
		chosen[count++] = best;
		for (int i = 0; i < npoints; i++)
			if (!isnan(nearest[i]))
				nearest[i] = Min(nearest[i], distance(points + (size_t) i * dims,
													  points + (size_t) best * dims, dims));
	}
	return count;
}
