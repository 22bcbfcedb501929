/*
 * ctl_show - hijackctl's text for people: the daemon's answers as tables (see hijackctl.c)
 *
 * DESCRIPTION
 *	Each show_*() turns one command's answer body (a JSON object, see
 *	docs/hijackctl.md) into aligned tables or key: value blocks in out.
 *	Every string from the daemon goes through buf_put_safe(): C0/C1 controls,
 *	DEL, line separators and bidirectional controls are shown as '?'.
 *	fail() prints "hijackctl: MESSAGE" on stderr the same way. No global
 *	state besides constant tables; allocation failure is fatal.
 */
#include "ctl_show.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../util/alloc.h"
#include "../../util/timeconv.h"

#define CTL_SPARK_HOURS 48 /* hours of the recipients-per-hour line of "show" */
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---------------------------------------------------------------- text for people */

/* fail - "hijackctl: MESSAGE" on stderr, control characters shown as '?' */
void
fail(const char *fmt, ...)
{
    hj_buf raw = HJ_BUF_INIT, safe = HJ_BUF_INIT;
    va_list ap;

    va_start(ap, fmt);
    buf_vprintf(&raw, fmt, ap);
    va_end(ap);
    buf_put_safe(&safe, buf_str(&raw));
    fprintf(stderr, "hijackctl: %s\n", buf_str(&safe));
    buf_free(&raw);
    buf_free(&safe);
}

/* text_width - columns s takes: its UTF-8 code points */
static size_t
text_width(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

/* age - a number of seconds for people: 3d04h, 5h07m, 12m30s, 40s */
static void
age(hj_buf *out, int64_t s)
{
    if (s >= 86400)
        buf_printf(out, "%lldd%02lldh", (long long)(s / 86400), (long long)(s % 86400 / 3600));
    else if (s >= 3600)
        buf_printf(out, "%lldh%02lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
    else if (s >= 60)
        buf_printf(out, "%lldm%02llds", (long long)(s / 60), (long long)(s % 60));
    else
        buf_printf(out, "%llds", (long long)s);
}

/* jtext - any JSON value as text: null, absent and "" are "-", arrays joined with "," */
static void
jtext(hj_buf *out, json_t *v)
{
    if (v == NULL || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0)) {
        buf_putc(out, '-');
    } else if (json_is_string(v)) {
        buf_put_safe(out, json_string_value(v));
    } else if (json_is_integer(v)) {
        buf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    } else if (json_is_real(v)) {
        buf_printf(out, "%g", json_real_value(v));
    } else if (json_is_boolean(v)) {
        buf_puts(out, json_is_true(v) ? "yes" : "no");
    } else if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++) {
            buf_puts(out, i ? "," : "");
            jtext(out, json_array_get(v, i));
        }
        buf_puts(out, json_array_size(v) ? "" : "-");
    } else {
        char *s = json_dumps(v, JSON_COMPACT);
        buf_put_safe(out, s ? s : "?");
        free(s);
    }
}

enum { FMT_PLAIN, FMT_AGE, FMT_WINDOW, FMT_PCT };

/* jfmt - v as text in one of the FMT_ forms (a number in the wrong form is shown plainly) */
static void
jfmt(hj_buf *out, json_t *v, int fmt)
{
    char w[32];

    if (fmt == FMT_AGE && json_is_integer(v)) {
        age(out, json_integer_value(v));
    } else if (fmt == FMT_WINDOW && json_is_integer(v) && json_integer_value(v) > 0) {
        timeconv_duration_str(json_integer_value(v), w, sizeof(w));
        buf_puts(out, w);
    } else if (fmt == FMT_PCT && json_is_number(v)) {
        buf_printf(out, "%.0f%%", json_number_value(v));
    } else {
        jtext(out, v);
    }
}

/* evidence - "count>limit/window" of a decision or lock, "-" without a count */
static void
evidence(hj_buf *out, json_t *o)
{
    json_t *count = json_object_get(o, "count");

    if (!json_is_number(count)) {
        buf_putc(out, '-');
        return;
    }
    jtext(out, count);
    buf_putc(out, '>');
    jtext(out, json_object_get(o, "limit"));
    buf_putc(out, '/');
    jfmt(out, json_object_get(o, "window"), FMT_WINDOW);
}

/* ---------------------------------------------------------------- tables */

typedef struct tbl {
    size_t ncols, n, cap;
    char **cell; /* row after row, the header first */
} tbl;

static void
tbl_take(tbl *t, hj_buf *b)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 64;
        t->cell = xrealloc(t->cell, t->cap * sizeof(char *));
    }
    t->cell[t->n++] = xstrdup(buf_str(b));
    buf_reset(b);
}

/* tbl_init - a table with these column headers (NULL-terminated) */
static void
tbl_init(tbl *t, const char *const *heads)
{
    hj_buf b = HJ_BUF_INIT;

    memset(t, 0, sizeof(*t));
    for (; heads[t->ncols]; t->ncols++) {
        buf_puts(&b, heads[t->ncols]);
        tbl_take(t, &b);
    }
    buf_free(&b);
}

/* tbl_json - the next cell: v as text (jfmt) */
static void
tbl_json(tbl *t, json_t *v, int fmt)
{
    hj_buf b = HJ_BUF_INIT;

    jfmt(&b, v, fmt);
    tbl_take(t, &b);
    buf_free(&b);
}

static void
tbl_evidence(tbl *t, json_t *o)
{
    hj_buf b = HJ_BUF_INIT;

    evidence(&b, o);
    tbl_take(t, &b);
    buf_free(&b);
}

/* tbl_print - the table with aligned columns (no trailing blanks), then free it */
static void
tbl_print(tbl *t, hj_buf *out)
{
    size_t *w = xcalloc(t->ncols, sizeof(size_t));

    for (size_t i = 0; i < t->n; i++)
        if (text_width(t->cell[i]) > w[i % t->ncols])
            w[i % t->ncols] = text_width(t->cell[i]);
    for (size_t i = 0; i < t->n; i++) {
        size_t col = i % t->ncols;
        buf_puts(out, t->cell[i]);
        if (col + 1 == t->ncols || i + 1 == t->n)
            buf_putc(out, '\n');
        else
            buf_printf(out, "%*s", (int)(w[col] - text_width(t->cell[i]) + 2), "");
        free(t->cell[i]);
    }
    free(t->cell);
    free(w);
}

/* ---------------------------------------------------------------- human forms of the answers */

static const struct kv_row {
    const char *label, *key, *sub; /* body[key] or body[key][sub] */
    int fmt;
} status_rows[] = {
    {"version", "version", NULL, FMT_PLAIN},
    {"started", "started", NULL, FMT_PLAIN},
    {"uptime", "uptime", NULL, FMT_AGE},
    {"store", "store", NULL, FMT_PLAIN},
    {"policy", "listeners", "policy", FMT_PLAIN},
    {"http", "listeners", "http", FMT_PLAIN},
    {"control", "listeners", "control", FMT_PLAIN},
    {"accounts", "accounts", NULL, FMT_PLAIN},
    {"locked", "locked", NULL, FMT_PLAIN},
    {"throttled", "throttled", NULL, FMT_PLAIN},
    {"role", "role", NULL, FMT_PLAIN},
};

/* kv_rows - "label:  value" lines */
static void
kv_rows(json_t *body, const struct kv_row *rows, size_t n, hj_buf *out)
{
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_object_get(body, rows[i].key);
        if (rows[i].sub)
            v = json_object_get(v, rows[i].sub);
        buf_printf(out, "%-12s", rows[i].label);
        jfmt(out, v, rows[i].fmt);
        buf_putc(out, '\n');
    }
}

void
show_status(json_t *body, hj_buf *out)
{
    kv_rows(body, status_rows, NELEM(status_rows), out);
}

void
show_locked(json_t *body, hj_buf *out)
{
    json_t *list = json_object_get(body, "locked"), *l;
    size_t i;
    tbl t;

    if (json_array_size(list) == 0) {
        buf_puts(out, "no account is locked\n");
        return;
    }
    tbl_init(&t, (const char *[]){"ACCOUNT", "SINCE", "UNTIL", "RULE", "EVIDENCE", "CLIENT IPS",
                                  "ACTOR", "REASON", NULL});
    json_array_foreach(list, i, l)
    {
        tbl_json(&t, json_object_get(l, "account"), FMT_PLAIN);
        tbl_json(&t, json_object_get(l, "since"), FMT_PLAIN);
        tbl_json(&t, json_object_get(l, "until"), FMT_PLAIN);
        tbl_json(&t, json_object_get(l, "rule"), FMT_PLAIN);
        tbl_evidence(&t, l);
        tbl_json(&t, json_object_get(l, "client_ips"), FMT_PLAIN);
        tbl_json(&t, json_object_get(l, "actor"), FMT_PLAIN);
        tbl_json(&t, json_object_get(l, "reason"), FMT_PLAIN);
    }
    tbl_print(&t, out);
}

/* decisions_table - decisions one per line; with_account adds that column */
static void
decisions_table(json_t *list, int with_account, hj_buf *out)
{
    json_t *d;
    size_t i;
    tbl t;

    if (with_account)
        tbl_init(&t, (const char *[]){"TS", "ACTION", "ACCOUNT", "RULE", "EVIDENCE", "CLIENT",
                                      "SCORE", "REASON", NULL});
    else
        tbl_init(&t, (const char *[]){"TS", "ACTION", "RULE", "EVIDENCE", "CLIENT", "SCORE",
                                      "REASON", NULL});
    json_array_foreach(list, i, d)
    {
        tbl_json(&t, json_object_get(d, "ts"), FMT_PLAIN);
        tbl_json(&t, json_object_get(d, "action"), FMT_PLAIN);
        if (with_account)
            tbl_json(&t, json_object_get(d, "account"), FMT_PLAIN);
        tbl_json(&t, json_object_get(d, "rule"), FMT_PLAIN);
        tbl_evidence(&t, d);
        tbl_json(&t, json_object_get(d, "client_ip"), FMT_PLAIN);
        tbl_json(&t, json_object_get(d, "score"), FMT_PLAIN);
        tbl_json(&t, json_object_get(d, "reason"), FMT_PLAIN);
    }
    tbl_print(&t, out);
}

void
show_decisions(json_t *body, hj_buf *out)
{
    json_t *list = json_object_get(body, "decisions");

    if (json_array_size(list) == 0)
        buf_puts(out, "no decisions\n");
    else
        decisions_table(list, 1, out);
}

void
show_history(json_t *body, hj_buf *out)
{
    static const char *const keys[] = {"ts", "action", "account", "rule", "actor", "reason"};
    json_t *list = json_object_get(body, "history"), *h;
    size_t i;
    tbl t;

    if (json_array_size(list) == 0) {
        buf_puts(out, "no history\n");
        return;
    }
    tbl_init(&t, (const char *[]){"TS", "ACTION", "ACCOUNT", "RULE", "ACTOR", "REASON", NULL});
    json_array_foreach(list, i, h)
    {
        for (size_t k = 0; k < NELEM(keys); k++)
            tbl_json(&t, json_object_get(h, keys[k]), FMT_PLAIN);
    }
    tbl_print(&t, out);
}

void
show_top(json_t *body, hj_buf *out)
{
    static const char *const keys[] = {"account", "messages", "recipients", "state"};
    json_t *list = json_object_get(body, "top"), *e;
    size_t i;
    tbl t;

    buf_puts(out, "top senders, last ");
    jfmt(out, json_object_get(body, "window"), FMT_WINDOW);
    buf_puts(out, ":\n");
    if (json_array_size(list) == 0) {
        buf_puts(out, "nobody sent anything\n");
        return;
    }
    tbl_init(&t, (const char *[]){"ACCOUNT", "MESSAGES", "RECIPIENTS", "STATE", NULL});
    json_array_foreach(list, i, e)
    {
        for (size_t k = 0; k < NELEM(keys); k++)
            tbl_json(&t, json_object_get(e, keys[k]), FMT_PLAIN);
    }
    tbl_print(&t, out);
}

void
show_exempt(json_t *body, hj_buf *out)
{
    json_t *list = json_object_get(body, "exempt"), *p;
    size_t i;

    if (json_array_size(list) == 0)
        buf_puts(out, "no exemptions\n");
    json_array_foreach(list, i, p)
    {
        jtext(out, p);
        buf_putc(out, '\n');
    }
}

void
show_lock(json_t *body, hj_buf *out)
{
    jtext(out, json_object_get(body, "account"));
    buf_puts(out, " is now ");
    jtext(out, json_object_get(body, "state"));
    buf_putc(out, '\n');
}

void
show_reload(json_t *body, hj_buf *out)
{
    (void)body;
    buf_puts(out, "hijackd reloaded its configuration\n");
}

/* ---------------------------------------------------------------- queue purge */

/* purge_rows - "ID  rule  <sender>" for the matches whose "delete" is del */
static void
purge_rows(json_t *matches, int del, hj_buf *out)
{
    size_t i;
    json_t *m;

    json_array_foreach(matches, i, m)
    {
        if (json_is_true(json_object_get(m, "delete")) != del)
            continue;
        jtext(out, json_object_get(m, "queue_id"));
        buf_puts(out, "  ");
        hj_buf rule = HJ_BUF_INIT;
        jtext(&rule, json_object_get(m, "rule"));
        buf_printf(out, "%-22s  <", buf_str(&rule));
        buf_free(&rule);
        json_t *snd = json_object_get(m, "sender");
        if (json_is_string(snd))
            buf_put_safe(out, json_string_value(snd));
        buf_puts(out, ">\n");
    }
}

/* kept_sender_only - a sender-only message is kept (--by-sender would delete it) */
static int
kept_sender_only(json_t *matches)
{
    size_t i;
    json_t *m;

    json_array_foreach(matches, i, m)
    {
        const char *rule = json_string_value(json_object_get(m, "rule"));
        if (rule && strcmp(rule, "sender-only") == 0 && !json_is_true(json_object_get(m, "delete")))
            return 1;
    }
    return 0;
}

/* show_purge - queue purge (release): what is (or would be) deleted (released), by which rule,
 * and what is kept */
void
show_purge(json_t *body, hj_buf *out)
{
    const char *act = json_string_value(json_object_get(body, "action"));
    int rel = act && strcmp(act, "release") == 0;
    int dry = json_is_true(json_object_get(body, "dry_run"));
    json_int_t n = json_integer_value(json_object_get(body, "messages"));
    json_int_t kept = json_integer_value(json_object_get(body, "kept"));
    json_t *matches = json_object_get(body, "matches"), *acct = json_object_get(body, "account");

    if (n > 0) {
        buf_printf(out,
                   "%s %" JSON_INTEGER_FORMAT " messages (%" JSON_INTEGER_FORMAT " recipients) of ",
                   dry ? (rel ? "dry run: would release" : "dry run: would delete")
                       : (rel ? "released" : "deleted"),
                   n,
                   json_integer_value(json_object_get(body, "recipients")));
        jtext(out, acct);
        buf_puts(out, ":\n");
        purge_rows(matches, 1, out);
    }
    if (kept > 0) {
        buf_printf(out, "kept %" JSON_INTEGER_FORMAT " message%s of ", kept, kept == 1 ? "" : "s");
        jtext(out, acct);
        buf_puts(out, " (not provably the account's):\n");
        purge_rows(matches, 0, out);
        if (kept_sender_only(matches))
            buf_puts(out, "(sender-only messages are deleted only with --by-sender)\n");
    }
    if (dry && n > 0)
        buf_puts(out, rel ? "(nothing released: add --yes to release them)\n"
                          : "(nothing deleted: add --yes to delete them)\n");
}

/* show_held - queue held: one line per held message: queue ID, account (or -), sender, rcpts */
void
show_held(json_t *body, hj_buf *out)
{
    json_t *rows = json_object_get(body, "held"), *m;
    size_t i;

    buf_printf(out, "%" JSON_INTEGER_FORMAT " held message%s (%" JSON_INTEGER_FORMAT
               " recipients)\n",
               json_integer_value(json_object_get(body, "messages")),
               json_array_size(rows) == 1 ? "" : "s",
               json_integer_value(json_object_get(body, "recipients")));
    json_array_foreach(rows, i, m)
    {
        json_t *a = json_object_get(m, "account");
        jtext(out, json_object_get(m, "queue_id"));
        buf_puts(out, "  ");
        if (json_is_string(a))
            jtext(out, a);
        else
            buf_putc(out, '-');
        buf_puts(out, "  <");
        if (json_is_string(json_object_get(m, "sender")))
            buf_put_safe(out, json_string_value(json_object_get(m, "sender")));
        buf_printf(out, ">  %" JSON_INTEGER_FORMAT " rcpt\n",
                   json_integer_value(json_object_get(m, "recipients")));
    }
}

/* ---------------------------------------------------------------- show ACCOUNT */

static const struct kv_part {
    const char *key;
    int fmt;
} lock_parts[] = {{"since", FMT_PLAIN},
                  {"until", FMT_PLAIN},
                  {"rule", FMT_PLAIN},
                  {"reason", FMT_PLAIN},
                  {NULL, 0}};

static const struct kv_part normal_parts[] = {
    {"networks", FMT_PLAIN},     {"clients", FMT_PLAIN},
    {"domains", FMT_PLAIN},      {"messages", FMT_PLAIN},
    {"novel_share", FMT_PCT},    {"unknown_share", FMT_PCT},
    {"freemail_share", FMT_PCT}, {NULL, 0}};

static const struct kv_part totals_parts[] = {{"messages", FMT_PLAIN},
                                              {"recipients", FMT_PLAIN},
                                              {"first_seen", FMT_PLAIN},
                                              {"last_seen", FMT_PLAIN},
                                              {NULL, 0}};

/* kv_inline - "label: key value, key value, ..." of an object, or "label: -" */
static void
kv_inline(hj_buf *out, const char *label, json_t *o, const struct kv_part *parts)
{
    buf_printf(out, "%-12s", label);
    if (!json_is_object(o))
        buf_putc(out, '-');
    for (size_t i = 0; json_is_object(o) && parts[i].key; i++) {
        buf_printf(out, "%s%s ", i ? ", " : "", parts[i].key);
        jfmt(out, json_object_get(o, parts[i].key), parts[i].fmt);
    }
    buf_putc(out, '\n');
}

static void
show_counters(json_t *list, hj_buf *out)
{
    json_t *c;
    size_t i;
    tbl t;

    if (json_array_size(list) == 0) {
        buf_puts(out, "\nno counters\n");
        return;
    }
    buf_putc(out, '\n');
    tbl_init(&t, (const char *[]){"RULE", "METRIC", "WINDOW", "COUNT", "LIMIT", "ACTION", NULL});
    json_array_foreach(list, i, c)
    {
        tbl_json(&t, json_object_get(c, "rule"), FMT_PLAIN);
        tbl_json(&t, json_object_get(c, "metric"), FMT_PLAIN);
        tbl_json(&t, json_object_get(c, "window"), FMT_WINDOW);
        tbl_json(&t, json_object_get(c, "count"), FMT_PLAIN);
        tbl_json(&t, json_object_get(c, "limit"), FMT_PLAIN);
        tbl_json(&t, json_object_get(c, "action"), FMT_PLAIN);
    }
    tbl_print(&t, out);
}

/* bit_length - 1 + floor(log2(v)) for v > 0 */
static int
bit_length(json_int_t v)
{
    int n = 0;

    for (; v > 0; v >>= 1)
        n++;
    return n;
}

/* spark_level - the character for v of max: '_' for none, then 9 steps on a log2 scale */
static char
spark_level(json_int_t v, json_int_t max)
{
    static const char levels[] = "_.-:=+*#%@";
    int b = bit_length(v), bmax = bit_length(max);

    return v <= 0 ? levels[0] : levels[(9 * b + bmax - 1) / bmax];
}

/* spark - recipients per hour, the last CTL_SPARK_HOURS, as one line of ASCII levels */
static void
spark(json_t *hourly, hj_buf *out)
{
    json_t *rc = json_object_get(hourly, "recipients");
    json_int_t step = json_integer_value(json_object_get(hourly, "step")), max = 0, total = 0;
    size_t n = json_array_size(rc), first = n > CTL_SPARK_HOURS ? n - CTL_SPARK_HOURS : 0;
    int64_t start;
    char when[40] = "?";

    if (n == 0)
        return;
    for (size_t i = first; i < n; i++) {
        json_int_t v = json_integer_value(json_array_get(rc, i));
        max = v > max ? v : max, total += v > 0 ? v : 0;
    }
    if (timeconv_parse_rfc3339(json_string_value(json_object_get(hourly, "start")), &start) == 0)
        timeconv_rfc3339(start + (int64_t)first * (step > 0 ? step : 3600), 0, when, sizeof(when));
    buf_printf(out,
               "\nrecipients per hour, %zu h from %s (max %" JSON_INTEGER_FORMAT
               ", total %" JSON_INTEGER_FORMAT "; log scale _.-:=+*#%%@):\n  ",
               n - first, when, max, total);
    for (size_t i = first; i < n; i++)
        buf_putc(out, spark_level(json_integer_value(json_array_get(rc, i)), max));
    buf_putc(out, '\n');
}

void
show_account(json_t *body, hj_buf *out)
{
    json_t *dec = json_object_get(body, "decisions");

    buf_printf(out, "%-12s", "account");
    jtext(out, json_object_get(body, "account"));
    buf_printf(out, "\n%-12s", "state");
    jtext(out, json_object_get(body, "state"));
    buf_putc(out, '\n');
    kv_inline(out, "lock", json_object_get(body, "lock"), lock_parts);
    kv_inline(out, "throttle", json_object_get(body, "throttle"), lock_parts);
    if (json_is_object(json_object_get(body, "hold"))) /* a line only while held */
        kv_inline(out, "hold", json_object_get(body, "hold"), lock_parts);
    buf_printf(out, "%-12s", "recent ips");
    jtext(out, json_object_get(body, "recent_ips"));
    buf_putc(out, '\n');
    kv_inline(out, "normal", json_object_get(body, "normal"), normal_parts);
    kv_inline(out, "totals", json_object_get(body, "totals"), totals_parts);
    show_counters(json_object_get(body, "counters"), out);
    spark(json_object_get(body, "hourly"), out);
    buf_puts(out, json_array_size(dec) ? "\nlast decisions:\n" : "\nno decisions\n");
    if (json_array_size(dec))
        decisions_table(dec, 0, out);
}
