/*-------------------------------------------------------------------------
 *
 * deploy_gate.c
 *	  The automatic deployment policy.
 *
 * Under deploy => 'auto' a new model replaces the champion only when
 *	1. the two are comparable: the champion was re-scored on the new test
 *	   rows, which carry its features (champion.c), and both key metrics
 *	   are numbers;
 *	2. its key metric is better than the champion's by min_improvement,
 *	   relative to the champion's value: (new - old) / |old| in the
 *	   metric's better direction;
 *	3. no guard metric is worse than the champion's by more than its
 *	   tolerance, relative to the champion's value or, when asked for, in
 *	   the metric's units.  A better accuracy bought with a worse
 *	   calibration is not an improvement for an application that acts on
 *	   the probabilities.
 * The reason says each number and verdict; registry.c stores it with the
 * decision, deployed or not.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/json.h"

#include "train/deploy_gate.h"
#include "train/policy_gate.h"
#include "model/metrics.h"

/*
 * Guards when deploy_guards is NULL: calibration for classifiers (log loss
 * relative, ECE absolute: it is near zero for a calibrated model, where a
 * relative change means little), the absolute error for regression, and
 * the first result for ranking.
 */
static const struct
{
	ModelTask	task;
	const char *metric;
	double		tolerance;
	bool		absolute;
}			default_guards[] =
{
	{TASK_CLASSIFICATION, "log_loss", 0.05, false},
	{TASK_CLASSIFICATION, "ece", 0.02, true},
	{TASK_REGRESSION, "mae", 0.05, false},
	{TASK_RANKING, "ndcg@1", 0.05, false},
};

static void
pg_attribute_noreturn()
guards_error(const char *message)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s", message),
			 errhint("deploy_guards maps a metric to the most it may worsen against the champion: "
					 "a number is a share of the champion's value, {\"absolute\": x} is in the metric's units, "
					 "for example '{\"log_loss\": 0.05, \"ece\": {\"absolute\": 0.02}}'; '{}' checks none.")));
}

static void
pg_attribute_noreturn()
bad_tolerance(const char *metric)
{
	guards_error(psprintf("deploy_guards: the tolerance of \"%s\" must be a number, "
						  "{\"relative\": x} or {\"absolute\": x}", metric));
}

static double
tolerance_number(const JsonbValue *v, const char *metric)
{
	double		value;

	if (v->type != jbvNumeric)
		bad_tolerance(metric);
	value = DatumGetFloat8(DirectFunctionCall1(numeric_float8, NumericGetDatum(v->val.numeric)));
	if (!(value >= 0.0) || isinf(value))
		guards_error(psprintf("deploy_guards: the tolerance of \"%s\" must be a finite number of at least 0",
							  metric));
	return value;
}

/*
 * deploy_guards as a list of DeployGuard; checks the document's shape (the
 * metrics' names need the task, see deploy_guards_prepare).
 */
List *
deploy_guards_parse(Jsonb *doc)
{
	List	   *guards = NIL;
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken token;
	char	   *metric = NULL;

	if (!JB_ROOT_IS_OBJECT(doc) || JB_ROOT_IS_SCALAR(doc))
		guards_error("deploy_guards must be a JSON object");
	it = JsonbIteratorInit(&doc->root);
	while ((token = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		DeployGuard *guard;

		if (token == WJB_KEY)
			metric = pnstrdup(v.val.string.val, v.val.string.len);
		if (token != WJB_VALUE)
			continue;
		guard = palloc0(sizeof(DeployGuard));
		guard->metric = metric;
		if (v.type == jbvBinary)
		{
			JsonbContainer *inner = v.val.binary.data;
			JsonbValue *relative = NULL;
			JsonbValue *absolute = NULL;

			if (JsonContainerIsObject(inner) && JsonContainerSize(inner) == 1)
			{
				relative = getKeyJsonValueFromContainer(inner, "relative", 8, NULL);
				absolute = getKeyJsonValueFromContainer(inner, "absolute", 8, NULL);
			}
			if (relative == NULL && absolute == NULL)
				bad_tolerance(metric);
			guard->absolute = absolute != NULL;
			guard->tolerance = tolerance_number(absolute ? absolute : relative, metric);
		}
		else
			guard->tolerance = tolerance_number(&v, metric);
		guards = lappend(guards, guard);
	}
	return guards;
}

/*
 * The run's guards, once the task is known: the defaults, or deploy_guards
 * with every metric checked.  Runs before any boosting, so a typo costs
 * nothing.
 */
void
deploy_guards_prepare(TrainRun *run)
{
	ModelTask	task = run->ds->task;
	ListCell   *lc;

	if (run->spec->deploy_guards == NULL)
	{
		for (int i = 0; i < lengthof(default_guards); i++)
		{
			DeployGuard *guard;

			/* the key metric has its own rule */
			if (default_guards[i].task != task || strcmp(default_guards[i].metric, run->metric) == 0)
				continue;
			guard = palloc(sizeof(DeployGuard));
			guard->metric = pstrdup(default_guards[i].metric);
			guard->tolerance = default_guards[i].tolerance;
			guard->absolute = default_guards[i].absolute;
			run->guards = lappend(run->guards, guard);
		}
		return;
	}

	run->guards = deploy_guards_parse(DatumGetJsonbP(DirectFunctionCall1(jsonb_in,
																		 CStringGetDatum(run->spec->deploy_guards))));
	foreach(lc, run->guards)
	{
		DeployGuard *guard = lfirst(lc);
		const char *canonical = metric_canonical(task, guard->metric);

		if (canonical == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("deploy_guards: unknown metric \"%s\" for a %s model", guard->metric,
							task_name(task)),
					 errhint("Use keys that ml.MLEvaluationResults.metrics holds for this kind of model, e.g. %s.",
							 default_metric(task))));
		/* metrics_get() and the key-metric rule compare exact spellings */
		guard->metric = pstrdup(canonical);
		if (strcmp(guard->metric, run->metric) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("deploy_guards: \"%s\" is the key metric", guard->metric),
					 errhint("min_improvement is the key metric's rule; guards are the other metrics.")));
	}
}

/* a - b in the metric's better direction: positive when a is better */
static double
gain(const char *metric, double a, double b)
{
	return metric_higher_is_better(metric) ? a - b : b - a;
}

static void
append_json_number(StringInfo out, double value)
{
	if (isnan(value) || isinf(value))
		appendStringInfoString(out, "null");
	else
		appendStringInfoString(out, float8out_internal(value));
}

static void
append_tolerance(StringInfo out, const DeployGuard *guard)
{
	if (guard->absolute)
		appendStringInfo(out, "its %g absolute tolerance", guard->tolerance);
	else
		appendStringInfo(out, "its %g%% relative tolerance", guard->tolerance * 100);
}

/*
 * Checks every guard against the champion's re-scoring: appends each
 * verdict to the reason and the guards' JSON; true when all pass.
 */
static bool
check_guards(TrainRun *run, StringInfo reason)
{
	StringInfoData json;
	bool		all_pass = true;
	ListCell   *lc;

	initStringInfo(&json);
	appendStringInfoChar(&json, '{');
	foreach(lc, run->guards)
	{
		DeployGuard *guard = lfirst(lc);
		double		mine = NAN;
		double		theirs = NAN;
		double		allowed;
		bool		pass;

		metrics_get(&run->metrics, guard->metric, &mine);
		metrics_get(&run->champion.metrics, guard->metric, &theirs);
		allowed = guard->absolute ? guard->tolerance : guard->tolerance * fabs(theirs);
		/* a guard that cannot be computed does not pass */
		pass = -gain(guard->metric, mine, theirs) <= allowed;
		all_pass &= pass;

		appendStringInfo(reason, "%s%s %.4f vs %.4f %s ",
						 foreach_current_index(lc) == 0 ? "; guards: " : ", ",
						 guard->metric, mine, theirs,
						 isnan(mine) || isnan(theirs) ? "cannot be compared against" :
						 pass ? "within" : "worse by more than");
		append_tolerance(reason, guard);

		if (foreach_current_index(lc) > 0)
			appendStringInfoString(&json, ", ");
		escape_json(&json, guard->metric);
		appendStringInfoString(&json, ": {\"score\": ");
		append_json_number(&json, mine);
		appendStringInfoString(&json, ", \"champion_score\": ");
		append_json_number(&json, theirs);
		appendStringInfoString(&json, ", \"tolerance\": ");
		append_json_number(&json, guard->tolerance);
		appendStringInfo(&json, ", \"absolute\": %s, \"passed\": %s}",
						 guard->absolute ? "true" : "false", pass ? "true" : "false");
	}
	appendStringInfoChar(&json, '}');
	run->guards_json = json.data;
	return all_pass;
}

/*
 * Compares the winner with the champion, into reason; true when auto may
 * deploy it.  Sets run->comparable.
 */
static bool
compare(TrainRun *run, StringInfo reason)
{
	Champion   *ch = &run->champion;
	double		margin = run->spec->min_improvement;
	double		s = run->winner->score;
	double		h = ch->score;
	double		relative;
	bool		better;
	bool		guards_pass;

	if (ch->incomparable != NULL)
	{
		appendStringInfo(reason, "not comparable with champion v%d: %s", ch->version, ch->incomparable);
		return false;
	}
	if (!run->winner->has_score || isnan(s) || !ch->has_score)
	{
		appendStringInfo(reason, "not comparable with champion v%d: %s cannot be computed on the %lld test rows",
						 ch->version, run->metric, (long long) run->ntest);
		return false;
	}
	run->comparable = true;
	better = gain(run->metric, s, h) >= margin * fabs(h);
	appendStringInfo(reason, "%s %.4f vs champion v%d %.4f on the same %lld rows: %s by the %g%% margin",
					 run->metric, s, ch->version, h, (long long) run->ntest,
					 better ? "better" : "not better", margin * 100);
	relative = gain(run->metric, s, h) / fabs(h);
	if (h == 0.0)
		appendStringInfoString(reason, " (the champion's value is 0: the margin asks for no loss)");
	else
		appendStringInfo(reason, " (%.1f%% %s than the champion, relative to its value)",
						 fabs(relative) * 100, relative >= 0 ? "better" : "worse");
	guards_pass = check_guards(run, reason);
	return better && guards_pass;
}

void
deploy_decide(TrainRun *run)
{
	DeployPolicy policy = run->spec->deploy;
	StringInfoData reason;
	bool		acceptable = false;

	initStringInfo(&reason);
	if (policy != DEPLOY_AUTO)
		appendStringInfoString(&reason, policy == DEPLOY_ALWAYS ? "deploy => always" : "deploy => never");
	else if (run->champion.version == 0)
		appendStringInfoString(&reason, "first model of this name");

	if (run->champion.version > 0)
	{
		if (reason.len > 0)
			appendStringInfoString(&reason, "; ");
		acceptable = compare(run, &reason);
		/* deploy_metric => 'policy_value': decided at registration (policy_gate.c) */
		if (policy_gate_pending(run))
			acceptable = false;
		if (policy == DEPLOY_AUTO && !run->comparable)
			appendStringInfoString(&reason, "; not deployed: deploy => 'always' or ml.deploy deploys it anyway");
	}

	run->deploy = policy == DEPLOY_ALWAYS ||
		(policy == DEPLOY_AUTO && (run->champion.version == 0 || acceptable));
	run->deploy_reason = reason.data;
	run->winner->deployed = run->deploy;
}
