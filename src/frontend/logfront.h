/*
 * logfront - the log front end: the followed Postfix log, line by line, into the core's events
 *
 * SYNOPSIS
 *	logfront *logfront_new(struct event_base *base, core *C);
 *	void logfront_stats(const logfront *lf, logfront_counts *out);
 *	void logfront_free(logfront *lf);
 *
 * DESCRIPTION
 *	When log_follow is set, follows that file (follow.c, polled every
 *	250 ms from the loop of base) and runs each new line through the
 *	replay's parser: logline_parse() (timestamp, host, program),
 *	logparse_postfix() and qtrack, which joins a message's lines by
 *	queue ID into events. Logins, failed logins, deliveries, relaying
 *	and rejects go to core_event(); a submission records its queue ID
 *	for the account, and is counted only with log_submissions = yes
 *	(for a Postfix that does not call the policy service: the policy
 *	front end counts it otherwise, and both would count it twice).
 *	Decisions from the log have no one to answer.
 *
 *	Each line is counted once, understood or not (a garbled line, another
 *	program's, a Postfix message it does not know): logfront_stats().
 *	logfront_new() returns NULL when log_follow is empty. The settings
 *	it reads (log_follow, queue_id_lifetime, queue_max_tracked,
 *	local_domains) take effect at the next restart.
 *	Single-threaded (the loop of base).
 */
#ifndef HJ_LOGFRONT_H
#define HJ_LOGFRONT_H

#include <stdint.h>

#include "../core/core.h"
#include "follow.h"

struct event_base;
typedef struct logfront logfront;

typedef struct logfront_counts {
    int64_t lines, not_understood;
    follow_counts follow;
} logfront_counts;

logfront *logfront_new(struct event_base *base, core *C);
void logfront_stats(const logfront *lf, logfront_counts *out);
void logfront_free(logfront *lf);

#endif
