/*
 * dset - distinct items seen within a sliding window, bounded
 *
 * SYNOPSIS
 *	hj_dset d = {0};
 *	dset_touch(&d, hash, t, max);         item seen at t
 *	int64_t dset_count(&d, span, t);      distinct items seen in (t - span, t]
 *	void dset_free(&d);
 *
 * DESCRIPTION
 *	Keeps (64-bit item hash, last seen) pairs, at most max of them (16
 *	bytes each); when full, the item seen longest ago is replaced, so a
 *	count of max means "max or more". Items older than the span are
 *	dropped by dset_count(). Hash collisions (2^-64) are ignored.
 *	Not thread-safe; memory failure is fatal.
 */
#ifndef HJ_DSET_H
#define HJ_DSET_H

#include <stdint.h>

typedef struct hj_dset_item {
    uint64_t h;
    int64_t last;
} hj_dset_item;

typedef struct hj_dset {
    hj_dset_item *e;
    uint32_t len;
    uint32_t cap;
} hj_dset;

void dset_touch(hj_dset *d, uint64_t h, int64_t t, uint32_t max);
int64_t dset_count(hj_dset *d, int64_t span, int64_t t);
void dset_free(hj_dset *d);

#endif
