/*
 * incident - incidents out of the core's decisions: alert and notice mails, webhooks, reply-to-unlock
 *
 * SYNOPSIS
 *	incident *incident_open(core *C);
 *	void incident_reload(incident *n);
 *	void incident_stats(incident *n, int64_t out[2][4]);
 *	void incident_scanner(incident *n, int down, int64_t since, const char *why, int64_t now);
 *	int incident_unlock_token(incident *n, json_t *req, json_t **reply);
 *	void incident_close(incident *n);
 *
 * DESCRIPTION
 *	incident_open() registers it as an observer of the core: each
 *	decision the configuration asks to tell
 *	about (alert_on, user_notice_rules, spam_prompt_on, webhook_on)
 *	becomes an incident: the decision's JSON with what an admin needs around it (recent
 *	recipients, the queue IDs seen for the account, the unlock token and
 *	commands, a one-line summary), handed to the mail spool (mailer.h)
 *	and the webhook spool (webhook.h). Both are worked by their own
 *	threads: the event loop only writes a file, so a slow MTA or a dead
 *	webhook never delays a policy answer. Only rule decisions alert; an
 *	admin's manual lock mails the user when "manual" is in
 *	user_notice_rules. A decision a content verdict made (the spam rules)
 *	with an action of spam_prompt_on mails the account the outgoing spam
 *	prompt (spam_prompt_template; spam_warn makes it one an hour).
 *
 *	incident_scanner() mails the postmaster (alert_to; nothing when it is
 *	empty) that the anti-spam scanner (spam_scanner) has been down since
 *	since, and why (down = 1), or that it is back (down = 0): the daemon
 *	calls it when an outage has lasted spam_scanner_alert_after, and at its
 *	end. A job of kind "scanner" in the mail spool (alert.h, alert_scanner).
 *
 *	incident_stats() gives, for the mail and the webhook spool, the
 *	incidents pending, delivered, retried (attempts) and dropped.
 *
 *	The request observer remembers the last few recipients and queue IDs
 *	per account (from the policy requests; recent.h: one journal of fixed
 *	size, O(1) per request) for the evidence and the alert's queue section.
 *
 *	incident_unlock_token() is the control command "unlock_token"
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
 *	incident_open() loads (or creates) state_dir/unlock.key and opens the
 *	spools in state_dir/mail and state_dir/webhook; NULL (logged) if it
 *	cannot. incident_reload() reopens them (the daemon calls it when a
 *	reload changed a setting flagged CONF_F_NOTIFY).
 *	Single-threaded (the daemon's loop). Memory failure is fatal.
 */
#ifndef HJ_INCIDENT_H
#define HJ_INCIDENT_H

#include <jansson.h>
#include <stdint.h>

#include "../core/core.h"

typedef struct incident incident;

incident *incident_open(core *C);
void incident_reload(incident *n);
void incident_stats(incident *n, int64_t out[2][4]);
void incident_scanner(incident *n, int down, int64_t since, const char *why, int64_t now);
int incident_unlock_token(incident *n, json_t *req, json_t **reply);
void incident_close(incident *n);

#endif
