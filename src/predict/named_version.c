/*-------------------------------------------------------------------------
 *
 * named_version.c
 *	  The registry row a call names: a model's given version, or the one
 *	  deployed now, for the functions that pin a version for a whole run
 *	  (ml.predict_batch) or check its task first (ml.least_certain).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"

#include "predict/named_version.h"

/*
 * The version (NULL: the deployed one) and its task, or a P0002 error.
 * Read through SPI, which the caller has connected, as the caller, who
 * needs to read ml.models as ml.predict does.
 */
NamedVersion
named_version(text *model, Datum version, bool version_null)
{
	Oid			types[2] = {TEXTOID, INT4OID};
	Datum		values[2] = {PointerGetDatum(model), version};
	char		nulls[2] = {' ', version_null ? 'n' : ' '};
	NamedVersion result;
	bool		isnull;

	if (SPI_execute_with_args("SELECT m.version, m.task FROM ml.models m WHERE m.name OPERATOR(pg_catalog.=) $1 "
							  "AND m.version OPERATOR(pg_catalog.=) "
							  "COALESCE($2, ml.deployed_version($1))",
							  2, types, values, nulls, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "learnloop could not read ml.models");
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("model \"%s\" has no %s version", text_to_cstring(model),
						version_null ? "deployed" : psprintf("%d", DatumGetInt32(version))),
				 errhint("Train and deploy the model, or name a version of ml.models.")));
	result.version = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	result.task = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	return result;
}
