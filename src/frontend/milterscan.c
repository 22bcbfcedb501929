/*
 * milterscan - the milter's content scan (see milterscan.h)
 */
#include "milterscan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../util/alloc.h"
#include "../util/log.h"

struct milterscan {
    core *C;
    scan_client *client;
    int64_t held;       /* bytes held by every connection's message */
    int64_t down_since; /* when the breaker left closed (time(NULL)); 0: closed */
    char why[160];      /* what opened it */
};

/* on_state - one line per change of the breaker; when the scanner went down, and why. why is
 * NULL for open -> half-open (the open time ran out: no verdict caused it) */
static void
on_state(void *arg, scan_breaker from, scan_breaker to, const scan_verdict *why)
{
    milterscan *sc = arg;
    char what[160] = "its open time ran out: the next message is the probe";

    if (why)
        snprintf(what, sizeof(what), "%s%s%s", scan_reason_name(why->reason),
                 why->detail[0] ? ": " : "", why->detail);
    if (to == SCAN_B_CLOSED)
        sc->down_since = 0;
    else if (sc->down_since == 0) {
        sc->down_since = (int64_t)time(NULL);
        memcpy(sc->why, what, sizeof(sc->why));
    }
    log_warn("spam scanner: %s -> %s (%s)%s", scan_breaker_name(from), scan_breaker_name(to), what,
             to == SCAN_B_CLOSED ? "" : ": messages pass unscanned while it is open");
}

milterscan *
milterscan_new(struct event_base *base, core *C, char *err, size_t errlen)
{
    const hj_conf *c = core_conf(C);
    scan_config cfg = {.spec = c->spam_scanner,
                       .timeout_ms = c->spam_scan_timeout * 1000,
                       .max_size = (size_t)c->spam_scan_max_size,
                       .max_inflight = (size_t)c->spam_scan_max_inflight,
                       .breaker_failures = (unsigned)c->spam_breaker_failures,
                       .breaker_ms = c->spam_breaker_time * 1000,
                       .on_state = on_state};

    err[0] = 0;
    if (c->spam_scanner == NULL || c->spam_scanner[0] == 0)
        return NULL;
    scan_rules_default(&cfg.rules);
    cfg.rules.suspect_percent = (unsigned)c->spam_suspect_percent;
    for (size_t i = 0; i < c->nspam_rspamd_classes; i++)
        if (scan_rules_set(&cfg.rules, c->spam_rspamd_classes[i], err, errlen) != 0)
            return NULL;
    milterscan *sc = xcalloc(1, sizeof(*sc)); /* on_state's arg */
    cfg.state_arg = sc;
    sc->C = C;
    if ((sc->client = scan_client_new(base, &cfg, err, errlen)) == NULL) {
        free(sc);
        return NULL;
    }
    return sc;
}

/* is_local - is domain one of local_domains (or, with none set, the account's own) */
static int
is_local(const hj_conf *c, const char *account, const char *domain)
{
    for (size_t i = 0; i < c->nlocal; i++)
        if (strcasecmp(c->local_domains[i], domain) == 0)
            return 1;
    const char *own = strrchr(account, '@');
    return c->nlocal == 0 && own && strcasecmp(own + 1, domain) == 0;
}

void
milterscan_rcpt(milterscan *sc, mscan_msg *m, const char *account, const char *rcpt)
{
    const char *at = strrchr(rcpt, '@');
    char dom[256];

    if (sc == NULL)
        return;
    if (at == NULL) {
        m->external = 1; /* no domain: nothing says it stays here */
        return;
    }
    snprintf(dom, sizeof(dom), "%s", at + 1);
    dom[strcspn(dom, ">")] = 0;
    if (!is_local(core_conf(sc->C), account, dom))
        m->external = 1;
}

/* release - the message's bytes out of the budget; its flags stay */
static void
release(milterscan *sc, mscan_msg *m)
{
    if (sc)
        sc->held -= (int64_t)m->counted;
    m->counted = 0;
    buf_free(&m->b);
    m->b = (hj_buf)HJ_BUF_INIT;
}

void
milterscan_add(milterscan *sc, mscan_msg *m, const char *p, size_t n)
{
    const hj_conf *c;

    if (sc == NULL || m->refused || n == 0)
        return;
    c = core_conf(sc->C);
    if (m->b.len + n > (size_t)c->spam_scan_max_size + 1) {
        m->refused = SCAN_R_TOO_BIG;
    } else if (sc->held + (int64_t)n > c->spam_scan_buffer_max) {
        m->refused = SCAN_R_BUSY;
    } else {
        buf_add(&m->b, p, n);
        m->counted += n;
        sc->held += (int64_t)n;
        return;
    }
    release(sc, m); /* what it held goes back to the budget; the reason stays */
}

/* wanted - does spam_scan_mail take this message */
static int
wanted(const milterscan *sc, const mscan_msg *m)
{
    int which = core_conf(sc->C)->spam_scan_mail;

    return which == CONF_SCAN_AUTHENTICATED || (which == CONF_SCAN_EXTERNAL && m->external);
}

int
milterscan_start(milterscan *sc, mscan_msg *m, const scan_envelope *env, scan_done_fn fn,
                 void *arg)
{
    if (sc == NULL || !wanted(sc, m))
        return 0;
    if (m->refused)
        return -1;
    scan_submit(sc->client, m->b.s ? m->b.s : "", m->b.len, env, fn, arg);
    return 1;
}

void
milterscan_reset(milterscan *sc, mscan_msg *m)
{
    release(sc, m);
    *m = (mscan_msg){.b = HJ_BUF_INIT};
}

void
milterscan_stats(const milterscan *sc, scan_stats *st, int64_t *held)
{
    *st = (scan_stats){0};
    *held = 0;
    if (sc == NULL)
        return;
    scan_client_stats(sc->client, st);
    *held = sc->held;
}

void
milterscan_core_spam(const scan_verdict *v, core_spam *out, char *symbols, size_t len)
{
    static const core_spam_class cls[SCAN__NCLASS] = {
        [SCAN_UNSCANNED] = CORE_SPAM_UNSCANNED, [SCAN_CLEAN] = CORE_SPAM_CLEAN,
        [SCAN_SUSPECT] = CORE_SPAM_SUSPECT,     [SCAN_SPAM] = CORE_SPAM_SPAM};
    size_t n = 0;

    out->cls = (unsigned)v->cls < SCAN__NCLASS ? cls[v->cls] : CORE_SPAM_UNSCANNED;
    out->score = v->cls == SCAN_UNSCANNED ? 0 : v->score;
    out->threshold = v->cls == SCAN_UNSCANNED ? 0 : v->threshold;
    if (len)
        symbols[0] = 0;
    for (size_t i = 0; i < v->nsym && n + 1 < len; i++) {
        int w = snprintf(symbols + n, len - n, "%s%s(%.1f)", n ? " " : "", v->sym[i].name,
                         v->sym[i].score);
        if (w < 0 || (size_t)w >= len - n) {
            symbols[n] = 0; /* a symbol that does not fit is left out whole */
            break;
        }
        n += (size_t)w;
    }
    out->symbols = len && symbols[0] ? symbols : NULL;
}

int64_t
milterscan_down_since(const milterscan *sc, const char **why)
{
    if (why)
        *why = sc && sc->down_since ? sc->why : "";
    return sc ? sc->down_since : 0;
}

void
milterscan_free(milterscan *sc)
{
    if (sc == NULL)
        return;
    scan_client_free(sc->client);
    free(sc);
}
