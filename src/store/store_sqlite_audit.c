/*
 * store_sqlite_audit - the SQLite backend's audit trail (see store.h, store_sqlite.c)
 *
 * SYNOPSIS
 *	st->ops->audit_add(st, &rec, err, errlen)
 *	st->ops->audit_walk(st, account, since, fn, ctx, err, errlen)        oldest first
 *	st->ops->audit_recent(st, account, since, action, max, fn, ctx, err, errlen)  newest first
 *	st->ops->audit_trim(st, before, max, &deleted, err, errlen)
 *
 * DESCRIPTION
 *	The table audit (id INTEGER PRIMARY KEY, t, account, action, rule,
 *	actor, json) with the indexes audit_t (t) and audit_account_t
 *	(account, t); both end in the rowid, so (t, id) is an index order
 *	in either direction. Walks read pages of at most SQ_PAGE rows after
 *	(audit_walk) or before (audit_recent) a cursor (t, id) and call fn
 *	with no statement active (a callback may write to the store).
 *	audit_recent asks each page for no more rows than it still has to
 *	hand out, so a read of the newest 50 of 300,000 entries reads 50
 *	rows from the index's end (plus, with an action, the rows of other
 *	actions between them). audit_trim is one statement: the oldest max
 *	rows with t < before, by the index on t, deleted in autocommit.
 */
#include "store_sqlite_int.h"

#include <stdlib.h>
#include <string.h>

#include "../util/alloc.h"

typedef struct sq_audit_cursor {
    const char *account; /* NULL: all */
    const char *action;  /* audit_recent: only this action, or NULL */
    int64_t since;       /* audit_recent: the oldest time read */
    int desc;            /* audit_recent: newest first */
    int64_t t, id;       /* the last row seen */
} sq_audit_cursor;

/* sq_audit_add - append rec to the audit trail */
int
sq_audit_add(hj_store *st, const hj_audit_rec *rec, char *err, size_t errlen)
{
    sq_store *sq = st->priv;
    sqlite3_stmt *s = sq->stmt[SQ_AUDIT_ADD];
    const char *json;
    int rc;

    if (rec == NULL) {
        store_errf(err, errlen, "sqlite store \"%.200s\": audit_add: no record", sq->path);
        return STORE_ERR;
    }
    json = rec->json ? rec->json : "";
    rc = sqlite3_bind_int64(s, 1, rec->t);
    rc |= sq_bind_str(s, 2, rec->account, sizeof(rec->account));
    rc |= sq_bind_str(s, 3, rec->action, sizeof(rec->action));
    rc |= sq_bind_str(s, 4, rec->rule, sizeof(rec->rule));
    rc |= sq_bind_str(s, 5, rec->actor, sizeof(rec->actor));
    rc |= sqlite3_bind_text64(s, 6, json, strlen(json), SQLITE_STATIC, SQLITE_UTF8);
    return sq_write(sq, s, rc, "audit_add", err, errlen);
}

/* sq_read_audit - the current row of a SQ_AUDIT_COLS statement; -1 when out of memory */
static int
sq_read_audit(sqlite3_stmt *s, sq_audit_cursor *c, hj_audit_rec *out)
{
    const char *json;
    int rc;

    c->id = sqlite3_column_int64(s, 0);
    c->t = out->t = sqlite3_column_int64(s, 1);
    rc = sq_col_str(s, 2, out->account, sizeof(out->account));
    rc |= sq_col_str(s, 3, out->action, sizeof(out->action));
    rc |= sq_col_str(s, 4, out->rule, sizeof(out->rule));
    rc |= sq_col_str(s, 5, out->actor, sizeof(out->actor));
    json = (const char *)sqlite3_column_text(s, 6);
    if (json == NULL && sqlite3_column_type(s, 6) != SQLITE_NULL)
        rc = -1;
    out->json = xstrndup(json ? json : "", (size_t)sqlite3_column_bytes(s, 6));
    return rc;
}

/* sq_audit_bind - the cursor's statement, bound for a page of at most want rows */
static sqlite3_stmt *
sq_audit_bind(sq_store *sq, const sq_audit_cursor *c, int want, int *rc)
{
    static const int which[2][2] = {{SQ_AUDIT_PAGE, SQ_AUDIT_PAGE_ACCT},
                                    {SQ_AUDIT_RECENT, SQ_AUDIT_RECENT_ACCT}};
    sqlite3_stmt *s = sq->stmt[which[c->desc][c->account != NULL]];

    *rc = sqlite3_bind_int64(s, 1, c->t);
    *rc |= sqlite3_bind_int64(s, 2, c->id);
    *rc |= sqlite3_bind_int(s, 3, want);
    if (c->account)
        *rc |= sq_bind_str(s, 4, c->account, STORE_NAME_MAX);
    if (c->desc) {
        *rc |= sqlite3_bind_int64(s, 5, c->since);
        *rc |= c->action ? sq_bind_str(s, 6, c->action, sizeof(((hj_audit_rec *)0)->action))
                         : sqlite3_bind_null(s, 6);
    }
    return s;
}

/* sq_audit_page - up to want (<= SQ_PAGE) rows past the cursor into page; the count, or -1 */
static int
sq_audit_page(sq_store *sq, sq_audit_cursor *c, int want, hj_audit_rec *page, char *err,
              size_t errlen)
{
    const char *what = c->desc ? "audit_recent" : "audit_walk";
    int n = 0, rc;
    sqlite3_stmt *s = sq_audit_bind(sq, c, want, &rc);

    if (rc == SQLITE_OK)
        rc = sqlite3_step(s);
    for (; rc == SQLITE_ROW; rc = sqlite3_step(s))
        if (sq_read_audit(s, c, &page[n++]) != 0)
            break;
    if (rc != SQLITE_DONE) {
        if (rc == SQLITE_ROW)
            sq_oom(sq, what, err, errlen);
        else
            sq_fail(sq, what, err, errlen);
        while (n > 0)
            free((char *)page[--n].json);
        n = -1;
    }
    sq_done(s);
    return n;
}

/* sq_audit_run - fn for the rows past the cursor, a page at a time, at most max of them */
static int
sq_audit_run(sq_store *sq, sq_audit_cursor *c, size_t max,
             int (*fn)(void *ctx, const hj_audit_rec *rec), void *ctx, char *err, size_t errlen)
{
    hj_audit_rec *page = xmalloc(SQ_PAGE * sizeof(*page));
    int n = 0, want, stop = 0;

    while (max > 0 && !stop) {
        want = max < SQ_PAGE ? (int)max : SQ_PAGE;
        n = sq_audit_page(sq, c, want, page, err, errlen);
        for (int i = 0; i < n; i++) {
            if (!stop)
                stop = fn(ctx, &page[i]) != 0;
            free((char *)page[i].json);
        }
        if (n < want)
            break;
        max -= (size_t)n;
    }
    free(page);
    return n < 0 ? STORE_ERR : STORE_OK;
}

/* sq_audit_walk - call fn for the entries of account (NULL: all) at or after since */
int
sq_audit_walk(hj_store *st, const char *account, int64_t since,
              int (*fn)(void *ctx, const hj_audit_rec *rec), void *ctx, char *err, size_t errlen)
{
    sq_audit_cursor c = {.account = account, .t = since, .id = INT64_MIN};

    return sq_audit_run(st->priv, &c, SIZE_MAX, fn, ctx, err, errlen);
}

/* sq_audit_recent - fn for at most max entries of account and action since, newest first */
int
sq_audit_recent(hj_store *st, const char *account, int64_t since, const char *action, size_t max,
                int (*fn)(void *ctx, const hj_audit_rec *rec), void *ctx, char *err, size_t errlen)
{
    sq_audit_cursor c = {account, action, since, 1, INT64_MAX, INT64_MAX};

    return sq_audit_run(st->priv, &c, max, fn, ctx, err, errlen);
}

/* sq_audit_trim - delete at most max of the oldest entries older than before */
int
sq_audit_trim(hj_store *st, int64_t before, size_t max, size_t *deleted, char *err, size_t errlen)
{
    sq_store *sq = st->priv;
    sqlite3_stmt *s = sq->stmt[SQ_AUDIT_TRIM];
    int rc = sqlite3_bind_int64(s, 1, before);

    *deleted = 0;
    rc |= sqlite3_bind_int64(s, 2, max > INT64_MAX ? INT64_MAX : (sqlite3_int64)max);
    rc = sq_write(sq, s, rc, "audit_trim", err, errlen);
    if (rc == STORE_OK)
        *deleted = (size_t)sqlite3_changes(sq->db);
    return rc;
}
