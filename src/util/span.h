/*
 * span - a borrowed piece of a buffer: pointer and length, not NUL-terminated
 *
 * SYNOPSIS
 *	typedef struct hj_span { const char *p; size_t n; } hj_span;
 *	int span_eq(hj_span s, const char *lit);
 *
 * DESCRIPTION
 *	The parsers (log lines, policy requests) point into their input
 *	instead of copying it; a span is valid as long as that input is.
 *	p == NULL means "absent", which is not the same as empty (n == 0).
 *	span_eq() compares with a NUL-terminated string. Pure; thread-safe.
 */
#ifndef HJ_SPAN_H
#define HJ_SPAN_H

#include <stddef.h>
#include <string.h>

typedef struct hj_span {
    const char *p;
    size_t n;
} hj_span;

static inline int
span_eq(hj_span s, const char *lit)
{
    size_t n = strlen(lit);

    return s.n == n && (n == 0 || memcmp(s.p, lit, n) == 0);
}

#endif
