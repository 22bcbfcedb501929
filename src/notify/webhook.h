/*
 * webhook - POST each incident as JSON to HTTP(S) receivers, through a spool
 *
 * SYNOPSIS
 *	void webhook_global_init(void);
 *	webhook *webhook_open(const webhook_conf *c, char *err, size_t errlen);
 *	int webhook_send(webhook *w, const char *incident_json, int64_t now);
 *	void webhook_stats(webhook *w, struct spool_stats *out);
 *	void webhook_close(webhook *w);
 *
 * DESCRIPTION
 *	webhook_send() puts one spool job per URL (kind "hook0", "hook1", ...
 *	by the URL's index in c->urls) holding the incident JSON as given,
 *	and returns: it never waits for the network (see spool.h for what it
 *	does wait for: writing a small file). The incident is an object with
 *	at least "summary" (one line of text), "account", "action", "rule"
 *	and "ts"; webhook_send() does not parse it. It returns 0, or -1 if
 *	any job could not be written (logged by the spool).
 *
 *	The spool's worker POSTs each job with libcurl, one request at a
 *	time, reusing one connection per URL:
 *	    WEBHOOK_JSON   the incident as it is;
 *	    WEBHOOK_SLACK  {"text": <summary>, "username": "hijackd"}, which
 *	                   Slack and Mattermost incoming webhooks accept, the
 *	                   summary's &, < and > escaped as &amp; &lt; &gt;
 *	                   (no <!channel>, mention or link from a name) (a
 *	                   job that is not JSON or has no string "summary"
 *	                   is dropped with a log line).
 *	Headers: Content-Type: application/json, User-Agent: hijackd/<version>
 *	(c->version, HJ_VERSION if NULL). Redirects are not followed, only
 *	http and https are allowed, c->timeout bounds the whole request.
 *	A 2xx answer is delivered. A 4xx other than 408 and 429 drops the
 *	job (the receiver refuses it; retrying will not help). Anything
 *	else - 1xx/3xx/5xx, 408, 429, timeout, connection refused, DNS - is
 *	retried with the spool's backoff, or after the answer's Retry-After
 *	(capped at retry_max) if it has one. Once a URL fails, its other jobs in the same
 *	batch are put back without a request. A job whose URL index is no
 *	longer configured (fewer URLs after a restart) is dropped.
 *	Failed attempts are logged with log_warn (the URL's index, scheme
 *	and host - not its path, which often holds a secret token - the HTTP
 *	status or curl error, and the attempt number), at most once a minute
 *	per URL; the next line says how many were not logged, and the first
 *	success after failures is logged with log_info.
 *
 *	webhook_open() warns (log_warn) of each plain http:// URL: incidents
 *	travel in clear to it.
 *
 *	webhook_close() aborts a request in progress (its job stays queued),
 *	stops the spool's worker and frees everything; the backlog stays on
 *	disk for the next webhook_open() on the same spool_dir.
 *	webhook_close(NULL) does nothing. The configuration is copied.
 *
 * THREADS
 *	libcurl needs curl_global_init() once, before any other thread
 *	exists: the program calls webhook_global_init() at start-up, from
 *	main(), before it starts threads. It is idempotent (pthread_once).
 *	webhook_open() calls it too, which is harmless after main() did, and
 *	safe on its own when no other thread uses libcurl or OpenSSL at that
 *	moment. webhook_send() and webhook_stats() may be called from one
 *	thread (the event loop) while the worker runs; webhook_open() and
 *	webhook_close() belong to the thread that owns w.
 *
 * DIAGNOSTICS
 *	webhook_open() returns NULL with a message in err when there is no
 *	URL, a URL is not http:// or https://, the timeout is not positive,
 *	or the spool cannot be opened. Nothing is fatal but running out of
 *	memory.
 */
#ifndef HJ_WEBHOOK_H
#define HJ_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

#include "spool.h"

enum { WEBHOOK_JSON, WEBHOOK_SLACK };

#define WEBHOOK_BATCH 16 /* jobs per spool batch */

typedef struct webhook_conf {
    char **urls; /* http:// or https:// */
    size_t nurls;
    int format;      /* WEBHOOK_JSON or WEBHOOK_SLACK */
    int64_t timeout; /* s: whole request, connect included */
    /* see spool_conf; a retry_max below retry_min is taken as retry_min */
    int64_t retry_min, retry_max, max_age;
    const char *spool_dir; /* e.g. state_dir/webhook */
    const char *version;   /* for the User-Agent; NULL = HJ_VERSION */
} webhook_conf;

typedef struct webhook webhook;

void webhook_global_init(void);
webhook *webhook_open(const webhook_conf *c, char *err, size_t errlen);
int webhook_send(webhook *w, const char *incident_json, int64_t now);
void webhook_stats(webhook *w, struct spool_stats *out);
void webhook_close(webhook *w);

#endif
