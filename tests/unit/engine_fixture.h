/*
 * engine_fixture.h - shared by test_engine.c and test_decision.c (header-only, test code)
 *
 * A strict JSON validator, the engine fixture (a policy from configuration
 * text, an engine, and every decision it made copied with its JSON and text
 * forms) and helpers that feed it events at made-up times (T0 + n seconds).
 */
#ifndef HJ_TEST_ENGINE_FIXTURE_H
#define HJ_TEST_ENGINE_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/engine/decision.h"
#include "../../src/engine/engine.h"
#include "../../src/engine/event.h"
#include "../../src/engine/policy.h"
#include "../../src/util/buf.h"
#include "../../src/util/netaddr.h"
#include "../../src/util/timeconv.h"
#include "check.h"

#define T0 INT64_C(1700000000) /* 2023-11-14T22:13:20Z */

/* ---- a small strict JSON validator ---- */

typedef struct jp {
    const unsigned char *s;
    size_t i, n;
} jp;

static __attribute__((unused)) void
j_ws(jp *p)
{
    while (p->i < p->n &&
           (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' || p->s[p->i] == '\r'))
        p->i++;
}

/* j_utf8 - skip one valid UTF-8 sequence (no overlongs, surrogates or > U+10FFFF) */
static __attribute__((unused)) int
j_utf8(jp *p)
{
    const unsigned char *c = p->s + p->i;
    size_t left = p->n - p->i, len;
    unsigned cp;

    if (c[0] >= 0xc2 && c[0] <= 0xdf)
        len = 2, cp = c[0] & 0x1f;
    else if (c[0] >= 0xe0 && c[0] <= 0xef)
        len = 3, cp = c[0] & 0x0f;
    else if (c[0] >= 0xf0 && c[0] <= 0xf4)
        len = 4, cp = c[0] & 0x07;
    else
        return -1;
    if (len > left)
        return -1;
    for (size_t k = 1; k < len; k++) {
        if ((c[k] & 0xc0) != 0x80)
            return -1;
        cp = cp << 6 | (c[k] & 0x3f);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return -1;
    p->i += len;
    return 0;
}

static __attribute__((unused)) int
j_string(jp *p)
{
    if (p->i >= p->n || p->s[p->i] != '"')
        return -1;
    p->i++;
    while (p->i < p->n) {
        unsigned char c = p->s[p->i];
        if (c == '"') {
            p->i++;
            return 0;
        }
        if (c < 0x20)
            return -1;
        if (c == '\\') {
            if (++p->i >= p->n)
                return -1;
            c = p->s[p->i];
            if (strchr("\"\\/bfnrt", c) != NULL && c != 0) {
                p->i++;
            } else if (c == 'u') {
                for (int k = 1; k <= 4; k++)
                    if (p->i + (size_t)k >= p->n ||
                        strchr("0123456789abcdefABCDEF", p->s[p->i + (size_t)k]) == NULL ||
                        p->s[p->i + (size_t)k] == 0)
                        return -1;
                p->i += 5;
            } else {
                return -1;
            }
        } else if (c >= 0x80) {
            if (j_utf8(p) != 0)
                return -1;
        } else {
            p->i++;
        }
    }
    return -1;
}

static __attribute__((unused)) int
j_digits(jp *p)
{
    size_t start = p->i;

    while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9')
        p->i++;
    return p->i > start ? 0 : -1;
}

static __attribute__((unused)) int
j_number(jp *p)
{
    if (p->i < p->n && p->s[p->i] == '-')
        p->i++;
    if (p->i < p->n && p->s[p->i] == '0')
        p->i++;
    else if (j_digits(p) != 0)
        return -1;
    if (p->i < p->n && p->s[p->i] == '.') {
        p->i++;
        if (j_digits(p) != 0)
            return -1;
    }
    if (p->i < p->n && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
        p->i++;
        if (p->i < p->n && (p->s[p->i] == '+' || p->s[p->i] == '-'))
            p->i++;
        if (j_digits(p) != 0)
            return -1;
    }
    return 0;
}

static __attribute__((unused)) int
j_value(jp *p, int depth)
{
    static const char *const lits[] = {"true", "false", "null"};

    if (depth > 32)
        return -1;
    j_ws(p);
    if (p->i >= p->n)
        return -1;
    unsigned char c = p->s[p->i];
    if (c == '"')
        return j_string(p);
    if (c == '{' || c == '[') {
        unsigned char close = c == '{' ? '}' : ']';
        p->i++;
        j_ws(p);
        if (p->i < p->n && p->s[p->i] == close) {
            p->i++;
            return 0;
        }
        for (;;) {
            if (c == '{') {
                j_ws(p);
                if (j_string(p) != 0)
                    return -1;
                j_ws(p);
                if (p->i >= p->n || p->s[p->i++] != ':')
                    return -1;
            }
            if (j_value(p, depth + 1) != 0)
                return -1;
            j_ws(p);
            if (p->i >= p->n)
                return -1;
            if (p->s[p->i] == close) {
                p->i++;
                return 0;
            }
            if (p->s[p->i++] != ',')
                return -1;
        }
    }
    for (size_t k = 0; k < 3; k++) {
        size_t len = strlen(lits[k]);
        if (p->n - p->i >= len && memcmp(p->s + p->i, lits[k], len) == 0) {
            p->i += len;
            return 0;
        }
    }
    return j_number(p);
}

/* json_valid - s is exactly one JSON value (surrounding white space allowed) */
static __attribute__((unused)) int
json_valid(const char *s)
{
    jp p = {(const unsigned char *)s, 0, strlen(s)};

    if (j_value(&p, 0) != 0)
        return 0;
    j_ws(&p);
    return p.i == p.n;
}

static __attribute__((unused)) void
test_json_validator(void **state)
{
    static const struct {
        const char *s;
        int ok;
    } cases[] = {
        {"{\"a\":1,\"b\":[1,2,{\"c\":\"d\"}],\"e\":-1.5e3,\"f\":true,\"g\":null}\n", 1},
        {"\"\\u00e9\\n\\\"\xc3\xa9\"", 1},
        {"{}", 1},
        {"[]", 1},
        {"{\"a\":1,}", 0},
        {"{\"a\" 1}", 0},
        {"\"raw\ncontrol\"", 0},
        {"\"bad \\x escape\"", 0},
        {"\"\\u12\"", 0},
        {"\"\xff\"", 0},
        {"\"\xc0\xaf\"", 0},
        {"\"\xed\xa0\x80\"", 0},
        {"{\"a\":1} {}", 0},
        {"01", 0},
        {"\"unterminated", 0},
    };

    (void)state;
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++)
        CHECK_EQ(cases[c].s, json_valid(cases[c].s), cases[c].ok);
}

/* ---- the fixture: a policy, an engine and the decisions it made ---- */

#define MAXD 64

typedef struct got {
    int64_t t;
    int32_t tzoff;
    hj_action action;
    hj_scope scope;
    char entity[160];
    int has_rule;
    char rule[64];
    int64_t window; /* of the rule */
    hj_ipclass ruleclass;
    int64_t limit, count, until;
    hj_ipclass evclass;
    char client_ip[64], client_name[64], queue_id[32], sender[160], service[32], reason[80];
    int nips;
    char ips[DECISION_MAX_IPS][64];
    int64_t total_messages, total_recipients;
    char json[2048];
    char text[1024];
} got;

typedef struct fx {
    hj_policy *p;
    hj_engine *e;
    got d[MAXD];
    int n;
    int dropped;
} fx;

static __attribute__((unused)) void
cp(char *dst, size_t len, const char *src)
{
    snprintf(dst, len, "%s", src ? src : "");
}

static __attribute__((unused)) void
on_decision(void *ctx, const hj_decision *d)
{
    fx *f = ctx;
    hj_buf b = HJ_BUF_INIT;

    if (f->n >= MAXD) {
        f->dropped++;
        return;
    }
    got *g = &f->d[f->n++];
    g->t = d->t;
    g->tzoff = d->tzoff;
    g->action = d->action;
    g->scope = d->scope;
    cp(g->entity, sizeof(g->entity), d->entity);
    g->has_rule = d->rule != NULL;
    cp(g->rule, sizeof(g->rule), d->rule ? d->rule->name : NULL);
    g->window = d->rule ? d->rule->window : 0;
    g->ruleclass = d->rule ? d->rule->ipclass : HJ_C_ANY;
    g->limit = d->limit;
    g->count = d->count;
    g->until = d->until;
    g->evclass = d->evclass;
    cp(g->client_ip, sizeof(g->client_ip), d->client_ip);
    cp(g->client_name, sizeof(g->client_name), d->client_name);
    cp(g->queue_id, sizeof(g->queue_id), d->queue_id);
    cp(g->sender, sizeof(g->sender), d->sender);
    cp(g->service, sizeof(g->service), d->service);
    cp(g->reason, sizeof(g->reason), d->reason);
    g->nips = d->nips;
    for (int i = 0; i < d->nips && i < DECISION_MAX_IPS; i++)
        netaddr_str(&d->ips[i], g->ips[i], sizeof(g->ips[i]));
    g->total_messages = d->total_messages;
    g->total_recipients = d->total_recipients;
    decision_json(d, &b);
    cp(g->json, sizeof(g->json), buf_str(&b));
    buf_reset(&b);
    decision_text(d, &b);
    cp(g->text, sizeof(g->text), buf_str(&b));
    buf_free(&b);
}

/* next_word - the next blank-separated word of *cur, NUL-terminated in place */
static __attribute__((unused)) char *
next_word(char **cur)
{
    char *s = *cur;

    while (*s == ' ' || *s == '\t')
        s++;
    if (*s == 0)
        return NULL;
    char *w = s;
    while (*s && *s != ' ' && *s != '\t')
        s++;
    if (*s)
        *s++ = 0;
    *cur = s;
    return w;
}

/*
 * fx_new - a fixture from a small configuration, one item per line:
 *	rule NAME SPEC | override PATTERN SPEC | exempt PATTERN | own CIDR
 */
static __attribute__((unused)) fx *
fx_new(const char *conf)
{
    fx *f = calloc(1, sizeof(*f));
    char *copy = strdup(conf), *save = NULL, err[256] = "";

    assert_non_null(f);
    assert_non_null(copy);
    f->p = policy_new();
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *cur = line, *kw = next_word(&cur), *arg;
        int rc = -1;
        if (kw == NULL)
            continue;
        arg = next_word(&cur);
        assert_non_null(arg);
        if (strcmp(kw, "rule") == 0)
            rc = policy_rule_parse(f->p, arg, cur, err, sizeof(err));
        else if (strcmp(kw, "override") == 0)
            rc = policy_override_parse(f->p, arg, cur, err, sizeof(err));
        else if (strcmp(kw, "exempt") == 0)
            rc = policy_exempt_add(f->p, arg, err, sizeof(err));
        else if (strcmp(kw, "own") == 0)
            rc = policy_own_net_add(f->p, arg, err, sizeof(err));
        else
            fail_msg("test configuration: unknown keyword %s", kw);
        if (rc != 0)
            fail_msg("test configuration: %s %s: %s", kw, arg, err);
    }
    free(copy);
    if (policy_finish(f->p, err, sizeof(err)) != 0)
        fail_msg("test configuration: %s", err);
    f->e = engine_new(f->p, on_decision, f);
    return f;
}

static __attribute__((unused)) void
fx_free(fx *f)
{
    engine_free(f->e);
    policy_free(f->p);
    free(f);
}

/* fx_dump - print what was decided (to explain a failure) */
static __attribute__((unused)) void
fx_dump(const fx *f)
{
    print_message("%d decision(s):\n", f->n);
    for (int i = 0; i < f->n; i++)
        print_message("  %s", f->d[i].json);
}

/* check_json - every decision's JSON is one valid line starting as the README says */
static __attribute__((unused)) void
check_json(const fx *f)
{
    for (int i = 0; i < f->n; i++) {
        const got *g = &f->d[i];
        char ts[48], prefix[512];
        hj_buf acct = HJ_BUF_INIT;
        if (!json_valid(g->json))
            fail_msg("invalid JSON: %s", g->json);
        size_t len = strlen(g->json);
        if (len < 2 || g->json[len - 1] != '\n' || strchr(g->json, '\n') != g->json + len - 1)
            fail_msg("not exactly one line: %s", g->json);
        timeconv_rfc3339(g->t, g->tzoff, ts, sizeof(ts));
        buf_json_str(&acct, g->entity, strlen(g->entity));
        snprintf(prefix, sizeof(prefix),
                 "{\"ts\":\"%s\",\"account\":%s,\"action\":\"%s\",\"rule\":\"%s\",", ts,
                 buf_str(&acct), policy_action_name(g->action), g->rule);
        buf_free(&acct);
        if (strncmp(g->json, prefix, strlen(prefix)) != 0)
            fail_msg("JSON does not start with %s: %s", prefix, g->json);
        if (g->text[0] == 0 || g->text[strlen(g->text) - 1] != '\n')
            fail_msg("text form: \"%s\"", g->text);
    }
}

/* ---- events ---- */

static __attribute__((unused)) void
ev_mail(fx *f, int64_t t, const char *acct, const char *sender, const char *ip, int64_t nrcpt,
        int64_t size)
{
    hj_event ev = {.type = HJ_EV_SUBMIT,
                   .t = t,
                   .account = acct,
                   .client_ip = ip,
                   .client_name = "client.example.net",
                   .service = "submission",
                   .sasl_method = "PLAIN",
                   .queue_id = "4ABC123DEF",
                   .sender = sender,
                   .nrcpt = nrcpt,
                   .size = size,
                   .helo = "pc",
                   .message_id = "<m@pc>"};

    engine_event(f->e, &ev);
}

static __attribute__((unused)) void
ev_submit(fx *f, int64_t t, const char *acct, const char *ip, int64_t nrcpt)
{
    ev_mail(f, t, acct, acct, ip, nrcpt, 1000);
}

static __attribute__((unused)) void
ev_simple(fx *f, hj_event_type type, int64_t t, const char *acct, const char *ip)
{
    hj_event ev = {.type = type,
                   .t = t,
                   .account = acct,
                   .client_ip = ip,
                   .service = "smtpd",
                   .sasl_method = "LOGIN"};

    engine_event(f->e, &ev);
}

static __attribute__((unused)) void
ev_delivery(fx *f, int64_t t, const char *acct, const char *ip, hj_dlv_status st)
{
    hj_event ev = {.type = HJ_EV_DELIVERY,
                   .t = t,
                   .account = acct,
                   .client_ip = ip,
                   .sender = acct,
                   .queue_id = "4ABC123DEF",
                   .rcpt = "someone@dest.test",
                   .relay = "mx.dest.test[192.0.2.25]:25",
                   .dsn = st == HJ_DLV_SENT ? "2.0.0" : "5.1.1",
                   .status = st};

    engine_event(f->e, &ev);
}

static __attribute__((unused)) void
ev_relay(fx *f, int64_t t, const char *ip)
{
    hj_event ev = {.type = HJ_EV_RELAY,
                   .t = t,
                   .account = "",
                   .client_ip = ip,
                   .sender = "spammer@outside.test",
                   .rcpt = "victim@elsewhere.test"};

    engine_event(f->e, &ev);
}

/* ---- shared names and the account-totals collector ---- */

#define A "u@example.com"
#define B "other@example.com"
#define IPX "203.0.113.5"
#define MD "rule md metric=recipients window=30m limit=500 action=lock\n"

typedef struct acct_seen {
    int n;
    char name[8][64];
    hj_totals tot[8];
} acct_seen;

static __attribute__((unused)) void
on_account(void *ctx, const char *name, const hj_totals *t)
{
    acct_seen *s = ctx;

    if (s->n < 8) {
        cp(s->name[s->n], sizeof(s->name[0]), name);
        s->tot[s->n++] = *t;
    }
}

static __attribute__((unused)) const hj_totals *
find_account(const acct_seen *s, const char *name)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->name[i], name) == 0)
            return &s->tot[i];
    return NULL;
}

#endif
