/*
 * decision - what the engine decided, with its evidence, and its two text forms
 *
 * SYNOPSIS
 *	void decision_json(const hj_decision *d, hj_buf *out);  one JSONL line
 *	void decision_text(const hj_decision *d, hj_buf *out);  one human line
 *
 * DESCRIPTION
 *	An hj_decision is handed to the engine's callback; every pointer in
 *	it is borrowed and valid only during the callback. The JSON form is
 *	the decision format of the README ("ts", "account", "action",
 *	"rule" first, then the evidence). Pure functions; thread-safe.
 */
#ifndef HJ_DECISION_H
#define HJ_DECISION_H

#include <stdint.h>

#include "../util/buf.h"
#include "../util/netaddr.h"
#include "event.h"
#include "policy.h"

#define DECISION_MAX_IPS 8

/* the signals of one message: which fired, their values, the message's score (signals.c) */
typedef struct hj_sigvals {
    uint32_t fired; /* bit per hj_signal */
    int64_t value[HJ_SIG__COUNT];
    int64_t score; /* sum of the fired signals' weights (0 below min_signals) */
} hj_sigvals;

typedef struct hj_decision {
    int64_t t;
    int32_t tzoff;
    hj_action action;
    hj_scope scope;
    const char *entity;    /* account, domain or IP; "" for the global scope */
    const hj_rule *rule;   /* NULL for manual and automatic unlocks */
    int64_t limit;         /* the effective limit (after overrides) */
    int64_t count;         /* the count that exceeded it */
    int64_t until;         /* throttle or hold end, or automatic unlock time, 0 = none */
    hj_ipclass evclass;    /* the source-IP class of the triggering event */
    int novel;             /* 1/0: from a network new to the account; -1: not judged */
    const char *client_ip; /* of the triggering event */
    const char *client_name;
    const char *queue_id;
    const char *sender;
    const char *service;
    const char *reason;            /* free text: "auto-unlock after 24h", ... */
    hj_addr ips[DECISION_MAX_IPS]; /* recent distinct client IPs of the entity */
    int nips;
    int64_t total_messages; /* of the entity, since first seen */
    int64_t total_recipients;
    const hj_sigvals *sig; /* the triggering message's signals, NULL when not scored */
    int escalated;         /* a lock soon after an automatic unlock: only an admin lifts it */
    hj_spam_class spam;    /* a content verdict triggered it: the engine's judgement */
    double spam_score, spam_threshold;
    const char *spam_symbols;
    const char *spam_subject;
} hj_decision;

void decision_json(const hj_decision *d, hj_buf *out);
void decision_text(const hj_decision *d, hj_buf *out);

#endif
