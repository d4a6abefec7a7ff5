/*-------------------------------------------------------------------------
 *
 * delivery.h
 *	  The webhook delivery worker: its settings, its registration at server
 *	  start, and the wake-up a committed outbox row gives it.
 *
 * One background worker per database named in learnloop.webhook_databases,
 * each registered by _PG_init when learnloop is in shared_preload_libraries
 * (static workers, as pg_cron's launcher is: no launcher process between
 * them, and a worker that dies is restarted by the postmaster alone).  Each
 * sends its database's ml.webhook_outbox through libcurl's multi interface
 * (delivery_worker.c), one HTTP attempt being a transfer (transfer.h) and
 * the bookkeeping SQL being outbox.h's.
 *
 * Waking: an AFTER INSERT trigger on ml.webhook_outbox asks for a wake-up
 * at commit (wake.c); the commit sets the latch of the worker serving the
 * database, found in a small shared-memory table of one slot per database.
 * A rolled back insert wakes nobody.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_DELIVERY_H
#define LEARNLOOP_DELIVERY_H

#include "postgres.h"

/* learnloop.webhook_* settings (delivery_setup.c defines them) */
extern char *webhook_databases;
extern char *webhook_role;
extern bool webhook_allow_private;
extern int	webhook_max_attempts;
extern int	webhook_connect_timeout_ms;
extern int	webhook_timeout_ms;
extern int	webhook_retry_delay_ms;
extern int	webhook_retry_max_delay_ms;
extern int	webhook_max_in_flight;
extern int	webhook_max_response_bytes;

/* _PG_init: the settings, always; the workers, only when preloading */
extern void webhook_define_settings(void);
extern void webhook_register_workers(void);

/* databases served (distinct names in learnloop.webhook_databases) */
extern int	webhook_database_count(void);

/* shared memory: one wake-up slot per database served */
extern void webhook_wake_request_shmem(void);
extern void webhook_wake_init_shmem(void);

/*
 * The worker's side of the wake-up: publishes its latch in slot index
 * (its position in learnloop.webhook_databases), withdrawn at exit.
 */
extern void webhook_wake_attach(int index);

extern PGDLLEXPORT void learnloop_webhook_worker_main(Datum main_arg);

#endif							/* LEARNLOOP_DELIVERY_H */
