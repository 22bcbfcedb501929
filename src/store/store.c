/*
 * store - open a storage backend by the spec's scheme (see store.h)
 *
 * The scheme prefix ("memory:", "sqlite:") picks the backend; the rest of
 * the spec is handed to it unchanged. An unknown scheme, or no spec at
 * all, gives NULL with a message naming the known schemes.
 */
#include "store.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef struct store_scheme {
    const char *prefix;
    hj_store *(*open)(const char *arg, char *err, size_t errlen);
} store_scheme;

static const store_scheme store_schemes[] = {
    {"memory:", store_mem_open},
    {"sqlite:", store_sqlite_open},
};

#define STORE_NSCHEMES (sizeof(store_schemes) / sizeof(store_schemes[0]))

/* store_open - the backend for spec's scheme, opened on the rest of spec */
hj_store *
store_open(const char *spec, char *err, size_t errlen)
{
    if (spec == NULL)
        spec = "";
    for (size_t i = 0; i < STORE_NSCHEMES; i++) {
        size_t n = strlen(store_schemes[i].prefix);
        if (strncmp(spec, store_schemes[i].prefix, n) == 0)
            return store_schemes[i].open(spec + n, err, errlen);
    }
    if (err && errlen)
        snprintf(err, errlen, "store \"%.200s\": unknown scheme (known: memory:, sqlite:PATH)",
                 spec);
    return NULL;
}

/* store_close - release the store and everything it owns (NULL is a no-op) */
void
store_close(hj_store *st)
{
    if (st)
        st->ops->close(st);
}

void
store_errf(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}
