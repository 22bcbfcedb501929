/*
 * fuzz_logline - libFuzzer harness: the log follower's parsers on hostile log lines
 * (logline_parse, logparse_is_postfix, logparse_postfix, then qtrack_line over the sequence;
 * hijackd's own verdict lines through logverdict_parse, as replay reads them).
 *
 * The input is a log file: its lines go, in order, through one clock and one queue tracker
 * (a small max_tracked so the cap and the sweep are reached), the way logfront feeds them.
 * The first byte picks the reference month and whether a year is fixed, and whether local
 * domains are configured or learned. Spans must stay inside their line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/postfix/logline.h"
#include "../../src/postfix/logparse.h"
#include "../../src/postfix/logverdict.h"
#include "../../src/postfix/qtrack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
in_line(hj_span s, const char *line, size_t len)
{
    if (s.p && (s.p < line || s.p + s.n > line + len))
        abort();
}

static void
on_event(void *ctx, const hj_event *ev)
{
    (*(size_t *)ctx)++;
    (void)ev;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char dom[] = "example.org";
    static char *doms[] = {dom};
    unsigned opt = size ? data[0] : 0;
    hj_logclock clk;
    size_t events = 0;
    qtrack_conf qc = {.lifetime = 600, .max_tracked = 8, .local_domains = doms,
                      .nlocal = (opt & 0x10) ? 1 : 0,
                      .spam_reject_text = (opt & 0x20) ? "5.7.1 Message judged as spam" : NULL};
    qtrack *q = qtrack_new(&qc, on_event, &events);
    const char *p = (const char *)data + (size ? 1 : 0), *end = (const char *)data + size;

    logline_clock_init(&clk, 2026, 1 + (int)(opt % 12), (opt & 0x80) ? 2025 : 0);
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        hj_logline l;
        pf_rec r;
        if (logline_parse(&clk, p, len, &l) == 0) {
            in_line(l.host, p, len), in_line(l.prog, p, len), in_line(l.msg, p, len);
            in_line(l.daemon, p, len), in_line(l.svc, p, len);
            lv_rec v;
            if (logverdict_is(&l) && logverdict_parse(&l, &v) == 0 &&
                (v.account[0] == 0 || v.cls > HJ_SPAM_SPAM))
                abort(); /* a parsed verdict has an account and a known class */
            pf_kind k = logparse_is_postfix(&l) ? logparse_postfix(&l, &r) : PF_UNKNOWN;
            if (k > PF_UNKNOWN) {
                in_line(r.qid, p, len), in_line(r.sasl_user, p, len), in_line(r.from, p, len);
                in_line(r.to, p, len), in_line(r.client_ip, p, len), in_line(r.msgid, p, len);
                in_line(r.reply, p, len);
            }
            if (k != PF_UNKNOWN) /* as replay and logfront do: PF_IGNORE lines too */
                qtrack_line(q, &l, &r);
        }
        p += len + 1;
    }
    qtrack_sweep(q, INT64_MAX / 2);
    qtrack_free(q);
    return 0;
}
