/*
 * event - what the engine is told: one struct for every kind of input event
 *
 * DESCRIPTION
 *	Adapters (the policy service, the log reader, the milter) fill an
 *	hj_event and pass it to engine_event(). Every string is borrowed:
 *	NUL-terminated, owned by the caller, valid for the duration of the
 *	call only; NULL or "" both mean "unknown". Time comes with the event
 *	(t: seconds since the epoch, tzoff: the source's offset east of UTC,
 *	kept so decisions print the wall clock the log showed).
 *
 *	HJ_EV_LOGIN       successful SMTP AUTH: account, client, service, sasl_method
 *	HJ_EV_LOGIN_FAIL  failed SMTP AUTH: account when known, client
 *	HJ_EV_SUBMIT      a message accepted from an authenticated account:
 *	                  queue_id, account, client, sender, rcpts/nrcpt, size,
 *	                  helo, message_id when known; with more_rcpts set, more
 *	                  recipients of a message counted before (not a new message)
 *	HJ_EV_DELIVERY    one recipient's delivery outcome (status, dsn, relay);
 *	                  account is the submitter when known
 *	HJ_EV_RELAY       unauthenticated mail from an outside sender delivered
 *	                  to an outside domain: client, sender, rcpt
 *	HJ_EV_REJECT      the server refused a recipient or message (not counted
 *	                  as sent mail; kept for evidence)
 *	HJ_EV_SPAM        an anti-spam engine's verdict on a message an account
 *	                  sent (the milter's scan, rspamd's exporter): account,
 *	                  queue_id, client, sender, service; spam (HJ_SPAM_SPAM or
 *	                  HJ_SPAM_SUSPECT: clean mail is not an event), the engine's
 *	                  score and threshold, its symbols ("NAME(score) ...") and
 *	                  the message's subject as the decision's evidence. Feeds the spam and
 *	                  spam_suspect metrics; the message itself was counted by
 *	                  its HJ_EV_SUBMIT.
 */
#ifndef HJ_EVENT_H
#define HJ_EVENT_H

#include <stddef.h>
#include <stdint.h>

typedef enum hj_event_type {
    HJ_EV_LOGIN,
    HJ_EV_LOGIN_FAIL,
    HJ_EV_SUBMIT,
    HJ_EV_DELIVERY,
    HJ_EV_RELAY,
    HJ_EV_REJECT,
    HJ_EV_SPAM,
    HJ_EV__COUNT
} hj_event_type;

typedef enum hj_dlv_status {
    HJ_DLV_SENT,
    HJ_DLV_BOUNCED,
    HJ_DLV_DEFERRED,
    HJ_DLV_EXPIRED,
    HJ_DLV_OTHER
} hj_dlv_status;

typedef enum hj_spam_class { HJ_SPAM_NONE, HJ_SPAM_SUSPECT, HJ_SPAM_SPAM } hj_spam_class;

typedef struct hj_event {
    hj_event_type type;
    int64_t t;
    int32_t tzoff;
    const char *account;
    const char *client_ip;
    const char *client_name;
    const char *service;
    const char *sasl_method;
    const char *queue_id;
    const char *sender;
    const char *const *rcpts; /* the recipient addresses when known */
    size_t nrcpts;            /* entries in rcpts */
    int64_t nrcpt;            /* recipient count (a Bcc blast to 10 = 10) */
    int64_t size;
    int more_rcpts; /* SUBMIT: more recipients of a message already counted (RCPT-stage counting) */
    const char *helo;
    const char *message_id;
    const char *rcpt;      /* DELIVERY, RELAY, REJECT */
    const char *orig_rcpt; /* DELIVERY: orig_to */
    const char *relay;     /* DELIVERY */
    const char *dsn;       /* DELIVERY, REJECT */
    hj_dlv_status status;  /* DELIVERY */
    hj_spam_class spam;    /* SPAM */
    double spam_score, spam_threshold;
    const char *spam_symbols;
    const char *spam_subject; /* SPAM: the message's Subject:, evidence only */
} hj_event;

#endif
