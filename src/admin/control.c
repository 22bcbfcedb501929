/*
 * control - hijackctl's unix control socket (see control.h)
 */
#include "control.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <grp.h>
#include <pwd.h>
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
#include "../util/peercred.h"
#include "cmds.h"

#define CONTROL_MAX_REQUEST 65536
#define CONTROL_TIMEOUT 10

struct ctlsrv {
    admin_env *A;
    struct evconnlistener *lev;
    int64_t now, max; /* connections open, and the cap (control_max_connections) */
    int capped;       /* a refusal was logged since the count was last below the cap */
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

/* in_group - is uid a member of the group named name (primary or supplementary) */
static int
in_group(uid_t uid, gid_t gid, const char *name)
{
    struct group *g = *name ? getgrnam(name) : NULL;
    struct passwd *pw = getpwuid(uid);
    gid_t groups[256];
    int n = 256;

    if (g == NULL)
        return 0;
    if (gid == g->gr_gid)
        return 1;
    if (pw == NULL || getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0)
        return 0;
    for (int i = 0; i < n; i++)
        if (groups[i] == g->gr_gid)
            return 1;
    return 0;
}

/* caller - who is on the other end (SO_PEERCRED): root or the admin group may change things;
 * they and the reader group may read (*reader) */
static int
caller(const ctlsrv *c, int fd, cmd_caller *who, int *reader, char *actor, size_t len)
{
    uid_t uid;
    gid_t gid;
    const hj_conf *cf = core_conf(c->A->C);

    if (peercred_uid(fd, &uid, &gid) != 0)
        return -1;
    snprintf(actor, len, "uid %ld", (long)uid);
    who->actor = actor;
    who->admin = uid == 0 || in_group(uid, gid, cf->admin_group);
    *reader = who->admin || in_group(uid, gid, cf->control_read_group);
    return 0;
}

/* conn_close - one connection less */
static void
conn_close(ctlsrv *c, struct bufferevent *bev)
{
    bufferevent_free(bev);
    if (--c->now < c->max)
        c->capped = 0;
}

/* reply - one JSON line with "status", then close once written */
static void
reply(struct bufferevent *bev, int status, json_t *body)
{
    json_object_set_new(body, "status", json_integer(status));
    char *s = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    evbuffer_add_printf(bufferevent_get_output(bev), "%s\n", s ? s : "{\"status\":500}");
    free(s);
    bufferevent_disable(bev, EV_READ);
}

static void
on_written(struct bufferevent *bev, void *arg)
{
    if (evbuffer_get_length(bufferevent_get_output(bev)) == 0 &&
        !(bufferevent_get_enabled(bev) & EV_READ))
        conn_close(arg, bev);
}

static void
on_read(struct bufferevent *bev, void *arg)
{
    ctlsrv *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    size_t n;
    char *line = evbuffer_readln(in, &n, EVBUFFER_EOL_LF);
    cmd_caller who;
    int reader = 0;
    char actor[64];
    json_t *out = NULL;

    if (line == NULL) {
        if (evbuffer_get_length(in) > CONTROL_MAX_REQUEST)
            reply(bev, 413, json_pack("{s:s}", "error", "request too large"));
        return;
    }
    json_error_t je;
    json_t *req = json_loadb(line, n, 0, &je);
    free(line);
    if (caller(c, bufferevent_getfd(bev), &who, &reader, actor, sizeof(actor)) != 0) {
        json_decref(req);
        reply(bev, 500, json_pack("{s:s}", "error", "cannot read the caller's credentials"));
        return;
    }
    if (req == NULL) {
        reply(bev, 400, json_pack("{s:s,s:s}", "error", "malformed JSON", "detail", je.text));
        return;
    }
    if (!reader && !cmds_open(req)) {
        json_decref(req);
        reply(bev, 403, json_pack("{s:s}", "error",
                                  "not allowed: only root, admin_group and control_read_group "
                                  "may use the control socket (anyone may send unlock_token)"));
        return;
    }
    int status = cmds_run(c->A, req, &who, &out);
    json_decref(req);
    reply(bev, status, out);
}

static void
on_event(struct bufferevent *bev, short what, void *arg)
{
    (void)what;
    conn_close(arg, bev); /* EOF, error or timeout */
}

static void
on_accept(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa, int len, void *arg)
{
    ctlsrv *c = arg;
    struct timeval tv = {CONTROL_TIMEOUT, 0};

    (void)sa, (void)len;
    if (c->now >= c->max) {
        if (!c->capped)
            log_warn("control: %lld connections already (control_max_connections): refusing "
                     "more until one closes",
                     (long long)c->now);
        c->capped = 1;
        evutil_closesocket(fd);
        return;
    }
    c->now++;
    struct bufferevent *bev =
        bufferevent_socket_new(evconnlistener_get_base(lev), fd, BEV_OPT_CLOSE_ON_FREE);
    bufferevent_setcb(bev, on_read, on_written, on_event, c);
    bufferevent_set_timeouts(bev, &tv, &tv);
    bufferevent_setwatermark(bev, EV_READ, 0, CONTROL_MAX_REQUEST + 1);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
}

ctlsrv *
ctlsrv_new(struct event_base *base, admin_env *A, const char *path, char *err, size_t errlen)
{
    ctlsrv *c = xcalloc(1, sizeof(*c));

    if (strlen(path) >= sizeof(c->path)) {
        snprintf(err, errlen, "control socket path too long: %s", path);
        free(c);
        return NULL;
    }
    snprintf(c->path, sizeof(c->path), "%s", path);
    c->A = A;
    c->max = core_conf(A->C)->control_max_connections;
    char why[400];
    int fd = listener_unix(path, 0666, 16, why, sizeof(why));
    if (fd < 0) {
        snprintf(err, errlen, "control socket %s", why);
        free(c);
        return NULL;
    }
    c->lev = evconnlistener_new(base, on_accept, c, LEV_OPT_CLOSE_ON_FREE, -1, fd);
    return c;
}

void
ctlsrv_free(ctlsrv *c)
{
    if (c == NULL)
        return;
    evconnlistener_free(c->lev);
    unlink(c->path);
    free(c);
}
