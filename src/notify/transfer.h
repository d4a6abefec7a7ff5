/*-------------------------------------------------------------------------
 *
 * transfer.h
 *	  One HTTP attempt at delivering a webhook event, as a libcurl easy
 *	  handle for the delivery worker's multi handle, and what came of it.
 *
 * What the attempt does (the SSRF rules of docs/monitoring.md):
 *	- POST of the body as stored, Content-Type application/json, a
 *	  User-Agent naming learnloop, and the Standard Webhooks headers
 *	  webhook-id (the event id), webhook-timestamp and, when the channel has
 *	  a secret, webhook-signature;
 *	- http and https only (CURLOPT_PROTOCOLS_STR and REDIR_PROTOCOLS_STR,
 *	  behind url_check.h's own check of the stored URL);
 *	- no redirect followed: a 3xx is a failed attempt naming the Location;
 *	- every address libcurl is about to connect to checked first
 *	  (CURLOPT_OPENSOCKETFUNCTION: no connection is opened to a refused
 *	  address) and the connected address checked again before the request
 *	  is sent (CURLOPT_PREREQFUNCTION, which also covers a reused
 *	  connection), both with address_check.h;
 *	- no proxy, not even one from the environment; connect and total
 *	  timeouts; at most learnloop.webhook_max_response_bytes of the answer
 *	  read; CURLOPT_NOSIGNAL, so libcurl installs no signal handler.
 * An address refused while libcurl still had others to try decides the
 * outcome only when no request went out: a host with a refused and an
 * allowed address is delivered through the allowed one.
 * The callbacks run inside libcurl, in the worker's own thread: they
 * neither palloc nor ereport.  Debian's libcurl resolves names in a thread
 * of its own (getaddrinfo only, nothing of PostgreSQL's): CURLOPT_QUICK_EXIT
 * lets libcurl abandon a resolve that outlives the attempt's timeout instead
 * of waiting for it, and the worker blocks every signal while libcurl may
 * create that thread (delivery_worker.c), so no PostgreSQL signal handler
 * runs in it.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_TRANSFER_H
#define LEARNLOOP_TRANSFER_H

#include <curl/curl.h>

#include "datatype/timestamp.h"

#include "notify/signature.h"

/* how many bytes of an error answer are kept for the delivery log */
#define WEBHOOK_ANSWER_KEPT 200

typedef enum WebhookAttemptResult
{
	WEBHOOK_ATTEMPT_DELIVERED,	/* a 2xx answer */
	WEBHOOK_ATTEMPT_RETRY,		/* 5xx, 429, timeout, connection error */
	WEBHOOK_ATTEMPT_FAILED		/* anything else: not worth a retry */
} WebhookAttemptResult;

typedef struct WebhookTransfer
{
	MemoryContext cxt;			/* holds this struct and everything it points to */

	/* the event, as claimed from ml.webhook_outbox */
	int64		outbox_id;
	char		event_id[WEBHOOK_ID_MAX_LEN + 1];
	char	   *channel;
	char	   *body;
	int			attempt;		/* 1 for the first */

	/* the attempt */
	CURL	   *easy;			/* NULL once finished, or if never started */
	struct curl_slist *headers;
	TimestampTz started_at;
	bool		allow_private;	/* the setting when the attempt started */
	size_t		max_answer;
	size_t		answer_bytes;
	char		answer[WEBHOOK_ANSWER_KEPT + 1];
	char		refusal[256];	/* why an address libcurl was about to connect
								 * to was refused; "" if none was */
	char		sent_refusal[256];	/* why the connected address was refused
									 * before the request; "" if it was not */
	bool		request_sent;	/* the connected address passed: the request
								 * went out */
	char		errbuf[CURL_ERROR_SIZE];

	/* the outcome */
	WebhookAttemptResult result;
	int			http_status;	/* 0: no answer */
	double		duration_ms;	/* < 0: no transfer was made */
	int64		retry_after_ms; /* a 429's Retry-After; 0 if none */
	char	   *error;			/* NULL when delivered */
} WebhookTransfer;

/*
 * A transfer for one outbox row, in a memory context of its own under
 * parent.  Copies its arguments.  Deleting that context (or a parent's)
 * frees the easy handle and headers too, so an error between the claim and
 * the start of a transfer leaks nothing: see delivery_worker.c.
 */
extern WebhookTransfer *webhook_transfer_create(MemoryContext parent, int64 outbox_id,
												const char *event_id,
												const char *channel, const char *body,
												int attempt);

/*
 * Checks url and secret again (table contents are untrusted), signs the
 * body and sets up the easy handle.  Returns false, with the outcome set to
 * FAILED, when the URL or secret are refused: nothing is sent.  Must run
 * with a resource owner (signing: see signature.h).
 */
extern bool webhook_transfer_prepare(WebhookTransfer *t, const char *url, const char *secret);

/* Sets the outcome of a transfer libcurl has completed with rc. */
extern void webhook_transfer_finish(WebhookTransfer *t, CURLcode rc);

/* Frees the easy handle (if any) and the transfer's memory. */
extern void webhook_transfer_free(WebhookTransfer *t);

#endif							/* LEARNLOOP_TRANSFER_H */
