/*-------------------------------------------------------------------------
 *
 * candidate.c
 *	  What a candidate model would have done on a logged decision.
 *
 * The candidate scores every action it knows (predict/action_scores.c),
 * keeps those the logged decision could choose from (the keys of its
 * "distribution"; every action when the row logged none), and spreads
 * its choice over them as its exploration would (policy/exploration.c):
 * the probability of the logged action is the numerator of the row's
 * importance weight.  An action the candidate does not know has
 * probability 0 under it.
 *
 * The direct method is an outcome model's predicted reward of each action:
 * the candidate's own scores when it is an outcome model, or those of
 * dm_model.  It must know every action the candidate can take.
 *
 * The models are looked up once, before the scan: no lookup happens
 * during it, so the cache frees neither (invalidations only mark it).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"

#include "common/spi_plan.h"
#include "offpolicy/candidate.h"
#include "predict/action_scores.h"
#include "predict/feature_vector.h"
#include "predict/model_cache.h"

static SPIPlanPtr newest_plan;

/* A version argument of 0: the model's newest version (a challenger is seldom deployed yet). */
static int
newest_version(text *name)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {PointerGetDatum(name)};
	bool		isnull;
	int			version;

	SPI_connect();
	if (SPI_execute_plan(spi_cached_plan(&newest_plan,
										 "SELECT pg_catalog.max(version) FROM ml.models "
										 "WHERE name OPERATOR(pg_catalog.=) $1", 1, types),
						 values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "learnloop could not read ml.models");
	version = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("model \"%s\" does not exist", text_to_cstring(name)),
				 errhint("ml.models lists the trained models; a bandit candidate is written 'bandit:<name>'.")));
	return version;
}

/*
 * Looks up the candidate and its direct method, so that both are in the
 * cache together: a lookup may free what an earlier one returned (an
 * invalidation, or eviction), so the candidate is looked up again until
 * it comes back unchanged, which proves nothing was freed in between.
 */
void
candidate_open(Candidate *c, FunctionCallInfo fcinfo, text *model_name, int version,
			   text *dm_name, const char *action_feature, const Exploration *e)
{
	int			dm_version = dm_name ? newest_version(dm_name) : 0;

	memset(c, 0, sizeof(*c));
	if (version == 0)
		version = newest_version(model_name);
	for (int tries = 0;; tries++)
	{
		c->model = model_cache_get(fcinfo, model_name, version);
		if (dm_name == NULL)
			break;
		c->dm = model_cache_get(fcinfo, dm_name, dm_version);
		if (model_cache_get(fcinfo, model_name, version) == c->model)
			break;
		if (tries == 3)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
					 errmsg("the candidate and dm_model do not fit in the model cache together"),
					 errhint("Raise learnloop.model_cache_size to at least 2.")));
	}
	c->action_feature = action_feature;
	c->exploration = *e;
}

/* The first row's scores fix the actions, and whether the candidate is its own direct method. */
static void
first_scores(Candidate *c, const ActionScores *scores, const ActionScores *dm_scores)
{
	int			n = scores->n;

	c->nactions = n;
	c->actions = scores->actions;
	c->mass = palloc0(sizeof(double) * n);
	c->logged = palloc0(sizeof(int64) * n);
	c->scores = palloc(sizeof(double) * n);
	c->probabilities = palloc(sizeof(double) * n);
	c->eligible = palloc(sizeof(int) * n);
	c->logged_probability = palloc(sizeof(double) * n);
	c->dm_index = palloc(sizeof(int) * n);
	if (dm_scores == NULL)
		return;
	if (!dm_scores->predicted_outcomes)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("dm_model \"%s\" predicts no outcome of an action", c->dm->name),
				 errhint("The direct method is an outcome model with the action among its features (\"%s\").",
						 c->action_feature)));
	for (int a = 0; a < n; a++)
	{
		c->dm_index[a] = -1;
		for (int d = 0; d < dm_scores->n; d++)
			if (strcmp(dm_scores->actions[d], c->actions[a]) == 0)
				c->dm_index[a] = d;
		if (c->dm_index[a] < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("dm_model \"%s\" does not know the candidate's action \"%s\"",
							c->dm->name, c->actions[a]),
					 errhint("The direct method must predict the outcome of every action the candidate can take.")));
	}
}

/*
 * The row's terms (see CandidateRow); false when the candidate knows none
 * of the actions the logged decision could choose from, and cannot be
 * evaluated on it.  Allocates in the current (per-row) memory context but
 * for the first row's lasting arrays, which go to the call's.
 */
bool
candidate_row(Candidate *c, FunctionCallInfo fcinfo, Jsonb *features,
			  const char *action, int action_len, JsonbContainer *distribution,
			  CandidateRow *out)
{
	ActionScores scores;
	ActionScores dm_scores;
	const ActionScores *q = NULL;
	int			n = 0;
	int			logged = -1;

	if (c->x == NULL)
	{
		c->x = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof(float) * Max(c->model->schema->nfeatures, 1));
		if (c->dm)
			c->x_dm = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof(float) * Max(c->dm->schema->nfeatures, 1));
	}
	features_from_jsonb(c->model->schema, JsonbPGetDatum(features), c->x, &c->layout,
						fcinfo->flinfo->fn_mcxt);
	action_scores(c->model, c->x, c->action_feature, &scores);
	if (c->dm && c->dm != c->model)
	{
		features_from_jsonb(c->dm->schema, JsonbPGetDatum(features), c->x_dm, &c->layout_dm,
							fcinfo->flinfo->fn_mcxt);
		action_scores(c->dm, c->x_dm, c->action_feature, &dm_scores);
		q = &dm_scores;
	}
	else if (c->dm || scores.predicted_outcomes)
	{
		c->dm = c->model;
		q = &scores;
	}
	if (c->nactions == 0)
	{
		MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);

		first_scores(c, &scores, q);
		if (q == &scores)
			for (int a = 0; a < c->nactions; a++)
				c->dm_index[a] = a;
		MemoryContextSwitchTo(old);
	}

	/* the eligible actions the candidate knows, and what the logging policy gave each */
	for (int a = 0; a < c->nactions; a++)
	{
		double		p = 1;

		if (distribution)
		{
			JsonbValue	v;
			const char *name = c->actions[a];

			if (getKeyJsonValueFromContainer(distribution, name, strlen(name), &v) == NULL)
				continue;
			p = v.type == jbvNumeric ?
				DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow,
												   NumericGetDatum(v.val.numeric))) : 0;
		}
		c->eligible[n] = a;
		c->scores[n] = scores.scores[a];
		c->logged_probability[n] = p;
		if ((int) strlen(c->actions[a]) == action_len && memcmp(c->actions[a], action, action_len) == 0)
			logged = n;
		n++;
	}
	if (n == 0)
		return false;
	exploration_distribution(&c->exploration, c->scores, n, c->probabilities);

	out->target = logged >= 0 ? c->probabilities[logged] : 0;
	out->dm_logged = 0;
	out->dm_policy = 0;
	for (int i = 0; i < n; i++)
	{
		int			a = c->eligible[i];

		c->mass[a] += c->probabilities[i];
		if (distribution && !(c->logged_probability[i] > 0))
			c->unsupported += c->probabilities[i];
		if (q)
			out->dm_policy += c->probabilities[i] * q->scores[c->dm_index[a]];
	}
	if (distribution)
		c->with_distribution++;
	if (logged >= 0)
	{
		c->logged[c->eligible[logged]]++;
		if (q)
			out->dm_logged = q->scores[c->dm_index[c->eligible[logged]]];
	}
	return true;
}
