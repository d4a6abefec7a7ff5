/*-------------------------------------------------------------------------
 *
 * load.c
 *	  Reads what ml.choose and ml.bandit_distribution need: the bandit's
 *	  row and the arms of the unit's cell and of the population, by two
 *	  cached index lookups whatever the number of units.
 *
 * Rows are untrusted: a definition the CHECK constraints would refuse or a
 * statistic that is not a finite count or sum is an error, never a draw.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/lsyscache.h"

#include "bandit/load.h"
#include "common/spi_plan.h"

#define SELECT_BANDIT_SQL \
	"SELECT task, actions, context, features, reward_type, prior, prior_weight, draws " \
	"FROM ml.bandits WHERE name OPERATOR(pg_catalog.=) $1"

/* two equalities on the primary key's prefix: two index range scans, in any plan */
#define SELECT_ARMS_SQL \
	"SELECT cell, action, n::pg_catalog.float8, reward_sum, reward_sq FROM ml.bandit_arms " \
	"WHERE bandit OPERATOR(pg_catalog.=) $1 AND cell OPERATOR(pg_catalog.=) $2 " \
	"UNION ALL " \
	"SELECT cell, action, n::pg_catalog.float8, reward_sum, reward_sq FROM ml.bandit_arms " \
	"WHERE bandit OPERATOR(pg_catalog.=) $1 AND cell OPERATOR(pg_catalog.=) $3 " \
	"AND $3 OPERATOR(pg_catalog.<>) $2"

static SPIPlanPtr bandit_plan = NULL;
static SPIPlanPtr arms_plan = NULL;

static void
corrupted(const char *name, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("bandit \"%s\" has %s", name, what),
			 errhint("ml.bandits and ml.bandit_arms are kept by learnloop; drop and re-create the bandit.")));
}

/* Column i of the current SPI row as a string in the caller's context, or NULL */
static char *
column_string(HeapTuple row, int i, MemoryContext into)
{
	bool		isnull;
	Datum		d = SPI_getbinval(row, SPI_tuptable->tupdesc, i, &isnull);

	return isnull ? NULL : MemoryContextStrdup(into, TextDatumGetCString(d));
}

/* A text[] column's elements, none NULL, copied into the given context */
static char **
column_strings(const char *name, HeapTuple row, int i, MemoryContext into, int *n)
{
	bool		isnull;
	Datum		d = SPI_getbinval(row, SPI_tuptable->tupdesc, i, &isnull);
	Datum	   *elems;
	bool	   *nulls;
	char	  **out;

	if (isnull)
	{
		*n = 0;
		return NULL;
	}
	deconstruct_array(DatumGetArrayTypeP(d), TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, n);
	out = MemoryContextAlloc(into, sizeof(char *) * Max(*n, 1));
	for (int j = 0; j < *n; j++)
	{
		if (nulls[j])
			corrupted(name, "a NULL action or feature");
		out[j] = MemoryContextStrdup(into, TextDatumGetCString(elems[j]));
	}
	return out;
}

/*
 * The feature cell: the bandit's features with their values, as the text
 * of a JSON object in the bandit's order.  Values bucket by their text, so
 * each distinct value is a cell of its own.
 */
static char *
feature_cell(const char *name, char **keys, int nkeys, Jsonb *features)
{
	StringInfoData cell;

	initStringInfo(&cell);
	appendStringInfoChar(&cell, '{');
	for (int j = 0; j < nkeys; j++)
	{
		JsonbValue	v;
		char	   *value;

		if (features == NULL ||
			getKeyJsonValueFromContainer(&features->root, keys[j], strlen(keys[j]), &v) == NULL ||
			v.type == jbvNull)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("features lack \"%s\", which bandit \"%s\" chooses by", keys[j], name),
					 errhint("Pass features with a value for each of the bandit's context keys.")));
		if (v.type == jbvString)
			value = pnstrdup(v.val.string.val, v.val.string.len);
		else if (v.type == jbvNumeric)
			value = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v.val.numeric)));
		else if (v.type == jbvBool)
			value = v.val.boolean ? "true" : "false";
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("feature \"%s\" must be a string, number or boolean", keys[j]),
					 errhint("A bandit's cells are categories: pass flat values.")));
		if (j > 0)
			appendStringInfoString(&cell, ", ");
		escape_json(&cell, keys[j]);
		appendStringInfoString(&cell, ": ");
		escape_json(&cell, value);
	}
	appendStringInfoChar(&cell, '}');
	return cell.data;
}

/* The bandit's row; 42704 when there is none */
static void
read_definition(text *name, text *unit_id, Jsonb *features, BanditState *state, MemoryContext into)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1] = {PointerGetDatum(name)};
	HeapTuple	row;
	bool		isnull;
	char	   *context,
			   *reward_type,
			   *prior;
	char	  **keys;
	int			nkeys;
	Datum		d;

	if (SPI_execute_plan(spi_cached_plan(&bandit_plan, SELECT_BANDIT_SQL, 1, argtypes),
						 values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "learnloop could not read the bandit");
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("bandit \"%s\" does not exist", state->name),
				 errhint("ml.bandits lists the bandits; ml.create_bandit creates one.")));
	row = SPI_tuptable->vals[0];
	d = SPI_getbinval(row, SPI_tuptable->tupdesc, 1, &isnull);
	state->task = isnull ? NULL : (text *) MemoryContextAlloc(into, VARSIZE_ANY(DatumGetPointer(d)));
	if (state->task)
		memcpy(state->task, DatumGetPointer(d), VARSIZE_ANY(DatumGetPointer(d)));
	state->actions = column_strings(state->name, row, 2, into, &state->k);
	context = column_string(row, 3, CurrentMemoryContext);
	keys = column_strings(state->name, row, 4, CurrentMemoryContext, &nkeys);
	reward_type = column_string(row, 5, CurrentMemoryContext);
	prior = column_string(row, 6, CurrentMemoryContext);
	state->prior.prior_weight = DatumGetFloat8(SPI_getbinval(row, SPI_tuptable->tupdesc, 7, &isnull));
	if (isnull || !(state->prior.prior_weight >= 0 && isfinite(state->prior.prior_weight)))
		corrupted(state->name, "no finite prior_weight");
	state->draws = DatumGetInt32(SPI_getbinval(row, SPI_tuptable->tupdesc, 8, &isnull));
	if (isnull || state->draws < 1 || state->draws > 1000000)
		corrupted(state->name, "a number of draws out of range");
	if (state->task == NULL || state->k < 1 || context == NULL ||
		reward_type == NULL || prior == NULL)
		corrupted(state->name, "a NULL task, context, reward type or prior, or no action");
	state->prior.binary = strcmp(reward_type, "binary") == 0;
	state->prior.population = strcmp(prior, "population") == 0;
	if ((!state->prior.binary && strcmp(reward_type, "continuous") != 0) ||
		(!state->prior.population && strcmp(prior, "uniform") != 0))
		corrupted(state->name, "an unknown reward type or prior");

	state->by_unit = strcmp(context, "unit") == 0;
	if (state->by_unit)
		state->cell = MemoryContextStrdup(into, text_to_cstring(unit_id));
	else if (strcmp(context, "none") == 0)
		state->cell = "";
	else if (strcmp(context, "features") == 0 && nkeys > 0)
		state->cell = MemoryContextStrdup(into, feature_cell(state->name, keys, nkeys, features));
	else
		corrupted(state->name, "an unknown context");
}

/* The action's index, or -1 for an action the bandit no longer has */
static int
action_index(const BanditState *state, const char *action)
{
	for (int i = 0; i < state->k; i++)
		if (strcmp(state->actions[i], action) == 0)
			return i;
	return -1;
}

/* The arms of the state's cell and of the population; those without a row are 0 */
static void
read_arms(text *name, BanditState *state)
{
	Oid			argtypes[3] = {TEXTOID, TEXTOID, TEXTOID};
	Datum		values[3];

	values[0] = PointerGetDatum(name);
	values[1] = CStringGetTextDatum("");
	values[2] = CStringGetTextDatum(state->cell);
	if (SPI_execute_plan(spi_cached_plan(&arms_plan, SELECT_ARMS_SQL, 3, argtypes),
						 values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "learnloop could not read the bandit's arms");
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		HeapTuple	row = SPI_tuptable->vals[r];
		char	   *cell = column_string(row, 1, CurrentMemoryContext);
		char	   *action = column_string(row, 2, CurrentMemoryContext);
		int			i = action ? action_index(state, action) : -1;
		ArmStats	arm;
		bool		nulls[3];

		arm.n = DatumGetFloat8(SPI_getbinval(row, SPI_tuptable->tupdesc, 3, &nulls[0]));
		arm.sum = DatumGetFloat8(SPI_getbinval(row, SPI_tuptable->tupdesc, 4, &nulls[1]));
		arm.sq = DatumGetFloat8(SPI_getbinval(row, SPI_tuptable->tupdesc, 5, &nulls[2]));
		if (nulls[0] || nulls[1] || nulls[2] || !(arm.n >= 0) ||
			!isfinite(arm.sum) || !isfinite(arm.sq))
			corrupted(state->name, "an arm whose count is negative or whose sums are not finite");
		if (i < 0 || cell == NULL)
			continue;
		if (cell[0] == '\0')
			state->population[i] = arm;
		if (strcmp(cell, state->cell) == 0)
			state->own[i] = arm;
	}
}

/*
 * Fills state for the bandit and the unit (with its features, which may be
 * NULL).  Everything kept is allocated in the caller's memory context.
 */
void
bandit_load(text *name, text *unit_id, Jsonb *features, BanditState *state)
{
	MemoryContext caller = CurrentMemoryContext;

	state->name = text_to_cstring(name);
	SPI_connect();
	read_definition(name, unit_id, features, state, caller);
	state->own = MemoryContextAllocZero(caller, sizeof(ArmStats) * state->k);
	state->population = MemoryContextAllocZero(caller, sizeof(ArmStats) * state->k);
	read_arms(name, state);
	SPI_finish();
}
