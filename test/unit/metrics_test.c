/*-------------------------------------------------------------------------
 *
 * metrics_test.c
 *	  Standalone TAP test of src/model/metrics.c against the references
 *	  in metrics_fixtures.h (see make_metrics_fixtures.py) and a few cases
 *	  worked by hand.  Exits non-zero when any check fails.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "model/metrics.h"
#include "metrics_fixtures.h"
#include "tap.h"

/* Inputs are exact float32 values and all arithmetic is double. */
#define TOL			1e-9
#define MAX_CLASS	8


static void
check(bool ok, const char *what, const char *name)
{
	tap_line(ok);
	printf("%s %s\n", name, what);
}

/* NaN matches only NaN. */
static bool
close_to(double got, double want)
{
	if (isnan(want) || isnan(got))
		return isnan(want) && isnan(got);
	return fabs(got - want) <= TOL;
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
	int			i;

	for (i = 0; i < n; i++)
		if (!close_to(got[i], want[i]))
		{
			printf("#   %s[%d]: got %.17g, want %.17g\n",
				   what, i, got[i], want[i]);
			ok = false;
		}
	check(ok, what, name);
}

static void
check_int64s(const int64 *got, const int64 *want, int n,
			 const char *what, const char *name)
{
	bool		ok = true;
	int			i;

	for (i = 0; i < n; i++)
		if (got[i] != want[i])
		{
			printf("#   %s[%d]: got %lld, want %lld\n", what, i,
				   (long long) got[i], (long long) want[i]);
			ok = false;
		}
	check(ok, what, name);
}

/* Per-class storage for ClassMetrics. */
typedef struct ClassBuffers
{
	double		precision[MAX_CLASS];
	double		recall[MAX_CLASS];
	double		f1[MAX_CLASS];
	double		auc[MAX_CLASS];
	int64		support[MAX_CLASS];
	int64		confusion[MAX_CLASS * MAX_CLASS];
} ClassBuffers;

static void
init_class(ClassMetrics *m, ClassBuffers *b, int nclass)
{
	m->nclass = nclass;
	m->precision = b->precision;
	m->recall = b->recall;
	m->f1 = b->f1;
	m->auc = b->auc;
	m->support = b->support;
	m->confusion = b->confusion;
}

static void
test_class_fixtures(void)
{
	size_t		i;

	for (i = 0; i < lengthof(class_cases); i++)
	{
		const ClassCase *c = &class_cases[i];
		ClassMetrics m;
		ClassBuffers b;
		MetricsSortItem *scratch = malloc(sizeof(MetricsSortItem) * c->n);

		init_class(&m, &b, c->nclass);
		classification_metrics(c->labels, c->probs, c->n, &m, scratch);
		free(scratch);

		check_double(m.accuracy, c->accuracy, "accuracy", c->name);
		check_double(m.log_loss, c->log_loss, "log_loss", c->name);
		check_double(m.roc_auc, c->roc_auc, "roc_auc", c->name);
		check_double(m.macro_precision, c->macro_precision,
					 "macro_precision", c->name);
		check_double(m.macro_recall, c->macro_recall, "macro_recall", c->name);
		check_double(m.macro_f1, c->macro_f1, "macro_f1", c->name);
		check_double(m.weighted_f1, c->weighted_f1, "weighted_f1", c->name);
		check_double(m.ece, c->ece, "ece", c->name);
		check_doubles(m.precision, c->precision, c->nclass, "precision",
					  c->name);
		check_doubles(m.recall, c->recall, c->nclass, "recall", c->name);
		check_doubles(m.f1, c->f1, c->nclass, "f1", c->name);
		check_doubles(m.auc, c->auc, c->nclass, "auc", c->name);
		check_int64s(m.support, c->support, c->nclass, "support", c->name);
		check_int64s(m.confusion, c->confusion, c->nclass * c->nclass,
					 "confusion", c->name);
	}
}

static void
test_regression_fixtures(void)
{
	size_t		i;

	for (i = 0; i < lengthof(regression_cases); i++)
	{
		const RegressionCase *c = &regression_cases[i];
		RegressionMetrics m;

		regression_metrics(c->labels, c->preds, c->n, &m);
		check_double(m.rmse, c->rmse, "rmse", c->name);
		check_double(m.mae, c->mae, "mae", c->name);
		check_double(m.r2, c->r2, "r2", c->name);
		check_double(m.mean_label, c->mean_label, "mean_label", c->name);
	}
}

static void
test_rank_fixtures(void)
{
	size_t		i;

	for (i = 0; i < lengthof(rank_cases); i++)
	{
		const RankCase *c = &rank_cases[i];
		MetricsSortItem *scratch;
		char		what[32];

		scratch = malloc(sizeof(MetricsSortItem) * c->group_ptr[c->ngroups]);
		snprintf(what, sizeof(what), "ndcg@%d", c->k);
		check_double(ndcg_at_k(c->labels, c->scores, c->group_ptr,
							   c->ngroups, c->k, scratch),
					 c->ndcg, what, c->name);
		snprintf(what, sizeof(what), "map@%d", c->k);
		check_double(map_at_k(c->labels, c->scores, c->group_ptr,
							  c->ngroups, c->k, scratch),
					 c->map, what, c->name);
		free(scratch);
	}
}

/* Cases small enough to check by hand. */
static void
test_by_hand(void)
{
	ClassMetrics m;
	ClassBuffers b;
	RegressionMetrics r;
	MetricsSortItem scratch[4];

	/*
	 * Positives score 0.5 and 0.8, negatives 0.5 and 0.2: the pairs win 1,
	 * 1, 1 and tie once, so AUC = 3.5 / 4.
	 */
	{
		const float labels[] = {0, 1, 0, 1};
		const float probs[] = {0.5f, 0.5f, 0.5f, 0.5f, 0.8f, 0.2f, 0.2f, 0.8f};

		init_class(&m, &b, 2);
		classification_metrics(labels, probs, 4, &m, scratch);
		check_double(m.roc_auc, 0.875, "auc with a tie", "hand");
		/* row 1 ties 0.5/0.5 and goes to class 0, the first maximum */
		check_double(m.accuracy, 0.75, "first maximum wins a tie", "hand");
	}

	/* Class 2 is present but never predicted: precision 0, not NaN. */
	{
		const float labels[] = {0, 1, 2};
		const float probs[] = {0.7f, 0.2f, 0.1f, 0.2f, 0.7f, 0.1f,
		0.45f, 0.35f, 0.2f};

		init_class(&m, &b, 3);
		classification_metrics(labels, probs, 3, &m, scratch);
		check_double(m.precision[2], 0.0, "precision of unpredicted class",
					 "hand");
		check_double(m.macro_precision, (0.5 + 1.0 + 0.0) / 3,
					 "macro precision with an unpredicted class", "hand");
		/* bin (0.6, 0.7]: confidences 0.7, 0.7, both hits; (0.4, 0.5]: 0.45, a miss */
		check_double(m.ece, (fabs(2.0 - 0.7f - 0.7f) + 0.45f) / 3, "ece", "hand");
	}

	/* A probability of 0 for the true class is clipped to 1e-15. */
	{
		const float labels[] = {1, 0};
		const float probs[] = {1.0f, 0.0f, 1.0f, 0.0f};

		init_class(&m, &b, 2);
		classification_metrics(labels, probs, 2, &m, scratch);
		check_double(m.log_loss, (-log(1e-15) - log(1.0 - 1e-15)) / 2,
					 "log loss clipping", "hand");
		check(m.auc[0] == 0.5,
			  "auc when every score ties", "hand");
	}

	/* Only one class present: AUC is undefined. */
	{
		const float labels[] = {1, 1};
		const float probs[] = {0.4f, 0.6f, 0.3f, 0.7f};

		init_class(&m, &b, 2);
		classification_metrics(labels, probs, 2, &m, scratch);
		check(isnan(m.roc_auc) && isnan(m.auc[0]), "auc NaN without negatives",
			  "hand");
	}

	{
		const float labels[] = {3, 3, 3};
		const float preds[] = {2, 3, 4};

		regression_metrics(labels, preds, 3, &r);
		check(isnan(r.r2) && close_to(r.rmse, sqrt(2.0 / 3)) &&
			  close_to(r.mean_label, 3.0), "r2 NaN for constant labels", "hand");
	}

	/*
	 * Tied scores keep input order: the relevant row second in its group
	 * ranks second, so DCG = 1 / log2(3) and AP = 1/2; first, both are 1.
	 * The third group has no relevant row and scores 1 for both.
	 */
	{
		const float labels[] = {0, 1, 1, 0, 0, 0};
		const float scores[] = {2, 2, 2, 2, 5, 1};
		const int64 ptr[] = {0, 2, 4, 6};

		check_double(ndcg_at_k(labels, scores, ptr, 1, 0, scratch),
					 1.0 / log2(3.0), "ndcg tie keeps input order", "hand");
		check_double(map_at_k(labels, scores, ptr, 1, 0, scratch), 0.5,
					 "map tie keeps input order", "hand");
		check_double(ndcg_at_k(labels, scores, ptr + 1, 1, 0, scratch), 1.0,
					 "ndcg relevant row first", "hand");
		check_double(ndcg_at_k(labels, scores, ptr + 2, 1, 1, scratch), 1.0,
					 "ndcg group without relevant rows is 1", "hand");
		check_double(map_at_k(labels, scores, ptr, 3, 1, scratch),
					 (0.0 + 1.0 + 1.0) / 3, "map@1 over three groups", "hand");
	}
}

/*
 * A model trained with eta NaN predicts NaN: the metrics must finish (an
 * alarm turns the endless loop of old into a failure), AUC is NaN, and
 * the ranking metrics still rank the numbers, NaN last.
 */
static void
test_nan_predictions(void)
{
	ClassMetrics m;
	ClassBuffers b;
	MetricsSortItem scratch[4];
	const float labels[] = {0, 1, 0, 1};
	const float probs[] = {NAN, NAN, 0.5f, 0.5f, NAN, NAN, 0.2f, 0.8f};
	const float grades[] = {1, 0, 0};
	const float scores[] = {NAN, 2, 1};
	const int64 ptr[] = {0, 3};

	alarm(10);
	init_class(&m, &b, 2);
	classification_metrics(labels, probs, 4, &m, scratch);
	check(isnan(m.auc[0]) && isnan(m.auc[1]) && isnan(m.roc_auc),
		  "auc NaN when some probabilities are NaN", "nan");
	check(m.support[0] == 2 && m.support[1] == 2, "support counted", "nan");

	/* the relevant row scored NaN ranks last: AP 1/3, DCG 1/log2(4) */
	check_double(map_at_k(grades, scores, ptr, 1, 0, scratch), 1.0 / 3,
				 "map ranks NaN last", "nan");
	check_double(ndcg_at_k(grades, scores, ptr, 1, 0, scratch), 0.5,
				 "ndcg ranks NaN last", "nan");
	alarm(0);
}

/*
 * 200,000 rows, the size of a large test set, including one all-tied
 * column: must finish in well under a second if nothing is quadratic.
 */
static void
test_large(void)
{
	int64		n = 200000;
	float	   *labels = malloc(sizeof(float) * n);
	float	   *probs = malloc(sizeof(float) * n * 3);
	int64	   *ptr = malloc(sizeof(int64) * (n / 10 + 1));
	MetricsSortItem *scratch = malloc(sizeof(MetricsSortItem) * n);
	ClassMetrics m;
	ClassBuffers b;
	clock_t		start = clock();
	double		seconds;
	double		ndcg;
	int64		i;

	for (i = 0; i < n; i++)
	{
		labels[i] = (float) (i % 3);
		probs[i * 3] = (float) ((i * 7919) % 1000) / 1000.0f;
		probs[i * 3 + 1] = 0.25f;
		probs[i * 3 + 2] = 1.0f - probs[i * 3] - 0.25f;
	}
	for (i = 0; i <= n / 10; i++)
		ptr[i] = i * 10;

	init_class(&m, &b, 3);
	classification_metrics(labels, probs, n, &m, scratch);
	ndcg = ndcg_at_k(labels, probs, ptr, n / 10, 5, scratch);
	ndcg += ndcg_at_k(labels, probs, ptr, 1, 0, scratch);
	seconds = (double) (clock() - start) / CLOCKS_PER_SEC;

	/* no time limit asserted: machines are noisy; the time is reported */
	check(m.auc[1] == 0.5 && m.support[0] + m.support[1] + m.support[2] == n
		  && ndcg > 0.0, "200000 rows complete", "large");
	printf("#   %.3f s\n", seconds);
	free(labels);
	free(probs);
	free(ptr);
	free(scratch);
}

/*
 * Which way each metric improves, for learnloop's names and XGBoost's
 * evaluation names alike (early stopping, candidates and the deployment
 * gate all ask metric_higher_is_better).
 */
static void
test_direction(void)
{
	static const char *const higher[] = {
		"accuracy", "roc_auc", "macro_precision", "macro_recall", "macro_f1",
		"weighted_f1", "r2", "ndcg@10", "map@5", "auc", "aucpr", "pre@5",
		"ndcg", "ndcg@3-", "map-"
	};
	static const char *const lower[] = {
		"rmse", "mae", "log_loss", "ece", "logloss", "mlogloss", "error",
		"merror", "mape", "rmsle", "poisson-nloglik", "error@0.7", "", "aucx"
	};

	for (int i = 0; i < lengthof(higher); i++)
		check(metric_higher_is_better(higher[i]), "is higher-is-better", higher[i]);
	for (int i = 0; i < lengthof(lower); i++)
		check(!metric_higher_is_better(lower[i]), "is lower-is-better", lower[i]);
}

int
main(void)
{
	test_direction();
	test_class_fixtures();
	test_regression_fixtures();
	test_rank_fixtures();
	test_by_hand();
	test_nan_predictions();
	test_large();
	return tap_finish();
}
