/*
 * queue - Postfix queue forensics: who fills the queue, and purging them (see queue.h)
 */
#include "queue.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "../util/alloc.h"
#include "../util/child.h"
#include "../util/htab.h"
#include "../util/timeconv.h"

#define QUEUE_ID_MAX 32  /* longer than any queue ID Postfix makes */

/* ---------------------------------------------------------------- queue IDs */

/* Postfix's safe_ultostr() alphabet: digits and consonants; base 52 with 'z', 51 without */
static const char safe_chars[] = "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz";

/* span_in - every one of n bytes at p is in set (and none is NUL) */
static int
span_in(const char *p, size_t n, const char *set)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] == 0 || strchr(set, p[i]) == NULL)
            return 0;
    return 1;
}

int
queue_id_ok(const char *id)
{
    size_t n = id ? strlen(id) : 0;

    if (n < 6 || n > QUEUE_ID_MAX)
        return 0;
    if (span_in(id, n, "0123456789ABCDEF")) /* short: 5 hex digits of usec, inode in hex */
        return 1;
    /* long: time (base 52, 6+4 chars or more), 'z', inode (base 51: no 'z') */
    const char *sep = strrchr(id, 'z');
    if (sep == NULL || sep - id < 10 || sep[1] == 0)
        return 0;
    return span_in(id, (size_t)(sep - id), safe_chars) &&
           span_in(sep + 1, strlen(sep + 1), safe_chars) && strchr(sep + 1, 'z') == NULL;
}

/* ---------------------------------------------------------------- parsing */

/* json_str - string member: 1 present, 0 absent or null, -1 of another type */
static int
json_str(json_t *o, const char *key, const char **out)
{
    json_t *v = json_object_get(o, key);

    *out = NULL;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return -1;
    *out = json_string_value(v);
    return 1;
}

/* json_int - integer member: 1 present, 0 absent or null, -1 of another type */
static int
json_int(json_t *o, const char *key, int64_t *out)
{
    json_t *v = json_object_get(o, key);

    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_integer(v))
        return -1;
    *out = (int64_t)json_integer_value(v);
    return 1;
}

static void
msg_free(queue_msg *m)
{
    for (size_t i = 0; i < m->nrcpts; i++) {
        free(m->rcpts[i].address);
        free(m->rcpts[i].delay_reason);
    }
    free(m->rcpts);
    free(m->queue_name);
    free(m->queue_id);
    free(m->sender);
    memset(m, 0, sizeof(*m));
}

/* msg_rcpts - recipients[]: objects with a string address and an optional delay_reason */
static int
msg_rcpts(json_t *arr, queue_msg *m)
{
    size_t n = json_array_size(arr);

    if (!json_is_array(arr))
        return -1;
    m->rcpts = xcalloc(n ? n : 1, sizeof(queue_rcpt));
    for (size_t i = 0; i < n; i++) {
        json_t *r = json_array_get(arr, i);
        const char *addr, *why;
        if (!json_is_object(r) || json_str(r, "address", &addr) != 1 ||
            json_str(r, "delay_reason", &why) < 0)
            return -1;
        m->rcpts[i].address = xstrdup(addr);
        m->rcpts[i].delay_reason = why ? xstrdup(why) : NULL;
        m->nrcpts++;
    }
    return 0;
}

/* msg_from_json - one postqueue -j object into m; -1 if malformed (m then holds what to free) */
static int
msg_from_json(json_t *o, queue_msg *m)
{
    const char *qname, *qid, *sender;
    json_t *fe = json_object_get(o, "forced_expire");

    memset(m, 0, sizeof(*m));
    m->arrival_time = -1;
    if (json_str(o, "queue_id", &qid) != 1 || !queue_id_ok(qid) ||
        json_str(o, "sender", &sender) != 1 || json_str(o, "queue_name", &qname) < 0 ||
        json_int(o, "arrival_time", &m->arrival_time) < 0 ||
        json_int(o, "message_size", &m->message_size) < 0 || m->message_size < 0 ||
        (fe != NULL && !json_is_boolean(fe) && !json_is_null(fe)))
        return -1;
    m->queue_id = xstrdup(qid);
    m->sender = xstrdup(sender);
    m->queue_name = xstrdup(qname ? qname : "");
    m->forced_expire = fe != NULL && json_is_true(fe);
    return msg_rcpts(json_object_get(o, "recipients"), m);
}

static int
blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
            return 0;
    return 1;
}

int
queue_parse_line(const char *line, size_t len, queue_list *out)
{
    json_error_t jerr;
    queue_msg m;

    if (blank(line, len))
        return 0;
    json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
    int ok = o != NULL && json_is_object(o);
    if (ok && msg_from_json(o, &m) < 0) {
        msg_free(&m);
        ok = 0;
    }
    json_decref(o);
    if (!ok) {
        out->bad_lines++;
        return -1;
    }
    if (out->n == out->cap) {
        out->cap = out->cap ? out->cap * 2 : 64;
        out->msgs = xrealloc(out->msgs, out->cap * sizeof(queue_msg));
    }
    out->msgs[out->n++] = m;
    return 1;
}

void
queue_list_free(queue_list *q)
{
    for (size_t i = 0; i < q->n; i++)
        msg_free(&q->msgs[i]);
    free(q->msgs);
    memset(q, 0, sizeof(*q));
}

/* ---------------------------------------------------------------- queue_read */

typedef struct line_acc {
    hj_buf part; /* an incomplete line carried over between reads */
    queue_list *out;
} line_acc;

/* read_chunk - split postqueue's output into lines as it arrives */
static void
read_chunk(void *ctx, const char *p, size_t n)
{
    line_acc *a = ctx;
    const char *nl;

    while ((nl = memchr(p, '\n', n)) != NULL) {
        size_t k = (size_t)(nl - p);
        if (a->part.len == 0) {
            queue_parse_line(p, k, a->out);
        } else {
            buf_add(&a->part, p, k);
            queue_parse_line(a->part.s, a->part.len, a->out);
            buf_reset(&a->part);
        }
        p += k + 1, n -= k + 1;
    }
    buf_add(&a->part, p, n);
}

int
queue_read(const char *postqueue_path, const char *config_dir, int timeout_s, queue_list *out,
           char *err, size_t errlen)
{
    char *argv[] = {(char *)postqueue_path, "-c", (char *)config_dir, "-j", NULL};
    char *argv_nc[] = {(char *)postqueue_path, "-j", NULL};
    line_acc acc = {HJ_BUF_INIT, out};
    child_run r = {config_dir ? argv : argv_nc, NULL, 0, 0, read_chunk, &acc, HJ_BUF_INIT, timeout_s};

    memset(out, 0, sizeof(*out));
    int rc = child_run_wait(&r, err, errlen);
    if (acc.part.len > 0) /* a last line without its newline */
        queue_parse_line(acc.part.s, acc.part.len, out);
    buf_free(&acc.part);
    buf_free(&r.errtext);
    return rc;
}

/* ---------------------------------------------------------------- grouping */

typedef struct group_ctx {
    const char *(*account_of)(void *ctx, const char *queue_id);
    int (*is_local_domain)(void *ctx, const char *domain);
    void *ctx;
    queue_report *r;
    htab *index; /* "A" account or "S" sender -> group number + 1 */
    size_t cap;
} group_ctx;

/* is_local_addr - an address without a domain, or in a local domain */
static int
is_local_addr(const group_ctx *gc, const char *addr)
{
    const char *at = strrchr(addr, '@');

    if (at == NULL || at[1] == 0)
        return 1;
    return gc->is_local_domain != NULL && gc->is_local_domain(gc->ctx, at + 1);
}

/* sample_add - remember s if it is new and there is room */
static void
sample_add(char **set, size_t *n, const char *s)
{
    if (s == NULL || *n >= QUEUE_SAMPLE_MAX)
        return;
    for (size_t i = 0; i < *n; i++)
        if (strcmp(set[i], s) == 0)
            return;
    set[(*n)++] = xstrdup(s);
}

/* group_find - the group of (account or sender), created if new */
static queue_origin *
group_find(group_ctx *gc, const char *account, const char *sender)
{
    queue_report *r = gc->r;
    hj_buf key = HJ_BUF_INIT;
    int created;

    buf_printf(&key, "%c%s", account ? 'A' : 'S', account ? account : sender);
    htab_node *node = htab_put(gc->index, key.s, key.len, NULL, &created);
    buf_free(&key);
    if (!created)
        return &r->groups[(uintptr_t)node->value - 1];
    if (r->ngroups == gc->cap) {
        gc->cap = gc->cap ? gc->cap * 2 : 16;
        r->groups = xrealloc(r->groups, gc->cap * sizeof(queue_origin));
    }
    queue_origin *g = &r->groups[r->ngroups++];
    memset(g, 0, sizeof(*g));
    g->account = account ? xstrdup(account) : NULL;
    g->sender = xstrdup(sender);
    g->oldest = -1;
    node->value = (void *)(uintptr_t)r->ngroups;
    return g;
}

/* group_add - count one message into its group */
static void
group_add(group_ctx *gc, const queue_msg *m)
{
    const char *account = gc->account_of ? gc->account_of(gc->ctx, m->queue_id) : NULL;
    queue_origin *g = group_find(gc, account && *account ? account : NULL, m->sender);

    g->messages++;
    g->recipients += m->nrcpts;
    g->bytes += (uint64_t)m->message_size;
    if (m->arrival_time >= 0 && (g->oldest < 0 || m->arrival_time < g->oldest))
        g->oldest = m->arrival_time;
    if ((g->nids & (g->nids - 1)) == 0) /* 0, 1, 2, 4, ...: double the room */
        g->ids = xrealloc(g->ids, (g->nids ? g->nids * 2 : 1) * sizeof(char *));
    g->ids[g->nids++] = xstrdup(m->queue_id);
    for (size_t i = 0; i < m->nrcpts; i++) {
        sample_add(g->sample, &g->nsample, m->rcpts[i].address);
        sample_add(g->reasons, &g->nreasons, m->rcpts[i].delay_reason);
        if (is_local_addr(gc, m->rcpts[i].address))
            g->local_rcpts++;
    }
    gc->r->messages++;
    gc->r->recipients += m->nrcpts;
}

static int
is_bounce(const char *sender)
{
    return *sender == 0 || strcmp(sender, "MAILER-DAEMON") == 0;
}

static queue_kind
group_kind(const group_ctx *gc, const queue_origin *g)
{
    if (g->account)
        return QUEUE_AUTHENTICATED;
    if (g->local_rcpts > 0 || is_bounce(g->sender) || is_local_addr(gc, g->sender))
        return QUEUE_UNKNOWN;
    return QUEUE_RELAY;
}

static const char *
group_name(const queue_origin *g)
{
    return g->account ? g->account : g->sender;
}

/* group_cmp - recipients, then messages (descending), then name, accounts first */
static int
group_cmp(const void *a, const void *b)
{
    const queue_origin *x = a, *y = b;

    if (x->recipients != y->recipients)
        return x->recipients > y->recipients ? -1 : 1;
    if (x->messages != y->messages)
        return x->messages > y->messages ? -1 : 1;
    int c = strcmp(group_name(x), group_name(y));
    return c ? c : (x->account == NULL) - (y->account == NULL);
}

static int
str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void
queue_report_init(queue_report *r)
{
    memset(r, 0, sizeof(*r));
    r->dominant_pct = QUEUE_DOMINANT_PCT;
    r->dominant_min_rcpts = QUEUE_DOMINANT_MIN_RCPTS;
}

/* group_judge - kinds, order, dominance and the verdict */
static void
group_judge(group_ctx *gc)
{
    queue_report *r = gc->r;

    for (size_t i = 0; i < r->ngroups; i++) {
        r->groups[i].kind = group_kind(gc, &r->groups[i]);
        qsort(r->groups[i].ids, r->groups[i].nids, sizeof(char *), str_cmp);
    }
    if (r->ngroups > 1)
        qsort(r->groups, r->ngroups, sizeof(queue_origin), group_cmp);
    const queue_origin *first = NULL;
    for (size_t i = 0; i < r->ngroups; i++) {
        queue_origin *g = &r->groups[i];
        g->dominant = (uint64_t)g->recipients * 100 > (uint64_t)r->recipients * r->dominant_pct &&
                      g->recipients >= r->dominant_min_rcpts;
        if (g->dominant && first == NULL)
            first = g;
    }
    /* the largest dominant group decides; unknown mail names no culprit */
    if (first && first->kind != QUEUE_UNKNOWN) {
        r->culprit = first;
        r->verdict = first->kind == QUEUE_AUTHENTICATED ? QUEUE_STOLEN_ACCOUNT : QUEUE_OPEN_RELAY;
    }
}

void
queue_group(queue_list *q, const char *(*account_of)(void *ctx, const char *queue_id), void *ctx,
            int (*is_local_domain)(void *ctx, const char *domain), queue_report *r)
{
    group_ctx gc = {account_of, is_local_domain, ctx, r, htab_new(64), 0};

    r->bad_lines = q->bad_lines;
    for (size_t i = 0; i < q->n; i++)
        group_add(&gc, &q->msgs[i]);
    htab_free(gc.index, NULL);
    group_judge(&gc);
}

/* ---------------------------------------------------------------- output */

const char *
queue_kind_name(queue_kind k)
{
    return k == QUEUE_AUTHENTICATED ? "authenticated" : k == QUEUE_RELAY ? "relay" : "unknown";
}

const char *
queue_verdict_name(queue_verdict v)
{
    return v == QUEUE_STOLEN_ACCOUNT ? "stolen account"
           : v == QUEUE_OPEN_RELAY   ? "open relay"
                                     : "none";
}

static void
json_strz(hj_buf *out, const char *s)
{
    buf_json_str(out, s, strlen(s));
}

static void
json_str_array(hj_buf *out, const char *name, char *const *v, size_t n)
{
    buf_printf(out, ",\"%s\":[", name);
    for (size_t i = 0; i < n; i++) {
        if (i)
            buf_putc(out, ',');
        json_strz(out, v[i]);
    }
    buf_putc(out, ']');
}

static void
rfc3339(int64_t t, char *out, size_t outlen)
{
    if (t < 0)
        snprintf(out, outlen, "-");
    else
        timeconv_rfc3339(t, 0, out, outlen);
}

static void
group_json(const queue_origin *g, hj_buf *out)
{
    char when[40];

    buf_puts(out, "{\"account\":");
    if (g->account)
        json_strz(out, g->account);
    else
        buf_puts(out, "null");
    buf_puts(out, ",\"sender\":");
    json_strz(out, g->sender);
    buf_printf(out, ",\"kind\":\"%s\",\"messages\":%zu,\"recipients\":%zu,\"bytes\":%llu",
               queue_kind_name(g->kind), g->messages, g->recipients, (unsigned long long)g->bytes);
    rfc3339(g->oldest, when, sizeof(when));
    if (g->oldest < 0)
        buf_puts(out, ",\"oldest\":null");
    else
        buf_printf(out, ",\"oldest\":\"%s\"", when);
    buf_printf(out, ",\"dominant\":%s", g->dominant ? "true" : "false");
    json_str_array(out, "queue_ids", g->ids, g->nids);
    json_str_array(out, "sample_recipients", g->sample, g->nsample);
    json_str_array(out, "delay_reasons", g->reasons, g->nreasons);
    buf_putc(out, '}');
}

void
queue_report_json(const queue_report *r, hj_buf *out)
{
    buf_printf(out, "{\"messages\":%zu,\"recipients\":%zu,\"bad_lines\":%zu,\"groups\":[",
               r->messages, r->recipients, r->bad_lines);
    for (size_t i = 0; i < r->ngroups; i++) {
        if (i)
            buf_putc(out, ',');
        group_json(&r->groups[i], out);
    }
    buf_printf(out, "],\"verdict\":\"%s\"}", queue_verdict_name(r->verdict));
}

/* display_name - the account, or <sender> when there is none */
static void
display_name(const queue_origin *g, hj_buf *out)
{
    if (g->account) {
        buf_put_safe(out, g->account);
    } else {
        buf_putc(out, '<');
        buf_put_safe(out, g->sender);
        buf_putc(out, '>');
    }
}

static unsigned
pct(size_t part, size_t whole)
{
    return whole ? (unsigned)((uint64_t)part * 100 / whole) : 0;
}

/* text_row - one line of the table */
static void
text_row(const queue_origin *g, int width, hj_buf *out)
{
    hj_buf name = HJ_BUF_INIT;
    char when[40];

    display_name(g, &name);
    rfc3339(g->oldest, when, sizeof(when));
    buf_printf(out, "%-*s  %-13s  %6zu  %6zu  %-*s%s\n", width, buf_str(&name),
               queue_kind_name(g->kind), g->messages, g->recipients, g->dominant ? 25 : 0, when,
               g->dominant ? "  <- dominant" : "");
    buf_free(&name);
}

/* text_detail - what the culprit group sends, and why it is stuck */
static void
text_detail(const queue_origin *g, size_t total, hj_buf *out)
{
    buf_puts(out, "\ndominant: ");
    display_name(g, out);
    buf_printf(out, " holds %zu of %zu queued recipients (%u%%) in %zu messages\n", g->recipients,
               total, pct(g->recipients, total), g->messages);
    for (size_t i = 0; i < g->nsample; i++) {
        buf_puts(out, i ? ", " : "  recipients: ");
        buf_put_safe(out, g->sample[i]);
    }
    if (g->nsample < g->recipients)
        buf_puts(out, g->nsample ? ", ..." : "");
    buf_puts(out, g->nsample ? "\n" : "");
    for (size_t i = 0; i < g->nreasons; i++) {
        buf_puts(out, "  delay reason: ");
        buf_put_safe(out, g->reasons[i]);
        buf_putc(out, '\n');
    }
}

/* text_verdict - the one-line conclusion */
static void
text_verdict(const queue_report *r, hj_buf *out)
{
    const queue_origin *top = r->ngroups && r->groups[0].dominant ? &r->groups[0] : NULL;

    buf_printf(out, "\nverdict: %s", queue_verdict_name(r->verdict));
    if (r->culprit) {
        buf_puts(out, " (");
        display_name(r->culprit, out);
        buf_printf(out, ": %zu of %zu queued recipients)\n", r->culprit->recipients, r->recipients);
    } else if (top) {
        buf_puts(out, " (the dominant group ");
        display_name(top, out);
        buf_puts(out, " is neither authenticated nor relayed mail)\n");
    } else {
        buf_printf(
            out, " (no group holds more than %u%% of the %zu queued recipients and at least %zu)\n",
            r->dominant_pct, r->recipients, r->dominant_min_rcpts);
    }
}

void
queue_report_text(const queue_report *r, hj_buf *out)
{
    int width = 14; /* strlen("ACCOUNT/SENDER") */

    buf_printf(out, "queue: %zu messages, %zu recipients", r->messages, r->recipients);
    if (r->bad_lines)
        buf_printf(out, " (%zu lines not understood)", r->bad_lines);
    buf_puts(out, "\n\n");
    for (size_t i = 0; i < r->ngroups; i++) {
        hj_buf name = HJ_BUF_INIT;
        display_name(&r->groups[i], &name);
        if ((int)name.len > width)
            width = name.len > 48 ? 48 : (int)name.len;
        buf_free(&name);
    }
    if (r->ngroups)
        buf_printf(out, "%-*s  %-13s  %6s  %6s  %s\n", width, "ACCOUNT/SENDER", "KIND", "MSGS",
                   "RCPTS", "OLDEST");
    for (size_t i = 0; i < r->ngroups; i++)
        text_row(&r->groups[i], width, out);
    const queue_origin *top = r->ngroups && r->groups[0].dominant ? &r->groups[0] : NULL;
    if (top)
        text_detail(top, r->recipients, out);
    text_verdict(r, out);
}

static void
group_free(queue_origin *g)
{
    for (size_t i = 0; i < g->nids; i++)
        free(g->ids[i]);
    for (size_t i = 0; i < g->nsample; i++)
        free(g->sample[i]);
    for (size_t i = 0; i < g->nreasons; i++)
        free(g->reasons[i]);
    free(g->ids);
    free(g->account);
    free(g->sender);
}

void
queue_report_free(queue_report *r)
{
    for (size_t i = 0; i < r->ngroups; i++)
        group_free(&r->groups[i]);
    free(r->groups);
    r->groups = NULL;
    r->ngroups = 0;
    r->culprit = NULL;
    r->verdict = QUEUE_VERDICT_NONE;
}

/* ---------------------------------------------------------------- match and purge */

/* addr_eq - the same envelope address, as Postfix compares: local part exactly, domain (after
 * the last '@') in any case */
static int
addr_eq(const char *a, const char *b)
{
    const char *at_a = strrchr(a, '@'), *at_b = strrchr(b, '@');

    if (at_a == NULL || at_b == NULL)
        return at_a == at_b && strcmp(a, b) == 0;
    return at_a - a == at_b - b && memcmp(a, b, (size_t)(at_a - a)) == 0 &&
           strcasecmp(at_a + 1, at_b + 1) == 0;
}

static const char *const rule_names[QUEUE_R__COUNT] = {
    [QUEUE_R_ACCOUNT_SENDER] = "account+sender",
    [QUEUE_R_POLICY_SENDER] = "account+policy-sender",
    [QUEUE_R_SENDER_ONLY] = "sender-only",
    [QUEUE_R_SENDER_DIFFERS] = "mapped, sender differs",
};

const char *
queue_rule_name(queue_rule r)
{
    return r < QUEUE_R__COUNT ? rule_names[r] : "?";
}

/* match_rule - the rule m fits for account, or -1: not the account's */
static int
match_rule(const queue_msg *m, const char *account, const queue_owner *o)
{
    int mapped = o->account != NULL && strcmp(o->account, account) == 0;
    int is_account = addr_eq(m->sender, account);

    if (mapped && is_account)
        return QUEUE_R_ACCOUNT_SENDER;
    if (mapped && o->policy_sender && addr_eq(m->sender, o->policy_sender))
        return QUEUE_R_POLICY_SENDER;
    if (mapped)
        return QUEUE_R_SENDER_DIFFERS;
    return is_account ? QUEUE_R_SENDER_ONLY : -1;
}

static int
pick_cmp(const void *a, const void *b)
{
    return strcmp(((const queue_pick *)a)->queue_id, ((const queue_pick *)b)->queue_id);
}

void
queue_match(const queue_list *q, const char *account,
            void (*owner_of)(void *ctx, const char *queue_id, queue_owner *o), void *ctx,
            unsigned flags, queue_picks *out)
{
    memset(out, 0, sizeof(*out));
    out->v = xcalloc(q->n ? q->n : 1, sizeof(queue_pick));
    for (size_t i = 0; i < q->n && *account; i++) {
        const queue_msg *m = &q->msgs[i];
        queue_owner o = {NULL, NULL};
        if (owner_of)
            owner_of(ctx, m->queue_id, &o);
        int rule = match_rule(m, account, &o);
        if (rule < 0 || ((flags & QUEUE_HELD) && strcmp(m->queue_name, "hold") != 0))
            continue;
        queue_pick *p = &out->v[out->n++];
        p->queue_id = xstrdup(m->queue_id);
        p->sender = xstrdup(m->sender);
        p->nrcpts = m->nrcpts;
        p->rule = (queue_rule)rule;
        p->del = rule == QUEUE_R_ACCOUNT_SENDER || rule == QUEUE_R_POLICY_SENDER ||
                 (rule == QUEUE_R_SENDER_ONLY && (flags & QUEUE_BY_SENDER));
        out->count[rule]++;
    }
    qsort(out->v, out->n, sizeof(queue_pick), pick_cmp);
    out->ids = xcalloc(out->n ? out->n : 1, sizeof(char *));
    for (size_t i = 0; i < out->n; i++)
        if (out->v[i].del) {
            out->ids[out->nids++] = out->v[i].queue_id;
            out->rcpts += out->v[i].nrcpts;
        }
}

void
queue_picks_kept(const queue_picks *p, hj_buf *out)
{
    size_t kept[QUEUE_R__COUNT] = {0};
    int first = 1;

    for (size_t i = 0; i < p->n; i++)
        kept[p->v[i].rule] += !p->v[i].del;
    for (int r = 0; r < QUEUE_R__COUNT; r++)
        if (kept[r]) {
            buf_printf(out, "%s%zu kept: %s", first ? "" : "; ", kept[r], rule_names[r]);
            first = 0;
        }
}

void
queue_picks_free(queue_picks *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->v[i].queue_id);
        free(p->v[i].sender);
    }
    free(p->v);
    free(p->ids);
    memset(p, 0, sizeof(*p));
}

/* postsuper - "postsuper [-c config_dir] OP -" with the checked IDs on its stdin (what: the
 * verb for an error) */
static int
postsuper(const char *postsuper_path, const char *config_dir, int timeout_s, const char *op,
          const char *what, const char *const *ids, size_t n, char *err, size_t errlen)
{
    char *argv[] = {(char *)postsuper_path, "-c", (char *)config_dir, (char *)op, "-", NULL};
    char *argv_nc[] = {(char *)postsuper_path, (char *)op, "-", NULL};
    hj_buf in = HJ_BUF_INIT;

    for (size_t i = 0; i < n; i++) {
        if (!queue_id_ok(ids[i])) {
            hj_buf shown = HJ_BUF_INIT;
            buf_put_safe(&shown, ids[i] ? ids[i] : "(null)");
            snprintf(err, errlen, "refusing to %s: \"%.64s\" is not a Postfix queue ID", what,
                     buf_str(&shown));
            buf_free(&shown);
            buf_free(&in);
            return -1;
        }
        buf_printf(&in, "%s\n", ids[i]);
    }
    if (n == 0)
        return 0;
    child_run r = {config_dir ? argv : argv_nc, in.s, in.len, 1, NULL, NULL, HJ_BUF_INIT, timeout_s};
    int rc = child_run_wait(&r, err, errlen);
    buf_free(&r.errtext);
    buf_free(&in);
    return rc;
}

int
queue_purge(const char *postsuper_path, const char *config_dir, int timeout_s,
            const char *const *ids, size_t n, char *err, size_t errlen)
{
    return postsuper(postsuper_path, config_dir, timeout_s, "-d", "purge", ids, n, err, errlen);
}

int
queue_release(const char *postsuper_path, const char *config_dir, int timeout_s,
              const char *const *ids, size_t n, char *err, size_t errlen)
{
    return postsuper(postsuper_path, config_dir, timeout_s, "-H", "release", ids, n, err, errlen);
}

int
queue_sendmail(const char *sendmail_path, const char *config_dir, int timeout_s, const char *from,
               const char *rcpt, const char *msg, size_t len, char *err, size_t errlen)
{
    char *argv[] = {(char *)sendmail_path, "-C", (char *)config_dir, "-i", "-f", (char *)from,
                    "--",                  (char *)rcpt,             NULL};
    char *argv_nc[] = {(char *)sendmail_path, "-i", "-f", (char *)from, "--", (char *)rcpt, NULL};
    child_run r = {config_dir ? argv : argv_nc, msg, len, 1, NULL, NULL, HJ_BUF_INIT, timeout_s};
    int rc = child_run_wait(&r, err, errlen);

    buf_free(&r.errtext);
    return rc;
}
