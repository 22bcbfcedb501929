/*
 * inspect - what the engine knows about one account, for the admin surface (see engine.h)
 *
 * DESCRIPTION
 *	engine_account() copies an account's state, totals, recent client IPs
 *	and learned profile (recipients per hour, oldest first; the size of
 *	what it has learned) into a caller's struct; engine_account_rules()
 *	hands the caller each account rule's current count and effective
 *	limit. Read-only apart from an automatic unlock that is due (as
 *	engine_state()). Not thread-safe (engine rules).
 */
#include <string.h>

#include "engine_int.h"

/* pct - n of all, in percent (0 when there is no history) */
static uint32_t
pct(uint32_t n, uint32_t all)
{
    return all ? (uint32_t)((uint64_t)n * 100 / all) : 0;
}

/* profile_copy - the hour ring oldest first, and the profile's sizes */
static void
profile_copy(const hj_profile *p, int32_t tzoff, hj_account_info *out)
{
    int64_t first = p->last_hour - PROFILE_HOURS + 1;

    if (first < p->first_hour)
        first = p->first_hour;
    out->nhours = (int)(p->last_hour - first + 1);
    out->hour_start = first * 3600 - tzoff;
    for (int i = 0; i < out->nhours; i++)
        out->hours[i] = p->hour[(first + i) % PROFILE_HOURS];
    out->clients = p->nclient;
    out->domains = p->ndom;
    out->msgs = p->msgs;
    out->novel_pct = pct(p->msgs_novel, p->msgs);
    out->unknown_pct = pct(p->msgs_unknown, p->msgs);
    out->freemail_pct = pct(p->rcpts_free, p->rcpts);
}

int
engine_account(hj_engine *e, const char *account, int64_t now, hj_account_info *out)
{
    hj_entity *x = htab_get(e->ent[HJ_S_ACCOUNT], account, strlen(account));

    memset(out, 0, sizeof(*out));
    if (x == NULL)
        return -1;
    out->state = engine_state(e, account, now, &out->lock);
    out->tot = x->tot;
    out->tzoff = x->tzoff;
    out->nips = x->nips;
    memcpy(out->ips, x->ips, sizeof(x->ips[0]) * (size_t)x->nips);
    out->networks = x->nnets;
    if (x->prof)
        profile_copy(x->prof, x->tzoff, out);
    return 0;
}

void
engine_account_rules(hj_engine *e, const char *account, int64_t now,
                     void (*fn)(void *ctx, const hj_rule *r, int64_t count, int64_t limit),
                     void *ctx)
{
    hj_entity *x = htab_get(e->ent[HJ_S_ACCOUNT], account, strlen(account));
    hj_event ev = {.t = now};

    if (x == NULL)
        return;
    for (size_t i = 0; i < e->pol->nrules; i++) {
        const hj_rule *r = &e->pol->rules[i];
        if (r->scope != HJ_S_ACCOUNT || (x->eff && x->eff[i].off))
            continue;
        /* similar_sizes is relative to a message's size: with none (size 0) it reads 0 */
        int64_t n = engine_counter_value(e, x, r->counter, &ev);
        fn(ctx, r, n, x->eff ? x->eff[i].limit : r->limit);
    }
}

typedef struct counts_ctx {
    int64_t now;
    hj_account_counts *out;
} counts_ctx;

static int
counts_one(htab_node *n, void *arg)
{
    counts_ctx *c = arg;
    const hj_entity *x = n->value;

    if (x->unproven)
        return 0;
    c->out->accounts++;
    if (x->locked && !(x->unlock_at && c->now >= x->unlock_at))
        c->out->locked++;
    else if (c->now < x->held_until)
        c->out->held++;
    else if (c->now < x->throttled_until)
        c->out->throttled++;
    return 0;
}

/* engine_counts - accounts, locked, held and throttled now, in one walk without look-ups (for
 * /api/status and /metrics: a look-up per account took 100 ms at 100,000 accounts) */
void
engine_counts(hj_engine *e, int64_t now, hj_account_counts *out)
{
    counts_ctx c = {now, out};

    *out = (hj_account_counts){0};
    htab_walk(e->ent[HJ_S_ACCOUNT], counts_one, &c);
}
