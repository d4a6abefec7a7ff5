/*-------------------------------------------------------------------------
 *
 * analyze.c
 *	  ml.experiment_statistics(): every variant against the control, with
 *	  a verdict per variant and a decision for the experiment.
 *
 * Each metric is analysed by metric_result.c.  p-values are adjusted
 * across the treatments (Holm or Benjamini-Hochberg), and with
 * correct_metrics across the primary and guardrail metrics too; the
 * verdict uses the adjusted one, in the metric's direction, only once both
 * arms reached min_sample_size (and the metric's min_units).  The primary
 * metric's "better" is held when a guardrail is significantly worse
 * (one-sided, at the guardrail's alpha).  The decision reads the verdicts.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "common/args.h"
#include "experiment/args.h"
#include "experiment/config_cache.h"
#include "experiment/metric_result.h"
#include "experiment/srm.h"
#include "experiment/stats.h"
#include "experiment/summary.h"
#include "common/srf.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"

PG_FUNCTION_INFO_V1(learnloop_experiment_statistics);

#define NCOLUMNS 30

typedef struct Options
{
	const char *metric;
	double		alpha;
	char		correction;		/* 'h'olm, 'b'h or 'n'one */
	bool		sequential;
	bool		zero_fill;
	bool		correct_metrics;
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
	/* SQL objects older than 0.4.0 do not pass it */
	o.correct_metrics = fcinfo->nargs > 6 && experiment_bool_arg(fcinfo, 6, "correct_metrics");
	return o;
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

static bool
is_primary(const ExperimentConfig *exp, const char *metric)
{
	return exp->primary_metric != NULL && strcmp(exp->primary_metric, metric) == 0;
}

/*
 * The primary and guardrail metrics of exp, primary first (NULL when there
 * is none), or none when metric is not among them.
 */
static int
family(const ExperimentConfig *exp, const char *metric, const char ***names)
{
	int			n = 0;
	bool		member = is_primary(exp, metric);

	*names = palloc((exp->nguardrails + 1) * sizeof(char *));
	(*names)[n++] = exp->primary_metric ? pstrdup(exp->primary_metric) : NULL;
	for (int i = 0; i < exp->nguardrails; i++)
		if (exp->guardrail_metrics[i] != NULL)
		{
			member |= strcmp(exp->guardrail_metrics[i], metric) == 0;
			(*names)[n++] = pstrdup(exp->guardrail_metrics[i]);
		}
	return member ? n : 0;
}

static void
adjust(const double *p, int n, char correction, double *out)
{
	if (correction == 'h')
		holm_adjust(p, n, out);
	else if (correction == 'b')
		benjamini_hochberg_adjust(p, n, out);
	else
		memcpy(out, p, n * sizeof(double));
}

/*
 * Is the guardrail g significantly worse for variant i?  One-sided, at its
 * own alpha (else the analysis'), in its direction.
 */
static bool
guardrail_worse(const MetricResult *g, int i, double alpha)
{
	const AbTestResult *t = metric_decisive(g, i);
	double		better = g->lower ? -t->stat : t->stat;

	return student_t_cdf(better, t->df) < (isnan(g->alpha) ? alpha : g->alpha);
}

static int64
min_units(const ExperimentConfig *exp, const MetricResult *r)
{
	return Max(exp->min_sample_size, r->min_units);
}

static const char *
verdict(const ExperimentConfig *exp, const MetricResult *r, int i, double srm_p,
		double adjusted_p, const MetricResult *const *guardrails, int nguardrails,
		const Options *o)
{
	int64		need = min_units(exp, r);
	double		diff = metric_decisive(r, i)->diff;

	if (r->s[i].units < need || r->s[0].units < need)
		return "collecting data";
	if (srm_p < SRM_THRESHOLD)
		return "sample ratio mismatch";
	if (!(adjusted_p < o->alpha))
		return "inconclusive";
	if ((diff < 0) != r->lower)
		return "worse";
	for (int g = 0; g < nguardrails; g++)
		if (guardrail_worse(guardrails[g], i, o->alpha))
			return psprintf("hold: guardrail %s worse", guardrails[g]->metric);
	return "better";
}

/*
 * ship the best variant whose verdict is better; keep control when every
 * treatment is worse or held; else keep running.
 */
static const char *
decision(const ExperimentConfig *exp, const MetricResult *r, const char **verdicts,
		 double srm_p)
{
	int			best = -1;
	bool		all_against = true;

	if (srm_p < SRM_THRESHOLD)
		return "investigate: sample ratio mismatch";
	for (int i = 0; i < exp->nvariants; i++)
		if (r->s[i].units < min_units(exp, r))
			return "keep running";
	for (int i = 1; i < exp->nvariants; i++)
	{
		double		diff = metric_decisive(r, i)->diff;

		if (strcmp(verdicts[i], "better") == 0 &&
			(best < 0 || (r->lower ? diff < metric_decisive(r, best)->diff
						  : diff > metric_decisive(r, best)->diff)))
			best = i;
		all_against &= strcmp(verdicts[i], "worse") == 0 ||
			strncmp(verdicts[i], "hold:", 5) == 0;
	}
	if (best > 0)
		return psprintf("ship %s", text_to_cstring(exp->variants[best]));
	return all_against ? "keep control" : "keep running";
}

/*
 * The adjusted p-values of the treatments of members[0]: across them, or
 * across every treatment of every member.
 */
static void
adjusted_p_values(int k, const MetricResult *const *members, int nmembers,
				  char correction, double *out)
{
	int			n = 0;
	double	   *p = palloc(nmembers * k * sizeof(double));
	double	   *adjusted = palloc(nmembers * k * sizeof(double));

	for (int j = 0; j < nmembers; j++)
		for (int i = 1; i < k; i++)
			p[n++] = metric_decisive(members[j], i)->p_value;
	adjust(p, n, correction, adjusted);
	memcpy(out + 1, adjusted, (k - 1) * sizeof(double));
}

static void
put_row(ReturnSetInfo *rsinfo, const ExperimentConfig *exp, const MetricResult *r,
		int i, double adjusted_p, double srm_p, const char *verdict_text,
		const char *decision_text)
{
	Datum		values[NCOLUMNS];
	bool		nulls[NCOLUMNS];
	const VariantSummary *s = &r->s[i];
	int			c;

	memset(nulls, true, sizeof(nulls));
	values[0] = PointerGetDatum(exp->variants[i]);
	values[1] = BoolGetDatum(i == 0);
	values[2] = Int64GetDatum(s->units);
	values[3] = Int64GetDatum(s->with_value);
	for (c = 0; c < 4; c++)
		nulls[c] = false;
	values[4] = float8_or_null(s->mean, &nulls[4]);
	values[5] = float8_or_null(s->variance, &nulls[5]);
	values[6] = CStringGetTextDatum(r->test);
	nulls[6] = false;
	if (i > 0)
	{
		const AbTestResult *res = &r->res[i];

		values[7] = float8_or_null(res->diff, &nulls[7]);
		values[8] = float8_or_null(res->ci_low, &nulls[8]);
		values[9] = float8_or_null(res->ci_high, &nulls[9]);
		values[10] = float8_or_null(res->lift, &nulls[10]);
		values[11] = float8_or_null(res->lift_ci_low, &nulls[11]);
		values[12] = float8_or_null(res->lift_ci_high, &nulls[12]);
		values[13] = float8_or_null(res->p_value, &nulls[13]);
		values[14] = float8_or_null(adjusted_p, &nulls[14]);
		values[15] = float8_or_null(r->chance[i], &nulls[15]);
	}
	values[16] = float8_or_null(srm_p, &nulls[16]);
	values[17] = CStringGetTextDatum(verdict_text);
	values[18] = CStringGetTextDatum(r->metric);
	values[19] = CStringGetTextDatum(r->kind);
	values[20] = CStringGetTextDatum(r->lower ? "lower" : "higher");
	for (c = 17; c <= 20; c++)
		nulls[c] = false;
	if (i > 0 && r->cuped)
	{
		const AbTestResult *adj = &r->adjusted[i];

		values[21] = float8_or_null(adj->diff, &nulls[21]);
		values[22] = float8_or_null(adj->ci_low, &nulls[22]);
		values[23] = float8_or_null(adj->ci_high, &nulls[23]);
		values[24] = float8_or_null(adj->lift, &nulls[24]);
		values[25] = float8_or_null(adj->lift_ci_low, &nulls[25]);
		values[26] = float8_or_null(adj->lift_ci_high, &nulls[26]);
		values[27] = float8_or_null(adj->p_value, &nulls[27]);
		values[28] = float8_or_null(r->variance_reduction[i], &nulls[28]);
	}
	values[29] = CStringGetTextDatum(decision_text);
	nulls[29] = false;
	/* SQL objects older than 0.4.0 have the first 18 columns: putvalues reads those */
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

Datum
learnloop_experiment_statistics(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = srf_materialize(fcinfo);
	ExperimentConfig *exp = experiment_lookup(fcinfo->flinfo, experiment_text_arg(fcinfo, 0, "experiment"));
	Options		o = read_options(fcinfo, exp);
	int			k = exp->nvariants;
	MetricResult r;
	const char **names;
	int			nfamily = family(exp, o.metric, &names);
	bool		primary = is_primary(exp, o.metric);

	/* members[0] is the metric analysed, then the others of its family analysed too */
	const MetricResult **members = palloc((nfamily + 1) * sizeof(MetricResult *));
	int			nmembers = 1;
	double	   *adjusted = palloc0(k * sizeof(double));
	const char **verdicts = palloc(k * sizeof(char *));
	const char *decided;
	double		srm_p;

	/* the lookups below run SPI, but no experiment lookup: exp stays ours */
	metric_result(exp, o.metric, o.alpha, o.sequential, o.zero_fill, &r);
	members[0] = &r;
	/* the guardrails hold the primary; with correct_metrics, all share one correction */
	for (int j = 0; j < nfamily; j++)
		if (names[j] != NULL && strcmp(names[j], o.metric) != 0 &&
			(o.correct_metrics || (primary && j > 0)))
		{
			MetricResult *m = palloc(sizeof(MetricResult));

			metric_result(exp, names[j], o.alpha, o.sequential, o.zero_fill, m);
			members[nmembers++] = m;
		}
	srm_p = srm(exp, r.s);
	adjusted_p_values(k, members, o.correct_metrics ? nmembers : 1, o.correction, adjusted);
	verdicts[0] = "control";
	for (int i = 1; i < k; i++)
		verdicts[i] = verdict(exp, &r, i, srm_p, adjusted[i], members + 1,
							  primary ? nmembers - 1 : 0, &o);
	decided = decision(exp, &r, verdicts, srm_p);
	for (int i = 0; i < k; i++)
		put_row(rsinfo, exp, &r, i, adjusted[i], srm_p, verdicts[i], decided);
	return (Datum) 0;
}
