/*-------------------------------------------------------------------------
 *
 * question.c
 *	  Reads what the ground-truth functions are asked: the simulated user
 *	  (a unit id and the seed that made it), the features of the context as
 *	  ml.simulated_decisions writes them, the action and the drift.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/numeric.h"

#include "simulate/question.h"

/* The drift argument: a share of the way to the shifted world. */
double
sim_drift_arg(double drift)
{
	if (!(drift >= 0 && drift <= 1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("drift must be between 0 and 1, not %g", drift),
				 errhint("0 is the world the logged data came from, 1 the fully shifted one.")));
	return drift;
}

/*
 * A feature read from the jsonb features: a number from lo to hi, or the
 * default if absent.  Out of range is an unknown feature value (an hour of
 * 99), and past int's range it could not even be converted.
 */
static int
feature_number(Jsonb *features, const char *key, int absent, int lo, int hi)
{
	JsonbValue	v;
	double		value;

	if (getKeyJsonValueFromContainer(&features->root, key, strlen(key), &v) == NULL ||
		v.type == jbvNull)
		return absent;
	if (v.type != jbvNumeric)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("feature \"%s\" must be a number", key),
				 errhint("Pass features as ml.simulated_decisions produces them.")));
	value = DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow,
											   NumericGetDatum(v.val.numeric)));
	if (!(value >= lo && value <= hi))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("feature \"%s\" must be between %d and %d, not %g", key, lo, hi, value),
				 errhint("Pass features as ml.simulated_decisions produces them.")));
	return (int) value;
}

/* A categorical feature: an index into names, or absent if the key is missing. */
static int
feature_category(Jsonb *features, const char *key, const char *const *names,
				 int n, int absent)
{
	JsonbValue	v;
	char	   *value;
	int			index;

	if (getKeyJsonValueFromContainer(&features->root, key, strlen(key), &v) == NULL ||
		v.type == jbvNull)
		return absent;
	if (v.type != jbvString)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("feature \"%s\" must be a string", key),
				 errhint("Pass features as ml.simulated_decisions produces them.")));
	value = pnstrdup(v.val.string.val, v.val.string.len);
	index = sim_lookup(names, n, value);
	if (index < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown %s \"%s\"", key, value),
				 errhint("Use one of the values ml.simulated_decisions produces.")));
	return index;
}

/*
 * Reads the context from features as ml.simulated_decisions writes them:
 * an absent or null feature takes the simulation's default (12 h, 30
 * words, calm, not a question), other keys are ignored.
 */
void
sim_read_context(Jsonb *features, SimContext *ctx)
{
	JsonbValue	is_question;

	if (!JB_ROOT_IS_OBJECT(features) || JB_ROOT_IS_SCALAR(features))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("features must be a JSON object"),
				 errhint("Pass features as ml.simulated_decisions produces them.")));
	memset(ctx, 0, sizeof(*ctx));
	ctx->hour_of_day = feature_number(features, "hour_of_day", 12, 0, 23);
	ctx->message_length = feature_number(features, "message_length", 30, 0, INT_MAX);
	ctx->mood = feature_category(features, "emotional_state", sim_mood_names, SIM_MOODS, 0);
	ctx->is_question =
		getKeyJsonValueFromContainer(&features->root, "is_question",
									 strlen("is_question"), &is_question) != NULL &&
		is_question.type == jbvBool && is_question.val.boolean;
}

/*
 * Checks the arguments in the order ml.simulate_outcome always has (drift,
 * action, features), derives the user and reads the context.
 */
void
sim_read_question(FunctionCallInfo fcinfo, SimQuestion *question)
{
	double		drift = sim_drift_arg(PG_GETARG_FLOAT8(4));

	question->unit_id = text_to_cstring(PG_GETARG_TEXT_PP(0));
	question->features = PG_GETARG_JSONB_P(1);
	question->action_name = text_to_cstring(PG_GETARG_TEXT_PP(2));
	question->seed = PG_GETARG_INT32(3);
	question->action = sim_lookup(sim_strategy_names, SIM_STRATEGIES, question->action_name);
	if (question->action < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown action \"%s\"", question->action_name),
				 errhint("The simulated users answer to detailed_explanation, brief_answer, "
						 "empathetic_support, playful_tangent and socratic_question.")));
	sim_read_context(question->features, &question->ctx);
	sim_user_init(&question->user, question->seed, question->unit_id, drift);
}
