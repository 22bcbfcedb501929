/*
 * test_webhook - unit tests for the webhook sender (webhook.h) against a
 * tiny HTTP server in the test
 *
 * The server is a thread on 127.0.0.1:<any port>: it accepts one
 * connection at a time, reads the request until its body is complete
 * (Content-Length), records it and answers with the next status of its
 * script (the last one repeats), "Connection: close". Status 0 means
 * never answer: the connection is kept open until the server stops.
 * Every test starts its own server and spool directory and removes both
 * in teardown, even after a failed check. Waits poll with a deadline.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../src/notify/webhook.h"
#include "check.h"

#define MAXREQ 64
#define MAXHANG 16

#define INCIDENT                                                                                   \
    "{\"summary\":\"alice@example.org locked: 250 recipients in 10m\","                            \
    "\"account\":\"alice@example.org\",\"action\":\"lock\",\"rule\":\"rcpt_10m\","                 \
    "\"ts\":\"2025-11-25T08:00:00Z\"}"

typedef struct req {
    char line[160]; /* "POST /hook HTTP/1.1" */
    char ctype[64];
    char ua[64];
    char body[1024];
} req;

typedef struct srv {
    int lfd, port;
    pthread_t thr;
    atomic_int stop;
    pthread_mutex_t mu;
    req reqs[MAXREQ];
    size_t n;
    int script[16]; /* the status for request i; the last one repeats; 0 = hang */
    size_t nscript;
    int hang[MAXHANG];
    size_t nhang;
} srv;

typedef struct fx {
    char dir[64];   /* the temporary directory */
    char spool[96]; /* dir/webhook */
    char url[64], dead_url[64];
    srv s;
    int srv_up;
    int saved_err; /* stderr while a test captures it, else -1 */
    webhook *w;
} fx;

static int64_t
mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* ---- the HTTP server ---- */

/* header - copy the value of header name (with its colon) from the head into out */
static void
header(const char *head, const char *name, char *out, size_t size)
{
    const char *p = strcasestr(head, name);

    out[0] = '\0';
    if (p == NULL)
        return;
    p += strlen(name);
    p += strspn(p, " ");
    snprintf(out, size, "%.*s", (int)strcspn(p, "\r\n"), p);
}

/* read_request - read head and body (by Content-Length); 0 when complete */
static int
read_request(int fd, char *buf, size_t size, req *r)
{
    size_t have = 0;
    char *end = NULL;
    long clen = 0;

    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 3000) <= 0)
            return -1;
        ssize_t k = read(fd, buf + have, size - 1 - have);
        if (k <= 0)
            return -1;
        have += (size_t)k;
        buf[have] = '\0';
        if (end == NULL && (end = strstr(buf, "\r\n\r\n")) != NULL) {
            char v[32];
            header(buf, "\r\ncontent-length:", v, sizeof(v));
            clen = atol(v);
        }
        if (end != NULL && have >= (size_t)(end + 4 - buf) + (size_t)clen)
            break;
    }
    snprintf(r->line, sizeof(r->line), "%.*s", (int)strcspn(buf, "\r\n"), buf);
    header(buf, "\r\ncontent-type:", r->ctype, sizeof(r->ctype));
    header(buf, "\r\nuser-agent:", r->ua, sizeof(r->ua));
    snprintf(r->body, sizeof(r->body), "%.*s", (int)clen, end + 4);
    return 0;
}

/* serve_one - read one request on fd, record it, answer or hang */
static void
serve_one(srv *s, int fd)
{
    char buf[8192];
    req r;

    if (read_request(fd, buf, sizeof(buf), &r) != 0) {
        close(fd);
        return;
    }
    pthread_mutex_lock(&s->mu);
    size_t i = s->n < s->nscript ? s->n : s->nscript - 1;
    int status = s->script[i];
    if (s->n < MAXREQ)
        s->reqs[s->n] = r;
    s->n++;
    if (status == 0 && s->nhang < MAXHANG) {
        s->hang[s->nhang++] = fd;
        pthread_mutex_unlock(&s->mu);
        return;
    }
    pthread_mutex_unlock(&s->mu);
    int len = snprintf(buf, sizeof(buf),
                       "HTTP/1.1 %d Scripted\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                       status);
    if (write(fd, buf, (size_t)len) != len)
        perror("test server: write");
    close(fd);
}

static void *
srv_main(void *arg)
{
    srv *s = arg;

    while (!atomic_load(&s->stop)) {
        struct pollfd p = {.fd = s->lfd, .events = POLLIN};
        if (poll(&p, 1, 20) <= 0)
            continue;
        int fd = accept(s->lfd, NULL, NULL);
        if (fd >= 0)
            serve_one(s, fd);
    }
    return NULL;
}

/* listen_any - a listening socket on 127.0.0.1:0; its port in *port */
static int
listen_any(int *port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(fd, 16), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

/* srv_start - start the server with a script of statuses (end with -1) */
static void
srv_start(fx *f, const int *script)
{
    srv *s = &f->s;

    memset(s, 0, sizeof(*s));
    pthread_mutex_init(&s->mu, NULL);
    for (; script[s->nscript] >= 0; s->nscript++)
        s->script[s->nscript] = script[s->nscript];
    s->lfd = listen_any(&s->port);
    snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%d/hook", s->port);
    assert_int_equal(pthread_create(&s->thr, NULL, srv_main, s), 0);
    f->srv_up = 1;
}

static void
srv_stop(fx *f)
{
    srv *s = &f->s;

    if (!f->srv_up)
        return;
    atomic_store(&s->stop, 1);
    pthread_join(s->thr, NULL);
    for (size_t i = 0; i < s->nhang; i++)
        close(s->hang[i]);
    close(s->lfd);
    pthread_mutex_destroy(&s->mu);
    f->srv_up = 0;
}

static size_t
srv_count(fx *f)
{
    pthread_mutex_lock(&f->s.mu);
    size_t n = f->s.n;
    pthread_mutex_unlock(&f->s.mu);
    return n;
}

/* ---- the webhook side ---- */

static webhook_conf
conf_for(fx *f, char **urls, size_t n, int format)
{
    return (webhook_conf){.urls = urls,
                          .nurls = n,
                          .format = format,
                          .timeout = 1,
                          .retry_min = 1,
                          .retry_max = 4,
                          .max_age = 0,
                          .spool_dir = f->spool,
                          .version = "9.9-test"};
}

static void
hook_start(fx *f, const webhook_conf *c)
{
    char err[256] = "";

    f->w = webhook_open(c, err, sizeof(err));
    if (f->w == NULL)
        fail_msg("webhook_open: %s", err);
}

static void
hook_stop(fx *f)
{
    webhook_close(f->w);
    f->w = NULL;
}

static void
incident(fx *f, const char *json)
{
    if (webhook_send(f->w, json, (int64_t)time(NULL)) != 0)
        fail_msg("webhook_send failed");
}

static struct spool_stats
stats(fx *f)
{
    struct spool_stats st;
    webhook_stats(f->w, &st);
    return st;
}

/* wait_for - poll until the stats reach at least done/retried/dropped, fail after ms */
static struct spool_stats
wait_for(fx *f, uint64_t done, uint64_t retried, uint64_t dropped, int ms)
{
    int64_t end = mono_ms() + ms;

    for (;;) {
        struct spool_stats st = stats(f);
        if (st.done >= done && st.retried >= retried && st.dropped >= dropped)
            return st;
        if (mono_ms() > end)
            fail_msg("after %d ms: done %llu retried %llu dropped %llu, want >= %llu %llu %llu", ms,
                     (unsigned long long)st.done, (unsigned long long)st.retried,
                     (unsigned long long)st.dropped, (unsigned long long)done,
                     (unsigned long long)retried, (unsigned long long)dropped);
        sleep_ms(5);
    }
}

/* wait_requests - poll until the server has recorded n requests */
static void
wait_requests(fx *f, size_t n, int ms)
{
    for (int64_t end = mono_ms() + ms; srv_count(f) < n;) {
        if (mono_ms() > end)
            fail_msg("the server got %zu requests after %d ms, want %zu", srv_count(f), ms, n);
        sleep_ms(5);
    }
}

/* spool_files - the number of job files in the spool directory */
static int
spool_files(fx *f)
{
    DIR *d = opendir(f->spool);
    struct dirent *de;
    int n = 0;

    if (d == NULL)
        return -1;
    while ((de = readdir(d)) != NULL)
        n += de->d_name[0] != '.';
    closedir(d);
    return n;
}

/* stderr_capture - send stderr (the log) to dir/stderr until stderr_restore() */
static void
stderr_capture(fx *f, char *path, size_t size)
{
    snprintf(path, size, "%s/stderr", f->dir);
    fflush(stderr);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    f->saved_err = dup(2);
    assert_true(f->saved_err >= 0 && fd >= 0);
    dup2(fd, 2);
    close(fd);
}

static void
stderr_restore(fx *f)
{
    char path[128];

    if (f->saved_err < 0)
        return;
    fflush(stderr);
    dup2(f->saved_err, 2);
    close(f->saved_err);
    f->saved_err = -1;
    snprintf(path, sizeof(path), "%s/stderr", f->dir);
    unlink(path);
}

static int
setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    int port, fd;

    f->saved_err = -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/hj-webhook-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(f->spool, sizeof(f->spool), "%s/webhook", f->dir);
    fd = listen_any(&port); /* a port nobody listens on once closed */
    close(fd);
    snprintf(f->dead_url, sizeof(f->dead_url), "http://127.0.0.1:%d/hook", port);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fx *f = *state;
    DIR *d;
    struct dirent *de;

    webhook_close(f->w);
    stderr_restore(f);
    srv_stop(f);
    if ((d = opendir(f->spool)) != NULL) {
        while ((de = readdir(d)) != NULL) {
            char path[512];
            snprintf(path, sizeof(path), "%s/%s", f->spool, de->d_name);
            if (de->d_name[0] != '.')
                unlink(path);
        }
        closedir(d);
    }
    rmdir(f->spool);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* ---- tests ---- */

/* json_verbatim - WEBHOOK_JSON posts the incident as is, with the headers */
static void
test_json_verbatim(void **state)
{
    fx *f = *state;
    static const int script[] = {200, -1};

    srv_start(f, script);
    char *urls[] = {f->url};
    webhook_conf c = conf_for(f, urls, 1, WEBHOOK_JSON);
    hook_start(f, &c);
    incident(f, INCIDENT);
    struct spool_stats st = wait_for(f, 1, 0, 0, 3000);
    CHECK_EQ("retried", st.retried, 0);
    CHECK_EQ("pending", st.pending, 0);
    CHECK_EQ("requests", srv_count(f), 1);
    req *r = &f->s.reqs[0];
    assert_string_equal(r->line, "POST /hook HTTP/1.1");
    assert_string_equal(r->ctype, "application/json");
    assert_string_equal(r->ua, "hijackd/9.9-test");
    assert_string_equal(r->body, INCIDENT);
    CHECK_EQ("spool files", spool_files(f), 0);
}

/* slack - WEBHOOK_SLACK posts {"text": summary, "username": "hijackd"}; bad JSON is dropped */
static void
test_slack(void **state)
{
    fx *f = *state;
    static const int script[] = {200, -1};
    json_error_t jerr;

    srv_start(f, script);
    char *urls[] = {f->url};
    webhook_conf c = conf_for(f, urls, 1, WEBHOOK_SLACK);
    hook_start(f, &c);
    incident(f, INCIDENT);
    wait_for(f, 1, 0, 0, 3000);
    incident(f, "{not json");
    incident(f, "{\"account\":\"bob\"}"); /* no summary */
    struct spool_stats st = wait_for(f, 1, 0, 2, 3000);
    CHECK_EQ("done", st.done, 1);
    CHECK_EQ("requests", srv_count(f), 1);
    req *r = &f->s.reqs[0];
    assert_string_equal(r->ctype, "application/json");
    json_t *j = json_loads(r->body, 0, &jerr);
    if (j == NULL)
        fail_msg("body is not JSON: %s", r->body);
    CHECK_EQ("keys", json_object_size(j), 2);
    assert_string_equal(json_string_value(json_object_get(j, "text")),
                        "alice@example.org locked: 250 recipients in 10m");
    assert_string_equal(json_string_value(json_object_get(j, "username")), "hijackd");
    json_decref(j);
}

/* slack_escaping - the summary's &, < and > are escaped as Slack asks: an account name cannot
 * ping the channel (<!channel>), mention anyone or make a link */
static void
test_slack_escaping(void **state)
{
    fx *f = *state;
    static const int script[] = {200, -1};

    srv_start(f, script);
    char *urls[] = {f->url};
    webhook_conf c = conf_for(f, urls, 1, WEBHOOK_SLACK);
    hook_start(f, &c);
    incident(f, "{\"summary\":\"<!channel> a&b@x <https://evil.test|reset your password> locked\"}");
    struct spool_stats st = wait_for(f, 1, 0, 0, 3000);
    CHECK_EQ("done", st.done, 1);
    json_t *j = json_loads(f->s.reqs[0].body, 0, NULL);
    CHECK_STR("text", json_string_value(json_object_get(j, "text")),
              "&lt;!channel&gt; a&amp;b@x &lt;https://evil.test|reset your password&gt; locked");
    json_decref(j);
}

/* status_table - how each answer is judged: 2xx done, 4xx dropped but 408/429, rest retried */
static void
test_status_table(void **state)
{
    fx *f = *state;
    static const struct {
        int status;
        int want; /* 'd' done, 'x' dropped, 'r' retried */
    } cases[] = {
        {200, 'd'}, {201, 'd'}, {204, 'd'}, {400, 'x'}, {401, 'x'},
        {403, 'x'}, {404, 'x'}, {410, 'x'}, {408, 'r'}, {429, 'r'},
        {500, 'r'}, {502, 'r'}, {503, 'r'}, {301, 'r'}, {302, 'r'},
    };
    size_t n = sizeof(cases) / sizeof(cases[0]);
    int script[16];

    for (size_t i = 0; i < n; i++)
        script[i] = cases[i].status;
    script[n] = -1;
    srv_start(f, script);
    char *urls[] = {f->url};
    webhook_conf c = conf_for(f, urls, 1, WEBHOOK_JSON);
    c.retry_min = c.retry_max = 60; /* no second attempt during the test */
    hook_start(f, &c);
    struct spool_stats want = {0};
    for (size_t i = 0; i < n; i++) {
        want.done += cases[i].want == 'd';
        want.dropped += cases[i].want == 'x';
        want.retried += cases[i].want == 'r';
        incident(f, INCIDENT);
        struct spool_stats st = wait_for(f, want.done, want.retried, want.dropped, 3000);
        if (st.done != want.done || st.dropped != want.dropped || st.retried != want.retried)
            fail_msg("HTTP %d: done %llu dropped %llu retried %llu, want '%c'", cases[i].status,
                     (unsigned long long)st.done, (unsigned long long)st.dropped,
                     (unsigned long long)st.retried, cases[i].want);
        CHECK_EQ("one request per job", srv_count(f), i + 1);
    }
    CHECK_EQ("jobs left to retry", spool_files(f), (int)want.retried);
}

/* retry_then_done - 500 then 200: delivered by the retry after retry_min */
static void
test_retry_then_done(void **state)
{
    fx *f = *state;
    static const int script[] = {500, 200, -1};

    srv_start(f, script);
    char *urls[] = {f->url};
    webhook_conf c = conf_for(f, urls, 1, WEBHOOK_JSON);
    hook_start(f, &c);
    incident(f, INCIDENT);
    struct spool_stats st = wait_for(f, 1, 1, 0, 4000);
    CHECK_EQ("requests", srv_count(f), 2);
    CHECK_EQ("retried", st.retried, 1);
    CHECK_EQ("pending", st.pending, 0);
    assert_string_equal(f->s.reqs[1].body, INCIDENT);
}

/* hang - a receiver that never answers: timed out and retried; webhook_send stays fast */
static void
test_hang(void **state)
{
    fx *f = *state;
    static const int script[] = {0, 200, -1};

    srv_start(f, script);
    char *urls[] = {f->url};
    webhook_conf c = conf_for(f, urls, 1, WEBHOOK_JSON);
    hook_start(f, &c);
    incident(f, "{\"summary\":\"first\"}");
    wait_requests(f, 1, 2000); /* the worker now waits for an answer */
    int64_t t0 = mono_ms();
    incident(f, "{\"summary\":\"second\"}");
    int64_t took = mono_ms() - t0;
    if (took >= 50)
        fail_msg("webhook_send took %lld ms while the receiver hangs", (long long)took);
    struct spool_stats st = wait_for(f, 2, 1, 0, 6000);
    CHECK_EQ("retried", st.retried, 1);
    CHECK_EQ("requests", srv_count(f), 3);
    assert_string_equal(f->s.reqs[2].body, "{\"summary\":\"first\"}");
}

/* close_aborts - webhook_close does not wait out a hanging request; the job stays */
static void
test_close_aborts(void **state)
{
    fx *f = *state;
    static const int script[] = {0, -1};

    srv_start(f, script);
    char *urls[] = {f->url};
    webhook_conf c = conf_for(f, urls, 1, WEBHOOK_JSON);
    c.timeout = 30;
    hook_start(f, &c);
    incident(f, INCIDENT);
    wait_requests(f, 1, 2000);
    int64_t t0 = mono_ms();
    hook_stop(f);
    int64_t took = mono_ms() - t0;
    if (took > 1500)
        fail_msg("webhook_close took %lld ms", (long long)took);
    CHECK_EQ("job kept", spool_files(f), 1);
}

/* count_lines - lines of a file that contain what */
static int
count_lines(const char *path, const char *what)
{
    FILE *fp = fopen(path, "r");
    char line[1024];
    int n = 0;

    if (fp == NULL)
        return -1;
    while (fgets(line, sizeof(line), fp) != NULL)
        n += strstr(line, what) != NULL;
    fclose(fp);
    return n;
}

/* refused - nothing listens: retried with backoff, kept on disk, logged once a minute; its
 * plain http:// URL is warned of once, at the start */
static void
test_refused(void **state)
{
    fx *f = *state;
    char log[128];

    stderr_capture(f, log, sizeof(log));
    char *urls[] = {f->dead_url};
    webhook_conf c = conf_for(f, urls, 1, WEBHOOK_JSON);
    hook_start(f, &c);
    incident(f, INCIDENT);
    struct spool_stats st = wait_for(f, 0, 2, 0, 4000); /* tried at once, then after 1 s */
    hook_stop(f);
    fflush(stderr);
    int logged = count_lines(log, "will retry"), plain = count_lines(log, "plain http://");
    stderr_restore(f);
    CHECK_EQ("done", st.done, 0);
    CHECK_EQ("dropped", st.dropped, 0);
    CHECK_EQ("pending", st.pending, 1);
    CHECK_EQ("job kept", spool_files(f), 1);
    CHECK_EQ("failure lines for 2 failed attempts within a minute", logged, 1);
    CHECK_EQ("a warning at the start for a plain http:// URL", plain, 1);
}

/* backlog - jobs left by one instance are delivered by the next; a gone URL's are dropped */
static void
test_backlog(void **state)
{
    fx *f = *state;
    static const int script[] = {200, -1};
    static const char *bodies[] = {"{\"summary\":\"1\"}", "{\"summary\":\"2\"}",
                                   "{\"summary\":\"3\"}"};

    char *dead[] = {f->dead_url, f->dead_url};
    webhook_conf c = conf_for(f, dead, 2, WEBHOOK_JSON);
    c.retry_min = c.retry_max = 60;
    hook_start(f, &c);
    for (int i = 0; i < 3; i++)
        incident(f, bodies[i]);
    wait_for(f, 0, 6, 0, 3000);
    hook_stop(f);
    CHECK_EQ("backlog on disk", spool_files(f), 6);

    srv_start(f, script);
    char *urls[] = {f->url}; /* one URL now: the hook1 jobs have nowhere to go */
    c = conf_for(f, urls, 1, WEBHOOK_JSON);
    hook_start(f, &c);
    struct spool_stats st = wait_for(f, 3, 0, 3, 3000);
    CHECK_EQ("done", st.done, 3);
    CHECK_EQ("dropped", st.dropped, 3);
    CHECK_EQ("requests", srv_count(f), 3);
    for (int i = 0; i < 3; i++)
        assert_string_equal(f->s.reqs[i].body, bodies[i]);
    CHECK_EQ("spool files", spool_files(f), 0);
}

/* open_errors - bad configurations are refused with a message */
static void
test_open_errors(void **state)
{
    fx *f = *state;
    char err[256];
    static const struct {
        const char *url;
        int format;
        int64_t timeout;
    } cases[] = {
        {"ftp://example.org/x", WEBHOOK_JSON, 5},
        {"example.org/hook", WEBHOOK_JSON, 5},
        {"http://", WEBHOOK_JSON, 5},
        {"https:///path", WEBHOOK_JSON, 5},
        {"http://a b/", WEBHOOK_JSON, 5},
        {"http://example.org/", WEBHOOK_JSON, 0},
        {"http://example.org/", 7, 5},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *urls[] = {(char *)cases[i].url};
        webhook_conf c = conf_for(f, urls, 1, cases[i].format);
        c.timeout = cases[i].timeout;
        err[0] = '\0';
        webhook *w = webhook_open(&c, err, sizeof(err));
        if (w != NULL || err[0] == '\0')
            fail_msg("case %zu (%s): opened or no message", i, cases[i].url);
    }
    webhook_conf c = conf_for(f, NULL, 0, WEBHOOK_JSON);
    assert_null(webhook_open(&c, err, sizeof(err)));
    webhook_close(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_json_verbatim, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slack_escaping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_then_done, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hang, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_aborts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backlog, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
    };

    webhook_global_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
