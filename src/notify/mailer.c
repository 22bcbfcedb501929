/*
 * mailer - alert and notice mails from a spool (see mailer.h)
 */
#include "mailer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../postfix/queue.h"
#include "../util/alloc.h"
#include "../util/htab.h"
#include "../util/log.h"
#include "../util/timeconv.h"

#define MAILER_SENT_MAX 1000 /* alert_max is at most 1000 (conf_notify.c) */
#define MAILER_BATCH 200
#define MAILER_RETRY 60 /* s: the spool's first retry delay, and the hold after a failed send */

struct mailer {
    alert_conf a;
    char *strs[9]; /* the copied strings (owned) */
    char *sendmail_path, *postqueue_path, *config_dir;
    int64_t alert_max, alert_interval, cmd_timeout;
    char **local;
    size_t nlocal;
    int64_t sent[MAILER_SENT_MAX]; /* when recent alert mails went out (worker only) */
    size_t nsent;
    int64_t hold_until; /* a send failed: no mail is tried before this (worker only) */
    spool *sp;
};

/* own - keep a copy of s */
static char *
own(mailer *m, size_t i, const char *s)
{
    return m->strs[i] = xstrdup(s ? s : "");
}

/* budget - alert mails that may go out now; *free_at: when one more may */
static int64_t
budget(mailer *m, int64_t now, int64_t *free_at)
{
    size_t k = 0;

    for (size_t i = 0; i < m->nsent; i++)
        if (m->sent[i] > now - m->alert_interval)
            m->sent[k++] = m->sent[i];
    m->nsent = k;
    *free_at = k ? m->sent[0] + m->alert_interval : now;
    return m->alert_max - (int64_t)k;
}

static void
sent_one(mailer *m, int64_t now)
{
    if (m->nsent < MAILER_SENT_MAX)
        m->sent[m->nsent++] = now;
}

/* send - one composed mail to rcpt; 0 or -1 (logged; no mail is tried for MAILER_RETRY s then) */
static int
send(mailer *m, const hj_buf *msg, const char *rcpt, const char *what, int64_t now)
{
    char err[512];

    if (queue_sendmail(m->sendmail_path, *m->config_dir ? m->config_dir : NULL, (int)m->cmd_timeout,
                       m->a.from, rcpt, msg->s, msg->len, err, sizeof(err)) == 0) {
        log_info("mail: %s handed to %s", what, m->sendmail_path);
        return 0;
    }
    log_warn("mail: cannot send %s (will retry): %s", what, err);
    m->hold_until = now + MAILER_RETRY;
    return -1;
}

/* held - while the MTA failed (hold_until): the jobs of kind wait for it, untried; 1 if so */
static int
held(mailer *m, spool_job *jobs, json_t **incs, size_t n, const char *kind, int64_t now)
{
    if (now >= m->hold_until)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(jobs[i].kind, kind) == 0 && incs[i])
            jobs[i].retry_at = m->hold_until;
    return 1;
}

/* ---------------------------------------------------------------- the queue section */

typedef struct qctx {
    htab *owner; /* queue ID -> account, from the incidents */
    mailer *m;
} qctx;

static const char *
account_of(void *ctx, const char *id)
{
    return htab_get(((qctx *)ctx)->owner, id, strlen(id));
}

static int
is_local(void *ctx, const char *domain)
{
    mailer *m = ((qctx *)ctx)->m;

    for (size_t i = 0; i < m->nlocal; i++)
        if (strcasecmp(m->local[i], domain) == 0)
            return 1;
    return 0;
}

/* detach - the buffer's text as a string of its own */
static char *
detach(hj_buf *b)
{
    char *s = xstrdup(buf_str(b));

    buf_free(b);
    return s;
}

/* group_text - what is queued for one account */
static char *
group_text(const queue_report *r, const char *account)
{
    hj_buf b = HJ_BUF_INIT;
    const queue_origin *g = NULL;
    char ts[48];

    for (size_t i = 0; i < r->ngroups && g == NULL; i++)
        if ((r->groups[i].account && strcmp(r->groups[i].account, account) == 0) ||
            (!r->groups[i].account && strcasecmp(r->groups[i].sender, account) == 0))
            g = &r->groups[i];
    if (g == NULL) {
        buf_printf(&b, "  nothing (the whole queue holds %zu messages)\n", r->messages);
        return detach(&b);
    }
    timeconv_rfc3339(g->oldest > 0 ? g->oldest : 0, 0, ts, sizeof(ts));
    buf_printf(&b, "  %zu messages to %zu recipients, %llu bytes, the oldest from %s\n",
               g->messages, g->recipients, (unsigned long long)g->bytes,
               g->oldest > 0 ? ts : "(unknown)");
    for (size_t i = 0; i < g->nsample; i++)
        buf_printf(&b, "%s%s", i ? ", " : "  sample recipients: ", g->sample[i]);
    for (size_t i = 0; i < g->nreasons; i++)
        buf_printf(&b, "%s%s", i ? "\n    " : "\n  why they wait: ", g->reasons[i]);
    buf_printf(&b, "%s  the whole queue: %zu messages; verdict: %s%s\n", g->nsample ? "\n" : "",
               r->messages, queue_verdict_name(r->verdict),
               r->culprit == g ? " (this account fills it)" : "");
    return detach(&b);
}

/* queue_texts - run postqueue once, a section per incident */
static void
queue_texts(mailer *m, json_t **incs, size_t n, char **out)
{
    queue_list q = QUEUE_LIST_INIT;
    queue_report r;
    char err[512];
    qctx x = {htab_new(64), m};

    for (size_t i = 0; i < n; i++) {
        size_t k;
        json_t *v;
        const char *acct = json_string_value(json_object_get(incs[i], "account"));
        json_array_foreach(json_object_get(incs[i], "queue_ids"), k, v)
        {
            const char *id = json_string_value(v);
            if (id)
                htab_put(x.owner, id, strlen(id), (void *)acct, NULL);
        }
    }
    queue_report_init(&r);
    if (queue_read(m->postqueue_path, *m->config_dir ? m->config_dir : NULL, (int)m->cmd_timeout,
                   &q, err, sizeof(err)) != 0) {
        for (size_t i = 0; i < n; i++) {
            hj_buf b = HJ_BUF_INIT;
            buf_printf(&b, "  (cannot read the queue: %s)\n", err);
            out[i] = detach(&b);
        }
    } else {
        queue_group(&q, account_of, &x, is_local, &r);
        for (size_t i = 0; i < n; i++)
            out[i] = group_text(&r, json_string_value(json_object_get(incs[i], "account"))
                                        ? json_string_value(json_object_get(incs[i], "account"))
                                        : "");
    }
    queue_report_free(&r);
    queue_list_free(&q);
    htab_free(x.owner, NULL);
}

/* ---------------------------------------------------------------- the worker */

/* do_notices - each notice and spam prompt job: compose from its template, send */
static void
do_notices(mailer *m, spool_job *jobs, json_t **incs, size_t n, int64_t now)
{
    for (size_t i = 0; i < n; i++) {
        int h = held(m, jobs + i, incs + i, n - i, "notice", now);
        if (held(m, jobs + i, incs + i, n - i, "prompt", now) || h)
            return;
        int prompt = strcmp(jobs[i].kind, "prompt") == 0;
        if ((!prompt && strcmp(jobs[i].kind, "notice") != 0) || incs[i] == NULL)
            continue;
        const char *to = json_string_value(json_object_get(incs[i], "account"));
        if (to == NULL || !alert_address_ok(to)) { /* ',' or <...> would add recipients */
            log_warn("mail: no notice for job %s: the account is not one mail address",
                     jobs[i].name);
            jobs[i].result = SPOOL_DROP;
            continue;
        }
        hj_buf msg = HJ_BUF_INIT;
        alert_conf a = m->a;
        if (prompt)
            a.notice_template = m->a.prompt_template;
        alert_notice(&a, incs[i], &msg);
        char what[400];
        snprintf(what, sizeof(what), "the %s to %s", prompt ? "spam prompt" : "notice", to);
        jobs[i].result = send(m, &msg, to, what, now) == 0 ? SPOOL_DONE : SPOOL_RETRY;
        buf_free(&msg);
    }
}

/* do_scanner - the scanner's down and back mails to the postmaster (at most two an outage) */
static void
do_scanner(mailer *m, spool_job *jobs, json_t **incs, size_t n, int64_t now)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(jobs[i].kind, "scanner") != 0 || incs[i] == NULL)
            continue;
        if (now < m->hold_until) {
            jobs[i].retry_at = m->hold_until;
            continue;
        }
        hj_buf msg = HJ_BUF_INIT;
        alert_scanner(&m->a, incs[i], &msg);
        jobs[i].result = send(m, &msg, m->a.to, "the scanner's alert", now) == 0 ? SPOOL_DONE
                                                                             : SPOOL_RETRY;
        buf_free(&msg);
    }
}

/* do_alerts - the alert jobs: each alone, one digest, or wait for the budget */
static void
do_alerts(mailer *m, spool_job *jobs, json_t **incs, size_t n, int64_t now)
{
    json_t *a[MAILER_BATCH];
    size_t idx[MAILER_BATCH], k = 0;
    int64_t free_at, left = budget(m, now, &free_at);

    for (size_t i = 0; i < n; i++)
        if (strcmp(jobs[i].kind, "alert") == 0 && incs[i])
            idx[k] = i, a[k++] = incs[i];
    if (k == 0 || held(m, jobs, incs, n, "alert", now))
        return;
    if (left <= 0) { /* wait: they go out together when the budget allows */
        for (size_t i = 0; i < k; i++)
            jobs[idx[i]].retry_at = free_at;
        return;
    }
    char *q[MAILER_BATCH] = {0};
    if (*m->postqueue_path)
        queue_texts(m, a, k, q);
    size_t each = (int64_t)k <= left ? 1 : k; /* incidents per mail */
    for (size_t i = 0; i < k; i += each) {
        hj_buf msg = HJ_BUF_INIT;
        alert_mail(&m->a, a + i, (const char *const *)q + i, each, &msg);
        char what[400];
        if (each > 1)
            snprintf(what, sizeof(what), "a digest of %zu alerts", each);
        else
            snprintf(what, sizeof(what), "the alert about %s",
                     json_string_value(json_object_get(a[i], "account")));
        int ok = now >= m->hold_until && send(m, &msg, m->a.to, what, now) == 0;
        for (size_t j = i; j < i + each; j++)
            jobs[idx[j]].result = ok ? SPOOL_DONE : SPOOL_RETRY;
        if (ok)
            sent_one(m, now);
        buf_free(&msg);
    }
    for (size_t i = 0; i < k; i++)
        free(q[i]);
}

/* run - the spool's handler: a batch of due jobs */
static void
run(void *ctx, spool_job *jobs, size_t n, int64_t now)
{
    mailer *m = ctx;
    json_t *incs[MAILER_BATCH];

    for (size_t i = 0; i < n; i++) {
        json_error_t e;
        incs[i] = json_loadb(jobs[i].data, jobs[i].len, 0, &e);
        if (!json_is_object(incs[i])) {
            log_warn("mail: job %s is not an incident (%s): dropped", jobs[i].name, e.text);
            jobs[i].result = SPOOL_DROP;
            json_decref(incs[i]);
            incs[i] = NULL;
        }
    }
    do_notices(m, jobs, incs, n, now);
    do_alerts(m, jobs, incs, n, now);
    do_scanner(m, jobs, incs, n, now);
    for (size_t i = 0; i < n; i++)
        json_decref(incs[i]);
}

mailer *
mailer_open(const mailer_conf *c, char *err, size_t errlen)
{
    mailer *m = xcalloc(1, sizeof(*m));

    m->a.from = own(m, 0, c->a.from);
    m->a.to = own(m, 1, c->a.to);
    m->a.reply_to = own(m, 2, c->a.reply_to);
    m->a.notice_template = own(m, 3, c->a.notice_template);
    m->a.contact = own(m, 4, c->a.contact);
    m->sendmail_path = own(m, 5, c->sendmail_path);
    m->postqueue_path = own(m, 6, c->postqueue_path);
    m->config_dir = own(m, 7, c->config_dir);
    m->a.prompt_template = own(m, 8, c->a.prompt_template);
    m->alert_max = c->alert_max;
    m->alert_interval = c->alert_interval;
    m->cmd_timeout = c->cmd_timeout > 0 ? c->cmd_timeout : 60;
    m->local = xcalloc(c->nlocal + 1, sizeof(char *));
    for (size_t i = 0; i < c->nlocal; i++)
        m->local[i] = xstrdup(c->local_domains[i]);
    m->nlocal = c->nlocal;
    spool_conf sc = {c->spool_dir, "mail", MAILER_RETRY, 900, 0, MAILER_BATCH};
    m->sp = spool_open(&sc, run, m, err, errlen);
    if (m->sp == NULL) {
        mailer_close(m);
        return NULL;
    }
    return m;
}

int
mailer_put(mailer *m, const char *kind, const char *incident_json, int64_t now)
{
    return spool_put(m->sp, kind, incident_json, strlen(incident_json), now);
}

void
mailer_stats(mailer *m, struct spool_stats *out)
{
    spool_stats(m->sp, out);
}

void
mailer_close(mailer *m)
{
    if (m == NULL)
        return;
    spool_close(m->sp);
    for (size_t i = 0; i < sizeof(m->strs) / sizeof(m->strs[0]); i++)
        free(m->strs[i]);
    for (size_t i = 0; i < m->nlocal; i++)
        free(m->local[i]);
    free(m->local);
    free(m);
}
