/*
 * core - the one judge every front end asks (see core.h)
 */
#include "core.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../util/alloc.h"
#include "../util/buf.h"
#include "../util/htab.h"
#include "../util/log.h"
#include "../util/timeconv.h"
#include "../util/tmpl.h"
#include "exempt.h"

#define CORE_OBSERVERS 8
#define CORE_MAP_MAX 100000 /* queue IDs and transactions remembered (then forgotten at once) */
#define CORE_TRIM_BATCH 500 /* audit entries deleted by one store call */
#define CORE_TRIM_BATCHES 4 /* store calls of one tick, at most */

const double core_store_buckets[CORE_STORE_BUCKETS] = {0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                       0.025,  0.05,  0.1,    0.5,   1.0};

/* what the decisions of one call did to its account: on the caller's stack, never shared */
typedef struct core_call {
    const char *account; /* NULL: an event with no answer (the log) */
    const char *actor;   /* a manual change's actor, else NULL ("hijackd") */
    int lock, hold, throttle, warn, store_err;
    core_verdict *v; /* where a decision's evidence goes, or NULL */
} core_call;

struct core {
    hj_conf *conf;
    hj_engine *eng;
    hj_store *store;
    core_call *call; /* the call in progress (restored when it returns: calls nest) */
    core_observer obs[CORE_OBSERVERS];
    size_t nobs;
    htab *instances; /* per_rcpt counting: the last transaction per account */
    htab *qids;      /* queue ID -> account */
    htab *spamq;     /* queue IDs with a content verdict counted */
    htab *decisions; /* "rule\taction" -> int64_t, for /metrics */
    core_stats st;
    hj_buf scratch, blob;
    hj_engine *from; /* carry counters from this engine (reload) */
    int flush_err;   /* a flush failed: keep logging quiet until one succeeds */
    int64_t refused_seen, refused_at; /* failed-login names at the cap: last logged count, when */
    int64_t capped_seen, capped_at;   /* entities dropped or refused at a cap: the same */
    int trim_err;    /* an audit trim failed: the same */
    char **fq;       /* changed keys still to write (first byte 1: gone), a chunk a step */
    size_t nfq, capfq, ifq;
    char host[256];
};

static const char *const kind_names[CORE_KIND__COUNT] = {
    [CORE_OK] = "ok",     [CORE_WARN] = "warn",     [CORE_DEFER] = "defer",
    [CORE_HOLD] = "hold", [CORE_REJECT] = "reject", [CORE_FAIL] = "fail"};

const char *
core_kind_name(core_kind k)
{
    return k < CORE_KIND__COUNT ? kind_names[k] : "?";
}

int32_t
core_tzoff(int64_t t)
{
    struct tm tm;
    time_t tt = (time_t)t;

    localtime_r(&tt, &tm);
    return (int32_t)tm.tm_gmtoff;
}

/* lock_rec - the lock table's record of an account lock */
static void
lock_rec(const hj_decision *d, const char *rule, const char *actor, hj_lock_rec *k)
{
    memset(k, 0, sizeof(*k));
    k->since = d->t;
    k->until = d->until;
    snprintf(k->account, sizeof(k->account), "%s", d->entity);
    snprintf(k->rule, sizeof(k->rule), "%s", rule);
    snprintf(k->actor, sizeof(k->actor), "%s", actor);
    if (d->rule)
        snprintf(k->reason, sizeof(k->reason), "%s %lld > %lld",
                 policy_metric_name(d->rule->metric), (long long)d->count, (long long)d->limit);
    else
        snprintf(k->reason, sizeof(k->reason), "%s", d->reason ? d->reason : "");
}

/* persist - write one decision to the store; returns STORE_OK or STORE_ERR */
static int
persist(core *C, const hj_decision *d, const char *json, const char *actor)
{
    char err[256];
    hj_audit_rec a = {.t = d->t, .json = json};
    const char *rule = d->rule ? d->rule->name : (d->action == HJ_A_UNLOCK ? "" : "manual");
    hj_store *st = C->store;

    snprintf(a.account, sizeof(a.account), "%s", d->entity);
    snprintf(a.action, sizeof(a.action), "%s", policy_action_name(d->action));
    snprintf(a.rule, sizeof(a.rule), "%s", rule);
    snprintf(a.actor, sizeof(a.actor), "%s", actor);
    int rc = st->ops->audit_add(st, &a, err, sizeof(err));
    if (rc == STORE_OK && d->action == HJ_A_LOCK && d->scope == HJ_S_ACCOUNT) {
        hj_lock_rec k;
        lock_rec(d, rule, actor, &k);
        rc = st->ops->lock_put(st, &k, err, sizeof(err));
    } else if (rc == STORE_OK && d->action == HJ_A_UNLOCK && d->scope == HJ_S_ACCOUNT) {
        rc = st->ops->lock_del(st, d->entity, err, sizeof(err));
        rc = rc == STORE_NOTFOUND ? STORE_OK : rc;
    }
    if (rc != STORE_OK)
        log_error("store: cannot record %s of %s: %s", a.action, d->entity, err);
    return rc;
}

/* timed_persist - persist, timed into the store-latency histogram */
static int
timed_persist(core *C, const hj_decision *d, const char *json, const char *actor)
{
    struct timespec t0, t1;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = persist(C, d, json, actor);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    C->st.store_n++;
    C->st.store_sum += s;
    for (size_t i = 0; i < CORE_STORE_BUCKETS; i++)
        C->st.store_bucket[i] += s <= core_store_buckets[i];
    return rc;
}

/* count_decision - decisions by rule and action, for /metrics (a bounded set of labels) */
static void
count_decision(core *C, const hj_decision *d)
{
    char key[256];
    int created;
    int n = snprintf(key, sizeof(key), "%s\t%s", d->rule ? d->rule->name : "manual",
                     policy_action_name(d->action));
    size_t len = (size_t)(n < (int)sizeof(key) ? n : (int)sizeof(key) - 1);
    htab_node *node = htab_put(C->decisions, key, len, NULL, &created);

    if (created)
        node->value = xcalloc(1, sizeof(int64_t));
    ++*(int64_t *)node->value;
}

/* note_call - what a decision means for the call in progress, if it is about its account */
static void
note_call(core_call *k, const hj_decision *d, const char *json)
{
    if (k == NULL || k->account == NULL || d->scope != HJ_S_ACCOUNT ||
        strcmp(d->entity, k->account) != 0)
        return;
    k->lock |= d->action == HJ_A_LOCK;
    k->throttle |= d->action == HJ_A_THROTTLE;
    k->hold |= d->action == HJ_A_HOLD;
    k->warn |= d->action == HJ_A_WARN;
    if (k->v && strlen(json) < sizeof(k->v->evidence))
        memcpy(k->v->evidence, json, strlen(json) + 1);
}

/* on_decision - every decision: logged, made durable, counted, observed, noted for the call.
 * Its JSON is in a buffer of its own: an observer may ask the core again (a nested decision). */
static void
on_decision(void *ctx, const hj_decision *d)
{
    core *C = ctx;
    core_call *k = C->call;
    const char *actor = k && k->actor ? k->actor : "hijackd";
    hj_buf js = HJ_BUF_INIT;

    decision_json(d, &js);
    if (js.len)
        js.s[--js.len] = 0; /* no newline in the log or the store */
    log_info("decision %s", js.s);
    if (timed_persist(C, d, js.s, actor) != STORE_OK && k)
        k->store_err = 1;
    count_decision(C, d);
    note_call(k, d, js.s);
    for (size_t i = 0; i < C->nobs; i++)
        C->obs[i].decision(C->obs[i].ctx, d, js.s);
    buf_free(&js);
}

/* with_call - run an engine entry point with k as the call in progress */
#define WITH_CALL(C, k, stmt)                                                                      \
    do {                                                                                           \
        core_call *saved_ = (C)->call;                                                             \
        (C)->call = (k);                                                                           \
        stmt;                                                                                      \
        (C)->call = saved_;                                                                        \
    } while (0)

/* map_put - key -> a copy of value in a bounded map (forgotten at once when full) */
static htab *
map_put(htab *t, const char *key, const char *value, size_t vlen, int *same)
{
    int created;

    if (t->used >= CORE_MAP_MAX) {
        htab_free(t, free);
        t = htab_new(1024);
    }
    htab_node *n = htab_put(t, key, strlen(key), NULL, &created);
    *same = !created && n->value && strlen(n->value) == vlen && memcmp(n->value, value, vlen) == 0;
    if (!*same) {
        free(n->value);
        n->value = xstrndup(value, vlen);
    }
    return t;
}

/*
 * same_transaction - per-recipient counting: is this recipient part of a
 * message already counted? Recipients of one transaction share txn; the
 * table keeps the last transaction per account.
 */
static int
same_transaction(core *C, const char *acct, const char *txn)
{
    int same;

    if (txn == NULL || *txn == 0)
        return 0;
    C->instances = map_put(C->instances, acct, txn, strlen(txn), &same);
    return same;
}

/* the queue-ID map's values: the source's tag (P: the policy service, M: the milter, both front
 * ends that answer for the message; L: the log), then the account */
enum { QID_POLICY = 'P', QID_MILTER = 'M', QID_LOG = 'L' };

/* front_tag - a front end's tag by the service it names in core_msg */
static char
front_tag(const char *service)
{
    return service && strcmp(service, "milter") == 0 ? QID_MILTER : QID_POLICY;
}

static int
is_front(char tag)
{
    return tag == QID_POLICY || tag == QID_MILTER;
}

/* note_qid - queue ID -> account; what the log says never replaces what a front end that
 * answers for the message (the policy service) recorded: anyone who can write to syslog can
 * forge a log line, and a purge deletes by this map. A policy entry also keeps the sender its
 * request gave (after the account's NUL: 's' and the sender, or '-' when unknown or too long),
 * the purge's second key (queue.h: queue_match) */
static void
note_qid(core *C, const char *qid, const char *acct, const char *sender, char source)
{
    char v[2 * STORE_NAME_MAX + 8];
    int same;

    if (qid == NULL || *qid == 0 || acct == NULL || *acct == 0)
        return;
    const char *old = htab_get(C->qids, qid, strlen(qid));
    if (source == QID_LOG && old && is_front(old[0]))
        return;
    int n = snprintf(v, STORE_NAME_MAX + 2, "%c%s", source, acct);
    n = n < STORE_NAME_MAX + 2 ? n : STORE_NAME_MAX + 1;
    if (is_front(source)) {
        int known = sender != NULL && strlen(sender) < STORE_NAME_MAX;
        n += 1 + snprintf(v + n + 1, sizeof(v) - (size_t)n - 1, "%c%s", known ? 's' : '-',
                          known ? sender : "");
    }
    C->qids = map_put(C->qids, qid, v, (size_t)n, &same);
}

void
core_note_queue_id(core *C, const char *qid, const char *acct)
{
    note_qid(C, qid, acct, NULL, QID_LOG);
}

const char *
core_queue_sender(core *C, const char *queue_id)
{
    const char *v = htab_get(C->qids, queue_id, strlen(queue_id));

    if (v == NULL || !is_front(v[0]))
        return NULL;
    v += strlen(v) + 1;
    return *v == 's' ? v + 1 : NULL;
}

const char *
core_account_of(core *C, const char *queue_id)
{
    const char *v = htab_get(C->qids, queue_id, strlen(queue_id));

    return v ? v + 1 : NULL;
}

typedef struct qid_walk {
    const char *account;
    void (*fn)(void *, const char *);
    void *ctx;
} qid_walk;

static int
qid_one(htab_node *node, void *ctx)
{
    qid_walk *w = ctx;

    if (node->value && strcmp((const char *)node->value + 1, w->account) == 0)
        w->fn(w->ctx, node->key);
    return 0;
}

void
core_queue_ids(core *C, const char *account, void (*fn)(void *ctx, const char *qid), void *ctx)
{
    qid_walk w = {account, fn, ctx};

    htab_walk(C->qids, qid_one, &w);
}

/* already_counted - a message is counted once per queue ID whether the policy service, the
 * milter or both see it: a request of one front end is not counted when the other one counted
 * that queue ID for that account (Postfix asks the policy service at END-OF-MESSAGE before the
 * milter sees the end of the message). A front end is never joined with itself: it asks once
 * per message, and a queue ID can come again later (Postfix reuses short ones). Per-recipient
 * counting has several requests per queue ID, and its first recipients none: not joined */
static int
already_counted(core *C, const core_msg *m)
{
    if (m->per_rcpt || m->queue_id == NULL || *m->queue_id == 0)
        return 0;
    const char *v = htab_get(C->qids, m->queue_id, strlen(m->queue_id));
    return v != NULL && is_front(v[0]) && v[0] != front_tag(m->service) &&
           strcmp(v + 1, m->account) == 0;
}

/* count_message - the submission event of one message (or recipient) */
static void
count_message(core *C, const core_msg *m, int64_t now)
{
    hj_event ev = {.type = HJ_EV_SUBMIT, .t = now, .tzoff = core_tzoff(now)};

    ev.account = m->account;
    ev.client_ip = m->client_ip ? m->client_ip : "";
    ev.client_name = m->client_name ? m->client_name : "";
    ev.helo = m->helo ? m->helo : "";
    ev.sender = m->sender;
    ev.queue_id = m->queue_id ? m->queue_id : "";
    ev.service = m->service;
    ev.nrcpt = m->nrcpt;
    ev.size = m->size;
    if (m->per_rcpt) { /* one recipient per request */
        ev.nrcpt = 1;
        ev.size = 0;
        ev.more_rcpts = same_transaction(C, m->account, m->txn);
    }
    if (ev.nrcpt < 1)
        ev.nrcpt = 1;
    note_qid(C, ev.queue_id, m->account, m->sender, front_tag(m->service));
    engine_event(C->eng, &ev);
}

/* utf8_cut - the longest prefix of s[0..n) that ends on a character boundary, NUL-terminated */
static void
utf8_cut(char *s, size_t n)
{
    size_t i = n;

    while (i > 0 && ((unsigned char)s[i - 1] & 0xc0) == 0x80)
        i--; /* continuation bytes */
    if (i > 0 && ((unsigned char)s[i - 1] & 0x80)) {
        unsigned char lead = (unsigned char)s[i - 1];
        size_t want = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
        if (n - (i - 1) < want)
            n = i - 1; /* the last character is incomplete: drop it */
    }
    s[n] = 0;
}

/* reply_text - the reject or defer text for acct from its template, into v->text; an expansion
 * longer than the text's room is cut (a long account name must not turn a lock into an
 * internal error, which answers with internal_error_action) */
static void
reply_text(core *C, const char *tmpl, const char *action, const char *acct, int64_t now,
           core_verdict *v)
{
    char t[48], u[48];
    const hj_conf *c = C->conf;

    if (strchr(tmpl, '{') == NULL) { /* no placeholder (the default texts) */
        snprintf(v->text, sizeof(v->text), "%s", tmpl);
        return;
    }
    timeconv_rfc3339(v->since ? v->since : now, core_tzoff(now), t, sizeof(t));
    timeconv_rfc3339(v->until, core_tzoff(now), u, sizeof(u));
    tmpl_var vars[] = {{"account", acct},
                       {"action", action},
                       {"rule", v->rule},
                       {"time", t},
                       {"until", v->until ? u : "an admin unlocks it"},
                       {"contact", c->admin_contact},
                       {"host", C->host}};
    buf_reset(&C->scratch);
    tmpl_expand(tmpl, vars, sizeof(vars) / sizeof(vars[0]), 1, &C->scratch);
    size_t n = C->scratch.len < sizeof(v->text) - 1 ? C->scratch.len : sizeof(v->text) - 1;
    memcpy(v->text, buf_str(&C->scratch), n);
    utf8_cut(v->text, n);
}

/* trim_audit - delete the audit entries older than audit_keep, a few small batches a call */
static void
trim_audit(core *C, int64_t now)
{
    char err[256];
    size_t n = CORE_TRIM_BATCH;

    for (int i = 0; i < CORE_TRIM_BATCHES && n == CORE_TRIM_BATCH; i++) {
        if (C->store->ops->audit_trim(C->store, now - C->conf->audit_keep, CORE_TRIM_BATCH, &n, err,
                                      sizeof(err)) != STORE_OK) {
            if (!C->trim_err)
                log_error("store: cannot delete old audit entries: %s", err);
            C->trim_err = 1;
            return;
        }
        C->trim_err = 0;
        C->st.audit_trimmed += (int64_t)n;
    }
}

/* the verdict of each state but OK, with its {action} word; state_text() gives its text */
static const struct {
    core_kind kind;
    const char *action;
} state_verdict[] = {
    [HJ_ST_THROTTLED] = {CORE_DEFER, "throttled"},
    [HJ_ST_LOCKED] = {CORE_REJECT, "locked"},
    [HJ_ST_HELD] = {CORE_HOLD, "held"},
};

static const char *
state_text(const hj_conf *c, hj_state st)
{
    return st == HJ_ST_LOCKED ? c->reject_text : st == HJ_ST_HELD ? c->hold_text : c->defer_text;
}

/* verdict_of - the verdict for a state and what the call did */
static void
verdict_of(core *C, const core_msg *m, hj_state st, const core_call *k, int64_t now,
           core_verdict *v)
{
    hj_lockinfo li = {0};

    v->decided = k->lock || k->hold || k->throttle || k->warn;
    if (k->store_err) {
        v->kind = CORE_FAIL;
        return;
    }
    if (st == HJ_ST_OK) {
        v->kind = k->warn ? CORE_WARN : CORE_OK;
        return;
    }
    engine_state(C->eng, m->account, now, &li);
    snprintf(v->rule, sizeof(v->rule), "%s", li.rule ? li.rule->name : "manual");
    v->since = li.since;
    v->until = li.until;
    v->kind = state_verdict[st].kind;
    reply_text(C, state_text(C->conf, st), state_verdict[st].action, m->account, now, v);
}

void
core_judge(core *C, const core_msg *m, int64_t now, core_verdict *v)
{
    core_call k = {.account = m->account, .v = v};

    memset(v, 0, offsetof(core_verdict, text));
    v->text[0] = v->evidence[0] = 0;
    for (size_t i = 0; i < C->nobs; i++)
        if (C->obs[i].request)
            C->obs[i].request(C->obs[i].ctx, m);
    hj_state st = engine_state(C->eng, m->account, now, NULL);
    if ((st == HJ_ST_OK || st == HJ_ST_HELD) && m->count && !already_counted(C, m)) {
        WITH_CALL(C, &k, count_message(C, m, now)); /* a held account's mail counts too */
        st = k.lock ? HJ_ST_LOCKED : k.hold ? HJ_ST_HELD : k.throttle ? HJ_ST_THROTTLED : st;
    }
    verdict_of(C, m, st, &k, now, v);
    C->st.verdicts[v->kind]++;
}

void
core_event(core *C, const hj_event *ev)
{
    core_call k = {0};

    WITH_CALL(C, &k, engine_event(C->eng, ev));
}

static const char *const spam_names[CORE_SPAM__COUNT] = {"clean", "suspect", "spam", "unscanned"};

const char *
core_spam_class_name(core_spam_class c)
{
    return (unsigned)c < CORE_SPAM__COUNT ? spam_names[c] : "?";
}

/* spam_log - one line per content verdict: "spam verdict {JSON}" (every string escaped) */
static void
spam_log(core *C, const core_spam *s, double score, int repeated)
{
    const char *keys[] = {"account", "queue_id", "client_ip", "sender",
                          "service", "symbols",  "subject"};
    const char *vals[] = {s->account, s->queue_id, s->client_ip, s->sender,
                          s->service, s->symbols,  s->subject};

    buf_reset(&C->scratch);
    buf_printf(&C->scratch, "{\"class\":\"%s\",\"score\":%.2f,\"threshold\":%.2f",
               core_spam_class_name(s->cls), score, isfinite(s->threshold) ? s->threshold : 0.0);
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        if (vals[i] == NULL || *vals[i] == 0)
            continue;
        buf_printf(&C->scratch, ",\"%s\":", keys[i]);
        buf_json_str(&C->scratch, vals[i], strlen(vals[i]));
    }
    buf_printf(&C->scratch, "%s}", repeated ? ",\"repeated\":true" : "");
    log_info("spam verdict %s", buf_str(&C->scratch));
}

/* spam_first - is this the first content verdict on its queue ID (none known: it is) */
static int
spam_first(core *C, const char *qid, const char *account)
{
    int same;

    if (qid == NULL || *qid == 0)
        return 1;
    C->spamq = map_put(C->spamq, qid, account, strlen(account), &same);
    return !same;
}

void
core_spam_verdict(core *C, const core_spam *s, int64_t now, core_verdict *v)
{
    core_msg m = {.account = s->account};
    core_call k = {.account = s->account, .v = v};
    double score = isfinite(s->score) ? s->score : 0.0;
    int counts = s->cls == CORE_SPAM_SPAM || s->cls == CORE_SPAM_SUSPECT;

    memset(v, 0, offsetof(core_verdict, text));
    v->text[0] = v->evidence[0] = 0;
    if (s->account == NULL || *s->account == 0)
        return;
    C->st.spam[(unsigned)s->cls < CORE_SPAM__COUNT ? s->cls : CORE_SPAM_UNSCANNED]++;
    int repeated = counts && !spam_first(C, s->queue_id, s->account);
    C->st.spam_repeated += repeated;
    spam_log(C, s, score, repeated);
    if (counts && !repeated) {
        hj_event ev = {.type = HJ_EV_SPAM, .t = now, .tzoff = core_tzoff(now)};
        ev.account = s->account;
        ev.client_ip = s->client_ip ? s->client_ip : "";
        ev.queue_id = s->queue_id ? s->queue_id : "";
        ev.sender = s->sender;
        ev.service = s->service;
        ev.spam = s->cls == CORE_SPAM_SPAM ? HJ_SPAM_SPAM : HJ_SPAM_SUSPECT;
        ev.spam_score = score;
        ev.spam_threshold = isfinite(s->threshold) ? s->threshold : 0.0;
        ev.spam_symbols = s->symbols;
        ev.spam_subject = s->subject;
        WITH_CALL(C, &k, engine_event(C->eng, &ev));
    }
    verdict_of(C, &m, engine_state(C->eng, s->account, now, NULL), &k, now, v);
}

/* note_refused - failed logins of new names past failed_login_names_max: one line per 10 min */
static void
note_refused(core *C, int64_t now)
{
    int64_t n = engine_stats(C->eng)->unproven_refused;

    if (n == C->refused_seen || now < C->refused_at + 600)
        return;
    log_warn("failed logins of %lld new user names were counted only for their client address: "
             "failed_login_names_max (%lu) names are kept (a password spray?)",
             (long long)(n - C->refused_seen), (unsigned long)C->conf->pol->failed_names_max);
    C->refused_seen = n;
    C->refused_at = now;
}

/* note_caps - entities dropped or not made at accounts_max / client_entities_max: one line per
 * 10 minutes while it goes on */
static void
note_caps(core *C, int64_t now)
{
    const hj_engine_stats *st = engine_stats(C->eng);
    int64_t n = 0;

    for (int s = 0; s < HJ_S__COUNT; s++)
        n += st->evicted[s] + st->refused[s];
    if (n == C->capped_seen || now < C->capped_at + 600)
        return;
    log_warn("entity caps reached: so far %lld accounts and %lld client addresses dropped (the "
             "least recently seen first), %lld accounts followed above accounts_max (%lu), %lld "
             "client addresses not followed at client_entities_max (%lu)",
             (long long)st->evicted[HJ_S_ACCOUNT], (long long)st->evicted[HJ_S_IP],
             (long long)st->refused[HJ_S_ACCOUNT], (unsigned long)C->conf->pol->accounts_max,
             (long long)st->refused[HJ_S_IP], (unsigned long)C->conf->pol->clients_max);
    C->capped_seen = n;
    C->capped_at = now;
}

void
core_tick(core *C, int64_t now)
{
    core_call k = {0};

    WITH_CALL(C, &k, engine_tick(C->eng, now));
    note_refused(C, now);
    note_caps(C, now);
    trim_audit(C, now);
}

/* manual - an admin's change, with its actor on the decisions it makes */
static int
manual(core *C, const char *actor, const char *reason, int lock, const char *account)
{
    int64_t now = (int64_t)time(NULL);
    core_call k = {.actor = actor};
    int rc;

    if (lock)
        WITH_CALL(C, &k, rc = engine_lock(C->eng, account, now, core_tzoff(now), 0, reason, true));
    else
        WITH_CALL(C, &k, rc = engine_unlock(C->eng, account, now, core_tzoff(now), reason));
    return rc != 0 ? -1 : k.store_err ? -2 : 0;
}

int
core_lock(core *C, const char *account, const char *actor, const char *reason)
{
    return manual(C, actor, reason, 1, account);
}

int
core_unlock(core *C, const char *account, const char *actor, const char *reason)
{
    return manual(C, actor, reason, 0, account);
}

/* ---------------------------------------------------------------- counters and locks in the store */

/* restore_one - a lock from the store into the engine, silently */
static int
restore_one(void *ctx, const hj_lock_rec *k)
{
    core *C = ctx;

    engine_lock(C->eng, k->account, k->since, core_tzoff(k->since), k->until, k->reason, false);
    return 0;
}

/* restore_counters - a blob from the store into the engine */
static int
restore_counters(void *ctx, const char *key, const void *blob, size_t len)
{
    core *C = ctx;

    if (engine_import(C->eng, key, blob, len, (int64_t)time(NULL)) != 0)
        log_warn("store: counters of %s are unreadable: starting them afresh", key);
    return 0;
}

/* carry_one - reload: one entity's counters from the old engine to the new */
static void
carry_one(void *ctx, const char *key, int gone)
{
    core *C = ctx;

    (void)gone;
    buf_reset(&C->blob);
    if (engine_export(C->from, key, &C->blob) == 1)
        engine_import(C->eng, key, C->blob.s, C->blob.len, (int64_t)time(NULL));
}

/* flush_one - one changed entity into the open batch */
static void
flush_one(void *ctx, const char *key, int gone)
{
    core *C = ctx;
    char err[256];
    int rc;

    buf_reset(&C->blob);
    if (gone || engine_export(C->eng, key, &C->blob) != 1)
        rc = C->store->ops->counters_del(C->store, key, err, sizeof(err));
    else
        rc = C->store->ops->counters_put(C->store, key, C->blob.s, C->blob.len, err, sizeof(err));
    if (rc == STORE_ERR && !C->flush_err++)
        log_error("store: cannot write the counters of %s: %s", key, err);
}

/* collect_one - note a changed entity for the flush */
static void
collect_one(void *ctx, const char *key, int gone)
{
    core *C = ctx;
    size_t n = strlen(key);

    if (C->nfq == C->capfq)
        C->fq = xrealloc(C->fq, (C->capfq = C->capfq ? 2 * C->capfq : 1024) * sizeof(*C->fq));
    char *k = xmalloc(n + 2);
    k[0] = gone ? 1 : 2;
    memcpy(k + 1, key, n + 1);
    C->fq[C->nfq++] = k;
}

/* write_chunk - the next max noted entities in one batch; 0, or -1 when the store failed */
static int
write_chunk(core *C, size_t max)
{
    char err[256];
    int before = C->flush_err, rc = 0;
    size_t end = C->ifq + max < C->nfq ? C->ifq + max : C->nfq;

    if (C->store->ops->counters_begin(C->store, err, sizeof(err)) != STORE_OK) {
        if (!C->flush_err++)
            log_error("store: cannot write counters: %s", err);
        return -1; /* nothing written: the same chunk at the next step */
    }
    for (size_t i = C->ifq; i < end; i++)
        flush_one(C, C->fq[i] + 1, C->fq[i][0] == 1);
    if (C->store->ops->counters_commit(C->store, err, sizeof(err)) != STORE_OK) {
        if (!C->flush_err++)
            log_error("store: cannot write counters: %s", err);
        rc = -1; /* the batch is lost: those entities are written again when they change */
    } else if (C->flush_err && C->flush_err == before) {
        log_info("store: writing counters again");
        C->flush_err = 0;
    }
    for (size_t i = C->ifq; i < end; i++)
        free(C->fq[i]);
    C->ifq = end;
    if (C->ifq == C->nfq)
        C->nfq = C->ifq = 0;
    return rc;
}

size_t
core_flush_step(core *C, size_t max)
{
    if (C->ifq == C->nfq) /* a new flush: what changed since the last one */
        engine_changed(C->eng, collect_one, C, 0);
    if (C->nfq > C->ifq)
        write_chunk(C, max ? max : C->nfq - C->ifq);
    return C->nfq - C->ifq;
}

void
core_flush(core *C)
{
    if (C->nfq > C->ifq)
        core_flush_step(C, 0); /* the rest of a flush in progress ... */
    if (C->nfq == C->ifq)
        core_flush_step(C, 0); /* ... and everything changed since */
}

/* engine_build - a new engine for C->conf with the store's locks (and C->from's counters) */
static int
engine_build(core *C)
{
    char err[256];

    C->eng = engine_new(C->conf->pol, on_decision, C);
    if (C->store->ops->lock_walk(C->store, restore_one, C, err, sizeof(err)) != STORE_OK) {
        log_error("store: cannot read the locks: %s", err);
        return -1;
    }
    if (C->from) { /* a reload: the running engine has the freshest counters */
        engine_changed(C->from, carry_one, C, 1);
        return 0;
    }
    if (C->store->ops->counters_walk(C->store, restore_counters, C, err, sizeof(err)) != STORE_OK)
        log_error("store: cannot read the counters: %s: starting them afresh", err);
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

core *
core_open(hj_conf *conf, char *err, size_t errlen)
{
    char spec[4200], e[512];
    core *C = xcalloc(1, sizeof(*C));

    C->conf = conf;
    exempt_apply(conf);
    store_spec(conf, spec, sizeof(spec));
    if ((C->store = store_open(spec, e, sizeof(e))) == NULL) {
        snprintf(err, errlen, "cannot open the store: %s", e);
        C->conf = NULL;
        core_close(C);
        return NULL;
    }
    C->instances = htab_new(1024);
    C->qids = htab_new(1024);
    C->spamq = htab_new(1024);
    C->decisions = htab_new(64);
    if (gethostname(C->host, sizeof(C->host) - 1) != 0)
        snprintf(C->host, sizeof(C->host), "localhost");
    if (engine_build(C) != 0) {
        snprintf(err, errlen, "the store's locks could not be read (see the log)");
        C->conf = NULL;
        core_close(C);
        return NULL;
    }
    return C;
}

/* warn_restart - a reload met a changed setting that takes effect at the next restart */
static void
warn_restart(void *ctx, const char *name, const char *old_text, const char *new_text)
{
    (void)ctx, (void)old_text;
    log_warn("reload: %s changed to %s: takes effect at the next restart", name, new_text);
}

int
core_reload(core *C, hj_conf *nc, unsigned *changed)
{
    char err[512];

    exempt_apply(nc);
    conf_changed(C->conf, nc, CONF_F_RESTART, warn_restart, NULL);
    if (conf_keep(nc, C->conf, CONF_F_RESTART, err, sizeof(err)) != 0) {
        log_error("reload refused, the running configuration stays: %s", err);
        conf_free(nc);
        return -1;
    }
    *changed = conf_changed(C->conf, nc, CONF_F_NOTIFY, NULL, NULL) ? CONF_F_NOTIFY : 0;
    core_flush(C); /* the running engine's pending counters reach the store first */
    hj_conf *oc = C->conf;
    hj_engine *oe = C->eng;
    C->conf = nc;
    C->from = oe;
    int rc = engine_build(C);
    C->from = NULL;
    if (rc != 0) {
        engine_free(C->eng);
        C->eng = oe;
        C->conf = oc;
        conf_free(nc);
        log_error("reload refused: the store's locks could not be read");
        return -1;
    }
    engine_free(oe);
    conf_free(oc);
    log_info("reloaded %s: %zu rules", C->conf->source, C->conf->pol->nrules);
    return 0;
}

void
core_observe(core *C, const core_observer *o)
{
    if (C->nobs == CORE_OBSERVERS) { /* a programming error: the daemon registers a few */
        log_error("core: more than %d observers", CORE_OBSERVERS);
        abort();
    }
    C->obs[C->nobs++] = *o;
}

const hj_conf *
core_conf(const core *C)
{
    return C->conf;
}

hj_engine *
core_engine(core *C)
{
    return C->eng;
}

hj_store *
core_store(core *C)
{
    return C->store;
}

const char *
core_host(const core *C)
{
    return C->host;
}

const core_stats *
core_get_stats(const core *C)
{
    return &C->st;
}

typedef struct dec_walk {
    void (*fn)(void *, const char *, const char *, int64_t);
    void *ctx;
} dec_walk;

static int
dec_one(htab_node *node, void *ctx)
{
    dec_walk *w = ctx;
    char key[256];
    const char *tab = strchr(node->key, '\t');

    if (tab == NULL)
        return 0;
    snprintf(key, sizeof(key), "%.*s", (int)(tab - node->key), node->key);
    w->fn(w->ctx, key, tab + 1, *(int64_t *)node->value);
    return 0;
}

void
core_decisions(core *C, void (*fn)(void *ctx, const char *rule, const char *action,
                                         int64_t n), void *ctx)
{
    dec_walk w = {fn, ctx};

    htab_walk(C->decisions, dec_one, &w);
}

/* core_close - flush (a clean stop forgets nothing) and release everything; C->conf too */
void
core_close(core *C)
{
    if (C == NULL)
        return;
    if (C->eng && C->store)
        core_flush(C);
    engine_free(C->eng);
    store_close(C->store);
    if (C->instances)
        htab_free(C->instances, free);
    if (C->qids)
        htab_free(C->qids, free);
    if (C->spamq)
        htab_free(C->spamq, free);
    if (C->decisions)
        htab_free(C->decisions, free);
    for (size_t i = C->ifq; i < C->nfq; i++)
        free(C->fq[i]);
    free(C->fq);
    buf_free(&C->scratch);
    buf_free(&C->blob);
    if (C->conf)
        conf_free(C->conf);
    free(C);
}
