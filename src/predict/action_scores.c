/*-------------------------------------------------------------------------
 *
 * action_scores.c
 *	  Scores every action a model can choose, for ml.decide and for the
 *	  policies that explore or are evaluated off-policy.
 *
 * Two kinds of model choose actions:
 *	- an outcome model, which has the action among its features (a
 *	  categorical feature named by action_feature): each action it knows
 *	  is scored by its predicted outcome.  A classifier's is a probability
 *	  (of success); a regression's is a value, no probability;
 *	- a policy, a classifier whose classes are the actions: each action's
 *	  score is the probability of its class.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "predict/action_scores.h"
#include "predict/predict.h"

/* The score of an outcome prediction: positive-class probability, or the value. */
static double
outcome_score(const Prediction *p)
{
	return p->values[p->n == 1 ? 0 : p->n - 1];
}

/* A prediction that is not a finite score means trees and schema disagree. */
static void
check_score(const CachedModel *model, double score)
{
	if (!isfinite(score))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("model \"%s\" version %d predicts a score that is not a finite number",
						model->name, model->version),
				 errhint("The model's trees and its feature schema disagree: retrain the model.")));
}

/*
 * Fills out with one score per action, allocated in the current memory
 * context.  The schema parser refuses an action feature without
 * categories; a classifier whose outputs do not match its classes is
 * corrupted.
 */
void
action_scores(CachedModel *model, const float *features, const char *action_feature,
			  ActionScores *out)
{
	FeatureSchema *schema = model->schema;
	int			a = schema_feature_index(schema, action_feature, strlen(action_feature));
	Prediction	p;

	if (a >= 0 && schema->features[a].kind == FEATURE_CATEGORICAL &&
		(schema->task != TASK_CLASSIFICATION || schema->classes.ncategories == 2))
	{
		float	   *x = palloc(sizeof(float) * schema->nfeatures);

		memcpy(x, features, sizeof(float) * schema->nfeatures);
		out->n = schema->features[a].ncategories;
		out->actions = (const char **) schema->features[a].categories;
		out->scores = palloc(sizeof(double) * Max(out->n, 1));
		out->probabilities = schema->task == TASK_CLASSIFICATION;
		out->predicted_outcomes = true;
		for (int c = 0; c < out->n; c++)
		{
			x[a] = (float) c;
			predict_row(model, x, &p);
			check_score(model, out->scores[c] = outcome_score(&p));
		}
		pfree(x);
	}
	else if (schema->task == TASK_CLASSIFICATION)
	{
		int			nclasses = schema->classes.ncategories;

		predict_row(model, features, &p);
		if (p.n != (nclasses == 2 ? 1 : nclasses) && p.n != nclasses)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("model \"%s\" version %d predicts %d outputs for %d classes",
							model->name, model->version, p.n, nclasses),
					 errhint("The model's trees and its feature schema disagree: retrain the model.")));
		out->n = nclasses;
		out->actions = (const char **) schema->classes.categories;
		out->scores = palloc(sizeof(double) * Max(nclasses, 1));
		out->probabilities = true;
		out->predicted_outcomes = false;
		for (int c = 0; c < nclasses; c++)
			check_score(model, out->scores[c] =
						p.n == 1 ? (c == 1 ? p.values[0] : 1.0 - p.values[0]) : p.values[c]);
	}
	else
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("model \"%s\" cannot choose an action", model->name),
				 errhint("ml.decide needs a classifier over actions, or a model with a categorical feature \"%s\".",
						 action_feature)));
	if (out->n < 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("model \"%s\" version %d knows no action to choose",
						model->name, model->version),
				 errhint("Retrain the model; ml.models.feature_schema must not be edited by hand.")));
}
