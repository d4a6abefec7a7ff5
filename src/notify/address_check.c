/*-------------------------------------------------------------------------
 *
 * address_check.c
 *	  Classifies the address a webhook is about to be sent to (see
 *	  address_check.h for the ranges and where the worker calls this).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "notify/address_check.h"

/* An IPv4 range: address and prefix length, in host byte order. */
typedef struct V4Range
{
	uint32		net;
	int			bits;
	WebhookAddressClass cls;
} V4Range;

#define V4(a, b, c, d) \
	(((uint32) (a) << 24) | ((uint32) (b) << 16) | ((uint32) (c) << 8) | (uint32) (d))

/*
 * First match wins: 255.255.255.255 comes before the 240/4 that holds it,
 * and 192.0.2/24 does not overlap 192.0.0/24.
 */
static const V4Range v4_ranges[] = {
	{V4(0, 0, 0, 0), 8, WEBHOOK_ADDRESS_UNSPECIFIED},
	{V4(10, 0, 0, 0), 8, WEBHOOK_ADDRESS_PRIVATE},
	{V4(100, 64, 0, 0), 10, WEBHOOK_ADDRESS_SHARED},
	{V4(127, 0, 0, 0), 8, WEBHOOK_ADDRESS_LOOPBACK},
	{V4(169, 254, 0, 0), 16, WEBHOOK_ADDRESS_LINK_LOCAL},
	{V4(172, 16, 0, 0), 12, WEBHOOK_ADDRESS_PRIVATE},
	{V4(192, 0, 0, 0), 24, WEBHOOK_ADDRESS_PROTOCOL},
	{V4(192, 0, 2, 0), 24, WEBHOOK_ADDRESS_DOCUMENTATION},
	{V4(192, 168, 0, 0), 16, WEBHOOK_ADDRESS_PRIVATE},
	{V4(198, 18, 0, 0), 15, WEBHOOK_ADDRESS_BENCHMARK},
	{V4(198, 51, 100, 0), 24, WEBHOOK_ADDRESS_DOCUMENTATION},
	{V4(203, 0, 113, 0), 24, WEBHOOK_ADDRESS_DOCUMENTATION},
	{V4(224, 0, 0, 0), 4, WEBHOOK_ADDRESS_MULTICAST},
	{V4(255, 255, 255, 255), 32, WEBHOOK_ADDRESS_BROADCAST},
	{V4(240, 0, 0, 0), 4, WEBHOOK_ADDRESS_RESERVED},
};

static WebhookAddressClass
classify_v4(uint32 addr)
{
	int			i;

	for (i = 0; i < lengthof(v4_ranges); i++)
	{
		uint32		mask = ~(uint32) 0 << (32 - v4_ranges[i].bits);

		if ((addr & mask) == v4_ranges[i].net)
			return v4_ranges[i].cls;
	}
	return WEBHOOK_ADDRESS_PUBLIC;
}

/* The IPv4 address in bytes at..at+3 of an IPv6 address. */
static uint32
embedded_v4(const uint8 *a, int at)
{
	return V4(a[at], a[at + 1], a[at + 2], a[at + 3]);
}

/* Whether the first bits of a match those of prefix. */
static bool
v6_prefix(const uint8 *a, const uint8 *prefix, int bits)
{
	int			whole = bits / 8;
	int			rest = bits % 8;

	if (memcmp(a, prefix, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((a[whole] ^ prefix[whole]) & (0xFF << (8 - rest))) == 0;
}

static WebhookAddressClass
classify_v6(const uint8 *a)
{
	static const uint8 zero[16] = {0};
	static const uint8 v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
	static const uint8 nat64[12] = {0x00, 0x64, 0xFF, 0x9B};
	static const uint8 nat64_local[6] = {0x00, 0x64, 0xFF, 0x9B, 0x00, 0x01};
	static const uint8 six_to_four[2] = {0x20, 0x02};
	static const uint8 documentation[4] = {0x20, 0x01, 0x0D, 0xB8};

	if (v6_prefix(a, zero, 96))
	{
		if (a[12] == 0 && a[13] == 0 && a[14] == 0 && a[15] <= 1)
			return a[15] == 0 ? WEBHOOK_ADDRESS_UNSPECIFIED : WEBHOOK_ADDRESS_LOOPBACK;
		return WEBHOOK_ADDRESS_IPV4_COMPATIBLE;
	}
	if (v6_prefix(a, v4_mapped, 96))
		return classify_v4(embedded_v4(a, 12));
	if (v6_prefix(a, nat64, 96))
		return classify_v4(embedded_v4(a, 12));
	if (v6_prefix(a, nat64_local, 48))
		return WEBHOOK_ADDRESS_PRIVATE;
	if (v6_prefix(a, six_to_four, 16))
		return classify_v4(embedded_v4(a, 2));
	if (v6_prefix(a, documentation, 32))
		return WEBHOOK_ADDRESS_DOCUMENTATION;
	if ((a[0] & 0xFE) == 0xFC)	/* fc00::/7 */
		return WEBHOOK_ADDRESS_PRIVATE;
	if (a[0] == 0xFE && (a[1] & 0xC0) == 0x80)	/* fe80::/10 */
		return WEBHOOK_ADDRESS_LINK_LOCAL;
	if (a[0] == 0xFE && (a[1] & 0xC0) == 0xC0)	/* fec0::/10 */
		return WEBHOOK_ADDRESS_PRIVATE;
	if (a[0] == 0xFF)			/* ff00::/8 */
		return WEBHOOK_ADDRESS_MULTICAST;
	return WEBHOOK_ADDRESS_PUBLIC;
}

WebhookAddressClass
webhook_address_classify_sockaddr(const struct sockaddr *sa, size_t len)
{
	if (sa == NULL || len < sizeof(sa->sa_family))
		return WEBHOOK_ADDRESS_INVALID;
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in))
	{
		const struct sockaddr_in *in = (const struct sockaddr_in *) sa;

		return classify_v4(ntohl(in->sin_addr.s_addr));
	}
	if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6))
	{
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) sa;

		return classify_v6(in6->sin6_addr.s6_addr);
	}
	return WEBHOOK_ADDRESS_INVALID;
}

WebhookAddressClass
webhook_address_classify_text(const char *ip)
{
	struct in_addr v4;
	struct in6_addr v6;

	if (ip == NULL)
		return WEBHOOK_ADDRESS_INVALID;
	if (inet_pton(AF_INET, ip, &v4) == 1)
		return classify_v4(ntohl(v4.s_addr));
	if (inet_pton(AF_INET6, ip, &v6) == 1)
		return classify_v6(v6.s6_addr);
	return WEBHOOK_ADDRESS_INVALID;
}

bool
webhook_address_allowed(WebhookAddressClass cls, bool allow_private)
{
	switch (cls)
	{
		case WEBHOOK_ADDRESS_PUBLIC:
			return true;
		case WEBHOOK_ADDRESS_UNSPECIFIED:
		case WEBHOOK_ADDRESS_LOOPBACK:
		case WEBHOOK_ADDRESS_PRIVATE:
		case WEBHOOK_ADDRESS_SHARED:
			return allow_private;
		default:
			return false;
	}
}

const char *
webhook_address_class_text(WebhookAddressClass cls)
{
	switch (cls)
	{
		case WEBHOOK_ADDRESS_PUBLIC:
			return "a public address";
		case WEBHOOK_ADDRESS_INVALID:
			return "not an IP address";
		case WEBHOOK_ADDRESS_UNSPECIFIED:
			return "an unspecified address (0.0.0.0/8 or ::)";
		case WEBHOOK_ADDRESS_LOOPBACK:
			return "a loopback address";
		case WEBHOOK_ADDRESS_PRIVATE:
			return "a private address";
		case WEBHOOK_ADDRESS_SHARED:
			return "a shared address (100.64.0.0/10, carrier-grade NAT)";
		case WEBHOOK_ADDRESS_LINK_LOCAL:
			return "a link-local address (this includes the cloud metadata service)";
		case WEBHOOK_ADDRESS_PROTOCOL:
			return "an IETF protocol address (192.0.0.0/24)";
		case WEBHOOK_ADDRESS_DOCUMENTATION:
			return "a documentation address";
		case WEBHOOK_ADDRESS_BENCHMARK:
			return "a benchmarking address (198.18.0.0/15)";
		case WEBHOOK_ADDRESS_MULTICAST:
			return "a multicast address";
		case WEBHOOK_ADDRESS_RESERVED:
			return "a reserved address (240.0.0.0/4)";
		case WEBHOOK_ADDRESS_BROADCAST:
			return "the broadcast address";
		case WEBHOOK_ADDRESS_IPV4_COMPATIBLE:
			return "a deprecated IPv4-compatible IPv6 address (::/96)";
	}
	return "not an IP address";
}
