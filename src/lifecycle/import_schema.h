/*-------------------------------------------------------------------------
 *
 * import_schema.h
 *	  The feature schema of an imported model, and import's refusals.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_IMPORT_SCHEMA_H
#define LEARNLOOP_IMPORT_SCHEMA_H

#include "fmgr.h"

#include "model/model_import.h"
#include "model/schema.h"

extern void import_bad_bytes(const char *reason) pg_attribute_noreturn();
extern void import_bad_argument(const char *message, const char *hint) pg_attribute_noreturn();
extern void import_schema_build(FunctionCallInfo fcinfo, const ImportedModel *im,
								FeatureSchema *schema);

#endif							/* LEARNLOOP_IMPORT_SCHEMA_H */
