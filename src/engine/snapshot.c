/*
 * snapshot - an entity's counters as a blob, and back: counters that survive a restart
 *
 * SYNOPSIS (declared in engine.h)
 *	void engine_changed(hj_engine *e, void (*fn)(void *, const char *key, int gone), void *ctx,
 *int all); int engine_export(hj_engine *e, const char *key, hj_buf *out); int
 *engine_import(hj_engine *e, const char *key, const void *blob, size_t len, int64_t now);
 *
 * DESCRIPTION
 *	A key names an entity: "a:" account, "d:" domain, "i:" client IP,
 *	"g:" the server, followed by its name. engine_changed() lists the
 *	entities changed since the last call (all of them with all != 0, which
 *	clears nothing) and those forgotten (gone = 1); the daemon writes them
 *	to the store in batches. engine_export() appends an entity's blob to
 *	out and returns 1, or 0 when the entity no longer exists.
 *	engine_import() rebuilds an entity from a blob: counters are matched
 *	by (metric, window, class, scope), so a counter whose rule was removed
 *	is dropped and the others keep counting after a restart or reload;
 *	windows then expire as usual at now. It returns -1 for a malformed or
 *	unknown-version blob, and changes nothing then.
 *
 *	Blob format (version 5, host byte order: the store is local to the
 *	machine): version u8, scope u8, 12 x i64 (totals, throttle, the last
 *	automatic unlock; version 4 had 11 and is still read), recent
 *	IPs, the networks the account has used, its learned profile (u32
 *	size, then the hj_profile struct; 0 = none), then per counter in use
 *	its descriptor and its slots, items and recent sizes. A blob of another
 *	version is refused (the counters start afresh).
 *	Lock state is not in it: locks have their own table in the store.
 *	Nor is a hold (action=hold): a restart ends it (engine.h).
 */
#include <stdlib.h>
#include <string.h>

#include "../util/alloc.h"
#include "engine_int.h"

#define SNAPSHOT_VERSION 5 /* 4 is read too: it lacks the automatic-unlock time */

static const char scope_letter[HJ_S__COUNT] = {'a', 'd', 'i', 'g'};

void
engine_key(const hj_entity *x, char *out, size_t outlen)
{
    size_t n = strlen(x->name);

    if (outlen < 3)
        return;
    out[0] = scope_letter[x->scope];
    out[1] = ':';
    if (n > outlen - 3)
        n = outlen - 3;
    memcpy(out + 2, x->name, n);
    out[2 + n] = 0;
}

/* key_parse - scope and name of a key; -1 if it is not one */
static int
key_parse(const char *key, hj_scope *s, const char **name)
{
    for (int i = 0; i < HJ_S__COUNT; i++) {
        if (key[0] == scope_letter[i] && key[1] == ':') {
            *s = (hj_scope)i;
            *name = key + 2;
            return 0;
        }
    }
    return -1;
}

typedef struct changed_ctx {
    void (*fn)(void *, const char *, int);
    void *ctx;
    int all;
} changed_ctx;

/* changed_one - report one dirty entity (or every one) */
static int
changed_one(htab_node *n, void *arg)
{
    changed_ctx *c = arg;
    hj_entity *x = n->value;
    char key[400];

    if (x->unproven || (!c->all && !x->dirty))
        return 0; /* an account known only from failed logins is never stored */
    if (!c->all)
        x->dirty = false;
    x->stored = true;
    engine_key(x, key, sizeof(key));
    c->fn(c->ctx, key, 0);
    return 0;
}

void
engine_changed(hj_engine *e, void (*fn)(void *, const char *key, int gone), void *ctx, int all)
{
    changed_ctx c = {fn, ctx, all};

    for (int s = 0; s < HJ_S__COUNT; s++)
        htab_walk(e->ent[s], changed_one, &c);
    if (all)
        return;
    for (size_t i = 0; i < e->ngone; i++) {
        fn(ctx, e->gone[i], 1);
        free(e->gone[i]);
    }
    e->ngone = 0;
}

static void
put(hj_buf *b, const void *p, size_t n)
{
    buf_add(b, p, n);
}

static void
put_i64(hj_buf *b, int64_t v)
{
    put(b, &v, sizeof(v));
}

static void
put_u32(hj_buf *b, uint32_t v)
{
    put(b, &v, sizeof(v));
}

/* export_window - a window's slot width and slots */
static void
export_window(const hj_window *w, hj_buf *out)
{
    put_u32(out, w->g ? w->g : 1);
    put_u32(out, w->len);
    for (uint32_t i = 0; i < w->len; i++) {
        const hj_window_slot *s = &w->s[(w->head + i) % w->cap];
        put_i64(out, s->t0);
        put_i64(out, s->n);
    }
}

/* export_counter - one counter's descriptor and contents: the window, then the second window,
 * the distinct items and the sizes, each empty unless the metric has it (counter_kind) */
static void
export_counter(const hj_counter_def *d, const hj_counter *k, hj_buf *out)
{
    uint8_t hdr[4] = {(uint8_t)d->metric, (uint8_t)d->ipclass, (uint8_t)d->scope,
                      (uint8_t)d->novelty};
    counter_kind ck = counter_kind_of(d->metric);
    const hj_window none = {0};
    uint32_t nd = ck == CK_DISTINCT ? k->d.len : 0;
    uint32_t nz = ck == CK_SIZES && k->sz ? k->sz->len : 0;

    put(out, hdr, 4);
    put_i64(out, d->window);
    export_window(&k->w, out);
    export_window(ck == CK_RATIO ? &k->w2 : &none, out);
    put_u32(out, nd);
    for (uint32_t i = 0; i < nd; i++) {
        put(out, &k->d.e[i].h, sizeof(uint64_t));
        put_i64(out, k->d.e[i].last);
    }
    put_u32(out, nz);
    for (uint32_t i = 0; i < nz; i++) { /* oldest first */
        uint32_t j = (k->sz->next + ENGINE_SIZES - nz + i) % ENGINE_SIZES;
        put_i64(out, k->sz->t[j]);
        put_i64(out, k->sz->size[j]);
    }
}

/* in_use - does a counter hold anything worth keeping */
static int
in_use(const hj_counter_def *d, const hj_counter *k)
{
    switch (counter_kind_of(d->metric)) {
    case CK_RATIO:
        return k->w.len || k->w2.len;
    case CK_DISTINCT:
        return k->w.len || k->d.len;
    case CK_SIZES:
        return k->w.len || (k->sz && k->sz->len);
    default:
        return k->w.len != 0;
    }
}

int
engine_export(hj_engine *e, const char *key, hj_buf *out)
{
    hj_scope s;
    const char *name;

    if (key_parse(key, &s, &name) != 0)
        return 0;
    hj_entity *x = htab_get(e->ent[s], name, strlen(name));
    if (x == NULL)
        return 0;
    uint8_t hdr[2] = {SNAPSHOT_VERSION, (uint8_t)s};
    put(out, hdr, 2);
    const hj_totals *t = &x->tot;
    int64_t v[] = {t->first_seen, t->last_seen,    t->messages,        t->recipients,
                   t->bytes,      t->logins,       t->failed_logins,   t->bounces,
                   t->deliveries, x->throttled_at, x->throttled_until, x->auto_unlocked_at};
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
        put_i64(out, v[i]);
    put_u32(out, (uint32_t)x->nips);
    put(out, x->ips, sizeof(x->ips[0]) * (size_t)x->nips);
    put_u32(out, x->nnets);
    for (uint32_t i = 0; i < x->nnets; i++) {
        put(out, x->nets[i].net.b, 16);
        put_i64(out, x->nets[i].first_seen);
        put_i64(out, x->nets[i].last_seen);
    }
    put_u32(out, x->prof ? (uint32_t)sizeof(*x->prof) : 0);
    if (x->prof)
        put(out, x->prof, sizeof(*x->prof));
    uint32_t n = 0;
    for (size_t i = 0; x->cnt && i < e->pol->ncounters; i++)
        n += e->pol->counters[i].scope == s && in_use(&e->pol->counters[i], entity_cnt(e->pol, x, i));
    put_u32(out, n);
    for (size_t i = 0; x->cnt && i < e->pol->ncounters; i++)
        if (e->pol->counters[i].scope == s && in_use(&e->pol->counters[i], entity_cnt(e->pol, x, i)))
            export_counter(&e->pol->counters[i], entity_cnt(e->pol, x, i), out);
    return 1;
}

typedef struct reader {
    const uint8_t *p;
    size_t n;
    int bad;
    int nhead; /* i64s in the head: 12 (version 5) or 11 (version 4) */
} reader;

/* get - n bytes into dst; marks the reader bad when the blob is too short */
static void
get(reader *r, void *dst, size_t n)
{
    if (r->bad || n > r->n) {
        r->bad = 1;
        memset(dst, 0, n);
        return;
    }
    memcpy(dst, r->p, n);
    r->p += n;
    r->n -= n;
}

static int64_t
get_i64(reader *r)
{
    int64_t v;

    get(r, &v, sizeof(v));
    return v;
}

static uint32_t
get_u32(reader *r)
{
    uint32_t v;

    get(r, &v, sizeof(v));
    return v;
}

/* counter_index - the policy counter with this descriptor, -1 if none */
static long
counter_index(const hj_policy *p, const uint8_t *hdr, int64_t window)
{
    for (size_t i = 0; i < p->ncounters; i++) {
        const hj_counter_def *d = &p->counters[i];
        if ((int)d->metric == hdr[0] && (int)d->ipclass == hdr[1] && (int)d->scope == hdr[2] &&
            (int)d->novelty == hdr[3] && d->window == window)
            return (long)i;
    }
    return -1;
}

/* import_window - a window's slot width and slots (apply: w not NULL) */
static void
import_window(reader *r, hj_window *w)
{
    uint32_t g = get_u32(r), len = get_u32(r);

    if (len > WINDOW_MAXSLOTS || g == 0) {
        r->bad = 1;
        return;
    }
    if (w) {
        window_free(w);
        w->cap = len < 4 ? 4 : len;
        w->s = xcalloc(w->cap, sizeof(*w->s));
        w->g = g;
    }
    for (uint32_t i = 0; i < len && !r->bad; i++) {
        int64_t t0 = get_i64(r), n = get_i64(r);
        if (w) {
            w->s[i] = (hj_window_slot){t0, n};
            w->sum += n;
            w->len++;
        }
    }
}

/* import_dset - items into a counter's distinct set, at most max */
static void
import_dset(reader *r, hj_counter *k, uint32_t max)
{
    uint32_t len = get_u32(r);

    if (len > 65536) {
        r->bad = 1;
        return;
    }
    if (k)
        dset_free(&k->d);
    for (uint32_t i = 0; i < len && !r->bad; i++) {
        uint64_t h;
        get(r, &h, sizeof(h));
        int64_t last = get_i64(r);
        if (k && !r->bad)
            dset_touch(&k->d, h, last, max);
    }
}

/* import_sizes - recent message sizes of a similar_sizes counter */
static void
import_sizes(reader *r, hj_counter *k)
{
    uint32_t len = get_u32(r);

    if (len > ENGINE_SIZES_STORED_MAX) {
        r->bad = 1;
        return;
    }
    if (k) {
        free(k->sz);
        k->sz = len ? xcalloc(1, sizeof(*k->sz)) : NULL;
    }
    for (uint32_t i = 0; i < len && !r->bad; i++) {
        int64_t t = get_i64(r), size = get_i64(r);
        if (t < 0 || t > UINT32_MAX || size < 0 || size > UINT32_MAX)
            r->bad = 1;
        if (k && !r->bad) { /* oldest first: a ring keeps the newest ENGINE_SIZES */
            hj_sizes *z = k->sz;
            z->t[z->next] = (uint32_t)t;
            z->size[z->next] = (uint32_t)size;
            z->next = (z->next + 1) % ENGINE_SIZES;
            z->len += z->len < ENGINE_SIZES;
        }
    }
}

/* import_nets - the networks an account has used */
static void
import_nets(hj_engine *e, reader *r, hj_entity *x)
{
    uint32_t n = get_u32(r);

    if (n > e->pol->trusted_nets_max && n > 4096) {
        r->bad = 1;
        return;
    }
    if (x) {
        free(x->nets);
        x->nets = n ? xcalloc(n, sizeof(*x->nets)) : NULL;
        x->nnets = 0;
    }
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        hj_knet k = {0};
        get(r, k.net.b, 16);
        k.net.v4 = memcmp(k.net.b, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0;
        k.first_seen = get_i64(r);
        k.last_seen = get_i64(r);
        if (x && !r->bad && x->nnets < e->pol->trusted_nets_max)
            x->nets[x->nnets++] = k;
    }
}

/* the profile's layout before 2026-12 (counts of 32 bits, times of 64): read and converted */
typedef struct profile_v1 {
    int64_t first_hour, last_hour; /* hour numbers (local time / 3600) of its first and last mail */
    uint32_t hour[PROFILE_HOURS];  /* recipients in hour h at [h % PROFILE_HOURS] */
    uint32_t client[PROFILE_CLIENTS], nclient, clnext;
    uint32_t dom[PROFILE_DOMAINS], ndom, domnext;
    uint8_t kinds; /* bit per client kind learned (signals.c) */
    struct {
        int64_t t;
        uint8_t flags; /* 1: a domain new to the account, 2: a freemail provider */
    } recent[PROFILE_RECENT];
    uint32_t nrecent, rcnext;
    /* how often each "where from" and "what" trait is usual for it: the signals stay silent
     * for a trait that is common in its own history (signal_usual_share) */
    uint32_t msgs, msgs_novel, msgs_unknown; /* messages; from novel networks; unnamed clients */
    uint32_t rcpts, rcpts_novel, rcpts_free; /* delivered recipients; new domains; freemail */
    uint16_t netmax[8]; /* the most outside networks in one signal_window, per day */
    int64_t netday;     /* day number of the newest netmax entry */
} profile_v1;

/* profile_from_v1 - the profile read in its earlier layout */
static void
profile_from_v1(const profile_v1 *o, hj_profile *p)
{
    *p = (hj_profile){.first_hour = o->first_hour, .last_hour = o->last_hour};
    for (int i = 0; i < PROFILE_HOURS; i++)
        p->hour[i] = (uint16_t)(o->hour[i] > UINT16_MAX ? UINT16_MAX : o->hour[i]);
    memcpy(p->client, o->client, sizeof(p->client));
    p->nclient = o->nclient;
    p->clnext = o->clnext;
    memcpy(p->dom, o->dom, sizeof(p->dom));
    p->ndom = o->ndom;
    p->domnext = o->domnext;
    p->kinds = o->kinds;
    for (int i = 0; i < PROFILE_RECENT; i++) {
        int64_t t = o->recent[i].t;
        p->recent[i].t = (uint32_t)(t < 0 ? 0 : t > UINT32_MAX ? UINT32_MAX : t);
        p->recent[i].flags = o->recent[i].flags;
    }
    p->nrecent = o->nrecent;
    p->rcnext = o->rcnext;
    p->msgs = o->msgs;
    p->msgs_novel = o->msgs_novel;
    p->msgs_unknown = o->msgs_unknown;
    p->rcpts = o->rcpts;
    p->rcpts_novel = o->rcpts_novel;
    p->rcpts_free = o->rcpts_free;
    memcpy(p->netmax, o->netmax, sizeof(p->netmax));
    p->netday = o->netday;
}

/* import_profile - an account's learned profile (either layout); its set sizes are checked */
static void
import_profile(reader *r, hj_entity *x)
{
    uint32_t size = get_u32(r);
    hj_profile p;

    if (size == 0)
        return;
    if (size == sizeof(profile_v1)) {
        profile_v1 o;
        get(r, &o, sizeof(o));
        profile_from_v1(&o, &p);
    } else if (size == sizeof(p)) {
        get(r, &p, sizeof(p));
    } else {
        r->bad = 1;
        return;
    }
    if (p.nclient > PROFILE_CLIENTS || p.clnext >= PROFILE_CLIENTS || p.ndom > PROFILE_DOMAINS ||
        p.domnext >= PROFILE_DOMAINS || p.nrecent > PROFILE_RECENT || p.rcnext >= PROFILE_RECENT)
        r->bad = 1;
    if (x == NULL || r->bad)
        return;
    free(x->prof);
    x->prof = xmalloc(sizeof(p));
    *x->prof = p;
}

/* import_body - the part after the header; with x NULL only validates */
static void
import_body(hj_engine *e, reader *r, hj_entity *x)
{
    int64_t v[12] = {0};

    for (int i = 0; i < r->nhead; i++)
        v[i] = get_i64(r);
    uint32_t nips = get_u32(r);
    hj_addr ips[ENGINE_RECENT_IPS];
    if (nips > ENGINE_RECENT_IPS)
        r->bad = 1;
    get(r, ips, sizeof(ips[0]) * (r->bad ? 0 : nips));
    import_nets(e, r, x);
    import_profile(r, x);
    uint32_t n = get_u32(r);
    for (uint32_t c = 0; c < n && !r->bad; c++) {
        uint8_t hdr[4];
        get(r, hdr, 4);
        int64_t window = get_i64(r);
        long i = counter_index(e->pol, hdr, window);
        hj_counter *k = NULL;
        if (x && i >= 0 && e->pol->counters[i].scope == x->scope) {
            if (x->cnt == NULL)
                entity_cnt_alloc(e->pol, x);
            k = entity_cnt(e->pol, x, (size_t)i);
        }
        counter_kind ck = k ? counter_kind_of(e->pol->counters[i].metric) : CK_WINDOW;
        import_window(r, k ? &k->w : NULL); /* what the metric does not have is read and dropped */
        import_window(r, ck == CK_RATIO ? &k->w2 : NULL);
        import_dset(r, ck == CK_DISTINCT ? k : NULL, e->pol->distinct_max);
        import_sizes(r, ck == CK_SIZES ? k : NULL);
    }
    if (x == NULL || r->bad)
        return;
    x->tot = (hj_totals){.first_seen = v[0],
                         .last_seen = v[1],
                         .messages = v[2],
                         .recipients = v[3],
                         .bytes = v[4],
                         .logins = v[5],
                         .failed_logins = v[6],
                         .bounces = v[7],
                         .deliveries = v[8]};
    x->throttled_at = v[9];
    x->throttled_until = v[10];
    x->auto_unlocked_at = v[11];
    memcpy(x->ips, ips, sizeof(ips[0]) * nips);
    x->nips = (int)nips;
}

int
engine_import(hj_engine *e, const char *key, const void *blob, size_t len, int64_t now)
{
    hj_scope s;
    const char *name;
    uint8_t hdr[2];
    reader r = {blob, len, 0, 12};

    if (key_parse(key, &s, &name) != 0)
        return -1;
    get(&r, hdr, 2);
    if (r.bad || (hdr[0] != SNAPSHOT_VERSION && hdr[0] != 4) || hdr[1] != (uint8_t)s)
        return -1;
    r.nhead = hdr[0] == 4 ? 11 : 12;
    reader check = r;
    import_body(e, &check, NULL); /* validate it all before changing anything */
    if (check.bad || check.n != 0)
        return -1;
    hj_entity *x = engine_entity_get(e, s, name, now);
    if (x == NULL) { /* its scope is at its cap: the store forgets it */
        engine_gone_key(e, key);
        return 0;
    }
    engine_entity_release(e, x);
    import_body(e, &r, x);
    x->stored = true;
    return 0;
}
