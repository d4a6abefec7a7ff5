/*-------------------------------------------------------------------------
 *
 * analyze.c
 *	  ml.experiment_statistics(): every variant against the control.
 *
 * Means are compared with Welch's t test, 0/1 metrics with the two-
 * proportion z test; relative lifts get delta-method intervals.  With
 * sequential => true the intervals and p-values are GrowthBook's
 * always-valid ones, safe to look at every day.  p-values are adjusted
 * across the treatments (Holm or Benjamini-Hochberg) and the verdict uses
 * the adjusted one, only once both arms reached min_sample_size.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "common/args.h"
#include "experiment/args.h"
#include "experiment/config_cache.h"
#include "experiment/srm.h"
#include "experiment/stats.h"
#include "experiment/summary.h"
#include "common/srf.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"

PG_FUNCTION_INFO_V1(learnloop_experiment_statistics);

#define SEQUENTIAL_TAU 5000.0	/* GrowthBook's default tuning */
#define NCOLUMNS 18

typedef struct Options
{
	const char *metric;
	double		alpha;
	char		correction;		/* 'h'olm, 'b'h or 'n'one */
	bool		sequential;
	bool		zero_fill;
} Options;

static const char *
choice_arg(FunctionCallInfo fcinfo, int argno, const char *argname,
		   const char *const *choices, int nchoices)
{
	char	   *value = text_to_cstring(experiment_text_arg(fcinfo, argno, argname));

	return choices[args_choice(value, argname, choices, nchoices)];
}

static Options
read_options(FunctionCallInfo fcinfo, const ExperimentConfig *exp)
{
	static const char *const corrections[] = {"holm", "bh", "none"};
	static const char *const missing[] = {"zero", "exclude"};
	Options		o;

	o.metric = PG_ARGISNULL(1) ? exp->primary_metric
		: text_to_cstring(experiment_text_arg(fcinfo, 1, "metric"));
	if (o.metric == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("experiment \"%s\" has no primary metric", exp->name),
				 errhint("Name the metric: ml.analyze('%s', metric => 'engaged').", exp->name)));
	o.metric = pstrdup(o.metric);	/* outlives the cache entry */
	o.alpha = experiment_float_arg(fcinfo, 2, "alpha", 1e-10, 0.5);
	o.correction = choice_arg(fcinfo, 3, "correction", corrections, lengthof(corrections))[0];
	o.sequential = experiment_bool_arg(fcinfo, 4, "sequential");
	o.zero_fill = choice_arg(fcinfo, 5, "missing", missing, lengthof(missing))[0] == 'z';
	return o;
}

/* Treatment s1 against control s0, as a test result in the Options' terms. */
static AbTestResult
compare(const VariantSummary *s1, const VariantSummary *s0, bool binary,
		const Options *o)
{
	AbTestResult res;

	if (binary)
		res = two_proportion_test((int64) llround(s1->mean * s1->n), s1->n,
								  (int64) llround(s0->mean * s0->n), s0->n, o->alpha);
	else
		res = welch_test(s1->mean, s1->variance, s1->n,
						 s0->mean, s0->variance, s0->n, o->alpha);
	if (o->sequential)
	{
		double		fixed = res.ci_high - res.diff;
		double		hw = always_valid_ci_halfwidth(res.se, s1->n + s0->n,
												   o->alpha, SEQUENTIAL_TAU);
		double		scale = hw / fixed;

		res.ci_low = res.diff - hw;
		res.ci_high = res.diff + hw;
		res.p_value = always_valid_p_value(res.diff, res.se, s1->n + s0->n,
										   o->alpha, SEQUENTIAL_TAU);
		/* the relative interval widens in the same proportion */
		res.lift_ci_low = res.lift - scale * (res.lift - res.lift_ci_low);
		res.lift_ci_high = res.lift + scale * (res.lift_ci_high - res.lift);
	}
	return res;
}

/* SRM over the units the summaries counted (they include outcome-only units) */
static double
srm(const ExperimentConfig *exp, const VariantSummary *s)
{
	int64	   *units = palloc(exp->nvariants * sizeof(int64));

	for (int i = 0; i < exp->nvariants; i++)
		units[i] = s[i].units;
	return experiment_srm(exp, units);
}

static const char *
verdict(const ExperimentConfig *exp, const VariantSummary *s1,
		const VariantSummary *s0, double srm_p, double adjusted_p,
		double diff, const Options *o)
{
	if (s1->units < exp->min_sample_size || s0->units < exp->min_sample_size)
		return "collecting data";
	if (srm_p < SRM_THRESHOLD)
		return "sample ratio mismatch";
	if (adjusted_p < o->alpha)
		return diff > 0 ? "better" : "worse";
	return "inconclusive";
}

/*
 * A metric no outcome of the experiment has is a typo far more often than
 * a metric without data: it would be analysed as all zeros.  Only declared
 * metrics (primary, guardrails) are analysed before their first outcome.
 */
static void
require_known_metric(const ExperimentConfig *exp, const char *metric,
					 const VariantSummary *s)
{
	if (exp->primary_metric && strcmp(exp->primary_metric, metric) == 0)
		return;
	for (int i = 0; i < exp->nguardrails; i++)
		if (exp->guardrail_metrics[i] && strcmp(exp->guardrail_metrics[i], metric) == 0)
			return;
	for (int i = 0; i < exp->nvariants; i++)
		if (s[i].with_value > 0)
			return;
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("experiment \"%s\" has no outcome of metric \"%s\"", exp->name, metric),
			 errhint("Metric names are case-sensitive: ml.experiment_outcomes lists the recorded ones. "
					 "The primary and guardrail metrics are analysed before their first outcome.")));
}

Datum
learnloop_experiment_statistics(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = srf_materialize(fcinfo);
	ExperimentConfig *exp = experiment_lookup(fcinfo->flinfo, experiment_text_arg(fcinfo, 0, "experiment"));
	Options		o = read_options(fcinfo, exp);
	int			k = exp->nvariants;
	VariantSummary *s = palloc(k * sizeof(VariantSummary));
	AbTestResult *res = palloc(k * sizeof(AbTestResult));
	double	   *p = palloc(k * sizeof(double));
	double	   *adjusted = palloc(k * sizeof(double));
	bool		binary = experiment_summaries(exp, o.metric, o.zero_fill, s);
	double		srm_p;
	int			i;

	/* experiment_summaries ran SPI, but no lookup since: exp is still ours */
	require_known_metric(exp, o.metric, s);
	srm_p = srm(exp, s);
	for (i = 1; i < k; i++)
	{
		res[i] = compare(&s[i], &s[0], binary, &o);
		p[i - 1] = res[i].p_value;
	}
	if (o.correction == 'h')
		holm_adjust(p, k - 1, adjusted);
	else if (o.correction == 'b')
		benjamini_hochberg_adjust(p, k - 1, adjusted);
	else
		memcpy(adjusted, p, (k - 1) * sizeof(double));

	for (i = 0; i < k; i++)
	{
		Datum		values[NCOLUMNS];
		bool		nulls[NCOLUMNS];
		int			c;

		memset(nulls, true, sizeof(nulls));
		values[0] = PointerGetDatum(exp->variants[i]);
		values[1] = BoolGetDatum(i == 0);
		values[2] = Int64GetDatum(s[i].units);
		values[3] = Int64GetDatum(s[i].with_value);
		for (c = 0; c < 4; c++)
			nulls[c] = false;
		values[4] = float8_or_null(s[i].mean, &nulls[4]);
		values[5] = float8_or_null(s[i].variance, &nulls[5]);
		values[6] = CStringGetTextDatum(binary ? "two-proportion" : "welch");
		nulls[6] = false;
		if (i > 0)
		{
			double		chance = chance_to_beat_control(s[i].mean, sqrt(s[i].variance / s[i].n),
														s[0].mean, sqrt(s[0].variance / s[0].n));

			values[7] = float8_or_null(res[i].diff, &nulls[7]);
			values[8] = float8_or_null(res[i].ci_low, &nulls[8]);
			values[9] = float8_or_null(res[i].ci_high, &nulls[9]);
			values[10] = float8_or_null(res[i].lift, &nulls[10]);
			values[11] = float8_or_null(res[i].lift_ci_low, &nulls[11]);
			values[12] = float8_or_null(res[i].lift_ci_high, &nulls[12]);
			values[13] = float8_or_null(res[i].p_value, &nulls[13]);
			values[14] = float8_or_null(adjusted[i - 1], &nulls[14]);
			values[15] = float8_or_null(chance, &nulls[15]);
		}
		values[16] = float8_or_null(srm_p, &nulls[16]);
		values[17] = CStringGetTextDatum(i == 0 ? "control" :
										 verdict(exp, &s[i], &s[0], srm_p,
												 adjusted[i - 1], res[i].diff, &o));
		nulls[17] = false;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
