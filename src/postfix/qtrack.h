/*
 * qtrack - follow Postfix queue IDs from client= to removed, emit engine events
 *
 * SYNOPSIS
 *	qtrack *qtrack_new(const qtrack_conf *conf, qtrack_event_fn fn, void *ctx);
 *	void qtrack_line(qtrack *q, const hj_logline *l, const pf_rec *r);
 *	void qtrack_stats(const qtrack *q, qtrack_counts *out);
 *	void qtrack_free(qtrack *q);
 *
 * DESCRIPTION
 *	Joins the lines of one message: smtpd "client=" (client, SASL user),
 *	cleanup "message-id=", qmgr "from=, size=, nrcpt=" (the submission is
 *	counted here, once per queue ID), each delivery agent's "to=" line, and
 *	qmgr "removed", which forgets the message. It emits, through fn:
 *	  HJ_EV_LOGIN       at client= with a sasl_username
 *	  HJ_EV_LOGIN_FAIL  at each SASL authentication failure
 *	  HJ_EV_SUBMIT      at the first qmgr "queue active" of an authenticated
 *	                    message (pickup, DSNs and inbound mail are not submissions)
 *	  HJ_EV_DELIVERY    at each to= line (account set when the submitter is known)
 *	  HJ_EV_RELAY       at each final to= line (sent or bounced) of mail that
 *	                    arrived over SMTP without AUTH from a sender outside the
 *	                    local domains, delivered by smtp to an outside domain,
 *	                    and not a forward (orig_to= of a local domain)
 *	  HJ_EV_REJECT      at each reject
 *	  HJ_EV_SPAM        at a milter-reject at END-OF-MESSAGE of an authenticated
 *	                    message whose text holds conf->spam_reject_text (hijackd's
 *	                    own milter refused it as spam: class spam, no score), only
 *	                    when that is set (replay; never the live follower, where
 *	                    the milter's verdicts come first-hand)
 *	Local domains come from conf->local_domains; when that is empty they
 *	are learned from the log: the domains of SASL logins and of mail
 *	delivered by local, virtual and lmtp.
 *
 *	Memory is bounded: a message whose "removed" never comes is forgotten
 *	conf->lifetime seconds (of log time) after its last line, and at most
 *	conf->max_tracked messages are followed (the oldest are forgotten
 *	first). About 250 bytes per message in flight.
 *	Not thread-safe. Memory failure is fatal.
 */
#ifndef HJ_QTRACK_H
#define HJ_QTRACK_H

#include <stddef.h>
#include <stdint.h>

#include "../engine/event.h"
#include "logparse.h"

typedef struct qtrack qtrack;
typedef void (*qtrack_event_fn)(void *ctx, const hj_event *ev);

typedef struct qtrack_conf {
    int64_t lifetime;     /* forget unfinished messages after this (s) */
    size_t max_tracked;   /* messages followed at once */
    char **local_domains; /* lower-case; empty = learn from the log */
    size_t nlocal;
    const char *spam_reject_text; /* NULL or "": no verdicts from the log */
} qtrack_conf;

typedef struct qtrack_counts {
    int64_t in_flight; /* messages followed now */
    int64_t forgotten; /* unfinished messages dropped by age or by the cap */
    int64_t orphans;   /* lines for a queue ID never seen arriving */
    int64_t submissions, logins, login_failures, deliveries, relayed, rejects, spam_rejects;
    int64_t learned_domains;
} qtrack_counts;

qtrack *qtrack_new(const qtrack_conf *conf, qtrack_event_fn fn, void *ctx);
void qtrack_line(qtrack *q, const hj_logline *l, const pf_rec *r);
void qtrack_sweep(qtrack *q, int64_t now);
void qtrack_stats(const qtrack *q, qtrack_counts *out);
void qtrack_free(qtrack *q);

#endif
