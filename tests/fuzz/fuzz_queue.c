/*
 * fuzz_queue - libFuzzer harness: the postqueue -j reader (queue_parse_line) on hostile
 * output, then the grouping and both reports over what was read (queue_group,
 * queue_report_json, queue_report_text), as "hijackctl queue" does, and what a purge of the
 * first message's sender would match (queue_match, queue_picks_kept).
 * The input is postqueue's output: one JSON object a line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/postfix/queue.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *
account_of(void *ctx, const char *qid)
{
    (void)ctx;
    return (qid[0] & 1) ? "user@example.org" : NULL;
}

static void
owner_of(void *ctx, const char *qid, queue_owner *o)
{
    (void)ctx;
    o->account = (qid[0] & 1) ? "user@example.org" : NULL;
    o->policy_sender = (qid[0] & 2) ? "other@example.org" : NULL;
}

static int
is_local(void *ctx, const char *domain)
{
    (void)ctx;
    return strcmp(domain, "example.org") == 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    queue_list q = QUEUE_LIST_INIT;
    queue_report r;
    const char *p = (const char *)data, *end = p + size;
    hj_buf out = HJ_BUF_INIT;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        int rc = queue_parse_line(p, len, &q);
        if (rc < -1 || rc > 1)
            abort();
        p += len + 1;
    }
    for (size_t i = 0; i < q.n; i++)
        if (!queue_id_ok(q.msgs[i].queue_id))
            abort();
    queue_report_init(&r);
    r.dominant_min_rcpts = 1;
    queue_group(&q, account_of, NULL, is_local, &r);
    queue_report_json(&r, &out);
    queue_report_text(&r, &out);
    if (q.n && *q.msgs[0].sender) { /* its own sender, --by-sender: at least that message; the
                                     * strict rules: no more (an empty account matches nothing) */
        queue_picks all, strict;
        queue_match(&q, q.msgs[0].sender, owner_of, NULL, QUEUE_BY_SENDER, &all);
        queue_match(&q, q.msgs[0].sender, owner_of, NULL, 0, &strict);
        if (all.nids == 0 || strict.nids > all.nids || all.n != strict.n)
            abort();
        for (size_t i = 0; i < all.nids; i++)
            if (!queue_id_ok(all.ids[i]))
                abort();
        queue_picks_kept(&strict, &out);
        queue_picks_free(&all);
        queue_picks_free(&strict);
    }
    queue_list_free(&q);
    buf_free(&out);
    queue_report_free(&r);
    return 0;
}
