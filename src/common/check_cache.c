/*-------------------------------------------------------------------------
 *
 * check_cache.c
 *	  A table's CHECK constraints, prepared once per backend, and the WHEN
 *	  clauses of its triggers and the predicates of its partial indexes.
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
 * The executor likewise parses and plans a trigger's WHEN clause and a
 * partial index's predicate for each statement, which cost a decision's
 * one-row insertion (row_insert.c's row_append) a tenth of its time: the
 * same entry keeps them planned, and check_cache_fill_quals() builds each
 * insertion's own expression state from them.  Only clauses that call
 * built-in functions alone are kept; the executor plans the others as
 * usual.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/transam.h"
#include "access/xact.h"
#include "catalog/pg_trigger.h"
#include "commands/trigger.h"
#include "common/check_cache.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "rewrite/rewriteManip.h"
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
	char	  **ccbins;			/* as stored: a fill matches them first */
	bool		fillable;		/* no user's function (check_cache_fill_constraints) */
	/* the executor's quals, planned at the first insertion (see plan_quals) */
	bool		quals_ready;
	int			ntriggers;
	Oid		   *trigger_oids;
	List	  **trigger_whens;	/* NIL: no WHEN kept; the executor plans it */
	int			nindexes;
	Oid		   *index_oids;
	List	  **index_predicates;	/* likewise */
	MemoryContext context;
} TableChecks;

static TableChecks tables[CACHED_TABLES];
static bool callbacks_registered = false;

/*
 * Inside a transaction the entry's memory lives on until the transaction
 * ends: an insertion under way may still hold the quals it was given
 * (check_cache_fill_quals) when an invalidation makes the entry stale.
 */
static void
forget(TableChecks *t)
{
	if (t->context != NULL)
	{
		if (IsTransactionState())
			MemoryContextSetParent(t->context, TopTransactionContext);
		else
			MemoryContextDelete(t->context);
	}
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

static bool calls_user_function(Node *node, void *context);

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
	t->ccbins = palloc0(sizeof(char *) * Max(t->ncheck, 1));
	t->fillable = true;
	for (i = 0; i < t->ncheck; i++)
	{
		Node	   *check = stringToNode(constr->check[i].ccbin);

		t->fillable = t->fillable && !calls_user_function(check, NULL);
		t->exprs[i] = ExecInitExpr(expression_planner((Expr *) check), NULL);
		t->names[i] = pstrdup(constr->check[i].ccname);
		t->ccbins[i] = pstrdup(constr->check[i].ccbin);
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

static bool
is_user_function(Oid funcid, void *context)
{
	return funcid >= FirstNormalObjectId;
}

/* Whether an expression calls a function that is not built in */
static bool
calls_user_function(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (check_functions_in_node(node, is_user_function, context))
		return true;
	return expression_tree_walker(node, calls_user_function, context);
}

/*
 * A qual in implicit-AND form planned as ExecPrepareQual() plans it, in
 * the current memory context; NIL when it calls a user's function.  Only
 * the planned tree is kept: an ExprState keeps memory of the statement
 * that first evaluates it (a whole-row Var's tuple descriptor) and must
 * not be evaluated inside its own evaluation, so each insertion builds its
 * own from the tree (check_cache_fill_quals).
 */
static List *
plan_qual(List *qual)
{
	if (calls_user_function((Node *) qual, NULL))
		return NIL;
	return (List *) expression_planner((Expr *) qual);
}

/*
 * Whether a trigger fires after each inserted row in this session, as
 * TriggerEnabled() decides: only those have their WHEN clause planned, so
 * that a clause of a disabled trigger or of another event is never
 * planned (planning folds constants, which can raise).
 */
static bool
fires_after_insert(const Trigger *trigger)
{
	if (!TRIGGER_TYPE_MATCHES(trigger->tgtype, TRIGGER_TYPE_ROW, TRIGGER_TYPE_AFTER,
							  TRIGGER_TYPE_INSERT))
		return false;
	if (SessionReplicationRole == SESSION_REPLICATION_ROLE_REPLICA)
		return trigger->tgenabled == TRIGGER_FIRES_ON_REPLICA ||
			trigger->tgenabled == TRIGGER_FIRES_ALWAYS;
	return trigger->tgenabled == TRIGGER_FIRES_ON_ORIGIN ||
		trigger->tgenabled == TRIGGER_FIRES_ALWAYS;
}

/*
 * Plans the WHEN clauses of rri's triggers after each inserted row and the
 * predicates of its indexes into t, as TriggerEnabled() and
 * ExecInsertIndexTuples() plan them.
 */
static void
plan_quals(TableChecks *t, ResultRelInfo *rri)
{
	TriggerDesc *trigdesc = rri->ri_TrigDesc;
	MemoryContext old = MemoryContextSwitchTo(t->context);

	t->ntriggers = trigdesc ? trigdesc->numtriggers : 0;
	t->trigger_oids = palloc0(sizeof(Oid) * Max(t->ntriggers, 1));
	t->trigger_whens = palloc0(sizeof(List *) * Max(t->ntriggers, 1));
	for (int i = 0; i < t->ntriggers; i++)
	{
		Trigger    *trigger = &trigdesc->triggers[i];
		Node	   *when;

		t->trigger_oids[i] = trigger->tgoid;
		if (trigger->tgqual == NULL || !fires_after_insert(trigger))
			continue;
		when = stringToNode(trigger->tgqual);
		ChangeVarNodes(when, PRS2_OLD_VARNO, INNER_VAR, 0);
		ChangeVarNodes(when, PRS2_NEW_VARNO, OUTER_VAR, 0);
		t->trigger_whens[i] = plan_qual(make_ands_implicit((Expr *) when));
	}

	t->nindexes = rri->ri_NumIndices;
	t->index_oids = palloc0(sizeof(Oid) * Max(t->nindexes, 1));
	t->index_predicates = palloc0(sizeof(List *) * Max(t->nindexes, 1));
	for (int i = 0; i < t->nindexes; i++)
	{
		IndexInfo  *info = rri->ri_IndexRelationInfo[i];

		t->index_oids[i] = RelationGetRelid(rri->ri_IndexRelationDescs[i]);
		if (info->ii_Predicate != NIL)
			t->index_predicates[i] = plan_qual(copyObject(info->ii_Predicate));
	}
	MemoryContextSwitchTo(old);
	t->quals_ready = true;
}

/*
 * Gives rri (of rel, its indexes open) the WHEN clauses of its triggers
 * after each inserted row and the predicates of its indexes, built for
 * this insertion in estate's memory from the planned trees of rel's entry:
 * the executor then evaluates them instead of parsing and planning its own.
 * A clause without a kept tree is left to the executor.
 */
void
check_cache_fill_quals(Relation rel, ResultRelInfo *rri, EState *estate)
{
	TableChecks *t = checks_for(rel);
	MemoryContext old;

	if (!t->quals_ready)
		plan_quals(t, rri);
	old = MemoryContextSwitchTo(estate->es_query_cxt);
	for (int i = 0; rri->ri_TrigDesc && i < rri->ri_TrigDesc->numtriggers; i++)
		for (int j = 0; j < t->ntriggers; j++)
			if (t->trigger_oids[j] == rri->ri_TrigDesc->triggers[i].tgoid &&
				t->trigger_whens[j] != NIL && fires_after_insert(&rri->ri_TrigDesc->triggers[i]))
				rri->ri_TrigWhenExprs[i] = ExecInitQual(t->trigger_whens[j], NULL);
	for (int i = 0; i < rri->ri_NumIndices; i++)
		for (int j = 0; j < t->nindexes; j++)
			if (t->index_oids[j] == RelationGetRelid(rri->ri_IndexRelationDescs[i]) &&
				t->index_predicates[j] != NIL)
				rri->ri_IndexRelationInfo[i]->ii_PredicateState =
					ExecInitQual(t->index_predicates[j], NULL);
	MemoryContextSwitchTo(old);
}

/*
 * Gives the executor's result relation of rel its CHECK constraints'
 * states (ri_ConstraintExprs) from the planned trees kept here, so that a
 * statement the executor runs (ml.record_outcome's UPDATE) does not parse
 * and plan them again: states of its own, in the statement's memory, as
 * PostgreSQL 14 to 17's ExecRelCheck builds them (18 skips constraints
 * that are not enforced).  Where that cannot be sure, nothing is filled
 * and the executor builds them itself.
 */
void
check_cache_fill_constraints(Relation rel, ResultRelInfo *rri, EState *estate)
{
	TableChecks *t;
	TupleConstr *constr = rel->rd_att->constr;
	int			ncheck = constr ? constr->num_check : 0;
	MemoryContext old;

	/* the trees outlive the statement only inside its transaction (forget) */
	Assert(IsTransactionState());
	if (rri->ri_ConstraintExprs != NULL || ncheck == 0)
		return;
	t = checks_for(rel);

	/*
	 * Only what the executor would plan alike now: no user's function (an
	 * inlined SQL function resolves names by the search_path of the day it
	 * was planned), and the very constraints the relcache has.
	 */
	if (!t->fillable || t->ncheck != ncheck)
		return;
	for (int i = 0; i < ncheck; i++)
		if (strcmp(t->ccbins[i], constr->check[i].ccbin) != 0)
			return;
	old = MemoryContextSwitchTo(estate->es_query_cxt);
	rri->ri_ConstraintExprs = palloc(sizeof(ExprState *) * ncheck);
	for (int i = 0; i < ncheck; i++)
		rri->ri_ConstraintExprs[i] = ExecInitExpr(t->exprs[i]->expr, NULL);
	MemoryContextSwitchTo(old);
}
