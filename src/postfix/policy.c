/*
 * policy - Postfix policy delegation protocol codec (see policy.h)
 */
#include "policy.h"

#include <stdio.h>
#include <string.h>

/* the attributes the engine uses; the others are accepted and ignored */
static const struct {
    const char *name;
    size_t len;
    policy_attr id;
} attrs[] = {
#define A(n, id)                                                                                   \
    {                                                                                              \
        n, sizeof(n) - 1, id                                                                       \
    }
    A("request", PA_REQUEST),
    A("protocol_state", PA_PROTOCOL_STATE),
    A("protocol_name", PA_PROTOCOL_NAME),
    A("client_address", PA_CLIENT_ADDRESS),
    A("client_name", PA_CLIENT_NAME),
    A("reverse_client_name", PA_REVERSE_CLIENT_NAME),
    A("helo_name", PA_HELO_NAME),
    A("sender", PA_SENDER),
    A("recipient", PA_RECIPIENT),
    A("recipient_count", PA_RECIPIENT_COUNT),
    A("queue_id", PA_QUEUE_ID),
    A("instance", PA_INSTANCE),
    A("size", PA_SIZE),
    A("sasl_method", PA_SASL_METHOD),
    A("sasl_username", PA_SASL_USERNAME),
    A("sasl_sender", PA_SASL_SENDER),
    A("server_port", PA_SERVER_PORT),
    A("policy_context", PA_POLICY_CONTEXT),
#undef A
};

/* attr_store - remember the value of a known attribute */
static void
attr_store(policy_req *req, const char *name, size_t nlen, hj_span value)
{
    for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
        if (attrs[i].len == nlen && memcmp(attrs[i].name, name, nlen) == 0) {
            req->a[attrs[i].id] = value;
            return;
        }
    }
}

/* has_ctl - a control byte (tab aside) in p[0..n) */
static int
has_ctl(const char *p, size_t n, unsigned char *which)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c < 0x20 && c != '\t') {
            *which = c;
            return 1;
        }
    }
    return 0;
}

/* line_check - one "name=value" line; -1 with a reason if malformed, else 0 or 1 (the value
 * holds a control byte) */
static int
line_check(const char *p, size_t n, const char **eq, char *err, size_t errlen)
{
    unsigned char c;

    *eq = memchr(p, '=', n);
    if (*eq == NULL || *eq == p) {
        snprintf(err, errlen, "%s", *eq ? "empty attribute name" : "line without \"=\"");
        return -1;
    }
    if (has_ctl(p, (size_t)(*eq - p), &c)) {
        snprintf(err, errlen, "control byte 0x%02x in an attribute name", c);
        return -1;
    }
    return has_ctl(*eq + 1, n - (size_t)(*eq + 1 - p), &c);
}

int
policy_parse(const char *buf, size_t len, policy_req *req, size_t *used, char *err, size_t errlen)
{
    size_t off = 0;

    memset(req, 0, sizeof(*req));
    for (;;) {
        const char *nl = memchr(buf + off, '\n', len - off);
        if (nl == NULL) {
            if (len > POLICY_MAX_REQUEST) {
                snprintf(err, errlen, "request longer than %d bytes", POLICY_MAX_REQUEST);
                return -1;
            }
            return 0;
        }
        size_t n = (size_t)(nl - (buf + off));
        if (off + n + 1 > POLICY_MAX_REQUEST) {
            snprintf(err, errlen, "request longer than %d bytes", POLICY_MAX_REQUEST);
            return -1;
        }
        if (n == 0)
            break; /* the empty line ends the request */
        const char *eq;
        int ctl = line_check(buf + off, n, &eq, err, errlen);
        if (ctl < 0)
            return -1;
        req->ctl += ctl;
        if (++req->nattrs > POLICY_MAX_ATTRS) {
            snprintf(err, errlen, "more than %d attributes", POLICY_MAX_ATTRS);
            return -1;
        }
        hj_span v = {eq + 1, (size_t)(nl - eq - 1)};
        attr_store(req, buf + off, (size_t)(eq - (buf + off)), v);
        off += n + 1;
    }
    *used = off + 1;
    hj_span r = req->a[PA_REQUEST];
    if (r.p == NULL || !span_eq(r, "smtpd_access_policy")) {
        snprintf(err, errlen, "not a smtpd_access_policy request");
        return -1;
    }
    return 1;
}

size_t
policy_reply(char *out, size_t outlen, const char *action, const char *text)
{
    int n = snprintf(out, outlen, "action=%s%s%s\n\n", action, text && *text ? " " : "",
                     text ? text : "");
    if (n < 0 || (size_t)n >= outlen)
        return 0;
    for (int i = 7; i < n - 2; i++)
        if (out[i] == '\r' || out[i] == '\n')
            out[i] = ' ';
    return (size_t)n;
}

int64_t
policy_number(hj_span s)
{
    int64_t v = 0;

    if (s.p == NULL || s.n == 0 || s.n > 18)
        return -1;
    for (size_t i = 0; i < s.n; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return -1;
        v = v * 10 + (s.p[i] - '0');
    }
    return v;
}

const char *
policy_value(hj_span s, char *buf, size_t cap)
{
    size_t n = s.p ? (s.n < cap ? s.n : cap - 1) : 0;

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s.p[i];
        buf[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    buf[n] = 0;
    return buf;
}
