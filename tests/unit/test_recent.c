/*
 * test_recent - an account's recent recipients and queue IDs (recent.h): what an incident
 * shows
 */
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

int
main(void)
{
    static const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows),
        cmocka_unit_test(test_caps),
        cmocka_unit_test(test_bounds),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
