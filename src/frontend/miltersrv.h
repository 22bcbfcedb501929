/*
 * miltersrv - the milter's sockets: listen, frame packets with the codec, hand each command to
 * the session, write its replies
 *
 * SYNOPSIS
 *	miltersrv *miltersrv_new(struct event_base *base, const miltersrv_conf *c,
 *	                         const miltersrv_ops *ops, void *ctx, char *err, size_t errlen);
 *	void miltersrv_allow(miltersrv *ms, char *const *users, size_t nusers);
 *	void miltersrv_send(miltersrv_conn *k, const char *data, size_t len);
 *	void miltersrv_stats(const miltersrv *ms, miltersrv_counts *out);
 *	void miltersrv_free(miltersrv *ms);
 *
 * DESCRIPTION
 *	Listens on TCP (host:port) or a unix socket (an absolute path, made with the configured
 *	mode) for the MTA's milter connections: Postfix opens one per smtpd (or cleanup, for
 *	non_smtpd_milters) process and keeps it for its SMTP sessions; Sendmail one per SMTP
 *	session. Each connection has a session of the caller's (ops->open at accept, ops->close
 *	when it ends, whatever the reason); every complete packet (milter.h) goes to
 *	ops->command, which appends its replies to out; the replies of one read are written at
 *	once. ops->command returns 0 to go on, or -1 to close the connection once out is written
 *	(a peer that broke the protocol: the caller has logged why). A reply that comes later (a
 *	scan's verdict at the end of a message) is written with miltersrv_send() on the handle
 *	ops->open was given, which is valid until ops->close returns.
 *
 *	Hostile or broken peers cost one connection, never the service: a packet the codec
 *	refuses (over c->max_packet, garbage, a field without its NUL) closes the connection with
 *	one log line naming the peer and the error; a connection idle for c->idle_timeout, or
 *	with a packet begun and not ended within c->packet_timeout, is closed (logged); beyond
 *	c->max_connections new connections are closed at once (logged, counted). Memory per
 *	connection is the codec's one packet (at most c->max_packet) and what the session keeps.
 *	Who may connect to a unix socket: root, hijackd's user and c->allow_users (peergate.h);
 *	on TCP everyone local may, and miltersrv_new() says so in the log.
 *	Single-threaded: everything runs in the loop of base.
 */
#ifndef HJ_MILTERSRV_H
#define HJ_MILTERSRV_H

#include <stddef.h>
#include <stdint.h>

#include "../milter/milter.h"
#include "../util/buf.h"

struct event_base;
typedef struct miltersrv miltersrv;
typedef struct mconn miltersrv_conn;

typedef struct miltersrv_ops {
    void *(*open)(void *ctx, const char *peer, miltersrv_conn *k);
    int (*command)(void *ctx, void *session, const milter_cmd *cmd, hj_buf *out);
    void (*close)(void *ctx, void *session);
} miltersrv_ops;

typedef struct miltersrv_conf {
    const char *listen; /* "host:port" or "/path/to/socket" */
    int socket_mode;
    int64_t idle_timeout, packet_timeout; /* seconds */
    int64_t max_connections;
    size_t max_packet;
    char *const *allow_users;
    size_t nallow_users;
} miltersrv_conf;

typedef struct miltersrv_counts {
    int64_t connections_now, connections_total, packets;
    int64_t malformed, timeouts, refused_over_max, refused_peer;
} miltersrv_counts;

miltersrv *miltersrv_new(struct event_base *base, const miltersrv_conf *c,
                         const miltersrv_ops *ops, void *ctx, char *err, size_t errlen);
void miltersrv_allow(miltersrv *ms, char *const *users, size_t nusers);
void miltersrv_send(miltersrv_conn *k, const char *data, size_t len);
void miltersrv_stats(const miltersrv *ms, miltersrv_counts *out);
void miltersrv_free(miltersrv *ms);

#endif
