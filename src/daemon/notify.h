/*
 * notify - incidents out of decisions: alert and notice mails, webhooks, reply-to-unlock
 *
 * SYNOPSIS
 *	int notify_open(live *L);
 *	void notify_reload(live *L);
 *	void notify_close(live *L);
 *	void notify_decision(live *L, const hj_decision *d, const char *decision_json);
 *	void notify_recipient(live *L, const char *account, hj_span rcpt, hj_span queue_id);
 *	int notify_cmd_unlock_token(live *L, json_t *req, const cmd_caller *who, json_t **reply);
 *
 * DESCRIPTION
 *	notify_decision() turns a decision the configuration asks to tell
 *	about (alert_on, user_notice_rules, webhook_on) into an incident: the
 *	decision's JSON with what an admin needs around it (recent
 *	recipients, the queue IDs seen for the account, the unlock token and
 *	commands, a one-line summary), handed to the mail spool (mailer.h)
 *	and the webhook spool (webhook.h). Both are worked by their own
 *	threads: the event loop only writes a file, so a slow MTA or a dead
 *	webhook never delays a policy answer. Only rule decisions alert; an
 *	admin's manual lock mails the user when "manual" is in
 *	user_notice_rules.
 *
 *	notify_stats() gives, for the mail and the webhook spool, the
 *	incidents pending, delivered, retried (attempts) and dropped.
 *
 *	notify_recipient() remembers the last few recipients and queue IDs
 *	per account (from the policy requests; bounded, O(1) per request) for
 *	the evidence and the alert's queue section.
 *
 *	notify_cmd_unlock_token() is the control command "unlock_token"
 *	({"token", "from", "sender"}) that "hijackctl mail-unlock" sends for a
 *	reply to an alert. The token is the authority, so any local caller
 *	may send it: the daemon unlocks only when reply-to-unlock is on, the
 *	From: address (and the envelope sender, when given) is one of
 *	unlock_admins, the token's MAC is right for an account locked at the
 *	token's time (that lock is the incident: once it is lifted the token
 *	is used up) and it has not expired. Every refusal is logged and
 *	changes nothing: 403 (not allowed, expired), 409 (no open incident:
 *	used, or unlocked meanwhile), 400 (not a token).
 *
 *	notify_open() loads (or creates) state_dir/unlock.key and opens the
 *	spools in state_dir/mail and state_dir/webhook; -1 (logged) if it
 *	cannot. notify_reload() reopens them when their settings changed.
 *	Single-threaded (the daemon's loop). Memory failure is fatal.
 */
#ifndef HJ_NOTIFY_H
#define HJ_NOTIFY_H

#include <jansson.h>

#include "../postfix/policy.h"
#include "cmds.h"
#include "live_int.h"

int notify_open(live *L);
void notify_reload(live *L);
void notify_close(live *L);
void notify_decision(live *L, const hj_decision *d, const char *decision_json);
void notify_recipient(live *L, const char *account, hj_span rcpt, hj_span queue_id);
const char *notify_host(live *L);
void notify_stats(live *L, int64_t out[2][4]);
int notify_cmd_unlock_token(live *L, json_t *req, const cmd_caller *who, json_t **reply);

#endif
