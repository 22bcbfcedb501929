/*
 * scan_export - rspamd's metadata_exporter: the JSON it POSTs for a verdict, as a verdict
 *
 * SYNOPSIS
 *	int scan_export_parse(const char *json, size_t len, const scan_rules *r, scan_verdict *v,
 *	                      scan_export_meta *m);
 *
 * DESCRIPTION
 *	Sites that already run rspamd as their milter can have it push each verdict on
 *	authenticated mail to hijackd (rspamd's metadata_exporter, backend "http", formatter
 *	"json", selector "is_spam_authed"; docs/SCANNING.md), so that a message is not scanned
 *	twice. scan_export_parse() reads one such body (rspamd 3.4's get_general_metadata():
 *	"action", "score", "user", "qid", "ip", "from", "subject", "symbols" as an array of
 *	{"name", "score"}; no "required_score"): 0 with v scanned (its class by r from the action;
 *	threshold 0) and m filled, or -1 with v unscanned (SCAN_R_BAD_REPLY, a detail) when it is
 *	not such an object, has no action or score, or no user ("unknown" is rspamd's word for
 *	none: not an account's verdict). m's texts are cut to their fields and printable ASCII
 *	(scan_copy_text()); "unknown" becomes "". Every byte is the peer's: a body over
 *	SCAN_MAX_REPLY is refused unread. r NULL means scan_rules_default(). Pure; thread-safe.
 */
#ifndef HJ_SCAN_EXPORT_H
#define HJ_SCAN_EXPORT_H

#include <stddef.h>

#include "scan.h"

typedef struct scan_export_meta {
    char user[320], qid[32], ip[64], from[320], subject[200];
} scan_export_meta;

int scan_export_parse(const char *json, size_t len, const scan_rules *r, scan_verdict *v,
                      scan_export_meta *m);

#endif
