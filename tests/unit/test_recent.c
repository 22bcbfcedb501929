/*
 * test_recent - an account's recent recipients and queue IDs (recent.h): what an incident
 * shows, and that the memory is bounded whatever the number of accounts
 */
#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "check.h"

#include "../../src/notify/recent.h"

/* joined - the account's recipients (or queue IDs) as one comma-separated string */
static const char *
joined(const recent *r, const char *account, int qids)
{
    static char out[4096];
    const char *v[RECENT_QIDS];
    size_t n =
        qids ? recent_qids(r, account, v, RECENT_QIDS) : recent_rcpts(r, account, v, RECENT_RCPTS);

    out[0] = 0;
    for (size_t i = 0; i < n; i++)
        snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s", i ? "," : "", v[i]);
    return out;
}

static const struct {
    const char *name;
    const char *steps[8][3]; /* account, recipient, queue ID; ends at a NULL account */
    const char *account, *rcpts, *qids;
} rows[] = {
    {"one message, a request per recipient, then its END-OF-MESSAGE",
     {{"a", "v1@x", "Q1"}, {"a", "v2@x", "Q1"}, {"a", "v3@x", "Q1"}, {"a", "", "Q1"}},
     "a",
     "v1@x,v2@x,v3@x",
     "Q1"},
    {"the END-OF-MESSAGE repeats the RCPT: noted once",
     {{"a", "v1@x", "Q1"}, {"a", "v1@x", "Q1"}},
     "a",
     "v1@x",
     "Q1"},
    {"a recipient again after another is noted again",
     {{"a", "v1@x", "Q1"}, {"a", "v2@x", "Q2"}, {"a", "v1@x", "Q3"}},
     "a",
     "v1@x,v2@x,v1@x",
     "Q1,Q2,Q3"},
    {"a message with no recipient between two to the same one",
     {{"a", "v1@x", "Q1"}, {"a", "", "Q2"}, {"a", "v1@x", "Q3"}},
     "a",
     "v1@x",
     "Q1,Q2,Q3"},
    {"no queue ID (RCPT before MAIL's ID is known)",
     {{"a", "v1@x", ""}, {"a", "v2@x", NULL}},
     "a",
     "v1@x,v2@x",
     ""},
    {"two accounts interleaved",
     {{"a", "v1@x", "Q1"}, {"b", "w1@x", "R1"}, {"a", "v2@x", "Q2"}, {"b", "w2@x", "R1"}},
     "b",
     "w1@x,w2@x",
     "R1"},
    {"nothing to note", {{"a", "", ""}, {"a", NULL, NULL}}, "a", "", ""},
    {"an account never seen", {{"a", "v1@x", "Q1"}}, "ab", "", ""},
};

/* each row's requests, then what the account shows */
static void
test_rows(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        recent *r = recent_new();
        for (size_t k = 0; k < 8 && rows[i].steps[k][0]; k++)
            recent_add(r, rows[i].steps[k][0], rows[i].steps[k][1], rows[i].steps[k][2]);
        CHECK_STR(rows[i].name, joined(r, rows[i].account, 0), rows[i].rcpts);
        CHECK_STR(rows[i].name, joined(r, rows[i].account, 1), rows[i].qids);
        recent_free(r);
    }
}

/* the last RECENT_RCPTS recipients and RECENT_QIDS queue IDs, oldest first; fewer when asked */
static void
test_caps(void **state)
{
    recent *r = recent_new();
    char rc[32], q[32], want[1024] = "";
    const char *v[4];

    (void)state;
    for (int i = 0; i < 50; i++) {
        snprintf(rc, sizeof(rc), "v%d@x", i), snprintf(q, sizeof(q), "Q%d", i);
        recent_add(r, "a", rc, q);
    }
    for (int i = 50 - RECENT_RCPTS; i < 50; i++)
        snprintf(want + strlen(want), sizeof(want) - strlen(want), "%sv%d@x", *want ? "," : "", i);
    CHECK_STR("the last 10 recipients", joined(r, "a", 0), want);
    *want = 0;
    for (int i = 50 - RECENT_QIDS; i < 50; i++)
        snprintf(want + strlen(want), sizeof(want) - strlen(want), "%sQ%d", *want ? "," : "", i);
    CHECK_STR("the last 32 queue IDs", joined(r, "a", 1), want);
    CHECK_EQ("at most max", recent_qids(r, "a", v, 4), 4);
    CHECK_STR("at most max: the newest", v[3], "Q49");
    CHECK_STR("at most max: oldest first", v[0], "Q46");
    recent_free(r);
}

/* values over the bounds: the request is not noted, nothing else is lost */
static void
test_bounds(void **state)
{
    recent *r = recent_new();
    char big[RECENT_RCPT_LEN + 2];

    (void)state;
    memset(big, 'x', sizeof(big) - 1), big[sizeof(big) - 1] = 0;
    recent_add(r, "a", "v1@x", "Q1");
    recent_add(r, "a", big, "Q2");
    big[RECENT_QID_LEN + 1] = 0;
    recent_add(r, "a", "v2@x", big);
    CHECK_STR("over the bounds: recipients", joined(r, "a", 0), "v1@x");
    CHECK_STR("over the bounds: queue IDs", joined(r, "a", 1), "Q1");
    big[RECENT_QID_LEN] = 0;
    recent_add(r, "a", "v2@x", big);
    CHECK_EQ("a queue ID of the bound is noted", strlen(joined(r, "a", 1)), 3 + RECENT_QID_LEN);
    recent_free(r);
}

static size_t
heap_used(void)
{
    struct mallinfo2 mi = mallinfo2();

    return mi.uordblks + mi.hblkhd;
}

/* 100,000 accounts sending 30 messages each, in turns (the scale bench's load): the memory
 * stays under 16 MiB (it was a ring per account, up to ~1.7 KB each, for 50,000 of them) */
static void
test_memory_bounded(void **state)
{
    size_t before = heap_used(), peak = 0;
    recent *r = recent_new();
    char a[32], rc[64], q[32];

    (void)state;
    for (int k = 0; k < 30; k++) {
        for (int i = 0; i < 100000; i++) {
            snprintf(a, sizeof(a), "user%06d@example.test", i);
            snprintf(rc, sizeof(rc), "friend%d-%d@remote.example", i, k);
            snprintf(q, sizeof(q), "4B%05X%04X", i, k);
            recent_add(r, a, rc, q);
        }
        size_t now = heap_used() - before;
        peak = now > peak ? now : peak;
    }
    if (peak > 16u << 20)
        fail_msg("100,000 accounts x 30 messages: %zu bytes (%.1f MiB), want at most 16 MiB", peak,
                 (double)peak / (1 << 20));
    const char *v[RECENT_RCPTS];
    size_t n = recent_rcpts(r, "user099999@example.test", v, RECENT_RCPTS);
    CHECK_EQ("the latest account is shown", n > 0, 1);
    CHECK_STR("the latest request is shown", v[n - 1], "friend99999-29@remote.example");
    recent_free(r);
}

/* a busy account's history outlives a flood of 60,000 other names after it (it was dropped
 * with every other account's when 50,000 accounts had been seen) */
static void
test_busy_account_kept(void **state)
{
    recent *r = recent_new();
    char a[32], rc[64], q[32];

    (void)state;
    for (int i = 0; i < 40; i++) {
        snprintf(rc, sizeof(rc), "victim%d@remote.example", i), snprintf(q, sizeof(q), "4C%08X", i);
        recent_add(r, "mallory@example.test", rc, q);
    }
    for (int i = 0; i < 60000; i++) {
        snprintf(a, sizeof(a), "spray%06d@example.test", i);
        recent_add(r, a, "someone@remote.example", "4D00000001");
    }
    const char *v[RECENT_QIDS];
    CHECK_EQ("mallory's recipients after the flood",
             recent_rcpts(r, "mallory@example.test", v, RECENT_RCPTS), RECENT_RCPTS);
    CHECK_EQ("mallory's queue IDs after the flood",
             recent_qids(r, "mallory@example.test", v, RECENT_QIDS), RECENT_QIDS);
    CHECK_STR("mallory's newest queue ID", v[RECENT_QIDS - 1], "4C00000027");
    recent_free(r);
}

int
main(void)
{
    static const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows),
        cmocka_unit_test(test_caps),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_memory_bounded),
        cmocka_unit_test(test_busy_account_kept),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
