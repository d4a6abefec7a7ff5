/*-------------------------------------------------------------------------
 *
 * metric_result.c
 *	  One metric of an experiment analysed, every treatment against the
 *	  control.
 *
 * A metric that ml.metrics does not define is analysed as it always was:
 * the latest outcome per unit, Welch's t test, or the two-proportion z test
 * when every value is 0 or 1.  A defined one follows gbstats: per-unit
 * values aggregated from the unit's events (metric_query.c), the arm's
 * statistic by its kind (metric_stats.c) and Welch's t on the absolute and
 * relative lifts, CUPED next to them.  With sequential => true the
 * intervals and p-values are GrowthBook's always-valid ones.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "experiment/metric_def.h"
#include "experiment/metric_query.h"
#include "experiment/metric_result.h"
#include "experiment/metric_stats.h"

#define SEQUENTIAL_TAU 5000.0	/* GrowthBook's default tuning */

static const char *const kind_names[] = {"proportion", "mean", "count", "ratio"};

/*
 * The always-valid interval and p-value for n units in both arms; the
 * relative interval widens in the same proportion.
 */
static void
make_sequential(AbTestResult *res, double n, double alpha)
{
	double		fixed = res->ci_high - res->diff;
	double		hw = always_valid_ci_halfwidth(res->se, n, alpha, SEQUENTIAL_TAU);
	double		scale = hw / fixed;

	res->ci_low = res->diff - hw;
	res->ci_high = res->diff + hw;
	res->p_value = always_valid_p_value(res->diff, res->se, n, alpha, SEQUENTIAL_TAU);
	res->lift_ci_low = res->lift - scale * (res->lift - res->lift_ci_low);
	res->lift_ci_high = res->lift + scale * (res->lift_ci_high - res->lift);
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

/* The latest outcome per unit, as before metrics could be defined */
static void
undefined_result(const ExperimentConfig *exp, double alpha, bool sequential,
				 bool zero_fill, MetricResult *r)
{
	bool		binary = experiment_summaries(exp, r->metric, zero_fill, r->s);
	const VariantSummary *s0 = &r->s[0];

	require_known_metric(exp, r->metric, r->s);
	r->kind = binary ? "proportion" : "mean";
	r->test = binary ? "two-proportion" : "welch";
	for (int i = 1; i < exp->nvariants; i++)
	{
		const VariantSummary *s1 = &r->s[i];

		if (binary)
			r->res[i] = two_proportion_test((int64) llround(s1->mean * s1->n), s1->n,
											(int64) llround(s0->mean * s0->n), s0->n, alpha);
		else
			r->res[i] = welch_test(s1->mean, s1->variance, s1->n,
								   s0->mean, s0->variance, s0->n, alpha);
		if (sequential)
			make_sequential(&r->res[i], s1->n + s0->n, alpha);
		r->chance[i] = chance_to_beat_control(s1->mean, sqrt(s1->variance / s1->n),
											  s0->mean, sqrt(s0->variance / s0->n));
	}
}

/* gbstats' statistics of the arms' per-unit values */
static void
defined_result(const ExperimentConfig *exp, const MetricDef *def, double alpha,
			   bool sequential, bool zero_fill, MetricResult *r)
{
	int			k = exp->nvariants;
	MetricArm  *arms = palloc(k * sizeof(MetricArm));
	ArmStatistic *st = palloc(k * sizeof(ArmStatistic));
	bool		proportion = def->main.kind == 'p';
	bool		proportions = proportion && def->covariate.kind == 'p';

	metric_moments(exp, def, zero_fill, arms);
	r->kind = kind_names[strchr("pmcr", def->main.kind) - "pmcr"];
	r->test = "welch";
	r->lower = def->lower;
	r->min_units = def->min_units;
	r->alpha = def->alpha;
	r->cuped = def->has_covariate;
	for (int i = 0; i < k; i++)
	{
		st[i] = def->main.kind == 'r' ? ratio_statistic(&arms[i].m)
			: mean_statistic(&arms[i].m, proportion);
		r->s[i].units = arms[i].units;
		r->s[i].with_value = arms[i].with_value;
		r->s[i].n = (int64) arms[i].m.n;
		r->s[i].mean = st[i].mean;
		r->s[i].variance = st[i].variance;
	}
	for (int i = 1; i < k; i++)
	{
		AbTestResult *res = &r->res[i];

		*res = metric_t_test(&st[i], &st[0], st[0].mean,
							 relative_lift_variance(&st[i], &st[0]), alpha);
		r->chance[i] = normal_cdf((def->lower ? -res->diff : res->diff) / res->se);
		if (r->cuped)
		{
			/* theta on this pair, as gbstats; 0 leaves the figures unadjusted */
			double		theta = cuped_theta(&arms[0].m, &arms[i].m);
			ArmStatistic a = cuped_statistic(&arms[0].m, theta, proportions);
			ArmStatistic b = cuped_statistic(&arms[i].m, theta, proportions);

			if (theta == 0.0)
				r->adjusted[i] = *res;
			else
				r->adjusted[i] = metric_t_test(&b, &a, arms[0].m.mean_y,
											   cuped_relative_lift_variance(&arms[i].m, &arms[0].m,
																			theta, proportions),
											   alpha);
			r->variance_reduction[i] = 1.0 - (r->adjusted[i].se * r->adjusted[i].se) /
				(res->se * res->se);
			if (sequential)
				make_sequential(&r->adjusted[i], st[i].n + st[0].n, alpha);
		}
		if (sequential)
			make_sequential(res, st[i].n + st[0].n, alpha);
	}
}

void
metric_result(const ExperimentConfig *exp, const char *metric, double alpha,
			  bool sequential, bool zero_fill, MetricResult *r)
{
	int			k = exp->nvariants;
	MetricDef	def;

	memset(r, 0, sizeof(*r));
	r->metric = pstrdup(metric);
	r->alpha = NAN;
	r->s = palloc0(k * sizeof(VariantSummary));
	r->res = palloc0(k * sizeof(AbTestResult));
	r->adjusted = palloc0(k * sizeof(AbTestResult));
	r->variance_reduction = palloc0(k * sizeof(double));
	r->chance = palloc0(k * sizeof(double));
	if (metric_lookup(metric, &def))
		defined_result(exp, &def, alpha, sequential, zero_fill, r);
	else
		undefined_result(exp, alpha, sequential, zero_fill, r);
}
