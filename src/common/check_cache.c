/*-------------------------------------------------------------------------
 *
 * check_cache.c
 *	  A table's CHECK constraints, prepared once per backend.
 *
 * The executor reads and plans a table's CHECK constraints from their
 * stored node trees for every statement that writes the table; for the
 * one-row writes of row_insert.c that was a fifth of their cost.  Here the
 * prepared expressions of a few tables are kept in backend memory and
 * prepared again after a relcache invalidation says the table changed (a
 * constraint added or dropped, for one).  They are evaluated as the
 * executor does: a NULL result passes.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/check_cache.h"
#include "executor/executor.h"
#include "optimizer/optimizer.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/relcache.h"

#define CACHED_TABLES 4

typedef struct TableChecks
{
	Oid			relid;			/* InvalidOid: a free slot */
	bool		stale;			/* the table changed: prepare again */
	int			ncheck;
	ExprState **exprs;
	char	  **names;
	MemoryContext context;
} TableChecks;

static TableChecks tables[CACHED_TABLES];
static bool callback_registered = false;

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

static TableChecks *
prepare(Relation rel)
{
	TupleConstr *constr = rel->rd_att->constr;
	TableChecks *t = &tables[0];
	MemoryContext old;
	int			i;

	for (i = 0; i < CACHED_TABLES; i++)
		if (tables[i].relid == InvalidOid)
			t = &tables[i];
	forget(t);
	t->context = AllocSetContextCreate(CacheMemoryContext, "learnloop CHECK constraints",
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
	return t;
}

/* Raises the executor's error when the row in slot breaks a CHECK constraint of rel. */
void
check_constraints(Relation rel, TupleTableSlot *slot, ExprContext *econtext)
{
	TableChecks *t = NULL;
	int			i;

	if (!callback_registered)
	{
		CacheRegisterRelcacheCallback(relation_changed, (Datum) 0);
		callback_registered = true;
	}
	for (i = 0; i < CACHED_TABLES; i++)
	{
		if (tables[i].stale)
			forget(&tables[i]);
		if (tables[i].relid == RelationGetRelid(rel))
			t = &tables[i];
	}
	if (t == NULL)
		t = prepare(rel);
	econtext->ecxt_scantuple = slot;
	for (i = 0; i < t->ncheck; i++)
		if (!ExecCheck(t->exprs[i], econtext))
			ereport(ERROR,
					(errcode(ERRCODE_CHECK_VIOLATION),
					 errmsg("new row for relation \"%s\" violates check constraint \"%s\"",
							RelationGetRelationName(rel), t->names[i]),
					 errtableconstraint(rel, t->names[i])));
}
