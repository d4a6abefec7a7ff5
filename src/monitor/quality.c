/*-------------------------------------------------------------------------
 *
 * quality.c
 *	  Realized and estimated quality of a binary classifier from its
 *	  predicted probabilities (see quality.h and docs/monitoring.md).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "monitor/quality.h"
#include "model/reference.h"

/* the clipping of model/metrics.c's log loss, so that the two agree */
#define LOG_LOSS_EPS 1e-15

/* NaN fails both comparisons */
static inline bool
usable(double p)
{
	return p >= 0.0 && p <= 1.0;
}

static inline double
confidence(double p)
{
	return Max(p, 1.0 - p);
}

double
expected_accuracy(const double *prob, int64 n, int64 *used)
{
	double		sum = 0.0;
	int64		k = 0;

	for (int64 i = 0; i < n; i++)
		if (usable(prob[i]))
		{
			sum += confidence(prob[i]);
			k++;
		}
	*used = k;
	return k > 0 ? sum / k : NAN;
}

/*
 * Sorts n non-negative finite doubles ascending, tmp holding n more: an
 * LSD radix sort of their bit patterns, which order as the numbers do, in
 * at most six passes (one histogram pass for all digits; a digit all
 * values share is skipped).  A comparison sort of a window's million
 * confidences was 5 % of ml.monitor's time.
 */
#define RADIX_BITS 11
#define RADIX_SIZE (1 << RADIX_BITS)
#define RADIX_DIGITS ((64 + RADIX_BITS - 1) / RADIX_BITS)

static void
radix_sort_nonnegative(double *values, double *tmp, int64 n)
{
	static int64 counts[RADIX_DIGITS][RADIX_SIZE];
	double	   *src = values;
	double	   *dst = tmp;

	if (n < 2)
		return;
	memset(counts, 0, sizeof(counts));
	for (int64 i = 0; i < n; i++)
	{
		uint64		bits;

		memcpy(&bits, &values[i], sizeof(bits));
		for (int d = 0; d < RADIX_DIGITS; d++)
			counts[d][(bits >> (d * RADIX_BITS)) & (RADIX_SIZE - 1)]++;
	}
	for (int d = 0; d < RADIX_DIGITS; d++)
	{
		uint64		first;
		int64		start = 0;
		double	   *t;

		memcpy(&first, &src[0], sizeof(first));
		if (counts[d][(first >> (d * RADIX_BITS)) & (RADIX_SIZE - 1)] == n)
			continue;
		/* the counts become each digit's first position */
		for (int b = 0; b < RADIX_SIZE; b++)
		{
			int64		c = counts[d][b];

			counts[d][b] = start;
			start += c;
		}
		for (int64 i = 0; i < n; i++)
		{
			uint64		bits;

			memcpy(&bits, &src[i], sizeof(bits));
			dst[counts[d][(bits >> (d * RADIX_BITS)) & (RADIX_SIZE - 1)]++] = src[i];
		}
		t = src, src = dst, dst = t;
	}
	if (src != values)
		memcpy(values, src, sizeof(double) * n);
}

/*
 * The bins are cut on the sorted confidences; each row then finds its bin
 * among the edges (the confidence each bin starts at), so rows need not
 * be carried through the sort.
 */
void
binary_calibration(const double *prob, const bool *outcome, int64 n,
				   BinaryCalibration *out, double *scratch)
{
	int64		cuts[MONITOR_ECE_BINS - 1];
	double		edges[MONITOR_ECE_BINS - 1];
	double		conf_sum[MONITOR_ECE_BINS] = {0};
	int64		correct[MONITOR_ECE_BINS] = {0};
	int64		bin_count[MONITOR_ECE_BINS] = {0};
	int64		total_correct = 0;
	double		loss = 0.0;
	double		ece = 0.0;
	int64		k = 0;
	int			ncuts;

	/* confidences are 0.5 .. 1: finite, and their bits order as they do */
	for (int64 i = 0; i < n; i++)
		if (usable(prob[i]))
			scratch[k++] = confidence(prob[i]);
	radix_sort_nonnegative(scratch, scratch + k, k);
	ncuts = equal_count_cuts(scratch, k, MONITOR_ECE_BINS, cuts);
	for (int b = 0; b < ncuts; b++)
		edges[b] = scratch[cuts[b]];

	for (int64 i = 0; i < n; i++)
	{
		double		c;
		int			b = 0;
		bool		right;

		if (!usable(prob[i]))
			continue;
		c = confidence(prob[i]);
		while (b < ncuts && c >= edges[b])
			b++;
		right = (prob[i] > 0.5) == outcome[i];
		loss -= log(Min(Max(outcome[i] ? prob[i] : 1 - prob[i], LOG_LOSS_EPS), 1 - LOG_LOSS_EPS));
		conf_sum[b] += c;
		correct[b] += right;
		bin_count[b]++;
		total_correct += right;
	}

	out->n = k;
	out->nbins = k > 0 ? ncuts + 1 : 0;
	for (int b = 0; b < out->nbins; b++)
	{
		out->bins[b].count = bin_count[b];
		out->bins[b].confidence = conf_sum[b] / bin_count[b];
		out->bins[b].accuracy = (double) correct[b] / bin_count[b];
		ece += fabs(correct[b] - conf_sum[b]);
	}
	out->ece = k > 0 ? ece / k : NAN;
	out->log_loss = k > 0 ? loss / k : NAN;
	out->accuracy = k > 0 ? (double) total_correct / k : NAN;
	/* the same rows: usable() is the only filter of both */
	out->expected_accuracy = expected_accuracy(prob, n, &k);
}
