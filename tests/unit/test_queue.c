/*
 * test_queue - Postfix queue forensics (src/postfix/queue.h): parsing, queue IDs, grouping,
 * the reports, what a purge matches (queue_match)
 *
 * Running postqueue, postsuper and sendmail (stub scripts) is tested in
 * test_queue_run.c; the child-process runner under them in test_child.c.
 * The samples in tests/fixtures/postqueue are real "postqueue -j" output
 * of Postfix 3.7.11 (tests/harness/mailstack.sh, smtp-sink stopped so that
 * remote mail stays deferred):
 *   two_accounts.jsonl   alice (hijacked): 6 messages to 30 recipients; bob:
 *                        2 messages; one open-relay message (port 3527, 2
 *                        recipients); one bounce to a remote sender
 *                        ("MAILER-DAEMON")
 *   long_ids_hold.jsonl  the same queue plus 4 messages with
 *                        enable_long_queue_ids = yes, one on hold
 *   open_relay.jsonl     3 relayed spam messages (24 recipients), bob's one
 *                        message, one relayed newsletter (long queue IDs)
 *   edge_cases.jsonl     hand-made: malformed lines and missing fields
 * The queue ID -> SASL account tables below come from the same runs'
 * maillog ("QID: client=..., sasl_username=...").
 *
 * Without arguments: the cmocka tests. With
 *   test_queue --e2e POSTQUEUE POSTSUPER CONFIG_DIR ACCOUNT
 * (tests/e2e_queue.sh) it reads the real queue, groups it (accounts from
 * HJ_QUEUE_ACCOUNTS="QID=account,...", local domains from
 * HJ_QUEUE_LOCAL_DOMAINS, default example.test), prints the JSON report on
 * stdout and the text report on stderr, then purges ACCOUNT's messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>

#include <jansson.h>

#include "../../src/postfix/queue.h"
#include "../../src/util/buf.h"
#include "check.h"
#include "queue_fixture.h"

/* ---------------------------------------------------------------- helpers */

typedef struct qid_account {
    const char *qid, *account;
} qid_account;

static const qid_account two_accounts_sasl[] = {
    {"22125A744D6", "alice@example.test"},      {"2B21EA744DB", "alice@example.test"},
    {"33535A744DD", "alice@example.test"},      {"3B7A6A744E1", "alice@example.test"},
    {"43B17A744E4", "alice@example.test"},      {"4BF8DA744E8", "alice@example.test"},
    {"545E5A744EA", "bob@example.test"},        {"5C2B6A744EE", "bob@example.test"},
    {"A694FA74581", "bob@example.test"},        {"4jZ8rX277Bz1bcVP", "bob@example.test"},
    {"B001DA74587", "postmaster@example.test"}, {"4jZ8rX2MDgz1bcfQ", "postmaster@example.test"},
    {"4jZ8ym1Z8hz1bcJP", "bob@example.test"},   {NULL, NULL},
};

static const char *
account_of(void *ctx, const char *qid)
{
    for (const qid_account *a = ctx; a && a->qid; a++)
        if (strcmp(a->qid, qid) == 0)
            return a->account;
    return NULL;
}

/* load - every line of a sample file through queue_parse_line() */
static void
load(const char *name, queue_list *q)
{
    FILE *fp = fopen(fixture(name), "rb");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;

    if (fp == NULL)
        fail_msg("cannot open %s", fixture(name));
    memset(q, 0, sizeof(*q));
    while ((n = getline(&line, &cap, fp)) > 0)
        queue_parse_line(line, (size_t)n, q);
    free(line);
    fclose(fp);
}

/* report_of - load, group with the given account table and thresholds (0: defaults) */
static void
report_of(const char *name, const qid_account *accounts, unsigned pct, size_t min, queue_report *r)
{
    queue_list q;

    load(name, &q);
    queue_report_init(r);
    if (pct)
        r->dominant_pct = pct;
    if (min)
        r->dominant_min_rcpts = min;
    queue_group(&q, accounts ? account_of : NULL, (void *)accounts, is_local, r);
    queue_list_free(&q);
}

static const queue_origin *
find_group(const queue_report *r, const char *name)
{
    for (size_t i = 0; i < r->ngroups; i++)
        if (strcmp(r->groups[i].account ? r->groups[i].account : r->groups[i].sender, name) == 0)
            return &r->groups[i];
    return NULL;
}

/* ---------------------------------------------------------------- parsing */

typedef struct parse_case {
    const char *name;
    const char *line;
    int want; /* queue_parse_line(): 1 added, 0 blank, -1 malformed */
    const char *qid, *sender;
    size_t nrcpts;
} parse_case;

static const parse_case parse_cases[] = {
    {"real line",
     "{\"queue_name\": \"deferred\", \"queue_id\": \"76BA3A720C4\", \"arrival_time\": 1795377990, "
     "\"message_size\": 412, \"forced_expire\": false, \"sender\": \"bob@example.test\", "
     "\"recipients\": [{\"address\": \"b@other.test\", \"delay_reason\": \"connect to "
     "127.0.0.1[127.0.0.1]:3526: Connection refused\"}, {\"address\": \"a@remote.test\"}]}",
     1, "76BA3A720C4", "bob@example.test", 2},
    {"required fields only", "{\"queue_id\":\"ABCDEF\",\"sender\":\"\",\"recipients\":[]}", 1,
     "ABCDEF", "", 0},
    {"long queue ID", "{\"queue_id\":\"4XnZ1k3XyFz9sQ\",\"sender\":\"a@b\",\"recipients\":[]}", 1,
     "4XnZ1k3XyFz9sQ", "a@b", 0},
    {"null optional fields",
     "{\"queue_id\":\"ABCDEF1\",\"queue_name\":null,\"arrival_time\":null,\"sender\":\"a\","
     "\"recipients\":[{\"address\":\"x\",\"delay_reason\":null}]}",
     1, "ABCDEF1", "a", 1},
    {"blank", "  \r\n", 0, NULL, NULL, 0},
    {"empty", "", 0, NULL, NULL, 0},
    {"not JSON", "deferred 76BA3A720C4 bob@example.test", -1, NULL, NULL, 0},
    {"cut short", "{\"queue_id\":\"ABCDEF1\",\"sender\":\"a\",\"recipients\":[{\"addr", -1, NULL,
     NULL, 0},
    {"a number", "42", -1, NULL, NULL, 0},
    {"an array", "[{\"queue_id\":\"ABCDEF1\"}]", -1, NULL, NULL, 0},
    {"no queue_id", "{\"sender\":\"a\",\"recipients\":[]}", -1, NULL, NULL, 0},
    {"queue_id a number", "{\"queue_id\":123456,\"sender\":\"a\",\"recipients\":[]}", -1, NULL,
     NULL, 0},
    {"queue_id lower-case hex", "{\"queue_id\":\"abcdef1\",\"sender\":\"a\",\"recipients\":[]}", -1,
     NULL, NULL, 0},
    {"queue_id an option", "{\"queue_id\":\"-d ALL\",\"sender\":\"a\",\"recipients\":[]}", -1, NULL,
     NULL, 0},
    {"no sender", "{\"queue_id\":\"ABCDEF1\",\"recipients\":[]}", -1, NULL, NULL, 0},
    {"null sender field", "{\"queue_id\":\"ABCDEF1\",\"sender\":null,\"recipients\":[]}", -1, NULL,
     NULL, 0},
    {"no recipients", "{\"queue_id\":\"ABCDEF1\",\"sender\":\"a\"}", -1, NULL, NULL, 0},
    {"recipients an object", "{\"queue_id\":\"ABCDEF1\",\"sender\":\"a\",\"recipients\":{}}", -1,
     NULL, NULL, 0},
    {"recipient a string", "{\"queue_id\":\"ABCDEF1\",\"sender\":\"a\",\"recipients\":[\"x\"]}", -1,
     NULL, NULL, 0},
    {"recipient without address",
     "{\"queue_id\":\"ABCDEF1\",\"sender\":\"a\",\"recipients\":[{\"delay_reason\":\"x\"}]}", -1,
     NULL, NULL, 0},
    {"delay_reason a number",
     "{\"queue_id\":\"ABCDEF1\",\"sender\":\"a\",\"recipients\":[{\"address\":\"x\","
     "\"delay_reason\":4}]}",
     -1, NULL, NULL, 0},
    {"arrival_time a string",
     "{\"queue_id\":\"ABCDEF1\",\"arrival_time\":\"now\",\"sender\":\"a\",\"recipients\":[]}", -1,
     NULL, NULL, 0},
    {"arrival_time a float",
     "{\"queue_id\":\"ABCDEF1\",\"arrival_time\":1.5,\"sender\":\"a\",\"recipients\":[]}", -1, NULL,
     NULL, 0},
    {"negative size",
     "{\"queue_id\":\"ABCDEF1\",\"message_size\":-3,\"sender\":\"a\",\"recipients\":[]}", -1, NULL,
     NULL, 0},
    {"forced_expire a string",
     "{\"queue_id\":\"ABCDEF1\",\"forced_expire\":\"yes\",\"sender\":\"a\",\"recipients\":[]}", -1,
     NULL, NULL, 0},
    {"duplicate key",
     "{\"queue_id\":\"ABCDEF1\",\"queue_id\":\"ABCDEF2\",\"sender\":\"a\",\"recipients\":[]}", -1,
     NULL, NULL, 0},
    {"two objects on a line",
     "{\"queue_id\":\"ABCDEF1\",\"sender\":\"a\",\"recipients\":[]}{\"queue_id\":\"ABCDEF2\"}", -1,
     NULL, NULL, 0},
    {"escaped NUL", "{\"queue_id\":\"ABCDEF1\",\"sender\":\"a\\u0000b\",\"recipients\":[]}", -1,
     NULL, NULL, 0},
    {"invalid UTF-8", "{\"queue_id\":\"ABCDEF1\",\"sender\":\"a\xc3(\",\"recipients\":[]}", -1,
     NULL, NULL, 0},
};

static void
test_parse_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
        const parse_case *c = &parse_cases[i];
        queue_list q = QUEUE_LIST_INIT;
        int got = queue_parse_line(c->line, strlen(c->line), &q);
        if (got != c->want)
            fail_msg("%s: queue_parse_line() = %d, want %d", c->name, got, c->want);
        if (q.n != (c->want == 1) || q.bad_lines != (c->want == -1))
            fail_msg("%s: %zu messages, %zu bad lines", c->name, q.n, q.bad_lines);
        if (c->want == 1 &&
            (strcmp(q.msgs[0].queue_id, c->qid) != 0 || strcmp(q.msgs[0].sender, c->sender) != 0 ||
             q.msgs[0].nrcpts != c->nrcpts))
            fail_msg("%s: got %s from <%s> to %zu", c->name, q.msgs[0].queue_id, q.msgs[0].sender,
                     q.msgs[0].nrcpts);
        queue_list_free(&q);
    }
}

static void
test_parse_real_line_fields(void **state)
{
    queue_list q = QUEUE_LIST_INIT;

    (void)state;
    assert_int_equal(queue_parse_line(parse_cases[0].line, strlen(parse_cases[0].line), &q), 1);
    const queue_msg *m = &q.msgs[0];
    assert_string_equal(m->queue_name, "deferred");
    assert_int_equal(m->arrival_time, 1795377990);
    assert_int_equal(m->message_size, 412);
    assert_int_equal(m->forced_expire, 0);
    assert_string_equal(m->rcpts[0].address, "b@other.test");
    assert_string_equal(m->rcpts[0].delay_reason,
                        "connect to 127.0.0.1[127.0.0.1]:3526: Connection refused");
    assert_string_equal(m->rcpts[1].address, "a@remote.test");
    assert_null(m->rcpts[1].delay_reason);
    /* no NUL needed at the end: the length counts */
    assert_int_equal(queue_parse_line(parse_cases[0].line, 30, &q), -1);
    assert_int_equal(q.bad_lines, 1);
    queue_list_free(&q);
    assert_int_equal(q.n, 0);
}

typedef struct file_case {
    const char *file;
    size_t messages, recipients, bad_lines;
} file_case;

static const file_case file_cases[] = {
    {"two_accounts.jsonl", 10, 35, 0},
    {"long_ids_hold.jsonl", 14, 41, 0},
    {"open_relay.jsonl", 5, 26, 0},
    /* 4 good lines, 13 malformed, 2 blank */
    {"edge_cases.jsonl", 4, 4, 13},
};

static void
test_parse_files(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(file_cases) / sizeof(file_cases[0]); i++) {
        const file_case *c = &file_cases[i];
        queue_list q;
        size_t rcpts = 0;
        load(c->file, &q);
        for (size_t k = 0; k < q.n; k++)
            rcpts += q.msgs[k].nrcpts;
        if (q.n != c->messages || rcpts != c->recipients || q.bad_lines != c->bad_lines)
            fail_msg("%s: %zu messages, %zu recipients, %zu bad lines; want %zu, %zu, %zu", c->file,
                     q.n, rcpts, q.bad_lines, c->messages, c->recipients, c->bad_lines);
        queue_list_free(&q);
    }
}

static void
test_parse_edge_fields(void **state)
{
    queue_list q;

    (void)state;
    load("edge_cases.jsonl", &q);
    assert_int_equal(q.n, 4);
    /* only the required fields: defaults */
    assert_string_equal(q.msgs[0].queue_id, "ABCDEF123");
    assert_string_equal(q.msgs[0].queue_name, "");
    assert_int_equal(q.msgs[0].arrival_time, -1);
    assert_int_equal(q.msgs[0].message_size, 0);
    /* hold, forced_expire, a null delay_reason, CRLF */
    assert_string_equal(q.msgs[1].queue_name, "hold");
    assert_string_equal(q.msgs[1].queue_id, "4XnZ1k3XyFz9sQ");
    assert_int_equal(q.msgs[1].forced_expire, 1);
    assert_null(q.msgs[1].rcpts[0].delay_reason);
    assert_string_equal(q.msgs[1].rcpts[1].delay_reason, "host y.test said: 450 try later");
    assert_string_equal(q.msgs[2].sender, "evil\x1b[31m\"x@bad.test");
    assert_string_equal(q.msgs[3].sender, "MAILER-DAEMON");
    assert_int_equal(q.msgs[3].nrcpts, 0);
    queue_list_free(&q);
}

/* ---------------------------------------------------------------- queue IDs */

static void
test_queue_id_ok(void **state)
{
    static const struct {
        const char *id;
        int want;
    } t[] = {
        {"4B1C31002A3", 1},
        {"22125A744D6", 1},
        {"ABCDEF", 1},
        {"4XnZ1k3XyFz9sQ", 1},
        {"4jZ8rX277Bz1bcVP", 1},
        {"4jZ8ym0lg7z1bcGc", 1},
        {"zzzzzzzzzzz1", 1},
        {"", 0},
        {"ABCDE", 0},
        {"4b1c31002a3", 0},
        {"4B1C31002A3 ", 0},
        {"4B1C31002A3\n", 0},
        {"-d", 0},
        {"ALL", 0},
        {"../4B1C31002A3", 0},
        {"4XnZ1k3Xyz9sQ", 0},
        {"4XnZ1k3XyFz", 0},
        {"4XnZ1k3XyFz9sQ!", 0},
        {"4XnZ1k3XyFz9aQ", 0},
        {"4XnA1k3XyFz9sQ", 0},
        {"4XnZ1k3XyF_9sQ", 0},
        {"0123456789ABCDEF0123456789ABCDEF0", 0},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if (queue_id_ok(t[i].id) != t[i].want)
            fail_msg("queue_id_ok(\"%s\") = %d", t[i].id, queue_id_ok(t[i].id));
    assert_int_equal(queue_id_ok(NULL), 0);
}

/* ---------------------------------------------------------------- grouping */

typedef struct group_case {
    const char *name;
    const char *file;
    const qid_account *accounts;
    unsigned pct; /* 0: default */
    size_t min;   /* 0: default */
    size_t ngroups;
    const char *top; /* account or sender of the largest group */
    queue_kind top_kind;
    int top_dominant;
    queue_verdict verdict;
} group_case;

static const group_case group_cases[] = {
    {"stolen account", "two_accounts.jsonl", two_accounts_sasl, 0, 0, 4, "alice@example.test",
     QUEUE_AUTHENTICATED, 1, QUEUE_STOLEN_ACCOUNT},
    {"no SASL data: local sender is not a verdict", "two_accounts.jsonl", NULL, 0, 0, 4,
     "alice@example.test", QUEUE_UNKNOWN, 1, QUEUE_VERDICT_NONE},
    {"min recipients 31: not dominant", "two_accounts.jsonl", two_accounts_sasl, 0, 31, 4,
     "alice@example.test", QUEUE_AUTHENTICATED, 0, QUEUE_VERDICT_NONE},
    {"min recipients 30: dominant", "two_accounts.jsonl", two_accounts_sasl, 0, 30, 4,
     "alice@example.test", QUEUE_AUTHENTICATED, 1, QUEUE_STOLEN_ACCOUNT},
    {"share 90%: not dominant (30 of 35)", "two_accounts.jsonl", two_accounts_sasl, 90, 0, 4,
     "alice@example.test", QUEUE_AUTHENTICATED, 0, QUEUE_VERDICT_NONE},
    {"share 85%: dominant (85.7%)", "two_accounts.jsonl", two_accounts_sasl, 85, 0, 4,
     "alice@example.test", QUEUE_AUTHENTICATED, 1, QUEUE_STOLEN_ACCOUNT},
    {"long IDs and hold", "long_ids_hold.jsonl", two_accounts_sasl, 0, 0, 5, "alice@example.test",
     QUEUE_AUTHENTICATED, 1, QUEUE_STOLEN_ACCOUNT},
    {"open relay", "open_relay.jsonl", two_accounts_sasl, 0, 0, 3, "promo@spam-sender.test",
     QUEUE_RELAY, 1, QUEUE_OPEN_RELAY},
    {"open relay under the minimum", "open_relay.jsonl", two_accounts_sasl, 0, 25, 3,
     "promo@spam-sender.test", QUEUE_RELAY, 0, QUEUE_VERDICT_NONE},
    {"edge cases: small and mixed", "edge_cases.jsonl", NULL, 0, 0, 4, "b@x.test", QUEUE_RELAY, 0,
     QUEUE_VERDICT_NONE},
};

static void
test_group_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(group_cases) / sizeof(group_cases[0]); i++) {
        const group_case *c = &group_cases[i];
        queue_report r;
        report_of(c->file, c->accounts, c->pct, c->min, &r);
        const queue_origin *g = r.ngroups ? &r.groups[0] : NULL;
        const char *top = g ? (g->account ? g->account : g->sender) : "(none)";
        if (r.ngroups != c->ngroups || strcmp(top, c->top) != 0 || g->kind != c->top_kind ||
            g->dominant != c->top_dominant || r.verdict != c->verdict)
            fail_msg("%s: %zu groups, top %s %s dominant=%d, verdict %s", c->name, r.ngroups, top,
                     g ? queue_kind_name(g->kind) : "-", g ? g->dominant : -1,
                     queue_verdict_name(r.verdict));
        if ((r.verdict != QUEUE_VERDICT_NONE) != (r.culprit == g))
            fail_msg("%s: culprit is not the top group", c->name);
        queue_report_free(&r);
    }
}

typedef struct detail_case {
    const char *name; /* account or sender */
    queue_kind kind;
    int has_account;
    size_t messages, recipients, nids, nsample, nreasons;
    uint64_t bytes;
} detail_case;

/* every group of two_accounts.jsonl, in report order */
static const detail_case two_accounts_groups[] = {
    {"alice@example.test", QUEUE_AUTHENTICATED, 1, 6, 30, 6, 5, 2, 6 * 446},
    {"bob@example.test", QUEUE_AUTHENTICATED, 1, 2, 2, 2, 2, 1, 401 + 429},
    {"spammer@evil.test", QUEUE_RELAY, 0, 1, 2, 1, 2, 1, 395},
    {"MAILER-DAEMON", QUEUE_UNKNOWN, 0, 1, 1, 1, 1, 1, 2324},
};

static void
test_group_details(void **state)
{
    queue_report r;

    (void)state;
    report_of("two_accounts.jsonl", two_accounts_sasl, 0, 0, &r);
    assert_int_equal(r.messages, 10);
    assert_int_equal(r.recipients, 35);
    assert_int_equal(r.ngroups, 4);
    for (size_t i = 0; i < r.ngroups; i++) {
        const detail_case *c = &two_accounts_groups[i];
        const queue_origin *g = &r.groups[i];
        if (strcmp(g->account ? g->account : g->sender, c->name) != 0 || g->kind != c->kind ||
            (g->account != NULL) != c->has_account || g->messages != c->messages ||
            g->recipients != c->recipients || g->nids != c->nids || g->nsample != c->nsample ||
            g->nreasons != c->nreasons || g->bytes != c->bytes || g->oldest != 1795588074)
            fail_msg("group %zu (%s): %s %zu msgs %zu rcpts %zu ids %zu samples %llu bytes", i,
                     c->name, queue_kind_name(g->kind), g->messages, g->recipients, g->nids,
                     g->nsample, (unsigned long long)g->bytes);
    }
    /* IDs sorted; samples in queue order, distinct */
    const queue_origin *a = &r.groups[0];
    for (size_t i = 1; i < a->nids; i++)
        assert_true(strcmp(a->ids[i - 1], a->ids[i]) < 0);
    assert_string_equal(a->ids[0], "22125A744D6");
    /* the first attempt's reason, then qmgr's for the rest of that destination */
    assert_string_equal(a->reasons[0], "connect to 127.0.0.1[127.0.0.1]:3526: Connection refused");
    assert_string_equal(a->reasons[1], "delivery temporarily suspended: connect to "
                                       "127.0.0.1[127.0.0.1]:3526: Connection refused");
    assert_int_equal(a->local_rcpts, 0);
    queue_report_free(&r);
}

static void
test_group_kinds(void **state)
{
    /* local recipient or sender, no domain, bounce: never "relay" */
    static const struct {
        const char *line;
        queue_kind kind;
    } t[] = {
        {"{\"queue_id\":\"ABCDEF1\",\"sender\":\"x@far.test\",\"recipients\":[{\"address\":"
         "\"y@other.test\"}]}",
         QUEUE_RELAY},
        {"{\"queue_id\":\"ABCDEF1\",\"sender\":\"x@far.test\",\"recipients\":[{\"address\":"
         "\"y@other.test\"},{\"address\":\"bob@EXAMPLE.test\"}]}",
         QUEUE_UNKNOWN},
        {"{\"queue_id\":\"ABCDEF1\",\"sender\":\"x@example.test\",\"recipients\":[{\"address\":"
         "\"y@other.test\"}]}",
         QUEUE_UNKNOWN},
        {"{\"queue_id\":\"ABCDEF1\",\"sender\":\"root\",\"recipients\":[{\"address\":"
         "\"y@other.test\"}]}",
         QUEUE_UNKNOWN},
        {"{\"queue_id\":\"ABCDEF1\",\"sender\":\"x@far.test\",\"recipients\":[{\"address\":"
         "\"postmaster\"}]}",
         QUEUE_UNKNOWN},
        {"{\"queue_id\":\"ABCDEF1\",\"sender\":\"MAILER-DAEMON\",\"recipients\":[{\"address\":"
         "\"y@other.test\"}]}",
         QUEUE_UNKNOWN},
        {"{\"queue_id\":\"ABCDEF1\",\"sender\":\"\",\"recipients\":[{\"address\":"
         "\"y@other.test\"}]}",
         QUEUE_UNKNOWN},
        {"{\"queue_id\":\"ABCDEF1\",\"sender\":\"x@\",\"recipients\":[{\"address\":"
         "\"y@other.test\"}]}",
         QUEUE_UNKNOWN},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        queue_list q = QUEUE_LIST_INIT;
        queue_report r;
        assert_int_equal(queue_parse_line(t[i].line, strlen(t[i].line), &q), 1);
        queue_report_init(&r);
        queue_group(&q, NULL, NULL, is_local, &r);
        if (r.ngroups != 1 || r.groups[0].kind != t[i].kind)
            fail_msg("case %zu: kind %s", i, queue_kind_name(r.groups[0].kind));
        queue_report_free(&r);
        queue_list_free(&q);
    }
}

static void
test_group_account_vs_sender(void **state)
{
    /* the same name as an account and as an unauthenticated sender: two groups */
    static const char *lines[] = {
        "{\"queue_id\":\"ABCDEF1\",\"sender\":\"a@far.test\",\"recipients\":[{\"address\":\"x@y\"}]"
        "}",
        "{\"queue_id\":\"ABCDEF2\",\"sender\":\"a@far.test\",\"recipients\":[{\"address\":\"x@y\"}]"
        "}",
        "{\"queue_id\":\"ABCDEF3\",\"sender\":\"other@far.test\",\"recipients\":[]}",
    };
    static const qid_account map[] = {{"ABCDEF2", "a@far.test"}, {"ABCDEF3", ""}, {NULL, NULL}};
    queue_list q = QUEUE_LIST_INIT;
    queue_report r;

    (void)state;
    for (size_t i = 0; i < 3; i++)
        queue_parse_line(lines[i], strlen(lines[i]), &q);
    queue_report_init(&r);
    queue_group(&q, account_of, (void *)map, NULL, &r);
    queue_list_free(&q);
    assert_int_equal(r.ngroups, 3);
    /* same counts: the account comes first */
    assert_string_equal(r.groups[0].account, "a@far.test");
    assert_null(r.groups[1].account);
    assert_string_equal(r.groups[1].sender, "a@far.test");
    assert_int_equal(r.groups[1].kind, QUEUE_RELAY); /* no local domains at all */
    /* an empty account is no account */
    assert_null(r.groups[2].account);
    queue_report_free(&r);
}

static void
test_group_empty(void **state)
{
    queue_list q = QUEUE_LIST_INIT;
    queue_report r;
    hj_buf out = HJ_BUF_INIT;

    (void)state;
    queue_report_init(&r);
    r.dominant_min_rcpts = 0;
    queue_group(&q, NULL, NULL, NULL, &r);
    assert_int_equal(r.ngroups, 0);
    assert_int_equal(r.verdict, QUEUE_VERDICT_NONE);
    queue_report_json(&r, &out);
    assert_string_equal(buf_str(&out),
                        "{\"messages\":0,\"recipients\":0,\"bad_lines\":0,\"groups\":[],"
                        "\"verdict\":\"none\"}");
    buf_reset(&out);
    queue_report_text(&r, &out);
    assert_non_null(strstr(buf_str(&out), "verdict: none"));
    buf_free(&out);
    queue_report_free(&r);
}

/* ---------------------------------------------------------------- output */

static void
test_report_json(void **state)
{
    queue_report r;
    hj_buf out = HJ_BUF_INIT;
    json_error_t jerr;

    (void)state;
    report_of("two_accounts.jsonl", two_accounts_sasl, 0, 0, &r);
    queue_report_json(&r, &out);
    json_t *o = json_loads(buf_str(&out), 0, &jerr);
    if (o == NULL)
        fail_msg("not JSON (%s): %s", jerr.text, buf_str(&out));
    assert_int_equal(json_integer_value(json_object_get(o, "messages")), 10);
    assert_int_equal(json_integer_value(json_object_get(o, "recipients")), 35);
    assert_int_equal(json_integer_value(json_object_get(o, "bad_lines")), 0);
    assert_string_equal(json_string_value(json_object_get(o, "verdict")), "stolen account");
    json_t *gs = json_object_get(o, "groups");
    assert_int_equal(json_array_size(gs), 4);
    json_t *g0 = json_array_get(gs, 0), *g2 = json_array_get(gs, 2);
    assert_string_equal(json_string_value(json_object_get(g0, "account")), "alice@example.test");
    assert_string_equal(json_string_value(json_object_get(g0, "sender")), "alice@example.test");
    assert_string_equal(json_string_value(json_object_get(g0, "kind")), "authenticated");
    assert_int_equal(json_integer_value(json_object_get(g0, "messages")), 6);
    assert_int_equal(json_integer_value(json_object_get(g0, "recipients")), 30);
    assert_int_equal(json_integer_value(json_object_get(g0, "bytes")), 2676);
    assert_string_equal(json_string_value(json_object_get(g0, "oldest")),
                        "2026-11-25T06:27:54+00:00");
    assert_true(json_is_true(json_object_get(g0, "dominant")));
    assert_int_equal(json_array_size(json_object_get(g0, "queue_ids")), 6);
    assert_int_equal(json_array_size(json_object_get(g0, "sample_recipients")), 5);
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(g0, "sample_recipients"), 0)),
        "v41@target1.test");
    assert_true(json_is_null(json_object_get(g2, "account")));
    assert_string_equal(json_string_value(json_object_get(g2, "kind")), "relay");
    assert_true(json_is_false(json_object_get(g2, "dominant")));
    json_decref(o);
    buf_free(&out);
    queue_report_free(&r);
}

static void
test_report_json_escaping(void **state)
{
    queue_report r;
    hj_buf out = HJ_BUF_INIT;
    json_error_t jerr;

    (void)state;
    report_of("edge_cases.jsonl", NULL, 0, 0, &r);
    queue_report_json(&r, &out);
    json_t *o = json_loads(buf_str(&out), 0, &jerr);
    if (o == NULL)
        fail_msg("not JSON (%s): %s", jerr.text, buf_str(&out));
    assert_int_equal(json_integer_value(json_object_get(o, "bad_lines")), 13);
    const queue_origin *g = find_group(&r, "evil\x1b[31m\"x@bad.test");
    assert_non_null(g);
    int found = 0;
    json_t *gs = json_object_get(o, "groups");
    for (size_t i = 0; i < json_array_size(gs); i++) {
        const char *s = json_string_value(json_object_get(json_array_get(gs, i), "sender"));
        found += strcmp(s, g->sender) == 0;
        /* no arrival time: oldest is null */
        if (strcmp(s, "a@x.test") == 0)
            assert_true(json_is_null(json_object_get(json_array_get(gs, i), "oldest")));
    }
    assert_int_equal(found, 1);
    json_decref(o);
    buf_free(&out);
    queue_report_free(&r);
}

static void
test_report_text(void **state)
{
    static const struct {
        const char *file;
        const char *want[6];
    } t[] = {
        {"two_accounts.jsonl",
         {"queue: 10 messages, 35 recipients\n",
          "ACCOUNT/SENDER       KIND             MSGS   RCPTS  OLDEST",
          "alice@example.test   authenticated       6      30  2026-11-25T06:27:54+00:00  <- "
          "dominant",
          "<spammer@evil.test>  relay               1       2",
          "dominant: alice@example.test holds 30 of 35 queued recipients (85%) in 6 messages",
          "verdict: stolen account (alice@example.test: 30 of 35 queued recipients)\n"}},
        {"open_relay.jsonl",
         {"<promo@spam-sender.test>", "  recipients: buyer", ", ...\n",
          "  delay reason: connect to 127.0.0.1[127.0.0.1]:3526: Connection refused\n",
          "verdict: open relay (<promo@spam-sender.test>: 24 of 26 queued recipients)", NULL}},
        {"edge_cases.jsonl",
         {"(13 lines not understood)", "<evil?[31m\"x@bad.test>", "<MAILER-DAEMON>",
          "verdict: none (no group holds more than 50% of the 4 queued recipients and at least 20)",
          NULL, NULL}},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        queue_report r;
        hj_buf out = HJ_BUF_INIT;
        report_of(t[i].file, two_accounts_sasl, 0, 0, &r);
        queue_report_text(&r, &out);
        for (size_t k = 0; k < 6 && t[i].want[k]; k++)
            if (strstr(buf_str(&out), t[i].want[k]) == NULL)
                fail_msg("%s: no \"%s\" in:\n%s", t[i].file, t[i].want[k], buf_str(&out));
        if (strchr(buf_str(&out), '\x1b'))
            fail_msg("%s: an escape byte reached the text report", t[i].file);
        buf_free(&out);
        queue_report_free(&r);
    }
}

static void
test_report_text_unknown_dominant(void **state)
{
    queue_report r;
    hj_buf out = HJ_BUF_INIT;

    (void)state;
    report_of("two_accounts.jsonl", NULL, 0, 0, &r);
    queue_report_text(&r, &out);
    assert_non_null(strstr(buf_str(&out), "verdict: none (the dominant group "
                                          "<alice@example.test> is neither authenticated nor "
                                          "relayed mail)"));
    buf_free(&out);
    queue_report_free(&r);
}

/* ---------------------------------------------------------------- purge: what is the account's */

/* what hijackd's queue-ID map says of one queue ID */
typedef struct qid_owner {
    const char *qid, *account, *policy_sender; /* policy_sender NULL: the log said it */
} qid_owner;

/* e2e_like_owner - a qid_account table as the log would fill the map: no policy sender */
static void
e2e_like_owner(void *ctx, const char *qid, queue_owner *o)
{
    o->account = account_of(ctx, qid);
}

static void
owner_of(void *ctx, const char *qid, queue_owner *o)
{
    for (const qid_owner *m = ctx; m && m->qid; m++)
        if (strcmp(m->qid, qid) == 0) {
            o->account = m->account;
            o->policy_sender = m->policy_sender;
        }
}

/* purged - the queue IDs a purge of account would delete, sorted, space-separated (static) */
static const char *
purged(const char *const *lines, const char *account, const qid_owner *map, unsigned flags)
{
    static char out[1024];
    queue_list q = QUEUE_LIST_INIT;
    queue_picks p;

    for (size_t i = 0; lines[i]; i++)
        queue_parse_line(lines[i], strlen(lines[i]), &q);
    queue_match(&q, account, owner_of, (void *)map, flags, &p);
    out[0] = 0;
    for (size_t i = 0; i < p.nids; i++)
        snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s", i ? " " : "", p.ids[i]);
    queue_picks_free(&p);
    queue_list_free(&q);
    return out;
}

#define QMSG(id, sender)                                                                           \
    "{\"queue_id\":\"" id "\",\"sender\":\"" sender                                                \
    "\",\"recipients\":[{\"address\":\"x@far.test\"}]}"

/* issue 13: a forged log line ("logger -t postfix/smtpd ...", any local user) maps the victim's
 * queued message to mallory's account; a purge of mallory (lock_purge_queue, hijackctl queue
 * purge) must not delete it */
static void
test_purge_forged_log(void **state)
{
    static const char *const lines[] = {
        QMSG("4B1C31002A3", "victim@example.test"),  /* the victim's own mail */
        QMSG("4B1C31002A4", "mallory@example.test"), /* mallory's */
        NULL,
    };
    static const qid_owner map[] = {
        {"4B1C31002A3", "mallory@example.test", NULL}, /* forged: the log's word only */
        {"4B1C31002A4", "mallory@example.test", "mallory@example.test"},
        {NULL, NULL, NULL},
    };

    (void)state;
    CHECK_STR("purge of mallory", purged(lines, "mallory@example.test", map, 0), "4B1C31002A4");
    CHECK_STR("purge of mallory --by-sender",
              purged(lines, "mallory@example.test", map, QUEUE_BY_SENDER), "4B1C31002A4");
}

/* a release (QUEUE_HELD) matches only the account's messages in the hold queue; a purge
 * matches them in every queue, the hold queue too */
static void
test_match_held(void **state)
{
    static const char *const lines[] = {
        "{\"queue_name\":\"hold\",\"queue_id\":\"4B1C31002A1\",\"sender\":\"alice@example.test\","
        "\"recipients\":[{\"address\":\"x@far.test\"}]}",
        "{\"queue_name\":\"deferred\",\"queue_id\":\"4B1C31002A2\",\"sender\":"
        "\"alice@example.test\",\"recipients\":[{\"address\":\"x@far.test\"}]}",
        "{\"queue_name\":\"hold\",\"queue_id\":\"4B1C31002A3\",\"sender\":\"bob@example.test\","
        "\"recipients\":[{\"address\":\"x@far.test\"}]}",
        "{\"queue_name\":\"hold\",\"queue_id\":\"4B1C31002A4\",\"sender\":\"alice@example.test\","
        "\"recipients\":[{\"address\":\"x@far.test\"}]}",
        NULL,
    };
    static const qid_owner map[] = {
        {"4B1C31002A1", "alice@example.test", "alice@example.test"},
        {"4B1C31002A2", "alice@example.test", "alice@example.test"},
        {"4B1C31002A3", "bob@example.test", "bob@example.test"},
        /* 4B1C31002A4: not mapped (sender-only) */
        {NULL, NULL, NULL},
    };

    (void)state;
    CHECK_STR("release of alice", purged(lines, "alice@example.test", map, QUEUE_HELD),
              "4B1C31002A1");
    CHECK_STR("release of alice --by-sender",
              purged(lines, "alice@example.test", map, QUEUE_HELD | QUEUE_BY_SENDER),
              "4B1C31002A1 4B1C31002A4");
    CHECK_STR("purge of alice: held and deferred", purged(lines, "alice@example.test", map, 0),
              "4B1C31002A1 4B1C31002A2");
    CHECK_STR("release of bob", purged(lines, "bob@example.test", map, QUEUE_HELD), "4B1C31002A3");
}

/* the rules, one message each (A0..B0), as account alice, bob or carol sees them */
static const char *const rule_lines[] = {
    QMSG("4B1C31002A1", "alice@example.test"),
    QMSG("4B1C31002A2", "alias@example.test"),
    QMSG("4B1C31002A3", "victim@example.test"),
    QMSG("4B1C31002A4", "alice@EXAMPLE.test"),
    QMSG("4B1C31002A5", "alice@example.test"),
    QMSG("4B1C31002A6", "alice@example.test"),
    QMSG("4B1C31002A7", "bob@example.test"),
    QMSG("4B1C31002A8", "Alice@example.test"),
    QMSG("4B1C31002A9", "alias@example.test"),
    QMSG("4B1C31002B0", "MAILER-DAEMON"),
    NULL,
};
static const qid_owner rule_map[] = {
    {"4B1C31002A1", "alice@example.test", NULL},                 /* the log's word */
    {"4B1C31002A2", "alice@example.test", "alias@example.test"}, /* her request's sender */
    {"4B1C31002A3", "alice@example.test", NULL},                 /* a forged log line */
    {"4B1C31002A4", "alice@example.test", NULL},                 /* the domain in capitals */
    {"4B1C31002A5", "bob@example.test", "alice@example.test"},   /* bob sent as alice */
    /* 4B1C31002A6: not mapped */
    {"4B1C31002A7", "bob@example.test", "bob@example.test"},
    {"4B1C31002A8", "alice@example.test", NULL}, /* the local part differs */
    {"4B1C31002A9", "alice@example.test", NULL}, /* alias, but only the log says she sent it */
    {"4B1C31002B0", "alice@example.test", ""},   /* the null sender: shown as MAILER-DAEMON */
    {NULL, NULL, NULL},
};

/* rules_of - "ID=rule+" (deleted) or "ID=rule-" (kept) for each message matched, '|' between */
static const char *
rules_of(const char *account, unsigned flags, char *kept, size_t keptlen)
{
    static char out[2048];
    queue_list q = QUEUE_LIST_INIT;
    queue_picks p;
    hj_buf k = HJ_BUF_INIT;

    for (size_t i = 0; rule_lines[i]; i++)
        queue_parse_line(rule_lines[i], strlen(rule_lines[i]), &q);
    queue_match(&q, account, owner_of, (void *)rule_map, flags, &p);
    out[0] = 0;
    for (size_t i = 0; i < p.n; i++)
        snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s=%s%c", i ? "|" : "",
                 p.v[i].queue_id + 9, queue_rule_name(p.v[i].rule), p.v[i].del ? '+' : '-');
    queue_picks_kept(&p, &k);
    snprintf(kept, keptlen, "%s", buf_str(&k));
    buf_free(&k);
    queue_picks_free(&p);
    queue_list_free(&q);
    return out;
}

static void
test_match_rules(void **state)
{
    static const struct {
        const char *name, *account;
        unsigned flags;
        const char *purged, *rules, *kept;
    } t[] = {
        {"alice, strict rules (the automatic purge)", "alice@example.test", 0,
         "4B1C31002A1 4B1C31002A2 4B1C31002A4",
         "A1=account+sender+|A2=account+policy-sender+|A3=mapped, sender differs-|"
         "A4=account+sender+|A5=sender-only-|A6=sender-only-|A8=mapped, sender differs-|"
         "A9=mapped, sender differs-|B0=mapped, sender differs-",
         "2 kept: sender-only; 4 kept: mapped, sender differs"},
        {"alice --by-sender: sender-only too, never a differing sender", "alice@example.test",
         QUEUE_BY_SENDER, "4B1C31002A1 4B1C31002A2 4B1C31002A4 4B1C31002A5 4B1C31002A6",
         "A1=account+sender+|A2=account+policy-sender+|A3=mapped, sender differs-|"
         "A4=account+sender+|A5=sender-only+|A6=sender-only+|A8=mapped, sender differs-|"
         "A9=mapped, sender differs-|B0=mapped, sender differs-",
         "4 kept: mapped, sender differs"},
        {"bob: his request's sender was alice's", "bob@example.test", 0, "4B1C31002A5 4B1C31002A7",
         "A5=account+policy-sender+|A7=account+sender+", ""},
        {"the victim's account: only the sender says so", "victim@example.test", 0, "",
         "A3=sender-only-", "1 kept: sender-only"},
        {"the victim --by-sender", "victim@example.test", QUEUE_BY_SENDER, "4B1C31002A3",
         "A3=sender-only+", ""},
        {"the null sender by name, --by-sender", "MAILER-DAEMON", QUEUE_BY_SENDER, "4B1C31002B0",
         "B0=sender-only+", ""},
        {"an account nobody has", "carol@example.test", QUEUE_BY_SENDER, "", "", ""},
        {"the local part in another case is another address", "ALICE@example.test", QUEUE_BY_SENDER,
         "", "", ""},
        {"the domain in another case is the same address", "alice@Example.Test", QUEUE_BY_SENDER,
         "4B1C31002A1 4B1C31002A4 4B1C31002A5 4B1C31002A6",
         "A1=sender-only+|A4=sender-only+|A5=sender-only+|A6=sender-only+", ""},
        {"no account", "", QUEUE_BY_SENDER, "", "", ""},
    };
    char kept[256];

    (void)state;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        CHECK_STR(t[i].name, purged(rule_lines, t[i].account, rule_map, t[i].flags), t[i].purged);
        CHECK_STR(t[i].name, rules_of(t[i].account, t[i].flags, kept, sizeof(kept)), t[i].rules);
        CHECK_STR(t[i].name, kept, t[i].kept);
    }
}

/* test_match_fixture - queue_match over a real sample with the maillog's (log-only) accounts */
static void
test_match_fixture(void **state)
{
    static const struct {
        const char *name;
        unsigned flags;
        size_t n, rcpts;
        const char *first;
    } t[] = {
        {"alice@example.test", 0, 6, 30, "22125A744D6"},
        {"bob@example.test", 0, 2, 2, "545E5A744EA"},
        {"spammer@evil.test", 0, 0, 0, NULL}, /* relayed: no account, needs --by-sender */
        {"spammer@evil.test", QUEUE_BY_SENDER, 1, 2, "6500EA744F1"},
        {"MAILER-DAEMON", QUEUE_BY_SENDER, 1, 1, "6F449A744FB"},
        {"ALICE@example.test", QUEUE_BY_SENDER, 0, 0, NULL},
        {"nobody@example.test", QUEUE_BY_SENDER, 0, 0, NULL},
        {"", QUEUE_BY_SENDER, 0, 0, NULL},
    };
    queue_list q;
    FILE *f = fopen(fixture("two_accounts.jsonl"), "r");
    char line[8192];

    (void)state;
    assert_non_null(f);
    memset(&q, 0, sizeof(q));
    while (fgets(line, sizeof(line), f))
        queue_parse_line(line, strlen(line), &q);
    fclose(f);
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        queue_picks p;
        queue_match(&q, t[i].name, e2e_like_owner, (void *)two_accounts_sasl, t[i].flags, &p);
        CHECK_EQ(t[i].name, p.nids, t[i].n);
        CHECK_EQ(t[i].name, p.rcpts, t[i].rcpts);
        if (t[i].first)
            CHECK_STR(t[i].name, p.ids[0], t[i].first);
        queue_picks_free(&p);
    }
    queue_list_free(&q);
}

/* ---------------------------------------------------------------- e2e driver */

typedef struct e2e_ctx {
    qid_account *map;
    char **local;
    size_t nlocal;
} e2e_ctx;

static const char *
e2e_account_of(void *ctx, const char *qid)
{
    return account_of(((e2e_ctx *)ctx)->map, qid);
}

static void
e2e_owner_of(void *ctx, const char *qid, queue_owner *o)
{
    o->account = account_of(((e2e_ctx *)ctx)->map, qid);
}

static int
e2e_is_local(void *ctx, const char *domain)
{
    e2e_ctx *e = ctx;

    for (size_t i = 0; i < e->nlocal; i++)
        if (strcasecmp(e->local[i], domain) == 0)
            return 1;
    return 0;
}

/* split - a comma-separated list into its items (the string is modified) */
static size_t
split(char *s, char ***items)
{
    size_t n = 0;

    *items = calloc(strlen(s) / 2 + 2, sizeof(char *));
    for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ","))
        (*items)[n++] = tok;
    return n;
}

/* e2e_map - HJ_QUEUE_ACCOUNTS="QID=account,..." as a table */
static qid_account *
e2e_map(char *spec)
{
    char **items;
    size_t n = split(spec, &items), k = 0;
    qid_account *map = calloc(n + 1, sizeof(qid_account));

    for (size_t i = 0; i < n; i++) {
        char *eq = strchr(items[i], '=');
        if (eq == NULL)
            continue;
        *eq = 0;
        map[k++] = (qid_account){items[i], eq + 1};
    }
    free(items);
    return map;
}

static int
e2e_main(int argc, char **argv)
{
    char err[1024];
    queue_list q;
    queue_report r;
    queue_picks p;
    hj_buf out = HJ_BUF_INIT;

    if (argc != 6) {
        fprintf(stderr, "usage: test_queue --e2e POSTQUEUE POSTSUPER CONFIG_DIR ACCOUNT\n");
        return 2;
    }
    char *accounts = strdup(getenv("HJ_QUEUE_ACCOUNTS") ? getenv("HJ_QUEUE_ACCOUNTS") : "");
    char *locals = strdup(getenv("HJ_QUEUE_LOCAL_DOMAINS") ? getenv("HJ_QUEUE_LOCAL_DOMAINS")
                                                           : "example.test");
    e2e_ctx ctx = {e2e_map(accounts), NULL, 0};
    ctx.nlocal = split(locals, &ctx.local);
    if (queue_read(argv[2], argv[4], 30, &q, err, sizeof(err)) < 0) {
        fprintf(stderr, "test_queue: %s\n", err);
        return 1;
    }
    queue_report_init(&r);
    queue_group(&q, e2e_account_of, &ctx, e2e_is_local, &r);
    queue_match(&q, argv[5], e2e_owner_of, &ctx, 0, &p); /* the log's map: account+sender only */
    queue_list_free(&q);
    queue_report_json(&r, &out);
    printf("%s\n", buf_str(&out));
    buf_reset(&out);
    queue_report_text(&r, &out);
    fprintf(stderr, "%s", buf_str(&out));
    int rc = 0;
    if (p.nids == 0) {
        fprintf(stderr, "test_queue: %s has no queued mail\n", argv[5]);
        rc = 1;
    } else if (queue_purge(argv[3], argv[4], 30, p.ids, p.nids, err, sizeof(err)) < 0) {
        fprintf(stderr, "test_queue: %s\n", err);
        rc = 1;
    } else {
        fprintf(stderr, "test_queue: purged %zu messages of %s\n", p.nids, argv[5]);
    }
    buf_free(&out);
    queue_picks_free(&p);
    queue_report_free(&r);
    free(ctx.map), free(ctx.local), free(accounts), free(locals);
    return rc;
}

int
main(int argc, char **argv)
{
    static const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_cases),
        cmocka_unit_test(test_parse_real_line_fields),
        cmocka_unit_test(test_parse_files),
        cmocka_unit_test(test_parse_edge_fields),
        cmocka_unit_test(test_queue_id_ok),
        cmocka_unit_test(test_group_cases),
        cmocka_unit_test(test_group_details),
        cmocka_unit_test(test_group_kinds),
        cmocka_unit_test(test_group_account_vs_sender),
        cmocka_unit_test(test_group_empty),
        cmocka_unit_test(test_report_json),
        cmocka_unit_test(test_report_json_escaping),
        cmocka_unit_test(test_report_text),
        cmocka_unit_test(test_report_text_unknown_dominant),
        cmocka_unit_test(test_match_rules),
        cmocka_unit_test(test_match_fixture),
        cmocka_unit_test(test_purge_forged_log),
        cmocka_unit_test(test_match_held),
    };

    if (argc > 1 && strcmp(argv[1], "--e2e") == 0)
        return e2e_main(argc, argv);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
