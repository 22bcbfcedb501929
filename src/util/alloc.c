/*
 * alloc - allocation wrappers that never return NULL (see alloc.h)
 */
#include "alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* alloc_die - report exhaustion and abort: there is no sane way on */
static _Noreturn void
alloc_die(const char *what, size_t n)
{
    fprintf(stderr, "hijackd: fatal: out of memory (%s of %zu bytes)\n", what, n);
    abort();
}

void *
xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (p == NULL)
        alloc_die("malloc", n);
    return p;
}

void *
xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);

    if (p == NULL)
        alloc_die("calloc", n * size);
    return p;
}

void *
xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);

    if (q == NULL)
        alloc_die("realloc", n);
    return q;
}

char *
xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);

    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

char *
xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}
