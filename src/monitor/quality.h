/*-------------------------------------------------------------------------
 *
 * quality.h
 *	  A binary classifier's quality in production, from its predicted
 *	  probabilities: realized (against the outcomes that arrived) and
 *	  estimated (for the decisions still without one).
 *
 * Pure computation on caller-provided memory (see model/reference.h).
 * How ml.monitor uses it, for a window's model decisions, p being the
 * model's probability of the positive outcome:
 *	with an outcome: binary_calibration() gives the realized accuracy, log
 *	  loss, the ECE and its bins (the calibration curve of ml.report), and,
 *	  on the same rows, the expected accuracy to set beside the realized one;
 *	without one yet: expected_accuracy() estimates their accuracy.
 * A probability outside [0, 1] (or NaN) is not used; the functions
 * return how many rows they used, so the caller can report the others.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_MONITOR_QUALITY_H
#define LEARNLOOP_MONITOR_QUALITY_H

/* equal-count bins of the ECE */
#define MONITOR_ECE_BINS	10

typedef struct CalibrationBin
{
	int64		count;
	double		confidence;		/* mean of max(p, 1 - p) */
	double		accuracy;		/* share of rows whose predicted label was right */
} CalibrationBin;

typedef struct BinaryCalibration
{
	int64		n;				/* rows used */
	double		accuracy;		/* realized; NaN when n is 0, as all below */
	double		expected_accuracy;	/* confidence-based, same rows */
	double		ece;
	/* probabilities clipped to [1e-15, 1 - 1e-15], as model/metrics.c */
	double		log_loss;
	int			nbins;			/* 0 .. MONITOR_ECE_BINS */
	CalibrationBin bins[MONITOR_ECE_BINS];	/* ascending confidence */
} BinaryCalibration;

/*
 * Confidence-based performance estimation of accuracy (NannyML's CBPE):
 * the mean over rows of max(p, 1 - p), which is 1 - |predicted label - p|,
 * the probability that the predicted label is right if the model is
 * calibrated.  *used receives the number of rows used; NaN when none.
 */
extern double expected_accuracy(const double *prob, int64 n, int64 *used);

/*
 * Realized quality of n rows with outcomes.  The predicted label is
 * p > 0.5 (0.5 predicts 0: the first class wins a tie, as in
 * model/metrics.c).  The ECE is sum over bins of |accuracy - mean
 * confidence| weighted by the bin's share of rows, with MONITOR_ECE_BINS
 * equal-count bins of the confidence max(p, 1 - p) cut by
 * equal_count_cuts (equal confidences share a bin, so there may be
 * fewer).  model/metrics.c's ECE, which the deployment gate uses, bins by
 * equal width instead; the two agree only where the bins do.  scratch
 * holds 2 n doubles.
 */
extern void binary_calibration(const double *prob, const bool *outcome,
							   int64 n, BinaryCalibration *out,
							   double *scratch);

#endif							/* LEARNLOOP_MONITOR_QUALITY_H */
