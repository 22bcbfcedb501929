/*
 * webhook - incident POSTs with libcurl on a spool (see webhook.h)
 *
 * The spool's worker thread is the only one that touches the curl
 * handles and the per-URL state; the event loop only calls spool_put().
 */
#include "webhook.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../conf/conf.h"
#include "../util/alloc.h"
#include "../util/buf.h"
#include "../util/log.h"
#include "../util/version.h"

#define WEBHOOK_LOG_EVERY 60 /* s: at most one failure line per URL this often */

typedef struct hook_url {
    char *url;
    char shown[128]; /* "hook0 https://host:port/..." for log lines */
    CURL *h;         /* one handle per URL keeps its connection alive */
    char cerr[CURL_ERROR_SIZE];
    int64_t last_log;  /* when a failure was last logged, 0 = never */
    unsigned quiet;    /* failures not logged since */
    unsigned failures; /* in a row */
    int down;          /* failed in the current batch */
} hook_url;

struct webhook {
    int format;
    int64_t timeout, retry_max;
    char ua[64];
    struct curl_slist *hdrs;
    hook_url *u;
    size_t nu;
    spool *sp;
    atomic_int stop; /* webhook_close() aborts a request in progress */
};

static pthread_once_t webhook_once = PTHREAD_ONCE_INIT;

static void
webhook_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

void
webhook_global_init(void)
{
    pthread_once(&webhook_once, webhook_init_once);
}

/* url_ok - an http:// or https:// URL with a host */
static int
url_ok(const char *url)
{
    size_t skip;

    if (url == NULL)
        return 0;
    if (strncasecmp(url, "http://", 7) == 0)
        skip = 7;
    else if (strncasecmp(url, "https://", 8) == 0)
        skip = 8;
    else
        return 0;
    return url[skip] != '\0' && url[skip] != '/' && strpbrk(url, " \t\r\n") == NULL;
}

/* url_shown - "hookN scheme://host[:port]", with "/..." for a path: no secrets in logs */
static void
url_shown(char *out, size_t size, size_t idx, const char *url)
{
    const char *sep = strstr(url, "://"), *host = sep + 3;
    size_t end = strcspn(host, "/?#");
    const char *at = memchr(host, '@', end); /* drop user:password@ */

    if (at != NULL) {
        end -= (size_t)(at + 1 - host);
        host = at + 1;
    }
    snprintf(out, size, "hook%zu %.*s://%.*s%s", idx, (int)(sep - url), url, (int)end, host,
             host[end] != '\0' ? "/..." : "");
}

/* discard - the answer's body is not needed */
static size_t
discard(char *p, size_t size, size_t n, void *ctx)
{
    (void)p;
    (void)ctx;
    return size * n;
}

/* abort_check - curl's progress callback: non-zero aborts once webhook_close() began */
static int
abort_check(void *ctx, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
    webhook *w = ctx;

    (void)a, (void)b, (void)c, (void)d;
    return atomic_load(&w->stop);
}

/* handle_new - a curl handle for one URL with every fixed option set */
static CURL *
handle_new(webhook *w, hook_url *u)
{
    CURL *h = curl_easy_init();

    if (h == NULL)
        return NULL;
    curl_easy_setopt(h, CURLOPT_URL, u->url);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, w->hdrs);
    curl_easy_setopt(h, CURLOPT_USERAGENT, w->ua);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)w->timeout);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, u->cerr);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, abort_check);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, w);
    return h;
}

/* ---- one job ---- */

/* hook_index - the URL index in a kind "hookN"; -1 if it is not one */
static long
hook_index(const char *kind)
{
    char *end;

    if (strncmp(kind, "hook", 4) != 0 || kind[4] < '0' || kind[4] > '9')
        return -1;
    long i = strtol(kind + 4, &end, 10);
    return *end == '\0' ? i : -1;
}

/* slack_text - text with &, < and > escaped as Slack asks: no <!channel>, <@user> or <url|link>
 * from an account name (Slack: "Escaping text"; Mattermost takes the same text as it is) */
static void
slack_text(const char *s, hj_buf *out)
{
    static const char *const esc[256] = {['&'] = "&amp;", ['<'] = "&lt;", ['>'] = "&gt;"};

    for (; *s; s++)
        esc[(unsigned char)*s] ? buf_puts(out, esc[(unsigned char)*s]) : buf_putc(out, *s);
}

/* slack_body - {"text": summary, "username": "hijackd"}; NULL (logged) if impossible */
static char *
slack_body(const hook_url *u, const spool_job *j)
{
    json_error_t jerr;
    json_t *in = json_loadb(j->data, j->len, 0, &jerr), *out = NULL;
    json_t *sum = json_is_object(in) ? json_object_get(in, "summary") : NULL;
    char *body = NULL;

    if (in == NULL)
        log_warn("webhook %s: job %s is not JSON (%s); dropped", u->shown, j->name, jerr.text);
    else if (!json_is_string(sum))
        log_warn("webhook %s: job %s has no \"summary\" string; dropped", u->shown, j->name);
    else {
        hj_buf text = HJ_BUF_INIT;
        slack_text(json_string_value(sum), &text);
        out = json_pack("{s:s, s:s}", "text", buf_str(&text), "username", "hijackd");
        buf_free(&text);
    }
    if (out != NULL)
        body = json_dumps(out, JSON_COMPACT);
    json_decref(out);
    json_decref(in);
    return body;
}

/* fail_log - one failed attempt; logged at most once per WEBHOOK_LOG_EVERY per URL */
static void
fail_log(hook_url *u, const spool_job *j, const char *why, int64_t now)
{
    u->failures++;
    if (u->last_log != 0 && now - u->last_log < WEBHOOK_LOG_EVERY) {
        u->quiet++;
        return;
    }
    if (u->quiet > 0)
        log_warn("webhook %s: %s (job %s, attempt %u; %u more failures not logged); will retry",
                 u->shown, why, j->name, j->attempts + 1, u->quiet);
    else
        log_warn("webhook %s: %s (job %s, attempt %u); will retry", u->shown, why, j->name,
                 j->attempts + 1);
    u->last_log = now;
    u->quiet = 0;
}

/* judge - the job's result from curl's code and the HTTP status */
static void
judge(webhook *w, hook_url *u, spool_job *j, CURLcode rc, int64_t now)
{
    long code = 0;
    char why[CURL_ERROR_SIZE + 32];

    if (rc == CURLE_ABORTED_BY_CALLBACK && atomic_load(&w->stop))
        return; /* closing: stays queued, nothing to report */
    if (rc == CURLE_OK)
        curl_easy_getinfo(u->h, CURLINFO_RESPONSE_CODE, &code);
    if (rc == CURLE_OK && code >= 200 && code <= 299) {
        if (u->failures > 0)
            log_info("webhook %s: delivering again after %u failed attempt(s)", u->shown,
                     u->failures);
        u->failures = u->quiet = 0;
        u->last_log = 0;
        j->result = SPOOL_DONE;
    } else if (rc == CURLE_OK && code >= 400 && code <= 499 && code != 408 && code != 429) {
        log_warn("webhook %s: HTTP %ld: the receiver refuses job %s; dropped, not retried",
                 u->shown, code, j->name);
        j->result = SPOOL_DROP;
    } else {
        curl_off_t after = 0;
        if (rc == CURLE_OK)
            snprintf(why, sizeof(why), "HTTP %ld", code);
        else
            snprintf(why, sizeof(why), "%s", u->cerr[0] ? u->cerr : curl_easy_strerror(rc));
        if (rc == CURLE_OK && curl_easy_getinfo(u->h, CURLINFO_RETRY_AFTER, &after) == CURLE_OK &&
            after > 0)
            j->retry_at = now + (after < w->retry_max ? (int64_t)after : w->retry_max);
        fail_log(u, j, why, now);
        u->down = 1;
    }
}

/* post - one attempt at one job */
static void
post(webhook *w, spool_job *j, int64_t now)
{
    long idx = hook_index(j->kind);

    if (idx < 0 || (size_t)idx >= w->nu) {
        log_warn("webhook: job %s: no URL %s is configured now; dropped", j->name, j->kind);
        j->result = SPOOL_DROP;
        return;
    }
    hook_url *u = &w->u[idx];
    if (u->down || atomic_load(&w->stop))
        return; /* SPOOL_RETRY: this URL just failed, or we are closing */
    char *body = w->format == WEBHOOK_SLACK ? slack_body(u, j) : NULL;
    if (w->format == WEBHOOK_SLACK && body == NULL) {
        j->result = SPOOL_DROP;
        return;
    }
    curl_easy_setopt(u->h, CURLOPT_POSTFIELDS, body ? body : j->data);
    curl_easy_setopt(u->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? strlen(body) : j->len));
    u->cerr[0] = '\0';
    CURLcode rc = curl_easy_perform(u->h);
    curl_easy_setopt(u->h, CURLOPT_POSTFIELDS, NULL);
    free(body);
    judge(w, u, j, rc, now);
}

/* webhook_batch - the spool handler */
static void
webhook_batch(void *ctx, spool_job *jobs, size_t n, int64_t now)
{
    webhook *w = ctx;

    for (size_t i = 0; i < w->nu; i++)
        w->u[i].down = 0;
    for (size_t i = 0; i < n; i++)
        post(w, &jobs[i], now);
}

/* ---- the interface ---- */

/* conf_check - the URLs and the timeout make sense */
static int
conf_check(const webhook_conf *c, char *err, size_t errlen)
{
    if (c == NULL || c->nurls == 0 || c->urls == NULL || c->spool_dir == NULL) {
        snprintf(err, errlen, "webhook: no URL or no spool directory");
        return -1;
    }
    for (size_t i = 0; i < c->nurls; i++) {
        if (!url_ok(c->urls[i])) {
            snprintf(err, errlen, "webhook: URL %zu: \"%.200s\" is not an http:// or https:// URL",
                     i, c->urls[i] ? c->urls[i] : "");
            return -1;
        }
    }
    if (c->timeout < 1 || (c->format != WEBHOOK_JSON && c->format != WEBHOOK_SLACK)) {
        snprintf(err, errlen, "webhook: the timeout must be >= 1 s and the format known");
        return -1;
    }
    return 0;
}

/* webhook_free - release everything but the spool */
static void
webhook_free(webhook *w)
{
    for (size_t i = 0; i < w->nu; i++) {
        if (w->u[i].h != NULL)
            curl_easy_cleanup(w->u[i].h);
        free(w->u[i].url);
    }
    free(w->u);
    curl_slist_free_all(w->hdrs);
    free(w);
}

webhook *
webhook_open(const webhook_conf *c, char *err, size_t errlen)
{
    if (conf_check(c, err, errlen) != 0)
        return NULL;
    webhook_global_init();
    webhook *w = xcalloc(1, sizeof(*w));
    atomic_init(&w->stop, 0);
    w->format = c->format;
    w->timeout = c->timeout;
    w->retry_max = c->retry_max > c->retry_min ? c->retry_max : c->retry_min;
    snprintf(w->ua, sizeof(w->ua), "hijackd/%s", c->version ? c->version : HJ_VERSION);
    w->hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    w->hdrs = w->hdrs ? curl_slist_append(w->hdrs, "Expect:") : NULL; /* no 100-continue */
    w->u = xcalloc(c->nurls, sizeof(*w->u));
    w->nu = c->nurls;
    for (size_t i = 0; i < w->nu; i++) {
        w->u[i].url = xstrdup(c->urls[i]);
        url_shown(w->u[i].shown, sizeof(w->u[i].shown), i, c->urls[i]);
        if (strncasecmp(c->urls[i], "http://", 7) == 0)
            log_warn("webhook %s: plain http://: each incident (account names, client addresses, "
                     "evidence) travels in clear; use https://",
                     w->u[i].shown);
        w->u[i].h = w->hdrs ? handle_new(w, &w->u[i]) : NULL;
        if (w->u[i].h == NULL) {
            snprintf(err, errlen, "webhook: cannot set up libcurl");
            webhook_free(w);
            return NULL;
        }
    }
    spool_conf sc = {.dir = c->spool_dir,
                     .what = "webhook",
                     .retry_min = c->retry_min,
                     .retry_max = c->retry_max > c->retry_min ? c->retry_max : c->retry_min,
                     .max_age = c->max_age,
                     .batch_max = WEBHOOK_BATCH};
    w->sp = spool_open(&sc, webhook_batch, w, err, errlen);
    if (w->sp == NULL) {
        webhook_free(w);
        return NULL;
    }
    return w;
}

int
webhook_send(webhook *w, const char *incident_json, int64_t now)
{
    size_t len = strlen(incident_json);
    int rc = 0;

    for (size_t i = 0; i < w->nu; i++) {
        char kind[32];
        snprintf(kind, sizeof(kind), "hook%zu", i);
        if (spool_put(w->sp, kind, incident_json, len, now) != 0)
            rc = -1;
    }
    return rc;
}

void
webhook_stats(webhook *w, struct spool_stats *out)
{
    spool_stats(w->sp, out);
}

void
webhook_close(webhook *w)
{
    if (w == NULL)
        return;
    atomic_store(&w->stop, 1);
    spool_close(w->sp);
    webhook_free(w);
}
