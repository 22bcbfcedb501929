/*
 * alloc - allocation wrappers that never return NULL
 *
 * SYNOPSIS
 *	void *xmalloc(size_t n);  void *xcalloc(size_t n, size_t size);
 *	void *xrealloc(void *p, size_t n);  char *xstrdup(const char *s);
 *	char *xstrndup(const char *s, size_t n);
 *
 * DESCRIPTION
 *	Each call either succeeds or does not return: on exhaustion the
 *	process writes one line to stderr and aborts (a resource failure the
 *	supervisor restarts from). Callers never test for NULL. The caller
 *	owns the result and releases it with free(). Thread-safe.
 */
#ifndef HJ_ALLOC_H
#define HJ_ALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
