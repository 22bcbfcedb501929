/*
 * logparse - understand one Postfix log message
 *
 * SYNOPSIS
 *	pf_kind logparse_postfix(const hj_logline *l, pf_rec *r);
 *	int logparse_is_postfix(const hj_logline *l);
 *
 * DESCRIPTION
 *	Turns the message of a Postfix line into a record: the fields a
 *	hijack detector needs from smtpd (client=, SASL failures, rejects),
 *	cleanup (message-id, rejects), qmgr (from/size/nrcpt, removed),
 *	the delivery agents (to=, orig_to=, relay=, dsn=, status=), bounce
 *	(DSN notifications) and pickup. Versions 3.4 to 3.10 are read:
 *	SASL failures with or without the user, "lost connection" with or
 *	without "NOQUEUE: ", short (hex) and long queue IDs, any syslog_name.
 *
 *	The result is PF_IGNORE for a line that was understood but carries
 *	nothing of interest (connect, TLS, statistics ...), PF_UNKNOWN for a
 *	Postfix line whose form is not known, and a record kind otherwise.
 *	logparse_is_postfix() tells a Postfix program (a known daemon name
 *	after a "/" in the program) from other programs' lines.
 *	Spans in r point into the line. Pure; thread-safe.
 */
#ifndef HJ_LOGPARSE_H
#define HJ_LOGPARSE_H

#include <stdint.h>

#include "../engine/event.h"
#include "logline.h"

typedef enum pf_kind {
    PF_IGNORE,
    PF_UNKNOWN,
    PF_CLIENT,     /* smtpd: qid client=name[ip], sasl_method, sasl_username */
    PF_AUTH_FAIL,  /* smtpd: SASL authentication failed */
    PF_REJECT,     /* smtpd/cleanup: a recipient or message refused */
    PF_DISCARD,    /* cleanup/smtpd: an accepted message that will not be delivered */
    PF_MSGID,      /* cleanup: message-id */
    PF_QFROM,      /* qmgr: from, size, nrcpt (queue active) */
    PF_REMOVED,    /* qmgr/postsuper: removed */
    PF_DELIVERY,   /* delivery agent: to, orig_to, relay, dsn, status */
    PF_DSN_NOTICE, /* bounce: notification queued as newqid */
    PF_PICKUP,     /* pickup: uid, from */
    PF__COUNT
} pf_kind;

typedef struct pf_rec {
    pf_kind kind;
    hj_span qid;
    hj_span client_name, client_ip;
    hj_span sasl_method, sasl_user;
    hj_span msgid;
    hj_span from, to, orig_to, relay, dsn, helo;
    hj_span reply; /* a reject's text after its code, before "; from=<" (milter-reject: its
                      milter's reply) */
    int64_t size, nrcpt;
    hj_dlv_status status;
    hj_span newqid;
    int local_agent; /* delivered by local, virtual or lmtp: a local mailbox */
    int smtp_agent;  /* delivered by smtp: to another server */
    int eom_reject;  /* smtpd refused the whole message at END-OF-MESSAGE (a policy service),
                        or cleanup did (a milter's verdict: milter-reject) */
} pf_rec;

int logparse_is_postfix(const hj_logline *l);
pf_kind logparse_postfix(const hj_logline *l, pf_rec *r);

#endif
