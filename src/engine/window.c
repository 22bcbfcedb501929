/*
 * window - a sliding-window sum with bounded memory (see window.h)
 */
#include "window.h"

#include <stdlib.h>

#include "../util/alloc.h"

/* floor_to - t rounded down to a multiple of g (t may be negative) */
static int64_t
floor_to(int64_t t, int64_t g)
{
    int64_t q = t / g;

    return (t % g < 0 ? q - 1 : q) * g;
}

static hj_window_slot *
slot_at(hj_window *w, uint32_t i)
{
    return &w->s[(w->head + i) % w->cap];
}

/* window_expire - drop slots that lie wholly at or before t - span */
static void
window_expire(hj_window *w, int64_t span, int64_t t)
{
    int64_t g = w->g ? w->g : 1;

    while (w->len) {
        hj_window_slot *o = slot_at(w, 0);
        if (o->t0 + g - 1 > t - span)
            break;
        w->sum -= o->n;
        w->head = (w->head + 1) % w->cap;
        w->len--;
    }
    if (w->len == 0)
        w->g = 1;
}

/* window_linearize - copy the ring into a new array of ncap slots, oldest first */
static void
window_linearize(hj_window *w, uint32_t ncap)
{
    hj_window_slot *ns = xmalloc(ncap * sizeof(*ns));

    for (uint32_t i = 0; i < w->len; i++)
        ns[i] = *slot_at(w, i);
    free(w->s);
    w->s = ns;
    w->cap = ncap;
    w->head = 0;
}

/* window_coarsen - double the slot width and merge neighbours */
static void
window_coarsen(hj_window *w)
{
    int64_t g = (int64_t)(w->g ? w->g : 1) * 2;
    uint32_t j = 0;

    window_linearize(w, w->cap);
    for (uint32_t i = 0; i < w->len; i++) {
        int64_t t0 = floor_to(w->s[i].t0, g);
        if (j && w->s[j - 1].t0 == t0) {
            w->s[j - 1].n += w->s[i].n;
        } else {
            w->s[j++] = (hj_window_slot){t0, w->s[i].n};
        }
    }
    w->len = j;
    w->g = (uint32_t)g;
}

void
window_add(hj_window *w, int64_t span, int64_t t, int64_t n)
{
    window_expire(w, span, t);
    w->sum += n;
    for (;;) {
        int64_t t0 = floor_to(t, w->g ? w->g : 1);
        if (w->len) {
            hj_window_slot *last = slot_at(w, w->len - 1);
            if (t0 <= last->t0) {
                last->n += n;
                return;
            }
        }
        if (w->len < w->cap)
            break;
        if (w->cap < WINDOW_MAXSLOTS)
            window_linearize(
                w, w->cap ? (w->cap * 2 < WINDOW_MAXSLOTS ? w->cap * 2 : WINDOW_MAXSLOTS) : 4);
        else
            window_coarsen(w);
    }
    *slot_at(w, w->len) = (hj_window_slot){floor_to(t, w->g ? w->g : 1), n};
    w->len++;
}

int64_t
window_sum(hj_window *w, int64_t span, int64_t t)
{
    window_expire(w, span, t);
    if (w->len == 0 && w->cap) /* idle: give the memory back */
        window_free(w);
    return w->sum;
}

void
window_free(hj_window *w)
{
    free(w->s);
    *w = (hj_window){0};
}
