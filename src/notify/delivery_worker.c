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
 *	  An error in it is caught: the finished attempts are kept and recorded
 *	  after a backoff, and nothing is claimed until they are (the requests
 *	  went out; exiting would lose their outcome and send them again).
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

#include <pthread.h>
#include <signal.h>

#include <curl/curl.h>

#include "access/xact.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
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
/* after a failed bookkeeping: the first delay, doubled up to the longest */
#define BOOKKEEPING_RETRY_MS 1000
#define BOOKKEEPING_MAX_RETRY_MS 30000

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

/*
 * Finished attempts not recorded yet.  In flight and finished together are
 * at most MAX_IN_FLIGHT when a claim starts; a bookkeeping that fails after
 * claiming keeps both, and no claim is made until the finished ones are
 * recorded: twice that bounds them.
 */
static WebhookTransfer *finished[2 * MAX_IN_FLIGHT];
static int	n_finished = 0;

/* parent of the transfers a bookkeeping claims until they are in flight */
static MemoryContext claim_cxt = NULL;

/* failed bookkeepings in a row, and when to try again */
static int	bookkeeping_failures = 0;
static TimestampTz bookkeeping_retry_at = 0;

/* sockets socket_changed could not watch, reported once libcurl returns */
static int	sockets_not_watched = 0;

static sigset_t mask_outside_curl;

/*
 * libcurl may start its resolver thread in any call that drives transfers,
 * and a thread starts with its creator's signal mask: every signal is
 * blocked around those calls, so that PostgreSQL's handlers (die, the
 * reload's, procsignal's) only ever run in the worker's own thread.  A
 * signal arriving meanwhile waits until curl_leave.
 */
static void
curl_enter(void)
{
	sigset_t	all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &mask_outside_curl);
}

/* Back from libcurl: the signals again, and what its callbacks noted. */
static void
curl_leave(void)
{
	pthread_sigmask(SIG_SETMASK, &mask_outside_curl, NULL);
	if (sockets_not_watched > 0)
	{
		elog(WARNING, "learnloop webhook delivery watches %d sockets already: %d more left to their timeouts",
			 MAX_SOCKETS, sockets_not_watched);
		sockets_not_watched = 0;
	}
}

/*
 * CURLMOPT_SOCKETFUNCTION: which sockets to watch, and for what.  Called
 * inside libcurl: no palloc, no ereport (curl_leave reports).
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
			sockets_not_watched++;
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

/* curl_multi_socket_action, signals blocked */
static void
socket_action(curl_socket_t fd, int mask, const char *what)
{
	int			running;
	CURLMcode	rc;

	curl_enter();
	rc = curl_multi_socket_action(multi, fd, mask, &running);
	curl_leave();
	multi_checked(rc, what);
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
		CURLMcode	removed;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **) &t);
		curl_enter();
		removed = curl_multi_remove_handle(multi, easy);
		curl_leave();
		multi_checked(removed, "remove a transfer");
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
 * One transaction: records the finished attempts and, when may_claim,
 * claims due events up to the room in flight and starts them, setting
 * *next_due to when the next event not claimed falls due (0: none is
 * pending).  An error leaves the finished attempts for the next one.
 */
static void
bookkeeping(bool may_claim, TimestampTz *next_due)
{
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
		/* a lowered webhook_max_in_flight may leave more in flight than allowed */
		int			room = Min(webhook_max_in_flight, MAX_IN_FLIGHT) - n_in_flight;

		for (int i = 0; i < n_finished; i++)
			webhook_outbox_record(finished[i]);
		if (may_claim && room > 0)
		{
			int64		ids[MAX_IN_FLIGHT];
			List	   *claimed;
			ListCell   *lc;

			for (int i = 0; i < n_in_flight; i++)
				ids[i] = in_flight[i]->outbox_id;
			claimed = webhook_outbox_claim(claim_cxt, room, ids, n_in_flight, next_due);
			foreach(lc, claimed)
			{
				WebhookTransfer *t = lfirst(lc);
				CURLMcode	rc;

				if (t->easy == NULL)
				{
					/* refused before sending: its record is the outcome */
					webhook_outbox_record(t);
					webhook_transfer_free(t);
					continue;
				}
				curl_enter();
				rc = curl_multi_add_handle(multi, t->easy);
				curl_leave();
				multi_checked(rc, "add a transfer");
				MemoryContextSetParent(t->cxt, TopMemoryContext);
				in_flight[n_in_flight++] = t;
			}
		}
	}

	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);

	for (int i = 0; i < recorded; i++)
		webhook_transfer_free(finished[i]);
	n_finished = 0;
}

/*
 * bookkeeping(), an error caught: it is logged, the transaction rolled
 * back, the transfers claimed but not started dropped (their events are
 * still pending), and the finished attempts kept to be recorded after a
 * backoff.  The requests were sent: exiting would lose their outcome, and
 * the next worker would send them again.  Returns whether it succeeded.
 */
static bool
guarded_bookkeeping(bool may_claim, TimestampTz *next_due)
{
	MemoryContext cxt = CurrentMemoryContext;
	int			delay_ms;

	PG_TRY();
	{
		bookkeeping(may_claim, next_due);
	}
	PG_CATCH();
	{
		HOLD_INTERRUPTS();
		EmitErrorReport();
		AbortCurrentTransaction();
		FlushErrorState();
		MemoryContextSwitchTo(cxt);
		MemoryContextReset(claim_cxt);
		pgstat_report_activity(STATE_IDLE, NULL);
		RESUME_INTERRUPTS();

		delay_ms = BOOKKEEPING_RETRY_MS << Min(bookkeeping_failures, 5);
		delay_ms = Min(delay_ms, BOOKKEEPING_MAX_RETRY_MS);
		bookkeeping_failures++;
		bookkeeping_retry_at = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), delay_ms);
		ereport(LOG,
				(errmsg("learnloop webhook delivery could not record its attempts or claim events; "
						"%d finished attempts kept, no event claimed until they are recorded, "
						"next try in %d ms", n_finished, delay_ms)));
		return false;
	}
	PG_END_TRY();
	bookkeeping_failures = 0;
	return true;
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
		socket_action(occurred[i].fd, mask, "act on a socket");
	}
	if (timer_set && GetCurrentTimestamp() >= timer_at)
	{
		timer_set = false;
		socket_action(CURL_SOCKET_TIMEOUT, 0, "act on its timer");
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
	bool		is_superuser;

	strlcpy(database, MyBgworkerEntry->bgw_extra, sizeof(database));
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	BackgroundWorkerInitializeConnection(database, webhook_role, 0);
	StartTransactionCommand();
	is_superuser = superuser();
	CommitTransactionCommand();
	if (is_superuser)
	{
		/* exit code 0: not restarted, until the setting changes at a restart */
		ereport(LOG,
				(errmsg("learnloop webhook delivery is off: learnloop.webhook_role \"%s\" is a superuser",
						webhook_role),
				 errhint("Set learnloop.webhook_role to a LOGIN role without superuser, given ml.grant_access(role, 'deliver').")));
		proc_exit(0);
	}
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
	claim_cxt = AllocSetContextCreate(TopMemoryContext, "learnloop webhook delivery claim",
									  ALLOCSET_SMALL_SIZES);
	for (;;)
	{
		TimestampTz now;
		TimestampTz wake_at;
		int			limit;

		MemoryContextSwitchTo(loop_cxt);
		MemoryContextReset(loop_cxt);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			claim = true;
		}

		/*
		 * A finished attempt is recorded at once, whether or not there is
		 * room to claim: after webhook_max_in_flight was lowered there may be
		 * none although attempts finish.  Claims follow a wake-up, a due
		 * retry, the periodic check or a finished attempt (room freed).
		 * After a failed bookkeeping, nothing happens before its backoff, and
		 * results kept from before are recorded before anything is claimed.
		 */
		now = GetCurrentTimestamp();
		limit = Min(webhook_max_in_flight, MAX_IN_FLIGHT);
		if ((next_due != 0 && now >= next_due) || now >= recheck_at)
			claim = true;
		if (bookkeeping_failures > 0
			? now >= bookkeeping_retry_at
			: n_finished > 0 || (claim && n_in_flight < limit))
		{
			bool		may_claim = bookkeeping_failures == 0 || n_finished == 0;
			bool		claims = may_claim && n_in_flight < limit;

			if (guarded_bookkeeping(claims, &next_due))
			{
				if (claims)
				{
					claim = false;
					recheck_at = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), RECHECK_MS);
				}
				else if (!may_claim)
					claim = true;	/* what was kept is recorded: claim at once */
			}
			MemoryContextSwitchTo(loop_cxt);
		}

		/* wake for the next due event only when there is room to send it */
		if (bookkeeping_failures > 0)
			wake_at = bookkeeping_retry_at;
		else
		{
			wake_at = recheck_at;
			if (next_due != 0 && n_in_flight < limit)
				wake_at = Min(wake_at, next_due);
		}
		if (wait_and_transfer(wake_at))
			claim = true;
	}
}
