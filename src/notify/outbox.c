/*-------------------------------------------------------------------------
 *
 * outbox.c
 *	  The delivery worker's SQL over ml.webhook_outbox, ml.channels and
 *	  ml.webhook_deliveries.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>
#include <math.h>

#include "catalog/pg_type.h"
#include "common/pg_prng.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "common/spi_plan.h"
#include "notify/delivery.h"
#include "notify/outbox.h"
#include "notify/transfer.h"

bool
webhook_outbox_present(void)
{
	static SPIPlanPtr plan = NULL;
	bool		isnull;

	spi_cached_plan(&plan,
					"SELECT EXISTS (SELECT FROM pg_catalog.pg_extension"
					" WHERE extname OPERATOR(pg_catalog.=) 'learnloop')"
					" AND pg_catalog.to_regclass('ml.webhook_outbox') IS NOT NULL",
					0, NULL);
	if (SPI_execute_plan(plan, NULL, NULL, false, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "learnloop could not look for ml.webhook_outbox");
	return DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

static Datum
id_array(const int64 *ids, int n)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(n, 1));

	for (int i = 0; i < n; i++)
		elems[i] = Int64GetDatum(ids[i]);
	return PointerGetDatum(construct_array(elems, n, INT8OID, sizeof(int64),
										   FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

static char *
text_column(HeapTuple tuple, TupleDesc desc, int col)
{
	bool		isnull;
	Datum		value = SPI_getbinval(tuple, desc, col, &isnull);

	return isnull ? NULL : TextDatumGetCString(value);
}

/*
 * When the next pending event not in flight falls due; 0 if none is.  Both
 * this and the claim start from the enabled channels and read each one's
 * queue in webhook_outbox_channel_due_idx's order, stopping early: neither
 * a long queue nor a disabled channel's backlog is read through.
 */
static TimestampTz
next_due_time(Datum ids)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[1] = {INT8ARRAYOID};
	bool		isnull;
	Datum		due;

	spi_cached_plan(&plan,
					"SELECT o.next_attempt_at"
					"  FROM ml.channels c CROSS JOIN LATERAL ("
					"        SELECT q.next_attempt_at, q.id FROM ml.webhook_outbox q"
					"         WHERE q.channel OPERATOR(pg_catalog.=) c.name"
					"           AND q.state OPERATOR(pg_catalog.=) 'pending'"
					"           AND NOT (q.id OPERATOR(pg_catalog.=) ANY ($1))"
					"         ORDER BY q.next_attempt_at, q.id LIMIT 1) o"
					" WHERE c.enabled"
					" ORDER BY o.next_attempt_at, o.id LIMIT 1",
					1, types);
	if (SPI_execute_plan(plan, &ids, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "learnloop could not read when the next webhook is due");
	if (SPI_processed == 0)
		return 0;
	due = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return DatumGetTimestampTz(due);
}

List *
webhook_outbox_claim(MemoryContext cxt, int limit, const int64 *in_flight, int n, TimestampTz *next_due)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[2] = {INT8ARRAYOID, INT4OID};
	Datum		args[2];
	List	   *claimed = NIL;
	uint64		rows;

	args[0] = id_array(in_flight, n);
	args[1] = Int32GetDatum(limit);
	spi_cached_plan(&plan,
					"SELECT o.id, o.event_id::pg_catalog.text, o.channel, o.body, o.attempts, c.url, c.secret"
					"  FROM ml.channels c CROSS JOIN LATERAL ("
					"        SELECT q.id, q.event_id, q.channel, q.body, q.attempts, q.next_attempt_at"
					"          FROM ml.webhook_outbox q"
					"         WHERE q.channel OPERATOR(pg_catalog.=) c.name"
					"           AND q.state OPERATOR(pg_catalog.=) 'pending'"
					"           AND q.next_attempt_at OPERATOR(pg_catalog.<=) pg_catalog.now()"
					"           AND NOT (q.id OPERATOR(pg_catalog.=) ANY ($1))"
					"         ORDER BY q.next_attempt_at, q.id LIMIT $2) o"
					" WHERE c.enabled"
					" ORDER BY o.next_attempt_at, o.id LIMIT $2",
					2, types);
	if (SPI_execute_plan(plan, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "learnloop could not read the webhook outbox");
	rows = SPI_processed;
	for (uint64 i = 0; i < rows; i++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		int64		id = DatumGetInt64(SPI_getbinval(tuple, desc, 1, &isnull));
		/* attempts is >= 0 (CHECK); capped so that a hand-set maximum cannot overflow */
		int			attempts = DatumGetInt32(SPI_getbinval(tuple, desc, 5, &isnull));
		WebhookTransfer *t = webhook_transfer_create(cxt, id, text_column(tuple, desc, 2),
													 text_column(tuple, desc, 3),
													 text_column(tuple, desc, 4),
													 Min(attempts, INT_MAX - 1) + 1);

		webhook_transfer_prepare(t, text_column(tuple, desc, 6), text_column(tuple, desc, 7));
		claimed = lappend(claimed, t);
	}
	if (rows < (uint64) limit)
	{
		int64	   *ids = palloc(sizeof(int64) * (n + rows + 1));
		ListCell   *lc;
		int			k = n;

		memcpy(ids, in_flight, sizeof(int64) * n);
		foreach(lc, claimed)
			ids[k++] = ((WebhookTransfer *) lfirst(lc))->outbox_id;
		*next_due = next_due_time(id_array(ids, k));
	}
	else
		*next_due = GetCurrentTimestamp();
	return claimed;
}

int64
webhook_retry_delay(int attempt, int64 retry_after_ms)
{
	double		full = webhook_retry_delay_ms * pow(2.0, Min(attempt - 1, 62));
	double		delay;

	full = Min(full, (double) webhook_retry_max_delay_ms);
	delay = full / 2 + pg_prng_double(&pg_global_prng_state) * full / 2;
	if (retry_after_ms > 0)
		delay = Max(delay, Min((double) retry_after_ms, (double) webhook_retry_max_delay_ms));
	return (int64) delay;
}

void
webhook_outbox_record(const WebhookTransfer *t)
{
	static SPIPlanPtr plan = NULL;
	Oid			types[10] = {INT8OID, INT4OID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID,
	TEXTOID, TIMESTAMPTZOID, FLOAT8OID, INT4OID, TEXTOID};
	Datum		args[10];
	char		nulls[10];
	TimestampTz now = GetCurrentTimestamp();
	const char *state;
	const char *status;

	switch (t->result)
	{
		case WEBHOOK_ATTEMPT_DELIVERED:
			state = status = "delivered";
			break;
		case WEBHOOK_ATTEMPT_RETRY:
			if (t->attempt >= webhook_max_attempts)
				state = status = "dead";
			else
			{
				state = "pending";
				status = "retry";
			}
			break;
		default:
			state = "dead";
			status = "failed";
			break;
	}
	memset(nulls, ' ', sizeof(nulls));
	args[0] = Int64GetDatum(t->outbox_id);
	args[1] = Int32GetDatum(t->attempt);
	args[2] = CStringGetTextDatum(state);
	/* next_attempt_at: unchanged unless retried */
	if (strcmp(state, "pending") == 0)
		args[3] = TimestampTzGetDatum(TimestampTzPlusMilliseconds(now,
																  webhook_retry_delay(t->attempt, t->retry_after_ms)));
	else
		nulls[3] = 'n';
	args[4] = TimestampTzGetDatum(now);
	if (t->result != WEBHOOK_ATTEMPT_DELIVERED)
		nulls[4] = 'n';
	if (t->error != NULL)
		args[5] = CStringGetTextDatum(t->error);
	else
		nulls[5] = 'n';
	args[6] = TimestampTzGetDatum(t->started_at);
	args[7] = Float8GetDatum(t->duration_ms);
	if (t->duration_ms < 0)
		nulls[7] = 'n';
	args[8] = Int32GetDatum(t->http_status);
	if (t->http_status == 0)
		nulls[8] = 'n';
	args[9] = CStringGetTextDatum(status);

	spi_cached_plan(&plan,
					"WITH attempt AS ("
					" UPDATE ml.webhook_outbox"
					"    SET attempts = $2, state = $3,"
					"        next_attempt_at = COALESCE($4, next_attempt_at),"
					"        delivered_at = $5, last_error = $6"
					"  WHERE id OPERATOR(pg_catalog.=) $1 AND state OPERATOR(pg_catalog.=) 'pending'"
					"  RETURNING id, event_id, channel)"
					" INSERT INTO ml.webhook_deliveries"
					"   (outbox_id, event_id, channel, attempt, started_at, duration_ms, http_status, status, error)"
					" SELECT id, event_id, channel, $2, $7, $8, $9, $10, $6 FROM attempt",
					10, types);
	if (SPI_execute_plan(plan, args, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "learnloop could not record a webhook attempt");
}
