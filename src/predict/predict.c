/*-------------------------------------------------------------------------
 *
 * predict.c
 *	  ml.predict, ml.predict_proba and ml.predict_label.
 *
 * Each SQL function has a jsonb and a float4[] form sharing one C entry
 * point.  Rows are evaluated by the compiled trees; a model they cannot
 * compile is evaluated by XGBoost's inplace prediction of one dense row
 * (nthread 1, no DMatrix), visible in ml.model_cache().
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "common/args.h"
#include "predict/feature_vector.h"
#include "predict/predict.h"
#include "predict/serving_stats.h"

/* most models fit; wider ones allocate */
#define FEATURES_ON_STACK 256

PG_FUNCTION_INFO_V1(learnloop_predict);
PG_FUNCTION_INFO_V1(learnloop_predict_proba);
PG_FUNCTION_INFO_V1(learnloop_predict_label);

/* XGBoost's own prediction of one row, for models the trees cannot take. */
static void
xgboost_row(CachedModel *model, const float *features, Prediction *out)
{
	char		array[160];
	const bst_ulong *shape;
	bst_ulong	dim;
	const float *result;
	bst_ulong	total = 1;

	snprintf(array, sizeof(array),
			 "{\"data\": [%lu, true], \"shape\": [1, %d], \"typestr\": \"<f4\", \"version\": 3}",
			 (unsigned long) (uintptr_t) features, model->schema->nfeatures);
	xgb_check(XGBoosterPredictFromDense(model->booster, array,
										"{\"type\": 0, \"training\": false, \"iteration_begin\": 0, "
										"\"iteration_end\": 0, \"strict_shape\": false, \"missing\": NaN, \"cache_id\": 0}",
										NULL, &shape, &dim, &result));
	for (bst_ulong d = 0; d < dim; d++)
		total *= shape[d];
	out->n = (int) Min(total, PREDICT_MAX_OUTPUTS);
	for (int i = 0; i < out->n; i++)
		out->values[i] = result[i];
}

void
predict_row(CachedModel *model, const float *features, Prediction *out)
{
	if (model->forest)
	{
		out->n = forest_num_outputs(model->forest);
		forest_predict(model->forest, features, out->values);
	}
	else
		xgboost_row(model, features, out);
}

/*
 * The most probable class of a classifier's prediction, and its
 * probability: an index into the schema's classes, which a model XGBoost
 * evaluates may not match (the compiled ones are checked when loaded).
 */
int
predicted_class(const CachedModel *model, const Prediction *p, double *confidence)
{
	int			best = 0;

	if (p->n == 1)
	{
		best = p->values[0] >= 0.5 ? 1 : 0;
		*confidence = best ? p->values[0] : 1.0 - p->values[0];
	}
	else
	{
		for (int i = 1; i < p->n; i++)
			if (p->values[i] > p->values[best])
				best = i;
		*confidence = p->values[best];
	}
	if (best >= model->schema->classes.ncategories)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("model \"%s\" version %d predicts class %d of %d classes",
						model->name, model->version, best + 1, model->schema->classes.ncategories),
				 errhint("The model's trees and its feature schema disagree: retrain the model.")));
	return best;
}

/* The model of the call (argument 0, version in argument 2) and its prediction. */
static CachedModel *
predict_call(FunctionCallInfo fcinfo, Prediction *out)
{
	CachedModel *model;
	float		features[FEATURES_ON_STACK];
	float	   *x = features;

	args_not_null(fcinfo, 0, "model", NULL);
	model = model_cache_get_routed(fcinfo, PG_GETARG_TEXT_PP(0), model_version_arg(fcinfo, 2), 1);
	if (model->schema->nfeatures > FEATURES_ON_STACK)
		x = palloc(sizeof(float) * model->schema->nfeatures);
	features_from_arg(fcinfo, 1, model->schema, x);
	predict_row(model, x, out);
	return model;
}

static void
require_classifier(const CachedModel *model, const char *function)
{
	if (model->schema->task != TASK_CLASSIFICATION)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("%s needs a classification model; \"%s\" is a %s model",
						function, model->name, task_name(model->schema->task)),
				 errhint("Use ml.predict for regression values and ranking scores.")));
}

/* The regression value, the positive-class probability, or the ranking score. */
static Datum
predict_impl(PG_FUNCTION_ARGS)
{
	Prediction	p;
	CachedModel *model = predict_call(fcinfo, &p);

	if (p.n != 1)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("model \"%s\" has %d classes; ml.predict returns one number", model->name, p.n),
				 errhint("Use ml.predict_proba for the class probabilities or ml.predict_label for the class.")));
	PG_RETURN_FLOAT8(p.values[0]);
}

static Datum
predict_proba_impl(PG_FUNCTION_ARGS)
{
	Prediction	p;
	CachedModel *model = predict_call(fcinfo, &p);
	Datum		probs[PREDICT_MAX_OUTPUTS];
	int			n = p.n == 1 ? 2 : p.n;

	require_classifier(model, "ml.predict_proba");
	if (p.n == 1)
	{
		probs[0] = Float8GetDatum(1.0 - p.values[0]);
		probs[1] = Float8GetDatum(p.values[0]);
	}
	else
		for (int i = 0; i < n; i++)
			probs[i] = Float8GetDatum(p.values[i]);
	PG_RETURN_ARRAYTYPE_P(construct_array(probs, n, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

static Datum
predict_label_impl(PG_FUNCTION_ARGS)
{
	Prediction	p;
	CachedModel *model = predict_call(fcinfo, &p);
	double		confidence;

	require_classifier(model, "ml.predict_label");
	PG_RETURN_TEXT_P(cstring_to_text(model->schema->classes.categories[predicted_class(model, &p, &confidence)]));
}

/* The SQL entry points: each call is counted in ml.serving_stats. */
Datum
learnloop_predict(PG_FUNCTION_ARGS)
{
	return serving_stats_call(fcinfo, SERVING_PREDICT, 0, -1, predict_impl);
}

Datum
learnloop_predict_proba(PG_FUNCTION_ARGS)
{
	return serving_stats_call(fcinfo, SERVING_PREDICT_PROBA, 0, -1, predict_proba_impl);
}

Datum
learnloop_predict_label(PG_FUNCTION_ARGS)
{
	return serving_stats_call(fcinfo, SERVING_PREDICT_LABEL, 0, -1, predict_label_impl);
}
