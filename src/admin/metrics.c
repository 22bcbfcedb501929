/*
 * metrics - the daemon's counters for /metrics (see metrics.h)
 */
#include "metrics.h"

#include <stdio.h>
#include <string.h>

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
static void
pair_one(void *arg, const char *a, const char *b, int64_t n)
{
    pair_ctx *c = arg;

    buf_printf(c->out, "%s{%s=\"", c->name, c->la);
    label(c->out, a, strlen(a));
    buf_printf(c->out, "\",%s=\"", c->lb);
    label(c->out, b, strlen(b));
    buf_printf(c->out, "\"} %lld\n", (long long)n);
}

/* head - HELP and TYPE lines */
static void
head(hj_buf *out, const char *name, const char *type, const char *help)
{
    buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
format_store(const core_stats *m, hj_buf *out)
{
    const char *h = "hijackd_store_write_seconds";

    head(out, h, "histogram", "time to make a decision durable in the store");
    for (size_t i = 0; i < CORE_STORE_BUCKETS; i++)
        buf_printf(out, "%s_bucket{le=\"%g\"} %lld\n", h, core_store_buckets[i],
                   (long long)m->store_bucket[i]);
    buf_printf(out, "%s_bucket{le=\"+Inf\"} %lld\n%s_sum %.6f\n%s_count %lld\n", h,
               (long long)m->store_n, h, m->store_sum, h, (long long)m->store_n);
}

/* format_outbox - the notification spools: alert and notice mail, webhooks */
static void
format_outbox(const metrics_src *g, hj_buf *out)
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

/* format_scans - the scanner's verdicts, why messages went unscanned, its breaker */
static void
format_scans(const metrics_src *g, hj_buf *out)
{
    scan_stats st;
    int64_t held, not_held[SCAN_R__COUNT];
    const char *v = "hijackd_scans_total", *u = "hijackd_scans_unscanned_total";

    milterfront_scan_stats(g->mf, &st, &held, not_held);
    head(out, v, "counter", "content verdicts of the spam scanner by class");
    for (int c = SCAN_CLEAN; c < SCAN__NCLASS; c++)
        buf_printf(out, "%s{class=\"%s\"} %llu\n", v, scan_class_name((scan_class)c),
                   (unsigned long long)st.cls[c]);
    head(out, u, "counter", "messages that went unscanned (they pass), by reason");
    for (int r = SCAN_R_NONE + 1; r < SCAN_R__COUNT; r++)
        buf_printf(out, "%s{reason=\"%s\"} %llu\n", u, scan_reason_name((scan_reason)r),
                   (unsigned long long)(st.unscanned[r] + (uint64_t)not_held[r]));
    gauge(out, "hijackd_scanner_breaker_open", "gauge",
          "1 while the scanner's breaker is open or half open (messages pass unscanned)",
          st.breaker != SCAN_B_CLOSED);
    gauge(out, "hijackd_scanner_breaker_opened_total", "counter", "times the breaker opened",
          (int64_t)st.breaker_opened);
    gauge(out, "hijackd_scans_in_flight", "gauge", "scans waiting for the scanner now",
          (int64_t)st.inflight);
    gauge(out, "hijackd_scan_held_bytes", "gauge",
          "bytes of messages held for the scanner, all connections (spam_scan_buffer_max)", held);
}

/* format_milter - the milter's replies by stage, and its connections */
static void
format_milter(const metrics_src *g, hj_buf *out)
{
    pair_ctx pm = {out, "hijackd_milter_replies_total", "stage", "reply"};
    miltersrv_counts n = {0};

    if (g->mf == NULL)
        return;
    head(out, pm.name, "counter", "milter commands by stage and the reply given (none: no reply due)");
    milterfront_counts(g->mf, pair_one, &pm);
    miltersrv_stats(g->ms, &n);
    gauge(out, "hijackd_milter_connections", "gauge", "milter connections open now",
          n.connections_now);
    gauge(out, "hijackd_milter_connections_total", "counter", "milter connections accepted",
          n.connections_total);
    gauge(out, "hijackd_milter_malformed_total", "counter",
          "milter connections closed for bytes the codec refused", n.malformed);
    gauge(out, "hijackd_milter_refused_total", "counter",
          "milter connections refused (a peer not allowed, or over milter_max_connections)",
          n.refused_peer + n.refused_over_max);
    if (milterfront_scans(g->mf))
        format_scans(g, out);
}

/* format_http - the HTTP side's connections */
static void
format_http(const metrics_src *g, hj_buf *out)
{
    gauge(out, "hijackd_http_connections", "gauge", "HTTP connections open now", g->http_now);
    gauge(out, "hijackd_http_refused_total", "counter",
          "HTTP connections closed unread at http_max_connections", g->http_refused);
}

/* format_verdicts - the core's verdicts, whatever front end asked; the content verdicts */
static void
format_verdicts(const core_stats *st, hj_buf *out)
{
    const char *name = "hijackd_verdicts_total", *sp = "hijackd_spam_verdicts_total";

    head(out, name, "counter", "the core's verdicts, all front ends");
    for (int k = 0; k < CORE_KIND__COUNT; k++)
        buf_printf(out, "%s{verdict=\"%s\"} %lld\n", name, core_kind_name((core_kind)k),
                   (long long)st->verdicts[k]);
    head(out, sp, "counter", "anti-spam verdicts on accounts' mail (milter scans, rspamd exporter)");
    for (int k = 0; k < CORE_SPAM__COUNT; k++)
        buf_printf(out, "%s{class=\"%s\"} %lld\n", sp, core_spam_class_name((core_spam_class)k),
                   (long long)st->spam[k]);
    head(out, "hijackd_spam_verdicts_repeated_total", "counter",
         "content verdicts on a queue ID that had one (logged, not counted again)");
    buf_printf(out, "hijackd_spam_verdicts_repeated_total %lld\n", (long long)st->spam_repeated);
}

/* format_entities - what the engine follows per scope, and what its caps dropped */
static void
format_entities(const metrics_src *g, hj_buf *out)
{
    hj_engine *e = core_engine(g->C);
    const hj_engine_stats *st = engine_stats(e);
    static const struct {
        const char *name, *type, *help;
    } fam[3] = {
        {"hijackd_entities", "gauge", "entities followed by scope (accounts_max, client_entities_max)"},
        {"hijackd_entities_evicted_total", "counter",
         "entities dropped at their scope's cap, the least recently seen of a sample first"},
        {"hijackd_entities_refused_total", "counter",
         "entities not made at the cap (all sampled were locked or in use)"},
    };

    for (int f = 0; f < 3; f++) {
        head(out, fam[f].name, fam[f].type, fam[f].help);
        for (int s = 0; s < HJ_S__COUNT; s++)
            buf_printf(out, "%s{scope=\"%s\"} %lld\n", fam[f].name, policy_scope_name((hj_scope)s),
                       f == 0 ? (long long)engine_entities(e, (hj_scope)s)
                       : f == 1 ? (long long)st->evicted[s] : (long long)st->refused[s]);
    }
    gauge(out, "hijackd_accounts_forgotten_total", "counter",
          "accounts idle past account_forget_after, forgotten", st->forgotten);
    gauge(out, "hijackd_failed_login_names", "gauge",
          "names known only from failed logins (failed_login_names_max)", st->unproven);
    gauge(out, "hijackd_failed_login_names_refused_total", "counter",
          "failed logins of new names at failed_login_names_max, counted per client only",
          st->unproven_refused);
}

void
metrics_format(const metrics_src *g, hj_buf *out)
{
    pair_ctx pc = {out, "hijackd_decisions_total", "rule", "action"};
    pair_ctx pq = {out, "hijackd_policy_requests_total", "stage", "answer"};
    const core_stats *st = core_get_stats(g->C);

    head(out, pq.name, "counter", "policy requests by protocol_state and answer");
    if (g->pp)
        pfpolicy_counts(g->pp, pair_one, &pq);
    format_milter(g, out);
    format_http(g, out);
    format_verdicts(st, out);
    head(out, pc.name, "counter", "decisions by rule and action");
    core_decisions(g->C, pair_one, &pc);
    format_store(st, out);
    gauge(out, "hijackd_accounts_locked", "gauge", "accounts locked now", g->counts.locked);
    gauge(out, "hijackd_accounts_throttled", "gauge", "accounts throttled now", g->counts.throttled);
    gauge(out, "hijackd_accounts_held", "gauge", "accounts held now (action=hold)", g->counts.held);
    gauge(out, "hijackd_accounts", "gauge", "accounts the engine knows", g->counts.accounts);
    gauge(out, "hijackd_log_lines_total", "counter", "lines read from the followed log",
          g->log.lines);
    gauge(out, "hijackd_log_lines_not_understood_total", "counter",
          "lines of the followed log that were not Postfix lines hijackd understands",
          g->log.not_understood);
    gauge(out, "hijackd_log_follow_lag_bytes", "gauge",
          "bytes written to the followed log and not read yet", g->log.follow.lag_bytes);
    gauge(out, "hijackd_log_follow_rotations_total", "counter", "rotations of the followed log",
          g->log.follow.rotations);
    gauge(out, "hijackd_start_time_seconds", "gauge", "when the daemon started", g->started);
    format_entities(g, out);
    format_outbox(g, out);
}
