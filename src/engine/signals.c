/*
 * signals - what is normal for an account, and the signals a message is scored on
 *
 * SYNOPSIS (engine_int.h)
 *	void profile_learn(const hj_engine *e, hj_entity *x, const hj_event *ev);
 *	void signals_eval(const hj_engine *e, hj_entity *x, const ev_ctx *c, hj_sigvals *out);
 *
 * DESCRIPTION
 *	An account's profile (hj_profile, about 1.3 KiB, allocated at its
 *	first mail) is learned from its own traffic: recipients per hour over
 *	the last 8 days, the clients it sends with (HELO name, SASL method,
 *	Message-ID style; 32 remembered) and the recipient domains it writes
 *	to (64 remembered, oldest replaced first), plus its latest 32
 *	delivered recipients flagged "new domain" or "freemail", and how
 *	often its mail came from novel networks or unnamed clients.
 *	profile_learn() is called after a message has been judged, so the
 *	message is compared with the history before it. A message that
 *	scored teaches nothing (a hijacker's first message from a new network
 *	with a new mail program scores: he cannot teach the profile his ways).
 *
 *	signals_eval() names what is unusual about a submission. Each signal
 *	has a weight (hj_sigconf.weight, 0 = off) and a kind (where the mail
 *	comes from, what sends it, what it is, who got in); the message scores
 *	the sum of the weights of the signals that fired when signals of at
 *	least min_kinds kinds agree, else 0. The score metric sums the
 *	messages' scores over a rule's window. Signals that compare with the
 *	account's own history (novel_client, novel_domains, above_normal) stay
 *	silent until the account has learn_time of it: an account with no
 *	history is unknown, not unusual.
 *
 *	Pure functions of the engine's state and the event (no clock, no I/O).
 *	Not thread-safe (engine rules).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../util/alloc.h"
#include "engine_int.h"

enum { KIND_HELO, KIND_METHOD, KIND_MSGID, KIND__COUNT };

/* fnv32 - FNV-1a of a kind byte and a string, lower-cased */
static uint32_t
fnv32(int kind, const char *s, size_t n)
{
    uint32_t h = 2166136261u ^ (uint32_t)kind;

    h *= 16777619u;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        h ^= ch >= 'A' && ch <= 'Z' ? ch + 32u : ch;
        h *= 16777619u;
    }
    return h ? h : 1;
}

/* msgid_style - a hash of a Message-ID's shape: the characters its left part uses, its
 * length class and its right part; one mail program writes one style, a spam tool another */
static uint32_t
msgid_style(const char *id)
{
    const char *at = strrchr(id, '@');
    unsigned n = 0;

    if (at == NULL)
        return 0;
    for (const unsigned char *p = (const unsigned char *)id; p < (const unsigned char *)at; p++)
        n |= 1u << (*p >> 4); /* the 16-character block: punctuation, digits, upper, lower */
    size_t len = (size_t)(at - id);
    int lc = len <= 16 ? 0 : len <= 32 ? 1 : len <= 64 ? 2 : 3;
    const char shape[3] = {(char)(n & 0x3f), (char)(n >> 6 & 0x3f), (char)lc}; /* not folded */
    uint32_t h = fnv32(KIND_MSGID, shape, 3);
    const char *dom = at + 1;
    size_t dn = strcspn(dom, ">");
    return h ^ fnv32(KIND_MSGID, dom, dn);
}

/* client_hashes - the hash of each client kind the event tells (0 = not told), once */
static const uint32_t *
client_hashes(const ev_ctx *cc)
{
    ev_ctx *c = (ev_ctx *)cc; /* a cache in the caller's context */
    const hj_event *ev = c->ev;
    uint32_t *h = c->clients;

    if (c->has_clients)
        return h;
    c->has_clients = true;
    h[KIND_HELO] = ev->helo && *ev->helo ? fnv32(KIND_HELO, ev->helo, strlen(ev->helo)) : 0;
    h[KIND_METHOD] = ev->sasl_method && *ev->sasl_method
                         ? fnv32(KIND_METHOD, ev->sasl_method, strlen(ev->sasl_method))
                         : 0;
    h[KIND_MSGID] = ev->message_id && *ev->message_id ? msgid_style(ev->message_id) : 0;
    return h;
}

static bool
has_hash(const uint32_t *set, uint32_t n, uint32_t h)
{
    for (uint32_t i = 0; i < n; i++)
        if (set[i] == h)
            return true;
    return false;
}

/* set_add - add h to a bounded set, replacing the oldest entry when full */
static void
set_add(uint32_t *set, uint32_t *n, uint32_t *next, uint32_t cap, uint32_t h)
{
    if (has_hash(set, *n, h))
        return;
    if (*n < cap) {
        set[(*n)++] = h;
        return;
    }
    set[*next] = h;
    *next = (*next + 1) % cap;
}

static int64_t
hour_of(const hj_event *ev)
{
    return (ev->t + ev->tzoff) / 3600;
}

/* profile_advance - move the hour ring to hour h, zeroing the hours skipped */
static void
profile_advance(hj_profile *p, int64_t h)
{
    if (h <= p->last_hour)
        return;
    int64_t from = h - p->last_hour > PROFILE_HOURS ? h - PROFILE_HOURS + 1 : p->last_hour + 1;
    for (int64_t i = from; i <= h; i++)
        p->hour[i % PROFILE_HOURS] = 0;
    p->last_hour = h;
}

static hj_profile *
profile_get(hj_entity *x, const hj_event *ev)
{
    if (x->prof == NULL) {
        x->prof = xcalloc(1, sizeof(*x->prof));
        x->prof->first_hour = x->prof->last_hour = hour_of(ev);
    }
    return x->prof;
}

/* learned - has the account enough history to be judged against it */
static bool
learned(const hj_engine *e, const hj_profile *p, const hj_event *ev)
{
    return p && (hour_of(ev) - p->first_hour) * 3600 >= e->pol->sig.learn_time;
}

/* signals_freemail - the hashes of the freemail domains, compared with a recipient's */
uint32_t *
signals_freemail(const hj_policy *pol)
{
    uint32_t *h = xcalloc(pol->sig.nfreemail + 1, sizeof(*h));

    for (size_t i = 0; i < pol->sig.nfreemail; i++)
        h[i] = fnv32(0x40, pol->sig.freemail[i], strlen(pol->sig.freemail[i]));
    return h;
}

/* is_freemail - a domain hash among the freemail domains' (a false match is 1 in 4e9) */
static bool
is_freemail(const hj_engine *e, uint32_t h)
{
    for (size_t i = 0; i < e->pol->sig.nfreemail; i++)
        if (e->freemail[i] == h)
            return true;
    return false;
}

/* counter_at - an implicit signal counter of entity x, 0 when x never counted */
static int64_t
counter_at(const hj_engine *e, hj_entity *x, int which, const hj_event *ev)
{
    return x && x->cnt ? engine_counter_value(e, x, e->pol->sig.counter[which], ev) : 0;
}

/* halve_if_full - history counts forget slowly: all halved when the first reaches 2^20 */
static void
halve_if_full(uint32_t *all, uint32_t *a, uint32_t *b)
{
    if (*all < (1u << 20))
        return;
    *all /= 2;
    *a /= 2;
    *b /= 2;
}

/* usual - is a trait seen in n of all more than usual_share percent of a history of at
 * least usual_min (messages or recipients) */
static bool
usual(const hj_engine *e, uint32_t n, uint32_t all)
{
    return all >= e->pol->sig.usual_min && all > 0 &&
           (uint64_t)n * 100 > (uint64_t)e->pol->sig.usual_share * all;
}

/* learn_delivery - a recipient the account wrote to: flag it, then remember its domain */
static void
learn_delivery(const hj_engine *e, hj_profile *p, const hj_event *ev)
{
    const char *at = ev->rcpt ? strrchr(ev->rcpt, '@') : NULL;

    if (at == NULL || at[1] == 0)
        return;
    uint32_t h = fnv32(0x40, at + 1, strlen(at + 1));
    bool known = has_hash(p->dom, p->ndom, h);
    uint8_t flags = (uint8_t)((!known && learned(e, p, ev) ? 1 : 0) | (is_freemail(e, h) ? 2 : 0));
    p->recent[p->rcnext].t = (uint32_t)(ev->t < 0 ? 0 : ev->t > UINT32_MAX ? UINT32_MAX : ev->t);
    p->recent[p->rcnext].flags = flags;
    halve_if_full(&p->rcpts, &p->rcpts_novel, &p->rcpts_free);
    p->rcpts++;
    p->rcpts_novel += flags & 1;
    p->rcpts_free += (flags & 2) != 0;
    p->rcnext = (p->rcnext + 1) % PROFILE_RECENT;
    if (p->nrecent < PROFILE_RECENT)
        p->nrecent++;
    if (!known)
        set_add(p->dom, &p->ndom, &p->domnext, PROFILE_DOMAINS, h);
}

/* learn_traits - the message's "where from" traits, and the day's most outside networks */
static void
learn_traits(const hj_engine *e, hj_entity *x, hj_profile *p, const ev_ctx *c)
{
    const hj_event *ev = c->ev;
    int64_t day = (ev->t + ev->tzoff) / 86400;

    if (c->has_sig && c->sig.score > 0)
        return; /* a suspect message does not teach what is usual (a blast would) */
    halve_if_full(&p->msgs, &p->msgs_novel, &p->msgs_unknown);
    p->msgs++;
    p->msgs_novel += c->novel;
    p->msgs_unknown +=
        c->cls == HJ_C_EXTERNAL && ev->client_name && strcasecmp(ev->client_name, "unknown") == 0;
    if (!e->pol->sig.used)
        return;
    int64_t nets = counter_at(e, x, HJ_SC_NETWORKS, ev);
    for (int64_t d = p->netday + 1; d <= day && d <= p->netday + 8; d++)
        p->netmax[d % 8] = 0;
    if (day > p->netday)
        p->netday = day;
    uint16_t n = (uint16_t)(nets > 65535 ? 65535 : nets);
    if (day == p->netday && n > p->netmax[day % 8])
        p->netmax[day % 8] = n;
}

void
profile_learn(const hj_engine *e, hj_entity *x, const ev_ctx *c)
{
    const hj_event *ev = c->ev;

    if (ev->type == HJ_EV_DELIVERY) {
        learn_delivery(e, profile_get(x, ev), ev);
        return;
    }
    if (ev->type != HJ_EV_SUBMIT)
        return;
    hj_profile *p = profile_get(x, ev);
    int64_t h = hour_of(ev), n = ev->nrcpt > 0 ? ev->nrcpt : (int64_t)ev->nrcpts;
    profile_advance(p, h);
    if (h > p->last_hour - PROFILE_HOURS) { /* an old line out of order may be too old to keep */
        uint16_t *slot = &p->hour[h % PROFILE_HOURS];
        int64_t sum = *slot + (n > 0 ? n : 1);
        *slot = (uint16_t)(sum > UINT16_MAX ? UINT16_MAX : sum);
    }
    if (ev->more_rcpts)
        return;
    learn_traits(e, x, p, c);
    if (c->has_sig && c->sig.score > 0)
        return;
    const uint32_t *ch = client_hashes(c);
    for (int k = 0; k < KIND__COUNT; k++) {
        if (ch[k] == 0)
            continue;
        set_add(p->client, &p->nclient, &p->clnext, PROFILE_CLIENTS, ch[k]);
        p->kinds |= (uint8_t)(1u << k);
    }
}

/* novel_clients - bit per client kind the account knows but not this value of */
static int64_t
novel_clients(const hj_engine *e, const hj_profile *p, const ev_ctx *c)
{
    int64_t bits = 0;

    if (!learned(e, p, c->ev))
        return 0;
    const uint32_t *ch = client_hashes(c);
    for (int k = 0; k < KIND__COUNT; k++)
        if (ch[k] && (p->kinds & (1u << k)) && !has_hash(p->client, p->nclient, ch[k]))
            bits |= 1 << k;
    return bits;
}

/* recent_shares - percent of the recent recipients at new domains ([0]) and at freemail
 * providers ([1]); 0 below share_min of them */
static void
recent_shares(const hj_engine *e, const hj_profile *p, int64_t t, int64_t out[2])
{
    int64_t all = 0, hit[2] = {0, 0};

    for (uint32_t i = 0; p && i < p->nrecent; i++) {
        if (p->recent[i].t <= t - e->pol->sig.window)
            continue;
        all++;
        hit[0] += p->recent[i].flags & 1;
        hit[1] += (p->recent[i].flags & 2) != 0;
    }
    for (int k = 0; k < 2; k++)
        out[k] = all < (int64_t)e->pol->sig.share_min ? 0 : hit[k] * 100 / all;
}

/* hours_sum - recipients in hours [from, to] that the ring still holds */
static int64_t
hours_sum(const hj_profile *p, int64_t from, int64_t to)
{
    int64_t n = 0;

    for (int64_t h = from; h <= to; h++)
        if (h <= p->last_hour && h > p->last_hour - PROFILE_HOURS && h >= p->first_hour)
            n += p->hour[h % PROFILE_HOURS];
    return n;
}

/* above_normal - recipients in this and the previous hour (this message included) when
 * more than volume_factor times the most the account sent around this time of day on any
 * of the last 7 days (a weekly newsletter is last week's) and more than volume_floor */
static int64_t
above_normal(const hj_engine *e, const hj_profile *p, const hj_event *ev)
{
    const hj_sigconf *s = &e->pol->sig;
    int64_t h = hour_of(ev), usual = 0;

    if (!learned(e, p, ev))
        return 0;
    int64_t now = hours_sum(p, h - 1, h) + (ev->nrcpt > 0 ? ev->nrcpt : 1);
    for (int d = 1; d <= 7; d++) {
        int64_t u = hours_sum(p, h - 24 * d - 1, h - 24 * d + 1);
        if (u > usual)
            usual = u;
    }
    return now > (int64_t)s->volume_floor && now > (int64_t)s->volume_factor * usual ? now : 0;
}

/* failed_logins - failed logins for the account, or from this client, whichever is more */
static int64_t
failed_logins(const hj_engine *e, hj_entity *x, const hj_event *ev)
{
    int64_t n = counter_at(e, x, HJ_SC_FAILED_ACCOUNT, ev);

    if (ev->client_ip && *ev->client_ip) {
        hj_entity *ip = htab_get(e->ent[HJ_S_IP], ev->client_ip, strlen(ev->client_ip));
        int64_t m = counter_at(e, ip, HJ_SC_FAILED_IP, ev);
        if (m > n)
            n = m;
    }
    return n;
}

/* threshold - v when it reaches min, else 0 */
static int64_t
threshold(int64_t v, uint32_t min)
{
    return v >= (int64_t)min ? v : 0;
}

/* the five kinds of evidence: where the mail comes from, what sends it, what it is, who got
 * in, what the anti-spam engine said of it; signals of one kind go together (a roaming user is
 * on new, unnamed, varied networks), so a message scores only when signals of min_kinds
 * different kinds agree */
enum { FROM_WHERE, SENT_BY, WHAT, LOGINS, CONTENT };
static const uint8_t signal_kind[HJ_SIG__COUNT] = {
    [HJ_SIG_NOVEL_NETWORK] = FROM_WHERE, [HJ_SIG_UNKNOWN_CLIENT] = FROM_WHERE,
    [HJ_SIG_IP_DIVERSITY] = FROM_WHERE,  [HJ_SIG_NOVEL_CLIENT] = SENT_BY,
    [HJ_SIG_NOVEL_DOMAINS] = WHAT,       [HJ_SIG_FREEMAIL] = WHAT,
    [HJ_SIG_ABOVE_NORMAL] = WHAT,        [HJ_SIG_SIMILAR_SIZES] = WHAT,
    [HJ_SIG_FAILED_LOGINS] = LOGINS,     [HJ_SIG_SPAM_VERDICTS] = CONTENT,
};

/* where_from - the novel_network and unknown_client signals, unless usual for the account */
static void
where_from(const hj_engine *e, const hj_profile *p, const ev_ctx *c, int64_t *v)
{
    const hj_event *ev = c->ev;

    v[HJ_SIG_NOVEL_NETWORK] = c->novel && !(p && usual(e, p->msgs_novel, p->msgs));
    /* an unnamed client means something only for an account known to use named ones */
    v[HJ_SIG_UNKNOWN_CLIENT] =
        c->cls == HJ_C_EXTERNAL && ev->client_name && strcasecmp(ev->client_name, "unknown") == 0 &&
        p && p->msgs >= e->pol->sig.usual_min && !usual(e, p->msgs_unknown, p->msgs);
}

/* diversity - outside networks in the window, when at least signal_networks and more than
 * the account had in any window of the last 7 days */
static int64_t
diversity(const hj_engine *e, hj_entity *x, const hj_event *ev)
{
    int64_t n = counter_at(e, x, HJ_SC_NETWORKS, ev), day = (ev->t + ev->tzoff) / 86400;
    const hj_profile *p = x->prof;

    if (n < (int64_t)e->pol->sig.networks)
        return 0;
    for (int64_t d = day - 7; learned(e, p, ev) && d < day; d++)
        if (d > p->netday - 8 && d <= p->netday && p->netmax[d % 8] >= n)
            return 0;
    return n;
}

/* recipients_shares - the novel_domains and freemail signals, unless usual for the account */
static void
recipients_shares(const hj_engine *e, const hj_profile *p, const hj_event *ev, int64_t *v)
{
    int64_t share[2];

    recent_shares(e, p, ev->t, share);
    for (int k = 0; k < 2; k++) {
        int64_t x = threshold(share[k], e->pol->sig.share);
        if (x && usual(e, k == 0 ? p->rcpts_novel : p->rcpts_free, p->rcpts))
            x = 0;
        v[k == 0 ? HJ_SIG_NOVEL_DOMAINS : HJ_SIG_FREEMAIL] = x;
    }
}

void
signals_eval(const hj_engine *e, hj_entity *x, const ev_ctx *c, hj_sigvals *out)
{
    const hj_sigconf *s = &e->pol->sig;
    const hj_event *ev = c->ev;
    const hj_profile *p = x->prof;
    int64_t v[HJ_SIG__COUNT] = {
        [HJ_SIG_NOVEL_CLIENT] = novel_clients(e, p, c),
        [HJ_SIG_ABOVE_NORMAL] = above_normal(e, p, ev),
        [HJ_SIG_IP_DIVERSITY] = diversity(e, x, ev),
        [HJ_SIG_FAILED_LOGINS] = threshold(failed_logins(e, x, ev), s->failed_logins),
        [HJ_SIG_SIMILAR_SIZES] = threshold(counter_at(e, x, HJ_SC_SIMILAR, ev), s->similar),
        [HJ_SIG_SPAM_VERDICTS] = counter_at(e, x, HJ_SC_SPAM, ev), /* earlier messages' */
    };
    unsigned kinds = 0;

    where_from(e, p, c, v);
    recipients_shares(e, p, ev, v);
    *out = (hj_sigvals){0};
    for (int i = 0; i < HJ_SIG__COUNT; i++) {
        if (v[i] == 0 || s->weight[i] == 0)
            continue;
        out->fired |= 1u << i;
        out->value[i] = v[i];
        out->score += s->weight[i];
        kinds |= 1u << signal_kind[i];
    }
    if ((unsigned)__builtin_popcount(kinds) < s->min_kinds)
        out->score = 0;
}
