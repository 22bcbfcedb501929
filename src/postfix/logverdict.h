/*
 * logverdict - hijackd's own "spam verdict {JSON}" log line, read back by replay
 *
 * SYNOPSIS
 *	int logverdict_is(const hj_logline *l);
 *	int logverdict_parse(const hj_logline *l, lv_rec *out);
 *
 * DESCRIPTION
 *	The daemon logs one line per anti-spam verdict (core.h,
 *	core_spam_verdict): program "hijackd", message "spam verdict " and a
 *	JSON object with class, score, threshold, account, queue_id,
 *	client_ip, sender, service, symbols, subject and, for a queue ID that had a
 *	verdict before, "repeated": true. logverdict_is() says whether a line
 *	is one; logverdict_parse() reads it into out (every string copied,
 *	cut to its field's room) and returns 0, or -1 for a line that
 *	is not such an object, has no account, or a class it does not know
 *	(out is then cleared). Anyone who can write to syslog can forge such
 *	a line: only replay reads them, never the live follower.
 *	The line is bounded by its reader (lineread); jansson parses the
 *	object. Pure but for jansson's allocations; thread-safe.
 */
#ifndef HJ_LOGVERDICT_H
#define HJ_LOGVERDICT_H

#include "../engine/event.h"
#include "logline.h"

typedef struct lv_rec {
    hj_spam_class cls; /* HJ_SPAM_NONE: clean or unscanned (counts nothing) */
    int repeated;
    double score, threshold;
    char account[320], queue_id[64], client_ip[64], sender[320], service[32], symbols[400];
    char subject[200];
} lv_rec;

int logverdict_is(const hj_logline *l);
int logverdict_parse(const hj_logline *l, lv_rec *out);

#endif
