/*
 * recent - an account's recent recipients and queue IDs (see recent.h)
 *
 * One journal of fixed size for all accounts, in one allocation: each
 * noted request is a record appended to a byte ring of RECENT_BYTES,
 *
 *	uint64_t prev    the offset + 1 of the account's record before it (0: none)
 *	uint16_t klen, rlen, qlen
 *	char     account[klen], NUL, rcpt[rlen], NUL, qid[qlen], NUL
 *
 * at an offset that grows for ever (64 bits) and is a multiple of 8; a
 * record is at off % RECENT_BYTES and never wraps round the end (the rest
 * of the end is skipped). It is intact while off + RECENT_BYTES >= head,
 * the next offset written. An account's records are a chain through prev
 * from its newest, which a table of heads of fixed size gives: RECENT_SETS
 * sets of RECENT_WAYS (hash, offset + 1), the oldest of a set taken for a
 * new account. Each record names its account, so a hash that collides or
 * a head taken by another account loses history and never shows another
 * account's. So the memory is RECENT_BYTES + the heads whatever the number
 * of accounts, with no allocation per request; what goes first is the
 * oldest request of all, not an account that was busy a minute ago.
 *
 * A request is noted when it brings a recipient or a queue ID other than
 * those of the account's newest record; reading drops a value equal to the
 * one before it, so the lists are those of a ring per kind (recent.h). A
 * read walks at most RECENT_WALK records of the chain.
 */
#include "recent.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../util/alloc.h"
#include "../util/htab.h"

#define RECENT_BYTES (8u << 20) /* the journal: ~100,000 requests of ~80 bytes */
#define RECENT_SETS (1u << 15)  /* heads: 32,768 sets of 4, 2 MiB */
#define RECENT_WAYS 4
#define RECENT_WALK 4096    /* records read at most for one account's lists */
#define RECENT_KEY_LEN 1024 /* longer account names are not noted */

typedef struct rec_hdr {
    uint64_t prev;
    uint16_t klen, rlen, qlen;
} rec_hdr;

#define HDR_LEN 14 /* the bytes of a rec_hdr written (no padding) */

typedef struct rhead {
    uint64_t hash, off1; /* off1: the newest record's offset + 1, 0: free */
} rhead;

struct recent {
    char *buf;     /* RECENT_BYTES */
    uint64_t head; /* the next offset written */
    rhead *heads;  /* RECENT_SETS * RECENT_WAYS */
};

/* rec - a record, its strings pointing into the journal */
typedef struct rec {
    rec_hdr h;
    const char *key, *rcpt, *qid;
} rec;

recent *
recent_new(void)
{
    recent *r = xcalloc(1, sizeof(*r));

    r->buf = xcalloc(1, RECENT_BYTES);
    r->heads = xcalloc(RECENT_SETS * RECENT_WAYS, sizeof(rhead));
    return r;
}

void
recent_free(recent *r)
{
    if (r == NULL)
        return;
    free(r->buf);
    free(r->heads);
    free(r);
}

/* intact - the record at off1 - 1 has not been written over */
static int
intact(const recent *r, uint64_t off1)
{
    return off1 != 0 && off1 - 1 + RECENT_BYTES >= r->head;
}

/* rec_read - the record at off1 - 1 (intact) */
static rec
rec_read(const recent *r, uint64_t off1)
{
    rec x;
    const char *p = r->buf + (off1 - 1) % RECENT_BYTES;

    memcpy(&x.h.prev, p, 8);
    memcpy(&x.h.klen, p + 8, 2), memcpy(&x.h.rlen, p + 10, 2), memcpy(&x.h.qlen, p + 12, 2);
    x.key = p + HDR_LEN;
    x.rcpt = x.key + x.h.klen + 1;
    x.qid = x.rcpt + x.h.rlen + 1;
    return x;
}

/* head_find - the account's head slot (hash and name match, record intact), or NULL */
static rhead *
head_find(const recent *r, const char *key, size_t klen, uint64_t hash)
{
    rhead *set = r->heads + (hash & (RECENT_SETS - 1)) * RECENT_WAYS;

    for (int i = 0; i < RECENT_WAYS; i++) {
        if (set[i].hash != hash || !intact(r, set[i].off1))
            continue;
        rec x = rec_read(r, set[i].off1);
        if (x.h.klen == klen && memcmp(x.key, key, klen) == 0)
            return set + i;
    }
    return NULL;
}

/* head_take - a slot for a new account: a free or the oldest one of its set */
static rhead *
head_take(recent *r, uint64_t hash)
{
    rhead *set = r->heads + (hash & (RECENT_SETS - 1)) * RECENT_WAYS, *old = set;

    for (int i = 1; i < RECENT_WAYS; i++)
        if (set[i].off1 < old->off1)
            old = set + i;
    old->hash = hash, old->off1 = 0;
    return old;
}

/* same - s[0..len) is the string t of tlen bytes */
static int
same(const char *s, size_t len, const char *t, size_t tlen)
{
    return len == tlen && memcmp(s, t, len) == 0;
}

/* append - a record at the head of the journal; its offset + 1 */
static uint64_t
append(recent *r, uint64_t prev, const char *key, size_t kn, const char *rc, size_t rn,
       const char *q, size_t qn)
{
    size_t len = (HDR_LEN + kn + rn + qn + 3 + 7) & ~(size_t)7;
    uint16_t l[3] = {(uint16_t)kn, (uint16_t)rn, (uint16_t)qn};

    if (r->head % RECENT_BYTES + len > RECENT_BYTES) /* no wrap: skip the end */
        r->head += RECENT_BYTES - r->head % RECENT_BYTES;
    char *p = r->buf + r->head % RECENT_BYTES;
    memcpy(p, &prev, 8), memcpy(p + 8, l, sizeof(l));
    p += HDR_LEN;
    memcpy(p, key, kn), p[kn] = 0, p += kn + 1;
    memcpy(p, rc, rn), p[rn] = 0, p += rn + 1;
    memcpy(p, q, qn), p[qn] = 0;
    r->head += len;
    return r->head - len + 1;
}

void
recent_add(recent *r, const char *account, const char *rcpt, const char *qid)
{
    size_t kn = strlen(account), rn = rcpt ? strlen(rcpt) : 0, qn = qid ? strlen(qid) : 0;

    if ((rn == 0 && qn == 0) || rn > RECENT_RCPT_LEN || qn > RECENT_QID_LEN || kn > RECENT_KEY_LEN)
        return;
    uint64_t hash = htab_hash(account, kn), prev = 0;
    rhead *h = head_find(r, account, kn, hash);
    if (h) {
        rec x = rec_read(r, h->off1);
        if ((rn == 0 || same(rcpt, rn, x.rcpt, x.h.rlen)) &&
            (qn == 0 || same(qid, qn, x.qid, x.h.qlen)))
            return; /* nothing new (EOM after RCPT) */
        prev = h->off1;
    }
    uint64_t off1 = append(r, prev, account, kn, rcpt ? rcpt : "", rn, qid ? qid : "", qn);
    if (h == NULL)
        h = head_take(r, hash);
    h->off1 = off1;
}

/* collect - the account's values of one kind (0: recipients, 1: queue IDs), oldest first */
static size_t
collect(const recent *r, const char *account, int kind, const char **out, size_t max)
{
    size_t kn = strlen(account), n = 0;
    const rhead *h = head_find(r, account, kn, htab_hash(account, kn));
    uint64_t off1 = h ? h->off1 : 0;

    for (int walked = 0; n < max && walked < RECENT_WALK && intact(r, off1); walked++) {
        rec x = rec_read(r, off1);
        const char *v = kind ? x.qid : x.rcpt;
        if (!same(x.key, x.h.klen, account, kn))
            break;
        if (*v && (n == 0 || strcmp(out[n - 1], v) != 0)) /* newest first for now */
            out[n++] = v;
        off1 = x.h.prev;
    }
    for (size_t i = 0; i < n / 2; i++) {
        const char *t = out[i];
        out[i] = out[n - 1 - i], out[n - 1 - i] = t;
    }
    return n;
}

size_t
recent_rcpts(const recent *r, const char *account, const char **out, size_t max)
{
    return collect(r, account, 0, out, max < RECENT_RCPTS ? max : RECENT_RCPTS);
}

size_t
recent_qids(const recent *r, const char *account, const char **out, size_t max)
{
    return collect(r, account, 1, out, max < RECENT_QIDS ? max : RECENT_QIDS);
}
