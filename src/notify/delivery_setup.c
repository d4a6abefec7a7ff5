/*-------------------------------------------------------------------------
 *
 * delivery_setup.c
 *	  The webhook delivery settings, and one worker registered per database
 *	  named in learnloop.webhook_databases.
 *
 * Runs in _PG_init, possibly in the postmaster: defines settings and
 * registers workers, and calls no libcurl (the worker initializes libcurl
 * itself).  Every delivery setting but the database list and the role is
 * PGC_SIGHUP: only postgresql.conf or ALTER SYSTEM (a superuser) sets
 * them, so no application role can, say, allow private addresses for its
 * own channels; the worker reads the new values on reload.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/varlena.h"

#include "notify/delivery.h"

char	   *webhook_databases = NULL;
char	   *webhook_role = NULL;
bool		webhook_allow_private = false;
int			webhook_max_attempts = 10;
int			webhook_connect_timeout_ms = 5000;
int			webhook_timeout_ms = 10000;
int			webhook_retry_delay_ms = 1000;
int			webhook_retry_max_delay_ms = 3600 * 1000;
int			webhook_max_in_flight = 16;
int			webhook_max_response_bytes = 64 * 1024;

/*
 * The databases served, as SplitIdentifierString reads the setting (comma
 * separated, unquoted names folded to lower case, "Quoted" kept), without
 * repeats: two workers on one database would send each event twice.
 * Returns false on a syntax error.
 */
static bool
database_list(const char *value, List **names)
{
	char	   *copy = pstrdup(value);
	List	   *all;
	ListCell   *lc;

	*names = NIL;
	if (!SplitIdentifierString(copy, ',', &all))
		return false;
	foreach(lc, all)
	{
		char	   *name = lfirst(lc);

		if (strlen(name) >= NAMEDATALEN)
			return false;
		if (!list_member(*names, makeString(name)))
			*names = lappend(*names, makeString(name));
	}
	return true;
}

static bool
check_databases(char **newval, void **extra, GucSource source)
{
	List	   *names;

	if (!database_list(*newval, &names))
	{
		GUC_check_errdetail("A comma-separated list of database names, each shorter than %d bytes.",
							NAMEDATALEN);
		return false;
	}
	return true;
}

void
webhook_define_settings(void)
{
	DefineCustomStringVariable("learnloop.webhook_databases",
							   "Databases whose ml.webhook_outbox a delivery worker sends, one worker each.",
							   "A comma-separated list, read at server start; empty starts no worker.  "
							   "Needs learnloop in shared_preload_libraries.",
							   &webhook_databases,
							   "postgres",
							   PGC_POSTMASTER,
							   0,
							   check_databases, NULL, NULL);

	DefineCustomStringVariable("learnloop.webhook_role",
							   "Role the delivery workers connect as; empty starts no worker.",
							   "A LOGIN role without superuser, given ml.grant_access's 'deliver' access.",
							   &webhook_role,
							   "",
							   PGC_POSTMASTER,
							   0,
							   NULL, NULL, NULL);

	DefineCustomBoolVariable("learnloop.webhook_allow_private",
							 "Lets webhooks reach loopback, private, unique-local and shared addresses.",
							 "Off by default (SSRF): a channel could otherwise reach services on the server's "
							 "own network.  Link-local addresses (the cloud metadata service) stay refused.",
							 &webhook_allow_private,
							 false,
							 PGC_SIGHUP,
							 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("learnloop.webhook_max_attempts",
							"Attempts at delivering a webhook event before it is dead.",
							NULL,
							&webhook_max_attempts,
							10,
							1,
							1000,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("learnloop.webhook_connect_timeout",
							"Time a webhook delivery may take to connect.",
							NULL,
							&webhook_connect_timeout_ms,
							5000,
							1,
							INT_MAX,
							PGC_SIGHUP,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("learnloop.webhook_timeout",
							"Time a webhook delivery may take in all, connection included.",
							"A receiver that answers later is a timeout, retried.",
							&webhook_timeout_ms,
							10000,
							1,
							INT_MAX,
							PGC_SIGHUP,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("learnloop.webhook_retry_delay",
							"Delay before the first retry of a webhook delivery; it doubles at each further attempt.",
							"Each delay is drawn between half and all of its value (jitter).",
							&webhook_retry_delay_ms,
							1000,
							1,
							INT_MAX,
							PGC_SIGHUP,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("learnloop.webhook_retry_max_delay",
							"Longest delay between two attempts at a webhook delivery.",
							"Also caps a receiver's Retry-After.",
							&webhook_retry_max_delay_ms,
							3600 * 1000,
							1,
							INT_MAX,
							PGC_SIGHUP,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("learnloop.webhook_max_in_flight",
							"Webhook deliveries each worker has in flight at once.",
							NULL,
							&webhook_max_in_flight,
							16,
							1,
							256,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("learnloop.webhook_max_response_bytes",
							"Bytes of a receiver's answer read before the transfer is cut off.",
							"The answer is only looked at for its status and an error text.",
							&webhook_max_response_bytes,
							64 * 1024,
							0,
							64 * 1024 * 1024,
							PGC_SIGHUP,
							GUC_UNIT_BYTE,
							NULL, NULL, NULL);
}

/*
 * One static worker per database, started once recovery has finished (a
 * standby delivers nothing: its outbox is the primary's), restarted by the
 * postmaster 10 s after a failure.  The database name travels in
 * bgw_extra, the worker's wake-up slot in bgw_main_arg.
 */
void
webhook_register_workers(void)
{
	List	   *names;
	ListCell   *lc;

	if (!database_list(webhook_databases, &names))
		return;					/* the check hook has refused it already */

	/*
	 * A worker never runs as a superuser: without a role of its own there is
	 * none to run as, so nothing is delivered (events wait in the outbox).
	 */
	if (names != NIL && webhook_role[0] == '\0')
	{
		ereport(LOG,
				(errmsg("learnloop webhook delivery is off: learnloop.webhook_role is empty"),
				 errhint("Create a LOGIN role without superuser, grant it ml.grant_access(role, 'deliver') "
						 "and set learnloop.webhook_role to it; events wait in ml.webhook_outbox meanwhile.")));
		return;
	}
	foreach(lc, names)
	{
		BackgroundWorker worker = {0};
		const char *name = strVal(lfirst(lc));

		worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
		worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
		worker.bgw_restart_time = 10;
		strlcpy(worker.bgw_library_name, "learnloop", BGW_MAXLEN);
		strlcpy(worker.bgw_function_name, "learnloop_webhook_worker_main", BGW_MAXLEN);
		snprintf(worker.bgw_name, BGW_MAXLEN, "learnloop webhook delivery for %s", name);
		strlcpy(worker.bgw_type, "learnloop webhook delivery", BGW_MAXLEN);
		worker.bgw_main_arg = Int32GetDatum(foreach_current_index(lc));
		strlcpy(worker.bgw_extra, name, BGW_EXTRALEN);
		RegisterBackgroundWorker(&worker);
	}
}

/* The number of wake-up slots: one per database served. */
int
webhook_database_count(void)
{
	List	   *names;

	if (!database_list(webhook_databases, &names))
		return 0;
	return list_length(names);
}
