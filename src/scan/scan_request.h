/*
 * scan_request - what is sent to a scanner: the address, an rspamd /checkv2 or a spamd request
 *
 * SYNOPSIS
 *	int scan_target_parse(const char *spec, scan_target *t, char *err, size_t errlen);
 *	void scan_rspamd_request(hj_buf *out, const scan_target *t,
 *	                         const scan_envelope *env, size_t msglen);
 *	void scan_spamd_request(hj_buf *out, const scan_envelope *env, size_t msglen);
 *	const char *scan_value(const char *s, char *buf, size_t cap);
 *
 * DESCRIPTION
 *	scan_target_parse() reads the spam_scanner setting: "rspamd:http://
 *	HOST:PORT[/PATH]" (PATH defaults to /checkv2) or "spamd:HOST:PORT",
 *	HOST a numeric IPv4 address or [IPv6] (no name lookups: the loop must
 *	not block). 0, or -1 with a message in err.
 *
 *	The builders append the request's head to out; the message's bytes
 *	follow it as they are (msglen of them). rspamd: "POST PATH HTTP/1.0"
 *	with Host, Content-Length, and the envelope as the headers User (the
 *	SASL login), IP, Helo, From (the envelope sender), one Rcpt per
 *	recipient and Queue-Id, each left out when NULL or empty. spamd:
 *	"SYMBOLS SPAMC/1.5" with Content-length and User. Every value goes
 *	through scan_value(): cut to SCAN_MAX_VALUE bytes, each control byte
 *	(CR, LF, NUL, ... DEL) replaced by '?', so no value can end its header
 *	or start another; at most SCAN_MAX_RCPT recipients are named (the
 *	rest are not: rspamd then counts fewer). Pure; thread-safe.
 */
#ifndef HJ_SCAN_REQUEST_H
#define HJ_SCAN_REQUEST_H

#include <stddef.h>
#include <sys/socket.h>

#include "../util/buf.h"

#define SCAN_MAX_VALUE 320 /* an envelope value in a request header (an address is <= 256) */
#define SCAN_MAX_RCPT 1000

typedef enum scan_kind { SCAN_RSPAMD, SCAN_SPAMD } scan_kind;

typedef struct scan_target {
    scan_kind kind;
    char host[64]; /* as written: "127.0.0.1", "[::1]" (the Host: header) */
    unsigned port;
    char path[128]; /* rspamd only */
    struct sockaddr_storage sa;
    socklen_t salen;
} scan_target;

typedef struct scan_envelope {
    const char *user;     /* the SASL login */
    const char *ip;       /* the client's address */
    const char *helo;
    const char *from;     /* the envelope sender */
    const char *queue_id;
    const char *const *rcpt;
    size_t nrcpt;
} scan_envelope;

int scan_target_parse(const char *spec, scan_target *t, char *err, size_t errlen);
void scan_rspamd_request(hj_buf *out, const scan_target *t, const scan_envelope *env,
                         size_t msglen);
void scan_spamd_request(hj_buf *out, const scan_envelope *env, size_t msglen);
const char *scan_value(const char *s, char *buf, size_t cap);

#endif
