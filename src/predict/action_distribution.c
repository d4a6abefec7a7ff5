/*-------------------------------------------------------------------------
 *
 * action_distribution.c
 *	  The distribution over the eligible actions: the model's scores of
 *	  the actions the caller allows, spread by an exploration method.
 *
 * ml.decide samples its action from it and logs the action's
 * probability as the propensity; ml.action_distribution shows it; the
 * off-policy estimators weigh a candidate's choices with it.  All three
 * must see the same distribution, so it is computed here only.
 *
 * The eligible set is a set: its order and repetitions do not matter,
 * and the actions keep the model's order, so that ties between scores
 * go to the same action as when every action is eligible.  An action
 * the model does not know is an error, not an action left out: the
 * caller would otherwise log a distribution over a set other than the
 * one they named.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"

#include "common/args.h"
#include "common/srf.h"
#include "predict/action_distribution.h"
#include "predict/feature_vector.h"

PG_FUNCTION_INFO_V1(learnloop_action_distribution);

/* There is nothing to choose from: the caller asked for the impossible. */
static void
check_not_empty(int neligible)
{
	if (neligible == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the set of eligible actions is empty"),
				 errhint("Name at least one action, or pass NULL for every action the model knows.")));
}

/*
 * The C strings of a text[] argument; -1 when the argument is NULL (every
 * action the model knows).  An empty set or a NULL element is an error,
 * raised before any model is consulted.
 */
int
action_set_arg(FunctionCallInfo fcinfo, int argno, const char ***actions)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	if (!args_given(fcinfo, argno))
	{
		*actions = NULL;
		return -1;
	}
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(argno), TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, &n);
	check_not_empty(n);
	*actions = palloc(sizeof(char *) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("the eligible actions must not contain NULL"),
					 errhint("actions lists the names of the actions the policy may choose, or is NULL for all.")));
		(*actions)[i] = TextDatumGetCString(elems[i]);
	}
	return n;
}

/*
 * Keeps in scores only the eligible actions (neligible < 0: all of them),
 * in the model's order.  An empty set or an action the model does not
 * know is an error: there would be nothing, or not the asked-for set, to
 * choose from.
 */
void
action_scores_restrict(const CachedModel *model, ActionScores *scores,
					   const char *const *eligible, int neligible)
{
	bool	   *keep;
	int			kept = 0;

	if (neligible < 0)
		return;
	check_not_empty(neligible);
	keep = palloc0(sizeof(bool) * scores->n);
	for (int i = 0; i < neligible; i++)
	{
		int			a;

		for (a = 0; a < scores->n; a++)
			if (strcmp(scores->actions[a], eligible[i]) == 0)
				break;
		if (a == scores->n)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("model \"%s\" version %d does not know the action \"%s\"",
							model->name, model->version, eligible[i]),
					 errhint("ml.action_distribution(model, features) lists the actions the model can choose.")));
		keep[a] = true;
	}
	for (int a = 0; a < scores->n; a++)
		if (keep[a])
		{
			scores->actions[kept] = scores->actions[a];
			scores->scores[kept++] = scores->scores[a];
		}
	scores->n = kept;
	pfree(keep);
}

/*
 * Fills out for one feature vector: the eligible actions' scores (see
 * action_scores()) and their probabilities under e.  Arrays are allocated
 * in the current memory context.
 */
void
action_distribution(CachedModel *model, const float *features, const char *action_feature,
					const char *const *eligible, int neligible, const Exploration *e,
					ActionDistribution *out)
{
	const char **actions;

	action_scores(model, features, action_feature, &out->scores);
	/* the model's names are its own: restrict a copy of the array */
	actions = palloc(sizeof(char *) * out->scores.n);
	memcpy(actions, out->scores.actions, sizeof(char *) * out->scores.n);
	out->scores.actions = actions;
	action_scores_restrict(model, &out->scores, eligible, neligible);
	out->probabilities = palloc(sizeof(double) * out->scores.n);
	exploration_distribution(e, out->scores.scores, out->scores.n, out->probabilities);
	out->best = exploration_best(out->scores.scores, out->scores.n);
}

/*
 * An exploration method and its parameters from four consecutive SQL
 * arguments: method, epsilon, temperature, gamma (NULL or not given: the
 * default).
 */
void
exploration_args(FunctionCallInfo fcinfo, int argno, Exploration *e)
{
	double		params[3];

	for (int i = 0; i < 3; i++)
		if (args_given(fcinfo, argno + 1 + i))
			params[i] = PG_GETARG_FLOAT8(argno + 1 + i);
	exploration_init(e, args_given(fcinfo, argno) ? text_to_cstring(PG_GETARG_TEXT_PP(argno)) : NULL,
					 args_given(fcinfo, argno + 1) ? &params[0] : NULL,
					 args_given(fcinfo, argno + 2) ? &params[1] : NULL,
					 args_given(fcinfo, argno + 3) ? &params[2] : NULL);
}

enum
{
	AD_MODEL, AD_FEATURES, AD_EXPLORE, AD_EPSILON, AD_TEMPERATURE, AD_GAMMA, AD_ACTIONS,
	AD_VERSION, AD_ACTION_FEATURE
};

/*
 * ml.action_distribution(model, features, explore, epsilon, temperature,
 * gamma, actions, version, action_feature): one row per eligible action,
 * with its probability and score.  The deployed version unless one is
 * named, as ml.predict.
 */
Datum
learnloop_action_distribution(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = srf_materialize(fcinfo);
	Exploration e;
	const char **eligible;
	int			neligible;
	const char *action_feature;
	CachedModel *model;
	float	   *x;
	ActionDistribution dist;

	args_not_null(fcinfo, AD_MODEL, "model", NULL);
	args_not_null(fcinfo, AD_FEATURES, "features", "Pass the unit's features as a jsonb object.");
	exploration_args(fcinfo, AD_EXPLORE, &e);
	neligible = action_set_arg(fcinfo, AD_ACTIONS, &eligible);
	action_feature = PG_ARGISNULL(AD_ACTION_FEATURE) ? "action" :
		text_to_cstring(PG_GETARG_TEXT_PP(AD_ACTION_FEATURE));
	model = model_cache_get_routed(fcinfo, PG_GETARG_TEXT_PP(AD_MODEL), model_version_arg(fcinfo, AD_VERSION),
								   AD_FEATURES);
	x = palloc(sizeof(float) * Max(model->schema->nfeatures, 1));
	features_from_arg(fcinfo, AD_FEATURES, model->schema, x);
	action_distribution(model, x, action_feature, eligible, neligible, &e, &dist);

	for (int a = 0; a < dist.scores.n; a++)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		values[0] = CStringGetTextDatum(dist.scores.actions[a]);
		values[1] = Float8GetDatum(dist.probabilities[a]);
		values[2] = Float8GetDatum(dist.scores.scores[a]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
