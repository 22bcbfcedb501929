/*
 * test_window - unit tests for the sliding-window sum (window.h) and the
 * bounded distinct set (dset.h)
 *
 * Table-driven: each case is a list of operations on one window or set,
 * with the expected value after every query. The random tests compare
 * against a brute-force reference: exact while the window keeps one-second
 * slots, never an under-count once it has coarsened.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/engine/dset.h"
#include "../../src/engine/window.h"
#include "check.h"

/* a small deterministic PRNG (xorshift64*) so failures reproduce */
static uint64_t
rnd_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * UINT64_C(2685821657736338717);
}

/* rnd_below - a number in [0, n) (n > 0) */
static int64_t
rnd_below(uint64_t *s, int64_t n)
{
    return (int64_t)(rnd_next(s) % (uint64_t)n);
}

/* window_check_invariants - what must hold after any operation */
static void
window_check_invariants(const char *what, const hj_window *w)
{
    int64_t sum = 0;

    if (w->len > WINDOW_MAXSLOTS || w->cap > WINDOW_MAXSLOTS)
        fail_msg("%s: window holds %u slots (cap %u), bound is %d", what, w->len, w->cap,
                 WINDOW_MAXSLOTS);
    if (w->len > w->cap)
        fail_msg("%s: len %u > cap %u", what, w->len, w->cap);
    for (uint32_t i = 0; i < w->len; i++)
        sum += w->s[(w->head + i) % w->cap].n;
    CHECK_EQ(what, w->sum, sum);
    uint32_t g = w->g ? w->g : 1;
    for (uint32_t i = 0; i < w->len; i++) {
        int64_t t0 = w->s[(w->head + i) % w->cap].t0;
        if (t0 % g != 0)
            fail_msg("%s: slot start %lld is not a multiple of g=%u", what, (long long)t0, g);
        if (i && t0 <= w->s[(w->head + i - 1) % w->cap].t0)
            fail_msg("%s: slots out of order at %u", what, i);
    }
}

/* ---- window: exact cases ---- */

enum { OP_END, OP_ADD, OP_SUM };

typedef struct wop {
    int k; /* OP_ADD: add n at t; OP_SUM: window_sum(t) must be n */
    int64_t t;
    int64_t n;
} wop;

typedef struct window_case {
    const char *name;
    int64_t span;
    wop ops[16];
} window_case;

static const window_case window_cases[] = {
    {"single event lives for exactly span seconds",
     60,
     {{OP_ADD, 100, 5}, {OP_SUM, 100, 5}, {OP_SUM, 159, 5}, {OP_SUM, 160, 0}}},
    {"expiry is t <= now - span",
     60,
     {{OP_ADD, 0, 1},
      {OP_ADD, 30, 2},
      {OP_SUM, 59, 3},
      {OP_SUM, 60, 2},
      {OP_SUM, 89, 2},
      {OP_SUM, 90, 0}}},
    {"sliding, not resetting: crossing and falling back at the exact second",
     10,
     /* limit 6: over it from 12 (3+4) until 15, when the 3 at t=5 leave */
     {{OP_ADD, 5, 3},
      {OP_SUM, 11, 3},
      {OP_ADD, 12, 4},
      {OP_SUM, 12, 7},
      {OP_SUM, 14, 7},
      {OP_SUM, 15, 4},
      {OP_SUM, 21, 4},
      {OP_SUM, 22, 0}}},
    {"a window is not a bucket: events either side of a span boundary add up",
     1800,
     {{OP_ADD, 1700, 300}, {OP_ADD, 1900, 201}, {OP_SUM, 1900, 501}, {OP_SUM, 3500, 201}}},
    {"same second accumulates",
     60,
     {{OP_ADD, 10, 1}, {OP_ADD, 10, 1}, {OP_ADD, 10, 1}, {OP_SUM, 10, 3}, {OP_SUM, 70, 0}}},
    {"window_add expires old slots as well",
     60,
     {{OP_ADD, 0, 5}, {OP_ADD, 100, 1}, {OP_SUM, 100, 1}}},
    {"out of order: an older time is added to the newest slot",
     60,
     {{OP_ADD, 100, 1}, {OP_ADD, 50, 2}, {OP_SUM, 100, 3}, {OP_SUM, 159, 3}, {OP_SUM, 160, 0}}},
    {"out of order beyond the span still counts (never under-count)",
     60,
     {{OP_ADD, 100, 1}, {OP_ADD, 10, 5}, {OP_SUM, 100, 6}, {OP_SUM, 160, 0}}},
    {"out of order into an empty window is exact",
     60,
     {{OP_ADD, 100, 1}, {OP_SUM, 200, 0}, {OP_ADD, 150, 2}, {OP_SUM, 200, 2}, {OP_SUM, 210, 0}}},
    {"negative times",
     10,
     {{OP_ADD, -5, 1}, {OP_ADD, 3, 1}, {OP_SUM, 4, 2}, {OP_SUM, 5, 1}, {OP_SUM, 13, 0}}},
    {"span of one second", 1, {{OP_ADD, 7, 2}, {OP_SUM, 7, 2}, {OP_SUM, 8, 0}}},
    {"query before anything was added", 60, {{OP_SUM, 1000, 0}}},
    {"large amounts (bytes)",
     3600,
     {{OP_ADD, 0, INT64_C(5000000000)},
      {OP_ADD, 1, INT64_C(7000000000)},
      {OP_SUM, 3599, INT64_C(12000000000)},
      {OP_SUM, 3600, INT64_C(7000000000)}}},
};

static void
test_window_cases(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof(window_cases) / sizeof(window_cases[0]); c++) {
        const window_case *wc = &window_cases[c];
        hj_window w = {0};
        for (const wop *o = wc->ops; o->k != OP_END; o++) {
            if (o->k == OP_ADD) {
                window_add(&w, wc->span, o->t, o->n);
            } else {
                char what[160];
                snprintf(what, sizeof(what), "%s (sum at %lld)", wc->name, (long long)o->t);
                CHECK_EQ(what, window_sum(&w, wc->span, o->t), o->n);
            }
            window_check_invariants(wc->name, &w);
        }
        window_free(&w);
    }
}

/* ---- window: memory bound ---- */

static void
test_window_memory_bound(void **state)
{
    hj_window w = {0};
    const int64_t span = 100000, n = 5000;

    (void)state;
    for (int64_t t = 0; t < n; t++) {
        window_add(&w, span, t, 1);
        window_check_invariants("busy window", &w);
    }
    assert_true(w.len <= WINDOW_MAXSLOTS);
    assert_true(w.cap <= WINDOW_MAXSLOTS);
    assert_true(w.g > 1); /* it had to coarsen */
    CHECK_EQ("all events inside the span", window_sum(&w, span, n - 1), n);

    /* at q the events at t <= q - span have left: 2001..4999 remain */
    int64_t q = span + 2000, ref = n - 1 - 2000;
    int64_t got = window_sum(&w, span, q);
    if (got < ref)
        fail_msg("under-count after coarsening: %lld < %lld", (long long)got, (long long)ref);
    if (got - ref > (int64_t)w.g)
        fail_msg("over-count %lld is more than one slot (g=%u)", (long long)(got - ref), w.g);

    /* once the window has emptied it is exact to the second again */
    window_add(&w, span, 10 * span, 1);
    CHECK_EQ("slot width after emptying", w.g, 1);
    window_add(&w, span, 10 * span + 1, 1);
    CHECK_EQ("exact again", window_sum(&w, span, 11 * span), 1);
    CHECK_EQ("exact again", window_sum(&w, span, 11 * span + 1), 0);
    window_free(&w);
}

/* ---- window: random inputs against a brute-force reference ---- */

/* a Fenwick tree over seconds [0, FEN_N): the reference sums */
#define FEN_N (1 << 21)

static void
fen_add(int64_t *f, int64_t t, int64_t n)
{
    for (int64_t i = t + 1; i <= FEN_N; i += i & -i)
        f[i - 1] += n;
}

/* fen_prefix - sum over seconds [0, t] (t may be < 0) */
static int64_t
fen_prefix(const int64_t *f, int64_t t)
{
    int64_t s = 0;

    if (t >= FEN_N)
        t = FEN_N - 1;
    for (int64_t i = t + 1; i > 0; i -= i & -i)
        s += f[i - 1];
    return s;
}

typedef struct window_rand_case {
    uint64_t seed;
    int64_t span;
    int steps;
    int64_t max_gap;  /* the clock advances by 0..max_gap seconds per step */
    int big_jump_pct; /* % of steps with a jump longer than the span */
    int64_t jitter;   /* events may be up to this many seconds older than the clock */
    int64_t max_n;
} window_rand_case;

static const window_rand_case window_rand_cases[] = {
    {1, 60, 20000, 3, 1, 0, 10},         /* short span: always exact */
    {2, 3600, 20000, 3, 0, 0, 10},       /* > 1024 seconds in the span: coarsens */
    {3, 3600, 30000, 2, 1, 0, 1000},     /* coarsens, empties, starts again */
    {4, 86400, 20000, 20, 0, 0, 5},      /* very long span */
    {5, 1800, 20000, 4, 1, 30, 10},      /* out of order */
    {6, 7200, 30000, 1, 0, 120, 3},      /* out of order and coarse */
    {7, 10, 20000, 2, 5, 0, 1},          /* tiny span */
    {8, 100000, 20000, 40, 0, 500, 100}, /* everything at once */
};

static void
test_window_random(void **state)
{
    int64_t *fen = calloc(FEN_N, sizeof(*fen));
    int coarsened = 0;

    (void)state;
    assert_non_null(fen);
    for (size_t c = 0; c < sizeof(window_rand_cases) / sizeof(window_rand_cases[0]); c++) {
        const window_rand_case *rc = &window_rand_cases[c];
        uint64_t rs = rc->seed * UINT64_C(0x9e3779b97f4a7c15) + 1;
        hj_window w = {0};
        int64_t now = 1000;
        char what[96];

        memset(fen, 0, FEN_N * sizeof(*fen));
        for (int i = 0; i < rc->steps; i++) {
            if (rnd_below(&rs, 100) < rc->big_jump_pct)
                now += rc->span + rnd_below(&rs, rc->span);
            else
                now += rnd_below(&rs, rc->max_gap + 1);
            if (now >= FEN_N)
                break;
            int64_t t = now, n = 1 + rnd_below(&rs, rc->max_n);
            if (rc->jitter && rnd_below(&rs, 4) == 0)
                t -= rnd_below(&rs, rc->jitter + 1);
            if (t < 0)
                t = 0;
            window_add(&w, rc->span, t, n);
            fen_add(fen, t, n);
            snprintf(what, sizeof(what), "random case %zu step %d", c, i);
            window_check_invariants(what, &w);
            if (w.g > 1)
                coarsened = 1;

            /* query at the clock: the reference is the sum over (now - span, now] */
            int64_t ref = fen_prefix(fen, now) - fen_prefix(fen, now - rc->span);
            hj_window_slot oldest = w.len ? w.s[w.head] : (hj_window_slot){0, 0};
            uint32_t g = w.g ? w.g : 1;
            int64_t got = window_sum(&w, rc->span, now);
            if (got < ref)
                fail_msg("%s: under-count %lld < %lld (g=%u)", what, (long long)got, (long long)ref,
                         g);
            if (rc->jitter == 0 && g == 1 && got != ref)
                fail_msg("%s: one-second slots but %lld != %lld", what, (long long)got,
                         (long long)ref);
            if (rc->jitter == 0 && got - ref > oldest.n)
                fail_msg("%s: over-count %lld beyond the oldest slot (%lld)", what,
                         (long long)(got - ref), (long long)oldest.n);
        }
        window_free(&w);
    }
    assert_true(coarsened); /* the tests above did exercise coarse slots */
    free(fen);
}

/* ---- window: an idle window gives its memory back ---- */

static void
test_window_idle_frees(void **state)
{
    hj_window w = {0};

    (void)state;
    for (int64_t t = 0; t < 3000; t++)
        window_add(&w, 3600, t, 2);
    assert_non_null(w.s);
    assert_true(w.cap > 0);
    CHECK_EQ("still busy", window_sum(&w, 3600, 3599) > 0, 1);
    CHECK_EQ("idle", window_sum(&w, 3600, 3000 + 3600), 0);
    assert_null(w.s);
    CHECK_EQ("idle cap", w.cap, 0);
    CHECK_EQ("idle len", w.len, 0);
    CHECK_EQ("idle sum", w.sum, 0);
    /* usable again, exact to the second */
    window_add(&w, 60, 10000, 4);
    CHECK_EQ("reused", window_sum(&w, 60, 10059), 4);
    CHECK_EQ("reused", window_sum(&w, 60, 10060), 0);
    assert_null(w.s);
    window_free(&w); /* freeing an empty window is harmless */
    window_free(&w);
}

/* ---- dset: cases ---- */

enum { DS_END, DS_TOUCH, DS_COUNT };

typedef struct dop {
    int k; /* DS_TOUCH: item h seen at t; DS_COUNT: dset_count(span, t) must be n */
    uint64_t h;
    int64_t t;
    int64_t span;
    int64_t n;
} dop;

typedef struct dset_case {
    const char *name;
    uint32_t max;
    dop ops[16];
} dset_case;

static const dset_case dset_cases[] = {
    {"distinct items counted once",
     256,
     {{DS_TOUCH, 1, 0, 0, 0},
      {DS_TOUCH, 2, 0, 0, 0},
      {DS_TOUCH, 1, 5, 0, 0},
      {DS_TOUCH, 3, 10, 0, 0},
      {DS_TOUCH, 3, 10, 0, 0},
      {DS_COUNT, 0, 10, 60, 3}}},
    {"expiry is last <= now - span",
     256,
     {{DS_TOUCH, 1, 0, 0, 0},
      {DS_TOUCH, 2, 5, 0, 0},
      {DS_COUNT, 0, 9, 10, 2},
      {DS_COUNT, 0, 10, 10, 1},
      {DS_COUNT, 0, 14, 10, 1},
      {DS_COUNT, 0, 15, 10, 0}}},
    {"seeing an item again refreshes it",
     256,
     {{DS_TOUCH, 1, 0, 0, 0},
      {DS_TOUCH, 2, 0, 0, 0},
      {DS_TOUCH, 1, 8, 0, 0},
      {DS_COUNT, 0, 12, 10, 1},
      {DS_COUNT, 0, 17, 10, 1},
      {DS_COUNT, 0, 18, 10, 0}}},
    {"an older sighting does not move an item back",
     256,
     {{DS_TOUCH, 1, 8, 0, 0}, {DS_TOUCH, 1, 0, 0, 0}, {DS_COUNT, 0, 17, 10, 1}}},
    {"count saturates at max",
     4,
     {{DS_TOUCH, 1, 0, 0, 0},
      {DS_TOUCH, 2, 1, 0, 0},
      {DS_TOUCH, 3, 2, 0, 0},
      {DS_TOUCH, 4, 3, 0, 0},
      {DS_COUNT, 0, 3, 60, 4},
      {DS_TOUCH, 5, 4, 0, 0},
      {DS_TOUCH, 6, 5, 0, 0},
      {DS_TOUCH, 7, 6, 0, 0},
      {DS_COUNT, 0, 6, 60, 4}}},
    {"when full, the item seen longest ago is replaced",
     2,
     {{DS_TOUCH, 1, 0, 0, 0},
      {DS_TOUCH, 2, 5, 0, 0},
      {DS_TOUCH, 3, 6, 0, 0}, /* replaces 1 */
      {DS_COUNT, 0, 10, 10, 2},
      {DS_TOUCH, 1, 7, 0, 0}, /* replaces 2 */
      {DS_COUNT, 0, 15, 10, 2},
      {DS_COUNT, 0, 16, 10, 1},
      {DS_COUNT, 0, 17, 10, 0}}},
    {"max of one", 1, {{DS_TOUCH, 1, 0, 0, 0}, {DS_TOUCH, 2, 1, 0, 0}, {DS_COUNT, 0, 1, 60, 1}}},
    {"hash values at the extremes",
     256,
     {{DS_TOUCH, 0, 0, 0, 0},
      {DS_TOUCH, UINT64_MAX, 0, 0, 0},
      {DS_TOUCH, 0, 1, 0, 0},
      {DS_COUNT, 0, 1, 60, 2}}},
    {"empty", 256, {{DS_COUNT, 0, 100, 60, 0}}},
};

static void
test_dset_cases(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof(dset_cases) / sizeof(dset_cases[0]); c++) {
        const dset_case *dc = &dset_cases[c];
        hj_dset d = {0};
        for (const dop *o = dc->ops; o->k != DS_END; o++) {
            if (o->k == DS_TOUCH) {
                dset_touch(&d, o->h, o->t, dc->max);
            } else {
                char what[160];
                snprintf(what, sizeof(what), "%s (count at %lld)", dc->name, (long long)o->t);
                CHECK_EQ(what, dset_count(&d, o->span, o->t), o->n);
            }
            if (d.len > dc->max || d.cap > dc->max)
                fail_msg("%s: %u items (cap %u) over max %u", dc->name, d.len, d.cap, dc->max);
        }
        dset_free(&d);
    }
}

static void
test_dset_idle_frees(void **state)
{
    hj_dset d = {0};

    (void)state;
    for (uint64_t h = 0; h < 100; h++)
        dset_touch(&d, h, (int64_t)h, 256);
    CHECK_EQ("busy", dset_count(&d, 3600, 99), 100);
    assert_non_null(d.e);
    CHECK_EQ("idle", dset_count(&d, 3600, 99 + 3600), 0);
    assert_null(d.e);
    CHECK_EQ("idle cap", d.cap, 0);
    dset_touch(&d, 7, 10000, 256);
    CHECK_EQ("reused", dset_count(&d, 60, 10000), 1);
    dset_free(&d);
    dset_free(&d);
}

/* ---- dset: random inputs against a brute-force reference ---- */

typedef struct dset_rand_case {
    uint64_t seed;
    uint32_t max;
    int pool; /* items drawn from [0, pool) */
    int64_t span;
    int64_t max_gap;
    int steps;
} dset_rand_case;

static const dset_rand_case dset_rand_cases[] = {
    {11, 256, 50, 600, 30, 5000},      /* never full: exact */
    {12, 16, 200, 3600, 5, 5000},      /* saturates */
    {13, 4, 10, 60, 10, 5000},         /* small */
    {14, 1000, 3000, 86400, 60, 4000}, /* large */
    {15, 1, 3, 10, 5, 2000},
};

static void
test_dset_random(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof(dset_rand_cases) / sizeof(dset_rand_cases[0]); c++) {
        const dset_rand_case *rc = &dset_rand_cases[c];
        uint64_t rs = rc->seed * UINT64_C(0x9e3779b97f4a7c15) + 1;
        int64_t *last = malloc((size_t)rc->pool * sizeof(*last));
        hj_dset d = {0};
        int64_t now = 0;
        char what[96];

        assert_non_null(last);
        for (int i = 0; i < rc->pool; i++)
            last[i] = INT64_MIN;
        for (int i = 0; i < rc->steps; i++) {
            now += rnd_below(&rs, rc->max_gap + 1);
            int h = (int)rnd_below(&rs, rc->pool);
            dset_touch(&d, (uint64_t)h * UINT64_C(0x100000001b3), now, rc->max);
            last[h] = now;
            snprintf(what, sizeof(what), "dset random case %zu step %d", c, i);
            if (d.len > rc->max || d.cap > rc->max)
                fail_msg("%s: %u items over max %u", what, d.len, rc->max);
            if (rnd_below(&rs, 3) == 0) {
                int64_t q = now + rnd_below(&rs, rc->span / 2 + 1), ref = 0;
                for (int k = 0; k < rc->pool; k++)
                    ref += last[k] != INT64_MIN && last[k] > q - rc->span;
                int64_t want = ref < (int64_t)rc->max ? ref : (int64_t)rc->max;
                CHECK_EQ(what, dset_count(&d, rc->span, q), want);
                now = q;
            }
        }
        dset_free(&d);
        free(last);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window_cases),  cmocka_unit_test(test_window_memory_bound),
        cmocka_unit_test(test_window_random), cmocka_unit_test(test_window_idle_frees),
        cmocka_unit_test(test_dset_cases),    cmocka_unit_test(test_dset_idle_frees),
        cmocka_unit_test(test_dset_random),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
