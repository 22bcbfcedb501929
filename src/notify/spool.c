/*
 * spool - durable job queue with one worker thread (see spool.h)
 *
 * The worker keeps every known job file in ents, sorted by name, with
 * its attempt count and next attempt time (monotonic milliseconds).
 * spool_put() only names the job and queues a copy of it in memory
 * (unwritten) under the mutex: the writer thread writes each file and
 * hands the name over through the incoming array, and the worker merges
 * them before each batch. So the caller's thread (the daemon's event
 * loop) never creates a file, and a slow handler never delays a write.
 * Only the worker reads or deletes job files, only the writer creates
 * them, and no file is touched under the mutex.
 */
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../util/alloc.h"
#include "../util/log.h"

#define SPOOL_BATCH_CAP 1024
#define SPOOL_SEQ_MAX 999999u
#define SPOOL_DELAY_MAX (366 * 86400) /* s: longer retry delays are cut to this */

typedef struct spool_new {
    char name[SPOOL_NAME_MAX + 1];
    char *data; /* owned */
    size_t len;
} spool_new;

typedef struct spool_ent {
    char name[SPOOL_NAME_MAX + 1];
    unsigned attempts;
    int64_t next_ms; /* monotonic ms of the next attempt; 0 = due now */
    int gone;        /* deleted in the batch just run */
} spool_ent;

struct spool {
    spool_conf c;
    char *dir, *what;
    spool_fn fn;
    void *ctx;
    int dirfd;
    pthread_t thr, wthr; /* the worker, the writer */
    pthread_mutex_t mu;
    pthread_cond_t cv, wcv; /* wake the worker, the writer */
    int writer_started;
    /* under mu */
    int stop;
    spool_new *wq; /* put, not yet written */
    size_t nwq, capwq;
    spool_ent *in; /* put but not yet seen by the worker */
    size_t nin, capin;
    int64_t last_t; /* epoch of the newest name */
    unsigned seq;   /* the next sequence number */
    struct spool_stats st;
    /* the worker's own */
    spool_ent *ents;
    size_t nents, capents;
    size_t *due;    /* indexes into ents of the batch, batch_max of them */
    spool_job *job; /* batch_max of them */
};

/* mono_ms - the monotonic clock in milliseconds */
static int64_t
mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* clock_ns - a clock in nanoseconds (not truncated: see next_attempt) */
static int64_t
clock_ns(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int
spool_kind_ok(const char *kind)
{
    size_t n = 0;

    if (kind == NULL)
        return 0;
    for (; kind[n] != '\0'; n++) {
        char ch = kind[n];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_'))
            return 0;
    }
    return n >= 1 && n <= SPOOL_KIND_MAX;
}

/* name_parse - split a job file name; 1 if it is one */
static int
name_parse(const char *name, int64_t *t, unsigned *seq, const char **kind)
{
    int64_t tv = 0;
    unsigned sv = 0;

    for (int i = 0; i < 17; i++) {
        char ch = name[i];
        if (i == 10) {
            if (ch != '-')
                return 0;
        } else if (ch < '0' || ch > '9') {
            return 0;
        } else if (i < 10) {
            tv = tv * 10 + (ch - '0');
        } else {
            sv = sv * 10 + (unsigned)(ch - '0');
        }
    }
    if (name[17] != '-' || !spool_kind_ok(name + 18))
        return 0;
    *t = tv;
    *seq = sv;
    *kind = name + 18;
    return 1;
}

/* ent_push - append a job name to an array */
static void
ent_push(spool_ent **v, size_t *n, size_t *cap, const char *name)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        *v = xrealloc(*v, *cap * sizeof(**v));
    }
    spool_ent *e = &(*v)[(*n)++];
    memset(e, 0, sizeof(*e));
    snprintf(e->name, sizeof(e->name), "%s", name);
}

static int
ent_cmp(const void *a, const void *b)
{
    return strcmp(((const spool_ent *)a)->name, ((const spool_ent *)b)->name);
}

/* scan - queue every job file in the directory, delete tmp.* leftovers */
static int
scan(spool *s, char *err, size_t errlen)
{
    int fd = dup(s->dirfd);
    DIR *d = fd < 0 ? NULL : fdopendir(fd);
    struct dirent *de;

    if (d == NULL) {
        snprintf(err, errlen, "%s: %s", s->dir, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        const char *kind;
        int64_t t;
        unsigned seq;
        if (de->d_name[0] == '.')
            continue;
        if (strncmp(de->d_name, "tmp.", 4) == 0) {
            if (unlinkat(s->dirfd, de->d_name, 0) != 0)
                log_warn("%s spool: %s/%s: %s", s->what, s->dir, de->d_name, strerror(errno));
        } else if (name_parse(de->d_name, &t, &seq, &kind)) {
            ent_push(&s->ents, &s->nents, &s->capents, de->d_name);
        } else {
            log_warn("%s spool: %s/%s: not a job file, ignored", s->what, s->dir, de->d_name);
        }
    }
    closedir(d);
    if (s->nents > 0) {
        const char *kind;
        qsort(s->ents, s->nents, sizeof(*s->ents), ent_cmp);
        name_parse(s->ents[s->nents - 1].name, &s->last_t, &s->seq, &kind);
        s->seq++;
    }
    s->st.pending = s->nents;
    return 0;
}

/* open_dir - create the directory if missing and open it */
static int
open_dir(spool *s, char *err, size_t errlen)
{
    if (mkdir(s->dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: cannot create: %s", s->dir, strerror(errno));
        return -1;
    }
    s->dirfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s->dirfd < 0) {
        snprintf(err, errlen, "%s: %s", s->dir, strerror(errno));
        return -1;
    }
    return 0;
}

/* conf_check - the configuration makes sense */
static int
conf_check(const spool_conf *c, spool_fn fn, char *err, size_t errlen)
{
    if (c == NULL || c->dir == NULL || c->dir[0] == '\0' || fn == NULL) {
        snprintf(err, errlen, "spool: no directory or handler");
        return -1;
    }
    if (c->batch_max < 1 || c->retry_min < 1 || c->retry_max < c->retry_min || c->max_age < 0) {
        snprintf(err, errlen,
                 "%s: need batch_max >= 1, retry_min >= 1, retry_max >= retry_min, max_age >= 0",
                 c->dir);
        return -1;
    }
    return 0;
}

/* spool_free - release everything (the thread is not running) */
static void
spool_free(spool *s)
{
    if (s->dirfd >= 0)
        close(s->dirfd);
    for (size_t i = 0; i < s->nwq; i++)
        free(s->wq[i].data);
    free(s->wq);
    free(s->in);
    free(s->ents);
    free(s->due);
    free(s->job);
    free(s->dir);
    free(s->what);
    free(s);
}

static void *spool_worker(void *arg);
static void *spool_writer(void *arg);

/* start_threads - the worker and the writer, with every signal blocked; 0 or an errno */
static int
start_threads(spool *s)
{
    sigset_t all, old; /* the threads take no signals: they stay the daemon loop's */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&s->wthr, NULL, spool_writer, s);
    if (rc == 0) {
        s->writer_started = 1;
        rc = pthread_create(&s->thr, NULL, spool_worker, s);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

/* stop_threads - ask both to stop; the writer writes what is queued first */
static void
stop_threads(spool *s, int worker_started)
{
    pthread_mutex_lock(&s->mu);
    s->stop = 1;
    pthread_cond_signal(&s->cv);
    pthread_cond_signal(&s->wcv);
    pthread_mutex_unlock(&s->mu);
    if (s->writer_started)
        pthread_join(s->wthr, NULL);
    if (worker_started)
        pthread_join(s->thr, NULL);
}

spool *
spool_open(const spool_conf *c, spool_fn fn, void *ctx, char *err, size_t errlen)
{
    if (conf_check(c, fn, err, errlen) != 0)
        return NULL;
    spool *s = xcalloc(1, sizeof(*s));
    s->c = *c;
    if (s->c.batch_max > SPOOL_BATCH_CAP)
        s->c.batch_max = SPOOL_BATCH_CAP;
    if (s->c.retry_max > SPOOL_DELAY_MAX)
        s->c.retry_max = SPOOL_DELAY_MAX;
    if (s->c.retry_min > s->c.retry_max)
        s->c.retry_min = s->c.retry_max;
    s->dir = xstrdup(c->dir);
    s->what = xstrdup(c->what ? c->what : "job");
    s->fn = fn;
    s->ctx = ctx;
    s->dirfd = -1;
    s->due = xcalloc(s->c.batch_max, sizeof(*s->due));
    s->job = xcalloc(s->c.batch_max, sizeof(*s->job));
    if (open_dir(s, err, errlen) != 0 || scan(s, err, errlen) != 0) {
        spool_free(s);
        return NULL;
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_cond_init(&s->wcv, NULL);
    pthread_mutex_init(&s->mu, NULL);
    int rc = start_threads(s);
    if (rc != 0) {
        snprintf(err, errlen, "%s: cannot start the spool's threads: %s", s->dir, strerror(rc));
        stop_threads(s, 0);
        pthread_cond_destroy(&s->cv);
        pthread_cond_destroy(&s->wcv);
        pthread_mutex_destroy(&s->mu);
        spool_free(s);
        return NULL;
    }
    return s;
}

/* make_name - the next job name (under mu) */
static void
make_name(spool *s, const char *kind, int64_t now, char *name, size_t size)
{
    int64_t t = now < 0 ? 0 : now;

    if (t < s->last_t)
        t = s->last_t;
    if (s->seq > SPOOL_SEQ_MAX) {
        s->seq = 0;
        if (t <= s->last_t)
            t = s->last_t + 1;
    }
    s->last_t = t;
    snprintf(name, size, "%010lld-%06u-%s", (long long)t, s->seq++, kind);
}

/* write_tmp - write data to tmp.NAME (not yet visible to the worker); -1 on error (logged) */
static int
write_tmp(spool *s, const char *name, const char *data, size_t len)
{
    char tmp[SPOOL_NAME_MAX + 8];
    snprintf(tmp, sizeof(tmp), "tmp.%s", name);
    int fd = openat(s->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    size_t off = 0;

    if (fd < 0)
        goto fail;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            goto fail;
        off += (size_t)w;
    }
    if (close(fd) != 0) {
        fd = -1;
        goto fail;
    }
    return 0;
fail:
    log_error("%s spool: cannot write %s/%s: %s", s->what, s->dir, tmp, strerror(errno));
    if (fd >= 0)
        close(fd);
    unlinkat(s->dirfd, tmp, 0);
    return -1;
}

/* publish - rename tmp.NAME to NAME; -1 on error (logged, the file removed) */
static int
publish(spool *s, const char *name)
{
    char tmp[SPOOL_NAME_MAX + 8];

    snprintf(tmp, sizeof(tmp), "tmp.%s", name);
    if (renameat(s->dirfd, tmp, s->dirfd, name) == 0)
        return 0;
    log_error("%s spool: cannot rename %s/%s: %s", s->what, s->dir, tmp, strerror(errno));
    unlinkat(s->dirfd, tmp, 0);
    return -1;
}

/* printable - at most size - 1 characters of s for a log line, '?' for unprintable ones */
static const char *
printable(const char *s, char *out, size_t size)
{
    size_t i = 0;

    if (s == NULL)
        return "(null)";
    for (; s[i] != '\0' && i + 1 < size; i++)
        out[i] = s[i] >= ' ' && s[i] <= '~' ? s[i] : '?';
    out[i] = '\0';
    return out;
}

int
spool_put(spool *s, const char *kind, const char *data, size_t len, int64_t now)
{
    char name[SPOOL_NAME_MAX + 1];

    if (!spool_kind_ok(kind)) {
        char shown[41];
        log_warn("%s spool: invalid job kind \"%s\" (want [a-z0-9_], 1-%d characters)", s->what,
                 printable(kind, shown, sizeof(shown)), SPOOL_KIND_MAX);
        return -1;
    }
    if (len > SPOOL_DATA_MAX || (data == NULL && len > 0)) {
        log_warn("%s spool: job of %zu bytes refused (at most %d)", s->what, len, SPOOL_DATA_MAX);
        return -1;
    }
    char *copy = xmalloc(len + 1);
    memcpy(copy, data ? data : "", len);
    copy[len] = '\0';
    pthread_mutex_lock(&s->mu);
    make_name(s, kind, now, name, sizeof(name));
    if (s->nwq == s->capwq) {
        s->capwq = s->capwq ? s->capwq * 2 : 16;
        s->wq = xrealloc(s->wq, s->capwq * sizeof(*s->wq));
    }
    spool_new *w = &s->wq[s->nwq++];
    memcpy(w->name, name, sizeof(w->name));
    w->data = copy;
    w->len = len;
    s->st.pending++;
    pthread_cond_signal(&s->wcv);
    pthread_mutex_unlock(&s->mu);
    return 0;
}

/* ---- the writer ---- */

/*
 * write_all - write the jobs taken from the queue and hand each to the worker. Durable before
 * the worker sees it: all the batch's files are written, then one syncfs() puts their data on
 * disk, then each is renamed into place and the directory synced once: two syncs a batch
 * however large it is (a lock storm makes hundreds of incidents a second), on this thread.
 */
static void
write_all(spool *s, spool_new *w, size_t n)
{
    int *ok = xcalloc(n ? n : 1, sizeof(*ok));

    for (size_t i = 0; i < n; i++)
        ok[i] = write_tmp(s, w[i].name, w[i].data, w[i].len) == 0; /* logged if not */
    if (n && syncfs(s->dirfd) != 0)
        log_warn("%s spool: syncfs %s: %s", s->what, s->dir, strerror(errno));
    for (size_t i = 0; i < n; i++)
        ok[i] = ok[i] && publish(s, w[i].name) == 0;
    if (n && fsync(s->dirfd) != 0)
        log_warn("%s spool: fsync %s: %s", s->what, s->dir, strerror(errno));
    for (size_t i = 0; i < n; i++) {
        free(w[i].data);
        pthread_mutex_lock(&s->mu);
        if (ok[i]) {
            ent_push(&s->in, &s->nin, &s->capin, w[i].name);
            pthread_cond_signal(&s->cv);
        } else {
            s->st.pending--;
            s->st.dropped++;
        }
        pthread_mutex_unlock(&s->mu);
    }
    free(ok);
}

/* spool_writer - the writer thread: creates every job file, until stopped with nothing queued */
static void *
spool_writer(void *arg)
{
    spool *s = arg;
    spool_new *batch = NULL;
    size_t cap = 0;

    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (s->nwq == 0 && !s->stop)
            pthread_cond_wait(&s->wcv, &s->mu);
        if (s->nwq == 0)
            break; /* stopped, and all written */
        spool_new *t = batch; /* swap the queue for the (empty) batch array */
        size_t tc = cap, n = s->nwq;
        batch = s->wq, cap = s->capwq;
        s->wq = t, s->capwq = tc, s->nwq = 0;
        pthread_mutex_unlock(&s->mu);
        write_all(s, batch, n);
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    free(batch);
    return NULL;
}

void
spool_stats(spool *s, struct spool_stats *out)
{
    pthread_mutex_lock(&s->mu);
    *out = s->st;
    pthread_mutex_unlock(&s->mu);
}

void
spool_close(spool *s)
{
    if (s == NULL)
        return;
    stop_threads(s, 1);
    pthread_cond_destroy(&s->cv);
    pthread_cond_destroy(&s->wcv);
    pthread_mutex_destroy(&s->mu);
    spool_free(s);
}

/* ---- the worker ---- */

/* take_incoming - merge the names spool_put made into ents (under mu) */
static void
take_incoming(spool *s)
{
    if (s->nin == 0)
        return;
    int sorted = s->nents == 0 || strcmp(s->ents[s->nents - 1].name, s->in[0].name) < 0;
    for (size_t i = 0; i < s->nin; i++) {
        ent_push(&s->ents, &s->nents, &s->capents, s->in[i].name);
        if (i > 0 && strcmp(s->in[i - 1].name, s->in[i].name) > 0)
            sorted = 0;
    }
    s->nin = 0;
    if (!sorted)
        qsort(s->ents, s->nents, sizeof(*s->ents), ent_cmp);
}

/* pick_due - fill s->due with the first due jobs; the earliest later time in *next */
static size_t
pick_due(spool *s, int64_t now, int64_t *next)
{
    size_t n = 0;

    *next = INT64_MAX;
    for (size_t i = 0; i < s->nents; i++) {
        if (s->ents[i].next_ms <= now) {
            if (n == s->c.batch_max) {
                *next = now;
                break;
            }
            s->due[n++] = i;
        } else if (s->ents[i].next_ms < *next) {
            *next = s->ents[i].next_ms;
        }
    }
    return n;
}

/* wait_until - sleep until woken or the monotonic time next (under mu) */
static void
wait_until(spool *s, int64_t next)
{
    if (next == INT64_MAX) {
        pthread_cond_wait(&s->cv, &s->mu);
        return;
    }
    struct timespec ts = {.tv_sec = next / 1000, .tv_nsec = (next % 1000) * 1000000};
    pthread_cond_timedwait(&s->cv, &s->mu, &ts);
}

/* read_job - the contents of a job file, NUL-terminated; NULL on error (errno) */
static char *
read_job(spool *s, const char *name, size_t *len)
{
    int fd = openat(s->dirfd, name, O_RDONLY | O_CLOEXEC);
    struct stat st;
    char *buf = NULL;
    size_t off = 0, size;
    int e;

    if (fd < 0)
        return NULL;
    if (fstat(fd, &st) != 0)
        goto fail;
    if (!S_ISREG(st.st_mode) || st.st_size > SPOOL_DATA_MAX) {
        errno = S_ISREG(st.st_mode) ? EFBIG : EINVAL;
        goto fail;
    }
    size = (size_t)st.st_size;
    buf = xmalloc(size + 1);
    while (off < size) {
        ssize_t r = read(fd, buf + off, size - off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            goto fail;
        if (r == 0)
            break; /* shorter than fstat said: keep what there is */
        off += (size_t)r;
    }
    close(fd);
    buf[off] = '\0';
    *len = off;
    return buf;
fail:
    e = errno;
    free(buf);
    close(fd);
    errno = e;
    return NULL;
}

/* forget - delete a job's file and mark it gone */
static void
forget(spool *s, spool_ent *e)
{
    if (unlinkat(s->dirfd, e->name, 0) != 0 && errno != ENOENT)
        log_error("%s spool: cannot delete %s/%s: %s", s->what, s->dir, e->name, strerror(errno));
    e->gone = 1;
}

/* load_batch - read the due jobs into s->job; drop unreadable and old ones */
static size_t
load_batch(spool *s, size_t ndue, int64_t now, struct spool_stats *d)
{
    size_t n = 0;

    for (size_t i = 0; i < ndue; i++) {
        spool_ent *e = &s->ents[s->due[i]];
        spool_job *j = &s->job[n];
        unsigned seq;
        memset(j, 0, sizeof(*j));
        name_parse(e->name, &j->queued, &seq, &j->kind);
        char *data = read_job(s, e->name, &j->len);
        if (data == NULL) {
            log_error("%s spool: cannot read %s/%s: %s; removed", s->what, s->dir, e->name,
                      strerror(errno));
        } else if (s->c.max_age > 0 && now - j->queued > s->c.max_age) {
            log_warn("%s spool: dropped %s: not delivered within %lld s", s->what, e->name,
                     (long long)s->c.max_age);
            free(data);
            data = NULL;
        }
        if (data == NULL) {
            forget(s, e);
            d->dropped++;
            continue;
        }
        j->name = e->name;
        j->data = data;
        j->attempts = e->attempts;
        j->result = SPOOL_RETRY;
        s->due[n++] = s->due[i];
    }
    return n;
}

/* backoff_ms - the delay before the next attempt after attempts earlier ones */
static int64_t
backoff_ms(const spool *s, unsigned attempts)
{
    int64_t d = s->c.retry_min;

    for (unsigned i = 0; i < attempts && d < s->c.retry_max; i++)
        d *= 2;
    return (d < s->c.retry_max ? d : s->c.retry_max) * 1000;
}

/*
 * next_attempt - the monotonic ms from which a retried job is due: at
 * retry_at (epoch s) if set and in the future, else after the backoff.
 * The clocks are read to the nanosecond and the result rounded up, so
 * that pick_due (mono_ms() >= next_ms) never runs a job early: with
 * both clocks truncated to whole ms, the job could be taken up to 1 ms
 * before retry_at.
 */
static int64_t
next_attempt(const spool *s, const spool_job *j, unsigned attempts)
{
    int64_t mono = clock_ns(CLOCK_MONOTONIC), wall = clock_ns(CLOCK_REALTIME);
    int64_t at = j->retry_at < wall / 1000000000 + SPOOL_DELAY_MAX ? j->retry_at : 0;
    int64_t due;

    if (at > 0 && at * 1000000000 > wall)
        due = mono + (at * 1000000000 - wall);
    else
        due = mono + backoff_ms(s, attempts) * 1000000;
    return (due + 999999) / 1000000;
}

/* settle - act on the handler's results */
static void
settle(spool *s, size_t n, struct spool_stats *d)
{
    for (size_t i = 0; i < n; i++) {
        spool_job *j = &s->job[i];
        spool_ent *e = &s->ents[s->due[i]];
        if (j->result == SPOOL_DONE) {
            forget(s, e);
            d->done++;
        } else if (j->result == SPOOL_DROP) {
            log_warn("%s spool: dropped %s after %u attempt(s)", s->what, e->name, e->attempts + 1);
            forget(s, e);
            d->dropped++;
        } else {
            e->next_ms = next_attempt(s, j, e->attempts);
            d->retried++;
        }
        e->attempts++;
        free((char *)j->data);
        j->data = NULL;
    }
}

/* run_batch - one handler call over the due jobs; counts into d */
static void
run_batch(spool *s, size_t ndue, struct spool_stats *d)
{
    /* the wall clock next_attempt() used, not time(NULL): that one is the kernel's coarse clock,
     * up to a tick behind, so a job due at retry_at second T could run while time() still said
     * T-1, and a handler waiting for T (the mailer's alert budget) pushed it to the backoff */
    int64_t now = clock_ns(CLOCK_REALTIME) / 1000000000;
    size_t n = load_batch(s, ndue, now, d);

    if (n > 0) {
        s->fn(s->ctx, s->job, n, now);
        settle(s, n, d);
    }
    size_t k = 0;
    for (size_t i = 0; i < s->nents; i++)
        if (!s->ents[i].gone)
            s->ents[k++] = s->ents[i];
    s->nents = k;
}

static void *
spool_worker(void *arg)
{
    spool *s = arg;

    pthread_mutex_lock(&s->mu);
    while (!s->stop) {
        take_incoming(s);
        int64_t next;
        size_t n = pick_due(s, mono_ms(), &next);
        if (n == 0) {
            wait_until(s, next);
            continue;
        }
        pthread_mutex_unlock(&s->mu);
        struct spool_stats d = {0};
        run_batch(s, n, &d);
        pthread_mutex_lock(&s->mu);
        s->st.pending -= d.done + d.dropped;
        s->st.done += d.done;
        s->st.retried += d.retried;
        s->st.dropped += d.dropped;
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}
