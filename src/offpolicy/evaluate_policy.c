/*-------------------------------------------------------------------------
 *
 * evaluate_policy.c
 *	  ml.evaluate_policy(): what a candidate policy would have earned on a
 *	  task's logged decisions, estimated off-policy.
 *
 * One pass over the task's decisions (logged_scan.c), then one row per
 * estimator, with the overlap warnings.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "common/srf.h"
#include "offpolicy/logged_scan.h"
#include "predict/action_distribution.h"

PG_FUNCTION_INFO_V1(learnloop_evaluate_policy);

enum
{
	ARG_TASK, ARG_CANDIDATE, ARG_REWARD, ARG_SINCE, ARG_UNTIL, ARG_EXPLORE, ARG_EPSILON,
	ARG_TEMPERATURE, ARG_GAMMA, ARG_VERSION, ARG_DM_MODEL, ARG_ACTION_FEATURE,
	ARG_MAX_WEIGHT, ARG_BOOTSTRAP, ARG_SEED, ARG_CONFIDENCE
};

/* the overlap warnings' thresholds (docs/exploration.md) */
#define LOW_ESS_SHARE 0.1
#define CLIPPED_SHARE 0.05
#define UNSUPPORTED_SHARE 0.01

/* Adds a warning to the list and raises it. */
static void
warn(List **warnings, const char *hint, const char *fmt,...) pg_attribute_printf(3, 4);

static void
warn(List **warnings, const char *hint, const char *fmt,...)
{
	StringInfoData buf;
	va_list		args;

	initStringInfo(&buf);
	va_start(args, fmt);
	appendStringInfoVA(&buf, fmt, args);
	va_end(args);
	ereport(WARNING, (errmsg("%s", buf.data), errhint("%s", hint)));
	*warnings = lappend(*warnings, buf.data);
}

/*
 * The overlap and weight warnings (docs/exploration.md has the
 * thresholds): candidate probability on actions the logging policy gave
 * probability 0, or that it never took; an effective sample size small
 * against the rows; many clipped weights.
 */
static List *
overlap_warnings(const Candidate *c, const OffPolicy *ope)
{
	List	   *warnings = NIL;
	int64		n = (int64) ope->total.n;
	StringInfoData never;

	if (n == 0)
		return NIL;
	if (c->with_distribution > 0 && c->unsupported / c->with_distribution >= UNSUPPORTED_SHARE)
		warn(&warnings, "The estimates cannot see what those actions earn: they are biased. Log with exploration over every eligible action.",
			 "%.1f%% of the candidate's probability goes to actions the logging policy gave probability 0",
			 100 * c->unsupported / c->with_distribution);
	initStringInfo(&never);
	for (int a = 0; a < c->nactions; a++)
		if (c->logged[a] == 0 && c->mass[a] / n >= UNSUPPORTED_SHARE)
			appendStringInfo(&never, "%s\"%s\" (%.1f%%)", never.len ? ", " : "", c->actions[a],
							 100 * c->mass[a] / n);
	if (never.len > 0)
		warn(&warnings, "No logged decision shows what these actions earn: the estimates are biased.",
			 "the candidate takes actions the logging policy never took: %s", never.data);
	if (off_policy_ess(ope) < LOW_ESS_SHARE * n)
		warn(&warnings, "Few rows carry the estimate: the intervals are wide and IPS is unstable; SNIPS and DR are steadier.",
			 "the effective sample size %.1f is below %.0f%% of the " INT64_FORMAT " rows",
			 off_policy_ess(ope), 100 * LOW_ESS_SHARE, n);
	if (ope->clipped > CLIPPED_SHARE * n)
		warn(&warnings, "Clipped weights bias IPS and SNIPS toward the logged rows; raise max_weight to trade bias for variance.",
			 INT64_FORMAT " of " INT64_FORMAT " weights exceed max_weight %g (the largest is %g)",
			 ope->clipped, n, ope->max_weight, ope->largest_weight);
	return warnings;
}

/*
 * ml.evaluate_policy(task, candidate, reward, since, until, explore,
 * epsilon, temperature, gamma, version, dm_model, action_feature,
 * max_weight, bootstrap, seed, confidence): one row per estimator.
 */
Datum
learnloop_evaluate_policy(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo;
	Exploration exploration;
	EvalOptions options;
	Candidate	candidate;
	LoggedScan	scan = {0};
	OffPolicy  *ope;
	double	   *scratch;
	List	   *warnings;
	Datum	   *warning_items;
	ListCell   *lc;
	int			nwarnings = 0;

	for (int i = ARG_TASK; i <= ARG_REWARD; i++)
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("ml.evaluate_policy needs a task, a candidate and a reward"),
					 errhint("The reward is a key of the decisions' outcome holding a number or a boolean.")));
	scan_options(fcinfo, ARG_SINCE, ARG_UNTIL, ARG_MAX_WEIGHT, ARG_BOOTSTRAP, ARG_SEED, ARG_CONFIDENCE,
				 &options);
	exploration_args(fcinfo, ARG_EXPLORE, &exploration);
	candidate_open(&candidate, text_to_cstring(PG_GETARG_TEXT_PP(ARG_CANDIDATE)),
				   PG_ARGISNULL(ARG_VERSION) ? CANDIDATE_NEWEST : model_version_arg(fcinfo, ARG_VERSION),
				   PG_ARGISNULL(ARG_DM_MODEL) ? NULL : PG_GETARG_TEXT_PP(ARG_DM_MODEL),
				   PG_ARGISNULL(ARG_ACTION_FEATURE) ? "action" : text_to_cstring(PG_GETARG_TEXT_PP(ARG_ACTION_FEATURE)),
				   &exploration);
	rsinfo = srf_materialize(fcinfo);
	scan.function = "ml.evaluate_policy";
	scan.fcinfo = fcinfo;
	scan.reward = text_to_cstring(PG_GETARG_TEXT_PP(ARG_REWARD));
	scan.ncandidates = 1;
	scan.candidates = &candidate;
	logged_scan_run(&scan, &options, PG_GETARG_TEXT_PP(ARG_TASK));
	ope = &scan.estimates[0];
	scratch = palloc(sizeof(double) * 2 * Max(options.resamples, 1));
	logged_scan_notice(&scan);
	warnings = overlap_warnings(&candidate, ope);
	if (candidate.dm == NULL && ope->total.n > 0)
		ereport(NOTICE,
				(errmsg("no direct method: the doubly robust estimate is NULL"),
				 errhint("The candidate is no outcome model; pass dm_model, an outcome model of the reward.")));
	warning_items = palloc(sizeof(Datum) * Max(list_length(warnings), 1));
	foreach(lc, warnings)
		warning_items[nwarnings++] = CStringGetTextDatum(lfirst(lc));

	for (int e = 0; e < OFF_POLICY_ESTIMATORS; e++)
	{
		OffPolicyEstimate est;
		Datum		values[15];
		bool		nulls[15] = {false};
		bool		logged = e == OPE_LOGGED;
		bool		no_dm = e == OPE_DR && candidate.dm == NULL;

		off_policy_estimate(ope, (OffPolicyEstimator) e, options.level, scratch, &est);
		if (no_dm)
			est.value = est.ci_low = est.ci_high = est.std_error = est.lift = est.lift_low = est.lift_high = NAN;
		values[0] = CStringGetTextDatum(off_policy_estimator_name((OffPolicyEstimator) e));
		values[1] = float8_or_null(est.value, &nulls[1]);
		values[2] = float8_or_null(est.ci_low, &nulls[2]);
		values[3] = float8_or_null(est.ci_high, &nulls[3]);
		values[4] = float8_or_null(est.std_error, &nulls[4]);
		values[5] = float8_or_null(logged ? NAN : est.lift, &nulls[5]);
		values[6] = float8_or_null(logged ? NAN : est.lift_low, &nulls[6]);
		values[7] = float8_or_null(logged ? NAN : est.lift_high, &nulls[7]);
		values[8] = Int64GetDatum((int64) ope->total.n);
		values[9] = Float8GetDatum(logged ? ope->total.n : off_policy_ess(ope));
		values[10] = Int64GetDatum(logged ? 0 : ope->clipped);
		values[11] = Float8GetDatum(logged ? 1 : ope->largest_weight);
		values[12] = Int64GetDatum(scan.scanned - (int64) ope->total.n);
		values[13] = float8_or_null(candidate.with_distribution > 0 ?
								   candidate.unsupported / candidate.with_distribution : NAN, &nulls[13]);
		values[14] = PointerGetDatum(construct_array(warning_items, nwarnings, TEXTOID, -1, false, TYPALIGN_INT));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
