/*
 * httpd - the daemon's HTTP side: /api/... (the admin commands), the dashboard, /metrics
 *
 * SYNOPSIS
 *	httpd *httpd_new(struct event_base *base, admin_env *A, char *err, size_t errlen);
 *	void httpd_free(httpd *h);
 *
 * DESCRIPTION
 *	libevent's evhttp on http_listen. /api/... needs a bearer token:
 *	http_token_read for GET, http_token_admin for everything (compared
 *	in constant time); none or a wrong one: 401, a read token on a
 *	change: 403 (cmds.c). Routes (docs/API.md): GET status, locked, top,
 *	decisions, history, exempt, account/NAME; POST lock, unlock, exempt,
 *	reload, queue with a JSON object body (at most 16 KiB: 413; not an
 *	object: 400). POST queue ({"op": "release"|"purge", "account"})
 *	answers 202 once the job is with the queue worker (purge.h), before
 *	postsuper runs; 503 when the worker is not running. Query parameters become members of the command request, as
 *	strings (but limit and window: whole numbers, else 400; a value
 *	that is not UTF-8: 400); a "cmd" parameter is ignored, the route
 *	names the command. A GET changes nothing, whatever its token and
 *	parameters: it runs as a reader.
 *	/metrics: Prometheus' text format (a token only with metrics_token).
 *	Anything else: a file of web_dir by its plain name (/ = index.html),
 *	.html .js .css .png .svg only. At most http_max_connections
 *	connections are open at once (idle ones too): one more is closed
 *	unread, counted (hijackd_http_refused_total) and logged at most once
 *	per 10 s. Runs on the daemon's loop.
 */
#ifndef HJ_HTTPD_H
#define HJ_HTTPD_H

#include <event2/event.h>
#include <stddef.h>

#include "cmds.h"

typedef struct httpd httpd;

httpd *httpd_new(struct event_base *base, admin_env *A, char *err, size_t errlen);
void httpd_free(httpd *h);

#endif
