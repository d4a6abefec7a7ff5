/*-------------------------------------------------------------------------
 *
 * import.c
 *	  ml.import_model: a model trained elsewhere (a notebook's XGBoost,
 *	  Python, R or the CLI) registered as a new version of a model.
 *
 * The bytes are untrusted input.  They are read with bounded reads
 * (model_import_read, model_bytes_check), loaded by XGBoost with every
 * return code checked, and their feature schema is built from what the
 * model carries (feature_names, feature_types) or what the caller says.
 * Only then is the row written, and it is loaded back exactly as serving
 * loads it (model_cache_load_uncached: every check serving makes), and it
 * must predict a row; the check rows are predicted by that loaded model,
 * the evaluator serving will use.  Everything happens in the caller's transaction, so any refusal,
 * including a check row that is not reproduced, leaves nothing stored.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <math.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"

#include "common/args.h"
#include "common/guarded.h"
#include "common/json_tree.h"
#include "model/model_bytes.h"
#include "model/model_import.h"
#include "model/schema.h"
#include "predict/feature_vector.h"
#include "predict/predict.h"
#include "train/registry.h"
#include "train/train_run.h"
#include "xgb/xgb.h"

PG_FUNCTION_INFO_V1(learnloop_import_model);

/*
 * Features a model may read: its schema is built and stored whole (a
 * hostile num_feature must not size an allocation).
 */
#define IMPORT_MAX_FEATURES 1000000

/* The tolerance of check_rows: a float model's output, printed and read back */
#define CHECK_TOLERANCE 1e-6

static void
bad_model(const char *reason)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("the model bytes are not a model learnloop can import: %s", reason),
			 errhint("Pass the bytes of an XGBoost model as save_model wrote them (a .json or .ubj file) "
					 "or as save_raw returned them, unchanged; a model in XGBoost's old binary format "
					 "loads in XGBoost and saves again as .json or .ubj.")));
}

static void
bad_argument(const char *message, const char *hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s", message),
			 errhint("%s", hint)));
}

/* 'json' or 'ubj', as given or as the bytes say; a mismatch is an error. */
static const char *
model_format(FunctionCallInfo fcinfo, const char *buf, size_t len)
{
	static const char *const formats[] = {"json", "ubj"};
	const char *detected = NULL;
	int			given;

	if (len >= 2 && buf[0] == '{')
		detected = buf[1] == '"' ? "json" : isalpha((unsigned char) buf[1]) ? "ubj" : NULL;
	if (!args_given(fcinfo, 2))
	{
		if (detected == NULL)
			bad_model("the bytes are neither XGBoost JSON nor UBJSON");
		return detected;
	}
	given = args_choice(text_to_cstring(PG_GETARG_TEXT_PP(2)), "format", formats, lengthof(formats));
	if (detected != NULL && strcmp(detected, formats[given]) != 0)
		bad_argument(psprintf("format is %s, but the model bytes are %s", formats[given],
							  strcmp(detected, "ubj") == 0 ? "UBJSON" : "JSON"),
					 "Leave format out to detect it, or pass the format the model was saved in.");
	return formats[given];
}

/* The task an objective serves; others are refused with the reason. */
static ModelTask
objective_task(const ImportedModel *im)
{
	if (strcmp(im->objective, "binary:logistic") == 0 ||
		strcmp(im->objective, "multi:softprob") == 0)
		return TASK_CLASSIFICATION;
	if (strncmp(im->objective, "rank:", 5) == 0)
		return TASK_RANKING;
	if (objective_fits_task(TASK_REGRESSION, 0, im->objective))
		return TASK_REGRESSION;
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("objective %s is not supported", im->objective),
			 errhint("A classifier is served as class probabilities: train it with binary:logistic "
					 "or multi:softprob (multi:softmax predicts the same classes).")));
	return TASK_INFER;
}

static FeatureKind
kind_of_xgb_type(const char *type)
{
	if (strcmp(type, "q") == 0 || strcmp(type, "float") == 0 || strcmp(type, "int") == 0)
		return FEATURE_NUMERIC;
	if (strcmp(type, "i") == 0)
		return FEATURE_BOOLEAN;
	if (strcmp(type, "c") == 0)
		return FEATURE_CATEGORICAL;
	bad_model(psprintf("feature type \"%s\" is none of XGBoost's (q, i, c, int, float)", type));
	return FEATURE_NUMERIC;
}

/* A dictionary (categories or classes) from a JSON array of strings. */
static void
dictionary(const cJSON *array, SchemaFeature *f, const char *what)
{
	const cJSON *item;
	int			i = 0;

	if (!cJSON_IsArray(array) || cJSON_GetArraySize(array) == 0)
		bad_argument(psprintf("the categories of feature \"%s\" are not a non-empty array", what),
					 "Give \"categories\" as the list of values in the order of their codes "
					 "(pandas: the column's cat.categories).");
	f->ncategories = cJSON_GetArraySize(array);
	f->categories = palloc(sizeof(char *) * f->ncategories);
	cJSON_ArrayForEach(item, array)
	{
		if (!cJSON_IsString(item))
			bad_argument(psprintf("the categories of feature \"%s\" include a value that is not a string", what),
						 "Categories are strings, as jsonb features carry them.");
		f->categories[i++] = pstrdup(item->valuestring);
	}
}

/* One entry of the features argument: a name, or {"name", "type", "categories"}. */
static void
feature_from_argument(const cJSON *item, int i, SchemaFeature *f, bool *typed)
{
	const cJSON *name = cJSON_IsObject(item) ? cJSON_GetObjectItemCaseSensitive(item, "name") : item;
	const cJSON *type = cJSON_IsObject(item) ? cJSON_GetObjectItemCaseSensitive(item, "type") : NULL;

	if (!cJSON_IsString(name) || name->valuestring[0] == '\0')
		bad_argument(psprintf("feature %d of features has no name", i + 1),
					 "Pass features as an array of names, or of objects {\"name\": ..., \"type\": "
					 "\"numeric\" | \"boolean\" | \"categorical\", \"categories\": [...]}.");
	f->name = pstrdup(name->valuestring);
	*typed = type != NULL;
	if (type == NULL)
		return;
	for (f->kind = FEATURE_NUMERIC; f->kind <= FEATURE_CATEGORICAL; f->kind++)
		if (cJSON_IsString(type) && strcmp(type->valuestring, feature_kind_names[f->kind]) == 0)
			break;
	if (f->kind > FEATURE_CATEGORICAL)
		bad_argument(psprintf("feature \"%s\" has a type that is not numeric, boolean or categorical", f->name),
					 "Give each feature's type as learnloop's feature schema spells it.");
	if (f->kind == FEATURE_CATEGORICAL)
		dictionary(cJSON_GetObjectItemCaseSensitive(item, "categories"), f, f->name);
}

static int
compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/*
 * Names, categories and classes must be distinct, and shorter than the
 * feature schema's lookup keys (256 bytes): serving maps strings to codes
 * through them, and two that differ only beyond could not be told apart.
 */
static void
check_labels(char **labels, int n, const char *what)
{
	char	  **sorted = palloc(sizeof(char *) * Max(n, 1));

	for (int i = 0; i < n; i++)
	{
		if (strlen(labels[i]) >= 256)
			bad_argument(psprintf("a %s is %zu bytes long", what, strlen(labels[i])),
						 "Feature names, categories and classes are at most 255 bytes.");
		sorted[i] = labels[i];
	}
	qsort(sorted, n, sizeof(char *), compare_names);
	for (int i = 1; i < n; i++)
		if (strcmp(sorted[i - 1], sorted[i]) == 0)
			bad_argument(psprintf("a %s appears twice: \"%s\"", what, sorted[i]),
						 "Feature names, the categories of a feature and the classes must be distinct: "
						 "rows are read by name.");
}

/*
 * The features: the caller's (checked against the model's names when it
 * has them), else the model's, else XGBoost's default names f0, f1, ...
 */
static void
build_features(FunctionCallInfo fcinfo, const ImportedModel *im, FeatureSchema *schema)
{
	JsonTree   *tree = NULL;
	bool	   *typed = palloc0(sizeof(bool) * Max(im->num_feature, 1));

	schema->nfeatures = im->num_feature;
	schema->features = palloc0(sizeof(SchemaFeature) * Max(im->num_feature, 1));
	if (args_given(fcinfo, 3))
	{
		Jsonb	   *arg = PG_GETARG_JSONB_P(3);
		const cJSON *item;
		int			i = 0;

		tree = json_tree_parse(JsonbToCString(NULL, &arg->root, VARSIZE(arg)));
		if (!cJSON_IsArray(tree->root))
			bad_argument("features must be a JSON array",
						 "Pass the features in the model's order: names, or objects with name, type and categories.");
		if (cJSON_GetArraySize(tree->root) != im->num_feature)
			bad_argument(psprintf("the model reads %d features, features names %d",
								  im->num_feature, cJSON_GetArraySize(tree->root)),
						 "Name every feature the model was trained on, in its order.");
		cJSON_ArrayForEach(item, tree->root)
		{
			feature_from_argument(item, i, &schema->features[i], &typed[i]);
			if (im->nnames == im->num_feature && strcmp(im->names[i], schema->features[i].name) != 0)
				bad_argument(psprintf("feature %d is \"%s\" in the model, \"%s\" in features",
									  i + 1, im->names[i], schema->features[i].name),
							 "The model carries its feature names; leave features out, or give the same names.");
			i++;
		}
	}
	else if (im->nnames > 0 && im->nnames != im->num_feature)
		bad_model(psprintf("it names %d features and reads %d", im->nnames, im->num_feature));
	for (int i = 0; i < im->num_feature; i++)
	{
		SchemaFeature *f = &schema->features[i];
		FeatureKind model_kind = i < im->ntypes ? kind_of_xgb_type(im->types[i]) : FEATURE_NUMERIC;

		if (f->name == NULL)
			f->name = im->nnames > 0 ? im->names[i] : psprintf("f%d", i);
		if (!typed[i])
			f->kind = model_kind;
		else if (i < im->ntypes && (f->kind == FEATURE_CATEGORICAL) != (model_kind == FEATURE_CATEGORICAL))
			bad_argument(psprintf("feature \"%s\" is %s in features but %s in the model", f->name,
								  feature_kind_names[f->kind], feature_kind_names[model_kind]),
						 "Give the type the model was trained with.");
		if (f->kind == FEATURE_CATEGORICAL && f->categories == NULL)
			bad_argument(psprintf("feature \"%s\" is categorical, and the model has no dictionary of its categories", f->name),
						 "Pass features => '[..., {\"name\": \"...\", \"type\": \"categorical\", \"categories\": [...]}]' "
						 "with the categories in the order of their codes (pandas: cat.categories).");
	}
	if (im->ntypes > 0 && im->ntypes != im->num_feature)
		bad_model(psprintf("it types %d features and reads %d", im->ntypes, im->num_feature));
	{
		char	  **names = palloc(sizeof(char *) * Max(schema->nfeatures, 1));

		for (int i = 0; i < schema->nfeatures; i++)
		{
			names[i] = schema->features[i].name;
			if (schema->features[i].kind == FEATURE_CATEGORICAL)
				check_labels(schema->features[i].categories, schema->features[i].ncategories,
							 psprintf("category of feature \"%s\"", names[i]));
		}
		check_labels(names, schema->nfeatures, "feature name");
	}
	if (tree)
		json_tree_free(tree);
}

/* The classes: the caller's, or the outputs' indexes 0, 1, ... */
static void
build_classes(FunctionCallInfo fcinfo, const ImportedModel *im, FeatureSchema *schema)
{
	int			n = im->num_class > 1 ? im->num_class : 2;
	SchemaFeature *c = &schema->classes;

	if (schema->task != TASK_CLASSIFICATION)
	{
		if (args_given(fcinfo, 4))
			bad_argument(psprintf("classes are given for a %s model", task_name(schema->task)),
						 "Only a classifier (binary:logistic, multi:softprob) has classes.");
		return;
	}
	c->ncategories = n;
	c->categories = palloc(sizeof(char *) * n);
	if (args_given(fcinfo, 4))
	{
		Datum	   *values;
		bool	   *nulls;
		int			count;

		deconstruct_array(PG_GETARG_ARRAYTYPE_P(4), TEXTOID, -1, false, TYPALIGN_INT,
						  &values, &nulls, &count);
		if (count != n)
			bad_argument(psprintf("the model has %d classes, classes names %d", n, count),
						 "Name the classes in the order of the model's outputs (the label encoding's).");
		for (int i = 0; i < n; i++)
		{
			if (nulls[i])
				bad_argument("classes include a NULL", "Name every class.");
			c->categories[i] = TextDatumGetCString(values[i]);
		}
		check_labels(c->categories, n, "class");
	}
	else
		for (int i = 0; i < n; i++)
			c->categories[i] = psprintf("%d", i);
}

/*
 * Serving predicts a row of missing values, as it will predict every row:
 * a model XGBoost loads but cannot predict with its inplace prediction (a
 * gblinear booster, in 1.7) would fail every call, so it is refused here.
 */
static void
probe_serving(CachedModel *model)
{
	MemoryContext caller = CurrentMemoryContext;
	float	   *x = palloc(sizeof(float) * Max(model->schema->nfeatures, 1));
	Prediction	p;

	for (int i = 0; i < model->schema->nfeatures; i++)
		x[i] = NAN;
	PG_TRY();
	{
		predict_row(model, x, &p);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(caller);
		edata = CopyErrorData();
		if (error_is_circumstantial(edata->sqlerrcode))
			PG_RE_THROW();
		FlushErrorState();
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("learnloop cannot serve the model: %s", edata->message),
				 errhint("learnloop serves gbtree and dart boosters; retrain a gblinear model with gbtree.")));
	}
	PG_END_TRY();
}

/*
 * Each check row's features predicted by the loaded model, against the
 * notebook's prediction; returns the largest difference, or raises for one
 * beyond the tolerance.
 */
static double
check_rows(CachedModel *model, Datum rows, int *nrows)
{
	Oid			types[1] = {JSONBOID};
	Datum		values[1] = {rows};
	float	   *x = palloc(sizeof(float) * Max(model->schema->nfeatures, 1));
	KeyLayout  *layout = NULL;
	double		worst = 0;

	if (SPI_execute_with_args("SELECT pg_catalog.jsonb_typeof($1)", 1, types, values, NULL, true, 1) != SPI_OK_SELECT ||
		strcmp(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1), "array") != 0)
		bad_argument("check_rows must be a JSON array",
					 "Pass [{\"features\": {...}, \"prediction\": p}, ...]: p a number, or the class probabilities.");
	if (SPI_execute_with_args("SELECT r OPERATOR(pg_catalog.->) 'features', "
							  "pg_catalog.jsonb_typeof(r OPERATOR(pg_catalog.->) 'prediction'), "
							  "CASE pg_catalog.jsonb_typeof(r OPERATOR(pg_catalog.->) 'prediction') "
							  "WHEN 'number' THEN ARRAY[(r OPERATOR(pg_catalog.->>) 'prediction')::pg_catalog.float8] "
							  "WHEN 'array' THEN ARRAY(SELECT e::pg_catalog.float8 FROM "
							  "pg_catalog.jsonb_array_elements_text(r OPERATOR(pg_catalog.->) 'prediction') e) END "
							  "FROM pg_catalog.jsonb_array_elements($1) WITH ORDINALITY t(r, n) ORDER BY n",
							  1, types, values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "learnloop could not read check_rows");
	*nrows = (int) SPI_processed;
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[r];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		null_features;
		bool		null_prediction;
		Datum		features = SPI_getbinval(tuple, desc, 1, &null_features);
		char	   *kind = SPI_getvalue(tuple, desc, 2);
		Datum		expected = SPI_getbinval(tuple, desc, 3, &null_prediction);
		Datum	   *want;
		int			nwant;
		Prediction	p;

		if (null_features || null_prediction)
			bad_argument(psprintf("check row %d has no \"features\" or no \"prediction\" (a number or an array)",
								  (int) r + 1),
						 "Pass [{\"features\": {...}, \"prediction\": p}, ...]: p a number, or the class probabilities.");
		features_from_jsonb(model->schema, features, x, &layout, CurrentMemoryContext);
		predict_row(model, x, &p);
		deconstruct_array(DatumGetArrayTypeP(expected), FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL,
						  TYPALIGN_DOUBLE, &want, NULL, &nwant);
		if (nwant != p.n || (strcmp(kind, "array") == 0) != (p.n > 1))
			bad_argument(psprintf("check row %d has %d predicted values, the model predicts %d",
								  (int) r + 1, nwant, p.n),
						 "Give a number for a binary classifier (the positive class's probability), "
						 "a regression or a ranking, and the array of probabilities for a multi-class model.");
		for (int i = 0; i < p.n; i++)
		{
			double		diff = fabs(p.values[i] - DatumGetFloat8(want[i]));

			if (!(diff <= CHECK_TOLERANCE))
				ereport(ERROR,
						(errcode(ERRCODE_DATA_EXCEPTION),
						 errmsg("check row %d is not reproduced: learnloop predicts %.9g where the notebook predicted %.9g",
								(int) r + 1, p.values[i], DatumGetFloat8(want[i])),
						 errdetail("Output %d differs by %g, more than %g; nothing was imported.",
								   i + 1, diff, CHECK_TOLERANCE),
						 errhint("The features are read by name through the feature schema: check the names, "
								 "the order, the types and the category dictionaries against the notebook's.")));
			worst = Max(worst, diff);
		}
	}
	return worst;
}

/* The row's ml.models.params: how it came, for the history. */
static char *
import_params(const char *format, const ImportedModel *im)
{
	StringInfoData out;

	initStringInfo(&out);
	appendStringInfo(&out, "{\"imported\": {\"format\": \"%s\", \"xgboost_version\": ", format);
	if (im->saved_by)
		escape_json(&out, im->saved_by);
	else
		appendStringInfoString(&out, "null");
	appendStringInfoString(&out, "}}");
	return out.data;
}

/* The model's bytes as they are stored: UBJSON, as ml.train stores them. */
static bytea *
save_ubj(BoosterHandle booster)
{
	bst_ulong	len;
	const char *buf;
	bytea	   *out;

	xgb_check(XGBoosterSaveModelToBuffer(booster, "{\"format\": \"ubj\"}", &len, &buf));
	out = palloc(VARHDRSZ + len);
	SET_VARSIZE(out, VARHDRSZ + len);
	memcpy(VARDATA(out), buf, len);
	return out;
}

/*
 * Everything decided before the row is written: the bytes read, checked
 * and loaded by XGBoost, the feature schema built and checked against
 * them, and the row as the registry stores it.
 */
static void
prepare_row(FunctionCallInfo fcinfo, ImportRow *row)
{
	bytea	   *bytes = PG_GETARG_BYTEA_PP(1);
	const char *format;
	ImportedModel im;
	const char *err;
	FeatureSchema schema;
	XgbHandles *xgb;
	BoosterHandle booster;
	bst_ulong	num_feature;

	memset(&schema, 0, sizeof(schema));
	format = model_format(fcinfo, VARDATA_ANY(bytes), VARSIZE_ANY_EXHDR(bytes));
	err = model_import_read(VARDATA_ANY(bytes), VARSIZE_ANY_EXHDR(bytes), &im);
	if (err == NULL)
		err = model_bytes_check(im.bytes, im.len);
	if (err != NULL)
		bad_model(err);
	if (im.num_feature > IMPORT_MAX_FEATURES)
		bad_model(psprintf("it reads %d features, more than %d", im.num_feature, IMPORT_MAX_FEATURES));
	if (im.num_class > PREDICT_MAX_OUTPUTS)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("the model has %d classes, more than %d", im.num_class, PREDICT_MAX_OUTPUTS),
				 errhint("learnloop serves at most %d class probabilities.", PREDICT_MAX_OUTPUTS)));
	schema.task = objective_task(&im);
	schema.objective = im.objective;
	build_features(fcinfo, &im, &schema);
	build_classes(fcinfo, &im, &schema);

	/* XGBoost's own reading, every call checked; the handles go with the context */
	xgb = xgb_handles_create(CurrentMemoryContext);
	booster = xgb_booster(xgb, NULL, 0);
	if (XGBoosterLoadModelFromBuffer(booster, im.bytes, im.len) != 0)
		bad_model(xgb_last_error());
	xgb_check(XGBoosterSetParam(booster, "nthread", "1"));
	xgb_check(XGBoosterGetNumFeature(booster, &num_feature));
	if (num_feature != (bst_ulong) im.num_feature)
		bad_model(psprintf("XGBoost reads %lu features where the document says %d",
						   (unsigned long) num_feature, im.num_feature));
	xgb_check(XGBoosterBoostedRounds(booster, &row->rounds));
	row->task = task_name(schema.task);
	row->params = import_params(format, &im);
	row->feature_schema = schema_json(&schema, "");
	row->model = save_ubj(booster);
	row->objective = im.objective;
	row->evaluator = serving_evaluator(booster);
	xgb_free_booster(xgb, booster);
}

Datum
learnloop_import_model(PG_FUNCTION_ARGS)
{
	ImportRow	row;
	int			version;
	CachedModel *model;
	TupleDesc	desc;
	Datum		values[6];
	bool		nulls[6] = {0};
	volatile int nchecked = 0;
	volatile double worst = 0;
	bool		deploy;

	args_not_null(fcinfo, 0, "name", "Pass the name the model is registered under.");
	args_not_null(fcinfo, 1, "model", "Pass the bytes of the saved model.");
	args_check_name(PG_GETARG_TEXT_PP(0), "name", "Pass the %s as a non-empty string.",
					"Choose a shorter %s.");
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "ml.import_model must return a record");
	memset(&row, 0, sizeof(row));
	row.name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	deploy = args_given(fcinfo, 5) && PG_GETARG_BOOL(5);
	prepare_row(fcinfo, &row);

	SPI_connect();
	version = registry_save_import(&row);

	/*
	 * Loaded back as serving loads it: what serving will predict is what is
	 * checked.  Serving reads with the statement's snapshot, which must see
	 * the row just written.
	 */
	CommandCounterIncrement();
	PushCopiedSnapshot(GetActiveSnapshot());
	UpdateActiveSnapshotCommandId();
	model = model_cache_load_uncached(row.name, version);
	PG_TRY();
	{
		int			n = 0;

		probe_serving(model);
		if (args_given(fcinfo, 6))
			worst = check_rows(model, PG_GETARG_DATUM(6), &n);
		nchecked = n;
	}
	PG_FINALLY();
	{
		MemoryContextDelete(model->cxt);
	}
	PG_END_TRY();
	PopActiveSnapshot();
	if (deploy)
	{
		Oid			types[2] = {TEXTOID, INT4OID};
		Datum		args[2] = {PG_GETARG_DATUM(0), Int32GetDatum(version)};

		if (SPI_execute_with_args("SELECT ml.deploy($1, $2, 'imported')", 2, types, args, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "learnloop could not deploy the imported model");
	}
	SPI_finish();

	values[0] = PG_GETARG_DATUM(0);
	values[1] = Int32GetDatum(version);
	values[2] = CStringGetTextDatum(row.evaluator);
	values[3] = BoolGetDatum(deploy);
	values[4] = Int32GetDatum(nchecked);
	values[5] = Float8GetDatum(worst);
	nulls[5] = nchecked == 0;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls)));
}
