/*
 * miltersrv - the milter's sockets (see miltersrv.h)
 *
 * One libevent loop, like the policy service: the codec (src/milter/) is pure and the work per
 * packet is a copy or a core verdict, so a connection costs a bufferevent and one packet.
 */
#include "miltersrv.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../util/alloc.h"
#include "../util/listener.h"
#include "../util/log.h"
#include "../util/peergate.h"

struct miltersrv {
    miltersrv_conf c;
    char *listen;
    struct event_base *base;
    struct evconnlistener *lst;
    miltersrv_ops ops;
    void *ctx;
    miltersrv_counts n;
    struct mconn *conns;
    peergate gate; /* milter_allow_users */
};

typedef struct mconn {
    struct mconn *prev, *next;
    miltersrv *ms;
    struct bufferevent *bev;
    milter_parser *parser;
    void *session;
    char peer[64];
    int closing; /* write what is queued, then close */
    int partial; /* a packet has begun */
    hj_buf out;
} mconn;

static void
conn_free(mconn *k)
{
    miltersrv *ms = k->ms;

    if (k->prev)
        k->prev->next = k->next;
    else
        ms->conns = k->next;
    if (k->next)
        k->next->prev = k->prev;
    ms->n.connections_now--;
    if (ms->ops.close)
        ms->ops.close(ms->ctx, k->session);
    milter_parser_free(k->parser);
    bufferevent_free(k->bev);
    buf_free(&k->out);
    free(k);
}

/* conn_timeouts - idle between packets, shorter once one has begun */
static void
conn_timeouts(mconn *k, int partial)
{
    struct timeval tv = {partial ? k->ms->c.packet_timeout : k->ms->c.idle_timeout, 0};

    k->partial = partial;
    bufferevent_set_timeouts(k->bev, &tv, NULL);
}

/* conn_close_after - stop reading; close once the queued replies are out */
static void
conn_close_after(mconn *k)
{
    k->closing = 1;
    bufferevent_disable(k->bev, EV_READ);
    if (evbuffer_get_length(bufferevent_get_output(k->bev)) == 0)
        conn_free(k);
}

/* conn_bad - the codec refused the peer's bytes: one line, close */
static void
conn_bad(mconn *k)
{
    const char *msg = "?";
    int code = milter_parser_error(k->parser, &msg);

    k->ms->n.malformed++;
    log_warn("milter client %s: %s (%s): closing the connection", k->peer, msg,
             milter_err_name(code));
}

/* feed - hand every complete packet of in to the session; -1 when the connection must go */
static int
feed(mconn *k, struct evbuffer *in)
{
    for (;;) {
        size_t len = evbuffer_get_length(in), used = 0;
        if (len == 0)
            return 0;
        const char *p = (const char *)evbuffer_pullup(in, (ev_ssize_t)len);
        milter_cmd cmd;
        int rc = milter_parse(k->parser, p, len, &used, &cmd);
        evbuffer_drain(in, used);
        if (rc < 0) {
            conn_bad(k);
            return -1;
        }
        if (rc == 0) {
            if (!k->partial)
                conn_timeouts(k, 1);
            return 0;
        }
        k->ms->n.packets++;
        if (k->ms->ops.command(k->ms->ctx, k->session, &cmd, &k->out) != 0)
            return -1;
        if (k->partial)
            conn_timeouts(k, 0);
    }
}

static void
on_read(struct bufferevent *bev, void *arg)
{
    mconn *k = arg;
    int rc = feed(k, bufferevent_get_input(bev));

    if (k->out.len) {
        bufferevent_write(bev, k->out.s, k->out.len);
        buf_reset(&k->out);
    }
    if (rc != 0)
        conn_close_after(k);
}

static void
on_write(struct bufferevent *bev, void *arg)
{
    mconn *k = arg;

    (void)bev;
    if (k->closing)
        conn_free(k);
}

static void
on_event(struct bufferevent *bev, short what, void *arg)
{
    mconn *k = arg;

    (void)bev;
    if (what & BEV_EVENT_TIMEOUT) {
        k->ms->n.timeouts++;
        log_warn("milter client %s: %s: closing the connection", k->peer,
                 k->partial ? "packet not completed in time" : "idle too long");
    } else if ((what & BEV_EVENT_ERROR) && errno != ECONNRESET && errno != EPIPE) {
        log_warn("milter client %s: %s", k->peer, strerror(errno));
    }
    conn_free(k);
}

static void
on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen, void *arg)
{
    miltersrv *ms = arg;

    (void)l, (void)salen;
    if (!peergate_ok(&ms->gate, fd)) {
        ms->n.refused_peer++;
        evutil_closesocket(fd);
        return;
    }
    if (ms->n.connections_now >= ms->c.max_connections) {
        ms->n.refused_over_max++;
        log_warn("milter: %lld connections already: refusing one more",
                 (long long)ms->n.connections_now);
        evutil_closesocket(fd);
        return;
    }
    if (sa->sa_family == AF_INET || sa->sa_family == AF_INET6) { /* a late verdict goes at once */
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    mconn *k = xcalloc(1, sizeof(*k));
    k->ms = ms;
    k->out = (hj_buf)HJ_BUF_INIT;
    listener_peer_name(sa, k->peer, sizeof(k->peer));
    k->parser = milter_parser_new(ms->c.max_packet);
    k->bev = bufferevent_socket_new(ms->base, fd, BEV_OPT_CLOSE_ON_FREE);
    bufferevent_setcb(k->bev, on_read, on_write, on_event, k);
    /* the codec holds a packet itself: the input buffer needs only a read's worth */
    bufferevent_setwatermark(k->bev, EV_READ, 0, 64 * 1024);
    conn_timeouts(k, 0);
    bufferevent_enable(k->bev, EV_READ | EV_WRITE);
    k->next = ms->conns;
    if (ms->conns)
        ms->conns->prev = k;
    ms->conns = k;
    ms->n.connections_now++;
    ms->n.connections_total++;
    k->session = ms->ops.open ? ms->ops.open(ms->ctx, k->peer, k) : NULL;
}

void
miltersrv_send(miltersrv_conn *k, const char *data, size_t len)
{
    if (!k->closing && len)
        bufferevent_write(k->bev, data, len);
}

void
miltersrv_allow(miltersrv *ms, char *const *users, size_t nusers)
{
    peergate_allow(&ms->gate, users, nusers);
}

miltersrv *
miltersrv_new(struct event_base *base, const miltersrv_conf *c, const miltersrv_ops *ops,
              void *ctx, char *err, size_t errlen)
{
    int is_unix = c->listen[0] == '/';
    evutil_socket_t fd = is_unix ? listener_unix(c->listen, c->socket_mode, 1024, err, errlen)
                                 : listener_tcp(c->listen, 1024, err, errlen);

    if (fd < 0)
        return NULL;
    miltersrv *ms = xcalloc(1, sizeof(*ms));
    ms->c = *c;
    ms->listen = xstrdup(c->listen);
    ms->c.listen = ms->listen;
    ms->c.allow_users = NULL, ms->c.nallow_users = 0; /* the caller's: kept as uids only */
    ms->base = base;
    ms->ops = *ops;
    ms->ctx = ctx;
    peergate_init(&ms->gate, "milter", "milter_allow_users", is_unix);
    peergate_allow(&ms->gate, c->allow_users, c->nallow_users);
    if (!is_unix)
        log_warn("milter_listen %s is TCP: every local user may speak to the milter (count mail "
                 "for any account); a unix socket lets only milter_allow_users in",
                 c->listen);
    ms->lst = evconnlistener_new(base, on_accept, ms, LEV_OPT_CLOSE_ON_FREE, -1, fd);
    if (ms->lst == NULL) {
        snprintf(err, errlen, "%s: cannot listen", c->listen);
        close(fd);
        miltersrv_free(ms);
        return NULL;
    }
    return ms;
}

void
miltersrv_stats(const miltersrv *ms, miltersrv_counts *out)
{
    *out = ms->n;
}

void
miltersrv_free(miltersrv *ms)
{
    if (ms == NULL)
        return;
    if (ms->lst)
        evconnlistener_free(ms->lst);
    while (ms->conns)
        conn_free(ms->conns);
    if (ms->listen[0] == '/')
        unlink(ms->listen);
    free(ms->listen);
    peergate_free(&ms->gate);
    free(ms);
}
