/*-------------------------------------------------------------------------
 *
 * feature_vector.c
 *	  Features of one row, mapped to a model's feature order.
 *
 * jsonb features are matched by name, exactly as training expanded them:
 * absent keys and nulls are missing, categories go through the stored
 * dictionary (an unseen category is missing).  Keys the model does not know
 * (usually a misspelt feature) are what learnloop.unknown_features says:
 * ignored, a WARNING once per call site and set of keys, or an error; a row
 * with none of the model's features is at least a WARNING.  An array is
 * taken in the model's feature order; NULL and NaN elements are missing.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/fmgrprotos.h"

#include "common/args.h"
#include "common/numeric_double.h"
#include "predict/feature_vector.h"
#include "predict/model_cache.h"

int			learnloop_unknown_features = UNKNOWN_FEATURES_WARNING;

const struct config_enum_entry unknown_features_options[] = {
	{"ignore", UNKNOWN_FEATURES_IGNORE, false},
	{"warning", UNKNOWN_FEATURES_WARNING, false},
	{"error", UNKNOWN_FEATURES_ERROR, false},
	{NULL, 0, false}
};

/* Keys named in an unknown-keys message; more are counted, not listed */
#define UNKNOWN_KEYS_LISTED 5

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

/* A jsonb number beyond real's range, which serving would take as infinity. */
static void
out_of_range(const SchemaFeature *f)
{
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("feature \"%s\" is out of range for type real", f->name),
			 errhint("Features are read as real (at most about 3.4e38 in magnitude); use null for a missing value.")));
}

/*
 * The key layout of the last object seen at a call site: its keys' entries
 * and bytes, and the feature each value position feeds (-1: none).
 */
struct KeyLayout
{
	const FeatureSchema *schema;
	uint32		npairs;
	uint32		keys_len;
	char	   *keys;			/* key entries, then key bytes */
	int		   *feature_of;
	int			nunknown;		/* keys that feed no feature */
	char	   *unknown;		/* their names, for the message */
};

/* The bytes that identify an object's keys: their entries and their text. */
static uint32
keys_length(const JsonbContainer *c, uint32 npairs)
{
	return npairs * sizeof(JEntry) + (npairs > 0 ? getJsonbOffset(c, npairs) : 0);
}

static const char *
data_area(const JsonbContainer *c, uint32 npairs)
{
	return (const char *) &c->children[npairs * 2];
}

/* Rebuilds a layout for an object whose keys differ from the last one's. */
static KeyLayout *
build_layout(const FeatureSchema *schema, const JsonbContainer *c, uint32 npairs,
			 KeyLayout *old, MemoryContext cxt)
{
	KeyLayout  *layout = MemoryContextAllocZero(cxt, sizeof(KeyLayout));
	uint32		len = keys_length(c, npairs);
	const char *data = data_area(c, npairs);

	if (old)
	{
		pfree(old->keys);
		pfree(old->feature_of);
		if (old->unknown)
			pfree(old->unknown);
		pfree(old);
	}
	layout->schema = schema;
	layout->npairs = npairs;
	layout->keys_len = len;
	layout->keys = MemoryContextAlloc(cxt, Max(len, 1));
	memcpy(layout->keys, c->children, npairs * sizeof(JEntry));
	memcpy(layout->keys + npairs * sizeof(JEntry), data, len - npairs * sizeof(JEntry));
	layout->feature_of = MemoryContextAlloc(cxt, sizeof(int) * Max(npairs, 1));
	for (uint32 i = 0; i < npairs; i++)
	{
		const char *key = data + getJsonbOffset(c, i);
		int			len = getJsonbLength(c, i);

		layout->feature_of[i] = schema_feature_index(schema, key, len);
		if (layout->feature_of[i] >= 0)
			continue;
		if (layout->nunknown++ == 0)
			layout->unknown = MemoryContextAllocZero(cxt, 1);
		if (layout->nunknown <= UNKNOWN_KEYS_LISTED)
		{
			char	   *names = psprintf("%s%s\"%.*s\"", layout->unknown,
										 layout->nunknown > 1 ? ", " : "", len, key);

			pfree(layout->unknown);
			layout->unknown = MemoryContextStrdup(cxt, names);
			pfree(names);
		}
	}
	return layout;
}

/*
 * Keys the model does not know: an error every time with
 * learnloop.unknown_features = error, a WARNING when the layout was just
 * built (once per call site and set of keys, not per row of a scan).
 */
static void
unknown_keys(const KeyLayout *layout, bool built)
{
	if (learnloop_unknown_features == UNKNOWN_FEATURES_IGNORE ||
		(learnloop_unknown_features == UNKNOWN_FEATURES_WARNING && !built))
		return;
	ereport(learnloop_unknown_features == UNKNOWN_FEATURES_ERROR ? ERROR : WARNING,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg_plural("features has %d key the model does not know: %s%s",
						   "features has %d keys the model does not know: %s%s",
						   layout->nunknown, layout->nunknown, layout->unknown,
						   layout->nunknown > UNKNOWN_KEYS_LISTED ? ", ..." : ""),
			 errhint("Keys are case-sensitive feature names (ml.models.feature_schema); "
					 "learnloop.unknown_features = ignore accepts such keys silently.")));
}

/* A row without any of the model's features predicts the base rate: say so. */
static void
no_known_feature(const FeatureSchema *schema)
{
	ereport(learnloop_unknown_features == UNKNOWN_FEATURES_ERROR ? ERROR : WARNING,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("features has none of the model's %d features", schema->nfeatures),
			 errhint("Every feature is missing, so the prediction is the model's answer for an empty row; "
					 "check the keys against ml.models.feature_schema.")));
}

/*
 * Features of a jsonb object.  Rows of a scan nearly always carry the same
 * keys, so the call site remembers which feature each value position
 * feeds, and a row whose keys match (one memcmp) is read by position,
 * straight from the container's entries.
 */
void
features_from_jsonb(const FeatureSchema *schema, Datum datum, float *out,
					KeyLayout **slot, MemoryContext cxt)
{
	Jsonb	   *doc = DatumGetJsonbP(datum);
	const JsonbContainer *c = &doc->root;
	uint32		npairs;
	const char *data;
	KeyLayout  *layout = slot ? *slot : NULL;
	bool		built = false;
	bool		present = false;

	if (!JsonContainerIsObject(c))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("features must be a JSON object"),
				 errhint("Pass key/value pairs, for example '{\"hour_of_day\": 14}'::jsonb.")));
	npairs = JsonContainerSize(c);
	data = data_area(c, npairs);

	if (layout == NULL || layout->schema != schema || layout->npairs != npairs ||
		layout->keys_len != keys_length(c, npairs) ||
		memcmp(layout->keys, c->children, npairs * sizeof(JEntry)) != 0 ||
		memcmp(layout->keys + npairs * sizeof(JEntry), data,
			   layout->keys_len - npairs * sizeof(JEntry)) != 0)
	{
		layout = build_layout(schema, c, npairs, layout, slot ? cxt : CurrentMemoryContext);
		if (slot)
			*slot = layout;
		built = true;
	}
	if (layout->nunknown > 0)
		unknown_keys(layout, built);

	for (int i = 0; i < schema->nfeatures; i++)
		out[i] = NAN;
	/* values follow one another: each one's offset is the last one's end */
	for (uint32 j = 0, offset = npairs > 0 ? getJsonbOffset(c, npairs) : 0; j < npairs; j++)
	{
		int			f = layout->feature_of[j];
		JEntry		entry = c->children[npairs + j];
		uint32		len = getJsonbLength(c, npairs + j);
		const char *value = data + offset;
		const SchemaFeature *sf;

		offset += len;
		if (f < 0 || JBE_ISNULL(entry))
			continue;
		sf = &schema->features[f];
		if (JBE_ISNUMERIC(entry))
		{
			Numeric		number = (Numeric) (data + INTALIGN(offset - len));

			if (sf->kind != FEATURE_CATEGORICAL)
			{
				out[f] = (float) numeric_to_double(number);
				/* as the real[] form, whose cast refuses it: no silent infinity */
				if (unlikely(isinf(out[f])))
					out_of_range(sf);
			}
			else
			{
				/* a category that happens to be a number, such as a code */
				char	   *text = DatumGetCString(DirectFunctionCall1(numeric_out,
																	   NumericGetDatum(number)));

				out[f] = category_value(sf, text, strlen(text));
			}
		}
		else if (JBE_ISBOOL(entry))
		{
			bool		truth = JBE_ISBOOL_TRUE(entry);

			if (sf->kind == FEATURE_CATEGORICAL)
				out[f] = category_value(sf, truth ? "true" : "false", truth ? 4 : 5);
			else
				out[f] = truth ? 1.0f : 0.0f;
		}
		else if (JBE_ISSTRING(entry))
		{
			if (sf->kind != FEATURE_CATEGORICAL)
				wrong_type(sf, "a string");
			out[f] = category_value(sf, value, len);
		}
		else
			wrong_type(sf, "a nested object or array");
		present |= !isnan(out[f]);
	}
	if (!present && schema->nfeatures > 0)
		no_known_feature(schema);
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
		/* a code outside the dictionary, or between two codes, names no category */
		if (schema->features[i].kind == FEATURE_CATEGORICAL && !isnan(v) &&
			!(v >= 0 && v < schema->features[i].ncategories && v == floorf(v)))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("feature %d (\"%s\") is %g, not one of its %d category codes",
							i + 1, schema->features[i].name, v, schema->features[i].ncategories),
					 errhint("A categorical feature is its category's position in ml.models.feature_schema, from 0; NULL or NaN for a missing value.")));
		out[i] = v;
	}
}

/* Features from argument argno, jsonb or float4[] whichever it is. */
void
features_from_arg(FunctionCallInfo fcinfo, int argno, const FeatureSchema *schema, float *out)
{
	args_not_null(fcinfo, argno, "features", "Pass '{}'::jsonb to predict with every feature missing.");
	if (get_fn_expr_argtype(fcinfo->flinfo, argno) == JSONBOID)
		features_from_jsonb(schema, PG_GETARG_DATUM(argno), out,
							model_cache_layout(fcinfo), fcinfo->flinfo->fn_mcxt);
	else
		features_from_array(schema, PG_GETARG_ARRAYTYPE_P(argno), out);
}
