/*
 * mailmsg - reply-to-unlock: the unlock token and sender of a reply to an alert
 *
 * SYNOPSIS
 *	int mailmsg_parse(const char *msg, size_t len, mailmsg_info *out,
 *	                  char *err, size_t errlen);
 *
 *	int mailmsg_unlock(FILE *in, FILE *out, FILE *diag, const char *sender, int json,
 *	                   mailmsg_talk_fn talk, const char *where);
 *
 * DESCRIPTION
 *	mailmsg_parse() reads one RFC 5322 message of len bytes (CRLF or LF
 *	line ends, NUL bytes allowed; a leading mbox "From " line, as local(8)
 *	adds for a "|command" alias, is skipped) and finds:
 *	  from   the address of the first mailbox of the first From: header,
 *	         in ASCII lower case: "Name <addr>", "\"Last, First\" <addr>",
 *	         a bare addr, comments "(x)" and folding allowed, a group's
 *	         name skipped. It must be printable ASCII without spaces and
 *	         quotes, with one '@' between a local part and a domain (or a
 *	         literal "[...]"), and shorter than out->from;
 *	  token  the first unlock token, HJU1-<digits>-<digits>-<32 lower-case
 *	         hex digits> (1 to 20 digits each, no letter or digit right
 *	         before or after it), looked for in the Subject: header first
 *	         (RFC 2047 encoded-words decoded), then in the body: its text
 *	         parts ("text/..."), those of multipart entities, in order, and
 *	         message/rfc822 parts (their Subject:, then their body), up to
 *	         MAILMSG_DEPTH levels deep. Each part is decoded (quoted-printable,
 *	         soft line breaks included, or base64) before the search. A
 *	         body without Content-Type is text/plain; a multipart without a
 *	         boundary is searched as text; other types are skipped.
 *	Header names are case-insensitive and folded headers are unfolded.
 *	It returns 0 with both set, or -1 with the reason in err: "no From:
 *	address" (checked first), or "no unlock token". On -1, out holds
 *	what was found (empty strings for the rest). It does no I/O.
 *
 *	mailmsg_unlock() is "hijackctl mail-unlock", the command Postfix's
 *	pipe(8) (or an alias "|command") runs with the reply on stdin. It
 *	reads in to its end, at most MAILMSG_MAX bytes (a longer message is
 *	read to its end and ignored: it is no reply), parses it, and sends
 *	the daemon through talk() one request:
 *	  {"cmd":"unlock_token","token":"HJU1-...","from":"ADDR","sender":"ADDR"}
 *	("sender", the envelope sender, only when sender is not NULL). talk
 *	gets where as is; it returns 0 with the daemon's answer line (a JSON
 *	object with "status") appended to *answer, or non-zero with the reason
 *	in err when no answer came (hijackctl's ctl_sock_talk: the control
 *	socket).
 *	What happened is one line: on out for an answer (json: the answer's
 *	body, the answer without "status", on a 200; the whole answer on a
 *	refusal; else "unlocked ACCOUNT (token from ADDR)" or "hijackd refused
 *	the unlock token from ADDR: ERROR (STATUS)"), else on diag, prefixed
 *	"hijackctl: mail-unlock: "; control characters become '?'. It
 *	returns the exit status, chosen for pipe(8):
 *	  0            the daemon unlocked, or refused (a 4xx answer: a wrong,
 *	               expired or used token, a sender that is no admin): the
 *	               daemon logs the refusal, and a bounce would be
 *	               backscatter to a forged reply; also no token, no From:
 *	               address, a sender that is not UTF-8, a message over
 *	               MAILMSG_MAX: nothing to do
 *	  EX_TEMPFAIL  (75) no answer (the daemon is not running, the socket
 *	               refuses the caller, 10 s of silence), a 5xx or otherwise
 *	               unexpected status, a malformed answer, or in could not
 *	               be read: Postfix keeps the reply and tries again
 *	(hijackctl itself exits EX_USAGE, 64, on a usage error and
 *	EX_TEMPFAIL on a configuration error for this command.)
 *
 *	No global state; the caller owns everything it passes. Thread-safe
 *	when talk is and the streams are not shared. Allocation failure is
 *	fatal (alloc.h).
 */
#ifndef HJ_MAILMSG_H
#define HJ_MAILMSG_H

#include <stddef.h>
#include <stdio.h>
#include <sysexits.h> /* mailmsg_unlock(): EX_TEMPFAIL; hijackctl: EX_USAGE */

#include <jansson.h>

#include "../util/buf.h"

#define MAILMSG_MAX (1u << 20) /* bytes: a longer message is no reply */
#define MAILMSG_DEPTH 8        /* nested multipart and message/rfc822 levels searched */

typedef struct mailmsg_info {
    char from[320];  /* lower case; "" if none */
    char token[128]; /* "" if none */
} mailmsg_info;

/* talk - one request to the daemon: 0 and its answer line in *answer, or non-zero (err) */
typedef int (*mailmsg_talk_fn)(const char *where, json_t *req, hj_buf *answer, char *err,
                               size_t errlen);

int mailmsg_parse(const char *msg, size_t len, mailmsg_info *out, char *err, size_t errlen);
int mailmsg_unlock(FILE *in, FILE *out, FILE *diag, const char *sender, int json,
                   mailmsg_talk_fn talk, const char *where);

#endif
