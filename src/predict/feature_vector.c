/*-------------------------------------------------------------------------
 *
 * feature_vector.c
 *	  Features of one row, mapped to a model's feature order.
 *
 * jsonb features are matched by name, exactly as training expanded them:
 * unknown keys are ignored, absent keys and nulls are missing, categories
 * go through the stored dictionary (an unseen category is missing).  The
 * lookup walks the model's features and binary-searches the jsonb object's
 * sorted keys, so no hashing or allocation happens per row.  An array is
 * taken in the model's feature order; NULL and NaN elements are missing.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/fmgrprotos.h"

#include "common/numeric_double.h"
#include "predict/feature_vector.h"

static float
category_value(const SchemaFeature *f, const char *value, int len)
{
	int			code = schema_category_code(f, value, len);

	return code < 0 ? NAN : (float) code;
}

static void
wrong_type(const SchemaFeature *f, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATATYPE_MISMATCH),
			 errmsg("feature \"%s\" is %s, but the model was trained on %s values",
					f->name, what, feature_kind_names[f->kind]),
			 errhint("Send features as they were in training: numbers, booleans, or strings for categories.")));
}

void
features_from_jsonb(const FeatureSchema *schema, Datum datum, float *out)
{
	Jsonb	   *doc = DatumGetJsonbP(datum);

	if (!JB_ROOT_IS_OBJECT(doc) || JB_ROOT_IS_SCALAR(doc))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("features must be a JSON object"),
				 errhint("Pass key/value pairs, for example '{\"hour_of_day\": 14}'::jsonb.")));

	for (int i = 0; i < schema->nfeatures; i++)
	{
		const SchemaFeature *f = &schema->features[i];
		JsonbValue	v;
		char		number[64];

		out[i] = NAN;
		if (getKeyJsonValueFromContainer(&doc->root, f->name, strlen(f->name), &v) == NULL)
			continue;
		switch (v.type)
		{
			case jbvNull:
				break;
			case jbvNumeric:
				if (f->kind == FEATURE_CATEGORICAL)
				{
					/* a category that happens to be a number, such as a code */
					char	   *text = DatumGetCString(DirectFunctionCall1(numeric_out,
																		   NumericGetDatum(v.val.numeric)));

					strlcpy(number, text, sizeof(number));
					out[i] = category_value(f, number, strlen(number));
				}
				else
					out[i] = (float) numeric_to_double(v.val.numeric);
				break;
			case jbvBool:
				if (f->kind == FEATURE_CATEGORICAL)
					out[i] = category_value(f, v.val.boolean ? "true" : "false",
											v.val.boolean ? 4 : 5);
				else
					out[i] = v.val.boolean ? 1.0f : 0.0f;
				break;
			case jbvString:
				if (f->kind != FEATURE_CATEGORICAL)
					wrong_type(f, "a string");
				out[i] = category_value(f, v.val.string.val, v.val.string.len);
				break;
			default:
				wrong_type(f, "a nested object or array");
		}
	}
}

static void
features_from_array(const FeatureSchema *schema, ArrayType *array, float *out)
{
	int			n = ArrayGetNItems(ARR_NDIM(array), ARR_DIMS(array));
	const bits8 *nulls = ARR_NULLBITMAP(array);
	const float *values = (const float *) ARR_DATA_PTR(array);

	if (ARR_NDIM(array) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("features must be a one-dimensional array")));
	if (n != schema->nfeatures)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("the model has %d features, the array has %d", schema->nfeatures, n),
				 errhint("Pass the features in the model's order (ml.models.feature_schema), or as jsonb by name.")));
	/* read in place: NULL elements take no space in the data */
	for (int i = 0; i < n; i++)
	{
		float		v = (nulls && !(nulls[i / 8] & (1 << (i % 8)))) ? NAN : *values++;

		if (isinf(v))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("feature %d (\"%s\") is infinite", i + 1, schema->features[i].name),
					 errhint("Use NULL or NaN for a missing value.")));
		out[i] = v;
	}
}

/* Features from argument argno, jsonb or float4[] whichever it is. */
void
features_from_arg(FunctionCallInfo fcinfo, int argno, const FeatureSchema *schema, float *out)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("features must not be NULL"),
				 errhint("Pass '{}'::jsonb to predict with every feature missing.")));
	if (get_fn_expr_argtype(fcinfo->flinfo, argno) == JSONBOID)
		features_from_jsonb(schema, PG_GETARG_DATUM(argno), out);
	else
		features_from_array(schema, PG_GETARG_ARRAYTYPE_P(argno), out);
}
