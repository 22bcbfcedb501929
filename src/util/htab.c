/*
 * htab - string-keyed hash table with chaining (see htab.h)
 */
#include "htab.h"

#include <stdlib.h>
#include <string.h>

#include "alloc.h"

/* htab_hash - FNV-1a 64 with a final avalanche (keys are short: ids, addresses) */
uint64_t
htab_hash(const char *key, size_t klen)
{
    uint64_t h = 0xcbf29ce484222325ULL;

    for (size_t i = 0; i < klen; i++) {
        h ^= (unsigned char)key[i];
        h *= 0x100000001b3ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

htab *
htab_new(size_t hint)
{
    htab *t = xcalloc(1, sizeof(*t));
    size_t size = 16;

    while (size < hint)
        size *= 2;
    t->size = size;
    t->slot = xcalloc(size, sizeof(*t->slot));
    return t;
}

/* htab_grow - double the slot array and rehash */
static void
htab_grow(htab *t)
{
    size_t nsize = t->size * 2;
    htab_node **ns = xcalloc(nsize, sizeof(*ns));

    for (size_t i = 0; i < t->size; i++) {
        htab_node *n = t->slot[i], *next;
        for (; n; n = next) {
            next = n->next;
            size_t j = n->hash & (nsize - 1);
            n->next = ns[j];
            ns[j] = n;
        }
    }
    free(t->slot);
    t->slot = ns;
    t->size = nsize;
}

/* htab_find - the node for key, or NULL */
static htab_node *
htab_find(const htab *t, const char *key, size_t klen, uint64_t h)
{
    for (htab_node *n = t->slot[h & (t->size - 1)]; n; n = n->next)
        if (n->hash == h && n->klen == klen && memcmp(n->key, key, klen) == 0)
            return n;
    return NULL;
}

void *
htab_get(const htab *t, const char *key, size_t klen)
{
    htab_node *n = htab_find(t, key, klen, htab_hash(key, klen));

    return n ? n->value : NULL;
}

htab_node *
htab_put(htab *t, const char *key, size_t klen, void *value, int *created)
{
    uint64_t h = htab_hash(key, klen);
    htab_node *n = htab_find(t, key, klen, h);

    if (created)
        *created = (n == NULL);
    if (n)
        return n;
    if (t->used >= t->size)
        htab_grow(t);
    n = xmalloc(sizeof(*n) + klen + 1);
    n->hash = h;
    n->value = value;
    n->klen = klen;
    memcpy(n->key, key, klen);
    n->key[klen] = 0;
    size_t i = h & (t->size - 1);
    n->next = t->slot[i];
    t->slot[i] = n;
    t->used++;
    return n;
}

void *
htab_del(htab *t, const char *key, size_t klen)
{
    uint64_t h = htab_hash(key, klen);
    htab_node **pp = &t->slot[h & (t->size - 1)];

    for (; *pp; pp = &(*pp)->next) {
        htab_node *n = *pp;
        if (n->hash == h && n->klen == klen && memcmp(n->key, key, klen) == 0) {
            void *v = n->value;
            *pp = n->next;
            free(n);
            t->used--;
            return v;
        }
    }
    return NULL;
}

htab_node *
htab_sample(const htab *t, uint64_t r)
{
    if (t->used == 0)
        return NULL;
    size_t mask = t->size - 1;
    size_t i = (size_t)r & mask;
    htab_node *n = t->slot[i];
    size_t depth = (size_t)(r >> 40) % 4; /* sometimes a node behind the first */

    while (n == NULL) {
        i = (i + 1) & mask;
        n = t->slot[i];
    }
    while (depth-- > 0 && n->next)
        n = n->next;
    return n;
}

void
htab_walk(htab *t, int (*fn)(htab_node *, void *), void *ctx)
{
    for (size_t i = 0; i < t->size; i++) {
        htab_node **pp = &t->slot[i];
        while (*pp) {
            htab_node *n = *pp;
            if (fn(n, ctx)) {
                *pp = n->next;
                free(n);
                t->used--;
            } else {
                pp = &n->next;
            }
        }
    }
}

void
htab_free(htab *t, void (*free_value)(void *))
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->size; i++) {
        htab_node *n = t->slot[i], *next;
        for (; n; n = next) {
            next = n->next;
            if (free_value)
                free_value(n->value);
            free(n);
        }
    }
    free(t->slot);
    free(t);
}
