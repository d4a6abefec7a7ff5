/*-------------------------------------------------------------------------
 *
 * experiment_core_test.c
 *	  Standalone TAP test of the experiment core (src/experiment): GrowthBook
 *	  bucketing against the SDK's published cases, statistics against scipy
 *	  (stats_fixtures.h), Thompson sampling properties, and the defined
 *	  metrics' statistics (metric_stats.c) against their formulas on raw data.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <math.h>

#include "experiment/bandit.h"
#include "experiment/growthbook_hash.h"
#include "experiment/metric_stats.h"
#include "experiment/stats.h"
#include "stats_fixtures.h"
#include "tap.h"

#define REL_TOL 1e-9
#define lengthof_(a) ((int) lengthof(a))


static void
ok(bool pass, const char *what, double got, double want)
{
	tap_line(pass);
	printf("%s", what);
	if (!pass)
		printf(" (got %.17g, want %.17g)", got, want);
	printf("\n");
}

/* Relative closeness, with an absolute floor for values at or near zero. */
static void
is_close(double got, double want, double rel, const char *what)
{
	bool		pass = fabs(got - want) <= rel * fabs(want) + 1e-14 ||
		(isinf(want) && got == want);

	ok(pass, what, got, want);
}

/* GrowthBook SDK cases.json "hash": seed, value, version, expected. */
typedef struct HashCase
{
	const char *seed;
	const char *value;
	int			version;
	double		expected;
} HashCase;

static const HashCase sdk_hash_cases[] = {
	{"", "a", 1, 0.22}, {"", "b", 1, 0.077}, {"b", "a", 1, 0.946},
	{"ef", "d", 1, 0.652}, {"asdf", "8952klfjas09ujk", 1, 0.549},
	{"", "123", 1, 0.011}, {"", "___)((*\":&", 1, 0.563},
	{"seed", "a", 2, 0.0505}, {"seed", "b", 2, 0.2696},
	{"foo", "ab", 2, 0.2575}, {"foo", "def", 2, 0.2019},
	{"89123klj", "8952klfjas09ujkasdf", 2, 0.124},
	{"90850943850283058242805", "123", 2, 0.7516},
	{"()**(%$##$%#$#", "___)((*\":&", 2, 0.0128},
	{"abc", "def", 99, -1.0},
};

/* Non-ASCII ids, from unicode_hash_cases.js (JavaScript charCodeAt). */
static const struct
{
	const char *seed;
	const char *value;
	double		v1;
	double		v2;
}			unicode_cases[] = {
	{"seed", "ünïcödé", 0.223, 0.8354},
	{"exp-ß", "user-42", 0.878, 0.9393},
	{"", "用户-42", 0.761, 0.0836},
	{"checkout", "😀", 0.012, 0.3881},
	{"naïve", "😀user𐍈", 0.37, 0.0381},
	{"", "😁", 0.091, 0.567},
	{"seed", "𝒫layer", 0.115, 0.1803},
	{"журнал", "مستخدم", 0.544, 0.0759},
};

/* cases.json "inNamespace": id, namespace, range, expected. */
static const struct
{
	const char *id;
	const char *ns;
	double		start;
	double		end;
	bool		expected;
}			namespace_cases[] = {
	{"1", "namespace1", 0, 0.4, false}, {"1", "namespace1", 0.4, 1, true},
	{"1", "namespace2", 0, 0.4, false}, {"1", "namespace2", 0.4, 1, true},
	{"2", "namespace1", 0, 0.4, false}, {"2", "namespace1", 0.4, 1, true},
	{"2", "namespace2", 0, 0.4, false}, {"2", "namespace2", 0.4, 1, true},
	{"3", "namespace1", 0, 0.4, false}, {"3", "namespace1", 0.4, 1, true},
	{"3", "namespace2", 0, 0.4, true}, {"3", "namespace2", 0.4, 1, false},
	{"4", "namespace1", 0, 0.4, false}, {"4", "namespace1", 0.4, 1, true},
	{"4", "namespace2", 0, 0.4, true}, {"4", "namespace2", 0.4, 1, false},
};

/*
 * cases.json "getBucketRange" with valid or absent weights (NaN = absent);
 * the SDK's fallbacks for invalid weights are the SQL layer's checks.
 */
static const struct
{
	const char *name;
	int			n;
	double		coverage;
	double		weights[4];
	double		ranges[4][2];
}			range_cases[] = {
	{"normal 50/50", 2, 1, {NAN}, {{0, 0.5}, {0.5, 1}}},
	{"reduced coverage", 2, 0.5, {NAN}, {{0, 0.25}, {0.5, 0.75}}},
	{"zero coverage", 2, 0, {NAN}, {{0, 0}, {0.5, 0.5}}},
	{"4 variations", 4, 1, {NAN},
	{{0, 0.25}, {0.25, 0.5}, {0.5, 0.75}, {0.75, 1}}},
	{"uneven weights", 2, 1, {0.4, 0.6}, {{0, 0.4}, {0.4, 1}}},
	{"uneven weights, 3 variations", 3, 1, {0.2, 0.3, 0.5},
	{{0, 0.2}, {0.2, 0.5}, {0.5, 1}}},
	{"uneven weights, reduced coverage, 3 variations", 3, 0.2, {0.2, 0.3, 0.5},
	{{0, 0.04}, {0.2, 0.26}, {0.5, 0.6}}},
	{"negative coverage", 2, -0.2, {NAN}, {{0, 0}, {0.5, 0.5}}},
	{"coverage above 1", 2, 1.5, {NAN}, {{0, 0.5}, {0.5, 1}}},
	{"weights sum almost equals 1", 2, 1, {0.4, 0.5999},
	{{0, 0.4}, {0.4, 0.9999}}},
};

/* cases.json "chooseVariation": n, ranges, expected index. */
static const struct
{
	double		n;
	int			count;
	double		ranges[3][2];
	int			expected;
}			choose_cases[] = {
	{0.2, 2, {{0, 0.5}, {0.5, 1}}, 0}, {0.4, 2, {{0, 0.5}, {0.5, 1}}, 0},
	{0.6, 2, {{0, 0.5}, {0.5, 1}}, 1}, {0.8, 2, {{0, 0.5}, {0.5, 1}}, 1},
	{0, 2, {{0, 0.5}, {0.5, 1}}, 0}, {0.5, 2, {{0, 0.5}, {0.5, 1}}, 1},
	{0.2, 2, {{0, 0.25}, {0.5, 0.75}}, 0},
	{0.4, 2, {{0, 0.25}, {0.5, 0.75}}, -1},
	{0.6, 2, {{0, 0.25}, {0.5, 0.75}}, 1},
	{0.8, 2, {{0, 0.25}, {0.5, 0.75}}, -1},
	{0.25, 2, {{0, 0.25}, {0.5, 0.75}}, -1},
	{0.5, 2, {{0, 0.25}, {0.5, 0.75}}, 1},
	{0.5, 3, {{0, 0.5}, {0.5, 0.5}, {0.5, 1}}, 2},
};

static void
test_growthbook(void)
{
	char		what[200];
	int			i,
				j;

	for (i = 0; i < lengthof_(sdk_hash_cases); i++)
	{
		const HashCase *c = &sdk_hash_cases[i];

		snprintf(what, sizeof(what), "gb_hash v%d seed '%s' value '%s'",
				 c->version, c->seed, c->value);
		is_close(gb_hash(c->seed, c->value, c->version), c->expected, 1e-12,
				 what);
	}
	for (i = 0; i < lengthof_(unicode_cases); i++)
	{
		snprintf(what, sizeof(what), "gb_hash v1 non-ASCII '%s'",
				 unicode_cases[i].value);
		is_close(gb_hash(unicode_cases[i].seed, unicode_cases[i].value, 1),
				 unicode_cases[i].v1, 1e-12, what);
		snprintf(what, sizeof(what), "gb_hash v2 non-ASCII '%s'",
				 unicode_cases[i].value);
		is_close(gb_hash(unicode_cases[i].seed, unicode_cases[i].value, 2),
				 unicode_cases[i].v2, 1e-12, what);
	}
	for (i = 0; i < lengthof_(namespace_cases); i++)
	{
		bool		in = gb_in_namespace(namespace_cases[i].id,
										 namespace_cases[i].ns,
										 namespace_cases[i].start,
										 namespace_cases[i].end);

		snprintf(what, sizeof(what), "gb_in_namespace id %s %s [%g, %g)",
				 namespace_cases[i].id, namespace_cases[i].ns,
				 namespace_cases[i].start, namespace_cases[i].end);
		ok(in == namespace_cases[i].expected, what, in,
		   namespace_cases[i].expected);
	}
	for (i = 0; i < lengthof_(range_cases); i++)
	{
		double		starts[4],
					ends[4];
		double		err = 0.0;
		int			n = range_cases[i].n;

		gb_bucket_ranges(n, range_cases[i].coverage,
						 isnan(range_cases[i].weights[0]) ? NULL :
						 range_cases[i].weights, starts, ends);
		for (j = 0; j < n; j++)
			err = Max(err, Max(fabs(starts[j] - range_cases[i].ranges[j][0]),
							   fabs(ends[j] - range_cases[i].ranges[j][1])));
		snprintf(what, sizeof(what), "gb_bucket_ranges %s",
				 range_cases[i].name);
		ok(err < 1e-12, what, err, 0);
	}
	for (i = 0; i < lengthof_(choose_cases); i++)
	{
		double		starts[3],
					ends[3];
		int			got;

		for (j = 0; j < choose_cases[i].count; j++)
		{
			starts[j] = choose_cases[i].ranges[j][0];
			ends[j] = choose_cases[i].ranges[j][1];
		}
		got = gb_choose_variant(choose_cases[i].n, choose_cases[i].count,
								starts, ends);
		snprintf(what, sizeof(what), "gb_choose_variant %g of %d ranges",
				 choose_cases[i].n, choose_cases[i].count);
		ok(got == choose_cases[i].expected, what, got,
		   choose_cases[i].expected);
	}
}

static void
test_distributions(void)
{
	char		what[200];
	int			i;

	for (i = 0; i < lengthof_(normal_quantile_cases); i++)
	{
		const QuantileCase *c = &normal_quantile_cases[i];

		snprintf(what, sizeof(what), "normal_quantile(%g)", c->p);
		is_close(normal_quantile(c->p), c->x, REL_TOL, what);
		snprintf(what, sizeof(what), "normal_cdf(%g)", c->x);
		is_close(normal_cdf(c->x), c->p, REL_TOL, what);
	}
	for (i = 0; i < lengthof_(t_cdf_cases); i++)
	{
		const TCdfCase *c = &t_cdf_cases[i];

		snprintf(what, sizeof(what), "student_t_cdf(%g, df %g)", c->t, c->df);
		is_close(student_t_cdf(c->t, c->df), c->cdf, REL_TOL, what);
	}
	for (i = 0; i < lengthof_(t_quantile_cases); i++)
	{
		const TQuantileCase *c = &t_quantile_cases[i];

		snprintf(what, sizeof(what), "student_t_quantile(%g, df %g)",
				 c->p, c->df);
		is_close(student_t_quantile(c->p, c->df), c->t, REL_TOL, what);
	}
	for (i = 0; i < lengthof_(chi_square_cases); i++)
	{
		const ChiSqCase *c = &chi_square_cases[i];

		snprintf(what, sizeof(what), "chi_square_sf(%g, df %g)", c->x, c->df);
		is_close(chi_square_sf(c->x, c->df), c->sf, REL_TOL, what);
	}
}

static void
test_ab_tests(void)
{
	char		what[200];
	int			i,
				j;

	for (i = 0; i < lengthof_(welch_cases); i++)
	{
		const WelchCase *c = &welch_cases[i];
		AbTestResult r = welch_test(c->mean1, c->var1, c->n1,
									c->mean0, c->var0, c->n0, c->alpha);

		snprintf(what, sizeof(what), "welch_test case %d df", i);
		is_close(r.df, c->df, REL_TOL, what);
		snprintf(what, sizeof(what), "welch_test case %d t", i);
		is_close(r.stat, c->t, REL_TOL, what);
		snprintf(what, sizeof(what), "welch_test case %d p-value", i);
		is_close(r.p_value, c->p, REL_TOL, what);
		snprintf(what, sizeof(what), "welch_test case %d CI", i);
		is_close(r.ci_low, c->ci_low, REL_TOL, what);
		is_close(r.ci_high, c->ci_high, REL_TOL, what);
		snprintf(what, sizeof(what), "welch_test case %d lift and CI", i);
		is_close(r.lift, c->lift, REL_TOL, what);
		is_close(r.lift_ci_low, c->lift_low, REL_TOL, what);
		is_close(r.lift_ci_high, c->lift_high, REL_TOL, what);
	}
	for (i = 0; i < lengthof_(prop_cases); i++)
	{
		const PropCase *c = &prop_cases[i];
		AbTestResult r = two_proportion_test((int64) c->x1, (int64) c->n1,
											 (int64) c->x0, (int64) c->n0,
											 c->alpha);

		snprintf(what, sizeof(what), "two_proportion_test case %d p-value", i);
		is_close(r.p_value, c->p, REL_TOL, what);
		snprintf(what, sizeof(what), "two_proportion_test case %d CI", i);
		is_close(r.ci_low, c->ci_low, REL_TOL, what);
		is_close(r.ci_high, c->ci_high, REL_TOL, what);
		snprintf(what, sizeof(what), "two_proportion_test case %d lift CI", i);
		is_close(r.lift, c->lift, REL_TOL, what);
		is_close(r.lift_ci_low, c->lift_low, REL_TOL, what);
		is_close(r.lift_ci_high, c->lift_high, REL_TOL, what);
	}
	for (i = 0; i < lengthof_(srm_cases); i++)
	{
		const SrmCase *c = &srm_cases[i];
		int64		counts[4] = {c->c0, c->c1, c->c2, c->c3};
		double		weights[4] = {c->w0, c->w1, c->w2, c->w3};

		snprintf(what, sizeof(what), "srm_p_value case %d (%d arms)", i,
				 (int) c->k);
		is_close(srm_p_value(counts, weights, (int) c->k), c->p, REL_TOL, what);
	}
	for (i = 0; i < lengthof_(adjust_cases); i++)
	{
		const AdjustCase *c = &adjust_cases[i];
		double		p[5] = {c->p0, c->p1, c->p2, c->p3, c->p4};
		double		holm[5] = {c->h0, c->h1, c->h2, c->h3, c->h4};
		double		bh[5] = {c->b0, c->b1, c->b2, c->b3, c->b4};
		double		out[5];
		double		err_h = 0.0,
					err_b = 0.0;

		holm_adjust(p, 5, out);
		for (j = 0; j < 5; j++)
			err_h = Max(err_h, fabs(out[j] - holm[j]));
		benjamini_hochberg_adjust(p, 5, out);
		for (j = 0; j < 5; j++)
			err_b = Max(err_b, fabs(out[j] - bh[j]));
		snprintf(what, sizeof(what), "holm_adjust case %d", i);
		ok(err_h < 1e-15, what, err_h, 0);
		snprintf(what, sizeof(what), "benjamini_hochberg_adjust case %d", i);
		ok(err_b < 1e-15, what, err_b, 0);
	}
	is_close(chance_to_beat_control(1.1, 0.03, 1.0, 0.04),
			 normal_cdf(2.0), 1e-15, "chance_to_beat_control is Phi(z)");
	is_close(chance_to_beat_control(1.0, 0.1, 1.0, 0.2), 0.5, 1e-15,
			 "chance_to_beat_control of equal means is 0.5");
}

static void
test_planning(void)
{
	char		what[200];
	int			i;

	for (i = 0; i < lengthof_(size_prop_cases); i++)
	{
		const SizePropCase *c = &size_prop_cases[i];

		snprintf(what, sizeof(what), "sample_size_proportions case %d", i);
		is_close(sample_size_proportions(c->baseline, c->mde, c->alpha,
										 c->power), c->n, REL_TOL, what);
		snprintf(what, sizeof(what), "power_proportions inverts case %d", i);
		is_close(power_proportions(c->baseline, c->mde, c->alpha, c->n),
				 c->power, REL_TOL, what);
	}
	for (i = 0; i < lengthof_(size_mean_cases); i++)
	{
		const SizeMeanCase *c = &size_mean_cases[i];

		snprintf(what, sizeof(what), "sample_size_means case %d", i);
		is_close(sample_size_means(c->sd, c->mde, c->alpha, c->power), c->n,
				 REL_TOL, what);
	}
	for (i = 0; i < lengthof_(seq_cases); i++)
	{
		const SeqCase *c = &seq_cases[i];
		double		half = always_valid_ci_halfwidth(c->se, c->n, c->alpha,
													 c->tau);

		snprintf(what, sizeof(what), "always_valid_ci_halfwidth case %d", i);
		is_close(half, c->halfwidth, REL_TOL, what);
		snprintf(what, sizeof(what), "always_valid_ci_halfwidth case %d is "
				 "wider than the fixed-horizon CI", i);
		ok(half > -normal_quantile(c->alpha / 2) * c->se, what, half, 0);
		snprintf(what, sizeof(what), "always_valid_p_value case %d", i);
		is_close(always_valid_p_value(c->diff, c->se, c->n, c->alpha, c->tau),
				 c->p, REL_TOL, what);
		snprintf(what, sizeof(what), "always_valid_p_value at the halfwidth "
				 "is alpha, case %d", i);
		is_close(always_valid_p_value(half, c->se, c->n, c->alpha, c->tau),
				 c->alpha, 1e-12, what);
	}
}

/*
 * The ziggurat's standard normal: moments, the largest distance of the
 * empirical distribution function from Phi over a grid (the
 * Kolmogorov-Smirnov bound for 4 10^6 draws at 99.9 % is 0.000975), and
 * the share of draws beyond the ziggurat's tail start r = 3.654 and beyond
 * 2, within 5 binomial standard deviations.  The variance's bound, 5 of its
 * standard deviations (sqrt(2 / n)), catches a ziggurat that accepts its
 * wedges whole (variance 1.006).
 */
static void
test_standard_normal(void)
{
	enum
	{
		DRAWS = 4000000, BINS = 2001
	};
	static int	below[BINS];
	Prng		prng;
	double		sum = 0.0,
				sq = 0.0,
				worst = 0.0,
				tail = 0.0,
				beyond2 = 0.0,
				p_tail = 2.0 * normal_cdf(-3.6541528853610088),
				p2 = 2.0 * normal_cdf(-2.0);
	int			i;

	prng_seed(&prng, 11, "normal", 6);
	for (i = 0; i < DRAWS; i++)
	{
		double		z = prng_standard_normal(&prng);
		int			bin = (int) ceil((z + 5.0) * 200.0);

		sum += z;
		sq += z * z;
		tail += fabs(z) > 3.6541528853610088;
		beyond2 += fabs(z) > 2.0;
		/* below[b]: draws at or below -5 + b / 200 */
		if (bin < 0)
			bin = 0;
		if (bin < BINS)
			below[bin]++;
	}
	for (i = 1; i < BINS; i++)
		below[i] += below[i - 1];
	for (i = 0; i < BINS; i++)
		worst = fmax(worst, fabs((double) below[i] / DRAWS - normal_cdf(-5.0 + i / 200.0)));
	ok(fabs(sum / DRAWS) < 5 / sqrt(DRAWS), "standard normal: mean 0", sum / DRAWS, 0);
	ok(fabs(sq / DRAWS - 1.0) < 5 * sqrt(2.0 / DRAWS), "standard normal: variance 1", sq / DRAWS, 1);
	ok(worst < 0.000975, "standard normal: Kolmogorov-Smirnov distance", worst, 0.000975);
	ok(fabs(tail - DRAWS * p_tail) < 5 * sqrt(DRAWS * p_tail),
	   "standard normal: the tail beyond r", tail, DRAWS * p_tail);
	ok(fabs(beyond2 - DRAWS * p2) < 5 * sqrt(DRAWS * p2 * (1 - p2)),
	   "standard normal: beyond 2", beyond2, DRAWS * p2);
}

static int
compare_doubles(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return (x > y) - (x < y);
}

/*
 * The ziggurat's tail beyond r = 3.654 on its own, 200,000 draws: the
 * Kolmogorov-Smirnov distance from the normal's tail, 1 - Q(t) / Q(r)
 * (99.9 % bound 1.949 / sqrt(n) = 0.00436).  The thousand tail draws of
 * the test above cannot tell an exponential tail without the rejection
 * step (distance about 0.03) from the normal's.
 */
static void
test_normal_tail(void)
{
	enum
	{
		DRAWS = 200000
	};
	static double tail[DRAWS];
	const double r = 3.6541528853610088;
	double		q_r = normal_cdf(-r),
				worst = 0.0;
	Prng		prng;
	bool		beyond = true;

	prng_seed(&prng, 12, "tail", 4);
	for (int i = 0; i < DRAWS; i++)
	{
		tail[i] = prng_normal_tail(&prng);
		beyond = beyond && tail[i] > r;
	}
	qsort(tail, DRAWS, sizeof(double), compare_doubles);
	for (int i = 0; i < DRAWS; i++)
	{
		double		cdf = 1.0 - normal_cdf(-tail[i]) / q_r;

		worst = fmax(worst, fmax(fabs((double) (i + 1) / DRAWS - cdf), fabs((double) i / DRAWS - cdf)));
	}
	ok(beyond, "standard normal's tail: every draw beyond r", beyond, 1);
	ok(worst < 1.949 / sqrt(DRAWS), "standard normal's tail: Kolmogorov-Smirnov distance",
	   worst, 1.949 / sqrt(DRAWS));
}

static void
test_thompson(void)
{
	double		a[2] = {50, 70};
	double		b[2] = {50, 30};
	double		same_a[2] = {40, 40};
	double		same_b[2] = {60, 60};
	double		mean[3] = {1.0, 1.2, 0.9};
	double		se[3] = {0.1, 0.1, 0.1};
	double		w[3],
				w2[3];
	double		sum = 0.0;
	Prng		prng;
	int			i;

	thompson_weights(a, b, 2, 20000, 42, w);
	ok(w[1] > 0.99, "thompson_weights: Beta(70,30) beats Beta(50,50)", w[1],
	   0.99);
	is_close(w[0] + w[1], 1.0, 1e-12, "thompson_weights sum to 1");
	thompson_weights(a, b, 2, 20000, 42, w2);
	ok(w[0] == w2[0] && w[1] == w2[1], "thompson_weights deterministic for a "
	   "seed", w2[1], w[1]);
	thompson_weights(same_a, same_b, 2, 20000, 7, w);
	ok(fabs(w[0] - 0.5) < 0.05, "thompson_weights: equal arms near 0.5", w[0],
	   0.5);
	thompson_weights(same_a, same_b, 2, 20000, 8, w2);
	ok(w[0] != w2[0], "thompson_weights: another seed, another draw", w2[0],
	   w[0]);

	/* P(arm 1 best) ~ P(N(1.2, .01) beats N(1.0, .01) and N(0.9, .01)) */
	thompson_weights_normal(mean, se, 3, 20000, 42, w);
	ok(w[1] > 0.9 && w[1] < 0.95 && w[2] < 0.02,
	   "thompson_weights_normal favours the best mean", w[1], 0.92);

	/* Beta(2.5, 0.5) = X / (X + Y) has mean 5/6; Y uses the shape < 1 boost. */
	prng_seed(&prng, 1, "beta", 4);
	for (i = 0; i < 200000; i++)
	{
		double		x = gamma_sample(&prng, 2.5);

		sum += x / (x + gamma_sample(&prng, 0.5));
	}
	ok(fabs(sum / 200000 - 5.0 / 6.0) < 0.003, "beta by gammas: mean", sum / 200000,
	   5.0 / 6.0);
	sum = 0.0;
	for (i = 0; i < 200000; i++)
		sum += gamma_sample(&prng, 3.7);
	ok(fabs(sum / 200000 - 3.7) < 0.02, "gamma_sample mean", sum / 200000, 3.7);
}

/* Moments of raw per-unit values y, z (sample variances, n - 1), as the SQL computes them */
static ArmMoments
moments(const double *y, const double *z, int n)
{
	ArmMoments m = {n, 0, 0, 0, 0, 0};

	for (int i = 0; i < n; i++)
	{
		m.mean_y += y[i] / n;
		m.mean_z += z[i] / n;
	}
	for (int i = 0; i < n; i++)
	{
		m.var_y += (y[i] - m.mean_y) * (y[i] - m.mean_y) / (n - 1);
		m.var_z += (z[i] - m.mean_z) * (z[i] - m.mean_z) / (n - 1);
		m.cov_yz += (y[i] - m.mean_y) * (z[i] - m.mean_z) / (n - 1);
	}
	return m;
}

static void
test_metric_stats(void)
{
	double		ya[] = {3, 5, 2, 8, 7, 4, 6, 1},
				za[] = {2, 3, 1, 5, 4, 3, 4, 1},
				yb[] = {6, 9, 4, 10, 8, 7, 9, 3, 5},
				zb[] = {3, 5, 2, 6, 4, 4, 5, 2, 3};
	double		yall[17],
				zall[17];
	ArmMoments	a = moments(ya, za, 8),
				b = moments(yb, zb, 9),
				all;
	ArmStatistic ra = ratio_statistic(&a),
				rb = ratio_statistic(&b),
				ma = mean_statistic(&a, false),
				mb = mean_statistic(&b, false),
				c0a = cuped_statistic(&a, 0.0, false);
	AbTestResult t = metric_t_test(&mb, &ma, ma.mean, relative_lift_variance(&mb, &ma), 0.05);
	AbTestResult w = welch_test(b.mean_y, b.var_y, b.n, a.mean_y, a.var_y, a.n, 0.05);
	double		theta;

	for (int i = 0; i < 8; i++)
	{
		yall[i] = ya[i];
		zall[i] = za[i];
	}
	for (int i = 0; i < 9; i++)
	{
		yall[8 + i] = yb[i];
		zall[8 + i] = zb[i];
	}
	all = moments(yall, zall, 17);

	is_close(ra.mean, 36.0 / 23.0, REL_TOL, "ratio_statistic: sum y / sum z");
	is_close(ra.variance, a.var_y / pow(a.mean_z, 2) + a.var_z * pow(a.mean_y, 2) / pow(a.mean_z, 4)
			 - 2 * a.cov_yz * a.mean_y / pow(a.mean_z, 3), REL_TOL,
			 "ratio_statistic: the delta method's variance per unit");
	ok(rb.mean > ra.mean, "ratio_statistic of the other arm", rb.mean, ra.mean);
	theta = cuped_theta(&a, &b);
	is_close(theta, all.cov_yz / all.var_z, REL_TOL, "cuped_theta: pooled covariance over pooled variance");
	is_close(c0a.mean, ma.mean, REL_TOL, "cuped_statistic with theta 0 is the unadjusted mean");
	is_close(c0a.variance, ma.variance, REL_TOL, "cuped_statistic with theta 0 has the unadjusted variance");
	is_close(cuped_statistic(&a, theta, false).variance,
			 a.var_y + theta * theta * a.var_z - 2 * theta * a.cov_yz, REL_TOL,
			 "cuped_statistic: var(y) + theta^2 var(z) - 2 theta cov");
	is_close(cuped_relative_lift_variance(&b, &a, 0.0, false), relative_lift_variance(&mb, &ma), REL_TOL,
			 "cuped_relative_lift_variance with theta 0 is the unadjusted one");
	is_close(mean_statistic(&a, true).variance, a.mean_y * (1 - a.mean_y), REL_TOL,
			 "mean_statistic of a proportion: p (1 - p)");
	is_close(t.diff, w.diff, REL_TOL, "metric_t_test: the difference of means");
	is_close(t.p_value, w.p_value, REL_TOL, "metric_t_test: Welch's p-value");
	is_close(t.ci_low, w.ci_low, REL_TOL, "metric_t_test: Welch's interval");
	is_close(t.lift, (mb.mean - ma.mean) / fabs(ma.mean), REL_TOL, "metric_t_test: lift over |control|");
	is_close((t.lift_ci_high - t.lift) / (t.ci_high - t.diff),
			 sqrt(relative_lift_variance(&mb, &ma)) / t.se, REL_TOL,
			 "metric_t_test: the relative interval at the same t quantile");
	is_close(relative_lift_variance(&mb, &ma),
			 mb.variance / mb.n / pow(ma.mean, 2) + pow(mb.mean, 2) * ma.variance / ma.n / pow(ma.mean, 4),
			 REL_TOL, "relative_lift_variance: v1/(n1 m0^2) + m1^2 v0/(n0 m0^4)");
}

int
main(void)
{
	test_growthbook();
	test_distributions();
	test_ab_tests();
	test_planning();
	test_standard_normal();
	test_normal_tail();
	test_thompson();
	test_metric_stats();
	return tap_finish();
}
