/*
 * recent - an account's recent recipients and queue IDs (see recent.h)
 *
 * A table of accounts, each with a ring of RECENT_RCPTS recipients and
 * RECENT_QIDS queue IDs as strings of their own; at RECENT_ACCTS accounts
 * the table is emptied.
 */
#include "recent.h"

#include <stdlib.h>
#include <string.h>

#include "../util/alloc.h"
#include "../util/htab.h"

#define RECENT_ACCTS 50000 /* accounts with recent recipients (then forgotten) */

typedef struct rring { /* an account's recent recipients and queue IDs */
    char *r[RECENT_RCPTS];
    int next;
    char *q[RECENT_QIDS];
    int qnext;
} rring;

struct recent {
    htab *accts; /* account -> rring */
};

recent *
recent_new(void)
{
    recent *r = xcalloc(1, sizeof(*r));

    r->accts = htab_new(1024);
    return r;
}

static void
rring_free(void *p)
{
    rring *r = p;

    for (int i = 0; i < RECENT_RCPTS; i++)
        free(r->r[i]);
    for (int i = 0; i < RECENT_QIDS; i++)
        free(r->q[i]);
    free(r);
}

void
recent_free(recent *r)
{
    if (r == NULL)
        return;
    htab_free(r->accts, rring_free);
    free(r);
}

/* ring_add - s[0..len) into a ring of cap strings, unless it is the latest already */
static void
ring_add(char **ring, int *next, int cap, const char *s, size_t len)
{
    int last = (*next + cap - 1) % cap;

    if (ring[last] && strlen(ring[last]) == len && memcmp(ring[last], s, len) == 0)
        return; /* the same again (EOM after RCPT) */
    free(ring[*next]);
    ring[*next] = xstrndup(s, len);
    *next = (*next + 1) % cap;
}

void
recent_add(recent *r, const char *account, const char *rcpt, const char *qid)
{
    int created;
    size_t rn = rcpt ? strlen(rcpt) : 0, qn = qid ? strlen(qid) : 0;

    if ((rn == 0 && qn == 0) || rn > RECENT_RCPT_LEN || qn > RECENT_QID_LEN)
        return;
    if (r->accts->used >= RECENT_ACCTS) {
        htab_free(r->accts, rring_free);
        r->accts = htab_new(1024);
    }
    htab_node *h = htab_put(r->accts, account, strlen(account), NULL, &created);
    rring *g = h->value ? h->value : (h->value = xcalloc(1, sizeof(rring)));
    if (rn)
        ring_add(g->r, &g->next, RECENT_RCPTS, rcpt, rn);
    if (qn)
        ring_add(g->q, &g->qnext, RECENT_QIDS, qid, qn);
}

/* ring_get - a ring's strings, oldest first, the last max of them */
static size_t
ring_get(char *const *ring, int next, int cap, const char **out, size_t max)
{
    size_t n = 0, have = 0, skip;

    for (int i = 0; i < cap; i++)
        have += ring[i] != NULL;
    skip = have > max ? have - max : 0;
    for (int i = 0; i < cap; i++) {
        const char *s = ring[(next + i) % cap];
        if (s && skip)
            skip--;
        else if (s)
            out[n++] = s;
    }
    return n;
}

size_t
recent_rcpts(const recent *r, const char *account, const char **out, size_t max)
{
    const rring *g = htab_get(r->accts, account, strlen(account));

    return g ? ring_get(g->r, g->next, RECENT_RCPTS, out, max) : 0;
}

size_t
recent_qids(const recent *r, const char *account, const char **out, size_t max)
{
    const rring *g = htab_get(r->accts, account, strlen(account));

    return g ? ring_get(g->q, g->qnext, RECENT_QIDS, out, max) : 0;
}
