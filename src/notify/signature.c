/*-------------------------------------------------------------------------
 *
 * signature.c
 *	  Standard Webhooks secrets and signatures (see signature.h).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <string.h>

#include "common/base64.h"
#include "common/hmac.h"
#include "common/sha2.h"
#include "notify/signature.h"

/* base64 of WEBHOOK_SECRET_MAX_BYTES bytes, padded */
#define SECRET_B64_MAX_LEN	(((WEBHOOK_SECRET_MAX_BYTES + 2) / 3) * 4)

WebhookSecretStatus
webhook_secret_decode(const char *secret, uint8 *key, int *keylen)
{
	const size_t prefix_len = strlen(WEBHOOK_SECRET_PREFIX);
	char		padded[SECRET_B64_MAX_LEN];
	char		decoded[WEBHOOK_SECRET_MAX_BYTES + 3];
	size_t		len;
	int			n;

	if (secret == NULL || strncmp(secret, WEBHOOK_SECRET_PREFIX, prefix_len) != 0)
		return WEBHOOK_SECRET_NO_PREFIX;
	secret += prefix_len;
	len = strlen(secret);
	if (len > SECRET_B64_MAX_LEN)
		return WEBHOOK_SECRET_TOO_LONG;

	/*
	 * pg_b64_decode wants whole groups of four: put back the padding that
	 * may have been left off (SECRET_B64_MAX_LEN is a multiple of four, so
	 * it still fits).  A lone sixth bit (len % 4 == 1) cannot be completed.
	 */
	if (len % 4 == 1)
		return WEBHOOK_SECRET_NOT_BASE64;
	memcpy(padded, secret, len);
	while (len % 4 != 0)
		padded[len++] = '=';

	n = pg_b64_decode(padded, (int) len, decoded, sizeof(decoded));
	if (n < 0)
		return WEBHOOK_SECRET_NOT_BASE64;
	if (n < WEBHOOK_SECRET_MIN_BYTES)
		return WEBHOOK_SECRET_TOO_SHORT;
	if (n > WEBHOOK_SECRET_MAX_BYTES)
		return WEBHOOK_SECRET_TOO_LONG;
	memcpy(key, decoded, n);
	*keylen = n;
	return WEBHOOK_SECRET_OK;
}

const char *
webhook_secret_status_text(WebhookSecretStatus status)
{
	switch (status)
	{
		case WEBHOOK_SECRET_OK:
			return "The secret may be used.";
		case WEBHOOK_SECRET_NO_PREFIX:
			return "A secret is written as Standard Webhooks does: \"whsec_\" followed by the base64 of 24 to 64 random bytes.";
		case WEBHOOK_SECRET_NOT_BASE64:
			return "What follows \"whsec_\" is not base64.";
		case WEBHOOK_SECRET_TOO_SHORT:
			return "The secret is shorter than 24 bytes.";
		case WEBHOOK_SECRET_TOO_LONG:
			return "The secret is longer than 64 bytes.";
	}
	return "The secret is not well formed.";
}

/* Whether msg_id may be sent as webhook-id and signed (see signature.h). */
static bool
valid_msg_id(const char *msg_id)
{
	size_t		len = strspn(msg_id,
							 "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-");

	return len >= 1 && len <= WEBHOOK_ID_MAX_LEN && msg_id[len] == '\0';
}

const char *
webhook_sign(const uint8 *key, int keylen, const char *msg_id, int64 timestamp,
			 const char *body, size_t bodylen, char *out)
{
	char		prefix[WEBHOOK_ID_MAX_LEN + 32];
	int			prefix_len;
	uint8		mac[PG_SHA256_DIGEST_LENGTH];
	pg_hmac_ctx *ctx;
	const char *error = NULL;
	int			n;

	if (msg_id == NULL || !valid_msg_id(msg_id))
		return "the webhook id must be 1 to 64 characters of A-Z, a-z, 0-9, _ and -";
	if (timestamp < 0)
		return "the webhook timestamp must not be negative";

	/* id "." timestamp "." : the signed bytes before the body */
	prefix_len = snprintf(prefix, sizeof(prefix), "%s." INT64_FORMAT ".",
						  msg_id, timestamp);

	ctx = pg_hmac_create(PG_SHA256);
	if (ctx == NULL)
		return "out of memory";
	if (pg_hmac_init(ctx, key, keylen) < 0 ||
		pg_hmac_update(ctx, (const uint8 *) prefix, prefix_len) < 0 ||
		pg_hmac_update(ctx, (const uint8 *) body, bodylen) < 0 ||
		pg_hmac_final(ctx, mac, sizeof(mac)) < 0)
		error = pg_hmac_error(ctx);
	pg_hmac_free(ctx);
	if (error != NULL)
		return error;

	memcpy(out, "v1,", 3);
	n = pg_b64_encode((const char *) mac, sizeof(mac), out + 3,
					  WEBHOOK_SIGNATURE_SIZE - 4);
	if (n < 0)
		return "could not encode the signature in base64";
	out[3 + n] = '\0';
	return NULL;
}
