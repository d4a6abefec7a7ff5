/*-------------------------------------------------------------------------
 *
 * reference_json.c
 *	  Writes a model's reference distributions as JSON and reads them back.
 *
 * The reader treats the stored row as untrusted: a hand-edited or
 * damaged ml.models.reference must give an error that says where, never
 * a crash, an out-of-bounds read or a silently wrong drift figure.  So
 * every array length is held to the limits of model/reference.h and to
 * the lengths the other members imply, every number must be finite and
 * in its range, shares must sum to 1, and the features must be the
 * schema's, of the schema's kinds, with categories the schema knows.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "utils/json.h"

#include "common/json_number.h"
#include "common/json_tree.h"
#include "model/reference_json.h"

/* shares are written in shortest exact form; their sum is off by rounding only */
#define SHARE_SUM_TOLERANCE 1e-6
/* counts are exact in a double up to 2^53 */
#define MAX_COUNT 9007199254740992.0

static void
append_array(StringInfo out, const char *key, const double *values, int n)
{
	appendStringInfo(out, ", \"%s\": [", key);
	for (int i = 0; i < n; i++)
	{
		if (i > 0)
			appendStringInfoString(out, ", ");
		json_append_float8(out, values[i]);
	}
	appendStringInfoChar(out, ']');
}

/* a NaN (the mean of no value) is written as null */
static void
append_number(StringInfo out, const char *key, double value)
{
	appendStringInfo(out, ", \"%s\": ", key);
	if (isnan(value))
		appendStringInfoString(out, "null");
	else
		json_append_float8(out, value);
}

void
reference_append_numeric(StringInfo out, const NumericReference *ref)
{
	appendStringInfo(out, "{\"kind\": \"numeric\", \"count\": " INT64_FORMAT
					 ", \"missing\": " INT64_FORMAT, ref->count, ref->missing);
	append_number(out, "mean", ref->mean);
	append_number(out, "sd", ref->sd);
	append_array(out, "edges", ref->edges, Max(ref->nbins - 1, 0));
	append_array(out, "shares", ref->shares, ref->nbins);
	append_array(out, "quantiles", ref->quantiles, ref->nquantiles);
	appendStringInfoChar(out, '}');
}

void
reference_append_category(StringInfo out, const CategoryReference *ref,
						  char *const *names)
{
	appendStringInfo(out, "{\"kind\": \"category\", \"count\": " INT64_FORMAT
					 ", \"missing\": " INT64_FORMAT ", \"categories\": [",
					 ref->count, ref->missing);
	for (int i = 0; i < ref->ncategories; i++)
	{
		if (i > 0)
			appendStringInfoString(out, ", ");
		escape_json(out, names[i]);
	}
	appendStringInfoChar(out, ']');
	append_array(out, "shares", ref->shares, ref->ncategories);
	append_number(out, "other", ref->shares[ref->ncategories]);
	appendStringInfoChar(out, '}');
}

/* What the reader knows of where it is, for the error. */
typedef struct ReadContext
{
	const char *model;
	int			version;
	const char *what;			/* "feature \"x\"" or "the prediction" */
} ReadContext;

static void
corrupted(const ReadContext *rc, const char *problem)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("the reference distributions of model \"%s\" version %d are corrupted: %s%s%s",
					rc->model, rc->version, rc->what ? rc->what : "",
					rc->what ? ": " : "", problem),
			 errhint("ml.models.reference is written by training and must not be edited by hand; "
					 "retrain the model, or set the column to NULL to monitor it without drift.")));
}

static const cJSON *
member(const ReadContext *rc, const cJSON *object, const char *key)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, key);

	if (item == NULL)
		corrupted(rc, psprintf("\"%s\" is missing", key));
	return item;
}

static double
finite_number(const ReadContext *rc, const cJSON *item, const char *key)
{
	if (!cJSON_IsNumber(item) || !isfinite(item->valuedouble))
		corrupted(rc, psprintf("\"%s\" is not a finite number", key));
	return item->valuedouble;
}

static int64
count_member(const ReadContext *rc, const cJSON *object, const char *key)
{
	double		v = finite_number(rc, member(rc, object, key), key);

	if (v < 0 || v > MAX_COUNT || v != floor(v))
		corrupted(rc, psprintf("\"%s\" is not a count", key));
	return (int64) v;
}

/* An array of finite numbers, of a length in [min, max]; returns it. */
static int
number_array(const ReadContext *rc, const cJSON *object, const char *key,
			 int min, int max, double *out)
{
	const cJSON *array = member(rc, object, key);
	const cJSON *item;
	int			n;

	if (!cJSON_IsArray(array))
		corrupted(rc, psprintf("\"%s\" is not an array", key));
	n = cJSON_GetArraySize(array);
	if (n < min || n > max)
		corrupted(rc, psprintf("\"%s\" has %d entries where %d to %d belong", key, n, min, max));
	n = 0;
	cJSON_ArrayForEach(item, array)
		out[n++] = finite_number(rc, item, key);
	return n;
}

/* Shares: each in [0, 1], and (when any value was counted) summing to 1. */
static void
check_shares(const ReadContext *rc, const double *shares, int n, bool positive,
			 bool counted)
{
	double		sum = 0;

	for (int i = 0; i < n; i++)
	{
		if (shares[i] < 0 || shares[i] > 1 || (positive && shares[i] == 0))
			corrupted(rc, "a share is outside its range");
		sum += shares[i];
	}
	if (counted ? fabs(sum - 1) > SHARE_SUM_TOLERANCE : sum != 0)
		corrupted(rc, psprintf("the shares sum to %g", sum));
}

static void
check_kind(const ReadContext *rc, const cJSON *object, const char *kind)
{
	const cJSON *item;

	if (!cJSON_IsObject(object))
		corrupted(rc, "not an object");
	item = member(rc, object, "kind");
	if (!cJSON_IsString(item) || strcmp(item->valuestring, kind) != 0)
		corrupted(rc, psprintf("\"kind\" is not \"%s\"", kind));
}

static void
ascending(const ReadContext *rc, const double *values, int n, bool strict,
		  const char *key)
{
	for (int i = 1; i < n; i++)
		if (strict ? values[i] <= values[i - 1] : values[i] < values[i - 1])
			corrupted(rc, psprintf("\"%s\" is not ascending", key));
}

static NumericReference *
read_numeric(const ReadContext *rc, const cJSON *object)
{
	NumericReference *ref = palloc0(sizeof(NumericReference));
	int			nedges;

	check_kind(rc, object, "numeric");
	ref->count = count_member(rc, object, "count");
	ref->missing = count_member(rc, object, "missing");
	if (ref->count == 0)
	{
		/* nothing measured: no mean, no bins, no points */
		if (!cJSON_IsNull(member(rc, object, "mean")) || !cJSON_IsNull(member(rc, object, "sd")))
			corrupted(rc, "a mean or sd without values");
		ref->mean = ref->sd = NAN;
		number_array(rc, object, "edges", 0, 0, ref->edges);
		number_array(rc, object, "shares", 0, 0, ref->shares);
		number_array(rc, object, "quantiles", 0, 0, ref->quantiles);
		return ref;
	}
	ref->mean = finite_number(rc, member(rc, object, "mean"), "mean");
	ref->sd = finite_number(rc, member(rc, object, "sd"), "sd");
	if (ref->sd < 0)
		corrupted(rc, "\"sd\" is negative");
	ref->nbins = number_array(rc, object, "shares", 1, MONITOR_BINS, ref->shares);
	check_shares(rc, ref->shares, ref->nbins, true, true);
	nedges = number_array(rc, object, "edges", ref->nbins - 1, ref->nbins - 1, ref->edges);
	ascending(rc, ref->edges, nedges, true, "edges");
	ref->nquantiles = (int) Min(ref->count, (int64) MONITOR_QUANTILES);
	number_array(rc, object, "quantiles", ref->nquantiles, ref->nquantiles, ref->quantiles);
	ascending(rc, ref->quantiles, ref->nquantiles, false, "quantiles");
	return ref;
}

/*
 * A category reference and its kept categories' names.  A kept category
 * the schema does not know, or one kept twice, is corrupted: training
 * keeps only categories of the dictionary it writes.
 */
static void
read_category(const ReadContext *rc, const cJSON *object, const SchemaFeature *f,
			  FeatureReference *out)
{
	CategoryReference *ref = palloc0(sizeof(CategoryReference));
	const cJSON *names;
	const cJSON *item;
	bool	   *kept = palloc0(sizeof(bool) * Max(f->ncategories, 1));
	int			n = 0;

	check_kind(rc, object, "category");
	ref->count = count_member(rc, object, "count");
	ref->missing = count_member(rc, object, "missing");
	names = member(rc, object, "categories");
	if (!cJSON_IsArray(names) || cJSON_GetArraySize(names) > MONITOR_CATEGORIES)
		corrupted(rc, psprintf("\"categories\" is not an array of at most %d names", MONITOR_CATEGORIES));
	ref->ncategories = cJSON_GetArraySize(names);
	out->names = palloc(sizeof(char *) * Max(ref->ncategories, 1));
	out->name_lens = palloc(sizeof(int) * Max(ref->ncategories, 1));
	cJSON_ArrayForEach(item, names)
	{
		int			code;

		if (!cJSON_IsString(item))
			corrupted(rc, "a category is not a string");
		code = schema_category_code(f, item->valuestring, strlen(item->valuestring));
		if (code < 0)
			corrupted(rc, "a category the model's schema does not know");
		if (kept[code])
			corrupted(rc, "a category named twice");
		kept[code] = true;
		out->names[n] = pstrdup(item->valuestring);
		out->name_lens[n++] = strlen(item->valuestring);
	}
	number_array(rc, object, "shares", ref->ncategories, ref->ncategories, ref->shares);
	ref->shares[ref->ncategories] = finite_number(rc, member(rc, object, "other"), "other");
	check_shares(rc, ref->shares, ref->ncategories + 1, false, ref->count > 0);
	out->cat = ref;
	pfree(kept);
}

ModelReference *
reference_read(const char *json, const FeatureSchema *schema, const char *model, int version)
{
	JsonTree   *tree = json_tree_parse(json);
	ModelReference *ref = palloc0(sizeof(ModelReference));
	ReadContext rc = {model, version, NULL};
	const cJSON *features;
	const cJSON *prediction;

	if (tree->root == NULL || !cJSON_IsObject(tree->root))
		corrupted(&rc, "not a JSON object");
	features = member(&rc, tree->root, "features");
	if (!cJSON_IsObject(features) || cJSON_GetArraySize(features) != schema->nfeatures)
		corrupted(&rc, psprintf("\"features\" is not an object of the schema's %d features",
								schema->nfeatures));
	ref->nfeatures = schema->nfeatures;
	ref->features = palloc0(sizeof(FeatureReference) * Max(schema->nfeatures, 1));
	for (int i = 0; i < schema->nfeatures; i++)
	{
		const SchemaFeature *f = &schema->features[i];
		const cJSON *object;

		rc.what = NULL;
		object = member(&rc, features, f->name);
		rc.what = psprintf("feature \"%s\"", f->name);
		ref->features[i].numeric = f->kind != FEATURE_CATEGORICAL;
		if (ref->features[i].numeric)
			ref->features[i].num = read_numeric(&rc, object);
		else
			read_category(&rc, object, f, &ref->features[i]);
	}

	rc.what = NULL;
	prediction = member(&rc, tree->root, "prediction");
	if (!cJSON_IsNull(prediction))
	{
		const cJSON *of;

		rc.what = "the prediction";
		ref->prediction = read_numeric(&rc, prediction);
		of = member(&rc, prediction, "of");
		if (!cJSON_IsString(of) || (strcmp(of->valuestring, "score") != 0 &&
									strcmp(of->valuestring, "confidence") != 0 &&
									strcmp(of->valuestring, "value") != 0))
			corrupted(&rc, "\"of\" is not score, confidence or value");
		ref->prediction_of = pstrdup(of->valuestring);
	}
	json_tree_free(tree);
	return ref;
}
