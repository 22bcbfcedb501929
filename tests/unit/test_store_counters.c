/*
 * test_store_counters - the counters batches of both store backends
 * (counters_begin/put/del/commit/walk; see store.h), run through the same
 * fixture and runner as test_store.c (store_fixture.h)
 */
#include "store_fixture.h"

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
    CHECK_STRN("key", l->v[i].key, key, STORE_SHOWN);
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

/* deflate_cases - blobs the SQLite store keeps deflated (raw_len set) or as they are */
static const struct {
    const char *key;
    size_t len;
    int zeros;    /* 1: mostly zeros (as the engine's), 0: random bytes */
    int deflated; /* stored deflated */
} deflate_cases[] = {
    {"a:zeros", 2000, 1, 1}, {"a:big", 1024 * 1024, 1, 1}, {"a:random", 2000, 0, 0},
    {"a:small", 40, 1, 0},   {"a:empty", 0, 1, 0},
};
#define NDEFLATE (sizeof(deflate_cases) / sizeof(deflate_cases[0]))

/* deflate_blob - the bytes of deflate_cases[i] (free them) */
static unsigned char *
deflate_blob(size_t i)
{
    unsigned char *p = fill_rnd(deflate_cases[i].len, 7 + i);

    for (size_t k = 0; deflate_cases[i].zeros && k < deflate_cases[i].len; k++)
        p[k] = k % 97 == 0 ? p[k] : 0;
    return p;
}

/* case_sqlite_deflate - compressible blobs are stored deflated and read back the same, across
 * a reopen; others as they are; a damaged deflated blob fails the walk */
static void
case_sqlite_deflate(fx *f)
{
    unsigned char *b[NDEFLATE];
    char sql[256];

    CHECK_RC(f, STORE_OK, OP0(f, counters_begin));
    for (size_t i = 0; i < NDEFLATE; i++) {
        b[i] = deflate_blob(i);
        CHECK_RC(f, STORE_OK,
                 OP(f, counters_put, deflate_cases[i].key, b[i], deflate_cases[i].len));
    }
    CHECK_RC(f, STORE_OK, OP0(f, counters_commit));
    for (size_t i = 0; i < NDEFLATE; i++) {
        snprintf(sql, sizeof(sql),
                 "SELECT raw_len IS NOT NULL AND raw_len = %zu AND length(blob) < raw_len"
                 " FROM counters WHERE key = '%s'",
                 deflate_cases[i].len, deflate_cases[i].key);
        CHECK_EQ(deflate_cases[i].key, raw(f->path, sql), deflate_cases[i].deflated);
    }
    CHECK_EQ("2000 zeros deflate to a tenth",
             raw(f->path, "SELECT length(blob) < 200 FROM counters WHERE key = 'a:zeros'"), 1);
    fx_reopen(f);
    blob_list l = walk_blobs(f);
    CHECK_EQ("blobs", l.n, NDEFLATE);
    for (size_t i = 0; i < l.n && i < NDEFLATE; i++)
        for (size_t k = 0; k < NDEFLATE; k++) /* the walk is in key order */
            if (strcmp(l.v[i].key, deflate_cases[k].key) == 0)
                check_blob(f, &l, i, deflate_cases[k].key, b[k], deflate_cases[k].len);
    blob_list_free(&l);
    for (size_t i = 0; i < NDEFLATE; i++)
        free(b[i]);
    raw(f->path, "UPDATE counters SET blob = x'0102030405' WHERE key = 'a:zeros'");
    l = (blob_list){0};
    CHECK_RC(f, STORE_ERR, OP(f, counters_walk, blob_list_add, &l));
    blob_list_free(&l);
    if (strstr(f->err, "a:zeros is damaged") == NULL)
        fail_msg("damaged blob: message \"%s\"", f->err);
}

/* case_sqlite_v2 - a version 2 database (counters without raw_len) opens, its blobs read as
 * they were, and new puts are deflated */
static void
case_sqlite_v2(fx *f)
{
    char path[sizeof(f->dir) + 32];
    unsigned char *z = deflate_blob(0);

    snprintf(path, sizeof(path), "%s/v2.db", f->dir);
    raw(path, /* what store_sqlite.c created at schema version 2 */
        "PRAGMA journal_mode=WAL;"
        "BEGIN;"
        "CREATE TABLE locks(account TEXT PRIMARY KEY NOT NULL, since INTEGER NOT NULL,"
        " until INTEGER NOT NULL, rule TEXT NOT NULL, actor TEXT NOT NULL, reason TEXT NOT NULL);"
        "CREATE TABLE audit(id INTEGER PRIMARY KEY, t INTEGER NOT NULL, account TEXT NOT NULL,"
        " action TEXT NOT NULL, rule TEXT NOT NULL, actor TEXT NOT NULL, json TEXT NOT NULL);"
        "CREATE INDEX audit_account_t ON audit(account, t);"
        "CREATE INDEX audit_t ON audit(t);"
        "CREATE TABLE counters(key TEXT PRIMARY KEY NOT NULL, blob BLOB NOT NULL,"
        " updated INTEGER);"
        "PRAGMA user_version=2; PRAGMA application_id=1751804772;"
        "INSERT INTO counters VALUES ('a:old', zeroblob(300), 1700000000);"
        "COMMIT");
    store_close(f->st);
    snprintf(f->spec, sizeof(f->spec), "sqlite:%s", path);
    f->st = store_open(f->spec, ERR(f));
    if (f->st == NULL)
        fail_msg("open a version 2 database: %s", f->err);
    CHECK_EQ("migrated version", raw(path, "PRAGMA user_version"), 3);
    CHECK_EQ("raw_len column", raw(path, "SELECT count(*) FROM pragma_table_info('counters')"), 4);
    CHECK_RC(f, STORE_OK, OP(f, counters_put, "a:new", z, deflate_cases[0].len));
    fx_reopen(f);
    blob_list l = walk_blobs(f);
    static const unsigned char zero[300];
    CHECK_EQ("blobs", l.n, 2);
    check_blob(f, &l, 0, "a:new", z, deflate_cases[0].len);
    check_blob(f, &l, 1, "a:old", zero, sizeof(zero));
    blob_list_free(&l);
    CHECK_EQ("new put deflated", raw(path, "SELECT count(*) FROM counters WHERE raw_len > 0"), 1);
    free(z);
}

static const store_case store_cases[] = {
    {"counters_batch", case_ctr_script, NULL},
    {"counters_overwrite", case_ctr_script, NULL},
    {"counters_del", case_ctr_script, NULL},
    {"counters_rollback", case_ctr_script, NULL},
    {"counters_doomed", case_ctr_script, NULL},
    {"counters_misuse", case_ctr_script, NULL},
    {"counters_fail_autocommit", case_ctr_script, NULL},
    {"counters_sizes", case_counters_sizes, NULL},
    {"counters_walk", case_counters_walk, NULL},
    {"counters_committed", case_sqlite_counters_committed, "sqlite"},
    {"counters_deflate", case_sqlite_deflate, "sqlite"},
    {"counters_v2_migration", case_sqlite_v2, "sqlite"},
};

int
main(void)
{
    return store_run("store counters", store_cases, sizeof(store_cases) / sizeof(store_cases[0]));
}
