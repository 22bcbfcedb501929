/*
 * live_int - the daemon's state, shared by its modules (live.c, cmds.c, control.c, httpd.c)
 *
 * DESCRIPTION
 *	Not an API. One live struct per daemon, owned by live_main(); every
 *	module runs on its one libevent loop (single-threaded). The admin
 *	modules read the engine, the store and the configuration through it,
 *	and change state only through live_lock(), live_unlock() and
 *	live_reload(), which write the audit trail like the engine's own
 *	decisions.
 */
#ifndef HJ_LIVE_INT_H
#define HJ_LIVE_INT_H

#include <event2/event.h>
#include <stdint.h>

#include "../conf/conf.h"
#include "../engine/engine.h"
#include "../postfix/logline.h"
#include "../postfix/qtrack.h"
#include "../store/store.h"
#include "../util/buf.h"
#include "../util/htab.h"
#include "follow.h"
#include "policysrv.h"
#include "purge.h"

typedef struct ctlsrv ctlsrv;
typedef struct httpd httpd;
typedef struct metrics metrics;
typedef struct notify notify;

typedef struct live {
    const char *conf_path;
    char **opts;
    size_t nopts;
    int foreground;
    hj_conf *conf;
    hj_engine *eng;
    hj_store *store;
    struct event_base *base;
    policysrv *ps;
    struct event *ev_hup, *ev_term, *ev_int, *ev_tick;
    int pidfd;
    /* what the decisions of the current request did */
    const char *cur_acct;
    int cur_lock, cur_throttle, cur_store_err;
    hj_buf scratch;
    htab *instances; /* RCPT-stage counting: the last transaction (instance) per account */
    struct event *ev_flush;
    int flush_err; /* a flush failed: keep logging quiet until one succeeds */
    hj_buf blob;
    hj_engine *from; /* carry counters from this engine (reload) */
    follow *fw;      /* the Postfix log, followed */
    qtrack *qt;
    hj_logclock clk;
    struct event *ev_follow;
    /* the admin surface */
    int64_t started;
    const char *actor; /* who the current manual change is for ("uid 0"), else NULL */
    const char *reason;
    ctlsrv *ctl;  /* the control socket (control.c) */
    httpd *http;  /* the JSON API, dashboard, /metrics (httpd.c) */
    metrics *met; /* counters for /metrics (metrics.c) */
    htab *qids;   /* queue ID -> account, for hijackctl queue (bounded) */
    notify *nt;   /* alerts, notices, webhooks, reply-to-unlock (notify.c) */
    purger *pg;   /* lock_purge_queue's worker (purge.c) */
    char control_path[4200];
} live;

/* live.c: changes on behalf of an admin (actor: "uid 0", "api"); 0, or -1 when nothing to do
 * (the account is not locked, or already is), -2 on a store error */
int live_lock(live *L, const char *account, const char *actor, const char *reason);
int live_unlock(live *L, const char *account, const char *actor, const char *reason);
int live_reload(live *L); /* 0, or -1 (the old configuration stays; logged) */
const char *live_account_of(live *L, const char *queue_id);

#endif
