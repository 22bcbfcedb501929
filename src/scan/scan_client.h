/*
 * scan_client - one anti-spam scanner (rspamd or spamd) asked asynchronously on a libevent loop
 *
 * SYNOPSIS
 *	scan_client *scan_client_new(struct event_base *base, const scan_config *cfg,
 *	                             char *err, size_t errlen);
 *	void scan_submit(scan_client *c, const char *msg, size_t len,
 *	                 const scan_envelope *env, scan_done_fn fn, void *arg);
 *	void scan_client_stats(const scan_client *c, scan_stats *st);
 *	void scan_client_free(scan_client *c);
 *
 * DESCRIPTION
 *	scan_client_new() reads cfg->spec (scan_target_parse()) and copies
 *	cfg: NULL with a message in err for a bad one. Nothing connects yet.
 *
 *	scan_submit() never blocks and never calls fn before it returns: fn
 *	runs exactly once per submit, from the loop, with the verdict (valid
 *	during the call only). Each scan is one TCP connection: connect, the
 *	request (scan_request.h) with a copy of the message, the reply read
 *	to its Content-Length or the end (at most SCAN_MAX_REPLY bytes), parsed
 *	by scan_parse.h. It is unscanned instead, without connecting, when
 *	the message is over cfg->max_size (SCAN_R_TOO_BIG), when max_inflight
 *	scans are in flight (SCAN_R_BUSY), or while the breaker is open
 *	(SCAN_R_BREAKER_OPEN); and, once tried, on no whole reply within
 *	timeout_ms of the submit (SCAN_R_TIMEOUT: the connection is dropped),
 *	a refused connection (SCAN_R_REFUSED), an error after it
 *	(SCAN_R_IO), or a reply not understood (SCAN_R_BAD_REPLY).
 *
 *	The breaker: breaker_failures consecutive failed scans (timeout,
 *	refused, io, bad reply; 0 = never) open it for breaker_ms; the first
 *	submit after that is the one probe (half-open; others meanwhile get
 *	SCAN_R_BREAKER_OPEN): a verdict closes it, a failure opens it again.
 *	Each change calls cfg->on_state (if set) before the fn of the scan
 *	that caused it, with the verdict that did (the front end logs one
 *	line per change and counts them); on_state must not free the client.
 *
 *	scan_client_free() finishes each scan still pending with
 *	SCAN_R_SHUTDOWN (its fn runs inside the call; a submit from such an fn
 *	is finished the same way) and frees everything. fn may free the client
 *	when it is not inside scan_client_free(). One thread: the loop's.
 */
#ifndef HJ_SCAN_CLIENT_H
#define HJ_SCAN_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "scan.h"
#include "scan_request.h"

struct event_base;

typedef struct scan_client scan_client;
typedef void (*scan_done_fn)(void *arg, const scan_verdict *v);
typedef void (*scan_state_fn)(void *arg, scan_breaker from, scan_breaker to,
                              const scan_verdict *why);

typedef struct scan_config {
    const char *spec;          /* spam_scanner: "rspamd:http://127.0.0.1:11333" */
    int64_t timeout_ms;        /* spam_scan_timeout */
    size_t max_size;           /* spam_scan_max_size, bytes */
    size_t max_inflight;       /* spam_scan_max_inflight */
    unsigned breaker_failures; /* spam_breaker_failures; 0 = no breaker */
    int64_t breaker_ms;        /* spam_breaker_seconds * 1000 */
    scan_rules rules;          /* spam_rspamd_classes, spam_suspect_percent */
    scan_state_fn on_state;
    void *state_arg;
} scan_config;

typedef struct scan_stats {
    uint64_t submitted;
    uint64_t cls[SCAN__NCLASS];        /* verdicts by class */
    uint64_t unscanned[SCAN_R__COUNT]; /* unscanned verdicts by reason */
    uint64_t breaker_opened;           /* times it went open */
    size_t inflight;                   /* connections now */
    scan_breaker breaker;
} scan_stats;

scan_client *scan_client_new(struct event_base *base, const scan_config *cfg, char *err,
                             size_t errlen);
void scan_submit(scan_client *c, const char *msg, size_t len, const scan_envelope *env,
                 scan_done_fn fn, void *arg);
void scan_client_stats(const scan_client *c, scan_stats *st);
void scan_client_free(scan_client *c);

#endif
