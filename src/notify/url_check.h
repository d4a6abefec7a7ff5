/*-------------------------------------------------------------------------
 *
 * url_check.h
 *	  Whether a webhook channel's URL may be used: http or https, a host,
 *	  no credentials in it.
 *
 * The URL is read by libcurl's own parser (curl_url), the one that will
 * send the request, so the check and the transfer cannot read the URL two
 * ways.  No scheme is guessed: "example.com" is refused, although
 * CURLOPT_URL alone would guess http:// for it (and ftp:// for
 * "ftp.example.com").  The delivery worker still sets CURLOPT_PROTOCOLS_STR
 * and CURLOPT_REDIR_PROTOCOLS_STR to "http,https" as a second guard.
 *
 * This is the check at ml.create_channel (and again when the worker reads
 * a channel, since table contents are untrusted).  It does not look at the
 * host's addresses: "http://[::1]:8080/" passes here and is refused at
 * connection time by address_check.h, since DNS may answer differently
 * between now and the delivery.
 *
 * Calls libcurl's URL API only, which needs no curl_global_init and opens
 * no connection; like every libcurl call, never from the postmaster or
 * _PG_init.  No palloc and no ereport, so it links into the unit test.
 * The caller reports a refusal with ERRCODE_INVALID_PARAMETER_VALUE and
 * webhook_url_status_text() as the detail, without quoting the URL when
 * the status is WEBHOOK_URL_USERINFO (it holds a password).
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_URL_CHECK_H
#define LEARNLOOP_URL_CHECK_H

typedef enum WebhookUrlStatus
{
	WEBHOOK_URL_OK = 0,
	WEBHOOK_URL_OUT_OF_MEMORY,	/* libcurl could not allocate */
	WEBHOOK_URL_UNPARSABLE,		/* libcurl's parser refuses it */
	WEBHOOK_URL_BAD_SCHEME,		/* no scheme, or one other than http(s) */
	WEBHOOK_URL_USERINFO,		/* a user name or password before '@' */
	WEBHOOK_URL_NO_HOST			/* an empty host */
} WebhookUrlStatus;

extern WebhookUrlStatus webhook_url_check(const char *url);

/* A sentence for errdetail: why a URL of that status is refused. */
extern const char *webhook_url_status_text(WebhookUrlStatus status);

#endif							/* LEARNLOOP_URL_CHECK_H */
