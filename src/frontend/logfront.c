/*
 * logfront - the followed Postfix log into the core's events (see logfront.h)
 */
#include "logfront.h"

#include <event2/event.h>
#include <stdlib.h>
#include <time.h>

#include "../postfix/logline.h"
#include "../postfix/logparse.h"
#include "../postfix/qtrack.h"
#include "../util/alloc.h"

struct logfront {
    core *C;
    follow *fw;
    qtrack *qt;
    hj_logclock clk;
    struct event *ev;
    int64_t lines, not_understood;
};

/* on_event - an event from the log; submissions are the policy front end's */
static void
on_event(void *ctx, const hj_event *ev)
{
    logfront *lf = ctx;

    if (ev->type == HJ_EV_SUBMIT)
        core_note_queue_id(lf->C, ev->queue_id, ev->account);
    if (ev->type == HJ_EV_SUBMIT && !core_conf(lf->C)->log_submissions)
        return;
    core_event(lf->C, ev);
}

/* on_line - one new line of the Postfix log, through the replay's parser */
static void
on_line(void *ctx, const char *line, size_t len)
{
    logfront *lf = ctx;
    hj_logline l;
    pf_rec rec;

    if (len && line[len - 1] == '\r')
        len--;
    if (len == 0 || logline_parse(&lf->clk, line, len, &l) != 0 || !logparse_is_postfix(&l) ||
        logparse_postfix(&l, &rec) == PF_UNKNOWN) {
        lf->not_understood++; /* each line is counted once, understood or not */
        return;
    }
    lf->lines++;
    qtrack_line(lf->qt, &l, &rec);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
    logfront *lf = arg;

    (void)fd, (void)what;
    follow_poll(lf->fw);
}

logfront *
logfront_new(struct event_base *base, core *C)
{
    const hj_conf *c = core_conf(C);
    time_t now = time(NULL);
    struct tm tm;

    if (c->log_follow[0] == 0)
        return NULL;
    logfront *lf = xcalloc(1, sizeof(*lf));
    lf->C = C;
    localtime_r(&now, &tm);
    logline_clock_init(&lf->clk, tm.tm_year + 1900, tm.tm_mon + 1, 0);
    qtrack_conf qc = {.lifetime = c->queue_id_lifetime,
                      .max_tracked = (size_t)c->queue_max_tracked,
                      .local_domains = c->local_domains,
                      .nlocal = c->nlocal};
    lf->qt = qtrack_new(&qc, on_event, lf);
    lf->fw = follow_new(c->log_follow, on_line, lf);
    lf->ev = event_new(base, -1, EV_PERSIST, on_timer, lf);
    struct timeval every = {0, 250000};
    event_add(lf->ev, &every);
    return lf;
}

void
logfront_stats(const logfront *lf, logfront_counts *out)
{
    *out = (logfront_counts){0};
    if (lf == NULL)
        return;
    out->lines = lf->lines + lf->not_understood;
    out->not_understood = lf->not_understood;
    follow_stats(lf->fw, &out->follow);
}

void
logfront_free(logfront *lf)
{
    if (lf == NULL)
        return;
    event_free(lf->ev);
    follow_free(lf->fw);
    qtrack_free(lf->qt);
    free(lf);
}
