/*-------------------------------------------------------------------------
 *
 * delivery_worker.c
 *	  The webhook delivery worker of one database: claims due outbox
 *	  events, sends them through libcurl's multi interface, several in
 *	  flight, and records every attempt.
 *
 * The loop alternates two steps:
 *	- bookkeeping, in one short transaction: the attempts finished since
 *	  the last one are recorded (outbox.h), and, when woken or when an
 *	  event falls due, more due events are claimed, up to
 *	  learnloop.webhook_max_in_flight in flight, and added to the multi
 *	  handle.  No transaction stays open while requests are in flight.
 *	- waiting, at most a second, on one wait event set built of the
 *	  worker's latch, postmaster death and the sockets libcurl asks to
 *	  watch (CURLMOPT_SOCKETFUNCTION), with libcurl's own timer
 *	  (CURLMOPT_TIMERFUNCTION) as the timeout; then curl_multi_socket_action
 *	  drives the transfers whose sockets are ready.
 * The latch is set by a commit that queued events (wake.c), by SIGHUP (a
 * reload: the new settings apply to the next attempts) and by SIGTERM
 * (die: the next CHECK_FOR_INTERRUPTS ends the worker; transfers in flight
 * are abandoned, so their events are still pending and are sent again).
 * Besides, the worker claims when the earliest pending event it knows of
 * falls due (a retry's backoff), and every few seconds in any case, for
 * events no trigger announced (COMMIT PREPARED, an event set back to
 * pending by hand).
 *
 * In-flight events are known by their ids, which the claim excludes; one
 * worker serves a database, so no row lock is needed between claim and
 * record.  libcurl is initialized here, in the worker, never in the
 * postmaster.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <curl/curl.h>

#include "access/xact.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "notify/delivery.h"
#include "notify/outbox.h"
#include "notify/transfer.h"

/* learnloop.webhook_max_in_flight's upper bound */
#define MAX_IN_FLIGHT 256
/* sockets libcurl may watch: connections in flight, resolver pipes */
#define MAX_SOCKETS (4 * MAX_IN_FLIGHT)
/* the longest wait, and the claim made even when nothing announced events */
#define WAIT_MS 1000
#define RECHECK_MS 5000

typedef struct WatchedSocket
{
	curl_socket_t fd;
	int			what;			/* CURL_POLL_IN, _OUT or _INOUT */
} WatchedSocket;

static CURLM *multi = NULL;
static WatchedSocket sockets[MAX_SOCKETS];
static int	nsockets = 0;
static bool timer_set = false;
static TimestampTz timer_at = 0;

static WebhookTransfer *in_flight[MAX_IN_FLIGHT];
static int	n_in_flight = 0;
static WebhookTransfer *finished[MAX_IN_FLIGHT];
static int	n_finished = 0;

/*
 * CURLMOPT_SOCKETFUNCTION: which sockets to watch, and for what.  Called
 * inside libcurl: no palloc, no ERROR (a WARNING returns).
 */
static int
socket_changed(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	int			i;

	for (i = 0; i < nsockets; i++)
		if (sockets[i].fd == fd)
			break;
	if (what == CURL_POLL_REMOVE)
	{
		if (i < nsockets)
			sockets[i] = sockets[--nsockets];
		return 0;
	}
	if (i == nsockets)
	{
		if (nsockets == MAX_SOCKETS)
		{
			elog(WARNING, "learnloop webhook delivery watches %d sockets already: one is left to its timeout",
				 MAX_SOCKETS);
			return 0;
		}
		nsockets++;
	}
	sockets[i].fd = fd;
	sockets[i].what = what;
	return 0;
}

/* CURLMOPT_TIMERFUNCTION: when libcurl wants to be called without I/O */
static int
timer_changed(CURLM *m, long timeout_ms, void *userp)
{
	timer_set = timeout_ms >= 0;
	if (timer_set)
		timer_at = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), timeout_ms);
	return 0;
}

static void
multi_checked(CURLMcode rc, const char *what)
{
	if (rc != CURLM_OK)
		ereport(ERROR,
				(errcode(ERRCODE_SYSTEM_ERROR),
				 errmsg("libcurl's multi interface failed to %s: %s", what, curl_multi_strerror(rc))));
}

/* Moves the transfers libcurl has completed from in flight to finished. */
static void
collect_finished(void)
{
	CURLMsg    *msg;
	int			left;

	while ((msg = curl_multi_info_read(multi, &left)) != NULL)
	{
		CURL	   *easy = msg->easy_handle;
		CURLcode	rc = msg->data.result;
		WebhookTransfer *t = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **) &t);
		multi_checked(curl_multi_remove_handle(multi, easy), "remove a transfer");
		webhook_transfer_finish(t, rc);
		for (int i = 0; i < n_in_flight; i++)
			if (in_flight[i] == t)
			{
				in_flight[i] = in_flight[--n_in_flight];
				break;
			}
		finished[n_finished++] = t;
	}
}

/*
 * One transaction: records the finished attempts, claims due events up to
 * the room in flight, and starts them.  Returns when the next event not
 * claimed falls due (0: none is pending).
 */
static TimestampTz
bookkeeping(void)
{
	TimestampTz next_due = 0;
	int			recorded = n_finished;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "learnloop webhook delivery could not connect to SPI");
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "learnloop webhook delivery: bookkeeping");

	/* the extension dropped while requests were in flight: nothing to record */
	if (webhook_outbox_present())
	{
		int64		ids[MAX_IN_FLIGHT];
		List	   *claimed;
		ListCell   *lc;

		for (int i = 0; i < n_finished; i++)
			webhook_outbox_record(finished[i]);
		for (int i = 0; i < n_in_flight; i++)
			ids[i] = in_flight[i]->outbox_id;
		claimed = webhook_outbox_claim(Min(webhook_max_in_flight, MAX_IN_FLIGHT) - n_in_flight,
									   ids, n_in_flight, &next_due);
		foreach(lc, claimed)
		{
			WebhookTransfer *t = lfirst(lc);

			if (t->easy == NULL)
			{
				/* refused before sending: its record is the outcome */
				webhook_outbox_record(t);
				webhook_transfer_free(t);
				continue;
			}
			multi_checked(curl_multi_add_handle(multi, t->easy), "add a transfer");
			in_flight[n_in_flight++] = t;
		}
	}

	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);

	for (int i = 0; i < recorded; i++)
		webhook_transfer_free(finished[i]);
	n_finished = 0;
	return next_due;
}

static long
ms_until(TimestampTz when, TimestampTz now)
{
	return when <= now ? 0 : (long) Min((when - now + 999) / 1000, (int64) WAIT_MS);
}

/*
 * Waits for the latch, a socket libcurl watches or libcurl's timer, at
 * most until wake_at, and lets libcurl act on what is ready.  Returns
 * whether the latch was set.
 */
static bool
wait_and_transfer(TimestampTz wake_at)
{
	TimestampTz now = GetCurrentTimestamp();
	long		timeout = ms_until(wake_at, now);
	WaitEventSet *set;
	WaitEvent  *occurred;
	int			n;
	int			running;
	bool		latch_set = false;

	if (timer_set)
		timeout = Min(timeout, ms_until(timer_at, now));
	set = CreateWaitEventSet(CurrentMemoryContext, nsockets + 2);
	AddWaitEventToSet(set, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, NULL);
	AddWaitEventToSet(set, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET, NULL, NULL);
	for (int i = 0; i < nsockets; i++)
	{
		uint32		events = 0;

		if (sockets[i].what & CURL_POLL_IN)
			events |= WL_SOCKET_READABLE;
		if (sockets[i].what & CURL_POLL_OUT)
			events |= WL_SOCKET_WRITEABLE;
		if (events != 0)
			AddWaitEventToSet(set, events, sockets[i].fd, NULL, NULL);
	}
	occurred = palloc(sizeof(WaitEvent) * (nsockets + 2));
	n = WaitEventSetWait(set, timeout, occurred, nsockets + 2, PG_WAIT_EXTENSION);
	FreeWaitEventSet(set);

	for (int i = 0; i < n; i++)
	{
		int			mask = 0;

		if (occurred[i].events & WL_LATCH_SET)
		{
			ResetLatch(MyLatch);
			latch_set = true;
			continue;
		}
		if (occurred[i].events & WL_SOCKET_READABLE)
			mask |= CURL_CSELECT_IN;
		if (occurred[i].events & WL_SOCKET_WRITEABLE)
			mask |= CURL_CSELECT_OUT;
		multi_checked(curl_multi_socket_action(multi, occurred[i].fd, mask, &running),
					  "act on a socket");
	}
	if (timer_set && GetCurrentTimestamp() >= timer_at)
	{
		timer_set = false;
		multi_checked(curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running),
					  "act on its timer");
	}
	collect_finished();
	return latch_set;
}

void
learnloop_webhook_worker_main(Datum main_arg)
{
	char		database[NAMEDATALEN];
	MemoryContext loop_cxt;
	bool		claim = true;
	TimestampTz next_due = 0;
	TimestampTz recheck_at = 0;

	strlcpy(database, MyBgworkerEntry->bgw_extra, sizeof(database));
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	BackgroundWorkerInitializeConnection(database, webhook_role[0] != '\0' ? webhook_role : NULL, 0);
	pgstat_report_appname("learnloop webhook delivery");
	/* fixed statements, and nothing of another schema may slip into them */
	SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_SUSET, PGC_S_OVERRIDE);
	webhook_wake_attach(DatumGetInt32(main_arg));

	if (curl_global_init(CURL_GLOBAL_ALL) != CURLE_OK)
		ereport(ERROR,
				(errcode(ERRCODE_SYSTEM_ERROR),
				 errmsg("libcurl could not be initialized for webhook delivery")));
	multi = curl_multi_init();
	if (multi == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("libcurl could not create a multi handle")));
	multi_checked(curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, socket_changed), "set its socket callback");
	multi_checked(curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, timer_changed), "set its timer callback");

	ereport(LOG,
			(errmsg("learnloop webhook delivery started for database \"%s\"", database)));
	loop_cxt = AllocSetContextCreate(TopMemoryContext, "learnloop webhook delivery loop",
									 ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		TimestampTz now;
		TimestampTz wake_at;
		bool		room;

		MemoryContextSwitchTo(loop_cxt);
		MemoryContextReset(loop_cxt);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			claim = true;
		}

		/* a finished attempt frees room, and a retry changes what is due */
		now = GetCurrentTimestamp();
		if (n_finished > 0 || (next_due != 0 && now >= next_due) || now >= recheck_at)
			claim = true;
		room = n_in_flight < Min(webhook_max_in_flight, MAX_IN_FLIGHT);
		/* finished attempts free room: there is room whenever some are */
		if (claim && room)
		{
			next_due = bookkeeping();
			claim = false;
			recheck_at = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), RECHECK_MS);
			MemoryContextSwitchTo(loop_cxt);
		}

		/* wake for the next due event only when there is room to send it */
		wake_at = recheck_at;
		if (next_due != 0 && n_in_flight < Min(webhook_max_in_flight, MAX_IN_FLIGHT))
			wake_at = Min(wake_at, next_due);
		if (wait_and_transfer(wake_at))
			claim = true;
	}
}
