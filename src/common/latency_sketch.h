/*-------------------------------------------------------------------------
 *
 * latency_sketch.h
 *	  A DDSketch-style latency histogram of fixed size: logarithmic buckets
 *	  with relative accuracy ALPHA = 0.01, so every quantile it reports is
 *	  within 1 % of the true sample quantile (the issue asks for 2 %).
 *
 * The struct is flat (uint64 counters only, no pointers), so that it can
 * live in a fixed-size shared-memory entry per model, as pg_stat_statements
 * keeps its counters: the hot path (every ml.predict, ml.decide and
 * ml.explain call) either calls latency_sketch_insert() on the entry under
 * the entry's spinlock, or computes latency_sketch_bucket() outside the lock
 * and adds to buckets[], count, sum_ns and clamped_* with
 * pg_atomic_fetch_add_u64 and to min_ns/max_ns with a compare-and-swap
 * loop.  Readers (the ml.serving_stats view, ml.prometheus_metrics) copy the
 * entry under the lock and call the read functions on the copy;
 * latency_sketch_merge() sums entries (all versions of a model, say) and
 * latency_sketch_reset() is ml.serving_stats_reset().
 *
 * Values are taken in integer nanoseconds (an instr_time difference);
 * everything read out is in seconds, Prometheus's base unit.
 *
 * Buckets: bucket i holds the values in (L * GAMMA^(i-1), L * GAMMA^i] with
 * L = 1 microsecond and GAMMA = (1 + ALPHA) / (1 - ALPHA), for i = 0 ..
 * LATENCY_SKETCH_NBUCKETS - 1 = 922: the accurate range is 981 ns to
 * 102.01 s.  A value below it is counted in bucket 0 and in clamped_low, a
 * value above it in the last bucket and in clamped_high; sum_ns, min_ns and
 * max_ns always hold the exact values inserted (latency_sketch_insert_n
 * inserts one value several times, for a sample that stands for more).
 *
 * Pure: no backend call, so that test/unit links it without a server.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_LATENCY_SKETCH_H
#define LEARNLOOP_LATENCY_SKETCH_H

#define LATENCY_SKETCH_ALPHA	0.01

/* ceil(log(100 s / 1 us) / log(GAMMA)) + 1: the last upper bound is 102.01 s */
#define LATENCY_SKETCH_NBUCKETS	923

typedef struct LatencySketch
{
	uint64		count;			/* values inserted */
	uint64		sum_ns;			/* their exact sum (wraps after 584 years) */
	uint64		min_ns;			/* PG_UINT64_MAX while empty */
	uint64		max_ns;			/* 0 while empty */
	uint64		clamped_low;	/* values below the range, in bucket 0 */
	uint64		clamped_high;	/* values above it, in the last bucket */
	uint64		buckets[LATENCY_SKETCH_NBUCKETS];
} LatencySketch;

/*
 * The default `le` bounds of learnloop_*_seconds_bucket, in seconds:
 * 1-2.5-5 steps from 10 microseconds (a native forest prediction) to 10
 * seconds, ascending; +Inf is the count.
 */
#define LATENCY_SKETCH_DEFAULT_NLE	19
extern const double latency_sketch_default_le[LATENCY_SKETCH_DEFAULT_NLE];

extern void latency_sketch_reset(LatencySketch *sketch);
extern int	latency_sketch_bucket(uint64 ns);
extern void latency_sketch_insert(LatencySketch *sketch, uint64 ns);
extern void latency_sketch_insert_n(LatencySketch *sketch, uint64 ns, uint64 n);
extern void latency_sketch_merge(LatencySketch *dst, const LatencySketch *src);
extern double latency_sketch_quantile(const LatencySketch *sketch, double q);
extern void latency_sketch_cumulative(const LatencySketch *sketch,
									  const double *le, int nle,
									  uint64 *counts);
extern double latency_sketch_sum_seconds(const LatencySketch *sketch);
extern uint64 latency_sketch_bucket_upper_ns(int bucket);

#endif							/* LEARNLOOP_LATENCY_SKETCH_H */
