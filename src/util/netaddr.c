/*
 * netaddr - addresses, CIDR and source-IP classes (see netaddr.h)
 */
#include "netaddr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

int
netaddr_parse(const char *s, size_t n, hj_addr *a)
{
    char tmp[64];

    if (n == 0 || n >= sizeof(tmp))
        return -1;
    memcpy(tmp, s, n);
    tmp[n] = 0;
    if (inet_pton(AF_INET, tmp, a->b + 12) == 1) {
        memcpy(a->b, v4mapped, 12);
        a->v4 = 1;
        return 0;
    }
    if (inet_pton(AF_INET6, tmp, a->b) == 1) {
        a->v4 = memcmp(a->b, v4mapped, 12) == 0;
        return 0;
    }
    return -1;
}

/* mask_apply - clear every bit after the first bits of b */
static void
mask_apply(uint8_t *b, int bits)
{
    for (int i = 0; i < 16; i++) {
        int keep = bits - i * 8;
        if (keep >= 8)
            continue;
        b[i] = (uint8_t)(keep <= 0 ? 0 : b[i] & (0xff << (8 - keep)));
    }
}

int
netaddr_cidr_parse(const char *s, hj_cidr *c)
{
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);

    if (netaddr_parse(s, n, &c->net) != 0)
        return -1;
    int max = c->net.v4 ? 32 : 128, bits = max;
    if (slash) {
        char *end;
        long v = strtol(slash + 1, &end, 10);
        if (*end || end == slash + 1 || v < 0 || v > max)
            return -1;
        bits = (int)v;
    }
    c->bits = c->net.v4 ? bits + 96 : bits;
    mask_apply(c->net.b, c->bits);
    return 0;
}

int
netaddr_in(const hj_addr *a, const hj_cidr *c)
{
    uint8_t b[16];

    memcpy(b, a->b, 16);
    mask_apply(b, c->bits);
    return memcmp(b, c->net.b, 16) == 0;
}

/*
 * The reserved class: loopback, private, link-local, CGNAT, unspecified, ULA. Tested by octets,
 * with no table to parse at run time, so the engine keeps no writable static data:
 *   0.0.0.0/8 10.0.0.0/8 100.64.0.0/10 127.0.0.0/8 169.254.0.0/16 172.16.0.0/12 192.168.0.0/16
 *   ::/128 ::1/128 fc00::/7 fe80::/10
 */
static int
v4_reserved(const uint8_t *o)
{
    return o[0] == 0 || o[0] == 10 || o[0] == 127 || (o[0] == 100 && (o[1] & 0xc0) == 64) ||
           (o[0] == 169 && o[1] == 254) || (o[0] == 172 && (o[1] & 0xf0) == 16) ||
           (o[0] == 192 && o[1] == 168);
}

static int
v6_reserved(const uint8_t *o)
{
    static const uint8_t zero[15];

    if ((o[0] & 0xfe) == 0xfc || (o[0] == 0xfe && (o[1] & 0xc0) == 0x80))
        return 1; /* fc00::/7, fe80::/10 */
    return memcmp(o, zero, 15) == 0 && o[15] <= 1; /* ::, ::1 */
}

int
netaddr_is_reserved(const hj_addr *a)
{
    return a->v4 ? v4_reserved(a->b + 12) : v6_reserved(a->b);
}

void
netaddr_str(const hj_addr *a, char *out, size_t outlen)
{
    if (a->v4)
        inet_ntop(AF_INET, a->b + 12, out, (socklen_t)outlen);
    else
        inet_ntop(AF_INET6, a->b, out, (socklen_t)outlen);
}

void
netaddr_mask(const hj_addr *a, int v4bits, int v6bits, hj_addr *out)
{
    *out = *a;
    mask_apply(out->b, a->v4 ? v4bits + 96 : v6bits);
}

void
netaddr_net(const hj_addr *a, int v4bits, int v6bits, char *out, size_t outlen)
{
    hj_addr m = *a;
    char s[64];

    mask_apply(m.b, a->v4 ? v4bits + 96 : v6bits);
    netaddr_str(&m, s, sizeof(s));
    snprintf(out, outlen, "%s/%d", s, a->v4 ? v4bits : v6bits);
}
