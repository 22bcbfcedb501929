/*
 * test_footprint - what an account costs the engine in memory, with the account rules of the
 * built-in configuration (issue 13: 100,000 active accounts with learned profiles in 256 MB)
 */
#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "check.h"
#include "engine_fixture.h"

#include "../../src/conf/conf.h"

static size_t
heap_used(void)
{
    struct mallinfo2 mi = mallinfo2();

    return mi.uordblks + mi.hblkhd;
}

/* 20,000 accounts that each sent 5 messages and had them delivered: at most 2,950 bytes of
 * heap each (profile, counters, entity, sizes, window slots, hash node: 2,844 on 2026-12-04;
 * 2,908 with the two windows of the spam rules, 32 bytes each; 3,036 when every counter had
 * the room of the largest kind) */
static void
test_account_bytes(void **state)
{
    char a[48], err[512];
    hj_conf *c = conf_load(NULL, NULL, 0, err, sizeof(err)); /* the built-in rules */
    fx *f = calloc(1, sizeof(*f));

    (void)state;
    assert_non_null(c);
    assert_non_null(f);
    f->e = engine_new(c->pol, on_decision, f);
    size_t before = heap_used();
    for (int m = 0; m < 5; m++)
        for (int i = 0; i < 20000; i++) {
            snprintf(a, sizeof(a), "user%05d@example.test", i);
            ev_submit(f, T0 + m * 60 + i % 60, a, "192.0.2.10", 1 + i % 5);
            ev_delivery(f, T0 + m * 60 + i % 60, a, "192.0.2.10", HJ_DLV_SENT);
        }
    size_t per = (heap_used() - before) / 20000;
    CHECK_EQ("accounts followed", engine_entities(f->e, HJ_S_ACCOUNT), 20000);
    print_message("an account: %zu bytes of heap\n", per);
    if (per > 2950)
        fail_msg("an account costs %zu bytes of heap, want at most 2,950", per);
    engine_free(f->e);
    free(f);
    conf_free(c);
}

int
main(void)
{
    static const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_account_bytes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
