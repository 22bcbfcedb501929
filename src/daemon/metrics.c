/*
 * metrics - counters for /metrics (see metrics.h)
 */
#include "metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/alloc.h"
#include "../util/htab.h"

static const double store_buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01,
                                       0.025,  0.05,  0.1,    0.5,   1.0};
#define NBUCKETS (sizeof(store_buckets) / sizeof(store_buckets[0]))

/* the policy protocol's stages and hijackd's answers: a fixed table, so counting a request
 * on the policy path is two short scans and an increment (no formatting, no allocation) */
static const char *const stages[] = {"CONNECT", "EHLO",           "HELO", "MAIL", "RCPT",
                                     "DATA",    "END-OF-MESSAGE", "VRFY", "ETRN", "other"};
static const char *const answers[] = {"DUNNO", "REJECT", "DEFER_IF_PERMIT", "DEFER", "other"};
#define NSTAGES (sizeof(stages) / sizeof(stages[0]))
#define NANSWERS (sizeof(answers) / sizeof(answers[0]))

struct metrics {
    int64_t policy[NSTAGES][NANSWERS];
    htab *decisions; /* "rule\taction" -> int64_t count */
    int64_t store_n, store_bucket[NBUCKETS];
    double store_sum;
    int64_t log_lines, log_unknown;
};

metrics *
metrics_new(void)
{
    metrics *m = xcalloc(1, sizeof(*m));

    m->decisions = htab_new(64);
    return m;
}

/* bump - add one to the count under the two labels a and b */
static void
bump(htab *t, const char *a, const char *b)
{
    char key[256];
    int created;
    int n = snprintf(key, sizeof(key), "%s\t%s", a, b);
    htab_node *node =
        htab_put(t, key, (size_t)(n < (int)sizeof(key) ? n : (int)sizeof(key) - 1), NULL, &created);

    if (created)
        node->value = xcalloc(1, sizeof(int64_t));
    ++*(int64_t *)node->value;
}

/* slot - the index of s in names, or the last one ("other") */
static size_t
slot(const char *const *names, size_t n, const char *s)
{
    size_t i = 0;

    while (i < n - 1 && strcmp(names[i], s) != 0)
        i++;
    return i;
}

void
metrics_policy(metrics *m, const char *stage, const char *answer)
{
    if (m)
        m->policy[slot(stages, NSTAGES, stage)][slot(answers, NANSWERS, answer)]++;
}

void
metrics_decision(metrics *m, const hj_decision *d)
{
    if (m)
        bump(m->decisions, d->rule ? d->rule->name : "manual", policy_action_name(d->action));
}

void
metrics_store(metrics *m, double seconds)
{
    if (m == NULL)
        return;
    m->store_n++;
    m->store_sum += seconds;
    for (size_t i = 0; i < NBUCKETS; i++)
        m->store_bucket[i] += seconds <= store_buckets[i];
}

void
metrics_log_line(metrics *m, int not_understood)
{
    if (m && not_understood)
        m->log_unknown++;
    else if (m)
        m->log_lines++;
}

/* label - a label value, escaped (backslash, quote, newline) */
static void
label(hj_buf *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' || s[i] == '"')
            buf_putc(out, '\\');
        if (s[i] == '\n')
            buf_puts(out, "\\n");
        else
            buf_putc(out, s[i]);
    }
}

typedef struct pair_ctx {
    hj_buf *out;
    const char *name, *la, *lb;
} pair_ctx;

/* pair_one - one sample of a two-label counter */
static int
pair_one(htab_node *n, void *arg)
{
    pair_ctx *c = arg;
    const char *tab = memchr(n->key, '\t', n->klen);
    size_t alen = (size_t)(tab - n->key);

    buf_printf(c->out, "%s{%s=\"", c->name, c->la);
    label(c->out, n->key, alen);
    buf_printf(c->out, "\",%s=\"", c->lb);
    label(c->out, tab + 1, n->klen - alen - 1);
    buf_printf(c->out, "\"} %lld\n", (long long)*(int64_t *)n->value);
    return 0;
}

/* head - HELP and TYPE lines */
static void
head(hj_buf *out, const char *name, const char *type, const char *help)
{
    buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
format_store(const metrics *m, hj_buf *out)
{
    const char *h = "hijackd_store_write_seconds";

    head(out, h, "histogram", "time to make a decision durable in the store");
    for (size_t i = 0; i < NBUCKETS; i++)
        buf_printf(out, "%s_bucket{le=\"%g\"} %lld\n", h, store_buckets[i],
                   (long long)m->store_bucket[i]);
    buf_printf(out, "%s_bucket{le=\"+Inf\"} %lld\n%s_sum %.6f\n%s_count %lld\n", h,
               (long long)m->store_n, h, m->store_sum, h, (long long)m->store_n);
}

/* format_outbox - the notification spools: alert and notice mail, webhooks */
static void
format_outbox(const metrics_gauges *g, hj_buf *out)
{
    static const char *const name[4][3] = {
        {"hijackd_notify_pending", "gauge", "incidents waiting to be mailed or posted"},
        {"hijackd_notify_delivered_total", "counter",
         "mails handed to sendmail, POSTs answered 2xx"},
        {"hijackd_notify_retries_total", "counter", "attempts that failed and will be retried"},
        {"hijackd_notify_dropped_total", "counter", "incidents given up (refused, or too old)"}};
    static const char *const queue[2] = {"mail", "webhook"};

    for (size_t k = 0; k < 4; k++) {
        head(out, name[k][0], name[k][1], name[k][2]);
        for (size_t q = 0; q < 2; q++)
            buf_printf(out, "%s{queue=\"%s\"} %lld\n", name[k][0], queue[q],
                       (long long)g->outbox[q][k]);
    }
}

/* gauge - one unlabelled sample with its HELP and TYPE */
static void
gauge(hj_buf *out, const char *name, const char *type, const char *help, int64_t v)
{
    head(out, name, type, help);
    buf_printf(out, "%s %lld\n", name, (long long)v);
}

void
metrics_format(const metrics *m, const metrics_gauges *g, hj_buf *out)
{
    pair_ctx pc = {out, "hijackd_decisions_total", "rule", "action"};
    const char *name = "hijackd_policy_requests_total";

    head(out, name, "counter", "policy requests by protocol_state and answer");
    for (size_t i = 0; i < NSTAGES; i++)
        for (size_t j = 0; j < NANSWERS; j++)
            if (m->policy[i][j])
                buf_printf(out, "%s{stage=\"%s\",answer=\"%s\"} %lld\n", name, stages[i],
                           answers[j], (long long)m->policy[i][j]);
    head(out, pc.name, "counter", "decisions by rule and action");
    htab_walk(m->decisions, pair_one, &pc);
    format_store(m, out);
    gauge(out, "hijackd_accounts_locked", "gauge", "accounts locked now", g->locked);
    gauge(out, "hijackd_accounts_throttled", "gauge", "accounts throttled now", g->throttled);
    gauge(out, "hijackd_accounts", "gauge", "accounts the engine knows", g->accounts);
    gauge(out, "hijackd_log_lines_total", "counter", "lines read from the followed log",
          m->log_lines + m->log_unknown);
    gauge(out, "hijackd_log_lines_not_understood_total", "counter",
          "lines of the followed log that were not Postfix lines hijackd understands",
          m->log_unknown);
    gauge(out, "hijackd_log_follow_lag_bytes", "gauge",
          "bytes written to the followed log and not read yet", g->follow_lag_bytes);
    gauge(out, "hijackd_log_follow_rotations_total", "counter", "rotations of the followed log",
          g->follow_rotations);
    gauge(out, "hijackd_start_time_seconds", "gauge", "when the daemon started", g->started);
    format_outbox(g, out);
}

void
metrics_free(metrics *m)
{
    if (m == NULL)
        return;
    htab_free(m->decisions, free);
    free(m);
}
