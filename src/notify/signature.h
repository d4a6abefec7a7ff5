/*-------------------------------------------------------------------------
 *
 * signature.h
 *	  Standard Webhooks signatures (https://www.standardwebhooks.com):
 *	  the secret's form and the webhook-signature header.
 *
 * A delivery carries three headers:
 *	webhook-id: the event's id, the same at every attempt, so that a
 *		receiver can drop a duplicate (delivery is at-least-once);
 *	webhook-timestamp: the attempt's time, integer seconds since 1970;
 *	webhook-signature: "v1," followed by the base64 HMAC-SHA256, keyed by
 *		the channel's secret, of id "." timestamp "." body.
 *
 * Secrets: only the form the standard defines, "whsec_" followed by the
 * base64 of 24 to 64 random bytes (the standard's bounds), which is what
 * receivers' Standard Webhooks libraries are configured with.  The key is
 * the decoded bytes.  A raw secret is refused rather than used as bytes: a
 * receiver's library given the same string would base64-decode it, and the
 * signatures would never match.  Padding may be left off ("whsec_" + 43
 * characters for 32 bytes), as those libraries accept it.
 *
 * Uses PostgreSQL's own common/hmac.h and common/base64.h (libpgcommon in
 * the unit test, the server's own copy in the backend): no new dependency,
 * no palloc or ereport of ours.  In the backend, pg_hmac_create (OpenSSL
 * build) records its context in CurrentResourceOwner and throws on out of
 * memory, so the delivery worker signs with a resource owner set (inside
 * its transaction, or after CreateAuxProcessResourceOwner).
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_SIGNATURE_H
#define LEARNLOOP_SIGNATURE_H

#define WEBHOOK_SECRET_PREFIX		"whsec_"
#define WEBHOOK_SECRET_MIN_BYTES	24
#define WEBHOOK_SECRET_MAX_BYTES	64

/* "v1," + base64 of a 32-byte HMAC-SHA256 (44 characters) + NUL */
#define WEBHOOK_SIGNATURE_SIZE		48

/* The longest webhook-id webhook_sign accepts. */
#define WEBHOOK_ID_MAX_LEN			64

typedef enum WebhookSecretStatus
{
	WEBHOOK_SECRET_OK = 0,
	WEBHOOK_SECRET_NO_PREFIX,	/* does not start with "whsec_" */
	WEBHOOK_SECRET_NOT_BASE64,	/* what follows is not base64 */
	WEBHOOK_SECRET_TOO_SHORT,	/* fewer than 24 bytes */
	WEBHOOK_SECRET_TOO_LONG		/* more than 64 bytes */
} WebhookSecretStatus;

/*
 * Decodes secret into key (room for WEBHOOK_SECRET_MAX_BYTES) and sets
 * *keylen; on a refusal key and *keylen are undefined.  ml.create_channel
 * checks a secret with this before storing it; the worker decodes the
 * stored one again before signing (table contents are untrusted).
 */
extern WebhookSecretStatus webhook_secret_decode(const char *secret, uint8 *key,
												 int *keylen);

/* A sentence for errdetail: why a secret of that status is refused. */
extern const char *webhook_secret_status_text(WebhookSecretStatus status);

/*
 * Writes the webhook-signature header's value for a delivery into out
 * (WEBHOOK_SIGNATURE_SIZE bytes, NUL-terminated).  msg_id must be 1 to
 * WEBHOOK_ID_MAX_LEN characters of [A-Za-z0-9_-]: it is sent in a header
 * (no CR or LF may reach it) and must hold no '.', which would make the
 * signed content ambiguous.  timestamp must be >= 0.  body is bodylen bytes,
 * exactly those sent.  Returns NULL on success, else why it failed (a bad
 * argument or the HMAC's own error); out is then undefined.
 */
extern const char *webhook_sign(const uint8 *key, int keylen, const char *msg_id,
								 int64 timestamp, const char *body, size_t bodylen,
								 char *out);

#endif							/* LEARNLOOP_SIGNATURE_H */
