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
 *	growable array, counter blobs in a hash table keyed by key; nothing
 *	survives store_close(). It behaves like the
 *	SQLite backend so one table of tests runs against both: strings are
 *	copied bounded (a field without a terminating NUL is cut to its size
 *	minus one), an account longer than STORE_NAME_MAX - 1 bytes is looked
 *	up by that prefix (what lock_put would have stored), an empty account
 *	is refused, a NULL json is stored as "", lock_walk goes in account
 *	order (strcmp), audit_walk in time order (ties in insertion order),
 *	audit_recent in the reverse order, audit_trim the oldest first.
 *	Walks work on a snapshot, so a callback may change the store.
 *
 *	Counters, with the same rules as store_sqlite.c: a key is stored whole
 *	(any length; NULL or "" is refused), a blob of 0 to STORE_BLOB_MAX
 *	bytes is copied (NULL is allowed for 0 bytes; over the limit is
 *	refused), counters_walk goes in key order (strcmp) and always passes a
 *	non-NULL blob. Between counters_begin and counters_commit, puts and
 *	dels are staged in order and applied at commit, which cannot fail part
 *	way: a failing commit changes nothing. Outside a batch a put or del
 *	applies at once (autocommit); deleting a missing key is STORE_OK. A
 *	put or del that fails inside a batch dooms it: later puts and dels of
 *	the batch fail, and counters_commit discards it and returns STORE_ERR.
 *	counters_begin inside a batch, or counters_commit outside one, is
 *	STORE_ERR (the open batch is left as it was). counters_walk sees the
 *	committed blobs only (SQLite would also show the open batch's own
 *	changes: do not walk inside a batch). store_close discards an open
 *	batch.
 *
 *	The failure switch ("memory:fail", store_mem_set_fail) makes every
 *	call return STORE_ERR with a message, never STORE_NOTFOUND, to test
 *	callers' error paths; "memory:fail-writes" fails only the writes
 *	(lock_put, lock_del, audit_add, audit_trim and the four counters
 *	writes: begin,
 *	put, del, commit) and lets the reads and walks work. A commit that
 *	fails discards its batch. Not thread-safe; memory failure is fatal.
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

typedef struct mem_blob {
    size_t len;
    unsigned char data[];
} mem_blob;

typedef struct mem_op {
    char *key;
    mem_blob *blob; /* NULL: delete the key */
} mem_op;

typedef struct mem_store {
    hj_store st;
    htab *locks;         /* account -> hj_lock_rec * (owned) */
    hj_audit_rec *audit; /* in insertion order; json owned */
    size_t naudit, capaudit;
    htab *counters; /* key -> mem_blob * (owned) */
    mem_op *batch;  /* the open batch's puts and dels, in call order (owned) */
    size_t nbatch, capbatch;
    int in_batch; /* between counters_begin and counters_commit */
    int doomed;   /* a put or del of the open batch failed */
    int fail;     /* 0 off, 1 every call, 2 writes only */
} mem_store;

static const hj_store_ops mem_ops;

/* mem_failing - true (with a message) when the failure switch is on */
static int
mem_failing(const mem_store *ms, const char *what, char *err, size_t errlen)
{
    static const char *const writes[] = {"lock_put",     "lock_del",       "audit_add",
                                         "audit_trim",   "counters_begin", "counters_put",
                                         "counters_del", "counters_commit"};
    int write = 0;

    for (size_t i = 0; i < sizeof(writes) / sizeof(writes[0]); i++)
        write |= strcmp(what, writes[i]) == 0;
    if (!ms->fail || (ms->fail == 2 && !write))
        return 0;
    store_errf(err, errlen, "memory store: %s: injected failure", what);
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
        store_errf(err, errlen, "memory store: lock_put: empty account");
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
        store_errf(err, errlen, "memory store: lock_get: no account or no output record");
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
        store_errf(err, errlen, "memory store: lock_del: no account");
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
        store_errf(err, errlen, "memory store: audit_add: no record");
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

/* mem_audit_select - the entries of account (NULL: all) at or after since whose action is
 * action (NULL: any), in time order (ties: insertion); the caller frees it */
static mem_audit *
mem_audit_select(mem_store *ms, const char *account, int64_t since, const char *action, size_t *n)
{
    size_t klen = account ? mem_keylen(account) : 0;
    mem_audit *sel = xmalloc((ms->naudit ? ms->naudit : 1) * sizeof(*sel));

    *n = 0;
    for (size_t i = 0; i < ms->naudit; i++) {
        const hj_audit_rec *a = &ms->audit[i];
        if (a->t < since || (action && strcmp(a->action, action) != 0))
            continue;
        if (account && (strlen(a->account) != klen || memcmp(a->account, account, klen) != 0))
            continue;
        sel[(*n)++] = (mem_audit){a->t, i};
    }
    qsort(sel, *n, sizeof(*sel), mem_cmp_audit);
    return sel;
}

/* mem_audit_walk - call fn for the entries of account (NULL: all) at or after since */
static int
mem_audit_walk(hj_store *st, const char *account, int64_t since,
               int (*fn)(void *ctx, const hj_audit_rec *rec), void *ctx, char *err, size_t errlen)
{
    mem_store *ms = st->priv;
    size_t n;
    mem_audit *sel;

    if (mem_failing(ms, "audit_walk", err, errlen))
        return STORE_ERR;
    sel = mem_audit_select(ms, account, since, NULL, &n);
    for (size_t i = 0; i < n; i++) {
        hj_audit_rec copy = ms->audit[sel[i].idx]; /* fn may grow the array */
        if (fn(ctx, &copy))
            break;
    }
    free(sel);
    return STORE_OK;
}

/* mem_audit_recent - fn for at most max entries of account and action since, newest first */
static int
mem_audit_recent(hj_store *st, const char *account, int64_t since, const char *action, size_t max,
                 int (*fn)(void *ctx, const hj_audit_rec *rec), void *ctx, char *err, size_t errlen)
{
    mem_store *ms = st->priv;
    size_t n;
    mem_audit *sel;

    if (mem_failing(ms, "audit_recent", err, errlen))
        return STORE_ERR;
    sel = mem_audit_select(ms, account, since, action, &n);
    for (size_t i = 0; i < n && i < max; i++) {
        hj_audit_rec copy = ms->audit[sel[n - 1 - i].idx]; /* fn may grow the array */
        if (fn(ctx, &copy))
            break;
    }
    free(sel);
    return STORE_OK;
}

/* mem_audit_trim - delete at most max of the oldest entries older than before */
static int
mem_audit_trim(hj_store *st, int64_t before, size_t max, size_t *deleted, char *err, size_t errlen)
{
    mem_store *ms = st->priv;
    size_t n, k = 0;
    mem_audit *sel;

    *deleted = 0;
    if (mem_failing(ms, "audit_trim", err, errlen))
        return STORE_ERR;
    sel = mem_audit_select(ms, NULL, INT64_MIN, NULL, &n);
    for (size_t i = 0; i < n && i < max && sel[i].t < before; i++) {
        free((char *)ms->audit[sel[i].idx].json);
        ms->audit[sel[i].idx].json = NULL; /* the mark: deleted */
        (*deleted)++;
    }
    for (size_t i = 0; i < ms->naudit; i++)
        if (ms->audit[i].json != NULL)
            ms->audit[k++] = ms->audit[i];
    ms->naudit = k;
    free(sel);
    return STORE_OK;
}

/* mem_blob_new - a copy of len bytes at p (p may be NULL when len is 0) */
static mem_blob *
mem_blob_new(const void *p, size_t len)
{
    mem_blob *b = xmalloc(sizeof(*b) + len);

    b->len = len;
    if (len > 0)
        memcpy(b->data, p, len);
    return b;
}

/* mem_ctr_apply - store blob (owned; NULL: delete) under key in the counters table */
static void
mem_ctr_apply(mem_store *ms, const char *key, mem_blob *blob)
{
    htab_node *n;
    int created;

    if (blob == NULL) {
        free(htab_del(ms->counters, key, strlen(key)));
        return;
    }
    n = htab_put(ms->counters, key, strlen(key), NULL, &created);
    if (!created)
        free(n->value);
    n->value = blob;
}

/* mem_batch_end - discard the open batch's staged changes and close it */
static void
mem_batch_end(mem_store *ms)
{
    for (size_t i = 0; i < ms->nbatch; i++) {
        free(ms->batch[i].key);
        free(ms->batch[i].blob);
    }
    ms->nbatch = 0;
    ms->in_batch = ms->doomed = 0;
}

/* mem_ctr_check - STORE_OK when a put (blob) or a del (del != 0) of key may go ahead */
static int
mem_ctr_check(const mem_store *ms, const char *what, const char *key, const void *blob, size_t len,
              int del, char *err, size_t errlen)
{
    if (mem_failing(ms, what, err, errlen))
        return STORE_ERR;
    if (ms->in_batch && ms->doomed) {
        store_errf(err, errlen, "memory store: %s: the batch already failed (commit rolls it back)",
                   what);
        return STORE_ERR;
    }
    if (key == NULL || key[0] == '\0') {
        store_errf(err, errlen, "memory store: %s: empty key", what);
        return STORE_ERR;
    }
    if (!del && blob == NULL && len > 0) {
        store_errf(err, errlen, "memory store: %s: no blob", what);
        return STORE_ERR;
    }
    if (!del && len > STORE_BLOB_MAX) {
        store_errf(err, errlen, "memory store: %s: blob of %zu bytes is over the limit of %d", what,
                   len, STORE_BLOB_MAX);
        return STORE_ERR;
    }
    return STORE_OK;
}

/* mem_ctr_write - a put (blob) or a del (del != 0) of key: staged in a batch, else applied */
static int
mem_ctr_write(mem_store *ms, const char *what, const char *key, const void *blob, size_t len,
              int del, char *err, size_t errlen)
{
    if (mem_ctr_check(ms, what, key, blob, len, del, err, errlen) != STORE_OK) {
        ms->doomed |= ms->in_batch; /* commit will roll the batch back */
        return STORE_ERR;
    }
    if (!ms->in_batch) {
        mem_ctr_apply(ms, key, del ? NULL : mem_blob_new(blob, len));
        return STORE_OK;
    }
    if (ms->nbatch == ms->capbatch) {
        ms->capbatch = ms->capbatch ? ms->capbatch * 2 : 64;
        ms->batch = xrealloc(ms->batch, ms->capbatch * sizeof(*ms->batch));
    }
    ms->batch[ms->nbatch++] = (mem_op){xstrdup(key), del ? NULL : mem_blob_new(blob, len)};
    return STORE_OK;
}

/* mem_counters_begin - open a batch */
static int
mem_counters_begin(hj_store *st, char *err, size_t errlen)
{
    mem_store *ms = st->priv;

    if (mem_failing(ms, "counters_begin", err, errlen))
        return STORE_ERR;
    if (ms->in_batch) {
        store_errf(err, errlen, "memory store: counters_begin: a batch is already open");
        return STORE_ERR;
    }
    ms->in_batch = 1;
    ms->doomed = 0;
    return STORE_OK;
}

/* mem_counters_put - insert or replace the blob of key (staged inside a batch) */
static int
mem_counters_put(hj_store *st, const char *key, const void *blob, size_t len, char *err,
                 size_t errlen)
{
    return mem_ctr_write(st->priv, "counters_put", key, blob, len, 0, err, errlen);
}

/* mem_counters_del - remove the blob of key, STORE_OK when missing (staged inside a batch) */
static int
mem_counters_del(hj_store *st, const char *key, char *err, size_t errlen)
{
    return mem_ctr_write(st->priv, "counters_del", key, NULL, 0, 1, err, errlen);
}

/* mem_counters_commit - apply the open batch in call order, or discard it and fail */
static int
mem_counters_commit(hj_store *st, char *err, size_t errlen)
{
    mem_store *ms = st->priv;

    if (mem_failing(ms, "counters_commit", err, errlen)) {
        mem_batch_end(ms);
        return STORE_ERR;
    }
    if (!ms->in_batch) {
        store_errf(err, errlen, "memory store: counters_commit: no batch is open");
        return STORE_ERR;
    }
    if (ms->doomed) {
        store_errf(err, errlen,
                   "memory store: counters_commit: a put or del of the batch failed, rolled back");
        mem_batch_end(ms);
        return STORE_ERR;
    }
    for (size_t i = 0; i < ms->nbatch; i++) {
        mem_ctr_apply(ms, ms->batch[i].key, ms->batch[i].blob);
        ms->batch[i].blob = NULL; /* now owned by the table */
    }
    mem_batch_end(ms);
    return STORE_OK;
}

typedef struct mem_blob_snap {
    mem_op *v; /* key and blob copies */
    size_t n;
} mem_blob_snap;

/* mem_snap_blob - htab_walk callback: copy one key and blob into the snapshot */
static int
mem_snap_blob(htab_node *node, void *ctx)
{
    mem_blob_snap *s = ctx;
    const mem_blob *b = node->value;

    s->v[s->n++] = (mem_op){xstrdup(node->key), mem_blob_new(b->data, b->len)};
    return 0;
}

/* mem_cmp_op - qsort order of snapshot entries: by key */
static int
mem_cmp_op(const void *a, const void *b)
{
    return strcmp(((const mem_op *)a)->key, ((const mem_op *)b)->key);
}

/* mem_counters_walk - call fn for a snapshot of every committed blob, in key order */
static int
mem_counters_walk(hj_store *st, int (*fn)(void *ctx, const char *key, const void *blob, size_t len),
                  void *ctx, char *err, size_t errlen)
{
    mem_store *ms = st->priv;
    mem_blob_snap s = {0};
    int stop = 0;

    if (mem_failing(ms, "counters_walk", err, errlen))
        return STORE_ERR;
    s.v = xmalloc((ms->counters->used ? ms->counters->used : 1) * sizeof(*s.v));
    htab_walk(ms->counters, mem_snap_blob, &s);
    qsort(s.v, s.n, sizeof(*s.v), mem_cmp_op);
    for (size_t i = 0; i < s.n; i++) {
        if (!stop)
            stop = fn(ctx, s.v[i].key, s.v[i].blob->data, s.v[i].blob->len) != 0;
        free(s.v[i].key);
        free(s.v[i].blob);
    }
    free(s.v);
    return STORE_OK;
}

/* mem_close - free the locks, the audit trail, the counters, an open batch and the store */
static void
mem_close(hj_store *st)
{
    mem_store *ms = st->priv;

    htab_free(ms->locks, free);
    for (size_t i = 0; i < ms->naudit; i++)
        free((char *)ms->audit[i].json);
    free(ms->audit);
    htab_free(ms->counters, free);
    mem_batch_end(ms);
    free(ms->batch);
    free(ms);
}

static const hj_store_ops mem_ops = {
    .lock_put = mem_lock_put,
    .lock_get = mem_lock_get,
    .lock_del = mem_lock_del,
    .lock_walk = mem_lock_walk,
    .audit_add = mem_audit_add,
    .audit_walk = mem_audit_walk,
    .audit_recent = mem_audit_recent,
    .audit_trim = mem_audit_trim,
    .counters_begin = mem_counters_begin,
    .counters_put = mem_counters_put,
    .counters_del = mem_counters_del,
    .counters_commit = mem_counters_commit,
    .counters_walk = mem_counters_walk,
    .close = mem_close,
};

/* store_mem_open - a new, empty memory store; arg "" or "fail" */
hj_store *
store_mem_open(const char *arg, char *err, size_t errlen)
{
    mem_store *ms;

    if (arg == NULL)
        arg = "";
    if (arg[0] != '\0' && strcmp(arg, "fail") != 0 && strcmp(arg, "fail-writes") != 0) {
        store_errf(err, errlen,
                   "memory store: unknown option \"%.100s\" (known: fail, fail-writes)", arg);
        return NULL;
    }
    ms = xcalloc(1, sizeof(*ms));
    ms->st.ops = &mem_ops;
    ms->st.name = "memory";
    ms->st.priv = ms;
    ms->locks = htab_new(64);
    ms->counters = htab_new(64);
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
