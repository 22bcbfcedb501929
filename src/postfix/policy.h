/*
 * policy - Postfix policy delegation protocol codec (SMTPD_POLICY_README)
 *
 * SYNOPSIS
 *	int policy_parse(const char *buf, size_t len, policy_req *req, size_t *used,
 *	                 char *err, size_t errlen);
 *	size_t policy_reply(char *out, size_t outlen, const char *action, const char *text);
 *	const char *policy_value(hj_span s, char *buf, size_t cap);
 *
 * DESCRIPTION
 *	A request is "name=value" lines, each ended by "\n", then an empty
 *	line. policy_parse() looks at the bytes received so far and returns
 *	  1   a whole request: req is filled, *used is its length in bytes
 *	      (pipelined requests follow it in buf);
 *	  0   not complete yet: read more (nothing is kept between calls);
 *	 -1   malformed: a line without "=", a control byte in an attribute
 *	      name, an empty attribute name, a request over POLICY_MAX_REQUEST bytes,
 *	      more than POLICY_MAX_ATTRS attributes, or "request=" other than
 *	      smtpd_access_policy. The caller closes that one connection.
 *	A control byte (NUL, CR, ...) in a value does not make the request
 *	malformed: dropping it would let one odd byte in a user name step
 *	around the counters. The value is kept as it came and req->ctl
 *	counts such values; whoever copies a value into a name, a log line or
 *	an answer sanitises it (policy_value()).
 *	Unknown attribute names are accepted and ignored (Postfix adds new
 *	ones over time); a repeated attribute keeps its last value. Values
 *	in req point into buf (not NUL-terminated: use the spans). Pure;
 *	thread-safe. policy_reply() formats "action=ACTION[ TEXT]\n\n" and
 *	returns its length, replacing any CR or LF in the text by a space.
 */
#ifndef HJ_POLICY_CODEC_H
#define HJ_POLICY_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "../util/span.h"

#define POLICY_MAX_REQUEST (64 * 1024)
#define POLICY_MAX_ATTRS 256
#define POLICY_MAX_REPLY 2048 /* room for the longest answer: an action and a 1 KiB text */

typedef enum policy_attr {
    PA_REQUEST,
    PA_PROTOCOL_STATE,
    PA_PROTOCOL_NAME,
    PA_CLIENT_ADDRESS,
    PA_CLIENT_NAME,
    PA_REVERSE_CLIENT_NAME,
    PA_HELO_NAME,
    PA_SENDER,
    PA_RECIPIENT,
    PA_RECIPIENT_COUNT,
    PA_QUEUE_ID,
    PA_INSTANCE,
    PA_SIZE,
    PA_SASL_METHOD,
    PA_SASL_USERNAME,
    PA_SASL_SENDER,
    PA_SERVER_PORT,
    PA_POLICY_CONTEXT,
    PA__COUNT
} policy_attr;

typedef struct policy_req {
    hj_span a[PA__COUNT]; /* p == NULL: not sent */
    int nattrs;
    int ctl; /* values with a control byte (sanitised by policy_value()) */
} policy_req;

int policy_parse(const char *buf, size_t len, policy_req *req, size_t *used, char *err,
                 size_t errlen);
size_t policy_reply(char *out, size_t outlen, const char *action, const char *text);
int64_t policy_number(hj_span s); /* decimal value, -1 if empty or not a number */
/* a value as a NUL-terminated string in buf, cut to fit, each control byte (< 0x20, 0x7f) as '?' */
const char *policy_value(hj_span s, char *buf, size_t cap);

#endif
