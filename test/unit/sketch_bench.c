/*
 * Micro-benchmark of the latency sketch's hot path (src/common/
 * latency_sketch.c): the bucket of a value alone, a whole insert, and for
 * comparison the same bucket by a libm logarithm and the clock reads that
 * the caller pays to measure a latency at all (two clock_gettime calls,
 * as INSTR_TIME_SET_CURRENT does on Linux).  Values are lognormal
 * latencies around 200 us, 4,096 of them cycled so that they stay in the
 * L1 cache as one call's value would.  Prints the best of REPS repetitions
 * of 20 million operations each; reports times only: the machine may be
 * shared.
 *
 *   sketch_bench [REPS]
 */
#include "postgres.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "common/latency_sketch.h"
#include "common/prng.h"

#define NVALUES		4096
#define NOPS		20000000

static uint64 values[NVALUES];

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* the mapping by logarithm, as a plain DDSketch would compute it */
static int
bucket_by_log(uint64 ns)
{
	static const double inv_log_gamma = 1.0 / 0.020000666706669;	/* 1 / ln(101/99) */
	double		i = ceil(log(ns / 1000.0) * inv_log_gamma);

	return i < 0 ? 0 : (i > LATENCY_SKETCH_NBUCKETS - 1 ? LATENCY_SKETCH_NBUCKETS - 1 : (int) i);
}

int
main(int argc, char **argv)
{
	int			reps = argc > 1 ? atoi(argv[1]) : 5;
	double		best[4] = {INFINITY, INFINITY, INFINITY, INFINITY};
	static const char *const names[4] = {
		"latency_sketch_bucket", "latency_sketch_insert",
		"bucket by log()", "two clock_gettime"
	};
	LatencySketch *sketch = malloc(sizeof(LatencySketch));
	volatile int64 sink = 0;
	Prng		prng;
	int			r;
	int			i;

	prng_seed(&prng, 11, "bench", 5);
	for (i = 0; i < NVALUES; i++)
		values[i] = (uint64) llround(exp(prng_normal(&prng, log(200000.0), 1.0)));
	latency_sketch_reset(sketch);
	latency_sketch_insert(sketch, values[0]);	/* builds the tables */

	for (r = 0; r < reps; r++)
	{
		double		t0;
		int64		acc = 0;
		struct timespec ts;

		t0 = now_ns();
		for (i = 0; i < NOPS; i++)
			acc += latency_sketch_bucket(values[i & (NVALUES - 1)]);
		best[0] = Min(best[0], (now_ns() - t0) / NOPS);

		t0 = now_ns();
		for (i = 0; i < NOPS; i++)
			latency_sketch_insert(sketch, values[i & (NVALUES - 1)]);
		best[1] = Min(best[1], (now_ns() - t0) / NOPS);

		t0 = now_ns();
		for (i = 0; i < NOPS; i++)
			acc += bucket_by_log(values[i & (NVALUES - 1)]);
		best[2] = Min(best[2], (now_ns() - t0) / NOPS);

		t0 = now_ns();
		for (i = 0; i < NOPS / 10; i++)
		{
			clock_gettime(CLOCK_MONOTONIC, &ts);
			acc += ts.tv_nsec;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			acc -= ts.tv_nsec;
		}
		best[3] = Min(best[3], (now_ns() - t0) / (NOPS / 10));
		sink += acc;
	}
	for (i = 0; i < 4; i++)
		printf("%-24s %6.2f ns\n", names[i], best[i]);
	printf("(sketch count %llu, checksum %lld)\n",
		   (unsigned long long) sketch->count, (long long) sink);
	free(sketch);
	return 0;
}
