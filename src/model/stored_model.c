/*-------------------------------------------------------------------------
 *
 * stored_model.c
 *	  Reads one stored version of a model (a given version, or the
 *	  deployed global one) for ml.export_model and for a warm start's base.
 *
 * Read through SPI as the calling role, so that reading a model needs what
 * reading ml.models needs; the caller has connected SPI.  The bytes and the
 * schema are returned as stored: untrusted, for the caller to check.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"

#include "model/stored_model.h"

/*
 * The version of name (0: the deployed global version) into stored, copied
 * into cxt, its training parameters only with_params.  what names the
 * model in errors ("model", "base model") and version_argument the
 * argument that picks a version ("a version", "base_version"); a model
 * that does not exist, has no such version or none deployed is an error.
 */
void
stored_model_read(const char *name, int version, const char *what,
				  const char *version_argument, bool with_params, MemoryContext cxt,
				  StoredModel *stored)
{
	Oid			types[2] = {TEXTOID, INT4OID};
	Datum		values[2] = {CStringGetTextDatum(name), Int32GetDatum(version)};
	HeapTuple	row;
	TupleDesc	desc;
	bool		isnull;
	Datum		found_version;
	MemoryContext old;

	if (SPI_execute_with_args("SELECT m.version, m.feature_schema::pg_catalog.text, m.model, m.params::pg_catalog.text, "
							  "EXISTS (SELECT FROM ml.models k WHERE k.name OPERATOR(pg_catalog.=) $1) "
							  "FROM (SELECT) one LEFT JOIN ml.models m ON m.name OPERATOR(pg_catalog.=) $1 "
							  "AND m.version OPERATOR(pg_catalog.=) COALESCE(CASE WHEN $2 OPERATOR(pg_catalog.>) 0 THEN $2 END, "
							  "(SELECT d.model_version FROM ml.deployments d WHERE d.model_name OPERATOR(pg_catalog.=) $1 "
							  "AND d.cohort IS NULL ORDER BY d.id DESC LIMIT 1))",
							  2, types, values, NULL, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "learnloop could not read ml.models");
	row = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	if (!DatumGetBool(SPI_getbinval(row, desc, 5, &isnull)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("%s \"%s\" does not exist", what, name),
				 errhint("ml.models lists the trained and imported models.")));
	found_version = SPI_getbinval(row, desc, 1, &isnull);
	if (isnull && version == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("%s \"%s\" has no deployed version", what, name),
				 errhint("Pass %s: ml.model_history lists the versions.", version_argument)));
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("%s \"%s\" has no version %d", what, name, version),
				 errhint("ml.model_history lists the versions.")));

	/* the columns are NOT NULL, unless the table was altered: untrusted */
	for (int column = 2; column <= (with_params ? 4 : 3); column++)
	{
		SPI_getbinval(row, desc, column, &isnull);
		if (isnull)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("version %d of %s \"%s\" is corrupted: its %s is NULL",
							DatumGetInt32(found_version), what, name, SPI_fname(desc, column)),
					 errhint("Use another version: ml.model_history lists them.")));
	}

	old = MemoryContextSwitchTo(cxt);
	stored->version = DatumGetInt32(found_version);
	stored->schema = SPI_getvalue(row, desc, 2);
	stored->model = DatumGetByteaPCopy(SPI_getbinval(row, desc, 3, &isnull));
	stored->params = with_params ? SPI_getvalue(row, desc, 4) : NULL;
	MemoryContextSwitchTo(old);
}
