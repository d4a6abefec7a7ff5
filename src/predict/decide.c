/*-------------------------------------------------------------------------
 *
 * decide.c
 *	  ml.decide(): the application's one call per decision.
 *
 * Predicts the best action for a unit with the deployed model, falls back
 * to the application's rule-based action when there is no model or it is
 * not confident enough, records the decision in ml.MLTrainingData, and
 * returns its id for ml.record_outcome.  A deployed model that cannot be
 * loaded or evaluated falls back too, with a WARNING: the application's
 * request must not fail because of the model (ml.predict raises instead).
 *
 * Two kinds of model decide:
 *	- an outcome model, which has the action among its features (a
 *	  categorical feature named by action_feature): every action it knows
 *	  is scored and the best wins.  Its predicted outcome is the score; a
 *	  classifier's is a probability (of success), and only then is it the
 *	  confidence too: a regression's predicted value is no probability, so
 *	  it is held to min_score, never to min_confidence;
 *	- a policy, a classifier whose classes are the actions: its most
 *	  probable class wins with that probability as the confidence.
 *
 * Exploration: once the model's best action passes min_confidence and
 * min_score, the action is drawn from the exploration distribution over
 * the eligible actions (predict/action_distribution.c), and the row logs
 * the action's probability (the propensity), the whole distribution and
 * the method, for off-policy evaluation.  Greedy draws nothing: the best
 * action, with propensity 1, as before exploration existed.
 *
 * Lazy fallback: without a fallback action, a decision the model cannot
 * take is recorded as 'unsure' with no action, and the application
 * computes its own and reports it with ml.record_fallback.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "common/shortest_dec.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "common/args.h"
#include "common/guarded.h"
#include "common/prng.h"
#include "policy/exploration.h"
#include "predict/action_distribution.h"
#include "predict/feature_vector.h"
#include "predict/serving_stats.h"
#include "record/payload.h"
#include "record/record.h"

PG_FUNCTION_INFO_V1(learnloop_decide);

enum
{
	ARG_TASK, ARG_UNIT, ARG_FEATURES, ARG_FALLBACK, ARG_MODEL, ARG_MIN_CONFIDENCE,
	ARG_ACTION_FEATURE, ARG_EXPERIMENT, ARG_VARIANT, ARG_MIN_SCORE, ARG_EXPLORE,
	ARG_EPSILON, ARG_TEMPERATURE, ARG_GAMMA, ARG_SEED, ARG_ACTIONS
};

/* What was decided, as the row records it */
typedef struct Decision
{
	const char *action;			/* NULL: unsure, until ml.record_fallback */
	double		confidence;		/* the model's, of action or of suggested, or NaN */
	double		score;			/* an outcome model's predicted outcome, or NaN */
	double		propensity;		/* NaN while unsure */
	bool		explored;		/* action is not the model's best */
	const char *decided_by;
	const char *suggested;		/* not the model's decision: its best action, or NULL */
	const char *reason;			/* unsure: why the model did not decide */
} Decision;

/* action_distribution's arguments and result, for run_guarded() */
typedef struct ConsultStep
{
	CachedModel *model;
	const float *features;
	const char *action_feature;
	const char *const *eligible;
	int			neligible;
	const Exploration *exploration;
	ActionDistribution *dist;
} ConsultStep;

static void
consult_step(void *arg)
{
	ConsultStep *step = arg;

	action_distribution(step->model, step->features, step->action_feature, step->eligible,
						step->neligible, step->exploration, step->dist);
}

/* Falls back from a model that failed, saying so in a WARNING; returns the reason. */
static const char *
model_failed(text *model_name, const char *what, const char *failure)
{
	ereport(WARNING,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("ml.decide fell back: the deployed model \"%s\" could not be %s: %s",
					text_to_cstring(model_name), what, failure),
			 errhint("ml.predict with the model shows the error; deploy or roll back to a version that works.")));
	return psprintf("model could not be %s", what);
}

/*
 * Asks the model for its distribution over the eligible actions.
 * Compiled trees cannot fail; XGBoost's evaluation can, and a model whose
 * outputs disagree with its schema is corrupted: then returns why, for
 * the caller to fall back (NULL when the model scored).  Other errors (a
 * model that cannot choose actions, an action it does not know) are the
 * caller's to see, as with compiled trees.
 */
static char *
consult_model(FunctionCallInfo fcinfo, ConsultStep *step, Jsonb *features)
{
	CachedModel *model = step->model;
	float	   *x = palloc(sizeof(float) * Max(model->schema->nfeatures, 1));
	ErrorData  *edata;

	features_from_jsonb(model->schema, PointerGetDatum(features), x,
						model_cache_layout(fcinfo), fcinfo->flinfo->fn_mcxt);
	step->features = x;
	if (model->forest)
	{
		consult_step(step);
		return NULL;
	}
	if ((edata = run_guarded(consult_step, step)) == NULL)
		return NULL;
	if (edata->sqlerrcode != ERRCODE_EXTERNAL_ROUTINE_EXCEPTION &&
		edata->sqlerrcode != ERRCODE_DATA_CORRUPTED)
		ReThrowError(edata);
	return edata->message;
}

/*
 * A uniform draw in [0, 1).  With a seed, a function of the seed and the
 * decision's task, unit and features only, so that the same call draws
 * the same action (and every policy replayed with that seed sees the same
 * draw for a unit).  Without, the next of this backend's stream, seeded
 * once from the operating system's strong random source.
 */
static double
draw_uniform(FunctionCallInfo fcinfo, text *task, text *unit, Jsonb *features)
{
	static Prng backend_prng;
	static bool seeded = false;
	Prng		prng;

	if (args_given(fcinfo, ARG_SEED))
	{
		StringInfoData key;

		initStringInfo(&key);
		appendBinaryStringInfo(&key, VARDATA_ANY(task), VARSIZE_ANY_EXHDR(task));
		appendStringInfoChar(&key, '\0');
		appendBinaryStringInfo(&key, VARDATA_ANY(unit), VARSIZE_ANY_EXHDR(unit));
		appendStringInfoChar(&key, '\0');
		appendBinaryStringInfo(&key, VARDATA_ANY(features), VARSIZE_ANY_EXHDR(features));
		prng_seed(&prng, (uint64) PG_GETARG_INT64(ARG_SEED), key.data, key.len);
		pfree(key.data);
		return prng_uniform(&prng);
	}
	if (!seeded)
	{
		uint64		seed;

		if (!pg_strong_random(&seed, sizeof(seed)))
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not generate a random seed for exploration"),
					 errhint("Pass seed to ml.decide to draw from a seeded stream instead.")));
		prng_seed(&backend_prng, seed, "decide", 6);
		seeded = true;
	}
	return prng_uniform(&backend_prng);
}

/*
 * The decision is built as a Jsonb directly, not printed and parsed again:
 * parsing was a tenth of a greedy decision's time once the row grew the
 * exploration keys.  Numbers are the doubles' shortest exact decimals, as
 * JSON text would have them.
 */
static void
push_key(JsonbParseState **state, const char *key)
{
	JsonbValue	v;

	v.type = jbvString;
	v.val.string.val = unconstify(char *, key);
	v.val.string.len = strlen(key);
	pushJsonbValue(state, WJB_KEY, &v);
}

static void
push_string(JsonbParseState **state, const char *key, const char *value)
{
	JsonbValue	v;

	push_key(state, key);
	v.type = value ? jbvString : jbvNull;
	if (value)
	{
		v.val.string.val = unconstify(char *, value);
		v.val.string.len = strlen(value);
	}
	pushJsonbValue(state, WJB_VALUE, &v);
}

static void
push_number(JsonbParseState **state, const char *key, double value)
{
	char		buf[DOUBLE_SHORTEST_DECIMAL_LEN];
	JsonbValue	v;

	if (key)
		push_key(state, key);
	double_to_shortest_decimal_buf(value, buf);
	v.type = jbvNumeric;
	v.val.numeric = DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(buf),
														ObjectIdGetDatum(InvalidOid),
														Int32GetDatum(-1)));
	pushJsonbValue(state, WJB_VALUE, &v);
}

static void
push_integer(JsonbParseState **state, const char *key, int64 value)
{
	JsonbValue	v;

	push_key(state, key);
	v.type = jbvNumeric;
	v.val.numeric = int64_to_numeric(value);
	pushJsonbValue(state, WJB_VALUE, &v);
}

static void
push_bool(JsonbParseState **state, const char *key, bool value)
{
	JsonbValue	v;

	push_key(state, key);
	v.type = jbvBool;
	v.val.boolean = value;
	pushJsonbValue(state, WJB_VALUE, &v);
}

/* The method and only the parameters it used, and the seed when given. */
static void
push_explore(JsonbParseState **state, const Exploration *e, FunctionCallInfo fcinfo)
{
	push_key(state, "explore");
	pushJsonbValue(state, WJB_BEGIN_OBJECT, NULL);
	push_string(state, "method", exploration_method_name(e->method));
	if (e->method == EXPLORE_EPSILON)
		push_number(state, "epsilon", e->epsilon);
	else if (e->method == EXPLORE_SOFTMAX)
		push_number(state, "temperature", e->temperature);
	else if (e->method == EXPLORE_SQUARECB)
		push_number(state, "gamma", e->gamma);
	if (args_given(fcinfo, ARG_SEED))
		push_integer(state, "seed", PG_GETARG_INT64(ARG_SEED));
	pushJsonbValue(state, WJB_END_OBJECT, NULL);
}

/*
 * The decision column of the recorded row (docs/exploration.md lists its
 * keys): the action and who decided, the model's confidence and score,
 * the model consulted, the propensity and distribution the action was
 * drawn with (dist NULL: the fallback's, {action: 1}), and the call's
 * latency so far (the insert that follows is not in it: the row cannot
 * hold the time of its own writing).
 */
static Jsonb *
decision_jsonb(FunctionCallInfo fcinfo, const Decision *d, const CachedModel *model,
			   const ActionDistribution *dist, const Exploration *e,
			   const char *const *eligible, int neligible)
{
	JsonbParseState *state = NULL;

	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	push_string(&state, "action", d->action);
	if (!isnan(d->confidence))
		push_number(&state, "confidence", d->confidence);
	if (!isnan(d->score))
		push_number(&state, "score", d->score);
	push_string(&state, "decided_by", d->decided_by);
	if (model)
	{
		push_string(&state, "model", model->name);
		push_integer(&state, "version", model->version);
		if (model->cohort)
			push_string(&state, "cohort", model->cohort);
	}
	if (d->action)
	{
		push_number(&state, "propensity", d->propensity);
		push_key(&state, "distribution");
		pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
		if (dist)
			for (int a = 0; a < dist->scores.n; a++)
			{
				push_key(&state, dist->scores.actions[a]);
				push_number(&state, NULL, dist->probabilities[a]);
			}
		else
		{
			push_key(&state, d->action);
			push_number(&state, NULL, 1);
		}
		pushJsonbValue(&state, WJB_END_OBJECT, NULL);
		if (dist)
			push_explore(&state, e, fcinfo);
		push_bool(&state, "explored", d->explored);
	}
	/* the set the caller allowed: what any other policy could have chosen from */
	if (neligible >= 0)
	{
		push_key(&state, "eligible");
		pushJsonbValue(&state, WJB_BEGIN_ARRAY, NULL);
		for (int a = 0; a < neligible; a++)
		{
			JsonbValue	v;

			v.type = jbvString;
			v.val.string.val = unconstify(char *, eligible[a]);
			v.val.string.len = strlen(eligible[a]);
			pushJsonbValue(&state, WJB_ELEM, &v);
		}
		pushJsonbValue(&state, WJB_END_ARRAY, NULL);
	}
	if (d->suggested)
		push_string(&state, "suggested", d->suggested);
	if (d->reason)
		push_string(&state, "reason", d->reason);
	push_integer(&state, "latency_us", serving_stats_elapsed_us());
	return JsonbValueToJsonb(pushJsonbValue(&state, WJB_END_OBJECT, NULL));
}

static Datum
decide_impl(PG_FUNCTION_ARGS)
{
	text	   *task = payload_name_arg(fcinfo, ARG_TASK, "task", true);
	text	   *unit = payload_name_arg(fcinfo, ARG_UNIT, "unit_id", true);
	text	   *model_name = PG_ARGISNULL(ARG_MODEL) ? task : PG_GETARG_TEXT_PP(ARG_MODEL);
	Jsonb	   *features = payload_features_arg(fcinfo, ARG_FEATURES);
	text	   *fallback = payload_name_arg(fcinfo, ARG_FALLBACK, "fallback", false);
	double		min_confidence = PG_ARGISNULL(ARG_MIN_CONFIDENCE) ? 0.5 : PG_GETARG_FLOAT8(ARG_MIN_CONFIDENCE);
	char	   *action_feature = PG_ARGISNULL(ARG_ACTION_FEATURE) ? "action" :
		text_to_cstring(PG_GETARG_TEXT_PP(ARG_ACTION_FEATURE));
	bool		has_min_score = !PG_ARGISNULL(ARG_MIN_SCORE);
	double		min_score = has_min_score ? PG_GETARG_FLOAT8(ARG_MIN_SCORE) : 0;
	Exploration exploration;
	const char **eligible;
	int			neligible;
	char	   *failure;
	CachedModel *model;
	ActionDistribution dist;
	ConsultStep step;
	Decision	d = {NULL, NAN, NAN, NAN, false, NULL, NULL, NULL};
	const char *reason = NULL;
	int			best = 0;
	bool		by_model;
	Datum		values[8] = {0};
	Datum		result[6];
	bool		nulls[6] = {false, false, false, false, false, false};
	TupleDesc	tupdesc;

	/* a bar no confidence or score can be held to is a mistake, not "never" or "always" */
	if (!(min_confidence >= 0 && min_confidence <= 1) || (has_min_score && !isfinite(min_score)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("min_confidence must be from 0 to 1 and min_score a finite number"),
				 errhint("min_confidence is a probability from 0 to 1; min_score a predicted value, or NULL for none.")));
	exploration_args(fcinfo, ARG_EXPLORE, &exploration);
	neligible = action_set_arg(fcinfo, ARG_ACTIONS, &eligible);

	model = model_cache_get_deployed(fcinfo, model_name, features, &failure);
	if (failure)
		reason = model_failed(model_name, "loaded", failure);
	if (model)
	{
		step = (ConsultStep) {model, NULL, action_feature, eligible, neligible, &exploration, &dist};
		if ((failure = consult_model(fcinfo, &step, features)) != NULL)
		{
			reason = model_failed(model_name, "evaluated", failure);
			model = NULL;
		}
	}

	/*
	 * A model that failed has said why already.  The bars are the best
	 * action's; a missing confidence (a regression) or score (a policy)
	 * sets none.
	 */
	if (model)
	{
		best = dist.best;
		d.confidence = dist.scores.probabilities ? dist.scores.scores[best] : NAN;
		d.score = dist.scores.predicted_outcomes ? dist.scores.scores[best] : NAN;
		if (d.confidence < min_confidence)
			reason = "model not confident";
		else if (has_min_score && d.score < min_score)
			reason = "score below min_score";
	}
	else if (reason == NULL)
		reason = "no deployed model";

	by_model = reason == NULL;
	if (by_model)
	{
		int			chosen = best;

		if (exploration.method != EXPLORE_GREEDY)
			chosen = exploration_draw(dist.probabilities, dist.scores.n,
									  draw_uniform(fcinfo, task, unit, features));
		d.action = dist.scores.actions[chosen];
		d.propensity = dist.probabilities[chosen];
		d.explored = chosen != best;
		if (dist.scores.probabilities)
			d.confidence = dist.scores.scores[chosen];
		if (dist.scores.predicted_outcomes)
			d.score = dist.scores.scores[chosen];
		d.decided_by = model->cohort ?
			psprintf("model %s v%d (cohort %s)", model->name, model->version, model->cohort) :
			psprintf("model %s v%d", model->name, model->version);
	}
	else
	{
		serving_stats_fallback();
		/* the model's view is kept in the row, not returned as the decision's */
		if (model)
			d.suggested = dist.scores.actions[best];
		if (fallback)
		{
			d.action = text_to_cstring(fallback);
			d.propensity = 1;
			d.decided_by = psprintf("fallback: %s", reason);
		}
		else
		{
			d.decided_by = "unsure";
			d.reason = reason;
		}
	}

	values[0] = PointerGetDatum(task);
	values[1] = PointerGetDatum(unit);
	values[2] = PointerGetDatum(features);
	values[3] = JsonbPGetDatum(decision_jsonb(fcinfo, &d, model, by_model ? &dist : NULL, &exploration,
													   eligible, neligible));
	values[4] = CStringGetTextDatum("real");
	values[5] = PointerGetDatum(payload_name_arg(fcinfo, ARG_EXPERIMENT, "experiment", false));
	values[6] = PointerGetDatum(payload_name_arg(fcinfo, ARG_VARIANT, "variant", false));
	payload_check_arm(values[5], values[1], values[6]);

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "ml.decide must return a row");
	result[0] = Int64GetDatum(record_decision_insert(values));
	nulls[1] = d.action == NULL;
	result[1] = d.action ? CStringGetTextDatum(d.action) : (Datum) 0;
	/* the model's confidence and score are the decision's only when it decided */
	nulls[2] = !by_model || isnan(d.confidence);
	result[2] = Float8GetDatum(d.confidence);
	result[3] = CStringGetTextDatum(d.decided_by);
	nulls[4] = !by_model || isnan(d.score);
	result[4] = Float8GetDatum(d.score);
	nulls[5] = isnan(d.propensity);
	result[5] = Float8GetDatum(d.propensity);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), result, nulls)));
}

/* counted in ml.serving_stats under the model consulted (the task's, by default) */
Datum
learnloop_decide(PG_FUNCTION_ARGS)
{
	return serving_stats_call(fcinfo, SERVING_DECIDE, ARG_MODEL, ARG_TASK, decide_impl);
}
