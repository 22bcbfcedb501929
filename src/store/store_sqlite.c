/*
 * store_sqlite - the SQLite store backend, the embedded default (see store.h)
 *
 * SYNOPSIS
 *	hj_store *st = store_open("sqlite:/var/lib/hijackd/state.db", err, errlen);
 *	hj_store *st = store_open("sqlite:/var/lib/hijackd/state.db?sync=full", err, errlen);
 *
 * DESCRIPTION
 *	One database file (plus its -wal and -shm files in the same
 *	directory, which must be writable). Tables: locks (account primary
 *	key), audit (id, time, account, action, rule, actor, json) indexed
 *	on (account, t) and on t (their operations are in store_sqlite_audit.c;
 *	store_sqlite_int.h has what the two files share), and counters (key
 *	primary key, blob, updated: epoch seconds of the last put, raw_len:
 *	see below). The schema is
 *	created when missing, inside one transaction, and versioned with PRAGMA
 *	user_version (3); an older version is migrated in the same transaction
 *	(1 -> 2 adds the counters table, 2 -> 3 its raw_len column; a new
 *	database is created as version 1 and migrated, so both end up alike);
 *	a newer version, or a database of some other program (a foreign
 *	application_id, or tables but no version), is refused.
 *
 *	Counter blobs are stored deflated (raw deflate, level 1) when that makes them
 *	smaller, with raw_len = their size; otherwise as they are, with raw_len
 *	NULL (so the rows of a version 2 database read as they were). The
 *	engine's blobs are mostly zeros (about 2,000 bytes deflate to about
 *	130), so a flush of many accounts writes a fifteenth of the pages
 *	(docs/PERFORMANCE.md). A deflated blob that does not inflate to
 *	raw_len bytes fails counters_walk with STORE_ERR. The page cache is
 *	SQ_CACHE_KIB, so that the counters of many accounts are updated
 *	without reading their pages back from the file.
 *
 *	Durability: every write is one statement in autocommit mode, so it is
 *	committed before the call returns STORE_OK, except the counters
 *	writes between counters_begin (BEGIN IMMEDIATE: the write lock is
 *	taken at once) and counters_commit (COMMIT), which commit together
 *	when counters_commit returns STORE_OK. A counters_put or counters_del
 *	outside a batch is one autocommit statement like the other writes.
 *	Inside a batch, a put or del that fails dooms the batch: its later
 *	puts and dels fail without touching the file and counters_commit rolls
 *	it back and returns STORE_ERR, as it does when COMMIT fails; either
 *	way no batch is open afterwards. counters_begin inside a batch, or
 *	counters_commit outside one, is STORE_ERR and leaves the open batch as
 *	it was. lock_put, lock_del and audit_add called inside a batch join its
 *	transaction (committed, or rolled back, with it), and counters_walk
 *	inside one sees the batch's own changes (the memory store does not):
 *	call neither inside a batch. Closing the store with a batch open rolls
 *	it back. The journal is WAL with
 *	synchronous=NORMAL by default: a committed write is in the WAL file
 *	(in the kernel's page cache) and survives kill -9 of the process, but
 *	the last commits may be lost on power loss or a kernel crash.
 *	"?sync=full" fsyncs the WAL on every commit and survives those too,
 *	at the cost of one fsync per write ("?sync=normal" is the default).
 *	Another connection holding the write lock is waited for up to
 *	SQ_BUSY_MS, then the call fails with STORE_ERR.
 *
 *	Failures: a path that cannot be opened (missing directory, no
 *	permission, not a database, corrupt) makes store_sqlite_open return
 *	NULL with a message; any SQLite error in a call returns STORE_ERR with
 *	sqlite3_errmsg in err, never STORE_NOTFOUND. Statements are prepared
 *	once at open and reused. Strings are bound bounded (see store_mem.c
 *	for the rules both backends share: empty account refused, account
 *	keys cut at STORE_NAME_MAX - 1 bytes, NULL json stored as "") and
 *	cut to the record's field sizes when read back. Counter keys are
 *	stored whole (NULL or "" refused), a blob of more than STORE_BLOB_MAX
 *	bytes is refused, a NULL blob is allowed for 0 bytes, deleting a
 *	missing key is STORE_OK; counters_walk goes in key order and never
 *	passes a NULL blob. Walks read in pages of SQ_PAGE rows (counters_walk:
 *	a page also ends once it holds SQ_PAGE_BYTES of blobs) and call fn
 *	with no statement active, so a callback may write to the store (each
 *	write still commits at once, outside a batch); a walk that fails part
 *	way returns STORE_ERR after fn has seen the rows of the pages before.
 *	One connection; not thread-safe (opened with SQLITE_OPEN_NOMUTEX).
 */
#include "store.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <sqlite3.h>
#include <zlib.h>

#include "../util/alloc.h"
#include "store_sqlite_int.h"

#define SQ_SCHEMA 3                     /* PRAGMA user_version of this schema */
#define SQ_APPID 0x686a6b64             /* PRAGMA application_id: "hjkd" */
#define SQ_BUSY_MS 5000                 /* wait this long for another writer */
#define SQ_PAGE_BYTES (4 * 1024 * 1024) /* counters_walk: end a page past this many blob bytes */
#define SQ_CACHE_KIB 16384              /* PRAGMA cache_size, in KiB */
#define SQ_ZLEVEL 1                     /* deflate level of counter blobs: the fastest */
#define SQ_ZMEMLEVEL 5                  /* deflate's hash: 8 KiB to clear per blob, not 64 */


#define SQ_LOCK_COLS "account, since, until, rule, actor, reason"
#define SQ_AUDIT_COLS "id, t, account, action, rule, actor, json"

static const char *const sq_sql[SQ_NSTMT] = {
    [SQ_LOCK_PUT] = "INSERT INTO locks(" SQ_LOCK_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
                    " ON CONFLICT(account) DO UPDATE SET since = excluded.since,"
                    " until = excluded.until, rule = excluded.rule, actor = excluded.actor,"
                    " reason = excluded.reason",
    [SQ_LOCK_GET] = "SELECT " SQ_LOCK_COLS " FROM locks WHERE account = ?1",
    [SQ_LOCK_DEL] = "DELETE FROM locks WHERE account = ?1",
    [SQ_LOCK_PAGE] = "SELECT " SQ_LOCK_COLS " FROM locks WHERE account > ?1"
                     " ORDER BY account LIMIT ?2",
    [SQ_AUDIT_ADD] = "INSERT INTO audit(t, account, action, rule, actor, json)"
                     " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [SQ_AUDIT_PAGE] = "SELECT " SQ_AUDIT_COLS " FROM audit WHERE (t, id) > (?1, ?2)"
                      " ORDER BY t, id LIMIT ?3",
    [SQ_AUDIT_PAGE_ACCT] = "SELECT " SQ_AUDIT_COLS " FROM audit WHERE account = ?4"
                           " AND (t, id) > (?1, ?2) ORDER BY t, id LIMIT ?3",
    [SQ_AUDIT_RECENT] = "SELECT " SQ_AUDIT_COLS " FROM audit WHERE (t, id) < (?1, ?2)"
                        " AND t >= ?5 AND (?6 IS NULL OR action = ?6)"
                        " ORDER BY t DESC, id DESC LIMIT ?3",
    [SQ_AUDIT_RECENT_ACCT] = "SELECT " SQ_AUDIT_COLS " FROM audit WHERE account = ?4"
                             " AND (t, id) < (?1, ?2) AND t >= ?5 AND (?6 IS NULL OR action = ?6)"
                             " ORDER BY t DESC, id DESC LIMIT ?3",
    [SQ_AUDIT_TRIM] = "DELETE FROM audit WHERE id IN (SELECT id FROM audit WHERE t < ?1"
                      " ORDER BY t, id LIMIT ?2)",
    [SQ_CTR_BEGIN] = "BEGIN IMMEDIATE",
    [SQ_CTR_COMMIT] = "COMMIT",
    [SQ_CTR_ROLLBACK] = "ROLLBACK",
    [SQ_CTR_PUT] =
        "INSERT INTO counters(key, blob, updated, raw_len)"
        " VALUES (?1, ?2, CAST(strftime('%s', 'now') AS INTEGER), ?3)"
        " ON CONFLICT(key) DO UPDATE SET blob = excluded.blob, updated = excluded.updated,"
        " raw_len = excluded.raw_len",
    [SQ_CTR_DEL] = "DELETE FROM counters WHERE key = ?1",
    [SQ_CTR_PAGE] = "SELECT key, blob, raw_len FROM counters WHERE key > ?1 ORDER BY key LIMIT ?2",
};

/* version 1; sq_migrate_sql brings it to SQ_SCHEMA */
static const char sq_schema_sql[] =
    "CREATE TABLE locks(account TEXT PRIMARY KEY NOT NULL, since INTEGER NOT NULL,"
    " until INTEGER NOT NULL, rule TEXT NOT NULL, actor TEXT NOT NULL, reason TEXT NOT NULL);"
    "CREATE TABLE audit(id INTEGER PRIMARY KEY, t INTEGER NOT NULL, account TEXT NOT NULL,"
    " action TEXT NOT NULL, rule TEXT NOT NULL, actor TEXT NOT NULL, json TEXT NOT NULL);"
    "CREATE INDEX audit_account_t ON audit(account, t);"
    "CREATE INDEX audit_t ON audit(t);";

/* sq_migrate_sql[v] - the statements that turn version v into version v + 1 */
static const char *const sq_migrate_sql[SQ_SCHEMA] = {
    [1] = "CREATE TABLE counters(key TEXT PRIMARY KEY NOT NULL, blob BLOB NOT NULL,"
          " updated INTEGER);",
    [2] = "ALTER TABLE counters ADD COLUMN raw_len INTEGER;",
};


/* sq_fail - the connection's last error as "sqlite store PATH: what: errmsg"; STORE_ERR */
int
sq_fail(const sq_store *sq, const char *what, char *err, size_t errlen)
{
    store_errf(err, errlen, "sqlite store \"%.200s\": %s: %s", sq->path, what,
               sqlite3_errmsg(sq->db));
    return STORE_ERR;
}

/* sq_oom - "out of memory" reading a row (SQLite returned no text); STORE_ERR */
int
sq_oom(const sq_store *sq, const char *what, char *err, size_t errlen)
{
    store_errf(err, errlen, "sqlite store \"%.200s\": %s: out of memory reading a row", sq->path,
               what);
    return STORE_ERR;
}

/* sq_done - make a statement ready for its next use (drops borrowed bindings) */
void
sq_done(sqlite3_stmt *s)
{
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
}

/* sq_bind_str - bind at most size - 1 bytes of s (a record field of size bytes) */
int
sq_bind_str(sqlite3_stmt *st, int i, const char *s, size_t size)
{
    return sqlite3_bind_text(st, i, s, (int)strnlen(s, size - 1), SQLITE_STATIC);
}

/* sq_col_str - column i into dst[size], cut at size - 1 bytes; -1 when out of memory */
int
sq_col_str(sqlite3_stmt *st, int i, char *dst, size_t size)
{
    const unsigned char *p = sqlite3_column_text(st, i);
    size_t n = (size_t)sqlite3_column_bytes(st, i);

    if (p == NULL) {
        dst[0] = '\0';
        return sqlite3_column_type(st, i) == SQLITE_NULL ? 0 : -1;
    }
    if (n > size - 1)
        n = size - 1;
    memcpy(dst, p, n);
    dst[n] = '\0';
    return 0;
}

/* sq_read_lock - the current row of a SQ_LOCK_COLS statement; -1 when out of memory */
static int
sq_read_lock(sqlite3_stmt *s, hj_lock_rec *out)
{
    int rc = sq_col_str(s, 0, out->account, sizeof(out->account));

    out->since = sqlite3_column_int64(s, 1);
    out->until = sqlite3_column_int64(s, 2);
    rc |= sq_col_str(s, 3, out->rule, sizeof(out->rule));
    rc |= sq_col_str(s, 4, out->actor, sizeof(out->actor));
    rc |= sq_col_str(s, 5, out->reason, sizeof(out->reason));
    return rc;
}

/* sq_write - step a bound write statement to completion; STORE_OK once committed */
int
sq_write(sq_store *sq, sqlite3_stmt *s, int brc, const char *what, char *err, size_t errlen)
{
    int rc = brc == SQLITE_OK ? sqlite3_step(s) : brc;

    if (rc != SQLITE_DONE)
        sq_fail(sq, what, err, errlen);
    sq_done(s);
    return rc == SQLITE_DONE ? STORE_OK : STORE_ERR;
}

/* sq_lock_put - insert or replace (UPSERT) the lock for rec->account */
static int
sq_lock_put(hj_store *st, const hj_lock_rec *rec, char *err, size_t errlen)
{
    sq_store *sq = st->priv;
    sqlite3_stmt *s = sq->stmt[SQ_LOCK_PUT];
    int rc;

    if (rec == NULL || rec->account[0] == '\0') {
        store_errf(err, errlen, "sqlite store \"%.200s\": lock_put: empty account", sq->path);
        return STORE_ERR;
    }
    rc = sq_bind_str(s, 1, rec->account, sizeof(rec->account));
    rc |= sqlite3_bind_int64(s, 2, rec->since);
    rc |= sqlite3_bind_int64(s, 3, rec->until);
    rc |= sq_bind_str(s, 4, rec->rule, sizeof(rec->rule));
    rc |= sq_bind_str(s, 5, rec->actor, sizeof(rec->actor));
    rc |= sq_bind_str(s, 6, rec->reason, sizeof(rec->reason));
    return sq_write(sq, s, rc, "lock_put", err, errlen);
}

/* sq_lock_get - the lock for account into out, or STORE_NOTFOUND */
static int
sq_lock_get(hj_store *st, const char *account, hj_lock_rec *out, char *err, size_t errlen)
{
    sq_store *sq = st->priv;
    sqlite3_stmt *s = sq->stmt[SQ_LOCK_GET];
    int rc, ret = STORE_ERR;

    if (account == NULL || out == NULL) {
        store_errf(err, errlen, "sqlite store \"%.200s\": lock_get: no account or output record",
                   sq->path);
        return STORE_ERR;
    }
    rc = sq_bind_str(s, 1, account, STORE_NAME_MAX);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(s);
    if (rc == SQLITE_DONE)
        ret = STORE_NOTFOUND;
    else if (rc == SQLITE_ROW && sq_read_lock(s, out) == 0)
        ret = STORE_OK;
    else if (rc == SQLITE_ROW)
        sq_oom(sq, "lock_get", err, errlen);
    else
        sq_fail(sq, "lock_get", err, errlen);
    sq_done(s);
    return ret;
}

/* sq_lock_del - remove the lock for account, or STORE_NOTFOUND */
static int
sq_lock_del(hj_store *st, const char *account, char *err, size_t errlen)
{
    sq_store *sq = st->priv;
    sqlite3_stmt *s = sq->stmt[SQ_LOCK_DEL];
    int rc;

    if (account == NULL) {
        store_errf(err, errlen, "sqlite store \"%.200s\": lock_del: no account", sq->path);
        return STORE_ERR;
    }
    rc = sq_write(sq, s, sq_bind_str(s, 1, account, STORE_NAME_MAX), "lock_del", err, errlen);
    if (rc == STORE_OK && sqlite3_changes(sq->db) == 0)
        return STORE_NOTFOUND;
    return rc;
}

/* sq_lock_page - up to SQ_PAGE locks after *cursor into page; the count, or -1 */
static int
sq_lock_page(sq_store *sq, char **cursor, hj_lock_rec *page, char *err, size_t errlen)
{
    sqlite3_stmt *s = sq->stmt[SQ_LOCK_PAGE];
    int n = 0, rc = sqlite3_bind_text(s, 1, *cursor, -1, SQLITE_STATIC);

    rc |= sqlite3_bind_int(s, 2, SQ_PAGE);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(s);
    for (; rc == SQLITE_ROW; rc = sqlite3_step(s)) {
        const char *key = (const char *)sqlite3_column_text(s, 0);
        if (key == NULL || sq_read_lock(s, &page[n]) != 0) {
            n = sq_oom(sq, "lock_walk", err, errlen);
            break;
        }
        if (++n == SQ_PAGE) { /* the full key, not the cut copy, is the cursor */
            free(*cursor);
            *cursor = xstrdup(key);
        }
    }
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        n = sq_fail(sq, "lock_walk", err, errlen);
    sq_done(s);
    return n;
}

/* sq_lock_walk - call fn for every lock in account order, one page at a time */
static int
sq_lock_walk(hj_store *st, int (*fn)(void *ctx, const hj_lock_rec *rec), void *ctx, char *err,
             size_t errlen)
{
    sq_store *sq = st->priv;
    hj_lock_rec *page = xmalloc(SQ_PAGE * sizeof(*page));
    char *cursor = xstrdup("");
    int n, stop = 0;

    do {
        n = sq_lock_page(sq, &cursor, page, err, errlen);
        for (int i = 0; i < n && !stop; i++)
            stop = fn(ctx, &page[i]) != 0;
    } while (n == SQ_PAGE && !stop);
    free(page);
    free(cursor);
    return n < 0 ? STORE_ERR : STORE_OK;
}

/* sq_rollback - end the open transaction, if SQLite has not already rolled it back */
static void
sq_rollback(sq_store *sq)
{
    sqlite3_stmt *s = sq->stmt[SQ_CTR_ROLLBACK];

    if (sqlite3_get_autocommit(sq->db))
        return;
    if (sqlite3_step(s) != SQLITE_DONE && !sqlite3_get_autocommit(sq->db))
        sqlite3_exec(sq->db, "ROLLBACK", NULL, NULL, NULL); /* last resort */
    sq_done(s);
}

/* sq_counters_begin - open a batch: BEGIN IMMEDIATE */
static int
sq_counters_begin(hj_store *st, char *err, size_t errlen)
{
    sq_store *sq = st->priv;

    if (sq->in_batch) {
        store_errf(err, errlen, "sqlite store \"%.200s\": counters_begin: a batch is already open",
                   sq->path);
        return STORE_ERR;
    }
    if (sq_write(sq, sq->stmt[SQ_CTR_BEGIN], SQLITE_OK, "counters_begin", err, errlen) != STORE_OK)
        return STORE_ERR;
    sq->in_batch = 1;
    sq->doomed = 0;
    return STORE_OK;
}

/* sq_ctr_check - STORE_OK when a put (blob) or a del (del != 0) of key may go ahead */
static int
sq_ctr_check(const sq_store *sq, const char *what, const char *key, const void *blob, size_t len,
             int del, char *err, size_t errlen)
{
    const char *why = NULL;

    if (sq->in_batch && (sq->doomed || sqlite3_get_autocommit(sq->db)))
        why = "the batch already failed (commit rolls it back)";
    else if (key == NULL || key[0] == '\0')
        why = "empty key";
    else if (!del && blob == NULL && len > 0)
        why = "no blob";
    if (why != NULL) {
        store_errf(err, errlen, "sqlite store \"%.200s\": %s: %s", sq->path, what, why);
        return STORE_ERR;
    }
    if (!del && len > STORE_BLOB_MAX) {
        store_errf(err, errlen,
                   "sqlite store \"%.200s\": %s: blob of %zu bytes is over the limit of %d",
                   sq->path, what, len, STORE_BLOB_MAX);
        return STORE_ERR;
    }
    return STORE_OK;
}

/* sq_deflate - blob deflated into sq->zbuf: its size, or 0 when that is not smaller (or fails) */
static size_t
sq_deflate(sq_store *sq, const void *blob, size_t len)
{
    if (len < 64 || len > STORE_BLOB_MAX)
        return 0;
    if (sq->z == NULL) {
        sq->z = xcalloc(1, sizeof(*sq->z));
        if (deflateInit2(sq->z, SQ_ZLEVEL, Z_DEFLATED, -15, SQ_ZMEMLEVEL, Z_DEFAULT_STRATEGY) !=
            Z_OK) {
            free(sq->z);
            sq->z = NULL;
            return 0;
        }
    } else if (deflateReset(sq->z) != Z_OK) {
        return 0;
    }
    size_t bound = deflateBound(sq->z, (uLong)len);
    if (bound > sq->zcap)
        sq->zbuf = xrealloc(sq->zbuf, sq->zcap = bound);
    sq->z->next_in = (Bytef *)blob;
    sq->z->avail_in = (uInt)len;
    sq->z->next_out = sq->zbuf;
    sq->z->avail_out = (uInt)sq->zcap;
    if (deflate(sq->z, Z_FINISH) != Z_STREAM_END || sq->z->total_out >= len)
        return 0;
    return sq->z->total_out;
}

/* sq_inflate - the deflated blob p[n] into a new buffer of raw bytes; NULL if damaged */
static void *
sq_inflate(const void *p, size_t n, sqlite3_int64 raw)
{
    z_stream z = {0};
    unsigned char *out;
    int rc;

    if (raw <= 0 || raw > STORE_BLOB_MAX || p == NULL || inflateInit2(&z, -15) != Z_OK)
        return NULL;
    out = xmalloc((size_t)raw);
    z.next_in = (Bytef *)p;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)raw;
    rc = inflate(&z, Z_FINISH);
    inflateEnd(&z);
    if (rc != Z_STREAM_END || z.total_out != (uLong)raw || z.avail_in != 0) {
        free(out);
        return NULL;
    }
    return out;
}

/* sq_counters_put - insert or replace (UPSERT) the blob of key; in the batch, if one is open */
static int
sq_counters_put(hj_store *st, const char *key, const void *blob, size_t len, char *err,
                size_t errlen)
{
    sq_store *sq = st->priv;
    sqlite3_stmt *s = sq->stmt[SQ_CTR_PUT];
    int rc = sq_ctr_check(sq, "counters_put", key, blob, len, 0, err, errlen);

    if (rc == STORE_OK) {
        size_t zlen = sq_deflate(sq, blob, len);
        int brc = sqlite3_bind_text64(s, 1, key, strlen(key), SQLITE_STATIC, SQLITE_UTF8);
        /* a non-NULL pointer: a 0-byte blob, not SQL NULL */
        if (zlen > 0)
            brc |= sqlite3_bind_blob64(s, 2, sq->zbuf, zlen, SQLITE_STATIC) |
                   sqlite3_bind_int64(s, 3, (sqlite3_int64)len);
        else
            brc |= sqlite3_bind_blob64(s, 2, len > 0 ? blob : "", len, SQLITE_STATIC);
        rc = sq_write(sq, s, brc, "counters_put", err, errlen);
    }
    sq->doomed |= rc != STORE_OK && sq->in_batch;
    return rc;
}

/* sq_counters_del - remove the blob of key, STORE_OK when missing; in the open batch, if any */
static int
sq_counters_del(hj_store *st, const char *key, char *err, size_t errlen)
{
    sq_store *sq = st->priv;
    sqlite3_stmt *s = sq->stmt[SQ_CTR_DEL];
    int rc = sq_ctr_check(sq, "counters_del", key, NULL, 0, 1, err, errlen);

    if (rc == STORE_OK) {
        int brc = sqlite3_bind_text64(s, 1, key, strlen(key), SQLITE_STATIC, SQLITE_UTF8);
        rc = sq_write(sq, s, brc, "counters_del", err, errlen);
    }
    sq->doomed |= rc != STORE_OK && sq->in_batch;
    return rc;
}

/* sq_counters_commit - COMMIT the open batch; on failure ROLLBACK and STORE_ERR */
static int
sq_counters_commit(hj_store *st, char *err, size_t errlen)
{
    sq_store *sq = st->priv;
    int doomed = sq->doomed;

    if (!sq->in_batch) {
        store_errf(err, errlen, "sqlite store \"%.200s\": counters_commit: no batch is open",
                   sq->path);
        return STORE_ERR;
    }
    sq->in_batch = sq->doomed = 0;
    if (doomed)
        store_errf(err, errlen,
                   "sqlite store \"%.200s\": counters_commit: a put or del of the batch failed,"
                   " rolled back",
                   sq->path);
    else if (sq_write(sq, sq->stmt[SQ_CTR_COMMIT], SQLITE_OK, "counters_commit", err, errlen) ==
             STORE_OK)
        return STORE_OK;
    sq_rollback(sq);
    return STORE_ERR;
}

typedef struct sq_blob_page {
    int more; /* the page ended at its row or byte limit: there may be more rows */
    char *key[SQ_PAGE];
    void *blob[SQ_PAGE];
    size_t len[SQ_PAGE];
} sq_blob_page;

/* sq_blob_page_free - free the copies in the first n entries of page */
static void
sq_blob_page_free(sq_blob_page *page, int n)
{
    for (int i = 0; i < n; i++) {
        free(page->key[i]);
        free(page->blob[i]);
    }
}

/* sq_blob_row - copy the current row into page entry n, inflating a deflated blob; its raw
 * size, or -1 with a message (page entry n holds nothing then) */
static ssize_t
sq_blob_row(sq_store *sq, sqlite3_stmt *s, sq_blob_page *page, int n, char *err, size_t errlen)
{
    const char *key = (const char *)sqlite3_column_text(s, 0);
    const void *blob = sqlite3_column_blob(s, 1); /* NULL for 0 bytes, or out of memory */
    size_t len = (size_t)sqlite3_column_bytes(s, 1);

    if (key == NULL || (blob == NULL && (len > 0 || sqlite3_errcode(sq->db) == SQLITE_NOMEM))) {
        sq_oom(sq, "counters_walk", err, errlen);
        return -1;
    }
    if (sqlite3_column_type(s, 2) != SQLITE_NULL) { /* deflated */
        sqlite3_int64 raw = sqlite3_column_int64(s, 2);
        if ((page->blob[n] = sq_inflate(blob, len, raw)) == NULL) {
            store_errf(err, errlen,
                       "sqlite store \"%.200s\": counters_walk: the blob of %.200s is damaged"
                       " (does not inflate to %lld bytes)",
                       sq->path, key, (long long)raw);
            return -1;
        }
        len = (size_t)raw;
    } else {
        page->blob[n] = xmalloc(len);
        if (len > 0)
            memcpy(page->blob[n], blob, len);
    }
    page->key[n] = xstrdup(key);
    page->len[n] = len;
    return (ssize_t)len;
}

/* sq_counters_page - copy the rows after *cursor into page (moving *cursor); the count, or -1 */
static int
sq_counters_page(sq_store *sq, char **cursor, sq_blob_page *page, char *err, size_t errlen)
{
    sqlite3_stmt *s = sq->stmt[SQ_CTR_PAGE];
    size_t bytes = 0;
    int n = 0, rc = sqlite3_bind_text(s, 1, *cursor, -1, SQLITE_STATIC);

    rc |= sqlite3_bind_int(s, 2, SQ_PAGE);
    page->more = 0;
    if (rc == SQLITE_OK)
        rc = sqlite3_step(s);
    for (; rc == SQLITE_ROW; rc = sqlite3_step(s)) {
        ssize_t len = sq_blob_row(sq, s, page, n, err, errlen);
        if (len < 0) {
            sq_blob_page_free(page, n);
            n = -1;
            break;
        }
        bytes += (size_t)len;
        if (++n == SQ_PAGE || bytes >= SQ_PAGE_BYTES) {
            page->more = 1;
            free(*cursor);
            *cursor = xstrdup(page->key[n - 1]);
            break;
        }
    }
    if (n >= 0 && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        sq_blob_page_free(page, n);
        n = sq_fail(sq, "counters_walk", err, errlen);
    }
    sq_done(s);
    return n;
}

/* sq_counters_walk - call fn for every blob in key order, one page at a time */
static int
sq_counters_walk(hj_store *st, int (*fn)(void *ctx, const char *key, const void *blob, size_t len),
                 void *ctx, char *err, size_t errlen)
{
    sq_store *sq = st->priv;
    sq_blob_page *page = xmalloc(sizeof(*page));
    char *cursor = xstrdup("");
    int n, stop = 0;

    do {
        n = sq_counters_page(sq, &cursor, page, err, errlen);
        for (int i = 0; i < n && !stop; i++)
            stop = fn(ctx, page->key[i], page->blob[i], page->len[i]) != 0;
        sq_blob_page_free(page, n);
    } while (n > 0 && page->more && !stop);
    free(page);
    free(cursor);
    return n < 0 ? STORE_ERR : STORE_OK;
}

/* sq_close - finalize the statements and close the connection */
static void
sq_close(hj_store *st)
{
    sq_store *sq = st->priv;

    for (int i = 0; i < SQ_NSTMT; i++)
        sqlite3_finalize(sq->stmt[i]);
    sqlite3_close(sq->db);
    if (sq->z)
        deflateEnd(sq->z);
    free(sq->z);
    free(sq->zbuf);
    free(sq->path);
    free(sq);
}

static const hj_store_ops sq_ops = {
    .lock_put = sq_lock_put,
    .lock_get = sq_lock_get,
    .lock_del = sq_lock_del,
    .lock_walk = sq_lock_walk,
    .audit_add = sq_audit_add,
    .audit_walk = sq_audit_walk,
    .audit_recent = sq_audit_recent,
    .audit_trim = sq_audit_trim,
    .counters_begin = sq_counters_begin,
    .counters_put = sq_counters_put,
    .counters_del = sq_counters_del,
    .counters_commit = sq_counters_commit,
    .counters_walk = sq_counters_walk,
    .close = sq_close,
};

/* sq_parse_spec - split "PATH[?sync=normal|full]" into sq->path and options; 0 or -1 */
static int
sq_parse_spec(sq_store *sq, const char *spec, char *err, size_t errlen)
{
    const char *q = strchr(spec, '?');

    sq->path = xstrndup(spec, q ? (size_t)(q - spec) : strlen(spec));
    if (sq->path[0] == '\0') {
        store_errf(err, errlen, "sqlite store: no path (use sqlite:PATH)");
        return -1;
    }
    if (q == NULL || strcmp(q, "?sync=normal") == 0)
        return 0;
    if (strcmp(q, "?sync=full") == 0) {
        sq->sync_full = 1;
        return 0;
    }
    store_errf(err, errlen,
               "sqlite store \"%.200s\": unknown option \"%.100s\" (known: ?sync=normal,"
               " ?sync=full)",
               sq->path, q + 1);
    return -1;
}

/* sq_pragma_text - run a one-row statement and copy its first column into out[size] */
static int
sq_pragma_text(sq_store *sq, const char *sql, char *out, size_t size, char *err, size_t errlen)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(sq->db, sql, -1, &s, NULL);

    if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW)
        rc = sq_col_str(s, 0, out, size) == 0 ? SQLITE_OK : SQLITE_NOMEM;
    if (rc != SQLITE_OK)
        sq_fail(sq, sql, err, errlen);
    sqlite3_finalize(s);
    return rc == SQLITE_OK ? 0 : -1;
}

/* sq_pragma_int - run a one-row statement returning an integer into *out */
static int
sq_pragma_int(sq_store *sq, const char *sql, long *out, char *err, size_t errlen)
{
    char buf[32];

    if (sq_pragma_text(sq, sql, buf, sizeof(buf), err, errlen) != 0)
        return -1;
    *out = strtol(buf, NULL, 10);
    return 0;
}

/* sq_exec - run SQL with no result rows; 0 or -1 with a message */
static int
sq_exec(sq_store *sq, const char *sql, const char *what, char *err, size_t errlen)
{
    if (sqlite3_exec(sq->db, sql, NULL, NULL, NULL) == SQLITE_OK)
        return 0;
    sq_fail(sq, what, err, errlen);
    return -1;
}

/* sq_connect - open the file, set the busy timeout, WAL and the sync level */
static int
sq_connect(sq_store *sq, char *err, size_t errlen)
{
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    char mode[16];

#ifdef SQLITE_OPEN_EXRESCODE
    flags |= SQLITE_OPEN_EXRESCODE;
#endif
    if (sqlite3_open_v2(sq->path, &sq->db, flags, NULL) != SQLITE_OK) {
        int e = sq->db ? sqlite3_system_errno(sq->db) : 0;
        store_errf(err, errlen, "sqlite store \"%.200s\": cannot open: %s%s%s%s", sq->path,
                   sq->db ? sqlite3_errmsg(sq->db) : "out of memory", e ? " (" : "",
                   e ? strerror(e) : "", e ? ")" : "");
        return -1;
    }
    sqlite3_busy_timeout(sq->db, SQ_BUSY_MS);
    if (sq_pragma_text(sq, "PRAGMA journal_mode=WAL", mode, sizeof(mode), err, errlen) != 0)
        return -1;
    if (strcmp(mode, "wal") != 0) {
        store_errf(err, errlen, "sqlite store \"%.200s\": journal mode is %s, cannot use WAL",
                   sq->path, mode);
        return -1;
    }
    char cache[64];
    snprintf(cache, sizeof(cache), "PRAGMA cache_size=-%d", SQ_CACHE_KIB);
    if (sq_exec(sq, cache, "set cache_size", err, errlen) != 0)
        return -1;
    return sq_exec(sq, sq->sync_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL",
                   "set synchronous", err, errlen);
}

/* sq_schema_check - refuse other programs' databases and newer schemas; the version, or -1 */
static int
sq_schema_check(sq_store *sq, char *err, size_t errlen)
{
    long appid, ver, ntables;

    if (sq_pragma_int(sq, "PRAGMA application_id", &appid, err, errlen) != 0 ||
        sq_pragma_int(sq, "PRAGMA user_version", &ver, err, errlen) != 0 ||
        sq_pragma_int(sq, "SELECT count(*) FROM sqlite_master", &ntables, err, errlen) != 0)
        return -1;
    if ((appid != 0 && appid != SQ_APPID) || (ver == 0 && ntables > 0)) {
        store_errf(err, errlen, "sqlite store \"%.200s\": not a hijackd database", sq->path);
        return -1;
    }
    if (ver > SQ_SCHEMA) {
        store_errf(err, errlen,
                   "sqlite store \"%.200s\": schema version %ld is newer than this hijackd's (%d)",
                   sq->path, ver, SQ_SCHEMA);
        return -1;
    }
    return (int)ver;
}

/* sq_schema - create the tables when missing, or migrate an older version, in one transaction */
static int
sq_schema(sq_store *sq, char *err, size_t errlen)
{
    char sql[128];
    int ver, rc;

    if (sq_exec(sq, "BEGIN IMMEDIATE", "begin", err, errlen) != 0)
        return -1;
    ver = sq_schema_check(sq, err, errlen);
    rc = ver < 0 ? -1 : 0;
    if (ver == 0) /* a new database: version 1, then the migrations */
        rc = sq_exec(sq, sq_schema_sql, "create schema", err, errlen);
    for (int v = ver > 1 ? ver : 1; rc == 0 && v < SQ_SCHEMA; v++)
        rc = sq_exec(sq, sq_migrate_sql[v], "migrate schema", err, errlen);
    if (rc == 0 && ver < SQ_SCHEMA) {
        snprintf(sql, sizeof(sql), "PRAGMA user_version=%d; PRAGMA application_id=%d", SQ_SCHEMA,
                 SQ_APPID);
        rc = sq_exec(sq, sql, "set schema version", err, errlen);
    }
    if (rc == 0 && sq_exec(sq, "COMMIT", "commit schema", err, errlen) == 0)
        return 0;
    sqlite3_exec(sq->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

/* sq_prepare - prepare every statement once, for the life of the store */
static int
sq_prepare(sq_store *sq, char *err, size_t errlen)
{
    for (int i = 0; i < SQ_NSTMT; i++)
        if (sqlite3_prepare_v3(sq->db, sq_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &sq->stmt[i],
                               NULL) != SQLITE_OK) {
            sq_fail(sq, "prepare", err, errlen);
            return -1;
        }
    return 0;
}

/* store_sqlite_open - open (creating if needed) the database "PATH[?sync=...]" */
hj_store *
store_sqlite_open(const char *spec, char *err, size_t errlen)
{
    sq_store *sq = xcalloc(1, sizeof(*sq));

    sq->st.ops = &sq_ops;
    sq->st.name = "sqlite";
    sq->st.priv = sq;
    if (sq_parse_spec(sq, spec ? spec : "", err, errlen) != 0 || sq_connect(sq, err, errlen) != 0 ||
        sq_schema(sq, err, errlen) != 0 || sq_prepare(sq, err, errlen) != 0) {
        sq_close(&sq->st);
        return NULL;
    }
    return &sq->st;
}
