/*
 * milterfront - the milter front end: an MTA's milter session in, the core's verdicts out as
 * milter replies (Postfix smtpd_milters / non_smtpd_milters, Sendmail INPUT_MAIL_FILTER)
 *
 * SYNOPSIS
 *	milterfront *milterfront_new(core *C, struct event_base *base, char *err, size_t errlen);
 *	extern const miltersrv_ops milterfront_ops;     ctx: the milterfront
 *	void milterfront_counts(const milterfront *mf, void (*fn)(void *ctx, const char *stage,
 *	                        const char *reply, int64_t n), void *ctx);
 *	int milterfront_scans(const milterfront *mf);
 *	int64_t milterfront_scanner_down(const milterfront *mf, const char **why);
 *	void milterfront_scan_stats(const milterfront *mf, scan_stats *st, int64_t *held,
 *	                            int64_t not_held[SCAN_R__COUNT]);
 *	void milterfront_free(milterfront *mf);
 *
 * DESCRIPTION
 *	One session per milter connection (miltersrv.h). It negotiates (milter.h: version 6, the
 *	macro lists it needs per stage), keeps what it needs of each stage in fixed-size copies
 *	(the client's address and name, HELO, the sender, the login {auth_authen}, the queue ID
 *	{i}, the recipients taken, the message's size), and asks the core:
 *	  RCPT  a message without a login is not hijackd's business: ACCEPT (the MTA sends this
 *	        milter nothing more of it). Otherwise the account's state is read (not counted):
 *	        locked -> 550 + reject_text, throttled -> 450 + defer_text (the texts of the policy
 *	        service); else (held too) CONTINUE and the recipient is counted for the message.
 *	  end of message: the message is counted (core_msg: account, client, HELO, sender, queue
 *	        ID, recipients, size; service "milter") unless the policy service or this milter
 *	        already counted that queue ID (core.h); the verdict -> 550 / 450 as at RCPT, a
 *	        store failure -> store_error_action (dunno: CONTINUE, defer: 451 4.3.0), held (a
 *	        rule's action=hold) -> QUARANTINE with hold_text, where the MTA granted it (else it
 *	        passes, logged), then CONTINUE; a held message is not scanned. When it
 *	        goes on and a scanner is set (milterscan.h: spam_scan_mail), the message held
 *	        while it passed is handed to the scanner and the reply waits for its verdict:
 *	        spam -> spam_action, suspect -> spam_suspect_action (reject: 550 +
 *	        spam_reject_text; hold: QUARANTINE, where the MTA granted it, then CONTINUE; pass:
 *	        CONTINUE), clean and unscanned -> CONTINUE. The loop never waits for a scan: a
 *	        scan in flight whose message the MTA gives up on (ABORT, the connection closed)
 *	        is answered to nobody.
 *	ABORT forgets the message, QUIT_NC the SMTP session (the connection stays), QUIT ends it.
 *	A step the MTA was told needs no reply (MILTER_P_NR_*) gets none. A peer whose OPTNEG
 *	cannot be met (a version below 6) is logged and closed. Values from the MTA are the SMTP
 *	client's: cut to their buffers, control bytes replaced (policy_value()'s rule), never
 *	logged raw. Every reply is counted by stage and kind for /metrics (fixed tables).
 *	Single-threaded (the daemon's loop).
 */
#ifndef HJ_MILTERFRONT_H
#define HJ_MILTERFRONT_H

#include <stdint.h>

#include "../core/core.h"
#include "../scan/scan_client.h"
#include "miltersrv.h"

typedef struct milterfront milterfront;

struct event_base;
milterfront *milterfront_new(core *C, struct event_base *base, char *err, size_t errlen);
int milterfront_scans(const milterfront *mf);
int64_t milterfront_scanner_down(const milterfront *mf, const char **why); /* milterscan.h */
void milterfront_scan_stats(const milterfront *mf, scan_stats *st, int64_t *held,
                            int64_t not_held[SCAN_R__COUNT]);
extern const miltersrv_ops milterfront_ops;
void milterfront_counts(const milterfront *mf,
                        void (*fn)(void *ctx, const char *stage, const char *reply, int64_t n),
                        void *ctx);
void milterfront_free(milterfront *mf);

#endif
