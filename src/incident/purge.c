/*
 * purge - lock_purge_queue, and an admin's release or purge, off the event loop (see purge.h)
 *
 * A job is one JSON object: {"account", "queue_ids": [...], "policy_senders": {queue ID:
 * sender}, "postqueue", "postsuper", "config_dir", "timeout", "mode"}. The worker does what
 * "hijackctl queue purge --yes" does (never --by-sender), or with "mode": "release" what
 * "hijackctl queue release --yes" does. A job written before policy_senders existed has none:
 * only account+sender then; one written before "mode" existed is a lock's purge.
 */
#include "purge.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../postfix/queue.h"
#include "../util/alloc.h"
#include "../util/htab.h"
#include "../util/log.h"

typedef struct purge_obs { /* the observer's context: the purger and the core it watches */
    purger *p;
    core *C;
} purge_obs;

struct purger {
    spool *sp;
    purge_obs obs;
};

typedef struct job_owner { /* queue_match's context: what the job says of its queue IDs */
    const char *account;
    htab *ids;       /* the queue IDs hijackd mapped to the account */
    json_t *senders; /* queue ID -> the policy request's sender */
} job_owner;

/* owner_of - queue_match's owner_of */
static void
owner_of(void *ctx, const char *queue_id, queue_owner *o)
{
    const job_owner *j = ctx;

    if (htab_get(j->ids, queue_id, strlen(queue_id)) == NULL)
        return;
    o->account = j->account;
    o->policy_sender = json_string_value(json_object_get(j->senders, queue_id));
}

static const char *
jstr(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* what each mode does: its name in a job, its log lines' tag, queue_match's flags, its verb */
static const struct purge_how {
    const char *name, *tag;
    unsigned flags;
    const char *done, *what;
    int (*run)(const char *postsuper_path, const char *config_dir, int timeout_s,
               const char *const *ids, size_t n, char *err, size_t errlen);
} hows[] = {
    [PURGE_ON_LOCK] = {"lock", "lock_purge_queue", 0, "deleted", "queued", queue_purge},
    [PURGE_DELETE] = {"purge", "purge", 0, "deleted", "queued", queue_purge},
    [PURGE_RELEASE] = {"release", "release", QUEUE_HELD, "released", "held", queue_release},
};

/* how_of - a job's mode: absent (a job of the old code) is a lock's; NULL for an unknown one
 * (damaged: a release must never become a delete) */
static const struct purge_how *
how_of(json_t *o)
{
    const char *m = jstr(o, "mode");

    if (*m == 0)
        return &hows[PURGE_ON_LOCK];
    for (size_t i = 0; i < sizeof(hows) / sizeof(hows[0]); i++)
        if (strcmp(m, hows[i].name) == 0)
            return &hows[i];
    return NULL;
}

/* log_done - "deleted N queued messages of A" (or "released N held"), what was kept and why */
static void
log_done(const struct purge_how *h, const char *acct, const queue_picks *p)
{
    hj_buf kept = HJ_BUF_INIT;

    queue_picks_kept(p, &kept);
    log_info("%s: %s %zu %s messages of %s%s%s", h->tag, h->done, p->nids, h->what, acct,
             kept.len ? "; " : "", buf_str(&kept));
    buf_free(&kept);
}

/* owner_ids - the job's queue IDs into owner->ids */
static void
owner_ids(json_t *o, job_owner *owner)
{
    size_t i;
    json_t *v;

    json_array_foreach(json_object_get(o, "queue_ids"), i, v)
    {
        const char *id = json_string_value(v);
        if (id)
            htab_put(owner->ids, id, strlen(id), (void *)owner->account, NULL);
    }
}

/* run_job - read the queue, pick the account's messages, delete or release them; the spool's
 * verdict */
static spool_result
run_job(json_t *o, const struct purge_how *h)
{
    const char *acct = jstr(o, "account"), *dir = jstr(o, "config_dir");
    json_int_t t = json_integer_value(json_object_get(o, "timeout"));
    int timeout = t >= 1 && t <= 3600 ? (int)t : 60; /* a damaged job: the default */
    job_owner owner = {acct, htab_new(64), json_object_get(o, "policy_senders")};
    queue_list q;
    queue_picks p = {0};
    char e[1024];
    spool_result res = SPOOL_DONE;

    if (*dir == 0)
        dir = NULL; /* Postfix's default instance */
    owner_ids(o, &owner);
    if (queue_read(jstr(o, "postqueue"), dir, timeout, &q, e, sizeof(e)) != 0) {
        log_error("%s: %s: %s (tried again later)", h->tag, acct, e);
        res = SPOOL_RETRY;
    } else {
        queue_match(&q, acct, owner_of, &owner, h->flags, &p); /* the strict rules only */
        if (p.n == 0) {
            log_info("%s: nothing of %s %s", h->tag, acct, h->what);
        } else if (p.nids > 0 &&
                   h->run(jstr(o, "postsuper"), dir, timeout, p.ids, p.nids, e, sizeof(e))) {
            log_error("%s: %s: %s (tried again later)", h->tag, acct, e);
            res = SPOOL_RETRY;
        } else {
            log_done(h, acct, &p);
        }
    }
    queue_picks_free(&p);
    queue_list_free(&q);
    htab_free(owner.ids, NULL);
    return res;
}

/* on_jobs - the spool's handler, on its thread */
static void
on_jobs(void *ctx, spool_job *jobs, size_t n, int64_t now)
{
    (void)ctx, (void)now;
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_loadb(jobs[i].data, jobs[i].len, 0, NULL);
        const struct purge_how *h = json_is_object(o) ? how_of(o) : NULL;
        if (h == NULL || !*jstr(o, "account")) {
            jobs[i].result = SPOOL_DROP; /* not ours, or damaged */
        } else {
            jobs[i].result = run_job(o, h);
        }
        json_decref(o);
    }
}

purger *
purge_open(const char *dir, char *err, size_t errlen)
{
    spool_conf sc = {dir, "purge", 60, 900, PURGE_MAX_AGE, 16};
    spool *sp = spool_open(&sc, on_jobs, NULL, err, errlen);

    if (sp == NULL)
        return NULL;
    purger *p = xcalloc(1, sizeof(*p));
    p->sp = sp;
    return p;
}

int
purge_put(purger *p, const purge_job *job, int64_t now)
{
    json_t *acct = json_string(job->account);

    if (acct == NULL) { /* not UTF-8: no account hijackd judged */
        log_warn("%s: an account name that is not UTF-8: nothing done", hows[job->mode].tag);
        return -1;
    }
    json_t *o = json_object(), *ids = json_array(), *snd = json_object();

    for (size_t i = 0; i < job->nqueue_ids; i++) {
        json_array_append_new(ids, json_string(job->queue_ids[i]));
        json_t *s = job->policy_senders && job->policy_senders[i]
                        ? json_string(job->policy_senders[i]) /* NULL: not UTF-8, left out */
                        : NULL;
        if (s)
            json_object_set_new(snd, job->queue_ids[i], s);
    }
    json_object_set_new(o, "account", acct);
    json_object_set_new(o, "queue_ids", ids);
    json_object_set_new(o, "policy_senders", snd);
    json_object_set_new(o, "postqueue", json_string(job->postqueue_path));
    json_object_set_new(o, "postsuper", json_string(job->postsuper_path));
    json_object_set_new(o, "config_dir", json_string(job->config_dir ? job->config_dir : ""));
    json_object_set_new(o, "timeout", json_integer(job->timeout_s));
    json_object_set_new(o, "mode", json_string(hows[job->mode].name));
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (s == NULL)
        return -1;
    int rc = spool_put(p->sp, "purge", s, strlen(s), now);
    free(s);
    return rc;
}

void
purge_stats(purger *p, struct spool_stats *out)
{
    spool_stats(p->sp, out);
}

void
purge_close(purger *p)
{
    if (p == NULL)
        return;
    spool_close(p->sp);
    free(p);
}

/* the queue IDs the core saw for one account, and the policy requests' senders */
typedef struct qid_set {
    core *C;
    const char **ids, **senders;
    size_t n, cap;
} qid_set;

static void
qid_collect(void *ctx, const char *qid)
{
    qid_set *s = ctx;

    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 16;
        s->ids = xrealloc(s->ids, s->cap * sizeof(*s->ids));
        s->senders = xrealloc(s->senders, s->cap * sizeof(*s->senders));
    }
    s->senders[s->n] = core_queue_sender(s->C, qid);
    s->ids[s->n++] = qid;
}

int
purge_account(purger *p, core *C, const char *account, purge_mode mode)
{
    const hj_conf *c = core_conf(C);
    qid_set s = {C, NULL, NULL, 0, 0};

    core_queue_ids(C, account, qid_collect, &s);
    purge_job j = {.account = account, .queue_ids = s.ids, .policy_senders = s.senders,
                   .nqueue_ids = s.n, .postqueue_path = c->postqueue_path,
                   .postsuper_path = c->postsuper_path, .config_dir = c->postfix_config_dir,
                   .timeout_s = (int)c->postfix_command_timeout, .mode = mode};
    int rc = purge_put(p, &j, (int64_t)time(NULL));
    free(s.ids);
    free(s.senders);
    return rc;
}

/* on_decision - lock_purge_queue: hand a locked account's queued mail to the worker (the loop
 * never runs postqueue or postsuper itself) */
static void
on_decision(void *ctx, const hj_decision *d, const char *json)
{
    purge_obs *o = ctx;

    (void)json;
    if (d->action != HJ_A_LOCK || d->scope != HJ_S_ACCOUNT || !core_conf(o->C)->lock_purge_queue)
        return;
    if (purge_account(o->p, o->C, d->entity, PURGE_ON_LOCK) != 0)
        log_error("lock_purge_queue: %s: the purge could not be queued", d->entity);
}

void
purge_observe(purger *p, core *C)
{
    p->obs.p = p;
    p->obs.C = C;
    core_observer o = {on_decision, NULL, &p->obs};
    core_observe(C, &o);
}
