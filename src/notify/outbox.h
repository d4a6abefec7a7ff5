/*-------------------------------------------------------------------------
 *
 * outbox.h
 *	  The delivery worker's SQL: which events are due, and the record of
 *	  each attempt.
 *
 * Every function runs inside the worker's transaction with SPI connected,
 * and executes as read-write (a new snapshot per statement): a claim must
 * see the attempts recorded earlier in the same transaction.
 * The statements are fixed, name every object with its schema, and the
 * worker runs them with search_path pinned to pg_catalog, pg_temp: no
 * function or operator of another role can run inside them, whichever role
 * the worker is (learnloop.webhook_role).
 *
 * Bookkeeping is in logged tables only, and an attempt's outcome is
 * written after the attempt: a worker killed in between leaves the event
 * pending, and it is sent again, with the same webhook-id (at least once).
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_OUTBOX_H
#define LEARNLOOP_OUTBOX_H

#include "datatype/timestamp.h"
#include "nodes/pg_list.h"

#include "notify/transfer.h"

/* Whether this database has learnloop's outbox (the extension, 0.4.0 on). */
extern bool webhook_outbox_present(void);

/*
 * Up to limit due pending events of enabled channels, oldest due first,
 * none of the n ids in flight, as prepared transfers (webhook_transfer_prepare:
 * some may have failed preparing, and are to be recorded at once) whose
 * memory contexts are children of cxt.  Sets
 * *next_due to when the next event not claimed falls due (0 if none is
 * pending); when limit events were claimed, more may be due now.
 */
extern List *webhook_outbox_claim(MemoryContext cxt, int limit, const int64 *in_flight, int n,
								  TimestampTz *next_due);

/*
 * Records a finished attempt: a row in ml.webhook_deliveries and the
 * event's new state (delivered, pending again after a backoff, or dead).
 * An event no longer pending (deleted, or marked by hand meanwhile) is
 * left as it is.
 */
extern void webhook_outbox_record(const WebhookTransfer *t);

/*
 * Delay before attempt number attempt + 1 after a retryable failure:
 * learnloop.webhook_retry_delay doubled per attempt, capped by
 * learnloop.webhook_retry_max_delay, drawn between half and all of that
 * (jitter, so that events failed together do not retry together), and at
 * least a 429's Retry-After (also capped).
 */
extern int64 webhook_retry_delay(int attempt, int64 retry_after_ms);

#endif							/* LEARNLOOP_OUTBOX_H */
