/*
 * policysrv - the Postfix policy service's sockets: listen, read requests, write answers
 *
 * SYNOPSIS
 *	policysrv *policysrv_new(struct event_base *base, const policysrv_conf *c,
 *	                         policysrv_fn fn, void *ctx, char *err, size_t errlen);
 *	void policysrv_stats(const policysrv *ps, policysrv_counts *out);
 *	void policysrv_allow(policysrv *ps, char *const *users, size_t nusers);
 *	void policysrv_free(policysrv *ps);
 *
 * DESCRIPTION
 *	Listens on TCP (host:port) or a unix socket (an absolute path, made
 *	with the configured mode; a stale socket file is replaced) and serves
 *	many long-lived connections at once from one libevent loop: Postfix
 *	keeps a connection per smtpd process and sends one request at a time.
 *	Each complete request (policy.h) is handed to fn, whose answer is
 *	written back; pipelined requests are answered in order. The answers
 *	of one read are sent at once with one send() when nothing is queued
 *	before them (no write event to add and remove per answer); what the
 *	socket does not take is queued in the connection's output buffer, and
 *	later answers go behind it.
 *
 *	Hostile or broken peers cost one connection, never the service: a
 *	malformed request is answered with c->parse_error_reply (if any) and
 *	the connection closed; a request over 64 KiB is malformed; a
 *	connection idle for c->idle_timeout, or with a request begun and not
 *	ended within c->request_timeout, is closed; beyond c->max_connections
 *	new connections are closed at once. Each of these logs one line.
 *	Memory per connection is bounded by the read watermark (about 68 KiB
 *	at worst, a few hundred bytes when idle).
 *
 *	Who may ask: on a unix socket, a connection is served only when its
 *	peer (SO_PEERCRED) is root, the daemon's own user, or one of
 *	c->allow_users (names or uids, looked up by policysrv_new() and by
 *	policysrv_allow() at reload, never per connection); anyone else is
 *	closed before a byte is read, counted in refused_peer and logged once
 *	per uid (the first PEERGATE_LOGGED uids; then one line saying
 *	that further ones are not logged). On TCP everyone who connects is
 *	served: policysrv_new() logs a warning that every local user may ask.
 *	Single-threaded: everything runs in the loop of base.
 */
#ifndef HJ_POLICYSRV_H
#define HJ_POLICYSRV_H

#include <stddef.h>
#include <stdint.h>

#include "../postfix/policy.h"

struct event_base;
typedef struct policysrv policysrv;

/* fn returns the length of the answer it wrote to out ("action=...\n\n") */
typedef size_t (*policysrv_fn)(void *ctx, const policy_req *req, char *out, size_t outlen);

typedef struct policysrv_conf {
    const char *listen; /* "host:port" or "/path/to/socket" */
    int socket_mode;
    int64_t idle_timeout, request_timeout; /* seconds */
    int64_t max_connections;
    const char *parse_error_reply; /* "action=DUNNO\n\n" or NULL to just close */
    char *const *allow_users;      /* unix socket: who (besides root) may ask */
    size_t nallow_users;
} policysrv_conf;


typedef struct policysrv_counts {
    int64_t connections_now, connections_total, requests;
    int64_t malformed, timeouts, refused_over_max, refused_peer;
} policysrv_counts;

policysrv *policysrv_new(struct event_base *base, const policysrv_conf *c, policysrv_fn fn,
                         void *ctx, char *err, size_t errlen);
void policysrv_stats(const policysrv *ps, policysrv_counts *out);
void policysrv_allow(policysrv *ps, char *const *users, size_t nusers);
void policysrv_free(policysrv *ps);

#endif
