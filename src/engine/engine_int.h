/*
 * engine_int - the engine's internal types, shared by engine.c and snapshot.c only
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

#include "../util/htab.h"
#include "dset.h"
#include "engine.h"
#include "window.h"

#define ENGINE_RECENT_IPS 4
#define ENGINE_SWEEP_EVERY 600

#define ENGINE_SIZES 64 /* recent message sizes kept per similar_sizes counter */

typedef struct hj_sizes {
    int64_t t[ENGINE_SIZES];
    int64_t size[ENGINE_SIZES];
    uint32_t len, next;
} hj_sizes;

typedef struct hj_counter {
    hj_window w;
    hj_window w2; /* bounce_ratio: all delivery outcomes (w holds the bounces) */
    hj_dset d;
    hj_sizes *sz; /* similar_sizes only, allocated on first use */
} hj_counter;

/* a network an account has used, and since when */
typedef struct hj_knet {
    hj_addr net; /* masked to ipv4_network_prefix / ipv6_network_prefix */
    int64_t first_seen, last_seen;
} hj_knet;

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
    const hj_rule *throttle_rule;
    hj_totals tot;
    hj_knet *nets; /* accounts: the networks it sent from (bounded, see trusted_nets_max) */
    uint32_t nnets;
    bool dirty;    /* changed since the last engine_changed() */
    int32_t tzoff; /* of its latest event, for decisions made outside an event */
    hj_addr ips[ENGINE_RECENT_IPS];
    int nips, ipnext;
} hj_entity;

struct hj_engine {
    const hj_policy *pol;
    hj_decision_fn fn;
    void *ctx;
    htab *ent[HJ_S__COUNT];
    size_t *order; /* rule indices, locks first, then throttles, then the rest */
    int64_t last_sweep;
    hj_engine_stats st;
    unsigned scope_metrics[HJ_S__COUNT]; /* metrics the rules of each scope use */
    char **gone; /* keys of entities forgotten since the last engine_changed() */
    size_t ngone;
};

void engine_key(const hj_entity *x, char *out, size_t outlen);
hj_entity *engine_entity_get(hj_engine *e, hj_scope s, const char *name, int64_t t);
void engine_entity_release(const hj_engine *e, hj_entity *x);

#endif
