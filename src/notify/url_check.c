/*-------------------------------------------------------------------------
 *
 * url_check.c
 *	  Checks a webhook URL with libcurl's URL parser (see url_check.h).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <curl/curl.h>

#include "notify/url_check.h"

/* Whether the URL has that part, even an empty one ("http://@host/"). */
static bool
has_part(CURLU *u, CURLUPart part, WebhookUrlStatus *status)
{
	char	   *value = NULL;
	CURLUcode	rc = curl_url_get(u, part, &value, 0);

	curl_free(value);
	if (rc == CURLUE_OUT_OF_MEMORY)
		*status = WEBHOOK_URL_OUT_OF_MEMORY;
	return rc == CURLUE_OK;
}

/* The checks of a URL libcurl has parsed, in the order they are reported. */
static WebhookUrlStatus
check_parts(CURLU *u)
{
	WebhookUrlStatus status = WEBHOOK_URL_OK;
	char	   *scheme = NULL;
	char	   *host = NULL;
	bool		web;
	CURLUcode	rc;

	rc = curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
	if (rc == CURLUE_OUT_OF_MEMORY)
		return WEBHOOK_URL_OUT_OF_MEMORY;
	web = rc == CURLUE_OK && (pg_strcasecmp(scheme, "http") == 0 ||
							  pg_strcasecmp(scheme, "https") == 0);
	curl_free(scheme);
	if (!web)
		return WEBHOOK_URL_BAD_SCHEME;

	/*
	 * For http and https, libcurl reads "user;options@" as a user name
	 * (login options are for IMAP, POP3 and SMTP), so these two cover
	 * every form of userinfo.
	 */
	if (has_part(u, CURLUPART_USER, &status) ||
		has_part(u, CURLUPART_PASSWORD, &status))
		return WEBHOOK_URL_USERINFO;
	if (status != WEBHOOK_URL_OK)
		return status;

	rc = curl_url_get(u, CURLUPART_HOST, &host, 0);
	if (rc == CURLUE_OUT_OF_MEMORY)
		return WEBHOOK_URL_OUT_OF_MEMORY;
	if (rc != CURLUE_OK || host[0] == '\0')
		status = WEBHOOK_URL_NO_HOST;
	curl_free(host);
	return status;
}

WebhookUrlStatus
webhook_url_check(const char *url)
{
	CURLU	   *u;
	CURLUcode	rc;
	WebhookUrlStatus status;

	if (url == NULL)
		return WEBHOOK_URL_UNPARSABLE;
	u = curl_url();
	if (u == NULL)
		return WEBHOOK_URL_OUT_OF_MEMORY;

	/* flags 0: no scheme guessed or defaulted, unknown schemes refused */
	rc = curl_url_set(u, CURLUPART_URL, url, 0);
	switch (rc)
	{
		case CURLUE_OK:
			status = check_parts(u);
			break;
		case CURLUE_OUT_OF_MEMORY:
			status = WEBHOOK_URL_OUT_OF_MEMORY;
			break;
		case CURLUE_BAD_SCHEME:
		case CURLUE_UNSUPPORTED_SCHEME:
			status = WEBHOOK_URL_BAD_SCHEME;
			break;
		case CURLUE_NO_HOST:
			status = WEBHOOK_URL_NO_HOST;
			break;
		default:
			status = WEBHOOK_URL_UNPARSABLE;
			break;
	}
	curl_url_cleanup(u);
	return status;
}

const char *
webhook_url_status_text(WebhookUrlStatus status)
{
	switch (status)
	{
		case WEBHOOK_URL_OK:
			return "The URL may be used.";
		case WEBHOOK_URL_OUT_OF_MEMORY:
			return "libcurl ran out of memory while reading the URL.";
		case WEBHOOK_URL_UNPARSABLE:
			return "The URL is not well formed (spaces and control characters must be percent-encoded).";
		case WEBHOOK_URL_BAD_SCHEME:
			return "Only http:// and https:// URLs are allowed, and the scheme must be written out.";
		case WEBHOOK_URL_USERINFO:
			return "A user name or password in the URL is not allowed; authenticate with the channel's signing secret.";
		case WEBHOOK_URL_NO_HOST:
			return "The URL has no host.";
	}
	return "The URL is not well formed.";
}
