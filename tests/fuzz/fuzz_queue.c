/*
 * fuzz_queue - libFuzzer harness: the postqueue -j reader (queue_parse_line) on hostile
 * output, then the grouping and both reports over what was read (queue_group,
 * queue_report_json, queue_report_text, queue_select), as "hijackctl queue" does.
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
    queue_list_free(&q);
    queue_report_json(&r, &out);
    queue_report_text(&r, &out);
    if (r.ngroups) {
        const char **ids;
        size_t n;
        const char *name = r.groups[0].account ? r.groups[0].account : r.groups[0].sender;
        if (queue_select(&r, name, &ids, &n) != 0 || n == 0)
            abort();
    }
    buf_free(&out);
    queue_report_free(&r);
    return 0;
}
