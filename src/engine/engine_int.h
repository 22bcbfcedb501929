/*
 * engine_int - the engine's internal types, shared by the engine's own files only
 *
 * DESCRIPTION
 *	Not an API: programs use engine.h. An entity is one account, domain,
 *	client IP or the whole server, with a counter per policy counter of
 *	its scope (allocated on first use), its lock and throttle state, its
 *	totals and a few recent client IPs. Entities live in one hash table
 *	per scope, keyed by name; "dirty" marks those changed since the last
 *	engine_changed() call, "gone" lists keys of entities forgotten since.
 */
#ifndef HJ_ENGINE_INT_H
#define HJ_ENGINE_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "../util/alloc.h"
#include "../util/htab.h"
#include "dset.h"
#include "engine.h"
#include "window.h"

#define ENGINE_RECENT_IPS 4
#define ENGINE_SWEEP_EVERY 600

/* recent message sizes kept per similar_sizes counter: the rules' limits are a few (5, 9), so
 * 32 are plenty to reach them; stored blobs of 64 (before) keep their newest 32 */
#define ENGINE_SIZES 32
#define ENGINE_SIZES_STORED_MAX 64

typedef struct hj_sizes { /* times in epoch seconds and sizes in bytes, both < 2^32 */
    uint32_t t[ENGINE_SIZES];
    uint32_t size[ENGINE_SIZES];
    uint32_t len, next;
} hj_sizes;

/* a counter holds what its metric needs: the window w, and one of the rest (counter_kind); a
 * plain window's counter (CK_WINDOW) has the room of w only (counter_size): its union is
 * never touched, and a counter is never copied whole */
typedef struct hj_counter {
    hj_window w;
    union {
        hj_window w2; /* bounce_ratio: all delivery outcomes (w holds the bounces) */
        hj_dset d;    /* distinct_*: the items */
        hj_sizes *sz; /* similar_sizes, allocated on first use */
    };
} hj_counter;

typedef enum counter_kind { CK_WINDOW, CK_RATIO, CK_DISTINCT, CK_SIZES } counter_kind;

static inline counter_kind
counter_kind_of(hj_metric m)
{
    static const counter_kind kind[HJ_M__COUNT] = {
        [HJ_M_BOUNCE_RATIO] = CK_RATIO,     [HJ_M_DISTINCT_RCPTS] = CK_DISTINCT,
        [HJ_M_DISTINCT_IPS] = CK_DISTINCT,  [HJ_M_DISTINCT_NETS] = CK_DISTINCT,
        [HJ_M_SIMILAR_SIZES] = CK_SIZES,
    };

    return (unsigned)m < HJ_M__COUNT ? kind[m] : CK_WINDOW;
}

/* counter_size - the bytes of a counter of kind k in an entity (a multiple of 8) */
static inline size_t
counter_size(counter_kind k)
{
    return k == CK_WINDOW ? offsetof(hj_counter, w2) : sizeof(hj_counter);
}

/* a network an account has used, and since when */
typedef struct hj_knet {
    hj_addr net; /* masked to ipv4_network_prefix / ipv6_network_prefix */
    int64_t first_seen, last_seen;
} hj_knet;

#define PROFILE_HOURS 192  /* recipients per hour: the last 8 days */
#define PROFILE_CLIENTS 32 /* HELO names, SASL methods, Message-ID styles */
#define PROFILE_DOMAINS 64 /* recipient domains written to */
#define PROFILE_RECENT 32  /* the latest delivered recipients, for the share signals */

/* what is normal for an account, learned from its own mail (signals.c); stored as it is in
 * memory (snapshot.c reads the layout before this one too) */
typedef struct hj_profile {
    int64_t first_hour, last_hour; /* hour numbers (local time / 3600) of its first and last mail */
    uint16_t hour[PROFILE_HOURS];  /* recipients in hour h at [h % PROFILE_HOURS], at most
                                      65,535 (a count stops there) */
    uint32_t client[PROFILE_CLIENTS], nclient, clnext;
    uint32_t dom[PROFILE_DOMAINS], ndom, domnext;
    uint8_t kinds; /* bit per client kind learned (signals.c) */
    struct {
        uint32_t t;    /* epoch seconds */
        uint8_t flags; /* 1: a domain new to the account, 2: a freemail provider */
    } recent[PROFILE_RECENT];
    uint32_t nrecent, rcnext;
    /* how often each "where from" and "what" trait is usual for it: the signals stay silent
     * for a trait that is common in its own history (signal_usual_share) */
    uint32_t msgs, msgs_novel, msgs_unknown; /* messages; from novel networks; unnamed clients */
    uint32_t rcpts, rcpts_novel, rcpts_free; /* delivered recipients; new domains; freemail */
    uint16_t netmax[8]; /* the most outside networks in one signal_window, per day */
    int64_t netday;     /* day number of the newest netmax entry */
} hj_profile;

typedef struct hj_eff {
    int64_t limit;
    hj_action action;
    bool off;
} hj_eff;

typedef struct hj_entity {
    hj_scope scope;
    const char *name; /* the htab node's key */
    bool exempt;
    hj_counter *cnt;     /* [pol->ncounters], allocated on first use */
    int64_t *last_fired; /* [pol->nrules], for warn and relay */
    hj_eff *eff;         /* [pol->nrules] when an override applies, else NULL */
    bool locked;
    const hj_rule *lock_rule;
    int64_t locked_at, unlock_at, throttled_at, throttled_until;
    int64_t auto_unlocked_at; /* the last automatic unlock, 0 = none since an admin's */
    const hj_rule *throttle_rule;
    int64_t held_at, held_until; /* a hold rule fired: its mail is accepted and held */
    const hj_rule *hold_rule;
    hj_totals tot;
    hj_knet *nets;    /* accounts: the networks it sent from (bounded, see trusted_nets_max) */
    hj_profile *prof; /* accounts that sent mail: what is normal for it */
    uint32_t nnets;
    bool dirty;    /* changed since the last engine_changed() */
    bool unproven; /* an account known only from failed logins: never stored, capped */
    bool stored;   /* reported by engine_changed() or restored: the store must be told when it
                      is forgotten (one that never was is forgotten silently) */
    int32_t tzoff; /* of its latest event, for decisions made outside an event */
    hj_addr ips[ENGINE_RECENT_IPS];
    int nips, ipnext;
} hj_entity;

struct hj_engine {
    const hj_policy *pol;
    hj_decision_fn fn;
    void *ctx;
    htab *ent[HJ_S__COUNT];
    size_t *order; /* rule indices: locks, holds, throttles, then the rest */
    int64_t last_sweep;
    hj_engine_stats st;
    unsigned scope_metrics[HJ_S__COUNT]; /* metrics the rules of each scope use */
    uint32_t *freemail;                  /* signals.c: hashes of the policy's freemail domains */
    char **gone; /* keys of entities forgotten since the last engine_changed() */
    size_t ngone;
    size_t nunproven; /* live accounts known only from failed logins */
    uint64_t rng;     /* xorshift state for sampled eviction: fixed seed, so replay repeats */
};

/* per-event facts shared by every entity it touches (the IP parsed once) */
typedef struct ev_ctx {
    const hj_event *ev;
    hj_ipclass cls;
    hj_addr addr, net;
    uint64_t ip_hash, net_hash;
    bool has_ip;
    bool novel;     /* from a network new to the account (see account_novelty) */
    hj_sigvals sig; /* SUBMIT with score rules: the account's signals */
    bool has_sig;
    uint32_t clients[3]; /* signals.c: the client hashes (HELO, SASL method, Message-ID style) */
    bool has_clients;
} ev_ctx;

/* entity_cnt - counter i of x (a counter of x's scope); entity_cnt_alloc - x's counters, in
 * one block of the sizes their kinds need (policy_finish set the offsets) */
static inline hj_counter *
entity_cnt(const hj_policy *p, hj_entity *x, size_t i)
{
    return (hj_counter *)(void *)((char *)x->cnt + p->counters[i].slot);
}

static inline void
entity_cnt_alloc(const hj_policy *p, hj_entity *x)
{
    uint32_t n = p->scope_cbytes[x->scope];

    x->cnt = xcalloc(1, n ? n : sizeof(*x->cnt));
}

void engine_key(const hj_entity *x, char *out, size_t outlen);
hj_entity *engine_entity_get(hj_engine *e, hj_scope s, const char *name, int64_t t);
void engine_entity_release(const hj_engine *e, hj_entity *x);
int64_t engine_counter_value(const hj_engine *e, hj_entity *x, size_t i, const hj_event *ev);

/* signals.c */
void signals_eval(const hj_engine *e, hj_entity *x, const ev_ctx *c, hj_sigvals *out);
void profile_learn(const hj_engine *e, hj_entity *x, const ev_ctx *c);
uint32_t *signals_freemail(const hj_policy *p);

void engine_prove(hj_engine *e, hj_entity *x);
void engine_gone_key(hj_engine *e, const char *key);

#endif
