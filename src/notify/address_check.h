/*-------------------------------------------------------------------------
 *
 * address_check.h
 *	  Which IP addresses a webhook may be delivered to: the SSRF guard.
 *
 * A channel's URL names a host; what matters is the address libcurl
 * actually connects to, since DNS can answer differently at every lookup
 * (DNS rebinding: a public address when the channel is created, 127.0.0.1
 * when the worker delivers).  So the delivery worker checks the connected
 * address, never a lookup of its own:
 *
 *	- CURLOPT_OPENSOCKETFUNCTION hands it each address libcurl is about to
 *	  connect to as a struct curl_sockaddr: webhook_address_classify_sockaddr
 *	  (&addr->addr, addr->addrlen); a refused address gets CURL_SOCKET_BAD,
 *	  so no connection to it is even opened (libcurl tries the host's next
 *	  address, or fails with CURLE_COULDNT_CONNECT).
 *	- CURLOPT_PREREQFUNCTION (libcurl >= 7.80) runs once the connection is
 *	  made and before the request is sent, with conn_primary_ip, the peer's
 *	  address as text: webhook_address_classify_text(conn_primary_ip); a
 *	  refused address returns CURL_PREREQFUNC_ABORT.  This is the check the
 *	  issue names, and it also covers a connection libcurl reuses.
 *
 * Both go through the same classification, so they cannot disagree.  The
 * worker must also disable proxies (CURLOPT_PROXY "", so http_proxy in
 * the environment is not used): through a proxy, the connected address is
 * the proxy's.  Redirects: either CURLOPT_FOLLOWLOCATION off, or each hop
 * connects anew and passes through both callbacks again.
 *
 * Ranges (IANA special-purpose registries, RFC 6890 and successors):
 *	IPv4: 0/8 unspecified and "this network", 127/8 loopback, 10/8,
 *	172.16/12, 192.168/16 private, 100.64/10 shared (carrier-grade NAT),
 *	169.254/16 link-local (169.254.169.254 is the cloud metadata service),
 *	192.0.0/24 protocol assignments, 192.0.2/24, 198.51.100/24, 203.0.113/24
 *	documentation, 198.18/15 benchmarking, 224/4 multicast, 240/4 reserved,
 *	255.255.255.255 broadcast.
 *	IPv6: :: unspecified, ::1 loopback, the rest of ::/96 (deprecated
 *	IPv4-compatible), fc00::/7 unique-local and fec0::/10 site-local
 *	(deprecated) private, fe80::/10 link-local, ff00::/8 multicast,
 *	2001:db8::/32 documentation, 64:ff9b:1::/48 local-use NAT64 (private);
 *	and three forms that carry an IPv4 address, classified as that address:
 *	::ffff:0:0/96 v4-mapped (a dual-stack socket connects to the IPv4
 *	address itself), 64:ff9b::/96 NAT64 (the gateway connects to it) and
 *	2002::/16 6to4 (bits 16-47).
 * Everything else is public.
 *
 * Pure computation: no palloc, no ereport, no other backend call, so the
 * same code links into the standalone unit test (test/unit/notify_test.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEARNLOOP_ADDRESS_CHECK_H
#define LEARNLOOP_ADDRESS_CHECK_H

#include <sys/socket.h>

typedef enum WebhookAddressClass
{
	WEBHOOK_ADDRESS_PUBLIC = 0,
	WEBHOOK_ADDRESS_INVALID,		/* not an IPv4 or IPv6 address */
	WEBHOOK_ADDRESS_UNSPECIFIED,
	WEBHOOK_ADDRESS_LOOPBACK,
	WEBHOOK_ADDRESS_PRIVATE,
	WEBHOOK_ADDRESS_SHARED,
	WEBHOOK_ADDRESS_LINK_LOCAL,
	WEBHOOK_ADDRESS_PROTOCOL,
	WEBHOOK_ADDRESS_DOCUMENTATION,
	WEBHOOK_ADDRESS_BENCHMARK,
	WEBHOOK_ADDRESS_MULTICAST,
	WEBHOOK_ADDRESS_RESERVED,
	WEBHOOK_ADDRESS_BROADCAST,
	WEBHOOK_ADDRESS_IPV4_COMPATIBLE
} WebhookAddressClass;

/* sa points at len bytes: AF_INET or AF_INET6, anything else is INVALID */
extern WebhookAddressClass webhook_address_classify_sockaddr(const struct sockaddr *sa,
															 size_t len);

/*
 * ip: an address as inet_ntop writes it ("192.0.2.1", "2001:db8::1"), as
 * libcurl gives conn_primary_ip and CURLINFO_PRIMARY_IP.  Other spellings
 * ("127.1", "[::1]", a "%zone" suffix) are INVALID: libcurl never writes
 * them, and an address that cannot be read is refused.
 */
extern WebhookAddressClass webhook_address_classify_text(const char *ip);

/*
 * Whether a webhook may be sent to an address of that class.  allow_private
 * is the superuser-only setting that lets local receivers through (the demo
 * delivers to one on 127.0.0.1): it admits loopback, unspecified (which
 * Linux connects to the local host), private, unique-local and shared
 * addresses.  Link-local stays refused even then: 169.254.169.254 is the
 * cloud metadata service, which no webhook receiver lives at; so do the
 * ranges nothing may be delivered to (multicast, broadcast, reserved,
 * documentation, benchmarking, protocol assignments) and INVALID.
 */
extern bool webhook_address_allowed(WebhookAddressClass cls, bool allow_private);

/* A phrase for errdetail and the delivery log: "a loopback address" */
extern const char *webhook_address_class_text(WebhookAddressClass cls);

#endif							/* LEARNLOOP_ADDRESS_CHECK_H */
