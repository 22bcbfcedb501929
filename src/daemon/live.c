/*
 * live - the hijackd daemon: the core, its front ends, incidents and the admin surface on one loop
 * (see live.h)
 */
#include "live.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../admin/cmds.h"
#include "../admin/control.h"
#include "../admin/httpd.h"
#include "../conf/conf.h"
#include "../core/core.h"
#include "../frontend/logfront.h"
#include "../frontend/milterfront.h"
#include "../frontend/miltersrv.h"
#include "../frontend/pfpolicy.h"
#include "../frontend/policysrv.h"
#include "../incident/incident.h"
#include "../incident/purge.h"
#include "../util/alloc.h"
#include "../util/log.h"
#include "../util/statedir.h"

#define LIVE_TICK 5 /* seconds between engine ticks (automatic unlocks) */
/* accounts whose counters one turn of the loop writes: about 25 ms of SQLite (measured with
 * bench/policy-bench.sh's steady mode, 30-50k changed accounts a flush: one batch of all held
 * the loop 0.4-1.1 s and p99 at c=1000 went from ~0.13 s to 0.6-0.9 s) */
#define LIVE_FLUSH_CHUNK 2000

/* one daemon: everything on the loop of base; owned by live_main() */
typedef struct live {
    const char *conf_path;
    char **opts;
    size_t nopts;
    int foreground;
    hj_conf *conf; /* until the core owns it */
    core *C;
    struct event_base *base;
    pfpolicy *pp;
    policysrv *ps;
    milterfront *mf; /* NULL: milter_listen is off */
    miltersrv *ms;
    logfront *lf;
    incident *inc;
    purger *pg;
    admin_env admin;
    ctlsrv *ctl;
    httpd *http;
    struct event *ev_hup, *ev_term, *ev_int, *ev_tick, *ev_flush, *ev_chunk;
    int pidfd;
    int64_t scan_alerted; /* the scanner's outage (its start) the postmaster was told of; 0 */
    char control_path[4200];
} live;

/* state_warn - a permission statedir_prepare() fixed */
static void
state_warn(void *ctx, const char *msg)
{
    (void)ctx;
    log_warn("state_dir: %s", msg);
}

/* state_lock - create or check state_dir (statedir.h: refused when others may write to it) and
 * hold its lock; -1 if it is unsafe or another hijackd has it */
static int
state_lock(live *L)
{
    char path[4096], pid[32], err[4400];
    const char *dir = L->conf->state_dir;

    if (statedir_prepare(dir, err, sizeof(err), state_warn, NULL) != 0) {
        fprintf(stderr, "hijackd: %s\n", err);
        return -1;
    }
    snprintf(path, sizeof(path), "%s/hijackd.pid", dir);
    L->pidfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (L->pidfd < 0) {
        fprintf(stderr, "hijackd: cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (flock(L->pidfd, LOCK_EX | LOCK_NB) != 0) {
        ssize_t n = read(L->pidfd, pid, sizeof(pid) - 1);
        pid[n > 0 ? n : 0] = 0;
        pid[strcspn(pid, "\n")] = 0;
        fprintf(stderr, "hijackd: another hijackd (pid %s) is running on state_dir %s\n",
                *pid ? pid : "?", dir);
        return -1;
    }
    int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    if (ftruncate(L->pidfd, 0) != 0 || pwrite(L->pidfd, pid, (size_t)n, 0) != n)
        log_warn("cannot write %s: %s", path, strerror(errno));
    return 0;
}

/* raise_nofile - room for many Postfix connections */
static void
raise_nofile(int64_t want)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    rlim_t n = (rlim_t)want + 64;
    if (rl.rlim_cur < n) {
        rl.rlim_cur = rl.rlim_max < n ? rl.rlim_max : n;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* show_wiring - where it listens and the main.cf lines that use it */
static void
show_wiring(const hj_conf *c)
{
    char ep[4200];
    const char *queue_dir = "/var/spool/postfix/", *l = c->policy_listen;

    /* under Postfix's queue directory: the path relative to it, which a chrooted smtpd reaches */
    if (strncmp(l, queue_dir, strlen(queue_dir)) == 0)
        l += strlen(queue_dir);
    snprintf(ep, sizeof(ep), "%s:%s", c->policy_listen[0] == '/' ? "unix" : "inet", l);
    printf("hijackd: listening for Postfix policy requests on %s (store %s, state_dir %s)\n"
           "Add to /etc/postfix/main.cf (or as -o options of the submission service in "
           "master.cf), then run \"postfix reload\":\n\n"
           "    smtpd_recipient_restrictions = check_policy_service %s,\n"
           "        permit_sasl_authenticated, permit_mynetworks, reject_unauth_destination\n"
           "    smtpd_end_of_data_restrictions = check_policy_service %s\n"
           "    smtpd_policy_service_default_action = DUNNO\n"
           "    smtpd_policy_service_timeout = 10s\n\n",
           c->policy_listen, c->store, c->state_dir, ep, ep);
    fflush(stdout);
}

/* live_reload - SIGHUP, hijackctl reload: a new configuration for the core and the incidents,
 * or the old one and a log line */
static int
live_reload(void *ctx)
{
    live *L = ctx;
    char err[1024];
    hj_conf *nc = conf_load(L->conf_path, L->opts, L->nopts, err, sizeof(err));

    if (nc == NULL) {
        log_error("reload refused, the running configuration stays: %s", err);
        return -1;
    }
    unsigned changed = 0;
    if (core_reload(L->C, nc, &changed) != 0)
        return -1;
    if (changed & CONF_F_NOTIFY)
        incident_reload(L->inc);
    policysrv_allow(L->ps, core_conf(L->C)->policy_allow_users,
                    core_conf(L->C)->npolicy_allow_users);
    if (L->ms)
        miltersrv_allow(L->ms, core_conf(L->C)->milter_allow_users,
                        core_conf(L->C)->nmilter_allow_users);
    return 0;
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
    live *L = arg;

    (void)what;
    if (sig == SIGHUP) {
        live_reload(L);
        return;
    }
    log_info("signal %d: stopping", (int)sig);
    event_base_loopexit(L->base, NULL);
}

/* scanner_watch - the scanner down spam_scanner_alert_after: one mail, and one when it is back */
static void
scanner_watch(live *L, int64_t now)
{
    const char *why = "";
    int64_t since = L->mf ? milterfront_scanner_down(L->mf, &why) : 0;
    int64_t after = core_conf(L->C)->spam_scanner_alert_after;

    if (since && !L->scan_alerted && after && now - since >= after) {
        log_warn("spam scanner: down for %lld s (%s): the postmaster is told (alert_to)",
                 (long long)(now - since), why);
        incident_scanner(L->inc, 1, since, why, now);
        L->scan_alerted = since;
    } else if (since == 0 && L->scan_alerted) {
        incident_scanner(L->inc, 0, L->scan_alerted, "", now);
        L->scan_alerted = 0;
    }
}

/* on_tick - automatic unlocks happen on time, not only at the next request; the scanner */
static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
    live *L = arg;
    int64_t now = (int64_t)time(NULL);

    (void)fd, (void)what;
    core_tick(L->C, now);
    scanner_watch(L, now);
}

/* on_flush - every counters_flush_interval, and again at once (after the answers that are
 * ready) while a flush has chunks left */
static void
on_flush(evutil_socket_t fd, short what, void *arg)
{
    live *L = arg;
    struct timeval now = {0, 0};

    (void)fd, (void)what;
    if (core_flush_step(L->C, LIVE_FLUSH_CHUNK) > 0)
        event_add(L->ev_chunk, &now);
}

/* admin_start - the control socket and the HTTP side; -1 (with a message) if they cannot start */
static int
admin_start(live *L)
{
    char err[512];
    const hj_conf *c = core_conf(L->C);

    if (*c->control_socket)
        snprintf(L->control_path, sizeof(L->control_path), "%s", c->control_socket);
    else
        snprintf(L->control_path, sizeof(L->control_path), "%s/control.sock", c->state_dir);
    L->admin.control_path = L->control_path;
    if ((L->ctl = ctlsrv_new(L->base, &L->admin, L->control_path, err, sizeof(err))) == NULL) {
        fprintf(stderr, "hijackd: %s\n", err);
        return -1;
    }
    if (*c->http_listen && (L->http = httpd_new(L->base, &L->admin, err, sizeof(err))) == NULL) {
        fprintf(stderr, "hijackd: %s\n", err);
        return -1;
    }
    return 0;
}

/* actions_start - lock_purge_queue's worker (state_dir/purge) and the incidents; -1 with a message.
 * The purge observes the core first: a lock's purge is queued before its alert. */
static int
actions_start(live *L)
{
    char dir[4200], err[512];

    snprintf(dir, sizeof(dir), "%s/purge", core_conf(L->C)->state_dir);
    if ((L->pg = purge_open(dir, err, sizeof(err))) == NULL) {
        fprintf(stderr, "hijackd: cannot open the purge spool: %s\n", err);
        return -1;
    }
    purge_observe(L->pg, L->C);
    if ((L->inc = incident_open(L->C)) == NULL)
        return -1;
    return 0;
}

/* timers_start - signals, the engine's tick and the counters' flush */
static void
timers_start(live *L)
{
    struct timeval every = {core_conf(L->C)->counters_flush_interval, 0};
    struct timeval tick = {LIVE_TICK, 0};

    L->ev_hup = evsignal_new(L->base, SIGHUP, on_signal, L);
    L->ev_term = evsignal_new(L->base, SIGTERM, on_signal, L);
    L->ev_int = evsignal_new(L->base, SIGINT, on_signal, L);
    L->ev_tick = event_new(L->base, -1, EV_PERSIST, on_tick, L);
    L->ev_flush = event_new(L->base, -1, EV_PERSIST, on_flush, L);
    L->ev_chunk = evtimer_new(L->base, on_flush, L);
    event_add(L->ev_flush, &every);
    evsignal_add(L->ev_hup, NULL);
    evsignal_add(L->ev_term, NULL);
    evsignal_add(L->ev_int, NULL);
    event_add(L->ev_tick, &tick);
    signal(SIGPIPE, SIG_IGN);
}

/* live_start - everything before the loop; -1 (with a message) if it cannot start */

/* milter_start - the milter front end, when milter_listen is set */
static int
milter_start(live *L)
{
    const hj_conf *c = core_conf(L->C);
    char err[300];

    if (c->milter_listen[0] == 0)
        return 0;
    miltersrv_conf mc = {c->milter_listen,          c->milter_socket_mode,
                         c->milter_idle_timeout,    c->milter_packet_timeout,
                         c->milter_max_connections, (size_t)c->milter_max_packet,
                         c->milter_allow_users,     c->nmilter_allow_users};
    if ((L->mf = milterfront_new(L->C, L->base, err, sizeof(err))) == NULL) {
        fprintf(stderr, "hijackd: spam_scanner: %s\n", err);
        return -1;
    }
    if ((L->ms = miltersrv_new(L->base, &mc, &milterfront_ops, L->mf, err, sizeof(err))) == NULL) {
        fprintf(stderr, "hijackd: cannot listen for the milter: %s\n", err);
        return -1;
    }
    log_info("milter on %s", c->milter_listen);
    return 0;
}

static int
live_start(live *L)
{
    char err[512];

    if (state_lock(L) != 0)
        return -1;
    if ((L->C = core_open(L->conf, err, sizeof(err))) == NULL) {
        L->conf = NULL; /* core_open freed it */
        fprintf(stderr, "hijackd: %s\n", err);
        return -1;
    }
    L->conf = NULL; /* the core owns it */
    if (actions_start(L) != 0)
        return -1;
    const hj_conf *c = core_conf(L->C);
    raise_nofile(c->policy_max_connections);
    L->base = event_base_new();
    L->pp = pfpolicy_new(L->C);
    policysrv_conf pc = {c->policy_listen,          c->policy_socket_mode,
                         c->policy_idle_timeout,    c->policy_request_timeout,
                         c->policy_max_connections, pfpolicy_fail_reply(c->parse_error_action),
                         c->policy_allow_users,     c->npolicy_allow_users};
    if ((L->ps = policysrv_new(L->base, &pc, pfpolicy_answer, L->pp, err, sizeof(err))) == NULL) {
        fprintf(stderr, "hijackd: cannot listen: %s\n", err);
        return -1;
    }
    if (milter_start(L) != 0)
        return -1;
    timers_start(L);
    L->lf = logfront_new(L->base, L->C);
    L->admin = (admin_env){L->C,  L->inc, L->pp,  L->lf,       L->mf,
                           L->ms, (int64_t)time(NULL), NULL, live_reload, L, L->pg};
    return admin_start(L);
}

/* live_stop - release everything; a clean stop forgets nothing */
static void
live_stop(live *L)
{
    struct event *evs[] = {L->ev_hup, L->ev_term, L->ev_int, L->ev_tick, L->ev_flush, L->ev_chunk};

    if (L->C)
        core_flush(L->C);
    incident_close(L->inc); /* after the batch in progress; the rest stays spooled */
    purge_close(L->pg);     /* the same: a purge in progress ends within postfix_command_timeout */
    for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
        if (evs[i])
            event_free(evs[i]);
    httpd_free(L->http);
    ctlsrv_free(L->ctl);
    policysrv_free(L->ps);
    pfpolicy_free(L->pp);
    miltersrv_free(L->ms);
    milterfront_free(L->mf);
    logfront_free(L->lf);
    if (L->base)
        event_base_free(L->base);
    core_close(L->C);
    if (L->pidfd > 0)
        close(L->pidfd);
    if (L->conf)
        conf_free(L->conf);
    free(L->opts);
}

/* live_args - [-c FILE] [-f] [-o name=value]...; -1 on a usage error */
static int
live_args(live *L, int argc, char **argv)
{
    int ch;

    optind = 1;
    while ((ch = getopt(argc, argv, "c:fo:h")) != -1) {
        if (ch == 'c') {
            L->conf_path = optarg;
        } else if (ch == 'f') {
            L->foreground = 1;
        } else if (ch == 'o') {
            L->opts = xrealloc(L->opts, (L->nopts + 1) * sizeof(char *));
            L->opts[L->nopts++] = optarg;
        } else {
            fprintf(stderr, "usage: hijackd [-c FILE] [-f] [-o name=value]...\n"
                            "       hijackd replay|config|version ... (hijackd --help)\n");
            return -1;
        }
    }
    return optind < argc ? -1 : 0;
}

/* warn_secrets - a token given with -o shows in ps; a configuration file that holds a token and
 * that any local user may read gives it away */
static void
warn_secrets(const live *L, const hj_conf *c)
{
    static const char *const secret[] = {"http_token_read=", "http_token_admin=",
                                         "spam_exporter_auth="};
    struct stat st;

    for (size_t i = 0; i < L->nopts; i++)
        for (size_t k = 0; k < sizeof(secret) / sizeof(secret[0]); k++)
            if (strncmp(L->opts[i], secret[k], strlen(secret[k])) == 0 && L->opts[i][strlen(secret[k])])
                log_warn("%.*s was given with -o: any local user sees it in ps; put it in the "
                         "configuration file (mode 0600 or 0640)",
                         (int)strlen(secret[k]) - 1, secret[k]);
    if (L->conf_path && (*c->http_token_read || *c->http_token_admin || *c->spam_exporter_auth) &&
        stat(L->conf_path, &st) == 0 && (st.st_mode & S_IROTH))
        log_warn("%s holds an HTTP token and any local user may read it: chmod o-r %s",
                 L->conf_path, L->conf_path);
}

int
live_main(int argc, char **argv)
{
    live L = {.pidfd = -1};
    char err[1024];

    if (live_args(&L, argc, argv) != 0) {
        free(L.opts);
        return 2;
    }
    if ((L.conf = conf_load(L.conf_path, L.opts, L.nopts, err, sizeof(err))) == NULL) {
        fprintf(stderr, "hijackd: configuration error: %s\n", err);
        free(L.opts);
        return 3;
    }
    log_open("hijackd", L.foreground);
    umask(077); /* the database, its WAL, the pid file, exempt.list, spools: the daemon's only */
    if (live_start(&L) != 0) {
        live_stop(&L);
        return 1;
    }
    const hj_conf *c = core_conf(L.C);
    warn_secrets(&L, c);
    if (L.foreground)
        show_wiring(c);
    log_info("started: %zu rules, policy on %s, store %s", c->pol->nrules, c->policy_listen,
             core_store(L.C)->name);
    event_base_dispatch(L.base);
    live_stop(&L);
    log_info("stopped");
    return 0;
}
