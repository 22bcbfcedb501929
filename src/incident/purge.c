/*
 * purge - lock_purge_queue off the event loop (see purge.h)
 *
 * A job is one JSON object: {"account", "queue_ids": [...], "policy_senders": {queue ID:
 * sender}, "postqueue", "postsuper", "config_dir", "timeout"}. The worker does what "hijackctl
 * queue purge --yes" does (never --by-sender). A job written before policy_senders existed has
 * none: only account+sender then.
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
    htab *ids;          /* the queue IDs hijackd mapped to the account */
    json_t *senders;    /* queue ID -> the policy request's sender */
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

/* log_done - "deleted N queued messages of A", and what was kept and why */
static void
log_done(const char *acct, const queue_picks *p)
{
    hj_buf kept = HJ_BUF_INIT;

    queue_picks_kept(p, &kept);
    log_info("lock_purge_queue: deleted %zu queued messages of %s%s%s", p->nids, acct,
             kept.len ? "; " : "", buf_str(&kept));
    buf_free(&kept);
}

static const char *
jstr(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* run_job - read the queue, pick the account's messages, delete them; the spool's verdict */
static spool_result
run_job(json_t *o)
{
    const char *acct = jstr(o, "account"), *dir = jstr(o, "config_dir");
    json_int_t t = json_integer_value(json_object_get(o, "timeout"));
    int timeout = t >= 1 && t <= 3600 ? (int)t : 60; /* a damaged job: the default */
    job_owner owner = {acct, htab_new(64), json_object_get(o, "policy_senders")};
    queue_list q;
    queue_picks p = {0};
    size_t i;
    json_t *v;
    char e[1024];
    spool_result res = SPOOL_DONE;

    if (*dir == 0)
        dir = NULL; /* Postfix's default instance */
    json_array_foreach(json_object_get(o, "queue_ids"), i, v)
    {
        const char *id = json_string_value(v);
        if (id)
            htab_put(owner.ids, id, strlen(id), (void *)acct, NULL);
    }
    if (queue_read(jstr(o, "postqueue"), dir, timeout, &q, e, sizeof(e)) != 0) {
        log_error("lock_purge_queue: %s: %s (tried again later)", acct, e);
        res = SPOOL_RETRY;
    } else {
        queue_match(&q, acct, owner_of, &owner, 0, &p); /* the strict rules only */
        if (p.n == 0) {
            log_info("lock_purge_queue: nothing of %s queued", acct);
        } else if (p.nids > 0 &&
                   queue_purge(jstr(o, "postsuper"), dir, timeout, p.ids, p.nids, e, sizeof(e))) {
            log_error("lock_purge_queue: %s: %s (tried again later)", acct, e);
            res = SPOOL_RETRY;
        } else {
            log_done(acct, &p);
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
        if (!json_is_object(o) || !*jstr(o, "account")) {
            jobs[i].result = SPOOL_DROP; /* not ours, or damaged */
        } else {
            jobs[i].result = run_job(o);
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
        log_warn("lock_purge_queue: an account name that is not UTF-8: not purged");
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

/* on_decision - lock_purge_queue: hand a locked account's queued mail to the worker (the loop
 * never runs postqueue or postsuper itself) */
static void
on_decision(void *ctx, const hj_decision *d, const char *json)
{
    purge_obs *o = ctx;
    const hj_conf *c = core_conf(o->C);
    qid_set s = {o->C, NULL, NULL, 0, 0};

    (void)json;
    if (d->action != HJ_A_LOCK || d->scope != HJ_S_ACCOUNT || !c->lock_purge_queue)
        return;
    core_queue_ids(o->C, d->entity, qid_collect, &s);
    purge_job j = {d->entity,         s.ids,
                   s.senders,         s.n,
                   c->postqueue_path, c->postsuper_path,
                   c->postfix_config_dir, (int)c->postfix_command_timeout};
    if (purge_put(o->p, &j, (int64_t)time(NULL)) != 0)
        log_error("lock_purge_queue: %s: the purge could not be queued", d->entity);
    free(s.ids);
    free(s.senders);
}

void
purge_observe(purger *p, core *C)
{
    p->obs.p = p;
    p->obs.C = C;
    core_observer o = {on_decision, NULL, &p->obs};
    core_observe(C, &o);
}
