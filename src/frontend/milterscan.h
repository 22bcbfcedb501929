/*
 * milterscan - the milter's content scan: which mail, the message held for the scanner within
 * a global budget, and the scanner asked (src/scan/)
 *
 * SYNOPSIS
 *	milterscan *milterscan_new(struct event_base *base, core *C, char *err, size_t errlen);
 *	void milterscan_rcpt(milterscan *sc, mscan_msg *m, const char *account, const char *rcpt);
 *	void milterscan_add(milterscan *sc, mscan_msg *m, const char *p, size_t n);
 *	int milterscan_start(milterscan *sc, mscan_msg *m, const scan_envelope *env,
 *	                     scan_done_fn fn, void *arg);
 *	void milterscan_reset(milterscan *sc, mscan_msg *m);
 *	void milterscan_stats(const milterscan *sc, scan_stats *st, int64_t *held);
 *	void milterscan_core_spam(const scan_verdict *v, core_spam *out, char *symbols, size_t len);
 *	int64_t milterscan_down_since(const milterscan *sc, const char **why);
 *	void milterscan_free(milterscan *sc);
 *
 * DESCRIPTION
 *	milterscan_new() makes the scanner's client from spam_scanner and the spam_scan_*
 *	settings; NULL with err[0] == 0 when no scanner is set (nothing is scanned), NULL with a
 *	message on a bad setting. A message (mscan_msg, zeroed by the caller, one per session) is
 *	wanted for a scan by spam_scan_mail: milterscan_rcpt() notes each recipient taken (one
 *	outside local_domains, or the account's own domain when local_domains is empty, makes it
 *	external). milterscan_add() appends the message as it passes (headers as "name: value",
 *	CRLF, the body) while it is wanted, at most spam_scan_max_size + 1 bytes (more is "too
 *	big"), and only while all the messages held by all connections stay within
 *	spam_scan_buffer_max (beyond: "busy"). milterscan_start() at the end of a wanted message
 *	hands it to the client (which copies it) and returns 1: fn runs later, exactly once
 *	(scan_client.h); 0 when the message is not wanted, -1 when it was wanted but not held
 *	(m->refused: SCAN_R_TOO_BIG or SCAN_R_BUSY; the caller counts it as unscanned); fn runs
 *	only for 1. milterscan_reset() releases what a message held (end, abort, a new message).
 *	The settings are read from the core's running configuration (local_domains,
 *	spam_scan_mail) at each use; the client's (spam_scan_timeout, limits, breaker) at start.
 *	milterscan_core_spam() sets out's class, score, threshold and symbols (written into
 *	symbols: "NAME(score) ...", cut to len) from a scanner's verdict, for core_spam_verdict();
 *	the caller sets the envelope and the service. milterscan_down_since() is when the scanner's
 *	breaker left closed (time(NULL)), with what opened it in *why, or 0 while it is closed (sc
 *	may be NULL: no scanner). One loop, one thread; memory failure is fatal.
 */
#ifndef HJ_MILTERSCAN_H
#define HJ_MILTERSCAN_H

#include <stddef.h>
#include <stdint.h>

#include "../core/core.h"
#include "../scan/scan_client.h"
#include "../util/buf.h"

struct event_base;
typedef struct milterscan milterscan;

typedef struct mscan_msg {
    hj_buf b;       /* the message so far */
    int external;   /* a recipient outside the local domains */
    int refused;    /* not held: SCAN_R_TOO_BIG or SCAN_R_BUSY */
    size_t counted; /* bytes of b counted in the budget */
} mscan_msg;

milterscan *milterscan_new(struct event_base *base, core *C, char *err, size_t errlen);
void milterscan_rcpt(milterscan *sc, mscan_msg *m, const char *account, const char *rcpt);
void milterscan_add(milterscan *sc, mscan_msg *m, const char *p, size_t n);
int milterscan_start(milterscan *sc, mscan_msg *m, const scan_envelope *env, scan_done_fn fn,
                     void *arg);
void milterscan_reset(milterscan *sc, mscan_msg *m);
void milterscan_stats(const milterscan *sc, scan_stats *st, int64_t *held);
void milterscan_core_spam(const scan_verdict *v, core_spam *out, char *symbols, size_t len);
int64_t milterscan_down_since(const milterscan *sc, const char **why);
void milterscan_free(milterscan *sc);

#endif
