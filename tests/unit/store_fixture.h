/*
 * store_fixture.h - shared by test_store.c and test_store_counters.c (header-only, test code)
 *
 * The fixture (a temporary directory and an open store of one backend),
 * helpers that build and check records, the failure switch for each
 * backend, and the runner that turns a table of cases into one cmocka test
 * per case and backend.
 */
#ifndef HJ_TEST_STORE_FIXTURE_H
#define HJ_TEST_STORE_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../src/store/store.h"
#include "check.h"

/* the store's strings (JSON evidence, reasons) are shown cut to this in a failure */
#define STORE_SHOWN 80

/* CHECK_RC - call a store operation, expect rc; err is the fixture's buffer */
#define CHECK_RC(f, want, call)                                                                    \
    do {                                                                                           \
        int r_ = (call);                                                                           \
        if (r_ != (want))                                                                          \
            fail_msg("%s/%s: %s = %d, want %d (err: %s)", (f)->be, (f)->name, #call, r_,           \
                     (int)(want), (f)->err);                                                       \
    } while (0)

#define ERR(f) (f)->err, sizeof((f)->err)

/* OP - call operation op of the fixture's store with its err buffer */
#define OP(f, op, ...) (f)->st->ops->op((f)->st, __VA_ARGS__, ERR(f))

/* OP0 - the same for an operation with no arguments of its own */
#define OP0(f, op) (f)->st->ops->op((f)->st, ERR(f))

typedef struct fx {
    const char *be;   /* "memory" or "sqlite" */
    const char *name; /* the case */
    void (*fn)(struct fx *f);
    char dir[256];
    char path[320]; /* dir/state.db */
    char spec[400]; /* "memory:" or "sqlite:" path */
    hj_store *st;
    char err[512];
    int forced;          /* force_fail is on (SQLite: the limit below is lowered) */
    struct rlimit fsize; /* RLIMIT_FSIZE before force_fail */
    void (*xfsz)(int);   /* the SIGXFSZ handler before force_fail */
} fx;

/* ---- helpers ---- */

/* rnd_next - a small deterministic PRNG (xorshift64*) so failures reproduce */
static __attribute__((unused)) uint64_t
rnd_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * UINT64_C(2685821657736338717);
}

/* mk_lock - a lock record with every field set */
static __attribute__((unused)) hj_lock_rec
mk_lock(const char *account, int64_t since, const char *rule, const char *reason)
{
    hj_lock_rec r = {.since = since, .until = since ? since + 3600 : 0};

    snprintf(r.account, sizeof(r.account), "%s", account);
    snprintf(r.rule, sizeof(r.rule), "%s", rule);
    snprintf(r.actor, sizeof(r.actor), "hijackd");
    snprintf(r.reason, sizeof(r.reason), "%s", reason);
    return r;
}

/* mk_audit - an audit record; json is borrowed */
static __attribute__((unused)) hj_audit_rec
mk_audit(int64_t t, const char *account, const char *action, const char *json)
{
    hj_audit_rec a = {.t = t, .json = json};

    snprintf(a.account, sizeof(a.account), "%s", account);
    snprintf(a.action, sizeof(a.action), "%s", action);
    snprintf(a.rule, sizeof(a.rule), "rule-%s", action);
    snprintf(a.actor, sizeof(a.actor), "hijackd");
    return a;
}

/* check_lock - every field of got equals want */
static __attribute__((unused)) void
check_lock(const char *what, const hj_lock_rec *got, const hj_lock_rec *want)
{
    CHECK_STRN(what, got->account, want->account, STORE_SHOWN);
    CHECK_EQ(what, got->since, want->since);
    CHECK_EQ(what, got->until, want->until);
    CHECK_STRN(what, got->rule, want->rule, STORE_SHOWN);
    CHECK_STRN(what, got->actor, want->actor, STORE_SHOWN);
    CHECK_STRN(what, got->reason, want->reason, STORE_SHOWN);
}

/* grow - make room in *v (n used of *cap elements of size bytes) for one more */
static __attribute__((unused)) void *
grow(void *v, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return v;
    *cap = *cap ? *cap * 2 : 16;
    v = realloc(v, *cap * size);
    assert_non_null(v);
    return v;
}

/* lock_list - what a lock walk saw; optionally stops or deletes as it goes */
typedef struct lock_list {
    hj_lock_rec *v;
    size_t n, cap;
    size_t stop_after;  /* 0 = never */
    hj_store *del_from; /* delete each lock seen from this store */
    int del_failed;     /* lock_del calls that did not return STORE_OK */
} lock_list;

/* lock_list_add - lock walk callback: keep a copy of rec */
static __attribute__((unused)) int
lock_list_add(void *ctx, const hj_lock_rec *rec)
{
    lock_list *l = ctx;
    char err[256];

    l->v = grow(l->v, l->n, &l->cap, sizeof(*l->v));
    l->v[l->n++] = *rec;
    if (l->del_from &&
        l->del_from->ops->lock_del(l->del_from, rec->account, err, sizeof(err)) != STORE_OK)
        l->del_failed++;
    return l->stop_after && l->n >= l->stop_after;
}

/* audit_list - what an audit walk saw (json copied) */
typedef struct audit_list {
    hj_audit_rec *v;
    size_t n, cap;
    size_t stop_after;
} audit_list;

/* audit_list_add - audit walk callback: keep a copy of rec and its json */
static __attribute__((unused)) int
audit_list_add(void *ctx, const hj_audit_rec *rec)
{
    audit_list *l = ctx;

    l->v = grow(l->v, l->n, &l->cap, sizeof(*l->v));
    l->v[l->n] = *rec;
    l->v[l->n].json = strdup(rec->json ? rec->json : "(null)");
    assert_non_null(l->v[l->n].json);
    l->n++;
    return l->stop_after && l->n >= l->stop_after;
}

/* audit_list_free - free the copies */
static __attribute__((unused)) void
audit_list_free(audit_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free((char *)l->v[i].json);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

/* walk_locks - every lock, in walk order (the caller frees l.v) */
static __attribute__((unused)) lock_list
walk_locks(fx *f)
{
    lock_list l = {0};

    CHECK_RC(f, STORE_OK, OP(f, lock_walk, lock_list_add, &l));
    return l;
}

/* walk_audit - the audit entries of account (NULL: all) at or after since */
static __attribute__((unused)) audit_list
walk_audit(fx *f, const char *account, int64_t since)
{
    audit_list l = {0};

    CHECK_RC(f, STORE_OK, OP(f, audit_walk, account, since, audit_list_add, &l));
    return l;
}

/* blob_ent - one blob a counters walk saw (key and blob copied) */
typedef struct blob_ent {
    char *key;
    unsigned char *blob;
    size_t len;
} blob_ent;

/* blob_list - what a counters walk saw; optionally stops or writes as it goes */
typedef struct blob_list {
    blob_ent *v;
    size_t n, cap;
    size_t stop_after; /* 0 = never */
    hj_store *put_to;  /* put "a:KEY" = the blob into this store for each blob seen */
    int put_failed;    /* counters_put calls that did not return STORE_OK */
    int null_blobs;    /* blobs passed as NULL (never allowed) */
} blob_list;

/* blob_list_add - counters walk callback: keep a copy of key and blob */
static __attribute__((unused)) int
blob_list_add(void *ctx, const char *key, const void *blob, size_t len)
{
    blob_list *l = ctx;
    char err[256], akey[512];
    blob_ent *e;

    l->v = grow(l->v, l->n, &l->cap, sizeof(*l->v));
    e = &l->v[l->n++];
    e->key = strdup(key ? key : "(null)");
    e->blob = malloc(len ? len : 1);
    assert_non_null(e->key);
    assert_non_null(e->blob);
    if (blob != NULL && len > 0)
        memcpy(e->blob, blob, len);
    e->len = len;
    l->null_blobs += blob == NULL;
    snprintf(akey, sizeof(akey), "a:%s", key ? key : "");
    if (l->put_to &&
        l->put_to->ops->counters_put(l->put_to, akey, blob, len, err, sizeof(err)) != STORE_OK)
        l->put_failed++;
    return l->stop_after && l->n >= l->stop_after;
}

/* blob_list_free - free the copies */
static __attribute__((unused)) void
blob_list_free(blob_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].key);
        free(l->v[i].blob);
    }
    free(l->v);
    memset(l, 0, sizeof(*l));
}

/* walk_blobs - every counters blob, in walk order (free with blob_list_free) */
static __attribute__((unused)) blob_list
walk_blobs(fx *f)
{
    blob_list l = {0};

    CHECK_RC(f, STORE_OK, OP(f, counters_walk, blob_list_add, &l));
    CHECK_EQ("NULL blobs", l.null_blobs, 0);
    return l;
}

/* expect_blobs - the walk, written "key=blob ..." (blobs as text), is want */
static __attribute__((unused)) void
expect_blobs(fx *f, const char *want)
{
    blob_list l = walk_blobs(f);
    char got[1024] = "";

    for (size_t i = 0; i < l.n; i++)
        snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s=%.*s", i ? " " : "",
                 l.v[i].key, (int)l.v[i].len, (const char *)l.v[i].blob);
    blob_list_free(&l);
    if (strcmp(got, want) != 0)
        fail_msg("%s/%s: counters are \"%s\", want \"%s\"", f->be, f->name, got, want);
}

/* force_fail - make f's store fail its writes (on) or work again (off): the memory
 * store's switch (every call fails), or for SQLite a file size limit of 0 */
static __attribute__((unused)) void
force_fail(fx *f, int on)
{
    struct rlimit zero;

    if (strcmp(f->be, "memory") == 0) {
        store_mem_set_fail(f->st, on);
        return;
    }
    if (on && !f->forced) {
        assert_int_equal(getrlimit(RLIMIT_FSIZE, &f->fsize), 0);
        zero = f->fsize;
        zero.rlim_cur = 0;
        f->xfsz = signal(SIGXFSZ, SIG_IGN); /* write() fails with EFBIG instead */
        assert_int_equal(setrlimit(RLIMIT_FSIZE, &zero), 0);
        f->forced = 1;
    } else if (!on && f->forced) {
        f->forced = 0;
        assert_int_equal(setrlimit(RLIMIT_FSIZE, &f->fsize), 0);
        signal(SIGXFSZ, f->xfsz);
    }
}

/* fx_reopen - close the store and open the same spec again */
static __attribute__((unused)) void
fx_reopen(fx *f)
{
    store_close(f->st);
    f->st = store_open(f->spec, ERR(f));
    if (f->st == NULL)
        fail_msg("%s/%s: reopen %s: %s", f->be, f->name, f->spec, f->err);
}

/* write_file - create path with n bytes of data */
static __attribute__((unused)) void
write_file(const char *path, const void *data, size_t n)
{
    FILE *fp = fopen(path, "wb");

    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, n, fp), n);
    assert_int_equal(fclose(fp), 0);
}

/* expect_open_fails - store_open(spec) gives NULL and a message containing want */
static __attribute__((unused)) void
expect_open_fails(fx *f, const char *spec, const char *want)
{
    hj_store *st;

    f->err[0] = '\0';
    st = store_open(spec, ERR(f));
    if (st != NULL) {
        store_close(st);
        fail_msg("%s/%s: store_open(\"%s\") succeeded, want a failure", f->be, f->name, spec);
    }
    if (f->err[0] == '\0' || strstr(f->err, want) == NULL)
        fail_msg("%s/%s: store_open(\"%s\"): message \"%s\" lacks \"%s\"", f->be, f->name, spec,
                 f->err, want);
}

typedef struct store_case {
    const char *name;
    void (*fn)(fx *f);
    const char *only; /* NULL: both backends */
} store_case;

static const char *const backends[] = {"memory", "sqlite"};

typedef struct job {
    const char *be;
    const store_case *c;
    char name[64];
} job;

/* rm_tree - remove dir, its files and its empty subdirectories */
static __attribute__((unused)) void
rm_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[512];

    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
        if (unlink(p) != 0)
            rmdir(p);
    }
    closedir(d);
    rmdir(dir);
}

/* fx_setup - a fresh temporary directory and an open store for the job */
static __attribute__((unused)) int
fx_setup(void **state)
{
    const job *j = *state;
    const char *tmp = getenv("TMPDIR");
    fx *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    f->be = j->be;
    f->name = j->c->name;
    f->fn = j->c->fn;
    snprintf(f->dir, sizeof(f->dir), "%s/hj_store.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/state.db", f->dir);
    snprintf(f->spec, sizeof(f->spec), "%s:%s", f->be, strcmp(f->be, "sqlite") == 0 ? f->path : "");
    f->st = store_open(f->spec, ERR(f));
    if (f->st == NULL)
        fail_msg("store_open(\"%s\"): %s", f->spec, f->err);
    *state = f;
    return 0;
}

/* fx_teardown - close the store and remove the directory */
static __attribute__((unused)) int
fx_teardown(void **state)
{
    fx *f = *state;

    if (f->forced) /* a failed check left the file size limit lowered */
        force_fail(f, 0);
    store_close(f->st);
    rm_tree(f->dir);
    free(f);
    return 0;
}

/* run_job - the test function: run the job's case on the fixture */
static __attribute__((unused)) void
run_job(void **state)
{
    fx *f = *state;

    f->fn(f);
}

/* store_run - every case on every backend it is for, as one cmocka group */
static __attribute__((unused)) int
store_run(const char *group, const store_case *cases, size_t ncases)
{
    job *jobs = calloc(ncases * 2, sizeof(*jobs));
    struct CMUnitTest *tests = calloc(ncases * 2, sizeof(*tests));
    size_t n = 0;

    for (size_t b = 0; b < 2; b++)
        for (size_t i = 0; i < ncases; i++) {
            if (cases[i].only && strcmp(cases[i].only, backends[b]) != 0)
                continue;
            jobs[n].be = backends[b];
            jobs[n].c = &cases[i];
            snprintf(jobs[n].name, sizeof(jobs[n].name), "%s: %s", backends[b], cases[i].name);
            tests[n] = (struct CMUnitTest){jobs[n].name, run_job, fx_setup, fx_teardown, &jobs[n]};
            n++;
        }
    int rc = _cmocka_run_group_tests(group, tests, n, NULL, NULL);
    free(jobs);
    free(tests);
    return rc;
}

/* raw_cb - sqlite3_exec callback: keep the first column of the first row */
static __attribute__((unused)) int
raw_cb(void *ctx, int ncol, char **val, char **names)
{
    (void)names;
    if (ncol > 0 && val[0] && *(long long *)ctx == -1)
        *(long long *)ctx = atoll(val[0]);
    return 0;
}

/* raw - run sql on a separate connection to path; the first value it returns, or -1 */
static __attribute__((unused)) long long
raw(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    long long v = -1;

    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL),
                     SQLITE_OK);
    if (sqlite3_exec(db, sql, raw_cb, &v, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    sqlite3_close(db);
    return v;
}

#endif
