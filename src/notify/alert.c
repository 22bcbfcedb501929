/*
 * alert - the texts of notification mails (see alert.h)
 */
#include "alert.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/alloc.h"
#include "../util/timeconv.h"
#include "../util/tmpl.h"

/* str - a string member, or def */
static const char *
str(json_t *o, const char *key, const char *def)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : def;
}

/* num - an integer member of the decision, or -1 */
static long long
dnum(json_t *inc, const char *key)
{
    json_t *v = json_object_get(json_object_get(inc, "decision"), key);
    return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

/* hdr - "Name: value" with control characters in the value replaced */
static void
hdr(hj_buf *out, const char *name, const char *value)
{
    buf_printf(out, "%s: ", name);
    buf_put_safe(out, value);
    buf_putc(out, '\n');
}

/* past - "locked", "throttled", ... for an action name */
static const char *
past(const char *action)
{
    static const char *const t[][2] = {{"lock", "locked"},
                                       {"throttle", "throttled"},
                                       {"hold", "held"},
                                       {"warn", "warned about"},
                                       {"relay", "relaying"},
                                       {"unlock", "unlocked"}};
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if (strcmp(action, t[i][0]) == 0)
            return t[i][1];
    return action;
}

/* window - the rule's window for people ("30m") */
static const char *
window(json_t *inc, char w[32])
{
    timeconv_duration_str(dnum(inc, "window"), w, 32);
    return w;
}

/* who - the account, control characters shown as '?' (no forged line), or "the server" */
static void
who(json_t *inc, hj_buf *out)
{
    const char *a = str(inc, "account", "");

    buf_put_safe(out, *a ? a : "the server");
}

void
alert_summary(json_t *inc, hj_buf *out)
{
    char w[32];
    const char *action = str(inc, "action", "?");
    json_t *d = json_object_get(inc, "decision");

    buf_printf(out, "hijackd@%s: ", str(inc, "host", "?"));
    who(inc, out);
    buf_printf(out, " %s", past(action));
    if (*str(inc, "rule", ""))
        buf_printf(out, " by rule %s", str(inc, "rule", ""));
    if (dnum(inc, "limit") >= 0)
        buf_printf(out, " (%s %lld > %lld in %s)", str(d, "metric", "?"), dnum(inc, "count"),
                   dnum(inc, "limit"), window(inc, w));
    if (*str(d, "client_ip", ""))
        buf_printf(out, " from %s", str(d, "client_ip", ""));
    if (json_is_true(json_object_get(inc, "escalated")))
        buf_puts(out, "; escalated: only an admin can unlock");
}

/* list - the strings of an array, comma-separated, at most max */
static void
list(json_t *a, size_t max, hj_buf *out)
{
    size_t i;
    json_t *v;

    json_array_foreach(a, i, v)
    {
        if (i == max) {
            buf_printf(out, ", ... (%zu in all)", json_array_size(a));
            break;
        }
        buf_printf(out, "%s%s", i ? ", " : "", json_string_value(v) ? json_string_value(v) : "?");
    }
}

/* content - what the anti-spam engine judged, when its verdict made the decision */
static void
content(json_t *d, hj_buf *out)
{
    json_t *c = json_object_get(d, "content");
    static const char *const keys[] = {"subject", "symbols"};

    if (!json_is_object(c))
        return;
    buf_printf(out, "  the anti-spam engine (through %s) judged the message %s", str(d, "service", "?"),
               str(c, "verdict", "?"));
    if (json_is_number(json_object_get(c, "score")))
        buf_printf(out, ", score %.2f of %.2f", json_number_value(json_object_get(c, "score")),
                   json_number_value(json_object_get(c, "threshold")));
    buf_printf(out, ", queue ID %s\n", str(d, "queue_id", "?"));
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (*str(c, keys[i], "")) {
            buf_printf(out, "  %s: ", keys[i]);
            buf_put_safe(out, str(c, keys[i], ""));
            buf_putc(out, '\n');
        }
}

/* why - the rule, the count and the signals */
static void
why(json_t *inc, hj_buf *out)
{
    json_t *d = json_object_get(inc, "decision"), *sig = json_object_get(d, "signals");
    const char *k;
    json_t *v;
    int first = 1;
    char w[32];

    buf_puts(out, "Why\n");
    if (dnum(inc, "limit") >= 0)
        buf_printf(out, "  rule %s: %s was %lld in the last %s, over the limit of %lld\n",
                   str(inc, "rule", "?"), str(d, "metric", "?"), dnum(inc, "count"), window(inc, w),
                   dnum(inc, "limit"));
    else
        buf_printf(out, "  %s\n", str(d, "reason", "an admin's decision"));
    json_object_foreach(sig, k, v)
    {
        char *s = json_dumps(v, JSON_ENCODE_ANY);
        buf_printf(out, "%s%s=%s", first ? "  signals of that message: " : ", ", k, s ? s : "?");
        free(s), first = 0;
    }
    if (!first)
        buf_printf(out, " (its score: %lld%s)\n", dnum(inc, "score"),
                   dnum(inc, "score") > 0 ? "" : ", too few kinds of evidence agreed to score");
    content(d, out);
    if (json_is_true(json_object_get(inc, "escalated")))
        buf_puts(out, "  escalated: locked again soon after an automatic unlock, so this lock\n"
                      "  has no automatic unlock: only an admin lifts it\n");
}

/* evidence - where from, how much, to whom */
static void
evidence(json_t *inc, hj_buf *out)
{
    json_t *d = json_object_get(inc, "decision");

    buf_puts(out, "\nEvidence\n");
    if (*str(d, "client_ip", ""))
        buf_printf(out, "  the message that tipped it came from %s [%s] (%s)%s\n",
                   str(d, "client_name", "unknown"), str(d, "client_ip", ""),
                   str(d, "event_class", "?"),
                   json_is_true(json_object_get(d, "novel_network"))
                       ? ", on a network this account had not used before"
                       : "");
    if (json_array_size(json_object_get(d, "client_ips"))) {
        buf_puts(out, "  recent client addresses: ");
        list(json_object_get(d, "client_ips"), 8, out);
        buf_putc(out, '\n');
    }
    if (dnum(inc, "total_messages") >= 0)
        buf_printf(out, "  since first seen: %lld messages, %lld recipients\n",
                   dnum(inc, "total_messages"), dnum(inc, "total_recipients"));
    if (json_array_size(json_object_get(inc, "recipients"))) {
        buf_puts(out, "  recent recipients: ");
        list(json_object_get(inc, "recipients"), 10, out);
        buf_putc(out, '\n');
    }
    if (*str(d, "queue_id", ""))
        buf_printf(out, "  queue ID of that message: %s\n", str(d, "queue_id", ""));
}

/* paste_safe - a name that may go into a command line for a root shell: printable ASCII only
 * (no control character, no newline, no bidirectional override, nothing that looks alike) */
static int
paste_safe(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            return 0;
    return 1;
}

/* sh_word - s as one POSIX sh word: in '...', each ' written as '\'' (close, quoted ', open) */
static void
sh_word(hj_buf *out, const char *s)
{
    buf_putc(out, '\'');
    for (; *s; s++)
        *s == '\'' ? buf_puts(out, "'\\''") : buf_putc(out, *s);
    buf_putc(out, '\'');
}

/* command - one line of "What to do": the hijackctl words, "--", the account as one word */
static void
command(hj_buf *out, const char *what, const char *words, const char *account)
{
    buf_printf(out, "  %-23s hijackctl %s -- ", what, words);
    sh_word(out, account);
    buf_putc(out, '\n');
}

/* todo - the commands (only for a name that is safe to paste), and the token */
static void
todo(const alert_conf *c, json_t *inc, hj_buf *out)
{
    const char *a = str(inc, "account", "");

    buf_puts(out, "\nWhat to do\n");
    if (strcmp(str(inc, "action", ""), "relay") == 0) {
        buf_puts(out, "  find who relays:        hijackctl queue\n");
        return;
    }
    if (paste_safe(a)) {
        command(out, "look at the evidence:", "show", a);
        command(out, "purge its queued mail:", "queue purge --yes", a);
        command(out, "unlock:", "unlock --reason 'password changed'", a);
    } else {
        buf_puts(out, "  the account's name has characters that are not safe to paste into a\n"
                      "  shell: no command lines here; find it with hijackctl locked\n");
    }
    if (*str(inc, "token", "") && *c->reply_to)
        buf_printf(out,
                   "  or reply to this mail from an unlock admin address; the token below\n"
                   "  unlocks this incident once, until %s:\n"
                   "    %s\n",
                   str(inc, "token_expires", "?"), str(inc, "token", ""));
}

int
alert_address_ok(const char *a)
{
    const char *at = strchr(a, '@');
    size_t n = strlen(a);

    if (n < 3 || n > 254 || at == NULL || at == a || at[1] == 0 || strchr(at + 1, '@'))
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)a[i];
        size_t k = c < 0x80 ? 1 : buf_utf8_seq(a + i, n - i);
        if (c <= ' ' || c == 0x7f || strchr("()<>[],;:\\\"", c) || k == 0)
            return 0;
        i += k - 1;
    }
    return 1;
}

/* one - the body section of one incident */
static void
one(const alert_conf *c, json_t *inc, const char *queue, hj_buf *out)
{
    const char *action = str(inc, "action", "");

    buf_printf(out, "hijackd on %s %s ", str(inc, "host", "?"), past(action));
    who(inc, out);
    buf_printf(out, " at %s.\n", str(inc, "ts", "?"));
    if (strcmp(action, "lock") == 0)
        buf_printf(out, "It can still receive mail; it cannot send%s%s.\n",
                   *str(inc, "until", "") ? " until " : "", str(inc, "until", ""));
    else if (strcmp(action, "throttle") == 0)
        buf_printf(out, "Its mail is deferred (4xx) until %s.\n", str(inc, "until", "?"));
    buf_putc(out, '\n');
    why(inc, out);
    evidence(inc, out);
    if (queue)
        buf_printf(out, "\nIn Postfix's queue for this account\n%s", queue);
    todo(c, inc, out);
}

/* headers - the common headers of a mail to the postmaster */
static void headers(const alert_conf *c, const char *subject, const char *incident, hj_buf *out);

void
alert_scanner(const alert_conf *c, json_t *inc, hj_buf *out)
{
    int down = strcmp(str(inc, "state", ""), "down") == 0;
    hj_buf subj = HJ_BUF_INIT;

    buf_printf(&subj, "[hijackd] the spam scanner is %s", down ? "down" : "back");
    headers(c, buf_str(&subj), NULL, out);
    buf_printf(out, "hijackd on %s: the anti-spam scanner ", str(inc, "host", "?"));
    buf_put_safe(out, str(inc, "scanner", "?"));
    if (down) {
        buf_printf(out, " has not answered since %s (", str(inc, "since", "?"));
        buf_put_safe(out, str(inc, "why", "?"));
        buf_puts(out, ").\n\nMeanwhile the milter lets authenticated mail pass unscanned: the spam\n"
                      "rules (spam_warn, spam_lock_1h, ...) see nothing, the other rules still\n"
                      "judge. See hijackd_scans_unscanned_total{reason} on /metrics and the\n"
                      "\"spam scanner:\" lines of hijackd's log. Another mail says when it is back.\n");
    } else
        buf_printf(out, " answers again (it was down from %s).\n", str(inc, "since", "?"));
    buf_free(&subj);
}

/* headers - the common headers of a mail to the postmaster */
static void
headers(const alert_conf *c, const char *subject, const char *incident, hj_buf *out)
{
    hdr(out, "From", c->from);
    hdr(out, "To", c->to);
    if (*c->reply_to)
        hdr(out, "Reply-To", c->reply_to);
    hdr(out, "Subject", subject);
    hdr(out, "Auto-Submitted", "auto-generated");
    if (incident)
        hdr(out, "X-Hijackd-Incident", incident);
    buf_puts(out, "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
                  "Content-Transfer-Encoding: 8bit\n\n");
}

void
alert_mail(const alert_conf *c, json_t *const *incs, const char *const *queue, size_t n,
           hj_buf *out)
{
    hj_buf subj = HJ_BUF_INIT;

    if (n == 1) {
        const char *acct = str(incs[0], "account", "");
        buf_printf(&subj, "[hijackd] %s %s", *acct ? acct : "the server",
                   past(str(incs[0], "action", "")));
        if (*str(incs[0], "rule", ""))
            buf_printf(&subj, " (%s)", str(incs[0], "rule", ""));
        if (*str(incs[0], "token", "") && *c->reply_to)
            buf_printf(&subj, " [%s]", str(incs[0], "token", ""));
        headers(c, subj.s, str(incs[0], "incident", NULL), out);
        one(c, incs[0], queue ? queue[0] : NULL, out);
        buf_puts(out, "\nThe decision, as recorded:\n");
        char *js = json_dumps(json_object_get(incs[0], "decision"), JSON_COMPACT);
        buf_printf(out, "%s\n", js ? js : "{}");
        free(js);
    } else {
        buf_printf(&subj, "[hijackd] digest: %zu incidents", n);
        headers(c, subj.s, NULL, out);
        buf_printf(out,
                   "More incidents than alert_max allows in alert_interval: here are %zu "
                   "together.\n",
                   n);
        for (size_t i = 0; i < n; i++) {
            buf_printf(out, "\n==== %zu of %zu: ", i + 1, n);
            alert_summary(incs[i], out);
            buf_puts(out, "\n\n");
            one(c, incs[i], queue ? queue[i] : NULL, out);
        }
    }
    buf_free(&subj);
}

void
alert_notice(const alert_conf *c, json_t *inc, hj_buf *out)
{
    const char *action = str(inc, "action", "");
    const char *until = *str(inc, "until", "") ? str(inc, "until", "") : "until an admin lifts it";
    json_t *content = json_object_get(json_object_get(inc, "decision"), "content");
    tmpl_var v[] = {{"account", str(inc, "account", "")},
                    {"action", past(action)},
                    {"rule", str(inc, "rule", "")},
                    {"time", str(inc, "ts", "")},
                    {"until", until},
                    {"contact", c->contact},
                    {"host", str(inc, "host", "")},
                    {"subject", str(content, "subject", "(no subject)")}};
    hj_buf subj = HJ_BUF_INIT, text = HJ_BUF_INIT;
    const char *t = c->notice_template + 8; /* after "Subject:" (checked at load time) */
    const char *body = strstr(t, "\n\n");
    char *line;

    t += strspn(t, " \t");
    line = xstrndup(t, (size_t)(strchr(t, '\n') - t)); /* the template's first line */
    tmpl_expand(line, v, sizeof(v) / sizeof(v[0]), 1, &subj);
    free(line);
    tmpl_expand(body ? body + 2 : "", v, sizeof(v) / sizeof(v[0]), 0, &text);
    hdr(out, "From", c->from);
    hdr(out, "To", str(inc, "account", ""));
    hdr(out, "Subject", buf_str(&subj));
    hdr(out, "Auto-Submitted", "auto-generated");
    hdr(out, "X-Hijackd-Incident", str(inc, "incident", ""));
    buf_puts(out, "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
                  "Content-Transfer-Encoding: 8bit\n\n");
    buf_puts(out, buf_str(&text));
    buf_free(&subj);
    buf_free(&text);
}
