/*
 * store - durable state behind one interface: locks and the audit trail
 *
 * SYNOPSIS
 *	hj_store *store_open(const char *spec, char *err, size_t errlen);
 *	st->ops->lock_put(st, &rec, err, errlen)          STORE_OK | STORE_ERR
 *	st->ops->lock_get(st, account, &rec, err, errlen) STORE_OK | STORE_NOTFOUND | STORE_ERR
 *	st->ops->lock_del(st, account, err, errlen)       STORE_OK | STORE_NOTFOUND | STORE_ERR
 *	st->ops->lock_walk(st, fn, ctx, err, errlen)      STORE_OK | STORE_ERR
 *	st->ops->audit_add(st, &audit, err, errlen)       STORE_OK | STORE_ERR
 *	st->ops->audit_walk(st, account, since, fn, ctx, err, errlen)
 *	st->ops->audit_recent(st, account, since, action, max, fn, ctx, err, errlen)
 *	st->ops->audit_trim(st, before, max, &deleted, err, errlen)
 *	store_close(st);
 *	store_errf(err, errlen, fmt, ...);   for backends: a message into err
 *
 * DESCRIPTION
 *	A struct of function pointers with one backend per file, chosen by
 *	the spec's scheme: "memory:" (store_mem.c, for tests), "sqlite:PATH"
 *	(store_sqlite.c, the embedded default). A Redis backend will be one
 *	more file. A lookup has three outcomes and an error never reads as
 *	"not found": callers map STORE_ERR to the configured failure action.
 *
 *	Durability: when lock_put, lock_del or audit_add return STORE_OK the
 *	change survives kill -9 of the process (SQLite: WAL, synchronous=
 *	NORMAL is not enough for that on power loss but is for a process
 *	crash; see store_sqlite.c). Strings in records are copied; records
 *	passed to walk callbacks are valid only during the callback; a
 *	callback returning non-zero stops the walk.
 *
 *	The audit trail: audit_walk goes oldest first through every entry at
 *	or after since (a whole-trail read, for tools and tests; the daemon's
 *	admin reads use audit_recent). audit_recent goes newest first (ties:
 *	the latest added first) through the entries of account (NULL: all)
 *	at or after since whose action is action (NULL: any), and stops after
 *	max of them (0: none), reading no more of the trail than it hands out
 *	plus the rows of other actions it skips (SQLite: on the indexes (t)
 *	and (account, t)). audit_trim deletes at most max of the oldest
 *	entries older than before (t < before) and sets *deleted to how many
 *	it deleted; a caller trims in small batches and calls again while a
 *	batch comes back full.
 *
 *	Thread-safety: one hj_store per thread, or a lock around it.
 */
#ifndef HJ_STORE_H
#define HJ_STORE_H

#include <stddef.h>
#include <stdint.h>

enum { STORE_OK = 0, STORE_NOTFOUND = 1, STORE_ERR = -1 };

#define STORE_NAME_MAX 320

typedef struct hj_lock_rec {
    char account[STORE_NAME_MAX];
    int64_t since;    /* when it was locked (epoch seconds) */
    int64_t until;    /* automatic unlock time, 0 = only an admin unlocks */
    char rule[64];    /* the rule, or "manual" */
    char actor[64];   /* "hijackd", or "uid 0" for a manual lock */
    char reason[512]; /* evidence summary or the admin's reason */
} hj_lock_rec;

typedef struct hj_audit_rec {
    int64_t t;
    char account[STORE_NAME_MAX];
    char action[16]; /* warn throttle lock unlock relay */
    char rule[64];
    char actor[64];
    const char *json; /* the decision with its evidence (borrowed on add, owned by the store) */
} hj_audit_rec;

typedef struct hj_store hj_store;

typedef struct hj_store_ops {
    int (*lock_put)(hj_store *st, const hj_lock_rec *rec, char *err, size_t errlen);
    int (*lock_get)(hj_store *st, const char *account, hj_lock_rec *out, char *err, size_t errlen);
    int (*lock_del)(hj_store *st, const char *account, char *err, size_t errlen);
    int (*lock_walk)(hj_store *st, int (*fn)(void *ctx, const hj_lock_rec *rec), void *ctx,
                     char *err, size_t errlen);
    int (*audit_add)(hj_store *st, const hj_audit_rec *rec, char *err, size_t errlen);
    int (*audit_walk)(hj_store *st, const char *account, int64_t since,
                      int (*fn)(void *ctx, const hj_audit_rec *rec), void *ctx, char *err,
                      size_t errlen);
    int (*audit_recent)(hj_store *st, const char *account, int64_t since, const char *action,
                        size_t max, int (*fn)(void *ctx, const hj_audit_rec *rec), void *ctx,
                        char *err, size_t errlen);
    int (*audit_trim)(hj_store *st, int64_t before, size_t max, size_t *deleted, char *err,
                      size_t errlen);
    /*
     * Counters: one opaque blob per key ("a:alice@example.com"), written in
     * batches: counters_begin, any number of counters_put / counters_del,
     * counters_commit (durable when it returns STORE_OK; on STORE_ERR the
     * whole batch is rolled back). counters_walk hands every blob to fn at
     * start-up. A blob is at most STORE_BLOB_MAX bytes.
     */
    int (*counters_begin)(hj_store *st, char *err, size_t errlen);
    int (*counters_put)(hj_store *st, const char *key, const void *blob, size_t len, char *err,
                        size_t errlen);
    int (*counters_del)(hj_store *st, const char *key, char *err, size_t errlen);
    int (*counters_commit)(hj_store *st, char *err, size_t errlen);
    int (*counters_walk)(hj_store *st,
                         int (*fn)(void *ctx, const char *key, const void *blob, size_t len),
                         void *ctx, char *err, size_t errlen);
    void (*close)(hj_store *st);
} hj_store_ops;

#define STORE_BLOB_MAX (4 * 1024 * 1024)

struct hj_store {
    const hj_store_ops *ops;
    const char *name; /* "memory", "sqlite" */
    void *priv;
};

hj_store *store_open(const char *spec, char *err, size_t errlen);
/* for backends: format a message into err (err may be NULL) */
void store_errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void store_close(hj_store *st);

/* backends (one per file); each returns NULL with a message in err on failure */
hj_store *store_mem_open(const char *arg, char *err, size_t errlen);
hj_store *store_sqlite_open(const char *path, char *err, size_t errlen);
void store_mem_set_fail(hj_store *st, int fail); /* memory store only: every call fails */

#endif
