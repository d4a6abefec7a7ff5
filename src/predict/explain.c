/*-------------------------------------------------------------------------
 *
 * explain.c
 *	  ml.explain(): per-feature contributions (SHAP values) of one row.
 *
 * XGBoost computes exact tree SHAP values ("pred_contribs"); this is the
 * one serving path that builds a DMatrix, of one row, with one thread.
 * A classifier's contributions are those of one class, which each row
 * names: for a multi-class model the predicted class unless "class" asks
 * for another; for a binary one the positive (second) class, whose
 * log-odds XGBoost explains, or the other one with every sign turned,
 * since its log-odds are their negation.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "utils/builtins.h"
#include "utils/memutils.h"

#include "common/args.h"
#include "common/srf.h"
#include "predict/feature_vector.h"
#include "predict/predict.h"
#include "predict/serving_stats.h"

PG_FUNCTION_INFO_V1(learnloop_explain);

/* The index of a class the caller names; only a classifier has classes. */
static int
class_index(const FeatureSchema *schema, const char *name)
{
	if (schema->task != TASK_CLASSIFICATION)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("class is only for classifiers; this model is a %s model",
						task_name(schema->task)),
				 errhint("Leave class NULL to explain the predicted value.")));
	for (int c = 0; c < schema->classes.ncategories; c++)
		if (strcmp(schema->classes.categories[c], name) == 0)
			return c;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("the model has no class \"%s\"", name),
			 errhint("ml.models.feature_schema->'classes' lists its classes.")));
	return -1;
}

static void
unexpected_shape(const CachedModel *model)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("XGBoost returned contributions of an unexpected shape for model \"%s\" version %d",
					model->name, model->version),
			 errhint("The model's trees and its feature schema disagree: retrain the model.")));
}

static Datum
explain_impl(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = srf_materialize(fcinfo);
	CachedModel *model;
	FeatureSchema *schema;
	XgbHandles *xgb = xgb_handles_create(CurrentMemoryContext);
	const char **names;
	const char **types;
	float	   *x;
	DMatrixHandle dm;
	const bst_ulong *xgb_shape;
	const float *xgb_contribs;
	bst_ulong	shape[3];
	bst_ulong	dim;
	bst_ulong	total = 1;
	float	   *contribs;
	int			offset = 0;
	int			nf;
	int			explained = -1;	/* the class explained, if a classifier */
	double		sign = 1;

	args_not_null(fcinfo, 0, "model", NULL);
	model = model_cache_get_routed(fcinfo, PG_GETARG_TEXT_PP(0), model_version_arg(fcinfo, 2), 1);
	schema = model->schema;
	nf = schema->nfeatures;
	if (!PG_ARGISNULL(3))
		explained = class_index(schema, text_to_cstring(PG_GETARG_TEXT_PP(3)));
	x = palloc(sizeof(float) * Max(nf, 1));
	names = palloc(sizeof(char *) * Max(nf, 1));
	types = palloc(sizeof(char *) * Max(nf, 1));
	features_from_arg(fcinfo, 1, schema, x);
	for (int i = 0; i < nf; i++)
	{
		names[i] = schema->features[i].name;
		types[i] = xgb_feature_types[schema->features[i].kind];
	}

	dm = xgb_dmatrix(xgb, x, 1, nf, 1);
	xgb_set_names(dm, names, types, nf);
	xgb_check(XGBoosterPredictFromDMatrix(model->booster, dm,
										  "{\"type\": 2, \"training\": false, \"iteration_begin\": 0, "
										  "\"iteration_end\": 0, \"strict_shape\": true}",
										  &xgb_shape, &dim, &xgb_contribs));

	/*
	 * One row: (groups, features + 1) values.  They point into XGBoost's
	 * per-thread result buffers, which predict_row() below refills when
	 * XGBoost evaluates the model: keep copies.
	 */
	if (dim < 2 || dim > 3 || xgb_shape[dim - 1] != (bst_ulong) nf + 1)
		unexpected_shape(model);
	for (bst_ulong d = 0; d < dim; d++)
	{
		shape[d] = xgb_shape[d];
		total *= shape[d];
	}
	contribs = palloc_extended(sizeof(float) * total, MCXT_ALLOC_HUGE);
	memcpy(contribs, xgb_contribs, sizeof(float) * total);

	if (dim == 3 && shape[1] > 1)
	{
		if (explained < 0)
		{
			Prediction	p;
			double		confidence;

			predict_row(model, x, &p);
			explained = predicted_class(model, &p, &confidence);
		}
		offset = explained * (nf + 1);
	}
	else if (schema->task == TASK_CLASSIFICATION)
	{
		if (explained == 0)
			sign = -1;
		explained = 1;
	}
	/* read below at offset */
	if (dim == 3 && (bst_ulong) offset / (nf + 1) >= shape[1])
		unexpected_shape(model);

	for (int i = 0; i <= nf; i++)
	{
		Datum		values[5];
		bool		nulls[5] = {false, false, true, false, explained < 0};

		values[0] = CStringGetTextDatum(i < nf ? names[i] : "(bias)");
		values[1] = Float8GetDatum(i < nf ? x[i] : 0);
		nulls[1] = i == nf || isnan(x[i]);
		if (!nulls[1] && schema->features[i].kind == FEATURE_CATEGORICAL)
		{
			values[2] = CStringGetTextDatum(schema->features[i].categories[(int) x[i]]);
			nulls[2] = false;
		}
		values[3] = Float8GetDatum(sign * contribs[offset + i]);
		if (explained >= 0)
			values[4] = CStringGetTextDatum(schema->classes.categories[explained]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	xgb_free_dmatrix(xgb, dm);
	return (Datum) 0;
}

/* counted in ml.serving_stats */
Datum
learnloop_explain(PG_FUNCTION_ARGS)
{
	return serving_stats_call(fcinfo, SERVING_EXPLAIN, 0, -1, explain_impl);
}
