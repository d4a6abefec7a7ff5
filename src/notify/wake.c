/*-------------------------------------------------------------------------
 *
 * wake.c
 *	  Waking the delivery worker when an outbox row commits.
 *
 * Shared memory holds one slot per database served: the database's oid
 * and the latch of the worker serving it, published by the worker.  The
 * statement-level AFTER INSERT trigger on ml.webhook_outbox only notes that
 * this transaction queued something; a transaction callback sets the
 * worker's latch at commit, so the worker finds the rows visible when it
 * wakes, and a rollback wakes nobody.  No polling delay, and the insert
 * itself costs a flag.
 *
 * Without shared memory (learnloop not preloaded) there is no worker, and
 * the trigger does nothing.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "commands/trigger.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/latch.h"
#include "storage/shmem.h"
#include "storage/spin.h"

#include "notify/delivery.h"

typedef struct WakeSlot
{
	Oid			database;		/* InvalidOid: no worker attached */
	Latch	   *latch;
} WakeSlot;

typedef struct WakeShared
{
	slock_t		mutex;
	int			nslots;
	WakeSlot	slots[FLEXIBLE_ARRAY_MEMBER];
} WakeShared;

static WakeShared *wake = NULL;

/* this transaction inserted into ml.webhook_outbox */
static bool wake_at_commit = false;
static bool callback_registered = false;
static int	attached_slot = -1;

static Size
wake_size(void)
{
	return add_size(offsetof(WakeShared, slots),
					mul_size(webhook_database_count(), sizeof(WakeSlot)));
}

void
webhook_wake_request_shmem(void)
{
	RequestAddinShmemSpace(wake_size());
}

void
webhook_wake_init_shmem(void)
{
	bool		found;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	wake = ShmemInitStruct("learnloop webhook wake-up", wake_size(), &found);
	if (!found)
	{
		SpinLockInit(&wake->mutex);
		wake->nslots = webhook_database_count();
		for (int i = 0; i < wake->nslots; i++)
		{
			wake->slots[i].database = InvalidOid;
			wake->slots[i].latch = NULL;
		}
	}
	LWLockRelease(AddinShmemInitLock);
}

static void
detach(int code, Datum arg)
{
	SpinLockAcquire(&wake->mutex);
	wake->slots[attached_slot].database = InvalidOid;
	wake->slots[attached_slot].latch = NULL;
	SpinLockRelease(&wake->mutex);
}

void
webhook_wake_attach(int index)
{
	if (wake == NULL || index < 0 || index >= wake->nslots)
		elog(ERROR, "learnloop webhook delivery worker %d has no wake-up slot", index);
	attached_slot = index;
	SpinLockAcquire(&wake->mutex);
	wake->slots[index].database = MyDatabaseId;
	wake->slots[index].latch = MyLatch;
	SpinLockRelease(&wake->mutex);
	before_shmem_exit(detach, (Datum) 0);
}

/*
 * At commit, the latch of this database's worker.  The latch is a PGPROC's,
 * which stays mapped when its worker exits: at worst another process gets
 * a spurious wake-up, which every latch user tolerates.
 */
static void
wake_callback(XactEvent event, void *arg)
{
	Latch	   *latch = NULL;

	if (!wake_at_commit)
		return;
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
			SpinLockAcquire(&wake->mutex);
			for (int i = 0; i < wake->nslots; i++)
				if (wake->slots[i].database == MyDatabaseId)
					latch = wake->slots[i].latch;
			SpinLockRelease(&wake->mutex);
			if (latch != NULL)
				SetLatch(latch);
			wake_at_commit = false;
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			/* a prepared transaction's rows are found by the periodic check */
			wake_at_commit = false;
			break;
		default:
			break;
	}
}

PG_FUNCTION_INFO_V1(learnloop_webhook_outbox_wake);

/* ml.webhook_outbox_wake(): the trigger, AFTER INSERT FOR EACH STATEMENT */
Datum
learnloop_webhook_outbox_wake(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("ml.webhook_outbox_wake() must be called as a trigger")));
	if (wake != NULL)
	{
		if (!callback_registered)
		{
			RegisterXactCallback(wake_callback, NULL);
			callback_registered = true;
		}
		wake_at_commit = true;
	}
	return PointerGetDatum(NULL);
}
