/*
 * Baseline for bench/predict.sh: XGBoost's own prediction of the same rows
 * through its C API, single-row inplace prediction (what a per-request
 * service pays) and batch prediction of all rows from memory.
 *
 *   xgb_predict_baseline MODEL.ubj ROWS.f32 NROWS NFEATURES THREADS
 *
 * Prints: single_row_us=<µs per row> batch_us=<µs per row>
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <xgboost/c_api.h>

#define CHECK(call) do { if ((call) != 0) { fprintf(stderr, "%s: %s\n", #call, XGBGetLastError()); exit(1); } } while (0)

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	BoosterHandle booster;
	DMatrixHandle dm;
	FILE	   *f;
	long		n = atol(argv[3]);
	int			nf = atoi(argv[4]);
	const char *threads = argv[5];
	float	   *rows = malloc(sizeof(float) * n * nf);
	char	   *model;
	long		size;
	const bst_ulong *shape;
	bst_ulong	dim;
	const float *out;
	char		array[256];
	double		sum = 0,
				t0;
	long		single = n < 100000 ? n : 100000;

	f = fopen(argv[1], "rb");
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	rewind(f);
	model = malloc(size);
	if (fread(model, 1, size, f) != (size_t) size)
		return 1;
	fclose(f);
	f = fopen(argv[2], "rb");
	if (fread(rows, sizeof(float), n * nf, f) != (size_t) (n * nf))
		return 1;
	fclose(f);

	CHECK(XGBoosterCreate(NULL, 0, &booster));
	CHECK(XGBoosterLoadModelFromBuffer(booster, model, size));
	CHECK(XGBoosterSetParam(booster, "nthread", "1"));

	/* one row per call, as a service answering requests does */
	t0 = now();
	for (long i = 0; i < single; i++)
	{
		snprintf(array, sizeof(array),
				 "{\"data\": [%lu, true], \"shape\": [1, %d], \"typestr\": \"<f4\", \"version\": 3}",
				 (unsigned long) (uintptr_t) (rows + i * nf), nf);
		CHECK(XGBoosterPredictFromDense(booster, array,
										"{\"type\": 0, \"training\": false, \"iteration_begin\": 0, "
										"\"iteration_end\": 0, \"strict_shape\": false, \"missing\": NaN, \"cache_id\": 0}",
										NULL, &shape, &dim, &out));
		sum += out[0];
	}
	printf("single_row_us=%.3f ", (now() - t0) / single * 1e6);

	/* every row at once, from memory, with the given threads */
	CHECK(XGBoosterSetParam(booster, "nthread", threads));
	t0 = now();
	CHECK(XGDMatrixCreateFromMat_omp(rows, n, nf, NAN, &dm, atoi(threads)));
	CHECK(XGBoosterPredictFromDMatrix(booster, dm,
									  "{\"type\": 0, \"training\": false, \"iteration_begin\": 0, "
									  "\"iteration_end\": 0, \"strict_shape\": false}",
									  &shape, &dim, &out));
	for (long i = 0; i < n; i++)
		sum += out[i];
	printf("batch_us=%.4f checksum=%.3f\n", (now() - t0) / n * 1e6, sum);
	XGDMatrixFree(dm);
	XGBoosterFree(booster);
	return 0;
}
