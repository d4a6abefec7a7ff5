/*-------------------------------------------------------------------------
 *
 * sketch_test.c
 *	  Standalone TAP test of src/common/latency_sketch.c.  The references
 *	  are computed here independently of the sketch: bucket indexes from
 *	  long-double logarithms, quantiles and `le` counts from the sorted
 *	  sample itself.  Samples come from the seeded generator of
 *	  src/common/prng.c, so every run checks the same values.  Exits
 *	  non-zero when any check fails.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/latency_sketch.h"
#include "common/prng.h"
#include "tap.h"

#define N			LATENCY_SKETCH_NBUCKETS
#define NSAMPLE		100000
/* the guarantee is ALPHA; the margin covers rounding only */
#define MAX_REL		(LATENCY_SKETCH_ALPHA * (1.0 + 1e-9))

static const long double gamma_ref = 101.0L / 99.0L;	/* (1 + 0.01) / (1 - 0.01) */


static void
check(bool ok, const char *what)
{
	tap_line(ok);
	printf("%s\n", what);
}

/* Bucket i holds (1000 GAMMA^(i-1), 1000 GAMMA^i] ns, clamped at the ends. */
static int
ref_bucket(uint64 ns)
{
	long double i;

	if ((long double) ns <= 1000.0L / gamma_ref)
		return 0;
	i = ceill(logl((long double) ns / 1000.0L) / logl(gamma_ref));
	return i > N - 1 ? N - 1 : (int) i;
}

static int
cmp_uint64(const void *a, const void *b)
{
	uint64		x = *(const uint64 *) a;
	uint64		y = *(const uint64 *) b;

	return x < y ? -1 : x > y;
}

/* values <= bound ns in a sorted sample */
static uint64
count_upto(const uint64 *sorted, int n, long double bound)
{
	int			lo = 0;
	int			hi = n;

	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if ((long double) sorted[mid] <= bound)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void
test_layout(void)
{
	/* floor(1000 * (101/99)^i) in exact rational arithmetic (Python fractions) */
	static const struct
	{
		int			bucket;
		uint64		upper;
	}			known[] = {
		{1, 1020}, {100, 7389}, {500, 22033809},
		{843, UINT64CONST(21011112738)}, {844, UINT64CONST(21435579662)},
		{922, UINT64CONST(102013396774)}
	};
	bool		ok = true;
	int			i;

	for (i = 0; i < lengthof(known); i++)
		if (latency_sketch_bucket_upper_ns(known[i].bucket) != known[i].upper)
		{
			printf("#   upper(%d) = %llu, want %llu\n", known[i].bucket,
				   (unsigned long long) latency_sketch_bucket_upper_ns(known[i].bucket),
				   (unsigned long long) known[i].upper);
			ok = false;
		}
	check(ok, "upper bounds of buckets 1, 100, 500, 843, 844 (1.4e-14 from an integer), 922");
	check(latency_sketch_bucket_upper_ns(0) == 1000,
		  "bucket 0 ends at 1 microsecond");
	check(latency_sketch_bucket_upper_ns(N - 2) < UINT64CONST(100000000000) &&
		  latency_sketch_bucket_upper_ns(N - 1) >= UINT64CONST(100000000000),
		  "the last bucket is the first to reach 100 s");
	check(sizeof(LatencySketch) == (6 + N) * sizeof(uint64),
		  "the struct is flat: six counters and the buckets");
	printf("# sizeof(LatencySketch) = %zu bytes, %d buckets, range 981 ns .. %.5f s\n",
		   sizeof(LatencySketch), N,
		   latency_sketch_bucket_upper_ns(N - 1) / 1e9);
}

/* the fast mapping against the logarithm, on every value that could differ */
static void
test_bucket_index(void)
{
	uint64		bad = 0;
	uint64		first_bad = 0;
	uint64		x;
	int			i;
	Prng		prng;

#define TRY(v) \
	do { \
		uint64 v_ = (v); \
		if (latency_sketch_bucket(v_) != ref_bucket(v_)) \
		{ \
			if (bad++ == 0) \
				first_bad = v_; \
		} \
	} while (0)

	/* every integer up to 3 ms: the narrow buckets, all cells of 9..21 bits */
	for (x = 0; x <= 3000000; x++)
		TRY(x);
	/* both sides of every bound */
	for (i = 0; i < N; i++)
	{
		uint64		u = latency_sketch_bucket_upper_ns(i);

		for (x = u - 2; x <= u + 2; x++)
			TRY(x);
	}
	/* log-uniform up to 1000 s, and the ends */
	prng_seed(&prng, 11, "index", 5);
	for (i = 0; i < 1000000; i++)
		TRY((uint64) exp(prng_uniform(&prng) * log(1e12)));
	TRY(PG_UINT64_MAX);
	TRY(PG_UINT64_MAX / 3);
#undef TRY
	check(bad == 0, "the bucket of 4 million values equals ceil(log_GAMMA(ns / 1000))");
	if (bad != 0)
		printf("#   %llu differ, first %llu: bucket %d, want %d\n",
			   (unsigned long long) bad, (unsigned long long) first_bad,
			   latency_sketch_bucket(first_bad), ref_bucket(first_bad));
}

static void
test_empty(void)
{
	LatencySketch s;
	uint64		counts[LATENCY_SKETCH_DEFAULT_NLE];
	bool		zero = true;
	int			k;

	latency_sketch_reset(&s);
	check(isnan(latency_sketch_quantile(&s, 0.0)) &&
		  isnan(latency_sketch_quantile(&s, 0.5)) &&
		  isnan(latency_sketch_quantile(&s, 1.0)),
		  "empty: every quantile is NaN");
	latency_sketch_cumulative(&s, latency_sketch_default_le,
							  LATENCY_SKETCH_DEFAULT_NLE, counts);
	for (k = 0; k < LATENCY_SKETCH_DEFAULT_NLE; k++)
		zero = zero && counts[k] == 0;
	check(zero && s.count == 0 && latency_sketch_sum_seconds(&s) == 0.0,
		  "empty: no count, zero sum, every le count 0");
	check(s.min_ns == PG_UINT64_MAX && s.max_ns == 0, "empty: min and max unset");
}

static void
test_bad_q(void)
{
	LatencySketch s;

	latency_sketch_reset(&s);
	latency_sketch_insert(&s, 5000);
	check(isnan(latency_sketch_quantile(&s, -0.01)) &&
		  isnan(latency_sketch_quantile(&s, 1.01)) &&
		  isnan(latency_sketch_quantile(&s, NAN)),
		  "q outside [0, 1] or NaN gives NaN");
}

static void
test_single(void)
{
	LatencySketch s;
	static const double qs[] = {0.0, 0.01, 0.5, 0.99, 1.0};
	bool		ok = true;
	int			k;

	latency_sketch_reset(&s);
	latency_sketch_insert(&s, 123457);
	for (k = 0; k < lengthof(qs); k++)
		ok = ok && latency_sketch_quantile(&s, qs[k]) == 123457 / 1e9;
	check(ok, "single value: every quantile is the value itself");
	check(s.count == 1 && s.sum_ns == 123457 && s.min_ns == 123457 &&
		  s.max_ns == 123457 && s.buckets[ref_bucket(123457)] == 1,
		  "single value: count, sum, min, max, its bucket");
}

/* inserting a value n times at once is inserting it n times, clamped or not */
static void
test_insert_n(void)
{
	static const uint64 values[] = {500, 981, 5000, 123457, 90000000000, 200000000000};
	bool		ok = true;
	int			k;

	for (k = 0; k < lengthof(values); k++)
	{
		LatencySketch once,
					each;
		int			i;

		latency_sketch_reset(&once);
		latency_sketch_reset(&each);
		latency_sketch_insert(&once, 7000);
		latency_sketch_insert(&each, 7000);
		latency_sketch_insert_n(&once, values[k], 5);
		for (i = 0; i < 5; i++)
			latency_sketch_insert(&each, values[k]);
		ok = ok && memcmp(&once, &each, sizeof(LatencySketch)) == 0;
	}
	check(ok, "insert_n(v, 5) equals five inserts of v, in range and clamped on either side");
}

static void
test_clamping(void)
{
	LatencySketch s;
	static const uint64 low[] = {0, 1, 500, 980};
	uint64		top = latency_sketch_bucket_upper_ns(N - 1);
	uint64		high[3];
	uint64		sum = 0;
	uint64		counts[2];
	static const double le[] = {0.000001, 10.0};
	int			i;

	high[0] = top + 1;
	high[1] = UINT64CONST(200000000000);	/* 200 s */
	high[2] = UINT64CONST(1000000000000000);	/* 11.6 days */

	latency_sketch_reset(&s);
	for (i = 0; i < lengthof(low); i++)
	{
		latency_sketch_insert(&s, low[i]);
		sum += low[i];
	}
	latency_sketch_insert(&s, 981);
	latency_sketch_insert(&s, top);
	sum += 981 + top;
	for (i = 0; i < lengthof(high); i++)
	{
		latency_sketch_insert(&s, high[i]);
		sum += high[i];
	}
	check(latency_sketch_bucket(0) == 0 && latency_sketch_bucket(981) == 0 &&
		  latency_sketch_bucket(PG_UINT64_MAX) == N - 1 &&
		  latency_sketch_bucket(top) == N - 1,
		  "clamping: the ends map to the end buckets");
	check(s.clamped_low == 4 && s.clamped_high == 3,
		  "clamping: 0, 1, 500, 980 ns counted low; above 102.01 s counted high; 981 ns and the top bound not");
	check(s.buckets[0] == 5 && s.buckets[N - 1] == 4 && s.count == 9,
		  "clamping: the clamped values are in the end buckets");
	check(s.sum_ns == sum && s.min_ns == 0 && s.max_ns == high[2],
		  "clamping: sum, min and max stay exact");
	check(latency_sketch_quantile(&s, 0.0) == 0.0 &&
		  latency_sketch_quantile(&s, 1.0) == high[2] / 1e9,
		  "clamping: q = 0 and q = 1 are the exact min and max");
	check(latency_sketch_quantile(&s, 0.5) <= high[2] / 1e9 &&
		  fabs(latency_sketch_quantile(&s, 0.875) * 1e9 / top - 1.0) <= MAX_REL,
		  "clamping: a quantile in the top bucket is that bucket's estimate");
	latency_sketch_cumulative(&s, le, 2, counts);
	check(counts[0] == 5 && counts[1] == 5,
		  "clamping: le = 1 us and le = 10 s count bucket 0 only");
}

/* 100,000 values in ns, sorted into *sorted as well */
typedef enum
{
	DIST_UNIFORM,
	DIST_EXPONENTIAL,
	DIST_LOGNORMAL
} Dist;

static void
draw(Dist dist, uint64 *values, uint64 *sorted)
{
	Prng		prng;
	int			i;

	prng_seed(&prng, 11 + dist, "latency", 7);
	for (i = 0; i < NSAMPLE; i++)
	{
		double		v;

		switch (dist)
		{
			case DIST_UNIFORM:	/* 1 us .. 10 ms */
				v = 1000.0 + prng_uniform(&prng) * (1e7 - 1000.0);
				break;
			case DIST_EXPONENTIAL:	/* mean 1 ms */
				v = -1e6 * log(1.0 - prng_uniform(&prng));
				break;
			default:			/* median 200 us, sigma 1 */
				v = exp(prng_normal(&prng, log(200000.0), 1.0));
				break;
		}
		values[i] = (uint64) llround(v);
	}
	memcpy(sorted, values, NSAMPLE * sizeof(uint64));
	qsort(sorted, NSAMPLE, sizeof(uint64), cmp_uint64);
}

static double
rel_error(const LatencySketch *s, const uint64 *sorted, double q)
{
	double		want = sorted[(int) floor(q * (NSAMPLE - 1))];

	return fabs(latency_sketch_quantile(s, q) * 1e9 - want) / want;
}

static void
test_distribution(Dist dist, const char *name)
{
	uint64	   *values = malloc(NSAMPLE * sizeof(uint64));
	uint64	   *sorted = malloc(NSAMPLE * sizeof(uint64));
	LatencySketch s;
	static const double main_q[] = {0.5, 0.95, 0.99};
	double		worst = 0.0;
	double		worst_q = 0.0;
	char		what[128];
	int			i;
	int			k;

	draw(dist, values, sorted);
	latency_sketch_reset(&s);
	for (i = 0; i < NSAMPLE; i++)
		latency_sketch_insert(&s, values[i]);

	for (k = 0; k < lengthof(main_q); k++)
	{
		double		err = rel_error(&s, sorted, main_q[k]);

		snprintf(what, sizeof(what),
				 "%s: p%g within 1 %% of the sorted sample's (error %.4f %%)",
				 name, main_q[k] * 100, err * 100);
		check(err <= MAX_REL, what);
	}
	/* every percentile and the far tails */
	for (k = 1; k <= 1001; k++)
	{
		double		q = k <= 999 ? k / 1000.0 : (k == 1000 ? 0.9999 : 0.99999);
		double		err;

		if (q < 0.01)			/* the exponential's lowest values are clamped */
			continue;
		err = rel_error(&s, sorted, q);
		if (err > worst)
		{
			worst = err;
			worst_q = q;
		}
	}
	snprintf(what, sizeof(what),
			 "%s: every quantile 0.010 .. 0.999, p99.99, p99.999 within 1 %% (worst %.4f %% at %g)",
			 name, worst * 100, worst_q);
	check(worst <= MAX_REL, what);
	check(latency_sketch_quantile(&s, 0.0) == sorted[0] / 1e9 &&
		  latency_sketch_quantile(&s, 1.0) == sorted[NSAMPLE - 1] / 1e9,
		  "p0 and p100 are the exact min and max");
	{
		uint64		sum = 0;

		for (i = 0; i < NSAMPLE; i++)
			sum += values[i];
		snprintf(what, sizeof(what), "%s: count and exact sum", name);
		check(s.count == NSAMPLE && s.sum_ns == sum &&
			  latency_sketch_sum_seconds(&s) == sum / 1e9, what);
	}
	free(values);
	free(sorted);
}

static void
test_merge_reset(void)
{
	uint64	   *values = malloc(NSAMPLE * sizeof(uint64));
	uint64	   *sorted = malloc(NSAMPLE * sizeof(uint64));
	LatencySketch *all = malloc(sizeof(LatencySketch));
	LatencySketch *even = malloc(sizeof(LatencySketch));
	LatencySketch *odd = malloc(sizeof(LatencySketch));
	LatencySketch *fresh = malloc(sizeof(LatencySketch));
	LatencySketch *copy = malloc(sizeof(LatencySketch));
	int			i;

	draw(DIST_LOGNORMAL, values, sorted);
	latency_sketch_reset(all);
	latency_sketch_reset(even);
	latency_sketch_reset(odd);
	for (i = 0; i < NSAMPLE; i++)
	{
		latency_sketch_insert(all, values[i]);
		latency_sketch_insert(i % 2 ? odd : even, values[i]);
	}
	/* a clamped value in one half only */
	latency_sketch_insert(all, 7);
	latency_sketch_insert(odd, 7);

	latency_sketch_merge(even, odd);
	check(memcmp(even, all, sizeof(LatencySketch)) == 0,
		  "merge: two halves merged equal the sketch of the union, field for field");

	latency_sketch_reset(fresh);
	latency_sketch_merge(fresh, all);
	check(memcmp(fresh, all, sizeof(LatencySketch)) == 0,
		  "merge: into an empty sketch gives a copy");
	memcpy(copy, all, sizeof(LatencySketch));
	latency_sketch_reset(fresh);
	latency_sketch_merge(copy, fresh);
	check(memcmp(copy, all, sizeof(LatencySketch)) == 0,
		  "merge: of an empty sketch changes nothing (min and max included)");

	/* reset against a sketch built by hand, not by reset */
	memset(fresh, 0, sizeof(LatencySketch));
	fresh->min_ns = PG_UINT64_MAX;
	latency_sketch_reset(all);
	check(memcmp(all, fresh, sizeof(LatencySketch)) == 0 &&
		  isnan(latency_sketch_quantile(all, 0.5)),
		  "reset: every counter zero, min unset, quantiles NaN");
	latency_sketch_insert(all, 2500);
	check(all->count == 1 && latency_sketch_quantile(all, 0.5) == 2500 / 1e9,
		  "reset: the sketch counts again from nothing");

	free(values);
	free(sorted);
	free(all);
	free(even);
	free(odd);
	free(fresh);
	free(copy);
}

static void
test_cumulative(void)
{
	uint64	   *values = malloc(NSAMPLE * sizeof(uint64));
	uint64	   *sorted = malloc(NSAMPLE * sizeof(uint64));
	LatencySketch s;
	uint64		counts[LATENCY_SKETCH_DEFAULT_NLE];
	bool		exact = true;
	bool		within = true;
	bool		blurred = true;
	bool		ascending = true;
	int			i;
	int			k;

	draw(DIST_LOGNORMAL, values, sorted);
	latency_sketch_reset(&s);
	for (i = 0; i < NSAMPLE; i++)
		latency_sketch_insert(&s, values[i]);

	/* bounds on bucket boundaries: exact */
	for (i = 0; i < N; i += 7)
	{
		uint64		upper = latency_sketch_bucket_upper_ns(i);
		double		le = upper / 1e9;
		uint64		got;

		latency_sketch_cumulative(&s, &le, 1, &got);
		if (got != count_upto(sorted, NSAMPLE, upper))
		{
			printf("#   le = upper(%d): got %llu, want %llu\n", i,
				   (unsigned long long) got,
				   (unsigned long long) count_upto(sorted, NSAMPLE, upper));
			exact = false;
		}
	}
	check(exact, "le on a bucket's upper bound: the exact count of values <= le (every 7th bucket)");

	/* the default bounds, inside buckets */
	for (k = 1; k < LATENCY_SKETCH_DEFAULT_NLE; k++)
		ascending = ascending &&
			latency_sketch_default_le[k] > latency_sketch_default_le[k - 1];
	check(ascending && latency_sketch_default_le[0] == 0.00001 &&
		  latency_sketch_default_le[LATENCY_SKETCH_DEFAULT_NLE - 1] == 10.0,
		  "default le: ascending, 10 us .. 10 s");
	latency_sketch_cumulative(&s, latency_sketch_default_le,
							  LATENCY_SKETCH_DEFAULT_NLE, counts);
	for (k = 0; k < LATENCY_SKETCH_DEFAULT_NLE; k++)
	{
		long double le_ns = (long double) latency_sketch_default_le[k] * 1e9L;
		uint64		direct = count_upto(sorted, NSAMPLE, le_ns);
		uint64		straddle = s.buckets[latency_sketch_bucket((uint64) floorl(le_ns))];
		int64		diff = (int64) counts[k] - (int64) direct;

		printf("# le=%-8g sketch %6llu direct %6llu (straddling bucket %llu)\n",
			   latency_sketch_default_le[k], (unsigned long long) counts[k],
			   (unsigned long long) direct, (unsigned long long) straddle);
		if ((uint64) (diff < 0 ? -diff : diff) > straddle)
			within = false;
		if (counts[k] < count_upto(sorted, NSAMPLE, le_ns / (1.0L + LATENCY_SKETCH_ALPHA)) ||
			counts[k] > count_upto(sorted, NSAMPLE, le_ns / (1.0L - LATENCY_SKETCH_ALPHA)))
			blurred = false;
	}
	check(within, "default le: off the direct count by at most the straddling bucket");
	check(blurred, "default le: the exact count at a bound within [le / (1 + ALPHA), le / (1 - ALPHA)]");

	/* monotone over a fine grid, and count at the end */
	{
		double		le[2001];
		uint64		c[2001];
		bool		mono = true;

		for (k = 0; k < 2001; k++)
			le[k] = 1e-7 * pow(10.0, k / 200.0);	/* 100 ns .. 1000 s */
		latency_sketch_cumulative(&s, le, 2001, c);
		for (k = 1; k < 2001; k++)
			mono = mono && c[k] >= c[k - 1];
		check(mono && c[0] == 0 && c[2000] == s.count,
			  "cumulative counts never decrease, from 0 to count");
	}
	free(values);
	free(sorted);
}

/* a hand-worked case: no value within 1 % of a bound */
static void
test_cumulative_by_hand(void)
{
	LatencySketch s;
	static const uint64 values[] = {
		5000, 20000, 30000, 95000, 95000, 3000000000
	};
	static const uint64 want[LATENCY_SKETCH_DEFAULT_NLE] = {
		1, 2, 3, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 6, 6
	};
	uint64		counts[LATENCY_SKETCH_DEFAULT_NLE];
	bool		ok = true;
	int			i;

	latency_sketch_reset(&s);
	for (i = 0; i < lengthof(values); i++)
		latency_sketch_insert(&s, values[i]);
	latency_sketch_cumulative(&s, latency_sketch_default_le,
							  LATENCY_SKETCH_DEFAULT_NLE, counts);
	for (i = 0; i < LATENCY_SKETCH_DEFAULT_NLE; i++)
		if (counts[i] != want[i])
		{
			printf("#   le=%g: got %llu, want %llu\n", latency_sketch_default_le[i],
				   (unsigned long long) counts[i], (unsigned long long) want[i]);
			ok = false;
		}
	check(ok, "by hand: 5, 20, 30, 95, 95 us and 3 s in the default le buckets");
	check(latency_sketch_sum_seconds(&s) == 3.000245,
		  "by hand: _sum is 3.000245 s");
}

int
main(void)
{
	test_layout();
	test_bucket_index();
	test_empty();
	test_bad_q();
	test_single();
	test_insert_n();
	test_clamping();
	test_distribution(DIST_UNIFORM, "uniform 1 us .. 10 ms");
	test_distribution(DIST_EXPONENTIAL, "exponential mean 1 ms");
	test_distribution(DIST_LOGNORMAL, "lognormal median 200 us sigma 1");
	test_merge_reset();
	test_cumulative();
	test_cumulative_by_hand();
	return tap_finish();
}
