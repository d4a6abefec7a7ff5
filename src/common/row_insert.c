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
 * That shortcut is only taken for a table as learnloop created it: no
 * triggers (hence no foreign keys), no row-level security, no added
 * columns, and a caller with table-level privileges in a read-write
 * transaction.  For anything else row_insert_begin() says no and the
 * caller runs its SQL statement, which handles every case and raises the
 * usual errors.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "common/check_cache.h"
#include "common/compat.h"
#include "common/row_insert.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"

/* Opens ml.RELNAME, following a reinstall of the extension. */
Relation
ml_table_open(const char *relname, LOCKMODE lockmode)
{
	return table_openrv(makeRangeVar("ml", pstrdup(relname), -1), lockmode);
}

/*
 * Prepares the insertion of one row of natts columns into rel, opened by the
 * caller with RowExclusiveLock.  Returns false when the table or the caller
 * needs the executor; otherwise the caller fills ins->slot's values and
 * calls row_insert_unless_conflict().
 */
bool
row_insert_begin(RowInsert *ins, Relation rel, int natts, AclMode required)
{
	Oid			relid = RelationGetRelid(rel);
	Oid			primary_key;

	if (rel->rd_rel->relkind != RELKIND_RELATION ||
		RelationGetDescr(rel)->natts != natts ||
		rel->trigdesc != NULL ||
		(rel->rd_att->constr && rel->rd_att->constr->has_generated_stored) ||
		XactReadOnly ||
		check_enable_rls(relid, InvalidOid, true) != RLS_NONE ||
		pg_class_aclcheck(relid, GetUserId(), required) != ACLCHECK_OK)
		return false;
	primary_key = RelationGetPrimaryKeyIndex(rel);
	if (!OidIsValid(primary_key))
		return false;

	ins->rel = rel;
	ins->arbiter = list_make1_oid(primary_key);
	ins->estate = CreateExecutorState();
	ins->estate->es_output_cid = GetCurrentCommandId(true);
	ins->rri = makeNode(ResultRelInfo);
	InitResultRelInfo(ins->rri, rel, 0, NULL, 0);
	ExecOpenIndices(ins->rri, true);
	ins->slot = table_slot_create(rel, NULL);
	ExecClearTuple(ins->slot);
	return true;
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
	TransactionId xid = GetCurrentTransactionId();
	ItemPointerData conflict;

	ExecStoreVirtualTuple(ins->slot);
	check_constraints(ins->rel, ins->slot, GetPerTupleExprContext(ins->estate));
	for (;;)
	{
		uint32		token;
		bool		lost_race = false;
		List	   *recheck;

		if (!ExecCheckIndexConstraints(ins->rri, ins->slot, ins->estate, &conflict,
									   ins->arbiter))
			break;
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
	FreeExecutorState(ins->estate);
}
