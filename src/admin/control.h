/*
 * control - hijackctl's unix control socket: one JSON request line in, one reply line out
 *
 * SYNOPSIS
 *	ctlsrv *ctlsrv_new(struct event_base *base, admin_env *A, const char *path, char *err,
 *	                   size_t errlen);
 *	void ctlsrv_free(ctlsrv *c);
 *
 * DESCRIPTION
 *	Listens on a unix socket (mode 0666: anyone may connect and look;
 *	the caller is identified with SO_PEERCRED, and only root or a member
 *	of admin_group may change things). A connection sends one JSON
 *	object and a newline (at most 64 KiB, within 10 s); the reply is one
 *	JSON object line: the command's body (cmds.c) plus "status", then
 *	the daemon closes. Malformed JSON: status 400, that connection only.
 *	Runs on the daemon's loop; ctlsrv_free() removes the socket file.
 */
#ifndef HJ_CONTROL_H
#define HJ_CONTROL_H

#include <event2/event.h>
#include <stddef.h>

#include "cmds.h"

typedef struct ctlsrv ctlsrv;

ctlsrv *ctlsrv_new(struct event_base *base, admin_env *A, const char *path, char *err, size_t errlen);
void ctlsrv_free(ctlsrv *c);

#endif
