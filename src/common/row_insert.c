/*-------------------------------------------------------------------------
 *
 * row_insert.c
 *	  INSERT ... ON CONFLICT DO NOTHING into learnloop's own tables without
 *	  planning and starting a statement.
 *
 * The experiment hot path writes one row per call.  Through SPI, planning
 * checks, executor start-up and shutdown cost several times the insertion
 * itself, so the row is inserted here as nodeModifyTable.c inserts it:
 * CHECK constraints checked (prepared once, check_cache.c; the callers
 * never pass a NULL), a pre-check of the primary key, then a speculative
 * heap insertion confirmed by the index insertions, retried if a concurrent
 * inserter of the same key won the race.
 *
 * That shortcut is only taken for a table as learnloop created it (same
 * columns and types, no triggers, hence no foreign keys), without
 * row-level security, for a caller with every table-level privilege the
 * statement would need, in a read-write transaction.  For anything else
 * row_insert_begin() says no and the caller runs its SQL statement, which
 * handles every case and raises the usual errors.
 *
 * A plain insertion (row_append_begin() and row_append(), a decision's row)
 * also allows triggers after each row, foreign keys among them, and fires
 * them as INSERT does, but for the check of a key whose columns are all
 * NULL in the row, which passes whatever the referenced table holds.  Two
 * side effects of that check go with it: it would wait for a lock on the
 * referenced table held in EXCLUSIVE mode or above, and a deferred key's
 * check would stay pending to the commit (ALTER TABLE and TRUNCATE refuse
 * a table with pending checks).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/sysattr.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/pg_am_d.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "commands/trigger.h"
#include "common/check_cache.h"
#include "common/compat.h"
#include "common/row_insert.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
#include "utils/relcache.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"

/* Opens ml.RELNAME, following a reinstall of the extension. */
Relation
ml_table_open(const char *relname, LOCKMODE lockmode)
{
	return table_openrv(makeRangeVar("ml", pstrdup(relname), -1), lockmode);
}

/*
 * Whether a trigger of rel fires on INSERT other than after each row (as
 * a foreign key's check, or a trigger whose WHEN decides row by row):
 * row_append() queues those as the executor does, but nothing else.
 */
static bool
fires_before_insert(const TriggerDesc *trigdesc)
{
	return trigdesc != NULL &&
		(trigdesc->trig_insert_before_row || trigdesc->trig_insert_instead_row ||
		 trigdesc->trig_insert_before_statement || trigdesc->trig_insert_after_statement ||
		 trigdesc->trig_insert_new_table);
}

/* Which triggers a table may have for a direct path */
typedef enum TriggersAllowed
{
	TRIGGERS_NONE,				/* inserting as the executor, without firing any */
	TRIGGERS_AFTER_INSERT_ROW,	/* row_append() queues those of after each row */
	TRIGGERS_ANY				/* reading: no trigger fires on a read */
} TriggersAllowed;

/*
 * Whether rel is learnloop's table as created: a plain table whose columns
 * have the shape's types, nothing dropped or added, a primary key on the
 * shape's key columns (in any order: callers that scan it check the order
 * on the index they open), only the triggers allowed (none: no foreign
 * keys either; after each inserted row: only those and those of other
 * commands) and no stored generated column.
 * Code that reads or writes the table without the executor checks this
 * first; after DDL of the owner's it declines and goes through SQL.
 */
static bool
ml_table_as_created(Relation rel, const TableShape *shape, TriggersAllowed triggers)
{
	TupleDesc	desc = RelationGetDescr(rel);
	Bitmapset  *key = NULL;
	int			i;

	if (rel->rd_rel->relkind != RELKIND_RELATION || rel->rd_rel->relispartition ||
		desc->natts != shape->natts ||
		(triggers == TRIGGERS_NONE && rel->trigdesc != NULL) ||
		(triggers == TRIGGERS_AFTER_INSERT_ROW && fires_before_insert(rel->trigdesc)) ||
		(desc->constr && desc->constr->has_generated_stored))
		return false;
	for (i = 0; i < shape->natts; i++)
		if (TupleDescAttr(desc, i)->attisdropped ||
			TupleDescAttr(desc, i)->atttypid != shape->types[i])
			return false;
	/* the key's columns, from the relcache: no index to open on every call */
	for (i = 0; i < shape->nkeys; i++)
		key = bms_add_member(key, shape->keys[i] - FirstLowInvalidHeapAttributeNumber);
	return bms_equal(key, RelationGetIndexAttrBitmap(rel, INDEX_ATTR_BITMAP_PRIMARY_KEY));
}

/*
 * Whether the caller may read (and with mode beyond ACL_SELECT, write) the table
 * whole, as plain SQL would let it: every privilege in mode on the table
 * itself and no row-level security.  Column grants only, or policies, are
 * the executor's job.
 */
bool
ml_table_access_plain(Oid relid, AclMode mode)
{
	return pg_class_aclmask(relid, GetUserId(), mode, ACLMASK_ALL) == mode &&
		check_enable_rls(relid, InvalidOid, true) == RLS_NONE;
}

/*
 * Whether index is a usable, complete btree whose key columns are exactly
 * the table columns in keys: no predicate, no expression, not being built.
 */
static bool
ml_index_keys_are(Relation index, int nkeys, const AttrNumber *keys)
{
	Form_pg_index form = index->rd_index;
	int			i;

	if (index->rd_rel->relam != BTREE_AM_OID ||
		!form->indisvalid || !form->indisready || !form->indislive ||
		form->indnkeyatts != nkeys ||
		RelationGetIndexPredicate(index) != NIL || RelationGetIndexExpressions(index) != NIL)
		return false;
	for (i = 0; i < nkeys; i++)
		if (form->indkey.values[i] != keys[i])
			return false;
	return true;
}

/*
 * The index indexoid of rel (opened by the caller), for reading rel without
 * the executor: only when rel is as created (its triggers aside: none fires
 * on a read) and the caller may read it whole, and the index is a plain btree on the given key columns.  NULL
 * otherwise, and the caller reads through SQL.
 */
Relation
ml_index_open_plain(Relation rel, const TableShape *shape, Oid indexoid,
					int nkeys, const AttrNumber *keys)
{
	Relation	index;

	if (!OidIsValid(indexoid) || !ml_table_as_created(rel, shape, TRIGGERS_ANY) ||
		!ml_table_access_plain(RelationGetRelid(rel), ACL_SELECT))
		return NULL;
	index = index_open(indexoid, AccessShareLock);
	if (ml_index_keys_are(index, nkeys, keys))
		return index;
	index_close(index, AccessShareLock);
	return NULL;
}

/*
 * The index indexname of rel (opened by the caller), of access method
 * amoid, for reading rel without the executor: only when rel is as created
 * (its triggers aside), the caller may read it whole, and the relation of
 * that name is a complete index of rel that is_expected accepts (its key's
 * expression, say: an index found by name may be the owner's).  An index's
 * definition never changes, so is_expected runs once per index: *verdict
 * keeps the last one.  Like the planner, an index whose rows may be missing
 * for this transaction's snapshots (indcheckxmin) is not used yet.  NULL
 * otherwise, and the caller reads through SQL.
 */
Relation
ml_index_open_named(Relation rel, const TableShape *shape, const char *indexname, Oid amoid,
					bool (*is_expected) (Relation index), IndexVerdict *verdict)
{
	Oid			indexoid = get_relname_relid(indexname, RelationGetNamespace(rel));
	Relation	index;
	Form_pg_index form;

	/* rel's lock keeps an index of rel from being dropped while it is open */
	if (!OidIsValid(indexoid) || get_rel_relkind(indexoid) != RELKIND_INDEX ||
		IndexGetRelation(indexoid, true) != RelationGetRelid(rel) ||
		!ml_table_as_created(rel, shape, TRIGGERS_ANY) ||
		!ml_table_access_plain(RelationGetRelid(rel), ACL_SELECT))
		return NULL;
	index = index_open(indexoid, AccessShareLock);
	form = index->rd_index;
	if (verdict->indexoid != indexoid)
	{
		verdict->indexoid = indexoid;
		verdict->accepted = index->rd_rel->relam == amoid && is_expected(index);
	}
	if (verdict->accepted && form->indisvalid && form->indisready && form->indislive &&
		(!form->indcheckxmin ||
		 TransactionIdPrecedes(HeapTupleHeaderGetXmin(index->rd_indextuple->t_data),
							   TransactionXmin)))
		return index;
	index_close(index, AccessShareLock);
	return NULL;
}

/* The executor state of one insertion into rel. */
static void
insert_prepare(RowInsert *ins, Relation rel, bool speculative)
{
	ins->rel = rel;
	ins->arbiter = speculative ? list_make1_oid(RelationGetPrimaryKeyIndex(rel)) : NIL;
	ins->appended = false;
	ins->estate = CreateExecutorState();
	ins->estate->es_output_cid = GetCurrentCommandId(true);
	ins->rri = makeNode(ResultRelInfo);
	InitResultRelInfo(ins->rri, rel, 0, NULL, 0);
	ExecOpenIndices(ins->rri, speculative);
	check_cache_fill_quals(rel, ins->rri, ins->estate);
	ins->slot = table_slot_create(rel, NULL);
	ExecClearTuple(ins->slot);
}

/*
 * Prepares the insertion of one row into rel, opened by the caller with
 * RowExclusiveLock, which must have the given shape.  Returns false
 * when the table or the caller needs the executor; otherwise the caller
 * fills ins->slot's values and calls row_insert_unless_conflict().
 */
bool
row_insert_begin(RowInsert *ins, Relation rel, const TableShape *shape,
				 AclMode required)
{
	if (XactReadOnly || !ml_table_as_created(rel, shape, TRIGGERS_NONE) ||
		!ml_table_access_plain(RelationGetRelid(rel), required))
		return false;
	insert_prepare(ins, rel, true);
	return true;
}

/*
 * Whether the caller holds each privilege on the table, or on each of its
 * columns, as plain SQL would ask (granted on columns, as
 * ml.grant_access does), without row-level security.
 */
static bool
ml_columns_access(Relation rel, const ColumnPrivilege *privileges, int nprivileges)
{
	Oid			relid = RelationGetRelid(rel);

	if (check_enable_rls(relid, InvalidOid, true) != RLS_NONE)
		return false;
	for (int p = 0; p < nprivileges; p++)
	{
		const ColumnPrivilege *priv = &privileges[p];

		if (pg_class_aclmask(relid, GetUserId(), priv->mode, ACLMASK_ALL) == priv->mode)
			continue;
		for (int c = 0; c < priv->ncolumns; c++)
			if (pg_attribute_aclcheck(relid, priv->columns[c], GetUserId(), priv->mode) != ACLCHECK_OK)
				return false;
	}
	return true;
}

/*
 * As row_insert_begin(), for a plain insertion (row_append()), by a caller
 * with the given privileges: the table may have triggers after each
 * inserted row and triggers of other commands, but no index whose
 * uniqueness is checked only at commit (its recheck is the executor's).
 */
bool
row_append_begin(RowInsert *ins, Relation rel, const TableShape *shape,
				 const ColumnPrivilege *privileges, int nprivileges)
{
	if (XactReadOnly || !ml_table_as_created(rel, shape, TRIGGERS_AFTER_INSERT_ROW) ||
		!ml_columns_access(rel, privileges, nprivileges))
		return false;
	insert_prepare(ins, rel, false);
	for (int i = 0; i < ins->rri->ri_NumIndices; i++)
		if (!ins->rri->ri_IndexRelationDescs[i]->rd_index->indimmediate)
		{
			row_insert_end(ins);
			return false;
		}
	return true;
}

/* NOT NULL, as the executor checks it, for a row built without it */
static void
check_not_null(Relation rel, TupleTableSlot *slot)
{
	TupleDesc	desc = RelationGetDescr(rel);

	for (int i = 0; i < desc->natts; i++)
		if (TupleDescAttr(desc, i)->attnotnull && slot_attisnull(slot, i + 1))
			ereport(ERROR,
					(errcode(ERRCODE_NOT_NULL_VIOLATION),
					 errmsg("null value in column \"%s\" of relation \"%s\" violates not-null constraint",
							NameStr(TupleDescAttr(desc, i)->attname), RelationGetRelationName(rel)),
					 errtable(rel)));
}

/*
 * Whether trigger is the check of a foreign key of rel whose columns are
 * all NULL in slot: RI_FKey_check then passes the row under every MATCH
 * type, but only after the row was queued, fetched again and the
 * referenced table locked.  A decision's augmented_from, NULL but for
 * augmented rows, made that a tenth of its insertion.
 */
static bool
null_key_check(const Trigger *trigger, List *fkeys, TupleTableSlot *slot)
{
	ListCell   *lc;

	if (!OidIsValid(trigger->tgconstraint) ||
		RI_FKey_trigger_type(trigger->tgfoid) != RI_TRIGGER_FK)
		return false;
	foreach(lc, fkeys)
	{
		ForeignKeyCacheInfo *fkey = lfirst(lc);

		if (fkey->conoid != trigger->tgconstraint)
			continue;
		for (int i = 0; i < fkey->nkeys; i++)
			if (!slot_attisnull(slot, fkey->conkey[i]))
				return false;
		return true;
	}
	return false;
}

/*
 * Drops from ins->rri the triggers the row in ins->slot need not fire
 * (null_key_check), with their entries in the arrays that follow the
 * triggers' order.  ins->rri then serves this row only, which is why
 * row_append() inserts one row per row_append_begin().
 */
static void
drop_null_key_checks(RowInsert *ins)
{
	ResultRelInfo *rri = ins->rri;
	TriggerDesc *trigdesc = rri->ri_TrigDesc;
	List	   *fkeys;
	int			kept = 0;

	if (trigdesc == NULL)
		return;
	fkeys = RelationGetFKeyList(ins->rel);
	for (int i = 0; i < trigdesc->numtriggers; i++)
	{
		if (null_key_check(&trigdesc->triggers[i], fkeys, ins->slot))
			continue;
		trigdesc->triggers[kept] = trigdesc->triggers[i];
		rri->ri_TrigFunctions[kept] = rri->ri_TrigFunctions[i];
		rri->ri_TrigWhenExprs[kept] = rri->ri_TrigWhenExprs[i];
		kept++;
	}
	trigdesc->numtriggers = kept;
	if (kept == 0)
		rri->ri_TrigDesc = NULL;
}

/*
 * Inserts the row in ins->slot as INSERT does: NOT NULL and CHECK
 * constraints, the heap, every index (a unique violation is the usual
 * error), then the triggers after each row, fired (or deferred) at the
 * end of this insertion as at the end of an INSERT statement.  One row
 * per row_append_begin().
 */
void
row_append(RowInsert *ins)
{
	if (ins->appended)
		elog(ERROR, "learnloop inserts one row per row_append_begin()");
	ins->appended = true;
	ExecStoreVirtualTuple(ins->slot);
	check_not_null(ins->rel, ins->slot);
	check_constraints(ins->rel, ins->slot, GetPerTupleExprContext(ins->estate));
	table_tuple_insert(ins->rel, ins->slot, ins->estate->es_output_cid, 0, NULL);
	list_free(exec_insert_index_tuples_plain(ins->rri, ins->slot, ins->estate));
	drop_null_key_checks(ins);
	if (ins->rri->ri_TrigDesc == NULL)
		return;
	AfterTriggerBeginQuery();
	ExecARInsertTriggers(ins->estate, ins->rri, ins->slot, NIL, NULL);
	AfterTriggerEndQuery(ins->estate);
}

/*
 * Raises a serialization failure when the conflicting row is invisible to a
 * REPEATABLE READ or SERIALIZABLE transaction, as ON CONFLICT does: its
 * snapshot cannot explain why the row was not inserted.
 */
static void
check_conflict_visible(RowInsert *ins)
{
	bool		isnull;
	TransactionId xmin;

	if (!IsolationUsesXactSnapshot() ||
		table_tuple_satisfies_snapshot(ins->rel, ins->slot, GetTransactionSnapshot()))
		return;
	xmin = DatumGetTransactionId(slot_getsysattr(ins->slot, MinTransactionIdAttributeNumber,
												 &isnull));
	if (!TransactionIdIsCurrentTransactionId(xmin))
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("could not serialize access due to concurrent update")));
}

/*
 * Inserts the row in ins->slot unless a row with its primary key exists.
 * Returns true when inserted; false when that row exists, which is then in
 * ins->slot.
 */
bool
row_insert_unless_conflict(RowInsert *ins)
{
	ItemPointerData conflict;

	ExecStoreVirtualTuple(ins->slot);
	check_constraints(ins->rel, ins->slot, GetPerTupleExprContext(ins->estate));
	for (;;)
	{
		TransactionId xid;
		uint32		token;
		bool		lost_race = false;
		List	   *recheck;

		CHECK_FOR_INTERRUPTS();
		if (!exec_check_index_constraints(ins->rri, ins->slot, ins->estate, &conflict,
										  ins->arbiter))
			break;
		/* only now: a unit exposed before must not cost a transaction id */
		xid = GetCurrentTransactionId();
		token = SpeculativeInsertionLockAcquire(xid);
		table_tuple_insert_speculative(ins->rel, ins->slot, ins->estate->es_output_cid,
									   0, NULL, token);
		recheck = exec_insert_index_tuples(ins->rri, ins->slot, ins->estate,
										   &lost_race, ins->arbiter);
		table_tuple_complete_speculative(ins->rel, ins->slot, token, !lost_race);
		SpeculativeInsertionLockRelease(xid);
		list_free(recheck);
		if (!lost_race)
			return true;
		/* the row of whoever won is found by the next pre-check */
	}
	if (!table_tuple_fetch_row_version(ins->rel, &conflict, SnapshotAny, ins->slot))
		elog(ERROR, "learnloop could not fetch the conflicting row");
	check_conflict_visible(ins);
	return false;
}

void
row_insert_end(RowInsert *ins)
{
	ExecDropSingleTupleTableSlot(ins->slot);
	ExecCloseIndices(ins->rri);
	/* what firing triggers opened: relations, and slots in the tuple table */
	close_trigger_relations(ins->estate);
	ExecResetTupleTable(ins->estate->es_tupleTable, false);
	FreeExecutorState(ins->estate);
}
