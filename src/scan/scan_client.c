/*
 * scan_client - one scanner asked on the loop: limits, timeout, breaker (see scan_client.h)
 *
 * Each submit is a scan_job on the client's list with one timer: the scan timeout, or, for a
 * verdict known at once (too big, busy, breaker open, connect failed), an event made active at
 * once, so fn is never called inside scan_submit(). finish() is the one way out of a job: it
 * unlinks and frees the job, counts the verdict, moves the breaker, then calls fn last, so fn
 * may submit again or free the client. Writing to a scanner that died raises SIGPIPE: the daemon
 * ignores it (live.c), and so must any other program using this client.
 */
#include "scan_client.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../util/alloc.h"
#include "scan_parse.h"

typedef struct scan_job scan_job;

struct scan_job {
    scan_client *c;
    scan_job *prev, *next;
    struct bufferevent *bev; /* NULL until tried */
    struct event *timer;
    scan_done_fn fn;
    void *arg;
    int64_t t0_us;
    scan_verdict v;
    int preset;    /* v is the verdict already: the timer only delivers it */
    int attempted; /* it took an in-flight slot and counts for the breaker */
    int probe;     /* the half-open breaker's one try */
    int connected;
};

struct scan_client {
    struct event_base *base;
    scan_config cfg;
    scan_target t;
    scan_job *jobs;
    unsigned failures; /* consecutive */
    int64_t open_until_us;
    int closing;
    scan_stats st;
};

static int64_t
now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

scan_client *
scan_client_new(struct event_base *base, const scan_config *cfg, char *err, size_t errlen)
{
    scan_client *c = xcalloc(1, sizeof(*c));

    if (scan_target_parse(cfg->spec ? cfg->spec : "", &c->t, err, errlen) != 0) {
        free(c);
        return NULL;
    }
    c->base = base;
    c->cfg = *cfg;
    c->cfg.spec = NULL; /* not kept: c->t has it */
    if (c->cfg.max_inflight == 0)
        c->cfg.max_inflight = 1;
    return c;
}

void
scan_client_stats(const scan_client *c, scan_stats *st)
{
    *st = c->st;
}

/* breaker_to - move the breaker, telling on_state */
static void
breaker_to(scan_client *c, scan_breaker to, const scan_verdict *why)
{
    scan_breaker from = c->st.breaker;

    if (from == to)
        return;
    c->st.breaker = to;
    if (to == SCAN_B_OPEN) {
        c->st.breaker_opened++;
        c->open_until_us = now_us() + c->cfg.breaker_ms * 1000;
    }
    if (c->cfg.on_state)
        c->cfg.on_state(c->cfg.state_arg, from, to, why);
}

static int
is_failure(const scan_verdict *v)
{
    return v->cls == SCAN_UNSCANNED &&
           (v->reason == SCAN_R_TIMEOUT || v->reason == SCAN_R_REFUSED || v->reason == SCAN_R_IO ||
            v->reason == SCAN_R_BAD_REPLY);
}

/* account - count a tried scan's verdict and move the breaker */
static void
account(scan_client *c, const scan_job *j, const scan_verdict *v)
{
    if (!j->attempted || v->reason == SCAN_R_SHUTDOWN)
        return;
    if (!is_failure(v)) {
        c->failures = 0;
        breaker_to(c, SCAN_B_CLOSED, v);
        return;
    }
    c->failures++;
    if (c->st.breaker == SCAN_B_HALF_OPEN && j->probe)
        breaker_to(c, SCAN_B_OPEN, v);
    else if (c->st.breaker == SCAN_B_CLOSED && c->cfg.breaker_failures > 0 &&
             c->failures >= c->cfg.breaker_failures)
        breaker_to(c, SCAN_B_OPEN, v);
}

/* finish - the one way out of a job: unlink, free, count, then fn */
static void
finish(scan_job *j)
{
    scan_client *c = j->c;
    scan_verdict v = j->v;
    scan_done_fn fn = j->fn;
    void *arg = j->arg;

    v.elapsed_ms = (double)(now_us() - j->t0_us) / 1000.0;
    if (j->prev)
        j->prev->next = j->next;
    else
        c->jobs = j->next;
    if (j->next)
        j->next->prev = j->prev;
    if (j->bev)
        bufferevent_free(j->bev);
    if (j->attempted)
        c->st.inflight--;
    event_free(j->timer);
    c->st.cls[v.cls]++;
    if (v.cls == SCAN_UNSCANNED)
        c->st.unscanned[v.reason]++;
    account(c, j, &v);
    free(j);
    if (fn)
        fn(arg, &v);
}

/* preset - the verdict is known now: deliver it from the loop */
static void
preset(scan_job *j, scan_reason why, const char *detail)
{
    scan_unscanned(&j->v, why, detail);
    j->preset = 1;
    event_active(j->timer, EV_TIMEOUT, 1);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
    scan_job *j = arg;

    (void)fd, (void)what;
    if (!j->preset)
        scan_unscanned(&j->v, SCAN_R_TIMEOUT, NULL);
    finish(j);
}

/* parse_reply - the bytes read, whole: the verdict */
static void
parse_reply(scan_job *j, const char *p, size_t n)
{
    const char *body;
    size_t blen;
    int status;
    char why[32];

    if (n == 0)
        scan_unscanned(&j->v, SCAN_R_BAD_REPLY, "closed without a reply");
    else if (j->c->t.kind == SCAN_SPAMD)
        scan_spamd_parse(p, n, &j->c->cfg.rules, &j->v);
    else if (scan_http_reply(p, n, &status, &body, &blen) != 0)
        scan_unscanned(&j->v, SCAN_R_BAD_REPLY, "not an HTTP reply");
    else if (status != 200) {
        snprintf(why, sizeof(why), "HTTP %d", status);
        scan_unscanned(&j->v, SCAN_R_BAD_REPLY, why);
    } else
        scan_rspamd_parse(body, blen, &j->c->cfg.rules, &j->v);
}

static void
on_read(struct bufferevent *bev, void *arg)
{
    scan_job *j = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    size_t n = evbuffer_get_length(in);
    const char *p;

    if (n > SCAN_MAX_REPLY) {
        scan_unscanned(&j->v, SCAN_R_BAD_REPLY, "reply too big");
        finish(j);
        return;
    }
    p = (const char *)evbuffer_pullup(in, -1);
    if (scan_reply_complete(p, n)) {
        parse_reply(j, p, n);
        finish(j);
    }
}

static void
on_event(struct bufferevent *bev, short what, void *arg)
{
    scan_job *j = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    int e = EVUTIL_SOCKET_ERROR();

    if (what & BEV_EVENT_CONNECTED) {
        j->connected = 1;
        return;
    }
    if (what & BEV_EVENT_EOF) {
        size_t n = evbuffer_get_length(in);
        parse_reply(j, (const char *)evbuffer_pullup(in, -1), n);
    } else {
        scan_unscanned(&j->v, e == ECONNREFUSED || !j->connected ? SCAN_R_REFUSED : SCAN_R_IO,
                       evutil_socket_error_to_string(e));
    }
    finish(j);
}

/* admit - why not to try this scan now, or SCAN_R_NONE */
static scan_reason
admit(scan_client *c, scan_job *j, size_t len)
{
    if (c->closing)
        return SCAN_R_SHUTDOWN;
    if (len > c->cfg.max_size)
        return SCAN_R_TOO_BIG;
    if (c->st.inflight >= c->cfg.max_inflight)
        return SCAN_R_BUSY;
    if (c->st.breaker == SCAN_B_HALF_OPEN)
        return SCAN_R_BREAKER_OPEN;
    if (c->st.breaker == SCAN_B_OPEN) {
        if (now_us() < c->open_until_us)
            return SCAN_R_BREAKER_OPEN;
        breaker_to(c, SCAN_B_HALF_OPEN, NULL);
        j->probe = 1;
    }
    return SCAN_R_NONE;
}

/* start - connect and queue the request: 0, or -1 (the connection could not be started) */
static int
start(scan_client *c, scan_job *j, const char *msg, size_t len, const scan_envelope *env)
{
    hj_buf head = HJ_BUF_INIT;

    j->attempted = 1;
    c->st.inflight++;
    j->bev = bufferevent_socket_new(c->base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (j->bev == NULL)
        return -1;
    if (c->t.kind == SCAN_RSPAMD)
        scan_rspamd_request(&head, &c->t, env, len);
    else
        scan_spamd_request(&head, env, len);
    bufferevent_setcb(j->bev, on_read, NULL, on_event, j);
    bufferevent_write(j->bev, head.s, head.len);
    bufferevent_write(j->bev, msg, len);
    buf_free(&head);
    bufferevent_enable(j->bev, EV_READ | EV_WRITE);
    return bufferevent_socket_connect(j->bev, (struct sockaddr *)&c->t.sa, (int)c->t.salen);
}

void
scan_submit(scan_client *c, const char *msg, size_t len, const scan_envelope *env,
            scan_done_fn fn, void *arg)
{
    scan_job *j = xcalloc(1, sizeof(*j));
    scan_reason why;

    j->c = c, j->fn = fn, j->arg = arg, j->t0_us = now_us();
    scan_verdict_init(&j->v);
    j->timer = evtimer_new(c->base, on_timer, j);
    if (j->timer == NULL)
        abort(); /* out of memory, as xcalloc */
    j->next = c->jobs;
    if (c->jobs)
        c->jobs->prev = j;
    c->jobs = j;
    c->st.submitted++;
    if ((why = admit(c, j, len)) != SCAN_R_NONE) {
        preset(j, why, NULL);
        return;
    }
    if (start(c, j, msg, len, env) != 0) {
        preset(j, SCAN_R_REFUSED, evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
        return;
    }
    struct timeval tv = {(time_t)(c->cfg.timeout_ms / 1000),
                         (suseconds_t)(c->cfg.timeout_ms % 1000) * 1000};
    evtimer_add(j->timer, &tv);
}

void
scan_client_free(scan_client *c)
{
    if (c == NULL)
        return;
    c->closing = 1;
    while (c->jobs) {
        scan_job *j = c->jobs;
        if (!j->preset)
            scan_unscanned(&j->v, SCAN_R_SHUTDOWN, NULL);
        finish(j);
    }
    free(c);
}
