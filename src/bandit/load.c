/*-------------------------------------------------------------------------
 *
 * load.c
 *	  Reads what ml.choose and ml.bandit_distribution need: the bandit's
 *	  row and the arms of the unit's cell and of the population, by index
 *	  lookups whatever the number of units: directly through the primary
 *	  keys (row_insert.c's ml_index_open_plain) where the tables are as
 *	  created and the caller may read them whole, else by cached SQL.
 *
 * Rows are untrusted: a definition the CHECK constraints would refuse or a
 * statistic that is not a finite count or sum is an error, never a draw.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/genam.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "bandit/load.h"
#include "common/row_insert.h"
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

/* A text column's value as a string in the given context, or NULL */
static char *
text_string(Datum d, bool isnull, MemoryContext into)
{
	MemoryContext old;
	char	   *out;

	if (isnull)
		return NULL;
	old = MemoryContextSwitchTo(into);
	out = TextDatumGetCString(d);
	MemoryContextSwitchTo(old);
	return out;
}

/* A text[] column's elements, none NULL, copied into the given context */
static char **
text_strings(const char *name, Datum d, bool isnull, MemoryContext into, int *n)
{
	ArrayType  *array;
	Datum	   *elems;
	bool	   *nulls;
	char	  **out;

	if (isnull)
	{
		*n = 0;
		return NULL;
	}
	array = DatumGetArrayTypeP(d);
	if (ARR_ELEMTYPE(array) != TEXTOID)
		corrupted(name, "an array of actions or features that is not text");
	deconstruct_array(array, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, n);
	out = MemoryContextAlloc(into, sizeof(char *) * Max(*n, 1));
	for (int j = 0; j < *n; j++)
	{
		if (nulls[j])
			corrupted(name, "a NULL action or feature");
		out[j] = text_string(elems[j], false, into);
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

/* The columns of a bandit's definition, in the order of SELECT_BANDIT_SQL */
enum
{
	DEF_TASK, DEF_ACTIONS, DEF_CONTEXT, DEF_FEATURES, DEF_REWARD_TYPE, DEF_PRIOR,
	DEF_PRIOR_WEIGHT, DEF_DRAWS, DEF_COLUMNS
};

/* Their numbers in ml.bandits, for reading the row directly */
static const AttrNumber definition_columns[DEF_COLUMNS] = {2, 3, 4, 5, 7, 8, 9, 10};

static const Oid bandits_types[] =
{TEXTOID, TEXTOID, TEXTARRAYOID, TEXTOID, TEXTARRAYOID, TEXTOID, TEXTOID, TEXTOID,
FLOAT8OID, INT4OID, NAMEOID, TIMESTAMPTZOID};
static const AttrNumber bandits_key[] = {1};
static const TableShape bandits_shape =
{lengthof(bandits_types), bandits_types, lengthof(bandits_key), bandits_key};

static const Oid arms_types[] =
{TEXTOID, TEXTOID, TEXTOID, INT8OID, FLOAT8OID, FLOAT8OID, TIMESTAMPTZOID};
static const AttrNumber arms_key[] = {1, 2, 3};
static const TableShape arms_shape =
{lengthof(arms_types), arms_types, lengthof(arms_key), arms_key};

/* 42704 */
static void
unknown_bandit(const char *name)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("bandit \"%s\" does not exist", name),
			 errhint("ml.bandits lists the bandits; ml.create_bandit creates one.")));
}

/*
 * Fills the state from the bandit's definition (columns in DEF_ order),
 * however it was read, and finds the unit's cell.
 */
static void
set_definition(BanditState *state, const Datum *values, const bool *nulls,
			   text *unit_id, Jsonb *features, MemoryContext into)
{
	MemoryContext old;
	char	   *context,
			   *reward_type,
			   *prior;
	char	  **keys;
	int			nkeys;

	old = MemoryContextSwitchTo(into);
	state->task = nulls[DEF_TASK] ? NULL : DatumGetTextPCopy(values[DEF_TASK]);
	MemoryContextSwitchTo(old);
	state->actions = text_strings(state->name, values[DEF_ACTIONS], nulls[DEF_ACTIONS],
								  into, &state->k);
	context = text_string(values[DEF_CONTEXT], nulls[DEF_CONTEXT], CurrentMemoryContext);
	keys = text_strings(state->name, values[DEF_FEATURES], nulls[DEF_FEATURES],
						CurrentMemoryContext, &nkeys);
	reward_type = text_string(values[DEF_REWARD_TYPE], nulls[DEF_REWARD_TYPE], CurrentMemoryContext);
	prior = text_string(values[DEF_PRIOR], nulls[DEF_PRIOR], CurrentMemoryContext);
	state->prior.prior_weight = DatumGetFloat8(values[DEF_PRIOR_WEIGHT]);
	if (nulls[DEF_PRIOR_WEIGHT] ||
		!(state->prior.prior_weight >= 0 && isfinite(state->prior.prior_weight)))
		corrupted(state->name, "no finite prior_weight");
	state->draws = DatumGetInt32(values[DEF_DRAWS]);
	if (nulls[DEF_DRAWS] || state->draws < 1 || state->draws > 1000000)
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
	state->own = MemoryContextAllocZero(into, sizeof(ArmStats) * state->k);
	state->population = MemoryContextAllocZero(into, sizeof(ArmStats) * state->k);
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

/*
 * One row of ml.bandit_arms (n as float8), however it was read, counted in
 * the state: the cell's arm, the population's, or neither (another cell's
 * row, an action the bandit no longer has).  Every row read is checked.
 */
static void
add_arm(BanditState *state, const char *cell, const char *action, const double *stats,
		const bool *nulls)
{
	int			i = action ? action_index(state, action) : -1;
	ArmStats	arm;

	arm.n = stats[0];
	arm.sum = stats[1];
	arm.sq = stats[2];
	if (nulls[0] || nulls[1] || nulls[2] || !(arm.n >= 0) ||
		!isfinite(arm.sum) || !isfinite(arm.sq))
		corrupted(state->name, "an arm whose count is negative or whose sums are not finite");
	if (i < 0 || cell == NULL)
		return;
	if (cell[0] == '\0')
		state->population[i] = arm;
	if (strcmp(cell, state->cell) == 0)
		state->own[i] = arm;
}

/*
 * Through SQL, where the tables or the caller's privileges need the
 * executor (column privileges, row-level security, a table altered).
 * read_only for a STABLE caller: the statement's snapshot; otherwise a new
 * one, which sees the outcomes committed since the statement began.
 */
static void
load_with_sql(text *name, text *unit_id, Jsonb *features, bool read_only,
			  BanditState *state, MemoryContext into)
{
	Oid			argtypes[3] = {TEXTOID, TEXTOID, TEXTOID};
	Datum		args[3];
	Datum		values[DEF_COLUMNS];
	bool		nulls[DEF_COLUMNS];

	SPI_connect();
	args[0] = PointerGetDatum(name);
	if (SPI_execute_plan(spi_cached_plan(&bandit_plan, SELECT_BANDIT_SQL, 1, argtypes),
						 args, NULL, read_only, 1) != SPI_OK_SELECT)
		elog(ERROR, "learnloop could not read the bandit");
	if (SPI_processed == 0)
		unknown_bandit(state->name);
	for (int c = 0; c < DEF_COLUMNS; c++)
		values[c] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, c + 1, &nulls[c]);
	set_definition(state, values, nulls, unit_id, features, into);

	args[1] = CStringGetTextDatum("");
	args[2] = CStringGetTextDatum(state->cell);
	if (SPI_execute_plan(spi_cached_plan(&arms_plan, SELECT_ARMS_SQL, 3, argtypes),
						 args, NULL, read_only, 0) != SPI_OK_SELECT)
		elog(ERROR, "learnloop could not read the bandit's arms");
	for (uint64 r = 0; r < SPI_processed; r++)
	{
		HeapTuple	row = SPI_tuptable->vals[r];
		bool		isnull[2];
		double		stats[3];
		bool		stats_null[3];
		Datum		cell = SPI_getbinval(row, SPI_tuptable->tupdesc, 1, &isnull[0]);
		Datum		action = SPI_getbinval(row, SPI_tuptable->tupdesc, 2, &isnull[1]);

		for (int c = 0; c < 3; c++)
			stats[c] = DatumGetFloat8(SPI_getbinval(row, SPI_tuptable->tupdesc, c + 3,
													&stats_null[c]));
		add_arm(state, text_string(cell, isnull[0], CurrentMemoryContext),
				text_string(action, isnull[1], CurrentMemoryContext), stats, stats_null);
	}
	SPI_finish();
}

/* Starts an equality scan of index on its first nkeys columns */
static IndexScanDesc
scan_keys(Relation heap, Relation index, Snapshot snapshot, int nkeys, const Datum *keys)
{
	ScanKeyData scankeys[2];
	IndexScanDesc scan;

	for (int i = 0; i < nkeys; i++)
	{
		ScanKeyInit(&scankeys[i], i + 1, BTEqualStrategyNumber, F_TEXTEQ, keys[i]);
		scankeys[i].sk_collation = index->rd_indcollation[i];
	}
	scan = index_beginscan(heap, index, snapshot, nkeys, 0);
	index_rescan(scan, scankeys, nkeys, NULL, 0);
	return scan;
}

/* The arms of one cell of the bandit, from the primary key's prefix */
static void
read_cell_directly(BanditState *state, Relation arms, Relation index, Snapshot snapshot,
				   TupleTableSlot *slot, text *name, const char *cell)
{
	Datum		keys[2] = {PointerGetDatum(name), CStringGetTextDatum(cell)};
	IndexScanDesc scan = scan_keys(arms, index, snapshot, 2, keys);

	while (index_getnext_slot(scan, ForwardScanDirection, slot))
	{
		bool		isnull[2];
		double		stats[3];
		bool		stats_null[3];
		Datum		row_cell,
					action;

		CHECK_FOR_INTERRUPTS();
		slot_getsomeattrs(slot, 6);
		row_cell = slot_getattr(slot, 2, &isnull[0]);
		action = slot_getattr(slot, 3, &isnull[1]);
		stats[0] = (double) DatumGetInt64(slot_getattr(slot, 4, &stats_null[0]));
		stats[1] = DatumGetFloat8(slot_getattr(slot, 5, &stats_null[1]));
		stats[2] = DatumGetFloat8(slot_getattr(slot, 6, &stats_null[2]));
		add_arm(state, text_string(row_cell, isnull[0], CurrentMemoryContext),
				text_string(action, isnull[1], CurrentMemoryContext), stats, stats_null);
	}
	index_endscan(scan);
}

/*
 * Without the executor: the bandit's row and the arms of its cells read
 * through the primary keys, with the snapshot SQL would use (see
 * load_with_sql).  An executor start-up per query cost more than the rest
 * of ml.choose.  Returns false, having read nothing, where the tables or
 * the caller need SQL.
 */
static bool
load_directly(text *name, text *unit_id, Jsonb *features, bool read_only,
			  BanditState *state, MemoryContext into)
{
	Relation	bandits = ml_table_open("bandits", AccessShareLock);
	Relation	arms = ml_table_open("bandit_arms", AccessShareLock);
	Relation	bandits_index = ml_index_open_plain(bandits, &bandits_shape,
													RelationGetPrimaryKeyIndex(bandits),
													lengthof(bandits_key), bandits_key);
	Relation	arms_index = bandits_index == NULL ? NULL :
		ml_index_open_plain(arms, &arms_shape, RelationGetPrimaryKeyIndex(arms),
							lengthof(arms_key), arms_key);
	Snapshot	snapshot;
	TupleTableSlot *slot;
	IndexScanDesc scan;
	Datum		key = PointerGetDatum(name);
	Datum		values[DEF_COLUMNS];
	bool		nulls[DEF_COLUMNS];

	if (arms_index == NULL)
	{
		if (bandits_index != NULL)
			index_close(bandits_index, NoLock);
		table_close(arms, NoLock);
		table_close(bandits, NoLock);
		return false;
	}
	if (read_only)
		snapshot = RegisterSnapshot(GetActiveSnapshot());
	else
	{
		CommandCounterIncrement();
		snapshot = RegisterSnapshot(GetTransactionSnapshot());
	}

	slot = table_slot_create(bandits, NULL);
	scan = scan_keys(bandits, bandits_index, snapshot, 1, &key);
	if (!index_getnext_slot(scan, ForwardScanDirection, slot))
		unknown_bandit(state->name);
	slot_getsomeattrs(slot, definition_columns[DEF_COLUMNS - 1]);
	for (int c = 0; c < DEF_COLUMNS; c++)
		values[c] = slot_getattr(slot, definition_columns[c], &nulls[c]);
	set_definition(state, values, nulls, unit_id, features, into);
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);

	slot = table_slot_create(arms, NULL);
	read_cell_directly(state, arms, arms_index, snapshot, slot, name, "");
	if (state->cell[0] != '\0')
		read_cell_directly(state, arms, arms_index, snapshot, slot, name, state->cell);
	ExecDropSingleTupleTableSlot(slot);

	UnregisterSnapshot(snapshot);
	index_close(arms_index, NoLock);
	index_close(bandits_index, NoLock);
	table_close(arms, NoLock);
	table_close(bandits, NoLock);
	return true;
}

/*
 * Fills state for the bandit and the unit (with its features, which may be
 * NULL).  Everything kept is allocated in the caller's memory context.
 * read_only for a STABLE caller: the statement's snapshot; otherwise a new
 * one, which sees the outcomes committed since the statement began.
 */
void
bandit_load(text *name, text *unit_id, Jsonb *features, bool read_only, BanditState *state)
{
	MemoryContext caller = CurrentMemoryContext;

	state->name = text_to_cstring(name);
	if (!load_directly(name, unit_id, features, read_only, state, caller))
		load_with_sql(name, unit_id, features, read_only, state, caller);
}
