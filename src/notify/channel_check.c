/*-------------------------------------------------------------------------
 *
 * channel_check.c
 *	  The checks ml.create_channel runs before storing a channel: its URL
 *	  (url_check.h, plus a courtesy look at a literal address) and its
 *	  signing secret (signature.h), which it can also generate.
 *
 * SQL functions ml.check_channel_url and ml.channel_secret, called by
 * ml.create_channel only (not executable by PUBLIC).  The delivery worker
 * checks both again when it reads a channel, and checks the address it
 * actually connects to: the literal-address check here only spares the
 * user a channel that could never be delivered to.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <curl/curl.h>

#include "common/base64.h"
#include "notify/address_check.h"
#include "notify/signature.h"
#include "notify/url_check.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(learnloop_check_channel_url);
PG_FUNCTION_INFO_V1(learnloop_channel_secret);

/* random bytes in a generated secret: 256 bits, as HMAC-SHA256's key size */
#define GENERATED_SECRET_BYTES 32

/*
 * The host of a URL url_check accepted, as an address literal without the
 * brackets of IPv6, or NULL when it is a name (or libcurl cannot say).
 * libcurl writes numeric IPv4 hosts in dotted-quad form ("127.1" becomes
 * "127.0.0.1"), so the classification reads what libcurl will connect to.
 */
static char *
literal_host(const char *url)
{
	CURLU	   *u = curl_url();
	char	   *host = NULL;
	char	   *result = NULL;

	if (u == NULL)
		return NULL;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
		curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK)
	{
		size_t		len = strlen(host);

		if (len >= 2 && host[0] == '[' && host[len - 1] == ']')
			result = pnstrdup(host + 1, len - 2);
		else
			result = pstrdup(host);
	}
	curl_free(host);
	curl_url_cleanup(u);
	return result;
}

/*
 * ml.check_channel_url(url): the URL if a channel may have it, else an
 * error (22023) saying why.  A literal address that is never delivered to
 * (link-local such as the metadata service, multicast, reserved, ...) is
 * refused now; a loopback or private one only draws a warning, since a
 * superuser may allow those at delivery (the demo's local receiver).
 */
Datum
learnloop_check_channel_url(PG_FUNCTION_ARGS)
{
	text	   *arg;
	char	   *url;
	char	   *host;
	WebhookUrlStatus status;
	WebhookAddressClass cls;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("url must not be NULL"),
				 errhint("Give the receiver's http:// or https:// URL.")));
	arg = PG_GETARG_TEXT_PP(0);
	url = text_to_cstring(arg);
	status = webhook_url_check(url);
	if (status == WEBHOOK_URL_OUT_OF_MEMORY)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory while checking a webhook URL")));
	if (status == WEBHOOK_URL_USERINFO)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("webhook URL refused"),
				 errdetail("%s", webhook_url_status_text(status)),
				 errhint("Remove the user name and password, and give the channel a secret => 'generate'.")));
	if (status != WEBHOOK_URL_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("webhook URL \"%s\" refused", url),
				 errdetail("%s", webhook_url_status_text(status)),
				 errhint("Give a URL such as https://hooks.example.com/learnloop.")));

	host = literal_host(url);
	cls = host ? webhook_address_classify_text(host) : WEBHOOK_ADDRESS_INVALID;
	if (cls != WEBHOOK_ADDRESS_INVALID && !webhook_address_allowed(cls, true))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("webhook URL \"%s\" refused", url),
				 errdetail("Its host is %s, which webhooks are never delivered to.",
						   webhook_address_class_text(cls)),
				 errhint("Give the receiver's public name or address.")));
	if (cls != WEBHOOK_ADDRESS_INVALID && !webhook_address_allowed(cls, false))
		ereport(WARNING,
				(errmsg("webhook URL \"%s\" names %s", url, webhook_address_class_text(cls)),
				 errdetail("The delivery worker refuses it unless a superuser allows private addresses."),
				 errhint("Use this only for a local receiver, as the demo does.")));
	PG_RETURN_TEXT_P(arg);
}

/* "whsec_" + base64 of GENERATED_SECRET_BYTES strong random bytes */
static text *
generate_secret(void)
{
	uint8		key[GENERATED_SECRET_BYTES];
	int			prefix_len = strlen(WEBHOOK_SECRET_PREFIX);
	int			b64_len = pg_b64_enc_len(GENERATED_SECRET_BYTES);
	char	   *out = palloc(prefix_len + b64_len + 1);
	int			n;

	if (!pg_strong_random(key, sizeof(key)))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate a random webhook secret")));
	memcpy(out, WEBHOOK_SECRET_PREFIX, prefix_len);
	n = pg_b64_encode((const char *) key, sizeof(key), out + prefix_len, b64_len);
	explicit_bzero(key, sizeof(key));
	if (n < 0)
		elog(ERROR, "could not encode a webhook secret");
	out[prefix_len + n] = '\0';
	return cstring_to_text(out);
}

/*
 * ml.channel_secret(secret): what to store for a channel's secret argument:
 * NULL for none, a new random secret for 'generate', else the secret itself
 * once it has the Standard Webhooks form.  A refused secret is never quoted
 * in the error.
 */
Datum
learnloop_channel_secret(PG_FUNCTION_ARGS)
{
	char	   *secret;
	uint8		key[WEBHOOK_SECRET_MAX_BYTES];
	int			keylen;
	WebhookSecretStatus status;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	secret = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (strcmp(secret, "generate") == 0)
		PG_RETURN_TEXT_P(generate_secret());
	status = webhook_secret_decode(secret, key, &keylen);
	explicit_bzero(key, sizeof(key));
	if (status != WEBHOOK_SECRET_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("webhook secret refused"),
				 errdetail("%s", webhook_secret_status_text(status)),
				 errhint("Pass secret => 'generate' for a new one, or the receiver's whsec_... secret.")));
	PG_RETURN_TEXT_P(PG_GETARG_TEXT_PP(0));
}
