/*
 * report - the human report of "hijackd replay" (see report.h)
 */
#include "report.h"

#include <stdlib.h>
#include <string.h>

#include "../util/alloc.h"
#include "../util/timeconv.h"

typedef struct prog_count {
    int64_t n;
    int nsamples;
    char *samples[REPORT_SAMPLES];
} prog_count;

void
report_init(report_state *rs)
{
    memset(rs, 0, sizeof(*rs));
    for (int k = 0; k < REPORT__COUNT; k++)
        rs->progs[k] = htab_new(16);
}

void
report_note(report_state *rs, report_kind k, hj_span prog, const char *line, size_t len)
{
    int created;
    char name[64];
    size_t n = prog.n < sizeof(name) - 1 ? prog.n : sizeof(name) - 1;

    /* program names from garbage are cut, and control bytes made visible */
    for (size_t i = 0; i < n; i++)
        name[i] =
            (unsigned char)prog.p[i] < 0x20 || (unsigned char)prog.p[i] >= 0x7f ? '?' : prog.p[i];
    name[n] = 0;
    rs->nkind[k]++;
    htab_node *node = htab_put(rs->progs[k], name, n, NULL, &created);
    if (created) {
        if (rs->progs[k]->used > 1000) { /* bound the table on hostile input */
            htab_del(rs->progs[k], name, n);
            node = htab_put(rs->progs[k], "(many others)", 13, NULL, &created);
        }
        if (created)
            node->value = xcalloc(1, sizeof(prog_count));
    }
    prog_count *pc = node->value;
    pc->n++;
    if (pc->nsamples < REPORT_SAMPLES)
        pc->samples[pc->nsamples++] = xstrndup(line, len > 300 ? 300 : len);
}

void
report_time(report_state *rs, int64_t t, int32_t tzoff)
{
    if (!rs->have_time) {
        rs->t_first = t;
        rs->tz_first = tzoff;
        rs->have_time = 1;
    }
    rs->t_last = t;
    rs->tz_last = tzoff;
}

typedef struct top_ctx {
    const char **names;
    hj_totals *tot;
    size_t n, cap;
} top_ctx;

static void
top_add(void *ctx, const char *name, const hj_totals *t)
{
    top_ctx *c = ctx;

    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 64;
        c->names = xrealloc(c->names, c->cap * sizeof(*c->names));
        c->tot = xrealloc(c->tot, c->cap * sizeof(*c->tot));
    }
    c->names[c->n] = name;
    c->tot[c->n++] = *t;
}

/* print_entities - what the engine follows at the end, and what its caps dropped */
static void
print_entities(hj_engine *eng, FILE *out)
{
    const hj_engine_stats *st = engine_stats(eng);
    int64_t dropped = 0, refused = 0;

    for (int s = 0; s < HJ_S__COUNT; s++) {
        dropped += st->evicted[s];
        refused += st->refused[s];
    }
    fprintf(out,
            "Entities at the end: %zu accounts (%lld known only from failed logins), %zu sender "
            "domains, %zu client addresses; at their caps %lld dropped, %lld not made; %lld idle "
            "accounts forgotten\n",
            engine_entities(eng, HJ_S_ACCOUNT), (long long)st->unproven,
            engine_entities(eng, HJ_S_DOMAIN), engine_entities(eng, HJ_S_IP), (long long)dropped,
            (long long)refused, (long long)st->forgotten);
}

/* print_top - the accounts that sent to the most recipients */
static void
print_top(hj_engine *eng, int top, FILE *out)
{
    top_ctx c = {0};

    engine_accounts(eng, top_add, &c);
    fprintf(out, "\nTop senders by recipients (of %zu accounts seen):\n", c.n);
    fprintf(out, "  %-40s %9s %10s %12s %8s %8s  %s\n", "account", "messages", "recipients",
            "bytes", "bounces", "authfail", "state");
    for (int k = 0; k < top && (size_t)k < c.n; k++) {
        size_t best = (size_t)k;
        for (size_t i = (size_t)k + 1; i < c.n; i++)
            if (c.tot[i].recipients > c.tot[best].recipients)
                best = i;
        const char *nm = c.names[best];
        hj_totals t = c.tot[best];
        c.names[best] = c.names[k], c.tot[best] = c.tot[k];
        c.names[k] = nm, c.tot[k] = t;
        fprintf(out, "  %-40s %9lld %10lld %12lld %8lld %8lld  %s\n", nm, (long long)t.messages,
                (long long)t.recipients, (long long)t.bytes, (long long)t.bounces,
                (long long)t.failed_logins, t.state == HJ_ST_LOCKED ? "locked" : "");
    }
    free(c.names);
    free(c.tot);
}

typedef struct kind_ctx {
    FILE *out;
    int verbose;
} kind_ctx;

static int
print_prog(htab_node *n, void *arg)
{
    kind_ctx *k = arg;
    prog_count *pc = n->value;

    fprintf(k->out, "      %-36s %10lld\n", n->key, (long long)pc->n);
    for (int i = 0; k->verbose && i < pc->nsamples; i++)
        fprintf(k->out, "          e.g. %s\n", pc->samples[i]);
    return 0;
}

/* print_lines - the line accounting */
static void
print_lines(report_state *rs, int verbose, FILE *out)
{
    static const char *const title[REPORT__COUNT] = {
        [REPORT_GARBLED] = "garbled (no syslog header), skipped",
        [REPORT_OTHER] = "other programs, skipped",
        [REPORT_UNKNOWN] = "Postfix lines not understood, skipped",
    };
    kind_ctx k = {out, verbose};

    fprintf(out, "\nLines: %lld read from %lld file(s)\n", (long long)rs->lines,
            (long long)rs->files);
    fprintf(out, "  %-40s %10lld\n", "Postfix lines understood", (long long)rs->understood);
    if (rs->verdicts || rs->verdicts_bad)
        fprintf(out, "  %-40s %10lld (%lld not readable)\n", "hijackd's spam verdict lines",
                (long long)rs->verdicts, (long long)rs->verdicts_bad);
    for (int i = REPORT__COUNT - 1; i >= 0; i--) {
        fprintf(out, "  %-40s %10lld\n", title[i], (long long)rs->nkind[i]);
        htab_walk(rs->progs[i], print_prog, &k);
    }
    fprintf(out, "  %-40s %10lld\n", "empty", (long long)rs->empty);
    fprintf(out, "  %-40s %10lld\n", "overlong (> 64 KiB), skipped", (long long)rs->overlong);
    if (!verbose && (rs->nkind[REPORT_UNKNOWN] || rs->nkind[REPORT_GARBLED]))
        fprintf(out, "  (-v shows example lines)\n");
}

void
report_print(report_state *rs, hj_engine *eng, const qtrack_counts *qc, int top, int verbose,
             FILE *out)
{
    char a[48], b[48];
    const hj_engine_stats *st = engine_stats(eng);

    fprintf(out, "hijackd replay report\n");
    if (rs->have_time) {
        timeconv_rfc3339(rs->t_first, rs->tz_first, a, sizeof(a));
        timeconv_rfc3339(rs->t_last, rs->tz_last, b, sizeof(b));
        fprintf(out, "Log time: %s .. %s\n", a, b);
    }
    int64_t nd = 0;
    for (int i = 0; i < HJ_A__COUNT; i++)
        nd += st->decisions[i];
    fprintf(out, "\nDecisions: %lld (lock %lld, throttle %lld, warn %lld, relay %lld, unlock %lld",
            (long long)nd, (long long)st->decisions[HJ_A_LOCK],
            (long long)st->decisions[HJ_A_THROTTLE], (long long)st->decisions[HJ_A_WARN],
            (long long)st->decisions[HJ_A_RELAY], (long long)st->decisions[HJ_A_UNLOCK]);
    if (st->decisions[HJ_A_HOLD]) /* only with a hold rule: the usual report stays as it was */
        fprintf(out, ", hold %lld", (long long)st->decisions[HJ_A_HOLD]);
    fputs(")\n", out);
    if (rs->decisions.len)
        fputs(rs->decisions.s, out);
    print_top(eng, top, out);
    fprintf(out,
            "\nEvents: %lld logins, %lld failed logins, %lld submissions, %lld deliveries "
            "(%lld relayed without AUTH), %lld rejects\n",
            (long long)qc->logins, (long long)qc->login_failures, (long long)qc->submissions,
            (long long)qc->deliveries, (long long)qc->relayed, (long long)qc->rejects);
    fprintf(out,
            "Not counted: %lld postmaster/MAILER-DAEMON/null-sender, %lld from exempt accounts\n",
            (long long)st->never_counted, (long long)st->exempt);
    fprintf(out,
            "Messages unfinished at the end: %lld; forgotten unfinished: %lld; lines for "
            "unknown queue IDs: %lld\n",
            (long long)qc->in_flight, (long long)qc->forgotten, (long long)qc->orphans);
    print_entities(eng, out);
    print_lines(rs, verbose, out);
}

/* stats_account - one account's totals as a JSON member */
static void
stats_account(void *ctx, const char *name, const hj_totals *t)
{
    hj_buf *b = ctx;

    if (b->s[b->len - 1] != '{')
        buf_putc(b, ',');
    buf_json_str(b, name, strlen(name));
    buf_printf(b,
               ":{\"messages\":%lld,\"recipients\":%lld,\"bytes\":%lld,\"logins\":%lld,"
               "\"failed_logins\":%lld,\"bounces\":%lld,\"deliveries\":%lld}",
               (long long)t->messages, (long long)t->recipients, (long long)t->bytes,
               (long long)t->logins, (long long)t->failed_logins, (long long)t->bounces,
               (long long)t->deliveries);
}

int
report_stats_json(report_state *rs, hj_engine *eng, const qtrack_counts *qc, const char *path)
{
    const hj_engine_stats *st = engine_stats(eng);
    hj_buf b = HJ_BUF_INIT;

    buf_printf(&b,
               "{\"lines\":%lld,\"understood\":%lld,\"unknown\":%lld,\"other\":%lld,"
               "\"garbled\":%lld,\"empty\":%lld,\"overlong\":%lld,\"files\":%lld,",
               (long long)rs->lines, (long long)rs->understood,
               (long long)rs->nkind[REPORT_UNKNOWN], (long long)rs->nkind[REPORT_OTHER],
               (long long)rs->nkind[REPORT_GARBLED], (long long)rs->empty, (long long)rs->overlong,
               (long long)rs->files);
    buf_printf(&b,
               "\"logins\":%lld,\"login_failures\":%lld,\"submissions\":%lld,"
               "\"deliveries\":%lld,\"relayed\":%lld,\"rejects\":%lld,\"spam_rejects\":%lld,"
               "\"verdicts\":%lld,\"verdicts_bad\":%lld,\"in_flight\":%lld,"
               "\"forgotten\":%lld,\"orphans\":%lld,\"never_counted\":%lld,\"exempt\":%lld,",
               (long long)qc->logins, (long long)qc->login_failures, (long long)qc->submissions,
               (long long)qc->deliveries, (long long)qc->relayed, (long long)qc->rejects,
               (long long)qc->spam_rejects, (long long)rs->verdicts, (long long)rs->verdicts_bad,
               (long long)qc->in_flight, (long long)qc->forgotten, (long long)qc->orphans,
               (long long)st->never_counted, (long long)st->exempt);
    buf_printf(&b,
               "\"decisions\":{\"warn\":%lld,\"throttle\":%lld,\"lock\":%lld,\"relay\":%lld,"
               "\"unlock\":%lld",
               (long long)st->decisions[HJ_A_WARN], (long long)st->decisions[HJ_A_THROTTLE],
               (long long)st->decisions[HJ_A_LOCK], (long long)st->decisions[HJ_A_RELAY],
               (long long)st->decisions[HJ_A_UNLOCK]);
    if (st->decisions[HJ_A_HOLD]) /* only with a hold rule, as in the text report */
        buf_printf(&b, ",\"hold\":%lld", (long long)st->decisions[HJ_A_HOLD]);
    buf_puts(&b, "},\"accounts\":{");
    engine_accounts(eng, stats_account, &b);
    engine_failed_names(eng, stats_account, &b); /* names that only failed to log in, too */
    buf_puts(&b, "}}\n");
    FILE *f = fopen(path, "w");
    int rc = f && fwrite(b.s, 1, b.len, f) == b.len ? 0 : -1;
    if (f && fclose(f) != 0)
        rc = -1;
    if (rc != 0)
        fprintf(stderr, "hijackd replay: cannot write %s\n", path);
    buf_free(&b);
    return rc;
}

static int
free_prog(htab_node *n, void *arg)
{
    prog_count *pc = n->value;

    (void)arg;
    for (int i = 0; i < pc->nsamples; i++)
        free(pc->samples[i]);
    free(pc);
    return 1;
}

void
report_free(report_state *rs)
{
    for (int k = 0; k < REPORT__COUNT; k++) {
        if (rs->progs[k]) {
            htab_walk(rs->progs[k], free_prog, NULL);
            htab_free(rs->progs[k], NULL);
        }
    }
    buf_free(&rs->decisions);
}
