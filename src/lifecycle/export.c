/*-------------------------------------------------------------------------
 *
 * export.c
 *	  ml.export_model: a stored model as bytes XGBoost loads elsewhere (a
 *	  notebook's Booster().load_model), with its feature names and types.
 *
 * The row is read as the calling role, so exporting needs what reading
 * ml.models needs.  Its bytes are untrusted like any table data: they are
 * checked (model_bytes_check) before XGBoost reads them, and XGBoost saves
 * them again in the asked format, carrying the feature schema's names and
 * types so that a notebook's DataFrame is matched by name.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"

#include "common/args.h"
#include "model/model_bytes.h"
#include "model/schema.h"
#include "xgb/xgb.h"

PG_FUNCTION_INFO_V1(learnloop_export_model);

/*
 * The stored row of name at version (0: the deployed one): its feature
 * schema and bytes, in the current memory context.
 */
static void
read_model(text *name, int version, char **schema, bytea **model)
{
	Oid			types[2] = {TEXTOID, INT4OID};
	Datum		values[2] = {PointerGetDatum(name), Int32GetDatum(version)};
	char	   *key = text_to_cstring(name);
	MemoryContext caller = CurrentMemoryContext;
	bool		isnull;

	SPI_connect();
	if (SPI_execute_with_args("SELECT m.feature_schema::pg_catalog.text, m.model, "
							  "EXISTS (SELECT FROM ml.models k WHERE k.name OPERATOR(pg_catalog.=) $1) "
							  "FROM (SELECT) one LEFT JOIN ml.models m ON m.name OPERATOR(pg_catalog.=) $1 "
							  "AND m.version OPERATOR(pg_catalog.=) COALESCE(CASE WHEN $2 OPERATOR(pg_catalog.>) 0 THEN $2 END, "
							  "(SELECT d.model_version FROM ml.deployments d WHERE d.model_name OPERATOR(pg_catalog.=) $1 "
							  "AND d.cohort IS NULL ORDER BY d.id DESC LIMIT 1))",
							  2, types, values, NULL, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "learnloop could not read ml.models");
	if (!DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("model \"%s\" does not exist", key),
				 errhint("ml.models lists the trained and imported models.")));
	SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
	if (isnull && version == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("model \"%s\" has no deployed version", key),
				 errhint("Pass a version: ml.model_history lists them.")));
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("model \"%s\" has no version %d", key, version),
				 errhint("ml.model_history lists the versions.")));
	*schema = MemoryContextStrdup(caller, SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));
	MemoryContextSwitchTo(caller);
	*model = DatumGetByteaPCopy(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	SPI_finish();
}

/* The feature schema's names and types on the booster, as XGBoost saves them. */
static void
name_features(BoosterHandle booster, const FeatureSchema *schema)
{
	const char **names = palloc(sizeof(char *) * Max(schema->nfeatures, 1));
	const char **types = palloc(sizeof(char *) * Max(schema->nfeatures, 1));

	for (int i = 0; i < schema->nfeatures; i++)
	{
		names[i] = schema->features[i].name;
		types[i] = xgb_feature_types[schema->features[i].kind];
	}
	xgb_check(XGBoosterSetStrFeatureInfo(booster, "feature_name", names, schema->nfeatures));
	xgb_check(XGBoosterSetStrFeatureInfo(booster, "feature_type", types, schema->nfeatures));
}

Datum
learnloop_export_model(PG_FUNCTION_ARGS)
{
	static const char *const formats[] = {"json", "ubj"};
	int			version = 0;
	int			format = 0;
	char	   *schema_text;
	FeatureSchema *schema;
	bytea	   *model;
	const char *reason;
	XgbHandles *xgb;
	BoosterHandle booster;
	bst_ulong	num_feature;
	bytea	   *out;

	args_not_null(fcinfo, 0, "name", "Pass the name of a model in ml.models.");
	if (args_given(fcinfo, 1))
	{
		version = PG_GETARG_INT32(1);
		if (version < 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("model version %d is out of range", version),
					 errhint("Versions count from 1; pass NULL (or leave version out) for the deployed version.")));
	}
	if (args_given(fcinfo, 2))
		format = args_choice(text_to_cstring(PG_GETARG_TEXT_PP(2)), "format", formats, lengthof(formats));
	read_model(PG_GETARG_TEXT_PP(0), version, &schema_text, &model);

	schema = schema_parse(schema_text);
	reason = model_bytes_check(VARDATA(model), VARSIZE(model) - VARHDRSZ);
	xgb = xgb_handles_create(CurrentMemoryContext);
	booster = xgb_booster(xgb, NULL, 0);
	if (reason == NULL && XGBoosterLoadModelFromBuffer(booster, VARDATA(model), VARSIZE(model) - VARHDRSZ) != 0)
		reason = xgb_last_error();
	if (reason != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("model \"%s\" cannot be exported: %s", text_to_cstring(PG_GETARG_TEXT_PP(0)), reason),
				 errhint("Its row in ml.models is damaged: export another version (ml.model_history lists them).")));
	xgb_check(XGBoosterSetParam(booster, "nthread", "1"));
	xgb_check(XGBoosterGetNumFeature(booster, &num_feature));
	if (num_feature != (bst_ulong) schema->nfeatures)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("model \"%s\" cannot be exported: the trees read %lu features, the feature schema has %d",
						text_to_cstring(PG_GETARG_TEXT_PP(0)), (unsigned long) num_feature, schema->nfeatures),
				 errhint("Its row in ml.models is damaged: export another version (ml.model_history lists them).")));
	name_features(booster, schema);
	out = xgb_save_model(booster, format == 0 ? "json" : "ubj");
	xgb_free_booster(xgb, booster);
	PG_RETURN_BYTEA_P(out);
}
