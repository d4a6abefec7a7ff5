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
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/json.h"

#include "common/json_number.h"
#include "common/guarded.h"
#include "policy/exploration.h"
#include "predict/action_scores.h"
#include "predict/feature_vector.h"
#include "predict/predict.h"
#include "predict/serving_stats.h"
#include "record/payload.h"
#include "record/record.h"

PG_FUNCTION_INFO_V1(learnloop_decide);

enum
{
	ARG_TASK, ARG_UNIT, ARG_FEATURES, ARG_FALLBACK, ARG_MODEL, ARG_MIN_CONFIDENCE,
	ARG_ACTION_FEATURE, ARG_EXPERIMENT, ARG_VARIANT, ARG_MIN_SCORE
};

typedef struct Choice
{
	const char *action;
	double		confidence;		/* a probability, or NaN */
	double		score;			/* an outcome model's predicted outcome, or NaN */
} Choice;

/*
 * Sets choice to the model's best action, or raises (a model that cannot
 * choose actions, or a corrupted one).
 */
static void
choose_with(CachedModel *model, const float *features, const char *action_feature, Choice *choice)
{
	ActionScores scores;
	int			best;

	action_scores(model, features, action_feature, &scores);
	best = exploration_best(scores.scores, scores.n);
	choice->action = scores.actions[best];
	choice->score = scores.predicted_outcomes ? scores.scores[best] : NAN;
	choice->confidence = scores.probabilities ? scores.scores[best] : NAN;
}

/* choose_with's arguments and result, for run_guarded() */
typedef struct ChooseStep
{
	CachedModel *model;
	const float *features;
	const char *action_feature;
	Choice	   *choice;
} ChooseStep;

static void
choose_step(void *arg)
{
	ChooseStep *step = arg;

	choose_with(step->model, step->features, step->action_feature, step->choice);
}

/* Falls back from a model that failed, saying so in a WARNING. */
static const char *
model_failed(text *model_name, const char *what, const char *failure)
{
	ereport(WARNING,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("ml.decide fell back: the deployed model \"%s\" could not be %s: %s",
					text_to_cstring(model_name), what, failure),
			 errhint("ml.predict with the model shows the error; deploy or roll back to a version that works.")));
	return psprintf("fallback: model could not be %s", what);
}

/*
 * Asks the model for its best action.  Compiled trees cannot fail;
 * XGBoost's evaluation can, and a model whose outputs disagree with its
 * schema is corrupted: then returns why, for the caller to fall back
 * (NULL when the model chose).  Other errors (a model that cannot choose
 * actions) are the caller's to see, as with compiled trees.
 */
static char *
consult_model(FunctionCallInfo fcinfo, CachedModel *model, Jsonb *features,
			  char *action_feature, Choice *choice)
{
	float	   *x = palloc(sizeof(float) * Max(model->schema->nfeatures, 1));
	ChooseStep	step = {model, x, action_feature, choice};
	ErrorData  *edata;

	features_from_jsonb(model->schema, PointerGetDatum(features), x,
						model_cache_layout(fcinfo), fcinfo->flinfo->fn_mcxt);
	if (model->forest)
	{
		choose_step(&step);
		return NULL;
	}
	if ((edata = run_guarded(choose_step, &step)) == NULL)
		return NULL;
	if (edata->sqlerrcode != ERRCODE_EXTERNAL_ROUTINE_EXCEPTION &&
		edata->sqlerrcode != ERRCODE_DATA_CORRUPTED)
		ReThrowError(edata);
	return edata->message;
}

/*
 * The decision column of the recorded row: the action, the model's
 * confidence and score when it decided, who decided, and the model
 * consulted, and the call's latency so far (the insert that follows is
 * not in it: the row cannot hold the time of its own writing).
 */
static char *
decision_json(const Choice *choice, const char *decided_by, const CachedModel *model)
{
	StringInfoData decision;

	initStringInfo(&decision);
	appendStringInfoString(&decision, "{\"action\": ");
	escape_json(&decision, choice->action);
	if (!isnan(choice->confidence))
	{
		appendStringInfoString(&decision, ", \"confidence\": ");
		json_append_float8(&decision, choice->confidence);
	}
	if (!isnan(choice->score))
	{
		appendStringInfoString(&decision, ", \"score\": ");
		json_append_float8(&decision, choice->score);
	}
	appendStringInfoString(&decision, ", \"decided_by\": ");
	escape_json(&decision, decided_by);
	if (model)
	{
		appendStringInfoString(&decision, ", \"model\": ");
		escape_json(&decision, model->name);
		appendStringInfo(&decision, ", \"version\": %d", model->version);
	}
	appendStringInfo(&decision, ", \"latency_us\": " INT64_FORMAT, serving_stats_elapsed_us());
	appendStringInfoChar(&decision, '}');
	return decision.data;
}

static Datum
decide_impl(PG_FUNCTION_ARGS)
{
	text	   *task = payload_name_arg(fcinfo, ARG_TASK, "task", true);
	text	   *model_name = PG_ARGISNULL(ARG_MODEL) ? task : PG_GETARG_TEXT_PP(ARG_MODEL);
	Jsonb	   *features = payload_features_arg(fcinfo, ARG_FEATURES);
	text	   *fallback = payload_name_arg(fcinfo, ARG_FALLBACK, "fallback", true);
	double		min_confidence = PG_ARGISNULL(ARG_MIN_CONFIDENCE) ? 0.5 : PG_GETARG_FLOAT8(ARG_MIN_CONFIDENCE);
	char	   *action_feature = PG_ARGISNULL(ARG_ACTION_FEATURE) ? "action" :
		text_to_cstring(PG_GETARG_TEXT_PP(ARG_ACTION_FEATURE));
	char	   *failure;
	CachedModel *model = model_cache_get_deployed(fcinfo, model_name, &failure);
	bool		has_min_score = !PG_ARGISNULL(ARG_MIN_SCORE);
	double		min_score = has_min_score ? PG_GETARG_FLOAT8(ARG_MIN_SCORE) : 0;
	Choice		choice = {NULL, NAN, NAN};
	Datum		values[8] = {0};
	Datum		result[5];
	bool		nulls[5] = {false, false, false, false, false};
	TupleDesc	tupdesc;
	const char *decided_by = NULL;

	/* a bar no confidence or score can be held to is a mistake, not "never" or "always" */
	if (!(min_confidence >= 0 && min_confidence <= 1) || (has_min_score && !isfinite(min_score)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("min_confidence must be from 0 to 1 and min_score a finite number"),
				 errhint("min_confidence is a probability from 0 to 1; min_score a predicted value, or NULL for none.")));
	if (failure)
		decided_by = model_failed(model_name, "loaded", failure);
	if (model && (failure = consult_model(fcinfo, model, features, action_feature, &choice)) != NULL)
	{
		decided_by = model_failed(model_name, "evaluated", failure);
		model = NULL;
	}

	/*
	 * A model that failed has said why already.  A missing confidence (a
	 * regression) or score (a policy) sets no bar.
	 */
	if (decided_by == NULL)
	{
		if (model == NULL)
			decided_by = "fallback: no deployed model";
		else if (choice.confidence < min_confidence)
			decided_by = "fallback: model not confident";
		else if (has_min_score && choice.score < min_score)
			decided_by = "fallback: score below min_score";
	}
	if (decided_by == NULL)
		decided_by = psprintf("model %s v%d", model->name, model->version);
	else
	{
		serving_stats_fallback();
		choice.action = text_to_cstring(fallback);
		choice.confidence = NAN;
		choice.score = NAN;
	}

	values[0] = PointerGetDatum(task);
	values[1] = PointerGetDatum(payload_name_arg(fcinfo, ARG_UNIT, "unit_id", true));
	values[2] = PointerGetDatum(features);
	values[3] = DirectFunctionCall1(jsonb_in, CStringGetDatum(decision_json(&choice, decided_by, model)));
	values[4] = CStringGetTextDatum("real");
	values[5] = PointerGetDatum(payload_name_arg(fcinfo, ARG_EXPERIMENT, "experiment", false));
	values[6] = PointerGetDatum(payload_name_arg(fcinfo, ARG_VARIANT, "variant", false));
	payload_check_arm(values[5], values[1], values[6]);

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "ml.decide must return a row");
	result[0] = Int64GetDatum(record_decision_insert(values));
	result[1] = CStringGetTextDatum(choice.action);
	result[2] = Float8GetDatum(choice.confidence);
	nulls[2] = isnan(choice.confidence);
	result[3] = CStringGetTextDatum(decided_by);
	result[4] = Float8GetDatum(choice.score);
	nulls[4] = isnan(choice.score);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), result, nulls)));
}

/* counted in ml.serving_stats under the model consulted (the task's, by default) */
Datum
learnloop_decide(PG_FUNCTION_ARGS)
{
	return serving_stats_call(fcinfo, SERVING_DECIDE, ARG_MODEL, ARG_TASK, decide_impl);
}
