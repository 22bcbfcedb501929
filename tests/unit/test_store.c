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
#include "store_fixture.h"

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
        CHECK_STRN("walk order", l.v[k].account, name, STORE_SHOWN);
        CHECK_EQ(name, l.v[k].since, 1000 + k);
        CHECK_STRN(name, l.v[k].reason, name, STORE_SHOWN);
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
            CHECK_STRN("rule", l.v[i].rule, json, STORE_SHOWN);
            if (q[k].account)
                CHECK_STRN("account filter", l.v[i].account, q[k].account, STORE_SHOWN);
        }
        CHECK_STRN(q[k].account ? q[k].account : "(all)", got, q[k].want, STORE_SHOWN);
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
    CHECK_STRN("account", l.v[0].account, a.account, STORE_SHOWN);
    CHECK_STRN("action", l.v[0].action, a.action, STORE_SHOWN);
    CHECK_STRN("rule", l.v[0].rule, a.rule, STORE_SHOWN);
    CHECK_STRN("actor", l.v[0].actor, a.actor, STORE_SHOWN);
    CHECK_STRN("json", l.v[0].json, a.json, STORE_SHOWN);
    CHECK_STRN("NULL json", l.v[1].json, "", STORE_SHOWN);
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

/* actions_of - the actions of l, space-separated, into out */
static void
actions_of(const audit_list *l, char *out, size_t size)
{
    out[0] = '\0';
    for (size_t i = 0; i < l->n; i++)
        snprintf(out + strlen(out), size - strlen(out), "%s%s", i ? " " : "", l->v[i].action);
}

/* case_audit_recent - newest first (ties: the latest added first), by account, since, action,
 * at most max */
static void
case_audit_recent(fx *f)
{
    static const struct {
        int64_t t;
        const char *account, *action;
    } in[] = {{30, "a", "lock"}, {10, "a", "warn"},   {20, "b", "throttle"},
              {10, "b", "warn"}, {40, "a", "unlock"}, {20, "a", "relay"}};
    static const struct {
        const char *account;
        int64_t since;
        const char *action;
        size_t max;
        const char *want; /* actions in order */
    } q[] = {{NULL, INT64_MIN, NULL, 100, "unlock lock relay throttle warn warn"},
             {NULL, INT64_MIN, NULL, 2, "unlock lock"},
             {NULL, INT64_MIN, NULL, 0, ""},
             {"a", INT64_MIN, NULL, 100, "unlock lock relay warn"},
             {"a", 20, NULL, 2, "unlock lock"},
             {"b", 0, NULL, 1, "throttle"},
             {NULL, 0, "warn", 100, "warn warn"},
             {"a", 0, "warn", 100, "warn"},
             {"a", 11, "warn", 100, ""},
             {NULL, 21, NULL, 100, "unlock lock"},
             {NULL, 41, NULL, 100, ""},
             {"nobody", 0, NULL, 100, ""}};
    char got[256];

    for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
        hj_audit_rec a = mk_audit(in[i].t, in[i].account, in[i].action, "{}");
        CHECK_RC(f, STORE_OK, OP(f, audit_add, &a));
    }
    for (size_t k = 0; k < sizeof(q) / sizeof(q[0]); k++) {
        audit_list l = {0};
        CHECK_RC(f, STORE_OK,
                 OP(f, audit_recent, q[k].account, q[k].since, q[k].action, q[k].max,
                    audit_list_add, &l));
        actions_of(&l, got, sizeof(got));
        CHECK_STRN(q[k].account ? q[k].account : "(all)", got, q[k].want, STORE_SHOWN);
        audit_list_free(&l);
    }
    /* the ties: b's warn (added 4th) before a's (added 2nd) */
    audit_list l = {0};
    CHECK_RC(f, STORE_OK, OP(f, audit_recent, NULL, 0, "warn", 100, audit_list_add, &l));
    assert_int_equal(l.n, 2);
    CHECK_STRN("tie: latest added first", l.v[0].account, "b", STORE_SHOWN);
    audit_list_free(&l);
}

/* case_audit_recent_pages - across pages with ties and an action filter: the exact reverse of
 * audit_walk's order, cut at max; stop works */
static void
case_audit_recent_pages(fx *f)
{
    enum { N = 300 };
    static const size_t maxes[] = {N, N + 5, 70, 64, 65, 1};
    char json[32];

    for (int i = 0; i < N; i++) { /* t = 5 for most, so ties cross page boundaries */
        snprintf(json, sizeof(json), "%d", i);
        hj_audit_rec a =
            mk_audit(i % 7 == 6 ? 9 : 5, i % 2 ? "odd" : "even", i % 3 ? "warn" : "lock", json);
        CHECK_RC(f, STORE_OK, OP(f, audit_add, &a));
    }
    static const struct {
        const char *account, *action;
    } sel[] = {{NULL, NULL}, {"odd", NULL}, {NULL, "lock"}, {"even", "warn"}};
    for (size_t s = 0; s < sizeof(sel) / sizeof(sel[0]); s++) {
        audit_list all = {0};
        CHECK_RC(f, STORE_OK, OP(f, audit_walk, sel[s].account, INT64_MIN, audit_list_add, &all));
        size_t want_n = 0;
        for (size_t i = 0; i < all.n; i++) /* the walk's order, filtered by action */
            if (!sel[s].action || strcmp(all.v[i].action, sel[s].action) == 0)
                all.v[want_n++] = all.v[i];
            else
                free((char *)all.v[i].json);
        all.n = want_n;
        for (size_t m = 0; m < sizeof(maxes) / sizeof(maxes[0]); m++) {
            audit_list l = {0};
            CHECK_RC(f, STORE_OK,
                     OP(f, audit_recent, sel[s].account, INT64_MIN, sel[s].action, maxes[m],
                        audit_list_add, &l));
            CHECK_EQ("recent: count", l.n, maxes[m] < want_n ? maxes[m] : want_n);
            for (size_t i = 0; i < l.n; i++)
                if (strcmp(l.v[i].json, all.v[want_n - 1 - i].json) != 0)
                    fail_msg("%s: selection %zu max %zu: entry %zu is %s, want %s", f->be, s,
                             maxes[m], i, l.v[i].json, all.v[want_n - 1 - i].json);
            audit_list_free(&l);
        }
        audit_list_free(&all);
    }
    audit_list l = {.stop_after = 70};
    CHECK_RC(f, STORE_OK, OP(f, audit_recent, NULL, INT64_MIN, NULL, N, audit_list_add, &l));
    CHECK_EQ("stopped recent", l.n, 70);
    audit_list_free(&l);
}

/* case_audit_trim - the oldest entries before a time go, in batches of at most max */
static void
case_audit_trim(fx *f)
{
    static const struct {
        int64_t before;
        size_t max, deleted;
        size_t left;      /* entries left after the step */
        int64_t oldest_t; /* the oldest entry's t after the step (-1: none left) */
    } step[] = {
        {1, 10, 0, 200, 1},          {101, 30, 30, 170, 31},  {101, 30, 30, 140, 61},
        {101, 30, 30, 110, 91},      {101, 30, 10, 100, 101}, {101, 30, 0, 100, 101},
        {INT64_MIN, 5, 0, 100, 101}, {150, 0, 0, 100, 101},   {INT64_MAX, 1000, 100, 0, -1}};
    char json[32];

    for (int i = 0; i < 200; i++) { /* t = 1..200, added in an order that is not time order */
        int t = 1 + (i * 7) % 200;
        snprintf(json, sizeof(json), "%d", t);
        hj_audit_rec a = mk_audit(t, t % 2 ? "odd" : "even", "warn", json);
        CHECK_RC(f, STORE_OK, OP(f, audit_add, &a));
    }
    for (size_t k = 0; k < sizeof(step) / sizeof(step[0]); k++) {
        size_t deleted = 99999;
        CHECK_RC(f, STORE_OK, OP(f, audit_trim, step[k].before, step[k].max, &deleted));
        CHECK_EQ("trim: deleted", deleted, step[k].deleted);
        audit_list l = walk_audit(f, NULL, INT64_MIN);
        CHECK_EQ("trim: left", l.n, step[k].left);
        CHECK_EQ("trim: oldest left", l.n ? l.v[0].t : -1, step[k].oldest_t);
        for (size_t i = 0; i < l.n; i++)
            if (atoi(l.v[i].json) != (int)l.v[i].t)
                fail_msg("%s: step %zu: the entry of t=%lld has the json of %s", f->be, k,
                         (long long)l.v[i].t, l.v[i].json);
        audit_list_free(&l);
    }
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
            CHECK_STRN("json after reopen", l.v[0].json, e.json, STORE_SHOWN);
        audit_list_free(&l);
    }
    CHECK_RC(f, STORE_OK, OP(f, lock_del, "alice"));
    fx_reopen(f);
    CHECK_RC(f, STORE_NOTFOUND, OP(f, lock_get, "alice", &got));
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
    CHECK_EQ("schema version", raw(f->path, "PRAGMA user_version"), 3);
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
        CHECK_STRN("reason", got.reason, "killed after put", STORE_SHOWN);
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
        CHECK_STRN(name, got.reason, name, STORE_SHOWN);
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
        assert_int_equal(fread(back, 1, sizeof(back), fp), sizeof(buf)); /* one more: grown? */
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
    raw(f->path, "PRAGMA user_version=4");
    expect_open_fails(f, f->spec, "newer");
    raw(f->path, "PRAGMA user_version=1; PRAGMA application_id=42");
    expect_open_fails(f, f->spec, "not a hijackd database");
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
    CHECK_EQ("migrated version", raw(path, "PRAGMA user_version"), 3);
    CHECK_EQ("counters table", raw(path, "SELECT count(*) FROM pragma_table_info('counters')"), 4);
    snprintf(sql, sizeof(sql), /* f->path is a new database, created by the fixture */
             "ATTACH '%s' AS fresh;"
             " SELECT (SELECT group_concat(sql, ';') FROM (SELECT sql FROM main.sqlite_master"
             " ORDER BY name)) = (SELECT group_concat(sql, ';') FROM (SELECT sql FROM"
             " fresh.sqlite_master ORDER BY name))",
             f->path);
    CHECK_EQ("same schema as a new database", raw(path, sql), 1);
    CHECK_RC(f, STORE_OK, OP(f, lock_get, "alice", &got));
    CHECK_STRN("old lock", got.reason, "old", STORE_SHOWN);
    audit_list al = walk_audit(f, "alice", 0);
    CHECK_EQ("old audit", al.n, 1);
    audit_list_free(&al);
    CHECK_RC(f, STORE_OK, OP0(f, counters_begin));
    CHECK_RC(f, STORE_OK, OP(f, counters_put, "a:alice", "blob", 4));
    CHECK_RC(f, STORE_OK, OP0(f, counters_commit));
    fx_reopen(f);
    expect_blobs(f, "a:alice=blob");
    CHECK_EQ("still version 3", raw(path, "PRAGMA user_version"), 3);
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
    CHECK_RC(f, STORE_ERR, OP(f, audit_recent, NULL, 0, NULL, 10, audit_list_add, &al));
    CHECK_RC(f, STORE_ERR, OP(f, audit_recent, "alice", 0, "lock", 10, audit_list_add, &al));
    size_t deleted = 7;
    f->err[0] = '\0';
    CHECK_RC(f, STORE_ERR, OP(f, audit_trim, INT64_MAX, 10, &deleted));
    assert_non_null(strstr(f->err, want));
    CHECK_EQ("nothing deleted by a failing trim", deleted, 0);
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
    size_t deleted = 7;
    f->err[0] = '\0';
    CHECK_RC(f, STORE_ERR, OP(f, audit_trim, INT64_MAX, 10, &deleted));
    assert_non_null(strstr(f->err, want));
    audit_list al = {0};
    CHECK_RC(f, STORE_OK, OP(f, audit_recent, NULL, 0, NULL, 10, audit_list_add, &al));
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
    CHECK_STRN("name", st->name, f->be, STORE_SHOWN);
    store_mem_set_fail(st, 1); /* must not touch a SQLite store */
    store_close(st);
    store_close(NULL);
}

static const store_case store_cases[] = {
    {"roundtrip", case_roundtrip, NULL},
    {"upsert", case_upsert, NULL},
    {"errors_not_notfound", case_errors_not_notfound, NULL},
    {"walk_all", case_walk_all, NULL},
    {"walk_stop_and_modify", case_walk_stop_and_modify, NULL},
    {"audit", case_audit, NULL},
    {"audit_fields", case_audit_fields, NULL},
    {"audit_pages", case_audit_pages, NULL},
    {"audit_recent", case_audit_recent, NULL},
    {"audit_recent_pages", case_audit_recent_pages, NULL},
    {"audit_trim", case_audit_trim, NULL},
    {"max_length", case_max_length, NULL},
    {"max_length_audit", case_max_length_audit, NULL},
    {"open_specs", case_open_specs, NULL},
    {"reopen", case_sqlite_reopen, "sqlite"},
    {"committed", case_sqlite_committed, "sqlite"},
    {"kill_self", case_sqlite_kill_self, "sqlite"},
    {"kill_writer", case_sqlite_kill_writer, "sqlite"},
    {"bad_files", case_sqlite_bad_files, "sqlite"},
    {"foreign", case_sqlite_foreign, "sqlite"},
    {"live_error", case_sqlite_live_error, "sqlite"},
    {"fail_spec", case_mem_fail_spec, "memory"},
    {"set_fail", case_mem_set_fail, "memory"},
    {"v1_migration", case_sqlite_v1, "sqlite"},
    {"fail_writes", case_mem_fail_writes, "memory"},
};

int
main(void)
{
    return store_run("store", store_cases, sizeof(store_cases) / sizeof(store_cases[0]));
}
