/*
 * netaddr - IPv4/IPv6 addresses, CIDR lists and MDaemon's source-IP classes
 *
 * SYNOPSIS
 *	int netaddr_parse(const char *s, size_t n, hj_addr *a);
 *	int netaddr_cidr_parse(const char *s, hj_cidr *c);
 *	int netaddr_in(const hj_addr *a, const hj_cidr *c);
 *	int netaddr_is_reserved(const hj_addr *a);
 *	void netaddr_mask(const hj_addr *a, int v4bits, int v6bits, hj_addr *out);
 *	void netaddr_net(const hj_addr *a, int v4bits, int v6bits, char *out, size_t outlen);
 *
 * DESCRIPTION
 *	Addresses are kept as 16 bytes; IPv4 (and IPv4-mapped IPv6) as
 *	::ffff:a.b.c.d so one comparison serves both families. Parse
 *	functions return 0 on success and -1 on a malformed input (nothing
 *	is written then). netaddr_is_reserved() is true for loopback,
 *	RFC 1918/6598 private, link-local, unspecified, ULA (fc00::/7) and
 *	documentation-free "this network" ranges: MDaemon's "reserved" class.
 *	netaddr_net() writes the network of a (a /v4bits or /v6bits prefix)
 *	in CIDR text form, netaddr_mask() the same network as an address.
 *	Pure functions; thread-safe.
 */
#ifndef HJ_NETADDR_H
#define HJ_NETADDR_H

#include <stddef.h>
#include <stdint.h>

typedef struct hj_addr {
    uint8_t b[16];
    int v4; /* 1 when b holds ::ffff:a.b.c.d */
} hj_addr;

typedef struct hj_cidr {
    hj_addr net;
    int bits; /* prefix length on the 128-bit form */
} hj_cidr;

int netaddr_parse(const char *s, size_t n, hj_addr *a);
int netaddr_cidr_parse(const char *s, hj_cidr *c);
int netaddr_in(const hj_addr *a, const hj_cidr *c);
int netaddr_is_reserved(const hj_addr *a);
void netaddr_mask(const hj_addr *a, int v4bits, int v6bits, hj_addr *out);
void netaddr_net(const hj_addr *a, int v4bits, int v6bits, char *out, size_t outlen);
void netaddr_str(const hj_addr *a, char *out, size_t outlen);

#endif
