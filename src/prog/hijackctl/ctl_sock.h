/*
 * ctl_sock - hijackctl's one request and one answer over the daemon's control socket
 *
 * SYNOPSIS
 *	int ctl_sock_call(const char *path, json_t *req, json_t **body,
 *	                  char *err, size_t errlen);
 *	int ctl_sock_talk(const char *path, json_t *req, hj_buf *in,
 *	                  char *err, size_t errlen);
 *
 * DESCRIPTION
 *	ctl_sock_call() connects to the control socket at path, sends req as
 *	one compact JSON line, reads the answer line and parses it: with
 *	status 200, *body is the answer without "status" (the caller
 *	json_decref()s it); else *body is NULL. ctl_sock_talk() stops before
 *	the parsing: the raw answer line is appended to *in (a
 *	mailmsg_talk_fn, for mail-unlock).
 *
 *	Connecting, sending and the whole answer are each bounded by
 *	CTL_TIMEOUT seconds, an answer by CTL_REPLY_MAX bytes. Both return a
 *	CTL_ code (the program's exit status), and unless CTL_OK one line in
 *	err: CTL_DOWN no daemon, unreachable or silent; CTL_DENIED the socket
 *	refuses the caller, or an answer of 403; CTL_REFUSED another 4xx
 *	answer; CTL_FAIL a 5xx, a malformed or oversized answer, a socket
 *	error. Thread-safe; SIGPIPE is never raised (MSG_NOSIGNAL).
 */
#ifndef HJ_CTL_SOCK_H
#define HJ_CTL_SOCK_H

#include <stddef.h>

#include <jansson.h>

#include "../../util/buf.h"

/* hijackctl's exit statuses (hijackctl.c) */
enum { CTL_OK, CTL_REFUSED, CTL_USAGE, CTL_CONFIG, CTL_DOWN, CTL_DENIED, CTL_FAIL };

#define CTL_TIMEOUT 10            /* s: connect, send, and the whole answer */
#define CTL_REPLY_MAX (64u << 20) /* bytes: a longer answer is an error */

int ctl_sock_call(const char *path, json_t *req, json_t **body, char *err, size_t errlen);
int ctl_sock_talk(const char *path, json_t *req, hj_buf *in, char *err, size_t errlen);

#endif
