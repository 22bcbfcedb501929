/*
 * engine - the detection engine (see engine.h)
 */
#include "engine.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "../util/alloc.h"
#include "engine_int.h"

static void entity_unlock(hj_engine *e, hj_entity *x, int64_t t, int32_t tzoff, const char *reason);
static void entity_auto_unlock(hj_engine *e, hj_entity *x, int32_t tzoff);
static void engine_gone(hj_engine *e, const hj_entity *x);

/* which metrics each event type feeds */
static const unsigned metrics_of[HJ_EV__COUNT] = {
    [HJ_EV_LOGIN] = 1u << HJ_M_DISTINCT_IPS | 1u << HJ_M_DISTINCT_NETS,
    [HJ_EV_LOGIN_FAIL] = 1u << HJ_M_FAILED_LOGINS,
    [HJ_EV_SUBMIT] = 1u << HJ_M_MESSAGES | 1u << HJ_M_RECIPIENTS | 1u << HJ_M_BYTES |
                     1u << HJ_M_DISTINCT_RCPTS | 1u << HJ_M_DISTINCT_IPS |
                     1u << HJ_M_DISTINCT_NETS | 1u << HJ_M_SIMILAR_SIZES | 1u << HJ_M_SCORE,
    [HJ_EV_DELIVERY] = 1u << HJ_M_BOUNCES | 1u << HJ_M_DISTINCT_RCPTS | 1u << HJ_M_BOUNCE_RATIO,
    [HJ_EV_RELAY] = 1u << HJ_M_RELAY_RCPTS,
    [HJ_EV_REJECT] = 0,
    [HJ_EV_SPAM] = 1u << HJ_M_SPAM | 1u << HJ_M_SPAM_SUSPECT,
};

size_t
engine_entities(const hj_engine *e, hj_scope s)
{
    return s < HJ_S__COUNT ? e->ent[s]->used : 0;
}

/* the order rules are judged in: lock beats hold beats throttle (then warn and relay) */
static const int severity_of[HJ_A__COUNT] = {
    [HJ_A_LOCK] = 0, [HJ_A_HOLD] = 1, [HJ_A_THROTTLE] = 2, [HJ_A_WARN] = 3, [HJ_A_RELAY] = 3,
    [HJ_A_UNLOCK] = 3,
};
#define SEVERITIES 4

hj_engine *
engine_new(const hj_policy *pol, hj_decision_fn fn, void *ctx)
{
    hj_engine *e = xcalloc(1, sizeof(*e));

    e->pol = pol;
    e->rng = 0x9e3779b97f4a7c15ULL;
    e->fn = fn;
    e->ctx = ctx;
    for (int s = 0; s < HJ_S__COUNT; s++)
        e->ent[s] = htab_new(s == HJ_S_GLOBAL ? 1 : 1024);
    for (size_t i = 0; i < pol->ncounters; i++) /* the rules' and the signals' */
        e->scope_metrics[pol->counters[i].scope] |= 1u << pol->counters[i].metric;
    e->order = xcalloc(pol->nrules + 1, sizeof(*e->order));
    e->freemail = signals_freemail(pol);
    size_t n = 0;
    for (int sev = 0; sev < SEVERITIES; sev++)
        for (size_t i = 0; i < pol->nrules; i++)
            if (severity_of[pol->rules[i].action] == sev)
                e->order[n++] = i;
    return e;
}

/* engine_entity_release - free the counters of an entity, keep its totals */
void
engine_entity_release(const hj_engine *e, hj_entity *x)
{
    for (size_t i = 0; x->cnt && i < e->pol->ncounters; i++) {
        const hj_counter_def *d = &e->pol->counters[i];
        if (d->scope != x->scope)
            continue;
        hj_counter *k = entity_cnt(e->pol, x, i);
        window_free(&k->w);
        counter_kind ck = counter_kind_of(d->metric);
        if (ck == CK_RATIO)
            window_free(&k->w2);
        else if (ck == CK_DISTINCT)
            dset_free(&k->d);
        else if (ck == CK_SIZES)
            free(k->sz);
    }
    free(x->cnt);
    free(x->last_fired);
    x->cnt = NULL;
    x->last_fired = NULL;
}

/* entity_free - htab destructor helper */
static void
entity_free(const hj_engine *e, hj_entity *x)
{
    engine_entity_release(e, x);
    free(x->prof);
    free(x->nets);
    free(x->eff);
    free(x);
}

/* override_applies - does override o apply to the entity named name in scope s */
static bool
override_applies(const hj_override *o, hj_scope s, const char *name)
{
    if (s == HJ_S_ACCOUNT)
        return policy_pattern_match(o->pattern, name);
    if (s == HJ_S_DOMAIN && strncmp(o->pattern, "*@", 2) == 0)
        return policy_pattern_match(o->pattern + 2, name);
    return false;
}

/* entity_effective - per-rule limits after overrides; NULL when none apply */
static hj_eff *
entity_effective(const hj_policy *p, hj_scope s, const char *name)
{
    hj_eff *eff = NULL;

    for (int pass = 0; pass < 2; pass++) { /* globs first, then exact patterns win */
        for (size_t i = 0; i < p->noverrides; i++) {
            const hj_override *o = &p->overrides[i];
            if (o->exact != pass || !override_applies(o, s, name))
                continue;
            if (eff == NULL) {
                eff = xcalloc(p->nrules, sizeof(*eff));
                for (size_t r = 0; r < p->nrules; r++)
                    eff[r] = (hj_eff){p->rules[r].limit, p->rules[r].action, false};
            }
            if (o->off)
                eff[o->rule].off = true;
            if (o->has_limit)
                eff[o->rule].limit = o->limit;
            if (o->has_action)
                eff[o->rule].action = o->action;
        }
    }
    return eff;
}

/* ENGINE_EVICT_SAMPLES entities are sampled at a cap, the least recently seen dropped (as Redis
 * evicts); one seen within ENGINE_EVICT_GUARD seconds is never dropped: it may be in use by the
 * call that is creating (a decision's observer asks the core again) */
#define ENGINE_EVICT_SAMPLES 8
#define ENGINE_EVICT_GUARD 60

/* scope_cap - the most entities of scope s (0 = no cap) */
static size_t
scope_cap(const hj_policy *p, hj_scope s)
{
    static const int by_accounts[HJ_S__COUNT] = {[HJ_S_ACCOUNT] = 1, [HJ_S_DOMAIN] = 1};

    return by_accounts[s] ? p->accounts_max : s == HJ_S_IP ? p->clients_max : 0;
}

static uint64_t
engine_random(hj_engine *e)
{
    uint64_t x = e->rng;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return e->rng = x;
}

/* entity_forget - drop an entity and its htab node; the store forgets it too */
static void
entity_forget(hj_engine *e, hj_entity *x)
{
    htab *t = e->ent[x->scope];
    const char *key = x->name;
    size_t klen = strlen(key);

    if (x->scope == HJ_S_ACCOUNT && x->unproven)
        e->st.unproven = (int64_t)--e->nunproven;
    else
        engine_gone(e, x);
    entity_free(e, x);
    htab_del(t, key, klen);
    e->st.entities--;
}

/* entity_evict - make room in x's scope by dropping the least recently seen of a sample
 * (never x, a locked, held or throttled entity, nor one in recent use); false when none
 * could go */
static bool
entity_evict(hj_engine *e, const hj_entity *x, int64_t t)
{
    hj_entity *best = NULL;

    for (int i = 0; i < ENGINE_EVICT_SAMPLES; i++) {
        hj_entity *y = htab_sample(e->ent[x->scope], engine_random(e))->value;
        if (y == x || y->locked || y->throttled_until > t || y->held_until > t ||
            y->tot.last_seen > t - ENGINE_EVICT_GUARD)
            continue;
        if (best == NULL || y->tot.last_seen < best->tot.last_seen)
            best = y;
    }
    if (best == NULL)
        return false;
    e->st.evicted[x->scope]++;
    entity_forget(e, best);
    return true;
}

/* entity_new - a new entity of scope s; at the scope's cap another is dropped for it, and when
 * none can be, a client address or a domain is not made (NULL, counted) and an account is
 * made above the cap (an account is real: its mail must be judged) */
static hj_entity *
entity_new(hj_engine *e, hj_scope s, htab_node *n, int64_t t)
{
    hj_entity *x = xcalloc(1, sizeof(*x));
    size_t cap = scope_cap(e->pol, s);

    x->scope = s;
    x->name = n->key;
    x->exempt = s == HJ_S_ACCOUNT && policy_is_exempt(e->pol, x->name);
    x->eff = entity_effective(e->pol, s, x->name);
    x->tot.first_seen = t;
    n->value = x;
    e->st.entities++;
    if (cap && e->ent[s]->used > cap && !entity_evict(e, x, t)) {
        e->st.refused[s]++;
        if (s != HJ_S_ACCOUNT) {
            const char *key = x->name;
            entity_free(e, x);
            htab_del(e->ent[s], key, strlen(key));
            e->st.entities--;
            return NULL;
        }
    }
    return x;
}

/* engine_entity_get - find or create the entity for (scope, name); NULL only for a client
 * address or a domain at its cap (see entity_new) */
hj_entity *
engine_entity_get(hj_engine *e, hj_scope s, const char *name, int64_t t)
{
    int created;
    htab_node *n = htab_put(e->ent[s], name, strlen(name), NULL, &created);
    hj_entity *x = created ? entity_new(e, s, n, t) : n->value;

    if (x && t > x->tot.last_seen)
        x->tot.last_seen = t;
    return x;
}

/* entity_note_ip - remember a recent distinct client IP as evidence */
static void
entity_note_ip(hj_entity *x, const hj_addr *ap)
{
    hj_addr a = *ap;

    for (int i = 0; i < x->nips; i++)
        if (memcmp(x->ips[i].b, a.b, 16) == 0)
            return;
    if (x->nips < ENGINE_RECENT_IPS) {
        x->ips[x->nips++] = a;
        return;
    }
    x->ips[x->ipnext] = a;
    x->ipnext = (x->ipnext + 1) % ENGINE_RECENT_IPS;
}

/* ev_ctx_init - per-event facts shared by every entity it touches (the IP parsed once) */
static void
ev_ctx_init(const hj_engine *e, const hj_event *ev, ev_ctx *c)
{
    hj_addr *net = &c->net;

    *c = (ev_ctx){.ev = ev};
    c->has_ip = ev->client_ip && netaddr_parse(ev->client_ip, strlen(ev->client_ip), &c->addr) == 0;
    c->cls = c->has_ip ? policy_ipclass_addr(e->pol, &c->addr) : HJ_C_EXTERNAL;
    if (c->has_ip) {
        c->ip_hash = htab_hash((const char *)c->addr.b, 16);
        netaddr_mask(&c->addr, e->pol->v4_prefix, e->pol->v6_prefix, net);
        c->net_hash = htab_hash((const char *)net->b, 16) ^ 0x9e3779b97f4a7c15ULL;
    }
}

/* sum_amount - what an event adds to a sum metric */
static int64_t
sum_amount(const hj_event *ev, hj_metric m)
{
    switch (m) {
    case HJ_M_MESSAGES:
        return ev->more_rcpts ? 0 : 1;
    case HJ_M_FAILED_LOGINS:
    case HJ_M_RELAY_RCPTS:
        return 1;
    case HJ_M_RECIPIENTS:
        return ev->nrcpt > 0 ? ev->nrcpt : (int64_t)ev->nrcpts;
    case HJ_M_BYTES:
        return ev->size > 0 ? ev->size : 0;
    case HJ_M_BOUNCES:
        return ev->status == HJ_DLV_BOUNCED;
    case HJ_M_SPAM:
        return ev->spam == HJ_SPAM_SPAM;
    case HJ_M_SPAM_SUSPECT:
        return ev->spam == HJ_SPAM_SUSPECT;
    default:
        return 0;
    }
}

/* rcpt_hash - a recipient address, case-insensitively */
static uint64_t
rcpt_hash(const char *r)
{
    char low[320];
    size_t n = strlen(r);

    if (n >= sizeof(low))
        n = sizeof(low) - 1;
    for (size_t i = 0; i < n; i++)
        low[i] = (char)(r[i] >= 'A' && r[i] <= 'Z' ? r[i] + 32 : r[i]);
    return htab_hash(low, n);
}

/* distinct_touch - add the event's items to a distinct counter */
static void
distinct_touch(const hj_engine *e, hj_counter *k, hj_metric m, const ev_ctx *c)
{
    const hj_event *ev = c->ev;
    uint32_t max = e->pol->distinct_max;

    if (m == HJ_M_DISTINCT_IPS && c->has_ip)
        dset_touch(&k->d, c->ip_hash, ev->t, max);
    else if (m == HJ_M_DISTINCT_NETS && c->has_ip)
        dset_touch(&k->d, c->net_hash, ev->t, max);
    else if (m == HJ_M_DISTINCT_RCPTS && ev->type == HJ_EV_DELIVERY && ev->rcpt)
        dset_touch(&k->d, rcpt_hash(ev->rcpt), ev->t, max);
    else if (m == HJ_M_DISTINCT_RCPTS)
        for (size_t i = 0; i < ev->nrcpts; i++)
            dset_touch(&k->d, rcpt_hash(ev->rcpts[i]), ev->t, max);
}

static bool
is_distinct(hj_metric m)
{
    return m == HJ_M_DISTINCT_RCPTS || m == HJ_M_DISTINCT_IPS || m == HJ_M_DISTINCT_NETS;
}

/* class_match - does a counter of class k see an event of class c */
static bool
class_match(hj_ipclass k, hj_ipclass c)
{
    return k == HJ_C_ANY || k == c;
}

/* novelty_match - does a counter with novelty filter n see this event */
static bool
novelty_match(hj_novelty n, const ev_ctx *c)
{
    return n == HJ_N_ANY || (n == HJ_N_NOVEL) == c->novel;
}

/* sizes_add - remember a message size for similar_sizes */
static void
sizes_add(hj_counter *k, int64_t t, int64_t size)
{
    if (k->sz == NULL)
        k->sz = xcalloc(1, sizeof(*k->sz));
    hj_sizes *z = k->sz;
    z->t[z->next] = (uint32_t)(t < 0 ? 0 : t > UINT32_MAX ? UINT32_MAX : t);
    z->size[z->next] = (uint32_t)(size > UINT32_MAX ? UINT32_MAX : size);
    z->next = (z->next + 1) % ENGINE_SIZES;
    if (z->len < ENGINE_SIZES)
        z->len++;
}

/* sizes_similar - messages in (t - span, t] whose size is within permille of size */
static int64_t
sizes_similar(const hj_sizes *z, int64_t span, int64_t t, int64_t size, uint32_t permille)
{
    int64_t n = 0;

    for (uint32_t i = 0; z && size > 0 && i < z->len; i++) {
        int64_t d = z->size[i] > size ? z->size[i] - size : size - z->size[i];
        n += z->t[i] > t - span && d * 1000 <= (int64_t)permille * size;
    }
    return n;
}

/* entity_count - feed the event to every counter of the entity's scope */
static void
entity_count(hj_engine *e, hj_entity *x, const ev_ctx *c, unsigned mask)
{
    const hj_policy *p = e->pol;

    if (x->cnt == NULL)
        entity_cnt_alloc(p, x);
    for (size_t i = 0; i < p->ncounters; i++) {
        const hj_counter_def *d = &p->counters[i];
        if (d->scope != x->scope || !(mask & (1u << d->metric)) ||
            !class_match(d->ipclass, c->cls) || !novelty_match(d->novelty, c))
            continue;
        hj_counter *k = entity_cnt(p, x, i);
        if (d->metric == HJ_M_SIMILAR_SIZES) {
            if (c->ev->size > 0)
                sizes_add(k, c->ev->t, c->ev->size);
        } else if (d->metric == HJ_M_BOUNCE_RATIO) {
            if (c->ev->status == HJ_DLV_SENT || c->ev->status == HJ_DLV_BOUNCED) {
                window_add(&k->w2, d->window, c->ev->t, 1);
                if (c->ev->status == HJ_DLV_BOUNCED)
                    window_add(&k->w, d->window, c->ev->t, 1);
            }
        } else if (d->metric == HJ_M_SCORE) {
            if (c->sig.score)
                window_add(&k->w, d->window, c->ev->t, c->sig.score);
        } else if (is_distinct(d->metric)) {
            distinct_touch(e, k, d->metric, c);
        } else {
            int64_t n = sum_amount(c->ev, d->metric);
            if (n)
                window_add(&k->w, d->window, c->ev->t, n);
        }
    }
}

/* engine_counter_value - the current value of counter i of an entity for this event */
int64_t
engine_counter_value(const hj_engine *e, hj_entity *x, size_t i, const hj_event *ev)
{
    const hj_counter_def *d = &e->pol->counters[i];

    if (x->cnt == NULL || d->scope != x->scope)
        return 0;
    hj_counter *k = entity_cnt(e->pol, x, i);
    if (d->metric == HJ_M_SIMILAR_SIZES)
        return sizes_similar(k->sz, d->window, ev->t, ev->size, e->pol->similar_permille);
    if (d->metric == HJ_M_BOUNCE_RATIO) { /* percent, once there are enough outcomes to judge */
        int64_t all = window_sum(&k->w2, d->window, ev->t);
        int64_t bounced = window_sum(&k->w, d->window, ev->t);
        return all < (int64_t)e->pol->bounce_ratio_min ? 0 : bounced * 100 / all;
    }
    if (is_distinct(d->metric))
        return dset_count(&k->d, d->window, ev->t);
    return window_sum(&k->w, d->window, ev->t);
}

/* decision_base - a decision about x with the event's evidence */
static void
decision_base(const hj_entity *x, const hj_event *ev, hj_decision *d)
{
    *d = (hj_decision){.t = ev->t,
                       .tzoff = ev->tzoff,
                       .scope = x->scope,
                       .entity = x->name,
                       .client_ip = ev->client_ip,
                       .client_name = ev->client_name,
                       .queue_id = ev->queue_id,
                       .sender = ev->sender,
                       .service = ev->service,
                       .total_messages = x->tot.messages,
                       .total_recipients = x->tot.recipients};
    if (ev->type == HJ_EV_SPAM) {
        d->spam = ev->spam;
        d->spam_score = ev->spam_score;
        d->spam_threshold = ev->spam_threshold;
        d->spam_symbols = ev->spam_symbols;
        d->spam_subject = ev->spam_subject;
    }
    d->nips = x->nips;
    memcpy(d->ips, x->ips, sizeof(x->ips[0]) * (size_t)x->nips);
}

/* rule_fire - apply a rule that is over its limit; returns true if it acted */
static bool
rule_fire(hj_engine *e, hj_entity *x, const hj_rule *r, hj_action act, hj_decision *d)
{
    int64_t t = d->t;
    size_t ri = (size_t)(r - e->pol->rules);

    if (x->locked)
        return false;
    switch (act) {
    case HJ_A_LOCK:
        engine_prove(e, x); /* a lock is stored, and listed */
        x->locked = true;
        x->lock_rule = r;
        x->locked_at = t;
        x->unlock_at = r->unlock_after ? t + r->unlock_after : 0;
        if (x->auto_unlocked_at && t - x->auto_unlocked_at < e->pol->relock_escalate) {
            x->unlock_at = 0; /* it came back: only an admin lifts this one */
            d->escalated = 1;
        }
        d->until = x->unlock_at;
        break;
    case HJ_A_HOLD:
        if (t < x->held_until)
            return false;
        x->held_at = t;
        x->held_until = t + r->hold_for;
        x->hold_rule = r;
        d->until = x->held_until;
        break;
    case HJ_A_THROTTLE:
        if (t < x->throttled_until || t < x->held_until) /* a hold takes the mail already */
            return false;
        x->throttled_at = t;
        x->throttled_until = t + r->throttle_for;
        x->throttle_rule = r;
        d->until = x->throttled_until;
        break;
    default:
        if (x->last_fired == NULL) {
            x->last_fired = xmalloc(e->pol->nrules * sizeof(*x->last_fired));
            for (size_t i = 0; i < e->pol->nrules; i++)
                x->last_fired[i] = INT64_MIN; /* never */
        }
        if (x->last_fired[ri] != INT64_MIN && t < x->last_fired[ri] + r->window)
            return false;
        x->last_fired[ri] = t;
        break;
    }
    d->action = act;
    d->rule = r;
    e->st.decisions[act]++;
    e->fn(e->ctx, d);
    return true;
}

/* entity_judge - evaluate the rules of the entity's scope that this event moved */
static void
entity_judge(hj_engine *e, hj_entity *x, const ev_ctx *c, unsigned mask)
{
    const hj_policy *p = e->pol;
    hj_decision d;

    if (x->exempt)
        return;
    for (size_t k = 0; k < p->nrules; k++) {
        const hj_rule *r = &p->rules[e->order[k]];
        const hj_eff *eff = x->eff ? &x->eff[e->order[k]] : NULL;
        if (r->scope != x->scope || !(mask & (1u << r->metric)) ||
            !class_match(r->ipclass, c->cls) || !novelty_match(r->novelty, c) || (eff && eff->off))
            continue;
        int64_t limit = eff ? eff->limit : r->limit;
        int64_t n = engine_counter_value(e, x, r->counter, c->ev);
        if (n <= limit)
            continue;
        decision_base(x, c->ev, &d);
        d.limit = limit;
        d.count = n;
        d.evclass = c->cls;
        d.novel = x->scope == HJ_S_ACCOUNT ? c->novel : -1;
        d.sig = c->has_sig && x->scope == HJ_S_ACCOUNT ? &c->sig : NULL;
        rule_fire(e, x, r, eff ? eff->action : r->action, &d);
    }
}

/* entity_totals - the report's per-entity totals */
static void
entity_totals(hj_entity *x, const hj_event *ev)
{
    switch (ev->type) {
    case HJ_EV_SUBMIT:
        x->tot.messages += ev->more_rcpts ? 0 : 1;
        x->tot.recipients += sum_amount(ev, HJ_M_RECIPIENTS);
        x->tot.bytes += sum_amount(ev, HJ_M_BYTES);
        break;
    case HJ_EV_LOGIN:
        x->tot.logins++;
        break;
    case HJ_EV_LOGIN_FAIL:
        x->tot.failed_logins++;
        break;
    case HJ_EV_DELIVERY:
        x->tot.deliveries++;
        x->tot.bounces += ev->status == HJ_DLV_BOUNCED;
        break;
    default:
        break;
    }
}

/* entity_feed - count, note evidence, judge (and, for an account, score and learn) */
static void
entity_feed(hj_engine *e, hj_entity *x, ev_ctx *c)
{
    unsigned mask = metrics_of[c->ev->type], score = 1u << HJ_M_SCORE;

    x->dirty = true;
    if (x->locked && x->unlock_at && c->ev->t >= x->unlock_at)
        entity_auto_unlock(e, x, c->ev->tzoff);
    x->tzoff = c->ev->tzoff;
    entity_totals(x, c->ev);
    /* evidence: the server-wide entity keeps the relaying clients, the others their users' */
    if (c->has_ip && c->ev->type != HJ_EV_DELIVERY &&
        (x->scope == HJ_S_GLOBAL) == (c->ev->type == HJ_EV_RELAY))
        entity_note_ip(x, &c->addr);
    if (!x->exempt && mask) {
        entity_count(e, x, c, mask & ~score);
        if (x->scope == HJ_S_ACCOUNT && (mask & score) && e->pol->sig.used) {
            signals_eval(e, x, c, &c->sig); /* after the counters it reads, before the score */
            c->has_sig = true;
            entity_count(e, x, c, score);
        }
        entity_judge(e, x, c, mask);
    }
    if (x->scope == HJ_S_ACCOUNT)
        profile_learn(e, x, c);
}

/* mail_counted - false for the mail that is never counted against anyone */
static bool
mail_counted(hj_engine *e, const hj_event *ev)
{
    if (ev->type != HJ_EV_SUBMIT && ev->type != HJ_EV_DELIVERY && ev->type != HJ_EV_SPAM)
        return true;
    if (policy_never_counted(ev->account, ev->type != HJ_EV_DELIVERY ? ev->sender : NULL)) {
        e->st.never_counted++;
        return false;
    }
    return true;
}

/* knet_add - remember a network for an account; the least recently used goes when full */
static hj_knet *
knet_add(const hj_engine *e, hj_entity *x, const hj_addr *net, int64_t first_seen)
{
    uint32_t max = e->pol->trusted_nets_max, i = 0;

    if (x->nnets >= max) {
        for (uint32_t j = 1; j < x->nnets; j++)
            if (x->nets[j].last_seen < x->nets[i].last_seen)
                i = j;
    } else {
        if ((x->nnets & (x->nnets - 1)) == 0) /* 0, 1, 2, 4, ...: grow by doubling */
            x->nets = xrealloc(x->nets, (x->nnets ? x->nnets * 2 : 1) * sizeof(*x->nets));
        i = x->nnets++;
    }
    x->nets[i] = (hj_knet){*net, first_seen, first_seen};
    return &x->nets[i];
}

/*
 * account_novelty - is this event from a network new to the account? Networks
 * of the reserved and own classes never are (webmail on 127.0.0.1 serves
 * everyone), nor is the first network an account is ever seen on; any other
 * network is novel until net_trust_after has passed since its first message
 * (a webmail-only user's first outside network is novel too).
 * Submissions and successful logins teach the account its networks.
 */
static bool
account_novelty(const hj_engine *e, hj_entity *x, const ev_ctx *c)
{
    const hj_event *ev = c->ev;
    hj_knet *k = NULL;

    if (!c->has_ip || c->cls == HJ_C_RESERVED || c->cls == HJ_C_OWN)
        return false;
    for (uint32_t i = 0; i < x->nnets && k == NULL; i++)
        if (memcmp(x->nets[i].net.b, c->net.b, 16) == 0)
            k = &x->nets[i];
    /* with no history at all (no network, no message, not even by webmail), the account's
     * first network is trusted at once: a replay starts somewhere, and so does an account */
    bool fresh = x->nnets == 0 && x->tot.messages == 0;
    bool novel = k ? ev->t - k->first_seen < e->pol->net_trust_after : !fresh;
    if (ev->type == HJ_EV_SUBMIT || ev->type == HJ_EV_LOGIN) {
        if (k == NULL)
            k = knet_add(e, x, &c->net, fresh ? ev->t - e->pol->net_trust_after : ev->t);
        if (ev->t > k->last_seen)
            k->last_seen = ev->t;
    }
    return novel;
}

/*
 * account_of - the account entity of an event. A failed login of a name hijackd has never
 * seen log in or send makes an "unproven" account: counted in memory for failed_logins, never
 * stored nor listed, at most failed_names_max of them (a password spray invents names by the
 * million); at the cap such a failure counts only for its client address (NULL here). Any
 * other event of the name proves it.
 */
static hj_entity *
account_of(hj_engine *e, const hj_event *ev)
{
    hj_entity *x = htab_get(e->ent[HJ_S_ACCOUNT], ev->account, strlen(ev->account));

    if (ev->type == HJ_EV_LOGIN_FAIL && x == NULL) {
        if (e->nunproven >= e->pol->failed_names_max) {
            e->st.unproven_refused++;
            return NULL;
        }
        x = engine_entity_get(e, HJ_S_ACCOUNT, ev->account, ev->t);
        x->unproven = true;
        e->st.unproven = (int64_t)++e->nunproven;
        return x;
    }
    x = engine_entity_get(e, HJ_S_ACCOUNT, ev->account, ev->t);
    if (ev->type != HJ_EV_LOGIN_FAIL)
        engine_prove(e, x);
    return x;
}

/* engine_prove - an account is real from now on: stored and listed like any */
void
engine_prove(hj_engine *e, hj_entity *x)
{
    if (!x->unproven)
        return;
    x->unproven = false;
    x->dirty = true;
    e->st.unproven = (int64_t)--e->nunproven;
}

/* feed_scope - feed the event to the (scope, name) entity unless its scope is at its cap */
static void
feed_scope(hj_engine *e, hj_scope s, const char *name, ev_ctx *c)
{
    hj_entity *x = engine_entity_get(e, s, name, c->ev->t);

    if (x)
        entity_feed(e, x, c);
}

void
engine_event(hj_engine *e, const hj_event *ev)
{
    ev_ctx c;

    if (ev->type >= HJ_EV__COUNT)
        return;
    e->st.events[ev->type]++;
    if (!mail_counted(e, ev))
        return;
    ev_ctx_init(e, ev, &c);
    hj_entity *a = ev->account && *ev->account ? account_of(e, ev) : NULL;
    if (a) {
        c.novel = account_novelty(e, a, &c);
        entity_feed(e, a, &c);
        if (a->exempt) {
            e->st.exempt++;
            return; /* an exempt account's mail counts nowhere else either */
        }
        const char *at = strrchr(ev->account, '@');
        if ((e->scope_metrics[HJ_S_DOMAIN] & metrics_of[ev->type]) && at && at[1])
            feed_scope(e, HJ_S_DOMAIN, at + 1, &c);
    }
    /* client IPs and the server are entities only for the events their rules count */
    if ((e->scope_metrics[HJ_S_IP] & metrics_of[ev->type]) && c.has_ip)
        feed_scope(e, HJ_S_IP, ev->client_ip, &c);
    if (e->scope_metrics[HJ_S_GLOBAL] & metrics_of[ev->type])
        feed_scope(e, HJ_S_GLOBAL, "", &c);
    if (ev->t >= e->last_sweep + ENGINE_SWEEP_EVERY)
        engine_tick(e, ev->t);
}

/* engine_gone_key - the store is to forget key at the next engine_changed() */
void
engine_gone_key(hj_engine *e, const char *key)
{
    e->gone = xrealloc(e->gone, (e->ngone + 1) * sizeof(*e->gone));
    e->gone[e->ngone++] = xstrdup(key);
}

/* engine_gone - an entity is about to be forgotten: so is its stored copy, if it has one (the
 * list of keys to forget grows only with what was stored, so a replay keeps none) */
static void
engine_gone(hj_engine *e, const hj_entity *x)
{
    char key[400];

    if (!x->stored)
        return;
    engine_key(x, key, sizeof(key));
    engine_gone_key(e, key);
}

typedef struct sweep_ctx {
    hj_engine *e;
    int64_t now;
} sweep_ctx;

/* sweep_one - auto-unlock, and forget what has been idle past every window */
static int
sweep_one(htab_node *n, void *arg)
{
    sweep_ctx *s = arg;
    hj_entity *x = n->value;
    hj_engine *e = s->e;

    if (x->locked && x->unlock_at && s->now >= x->unlock_at)
        entity_auto_unlock(e, x, x->tzoff);
    if (x->locked || x->throttled_until > s->now || x->held_until > s->now ||
        x->tot.last_seen > s->now - e->pol->scope_window[x->scope])
        return 0;
    if (x->scope == HJ_S_ACCOUNT && x->unproven) {
        e->st.unproven = (int64_t)--e->nunproven;
        entity_free(e, x);
        e->st.entities--;
        return 1;
    }
    if (x->scope == HJ_S_ACCOUNT && e->pol->account_forget &&
        x->tot.last_seen <= s->now - e->pol->account_forget) {
        e->st.forgotten++;
        engine_gone(e, x);
        entity_free(e, x);
        e->st.entities--;
        return 1;
    }
    if (x->scope == HJ_S_ACCOUNT) {
        if (x->cnt)
            x->dirty = true;
        engine_entity_release(e, x);
        return 0;
    }
    engine_gone(e, x);
    entity_free(e, x);
    e->st.entities--;
    return 1;
}

void
engine_tick(hj_engine *e, int64_t now)
{
    sweep_ctx s = {e, now};

    e->last_sweep = now;
    for (int i = 0; i < HJ_S__COUNT; i++)
        htab_walk(e->ent[i], sweep_one, &s);
}

hj_state
engine_state(hj_engine *e, const char *account, int64_t now, hj_lockinfo *info)
{
    hj_entity *x = htab_get(e->ent[HJ_S_ACCOUNT], account, strlen(account));

    if (info)
        *info = (hj_lockinfo){0};
    if (x == NULL)
        return HJ_ST_OK;
    if (x->locked && x->unlock_at && now >= x->unlock_at)
        entity_auto_unlock(e, x, x->tzoff);
    if (x->locked) {
        if (info)
            *info = (hj_lockinfo){x->lock_rule, x->locked_at, x->unlock_at};
        return HJ_ST_LOCKED;
    }
    if (now < x->held_until) {
        if (info)
            *info = (hj_lockinfo){x->hold_rule, x->held_at, x->held_until};
        return HJ_ST_HELD;
    }
    if (now < x->throttled_until) {
        if (info)
            *info = (hj_lockinfo){x->throttle_rule, x->throttled_at, x->throttled_until};
        return HJ_ST_THROTTLED;
    }
    return HJ_ST_OK;
}

/* entity_auto_unlock - the lock's time is up; a lock soon after this one is escalated */
static void
entity_auto_unlock(hj_engine *e, hj_entity *x, int32_t tzoff)
{
    int64_t t = x->unlock_at;

    entity_unlock(e, x, t, tzoff, "automatic unlock");
    x->auto_unlocked_at = t;
}

/* entity_unlock - lift a lock (and any throttle or hold); counting starts afresh */
static void
entity_unlock(hj_engine *e, hj_entity *x, int64_t t, int32_t tzoff, const char *reason)
{
    hj_decision d;
    hj_event ev = {.t = t, .tzoff = tzoff};

    x->locked = false;
    x->throttled_until = 0;
    x->held_until = 0;
    decision_base(x, &ev, &d);
    d.action = HJ_A_UNLOCK;
    d.reason = reason;
    d.rule = NULL;
    e->st.decisions[HJ_A_UNLOCK]++;
    e->fn(e->ctx, &d);
    x->lock_rule = NULL;
    x->dirty = true;
    engine_entity_release(e, x); /* the evidence that locked it must not lock it again at once */
}

int
engine_lock(hj_engine *e, const char *account, int64_t t, int32_t tzoff, int64_t until,
            const char *reason, bool announce)
{
    hj_entity *x = engine_entity_get(e, HJ_S_ACCOUNT, account, t);
    hj_decision d;
    hj_event ev = {.t = t, .tzoff = tzoff};

    if (x->locked)
        return -1;
    engine_prove(e, x);
    x->locked = true;
    x->lock_rule = NULL;
    x->locked_at = t;
    x->unlock_at = until;
    x->tzoff = tzoff;
    if (!announce)
        return 0;
    decision_base(x, &ev, &d);
    d.action = HJ_A_LOCK;
    d.until = until;
    d.reason = reason;
    e->st.decisions[HJ_A_LOCK]++;
    e->fn(e->ctx, &d);
    return 0;
}

int
engine_unlock(hj_engine *e, const char *account, int64_t t, int32_t tzoff, const char *reason)
{
    hj_entity *x = htab_get(e->ent[HJ_S_ACCOUNT], account, strlen(account));

    if (x == NULL || !x->locked)
        return -1;
    entity_unlock(e, x, t, tzoff, reason);
    x->auto_unlocked_at = 0; /* an admin looked at it */
    return 0;
}

typedef struct walk_ctx {
    void (*fn)(void *, const char *, const hj_totals *);
    void *ctx;
    bool unproven; /* walk the names known only from failed logins instead */
} walk_ctx;

/* walk_one - hand one account's totals to the caller */
static int
walk_one(htab_node *n, void *arg)
{
    walk_ctx *w = arg;
    hj_entity *x = n->value;

    if (x->unproven != w->unproven)
        return 0; /* an account, or a name known only from failed logins: one walk each */
    x->tot.state = x->locked ? HJ_ST_LOCKED : HJ_ST_OK;
    w->fn(w->ctx, x->name, &x->tot);
    return 0;
}

void
engine_accounts(hj_engine *e, void (*fn)(void *, const char *, const hj_totals *), void *ctx)
{
    walk_ctx w = {fn, ctx, false};

    htab_walk(e->ent[HJ_S_ACCOUNT], walk_one, &w);
}

void
engine_failed_names(hj_engine *e, void (*fn)(void *, const char *, const hj_totals *), void *ctx)
{
    walk_ctx w = {fn, ctx, true};

    htab_walk(e->ent[HJ_S_ACCOUNT], walk_one, &w);
}

const hj_engine_stats *
engine_stats(const hj_engine *e)
{
    return &e->st;
}

/* free_one - htab_walk callback that frees and unlinks every entity */
static int
free_one(htab_node *n, void *arg)
{
    entity_free(arg, n->value);
    return 1;
}

void
engine_free(hj_engine *e)
{
    if (e == NULL)
        return;
    for (int i = 0; i < HJ_S__COUNT; i++) {
        htab_walk(e->ent[i], free_one, e);
        htab_free(e->ent[i], NULL);
    }
    for (size_t i = 0; i < e->ngone; i++)
        free(e->gone[i]);
    free(e->gone);
    free(e->order);
    free(e->freemail);
    free(e);
}
