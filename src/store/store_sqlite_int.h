/*
 * store_sqlite_int - what the SQLite backend's files share (store_sqlite.c, store_sqlite_audit.c)
 *
 * DESCRIPTION
 *	The connection's state, the prepared statements' numbers (their SQL
 *	is sq_sql[] in store_sqlite.c) and the helpers both files use. For
 *	these two files only; everyone else sees store.h.
 */
#ifndef HJ_STORE_SQLITE_INT_H
#define HJ_STORE_SQLITE_INT_H

#include <sqlite3.h>
#include <zlib.h>

#include "store.h"

#define SQ_PAGE 64 /* rows per page in a walk */

enum {
    SQ_LOCK_PUT,
    SQ_LOCK_GET,
    SQ_LOCK_DEL,
    SQ_LOCK_PAGE,
    SQ_AUDIT_ADD,
    SQ_AUDIT_PAGE,
    SQ_AUDIT_PAGE_ACCT,
    SQ_AUDIT_RECENT,
    SQ_AUDIT_RECENT_ACCT,
    SQ_AUDIT_TRIM,
    SQ_CTR_BEGIN,
    SQ_CTR_COMMIT,
    SQ_CTR_ROLLBACK,
    SQ_CTR_PUT,
    SQ_CTR_DEL,
    SQ_CTR_PAGE,
    SQ_NSTMT
};

typedef struct sq_store {
    hj_store st;
    sqlite3 *db;
    char *path;
    int sync_full;
    int in_batch; /* between counters_begin and counters_commit */
    int doomed;   /* a put or del of the open batch failed */
    sqlite3_stmt *stmt[SQ_NSTMT];
    z_stream *z;         /* the deflate state, kept from one put to the next */
    unsigned char *zbuf; /* the deflated blob */
    size_t zcap;
} sq_store;

int sq_fail(const sq_store *sq, const char *what, char *err, size_t errlen);
int sq_oom(const sq_store *sq, const char *what, char *err, size_t errlen);
void sq_done(sqlite3_stmt *s);
int sq_bind_str(sqlite3_stmt *st, int i, const char *s, size_t size);
int sq_col_str(sqlite3_stmt *st, int i, char *dst, size_t size);
int sq_write(sq_store *sq, sqlite3_stmt *s, int brc, const char *what, char *err, size_t errlen);

/* store_sqlite_audit.c: the audit trail's operations (see store.h) */
int sq_audit_add(hj_store *st, const hj_audit_rec *rec, char *err, size_t errlen);
int sq_audit_walk(hj_store *st, const char *account, int64_t since,
                  int (*fn)(void *ctx, const hj_audit_rec *rec), void *ctx, char *err,
                  size_t errlen);
int sq_audit_recent(hj_store *st, const char *account, int64_t since, const char *action,
                    size_t max, int (*fn)(void *ctx, const hj_audit_rec *rec), void *ctx, char *err,
                    size_t errlen);
int sq_audit_trim(hj_store *st, int64_t before, size_t max, size_t *deleted, char *err,
                  size_t errlen);

#endif
