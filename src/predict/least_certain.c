/*-------------------------------------------------------------------------
 *
 * least_certain.c
 *	  Active learning: ml.least_certain(), the rows of a source where a
 *	  classifier is least certain, optionally spread over their features;
 *	  ml.uncertainty(), the measure of one row's class probabilities; and
 *	  ml.uncertainty_spread(), the spread of given candidates
 *	  (policy/uncertainty.c does the arithmetic).
 *
 * ml.least_certain ranks with one query: ml.uncertainty of
 * ml.predict_proba (the native evaluator) over the source, the top rows
 * kept by the sort's bounded heap.  It is C rather than PL/pgSQL so that
 * the source's names resolve on the caller's search_path, as ml.train's
 * do, while the query's own names are all qualified.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "common/args.h"
#include "common/sql_source.h"
#include "common/srf.h"
#include "predict/named_version.h"
#include "policy/uncertainty.h"

PG_FUNCTION_INFO_V1(learnloop_uncertainty);
PG_FUNCTION_INFO_V1(learnloop_uncertainty_spread);
PG_FUNCTION_INFO_V1(learnloop_least_certain);

static const char *const measure_names[] = {"entropy", "margin", "least_confident"};

/*
 * A category key with more distinct values than this among the candidates
 * is an identifier, not a feature: it would make every row as far from
 * every other, so it is left out of the distances.
 */
#define SPREAD_MAX_CATEGORIES 64

/*
 * Candidates times rows chosen: the spread's distance computations, which
 * run without a check for cancellation, so their number is bounded
 * (ml.least_certain with diversity chooses n of 10 n: n at most 1,000).
 */
#define SPREAD_MAX_WORK 10000000

/* The float8[] argument argno as a C array without NULLs */
static double *
float8_array(FunctionCallInfo fcinfo, int argno, const char *argname, int *n)
{
	ArrayType  *array = PG_GETARG_ARRAYTYPE_P(argno);
	Datum	   *elems;
	bool	   *nulls;
	double	   *values;

	if (ARR_NDIM(array) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s must be a one-dimensional array", argname)));
	deconstruct_array(array, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &elems, &nulls, n);
	values = palloc(sizeof(double) * Max(*n, 1));
	for (int i = 0; i < *n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s must not contain NULL", argname)));
		values[i] = DatumGetFloat8(elems[i]);
	}
	return values;
}

/*
 * ml.uncertainty(probabilities float8[], strategy text): larger is less
 * certain.  The probabilities are a classifier's (ml.predict_proba's), so
 * each must be in [0, 1]; they are not required to sum to 1 exactly.
 */
Datum
learnloop_uncertainty(PG_FUNCTION_ARGS)
{
	int			k;
	double	   *p = float8_array(fcinfo, 0, "probabilities", &k);
	int			measure = args_choice(text_to_cstring(PG_GETARG_TEXT_PP(1)), "strategy",
									  measure_names, lengthof(measure_names));

	if (k == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("probabilities must not be empty"),
				 errhint("Pass a classifier's class probabilities, as ml.predict_proba returns them.")));
	for (int i = 0; i < k; i++)
		if (!(p[i] >= 0 && p[i] <= 1))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("probability %g is not between 0 and 1", p[i]),
					 errhint("Pass a classifier's class probabilities, as ml.predict_proba returns them.")));
	PG_RETURN_FLOAT8(uncertainty((UncertaintyMeasure) measure, p, k));
}

/* One top-level key of the candidates' features: a number, or a category */
typedef struct SpreadKey
{
	char		key[NAMEDATALEN * 2];	/* hash key: the name, cut */
	bool		numeric;		/* every value seen is a number */
	bool		category;		/* every value seen is a string or boolean */
	int			ncategories;
	char	   *categories[SPREAD_MAX_CATEGORIES];
	double		sum;
	double		sumsq;
	int			count;
	int			column;			/* its first column in the points; -1: left out */
} SpreadKey;

/* A value as a category's text, or NULL for a number or anything else */
static char *
category_of(const JsonbValue *v)
{
	if (v->type == jbvString)
		return pnstrdup(v->val.string.val, v->val.string.len);
	if (v->type == jbvBool)
		return v->val.boolean ? "true" : "false";
	return NULL;
}

static int
category_index(const SpreadKey *key, const char *category)
{
	for (int c = 0; c < key->ncategories; c++)
		if (strcmp(key->categories[c], category) == 0)
			return c;
	return -1;
}

/* Calls fn for each top-level key and scalar value of an object */
typedef void (*KeyValueFn) (HTAB *keys, const char *key, const JsonbValue *value,
							double *row);

static void
each_key_value(Jsonb *features, HTAB *keys, KeyValueFn fn, double *row)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken token;
	char	   *key = NULL;

	if (!JB_ROOT_IS_OBJECT(features))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("features must be JSON objects")));
	it = JsonbIteratorInit(&features->root);
	while ((token = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (token == WJB_KEY)
			key = pnstrdup(v.val.string.val, Min(v.val.string.len, NAMEDATALEN * 2 - 1));
		else if (token == WJB_VALUE && key != NULL)
			fn(keys, key, &v, row);
	}
}

/* First pass: which keys are numbers and which categories, and their moments */
static void
survey_value(HTAB *keys, const char *name, const JsonbValue *v, double *row)
{
	SpreadKey  *key;
	bool		found;
	char	   *category = category_of(v);

	if (v->type == jbvNull)
		return;
	key = hash_search(keys, name, HASH_ENTER, &found);
	if (!found)
	{
		key->numeric = key->category = true;
		key->ncategories = key->count = 0;
		key->sum = key->sumsq = 0;
	}
	if (v->type == jbvNumeric)
	{
		double		x = DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow,
														   NumericGetDatum(v->val.numeric)));

		key->category = false;
		if (isfinite(x))
		{
			key->sum += x;
			key->sumsq += x * x;
			key->count++;
		}
	}
	else if (category != NULL)
	{
		key->numeric = false;
		if (category_index(key, category) < 0)
		{
			if (key->ncategories < SPREAD_MAX_CATEGORIES)
				key->categories[key->ncategories] = category;
			key->ncategories++;
		}
	}
	else
		key->numeric = key->category = false;	/* an array or object */
}

/* Second pass: a row's coordinates (missing: the mean, 0 after centring) */
static void
place_value(HTAB *keys, const char *name, const JsonbValue *v, double *row)
{
	SpreadKey  *key = hash_search(keys, name, HASH_FIND, NULL);
	char	   *category;

	if (key == NULL || key->column < 0 || v->type == jbvNull)
		return;
	if (key->numeric && v->type == jbvNumeric)
	{
		double		x = DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow,
														   NumericGetDatum(v->val.numeric)));
		double		mean = key->sum / key->count;
		double		sd = sqrt(Max(key->sumsq / key->count - mean * mean, 0));

		if (isfinite(x))
			row[key->column] = (x - mean) / sd;
	}
	else if ((category = category_of(v)) != NULL)
	{
		/* one-hot scaled so that two categories are 1 apart, as one sd of a number */
		row[key->column + category_index(key, category)] = M_SQRT1_2;
	}
}

static void
check_diversity(double diversity)
{
	if (!(diversity >= 0 && diversity <= 1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("diversity must be between 0 and 1, not %g", diversity),
				 errhint("0 ranks by uncertainty alone; 1 spreads the batch as far as it goes.")));
}

/*
 * Chooses n of the candidates (features: jsonb objects; scores: their
 * uncertainty) into chosen[] (0-based, in the order chosen); returns how
 * many.  Numbers are standardised over the candidates; categories
 * (strings, booleans) are one-hot; keys with arrays or objects, constant
 * numbers and categories with more than SPREAD_MAX_CATEGORIES values are
 * left out.
 */
static int
spread(Datum *features, const double *scores, int nrows, int n, double diversity, int *chosen)
{
	HASHCTL		ctl;
	HTAB	   *keys;
	HASH_SEQ_STATUS seq;
	SpreadKey  *key;
	int			dims = 0;
	double	   *points;

	ctl.keysize = NAMEDATALEN * 2;
	ctl.entrysize = sizeof(SpreadKey);
	ctl.hcxt = CurrentMemoryContext;
	keys = hash_create("learnloop spread keys", 64, &ctl, HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	for (int i = 0; i < nrows; i++)
		each_key_value(DatumGetJsonbP(features[i]), keys, survey_value, NULL);
	hash_seq_init(&seq, keys);
	while ((key = hash_seq_search(&seq)) != NULL)
	{
		double		mean = key->count ? key->sum / key->count : 0;

		key->column = -1;
		if (key->numeric && key->count > 0 &&
			key->sumsq / key->count - mean * mean > 1e-12 * Max(1, mean * mean))
			key->column = dims++;
		else if (key->category && key->ncategories >= 2 && key->ncategories <= SPREAD_MAX_CATEGORIES)
		{
			key->column = dims;
			dims += key->ncategories;
		}
	}

	points = palloc0(sizeof(double) * Max((size_t) nrows * dims, 1));
	for (int i = 0; i < nrows; i++)
		each_key_value(DatumGetJsonbP(features[i]), keys, place_value, points + (size_t) i * dims);
	return uncertainty_spread(points, nrows, dims, scores, diversity, n, chosen,
							  palloc(sizeof(double) * Max(nrows, 1)));
}

/*
 * ml.uncertainty_spread(features jsonb[], scores float8[], n int,
 * diversity float8): the 1-based positions of the n candidates chosen, in
 * the order chosen.
 */
Datum
learnloop_uncertainty_spread(PG_FUNCTION_ARGS)
{
	Datum	   *features;
	bool	   *features_null;
	int			nrows,
				nscores,
				n = PG_GETARG_INT32(2),
				count;
	double	   *scores = float8_array(fcinfo, 1, "scores", &nscores);
	int		   *chosen;
	Datum	   *result;

	check_diversity(PG_GETARG_FLOAT8(3));
	if (n < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("n must not be negative")));
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(0), JSONBOID, -1, false, TYPALIGN_INT,
					  &features, &features_null, &nrows);
	if (nrows != nscores)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("features has %d rows and scores %d", nrows, nscores)));
	for (int i = 0; i < nrows; i++)
		if (features_null[i] || !(scores[i] >= 0 && isfinite(scores[i])))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("features must not be NULL and scores must be finite and not negative"),
					 errhint("Pass uncertainties, as ml.uncertainty returns them.")));
	/* the work grows as candidates times chosen: bounded, as it runs without a cancel check */
	if ((int64) nrows * Min(n, nrows) > SPREAD_MAX_WORK)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("spreading %d of %d candidates is too much work", n, nrows),
				 errhint("Candidates times rows chosen must be at most %d: choose fewer, or among fewer.",
						 SPREAD_MAX_WORK)));
	chosen = palloc(sizeof(int) * Max(nrows, 1));
	count = spread(features, scores, nrows, n, PG_GETARG_FLOAT8(3), chosen);
	result = palloc(sizeof(Datum) * Max(count, 1));
	for (int i = 0; i < count; i++)
		result[i] = Int32GetDatum(chosen[i] + 1);
	PG_RETURN_ARRAYTYPE_P(construct_array(result, count, INT4OID, 4, true, TYPALIGN_INT));
}

/* Raises unless the model's version (NULL: the deployed one) is a classifier */
static void
check_classifier(text *model, Datum version, bool version_null)
{
	char	   *task = named_version(model, version, version_null).task;

	if (strcmp(task, "classification") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("model \"%s\" is a %s model: uncertainty needs class probabilities",
						text_to_cstring(model), task),
				 errhint("Name a classifier.")));
}

/* Whether the source has a column named outcome (planned, not run) */
static bool
source_has_outcome(const char *from)
{
	SPIPlanPtr	plan = SPI_prepare(psprintf("SELECT * FROM %s AS s LIMIT 0", from), 0, NULL);
	TupleDesc	desc;

	if (plan == NULL)
		elog(ERROR, "learnloop could not plan the source: %s", SPI_result_code_string(SPI_result));
	if (SPI_execute_plan(plan, NULL, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "learnloop could not read the source");
	desc = SPI_tuptable->tupdesc;
	for (int i = 0; i < desc->natts; i++)
		if (!TupleDescAttr(desc, i)->attisdropped &&
			strcmp(NameStr(TupleDescAttr(desc, i)->attname), "outcome") == 0)
			return true;
	return false;
}

/*
 * ml.least_certain(model, source, n, strategy, only_without_outcome,
 * diversity, id_column, features_column, version): rank, id, features,
 * uncertainty, probabilities of the n rows chosen.  With diversity > 0 the
 * batch is spread over the 10 n most uncertain rows.
 */
Datum
learnloop_least_certain(PG_FUNCTION_ARGS)
{
	text	   *model;
	char	   *source;
	int			n;
	int			measure;
	double		diversity;
	char	   *from;
	bool		without_outcome;
	int			pool;
	StringInfoData query;
	Oid			types[3] = {TEXTOID, TEXTOID, INT4OID};
	Datum		values[3];
	char		nulls[3] = {' ', ' ', ' '};
	ReturnSetInfo *rsinfo;
	uint64		nrows;
	Datum	   *features;
	double	   *scores;
	int		   *chosen;
	int			count;

	for (int a = 0; a < 8; a++)
		if (PG_ARGISNULL(a))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("only version may be NULL"),
					 errhint("Leave an argument out for its default.")));
	model = PG_GETARG_TEXT_PP(0);
	source = text_to_cstring(PG_GETARG_TEXT_PP(1));
	n = PG_GETARG_INT32(2);
	measure = args_choice(text_to_cstring(PG_GETARG_TEXT_PP(3)), "strategy",
						  measure_names, lengthof(measure_names));
	diversity = PG_GETARG_FLOAT8(5);
	if (n < 1 || n > 100000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("n must be from 1 to 100000, not %d", n),
				 errhint("n is the size of the batch to label.")));
	check_diversity(diversity);
	if (diversity > 0 && n > 1000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("n must be at most 1000 with diversity, not %d", n),
				 errhint("The spread compares each row chosen with 10 n candidates; rank without diversity for larger batches.")));
	from = sql_source_is_query(source) ? psprintf("(%s)", source) : source;
	pool = diversity > 0 ? n * 10 : n;

	rsinfo = srf_materialize(fcinfo);
	SPI_connect();
	check_classifier(model, PG_GETARG_DATUM(8), PG_ARGISNULL(8));
	without_outcome = PG_GETARG_BOOL(4) && source_has_outcome(from);
	if (PG_GETARG_BOOL(4) && !without_outcome)
		ereport(NOTICE,
				(errmsg("the source has no outcome column: every row is a candidate")));

	initStringInfo(&query);
	appendStringInfo(&query,
					 "SELECT s.%1$s::pg_catalog.text, s.%2$s::pg_catalog.jsonb, "
					 "ml.uncertainty(p.probabilities, $2), p.probabilities "
					 "FROM %3$s AS s CROSS JOIN LATERAL "
					 "(SELECT ml.predict_proba($1, s.%2$s::pg_catalog.jsonb, $3) AS probabilities) p "
					 "%4$s ORDER BY 3 DESC NULLS LAST, 1 LIMIT %5$d",
					 quote_identifier(text_to_cstring(PG_GETARG_TEXT_PP(6))),
					 quote_identifier(text_to_cstring(PG_GETARG_TEXT_PP(7))),
					 from, without_outcome ? "WHERE s.outcome IS NULL" : "", pool);
	values[0] = PointerGetDatum(model);
	values[1] = CStringGetTextDatum(measure_names[measure]);
	values[2] = PG_GETARG_DATUM(8);
	nulls[2] = PG_ARGISNULL(8) ? 'n' : ' ';
	if (SPI_execute_with_args(query.data, 3, types, values, nulls, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "learnloop could not rank the source");

	nrows = SPI_processed;
	features = palloc(sizeof(Datum) * Max(nrows, 1));
	scores = palloc(sizeof(double) * Max(nrows, 1));
	chosen = palloc(sizeof(int) * Max(nrows, 1));
	for (uint64 r = 0; r < nrows; r++)
	{
		bool		isnull;

		features[r] = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 2, &isnull);
		if (isnull)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("a row of the source has NULL features"),
					 errhint("Filter such rows out in the source query.")));
		scores[r] = DatumGetFloat8(SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 3, &isnull));
		if (isnull)
			elog(ERROR, "learnloop ranked a row without an uncertainty");
		chosen[r] = (int) r;
	}
	count = diversity > 0 ? spread(features, scores, (int) nrows, n, diversity, chosen) : (int) nrows;
	for (int i = 0; i < count; i++)
	{
		HeapTuple	row = SPI_tuptable->vals[chosen[i]];
		Datum		out[5];
		bool		out_null[5];

		out[0] = Int32GetDatum(i + 1);
		out_null[0] = false;
		for (int c = 1; c <= 4; c++)
			out[c] = SPI_getbinval(row, SPI_tuptable->tupdesc, c, &out_null[c]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, out, out_null);
	}
	SPI_finish();
	return (Datum) 0;
}
