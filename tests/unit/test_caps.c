/*
 * test_caps - the engine's bounded state: the caps on accounts and client addresses, the
 * sampled eviction at a cap, and the forgetting of idle accounts (issue "Hold against the
 * hostile internet", finding 1: a spray from a million addresses, a table of invented names)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "check.h"
#include "engine_fixture.h"

typedef struct keys {
    int gone_accounts, gone_ips, live_accounts;
} keys;

static void
on_key(void *ctx, const char *key, int gone)
{
    keys *k = ctx;

    if (gone && strncmp(key, "a:", 2) == 0)
        k->gone_accounts++;
    else if (gone && strncmp(key, "i:", 2) == 0)
        k->gone_ips++;
    else if (strncmp(key, "a:", 2) == 0)
        k->live_accounts++;
}

static void
spray_ip(char *out, size_t len, int i)
{
    snprintf(out, len, "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
}

/* a spray from ever-new addresses stays within client_entities_max, and an address that keeps
 * failing among them is still followed and locked by its scope=ip rule */
static void
test_client_cap(void **state)
{
    fx *f = fx_new("rule ipfl metric=failed_logins window=1d limit=30 action=lock scope=ip\n");
    char ip[32];
    keys k = {0};

    (void)state;
    f->p->clients_max = 100;
    for (int i = 0; i < 5000; i++) {
        if (i >= 2500) /* from here on the store holds what the engine follows */
            engine_changed(f->e, on_key, &k, 0);
        spray_ip(ip, sizeof(ip), i);
        ev_simple(f, HJ_EV_LOGIN_FAIL, T0 + i * 10, "", ip);
        if (i % 5 == 0) /* one address keeps trying, every 50 s */
            ev_simple(f, HJ_EV_LOGIN_FAIL, T0 + i * 10, "", "198.51.100.7");
    }
    const hj_engine_stats *st = engine_stats(f->e);
    CHECK_EQ("client addresses followed, at most the cap", engine_entities(f->e, HJ_S_IP), 100);
    CHECK_EQ("dropped at the cap", st->evicted[HJ_S_IP], 5001 - 100);
    CHECK_EQ("none refused: idle ones could go", st->refused[HJ_S_IP], 0);
    CHECK_EQ("the address that keeps failing was locked", f->n, 1);
    CHECK_STR("... as itself", f->d[0].entity, "198.51.100.7");
    engine_changed(f->e, on_key, &k, 0);
    CHECK_EQ("what was stored and dropped is forgotten by the store; what never was, is not "
             "remembered to be forgotten", k.gone_ips, 2500);
    fx_free(f);
}

/* locked and recently seen addresses are never dropped: at a cap of only those the new one is
 * not followed (counted), and its event still counts for its account */
static void
test_client_cap_refuses(void **state)
{
    fx *f = fx_new("rule ipfl metric=failed_logins window=1h limit=1 action=lock scope=ip\n"
                   "rule afl metric=failed_logins window=1h limit=1000 action=warn\n");
    char ip[32];

    (void)state;
    f->p->clients_max = 20;
    for (int i = 0; i < 20; i++) { /* 20 addresses, each locked by its second failure */
        spray_ip(ip, sizeof(ip), i);
        ev_simple(f, HJ_EV_LOGIN_FAIL, T0 + i, "", ip);
        ev_simple(f, HJ_EV_LOGIN_FAIL, T0 + i, "", ip);
    }
    CHECK_EQ("20 locks", f->n, 20);
    ev_simple(f, HJ_EV_LOGIN, T0 + 100, "alice@example.com", "192.0.2.1");
    ev_simple(f, HJ_EV_LOGIN_FAIL, T0 + 200, "alice@example.com", "192.0.2.2");
    const hj_engine_stats *st = engine_stats(f->e);
    CHECK_EQ("client addresses: only the locked ones", engine_entities(f->e, HJ_S_IP), 20);
    CHECK_EQ("nothing dropped", st->evicted[HJ_S_IP], 0);
    CHECK_EQ("the new address not followed (a login counts for no scope=ip rule)",
             st->refused[HJ_S_IP], 1);
    hj_account_info info;
    CHECK_EQ("the account is followed", engine_account(f->e, "alice@example.com", T0 + 200, &info), 0);
    CHECK_EQ("... and its failed login counted", info.tot.failed_logins, 1);
    fx_free(f);
}

/* accounts beyond accounts_max: the least recently seen unlocked one goes, with its stored
 * counters; a locked account stays whatever comes after it */
static void
test_account_cap(void **state)
{
    fx *f = fx_new("rule m metric=messages window=1h limit=100 action=lock\n");
    char name[64];
    keys k = {0};

    (void)state;
    f->p->accounts_max = 50;
    ev_submit(f, T0, "victim@example.com", "192.0.2.1", 1);
    CHECK_EQ("an admin's lock", engine_lock(f->e, "victim@example.com", T0, 0, 0, "test", false), 0);
    for (int i = 0; i < 500; i++) {
        snprintf(name, sizeof(name), "user%d@example.com", i);
        ev_submit(f, T0 + 60 + i * 60, name, "192.0.2.1", 1);
        engine_changed(f->e, on_key, &k, 0); /* the store holds each */
    }
    const hj_engine_stats *st = engine_stats(f->e);
    CHECK_EQ("accounts followed, at most the cap", engine_entities(f->e, HJ_S_ACCOUNT), 50);
    CHECK_EQ("dropped at the cap", st->evicted[HJ_S_ACCOUNT], 501 - 50);
    CHECK_EQ("the locked account stays", engine_state(f->e, "victim@example.com", T0 + 40000, NULL),
             HJ_ST_LOCKED);
    hj_account_info info;
    CHECK_EQ("the newest account stays", engine_account(f->e, "user499@example.com", T0 + 40000, &info), 0);
    CHECK_EQ("an old one is gone", engine_account(f->e, "user0@example.com", T0 + 40000, &info), -1);
    engine_changed(f->e, on_key, &k, 0);
    CHECK_EQ("the store forgets what was dropped", k.gone_accounts, 501 - 50);
    fx_free(f);
}

/* at the cap, accounts seen within the last minute are never dropped (one may be in use by the
 * caller): a new account is then followed above the cap, counted as refused */
static void
test_account_cap_recent(void **state)
{
    fx *f = fx_new("rule m metric=messages window=1h limit=100 action=lock\n");
    char name[64];

    (void)state;
    f->p->accounts_max = 16;
    for (int i = 0; i < 40; i++) {
        snprintf(name, sizeof(name), "burst%d@example.com", i);
        ev_submit(f, T0 + i, name, "192.0.2.1", 1);
    }
    const hj_engine_stats *st = engine_stats(f->e);
    CHECK_EQ("every account of the burst is followed", engine_entities(f->e, HJ_S_ACCOUNT), 40);
    CHECK_EQ("none dropped", st->evicted[HJ_S_ACCOUNT], 0);
    CHECK_EQ("counted above the cap", st->refused[HJ_S_ACCOUNT], 40 - 16);
    fx_free(f);
}

/* account_forget_after: an unlocked account idle that long is forgotten with its stored
 * counters; a locked one is kept */
static void
test_account_forget(void **state)
{
    fx *f = fx_new("rule m metric=messages window=1h limit=100 action=lock\n");
    hj_account_info info;

    (void)state;
    f->p->account_forget = 86400;
    ev_submit(f, T0, "idle@example.com", "192.0.2.1", 1);
    ev_submit(f, T0, "held@example.com", "192.0.2.1", 1);
    CHECK_EQ("an admin's lock", engine_lock(f->e, "held@example.com", T0, 0, 0, "test", false), 0);
    keys k = {0};
    engine_changed(f->e, on_key, &k, 0);
    engine_tick(f->e, T0 + 86400 - 1);
    CHECK_EQ("not yet", engine_account(f->e, "idle@example.com", T0 + 86399, &info), 0);
    engine_tick(f->e, T0 + 86400);
    CHECK_EQ("forgotten after a day", engine_account(f->e, "idle@example.com", T0 + 86400, &info), -1);
    CHECK_EQ("counted", engine_stats(f->e)->forgotten, 1);
    CHECK_EQ("the locked account is kept", engine_state(f->e, "held@example.com", T0 + 86400, NULL),
             HJ_ST_LOCKED);
    k = (keys){0};
    engine_changed(f->e, on_key, &k, 0);
    CHECK_EQ("the store forgets it", k.gone_accounts, 1);
    ev_submit(f, T0 + 90000, "idle@example.com", "192.0.2.1", 1);
    CHECK_EQ("it comes back as a new account", engine_account(f->e, "idle@example.com", T0 + 90000, &info), 0);
    CHECK_EQ("... with a fresh history", info.tot.messages, 1);
    fx_free(f);
}

/* read_fixture - tests/fixtures/snapshot/NAME, from the repository root or next to this file */
static size_t
read_fixture(const char *name, char *buf, size_t len)
{
    char path[4096];
    const char *slash = strrchr(__FILE__, '/');

    snprintf(path, sizeof(path), "tests/fixtures/snapshot/%s", name);
    if (access(path, R_OK) != 0)
        snprintf(path, sizeof(path), "%.*s/../fixtures/snapshot/%s",
                 slash ? (int)(slash - __FILE__) : 1, slash ? __FILE__ : ".", name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(buf, 1, len, f);
    fclose(f);
    return n;
}

/* check_old_profile - what the fixture's account learned (40 messages of 3 recipients from one
 * client, to 5 domains, over 7 hours) */
static void
check_old_profile(hj_engine *e, const char *what)
{
    hj_account_info ai;
    uint32_t rcpts = 0;

    CHECK_EQ(what, engine_account(e, "old@example.com", T0 + 24000, &ai), 0);
    CHECK_EQ("messages learned", ai.msgs, 40);
    CHECK_EQ("client styles", ai.clients, 3);
    CHECK_EQ("recipient domains", ai.domains, 5);
    CHECK_EQ("hours", ai.nhours, 7);
    for (int i = 0; i < ai.nhours; i++)
        rcpts += ai.hours[i];
    CHECK_EQ("recipients per hour, in all", rcpts, 120);
}

/* a profile stored in the layout before the smaller one (32-bit hour counts, 64-bit times:
 * tests/fixtures/snapshot/account-profile-v1.bin, exported by the engine of f15a809) is read,
 * and written back in the new layout */
static void
test_profile_v1_import(void **state)
{
    static const char conf[] = "rule sim metric=similar_sizes window=1h limit=1000 action=warn\n"
                               "rule sc metric=score window=1h limit=1000 action=warn\n";
    fx *f = fx_new(conf), *g = fx_new(conf);
    static char blob[8192];
    size_t n = read_fixture("account-profile-v1.bin", blob, sizeof(blob));
    hj_buf b = HJ_BUF_INIT;

    (void)state;
    CHECK_EQ("the old blob is read", engine_import(f->e, "a:old@example.com", blob, n, T0 + 24000), 0);
    check_old_profile(f->e, "the account is there");
    CHECK_EQ("exported again", engine_export(f->e, "a:old@example.com", &b), 1);
    CHECK_EQ("... smaller", b.len < n, 1);
    CHECK_EQ("and read back", engine_import(g->e, "a:old@example.com", b.s, b.len, T0 + 24000), 0);
    check_old_profile(g->e, "the account is there again");
    buf_free(&b);
    fx_free(f);
    fx_free(g);
}

int
main(void)
{
    static const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_validator),   cmocka_unit_test(test_client_cap),
        cmocka_unit_test(test_client_cap_refuses), cmocka_unit_test(test_account_cap),
        cmocka_unit_test(test_account_cap_recent), cmocka_unit_test(test_account_forget),
        cmocka_unit_test(test_profile_v1_import),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
