/*
 * test_store - unit tests for the store interface (store.h) and its backends
 *
 * Table-driven: every case in store_cases runs against "memory:" and
 * against "sqlite:" on a file in a fresh temporary directory, unless the
 * case names one backend (durability, files, injected failures). Each
 * test gets its own directory and an open store (fx); the directory is
 * removed afterwards. The kill -9 cases fork a child that writes and is
 * killed; the parent reopens the file and checks every acknowledged write.
 * The counters scripts (ctr_scripts) are tables of steps, each run as its
 * own case on both backends; a forced failure is the memory store's switch
 * or, for SQLite, a file size limit of 0 (every write to a file fails).
 */
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

#define CHECK_EQ(what, got, want)                                                                  \
    do {                                                                                           \
        long long g_ = (long long)(got), w_ = (long long)(want);                                   \
        if (g_ != w_)                                                                              \
            fail_msg("%s: %s = %lld, want %lld", (what), #got, g_, w_);                            \
    } while (0)

#define CHECK_STR(what, got, want)                                                                 \
    do {                                                                                           \
        const char *g_ = (got), *w_ = (want);                                                      \
        if (g_ == NULL || strcmp(g_, w_) != 0)                                                     \
            fail_msg("%s: %s = \"%.80s\", want \"%.80s\"", (what), #got, g_ ? g_ : "(null)", w_);  \
    } while (0)

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
static uint64_t
rnd_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * UINT64_C(2685821657736338717);
}

/* mk_lock - a lock record with every field set */
static hj_lock_rec
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
static hj_audit_rec
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
static void
check_lock(const char *what, const hj_lock_rec *got, const hj_lock_rec *want)
{
    CHECK_STR(what, got->account, want->account);
    CHECK_EQ(what, got->since, want->since);
    CHECK_EQ(what, got->until, want->until);
    CHECK_STR(what, got->rule, want->rule);
    CHECK_STR(what, got->actor, want->actor);
    CHECK_STR(what, got->reason, want->reason);
}

/* grow - make room in *v (n used of *cap elements of size bytes) for one more */
static void *
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
static int
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
static int
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
static void
audit_list_free(audit_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free((char *)l->v[i].json);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

/* walk_locks - every lock, in walk order (the caller frees l.v) */
static lock_list
walk_locks(fx *f)
{
    lock_list l = {0};

    CHECK_RC(f, STORE_OK, OP(f, lock_walk, lock_list_add, &l));
    return l;
}

/* walk_audit - the audit entries of account (NULL: all) at or after since */
static audit_list
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
static int
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
static void
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
static blob_list
walk_blobs(fx *f)
{
    blob_list l = {0};

    CHECK_RC(f, STORE_OK, OP(f, counters_walk, blob_list_add, &l));
    CHECK_EQ("NULL blobs", l.null_blobs, 0);
    return l;
}

/* expect_blobs - the walk, written "key=blob ..." (blobs as text), is want */
static void
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
static void
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
static void
fx_reopen(fx *f)
{
    store_close(f->st);
    f->st = store_open(f->spec, ERR(f));
    if (f->st == NULL)
        fail_msg("%s/%s: reopen %s: %s", f->be, f->name, f->spec, f->err);
}

/* write_file - create path with n bytes of data */
static void
write_file(const char *path, const void *data, size_t n)
{
    FILE *fp = fopen(path, "wb");

    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, n, fp), n);
    assert_int_equal(fclose(fp), 0);
}

/* expect_open_fails - store_open(spec) gives NULL and a message containing want */
static void
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

/* ---- cases for both backends ---- */

/* case_roundtrip - put, get, del; NOTFOUND after del and for unknown accounts */
static void
case_roundtrip(fx *f)
{
    hj_lock_rec a = mk_lock("alice@example.org", 1700000000, "bruteforce", "12 failures"),
                b = mk_lock("bob@example.org", 1700000100, "manual", "admin says so"), got;

    b.until = 0;
    snprintf(b.actor, sizeof(b.actor), "uid 0");
    CHECK_RC(f, STORE_OK, OP(f, lock_put, &a));
    CHECK_RC(f, STORE_OK, OP(f, lock_put, &b));
    CHECK_RC(f, STORE_OK, OP(f, lock_get, "alice@example.org", &got));
    check_lock("get alice", &got, &a);
    CHECK_RC(f, STORE_OK, OP(f, lock_get, "bob@example.org", &got));
    check_lock("get bob", &got, &b);
    CHECK_RC(f, STORE_NOTFOUND, OP(f, lock_get, "carol@example.org", &got));
    CHECK_RC(f, STORE_NOTFOUND, OP(f, lock_get, "ALICE@example.org", &got));
    CHECK_RC(f, STORE_OK, OP(f, lock_del, "alice@example.org"));
    CHECK_RC(f, STORE_NOTFOUND, OP(f, lock_get, "alice@example.org", &got));
    CHECK_RC(f, STORE_NOTFOUND, OP(f, lock_del, "alice@example.org"));
    CHECK_RC(f, STORE_NOTFOUND, OP(f, lock_del, "nobody"));
    CHECK_RC(f, STORE_OK, OP(f, lock_get, "bob@example.org", &got));
    check_lock("bob after deleting alice", &got, &b);
}

/* case_upsert - a second put of the same account replaces the record */
static void
case_upsert(fx *f)
{
    hj_lock_rec a1 = mk_lock("alice", 100, "bruteforce", "first"),
                a2 = mk_lock("alice", 200, "relay", "second"), got;

    CHECK_RC(f, STORE_OK, OP(f, lock_put, &a1));
    CHECK_RC(f, STORE_OK, OP(f, lock_put, &a2));
    CHECK_RC(f, STORE_OK, OP(f, lock_get, "alice", &got));
    check_lock("after upsert", &got, &a2);
    lock_list l = walk_locks(f);
    CHECK_EQ("one row after upsert", l.n, 1);
    free(l.v);
}

/* case_errors_not_notfound - bad arguments are STORE_ERR with a message */
static void
case_errors_not_notfound(fx *f)
{
    hj_lock_rec empty = mk_lock("", 1, "r", "x"), got;

    f->err[0] = '\0';
    CHECK_RC(f, STORE_ERR, OP(f, lock_put, &empty));
    if (f->err[0] == '\0')
        fail_msg("%s: empty account: no message", f->be);
    CHECK_RC(f, STORE_ERR, OP(f, lock_put, NULL));
    CHECK_RC(f, STORE_ERR, OP(f, lock_get, NULL, &got));
    CHECK_RC(f, STORE_ERR, OP(f, lock_get, "x", NULL));
    CHECK_RC(f, STORE_ERR, OP(f, lock_del, NULL));
    CHECK_RC(f, STORE_ERR, OP(f, audit_add, NULL));
    /* a NULL or zero-size err buffer is allowed */
    CHECK_EQ("err NULL", f->st->ops->lock_put(f->st, &empty, NULL, 0), STORE_ERR);
    CHECK_EQ("not found, err NULL", f->st->ops->lock_get(f->st, "x", &got, NULL, 0),
             STORE_NOTFOUND);
    lock_list l = walk_locks(f);
    CHECK_EQ("nothing stored", l.n, 0);
    free(l.v);
}

/* case_walk_all - many locks (several pages), each seen once, in account order */
static void
case_walk_all(fx *f)
{
    enum { N = 150 };
    uint64_t rs = 42;
    char name[64];
    lock_list l;

    for (int i = 0; i < N; i++) {
        int k = (int)((uint64_t)i * 37 % N); /* a permutation: insert out of order */
        snprintf(name, sizeof(name), "user%03d@example.org", k);
        hj_lock_rec r = mk_lock(name, 1000 + k, "bruteforce", name);
        r.until = (int64_t)(rnd_next(&rs) % 2) * 5000;
        CHECK_RC(f, STORE_OK, OP(f, lock_put, &r));
    }
    l = walk_locks(f);
    CHECK_EQ("walk count", l.n, N);
    for (int k = 0; k < N && (size_t)k < l.n; k++) {
        snprintf(name, sizeof(name), "user%03d@example.org", k);
        CHECK_STR("walk order", l.v[k].account, name);
        CHECK_EQ(name, l.v[k].since, 1000 + k);
        CHECK_STR(name, l.v[k].reason, name);
    }
    free(l.v);
}

/* case_walk_stop_and_modify - a callback may stop the walk, or write to the store */
static void
case_walk_stop_and_modify(fx *f)
{
    char name[32];
    lock_list l = {0};

    for (int i = 0; i < 100; i++) {
        snprintf(name, sizeof(name), "u%03d", i);
        hj_lock_rec r = mk_lock(name, i + 1, "r", "x");
        CHECK_RC(f, STORE_OK, OP(f, lock_put, &r));
    }
    l.stop_after = 3;
    CHECK_RC(f, STORE_OK, OP(f, lock_walk, lock_list_add, &l));
    CHECK_EQ("stopped walk", l.n, 3);
    free(l.v);
    l = (lock_list){.del_from = f->st};
    CHECK_RC(f, STORE_OK, OP(f, lock_walk, lock_list_add, &l));
    CHECK_EQ("walk that deletes sees each once", l.n, 100);
    CHECK_EQ("failed deletes inside the walk", l.del_failed, 0);
    free(l.v);
    l = walk_locks(f);
    CHECK_EQ("all deleted", l.n, 0);
    free(l.v);
}

/* case_audit - audit_walk by account and since, in time order (ties: insertion) */
static void
case_audit(fx *f)
{
    static const struct {
        int64_t t;
        const char *account, *action;
    } in[] = {{30, "a", "lock"}, {10, "a", "warn"},   {20, "b", "throttle"},
              {10, "b", "warn"}, {40, "a", "unlock"}, {20, "a", "relay"}};
    static const struct {
        const char *account;
        int64_t since;
        const char *want; /* actions in order */
    } q[] = {{NULL, INT64_MIN, "warn warn throttle relay lock unlock"},
             {"a", INT64_MIN, "warn relay lock unlock"},
             {"b", 0, "warn throttle"},
             {"a", 20, "relay lock unlock"},
             {NULL, 21, "lock unlock"},
             {NULL, 41, ""},
             {"nobody", 0, ""}};
    char json[64], got[256];

    for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
        snprintf(json, sizeof(json), "{\"i\":%zu}", i);
        hj_audit_rec a = mk_audit(in[i].t, in[i].account, in[i].action, json);
        CHECK_RC(f, STORE_OK, OP(f, audit_add, &a));
    }
    for (size_t k = 0; k < sizeof(q) / sizeof(q[0]); k++) {
        audit_list l = walk_audit(f, q[k].account, q[k].since);
        got[0] = '\0';
        for (size_t i = 0; i < l.n; i++) {
            snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", i ? " " : "",
                     l.v[i].action);
            snprintf(json, sizeof(json), "rule-%s", l.v[i].action);
            CHECK_STR("rule", l.v[i].rule, json);
            if (q[k].account)
                CHECK_STR("account filter", l.v[i].account, q[k].account);
        }
        CHECK_STR(q[k].account ? q[k].account : "(all)", got, q[k].want);
        audit_list_free(&l);
    }
}

/* case_audit_fields - every field and the json come back; NULL json reads as "" */
static void
case_audit_fields(fx *f)
{
    hj_audit_rec a = mk_audit(1700000000, "alice@example.org", "lock",
                              "{\"rule\":\"bruteforce\",\"n\":12,\"s\":\"caf\xc3\xa9\"}");
    hj_audit_rec b = mk_audit(1700000001, "bob", "warn", NULL);
    audit_list l;

    CHECK_RC(f, STORE_OK, OP(f, audit_add, &a));
    CHECK_RC(f, STORE_OK, OP(f, audit_add, &b));
    l = walk_audit(f, NULL, 0);
    assert_int_equal(l.n, 2);
    CHECK_EQ("t", l.v[0].t, a.t);
    CHECK_STR("account", l.v[0].account, a.account);
    CHECK_STR("action", l.v[0].action, a.action);
    CHECK_STR("rule", l.v[0].rule, a.rule);
    CHECK_STR("actor", l.v[0].actor, a.actor);
    CHECK_STR("json", l.v[0].json, a.json);
    CHECK_STR("NULL json", l.v[1].json, "");
    audit_list_free(&l);
}

/* case_audit_pages - many entries with equal times: none lost or repeated, stop works */
static void
case_audit_pages(fx *f)
{
    enum { N = 300 };
    char json[32];
    audit_list l;

    for (int i = 0; i < N; i++) { /* t = 5 for most, so ties cross page boundaries */
        snprintf(json, sizeof(json), "%d", i);
        hj_audit_rec a = mk_audit(i % 7 == 6 ? 9 : 5, i % 2 ? "odd" : "even", "warn", json);
        CHECK_RC(f, STORE_OK, OP(f, audit_add, &a));
    }
    l = walk_audit(f, NULL, INT64_MIN);
    CHECK_EQ("all", l.n, N);
    for (size_t i = 1; i < l.n; i++) {
        int prev = atoi(l.v[i - 1].json), cur = atoi(l.v[i].json);
        if (l.v[i - 1].t > l.v[i].t || (l.v[i - 1].t == l.v[i].t && prev >= cur))
            fail_msg("%s: out of order at %zu: (%lld,%d) then (%lld,%d)", f->be, i,
                     (long long)l.v[i - 1].t, prev, (long long)l.v[i].t, cur);
    }
    audit_list_free(&l);
    l = walk_audit(f, "odd", 5);
    CHECK_EQ("odd", l.n, N / 2);
    audit_list_free(&l);
    l = (audit_list){.stop_after = 70};
    CHECK_RC(f, STORE_OK, OP(f, audit_walk, "even", 0, audit_list_add, &l));
    CHECK_EQ("stopped audit walk", l.n, 70);
    audit_list_free(&l);
}

/* FILL - a field filled to its last byte with c and no terminating NUL */
#define FILL(field, c) memset((field), (c), sizeof(field))

/* case_max_length - unterminated full fields are cut at size - 1; long keys match their prefix */
static void
case_max_length(fx *f)
{
    hj_lock_rec r, got;
    char longname[1000];

    FILL(r.account, 'a');
    FILL(r.rule, 'r');
    FILL(r.actor, 'c');
    FILL(r.reason, 'z');
    r.since = INT64_MAX;
    r.until = INT64_MIN;
    CHECK_RC(f, STORE_OK, OP(f, lock_put, &r));
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    CHECK_RC(f, STORE_OK, OP(f, lock_get, longname, &got));
    CHECK_EQ("account", strlen(got.account), STORE_NAME_MAX - 1);
    CHECK_EQ("rule", strlen(got.rule), sizeof(got.rule) - 1);
    CHECK_EQ("actor", strlen(got.actor), sizeof(got.actor) - 1);
    CHECK_EQ("reason", strlen(got.reason), sizeof(got.reason) - 1);
    CHECK_EQ("since", got.since == INT64_MAX, 1);
    CHECK_EQ("until", got.until == INT64_MIN, 1);
    longname[STORE_NAME_MAX - 2] = '\0'; /* one byte shorter: another account */
    CHECK_RC(f, STORE_NOTFOUND, OP(f, lock_get, longname, &got));
}

/* case_max_length_audit - the same for audit entries; a 1 MiB json comes back whole */
static void
case_max_length_audit(fx *f)
{
    char longname[1000];
    size_t jlen = (size_t)1 << 20;
    char *json = malloc(jlen + 1);
    hj_audit_rec a;
    audit_list l;

    assert_non_null(json);
    memset(json, 'j', jlen);
    json[jlen] = '\0';
    a = mk_audit(1, "x", "lock", json);
    FILL(a.account, 'a');
    FILL(a.action, 'b');
    FILL(a.rule, 'r');
    FILL(a.actor, 'c');
    CHECK_RC(f, STORE_OK, OP(f, audit_add, &a));
    l = walk_audit(f, "", 0); /* "" matches nothing */
    CHECK_EQ("no empty account", l.n, 0);
    audit_list_free(&l);
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    l = walk_audit(f, longname, 0);
    assert_int_equal(l.n, 1); /* found by the long name's prefix */
    CHECK_EQ("audit account", strlen(l.v[0].account), STORE_NAME_MAX - 1);
    CHECK_EQ("audit action", strlen(l.v[0].action), sizeof(a.action) - 1);
    CHECK_EQ("audit rule", strlen(l.v[0].rule), sizeof(a.rule) - 1);
    CHECK_EQ("audit actor", strlen(l.v[0].actor), sizeof(a.actor) - 1);
    CHECK_EQ("audit json", strlen(l.v[0].json), jlen);
    audit_list_free(&l);
    free(json);
}

/* ---- counters: scripts for both backends ---- */

/* ctr_step - one step of a counters script */
typedef struct ctr_step {
    char op;         /* b c p d: begin commit put del; F f: failure on, off; w: walk;
                        R: reopen (SQLite; nothing for memory) */
    const char *key; /* p d: the key (may be NULL or "") */
    const char *arg; /* p: the blob's bytes (NULL: a NULL blob of 0 bytes); w: "key=blob ..." */
    int want;        /* b c p d: the return code */
} ctr_step;

typedef struct ctr_script {
    const char *name; /* the case's name in store_cases */
    ctr_step step[24];
} ctr_script;

#define B(rc)                                                                                      \
    {                                                                                              \
        'b', NULL, NULL, (rc)                                                                      \
    }
#define C(rc)                                                                                      \
    {                                                                                              \
        'c', NULL, NULL, (rc)                                                                      \
    }
#define P(k, v, rc)                                                                                \
    {                                                                                              \
        'p', (k), (v), (rc)                                                                        \
    }
#define D(k, rc)                                                                                   \
    {                                                                                              \
        'd', (k), NULL, (rc)                                                                       \
    }
#define W(want)                                                                                    \
    {                                                                                              \
        'w', NULL, (want), 0                                                                       \
    }
#define FAIL                                                                                       \
    {                                                                                              \
        'F', NULL, NULL, 0                                                                         \
    }
#define UNFAIL                                                                                     \
    {                                                                                              \
        'f', NULL, NULL, 0                                                                         \
    }
#define REOPEN                                                                                     \
    {                                                                                              \
        'R', NULL, NULL, 0                                                                         \
    }
#define OK_ STORE_OK
#define ERR_ STORE_ERR

static const ctr_script ctr_scripts[] = {
    {"counters_batch", /* a batch of puts, committed, walked in key order, kept on reopen */
     {B(OK_), P("a", "1", OK_), P("c", "333", OK_), P("b", "22", OK_), C(OK_), W("a=1 b=22 c=333"),
      REOPEN, W("a=1 b=22 c=333"), B(OK_), P("a:x@example.org", "4", OK_), C(OK_),
      W("a=1 a:x@example.org=4 b=22 c=333")}},
    {"counters_overwrite", /* a put replaces the blob: in a batch, outside one, with 0 bytes */
     {P("a", "1", OK_), W("a=1"), B(OK_), P("a", "2", OK_), P("a", "3", OK_), C(OK_), W("a=3"),
      P("a", "", OK_), W("a="), REOPEN, W("a="), P("a", "4444", OK_), P("z", NULL, OK_),
      W("a=4444 z="), REOPEN, W("a=4444 z=")}},
    {"counters_del", /* dels in and outside a batch; a missing key is OK; staged in order */
     {B(OK_),      P("a", "1", OK_), P("b", "2", OK_), P("c", "3", OK_), C(OK_),
      B(OK_),      D("b", OK_),      D("zzz", OK_),    C(OK_),           W("a=1 c=3"),
      D("a", OK_), D("a", OK_),      W("c=3"),         B(OK_),           P("d", "4", OK_),
      D("d", OK_), D("c", OK_),      P("c", "5", OK_), C(OK_),           W("c=5"),
      REOPEN,      W("c=5")}},
    {"counters_rollback", /* a failing commit leaves the previous contents; the next works */
     {B(OK_),           P("a", "1", OK_), P("b", "2", OK_),
      C(OK_),           B(OK_),           P("a", "new", OK_),
      D("b", OK_),      P("c", "3", OK_), FAIL,
      C(ERR_),          UNFAIL,           W("a=1 b=2"),
      REOPEN,           W("a=1 b=2"),     C(ERR_),
      B(OK_),           P("c", "3", OK_), C(OK_),
      W("a=1 b=2 c=3"), REOPEN,           W("a=1 b=2 c=3")}},
    {"counters_doomed", /* a put or del that fails dooms its batch: commit rolls it back */
     {P("a", "1", OK_), B(OK_), P("a", "2", OK_), P("", "x", ERR_), P("b", "2", ERR_), D("a", ERR_),
      C(ERR_), W("a=1"), B(OK_), P("a", "2", OK_), D(NULL, ERR_), C(ERR_), W("a=1"), B(OK_),
      P("a", "2", OK_), C(OK_), W("a=2"), REOPEN, W("a=2")}},
    {"counters_misuse", /* commit outside a batch, begin inside one, bad keys outside one */
     {C(ERR_), B(OK_), B(ERR_), P("a", "1", OK_), C(OK_), W("a=1"), C(ERR_), P("", "x", ERR_),
      P(NULL, "x", ERR_), D("", ERR_), D(NULL, ERR_), P("b", "2", OK_), W("a=1 b=2")}},
    {"counters_fail_autocommit", /* a failing write outside a batch changes nothing */
     {P("a", "1", OK_), FAIL, P("a", "2", ERR_), P("b", "2", ERR_), D("a", ERR_), UNFAIL, W("a=1"),
      REOPEN, W("a=1")}},
};

#undef B
#undef C
#undef P
#undef D
#undef W
#undef FAIL
#undef UNFAIL
#undef REOPEN
#undef OK_
#undef ERR_

/* case_ctr_script - run the counters script named like the case */
static void
case_ctr_script(fx *f)
{
    const ctr_script *sc = NULL;
    char what[64];
    int rc;

    for (size_t i = 0; i < sizeof(ctr_scripts) / sizeof(ctr_scripts[0]); i++)
        if (strcmp(ctr_scripts[i].name, f->name) == 0)
            sc = &ctr_scripts[i];
    assert_non_null(sc);
    for (int i = 0; i < 24 && sc->step[i].op != '\0'; i++) {
        const ctr_step *s = &sc->step[i];
        snprintf(what, sizeof(what), "step %d (%c %s)", i, s->op, s->key ? s->key : "-");
        f->err[0] = '\0';
        switch (s->op) {
        case 'b':
            rc = OP0(f, counters_begin);
            break;
        case 'c':
            rc = OP0(f, counters_commit);
            break;
        case 'p':
            rc = OP(f, counters_put, s->key, s->arg, s->arg ? strlen(s->arg) : 0);
            break;
        case 'd':
            rc = OP(f, counters_del, s->key);
            break;
        case 'F':
        case 'f':
            force_fail(f, s->op == 'F');
            continue;
        case 'w':
            expect_blobs(f, s->arg);
            continue;
        case 'R':
            if (strcmp(f->be, "sqlite") == 0)
                fx_reopen(f);
            continue;
        default:
            fail_msg("%s: bad op", what);
        }
        if (rc != s->want)
            fail_msg("%s/%s: %s = %d, want %d (err: %s)", f->be, f->name, what, rc, s->want,
                     f->err);
        if (rc == STORE_ERR && f->err[0] == '\0')
            fail_msg("%s/%s: %s: STORE_ERR without a message", f->be, f->name, what);
    }
}

/* ---- counters: other cases for both backends ---- */

/* fill_rnd - n pseudo-random bytes (NULs included) into a new buffer */
static unsigned char *
fill_rnd(size_t n, uint64_t seed)
{
    unsigned char *p = malloc(n ? n : 1);

    assert_non_null(p);
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(rnd_next(&seed) >> 56);
    return p;
}

/* check_blob - entry i of l is key with the n bytes at want */
static void
check_blob(fx *f, const blob_list *l, size_t i, const char *key, const void *want, size_t n)
{
    if (i >= l->n)
        fail_msg("%s/%s: walk has %zu blobs, want %s at %zu", f->be, f->name, l->n, key, i);
    CHECK_STR("key", l->v[i].key, key);
    CHECK_EQ(key, l->v[i].len, n);
    if (n > 0 && memcmp(l->v[i].blob, want, n) != 0)
        fail_msg("%s/%s: blob of %s differs", f->be, f->name, key);
}

/* case_counters_sizes - 0 bytes, 1 MiB and STORE_BLOB_MAX round-trip; one more is refused */
static void
case_counters_sizes(fx *f)
{
    size_t mib = (size_t)1 << 20;
    unsigned char *m = fill_rnd(mib, 1), *x = fill_rnd((size_t)STORE_BLOB_MAX + 1, 2);
    blob_list l;

    CHECK_RC(f, STORE_OK, OP0(f, counters_begin));
    CHECK_RC(f, STORE_OK, OP(f, counters_put, "m", m, mib));
    CHECK_RC(f, STORE_OK, OP(f, counters_put, "z0", "", 0));
    CHECK_RC(f, STORE_OK, OP(f, counters_put, "z1", NULL, 0));
    CHECK_RC(f, STORE_OK, OP0(f, counters_commit));
    CHECK_RC(f, STORE_OK, OP(f, counters_put, "x", x, STORE_BLOB_MAX));
    f->err[0] = '\0';
    CHECK_RC(f, STORE_ERR, OP(f, counters_put, "y", x, (size_t)STORE_BLOB_MAX + 1));
    if (strstr(f->err, "over the limit") == NULL)
        fail_msg("%s: over-limit blob: message \"%s\"", f->be, f->err);
    CHECK_RC(f, STORE_ERR, OP(f, counters_put, "x", x, (size_t)STORE_BLOB_MAX + 1));
    CHECK_RC(f, STORE_ERR, OP(f, counters_put, "n", NULL, 5));
    CHECK_EQ("err NULL", f->st->ops->counters_put(f->st, "", "x", 1, NULL, 0), STORE_ERR);
    /* an over-limit blob inside a batch dooms it */
    CHECK_RC(f, STORE_OK, OP0(f, counters_begin));
    CHECK_RC(f, STORE_OK, OP(f, counters_put, "z0", "not empty", 9));
    CHECK_RC(f, STORE_ERR, OP(f, counters_put, "y", x, (size_t)STORE_BLOB_MAX + 1));
    CHECK_RC(f, STORE_ERR, OP0(f, counters_commit));
    for (int pass = 0; pass < 2; pass++) {
        l = walk_blobs(f);
        CHECK_EQ("blobs", l.n, 4);
        check_blob(f, &l, 0, "m", m, mib);
        check_blob(f, &l, 1, "x", x, STORE_BLOB_MAX);
        check_blob(f, &l, 2, "z0", "", 0);
        check_blob(f, &l, 3, "z1", "", 0);
        blob_list_free(&l);
        if (strcmp(f->be, "sqlite") != 0)
            break;
        fx_reopen(f);
    }
    free(m);
    free(x);
}

/* case_counters_walk - many keys and big blobs (several pages): each once, in key order;
 * a walk stops, and its callback may write to the store */
static void
case_counters_walk(fx *f)
{
    enum { N = 150, NBIG = 10 };
    size_t big = ((size_t)1 << 20) + 17;
    unsigned char *bv[NBIG];
    char key[64];
    blob_list l = {0};

    CHECK_RC(f, STORE_OK, OP0(f, counters_begin));
    for (int i = 0; i < N; i++) {
        int k = (int)((uint64_t)i * 37 % N); /* a permutation: insert out of order */
        snprintf(key, sizeof(key), "k:user%03d@example.org", k);
        CHECK_RC(f, STORE_OK, OP(f, counters_put, key, key, strlen(key)));
    }
    CHECK_RC(f, STORE_OK, OP0(f, counters_commit));
    for (int i = NBIG - 1; i >= 0; i--) {
        bv[i] = fill_rnd(big, (uint64_t)i + 100);
        snprintf(key, sizeof(key), "m:big%02d", i);
        CHECK_RC(f, STORE_OK, OP(f, counters_put, key, bv[i], big));
    }
    l = walk_blobs(f);
    CHECK_EQ("walk count", l.n, N + NBIG);
    for (int k = 0; k < N; k++) {
        snprintf(key, sizeof(key), "k:user%03d@example.org", k);
        check_blob(f, &l, (size_t)k, key, key, strlen(key));
    }
    for (int i = 0; i < NBIG; i++) {
        snprintf(key, sizeof(key), "m:big%02d", i);
        check_blob(f, &l, (size_t)(N + i), key, bv[i], big);
        free(bv[i]);
    }
    blob_list_free(&l);
    l.stop_after = 3;
    CHECK_RC(f, STORE_OK, OP(f, counters_walk, blob_list_add, &l));
    CHECK_EQ("stopped walk", l.n, 3);
    blob_list_free(&l);
    l.stop_after = N + 5; /* past the first big page */
    CHECK_RC(f, STORE_OK, OP(f, counters_walk, blob_list_add, &l));
    CHECK_EQ("stopped walk in the big blobs", l.n, N + 5);
    blob_list_free(&l);
    l.put_to = f->st; /* "a:..." keys sort before the walk's cursor */
    CHECK_RC(f, STORE_OK, OP(f, counters_walk, blob_list_add, &l));
    CHECK_EQ("walk that writes sees each once", l.n, N + NBIG);
    CHECK_EQ("failed puts inside the walk", l.put_failed, 0);
    blob_list_free(&l);
    l = walk_blobs(f);
    CHECK_EQ("after the writing walk", l.n, 2 * (N + NBIG));
    blob_list_free(&l);
}

/* ---- SQLite only: durability and files ---- */

/* case_sqlite_reopen - locks and audit survive close and open */
static void
case_sqlite_reopen(fx *f)
{
    hj_lock_rec a = mk_lock("alice", 100, "bruteforce", "kept"), got;
    hj_audit_rec e = mk_audit(100, "alice", "lock", "{\"kept\":true}");
    audit_list l;

    CHECK_RC(f, STORE_OK, OP(f, lock_put, &a));
    CHECK_RC(f, STORE_OK, OP(f, audit_add, &e));
    for (int i = 0; i < 2; i++) {
        fx_reopen(f);
        CHECK_RC(f, STORE_OK, OP(f, lock_get, "alice", &got));
        check_lock("after reopen", &got, &a);
        l = walk_audit(f, "alice", 0);
        CHECK_EQ("audit after reopen", l.n, 1);
        if (l.n == 1)
            CHECK_STR("json after reopen", l.v[0].json, e.json);
        audit_list_free(&l);
    }
    CHECK_RC(f, STORE_OK, OP(f, lock_del, "alice"));
    fx_reopen(f);
    CHECK_RC(f, STORE_NOTFOUND, OP(f, lock_get, "alice", &got));
}

/* raw_cb - sqlite3_exec callback: keep the first column of the first row */
static int
raw_cb(void *ctx, int ncol, char **val, char **names)
{
    (void)names;
    if (ncol > 0 && val[0] && *(long long *)ctx == -1)
        *(long long *)ctx = atoll(val[0]);
    return 0;
}

/* raw - run sql on a separate connection to path; the first value it returns, or -1 */
static long long
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

/* case_sqlite_committed - a write is visible to another connection when the call returns */
static void
case_sqlite_committed(fx *f)
{
    hj_lock_rec a = mk_lock("alice", 100, "bruteforce", "x");
    hj_audit_rec e = mk_audit(100, "alice", "lock", "{}");

    CHECK_RC(f, STORE_OK, OP(f, lock_put, &a));
    CHECK_EQ("lock seen", raw(f->path, "SELECT count(*) FROM locks WHERE account='alice'"), 1);
    CHECK_RC(f, STORE_OK, OP(f, audit_add, &e));
    CHECK_EQ("audit seen", raw(f->path, "SELECT count(*) FROM audit"), 1);
    CHECK_RC(f, STORE_OK, OP(f, lock_del, "alice"));
    CHECK_EQ("delete seen", raw(f->path, "SELECT count(*) FROM locks"), 0);
    CHECK_EQ("schema version", raw(f->path, "PRAGMA user_version"), 2);
    CHECK_EQ("WAL", raw(f->path, "SELECT journal_mode = 'wal' FROM pragma_journal_mode"), 1);
}

/* kill_self_child - open, write one lock and one audit entry, then SIGKILL itself */
static void
kill_self_child(const char *spec)
{
    char err[256];
    hj_store *st = store_open(spec, err, sizeof(err));
    hj_lock_rec a = mk_lock("victim@example.org", 1234, "bruteforce", "killed after put");
    hj_audit_rec e = mk_audit(1234, "victim@example.org", "lock", "{\"k\":1}");

    if (st == NULL || st->ops->audit_add(st, &e, err, sizeof(err)) != STORE_OK ||
        st->ops->lock_put(st, &a, err, sizeof(err)) != STORE_OK)
        _exit(2);
    raise(SIGKILL);
    _exit(3);
}

/* wait_killed - reap pid and require that SIGKILL ended it */
static void
wait_killed(fx *f, pid_t pid)
{
    int status;

    while (waitpid(pid, &status, 0) < 0)
        assert_int_equal(errno, EINTR);
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
        fail_msg("%s: child ended with status %d, not SIGKILL", f->name, status);
}

/* case_sqlite_kill_self - the lock written right before kill -9 is there on reopen */
static void
case_sqlite_kill_self(fx *f)
{
    static const char *const opts[] = {"", "?sync=full"};
    char spec[sizeof(f->spec) + 16];
    hj_lock_rec got;

    for (size_t i = 0; i < 2; i++) {
        snprintf(spec, sizeof(spec), "%s%s", f->spec, opts[i]);
        store_close(f->st); /* no connection crosses fork() */
        f->st = NULL;
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
            kill_self_child(spec);
        wait_killed(f, pid);
        f->st = store_open(spec, ERR(f));
        if (f->st == NULL)
            fail_msg("reopen %s: %s", spec, f->err);
        CHECK_RC(f, STORE_OK, OP(f, lock_get, "victim@example.org", &got));
        CHECK_STR("reason", got.reason, "killed after put");
        audit_list l = walk_audit(f, "victim@example.org", 0);
        CHECK_EQ("audit entries", l.n, i + 1);
        audit_list_free(&l);
        CHECK_RC(f, STORE_OK, OP(f, lock_del, "victim@example.org"));
    }
}

/* kill_writer_child - write locks and audit entries, acknowledging each on fd */
static void
kill_writer_child(const char *spec, int fd)
{
    char err[256], name[32];
    hj_store *st = store_open(spec, err, sizeof(err));

    if (st == NULL)
        _exit(2);
    for (int i = 0; i < 1000000; i++) {
        snprintf(name, sizeof(name), "w%07d", i);
        hj_lock_rec a = mk_lock(name, i, "bruteforce", name);
        hj_audit_rec e = mk_audit(i, name, "lock", name);
        if (st->ops->lock_put(st, &a, err, sizeof(err)) != STORE_OK ||
            st->ops->audit_add(st, &e, err, sizeof(err)) != STORE_OK)
            _exit(3);
        if (write(fd, &i, sizeof(i)) != (ssize_t)sizeof(i))
            _exit(4);
    }
    _exit(0);
}

/* read_acks - read acknowledgements into *last until want of them (0: EOF) */
static void
read_acks(int fd, int want, int *last)
{
    int i, got = 0;

    while (want == 0 || got < want) {
        ssize_t n = read(fd, &i, sizeof(i));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (n == (ssize_t)sizeof(i)) {
            *last = i;
            got++;
        }
    }
}

/* case_sqlite_kill_writer - kill -9 in the middle of writing: every acknowledged write is there */
static void
case_sqlite_kill_writer(fx *f)
{
    int p[2], last = -1;
    char name[32];
    hj_lock_rec got;

    store_close(f->st);
    f->st = NULL;
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        kill_writer_child(f->spec, p[1]);
    }
    close(p[1]);
    read_acks(p[0], 200, &last);
    kill(pid, SIGKILL);
    read_acks(p[0], 0, &last); /* acknowledged before it died */
    close(p[0]);
    wait_killed(f, pid);
    assert_true(last >= 199);
    fx_reopen(f);
    for (int i = 0; i <= last; i++) {
        snprintf(name, sizeof(name), "w%07d", i);
        CHECK_RC(f, STORE_OK, OP(f, lock_get, name, &got));
        CHECK_STR(name, got.reason, name);
    }
    audit_list l = walk_audit(f, NULL, 0);
    if (l.n < (size_t)last + 1)
        fail_msg("%zu audit entries, want at least %d", l.n, last + 1);
    audit_list_free(&l);
}

/* case_sqlite_bad_files - corrupt, missing, unreadable files and the like fail cleanly */
static void
case_sqlite_bad_files(fx *f)
{
    char spec[sizeof(f->path) + 64], path[sizeof(f->dir) + 64];
    unsigned char buf[8192], back[sizeof(buf) + 1];
    uint64_t rs = 7;

    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (unsigned char)rnd_next(&rs);
    for (int k = 0; k < 3; k++) { /* random; a SQLite header then random; text */
        snprintf(path, sizeof(path), "%s/corrupt%d.db", f->dir, k);
        if (k == 1)
            memcpy(buf, "SQLite format 3", 16);
        if (k == 2)
            memset(buf, 'x', sizeof(buf));
        write_file(path, buf, sizeof(buf));
        snprintf(spec, sizeof(spec), "sqlite:%s", path);
        expect_open_fails(f, spec, path);
        FILE *fp = fopen(path, "rb"); /* and left untouched */
        assert_non_null(fp);
        assert_int_equal(fread(back, 1, sizeof(back) + 1, fp), sizeof(buf));
        fclose(fp);
        assert_memory_equal(back, buf, sizeof(buf));
    }
    snprintf(spec, sizeof(spec), "sqlite:%s/no/such/dir/state.db", f->dir);
    expect_open_fails(f, spec, "cannot open");
    snprintf(spec, sizeof(spec), "sqlite:%s", f->dir); /* a directory */
    expect_open_fails(f, spec, "sqlite store");
    expect_open_fails(f, "sqlite:", "no path");
    if (geteuid() != 0) { /* root would read it anyway */
        store_close(f->st);
        f->st = NULL;
        assert_int_equal(chmod(f->path, 0), 0);
        expect_open_fails(f, f->spec, f->path);
        assert_int_equal(chmod(f->path, 0600), 0);
    }
    snprintf(spec, sizeof(spec), "sqlite:%s?sync=sometimes", f->path);
    expect_open_fails(f, spec, "unknown option");
}

/* case_sqlite_foreign - other programs' databases and newer schemas are refused */
static void
case_sqlite_foreign(fx *f)
{
    char path[sizeof(f->dir) + 32], spec[sizeof(path) + 16];

    snprintf(path, sizeof(path), "%s/other.db", f->dir);
    raw(path, "CREATE TABLE stuff(x)");
    snprintf(spec, sizeof(spec), "sqlite:%s", path);
    expect_open_fails(f, spec, "not a hijackd database");
    CHECK_EQ("foreign db untouched", raw(path, "SELECT count(*) FROM sqlite_master"), 1);
    store_close(f->st);
    f->st = NULL;
    raw(f->path, "PRAGMA user_version=3");
    expect_open_fails(f, f->spec, "newer");
    raw(f->path, "PRAGMA user_version=1; PRAGMA application_id=42");
    expect_open_fails(f, f->spec, "not a hijackd database");
}

/* case_sqlite_counters_committed - a batch is invisible to another connection until commit */
static void
case_sqlite_counters_committed(fx *f)
{
    CHECK_RC(f, STORE_OK, OP0(f, counters_begin));
    CHECK_RC(f, STORE_OK, OP(f, counters_put, "a", "1", 1));
    CHECK_RC(f, STORE_OK, OP(f, counters_put, "z", "", 0));
    CHECK_EQ("before commit", raw(f->path, "SELECT count(*) FROM counters"), 0);
    CHECK_RC(f, STORE_OK, OP0(f, counters_commit));
    CHECK_EQ("after commit", raw(f->path, "SELECT count(*) FROM counters"), 2);
    CHECK_EQ("0 bytes is a blob, not NULL",
             raw(f->path, "SELECT typeof(blob) = 'blob' AND length(blob) = 0 FROM counters"
                          " WHERE key = 'z'"),
             1);
    CHECK_EQ("updated", raw(f->path, "SELECT min(updated) > 1600000000 FROM counters"), 1);
    CHECK_RC(f, STORE_OK, OP(f, counters_del, "a"));
    CHECK_EQ("autocommit del", raw(f->path, "SELECT count(*) FROM counters"), 1);
}

/* case_sqlite_v1 - a version 1 database (before counters) opens, keeps its data, gains the
 * table and ends up with the schema of a new database */
static void
case_sqlite_v1(fx *f)
{
    char path[sizeof(f->dir) + 32], sql[1024];
    hj_lock_rec got;

    snprintf(path, sizeof(path), "%s/v1.db", f->dir);
    raw(path, /* what store_sqlite.c created at schema version 1 */
        "PRAGMA journal_mode=WAL;"
        "BEGIN;"
        "CREATE TABLE locks(account TEXT PRIMARY KEY NOT NULL, since INTEGER NOT NULL,"
        " until INTEGER NOT NULL, rule TEXT NOT NULL, actor TEXT NOT NULL, reason TEXT NOT NULL);"
        "CREATE TABLE audit(id INTEGER PRIMARY KEY, t INTEGER NOT NULL, account TEXT NOT NULL,"
        " action TEXT NOT NULL, rule TEXT NOT NULL, actor TEXT NOT NULL, json TEXT NOT NULL);"
        "CREATE INDEX audit_account_t ON audit(account, t);"
        "CREATE INDEX audit_t ON audit(t);"
        "PRAGMA user_version=1; PRAGMA application_id=1751804772;"
        "INSERT INTO locks VALUES ('alice', 100, 3700, 'bruteforce', 'hijackd', 'old');"
        "INSERT INTO audit(t, account, action, rule, actor, json)"
        " VALUES (100, 'alice', 'lock', 'bruteforce', 'hijackd', '{}');"
        "COMMIT");
    store_close(f->st);
    snprintf(f->spec, sizeof(f->spec), "sqlite:%s", path);
    f->st = store_open(f->spec, ERR(f));
    if (f->st == NULL)
        fail_msg("open a version 1 database: %s", f->err);
    CHECK_EQ("migrated version", raw(path, "PRAGMA user_version"), 2);
    CHECK_EQ("counters table", raw(path, "SELECT count(*) FROM pragma_table_info('counters')"), 3);
    snprintf(sql, sizeof(sql), /* f->path is a new database, created by the fixture */
             "ATTACH '%s' AS fresh;"
             " SELECT (SELECT group_concat(sql, ';') FROM (SELECT sql FROM main.sqlite_master"
             " ORDER BY name)) = (SELECT group_concat(sql, ';') FROM (SELECT sql FROM"
             " fresh.sqlite_master ORDER BY name))",
             f->path);
    CHECK_EQ("same schema as a new database", raw(path, sql), 1);
    CHECK_RC(f, STORE_OK, OP(f, lock_get, "alice", &got));
    CHECK_STR("old lock", got.reason, "old");
    audit_list al = walk_audit(f, "alice", 0);
    CHECK_EQ("old audit", al.n, 1);
    audit_list_free(&al);
    CHECK_RC(f, STORE_OK, OP0(f, counters_begin));
    CHECK_RC(f, STORE_OK, OP(f, counters_put, "a:alice", "blob", 4));
    CHECK_RC(f, STORE_OK, OP0(f, counters_commit));
    fx_reopen(f);
    expect_blobs(f, "a:alice=blob");
    CHECK_EQ("still version 2", raw(path, "PRAGMA user_version"), 2);
}

/* expect_all_err - every call on a broken store is STORE_ERR with a message containing want */
static void
expect_all_err(fx *f, const char *want)
{
    hj_lock_rec a = mk_lock("alice", 1, "r", "x"), got;
    hj_audit_rec e = mk_audit(1, "alice", "lock", "{}");
    lock_list ll = {0};
    audit_list al = {0};
    blob_list bl = {0};

    CHECK_RC(f, STORE_ERR, OP(f, lock_get, "alice", &got));
    assert_non_null(strstr(f->err, want));
    CHECK_RC(f, STORE_ERR, OP(f, lock_get, "nobody", &got));
    f->err[0] = '\0';
    CHECK_RC(f, STORE_ERR, OP(f, lock_del, "nobody"));
    assert_non_null(strstr(f->err, want));
    CHECK_RC(f, STORE_ERR, OP(f, lock_put, &a));
    CHECK_RC(f, STORE_ERR, OP(f, lock_walk, lock_list_add, &ll));
    CHECK_RC(f, STORE_ERR, OP(f, audit_add, &e));
    CHECK_RC(f, STORE_ERR, OP(f, audit_walk, NULL, 0, audit_list_add, &al));
    CHECK_RC(f, STORE_ERR, OP(f, audit_walk, "alice", 0, audit_list_add, &al));
    f->err[0] = '\0';
    CHECK_RC(f, STORE_ERR, OP(f, counters_put, "a:alice", "x", 1));
    assert_non_null(strstr(f->err, want));
    f->err[0] = '\0';
    CHECK_RC(f, STORE_ERR, OP(f, counters_del, "a:alice"));
    assert_non_null(strstr(f->err, want));
    f->err[0] = '\0';
    CHECK_RC(f, STORE_ERR, OP(f, counters_walk, blob_list_add, &bl));
    assert_non_null(strstr(f->err, want));
    CHECK_RC(f, STORE_ERR, OP0(f, counters_commit));
    CHECK_EQ("callbacks on a failing store", ll.n + al.n + bl.n, 0);
}

/* case_sqlite_live_error - tables gone under a live store: STORE_ERR, never NOTFOUND */
static void
case_sqlite_live_error(fx *f)
{
    hj_lock_rec a = mk_lock("alice", 1, "r", "x");

    CHECK_RC(f, STORE_OK, OP(f, lock_put, &a));
    CHECK_RC(f, STORE_OK, OP(f, counters_put, "a:alice", "x", 1));
    raw(f->path, "DROP TABLE locks; DROP TABLE audit; DROP TABLE counters");
    expect_all_err(f, "no such table");
}

/* ---- memory only: the failure switch ---- */

/* case_mem_fail_spec - "memory:fail" fails every call */
static void
case_mem_fail_spec(fx *f)
{
    store_close(f->st);
    f->st = store_open("memory:fail", ERR(f));
    assert_non_null(f->st);
    expect_all_err(f, "injected failure");
    expect_open_fails(f, "memory:bogus", "unknown option");
}

/* case_mem_set_fail - a live store starts failing, then recovers with its data */
static void
case_mem_set_fail(fx *f)
{
    hj_lock_rec a = mk_lock("alice", 1, "r", "x"), got;
    hj_audit_rec e = mk_audit(1, "alice", "lock", "{}");

    CHECK_RC(f, STORE_OK, OP(f, lock_put, &a));
    CHECK_RC(f, STORE_OK, OP(f, audit_add, &e));
    store_mem_set_fail(f->st, 1);
    expect_all_err(f, "injected failure");
    store_mem_set_fail(f->st, 0);
    CHECK_RC(f, STORE_OK, OP(f, lock_get, "alice", &got));
    check_lock("after recovery", &got, &a);
    audit_list l = walk_audit(f, NULL, 0);
    CHECK_EQ("audit after recovery", l.n, 1);
    audit_list_free(&l);
    store_mem_set_fail(NULL, 1); /* harmless */
}

/* case_mem_fail_writes - "memory:fail-writes": every write fails, reads and walks work */
static void
case_mem_fail_writes(fx *f)
{
    hj_lock_rec a = mk_lock("alice", 1, "r", "x"), got;
    static const char *const want = "injected failure";

    store_close(f->st);
    f->st = store_open("memory:fail-writes", ERR(f));
    assert_non_null(f->st);
    f->err[0] = '\0';
    CHECK_RC(f, STORE_ERR, OP0(f, counters_begin));
    assert_non_null(strstr(f->err, want));
    f->err[0] = '\0';
    CHECK_RC(f, STORE_ERR, OP(f, counters_put, "a:alice", "x", 1));
    assert_non_null(strstr(f->err, want));
    f->err[0] = '\0';
    CHECK_RC(f, STORE_ERR, OP(f, counters_del, "a:alice"));
    assert_non_null(strstr(f->err, want));
    f->err[0] = '\0';
    CHECK_RC(f, STORE_ERR, OP0(f, counters_commit));
    assert_non_null(strstr(f->err, want));
    CHECK_RC(f, STORE_ERR, OP(f, lock_put, &a));
    expect_blobs(f, "");
    CHECK_RC(f, STORE_NOTFOUND, OP(f, lock_get, "alice", &got));
    lock_list l = walk_locks(f);
    CHECK_EQ("no locks", l.n, 0);
    free(l.v);
}

/* case_open_specs - scheme dispatch: unknown schemes fail with a message */
static void
case_open_specs(fx *f)
{
    expect_open_fails(f, "redis://localhost", "unknown scheme");
    expect_open_fails(f, "", "unknown scheme");
    expect_open_fails(f, NULL, "unknown scheme");
    expect_open_fails(f, "Memory:", "unknown scheme");
    assert_null(store_open("nope:", NULL, 0));
    hj_store *st = store_open(f->spec, ERR(f));
    assert_non_null(st);
    CHECK_STR("name", st->name, f->be);
    store_mem_set_fail(st, 1); /* must not touch a SQLite store */
    store_close(st);
    store_close(NULL);
}

/* ---- the table and the runner ---- */

typedef struct store_case {
    const char *name;
    void (*fn)(fx *f);
    const char *only; /* NULL: both backends */
} store_case;

static const store_case store_cases[] = {
    {"roundtrip", case_roundtrip, NULL},
    {"upsert", case_upsert, NULL},
    {"errors_not_notfound", case_errors_not_notfound, NULL},
    {"walk_all", case_walk_all, NULL},
    {"walk_stop_and_modify", case_walk_stop_and_modify, NULL},
    {"audit", case_audit, NULL},
    {"audit_fields", case_audit_fields, NULL},
    {"audit_pages", case_audit_pages, NULL},
    {"max_length", case_max_length, NULL},
    {"max_length_audit", case_max_length_audit, NULL},
    {"counters_batch", case_ctr_script, NULL},
    {"counters_overwrite", case_ctr_script, NULL},
    {"counters_del", case_ctr_script, NULL},
    {"counters_rollback", case_ctr_script, NULL},
    {"counters_doomed", case_ctr_script, NULL},
    {"counters_misuse", case_ctr_script, NULL},
    {"counters_fail_autocommit", case_ctr_script, NULL},
    {"counters_sizes", case_counters_sizes, NULL},
    {"counters_walk", case_counters_walk, NULL},
    {"open_specs", case_open_specs, NULL},
    {"reopen", case_sqlite_reopen, "sqlite"},
    {"committed", case_sqlite_committed, "sqlite"},
    {"kill_self", case_sqlite_kill_self, "sqlite"},
    {"kill_writer", case_sqlite_kill_writer, "sqlite"},
    {"bad_files", case_sqlite_bad_files, "sqlite"},
    {"foreign", case_sqlite_foreign, "sqlite"},
    {"live_error", case_sqlite_live_error, "sqlite"},
    {"counters_committed", case_sqlite_counters_committed, "sqlite"},
    {"v1_migration", case_sqlite_v1, "sqlite"},
    {"fail_spec", case_mem_fail_spec, "memory"},
    {"set_fail", case_mem_set_fail, "memory"},
    {"fail_writes", case_mem_fail_writes, "memory"},
};

#define NCASES (sizeof(store_cases) / sizeof(store_cases[0]))

static const char *const backends[] = {"memory", "sqlite"};

typedef struct job {
    const char *be;
    const store_case *c;
    char name[64];
} job;

/* rm_tree - remove dir, its files and its empty subdirectories */
static void
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
static int
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
static int
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
static void
run_job(void **state)
{
    fx *f = *state;

    f->fn(f);
}

int
main(void)
{
    static job jobs[NCASES * 2];
    static struct CMUnitTest tests[NCASES * 2];
    size_t n = 0;

    for (size_t b = 0; b < 2; b++)
        for (size_t i = 0; i < NCASES; i++) {
            if (store_cases[i].only && strcmp(store_cases[i].only, backends[b]) != 0)
                continue;
            jobs[n].be = backends[b];
            jobs[n].c = &store_cases[i];
            snprintf(jobs[n].name, sizeof(jobs[n].name), "%s: %s", backends[b],
                     store_cases[i].name);
            tests[n] = (struct CMUnitTest){jobs[n].name, run_job, fx_setup, fx_teardown, &jobs[n]};
            n++;
        }
    return _cmocka_run_group_tests("store", tests, n, NULL, NULL);
}
