/*
 * policysrv - the policy service's sockets (see policysrv.h)
 *
 * Why one libevent loop and no threads: the work per request is a few
 * microseconds of engine time on shared state (one engine, one store),
 * so threads would add locking for nothing; the loop keeps thousands of
 * idle Postfix connections for a few hundred bytes each. The benchmark
 * (bench/policy-bench.sh, docs/PERFORMANCE.md) measures it against the
 * do-nothing floor server.
 */
#include "policysrv.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "../util/alloc.h"
#include "../util/listener.h"
#include "../util/log.h"
#include "../util/peergate.h"

struct policysrv {
    policysrv_conf c;
    char *listen;
    char *parse_reply;
    struct event_base *base;
    struct evconnlistener *lst;
    policysrv_fn fn;
    void *ctx;
    policysrv_counts n;
    struct conn *conns; /* every open connection, to close them at the end */
    int is_unix;
    peergate gate; /* policy_allow_users */
};

typedef struct conn {
    struct conn *prev, *next;
    policysrv *ps;
    struct bufferevent *bev;
    char peer[64];
    int closing; /* answer the last words, then close */
    int partial; /* a request has begun */
} conn;

/* conn_free - close one connection */
static void
conn_free(conn *k)
{
    if (k->prev)
        k->prev->next = k->next;
    else
        k->ps->conns = k->next;
    if (k->next)
        k->next->prev = k->prev;
    k->ps->n.connections_now--;
    bufferevent_free(k->bev);
    free(k);
}

/* conn_timeouts - idle between requests, shorter once a request has begun */
static void
conn_timeouts(conn *k, int partial)
{
    struct timeval tv = {partial ? k->ps->c.request_timeout : k->ps->c.idle_timeout, 0};

    k->partial = partial;
    bufferevent_set_timeouts(k->bev, &tv, NULL);
}

/* conn_malformed - answer the configured failure action, then close */
static void
conn_malformed(conn *k, const char *why)
{
    policysrv *ps = k->ps;

    ps->n.malformed++;
    log_warn("policy client %s: %s: closing the connection", k->peer, why);
    k->closing = 1;
    bufferevent_disable(k->bev, EV_READ);
    if (ps->parse_reply)
        bufferevent_write(k->bev, ps->parse_reply, strlen(ps->parse_reply));
    if (evbuffer_get_length(bufferevent_get_output(k->bev)) == 0)
        conn_free(k);
}

/* flush_out - the answers: written at once when nothing waits before them, else queued */
static void
flush_out(struct bufferevent *bev, const char *out, size_t n)
{
    ssize_t w = 0;

    if (n == 0)
        return;
    if (evbuffer_get_length(bufferevent_get_output(bev)) == 0) {
        w = send(bufferevent_getfd(bev), out, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0)
            w = 0; /* EAGAIN or an error: the bufferevent writes it or reports the error */
    }
    if ((size_t)w < n)
        bufferevent_write(bev, out + w, n - (size_t)w);
}

/* on_read - answer every complete request in the input */
static void
on_read(struct bufferevent *bev, void *arg)
{
    conn *k = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    char reply[POLICY_MAX_REPLY], err[160];
    char out[8192];
    size_t nout = 0;

    for (;;) {
        size_t len = evbuffer_get_length(in), used = 0;
        if (len == 0)
            break;
        const char *p = (const char *)evbuffer_pullup(in, (ev_ssize_t)len);
        policy_req req;
        int rc = policy_parse(p, len, &req, &used, err, sizeof(err));
        if (rc < 0) {
            flush_out(bev, out, nout);
            conn_malformed(k, err);
            return;
        }
        if (rc == 0) {
            flush_out(bev, out, nout);
            if (!k->partial)
                conn_timeouts(k, 1);
            return;
        }
        k->ps->n.requests++;
        size_t n = k->ps->fn(k->ps->ctx, &req, reply, sizeof(reply));
        evbuffer_drain(in, used);
        if (nout + n > sizeof(out)) {
            flush_out(bev, out, nout);
            nout = 0;
        }
        memcpy(out + nout, reply, n);
        nout += n;
    }
    flush_out(bev, out, nout);
    if (k->partial)
        conn_timeouts(k, 0);
}

/* on_write - a closing connection goes once its last answer is out */
static void
on_write(struct bufferevent *bev, void *arg)
{
    conn *k = arg;

    (void)bev;
    if (k->closing)
        conn_free(k);
}

/* on_event - end of file, error or timeout: close */
static void
on_event(struct bufferevent *bev, short what, void *arg)
{
    conn *k = arg;

    (void)bev;
    if (what & BEV_EVENT_TIMEOUT) {
        k->ps->n.timeouts++;
        log_warn("policy client %s: %s: closing the connection", k->peer,
                 k->partial ? "request not completed in time" : "idle too long");
    } else if ((what & BEV_EVENT_ERROR) && errno != ECONNRESET && errno != EPIPE) {
        log_warn("policy client %s: %s", k->peer, strerror(errno));
    }
    conn_free(k);
}

/* on_accept - a new Postfix connection */
static void
on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen, void *arg)
{
    policysrv *ps = arg;

    (void)l, (void)salen;
    if (!peergate_ok(&ps->gate, fd)) {
        ps->n.refused_peer++;
        evutil_closesocket(fd);
        return;
    }
    if (ps->n.connections_now >= ps->c.max_connections) {
        ps->n.refused_over_max++;
        log_warn("policy: %lld connections already: refusing one more",
                 (long long)ps->n.connections_now);
        evutil_closesocket(fd);
        return;
    }
    conn *k = xcalloc(1, sizeof(*k));
    k->ps = ps;
    listener_peer_name(sa, k->peer, sizeof(k->peer));
    k->bev = bufferevent_socket_new(ps->base, fd, BEV_OPT_CLOSE_ON_FREE);
    bufferevent_setcb(k->bev, on_read, on_write, on_event, k);
    bufferevent_setwatermark(k->bev, EV_READ, 0, POLICY_MAX_REQUEST + 4096);
    conn_timeouts(k, 0);
    bufferevent_enable(k->bev, EV_READ | EV_WRITE);
    k->next = ps->conns;
    if (ps->conns)
        ps->conns->prev = k;
    ps->conns = k;
    ps->n.connections_now++;
    ps->n.connections_total++;
}

void
policysrv_allow(policysrv *ps, char *const *users, size_t nusers)
{
    peergate_allow(&ps->gate, users, nusers);
}

policysrv *
policysrv_new(struct event_base *base, const policysrv_conf *c, policysrv_fn fn, void *ctx,
              char *err, size_t errlen)
{
    evutil_socket_t fd = c->listen[0] == '/'
                             ? listener_unix(c->listen, c->socket_mode, 1024, err, errlen)
                             : listener_tcp(c->listen, 1024, err, errlen);

    if (fd < 0)
        return NULL;
    policysrv *ps = xcalloc(1, sizeof(*ps));
    ps->c = *c;
    ps->listen = xstrdup(c->listen);
    ps->c.listen = ps->listen;
    ps->parse_reply = c->parse_error_reply ? xstrdup(c->parse_error_reply) : NULL;
    ps->base = base;
    ps->fn = fn;
    ps->ctx = ctx;
    ps->is_unix = c->listen[0] == '/';
    ps->c.allow_users = NULL, ps->c.nallow_users = 0; /* the caller's: kept as uids only */
    peergate_init(&ps->gate, "policy", "policy_allow_users", ps->is_unix);
    peergate_allow(&ps->gate, c->allow_users, c->nallow_users);
    if (!ps->is_unix)
        log_warn("policy_listen %s is TCP: every local user may send policy requests (lock any "
                 "account, teach it networks); a unix socket lets only policy_allow_users ask",
                 c->listen);
    ps->lst = evconnlistener_new(base, on_accept, ps, LEV_OPT_CLOSE_ON_FREE, -1, fd);
    if (ps->lst == NULL) {
        snprintf(err, errlen, "%s: cannot listen", c->listen);
        close(fd);
        policysrv_free(ps);
        return NULL;
    }
    return ps;
}

void
policysrv_stats(const policysrv *ps, policysrv_counts *out)
{
    *out = ps->n;
}

void
policysrv_free(policysrv *ps)
{
    if (ps == NULL)
        return;
    if (ps->lst)
        evconnlistener_free(ps->lst);
    while (ps->conns)
        conn_free(ps->conns);
    if (ps->listen[0] == '/')
        unlink(ps->listen);
    free(ps->listen);
    free(ps->parse_reply);
    peergate_free(&ps->gate);
    free(ps);
}
