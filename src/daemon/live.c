/*
 * live - the hijackd daemon (see live.h)
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

#include "../conf/conf.h"
#include "../engine/engine.h"
#include "../store/store.h"
#include "../util/alloc.h"
#include "../util/buf.h"
#include "../util/htab.h"
#include "../util/log.h"
#include "../util/timeconv.h"
#include "../util/tmpl.h"
#include "../postfix/logline.h"
#include "../postfix/logparse.h"
#include "../postfix/qtrack.h"
#include "cmds.h"
#include "control.h"
#include "follow.h"
#include "httpd.h"
#include "live_int.h"
#include "metrics.h"
#include "notify.h"
#include "policysrv.h"

#define LIVE_TICK 5 /* seconds between engine ticks (automatic unlocks) */

static const char *const fail_reply[] = {"action=DUNNO\n\n", "action=DEFER 4.3.0 hijackd: "
                                                             "temporary failure, try again\n\n"};

/* local_tzoff - this machine's offset east of UTC at t */
static int32_t
local_tzoff(time_t t)
{
    struct tm tm;

    localtime_r(&t, &tm);
    return (int32_t)tm.tm_gmtoff;
}

/* persist - write one decision to the store; returns STORE_OK or STORE_ERR */
static int
persist(live *L, const hj_decision *d, const char *json)
{
    char err[256];
    hj_audit_rec a = {.t = d->t, .json = json};
    const char *rule = d->rule ? d->rule->name : (d->action == HJ_A_UNLOCK ? "" : "manual");

    snprintf(a.account, sizeof(a.account), "%s", d->entity);
    snprintf(a.action, sizeof(a.action), "%s", policy_action_name(d->action));
    snprintf(a.rule, sizeof(a.rule), "%s", rule);
    snprintf(a.actor, sizeof(a.actor), "%s", L->actor ? L->actor : "hijackd");
    int rc = L->store->ops->audit_add(L->store, &a, err, sizeof(err));
    if (rc == STORE_OK && d->action == HJ_A_LOCK && d->scope == HJ_S_ACCOUNT) {
        hj_lock_rec k = {.since = d->t, .until = d->until};
        snprintf(k.account, sizeof(k.account), "%s", d->entity);
        snprintf(k.rule, sizeof(k.rule), "%s", rule);
        snprintf(k.actor, sizeof(k.actor), "%s", L->actor ? L->actor : "hijackd");
        if (d->rule)
            snprintf(k.reason, sizeof(k.reason), "%s %lld > %lld",
                     policy_metric_name(d->rule->metric), (long long)d->count, (long long)d->limit);
        else
            snprintf(k.reason, sizeof(k.reason), "%s", d->reason ? d->reason : "");
        rc = L->store->ops->lock_put(L->store, &k, err, sizeof(err));
    } else if (rc == STORE_OK && d->action == HJ_A_UNLOCK && d->scope == HJ_S_ACCOUNT) {
        rc = L->store->ops->lock_del(L->store, d->entity, err, sizeof(err));
        rc = rc == STORE_NOTFOUND ? STORE_OK : rc;
    }
    if (rc != STORE_OK)
        log_error("store: cannot record %s of %s: %s", a.action, d->entity, err);
    return rc;
}

/* the queue IDs hijackd saw for one account (htab_walk of L->qids) */
typedef struct qid_set {
    const char *account;
    const char **ids;
    size_t n, cap;
} qid_set;

static int
qid_collect(htab_node *node, void *ctx)
{
    qid_set *s = ctx;

    if (node->value && strcmp(node->value, s->account) == 0) {
        if (s->n == s->cap)
            s->ids = xrealloc(s->ids, (s->cap = s->cap ? 2 * s->cap : 16) * sizeof(*s->ids));
        s->ids[s->n++] = node->key;
    }
    return 0;
}

/* purge_lock - lock_purge_queue: hand the account's queued mail to the purge worker (the loop
 * never runs postqueue or postsuper itself) */
static void
purge_lock(live *L, const char *account)
{
    const hj_conf *c = L->conf;
    qid_set s = {account, NULL, 0, 0};

    htab_walk(L->qids, qid_collect, &s);
    purge_job j = {account,           s.ids,
                   s.n,               c->postqueue_path,
                   c->postsuper_path, c->postfix_config_dir,
                   (int)c->postfix_command_timeout};
    if (L->pg == NULL || purge_put(L->pg, &j, (int64_t)time(NULL)) != 0)
        log_error("lock_purge_queue: %s: the purge could not be queued", account);
    free(s.ids);
}

/* on_decision - every decision: logged, made durable, noted for the answer */
static void
on_decision(void *ctx, const hj_decision *d)
{
    live *L = ctx;

    buf_reset(&L->scratch);
    decision_json(d, &L->scratch);
    if (L->scratch.len)
        L->scratch.s[--L->scratch.len] = 0; /* no newline in the log or the store */
    log_info("decision %s", L->scratch.s);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (persist(L, d, L->scratch.s) != STORE_OK)
        L->cur_store_err = 1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    metrics_store(L->met, (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
    metrics_decision(L->met, d);
    if (d->action == HJ_A_LOCK && d->scope == HJ_S_ACCOUNT && L->conf->lock_purge_queue)
        purge_lock(L, d->entity);
    if (L->nt)
        notify_decision(L, d, L->scratch.s);
    if (L->cur_acct && d->scope == HJ_S_ACCOUNT && strcmp(d->entity, L->cur_acct) == 0) {
        L->cur_lock |= d->action == HJ_A_LOCK;
        L->cur_throttle |= d->action == HJ_A_THROTTLE;
    }
}

/* cstr - a span as a NUL-terminated string in buf (cut to fit) */
static const char *
cstr(hj_span s, char *buf, size_t cap)
{
    size_t n = s.p ? (s.n < cap ? s.n : cap - 1) : 0;

    memcpy(buf, s.p ? s.p : "", n);
    buf[n] = 0;
    return buf;
}

/* fail_answer - the reply of a failure action (dunno or defer) */
static size_t
fail_answer(int action, char *out, size_t outlen)
{
    size_t n = strlen(fail_reply[action]);

    memcpy(out, fail_reply[action], n < outlen ? n : outlen);
    return n < outlen ? n : outlen;
}

/* answer - format an action with its text; an answer that does not fit is an internal error */
static size_t
answer(const live *L, char *out, size_t outlen, const char *action, const char *text)
{
    size_t n = policy_reply(out, outlen, action, text);

    if (n == 0) {
        log_error("internal: the answer %s does not fit in %zu bytes", action, outlen);
        n = fail_answer(L->conf->internal_error_action, out, outlen);
    }
    return n;
}

/*
 * same_transaction - RCPT-stage counting: is this recipient part of a message
 * already counted? Requests of one transaction share "instance"; the table
 * keeps the last instance per account (bounded: cleared when it grows large).
 */
static int
same_transaction(live *L, const char *acct, hj_span inst)
{
    int created;

    if (inst.n == 0)
        return 0;
    if (L->instances->used > 100000) {
        htab_free(L->instances, free);
        L->instances = htab_new(1024);
    }
    htab_node *n = htab_put(L->instances, acct, strlen(acct), NULL, &created);
    if (!created && n->value && strlen(n->value) == inst.n && memcmp(n->value, inst.p, inst.n) == 0)
        return 1;
    free(n->value);
    n->value = xstrndup(inst.p, inst.n);
    return 0;
}

/* note_qid - remember which account submitted a queue ID (hijackctl queue); bounded */
static void
note_qid(live *L, const char *qid, const char *acct)
{
    int created;

    if (qid == NULL || *qid == 0 || acct == NULL || *acct == 0)
        return;
    if (L->qids->used >= 100000) { /* forget them all: a purge asks about the recent ones */
        htab_free(L->qids, free);
        L->qids = htab_new(1024);
    }
    htab_node *n = htab_put(L->qids, qid, strlen(qid), NULL, &created);
    if (!created)
        free(n->value);
    n->value = xstrdup(acct);
}

const char *
live_account_of(live *L, const char *queue_id)
{
    return htab_get(L->qids, queue_id, strlen(queue_id));
}

/* count_message - count and judge this message (END-OF-MESSAGE) or recipient (RCPT) */
static void
count_message(live *L, const policy_req *rq, const char *acct, time_t now)
{
    char ip[64], name[256], helo[256], sender[320], qid[32];
    hj_event ev = {.type = HJ_EV_SUBMIT, .t = now, .tzoff = local_tzoff(now)};

    ev.account = acct;
    ev.client_ip = cstr(rq->a[PA_CLIENT_ADDRESS], ip, sizeof(ip));
    ev.client_name = cstr(rq->a[PA_CLIENT_NAME], name, sizeof(name));
    ev.helo = cstr(rq->a[PA_HELO_NAME], helo, sizeof(helo));
    /* a missing attribute is unknown; "sender=" (empty) is the null sender */
    ev.sender = rq->a[PA_SENDER].p ? cstr(rq->a[PA_SENDER], sender, sizeof(sender)) : NULL;
    ev.queue_id = cstr(rq->a[PA_QUEUE_ID], qid, sizeof(qid));
    ev.service = "policy";
    ev.nrcpt = policy_number(rq->a[PA_RECIPIENT_COUNT]);
    ev.size = policy_number(rq->a[PA_SIZE]);
    if (L->conf->policy_count_stage == CONF_COUNT_RCPT) { /* one recipient per RCPT request */
        ev.nrcpt = 1;
        ev.size = 0;
        ev.more_rcpts = same_transaction(L, acct, rq->a[PA_INSTANCE]);
    }
    if (ev.nrcpt < 1)
        ev.nrcpt = 1;
    note_qid(L, ev.queue_id, acct);
    engine_event(L->eng, &ev);
}

/* reply_text - the reject or defer text for acct, from its template */
static const char *
reply_text(live *L, const char *tmpl, const char *acct, time_t now)
{
    hj_lockinfo li;
    char t[48], u[48];
    const char *host = L->nt ? notify_host(L) : "";

    if (strchr(tmpl, '{') == NULL) /* no placeholder (the default texts): nothing to look up */
        return tmpl;
    engine_state(L->eng, acct, now, &li);
    timeconv_rfc3339(li.since ? li.since : now, local_tzoff(now), t, sizeof(t));
    timeconv_rfc3339(li.until, local_tzoff(now), u, sizeof(u));
    tmpl_var v[] = {{"account", acct},
                    {"action", tmpl == L->conf->reject_text ? "locked" : "throttled"},
                    {"rule", li.rule ? li.rule->name : "manual"},
                    {"time", t},
                    {"until", li.until ? u : "an admin unlocks it"},
                    {"contact", L->conf->admin_contact},
                    {"host", host}};
    buf_reset(&L->scratch);
    tmpl_expand(tmpl, v, sizeof(v) / sizeof(v[0]), 1, &L->scratch);
    return buf_str(&L->scratch);
}

/* decide - one policy request in, one answer out */
static size_t
decide_one(void *ctx, const policy_req *rq, char *out, size_t outlen)
{
    live *L = ctx;
    char acct[STORE_NAME_MAX];
    time_t now = time(NULL);

    if (rq->a[PA_SASL_USERNAME].n == 0)
        return answer(L, out, outlen, "DUNNO", NULL);
    cstr(rq->a[PA_SASL_USERNAME], acct, sizeof(acct));
    notify_recipient(L, acct, rq->a[PA_RECIPIENT], rq->a[PA_QUEUE_ID]);
    L->cur_acct = acct;
    L->cur_lock = L->cur_throttle = L->cur_store_err = 0;
    hj_state st = engine_state(L->eng, acct, now, NULL);
    const char *count_at =
        L->conf->policy_count_stage == CONF_COUNT_RCPT ? "RCPT" : "END-OF-MESSAGE";
    if (st == HJ_ST_OK && span_eq(rq->a[PA_PROTOCOL_STATE], count_at)) {
        count_message(L, rq, acct, now);
        st = L->cur_lock ? HJ_ST_LOCKED : L->cur_throttle ? HJ_ST_THROTTLED : HJ_ST_OK;
    }
    L->cur_acct = NULL;
    if (L->cur_store_err)
        return fail_answer(L->conf->store_error_action, out, outlen);
    if (st == HJ_ST_LOCKED)
        return answer(L, out, outlen, "REJECT", reply_text(L, L->conf->reject_text, acct, now));
    if (st == HJ_ST_THROTTLED)
        return answer(L, out, outlen, "DEFER_IF_PERMIT",
                      reply_text(L, L->conf->defer_text, acct, now));
    return answer(L, out, outlen, "DUNNO", NULL);
}

/* decide - decide_one, counted for /metrics by stage and answer */
static size_t
decide(void *ctx, const policy_req *rq, char *out, size_t outlen)
{
    live *L = ctx;
    char stage[32], action[32];
    size_t n = decide_one(ctx, rq, out, outlen);
    const char *a = n > 7 && strncmp(out, "action=", 7) == 0 ? out + 7 : "";

    snprintf(action, sizeof(action), "%.*s", (int)strcspn(a, " \n"), a);
    metrics_policy(L->met, cstr(rq->a[PA_PROTOCOL_STATE], stage, sizeof(stage)), action);
    return n;
}

/* on_log_event - an event from the followed log; submissions are the policy service's */
static void
on_log_event(void *ctx, const hj_event *ev)
{
    live *L = ctx;

    if (ev->type == HJ_EV_SUBMIT)
        note_qid(L, ev->queue_id, ev->account);
    if (ev->type == HJ_EV_SUBMIT && !L->conf->log_submissions)
        return;
    engine_event(L->eng, ev);
}

/* on_log_line - one new line of the Postfix log, through the replay's parser */
static void
on_log_line(void *ctx, const char *line, size_t len)
{
    live *L = ctx;
    hj_logline l;
    pf_rec rec;

    if (len && line[len - 1] == '\r')
        len--;
    if (len == 0 || logline_parse(&L->clk, line, len, &l) != 0 || !logparse_is_postfix(&l) ||
        logparse_postfix(&l, &rec) == PF_UNKNOWN) {
        metrics_log_line(L->met, 1); /* each line is counted once, understood or not */
        return;
    }
    metrics_log_line(L->met, 0);
    qtrack_line(L->qt, &l, &rec);
}

static void
on_follow(evutil_socket_t fd, short what, void *arg)
{
    live *L = arg;

    (void)fd, (void)what;
    follow_poll(L->fw);
}

/* follow_start - follow the Postfix log when log_follow is set */
static void
follow_start(live *L)
{
    time_t now = time(NULL);
    struct tm tm;

    if (L->conf->log_follow[0] == 0)
        return;
    localtime_r(&now, &tm);
    logline_clock_init(&L->clk, tm.tm_year + 1900, tm.tm_mon + 1, 0);
    qtrack_conf qc = {.lifetime = L->conf->queue_id_lifetime,
                      .max_tracked = (size_t)L->conf->queue_max_tracked,
                      .local_domains = L->conf->local_domains,
                      .nlocal = L->conf->nlocal};
    L->qt = qtrack_new(&qc, on_log_event, L);
    L->fw = follow_new(L->conf->log_follow, on_log_line, L);
    L->ev_follow = event_new(L->base, -1, EV_PERSIST, on_follow, L);
    struct timeval every = {0, 250000};
    event_add(L->ev_follow, &every);
}

/* restore_one - a lock from the store into the engine, silently */
static int
restore_one(void *ctx, const hj_lock_rec *k)
{
    live *L = ctx;

    engine_lock(L->eng, k->account, k->since, local_tzoff((time_t)k->since), k->until, k->reason,
                false);
    return 0;
}

/* restore_counters - a blob from the store into the engine */
static int
restore_counters(void *ctx, const char *key, const void *blob, size_t len)
{
    live *L = ctx;

    if (engine_import(L->eng, key, blob, len, time(NULL)) != 0)
        log_warn("store: counters of %s are unreadable: starting them afresh", key);
    return 0;
}

/* carry_one - reload: one entity's counters from the old engine to the new */
static void
carry_one(void *ctx, const char *key, int gone)
{
    live *L = ctx;

    (void)gone;
    buf_reset(&L->blob);
    if (engine_export(L->from, key, &L->blob) == 1)
        engine_import(L->eng, key, L->blob.s, L->blob.len, time(NULL));
}

/* flush_one - one changed entity into the open batch */
static void
flush_one(void *ctx, const char *key, int gone)
{
    live *L = ctx;
    char err[256];
    int rc;

    buf_reset(&L->blob);
    if (gone || engine_export(L->eng, key, &L->blob) != 1)
        rc = L->store->ops->counters_del(L->store, key, err, sizeof(err));
    else
        rc = L->store->ops->counters_put(L->store, key, L->blob.s, L->blob.len, err, sizeof(err));
    if (rc == STORE_ERR && !L->flush_err++)
        log_error("store: cannot write the counters of %s: %s", key, err);
}

/* flush - the counters changed since the last flush, in one batch */
static void
flush(live *L)
{
    char err[256];
    int before = L->flush_err;

    if (L->store->ops->counters_begin(L->store, err, sizeof(err)) != STORE_OK) {
        if (!L->flush_err++)
            log_error("store: cannot write counters: %s", err);
        return;
    }
    engine_changed(L->eng, flush_one, L, 0);
    if (L->store->ops->counters_commit(L->store, err, sizeof(err)) != STORE_OK) {
        if (!L->flush_err++)
            log_error("store: cannot write counters: %s", err);
    } else if (L->flush_err && L->flush_err == before) {
        log_info("store: writing counters again");
        L->flush_err = 0;
    }
}

static void
on_flush(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    flush(arg);
}

/* engine_build - a new engine for L->conf with the store's locks */
static int
engine_build(live *L)
{
    char err[256];

    L->eng = engine_new(L->conf->pol, on_decision, L);
    if (L->instances == NULL)
        L->instances = htab_new(1024);
    if (L->store->ops->lock_walk(L->store, restore_one, L, err, sizeof(err)) != STORE_OK) {
        log_error("store: cannot read the locks: %s", err);
        return -1;
    }
    if (L->from) { /* a reload: the running engine has the freshest counters */
        engine_changed(L->from, carry_one, L, 1);
        return 0;
    }
    if (L->store->ops->counters_walk(L->store, restore_counters, L, err, sizeof(err)) != STORE_OK)
        log_error("store: cannot read the counters: %s: starting them afresh", err);
    return 0;
}

/* state_lock - create state_dir and hold its lock; -1 if another hijackd has it */
static int
state_lock(live *L)
{
    char path[4096], pid[32];
    const char *dir = L->conf->state_dir;

    if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
        fprintf(stderr, "hijackd: cannot create state_dir %s: %s\n", dir, strerror(errno));
        return -1;
    }
    snprintf(path, sizeof(path), "%s/hijackd.pid", dir);
    L->pidfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
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

/* store_spec - "sqlite:" means state_dir/hijackd.db */
static void
store_spec(const hj_conf *c, char *out, size_t outlen)
{
    if (strcmp(c->store, "sqlite:") == 0)
        snprintf(out, outlen, "sqlite:%s/hijackd.db", c->state_dir);
    else
        snprintf(out, outlen, "%s", c->store);
}

/* on_tick - automatic unlocks happen on time, not only at the next request */
static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
    live *L = arg;

    (void)fd, (void)what;
    engine_tick(L->eng, time(NULL));
}

/* live_reload - SIGHUP, hijackctl reload: a new configuration and engine, or the old ones
 * and a log line */
int
live_reload(live *L)
{
    char err[1024];
    hj_conf *nc = conf_load(L->conf_path, L->opts, L->nopts, err, sizeof(err));

    if (nc == NULL) {
        log_error("reload refused, the running configuration stays: %s", err);
        return -1;
    }
    cmds_exempt_apply(L, nc);
    static const char *const restart_only[] = {"policy_listen", "state_dir", "store", "log_follow"};
    const char *oldv[] = {L->conf->policy_listen, L->conf->state_dir, L->conf->store,
                          L->conf->log_follow};
    const char *newv[] = {nc->policy_listen, nc->state_dir, nc->store, nc->log_follow};
    for (size_t i = 0; i < 4; i++)
        if (strcmp(oldv[i], newv[i]) != 0)
            log_warn("reload: %s changed to %s: takes effect at the next restart", restart_only[i],
                     newv[i]);
    flush(L); /* the running engine's pending counters reach the store first */
    hj_conf *oc = L->conf;
    hj_engine *oe = L->eng;
    L->conf = nc;
    free(nc->policy_listen), nc->policy_listen = xstrdup(oc->policy_listen);
    free(nc->state_dir), nc->state_dir = xstrdup(oc->state_dir);
    free(nc->store), nc->store = xstrdup(oc->store);
    free(nc->log_follow), nc->log_follow = xstrdup(oc->log_follow);
    L->from = oe;
    int rc = engine_build(L);
    L->from = NULL;
    if (rc != 0) {
        engine_free(L->eng);
        L->eng = oe;
        L->conf = oc;
        conf_free(nc);
        log_error("reload refused: the store's locks could not be read");
        return -1;
    }
    engine_free(oe);
    conf_free(oc);
    notify_reload(L);
    log_info("reloaded %s: %zu rules", L->conf->source, L->conf->pol->nrules);
    return 0;
}

/* manual - run an admin's change with its actor and reason on the decisions it makes */
static int
manual(live *L, const char *actor, const char *reason, int lock, const char *account)
{
    time_t now = time(NULL);
    int rc;

    L->actor = actor;
    L->reason = reason;
    L->cur_store_err = 0;
    if (lock)
        rc = engine_lock(L->eng, account, now, local_tzoff(now), 0, reason, true);
    else
        rc = engine_unlock(L->eng, account, now, local_tzoff(now), reason);
    L->actor = L->reason = NULL;
    return rc != 0 ? -1 : L->cur_store_err ? -2 : 0;
}

int
live_lock(live *L, const char *account, const char *actor, const char *reason)
{
    return manual(L, actor, reason, 1, account);
}

int
live_unlock(live *L, const char *account, const char *actor, const char *reason)
{
    return manual(L, actor, reason, 0, account);
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

    snprintf(ep, sizeof(ep), "%s:%s", c->policy_listen[0] == '/' ? "unix" : "inet",
             c->policy_listen);
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

/* admin_start - the control socket and the HTTP side; -1 (with a message) if they cannot start */
static int
admin_start(live *L)
{
    char err[512];

    if (*L->conf->control_socket)
        snprintf(L->control_path, sizeof(L->control_path), "%s", L->conf->control_socket);
    else
        snprintf(L->control_path, sizeof(L->control_path), "%s/control.sock", L->conf->state_dir);
    if ((L->ctl = ctlsrv_new(L->base, L, L->control_path, err, sizeof(err))) == NULL) {
        fprintf(stderr, "hijackd: %s\n", err);
        return -1;
    }
    if (*L->conf->http_listen && (L->http = httpd_new(L->base, L, err, sizeof(err))) == NULL) {
        fprintf(stderr, "hijackd: %s\n", err);
        return -1;
    }
    return 0;
}

/* purge_start - lock_purge_queue's worker and its spool, state_dir/purge; -1 with a message */
static int
purge_start(live *L)
{
    char dir[4200], err[512];

    snprintf(dir, sizeof(dir), "%s/purge", L->conf->state_dir);
    if ((L->pg = purge_open(dir, err, sizeof(err))) == NULL) {
        fprintf(stderr, "hijackd: cannot open the purge spool: %s\n", err);
        return -1;
    }
    return 0;
}

/* live_start - everything before the loop; -1 (with a message) if it cannot start */
static int
live_start(live *L)
{
    char spec[4200], err[512];

    if (state_lock(L) != 0)
        return -1;
    store_spec(L->conf, spec, sizeof(spec));
    if ((L->store = store_open(spec, err, sizeof(err))) == NULL) {
        fprintf(stderr, "hijackd: cannot open the store: %s\n", err);
        return -1;
    }
    if (notify_open(L) != 0 || engine_build(L) != 0 || purge_start(L) != 0)
        return -1;
    raise_nofile(L->conf->policy_max_connections);
    L->base = event_base_new();
    policysrv_conf pc = {L->conf->policy_listen,          L->conf->policy_socket_mode,
                         L->conf->policy_idle_timeout,    L->conf->policy_request_timeout,
                         L->conf->policy_max_connections, fail_reply[L->conf->parse_error_action]};
    if ((L->ps = policysrv_new(L->base, &pc, decide, L, err, sizeof(err))) == NULL) {
        fprintf(stderr, "hijackd: cannot listen: %s\n", err);
        return -1;
    }
    L->ev_hup = evsignal_new(L->base, SIGHUP, on_signal, L);
    L->ev_term = evsignal_new(L->base, SIGTERM, on_signal, L);
    L->ev_int = evsignal_new(L->base, SIGINT, on_signal, L);
    L->ev_tick = event_new(L->base, -1, EV_PERSIST, on_tick, L);
    L->ev_flush = event_new(L->base, -1, EV_PERSIST, on_flush, L);
    struct timeval every = {L->conf->counters_flush_interval, 0};
    event_add(L->ev_flush, &every);
    struct timeval tick = {LIVE_TICK, 0};
    evsignal_add(L->ev_hup, NULL);
    evsignal_add(L->ev_term, NULL);
    evsignal_add(L->ev_int, NULL);
    event_add(L->ev_tick, &tick);
    signal(SIGPIPE, SIG_IGN);
    follow_start(L);
    return admin_start(L);
}

/* live_stop - release everything */
static void
live_stop(live *L)
{
    struct event *evs[] = {L->ev_hup, L->ev_term, L->ev_int, L->ev_tick, L->ev_flush, L->ev_follow};

    if (L->eng && L->store)
        flush(L);    /* a clean stop forgets nothing */
    notify_close(L); /* after the batch in progress; the rest stays spooled */
    purge_close(L->pg); /* the same: a purge in progress ends within postfix_command_timeout */
    for (size_t i = 0; i < 6; i++)
        if (evs[i])
            event_free(evs[i]);
    httpd_free(L->http);
    ctlsrv_free(L->ctl);
    policysrv_free(L->ps);
    follow_free(L->fw);
    qtrack_free(L->qt);
    if (L->base)
        event_base_free(L->base);
    engine_free(L->eng);
    store_close(L->store);
    if (L->pidfd > 0)
        close(L->pidfd);
    conf_free(L->conf);
    buf_free(&L->scratch);
    buf_free(&L->blob);
    if (L->instances)
        htab_free(L->instances, free);
    if (L->qids)
        htab_free(L->qids, free);
    metrics_free(L->met);
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
    cmds_exempt_apply(&L, L.conf);
    L.started = time(NULL);
    L.met = metrics_new();
    L.qids = htab_new(1024);
    log_open("hijackd", L.foreground);
    if (live_start(&L) != 0) {
        live_stop(&L);
        return 1;
    }
    if (L.foreground)
        show_wiring(L.conf);
    log_info("started: %zu rules, policy on %s, store %s", L.conf->pol->nrules,
             L.conf->policy_listen, L.store->name);
    event_base_dispatch(L.base);
    live_stop(&L);
    log_info("stopped");
    return 0;
}
