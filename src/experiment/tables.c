/*-------------------------------------------------------------------------
 *
 * tables.c
 *	  The experiment tables as learnloop creates them (see the SQL script):
 *	  column types and primary keys, which the direct paths check first.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "experiment/tables.h"

static const Oid exposure_types[EXPOSURE_COLUMNS] =
{TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID};
static const AttrNumber exposure_key[] = {1, 2};

const TableShape exposures_shape =
{EXPOSURE_COLUMNS, exposure_types, lengthof(exposure_key), exposure_key};

const AttrNumber exposures_variant_index_keys[2] = {1, EXPOSURE_VARIANT_COLUMN};

static const Oid outcome_types[OUTCOME_COLUMNS] =
{TEXTOID, TEXTOID, TEXTOID, TEXTOID, FLOAT8OID, TIMESTAMPTZOID};
static const AttrNumber outcome_key[] = {1, 2, 4};

const TableShape outcomes_shape =
{OUTCOME_COLUMNS, outcome_types, lengthof(outcome_key), outcome_key};
