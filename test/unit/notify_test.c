/*-------------------------------------------------------------------------
 *
 * notify_test.c
 *	  Standalone TAP test of src/notify's pure cores: the URL check, the
 *	  address check (every refused range with the addresses on both sides
 *	  of its edges, and its IPv4 ranges again inside IPv6 forms), and the
 *	  Standard Webhooks signature against notify_fixtures.h (see
 *	  make_notify_fixtures.py) and the standard's own test vector.  Exits
 *	  non-zero when any check fails.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include "notify/address_check.h"
#include "notify/signature.h"
#include "notify/url_check.h"
#include "notify_fixtures.h"
#include "tap.h"


/* A test's name stays on its TAP line: control characters are shown as \xNN. */
static void
check(bool ok, const char *what, const char *name)
{
	const unsigned char *c;

	tap_line(ok);
	for (c = (const unsigned char *) name; *c; c++)
		if (*c < 0x20 || *c == 0x7F)
			printf("\\x%02x", *c);
		else
			putchar(*c);
	printf(" %s\n", what);
}

/* ------------------------------------------------------------ URL check */

typedef struct UrlCase
{
	const char *url;
	WebhookUrlStatus want;
} UrlCase;

static const UrlCase url_cases[] = {
	{"http://example.com/hook", WEBHOOK_URL_OK},
	{"https://example.com:8443/a/b?c=d", WEBHOOK_URL_OK},
	{"HTTP://EXAMPLE.COM", WEBHOOK_URL_OK},
	{"hTTpS://example.com/", WEBHOOK_URL_OK},
	/* parses; the address check refuses it when connecting */
	{"http://[::1]:8080/", WEBHOOK_URL_OK},
	{"http://127.0.0.1/", WEBHOOK_URL_OK},
	{"http://169.254.169.254/latest/meta-data/", WEBHOOK_URL_OK},
	{"http://[::ffff:127.0.0.1]/", WEBHOOK_URL_OK},
	{"file:///etc/passwd", WEBHOOK_URL_BAD_SCHEME},
	{"gopher://example.com/_x", WEBHOOK_URL_BAD_SCHEME},
	{"ftp://example.com/", WEBHOOK_URL_BAD_SCHEME},
	{"dict://example.com:11211/stat", WEBHOOK_URL_BAD_SCHEME},
	{"scp://example.com/x", WEBHOOK_URL_BAD_SCHEME},
	{"ldap://example.com/", WEBHOOK_URL_BAD_SCHEME},
	{"javascript:alert(1)", WEBHOOK_URL_BAD_SCHEME},
	{"nosuchscheme://example.com/", WEBHOOK_URL_BAD_SCHEME},
	/* CURLOPT_URL would guess http:// and ftp:// for these */
	{"example.com/hook", WEBHOOK_URL_BAD_SCHEME},
	{"ftp.example.com/hook", WEBHOOK_URL_BAD_SCHEME},
	{" http://example.com/", WEBHOOK_URL_BAD_SCHEME},
	{"http://user@example.com/", WEBHOOK_URL_USERINFO},
	{"http://user:secret@example.com/", WEBHOOK_URL_USERINFO},
	{"https://:secret@example.com/", WEBHOOK_URL_USERINFO},
	{"http://@example.com/", WEBHOOK_URL_USERINFO},
	{"http://user;auth=x@example.com/", WEBHOOK_URL_USERINFO},
	{"http://", WEBHOOK_URL_NO_HOST},
	{"http://:8080/", WEBHOOK_URL_NO_HOST},
	{"https://?x", WEBHOOK_URL_NO_HOST},
	{"http://exa mple.com/", WEBHOOK_URL_UNPARSABLE},
	{"http://example.com/a b", WEBHOOK_URL_UNPARSABLE},
	{"http://example.com/\r\nX-Injected: 1", WEBHOOK_URL_UNPARSABLE},
	{"http://example.com:99999/", WEBHOOK_URL_UNPARSABLE},
	{"http:example.com", WEBHOOK_URL_UNPARSABLE},
	{"", WEBHOOK_URL_BAD_SCHEME},
};

static void
test_urls(void)
{
	int			i;
	char		name[256];

	for (i = 0; i < lengthof(url_cases); i++)
	{
		WebhookUrlStatus got = webhook_url_check(url_cases[i].url);

		snprintf(name, sizeof(name), "url \"%s\"", url_cases[i].url);
		check(got == url_cases[i].want, "status", name);
		if (got != url_cases[i].want)
			printf("#   got %d (%s), want %d\n", got,
				   webhook_url_status_text(got), url_cases[i].want);
	}
	check(webhook_url_check(NULL) == WEBHOOK_URL_UNPARSABLE, "status", "url NULL");
	check(strstr(webhook_url_status_text(WEBHOOK_URL_BAD_SCHEME), "http://") != NULL &&
		  strstr(webhook_url_status_text(WEBHOOK_URL_USERINFO), "password") != NULL,
		  "reasons name the rule", "url status text");
}

/* -------------------------------------------------------- address check */

typedef struct AddressCase
{
	const char *ip;
	WebhookAddressClass want;
} AddressCase;

#define PUB		WEBHOOK_ADDRESS_PUBLIC

/*
 * IPv4: each refused range with its first and last address, and the
 * addresses just outside it (public unless another range starts there).
 */
static const AddressCase v4_cases[] = {
	{"0.0.0.0", WEBHOOK_ADDRESS_UNSPECIFIED},
	{"0.255.255.255", WEBHOOK_ADDRESS_UNSPECIFIED},
	{"1.0.0.0", PUB},
	{"9.255.255.255", PUB},
	{"10.0.0.0", WEBHOOK_ADDRESS_PRIVATE},
	{"10.255.255.255", WEBHOOK_ADDRESS_PRIVATE},
	{"11.0.0.0", PUB},
	{"100.63.255.255", PUB},
	{"100.64.0.0", WEBHOOK_ADDRESS_SHARED},
	{"100.127.255.255", WEBHOOK_ADDRESS_SHARED},
	{"100.128.0.0", PUB},
	{"126.255.255.255", PUB},
	{"127.0.0.0", WEBHOOK_ADDRESS_LOOPBACK},
	{"127.0.0.1", WEBHOOK_ADDRESS_LOOPBACK},
	{"127.255.255.255", WEBHOOK_ADDRESS_LOOPBACK},
	{"128.0.0.0", PUB},
	{"169.253.255.255", PUB},
	{"169.254.0.0", WEBHOOK_ADDRESS_LINK_LOCAL},
	{"169.254.169.254", WEBHOOK_ADDRESS_LINK_LOCAL},
	{"169.254.255.255", WEBHOOK_ADDRESS_LINK_LOCAL},
	{"169.255.0.0", PUB},
	{"172.15.255.255", PUB},
	{"172.16.0.0", WEBHOOK_ADDRESS_PRIVATE},
	{"172.31.255.255", WEBHOOK_ADDRESS_PRIVATE},
	{"172.32.0.0", PUB},
	{"191.255.255.255", PUB},
	{"192.0.0.0", WEBHOOK_ADDRESS_PROTOCOL},
	{"192.0.0.255", WEBHOOK_ADDRESS_PROTOCOL},
	{"192.0.1.0", PUB},
	{"192.0.1.255", PUB},
	{"192.0.2.0", WEBHOOK_ADDRESS_DOCUMENTATION},
	{"192.0.2.255", WEBHOOK_ADDRESS_DOCUMENTATION},
	{"192.0.3.0", PUB},
	{"192.167.255.255", PUB},
	{"192.168.0.0", WEBHOOK_ADDRESS_PRIVATE},
	{"192.168.255.255", WEBHOOK_ADDRESS_PRIVATE},
	{"192.169.0.0", PUB},
	{"198.17.255.255", PUB},
	{"198.18.0.0", WEBHOOK_ADDRESS_BENCHMARK},
	{"198.19.255.255", WEBHOOK_ADDRESS_BENCHMARK},
	{"198.20.0.0", PUB},
	{"198.51.99.255", PUB},
	{"198.51.100.0", WEBHOOK_ADDRESS_DOCUMENTATION},
	{"198.51.100.255", WEBHOOK_ADDRESS_DOCUMENTATION},
	{"198.51.101.0", PUB},
	{"203.0.112.255", PUB},
	{"203.0.113.0", WEBHOOK_ADDRESS_DOCUMENTATION},
	{"203.0.113.255", WEBHOOK_ADDRESS_DOCUMENTATION},
	{"203.0.114.0", PUB},
	{"223.255.255.255", PUB},
	{"224.0.0.0", WEBHOOK_ADDRESS_MULTICAST},
	{"239.255.255.255", WEBHOOK_ADDRESS_MULTICAST},
	{"240.0.0.0", WEBHOOK_ADDRESS_RESERVED},
	{"255.255.255.254", WEBHOOK_ADDRESS_RESERVED},
	{"255.255.255.255", WEBHOOK_ADDRESS_BROADCAST},
	{"8.8.8.8", PUB},
	{"93.184.215.14", PUB},
};

static const AddressCase v6_cases[] = {
	{"::", WEBHOOK_ADDRESS_UNSPECIFIED},
	{"::1", WEBHOOK_ADDRESS_LOOPBACK},
	{"::2", WEBHOOK_ADDRESS_IPV4_COMPATIBLE},
	{"::127.0.0.1", WEBHOOK_ADDRESS_IPV4_COMPATIBLE},
	{"::8.8.8.8", WEBHOOK_ADDRESS_IPV4_COMPATIBLE},
	{"::ffff:ffff", WEBHOOK_ADDRESS_IPV4_COMPATIBLE},
	{"::ffff:ffff:ffff", WEBHOOK_ADDRESS_BROADCAST},	/* v4-mapped */
	{"::1:0:0:0", PUB},
	{"::fffe:ffff:ffff", PUB},
	{"::1:ffff:0:0", PUB},
	{"fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", PUB},
	{"fc00::", WEBHOOK_ADDRESS_PRIVATE},
	{"fd12:3456:789a::1", WEBHOOK_ADDRESS_PRIVATE},
	{"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", WEBHOOK_ADDRESS_PRIVATE},
	{"fe00::", PUB},
	{"fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", PUB},
	{"fe80::", WEBHOOK_ADDRESS_LINK_LOCAL},
	{"fe80::1", WEBHOOK_ADDRESS_LINK_LOCAL},
	{"febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", WEBHOOK_ADDRESS_LINK_LOCAL},
	{"fec0::", WEBHOOK_ADDRESS_PRIVATE},
	{"feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", WEBHOOK_ADDRESS_PRIVATE},
	{"ff00::", WEBHOOK_ADDRESS_MULTICAST},
	{"ff02::1", WEBHOOK_ADDRESS_MULTICAST},
	{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", WEBHOOK_ADDRESS_MULTICAST},
	{"2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", PUB},
	{"2001:db8::", WEBHOOK_ADDRESS_DOCUMENTATION},
	{"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", WEBHOOK_ADDRESS_DOCUMENTATION},
	{"2001:db9::", PUB},
	{"64:ff9a:ffff:ffff:ffff:ffff:ffff:ffff", PUB},
	{"64:ff9b::1:7f00:1", PUB},	/* outside the /96: not NAT64 */
	{"64:ff9b:1::", WEBHOOK_ADDRESS_PRIVATE},
	{"64:ff9b:1:ffff:ffff:ffff:ffff:ffff", WEBHOOK_ADDRESS_PRIVATE},
	{"64:ff9b:2::", PUB},
	{"2001:4860:4860::8888", PUB},
	{"2a00:1450:4001::1", PUB},
	{"2003::1", PUB},
	{"2001:ffff::", PUB},
};

static const char *const invalid_texts[] = {
	"", "127.1", "2130706433", "0x7f.0.0.1", "127.0.0.1 ", " 127.0.0.1",
	"[::1]", "fe80::1%eth0", "localhost", "256.0.0.1", "1.2.3.4.5", "::g",
};

/* The class of text parsed into a sockaddr, as libcurl hands one over. */
static WebhookAddressClass
classify_as_sockaddr(const char *ip)
{
	struct sockaddr_in in;
	struct sockaddr_in6 in6;

	memset(&in, 0, sizeof(in));
	memset(&in6, 0, sizeof(in6));
	if (inet_pton(AF_INET, ip, &in.sin_addr) == 1)
	{
		in.sin_family = AF_INET;
		in.sin_port = htons(443);
		return webhook_address_classify_sockaddr((struct sockaddr *) &in, sizeof(in));
	}
	if (inet_pton(AF_INET6, ip, &in6.sin6_addr) == 1)
	{
		in6.sin6_family = AF_INET6;
		in6.sin6_port = htons(443);
		return webhook_address_classify_sockaddr((struct sockaddr *) &in6, sizeof(in6));
	}
	return WEBHOOK_ADDRESS_INVALID;
}

/* Checks one address both as text and as a sockaddr. */
static void
check_address(const char *ip, WebhookAddressClass want, const char *form)
{
	char		name[128];
	WebhookAddressClass got = webhook_address_classify_text(ip);
	WebhookAddressClass got_sa = classify_as_sockaddr(ip);

	snprintf(name, sizeof(name), "%s %s", form, ip);
	check(got == want && got_sa == want, "class (text and sockaddr)", name);
	if (got != want || got_sa != want)
		printf("#   text: %s; sockaddr: %s; want %s\n",
			   webhook_address_class_text(got),
			   webhook_address_class_text(got_sa),
			   webhook_address_class_text(want));
}

/*
 * The IPv4 cases again in the three IPv6 forms that carry an IPv4 address:
 * each must keep its class (::ffff:127.0.0.1 is loopback).
 */
static void
test_embedded_v4(void)
{
	int			i;
	char		ip[64];

	for (i = 0; i < lengthof(v4_cases); i++)
	{
		struct in_addr a;
		uint32		v;

		if (inet_pton(AF_INET, v4_cases[i].ip, &a) != 1)
		{
			check(false, "parses", v4_cases[i].ip);
			continue;
		}
		v = ntohl(a.s_addr);

		snprintf(ip, sizeof(ip), "::ffff:%s", v4_cases[i].ip);
		check_address(ip, v4_cases[i].want, "v4-mapped");
		snprintf(ip, sizeof(ip), "::ffff:%x:%x", v >> 16, v & 0xFFFF);
		check_address(ip, v4_cases[i].want, "v4-mapped (hex)");
		snprintf(ip, sizeof(ip), "64:ff9b::%s", v4_cases[i].ip);
		check_address(ip, v4_cases[i].want, "NAT64");
		snprintf(ip, sizeof(ip), "2002:%x:%x::1", v >> 16, v & 0xFFFF);
		check_address(ip, v4_cases[i].want, "6to4");
	}
}

static void
test_addresses(void)
{
	int			i;
	struct sockaddr_un un;
	struct sockaddr_in in;

	for (i = 0; i < lengthof(v4_cases); i++)
		check_address(v4_cases[i].ip, v4_cases[i].want, "IPv4");
	for (i = 0; i < lengthof(v6_cases); i++)
		check_address(v6_cases[i].ip, v6_cases[i].want, "IPv6");
	test_embedded_v4();

	for (i = 0; i < lengthof(invalid_texts); i++)
	{
		char		name[64];

		snprintf(name, sizeof(name), "text \"%s\"", invalid_texts[i]);
		check(webhook_address_classify_text(invalid_texts[i]) == WEBHOOK_ADDRESS_INVALID,
			  "is invalid", name);
	}
	check(webhook_address_classify_text(NULL) == WEBHOOK_ADDRESS_INVALID,
		  "is invalid", "text NULL");

	/* sockaddrs that are not a whole IPv4 or IPv6 address */
	memset(&un, 0, sizeof(un));
	un.sun_family = AF_UNIX;
	check(webhook_address_classify_sockaddr((struct sockaddr *) &un, sizeof(un)) ==
		  WEBHOOK_ADDRESS_INVALID, "is invalid", "AF_UNIX sockaddr");
	memset(&in, 0, sizeof(in));
	in.sin_family = AF_INET;
	in.sin_addr.s_addr = htonl(0x08080808);
	check(webhook_address_classify_sockaddr((struct sockaddr *) &in, sizeof(in)) ==
		  WEBHOOK_ADDRESS_PUBLIC, "is public", "sockaddr_in 8.8.8.8");
	check(webhook_address_classify_sockaddr((struct sockaddr *) &in, sizeof(in) - 1) ==
		  WEBHOOK_ADDRESS_INVALID, "is invalid", "sockaddr_in one byte short");
	check(webhook_address_classify_sockaddr(NULL, 0) == WEBHOOK_ADDRESS_INVALID,
		  "is invalid", "sockaddr NULL");
}

/* Which classes each setting lets through. */
static void
test_allowed(void)
{
	static const struct
	{
		WebhookAddressClass cls;
		bool		by_default;
		bool		with_allow_private;
	}			rules[] = {
		{WEBHOOK_ADDRESS_PUBLIC, true, true},
		{WEBHOOK_ADDRESS_INVALID, false, false},
		{WEBHOOK_ADDRESS_UNSPECIFIED, false, true},
		{WEBHOOK_ADDRESS_LOOPBACK, false, true},
		{WEBHOOK_ADDRESS_PRIVATE, false, true},
		{WEBHOOK_ADDRESS_SHARED, false, true},
		{WEBHOOK_ADDRESS_LINK_LOCAL, false, false},
		{WEBHOOK_ADDRESS_PROTOCOL, false, false},
		{WEBHOOK_ADDRESS_DOCUMENTATION, false, false},
		{WEBHOOK_ADDRESS_BENCHMARK, false, false},
		{WEBHOOK_ADDRESS_MULTICAST, false, false},
		{WEBHOOK_ADDRESS_RESERVED, false, false},
		{WEBHOOK_ADDRESS_BROADCAST, false, false},
		{WEBHOOK_ADDRESS_IPV4_COMPATIBLE, false, false},
	};
	int			i;

	for (i = 0; i < lengthof(rules); i++)
	{
		char		name[128];

		snprintf(name, sizeof(name), "allowed: %s",
				 webhook_address_class_text(rules[i].cls));
		check(webhook_address_allowed(rules[i].cls, false) == rules[i].by_default &&
			  webhook_address_allowed(rules[i].cls, true) == rules[i].with_allow_private,
			  "by default and with allow_private", name);
	}

	/* the SSRF cases, end to end through the text form */
	check(!webhook_address_allowed(webhook_address_classify_text("127.0.0.1"), false) &&
		  webhook_address_allowed(webhook_address_classify_text("127.0.0.1"), true),
		  "refused, allowed by allow_private", "127.0.0.1");
	check(!webhook_address_allowed(webhook_address_classify_text("169.254.169.254"), true),
		  "refused even with allow_private", "169.254.169.254");
	check(!webhook_address_allowed(webhook_address_classify_text("::1"), false),
		  "refused", "::1");
	check(!webhook_address_allowed(webhook_address_classify_text("::ffff:10.1.2.3"), false),
		  "refused", "::ffff:10.1.2.3");
	check(!webhook_address_allowed(webhook_address_classify_text("::ffff:169.254.169.254"), true),
		  "refused even with allow_private", "::ffff:169.254.169.254");
	check(webhook_address_allowed(webhook_address_classify_text("::ffff:8.8.8.8"), false),
		  "allowed", "::ffff:8.8.8.8");
}

/* ------------------------------------------------------------ signature */

static void
test_signature_fixtures(void)
{
	int			i;

	for (i = 0; i < lengthof(signature_cases); i++)
	{
		const SignatureCase *c = &signature_cases[i];
		uint8		key[WEBHOOK_SECRET_MAX_BYTES];
		int			keylen = -1;
		char		sig[WEBHOOK_SIGNATURE_SIZE];
		const char *error;
		char		name[64];

		snprintf(name, sizeof(name), "signature case %d (%d-byte key, %zu-byte body)",
				 i, c->keylen, c->bodylen);
		check(webhook_secret_decode(c->secret, key, &keylen) == WEBHOOK_SECRET_OK &&
			  keylen == c->keylen && memcmp(key, c->key, keylen) == 0,
			  "secret decodes to the key", name);
		error = webhook_sign((const uint8 *) c->key, c->keylen, c->msg_id,
							 c->timestamp, c->body, c->bodylen, sig);
		check(error == NULL && strcmp(sig, c->signature) == 0,
			  "header value matches Python's hmac", name);
		if (error != NULL || strcmp(sig, c->signature) != 0)
			printf("#   got %s, want %s\n", error ? error : sig, c->signature);
	}
}

/*
 * The test vector of the Standard Webhooks libraries (standard-webhooks
 * repository, libraries/python/tests/test_webhooks.py, test_sign_function).
 */
static void
test_standard_vector(void)
{
	uint8		key[WEBHOOK_SECRET_MAX_BYTES];
	int			keylen = -1;
	char		sig[WEBHOOK_SIGNATURE_SIZE];
	const char *body = "{\"test\": 2432232314}";
	const char *error;

	check(webhook_secret_decode("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", key, &keylen) ==
		  WEBHOOK_SECRET_OK && keylen == 24, "secret decodes to 24 bytes",
		  "Standard Webhooks vector");
	error = webhook_sign(key, keylen, "msg_p5jXN8AQM9LWM0D4loKWxJek",
						 INT64CONST(1614265330), body, strlen(body), sig);
	check(error == NULL &&
		  strcmp(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=") == 0,
		  "signature", "Standard Webhooks vector");
	if (error != NULL)
		printf("#   %s\n", error);
	else if (strcmp(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=") != 0)
		printf("#   got %s\n", sig);

	/* one changed byte anywhere in what is signed changes the signature */
	error = webhook_sign(key, keylen, "msg_p5jXN8AQM9LWM0D4loKWxJek",
						 INT64CONST(1614265331), body, strlen(body), sig);
	check(error == NULL &&
		  strcmp(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=") != 0,
		  "differs for another timestamp", "Standard Webhooks vector");
}

static void
test_secret_forms(void)
{
	static const struct
	{
		const char *secret;
		WebhookSecretStatus want;
		int			keylen;
	}			cases[] = {
		/* 32 bytes: padded, and with the padding left off */
		{"whsec_1sWl2wLjqpX8oS70t0+wZeyzZhCepp9Diihhbmr6H2I=", WEBHOOK_SECRET_OK, 32},
		{"whsec_1sWl2wLjqpX8oS70t0+wZeyzZhCepp9Diihhbmr6H2I", WEBHOOK_SECRET_OK, 32},
		/* 64 bytes of 0xff, padded and unpadded */
		{"whsec_/////////////////////////////////////////////////////////////////////////////////////w==", WEBHOOK_SECRET_OK, 64},
		{"whsec_/////////////////////////////////////////////////////////////////////////////////////w", WEBHOOK_SECRET_OK, 64},
		/* 65 bytes */
		{"whsec_//////////////////////////////////////////////////////////////////////////////////////8=", WEBHOOK_SECRET_TOO_LONG, 0},
		/* 23 bytes */
		{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaQ=", WEBHOOK_SECRET_TOO_SHORT, 0},
		{"whsec_", WEBHOOK_SECRET_TOO_SHORT, 0},
		{"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", WEBHOOK_SECRET_NO_PREFIX, 0},
		{"WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", WEBHOOK_SECRET_NO_PREFIX, 0},
		{"correct horse battery staple, long enough", WEBHOOK_SECRET_NO_PREFIX, 0},
		{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS!", WEBHOOK_SECRET_NOT_BASE64, 0},
		{"whsec_MfKQ9r8GKYqrTwjUPD8I LPZIo2LaLaSw", WEBHOOK_SECRET_NOT_BASE64, 0},
		{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n", WEBHOOK_SECRET_NOT_BASE64, 0},
		/* URL-safe base64 is not the standard's */
		{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLa_w", WEBHOOK_SECRET_NOT_BASE64, 0},
		/* 33 characters: a lone sixth bit */
		{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwA", WEBHOOK_SECRET_NOT_BASE64, 0},
	};
	int			i;

	for (i = 0; i < lengthof(cases); i++)
	{
		uint8		key[WEBHOOK_SECRET_MAX_BYTES];
		int			keylen = -1;
		WebhookSecretStatus got = webhook_secret_decode(cases[i].secret, key, &keylen);
		char		name[160];

		snprintf(name, sizeof(name), "secret \"%s\"", cases[i].secret);
		check(got == cases[i].want &&
			  (got != WEBHOOK_SECRET_OK || keylen == cases[i].keylen),
			  "status and length", name);
		if (got != cases[i].want)
			printf("#   got %d (%s), want %d\n", got,
				   webhook_secret_status_text(got), cases[i].want);
	}
	check(webhook_secret_decode(NULL, NULL, NULL) == WEBHOOK_SECRET_NO_PREFIX,
		  "status", "secret NULL");
}

/* Arguments webhook_sign refuses, and the edges it accepts. */
static void
test_sign_arguments(void)
{
	static const uint8 key[24] = {1, 2, 3};
	static const char *const bad_ids[] = {
		"", "msg.1", "msg 1", "msg\r\nX-Injected: 1", "msg_\xc3\xa9",
		"m1234567890123456789012345678901234567890123456789012345678901234",
	};
	char		sig[WEBHOOK_SIGNATURE_SIZE];
	int			i;

	for (i = 0; i < lengthof(bad_ids); i++)
	{
		char		name[128];

		snprintf(name, sizeof(name), "sign with id \"%s\"", bad_ids[i]);
		check(webhook_sign(key, sizeof(key), bad_ids[i], 1, "", 0, sig) != NULL,
			  "is refused", name);
	}
	check(webhook_sign(key, sizeof(key), NULL, 1, "", 0, sig) != NULL,
		  "is refused", "sign with id NULL");
	check(webhook_sign(key, sizeof(key), "msg_1", -1, "", 0, sig) != NULL,
		  "is refused", "sign with timestamp -1");
	check(webhook_sign(key, sizeof(key),
					   "m123456789012345678901234567890123456789012345678901234567890123",
					   1, "", 0, sig) == NULL &&
		  strncmp(sig, "v1,", 3) == 0 && strlen(sig) == WEBHOOK_SIGNATURE_SIZE - 1,
		  "is signed, 47 characters", "sign with a 64-character id");
}

int
main(void)
{
	test_urls();
	test_addresses();
	test_allowed();
	test_signature_fixtures();
	test_standard_vector();
	test_secret_forms();
	test_sign_arguments();

	return tap_finish();
}
