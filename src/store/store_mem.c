/*
 * store_mem - the in-memory store backend, for tests (see store.h)
 *
 * SYNOPSIS
 *	hj_store *st = store_open("memory:", err, errlen);
 *	hj_store *st = store_open("memory:fail", err, errlen);  every call fails
 *	store_open("memory:fail-writes", ...)  reads work, every write fails
 *	store_mem_set_fail(st, 1);                               ... from now on
 *
 * DESCRIPTION
 *	Locks live in a hash table keyed by account, the audit trail in a
 *	growable array; nothing survives store_close(). It behaves like the
 *	SQLite backend so one table of tests runs against both: strings are
 *	copied bounded (a field without a terminating NUL is cut to its size
 *	minus one), an account longer than STORE_NAME_MAX - 1 bytes is looked
 *	up by that prefix (what lock_put would have stored), an empty account
 *	is refused, a NULL json is stored as "", lock_walk goes in account
 *	order (strcmp), audit_walk in time order (ties in insertion order).
 *	Walks work on a snapshot, so a callback may change the store.
 *
 *	The failure switch ("memory:fail", store_mem_set_fail) makes every
 *	call return STORE_ERR with a message, never STORE_NOTFOUND, to test
 *	callers' error paths. Not thread-safe; memory failure is fatal.
 */
#include "store.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/alloc.h"
#include "../util/htab.h"

typedef struct mem_audit {
    int64_t t;
    size_t idx; /* insertion order, the tie-break */
} mem_audit;

typedef struct mem_store {
    hj_store st;
    htab *locks;         /* account -> hj_lock_rec * (owned) */
    hj_audit_rec *audit; /* in insertion order; json owned */
    size_t naudit, capaudit;
    int fail;
} mem_store;

static const hj_store_ops mem_ops;

/* mem_err - format a message into err (err may be NULL) */
static void __attribute__((format(printf, 3, 4)))
mem_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* mem_failing - true (with a message) when the failure switch is on */
static int
mem_failing(const mem_store *ms, const char *what, char *err, size_t errlen)
{
    int write = strcmp(what, "lock_put") == 0 || strcmp(what, "lock_del") == 0 ||
                strcmp(what, "audit_add") == 0;

    if (!ms->fail || (ms->fail == 2 && !write))
        return 0;
    mem_err(err, errlen, "memory store: %s: injected failure", what);
    return 1;
}

/* mem_copy - copy src into dst[size], cut at size - 1 bytes, always terminated */
static void
mem_copy(char *dst, size_t size, const char *src)
{
    size_t n = strnlen(src, size - 1);

    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* mem_keylen - the length of account as a key: at most STORE_NAME_MAX - 1 */
static size_t
mem_keylen(const char *account)
{
    return strnlen(account, STORE_NAME_MAX - 1);
}

/* mem_copy_lock - a bounded field-by-field copy of a lock record */
static void
mem_copy_lock(hj_lock_rec *dst, const hj_lock_rec *src)
{
    mem_copy(dst->account, sizeof(dst->account), src->account);
    dst->since = src->since;
    dst->until = src->until;
    mem_copy(dst->rule, sizeof(dst->rule), src->rule);
    mem_copy(dst->actor, sizeof(dst->actor), src->actor);
    mem_copy(dst->reason, sizeof(dst->reason), src->reason);
}

/* mem_lock_put - insert or replace the lock for rec->account */
static int
mem_lock_put(hj_store *st, const hj_lock_rec *rec, char *err, size_t errlen)
{
    mem_store *ms = st->priv;
    htab_node *n;
    int created;

    if (mem_failing(ms, "lock_put", err, errlen))
        return STORE_ERR;
    if (rec == NULL || rec->account[0] == '\0') {
        mem_err(err, errlen, "memory store: lock_put: empty account");
        return STORE_ERR;
    }
    n = htab_put(ms->locks, rec->account, mem_keylen(rec->account), NULL, &created);
    if (created)
        n->value = xmalloc(sizeof(hj_lock_rec));
    mem_copy_lock(n->value, rec);
    return STORE_OK;
}

/* mem_lock_get - the lock for account into out, or STORE_NOTFOUND */
static int
mem_lock_get(hj_store *st, const char *account, hj_lock_rec *out, char *err, size_t errlen)
{
    mem_store *ms = st->priv;
    const hj_lock_rec *rec;

    if (mem_failing(ms, "lock_get", err, errlen))
        return STORE_ERR;
    if (account == NULL || out == NULL) {
        mem_err(err, errlen, "memory store: lock_get: no account or no output record");
        return STORE_ERR;
    }
    rec = htab_get(ms->locks, account, mem_keylen(account));
    if (rec == NULL)
        return STORE_NOTFOUND;
    mem_copy_lock(out, rec);
    return STORE_OK;
}

/* mem_lock_del - remove the lock for account, or STORE_NOTFOUND */
static int
mem_lock_del(hj_store *st, const char *account, char *err, size_t errlen)
{
    mem_store *ms = st->priv;
    hj_lock_rec *rec;

    if (mem_failing(ms, "lock_del", err, errlen))
        return STORE_ERR;
    if (account == NULL) {
        mem_err(err, errlen, "memory store: lock_del: no account");
        return STORE_ERR;
    }
    rec = htab_del(ms->locks, account, mem_keylen(account));
    if (rec == NULL)
        return STORE_NOTFOUND;
    free(rec);
    return STORE_OK;
}

typedef struct mem_snap {
    hj_lock_rec *recs;
    size_t n;
} mem_snap;

/* mem_snap_one - htab_walk callback: copy one lock into the snapshot */
static int
mem_snap_one(htab_node *node, void *ctx)
{
    mem_snap *s = ctx;

    mem_copy_lock(&s->recs[s->n++], node->value);
    return 0;
}

/* mem_cmp_lock - qsort order of lock records: by account */
static int
mem_cmp_lock(const void *a, const void *b)
{
    return strcmp(((const hj_lock_rec *)a)->account, ((const hj_lock_rec *)b)->account);
}

/* mem_lock_walk - call fn for a snapshot of every lock, in account order */
static int
mem_lock_walk(hj_store *st, int (*fn)(void *ctx, const hj_lock_rec *rec), void *ctx, char *err,
              size_t errlen)
{
    mem_store *ms = st->priv;
    mem_snap s = {0};

    if (mem_failing(ms, "lock_walk", err, errlen))
        return STORE_ERR;
    s.recs = xmalloc((ms->locks->used ? ms->locks->used : 1) * sizeof(*s.recs));
    htab_walk(ms->locks, mem_snap_one, &s);
    qsort(s.recs, s.n, sizeof(*s.recs), mem_cmp_lock);
    for (size_t i = 0; i < s.n; i++)
        if (fn(ctx, &s.recs[i]))
            break;
    free(s.recs);
    return STORE_OK;
}

/* mem_audit_add - append a copy of rec to the audit trail */
static int
mem_audit_add(hj_store *st, const hj_audit_rec *rec, char *err, size_t errlen)
{
    mem_store *ms = st->priv;
    hj_audit_rec *a;

    if (mem_failing(ms, "audit_add", err, errlen))
        return STORE_ERR;
    if (rec == NULL) {
        mem_err(err, errlen, "memory store: audit_add: no record");
        return STORE_ERR;
    }
    if (ms->naudit == ms->capaudit) {
        ms->capaudit = ms->capaudit ? ms->capaudit * 2 : 64;
        ms->audit = xrealloc(ms->audit, ms->capaudit * sizeof(*ms->audit));
    }
    a = &ms->audit[ms->naudit++];
    a->t = rec->t;
    mem_copy(a->account, sizeof(a->account), rec->account);
    mem_copy(a->action, sizeof(a->action), rec->action);
    mem_copy(a->rule, sizeof(a->rule), rec->rule);
    mem_copy(a->actor, sizeof(a->actor), rec->actor);
    a->json = xstrdup(rec->json ? rec->json : "");
    return STORE_OK;
}

/* mem_cmp_audit - qsort order of audit entries: by time, then insertion */
static int
mem_cmp_audit(const void *a, const void *b)
{
    const mem_audit *x = a, *y = b;

    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* mem_audit_walk - call fn for the entries of account (NULL: all) at or after since */
static int
mem_audit_walk(hj_store *st, const char *account, int64_t since,
               int (*fn)(void *ctx, const hj_audit_rec *rec), void *ctx, char *err, size_t errlen)
{
    mem_store *ms = st->priv;
    size_t n = 0, klen = account ? mem_keylen(account) : 0;
    mem_audit *sel;

    if (mem_failing(ms, "audit_walk", err, errlen))
        return STORE_ERR;
    sel = xmalloc((ms->naudit ? ms->naudit : 1) * sizeof(*sel));
    for (size_t i = 0; i < ms->naudit; i++) {
        const hj_audit_rec *a = &ms->audit[i];
        if (a->t < since)
            continue;
        if (account && (strlen(a->account) != klen || memcmp(a->account, account, klen) != 0))
            continue;
        sel[n++] = (mem_audit){a->t, i};
    }
    qsort(sel, n, sizeof(*sel), mem_cmp_audit);
    for (size_t i = 0; i < n; i++) {
        hj_audit_rec copy = ms->audit[sel[i].idx]; /* fn may grow the array */
        if (fn(ctx, &copy))
            break;
    }
    free(sel);
    return STORE_OK;
}

/* mem_close - free the locks, the audit trail and the store */
static void
mem_close(hj_store *st)
{
    mem_store *ms = st->priv;

    htab_free(ms->locks, free);
    for (size_t i = 0; i < ms->naudit; i++)
        free((char *)ms->audit[i].json);
    free(ms->audit);
    free(ms);
}

static const hj_store_ops mem_ops = {
    mem_lock_put,  mem_lock_get,   mem_lock_del, mem_lock_walk,
    mem_audit_add, mem_audit_walk, mem_close,
};

/* store_mem_open - a new, empty memory store; arg "" or "fail" */
hj_store *
store_mem_open(const char *arg, char *err, size_t errlen)
{
    mem_store *ms;

    if (arg == NULL)
        arg = "";
    if (arg[0] != '\0' && strcmp(arg, "fail") != 0 && strcmp(arg, "fail-writes") != 0) {
        mem_err(err, errlen, "memory store: unknown option \"%.100s\" (known: fail, fail-writes)",
                arg);
        return NULL;
    }
    ms = xcalloc(1, sizeof(*ms));
    ms->st.ops = &mem_ops;
    ms->st.name = "memory";
    ms->st.priv = ms;
    ms->locks = htab_new(64);
    ms->fail = arg[0] == '\0' ? 0 : strcmp(arg, "fail") == 0 ? 1 : 2;
    return &ms->st;
}

/* store_mem_set_fail - turn the failure switch of a memory store on or off */
void
store_mem_set_fail(hj_store *st, int fail)
{
    if (st && st->ops == &mem_ops)
        ((mem_store *)st->priv)->fail = fail != 0;
}
