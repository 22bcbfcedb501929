/*
 * decision - text forms of a decision (see decision.h)
 */
#include "decision.h"

#include <string.h>

#include "../util/timeconv.h"

/* json_kv - append ,"key":"value" when value is set */
static void
json_kv(hj_buf *out, const char *key, const char *value)
{
    if (value == NULL || *value == 0)
        return;
    buf_printf(out, ",\"%s\":", key);
    buf_json_str(out, value, strlen(value));
}

/* json_ips - the entity's recent client IPs as an array */
static void
json_ips(const hj_decision *d, hj_buf *out)
{
    char s[64];

    buf_puts(out, ",\"client_ips\":[");
    for (int i = 0; i < d->nips; i++) {
        netaddr_str(&d->ips[i], s, sizeof(s));
        buf_printf(out, "%s\"%s\"", i ? "," : "", s);
    }
    buf_putc(out, ']');
}

/* the client kinds of the novel_client signal's value, bit by bit (signals.c) */
static const char *const client_kinds[] = {"helo", "sasl_method", "message_id"};

/* sig_value - one signal's value: a number, or for novel_client the kinds that were new */
static void
sig_value(hj_signal s, int64_t v, hj_buf *out, int json)
{
    if (s != HJ_SIG_NOVEL_CLIENT) {
        buf_printf(out, "%lld", (long long)v);
        return;
    }
    buf_puts(out, json ? "\"" : "");
    for (int k = 0, n = 0; k < 3; k++)
        if (v & (1 << k))
            buf_printf(out, "%s%s", n++ ? "+" : "", client_kinds[k]);
    buf_puts(out, json ? "\"" : "");
}

/* json_signals - "signals":{name:value,...},"score":n for a scored message */
static void
json_signals(const hj_sigvals *sg, hj_buf *out)
{
    int n = 0;

    buf_puts(out, ",\"signals\":{");
    for (int i = 0; i < HJ_SIG__COUNT; i++) {
        if (!(sg->fired & (1u << i)))
            continue;
        buf_printf(out, "%s\"%s\":", n++ ? "," : "", policy_signal_name((hj_signal)i));
        sig_value((hj_signal)i, sg->value[i], out, 1);
    }
    buf_printf(out, "},\"score\":%lld", (long long)sg->score);
}

void
decision_json(const hj_decision *d, hj_buf *out)
{
    char ts[48];

    timeconv_rfc3339(d->t, d->tzoff, ts, sizeof(ts));
    buf_printf(out, "{\"ts\":\"%s\",\"account\":", ts);
    buf_json_str(out, d->entity, strlen(d->entity));
    buf_printf(out, ",\"action\":\"%s\",\"rule\":", policy_action_name(d->action));
    const char *rn = d->rule ? d->rule->name : "";
    buf_json_str(out, rn, strlen(rn));
    buf_printf(out, ",\"scope\":\"%s\"", policy_scope_name(d->scope));
    if (d->rule) {
        buf_printf(out, ",\"metric\":\"%s\",\"window\":%lld,\"limit\":%lld,\"count\":%lld",
                   policy_metric_name(d->rule->metric), (long long)d->rule->window,
                   (long long)d->limit, (long long)d->count);
        buf_printf(out, ",\"class\":\"%s\",\"event_class\":\"%s\"",
                   policy_class_name(d->rule->ipclass), policy_class_name(d->evclass));
        if (d->rule->novelty != HJ_N_ANY)
            buf_printf(out, ",\"novel\":\"%s\"", policy_novelty_name(d->rule->novelty));
        if (d->novel >= 0)
            buf_printf(out, ",\"novel_network\":%s", d->novel ? "true" : "false");
    }
    if (d->until) {
        timeconv_rfc3339(d->until, d->tzoff, ts, sizeof(ts));
        buf_printf(out, ",\"until\":\"%s\"", ts);
    }
    json_kv(out, "client_ip", d->client_ip);
    json_kv(out, "client_name", d->client_name);
    json_ips(d, out);
    json_kv(out, "queue_id", d->queue_id);
    json_kv(out, "sender", d->sender);
    json_kv(out, "service", d->service);
    json_kv(out, "reason", d->reason);
    if (d->escalated)
        buf_puts(out, ",\"escalated\":true");
    if (d->sig)
        json_signals(d->sig, out);
    if (d->spam != HJ_SPAM_NONE) {
        buf_printf(out, ",\"content\":{\"verdict\":\"%s\"",
                   d->spam == HJ_SPAM_SPAM ? "spam" : "suspect");
        if (d->spam_score != 0 || d->spam_threshold != 0) /* both 0: a log's reject, no score */
            buf_printf(out, ",\"score\":%.2f,\"threshold\":%.2f", d->spam_score,
                       d->spam_threshold);
        if (d->spam_symbols && *d->spam_symbols) {
            buf_puts(out, ",\"symbols\":");
            buf_json_str(out, d->spam_symbols, strlen(d->spam_symbols));
        }
        if (d->spam_subject && *d->spam_subject) {
            buf_puts(out, ",\"subject\":");
            buf_json_str(out, d->spam_subject, strlen(d->spam_subject));
        }
        buf_putc(out, '}');
    }
    if (d->scope == HJ_S_ACCOUNT)
        buf_printf(out, ",\"total_messages\":%lld,\"total_recipients\":%lld",
                   (long long)d->total_messages, (long long)d->total_recipients);
    buf_puts(out, "}\n");
}

void
decision_text(const hj_decision *d, hj_buf *out)
{
    char ts[48], w[32], ip[64];

    timeconv_rfc3339(d->t, d->tzoff, ts, sizeof(ts));
    buf_printf(out, "%s  %-8s %s", ts, policy_action_name(d->action),
               *d->entity ? d->entity : "(server)");
    if (d->rule) {
        timeconv_duration_str(d->rule->window, w, sizeof(w));
        buf_printf(out, "  rule %s: %s %lld > %lld in %s (%s)", d->rule->name,
                   policy_metric_name(d->rule->metric), (long long)d->count, (long long)d->limit, w,
                   policy_class_name(d->evclass));
    }
    if (d->reason)
        buf_printf(out, "  %s", d->reason);
    if (d->escalated)
        buf_puts(out, "  escalated: locked again soon after an automatic unlock");
    for (int i = 0, n = 0; d->sig && i < HJ_SIG__COUNT; i++) {
        if (!(d->sig->fired & (1u << i)))
            continue;
        buf_printf(out, "%s%s=", n++ ? "," : "  signals ", policy_signal_name((hj_signal)i));
        sig_value((hj_signal)i, d->sig->value[i], out, 0);
    }
    if (d->spam != HJ_SPAM_NONE)
        buf_printf(out, "  content %s", d->spam == HJ_SPAM_SPAM ? "spam" : "suspect");
    if (d->spam != HJ_SPAM_NONE && (d->spam_score != 0 || d->spam_threshold != 0))
        buf_printf(out, " %.2f/%.2f", d->spam_score, d->spam_threshold);
    if (d->client_ip && *d->client_ip)
        buf_printf(out, "  from %s[%s]", d->client_name && *d->client_name ? d->client_name : "?",
                   d->client_ip);
    if (d->nips > 1) {
        buf_puts(out, "  ips");
        for (int i = 0; i < d->nips; i++) {
            netaddr_str(&d->ips[i], ip, sizeof(ip));
            buf_printf(out, "%s%s", i ? "," : " ", ip);
        }
    }
    buf_putc(out, '\n');
}
