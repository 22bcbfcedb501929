/*
 * alert - the texts of notification mails: postmaster alerts, digests, user notices
 *
 * SYNOPSIS
 *	void alert_mail(const alert_conf *c, json_t *const *incs, const char *const *queue,
 *	                size_t n, hj_buf *out);
 *	void alert_notice(const alert_conf *c, json_t *inc, hj_buf *out);
 *	void alert_summary(json_t *inc, hj_buf *out);
 *	void alert_scanner(const alert_conf *c, json_t *inc, hj_buf *out);
 *	int alert_address_ok(const char *a);
 *
 * DESCRIPTION
 *	An incident is the JSON object the daemon writes when a decision
 *	alerts (notify.c): "account", "action", "rule", "ts", "host", the
 *	"decision" with its evidence, "recipients" (a recent sample),
 *	"token" and "token_expires" when reply-to-unlock is on, and more; a
 *	field that is missing is left out of the text.
 *
 *	alert_mail() appends a complete message for sendmail: headers
 *	(From, To, Reply-To when c->reply_to is set, Subject, MIME, Auto-
 *	Submitted: auto-generated, X-Hijackd-Incident), a blank line and a
 *	plain-text body. n == 1 is one incident's alert: what happened, why
 *	(rule, count over limit, signals), the evidence (client addresses,
 *	totals, sample recipients), queue[0] (what is queued for the account,
 *	a text the caller made, or NULL), the exact hijackctl commands to
 *	unlock, purge and look (the account one POSIX sh word after "--",
 *	in '...' with each ' as '\''; none at all for a name with a byte
 *	outside printable ASCII, which may not be pasted into a root shell:
 *	a newline, a bidirectional override), the reply-to-unlock token, and the decision's
 *	JSON. n > 1 is a digest: one subject counting the incidents and a
 *	shorter section per incident (its commands and token included).
 *	alert_notice() appends the user notice for inc from c->notice_template
 *	(placeholders as conf_notice_vars, and {subject}: the subject of the
 *	message an anti-spam verdict was about), addressed to the account; the
 *	mailer hands it a copy with the prompt template for a spam prompt.
 *	An alert about such a decision says what the engine judged: verdict,
 *	score, queue ID, subject and symbols.
 *	alert_address_ok() says whether an account name is one bare mail
 *	address that a notice may go to: local@domain, one '@', at most 254
 *	bytes, no blank, control byte, comma, angle bracket, quote or other
 *	special ()<>[],;:\" and only valid UTF-8 beyond ASCII. A name with
 *	',' or <...> would add recipients; such an account gets no notice.
 *	alert_scanner() appends the postmaster's mail about the anti-spam
 *	scanner (inc: state "down" or "up", since, scanner, why, host).
 *	alert_summary() appends one line for people ("hijackd@host: alice@x
 *	locked by score_lock (score 72 > 60 in 1h) from 203.0.113.66").
 *	Header values, and the account in the body's text, have control
 *	characters replaced (no header injection or forged line through an
 *	account name). Pure; thread-safe for distinct buffers.
 */
#ifndef HJ_ALERT_H
#define HJ_ALERT_H

#include <jansson.h>
#include <stddef.h>

#include "../util/buf.h"

typedef struct alert_conf {
    const char *from;            /* From: and envelope sender */
    const char *to;              /* the postmaster */
    const char *reply_to;        /* the unlock address, or "" */
    const char *notice_template; /* "Subject: ...\n\nbody" */
    const char *prompt_template; /* the outgoing spam prompt, the same form (mailer.c) */
    const char *contact;         /* {contact} */
} alert_conf;

void alert_mail(const alert_conf *c, json_t *const *incs, const char *const *queue, size_t n,
                hj_buf *out);
void alert_notice(const alert_conf *c, json_t *inc, hj_buf *out);
void alert_summary(json_t *inc, hj_buf *out);
void alert_scanner(const alert_conf *c, json_t *inc, hj_buf *out);
int alert_address_ok(const char *a);

#endif
