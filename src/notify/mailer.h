/*
 * mailer - alert and notice mails, sent from a spool by a worker thread
 *
 * SYNOPSIS
 *	mailer *mailer_open(const mailer_conf *c, char *err, size_t errlen);
 *	int mailer_put(mailer *m, const char *kind, const char *incident_json, int64_t now);
 *	void mailer_stats(mailer *m, struct spool_stats *out);
 *	void mailer_close(mailer *m);
 *
 * DESCRIPTION
 *	mailer_put() queues an incident (alert.h) as a job of kind "alert"
 *	(to the postmaster), "notice" (to the account) or "prompt" (the
 *	outgoing spam prompt to the account, c->a.prompt_template) or "scanner"
 *	(the anti-spam scanner down or back, to the postmaster) in the spool
 *	c->spool_dir (spool.h): the daemon's loop never waits for mail. The
 *	worker thread composes each mail (alert.c) and hands it to sendmail
 *	with its one recipient as an argument (queue_sendmail(): the alert's
 *	c->a.to, a notice's account, never -t); a notice whose account is
 *	not one address (alert_address_ok()) is dropped with a log line. A
 *	failure is retried with backoff,
 *	and jobs survive restarts. After a failed send no mail is tried for
 *	60 s (the first retry delay): the alerts and notices that come
 *	meanwhile wait for it untried and then go out with the failed ones
 *	(as a digest when they are more than the budget), so a lock storm
 *	with a broken MTA runs sendmail about once a minute, not once per
 *	incident.
 *
 *	Alerts are rate-limited: at most c->alert_max alert mails in any
 *	c->alert_interval. When a batch holds more alerts than the budget
 *	left, they go out as one digest; when no budget is left they wait
 *	for it (and then go out together). Before an alert is written the
 *	worker runs "postqueue -j" once per batch and reports what is queued
 *	for each account: by the queue IDs the daemon saw for it (the
 *	incident's "queue_ids") or by sender. A failing postqueue only
 *	replaces that section with its error. Notices are not rate-limited
 *	(each goes to a different person) and do not wait for the queue.
 *
 *	The configuration's strings are copied. mailer_put() and
 *	mailer_stats() are for the one thread that owns m; the worker shares
 *	nothing else with it. mailer_close() waits for the batch in progress.
 */
#ifndef HJ_MAILER_H
#define HJ_MAILER_H

#include <stddef.h>
#include <stdint.h>

#include "alert.h"
#include "spool.h"

typedef struct mailer_conf {
    alert_conf a;
    const char *sendmail_path;
    const char *postqueue_path; /* "" = no queue section */
    const char *config_dir;     /* postqueue -c, sendmail -C; "" = Postfix's default */
    int64_t cmd_timeout;        /* s: sendmail and postqueue are killed after it (>= 1) */
    int64_t alert_max, alert_interval;
    const char *spool_dir;
    char *const *local_domains;
    size_t nlocal;
} mailer_conf;

typedef struct mailer mailer;

mailer *mailer_open(const mailer_conf *c, char *err, size_t errlen);
int mailer_put(mailer *m, const char *kind, const char *incident_json, int64_t now);
void mailer_stats(mailer *m, struct spool_stats *out);
void mailer_close(mailer *m);

#endif
