/*
 * test_spool - unit tests for the durable job queue (spool.h)
 *
 * Each test gets a fresh temporary directory and a recording handler:
 * every job it sees is logged (name, kind, data, attempts, wall time),
 * and the test's decide() function gives the result. Timing checks poll
 * with a deadline instead of sleeping a fixed time; retry_min is 1 s
 * where a retry has to happen, so the whole file runs in a few seconds.
 * The directory is removed and the spool closed even when a check fails
 * (cmocka teardown).
 *
 * clock_gettime() is defined here, in front of libc's, for the whole
 * program (the spool included): it is the kernel's clock, with
 * CLOCK_REALTIME moved by wall_shift_ns. test_retry_at uses that to put
 * the wall clock 0.1 ms past a millisecond boundary of the monotonic
 * one, and hands its RETRY back 0.90-0.95 ms into a monotonic
 * millisecond: there, clocks truncated to whole ms make the retry come
 * 0.9 ms early, so that bug fails the test unless the worker wakes more
 * than 0.9 ms late, and a right spool passes every time (the check is
 * to the nanosecond, and the spool rounds up).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../../src/notify/spool.h"
#include "check.h"

#define T0 1764057600 /* a fixed "now" for puts whose time does not matter */
#define MAXREC 256

typedef struct rec {
    char name[SPOOL_NAME_MAX + 1];
    char kind[SPOOL_KIND_MAX + 1];
    char data[64];
    unsigned attempts;
    int64_t queued;
    int64_t wall_ms; /* when the handler saw it */
    int64_t wall_ns; /* the same, to the nanosecond */
} rec;

typedef struct fx fx;
typedef spool_result (*decide_fn)(fx *f, spool_job *j, int64_t now);

struct fx {
    char dir[64];
    spool_conf conf;
    spool *s;
    decide_fn decide;
    pthread_mutex_t mu;
    rec log[MAXREC];
    size_t n;          /* jobs seen */
    size_t max_batch;  /* the largest batch seen */
    atomic_int inside; /* the handler is running */
    atomic_int hold;   /* the handler waits while set (at most 2 s) */
    int64_t retry_at;  /* what retry_at_once() asked for */
    int bad;           /* the handler got a job without its defaults */
};

static _Atomic int64_t wall_shift_ns; /* added to CLOCK_REALTIME (under 1 s); 0 but in retry_at */

/* clock_gettime - the kernel's clocks, CLOCK_REALTIME moved by wall_shift_ns */
int
clock_gettime(clockid_t id, struct timespec *ts)
{
    if (syscall(SYS_clock_gettime, id, ts) != 0)
        return -1;
    if (id == CLOCK_REALTIME) {
        ts->tv_nsec += (long)atomic_load(&wall_shift_ns);
        if (ts->tv_nsec >= 1000000000) {
            ts->tv_nsec -= 1000000000;
            ts->tv_sec++;
        }
    }
    return 0;
}

static int64_t
clock_ns(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

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

/* ---- the handler and its decisions ---- */

static void
handler(void *ctx, spool_job *jobs, size_t n, int64_t now)
{
    fx *f = ctx;

    atomic_store(&f->inside, 1);
    for (int64_t end = mono_ms() + 2000; atomic_load(&f->hold) && mono_ms() < end;)
        sleep_ms(1);
    pthread_mutex_lock(&f->mu);
    if (n > f->max_batch)
        f->max_batch = n;
    for (size_t i = 0; i < n; i++) {
        if (jobs[i].result != SPOOL_RETRY || strlen(jobs[i].data) != jobs[i].len)
            f->bad = 1; /* checked by the test thread: cmocka cannot fail here */
        if (f->n < MAXREC) {
            rec *r = &f->log[f->n];
            snprintf(r->name, sizeof(r->name), "%s", jobs[i].name);
            snprintf(r->kind, sizeof(r->kind), "%s", jobs[i].kind);
            snprintf(r->data, sizeof(r->data), "%s", jobs[i].data);
            r->attempts = jobs[i].attempts;
            r->queued = jobs[i].queued;
            r->wall_ns = clock_ns(CLOCK_REALTIME);
            r->wall_ms = r->wall_ns / 1000000;
        }
        f->n++;
        jobs[i].result = f->decide(f, &jobs[i], now);
    }
    pthread_mutex_unlock(&f->mu);
    atomic_store(&f->inside, 0);
}

static spool_result
done_all(fx *f, spool_job *j, int64_t now)
{
    (void)f, (void)j, (void)now;
    return SPOOL_DONE;
}

static spool_result
retry_all(fx *f, spool_job *j, int64_t now)
{
    (void)f, (void)j, (void)now;
    return SPOOL_RETRY;
}

static spool_result
drop_all(fx *f, spool_job *j, int64_t now)
{
    (void)f, (void)j, (void)now;
    return SPOOL_DROP;
}

/* retry_once - RETRY (with the default backoff) the first time, then DONE */
static spool_result
retry_once(fx *f, spool_job *j, int64_t now)
{
    (void)f, (void)now;
    return j->attempts == 0 ? SPOOL_RETRY : SPOOL_DONE;
}

/*
 * retry_at_once - RETRY not before now + 2 the first time, then DONE;
 * the RETRY is handed back 0.90-0.95 ms into a monotonic millisecond
 */
static spool_result
retry_at_once(fx *f, spool_job *j, int64_t now)
{
    if (j->attempts > 0)
        return SPOOL_DONE;
    j->retry_at = f->retry_at = now + 2;
    for (int64_t t = clock_ns(CLOCK_MONOTONIC); t % 1000000 < 900000 || t % 1000000 >= 950000;)
        t = clock_ns(CLOCK_MONOTONIC);
    return SPOOL_RETRY;
}

/* ---- helpers ---- */

static size_t
seen(fx *f)
{
    pthread_mutex_lock(&f->mu);
    size_t n = f->n;
    pthread_mutex_unlock(&f->mu);
    return n;
}

/* wait_seen - poll until the handler has seen n jobs; fail after ms */
static void
wait_seen(fx *f, size_t n, int ms)
{
    for (int64_t end = mono_ms() + ms; seen(f) < n;) {
        if (mono_ms() > end)
            fail_msg("handler saw %zu jobs after %d ms, want %zu", seen(f), ms, n);
        sleep_ms(5);
    }
}

/* wait_stats - poll until done + dropped reach n */
static struct spool_stats
wait_settled(fx *f, uint64_t n, int ms)
{
    struct spool_stats st;
    int64_t end = mono_ms() + ms;

    for (;;) {
        spool_stats(f->s, &st);
        if (st.done + st.dropped >= n)
            return st;
        if (mono_ms() > end)
            fail_msg("settled %llu jobs after %d ms, want %llu",
                     (unsigned long long)(st.done + st.dropped), ms, (unsigned long long)n);
        sleep_ms(5);
    }
}

/* files - the names in the directory, sorted, one per line, into out */
static size_t
files(fx *f, char *out, size_t size)
{
    struct dirent **v;
    int n = scandir(f->dir, &v, NULL, alphasort);
    size_t k = 0, off = 0;

    assert_true(n >= 0);
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (v[i]->d_name[0] != '.') {
            off += (size_t)snprintf(out + off, size - off, "%s\n", v[i]->d_name);
            k++;
        }
        free(v[i]);
    }
    free(v);
    return k;
}

static void
spool_start(fx *f, decide_fn decide)
{
    char err[256] = "";

    f->decide = decide;
    f->s = spool_open(&f->conf, handler, f, err, sizeof(err));
    if (f->s == NULL)
        fail_msg("spool_open: %s", err);
}

static void
spool_stop(fx *f)
{
    spool_close(f->s);
    f->s = NULL;
}

static void
put(fx *f, const char *kind, const char *data, int64_t now)
{
    if (spool_put(f->s, kind, data, strlen(data), now) != 0)
        fail_msg("spool_put(%s, %s) failed", kind, data);
}

static void
write_file(const char *dir, const char *name, const char *data, size_t len)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
}

static int
setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));

    snprintf(f->dir, sizeof(f->dir), "/tmp/hj-spool-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    strcat(f->dir, "/q"); /* spool_open creates it */
    f->conf = (spool_conf){.dir = f->dir,
                           .what = "test",
                           .retry_min = 1,
                           .retry_max = 4,
                           .max_age = 0,
                           .batch_max = 8};
    pthread_mutex_init(&f->mu, NULL);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fx *f = *state;
    struct dirent **v;

    atomic_store(&f->hold, 0);
    spool_close(f->s);
    atomic_store(&wall_shift_ns, 0);
    if (f->bad)
        fail_msg("the handler got a job whose result was not SPOOL_RETRY or len was wrong");
    int n = scandir(f->dir, &v, NULL, NULL);
    for (int i = 0; i < n; i++) {
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", f->dir, v[i]->d_name);
        if (v[i]->d_name[0] != '.')
            unlink(path);
        free(v[i]);
    }
    if (n >= 0)
        free(v);
    rmdir(f->dir);
    *strrchr(f->dir, '/') = '\0';
    rmdir(f->dir);
    pthread_mutex_destroy(&f->mu);
    free(f);
    return 0;
}

/* ---- tests ---- */

/* order_done - jobs reach the handler in put order, in batches <= batch_max; DONE deletes */
static void
test_order_done(void **state)
{
    fx *f = *state;
    static const char *kinds[] = {"alert", "notice", "hook0", "hook1", "alert"};
    char list[1024];

    f->conf.batch_max = 2;
    atomic_store(&f->hold, 1); /* let the jobs pile up behind the first batch */
    spool_start(f, done_all);
    for (int i = 0; i < 5; i++) {
        char data[16];
        snprintf(data, sizeof(data), "job %d", i);
        put(f, kinds[i], data, T0 + i);
    }
    atomic_store(&f->hold, 0);
    wait_settled(f, 5, 3000);
    CHECK_EQ("jobs seen", seen(f), 5);
    for (int i = 0; i < 5; i++) {
        char want[SPOOL_NAME_MAX + 1];
        snprintf(want, sizeof(want), "%d-%06d-%s", T0 + i, i, kinds[i]);
        assert_string_equal(f->log[i].name, want);
        assert_string_equal(f->log[i].kind, kinds[i]);
        CHECK_EQ("queued", f->log[i].queued, T0 + i);
        CHECK_EQ("attempts", f->log[i].attempts, 0);
        char data[16];
        snprintf(data, sizeof(data), "job %d", i);
        assert_string_equal(f->log[i].data, data);
    }
    assert_true(f->max_batch <= 2);
    CHECK_EQ("files left", files(f, list, sizeof(list)), 0);
    struct spool_stats st;
    spool_stats(f->s, &st);
    CHECK_EQ("pending", st.pending, 0);
    CHECK_EQ("done", st.done, 5);
    CHECK_EQ("retried", st.retried, 0);
    CHECK_EQ("dropped", st.dropped, 0);
}

/* retry_backoff - RETRY keeps the file; the next attempt comes after retry_min */
static void
test_retry_backoff(void **state)
{
    fx *f = *state;
    char list[1024];

    spool_start(f, retry_once);
    put(f, "alert", "again", T0);
    wait_seen(f, 1, 2000);
    CHECK_EQ("file kept after RETRY", files(f, list, sizeof(list)), 1);
    wait_settled(f, 1, 3000);
    CHECK_EQ("attempts seen", seen(f), 2);
    CHECK_EQ("second attempt count", f->log[1].attempts, 1);
    int64_t gap = f->log[1].wall_ms - f->log[0].wall_ms;
    if (gap < 950 || gap > 2500)
        fail_msg("retried after %lld ms, want about 1000", (long long)gap);
    CHECK_EQ("files left", files(f, list, sizeof(list)), 0);
    struct spool_stats st;
    spool_stats(f->s, &st);
    CHECK_EQ("retried", st.retried, 1);
    CHECK_EQ("done", st.done, 1);
}

/*
 * retry_at - the handler's retry_at replaces the backoff (5 s here) and is
 * honoured to the nanosecond: the wall clock is put 0.1 ms past the
 * monotonic one's millisecond boundaries (see the top of the file)
 */
static void
test_retry_at(void **state)
{
    fx *f = *state;
    int64_t d = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC);

    atomic_store(&wall_shift_ns, ((100000 - d % 1000000) % 1000000 + 1000000) % 1000000);
    f->conf.retry_min = 5;
    f->conf.retry_max = 5;
    spool_start(f, retry_at_once);
    put(f, "hook0", "later", T0);
    wait_settled(f, 1, 4000);
    CHECK_EQ("attempts seen", seen(f), 2);
    int64_t early = f->retry_at * 1000000000 - f->log[1].wall_ns;
    if (early > 0)
        fail_msg("retried at %lld.%06lld ms, %lld us before retry_at %lld s",
                 (long long)(f->log[1].wall_ns / 1000000), (long long)(f->log[1].wall_ns % 1000000),
                 (long long)(early / 1000), (long long)f->retry_at);
}

/* drop - DROP deletes the file and the job is not tried again */
static void
test_drop(void **state)
{
    fx *f = *state;
    char list[1024];

    spool_start(f, drop_all);
    put(f, "notice", "refused", T0);
    wait_settled(f, 1, 2000);
    sleep_ms(150);
    CHECK_EQ("attempts", seen(f), 1);
    CHECK_EQ("files left", files(f, list, sizeof(list)), 0);
    struct spool_stats st;
    spool_stats(f->s, &st);
    CHECK_EQ("dropped", st.dropped, 1);
    CHECK_EQ("done", st.done, 0);
    CHECK_EQ("pending", st.pending, 0);
}

/* max_age - a job older than max_age is dropped before the handler sees it */
static void
test_max_age(void **state)
{
    fx *f = *state;
    char list[1024];
    int64_t now = (int64_t)time(NULL);

    f->conf.max_age = 10;
    atomic_store(&f->hold, 1);
    spool_start(f, done_all);
    put(f, "alert", "stale", now - 100);
    put(f, "alert", "fresh", now);
    atomic_store(&f->hold, 0);
    struct spool_stats st = wait_settled(f, 2, 2000);
    CHECK_EQ("seen", seen(f), 1);
    assert_string_equal(f->log[0].data, "fresh");
    CHECK_EQ("dropped", st.dropped, 1);
    CHECK_EQ("done", st.done, 1);
    CHECK_EQ("files left", files(f, list, sizeof(list)), 0);
}

/* reopen - jobs survive close + open, are due at once, and names keep sorting */
static void
test_reopen(void **state)
{
    fx *f = *state;
    char list[1024];

    f->conf.retry_min = f->conf.retry_max = 60;
    spool_start(f, retry_all);
    put(f, "alert", "A", T0);
    put(f, "hook0", "B", T0);
    put(f, "alert", "C", T0);
    wait_seen(f, 3, 2000);
    struct spool_stats st;
    spool_stats(f->s, &st);
    CHECK_EQ("pending before close", st.pending, 3);
    spool_stop(f);
    CHECK_EQ("files after close", files(f, list, sizeof(list)), 3);
    assert_string_equal(list, "1764057600-000000-alert\n1764057600-000001-hook0\n"
                              "1764057600-000002-alert\n");

    f->n = 0;
    atomic_store(&f->hold, 1);
    spool_start(f, done_all);
    spool_stats(f->s, &st);
    CHECK_EQ("pending after open", st.pending, 3);
    put(f, "notice", "D", T0 - 50); /* the clock went back: still sorts last */
    atomic_store(&f->hold, 0);
    wait_settled(f, 4, 3000);
    CHECK_EQ("seen", seen(f), 4);
    static const char *want[] = {"A", "B", "C", "D"};
    for (int i = 0; i < 4; i++) {
        assert_string_equal(f->log[i].data, want[i]);
        CHECK_EQ("attempts reset by the restart", f->log[i].attempts, 0);
    }
    assert_string_equal(f->log[3].name, "1764057600-000003-notice");
    CHECK_EQ("files left", files(f, list, sizeof(list)), 0);
}

/* bad_kind - spool_put refuses kinds outside [a-z0-9_]{1,32} and writes nothing */
static void
test_bad_kind(void **state)
{
    fx *f = *state;
    char list[2048], k33[34], k32[33];
    static const struct {
        const char *kind;
        int ok;
    } cases[] = {
        {"a", 1},   {"hook0", 1}, {"x_1", 1},  {NULL, 1} /* k32 */, {"", 0},      {"Hook", 0},
        {"a-b", 0}, {"a.b", 0},   {"../x", 0}, {"a b", 0},          {"tmp.x", 0}, {"a\n", 0},
    };

    memset(k32, 'k', 32), k32[32] = '\0';
    memset(k33, 'k', 33), k33[33] = '\0';
    f->conf.retry_min = f->conf.retry_max = 60;
    spool_start(f, retry_all);
    size_t good = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *kind = cases[i].kind ? cases[i].kind : k32;
        int rc = spool_put(f->s, kind, "x", 1, T0);
        if (rc != (cases[i].ok ? 0 : -1))
            fail_msg("kind \"%s\": spool_put = %d", kind, rc);
        CHECK_EQ(kind, spool_kind_ok(kind), cases[i].ok);
        good += cases[i].ok;
    }
    CHECK_EQ("33 characters", spool_put(f->s, k33, "x", 1, T0), -1);
    CHECK_EQ("NULL kind", spool_put(f->s, NULL, "x", 1, T0), -1);
    CHECK_EQ("NULL kind ok", spool_kind_ok(NULL), 0);
    wait_seen(f, good, 3000); /* written by the spool's writer thread, then handled once */
    CHECK_EQ("files", files(f, list, sizeof(list)), good);
}

/* leftovers - open deletes tmp.*, keeps foreign files, drops unreadable jobs, continues seq */
static void
test_leftovers(void **state)
{
    fx *f = *state;
    char list[1024];

    assert_int_equal(mkdir(f->dir, 0700), 0);
    write_file(f->dir, "tmp.1764057600-000009-alert", "half", 4);
    write_file(f->dir, "1764057600-000007-alert", "old", 3);
    write_file(f->dir, "README", "not a job", 9);
    size_t big = SPOOL_DATA_MAX + 1;
    char *huge = calloc(1, big);
    write_file(f->dir, "1764057600-000005-alert", huge, big);
    free(huge);
    atomic_store(&f->hold, 1);
    spool_start(f, done_all);
    put(f, "notice", "new", T0);
    atomic_store(&f->hold, 0);
    struct spool_stats st = wait_settled(f, 3, 3000);
    CHECK_EQ("seen", seen(f), 2);
    assert_string_equal(f->log[0].data, "old");
    assert_string_equal(f->log[1].name, "1764057600-000008-notice");
    CHECK_EQ("dropped (too big to read)", st.dropped, 1);
    CHECK_EQ("files left", files(f, list, sizeof(list)), 1);
    assert_string_equal(list, "README\n");
}

/* put_never_blocks - 100 puts while the handler is stuck take well under 0.5 s */
static void
test_put_never_blocks(void **state)
{
    fx *f = *state;

    atomic_store(&f->hold, 1);
    spool_start(f, done_all);
    put(f, "alert", "first", T0);
    for (int64_t end = mono_ms() + 1000; !atomic_load(&f->inside);) {
        if (mono_ms() > end)
            fail_msg("the handler never started");
        sleep_ms(1);
    }
    int64_t t0 = mono_ms();
    for (int i = 0; i < 100; i++)
        put(f, "alert", "more", T0);
    struct spool_stats st;
    spool_stats(f->s, &st);
    int64_t took = mono_ms() - t0;
    if (took >= 500)
        fail_msg("100 puts took %lld ms with the handler stuck", (long long)took);
    assert_true(atomic_load(&f->inside));
    CHECK_EQ("pending", st.pending, 101);
    atomic_store(&f->hold, 0);
    wait_settled(f, 101, 5000);
    CHECK_EQ("seen", seen(f), 101);
}

/* close_writes_queued - jobs put just before spool_close are on disk after it: the writer
 * thread writes everything queued before it stops */
static void
test_close_writes_queued(void **state)
{
    fx *f = *state;
    static char list[200 * (SPOOL_NAME_MAX + 1) + 1];

    f->conf.retry_min = f->conf.retry_max = 60;
    spool_start(f, retry_all);
    for (int i = 0; i < 200; i++)
        put(f, "alert", "queued", T0);
    spool_stop(f);
    CHECK_EQ("files after close", files(f, list, sizeof(list)), 200);
    CHECK_EQ("no tmp. file left", strstr(list, "tmp.") == NULL, 1);
}

/* open_errors - bad configurations are refused with a message */
static void
test_open_errors(void **state)
{
    fx *f = *state;
    char err[256];
    spool_conf c = f->conf;

    c.batch_max = 0;
    err[0] = '\0';
    assert_null(spool_open(&c, handler, f, err, sizeof(err)));
    assert_true(err[0] != '\0');
    c = f->conf;
    c.retry_max = 0;
    assert_null(spool_open(&c, handler, f, err, sizeof(err)));
    c = f->conf;
    c.dir = "/nonexistent/hj/spool";
    err[0] = '\0';
    assert_null(spool_open(&c, handler, f, err, sizeof(err)));
    assert_non_null(strstr(err, "/nonexistent/hj/spool"));
    assert_null(spool_open(&f->conf, NULL, f, err, sizeof(err)));
    spool_close(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_order_done, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_backoff, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_at, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_age, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_kind, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leftovers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_never_blocks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_writes_queued, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
