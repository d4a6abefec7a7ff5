/*-------------------------------------------------------------------------
 *
 * guarded.c
 *	  Running a step whose failure the caller survives.
 *
 * ml.decide must not fail the application's request because the deployed
 * model cannot be loaded or evaluated: it falls back instead.  An error can
 * only be caught safely inside a subtransaction (its rollback releases the
 * locks, SPI connections and buffers the step held), so the step runs in
 * one, as PL/pgSQL's EXCEPTION blocks do.  An error that says nothing of
 * the step's input (cancellation, shutdown, a lack of privilege or memory,
 * a lock or serialization failure) is never turned into a fallback: it is
 * raised again.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "utils/resowner.h"

#include "common/guarded.h"

/*
 * Whether an error is about the session or the server rather than what a
 * step read: the caller's request must fail with it, as any other
 * statement's would, and retrying, granting or waiting may cure it.
 */
bool
error_is_circumstantial(int sqlerrcode)
{
	int			category = ERRCODE_TO_CATEGORY(sqlerrcode);

	return sqlerrcode == ERRCODE_INSUFFICIENT_PRIVILEGE ||
		sqlerrcode == ERRCODE_LOCK_NOT_AVAILABLE ||
		category == ERRCODE_TRANSACTION_ROLLBACK ||
		category == ERRCODE_INSUFFICIENT_RESOURCES ||
		category == ERRCODE_OPERATOR_INTERVENTION;
}

/*
 * Runs step(arg) in a subtransaction.  Returns NULL when it succeeded;
 * otherwise the error (palloc'd in the caller's memory context, for the
 * caller to report or raise again), everything the step did rolled back.
 */
ErrorData *
run_guarded(void (*step) (void *), void *arg)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	ErrorData  *volatile failure = NULL;

	BeginInternalSubTransaction(NULL);
	/* what the step allocates belongs to the caller, not the subtransaction */
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		step(arg);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		failure = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		if (error_is_circumstantial(failure->sqlerrcode))
			ReThrowError(failure);
	}
	PG_END_TRY();
	return failure;
}
