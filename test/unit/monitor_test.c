/*-------------------------------------------------------------------------
 *
 * monitor_test.c
 *	  Standalone TAP test of src/monitor/ (reference distributions, drift,
 *	  ECE and CBPE) against the references in monitor_fixtures.h (see
 *	  make_monitor_fixtures.py: scipy for Jensen-Shannon and Wasserstein,
 *	  written-out formulas for the rest), cases worked by hand, and large
 *	  seeded samples whose distance is known analytically.  Exits non-zero
 *	  when any check fails.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/prng.h"
#include "monitor/drift.h"
#include "monitor/quality.h"
#include "model/metrics.h"
#include "model/reference.h"
#include "monitor_fixtures.h"
#include "tap.h"


static void
check(bool ok, const char *what, const char *name)
{
	tap_line(ok);
	printf("%s %s\n", name, what);
}

/*
 * Relative 1e-9: inputs are exact doubles, and only the order of sums
 * differs from numpy's.  NaN matches only NaN.
 */
static bool
close_to(double got, double want)
{
	if (isnan(want) || isnan(got))
		return isnan(want) && isnan(got);
	return fabs(got - want) <= 1e-9 * Max(1.0, fabs(want));
}

static void
check_double(double got, double want, const char *what, const char *name)
{
	check(close_to(got, want), what, name);
	if (!close_to(got, want))
		printf("#   got %.17g, want %.17g\n", got, want);
}

static void
check_doubles(const double *got, const double *want, int n,
			  const char *what, const char *name)
{
	bool		ok = true;

	for (int i = 0; i < n; i++)
		if (!close_to(got[i], want[i]))
		{
			printf("#   %s[%d]: got %.17g, want %.17g\n",
				   what, i, got[i], want[i]);
			ok = false;
		}
	check(ok, what, name);
}

static void
check_int(int64 got, int64 want, const char *what, const char *name)
{
	check(got == want, what, name);
	if (got != want)
		printf("#   got %lld, want %lld\n", (long long) got, (long long) want);
}

static void
check_verdicts(const FeatureDrift *d, int distribution, int psi_drift,
			   int missing_drift, int drift, const char *name)
{
	check_int(d->distribution, distribution, "distribution verdict", name);
	check_int(d->psi_drift, psi_drift, "psi verdict", name);
	check_int(d->missing_drift, missing_drift, "missing verdict", name);
	check_int(d->drift, drift, "drift verdict", name);
}

static double *
copy_doubles(const double *values, int64 n)
{
	double	   *copy = malloc(sizeof(double) * Max(n, 1));

	memcpy(copy, values, sizeof(double) * n);
	return copy;
}

static void
test_numeric_fixtures(void)
{
	for (size_t i = 0; i < lengthof(numeric_cases); i++)
	{
		const NumericCase *c = &numeric_cases[i];
		NumericReference ref;
		FeatureDrift d;
		double	   *values = copy_doubles(c->ref, c->nref);

		numeric_reference_build(values, c->nref, &ref);
		free(values);
		check_int(ref.count, c->count, "reference count", c->name);
		check_int(ref.missing, c->missing, "reference missing", c->name);
		check_double(ref.mean, c->mean, "reference mean", c->name);
		check_double(ref.sd, c->sd, "reference sd", c->name);
		check_int(ref.nbins, c->nbins, "reference nbins", c->name);
		if (ref.nbins == c->nbins && c->nbins > 0)
		{
			check_doubles(ref.edges, c->edges, c->nbins - 1, "edges", c->name);
			check_doubles(ref.shares, c->shares, c->nbins, "shares", c->name);
		}
		check_int(ref.nquantiles, c->nquantiles, "nquantiles", c->name);
		if (ref.nquantiles == c->nquantiles)
			check_doubles(ref.quantiles, c->quantiles, c->nquantiles,
						  "quantiles", c->name);

		values = copy_doubles(c->win, c->nwin);
		numeric_drift(&ref, values, c->nwin, &drift_default_thresholds, &d);
		free(values);
		check_int(d.count, c->win_count, "window count", c->name);
		check_int(d.missing, c->win_missing, "window missing", c->name);
		check_double(d.missing_share, c->missing_share, "missing share",
					 c->name);
		check_double(d.missing_change, c->missing_change, "missing change",
					 c->name);
		check_double(d.psi, c->psi, "psi", c->name);
		check_double(d.wasserstein, c->wasserstein, "wasserstein (scipy)",
					 c->name);
		check(isnan(d.jensen_shannon), "no jensen-shannon for numbers",
			  c->name);
		check_verdicts(&d, c->distribution, c->psi_drift, c->missing_drift,
					   c->drift, c->name);
	}
}

static void
test_category_fixtures(void)
{
	for (size_t i = 0; i < lengthof(category_cases); i++)
	{
		const CategoryCase *c = &category_cases[i];
		CategoryReference ref;
		FeatureDrift d;
		int		   *kept = malloc(sizeof(int) * c->ndistinct);
		bool		same_order = true;

		category_reference_build(c->counts, c->ndistinct, c->missing, &ref,
								 kept);
		check_int(ref.ncategories, c->ncategories, "categories kept", c->name);
		for (int k = 0; k < Min(ref.ncategories, c->ncategories); k++)
			same_order &= kept[k] == c->kept[k];
		check(same_order, "kept most frequent first", c->name);
		free(kept);
		if (ref.ncategories != c->ncategories)
			continue;
		check_doubles(ref.shares, c->shares, c->ncategories + 1,
					  "shares and other", c->name);

		category_drift(&ref, c->win, c->win_missing,
					   &drift_default_thresholds, &d);
		check_int(d.count, c->win_count, "window count", c->name);
		check_double(d.missing_share, c->missing_share, "missing share",
					 c->name);
		check_double(d.missing_change, c->missing_change, "missing change",
					 c->name);
		check_double(d.psi, c->psi, "psi", c->name);
		check_double(d.jensen_shannon, c->jensen_shannon,
					 "jensen-shannon (scipy)", c->name);
		check(isnan(d.wasserstein), "no wasserstein for categories", c->name);
		check_verdicts(&d, c->distribution, c->psi_drift, c->missing_drift,
					   c->drift, c->name);
	}
}

/*
 * The log loss of the rows used equals the deployment gate's
 * (model/metrics.c), which sees the probabilities as float: within
 * float's rounding.
 */
static void
check_log_loss(const QualityCase *c, const BinaryCalibration *q)
{
	float	   *labels = malloc(sizeof(float) * (c->n + 1));
	float	   *probs = malloc(sizeof(float) * 2 * (c->n + 1));
	MetricsSortItem *scratch = malloc(sizeof(MetricsSortItem) * (c->n + 1));
	double		precision[2], recall[2], f1[2], auc[2];
	int64		support[2], confusion[4];
	ClassMetrics m = {2, 0, 0, 0, 0, 0, 0, 0, 0, precision, recall, f1, auc, support, confusion};
	int64		k = 0;

	for (int64 i = 0; i < c->n; i++)
		if (c->prob[i] >= 0 && c->prob[i] <= 1)
		{
			labels[k] = c->outcome[i];
			probs[2 * k] = (float) (1 - c->prob[i]);
			probs[2 * k + 1] = (float) c->prob[i];
			k++;
		}
	if (k > 0)
	{
		classification_metrics(labels, probs, k, &m, scratch);
		check(fabs(q->log_loss - m.log_loss) < 1e-5 * Max(1, m.log_loss), "log loss as model/metrics.c's", c->name);
	}
	else
		check(isnan(q->log_loss), "no log loss without rows", c->name);
	free(labels);
	free(probs);
	free(scratch);
}

static void
test_quality_fixtures(void)
{
	for (size_t i = 0; i < lengthof(quality_cases); i++)
	{
		const QualityCase *c = &quality_cases[i];
		BinaryCalibration q;
		double	   *scratch = malloc(sizeof(double) * 2 * c->n);
		int64		used;
		double		expected;

		binary_calibration(c->prob, c->outcome, c->n, &q, scratch);
		free(scratch);
		check_int(q.n, c->used, "rows used", c->name);
		check_log_loss(c, &q);
		check_double(q.accuracy, c->accuracy, "accuracy", c->name);
		check_double(q.expected_accuracy, c->expected_accuracy,
					 "expected accuracy (CBPE)", c->name);
		check_double(q.ece, c->ece, "ece, equal-count bins", c->name);
		check_int(q.nbins, c->nbins, "ece bins", c->name);
		if (q.nbins == c->nbins)
		{
			bool		counts_ok = true;
			double		conf[MONITOR_ECE_BINS];
			double		acc[MONITOR_ECE_BINS];

			for (int b = 0; b < q.nbins; b++)
			{
				counts_ok &= q.bins[b].count == c->bin_count[b];
				conf[b] = q.bins[b].confidence;
				acc[b] = q.bins[b].accuracy;
			}
			check(counts_ok, "bin counts", c->name);
			check_doubles(conf, c->bin_confidence, q.nbins, "bin confidence",
						  c->name);
			check_doubles(acc, c->bin_accuracy, q.nbins, "bin accuracy",
						  c->name);
		}
		expected = expected_accuracy(c->prob, c->n, &used);
		check(close_to(expected, c->expected_accuracy) && used == c->used,
			  "expected_accuracy alone", c->name);
	}
}

/* Cases small enough to work by hand. */
static void
test_by_hand(void)
{
	/* one bin emptied: its share becomes PSI_EPSILON */
	{
		const double ref[] = {0.5, 0.5};
		const double cur[] = {1.0, 0.0};

		check_double(psi(ref, cur, 2),
					 0.5 * log(2.0) + (1e-4 - 0.5) * log(1e-4 / 0.5),
					 "psi with an empty bin", "hand");
		check_double(psi(ref, ref, 2), 0.0, "psi of equal shares", "hand");
	}

	/*
	 * p = (1, 0), q = (1/2, 1/2): m = (3/4, 1/4), KL(p, m) = ln 4/3,
	 * KL(q, m) = (ln 2/3 + ln 2) / 2, in bits over 2, square-rooted;
	 * counts normalise to the same.
	 */
	{
		const double p[] = {2.0, 0.0};
		const double q[] = {3.0, 3.0};
		const double disjoint_p[] = {1.0, 0.0};
		const double disjoint_q[] = {0.0, 4.0};
		const double zero[] = {0.0, 0.0};
		double		want = sqrt((log(4.0 / 3) + (log(2.0 / 3) + log(2.0)) / 2) /
								(2 * log(2.0)));

		check_double(jensen_shannon(p, q, 2), want, "jensen-shannon", "hand");
		check_double(jensen_shannon(q, p, 2), want, "jensen-shannon symmetric",
					 "hand");
		check_double(jensen_shannon(disjoint_p, disjoint_q, 2), 1.0,
					 "jensen-shannon of disjoint is 1", "hand");
		check(isnan(jensen_shannon(p, zero, 2)),
			  "jensen-shannon NaN against nothing", "hand");
	}

	/* CDF areas: 0.5 * 0.5 + 0.5 * 0.5; and |0 - 2| on average */
	{
		const double a[] = {0.0, 1.0};
		const double b[] = {0.5};
		const double c[] = {0.0};
		const double d[] = {1.0, 2.0, 3.0};

		check_double(wasserstein1(a, 2, b, 1), 0.5, "wasserstein", "hand");
		check_double(wasserstein1(c, 1, d, 3), 2.0, "wasserstein to one point",
					 "hand");
		check_double(wasserstein1(d, 3, d, 3), 0.0, "wasserstein to itself",
					 "hand");
		check(isnan(wasserstein1(a, 2, b, 0)), "wasserstein NaN when empty",
			  "hand");
	}

	/* 70 % zeros: the cuts aimed at 1 .. 6 all move to 7 */
	{
		const double keys[] = {0, 0, 0, 0, 0, 0, 0, 1, 2, 3};
		const double same[] = {5, 5, 5, 5};
		int64		cuts[9];
		int			n = equal_count_cuts(keys, 10, 10, cuts);

		check(n == 3 && cuts[0] == 7 && cuts[1] == 8 && cuts[2] == 9,
			  "equal-count cuts keep ties together", "hand");
		check(equal_count_cuts(same, 4, 10, cuts) == 0,
			  "equal keys make one bin", "hand");
	}

	/* CBPE: max(p, 1 - p) averaged, the unusable rows left out */
	{
		const double prob[] = {0.9, 0.2, 0.5, NAN, 1.5, -0.1};
		int64		used;

		check_double(expected_accuracy(prob, 6, &used), (0.9 + 0.8 + 0.5) / 3,
					 "expected accuracy", "hand");
		check_int(used, 3, "expected accuracy rows", "hand");
	}

	/*
	 * p = 0.5 predicts 0, so a 0 outcome is right; two rows, two bins:
	 * confidences 0.5 (right) and 0.9 (wrong): ECE = (0.5 + 0.9) / 2.
	 */
	{
		const double prob[] = {0.5, 0.9};
		const bool	outcome[] = {false, false};
		double		scratch[4];
		BinaryCalibration q;

		binary_calibration(prob, outcome, 2, &q, scratch);
		check(q.nbins == 2 && close_to(q.accuracy, 0.5) &&
			  close_to(q.ece, (0.5 + 0.9) / 2), "ece with a tie at 0.5", "hand");
	}
}

static FeatureDrift
with_drift(DriftVerdict v)
{
	FeatureDrift d = {0};

	d.drift = v;
	return d;
}

/* at least half of the features judged; the unknown ones do not count */
static void
test_dataset(void)
{
	FeatureDrift half[] = {with_drift(DRIFT_YES), with_drift(DRIFT_NO),
	with_drift(DRIFT_YES), with_drift(DRIFT_NO), with_drift(DRIFT_UNKNOWN)};
	FeatureDrift third[] = {with_drift(DRIFT_YES), with_drift(DRIFT_NO),
	with_drift(DRIFT_NO)};
	FeatureDrift none[] = {with_drift(DRIFT_UNKNOWN)};
	int			ndrifted;
	int			njudged;

	check(dataset_drift(half, 5, &drift_default_thresholds, &ndrifted,
						&njudged) == DRIFT_YES && ndrifted == 2 && njudged == 4,
		  "two of four judged drift: dataset drifts", "dataset");
	check(dataset_drift(third, 3, &drift_default_thresholds, &ndrifted,
						&njudged) == DRIFT_NO && ndrifted == 1,
		  "one of three: no dataset drift", "dataset");
	check(dataset_drift(none, 1, &drift_default_thresholds, &ndrifted,
						&njudged) == DRIFT_UNKNOWN && njudged == 0,
		  "nothing judged: unknown", "dataset");
}

static void
fill_normal(Prng *prng, double *values, int64 n, double mean)
{
	for (int64 i = 0; i < n; i++)
		values[i] = prng_normal(prng, mean, 1.0);
}

/*
 * Seeded normal samples, where W1 between N(0, 1) and N(mu, 1) is |mu|
 * exactly: a million rows of the reference's own distribution, or of one
 * moved by 0.02 sd (which a two-sample Kolmogorov-Smirnov test at this
 * size rejects at any usual level: its statistic is about 0.008, its 0.1 %
 * critical value about 0.006), are not flagged; one moved by 0.5 sd is,
 * with W near 0.5; 500 rows are too few to judge.
 */
static void
test_large_windows(void)
{
	int64		nref = 100000;
	int64		nwin = 1000000;
	double	   *values = malloc(sizeof(double) * nwin);
	NumericReference ref;
	FeatureDrift d;
	Prng		prng;

	prng_seed(&prng, 11, "drift", 5);
	fill_normal(&prng, values, nref, 0.0);
	numeric_reference_build(values, nref, &ref);

	fill_normal(&prng, values, nwin, 0.0);
	numeric_drift(&ref, values, nwin, &drift_default_thresholds, &d);
	check(d.wasserstein < 0.01 && d.psi < 0.001 &&
		  d.distribution == DRIFT_NO && d.drift == DRIFT_NO,
		  "1e6 rows, same distribution: no drift", "large");
	printf("#   W %.5f PSI %.6f\n", d.wasserstein, d.psi);

	fill_normal(&prng, values, nwin, 0.02);
	numeric_drift(&ref, values, nwin, &drift_default_thresholds, &d);
	check(fabs(d.wasserstein - 0.02) < 0.01 && d.drift == DRIFT_NO,
		  "1e6 rows moved 0.02 sd: no drift", "large");
	printf("#   W %.5f PSI %.6f\n", d.wasserstein, d.psi);

	fill_normal(&prng, values, nwin, 0.5);
	numeric_drift(&ref, values, nwin, &drift_default_thresholds, &d);
	check(fabs(d.wasserstein - 0.5) < 0.01 && d.drift == DRIFT_YES &&
		  d.psi_drift == DRIFT_YES, "1e6 rows moved 0.5 sd: drift, W ~ 0.5",
		  "large");
	printf("#   W %.5f PSI %.6f\n", d.wasserstein, d.psi);

	fill_normal(&prng, values, 500, 0.0);
	numeric_drift(&ref, values, 500, &drift_default_thresholds, &d);
	check(d.drift == DRIFT_UNKNOWN && !isnan(d.wasserstein),
		  "500 rows: measured, not judged", "large");
	free(values);
}

int
main(void)
{
	test_numeric_fixtures();
	test_category_fixtures();
	test_quality_fixtures();
	test_by_hand();
	test_dataset();
	test_large_windows();
	return tap_finish();
}
