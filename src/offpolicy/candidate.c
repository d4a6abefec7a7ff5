/*-------------------------------------------------------------------------
 *
 * candidate.c
 *	  What a candidate model would have done on a logged decision.
 *
 * The candidate scores every action it knows (predict/action_scores.c),
 * keeps those the logged decision could choose from (its "eligible" set,
 * which ml.decide logs when the caller restricted the actions; every
 * action otherwise), and spreads
 * its choice over them as its exploration would (policy/exploration.c):
 * the probability of the logged action is the numerator of the row's
 * importance weight.  An action the candidate does not know has
 * probability 0 under it.
 *
 * A bandit candidate ('bandit:<name>') chooses among all its actions with
 * ml.bandit_distribution's Thompson probabilities for the row's unit and
 * features, as ml.choose would now: its probability outside the logged
 * eligible set counts as unsupported.
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
#include "utils/lsyscache.h"

#include "common/spi_plan.h"
#include "offpolicy/candidate.h"
#include "common/numeric_double.h"
#include "predict/action_distribution.h"
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
 * Names the candidate and its direct method; candidates_load looks them
 * up.  A model's version CANDIDATE_NEWEST is resolved here.
 */
void
candidate_open(Candidate *c, const char *name, int version, text *dm_name,
			   const char *action_feature, const Exploration *e)
{
	memset(c, 0, sizeof(*c));
	c->action_feature = action_feature;
	c->exploration = *e;
	if (strncmp(name, "bandit:", 7) == 0)
		c->bandit = cstring_to_text(name + 7);
	else
	{
		c->model_name = cstring_to_text(name);
		c->version = version == CANDIDATE_NEWEST ? newest_version(c->model_name) : version;
	}
	c->dm_name = dm_name;
	if (dm_name)
		c->dm_version = newest_version(dm_name);
}

/*
 * Looks up the candidates' models and direct methods so that all are in
 * the cache together: a lookup may free what an earlier one returned (an
 * invalidation, or eviction), so they are looked up again until every
 * lookup comes back unchanged, which proves nothing was freed in between.
 * No lookup happens during the scan, and an invalidation then only marks.
 */
void
candidates_load(Candidate *candidates, int n, FunctionCallInfo fcinfo)
{
	for (int tries = 0;; tries++)
	{
		bool		stable = tries > 0;

		for (int i = 0; i < n; i++)
		{
			Candidate  *c = &candidates[i];
			CachedModel *model = c->model_name ? model_cache_get(fcinfo, c->model_name, c->version) : NULL;
			CachedModel *dm = c->dm_name ? model_cache_get(fcinfo, c->dm_name, c->dm_version) : NULL;

			stable &= model == c->model && dm == c->dm;
			c->model = model;
			c->dm = dm;
		}
		if (stable || (n == 1 && candidates[0].dm_name == NULL))
			return;
		if (tries == 4)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
					 errmsg("the models of the evaluation do not fit in the model cache together"),
					 errhint("Raise learnloop.model_cache_size to at least the number of models compared.")));
	}
}

static SPIPlanPtr bandit_plan;

/*
 * A bandit's probability of each of its actions for the unit, as
 * ml.bandit_distribution gives them; the actions' names are copied into
 * names (when not NULL) in its order, which is fixed.
 */
static int
bandit_probabilities(Candidate *c, text *unit_id, Jsonb *features, double *pi, const char ***names)
{
	Oid			types[3] = {TEXTOID, TEXTOID, JSONBOID};
	Datum		values[3] = {PointerGetDatum(c->bandit), PointerGetDatum(unit_id), JsonbPGetDatum(features)};
	MemoryContext caller = CurrentMemoryContext;
	int			n;

	SPI_connect();
	if (SPI_execute_plan(spi_cached_plan(&bandit_plan,
										 "SELECT action, probability FROM ml.bandit_distribution($1, $2, $3)",
										 3, types),
						 values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "learnloop could not read the bandit's distribution");
	n = (int) SPI_processed;
	if (c->nactions > 0 && n != c->nactions)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("bandit \"%s\" changed its actions during the evaluation", text_to_cstring(c->bandit)),
				 errhint("Evaluate again.")));
	if (names)
		*names = MemoryContextAlloc(caller, sizeof(char *) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		bool		isnull;
		HeapTuple	tuple = SPI_tuptable->vals[i];
		double		p = DatumGetFloat8(SPI_getbinval(tuple, SPI_tuptable->tupdesc, 2, &isnull));

		if (pi)
			pi[i] = isnull ? 0 : p;
		if (names)
			(*names)[i] = MemoryContextStrdup(caller, SPI_getvalue(tuple, SPI_tuptable->tupdesc, 1));
	}
	SPI_finish();
	return n;
}

/*
 * The first row fixes the candidate's actions (a version's, or a
 * bandit's, are fixed), whether a model is its own direct method (an
 * outcome model, when no dm_model is named), and where each of its
 * actions is among the DM's.  The arrays live as long as the call.
 */
static void
first_row(Candidate *c, FunctionCallInfo fcinfo, text *unit_id, Jsonb *features)
{
	MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
	ActionScores scores;
	ActionScores dm_scores;
	int			n;

	if (c->model)
	{
		action_scores(c->model, c->x, c->action_feature, &scores);
		n = scores.n;
		c->actions = scores.actions;
		if (c->dm == NULL && scores.predicted_outcomes)
			c->dm = c->model;
	}
	else
		n = bandit_probabilities(c, unit_id, features, NULL, &c->actions);
	c->nactions = n;
	c->mass = palloc0(sizeof(double) * Max(n, 1));
	c->logged = palloc0(sizeof(int64) * Max(n, 1));
	c->names = palloc(sizeof(char *) * Max(n, 1));
	c->eligible = palloc(sizeof(int) * Max(n, 1));
	c->logged_probability = palloc(sizeof(double) * Max(n, 1));
	c->pi = palloc(sizeof(double) * Max(n, 1));
	c->q = palloc(sizeof(double) * Max(n, 1));
	c->dm_index = palloc(sizeof(int) * Max(n, 1));
	for (int a = 0; a < n; a++)
		c->dm_index[a] = a;
	if (c->dm && c->dm != c->model)
	{
		c->x_dm = palloc(sizeof(float) * Max(c->dm->schema->nfeatures, 1));
		features_from_jsonb(c->dm->schema, JsonbPGetDatum(features), c->x_dm, &c->layout_dm,
							fcinfo->flinfo->fn_mcxt);
		action_scores(c->dm, c->x_dm, c->action_feature, &dm_scores);
		if (!dm_scores.predicted_outcomes)
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("dm_model \"%s\" predicts no outcome of an action", c->dm->name),
					 errhint("The direct method is an outcome model with the action among its features (\"%s\").",
							 c->action_feature)));
		for (int a = 0; a < n; a++)
		{
			c->dm_index[a] = -1;
			for (int d = 0; d < dm_scores.n; d++)
				if (strcmp(dm_scores.actions[d], c->actions[a]) == 0)
					c->dm_index[a] = d;
			if (c->dm_index[a] < 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("dm_model \"%s\" does not know the candidate's action \"%s\"",
								c->dm->name, c->actions[a]),
						 errhint("The direct method must predict the outcome of every action the candidate can take.")));
		}
	}
	MemoryContextSwitchTo(old);
}

/*
 * A model candidate's probabilities (c->pi, 0 outside the n eligible
 * actions c->eligible) from predict/action_distribution.c, as ml.decide's;
 * its own scores are the direct method's when it is one.
 */
static void
model_probabilities(Candidate *c, int n, bool restricted)
{
	ActionDistribution dist;

	action_distribution(c->model, c->x, c->action_feature, c->names, restricted ? n : -1,
						&c->exploration, &dist);
	Assert(dist.scores.n == n);
	for (int a = 0; a < c->nactions; a++)
		c->pi[a] = c->q[a] = 0;	/* an ineligible action's q is never weighed */
	for (int i = 0; i < n; i++)
	{
		c->pi[c->eligible[i]] = dist.probabilities[i];
		if (c->dm == c->model)
			c->q[c->eligible[i]] = dist.scores.scores[i];
	}
}

/* Whether the logged eligible set (a JSON array of strings) holds name. */
static bool
eligible_contains(JsonbContainer *eligible, const char *name)
{
	JsonbValue	v;

	v.type = jbvString;
	v.val.string.val = (char *) name;
	v.val.string.len = strlen(name);
	return findJsonbValueFromContainer(eligible, JB_FARRAY, &v) != NULL;
}

/*
 * The row's terms (see CandidateRow); false when the candidate knows none
 * of the actions the logged decision could choose from, and cannot be
 * evaluated on it.  Allocates in the current (per-row) memory context.
 */
bool
candidate_row(Candidate *c, FunctionCallInfo fcinfo, text *unit_id, Jsonb *features,
			  const char *action, int action_len, JsonbContainer *distribution,
			  JsonbContainer *eligible, CandidateRow *out)
{
	int			n = 0;
	int			logged = -1;

	if (c->model)
	{
		if (c->x == NULL)
			c->x = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt,
									  sizeof(float) * Max(c->model->schema->nfeatures, 1));
		features_from_jsonb(c->model->schema, JsonbPGetDatum(features), c->x, &c->layout,
							fcinfo->flinfo->fn_mcxt);
	}
	if (c->actions == NULL)
		first_row(c, fcinfo, unit_id, features);

	/* the eligible actions the candidate knows, in its order, and what the logging policy gave each */
	for (int a = 0; a < c->nactions; a++)
	{
		double		p = 1;

		if ((int) strlen(c->actions[a]) == action_len && memcmp(c->actions[a], action, action_len) == 0)
			logged = a;
		/*
		 * The logging policy's probability of the action: absent from its
		 * distribution, 0 (a fallback's is its one action, although the
		 * model it overrode could choose among all).
		 */
		if (distribution)
		{
			JsonbValue	v;
			const char *name = c->actions[a];

			if (getKeyJsonValueFromContainer(distribution, name, strlen(name), &v) == NULL)
				p = 0;
			else
				p = v.type == jbvNumeric ? numeric_to_double_no_overflow(v.val.numeric) : 0;
		}
		if (eligible && !eligible_contains(eligible, c->actions[a]))
			p = -1;				/* not eligible */
		c->logged_probability[a] = p;
		if (p < 0)
			continue;
		c->eligible[n] = a;
		c->names[n++] = c->actions[a];
	}
	if (c->model)
	{
		if (n == 0)
			return false;
		model_probabilities(c, n, eligible != NULL);
	}
	else
		bandit_probabilities(c, unit_id, features, c->pi, NULL);
	if (c->dm && c->dm != c->model)
	{
		ActionScores dm_scores;

		features_from_jsonb(c->dm->schema, JsonbPGetDatum(features), c->x_dm, &c->layout_dm,
							fcinfo->flinfo->fn_mcxt);
		action_scores(c->dm, c->x_dm, c->action_feature, &dm_scores);
		for (int a = 0; a < c->nactions; a++)
			c->q[a] = dm_scores.scores[c->dm_index[a]];
	}

	out->target = logged >= 0 ? c->pi[logged] : 0;
	out->dm_logged = c->dm && logged >= 0 ? c->q[logged] : 0;
	out->dm_policy = 0;
	for (int a = 0; a < c->nactions; a++)
	{
		if (c->pi[a] == 0)
			continue;
		c->mass[a] += c->pi[a];
		if (distribution && !(c->logged_probability[a] > 0))
			c->unsupported += c->pi[a];
		if (c->dm)
			out->dm_policy += c->pi[a] * c->q[a];
	}
	if (distribution)
		c->with_distribution++;
	if (logged >= 0)
		c->logged[logged]++;
	return true;
}
