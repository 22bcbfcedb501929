/*
 * recent - an account's recent recipients and queue IDs, for its incident
 *
 * SYNOPSIS
 *	recent *recent_new(void);
 *	void recent_add(recent *r, const char *account, const char *rcpt, const char *qid);
 *	size_t recent_rcpts(const recent *r, const char *account, const char **out, size_t max);
 *	size_t recent_qids(const recent *r, const char *account, const char **out, size_t max);
 *	void recent_free(recent *r);
 *
 * DESCRIPTION
 *	recent_add() notes one judged request of account: its recipient and
 *	its queue ID (NULL or "" for none). A request with neither, or with a
 *	recipient over RECENT_RCPT_LEN or a queue ID over RECENT_QID_LEN bytes,
 *	is ignored. A value equal to the latest of its kind noted for the
 *	account is not noted again (the END-OF-MESSAGE after the RCPT).
 *
 *	recent_rcpts() and recent_qids() put in out[] pointers to the last
 *	(at most max, and at most RECENT_RCPTS and RECENT_QIDS) of the account's
 *	recipients and queue IDs, oldest first, and return how many; they stay
 *	valid until the next recent_add() or recent_free().
 *
 *	The memory is fixed (about 10 MiB, one journal for all accounts: see
 *	recent.c), whatever the number of accounts; the oldest requests of
 *	all are forgotten first, about 100,000 requests back, so an account
 *	that sends keeps its history however many others send once.
 *	Not thread-safe (the daemon's loop). Allocation failure is fatal.
 */
#ifndef HJ_RECENT_H
#define HJ_RECENT_H

#include <stddef.h>

#define RECENT_RCPTS 10     /* recent recipients shown per account */
#define RECENT_QIDS 32      /* recent queue IDs kept per account */
#define RECENT_RCPT_LEN 320 /* longer recipients are not noted */
#define RECENT_QID_LEN 64   /* longer queue IDs are not noted */

typedef struct recent recent;

recent *recent_new(void);
void recent_add(recent *r, const char *account, const char *rcpt, const char *qid);
size_t recent_rcpts(const recent *r, const char *account, const char **out, size_t max);
size_t recent_qids(const recent *r, const char *account, const char **out, size_t max);
void recent_free(recent *r);

#endif
