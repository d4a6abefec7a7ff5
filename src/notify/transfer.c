/*-------------------------------------------------------------------------
 *
 * transfer.c
 *	  One HTTP attempt at a webhook: the easy handle and its SSRF guards,
 *	  and the outcome read from what libcurl reports.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>

#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "learnloop.h"
#include "notify/address_check.h"
#include "notify/delivery.h"
#include "notify/signature.h"
#include "notify/transfer.h"
#include "notify/url_check.h"

#define USER_AGENT "learnloop/" LEARNLOOP_VERSION " (webhook delivery)"

/*
 * A reset callback of the transfer's memory context: libcurl's memory is
 * not PostgreSQL's, and goes with the context however the context goes.
 */
static void
release_curl(void *arg)
{
	WebhookTransfer *t = arg;

	if (t->easy != NULL)
		curl_easy_cleanup(t->easy);
	t->easy = NULL;
	if (t->headers != NULL)
		curl_slist_free_all(t->headers);
	t->headers = NULL;
}

WebhookTransfer *
webhook_transfer_create(MemoryContext parent, int64 outbox_id, const char *event_id,
						const char *channel, const char *body, int attempt)
{
	MemoryContext cxt = AllocSetContextCreate(parent, "learnloop webhook transfer",
											  ALLOCSET_SMALL_SIZES);
	WebhookTransfer *t = MemoryContextAllocZero(cxt, sizeof(WebhookTransfer));
	MemoryContextCallback *release = MemoryContextAllocZero(cxt, sizeof(MemoryContextCallback));

	t->cxt = cxt;
	release->func = release_curl;
	release->arg = t;
	MemoryContextRegisterResetCallback(cxt, release);
	t->outbox_id = outbox_id;
	strlcpy(t->event_id, event_id, sizeof(t->event_id));
	t->channel = MemoryContextStrdup(cxt, channel);
	t->body = MemoryContextStrdup(cxt, body);
	t->attempt = attempt;
	t->duration_ms = -1;
	return t;
}

/*
 * Text from outside (an answer, a Location header) made fit for the log:
 * printable ASCII only, which every server encoding accepts, so a receiver
 * cannot make the worker fail on an invalid byte sequence; white space
 * becomes a blank, trailing blanks go.
 */
static char *
printable(MemoryContext cxt, const char *text, size_t len)
{
	char	   *out = MemoryContextAlloc(cxt, len + 1);

	for (size_t i = 0; i < len; i++)
		out[i] = (text[i] >= 0x20 && text[i] < 0x7f) ? text[i] : (isspace((unsigned char) text[i]) ? ' ' : '?');
	while (len > 0 && out[len - 1] == ' ')
		len--;
	out[len] = '\0';
	return out;
}

/*
 * Notes in why (a refusal buffer of t) why addr (a refused address, as
 * text) was refused.  libcurl tries the host's other addresses after a
 * refusal at connect time: the last refusal is kept.
 */
static void
note_refusal(char *why, size_t size, const char *addr, WebhookAddressClass cls)
{
	snprintf(why, size, "%s is %s%s", addr,
			 webhook_address_class_text(cls),
			 webhook_address_allowed(cls, true)
			 ? " (learnloop.webhook_allow_private is off)"
			 : " (never allowed)");
}

/* CURLOPT_OPENSOCKETFUNCTION: no socket at all for a refused address */
static curl_socket_t
open_checked_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *address)
{
	WebhookTransfer *t = arg;
	WebhookAddressClass cls = webhook_address_classify_sockaddr(&address->addr,
																address->addrlen);

	if (!webhook_address_allowed(cls, t->allow_private))
	{
		char		text[INET6_ADDRSTRLEN] = "an address";

		if (address->family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *) &address->addr)->sin_addr,
					  text, sizeof(text));
		else if (address->family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *) &address->addr)->sin6_addr,
					  text, sizeof(text));
		note_refusal(t->refusal, sizeof(t->refusal), text, cls);
		return CURL_SOCKET_BAD;
	}
	return socket(address->family, address->socktype, address->protocol);
}

/*
 * CURLOPT_PREREQFUNCTION: the address actually connected, just before the
 * request goes out, whether the connection is new or reused.
 */
static int
check_connected_address(void *arg, char *primary_ip, char *local_ip,
						int primary_port, int local_port)
{
	WebhookTransfer *t = arg;
	WebhookAddressClass cls = webhook_address_classify_text(primary_ip);

	if (!webhook_address_allowed(cls, t->allow_private))
	{
		note_refusal(t->sent_refusal, sizeof(t->sent_refusal), primary_ip, cls);
		return CURL_PREREQFUNC_ABORT;
	}
	t->request_sent = true;
	return CURL_PREREQFUNC_OK;
}

/*
 * CURLOPT_WRITEFUNCTION: keeps the start of the answer for the log and
 * cuts the transfer off past learnloop.webhook_max_response_bytes.
 */
static size_t
read_answer(char *data, size_t size, size_t nmemb, void *arg)
{
	WebhookTransfer *t = arg;
	size_t		n = size * nmemb;
	size_t		room = WEBHOOK_ANSWER_KEPT - Min(t->answer_bytes, WEBHOOK_ANSWER_KEPT);

	memcpy(t->answer + (WEBHOOK_ANSWER_KEPT - room), data, Min(n, room));
	t->answer_bytes += n;
	if (t->answer_bytes > t->max_answer)
		return CURL_WRITEFUNC_ERROR;
	return n;
}

static void
set_failed(WebhookTransfer *t, const char *error)
{
	t->result = WEBHOOK_ATTEMPT_FAILED;
	t->error = MemoryContextStrdup(t->cxt, error);
}

/* A libcurl option that cannot be set is a broken build: stop loudly. */
static void
setopt_checked(CURLcode rc, const char *option)
{
	if (rc != CURLE_OK)
		ereport(ERROR,
				(errcode(ERRCODE_SYSTEM_ERROR),
				 errmsg("libcurl refused the webhook option %s: %s", option, curl_easy_strerror(rc)),
				 errhint("learnloop needs libcurl 7.85 or later.")));
}

#define SETOPT(easy, option, value) setopt_checked(curl_easy_setopt(easy, option, value), #option)

static void
add_header(WebhookTransfer *t, const char *header)
{
	struct curl_slist *list = curl_slist_append(t->headers, header);

	if (list == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	t->headers = list;
}

bool
webhook_transfer_prepare(WebhookTransfer *t, const char *url, const char *secret)
{
	WebhookUrlStatus url_status = webhook_url_check(url);
	int64		timestamp = (int64) time(NULL);
	char		header[128];
	CURL	   *easy;

	t->started_at = GetCurrentTimestamp();
	if (url_status != WEBHOOK_URL_OK)
	{
		set_failed(t, psprintf("refused: the channel's URL: %s", webhook_url_status_text(url_status)));
		return false;
	}
	snprintf(header, sizeof(header), "webhook-id: %s", t->event_id);
	add_header(t, header);
	snprintf(header, sizeof(header), "webhook-timestamp: " INT64_FORMAT, timestamp);
	add_header(t, header);
	if (secret != NULL)
	{
		uint8		key[WEBHOOK_SECRET_MAX_BYTES];
		int			keylen;
		char		signature[WEBHOOK_SIGNATURE_SIZE];
		WebhookSecretStatus secret_status = webhook_secret_decode(secret, key, &keylen);
		const char *sign_error;

		if (secret_status != WEBHOOK_SECRET_OK)
		{
			set_failed(t, psprintf("refused: the channel's secret: %s",
								   webhook_secret_status_text(secret_status)));
			return false;
		}
		sign_error = webhook_sign(key, keylen, t->event_id, timestamp, t->body,
								  strlen(t->body), signature);
		explicit_bzero(key, sizeof(key));
		if (sign_error != NULL)
		{
			set_failed(t, psprintf("not signed: %s", sign_error));
			return false;
		}
		snprintf(header, sizeof(header), "webhook-signature: %s", signature);
		add_header(t, header);
	}
	add_header(t, "Content-Type: application/json");
	/* no "Expect: 100-continue" wait for bodies over 1 kB */
	add_header(t, "Expect:");

	t->allow_private = webhook_allow_private;
	t->max_answer = webhook_max_response_bytes;

	easy = curl_easy_init();
	if (easy == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("libcurl could not create a transfer")));
	t->easy = easy;
	SETOPT(easy, CURLOPT_PRIVATE, t);
	SETOPT(easy, CURLOPT_URL, url);
	SETOPT(easy, CURLOPT_PROTOCOLS_STR, "http,https");
	SETOPT(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	SETOPT(easy, CURLOPT_FOLLOWLOCATION, 0L);
	SETOPT(easy, CURLOPT_PROXY, "");
	SETOPT(easy, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075700
	/* a resolve past the timeout is abandoned, not waited for (libcurl 7.87) */
	SETOPT(easy, CURLOPT_QUICK_EXIT, 1L);
#endif
	SETOPT(easy, CURLOPT_CONNECTTIMEOUT_MS, (long) webhook_connect_timeout_ms);
	SETOPT(easy, CURLOPT_TIMEOUT_MS, (long) webhook_timeout_ms);
	SETOPT(easy, CURLOPT_OPENSOCKETFUNCTION, open_checked_socket);
	SETOPT(easy, CURLOPT_OPENSOCKETDATA, t);
	SETOPT(easy, CURLOPT_PREREQFUNCTION, check_connected_address);
	SETOPT(easy, CURLOPT_PREREQDATA, t);
	SETOPT(easy, CURLOPT_WRITEFUNCTION, read_answer);
	SETOPT(easy, CURLOPT_WRITEDATA, t);
	SETOPT(easy, CURLOPT_ERRORBUFFER, t->errbuf);
	SETOPT(easy, CURLOPT_USERAGENT, USER_AGENT);
	SETOPT(easy, CURLOPT_HTTPHEADER, t->headers);
	SETOPT(easy, CURLOPT_POST, 1L);
	SETOPT(easy, CURLOPT_POSTFIELDS, t->body);
	SETOPT(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) strlen(t->body));
	return true;
}

/* The outcome of an attempt that got an HTTP answer. */
static void
read_status(WebhookTransfer *t, long status)
{
	char	   *answer = printable(t->cxt, t->answer, Min(t->answer_bytes, WEBHOOK_ANSWER_KEPT));

	t->http_status = (int) status;
	if (status >= 200 && status <= 299)
	{
		t->result = WEBHOOK_ATTEMPT_DELIVERED;
		return;
	}
	if (status >= 300 && status <= 399)
	{
		char	   *location = NULL;

		curl_easy_getinfo(t->easy, CURLINFO_REDIRECT_URL, &location);
		t->result = WEBHOOK_ATTEMPT_FAILED;
		t->error = psprintf("HTTP %ld: redirect to %s not followed", status,
							location ? printable(t->cxt, location, Min(strlen(location), 512))
							: "(no Location)");
		return;
	}
	t->error = psprintf("HTTP %ld: %s", status, answer);
	if (status == 429 || (status >= 500 && status <= 599))
	{
		curl_off_t	retry_after = 0;

		t->result = WEBHOOK_ATTEMPT_RETRY;
		if (status == 429 &&
			curl_easy_getinfo(t->easy, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK &&
			retry_after > 0)
			t->retry_after_ms = (int64) Min(retry_after, (curl_off_t) INT_MAX) * 1000;
	}
	else
		t->result = WEBHOOK_ATTEMPT_FAILED;
}

void
webhook_transfer_finish(WebhookTransfer *t, CURLcode rc)
{
	MemoryContext old = MemoryContextSwitchTo(t->cxt);
	long		status = 0;
	curl_off_t	total_us = 0;

	curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
	if (curl_easy_getinfo(t->easy, CURLINFO_TOTAL_TIME_T, &total_us) == CURLE_OK)
		t->duration_ms = total_us / 1000.0;

	/*
	 * A refusal decides only when no request went out: the connected address
	 * refused just before sending, or every address libcurl tried refused
	 * (or the others unreachable).  Once the request went out to an allowed
	 * address, a refusal of another one is a note on a failure at most.
	 */
	if (t->sent_refusal[0] != '\0')
		set_failed(t, psprintf("refused: %s", t->sent_refusal));
	else if (t->refusal[0] != '\0' && !t->request_sent)
		set_failed(t, psprintf("refused: %s", t->refusal));
	else if (rc == CURLE_OK)
		read_status(t, status);
	else if (rc == CURLE_WRITE_ERROR && t->answer_bytes > t->max_answer && status > 0)
	{
		/* the status line was read before the answer was cut off */
		read_status(t, status);
		if (t->error != NULL)
			t->error = psprintf("%s (answer cut off after %zu bytes)", t->error, t->max_answer);
	}
	else
	{
		const char *detail = t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc);

		/* a URL or protocol libcurl cannot use will not improve */
		t->result = (rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_URL_MALFORMAT)
			? WEBHOOK_ATTEMPT_FAILED : WEBHOOK_ATTEMPT_RETRY;
		t->error = psprintf("%s: %s", curl_easy_strerror(rc),
							printable(t->cxt, detail, strlen(detail)));
	}
	if (t->error != NULL && t->refusal[0] != '\0' && t->request_sent)
		t->error = psprintf("%s (another address refused: %s)", t->error, t->refusal);

	release_curl(t);
	MemoryContextSwitchTo(old);
}

void
webhook_transfer_free(WebhookTransfer *t)
{
	MemoryContextDelete(t->cxt);
}
