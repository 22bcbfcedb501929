/*
 * htab - string-keyed hash table with chaining
 *
 * SYNOPSIS
 *	htab *htab_new(size_t hint);
 *	void *htab_get(const htab *t, const char *key, size_t klen);
 *	htab_node *htab_put(htab *t, const char *key, size_t klen, void *value, int *created);
 *	void *htab_del(htab *t, const char *key, size_t klen);
 *	void htab_walk(htab *t, int (*fn)(htab_node *, void *), void *ctx);
 *	htab_node *htab_sample(const htab *t, uint64_t r);
 *	void htab_free(htab *t, void (*free_value)(void *));
 *
 * DESCRIPTION
 *	Keys are byte strings (klen bytes, need not be NUL-terminated); the
 *	table keeps its own NUL-terminated copy in node->key. Values are
 *	opaque pointers owned by the caller unless htab_free() is given a
 *	destructor. htab_put() returns the existing node when the key is
 *	present (created = 0), so callers can find-or-insert in one lookup.
 *	htab_walk() calls fn for every node; fn returning 1 deletes that node
 *	(its value is not freed). The table grows at load factor 1.
 *	htab_sample() returns a node chosen by the random number r (NULL when
 *	the table is empty): the first of the chain at a slot r picks, or of the
 *	next non-empty one, so its cost is bounded by the number of slots but
 *	is a few probes at the usual load. It is for sampled eviction (as
 *	Redis evicts), not uniform: a node behind another in its chain is
 *	picked less often.
 *	Not thread-safe. Allocation failure is fatal.
 */
#ifndef HJ_HTAB_H
#define HJ_HTAB_H

#include <stddef.h>
#include <stdint.h>

typedef struct htab_node {
    struct htab_node *next;
    uint64_t hash;
    void *value;
    size_t klen;
    char key[];
} htab_node;

typedef struct htab {
    htab_node **slot;
    size_t size; /* number of slots, a power of 2 */
    size_t used; /* number of nodes */
} htab;

uint64_t htab_hash(const char *key, size_t klen);
htab *htab_new(size_t hint);
void *htab_get(const htab *t, const char *key, size_t klen);
htab_node *htab_put(htab *t, const char *key, size_t klen, void *value, int *created);
void *htab_del(htab *t, const char *key, size_t klen);
void htab_walk(htab *t, int (*fn)(htab_node *, void *), void *ctx);
htab_node *htab_sample(const htab *t, uint64_t r);
void htab_free(htab *t, void (*free_value)(void *));

#endif
