/*
 * httpd - the JSON API, the dashboard's files and /metrics over HTTP (see httpd.h)
 */
#include "httpd.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "../frontend/milterscan.h"
#include "../scan/scan_export.h"
#include "../util/alloc.h"
#include "../util/log.h"
#include "cmds.h"
#include "metrics.h"

#define HTTP_MAX_BODY 16384
#define HTTP_MAX_VERDICT 65536 /* an exporter POST: its symbols, headers and hashes */
#define HTTP_MAX_FILE (4 * 1024 * 1024)
#define HTTP_WARN_EVERY 10 /* s between two warnings of refused connections */

struct httpd {
    admin_env *A;
    struct evhttp *http;
    struct event *settle;       /* runs once evhttp has set up the connections just accepted */
    struct bufferevent **fresh; /* their bufferevents (one reference each) until it has run */
    size_t nfresh, cfresh;
    int64_t now, max;  /* connections open, and the cap (http_max_connections) */
    int64_t refused;   /* connections refused at the cap, since the start */
    int64_t warned_at; /* CLOCK_MONOTONIC s of the last warning; refused then */
    int64_t warned_refused;
    char host[256], host_br[260]; /* http_listen's address, and in brackets (IPv6) */
};

enum { ROLE_NONE, ROLE_READ, ROLE_ADMIN };

/* same - compare a presented token with a configured one in constant time (for its length) */
static int
same(const char *given, const char *want)
{
    size_t n = strlen(want), m = strlen(given);
    unsigned char d = (unsigned char)(n != m || n == 0);

    for (size_t i = 0; i < n; i++)
        d |= (unsigned char)(want[i] ^ (i < m ? given[i] : 0));
    return d == 0;
}

/* role - what the request's bearer token allows */
static int
role(const httpd *h, struct evhttp_request *req)
{
    const char *a = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
    const hj_conf *c = core_conf(h->A->C);

    if (a == NULL || strncmp(a, "Bearer ", 7) != 0)
        return ROLE_NONE;
    int admin = same(a + 7, c->http_token_admin), read = same(a + 7, c->http_token_read);
    return admin ? ROLE_ADMIN : read ? ROLE_READ : ROLE_NONE;
}

/* send_json - a JSON object as the response (takes the reference); 202 for a job handed to
 * the queue worker (POST /api/queue) */
static void
send_json(struct evhttp_request *req, int status, json_t *body)
{
    struct evbuffer *b = evbuffer_new();
    char *s = json_dumps(body, JSON_COMPACT);
    struct evkeyvalq *oh = evhttp_request_get_output_headers(req);

    json_decref(body);
    evbuffer_add_printf(b, "%s\n", s ? s : "{}");
    free(s);
    evhttp_add_header(oh, "Content-Type", "application/json");
    evhttp_add_header(oh, "Cache-Control", "no-store");
    evhttp_add_header(oh, "X-Content-Type-Options", "nosniff");
    evhttp_send_reply(req, status, status == 200 ? "OK" : status == 202 ? "Accepted" : "Error", b);
    evbuffer_free(b);
}

static void
send_error(struct evhttp_request *req, int status, const char *msg)
{
    send_json(req, status, json_pack("{s:s}", "error", msg));
}

/* the query parameters that are numbers (decisions' limit, top's window); the rest are strings */
static const char *const query_ints[] = {"limit", "window"};

/* is_int_param - one of query_ints */
static int
is_int_param(const char *key)
{
    for (size_t i = 0; i < sizeof(query_ints) / sizeof(query_ints[0]); i++)
        if (strcmp(key, query_ints[i]) == 0)
            return 1;
    return 0;
}

/* query_value - one parameter's value as JSON, NULL (why set) when it is not a valid one */
static json_t *
query_value(const struct evkeyval *kv, char *why, size_t whylen)
{
    char *end;
    long long n;

    if (!is_int_param(kv->key)) {
        json_t *v = json_string(kv->value); /* NULL: not UTF-8 */
        if (v == NULL)
            snprintf(why, whylen, "query parameter \"%.40s\" is not valid UTF-8", kv->key);
        return v;
    }
    n = strtoll(kv->value, &end, 10);
    if (*kv->value >= '0' && *kv->value <= '9' && *end == 0 && n >= 0 && n < INT32_MAX)
        return json_integer(n);
    snprintf(why, whylen, "query parameter \"%s\" must be a whole number", kv->key);
    return NULL;
}

/*
 * query_into - the query's parameters into the request object: every value a string but the
 * numbers of query_ints, and never "cmd" (the route names the command); 0, or -1 with why
 */
static int
query_into(struct evhttp_request *req, json_t *obj, char *why, size_t whylen)
{
    struct evkeyvalq q;
    const char *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
    int rc = 0;

    if (query == NULL)
        return 0;
    if (evhttp_parse_query_str(query, &q) != 0) {
        snprintf(why, whylen, "the query string is malformed");
        return -1;
    }
    for (struct evkeyval *kv = q.tqh_first; kv && rc == 0; kv = kv->next.tqe_next) {
        if (strcmp(kv->key, "cmd") == 0)
            continue;
        json_t *v = query_value(kv, why, whylen);
        if (v && (rc = json_object_set_new(obj, kv->key, v)) != 0)
            snprintf(why, whylen, "a query parameter's name is not valid UTF-8");
        rc = v ? rc : -1;
    }
    evhttp_clear_headers(&q);
    return rc;
}

/* body_json - a POST's JSON object body; the status to answer when it is not one */
static int
body_json(struct evhttp_request *req, json_t **out)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t n = evbuffer_get_length(in);

    if (n > HTTP_MAX_BODY)
        return 413;
    char *s = xmalloc(n + 1);
    evbuffer_copyout(in, s, n);
    s[n] = 0;
    *out = n ? json_loadb(s, n, 0, NULL) : json_object();
    free(s);
    return json_is_object(*out) ? 0 : (json_decref(*out), *out = NULL, 400);
}

/* api_request - the command request for an /api path, or NULL (unknown: 404) */
static json_t *
api_request(const char *path, int post)
{
    static const char *const get_cmds[] = {"status",    "locked",  "top",
                                           "decisions", "history", "exempt"};
    static const char *const post_cmds[] = {"lock", "unlock", "exempt", "reload", "queue"};
    const char *const *cmds = post ? post_cmds : get_cmds;
    size_t n = post ? 5 : 6;

    if (!post && strncmp(path, "account/", 8) == 0 && path[8]) {
        char *acct = evhttp_uridecode(path + 8, 0, NULL);
        json_t *r = json_pack("{s:s,s:s}", "cmd", "show", "account", acct ? acct : "");
        free(acct);
        return r;
    }
    for (size_t i = 0; i < n; i++)
        if (strcmp(path, cmds[i]) == 0)
            return json_pack("{s:s}", "cmd", cmds[i]);
    return NULL;
}

/* on_api - /api/...: authenticate, build the command request, run it (changes only by POST) */
static void
on_api(httpd *h, struct evhttp_request *req, const char *path, int post)
{
    int r = role(h, req), status;
    json_t *cmd = api_request(path, post), *body = NULL, *out = NULL;
    char why[128];

    if (r == ROLE_NONE) {
        json_decref(cmd);
        return send_error(req, 401, "a valid token is needed (Authorization: Bearer TOKEN)");
    }
    if (cmd == NULL)
        return send_error(req, 404, "no such endpoint");
    if (query_into(req, cmd, why, sizeof(why)) != 0) {
        json_decref(cmd);
        return send_error(req, 400, why);
    }
    if (post && (status = body_json(req, &body)) != 0) {
        json_decref(cmd);
        return send_error(req, status,
                          status == 413 ? "request body too large"
                                        : "the body must be a JSON object");
    }
    if (body) {
        json_object_del(body, "cmd");
        json_object_update(cmd, body);
        json_decref(body);
    }
    if (!post && strcmp(path, "exempt") == 0)
        json_object_set_new(cmd, "op", json_string("list"));
    /* a GET reads: even the admin token changes nothing through one */
    cmd_caller who = {post && r == ROLE_ADMIN, r == ROLE_ADMIN ? "api admin" : "api read"};
    status = cmds_run(h->A, cmd, &who, &out);
    json_decref(cmd);
    if (status == 200 && strcmp(path, "status") == 0)
        json_object_set_new(out, "role", json_string(r == ROLE_ADMIN ? "admin" : "read"));
    send_json(req, status, out);
}

/* exporter_ok - the request carries spam_exporter_auth as HTTP Basic (compared in constant
 * time, encoded the way the client sends it) */
static int
exporter_ok(const httpd *h, struct evhttp_request *req)
{
    const char *auth = core_conf(h->A->C)->spam_exporter_auth;
    const char *a = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
    unsigned char want[4 * 256 / 3 + 8];
    size_t n = strlen(auth);

    if (a == NULL || n == 0 || n > 255 || strncasecmp(a, "Basic ", 6) != 0)
        return 0;
    EVP_EncodeBlock(want, (const unsigned char *)auth, (int)n);
    return same(a + 6, (const char *)want);
}

/* on_verdict - POST /api/verdict: one rspamd metadata_exporter verdict on authenticated mail */
static void
on_verdict(httpd *h, struct evhttp_request *req)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t n = evbuffer_get_length(in);
    scan_verdict v;
    scan_export_meta m;
    char symbols[400];
    core_verdict cv;

    if (core_conf(h->A->C)->spam_exporter_auth[0] == 0)
        return send_error(req, 404, "no such endpoint (spam_exporter_auth is not set)");
    if (!exporter_ok(h, req))
        return send_error(req, 401, "spam_exporter_auth is needed (HTTP Basic)");
    if (n > HTTP_MAX_VERDICT)
        return send_error(req, 413, "request body too large");
    char *body = xmalloc(n + 1);
    evbuffer_copyout(in, body, n);
    int rc = scan_export_parse(body, n, NULL, &v, &m);
    free(body);
    if (rc != 0)
        return send_error(req, 400, v.detail);
    core_spam sp = {.account = m.user, .queue_id = m.qid, .client_ip = m.ip, .sender = m.from,
                    .service = "rspamd", .subject = m.subject};
    milterscan_core_spam(&v, &sp, symbols, sizeof(symbols));
    core_spam_verdict(h->A->C, &sp, (int64_t)time(NULL), &cv);
    send_json(req, 200, json_pack("{s:s,s:s,s:s}", "account", m.user, "class",
                                  scan_class_name(v.cls), "state",
                                  cv.kind == CORE_REJECT  ? "locked"
                                  : cv.kind == CORE_DEFER ? "throttled"
                                  : cv.kind == CORE_HOLD  ? "held"
                                                          : "ok"));
}

/* on_metrics - Prometheus' text format */
static void
on_metrics(httpd *h, struct evhttp_request *req)
{
    admin_env *A = h->A;
    metrics_src g = {.C = A->C, .pp = A->pp, .mf = A->mf, .ms = A->ms, .started = A->started,
                     .http_now = h->now, .http_refused = h->refused};
    hj_buf out = HJ_BUF_INIT;

    if (core_conf(A->C)->metrics_need_token && role(h, req) == ROLE_NONE)
        return send_error(req, 401, "a valid token is needed (metrics_token = yes)");
    cmds_counts(A, &g.counts);
    incident_stats(A->inc, g.outbox);
    logfront_stats(A->lf, &g.log);
    metrics_format(&g, &out);
    struct evbuffer *b = evbuffer_new();
    evbuffer_add(b, out.s ? out.s : "", out.len);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "text/plain; version=0.0.4; charset=utf-8");
    evhttp_send_reply(req, 200, "OK", b);
    evbuffer_free(b);
    buf_free(&out);
}

static const struct {
    const char *ext, *type;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".png", "image/png"},
    {".svg", "image/svg+xml"},
};

/* file_type - the Content-Type of a dashboard file, NULL for anything else */
static const char *
file_type(const char *path)
{
    const char *dot = strrchr(path, '.');

    for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return NULL;
}

/* on_file - a dashboard file from web_dir: plain names only, no "..", known types only */
static void
on_file(httpd *h, struct evhttp_request *req, const char *path)
{
    char full[4300];
    const char *name = *path ? path : "index.html", *type = file_type(name);
    struct stat st;

    if (*core_conf(h->A->C)->web_dir == 0 || type == NULL || strstr(name, "..") || strchr(name, '/'))
        return send_error(req, 404, "not found");
    snprintf(full, sizeof(full), "%s/%s", core_conf(h->A->C)->web_dir, name);
    int fd = open(full, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > HTTP_MAX_FILE) {
        if (fd >= 0)
            close(fd);
        return send_error(req, 404, "not found");
    }
    struct evbuffer *b = evbuffer_new();
    evbuffer_add_file(b, fd, 0, st.st_size); /* takes the descriptor */
    struct evkeyvalq *oh = evhttp_request_get_output_headers(req);
    evhttp_add_header(oh, "Content-Type", type);
    evhttp_add_header(oh, "Cache-Control", "no-cache");
    evhttp_add_header(oh, "X-Content-Type-Options", "nosniff");
    evhttp_add_header(oh, "Referrer-Policy", "no-referrer");
    evhttp_add_header(oh, "Content-Security-Policy",
                      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' "
                      "data:; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; "
                      "base-uri 'none'");
    evhttp_send_reply(req, 200, "OK", b);
    evbuffer_free(b);
}

/* host_ok - the Host header names this server: http_listen's address, a loopback name, or one
 * of http_hosts (port not compared). A page that resolves its own name to 127.0.0.1 (DNS
 * rebinding) sends its own name, and is refused. */
static int
host_ok(const httpd *h, struct evhttp_request *req)
{
    const char *v = evhttp_find_header(evhttp_request_get_input_headers(req), "Host");
    const hj_conf *c = core_conf(h->A->C);
    static const char *const loop[] = {"localhost", "127.0.0.1", "[::1]"};
    char name[256];
    size_t n;

    if (v == NULL || (n = v[0] == '[' ? strcspn(v, "]") + 1 : strcspn(v, ":")) >= sizeof(name))
        return 0;
    snprintf(name, sizeof(name), "%.*s", (int)n, v);
    if (strcasecmp(name, h->host) == 0 || strcasecmp(name, h->host_br) == 0)
        return 1;
    for (size_t i = 0; i < sizeof(loop) / sizeof(loop[0]); i++)
        if (strcasecmp(name, loop[i]) == 0)
            return 1;
    for (size_t i = 0; i < c->nhttp_hosts; i++)
        if (strcasecmp(name, c->http_hosts[i]) == 0)
            return 1;
    return 0;
}

static void
on_request(struct evhttp_request *req, void *arg)
{
    httpd *h = arg;
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    enum evhttp_cmd_type m = evhttp_request_get_command(req);

    if (!host_ok(h, req))
        return send_error(req, 421, "this server does not answer to that Host (http_hosts)");
    if (path == NULL || path[0] != '/')
        return send_error(req, 400, "bad path");
    if (m != EVHTTP_REQ_GET && m != EVHTTP_REQ_HEAD && m != EVHTTP_REQ_POST)
        return send_error(req, 405, "method not allowed");
    if (m == EVHTTP_REQ_POST && strcmp(path, "/api/verdict") == 0)
        return on_verdict(h, req);
    if (strncmp(path, "/api/", 5) == 0)
        return on_api(h, req, path + 5, m == EVHTTP_REQ_POST);
    if (m == EVHTTP_REQ_POST)
        return send_error(req, 405, "method not allowed");
    if (strcmp(path, "/metrics") == 0)
        return on_metrics(h, req);
    on_file(h, req, path + 1);
}

/*
 * The connection cap. libevent 2.1 has no evhttp_set_max_connections() nor a callback for a new
 * connection (both are 2.2's): evhttp accepts by itself and hands us a connection only with a
 * whole request, so an idle one would never be seen. Its one hook per accepted connection is
 * evhttp_set_bevcb(), called before the evhttp_connection exists. So new_bev() makes the
 * bufferevent, keeps a reference and activates the settle event, which runs in the same pass
 * of the loop, after evhttp's accept callback and before any read of the socket. settle_one()
 * then finds the evhttp_connection as the argument evhttp set on its bufferevent's callbacks
 * (http.c's evhttp_connection_base_bufferevent_new(), 2.1 and 2.2 alike), and either counts it
 * with a close callback, which evhttp_connection_free() calls once, whatever closes it (the
 * client, a timeout, the server after its reply or a malformed request, evhttp_free()), or
 * frees it unread. Our own evconnlistener could not hand an accepted socket to evhttp: 2.1
 * has no public call for that.
 */

/* conn_closed - one connection less (evhttp is freeing it) */
static void
conn_closed(struct evhttp_connection *evcon, void *arg)
{
    httpd *h = arg;

    (void)evcon;
    h->now--;
}

/* mono_s - the monotonic clock's seconds */
static int64_t
mono_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec;
}

/* refuse - a connection over the cap: counted, logged at most once per HTTP_WARN_EVERY s, freed
 * before evhttp reads a byte of it */
static void
refuse(httpd *h, struct evhttp_connection *evcon)
{
    int64_t t = mono_s();

    h->refused++;
    if (h->warned_refused == 0 || t - h->warned_at >= HTTP_WARN_EVERY) {
        log_warn("http: %lld connections already (http_max_connections): refusing more until one "
                 "closes (%lld refused since the last warning; %lld in all)",
                 (long long)h->now, (long long)(h->refused - h->warned_refused),
                 (long long)h->refused);
        h->warned_at = t;
        h->warned_refused = h->refused;
    }
    evhttp_connection_free(evcon);
}

/* settle_one - count a connection evhttp has just set up, or refuse it at the cap */
static void
settle_one(httpd *h, struct bufferevent *bev)
{
    bufferevent_data_cb rd;
    void *evcon;

    bufferevent_getcb(bev, &rd, NULL, NULL, &evcon);
    int keep = rd != NULL && h->now < h->max; /* rd NULL: evhttp gave it up already */
    if (keep) {
        h->now++;
        evhttp_connection_set_closecb(evcon, conn_closed, h);
    }
    /* our reference goes first: the last one is then evhttp's, and evhttp_connection_free()
     * deletes the bufferevent's events before it closes the socket. The other way round the
     * events were deleted after the close, naming a descriptor number the spool threads may
     * have reused meanwhile (ThreadSanitizer saw a purge job's file there) */
    bufferevent_decref(bev);
    if (rd != NULL && !keep)
        refuse(h, evcon);
}

static void
on_settle(evutil_socket_t fd, short what, void *arg)
{
    httpd *h = arg;

    (void)fd, (void)what;
    for (size_t i = 0; i < h->nfresh; i++)
        settle_one(h, h->fresh[i]);
    h->nfresh = 0;
}

/* new_bev - the bufferevent of a connection evhttp has just accepted (as evhttp would make it:
 * no fd yet, not closing it on free), noted for on_settle. NULL: evhttp tries its own, which
 * goes uncounted, never refused. */
static struct bufferevent *
new_bev(struct event_base *base, void *arg)
{
    httpd *h = arg;
    struct bufferevent *bev = bufferevent_socket_new(base, -1, 0);

    if (bev == NULL)
        return NULL;
    if (h->nfresh == h->cfresh) {
        h->cfresh = h->cfresh ? 2 * h->cfresh : 16;
        h->fresh = xrealloc(h->fresh, h->cfresh * sizeof(*h->fresh));
    }
    bufferevent_incref(bev);
    h->fresh[h->nfresh++] = bev;
    event_active(h->settle, 0, 0);
    return bev;
}

httpd *
httpd_new(struct event_base *base, admin_env *A, char *err, size_t errlen)
{
    const char *listen = core_conf(A->C)->http_listen, *colon = strrchr(listen, ':');
    char host[256];
    httpd *h = xcalloc(1, sizeof(*h));

    snprintf(host, sizeof(host), "%.*s", (int)(colon - listen), listen);
    if (host[0] == '[') { /* [::1] */
        memmove(host, host + 1, strlen(host));
        host[strcspn(host, "]")] = 0;
    }
    h->A = A;
    snprintf(h->host, sizeof(h->host), "%s", host);
    snprintf(h->host_br, sizeof(h->host_br), "[%s]", host);
    h->max = core_conf(A->C)->http_max_connections;
    if ((h->settle = event_new(base, -1, 0, on_settle, h)) == NULL) {
        snprintf(err, errlen, "http_listen %s: out of memory", listen);
        free(h);
        return NULL;
    }
    h->http = evhttp_new(base);
    evhttp_set_bevcb(h->http, new_bev, h);
    evhttp_set_max_body_size(h->http, HTTP_MAX_VERDICT + 1024);
    evhttp_set_max_headers_size(h->http, 16384);
    evhttp_set_timeout(h->http, 30);
    evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST);
    evhttp_set_gencb(h->http, on_request, h);
    if (evhttp_bind_socket(h->http, host, (uint16_t)atoi(colon + 1)) != 0) {
        snprintf(err, errlen, "http_listen %s: cannot listen there", listen);
        httpd_free(h);
        return NULL;
    }
    if (core_conf(A->C)->http_allow_remote)
        log_warn("http_listen %s: the API is served beyond loopback without TLS: put a TLS proxy "
                 "in front of it, tokens travel in clear",
                 listen);
    return h;
}

void
httpd_free(httpd *h)
{
    if (h == NULL)
        return;
    evhttp_free(h->http);
    on_settle(-1, 0, h); /* drops the references still held (nothing is left to count) */
    event_free(h->settle);
    free(h->fresh);
    free(h);
}
