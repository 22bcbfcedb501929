/*
 * scan_parse - the replies of rspamd (/checkv2 JSON over HTTP) and spamd (SPAMD/1.1 SYMBOLS)
 *
 * SYNOPSIS
 *	int scan_rspamd_parse(const char *json, size_t len, const scan_rules *r,
 *	                      scan_verdict *v);
 *	int scan_spamd_parse(const char *reply, size_t len, const scan_rules *r,
 *	                     scan_verdict *v);
 *	int scan_http_reply(const char *p, size_t len, int *status,
 *	                    const char **body, size_t *blen);
 *	int scan_reply_complete(const char *p, size_t len);
 *
 * DESCRIPTION
 *	Every byte is the peer's and may be hostile: nothing is trusted, a
 *	reply longer than SCAN_MAX_REPLY is refused unread, and no input makes
 *	these read outside [p, p + len) or allocate more than jansson's copy
 *	of one bounded reply. r NULL means scan_rules_default().
 *
 *	scan_rspamd_parse() reads a /checkv2 body: "action" (a string, needed),
 *	"score" and "required_score" (finite numbers, needed), "symbols"
 *	(optional: an object of objects, each with a numeric "score"), and
 *	"error" (rspamd's own failure: a bad reply). scan_spamd_parse() reads
 *	a whole spamd reply: "SPAMD/1.x 0 EX_OK", a "Spam: True|False ; S / T"
 *	header (Yes/No too), optional "Content-length" (the body must be that
 *	long), a blank line, then the symbols separated by commas (spamd gives
 *	them no scores: kept in order, score 0). Lines may end in CRLF or LF.
 *	Each returns 0 with v scanned (its class by r), or -1 with v unscanned,
 *	SCAN_R_BAD_REPLY and a detail ("no action", "spamd error 76", ...).
 *
 *	scan_http_reply() splits an HTTP/1.x response: 0 with the status and
 *	the body (Content-Length bytes when given, else the rest), or -1 when
 *	it is not one (no status line, headers over 16 KiB or unended, a
 *	Content-Length that is not a number or longer than what is there,
 *	chunked encoding). scan_reply_complete() tells a reader it may stop:
 *	1 when the headers ended and the Content-Length body (either spelling)
 *	has all arrived, else 0 (read to end of file). Pure; thread-safe.
 */
#ifndef HJ_SCAN_PARSE_H
#define HJ_SCAN_PARSE_H

#include <stddef.h>

#include "scan.h"

int scan_rspamd_parse(const char *json, size_t len, const scan_rules *r, scan_verdict *v);
int scan_spamd_parse(const char *reply, size_t len, const scan_rules *r, scan_verdict *v);
int scan_http_reply(const char *p, size_t len, int *status, const char **body, size_t *blen);
int scan_reply_complete(const char *p, size_t len);

#endif
