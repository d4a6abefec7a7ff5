/*-------------------------------------------------------------------------
 *
 * import.c
 *	  ml.import_model: a model trained elsewhere (a notebook's XGBoost,
 *	  Python, R or the CLI) registered as a new version of a model.
 *
 * The bytes are untrusted input.  They are read with bounded reads
 * (model_import_read, model_bytes_check), loaded by XGBoost with every
 * return code checked, and their feature schema is built from what the
 * model carries (feature_names, feature_types) or what the caller says
 * (import_schema.c).
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
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/snapmgr.h"

#include "common/args.h"
#include "common/guarded.h"
#include "lifecycle/import_schema.h"
#include "model/model_bytes.h"
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
			import_bad_bytes("the bytes are neither XGBoost JSON nor UBJSON");
		return detected;
	}
	given = args_choice(text_to_cstring(PG_GETARG_TEXT_PP(2)), "format", formats, lengthof(formats));
	if (detected != NULL && strcmp(detected, formats[given]) != 0)
		import_bad_argument(psprintf("format is %s, but the model bytes are %s", formats[given],
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
		import_bad_argument("check_rows must be a JSON array",
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

		CHECK_FOR_INTERRUPTS();
		if (null_features || null_prediction)
			import_bad_argument(psprintf("check row %d has no \"features\" or no \"prediction\" (a number or an array)",
								  (int) r + 1),
						 "Pass [{\"features\": {...}, \"prediction\": p}, ...]: p a number, or the class probabilities.");
		features_from_jsonb(model->schema, features, x, &layout, CurrentMemoryContext);
		predict_row(model, x, &p);
		deconstruct_array(DatumGetArrayTypeP(expected), FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL,
						  TYPALIGN_DOUBLE, &want, NULL, &nwant);
		if (nwant != p.n || (strcmp(kind, "array") == 0) != (p.n > 1))
			import_bad_argument(psprintf("check row %d has %d predicted values, the model predicts %d",
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
		import_bad_bytes(err);
	if (im.num_feature > IMPORT_MAX_FEATURES)
		import_bad_bytes(psprintf("it reads %d features, more than %d", im.num_feature, IMPORT_MAX_FEATURES));
	if (im.num_class > PREDICT_MAX_OUTPUTS)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("the model has %d classes, more than %d", im.num_class, PREDICT_MAX_OUTPUTS),
				 errhint("learnloop serves at most %d class probabilities.", PREDICT_MAX_OUTPUTS)));
	schema.task = objective_task(&im);
	schema.objective = im.objective;
	import_schema_build(fcinfo, &im, &schema);

	/* XGBoost's own reading, every call checked; the handles go with the context */
	xgb = xgb_handles_create(CurrentMemoryContext);
	booster = xgb_booster(xgb, NULL, 0);
	if (XGBoosterLoadModelFromBuffer(booster, im.bytes, im.len) != 0)
		import_bad_bytes(xgb_last_error());
	xgb_check(XGBoosterSetParam(booster, "nthread", "1"));
	xgb_check(XGBoosterGetNumFeature(booster, &num_feature));
	if (num_feature != (bst_ulong) im.num_feature)
		import_bad_bytes(psprintf("XGBoost reads %lu features where the document says %d",
						   (unsigned long) num_feature, im.num_feature));
	xgb_check(XGBoosterBoostedRounds(booster, &row->rounds));
	row->task = task_name(schema.task);
	row->params = import_params(format, &im);
	row->feature_schema = schema_json(&schema, "");
	row->model = xgb_save_model(booster, "ubj");
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
