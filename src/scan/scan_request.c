/*
 * scan_request - the scanner's address and the requests sent to it (see scan_request.h)
 */
#include "scan_request.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *
scan_value(const char *s, char *buf, size_t cap)
{
    size_t n = 0;

    for (; s && s[n] && n < cap - 1; n++) {
        unsigned char c = (unsigned char)s[n];
        buf[n] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    buf[n] = '\0';
    return buf;
}

/* put_header - "Name: value\r\n" unless value is NULL or empty */
static void
put_header(hj_buf *out, const char *name, const char *value)
{
    char v[SCAN_MAX_VALUE + 1];

    if (value == NULL || value[0] == '\0')
        return;
    buf_printf(out, "%s: %s\r\n", name, scan_value(value, v, sizeof(v)));
}

void
scan_rspamd_request(hj_buf *out, const scan_target *t, const scan_envelope *env, size_t msglen)
{
    size_t n = env->nrcpt < SCAN_MAX_RCPT ? env->nrcpt : SCAN_MAX_RCPT;

    buf_printf(out, "POST %s HTTP/1.0\r\nHost: %s:%u\r\nConnection: close\r\n"
               "Content-Length: %zu\r\n", t->path, t->host, t->port, msglen);
    put_header(out, "User", env->user);
    put_header(out, "IP", env->ip);
    put_header(out, "Helo", env->helo);
    put_header(out, "From", env->from);
    for (size_t i = 0; i < n; i++)
        put_header(out, "Rcpt", env->rcpt[i]);
    put_header(out, "Queue-Id", env->queue_id);
    buf_puts(out, "\r\n");
}

void
scan_spamd_request(hj_buf *out, const scan_envelope *env, size_t msglen)
{
    buf_printf(out, "SYMBOLS SPAMC/1.5\r\nContent-length: %zu\r\n", msglen);
    put_header(out, "User", env->user);
    buf_puts(out, "\r\n");
}

/* host_port - "HOST:PORT" or "[V6]:PORT" (the whole of s) into t: 0, or -1 */
static int
host_port(const char *s, size_t n, scan_target *t)
{
    const char *colon = NULL;
    char host[64], *end;
    long port;

    for (size_t i = n; i > 0; i--)
        if (s[i - 1] == ':') {
            colon = s + i - 1;
            break;
        }
    if (colon == NULL || colon == s || (size_t)(colon - s) >= sizeof(host) || colon + 1 == s + n)
        return -1;
    port = strtol(colon + 1, &end, 10);
    if (end != s + n || port <= 0 || port > 65535)
        return -1;
    memcpy(t->host, s, (size_t)(colon - s));
    t->host[colon - s] = '\0';
    t->port = (unsigned)port;
    memset(&t->sa, 0, sizeof(t->sa));
    struct sockaddr_in *a4 = (struct sockaddr_in *)&t->sa;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&t->sa;
    if (inet_pton(AF_INET, t->host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET, a4->sin_port = htons((uint16_t)port);
        t->salen = sizeof(*a4);
        return 0;
    }
    size_t hl = strlen(t->host);
    if (hl < 3 || t->host[0] != '[' || t->host[hl - 1] != ']')
        return -1;
    memcpy(host, t->host + 1, hl - 2);
    host[hl - 2] = '\0';
    if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
        return -1;
    a6->sin6_family = AF_INET6, a6->sin6_port = htons((uint16_t)port);
    t->salen = sizeof(*a6);
    return 0;
}

int
scan_target_parse(const char *spec, scan_target *t, char *err, size_t errlen)
{
    const char *hp = NULL, *slash;
    size_t n = 0;

    memset(t, 0, sizeof(*t));
    if (strncmp(spec, "rspamd:http://", 14) == 0) {
        t->kind = SCAN_RSPAMD;
        hp = spec + 14;
        slash = strchr(hp, '/');
        n = slash ? (size_t)(slash - hp) : strlen(hp);
        snprintf(t->path, sizeof(t->path), "%s", slash ? slash : "/checkv2");
        for (const char *q = t->path; *q; q++)
            if ((unsigned char)*q <= 0x20 || *q == 0x7f)
                hp = NULL;
        if (slash && strlen(slash) >= sizeof(t->path))
            hp = NULL;
    } else if (strncmp(spec, "spamd:", 6) == 0) {
        t->kind = SCAN_SPAMD;
        hp = spec + 6;
        n = strlen(hp);
    }
    if (hp == NULL || host_port(hp, n, t) != 0) {
        snprintf(err, errlen, "bad scanner \"%.100s\" (rspamd:http://IP:PORT[/PATH] or "
                 "spamd:IP:PORT, a numeric address, [IPv6])", spec);
        return -1;
    }
    return 0;
}
