/*
 * control - hijackctl's unix control socket: one JSON request line in, one reply line out
 *
 * SYNOPSIS
 *	ctlsrv *ctlsrv_new(struct event_base *base, admin_env *A, const char *path, char *err,
 *	                   size_t errlen);
 *	void ctlsrv_free(ctlsrv *c);
 *
 * DESCRIPTION
 *	Listens on a unix socket (mode 0666: anyone may connect). The caller
 *	is identified with SO_PEERCRED: root and members of admin_group may
 *	change things and read; members of control_read_group may read
 *	(status, locked, show, history, decisions, top, exempt list,
 *	queue_accounts); anyone else gets 403 for every command but the
 *	ones cmds_open() names (unlock_token, from hijackctl mail-unlock in
 *	the MTA's pipe: the token is the authority). At most
 *	control_max_connections at once: beyond that a new connection is
 *	closed at once, logged once until one closes. A connection sends one JSON
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
