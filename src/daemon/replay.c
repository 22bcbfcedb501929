/*
 * replay - "hijackd replay" (see replay.h)
 */
#include "replay.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../conf/conf.h"
#include "../engine/engine.h"
#include "../postfix/logline.h"
#include "../postfix/logparse.h"
#include "../postfix/logverdict.h"
#include "../postfix/qtrack.h"
#include "../util/alloc.h"
#include "../util/htab.h"
#include "../util/lineread.h"
#include "../util/timeconv.h"
#include "report.h"

typedef struct replay_opts {
    const char *conf_path;
    const char *stats_path;
    char **opts;
    size_t nopts;
    int json, verbose, progress, year, top;
} replay_opts;

typedef struct replay {
    replay_opts o;
    hj_conf *conf;
    hj_engine *eng;
    qtrack *qt;
    hj_buf out;       /* decision output, flushed as it grows */
    htab *spamq;      /* queue IDs with a content verdict counted (bounded: forgotten at once) */
    report_state rep; /* what the human report needs */
} replay;

/* on_decision - engine callback */
static void
on_decision(void *ctx, const hj_decision *d)
{
    replay *r = ctx;

    if (r->o.json) {
        decision_json(d, &r->out);
        if (r->out.len > 65536) {
            fwrite(r->out.s, 1, r->out.len, stdout);
            buf_reset(&r->out);
        }
    } else {
        decision_text(d, &r->rep.decisions);
    }
}

#define REPLAY_SPAMQ_MAX 100000 /* as the daemon's core: CORE_MAP_MAX */

/* first_verdict - is this the first content verdict on its queue ID (as the daemon's core
 * counts one per queue ID, whether its own line or Postfix's milter-reject tells it) */
static int
first_verdict(replay *r, const char *qid)
{
    int created;

    if (qid == NULL || *qid == 0)
        return 1;
    if (r->spamq->used >= REPLAY_SPAMQ_MAX) {
        htab_free(r->spamq, NULL);
        r->spamq = htab_new(1024);
    }
    htab_put(r->spamq, qid, strlen(qid), NULL, &created);
    return created;
}

/* on_event - queue tracker callback: events go to the engine */
static void
on_event(void *ctx, const hj_event *ev)
{
    replay *r = ctx;

    if (ev->type == HJ_EV_SPAM && !first_verdict(r, ev->queue_id))
        return;
    engine_event(r->eng, ev);
}

/* own_verdict - hijackd's own "spam verdict" line: the engine's verdict as the daemon had it */
static void
own_verdict(replay *r, const hj_logline *l)
{
    lv_rec v;

    if (logverdict_parse(l, &v) != 0) {
        r->rep.verdicts_bad++;
        return;
    }
    r->rep.verdicts++;
    if (v.cls == HJ_SPAM_NONE || v.repeated)
        return;
    hj_event ev = {.type = HJ_EV_SPAM, .t = l->t, .tzoff = l->tzoff};
    ev.account = v.account;
    ev.queue_id = v.queue_id;
    ev.client_ip = v.client_ip;
    ev.sender = *v.sender ? v.sender : NULL;
    ev.service = *v.service ? v.service : "hijackd";
    ev.spam = v.cls;
    ev.spam_score = v.score;
    ev.spam_threshold = v.threshold;
    ev.spam_symbols = v.symbols;
    ev.spam_subject = v.subject;
    on_event(r, &ev);
}

/* one_line - classify and process one log line */
static void
one_line(replay *r, hj_logclock *clk, const char *line, size_t len)
{
    hj_logline l;
    pf_rec rec;

    r->rep.lines++;
    if (len && line[len - 1] == '\r')
        len--;
    if (len == 0) {
        r->rep.empty++;
        return;
    }
    if (logline_parse(clk, line, len, &l) != 0) {
        report_note(&r->rep, REPORT_GARBLED, (hj_span){"(no syslog header)", 18}, line, len);
        return;
    }
    if (logverdict_is(&l)) {
        report_time(&r->rep, l.t, l.tzoff);
        own_verdict(r, &l);
        return;
    }
    if (!logparse_is_postfix(&l)) {
        report_note(&r->rep, REPORT_OTHER, l.prog, line, len);
        return;
    }
    report_time(&r->rep, l.t, l.tzoff);
    if (logparse_postfix(&l, &rec) == PF_UNKNOWN) {
        report_note(&r->rep, REPORT_UNKNOWN, l.prog, line, len);
        return;
    }
    r->rep.understood++;
    qtrack_line(r->qt, &l, &rec);
}

/* clock_for - the year reference of a file: its mtime, or now for stdin */
static void
clock_for(const replay *r, const char *path, hj_logclock *clk)
{
    struct stat st;
    time_t ref = time(NULL);
    struct tm tm;

    if (strcmp(path, "-") != 0 && stat(path, &st) == 0)
        ref = st.st_mtime;
    localtime_r(&ref, &tm);
    logline_clock_init(clk, tm.tm_year + 1900, tm.tm_mon + 1, r->o.year);
}

/* progress - a bar on stderr, redrawn when the percentage changes */
static void
progress(const char *path, int pct, int *shown)
{
    char bar[41];

    if (pct < 0 || pct == *shown)
        return;
    *shown = pct;
    memset(bar, '#', (size_t)(pct * 40 / 100));
    memset(bar + pct * 40 / 100, '.', (size_t)(40 - pct * 40 / 100));
    bar[40] = 0;
    fprintf(stderr, "\r[%s] %3d%% %s", bar, pct, path);
}

/* replay_file - every line of one input; -1 if it could not be read to its end */
static int
replay_file(replay *r, const char *path)
{
    char err[512];
    const char *line;
    size_t len;
    hj_logclock clk;
    int rc, shown = -1;
    int64_t n = 0;

    lineread *lr = lineread_open(path, err, sizeof(err));
    if (lr == NULL) {
        fprintf(stderr, "hijackd replay: %s\n", err);
        return -1;
    }
    clock_for(r, path, &clk);
    int64_t before = r->rep.lines;
    while ((rc = lineread_next(lr, &line, &len)) == 1) {
        one_line(r, &clk, line, len);
        if (r->o.progress && (++n & 0xffff) == 0)
            progress(path, lineread_progress(lr), &shown);
    }
    if (r->o.progress && shown >= 0)
        fprintf(stderr, "\r%60s\r", "");
    r->rep.overlong += lineread_overlong(lr);
    if (rc < 0)
        fprintf(stderr, "hijackd replay: %s: read error after %lld lines: %s\n", path,
                (long long)(r->rep.lines - before), lineread_error(lr));
    lineread_close(lr);
    r->rep.files++;
    return rc < 0 ? -1 : 0;
}

static void
usage(FILE *f)
{
    fprintf(f, "usage: hijackd replay [-c FILE] [-o name=value]... [--json] [-v] [--year YYYY]\n"
               "                      [--top N] [--no-progress] FILE... | -\n");
}

/* parse_args - options into r->o; returns the index of the first file, -1 on error */
static int
parse_args(replay *r, int argc, char **argv)
{
    static const struct option lo[] = {
        {"json", no_argument, NULL, 'j'},        {"verbose", no_argument, NULL, 'v'},
        {"year", required_argument, NULL, 'y'},  {"top", required_argument, NULL, 't'},
        {"no-progress", no_argument, NULL, 'P'}, {"help", no_argument, NULL, 'h'},
        {"stats", required_argument, NULL, 's'}, {NULL, 0, NULL, 0},
    };
    int ch;

    r->o.progress = isatty(2);
    r->o.top = 10;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:o:jvy:t:h", lo, NULL)) != -1) {
        switch (ch) {
        case 'c':
            r->o.conf_path = optarg;
            break;
        case 'o':
            r->o.opts = xrealloc(r->o.opts, (r->o.nopts + 1) * sizeof(char *));
            r->o.opts[r->o.nopts++] = optarg;
            break;
        case 'j':
            r->o.json = 1;
            break;
        case 'v':
            r->o.verbose = 1;
            break;
        case 'y':
            r->o.year = atoi(optarg);
            if (r->o.year < 1970 || r->o.year > 9999) {
                fprintf(stderr, "hijackd replay: bad --year %s\n", optarg);
                return -1;
            }
            break;
        case 't':
            r->o.top = atoi(optarg);
            break;
        case 'P':
            r->o.progress = 0;
            break;
        case 's':
            r->o.stats_path = optarg;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return -1;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return -1;
    }
    return optind;
}

/* replay_setup - configuration, engine and tracker */
static int
replay_setup(replay *r)
{
    char err[1024];

    r->conf = conf_load(r->o.conf_path, r->o.opts, r->o.nopts, err, sizeof(err));
    if (r->conf == NULL) {
        fprintf(stderr, "hijackd replay: configuration error: %s\n", err);
        return -1;
    }
    r->eng = engine_new(r->conf->pol, on_decision, r);
    qtrack_conf qc = {.lifetime = r->conf->queue_id_lifetime,
                      .max_tracked = (size_t)r->conf->queue_max_tracked,
                      .local_domains = r->conf->local_domains,
                      .nlocal = r->conf->nlocal,
                      .spam_reject_text = r->conf->spam_reject_text};
    r->qt = qtrack_new(&qc, on_event, r);
    r->spamq = htab_new(1024);
    report_init(&r->rep);
    return 0;
}

int
replay_main(int argc, char **argv)
{
    replay r = {0};
    int first = parse_args(&r, argc, argv), status = 0;

    if (first < 0)
        return 2;
    if (replay_setup(&r) != 0) {
        free(r.o.opts);
        return 3;
    }
    for (int i = first; i < argc; i++)
        if (replay_file(&r, argv[i]) != 0)
            status = 1;
    qtrack_counts qc;
    qtrack_stats(r.qt, &qc);
    if (r.o.json)
        fwrite(r.out.s ? r.out.s : "", 1, r.out.len, stdout);
    else
        report_print(&r.rep, r.eng, &qc, r.o.top, r.o.verbose, stdout);
    if (r.o.stats_path && report_stats_json(&r.rep, r.eng, &qc, r.o.stats_path) != 0)
        status = 1;
    fflush(stdout);
    if (r.rep.understood + r.rep.nkind[REPORT_UNKNOWN] == 0 && r.rep.lines > 0)
        fprintf(stderr, "hijackd replay: warning: no Postfix lines in the input\n");
    qtrack_free(r.qt);
    htab_free(r.spamq, NULL);
    engine_free(r.eng);
    conf_free(r.conf);
    report_free(&r.rep);
    buf_free(&r.out);
    free(r.o.opts);
    return status;
}
