/*
 * dset - distinct items within a sliding window (see dset.h)
 */
#include "dset.h"

#include <stdlib.h>

#include "../util/alloc.h"

void
dset_touch(hj_dset *d, uint64_t h, int64_t t, uint32_t max)
{
    uint32_t oldest = 0;

    for (uint32_t i = 0; i < d->len; i++) {
        if (d->e[i].h == h) {
            if (t > d->e[i].last)
                d->e[i].last = t;
            return;
        }
        if (d->e[i].last < d->e[oldest].last)
            oldest = i;
    }
    if (d->len >= max && d->len > 0) {
        d->e[oldest] = (hj_dset_item){h, t};
        return;
    }
    if (d->len == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 4;
        if (d->cap > max)
            d->cap = max;
        d->e = xrealloc(d->e, d->cap * sizeof(*d->e));
    }
    d->e[d->len++] = (hj_dset_item){h, t};
}

int64_t
dset_count(hj_dset *d, int64_t span, int64_t t)
{
    uint32_t j = 0;

    for (uint32_t i = 0; i < d->len; i++)
        if (d->e[i].last > t - span)
            d->e[j++] = d->e[i];
    d->len = j;
    if (j == 0 && d->cap)
        dset_free(d);
    return j;
}

void
dset_free(hj_dset *d)
{
    free(d->e);
    *d = (hj_dset){0};
}
