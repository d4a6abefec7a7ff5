/*-------------------------------------------------------------------------
 *
 * load.c
 *	  Reads what ml.choose and ml.bandit_distribution need: the bandit's
 *	  definition (definition.c) and the arms of the unit's cell and of the
 *	  population, each cell by one lookup whatever the number of units:
 *	  directly through the hash index on the bandit and the cell where the
 *	  table is as created and the caller may read it whole, else by cached
 *	  SQL.
 *
 * Rows are untrusted: a statistic that is not a finite count or sum is an
 * error, never a draw.
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
#include "catalog/pg_am_d.h"
#include "catalog/pg_collation_d.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
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

#include "bandit/definition.h"
#include "bandit/load.h"
#include "common/row_insert.h"
#include "common/spi_plan.h"

/* two equalities on the primary key's prefix: two index range scans, in any plan */
#define SELECT_ARMS_SQL \
	"SELECT cell, action, n::pg_catalog.float8, reward_sum, reward_sq FROM ml.bandit_arms " \
	"WHERE bandit OPERATOR(pg_catalog.=) $1 AND cell OPERATOR(pg_catalog.=) $2 " \
	"UNION ALL " \
	"SELECT cell, action, n::pg_catalog.float8, reward_sum, reward_sq FROM ml.bandit_arms " \
	"WHERE bandit OPERATOR(pg_catalog.=) $1 AND cell OPERATOR(pg_catalog.=) $3 " \
	"AND $3 OPERATOR(pg_catalog.<>) $2"

/* joins the bandit and the cell in the hash index's key (sql/learnloop.sql) */
#define CELL_KEY_SEPARATOR '\x1f'

static SPIPlanPtr arms_plan = NULL;

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

static const Oid arms_types[] =
{TEXTOID, TEXTOID, TEXTOID, INT8OID, FLOAT8OID, FLOAT8OID, TIMESTAMPTZOID};
static const AttrNumber arms_key[] = {1, 2, 3};
static const TableShape arms_shape =
{lengthof(arms_types), arms_types, lengthof(arms_key), arms_key};

/*
 * Copies the definition's part the state keeps (the cached definition may
 * be dropped at the next call) and finds the unit's cell.
 */
static void
set_definition(BanditState *state, const BanditDefinition *def, text *unit_id, Jsonb *features)
{
	state->task = DatumGetTextPCopy(PointerGetDatum(def->task));
	state->k = def->k;
	state->actions = palloc(sizeof(char *) * def->k);
	for (int i = 0; i < def->k; i++)
		state->actions[i] = pstrdup(def->actions[i]);
	state->prior = def->prior;
	state->draws = def->draws;
	state->by_unit = def->context == BANDIT_CONTEXT_UNIT;
	if (state->by_unit)
		state->cell = text_to_cstring(unit_id);
	else if (def->context == BANDIT_CONTEXT_NONE)
		state->cell = "";
	else
		state->cell = feature_cell(state->name, def->keys, def->nkeys, features);
	state->own = palloc0(sizeof(ArmStats) * state->k);
	state->population = palloc0(sizeof(ArmStats) * state->k);
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
		bandit_corrupted(state->name, "an arm whose count is negative or whose sums are not finite");
	if (i < 0 || cell == NULL)
		return;
	if (cell[0] == '\0')
		state->population[i] = arm;
	if (strcmp(cell, state->cell) == 0)
		state->own[i] = arm;
}

/*
 * The arms through SQL, where the table or the caller's privileges need the
 * executor (column privileges, row-level security, a table altered).
 */
static void
read_arms_with_sql(text *name, bool read_only, BanditState *state)
{
	Oid			argtypes[3] = {TEXTOID, TEXTOID, TEXTOID};
	Datum		args[3];

	SPI_connect();
	args[0] = PointerGetDatum(name);
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
		add_arm(state, isnull[0] ? NULL : TextDatumGetCString(cell),
				isnull[1] ? NULL : TextDatumGetCString(action), stats, stats_null);
	}
	SPI_finish();
}

/* Whether a text column's value is these bytes */
static bool
text_is(Datum value, const char *bytes, int len)
{
	text	   *t = DatumGetTextPP(value);

	return VARSIZE_ANY_EXHDR(t) == len && memcmp(VARDATA_ANY(t), bytes, len) == 0;
}

/* Whether an index expression's node is text || text, and its two sides */
static bool
is_text_concatenation(Node *node, Node **left, Node **right)
{
	OpExpr	   *op = (OpExpr *) node;

	if (!IsA(node, OpExpr) || op->opfuncid != F_TEXTCAT || list_length(op->args) != 2)
		return false;
	*left = linitial(op->args);
	*right = lsecond(op->args);
	return true;
}

static bool
is_column(Node *node, AttrNumber attnum)
{
	return IsA(node, Var) && ((Var *) node)->varattno == attnum;
}

static bool
is_separator(Node *node)
{
	Const	   *c = (Const *) node;
	char		separator = CELL_KEY_SEPARATOR;

	return IsA(node, Const) && c->consttype == TEXTOID && !c->constisnull &&
		text_is(c->constvalue, &separator, 1);
}

/*
 * Whether the index is the hash index sql/learnloop.sql creates: one key,
 * bandit || E'\x1f' || cell in the "C" collation (the rows are checked
 * byte for byte), with text's default hash operator class and no
 * predicate; cell_key() builds its keys.
 */
static bool
is_cell_index(Relation index)
{
	List	   *expressions;
	Node	   *joined,
			   *bandit_and_separator,
			   *cell,
			   *bandit,
			   *separator;

	if (index->rd_index->indnatts != 1 || index->rd_index->indkey.values[0] != 0 ||
		index->rd_indcollation[0] != C_COLLATION_OID || RelationGetIndexPredicate(index) != NIL ||
		index->rd_opfamily[0] != get_opclass_family(GetDefaultOpClass(TEXTOID, HASH_AM_OID)))
		return false;
	expressions = RelationGetIndexExpressions(index);
	if (list_length(expressions) != 1)
		return false;
	joined = linitial(expressions);
	return is_text_concatenation(joined, &bandit_and_separator, &cell) &&
		is_text_concatenation(bandit_and_separator, &bandit, &separator) &&
		is_column(bandit, 1) && is_separator(separator) && is_column(cell, 2);
}

/*
 * The hash index's key of a cell: the bandit's name and the cell joined by
 * a unit separator, as the index's expression joins them.  Names may hold
 * the separator, so two cells can share a key: rows are checked.
 */
static Datum
cell_key(text *name, const char *cell)
{
	int			name_len = VARSIZE_ANY_EXHDR(name);
	int			cell_len = strlen(cell);
	text	   *key = palloc(VARHDRSZ + name_len + 1 + cell_len);

	SET_VARSIZE(key, VARHDRSZ + name_len + 1 + cell_len);
	memcpy(VARDATA(key), VARDATA_ANY(name), name_len);
	VARDATA(key)[name_len] = CELL_KEY_SEPARATOR;
	memcpy(VARDATA(key) + name_len + 1, cell, cell_len);
	return PointerGetDatum(key);
}

/*
 * The arms of one cell of the bandit, the scan restarted on the cell's
 * key; rows of other cells that share its hash (or its key) are skipped.
 */
static void
read_cell_directly(BanditState *state, IndexScanDesc scan, TupleTableSlot *slot,
				   text *name, const char *cell)
{
	ScanKeyData scankey;

	ScanKeyInit(&scankey, 1, HTEqualStrategyNumber, F_TEXTEQ, cell_key(name, cell));
	scankey.sk_collation = scan->indexRelation->rd_indcollation[0];
	index_rescan(scan, &scankey, 1, NULL, 0);
	while (index_getnext_slot(scan, ForwardScanDirection, slot))
	{
		bool		isnull[3];
		double		stats[3];
		bool		stats_null[3];
		Datum		bandit,
					row_cell,
					action;

		CHECK_FOR_INTERRUPTS();
		slot_getsomeattrs(slot, 6);
		bandit = slot_getattr(slot, 1, &isnull[0]);
		row_cell = slot_getattr(slot, 2, &isnull[1]);
		if (isnull[0] || isnull[1] ||
			!text_is(bandit, VARDATA_ANY(name), VARSIZE_ANY_EXHDR(name)) ||
			!text_is(row_cell, cell, strlen(cell)))
			continue;
		action = slot_getattr(slot, 3, &isnull[2]);
		stats[0] = (double) DatumGetInt64(slot_getattr(slot, 4, &stats_null[0]));
		stats[1] = DatumGetFloat8(slot_getattr(slot, 5, &stats_null[1]));
		stats[2] = DatumGetFloat8(slot_getattr(slot, 6, &stats_null[2]));
		add_arm(state, cell, isnull[2] ? NULL : TextDatumGetCString(action), stats, stats_null);
	}
}

/*
 * The arms without the executor: each cell read through the extension's
 * hash index on the bandit and the cell (one bucket page, where the
 * primary key's descent compared text on each of its levels), with the
 * snapshot SQL would use (see bandit_load).  An executor start-up per
 * query cost more than the rest of ml.choose.  Returns false, having read
 * nothing, where the table, its index or the caller need SQL.
 */
static bool
read_arms_directly(text *name, bool read_only, BanditState *state)
{
	static IndexVerdict cell_index = {InvalidOid, false};
	Relation	arms = ml_table_open("bandit_arms", AccessShareLock);
	Relation	index = ml_index_open_named(arms, &arms_shape, "bandit_arms_cell_idx", HASH_AM_OID,
											is_cell_index, &cell_index);
	Snapshot	snapshot;
	TupleTableSlot *slot;
	IndexScanDesc scan;

	if (index == NULL)
	{
		table_close(arms, NoLock);
		return false;
	}
	snapshot = RegisterSnapshot(read_only ? GetActiveSnapshot() : GetTransactionSnapshot());
	slot = table_slot_create(arms, NULL);
	scan = index_beginscan(arms, index, snapshot, 1, 0);
	read_cell_directly(state, scan, slot, name, "");
	if (state->cell[0] != '\0')
		read_cell_directly(state, scan, slot, name, state->cell);
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	UnregisterSnapshot(snapshot);
	index_close(index, NoLock);
	table_close(arms, NoLock);
	return true;
}

/*
 * Fills state for the bandit and the unit (with its features, which may be
 * NULL), in the caller's memory context.  The arms: read_only for a STABLE
 * caller, with the statement's snapshot; otherwise with a new one, which
 * sees the outcomes committed since the statement began.
 */
void
bandit_load(text *name, text *unit_id, Jsonb *features, bool read_only, BanditState *state)
{
	state->name = text_to_cstring(name);
	/* as SQL would: this transaction's changes so far are seen */
	if (!read_only)
		CommandCounterIncrement();
	set_definition(state, bandit_definition(name, read_only, false), unit_id, features);
	if (!read_arms_directly(name, read_only, state))
		read_arms_with_sql(name, read_only, state);
}
