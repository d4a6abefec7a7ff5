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

#include "executor/spi.h"
#include "utils/builtins.h"

#include "common/args.h"
#include "model/model_bytes.h"
#include "model/schema.h"
#include "model/stored_model.h"
#include "xgb/xgb.h"

PG_FUNCTION_INFO_V1(learnloop_export_model);

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
	MemoryContext caller = CurrentMemoryContext;
	StoredModel stored;
	FeatureSchema *schema;
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
	SPI_connect();
	stored_model_read(text_to_cstring(PG_GETARG_TEXT_PP(0)), version, "model", "a version", false,
					  caller, &stored);
	SPI_finish();

	schema = schema_parse(stored.schema);
	reason = model_bytes_check(VARDATA(stored.model), VARSIZE(stored.model) - VARHDRSZ);
	xgb = xgb_handles_create(CurrentMemoryContext);
	booster = xgb_booster(xgb, NULL, 0);
	if (reason == NULL && XGBoosterLoadModelFromBuffer(booster, VARDATA(stored.model), VARSIZE(stored.model) - VARHDRSZ) != 0)
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
