/*
 * Micro-benchmark of the native tree evaluator against XGBoost's batch
 * prediction, on data shaped like bench/predict.sh's: trains 100 rounds of
 * depth 6 over 20 features on 200,000 rows, then predicts 1,000,000 rows
 * one at a time with forest_predict and all at once with XGBoost
 * (XGDMatrixCreateFromMat_omp and XGBoosterPredictFromDMatrix, one
 * thread), alternating the two for several repetitions after a warm-up.  Reports times
 * only: the machine may be shared.
 *
 *   forest_bench [REPS]
 */
#include "postgres.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <xgboost/c_api.h>

#include "model/forest.h"

#define NFEATURES	20
#define TRAIN_ROWS	200000
#define TEST_ROWS	1000000

static void
xgb_check(int rc, const char *what)
{
	if (rc != 0)
	{
		fprintf(stderr, "%s: %s\n", what, XGBGetLastError());
		exit(1);
	}
}

static void *
bench_alloc(void *arg, size_t size)
{
	void	   *p = malloc(size);

	if (p == NULL)
		abort();
	return p;
}

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static double
frac(double x)
{
	return x - floor(x);
}

/* bench/predict.sh's columns: f_k = (i * 0.DDDD6180339887) % 1 */
static void
make_rows(long first, long nrows, float *x)
{
	double		c[NFEATURES];
	long		i;
	int			k;

	for (k = 0; k < NFEATURES; k++)
	{
		char		buf[32];

		snprintf(buf, sizeof(buf), "0.%04d6180339887", (k + 1) * 613 % 9973);
		c[k] = strtod(buf, NULL);
	}
	for (i = 0; i < nrows; i++)
		for (k = 0; k < NFEATURES; k++)
			x[i * NFEATURES + k] = (float) frac((first + i) * c[k]);
}

static BoosterHandle
train(void)
{
	float	   *x = malloc(sizeof(float) * TRAIN_ROWS * NFEATURES);
	float	   *y = malloc(sizeof(float) * TRAIN_ROWS);
	DMatrixHandle dm;
	BoosterHandle booster;
	long		i;

	make_rows(1, TRAIN_ROWS, x);
	for (i = 0; i < TRAIN_ROWS; i++)
	{
		long		r = i + 1;

		y[i] = (frac(r * 0.06180339887) + frac(r * 0.04142135623) > 1.0) !=
			(frac(r * 0.07320508075) > 0.9);
	}
	xgb_check(XGDMatrixCreateFromMat_omp(x, TRAIN_ROWS, NFEATURES, NAN, &dm, 2),
			  "XGDMatrixCreateFromMat_omp");
	xgb_check(XGDMatrixSetFloatInfo(dm, "label", y, TRAIN_ROWS),
			  "XGDMatrixSetFloatInfo");
	xgb_check(XGBoosterCreate(&dm, 1, &booster), "XGBoosterCreate");
	xgb_check(XGBoosterSetParam(booster, "nthread", "2"), "nthread");
	xgb_check(XGBoosterSetParam(booster, "seed", "7"), "seed");
	xgb_check(XGBoosterSetParam(booster, "objective", "binary:logistic"),
			  "objective");
	xgb_check(XGBoosterSetParam(booster, "tree_method", "hist"), "tree_method");
	xgb_check(XGBoosterSetParam(booster, "max_depth", "6"), "max_depth");
	for (i = 0; i < 100; i++)
		xgb_check(XGBoosterUpdateOneIter(booster, i, dm), "update");
	xgb_check(XGDMatrixFree(dm), "XGDMatrixFree");
	free(x);
	free(y);
	return booster;
}

static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	int			reps = argc > 1 ? atoi(argv[1]) : 5;
	BoosterHandle booster = train();
	float	   *x = malloc(sizeof(float) * TEST_ROWS * NFEATURES);
	double	   *native = malloc(sizeof(double) * TEST_ROWS);
	double	   *native_ns = malloc(sizeof(double) * reps);
	double	   *xgb_ns = malloc(sizeof(double) * reps);
	double		worst = 0.0;
	bst_ulong	len;
	const char *json;
	const char *reason;
	bool		invalid;
	Forest	   *f;
	long		i;
	int			r;

	xgb_check(XGBoosterSaveModelToBuffer(booster, "{\"format\": \"json\"}",
										 &len, &json),
			  "XGBoosterSaveModelToBuffer");
	f = forest_compile(json, len, bench_alloc, NULL, &reason, &invalid, NULL);
	if (f == NULL)
	{
		fprintf(stderr, "forest_compile: %s\n", reason);
		return 1;
	}
	xgb_check(XGBoosterSetParam(booster, "nthread", "1"), "nthread");
	make_rows(1, TEST_ROWS, x);

	/* untimed: faults the output pages in and warms the caches */
	for (i = 0; i < TEST_ROWS; i++)
		forest_predict(f, x + i * NFEATURES, &native[i]);

	for (r = 0; r < reps; r++)
	{
		DMatrixHandle dm;
		const bst_ulong *shape;
		bst_ulong	dim;
		const float *out;
		double		t0;

		t0 = now_ns();
		for (i = 0; i < TEST_ROWS; i++)
			forest_predict(f, x + i * NFEATURES, &native[i]);
		native_ns[r] = (now_ns() - t0) / TEST_ROWS;

		/* as bench/xgb_predict_baseline.c: the DMatrix is part of the cost */
		t0 = now_ns();
		xgb_check(XGDMatrixCreateFromMat_omp(x, TEST_ROWS, NFEATURES, NAN,
											 &dm, 1),
				  "XGDMatrixCreateFromMat_omp");
		xgb_check(XGBoosterPredictFromDMatrix(booster, dm,
											  "{\"type\": 0, \"training\": false, "
											  "\"iteration_begin\": 0, \"iteration_end\": 0, "
											  "\"strict_shape\": false}",
											  &shape, &dim, &out),
				  "XGBoosterPredictFromDMatrix");
		xgb_ns[r] = (now_ns() - t0) / TEST_ROWS;

		for (i = 0; i < TEST_ROWS; i++)
			worst = Max(worst, fabs(native[i] - out[i]));
		xgb_check(XGDMatrixFree(dm), "XGDMatrixFree");
		printf("rep %d: forest_predict %.1f ns/row, XGBoost batch %.1f ns/row, "
			   "ratio %.3f\n", r + 1, native_ns[r], xgb_ns[r],
			   native_ns[r] / xgb_ns[r]);
	}
	qsort(native_ns, reps, sizeof(double), cmp_double);
	qsort(xgb_ns, reps, sizeof(double), cmp_double);
	printf("forest_predict: %.1f .. %.1f ns/row (median %.1f)\n",
		   native_ns[0], native_ns[reps - 1], native_ns[reps / 2]);
	printf("XGBoost batch, 1 thread: %.1f .. %.1f ns/row (median %.1f)\n",
		   xgb_ns[0], xgb_ns[reps - 1], xgb_ns[reps / 2]);
	printf("ratio forest / XGBoost of medians: %.3f; max |diff| %.3g\n",
		   native_ns[reps / 2] / xgb_ns[reps / 2], worst);
	return 0;
}
