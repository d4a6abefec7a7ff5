/*-------------------------------------------------------------------------
 *
 * check_cache.c
 *	  A table's CHECK constraints, prepared once per backend.
 *
 * The executor reads and plans a table's CHECK constraints from their
 * stored node trees for every statement that writes the table; for the
 * one-row writes of row_insert.c that was a fifth of their cost.  Here the
 * prepared expressions of a few tables are kept in backend memory, for the
 * role that prepared them (preparing checks EXECUTE on the functions they
 * call), and prepared again after a relcache invalidation says the table
 * changed (a constraint added or dropped) or a syscache invalidation says
 * a function or a role membership did.  A constraint whose own function
 * writes the table again gets a private copy for that nested call.  They are evaluated as the executor does: a NULL result
 * passes.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/check_cache.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "optimizer/optimizer.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/relcache.h"
#include "utils/syscache.h"

#define CACHED_TABLES 4

typedef struct TableChecks
{
	Oid			relid;			/* InvalidOid: a free slot */
	Oid			userid;			/* the role that prepared them */
	bool		stale;			/* the table changed: prepare again */
	int			pins;			/* evaluations in progress */
	int			ncheck;
	ExprState **exprs;
	char	  **names;
	MemoryContext context;
} TableChecks;

static TableChecks tables[CACHED_TABLES];
static bool callbacks_registered = false;

static void
forget(TableChecks *t)
{
	if (t->context != NULL)
		MemoryContextDelete(t->context);
	memset(t, 0, sizeof(*t));
}

/*
 * Only marks the entry: invalidations are accepted whenever a lock is
 * taken, which a constraint's own functions may do while it is evaluated.
 */
static void
relation_changed(Datum arg, Oid relid)
{
	int			i;

	for (i = 0; i < CACHED_TABLES; i++)
		if (relid == InvalidOid || relid == tables[i].relid)
			tables[i].stale = true;
}

/*
 * A function changed (CREATE OR REPLACE, a new owner), or role memberships
 * (which EXECUTE rights follow): a CHECK may depend on either.
 */
static void
function_changed(Datum arg, int cacheid, uint32 hashvalue)
{
	relation_changed(arg, InvalidOid);
}

/* Prepares rel's constraints into t, in a new child of parent. */
static void
prepare_into(TableChecks *t, Relation rel, MemoryContext parent)
{
	TupleConstr *constr = rel->rd_att->constr;
	MemoryContext old;
	int			i;

	t->context = AllocSetContextCreate(parent, "learnloop CHECK constraints",
									   ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(t->context);
	t->ncheck = constr ? constr->num_check : 0;
	t->exprs = palloc0(sizeof(ExprState *) * Max(t->ncheck, 1));
	t->names = palloc0(sizeof(char *) * Max(t->ncheck, 1));
	for (i = 0; i < t->ncheck; i++)
	{
		t->exprs[i] = ExecInitExpr(expression_planner(stringToNode(constr->check[i].ccbin)), NULL);
		t->names[i] = pstrdup(constr->check[i].ccname);
	}
	MemoryContextSwitchTo(old);
	t->relid = RelationGetRelid(rel);
	t->userid = GetUserId();
}

/*
 * A copy for this call only, in the caller's memory: a constraint's own
 * function wrote the table, and an expression must not run inside itself.
 */
static TableChecks *
prepare_private(Relation rel)
{
	TableChecks *t = palloc0(sizeof(TableChecks));

	prepare_into(t, rel, CurrentMemoryContext);
	return t;
}

static TableChecks *
prepare(Relation rel)
{
	TableChecks *t = NULL;
	int			i;

	/* a free entry, else any not being evaluated (by an outer call) */
	for (i = 0; i < CACHED_TABLES; i++)
		if (tables[i].pins == 0 && (t == NULL || tables[i].relid == InvalidOid))
			t = &tables[i];
	if (t == NULL)
		return prepare_private(rel);
	forget(t);
	prepare_into(t, rel, CacheMemoryContext);
	return t;
}

/* The prepared constraints of rel for the current role. */
static TableChecks *
checks_for(Relation rel)
{
	int			i;

	if (!callbacks_registered)
	{
		CacheRegisterRelcacheCallback(relation_changed, (Datum) 0);
		CacheRegisterSyscacheCallback(PROCOID, function_changed, (Datum) 0);
		CacheRegisterSyscacheCallback(AUTHMEMROLEMEM, function_changed, (Datum) 0);
		callbacks_registered = true;
	}
	for (i = 0; i < CACHED_TABLES; i++)
	{
		if (tables[i].stale && tables[i].pins == 0)
			forget(&tables[i]);
		if (tables[i].relid == RelationGetRelid(rel) && tables[i].userid == GetUserId() &&
			!tables[i].stale)
			return tables[i].pins == 0 ? &tables[i] : prepare_private(rel);
	}
	return prepare(rel);
}

/* Raises the executor's error when the row in slot breaks a CHECK constraint of rel. */
void
check_constraints(Relation rel, TupleTableSlot *slot, ExprContext *econtext)
{
	TableChecks *volatile t = checks_for(rel);

	econtext->ecxt_scantuple = slot;
	/* pinned: a constraint's own function may write these tables, and so reenter */
	t->pins++;
	PG_TRY();
	{
		int			i;

		for (i = 0; i < t->ncheck; i++)
			if (!ExecCheck(t->exprs[i], econtext))
				ereport(ERROR,
						(errcode(ERRCODE_CHECK_VIOLATION),
						 errmsg("new row for relation \"%s\" violates check constraint \"%s\"",
								RelationGetRelationName(rel), t->names[i]),
						 errtableconstraint(rel, t->names[i])));
	}
	PG_FINALLY();
	{
		t->pins--;
	}
	PG_END_TRY();
}
