/*-------------------------------------------------------------------------
 *
 * evaluate_policy.c
 *	  ml.evaluate_policy(): what a candidate policy would have earned on a
 *	  task's logged decisions, estimated off-policy.
 *
 * One pass over the task's decisions, streamed from the executor (no row
 * is kept): each decision that logged its propensity and whose outcome
 * holds the reward feeds the estimators of policy/off_policy.c with the
 * candidate's probability of the logged action (candidate.c).  The other
 * rows are counted and excluded, with a NOTICE.  The rows are read in
 * no particular order: the seeded bootstrap draws each row's counts from
 * its id, so the same rows give the same intervals whatever the plan.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "common/numeric_double.h"
#include "common/spi_plan.h"
#include "common/srf.h"
#include "offpolicy/candidate.h"
#include "predict/action_distribution.h"
#include "policy/off_policy.h"

PG_FUNCTION_INFO_V1(learnloop_evaluate_policy);

enum
{
	ARG_TASK, ARG_CANDIDATE, ARG_REWARD, ARG_SINCE, ARG_UNTIL, ARG_EXPLORE, ARG_EPSILON,
	ARG_TEMPERATURE, ARG_GAMMA, ARG_VERSION, ARG_DM_MODEL, ARG_ACTION_FEATURE,
	ARG_MAX_WEIGHT, ARG_BOOTSTRAP, ARG_SEED, ARG_CONFIDENCE
};

#define MAX_RESAMPLES 100000

/* the overlap warnings' thresholds (docs/exploration.md) */
#define LOW_ESS_SHARE 0.1
#define CLIPPED_SHARE 0.05
#define UNSUPPORTED_SHARE 0.01

/* Why rows were left out. */
typedef struct Excluded
{
	int64		no_propensity;
	int64		bad_propensity;
	int64		no_action;
	int64		no_reward;
	int64		unscorable;
} Excluded;

/* Where the scan's rows go, one at a time. */
typedef struct ScanReceiver
{
	DestReceiver pub;
	FunctionCallInfo fcinfo;
	const char *reward;
	Candidate  *candidate;
	OffPolicy  *ope;
	int64		scanned;
	Excluded	excluded;
	MemoryContext row;
} ScanReceiver;

static double
jsonb_number(const JsonbValue *v)
{
	return numeric_to_double_no_overflow(v->val.numeric);
}

/*
 * The row's reward: false when the outcome is missing, lacks the key or
 * holds null there.  A reward that is there but is no finite number or
 * boolean (a string such as "NaN", an object) is an error: it is the
 * data's mistake, and leaving the row out would bias the estimate.
 */
static bool
reward_of(Jsonb *outcome, const char *key, Datum id, double *reward)
{
	JsonbValue	v;

	if (outcome == NULL ||
		getKeyJsonValueFromContainer(&outcome->root, key, strlen(key), &v) == NULL ||
		v.type == jbvNull)
		return false;
	if (v.type == jbvBool)
	{
		*reward = v.val.boolean ? 1 : 0;
		return true;
	}
	if (v.type == jbvNumeric && isfinite(*reward = jsonb_number(&v)))
		return true;
	ereport(ERROR,
			(errcode(ERRCODE_DATA_EXCEPTION),
			 errmsg("the reward \"%s\" of decision " INT64_FORMAT " is not a finite number or boolean",
					key, DatumGetInt64(id)),
			 errhint("Correct the outcome with ml.record_outcome, or leave the decision out with since and until.")));
}

static bool
receive_row(TupleTableSlot *slot, DestReceiver *self)
{
	ScanReceiver *r = (ScanReceiver *) self;
	MemoryContext old = MemoryContextSwitchTo(r->row);
	Jsonb	   *decision;
	JsonbValue	propensity,
				action,
				distribution;
	bool		has_distribution;
	OffPolicyRow row;
	CandidateRow terms;

	slot_getallattrs(slot);
	r->scanned++;
	decision = DatumGetJsonbP(slot->tts_values[2]);
	if (getKeyJsonValueFromContainer(&decision->root, "propensity", 10, &propensity) == NULL ||
		propensity.type == jbvNull)
		r->excluded.no_propensity++;
	else if (propensity.type != jbvNumeric ||
			 !((row.propensity = jsonb_number(&propensity)) > 0 && row.propensity <= 1))
		r->excluded.bad_propensity++;
	else if (getKeyJsonValueFromContainer(&decision->root, "action", 6, &action) == NULL ||
			 action.type != jbvString)
		r->excluded.no_action++;
	else if (!reward_of(slot->tts_isnull[3] ? NULL : DatumGetJsonbP(slot->tts_values[3]),
						r->reward, slot->tts_values[0], &row.reward))
		r->excluded.no_reward++;
	else
	{
		has_distribution = getKeyJsonValueFromContainer(&decision->root, "distribution", 12,
														&distribution) != NULL &&
			distribution.type == jbvBinary && JsonContainerIsObject(distribution.val.binary.data);
		if (!candidate_row(r->candidate, r->fcinfo, DatumGetTextPP(slot->tts_values[4]),
						   DatumGetJsonbP(slot->tts_values[1]),
						   action.val.string.val, action.val.string.len,
						   has_distribution ? distribution.val.binary.data : NULL, &terms))
			r->excluded.unscorable++;
		else
		{
			row.key = (uint64) DatumGetInt64(slot->tts_values[0]);
			row.target = terms.target;
			row.dm_logged = terms.dm_logged;
			row.dm_policy = terms.dm_policy;
			off_policy_add(r->ope, &row);
		}
	}
	MemoryContextSwitchTo(old);
	MemoryContextReset(r->row);
	return true;
}

static void
receiver_startup(DestReceiver *self, int operation, TupleDesc typeinfo)
{
}

static void
receiver_nothing(DestReceiver *self)
{
}

static SPIPlanPtr scan_plan;

/* Streams the task's decisions of [since, until) into the receiver. */
static void
scan_decisions(ScanReceiver *receiver, text *task, TimestampTz since, TimestampTz until)
{
	ParamListInfo params = makeParamList(3);
	Oid			types[3] = {TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID};
	Datum		values[3] = {PointerGetDatum(task), TimestampTzGetDatum(since), TimestampTzGetDatum(until)};
	SPIExecuteOptions options = {0};

	for (int i = 0; i < 3; i++)
	{
		params->params[i].value = values[i];
		params->params[i].isnull = false;
		params->params[i].pflags = PARAM_FLAG_CONST;
		params->params[i].ptype = types[i];
	}
	options.params = params;
	options.read_only = true;
	options.dest = &receiver->pub;
	if (SPI_execute_plan_extended(spi_cached_plan(&scan_plan,
												 "SELECT id, features, decision, outcome, unit_id "
												 "FROM ml.MLTrainingData WHERE task OPERATOR(pg_catalog.=) $1 "
												 "AND created_at OPERATOR(pg_catalog.>=) $2 "
												 "AND created_at OPERATOR(pg_catalog.<) $3", 3, types),
								  &options) < 0)
		elog(ERROR, "learnloop could not read the task's decisions");
}

/* A float8 argument, or its default when NULL. */
static double
float_arg(FunctionCallInfo fcinfo, int argno, double otherwise)
{
	return PG_ARGISNULL(argno) ? otherwise : PG_GETARG_FLOAT8(argno);
}

/* Says what was excluded and why, when anything was. */
static void
notice_excluded(const ScanReceiver *r)
{
	const Excluded *e = &r->excluded;
	int64		total = e->no_propensity + e->bad_propensity + e->no_action + e->no_reward + e->unscorable;

	if (total == 0)
		return;
	ereport(NOTICE,
			(errmsg("ml.evaluate_policy excluded " INT64_FORMAT " of " INT64_FORMAT " logged decisions",
					total, r->scanned),
			 errdetail(INT64_FORMAT " without a propensity, " INT64_FORMAT " with a propensity outside (0, 1], "
					   INT64_FORMAT " without an action, " INT64_FORMAT " without the reward \"%s\" in their outcome, "
					   INT64_FORMAT " with no eligible action the candidate knows.",
					   e->no_propensity, e->bad_propensity, e->no_action, e->no_reward, r->reward,
					   e->unscorable),
			 errhint("Only decisions that logged their propensity (ml.decide, ml.choose, or ml.record_decision with propensity) can be evaluated off-policy.")));
}

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

static Datum
float_or_null(double x, bool *isnull)
{
	*isnull = isnan(x);
	return Float8GetDatum(x);
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
	MemoryContext caller = CurrentMemoryContext;
	Exploration exploration;
	double		max_weight = float_arg(fcinfo, ARG_MAX_WEIGHT, INFINITY);
	int			resamples = PG_ARGISNULL(ARG_BOOTSTRAP) ? 0 : PG_GETARG_INT32(ARG_BOOTSTRAP);
	double		level = float_arg(fcinfo, ARG_CONFIDENCE, 0.95);
	char	   *candidate_name;
	Candidate	candidate;
	OffPolicy	ope;
	OffPolicySums *boot;
	double	   *scratch;
	ScanReceiver receiver = {{receive_row, receiver_startup, receiver_nothing, receiver_nothing, DestNone}};
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
	if (!(max_weight > 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_weight must be above 0, not %g", max_weight),
				 errhint("Importance weights above max_weight are clipped to it; NULL clips none.")));
	if (resamples < 0 || resamples > MAX_RESAMPLES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("bootstrap must be from 0 to %d resamples, not %d", MAX_RESAMPLES, resamples),
				 errhint("1000 resamples give stable 95%% intervals; 0 computes none.")));
	if (!(level > 0 && level < 1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("confidence must be between 0 and 1, not %g", level),
				 errhint("0.95 gives 95%% intervals.")));
	exploration_args(fcinfo, ARG_EXPLORE, &exploration);
	candidate_name = text_to_cstring(PG_GETARG_TEXT_PP(ARG_CANDIDATE));

	rsinfo = srf_materialize(fcinfo);
	candidate_open(&candidate, fcinfo, candidate_name, model_version_arg(fcinfo, ARG_VERSION),
				   PG_ARGISNULL(ARG_DM_MODEL) ? NULL : PG_GETARG_TEXT_PP(ARG_DM_MODEL),
				   PG_ARGISNULL(ARG_ACTION_FEATURE) ? "action" : text_to_cstring(PG_GETARG_TEXT_PP(ARG_ACTION_FEATURE)),
				   &exploration);
	boot = palloc(sizeof(OffPolicySums) * Max(resamples, 1));
	scratch = palloc(sizeof(double) * 2 * Max(resamples, 1));
	off_policy_init(&ope, max_weight, resamples,
					PG_ARGISNULL(ARG_SEED) ? 42 : (uint64) PG_GETARG_INT64(ARG_SEED), boot);

	receiver.fcinfo = fcinfo;
	receiver.reward = text_to_cstring(PG_GETARG_TEXT_PP(ARG_REWARD));
	receiver.candidate = &candidate;
	receiver.ope = &ope;
	receiver.row = AllocSetContextCreate(caller, "learnloop evaluate_policy row", ALLOCSET_DEFAULT_SIZES);
	SPI_connect();
	MemoryContextSwitchTo(caller);
	scan_decisions(&receiver, PG_GETARG_TEXT_PP(ARG_TASK),
				   PG_ARGISNULL(ARG_SINCE) ? DT_NOBEGIN : PG_GETARG_TIMESTAMPTZ(ARG_SINCE),
				   PG_ARGISNULL(ARG_UNTIL) ? DT_NOEND : PG_GETARG_TIMESTAMPTZ(ARG_UNTIL));
	SPI_finish();
	MemoryContextSwitchTo(caller);
	if (receiver.scanned == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("task \"%s\" has no logged decisions in the period",
						text_to_cstring(PG_GETARG_TEXT_PP(ARG_TASK))),
				 errhint("ml.MLTrainingData holds the decisions; since and until bound created_at.")));
	notice_excluded(&receiver);
	warnings = overlap_warnings(&candidate, &ope);
	if (candidate.dm == NULL && ope.total.n > 0)
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
		int64		excluded = receiver.scanned - (int64) ope.total.n;

		off_policy_estimate(&ope, (OffPolicyEstimator) e, level, scratch, &est);
		if (no_dm)
			est.value = est.ci_low = est.ci_high = est.std_error = est.lift = est.lift_low = est.lift_high = NAN;
		values[0] = CStringGetTextDatum(off_policy_estimator_name((OffPolicyEstimator) e));
		values[1] = float_or_null(est.value, &nulls[1]);
		values[2] = float_or_null(est.ci_low, &nulls[2]);
		values[3] = float_or_null(est.ci_high, &nulls[3]);
		values[4] = float_or_null(est.std_error, &nulls[4]);
		values[5] = float_or_null(logged ? NAN : est.lift, &nulls[5]);
		values[6] = float_or_null(logged ? NAN : est.lift_low, &nulls[6]);
		values[7] = float_or_null(logged ? NAN : est.lift_high, &nulls[7]);
		values[8] = Int64GetDatum((int64) ope.total.n);
		values[9] = Float8GetDatum(logged ? ope.total.n : off_policy_ess(&ope));
		values[10] = Int64GetDatum(logged ? 0 : ope.clipped);
		values[11] = Float8GetDatum(logged ? 1 : ope.largest_weight);
		values[12] = Int64GetDatum(excluded);
		values[13] = float_or_null(candidate.with_distribution > 0 ?
								   candidate.unsupported / candidate.with_distribution : NAN, &nulls[13]);
		values[14] = PointerGetDatum(construct_array(warning_items, nwarnings, TEXTOID, -1, false, TYPALIGN_INT));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
