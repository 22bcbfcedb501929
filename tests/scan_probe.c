/*
 * scan_probe - drive one scan_client (src/scan/scan_client.h) on a libevent loop, for
 * tests/scan_test.py: one JSON line per verdict (with the index of its file) and per breaker
 * change, then a summary.
 *
 *   scan_probe [-t timeout_ms] [-m max_size] [-i max_inflight] [-k breaker_failures]
 *              [-b breaker_ms] [-n rounds] [-c at_once] [-d delay_ms] [-T tick_ms]
 *              [-q free_after_ms] [-I client_ip] SPEC FILE...
 *
 * Each round submits every FILE c times at once (the envelope is fixed: alice@example.com
 * from 192.0.2.10 to bob@example.org, queue ID 4ABCDEF123); the next round starts delay_ms
 * after the last verdict of this one. A tick_ms timer counts how often the loop turned meanwhile
 * ("ticks" in each verdict line). -q frees the client free_after_ms after the first submit,
 * with the scans still in flight; -I "" leaves the client address out (rspamd then looks up
 * nothing about it). The summary line has the verdict count, the loop's ticks and the peak RSS
 * (VmHWM: ru_maxrss would count the forking parent's). Exit 0, or 2 on bad arguments.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "../src/scan/scan_client.h"
#include "../src/util/alloc.h"

struct probe;
typedef struct file_job { /* the arg of a scan of file i: the verdict line names its file */
    struct probe *P;
    int file;
} file_job;

typedef struct probe {
    struct event_base *base;
    file_job *jobs; /* [nfiles] */
    scan_client *c;
    struct event *tick, *next, *quit;
    char **files;
    char **msg;
    size_t *len;
    int nfiles, rounds, at_once, round, pending;
    long delay_ms, tick_ms;
    unsigned long ticks, verdicts;
} probe;

static const char *const rcpt[] = {"bob@example.org"};
static scan_envelope env = {"alice@example.com", "192.0.2.10", "client.example.com",
                            "alice@example.com", "4ABCDEF123", rcpt, 1};

static struct timeval
tv_ms(long ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    return tv;
}

static char *
slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    char *p = NULL;
    size_t cap = 0, n;
    char chunk[65536];

    if (fp == NULL) {
        perror(path);
        exit(2);
    }
    *len = 0;
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
        if (*len + n > cap)
            p = xrealloc(p, cap = (*len + n) * 2);
        memcpy(p + *len, chunk, n);
        *len += n;
    }
    fclose(fp);
    return p ? p : xstrdup("");
}

/* the verdict's texts are printable ASCII (scan.h): only '"' and '\\' need escaping */
static void
put_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            putchar('\\');
        putchar(*s);
    }
    putchar('"');
}

static void start_round(probe *P);

static void
on_next(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    start_round(arg);
}

static void
on_done(void *arg, const scan_verdict *v)
{
    file_job *j = arg;
    probe *P = j->P;

    printf("{\"verdict\":%lu,\"file\":%d,\"class\":", ++P->verdicts, j->file);
    put_str(scan_class_name(v->cls));
    printf(",\"reason\":");
    put_str(scan_reason_name(v->reason));
    printf(",\"detail\":");
    put_str(v->detail);
    printf(",\"action\":");
    put_str(v->action);
    printf(",\"score\":%.2f,\"threshold\":%.2f,\"ms\":%.3f,\"ticks\":%lu,\"symbols\":[", v->score,
           v->threshold, v->elapsed_ms, P->ticks);
    for (size_t i = 0; i < v->nsym; i++) {
        printf(i ? "," : "");
        put_str(v->sym[i].name);
    }
    printf("]}\n");
    fflush(stdout);
    if (--P->pending == 0 && P->c) {
        struct timeval tv = tv_ms(P->delay_ms);
        evtimer_add(P->next, &tv);
    }
}

static void
on_state(void *arg, scan_breaker from, scan_breaker to, const scan_verdict *why)
{
    (void)arg;
    printf("{\"breaker\":\"%s\",\"was\":\"%s\",\"why\":", scan_breaker_name(to),
           scan_breaker_name(from));
    put_str(why ? scan_reason_name(why->reason) : "time");
    printf("}\n");
    fflush(stdout);
}

static void
start_round(probe *P)
{
    if (P->round++ >= P->rounds) {
        event_base_loopexit(P->base, NULL);
        return;
    }
    P->pending = P->nfiles * P->at_once;
    for (int i = 0; i < P->nfiles; i++)
        for (int k = 0; k < P->at_once; k++)
            scan_submit(P->c, P->msg[i], P->len[i], &env, on_done, &P->jobs[i]);
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
    probe *P = arg;

    (void)fd, (void)what;
    P->ticks++;
}

static void
on_quit(evutil_socket_t fd, short what, void *arg)
{
    probe *P = arg;
    scan_client *c = P->c;

    (void)fd, (void)what;
    P->c = NULL;
    scan_client_free(c);
    event_base_loopexit(P->base, NULL);
}

static void
usage(void)
{
    fprintf(stderr, "usage: scan_probe [-t ms] [-m bytes] [-i n] [-k n] [-b ms] [-n rounds] "
                    "[-c n] [-d ms] [-T ms] [-q ms] [-I ip] SPEC FILE...\n");
    exit(2);
}

int
main(int argc, char **argv)
{
    probe P = {.rounds = 1, .at_once = 1, .tick_ms = 50};
    scan_config cfg = {.timeout_ms = 5000, .max_size = 4 << 20, .max_inflight = 32,
                       .breaker_failures = 5, .breaker_ms = 30000, .on_state = on_state};
    long quit_ms = -1;
    char err[256];
    int o;
    char line[256];
    long hwm = -1;
    FILE *st;

    signal(SIGPIPE, SIG_IGN);
    while ((o = getopt(argc, argv, "t:m:i:k:b:n:c:d:T:q:I:")) != -1) {
        long v = optarg ? atol(optarg) : 0;
        switch (o) {
        case 't': cfg.timeout_ms = v; break;
        case 'm': cfg.max_size = (size_t)v; break;
        case 'i': cfg.max_inflight = (size_t)v; break;
        case 'k': cfg.breaker_failures = (unsigned)v; break;
        case 'b': cfg.breaker_ms = v; break;
        case 'n': P.rounds = (int)v; break;
        case 'c': P.at_once = (int)v; break;
        case 'd': P.delay_ms = v; break;
        case 'T': P.tick_ms = v; break;
        case 'q': quit_ms = v; break;
        case 'I': env.ip = optarg; break;
        default: usage();
        }
    }
    if (argc - optind < 2)
        usage();
    scan_rules_default(&cfg.rules);
    cfg.spec = argv[optind++];
    P.nfiles = argc - optind;
    P.msg = xcalloc((size_t)P.nfiles, sizeof(*P.msg));
    P.len = xcalloc((size_t)P.nfiles, sizeof(*P.len));
    P.jobs = xcalloc((size_t)P.nfiles, sizeof(*P.jobs));
    for (int i = 0; i < P.nfiles; i++) {
        P.msg[i] = slurp(argv[optind + i], &P.len[i]);
        P.jobs[i] = (file_job){&P, i};
    }
    P.base = event_base_new();
    if ((P.c = scan_client_new(P.base, &cfg, err, sizeof(err))) == NULL) {
        fprintf(stderr, "scan_probe: %s\n", err);
        return 2;
    }
    P.tick = event_new(P.base, -1, EV_PERSIST, on_tick, &P);
    P.next = evtimer_new(P.base, on_next, &P);
    struct timeval tv = tv_ms(P.tick_ms);
    evtimer_add(P.tick, &tv);
    if (quit_ms >= 0) {
        P.quit = evtimer_new(P.base, on_quit, &P);
        tv = tv_ms(quit_ms);
        evtimer_add(P.quit, &tv);
    }
    start_round(&P);
    event_base_dispatch(P.base);
    scan_client_free(P.c);
    if ((st = fopen("/proc/self/status", "r")) != NULL) {
        while (fgets(line, sizeof(line), st))
            if (sscanf(line, "VmHWM: %ld", &hwm) == 1)
                break;
        fclose(st);
    }
    printf("{\"summary\":true,\"verdicts\":%lu,\"ticks\":%lu,\"maxrss_kb\":%ld}\n", P.verdicts,
           P.ticks, hwm);
    event_free(P.tick);
    event_free(P.next);
    if (P.quit)
        event_free(P.quit);
    event_base_free(P.base);
    for (int i = 0; i < P.nfiles; i++)
        free(P.msg[i]);
    free(P.msg);
    free(P.len);
    free(P.jobs);
    return 0;
}
