/*
 * window - a sliding-window sum with bounded memory
 *
 * SYNOPSIS
 *	hj_window w = {0};
 *	window_add(&w, span, t, n);       add n at time t
 *	int64_t window_sum(&w, span, t);  the sum over (t - span, t]
 *	void window_free(&w);
 *
 * DESCRIPTION
 *	A true sliding window (not one that resets). Events are kept in
 *	time slots of g seconds, g = 1 to start with: the sum is exact to the
 *	second while the window holds at most WINDOW_MAXSLOTS distinct
 *	seconds with events. When a busier window fills the ring, g doubles
 *	and neighbouring slots merge, so one window never holds more than
 *	WINDOW_MAXSLOTS x 16 bytes (16 KiB) however busy the account is; a
 *	coarse slot counts while any second of it is inside the window (an
 *	over-count of at most one slot's events at the old edge, never an
 *	under-count). g returns to 1 when the window empties. Time that
 *	goes backwards (clock steps, out-of-order lines) is added to the
 *	newest slot. span must be the same on every call for one window.
 *	Not thread-safe; memory failure is fatal.
 */
#ifndef HJ_WINDOW_H
#define HJ_WINDOW_H

#include <stdint.h>

#define WINDOW_MAXSLOTS 1024

typedef struct hj_window_slot {
    int64_t t0; /* start of the slot: a multiple of g */
    int64_t n;
} hj_window_slot;

typedef struct hj_window {
    hj_window_slot *s;
    uint32_t head; /* index of the oldest slot */
    uint32_t len;
    uint32_t cap;
    uint32_t g; /* slot width in seconds; 0 means 1 */
    int64_t sum;
} hj_window;

void window_add(hj_window *w, int64_t span, int64_t t, int64_t n);
int64_t window_sum(hj_window *w, int64_t span, int64_t t);
void window_free(hj_window *w);

#endif
