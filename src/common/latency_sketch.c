/*-------------------------------------------------------------------------
 *
 * latency_sketch.c
 *	  The DDSketch-style latency histogram of latency_sketch.h.
 *
 * The bucket of a value is found without a logarithm and without a loop:
 * the value's leading bit and the CELL_BITS bits after it name a "cell" of
 * relative width at most 2^-CELL_BITS = 1/64, narrower than a bucket
 * (GAMMA - 1 = 0.0202), so a cell meets at most two buckets; a table gives
 * the bucket of the cell's first value, and one comparison with that
 * bucket's upper bound decides between it and the next.  The bounds are
 * integers (floor of L * GAMMA^i): for integer nanoseconds, x <= bound is
 * the same test as x <= L * GAMMA^i, so the integer table is the exact
 * definition of the buckets.
 *
 * The tables are the same in every process and cost about 20 microseconds
 * to build, so each process builds its own on first use rather than
 * placing them in shared memory.
 *
 * Reference: Masson, Rim, Lee, "DDSketch: A Fast and Fully-Mergeable
 * Quantile Sketch with Relative-Error Guarantees", VLDB 2019.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "common/latency_sketch.h"
#include "port/pg_bitutils.h"

#define GAMMA		((1.0 + LATENCY_SKETCH_ALPHA) / (1.0 - LATENCY_SKETCH_ALPHA))
#define LOWEST_NS	1000.0		/* upper bound of bucket 0: 1 microsecond */

/* cells: the leading bit's position and the next CELL_BITS bits */
#define CELL_BITS	6
#define EXP_MIN		9			/* 2^9 <= 981 ns, the range's first value */
#define EXP_MAX		36			/* 2^36 <= 102.01 s < 2^37 */
#define NCELLS		((EXP_MAX - EXP_MIN + 1) << CELL_BITS)

/* 1-2.5-5 from 10 us to 10 s */
const double latency_sketch_default_le[LATENCY_SKETCH_DEFAULT_NLE] = {
	0.00001, 0.000025, 0.00005,
	0.0001, 0.00025, 0.0005,
	0.001, 0.0025, 0.005,
	0.01, 0.025, 0.05,
	0.1, 0.25, 0.5,
	1.0, 2.5, 5.0,
	10.0
};

static bool tables_ready = false;
static uint64 upper_ns[LATENCY_SKETCH_NBUCKETS];	/* floor(L * GAMMA^i) */
static double value_ns[LATENCY_SKETCH_NBUCKETS];	/* a bucket's estimate */
static uint64 range_min_ns;		/* the first value of bucket 0's range */
static uint16 cell_bucket[NCELLS];

/* The smallest bucket whose upper bound is >= ns, by bisection: setup only. */
static int
bucket_by_search(uint64 ns)
{
	int			lo = 0;
	int			hi = LATENCY_SKETCH_NBUCKETS - 1;

	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (ns <= upper_ns[mid])
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

static void
build_tables(void)
{
	int			i;

	for (i = 0; i < LATENCY_SKETCH_NBUCKETS; i++)
	{
		/*
		 * In long double: 1000 * GAMMA^i comes within 1.4e-14 (relative) of
		 * an integer at i = 843 and 844, closer than GAMMA's own rounding to
		 * double raised to the 843rd power, which put the floor one off.
		 * Where long double is only a double, the unit test's bounds from
		 * exact arithmetic would fail.
		 */
		long double upper = 1000.0L * powl((1.0L + LATENCY_SKETCH_ALPHA) /
										   (1.0L - LATENCY_SKETCH_ALPHA), i);

		upper_ns[i] = (uint64) floorl(upper);

		/*
		 * DDSketch's estimate 2 * upper / (GAMMA + 1) is within ALPHA of
		 * every value of (upper / GAMMA, upper].
		 */
		value_ns[i] = 2.0 * (double) upper / (GAMMA + 1.0);
	}
	range_min_ns = (uint64) floor(LOWEST_NS / GAMMA) + 1;

	for (i = 0; i < NCELLS; i++)
	{
		int			lead = EXP_MIN + (i >> CELL_BITS);
		uint64		first = ((uint64) 1 << lead) |
			((uint64) (i & ((1 << CELL_BITS) - 1)) << (lead - CELL_BITS));

		cell_bucket[i] = (uint16) bucket_by_search(first);
	}
	tables_ready = true;
}

static inline void
ensure_tables(void)
{
	if (unlikely(!tables_ready))
		build_tables();
}

/*
 * The bucket of a value in nanoseconds; a value outside the range goes to
 * the end bucket on its side.  This is what the hot path pays: two
 * comparisons, a bit scan, a table load and one more comparison.
 */
int
latency_sketch_bucket(uint64 ns)
{
	int			lead;
	int			bucket;

	ensure_tables();
	if (ns < range_min_ns)
		return 0;
	if (ns > upper_ns[LATENCY_SKETCH_NBUCKETS - 1])
		return LATENCY_SKETCH_NBUCKETS - 1;
	lead = pg_leftmost_one_pos64(ns);
	bucket = cell_bucket[((lead - EXP_MIN) << CELL_BITS) |
						 (int) ((ns >> (lead - CELL_BITS)) & ((1 << CELL_BITS) - 1))];
	return bucket + (ns > upper_ns[bucket]);
}

/* Empties a sketch; also how a new one is initialised. */
void
latency_sketch_reset(LatencySketch *sketch)
{
	memset(sketch, 0, sizeof(LatencySketch));
	sketch->min_ns = PG_UINT64_MAX;
}

void
latency_sketch_insert(LatencySketch *sketch, uint64 ns)
{
	latency_sketch_insert_n(sketch, ns, 1);
}

/*
 * Adds a value n times: a timed call that stands for the untimed calls
 * around it (serving_stats.c times a sample of calls).  min and max are
 * the value's, as for one insertion.
 */
void
latency_sketch_insert_n(LatencySketch *sketch, uint64 ns, uint64 n)
{
	sketch->buckets[latency_sketch_bucket(ns)] += n;
	sketch->count += n;
	sketch->sum_ns += ns * n;
	if (ns < sketch->min_ns)
		sketch->min_ns = ns;
	if (ns > sketch->max_ns)
		sketch->max_ns = ns;
	if (ns < range_min_ns)
		sketch->clamped_low += n;
	else if (ns > upper_ns[LATENCY_SKETCH_NBUCKETS - 1])
		sketch->clamped_high += n;
}

/* Adds src into dst: the result is the sketch of both samples together. */
void
latency_sketch_merge(LatencySketch *dst, const LatencySketch *src)
{
	int			i;

	for (i = 0; i < LATENCY_SKETCH_NBUCKETS; i++)
		dst->buckets[i] += src->buckets[i];
	dst->count += src->count;
	dst->sum_ns += src->sum_ns;
	dst->min_ns = Min(dst->min_ns, src->min_ns);
	dst->max_ns = Max(dst->max_ns, src->max_ns);
	dst->clamped_low += src->clamped_low;
	dst->clamped_high += src->clamped_high;
}

/*
 * The q-quantile in seconds: an estimate of the value at 0-based position
 * floor(q * (n - 1)) of the sorted sample, within ALPHA of it (relative)
 * when that value is in the range.  q = 0 and q = 1 give the exact min and
 * max, and no estimate leaves [min, max], which can only bring it closer.
 * NaN when the sketch is empty or q is not in [0, 1]: the SQL layer
 * checks q and raises the error.
 *
 * n is the buckets' total rather than count, so that a copy read without
 * the lock, with counters from slightly different moments, still gives an
 * estimate from its own buckets.
 */
double
latency_sketch_quantile(const LatencySketch *sketch, double q)
{
	uint64		total = 0;
	uint64		rank;
	uint64		seen = 0;
	double		estimate;
	int			i;

	ensure_tables();
	if (!(q >= 0.0 && q <= 1.0))
		return NAN;
	for (i = 0; i < LATENCY_SKETCH_NBUCKETS; i++)
		total += sketch->buckets[i];
	if (total == 0)
		return NAN;
	if (q == 0.0)
		return sketch->min_ns / 1e9;
	if (q == 1.0)
		return sketch->max_ns / 1e9;

	rank = (uint64) floor(q * (double) (total - 1));
	for (i = 0; i < LATENCY_SKETCH_NBUCKETS - 1; i++)
	{
		seen += sketch->buckets[i];
		if (seen > rank)
			break;
	}
	estimate = value_ns[i];
	estimate = Max(estimate, (double) sketch->min_ns);
	estimate = Min(estimate, (double) sketch->max_ns);
	return estimate / 1e9;
}

/*
 * counts[k] = the number of values <= le[k] seconds, as Prometheus's
 * cumulative `_bucket{le="..."}` counts, where each value stands for its
 * bucket's estimate (the one quantile() reports): a bucket counts below le
 * when its estimate is <= le.  When le is a bucket's upper bound, that is
 * exactly the number of values <= le.  When le falls inside a bucket, the
 * count is off by at most that one bucket, and it is the exact count at
 * some bound le' with le / (1 + ALPHA) < le' <= le / (1 - ALPHA): the
 * bound is blurred by at most 1 %, as the quantiles are.  Nondecreasing in
 * le; the +Inf bucket is count.
 */
void
latency_sketch_cumulative(const LatencySketch *sketch, const double *le,
						  int nle, uint64 *counts)
{
	int			k;

	ensure_tables();
	for (k = 0; k < nle; k++)
	{
		double		le_ns = le[k] * 1e9;
		uint64		below = 0;
		int			i;

		for (i = 0; i < LATENCY_SKETCH_NBUCKETS && value_ns[i] <= le_ns; i++)
			below += sketch->buckets[i];
		counts[k] = below;
	}
}

/* Prometheus's `_sum`, in seconds. */
double
latency_sketch_sum_seconds(const LatencySketch *sketch)
{
	return sketch->sum_ns / 1e9;
}

/*
 * The largest value of a bucket, in nanoseconds (bucket i holds the values
 * in (upper(i - 1), upper(i)]): for a view that lists the buckets, and for
 * the tests.
 */
uint64
latency_sketch_bucket_upper_ns(int bucket)
{
	ensure_tables();
	return upper_ns[bucket];
}
