/*
 * test_decision - the evidence every decision carries, its JSON form,
 * account totals and statistics, and regressions of fixed engine bugs
 * (the engine is driven through engine_fixture.h, as in test_engine.c)
 */
#include "engine_fixture.h"

/* ---- the evidence every decision carries ---- */

static void
test_decision_fields(void **state)
{
    fx *f = fx_new("rule md metric=recipients window=30m limit=20 action=lock\n");
    hj_event ev = {.type = HJ_EV_SUBMIT,
                   .t = T0,
                   .tzoff = 3600,
                   .account = A,
                   .client_ip = "192.0.2.3",
                   .client_name = "evil.example",
                   .service = "submission",
                   .queue_id = "QID9",
                   .sender = "boss@example.com",
                   .nrcpt = 6,
                   .size = 5000};

    (void)state;
    ev_simple(f, HJ_EV_LOGIN, T0 - 100, A, "192.0.2.1");
    ev_submit(f, T0 - 90, A, "192.0.2.1", 5);
    ev_submit(f, T0 - 80, A, "192.0.2.2", 5);
    ev_submit(f, T0 - 70, A, "2001:db8::7", 5);
    CHECK_EQ("under the limit", f->n, 0);
    engine_event(f->e, &ev);
    assert_int_equal(f->n, 1);
    const got *g = &f->d[0];
    CHECK_STR("action", policy_action_name(g->action), "lock");
    CHECK_STR("rule", g->rule, "md");
    CHECK_EQ("count", g->count, 21);
    CHECK_EQ("limit", g->limit, 20);
    CHECK_EQ("window", g->window, 1800);
    CHECK_EQ("until", g->until, 0);
    CHECK_EQ("t", g->t, T0);
    CHECK_EQ("tzoff", g->tzoff, 3600);
    CHECK_EQ("evclass", g->evclass, HJ_C_EXTERNAL);
    CHECK_STR("client_ip", g->client_ip, "192.0.2.3");
    CHECK_STR("client_name", g->client_name, "evil.example");
    CHECK_STR("queue_id", g->queue_id, "QID9");
    CHECK_STR("sender", g->sender, "boss@example.com");
    CHECK_STR("service", g->service, "submission");
    CHECK_EQ("total_messages", g->total_messages, 4);
    CHECK_EQ("total_recipients", g->total_recipients, 21);
    CHECK_EQ("nips", g->nips, 4);
    static const char *const ips[] = {"192.0.2.1", "192.0.2.2", "2001:db8::7", "192.0.2.3"};
    for (size_t i = 0; i < 4; i++) {
        int found = 0;
        for (int j = 0; j < g->nips; j++)
            found |= strcmp(g->ips[j], ips[i]) == 0;
        if (!found)
            fail_msg("client IP %s missing from the decision", ips[i]);
    }
    CHECK_HAS("json", g->json,
              "{\"ts\":\"2023-11-14T23:13:20+01:00\",\"account\":\"u@example.com\","
              "\"action\":\"lock\",\"rule\":\"md\",");
    CHECK_HAS("json", g->json, "\"metric\":\"recipients\"");
    CHECK_HAS("json", g->json, "\"window\":1800");
    CHECK_HAS("json", g->json, "\"limit\":20");
    CHECK_HAS("json", g->json, "\"count\":21");
    CHECK_HAS("json", g->json, "\"client_ip\":\"192.0.2.3\"");
    CHECK_HAS("json", g->json, "\"client_ips\":[");
    CHECK_HAS("json", g->json, "\"2001:db8::7\"");
    CHECK_HAS("json", g->json, "\"queue_id\":\"QID9\"");
    CHECK_HAS("json", g->json, "\"total_recipients\":21");
    CHECK_HAS("text", g->text, "rule md");
    CHECK_HAS("text", g->text, "21 > 20");
    check_json(f);

    /* a busy account: the recent addresses are bounded and include the trigger */
    for (int i = 1; i <= 6; i++) {
        char ip[32];
        snprintf(ip, sizeof(ip), "198.51.100.%d", i);
        ev_submit(f, T0 + i, B, ip, i < 6 ? 1 : 100);
    }
    assert_int_equal(f->n, 2);
    g = &f->d[1];
    CHECK_STR("busy", g->entity, B);
    if (g->nips < 1 || g->nips > DECISION_MAX_IPS)
        fail_msg("nips = %d", g->nips);
    int found = 0;
    for (int j = 0; j < g->nips; j++)
        found |= strcmp(g->ips[j], "198.51.100.6") == 0;
    if (!found)
        fail_msg("the triggering address is not among the decision's client IPs");
    check_json(f);
    fx_free(f);

    /* a relay decision: the server-wide entity's evidence is the relaying clients */
    f = fx_new("rule relay metric=relay_recipients window=1h limit=2 action=relay scope=global\n");
    ev_submit(f, T0, A, "198.51.100.1", 1); /* a user's submission is not relay evidence */
    ev_relay(f, T0 + 1, "192.0.2.1");
    ev_relay(f, T0 + 2, "192.0.2.2");
    ev_relay(f, T0 + 3, "192.0.2.3");
    assert_int_equal(f->n, 1);
    g = &f->d[0];
    CHECK_STR("relay", policy_action_name(g->action), "relay");
    CHECK_STR("relay", g->entity, "");
    CHECK_STR("relay", g->client_ip, "192.0.2.3");
    CHECK_EQ("relay window", g->window, 3600);
    CHECK_EQ("relay nips", g->nips, 3);
    for (int i = 0; i < 3; i++) {
        char ip[32];
        snprintf(ip, sizeof(ip), "192.0.2.%d", i + 1);
        found = 0;
        for (int j = 0; j < g->nips; j++)
            found |= strcmp(g->ips[j], ip) == 0;
        if (!found)
            fail_msg("relaying client %s missing from the relay decision", ip);
    }
    CHECK_HAS("relay json", g->json, "\"client_ips\":[\"192.0.2.1\",\"192.0.2.2\",\"192.0.2.3\"]");
    check_json(f);
    fx_free(f);
}

/* ---- decision_json: escaping ---- */

static void
test_decision_json_escaping(void **state)
{
    hj_rule rule = {.name = "w",
                    .metric = HJ_M_MESSAGES,
                    .window = 600,
                    .limit = 2,
                    .action = HJ_A_WARN,
                    .scope = HJ_S_ACCOUNT,
                    .ipclass = HJ_C_ANY};
    hj_decision d = {
        .t = T0,
        .tzoff = -18000,
        .action = HJ_A_WARN,
        .scope = HJ_S_ACCOUNT,
        .entity = "a\"b\\c\n\x01\x7f\xff" /* quote, backslash, controls, a stray byte */
                  "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80" /* valid: kept as is */
                  "\xc0\xaf\xed\xa0\x80\xc3",            /* overlong, surrogate, truncated */
        .rule = &rule,
        .limit = 2,
        .count = 3,
        .client_ip = "192.0.2.1",
        .client_name = "x\"y\\",
        .queue_id = "Q\t1",
        .sender = "\"evil\"@x\r\n\xfe",
        .service = "smtp\x1b[31m",
        .reason = "line1\nline2",
    };
    hj_buf b = HJ_BUF_INIT;

    (void)state;
    assert_int_equal(netaddr_parse("192.0.2.1", 9, &d.ips[0]), 0);
    d.nips = 1;
    decision_json(&d, &b);
    const char *j = buf_str(&b);
    if (!json_valid(j))
        fail_msg("invalid JSON: %s", j);
    CHECK_EQ("one line", strchr(j, '\n') == j + b.len - 1, 1);
    CHECK_HAS("prefix", j,
              "{\"ts\":\"2023-11-14T17:13:20-05:00\",\"account\":\"a\\\"b\\\\c\\u000a\\u0001"
              "\\u007f\\ufffd\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\\ufffd\\ufffd\\ufffd\\ufffd"
              "\\ufffd\\ufffd\",\"action\":\"warn\",\"rule\":\"w\",");
    CHECK_EQ("prefix at the start", strncmp(j, "{\"ts\":", 6), 0);
    CHECK_HAS("client_name", j, "\"client_name\":\"x\\\"y\\\\\"");
    CHECK_HAS("queue_id", j, "\"queue_id\":\"Q\\u00091\"");
    CHECK_HAS("sender", j, "\"sender\":\"\\\"evil\\\"@x\\u000d\\u000a\\ufffd\"");
    CHECK_HAS("service", j, "\"service\":\"smtp\\u001b[31m\"");
    CHECK_HAS("reason", j, "\"reason\":\"line1\\u000aline2\"");
    CHECK_HAS("client_ips", j, "\"client_ips\":[\"192.0.2.1\"]");

    /* an unlock (no rule) and a global decision (account "") */
    buf_reset(&b);
    hj_decision u = {.t = T0,
                     .action = HJ_A_UNLOCK,
                     .scope = HJ_S_ACCOUNT,
                     .entity = A,
                     .reason = "automatic unlock"};
    decision_json(&u, &b);
    if (!json_valid(buf_str(&b)))
        fail_msg("invalid JSON: %s", buf_str(&b));
    CHECK_EQ("unlock prefix",
             strncmp(buf_str(&b),
                     "{\"ts\":\"2023-11-14T22:13:20+00:00\",\"account\":\"u@example.com\","
                     "\"action\":\"unlock\",\"rule\":\"\",",
                     strlen("{\"ts\":\"2023-11-14T22:13:20+00:00\",\"account\":\"u@example.com\","
                            "\"action\":\"unlock\",\"rule\":\"\",")),
             0);
    buf_reset(&b);
    hj_rule relay = {.name = "relay",
                     .metric = HJ_M_RELAY_RCPTS,
                     .window = 3600,
                     .limit = 10,
                     .action = HJ_A_RELAY,
                     .scope = HJ_S_GLOBAL};
    hj_decision r = {.t = T0,
                     .action = HJ_A_RELAY,
                     .scope = HJ_S_GLOBAL,
                     .entity = "",
                     .rule = &relay,
                     .limit = 10,
                     .count = 11,
                     .client_ip = "192.0.2.9"};
    decision_json(&r, &b);
    if (!json_valid(buf_str(&b)))
        fail_msg("invalid JSON: %s", buf_str(&b));
    CHECK_EQ("global prefix",
             strncmp(buf_str(&b),
                     "{\"ts\":\"2023-11-14T22:13:20+00:00\",\"account\":\"\",\"action\":\"relay\","
                     "\"rule\":\"relay\",",
                     strlen("{\"ts\":\"2023-11-14T22:13:20+00:00\",\"account\":\"\",\"action\":"
                            "\"relay\",\"rule\":\"relay\",")),
             0);
    buf_reset(&b);
    decision_text(&r, &b);
    CHECK_HAS("text", buf_str(&b), "(server)");
    buf_free(&b);
}

/* ---- engine_accounts totals and engine_stats ---- */

static void
test_accounts_and_stats(void **state)
{
    fx *f = fx_new(MD "rule ipw metric=failed_logins window=10m limit=100 action=warn scope=ip\n");
    acct_seen seen = {0};

    (void)state;
    ev_simple(f, HJ_EV_LOGIN, T0 + 10, A, "192.0.2.1");
    ev_simple(f, HJ_EV_LOGIN, T0 + 11, A, "192.0.2.1");
    ev_simple(f, HJ_EV_LOGIN_FAIL, T0 + 12, A, "192.0.2.1");
    ev_mail(f, T0 + 20, A, A, "192.0.2.1", 2, 100);
    ev_mail(f, T0 + 21, A, A, "192.0.2.1", 3, 200);
    ev_mail(f, T0 + 22, A, A, "192.0.2.1", 4, 300);
    for (int i = 0; i < 5; i++)
        ev_delivery(f, T0 + 30 + i, A, "192.0.2.1", HJ_DLV_SENT);
    ev_delivery(f, T0 + 40, A, "192.0.2.1", HJ_DLV_BOUNCED);
    ev_delivery(f, T0 + 100, A, "192.0.2.1", HJ_DLV_BOUNCED);
    ev_submit(f, T0 + 50, B, "192.0.2.2", 501); /* locked */
    ev_simple(f, HJ_EV_LOGIN_FAIL, T0 + 60, "c@example.com", "192.0.2.3");
    ev_submit(f, T0 + 70, "postmaster@example.com", "192.0.2.1", 1000); /* never counted */
    {
        hj_event rj = {.type = HJ_EV_REJECT,
                       .t = T0 + 80,
                       .client_ip = "192.0.2.4",
                       .rcpt = "x@y.test",
                       .dsn = "5.7.1"};
        engine_event(f->e, &rj);
    }

    engine_accounts(f->e, on_account, &seen);
    CHECK_EQ("accounts", seen.n, 2); /* c@ only failed to log in: not an account (see below) */
    const hj_totals *t = find_account(&seen, A);
    assert_non_null(t);
    CHECK_EQ("A messages", t->messages, 3);
    CHECK_EQ("A recipients", t->recipients, 9);
    CHECK_EQ("A bytes", t->bytes, 600);
    CHECK_EQ("A logins", t->logins, 2);
    CHECK_EQ("A failed_logins", t->failed_logins, 1);
    CHECK_EQ("A deliveries", t->deliveries, 7);
    CHECK_EQ("A bounces", t->bounces, 2);
    CHECK_EQ("A first_seen", t->first_seen, T0 + 10);
    CHECK_EQ("A last_seen", t->last_seen, T0 + 100);
    CHECK_EQ("A state", t->state, HJ_ST_OK);
    t = find_account(&seen, B);
    assert_non_null(t);
    CHECK_EQ("B messages", t->messages, 1);
    CHECK_EQ("B recipients", t->recipients, 501);
    CHECK_EQ("B state", t->state, HJ_ST_LOCKED);
    /* a name known only from failed logins is counted (failed_logins) but is no account: not
     * listed, never stored (a password spray invents names by the million) */
    assert_null(find_account(&seen, "c@example.com"));
    CHECK_EQ("unproven accounts", engine_stats(f->e)->unproven, 1);
    assert_null(find_account(&seen, "postmaster@example.com"));

    const hj_engine_stats *st = engine_stats(f->e);
    CHECK_EQ("login events", st->events[HJ_EV_LOGIN], 2);
    CHECK_EQ("failed login events", st->events[HJ_EV_LOGIN_FAIL], 2);
    CHECK_EQ("submit events", st->events[HJ_EV_SUBMIT], 5);
    CHECK_EQ("delivery events", st->events[HJ_EV_DELIVERY], 7);
    CHECK_EQ("reject events", st->events[HJ_EV_REJECT], 1);
    CHECK_EQ("never counted", st->never_counted, 1);
    CHECK_EQ("exempt", st->exempt, 0);
    CHECK_EQ("lock decisions", st->decisions[HJ_A_LOCK], 1);
    CHECK_EQ("warn decisions", st->decisions[HJ_A_WARN], 0);
    /* accounts A, B, c; client addresses only where the ip-scope rule counts something:
     * the failed logins from .1 and .3 (submissions and the reject make no IP entity) */
    CHECK_EQ("entities", st->entities, 5);

    /* idle past the longest window: client addresses and c@ are forgotten, accounts kept */
    engine_tick(f->e, T0 + 100 + 1800);
    CHECK_EQ("entities after idling", engine_stats(f->e)->entities, 2);
    CHECK_EQ("unproven accounts after idling", engine_stats(f->e)->unproven, 0);
    seen.n = 0;
    engine_accounts(f->e, on_account, &seen);
    CHECK_EQ("accounts after idling", seen.n, 2);
    t = find_account(&seen, A);
    assert_non_null(t);
    CHECK_EQ("A totals kept", t->recipients, 9);
    CHECK_EQ("B still locked", find_account(&seen, B)->state, HJ_ST_LOCKED);
    /* an idle account starts again from empty counters */
    ev_submit(f, T0 + 5000, A, "192.0.2.1", 500);
    CHECK_EQ("no lock at 500", f->n, 1);
    ev_submit(f, T0 + 5001, A, "192.0.2.1", 1);
    CHECK_EQ("lock at 501", f->n, 2);
    CHECK_EQ("lock count", f->d[1].count, 501);
    check_json(f);
    fx_free(f);
}

/* ---- regressions ---- */

/*
 * Regression (found by this test, now fixed; was in src/engine/engine.c, sweep_one ->
 * engine_unlock): an automatic unlock (unlock_after=) of a lock on a domain, client-IP or global
 * entity never happens. sweep_one() calls engine_unlock(e, x->name, ...), which only looks the name
 * up among accounts, finds nothing and returns -1; the entity stays locked for ever (and is never
 * swept), so its rules never fire again. policy_rule_parse() accepts unlock_after= with any scope.
 */
typedef struct bug_unlock_case {
    const char *conf;
    const char *entity;
    hj_scope scope;
} bug_unlock_case;

static void
bug_unlock_feed(fx *f, const bug_unlock_case *k, int64_t t)
{
    for (int i = 0; i < 4; i++) {
        if (k->scope == HJ_S_IP)
            ev_simple(f, HJ_EV_LOGIN_FAIL, t + i, "guess@example.com", k->entity);
        else
            ev_submit(f, t + i, "a@dom.example", IPX, 1);
    }
}

static void
test_auto_unlock_non_account_scopes(void **state)
{
    static const bug_unlock_case cases[] = {
        {"rule l metric=failed_logins window=10m limit=3 action=lock unlock_after=1h scope=ip\n",
         "203.0.113.9", HJ_S_IP},
        {"rule l metric=messages window=10m limit=3 action=lock unlock_after=1h scope=domain\n",
         "dom.example", HJ_S_DOMAIN},
    };
    char msg[8][512];
    int nmsg = 0;

    (void)state;
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        const bug_unlock_case *k = &cases[c];
        fx *f = fx_new(k->conf);
        bug_unlock_feed(f, k, T0);
        int locks = f->n;
        engine_tick(f->e, T0 + 3 + 3600);
        int after_tick = f->n;
        int unlocked = after_tick == 2 && f->d[1].action == HJ_A_UNLOCK &&
                       strcmp(f->d[1].entity, k->entity) == 0;
        bug_unlock_feed(f, k, T0 + 7200);
        int relocked = f->n >= 1 && f->d[f->n - 1].action == HJ_A_LOCK && f->n > after_tick;
        fx_free(f);
        if (locks != 1)
            snprintf(msg[nmsg++], sizeof(msg[0]), "%s: %d lock decision(s), want 1", k->entity,
                     locks);
        if (!unlocked)
            snprintf(msg[nmsg++], sizeof(msg[0]),
                     "%s (scope %s): no \"unlock\" decision 1h after the lock", k->entity,
                     policy_scope_name(k->scope));
        if (!relocked)
            snprintf(msg[nmsg++], sizeof(msg[0]), "%s: not locked again 2h later", k->entity);
    }
    for (int i = 0; i < nmsg; i++)
        print_error("%s\n", msg[i]);
    CHECK_EQ("problems", nmsg, 0);
}

/*
 * Regression (found by this test, now fixed; was in src/engine/engine.c, rule_fire): last_fired[]
 * uses 0 for "never fired", so a warn (or relay) decision made at time 0 is not remembered and
 * repeats on the next event. Real clocks are never 0, but made-up times (the engine's stated test
 * model) and a log whose time failed to parse are.
 */
static void
test_warn_dedup_at_time_zero(void **state)
{
    fx *f = fx_new("rule w metric=messages window=10m limit=0 action=warn\n");
    int n;

    (void)state;
    for (int64_t t = 0; t < 4; t++)
        ev_submit(f, t, A, IPX, 1);
    n = f->n;
    fx_free(f);
    CHECK_EQ("warn decisions for events at t=0..3 (window 10m)", n, 1);
}

/* ---- locks from outside the rules: restored (silent) and manual (announced) ---- */

static void
test_engine_lock(void **state)
{
    fx *f = fx_new(MD);
    hj_lockinfo li;

    (void)state;
    /* restored at start-up: locked, no decision */
    assert_int_equal(engine_lock(f->e, A, T0, 0, 0, "restored", false), 0);
    assert_int_equal(f->n, 0);
    assert_int_equal(engine_state(f->e, A, T0 + 1, &li), HJ_ST_LOCKED);
    assert_null(li.rule);
    assert_int_equal(engine_lock(f->e, A, T0 + 2, 0, 0, "again", true), -1); /* already */
    /* a locked account's rules stay quiet however much it sends */
    ev_submit(f, T0 + 3, A, IPX, 900);
    assert_int_equal(f->n, 0);
    /* a manual lock is announced, without a rule, with its reason and end */
    assert_int_equal(engine_lock(f->e, B, T0 + 4, 3600, T0 + 7200, "admin: phished", true), 0);
    assert_int_equal(f->n, 1);
    assert_int_equal(f->d[0].action, HJ_A_LOCK);
    assert_int_equal(f->d[0].has_rule, 0);
    assert_string_equal(f->d[0].reason, "admin: phished");
    assert_int_equal(f->d[0].until, T0 + 7200);
    check_json(f);
    /* its automatic unlock happens at its time */
    assert_int_equal(engine_state(f->e, B, T0 + 7200, &li), HJ_ST_OK);
    assert_int_equal(f->n, 2);
    assert_int_equal(f->d[1].action, HJ_A_UNLOCK);
    assert_int_equal(engine_unlock(f->e, A, T0 + 10, 0, "admin"), 0);
    assert_int_equal(engine_state(f->e, A, T0 + 11, NULL), HJ_ST_OK);
    fx_free(f);
}

/* ---- counters that survive a restart: export, import into a new engine ---- */

typedef struct keys_seen {
    char keys[16][400];
    int gone[16];
    int n;
} keys_seen;

static void
on_changed(void *ctx, const char *key, int gone)
{
    keys_seen *k = ctx;

    if (k->n < 16) {
        snprintf(k->keys[k->n], sizeof(k->keys[0]), "%s", key);
        k->gone[k->n++] = gone;
    }
}

static void
test_snapshot_round_trip(void **state)
{
    const char *conf = MD "rule ips metric=distinct_ips window=1h limit=3 action=warn\n";
    fx *a = fx_new(conf), *b = fx_new(conf);
    keys_seen ks = {0};
    hj_buf blob = HJ_BUF_INIT;

    (void)state;
    for (int i = 0; i < 3; i++)
        ev_submit(a, T0 + i, A, i ? "198.51.100.9" : IPX, 150); /* 450 recipients, 2 IPs */
    engine_changed(a->e, on_changed, &ks, 0);
    assert_int_equal(ks.n, 1);
    assert_string_equal(ks.keys[0], "a:" A);
    ks.n = 0;
    engine_changed(a->e, on_changed, &ks, 0);
    assert_int_equal(ks.n, 0); /* nothing changed since */
    assert_int_equal(engine_export(a->e, "a:" A, &blob), 1);
    assert_int_equal(engine_export(a->e, "a:nobody@example.com", &blob), 0);
    /* a damaged blob changes nothing */
    assert_int_equal(engine_import(b->e, "a:" A, blob.s, blob.len - 1, T0 + 10), -1);
    assert_int_equal(engine_import(b->e, "x:" A, blob.s, blob.len, T0 + 10), -1);
    char bad[64] = {9};
    assert_int_equal(engine_import(b->e, "a:" A, bad, sizeof(bad), T0 + 10), -1);
    /* the restored engine goes on counting where the first one was */
    assert_int_equal(engine_import(b->e, "a:" A, blob.s, blob.len, T0 + 10), 0);
    ev_submit(b, T0 + 20, A, "192.0.2.77", 49);
    assert_int_equal(b->n, 0); /* 499 */
    ev_submit(b, T0 + 21, A, "192.0.2.78", 1);
    assert_int_equal(b->n, 1); /* 500 recipients: no lock; a 4th distinct IP: warn */
    assert_int_equal(b->d[0].action, HJ_A_WARN);
    assert_int_equal(b->d[0].count, 4);
    ev_submit(b, T0 + 22, A, "192.0.2.78", 1);
    assert_int_equal(b->n, 2); /* 501 recipients: lock */
    assert_int_equal(b->d[1].action, HJ_A_LOCK);
    assert_int_equal(b->d[1].count, 501);
    assert_int_equal(b->d[1].total_recipients, 501);
    /* a rule that is gone from the new policy just drops its counter */
    fx *c = fx_new("rule other metric=messages window=1h limit=1 action=warn\n");
    assert_int_equal(engine_import(c->e, "a:" A, blob.s, blob.len, T0 + 10), 0);
    buf_free(&blob);
    fx_free(a);
    fx_free(b);
    fx_free(c);
}

/* test_snapshot_escalation - the last automatic unlock survives a restart; version 4 is read */
static void
test_snapshot_escalation(void **state)
{
    const char *conf =
        "rule md metric=recipients window=30m limit=500 action=lock unlock_after=1h\n";
    fx *a = fx_new(conf), *b = fx_new(conf), *c = fx_new(conf);
    hj_buf blob = HJ_BUF_INIT;

    (void)state;
    ev_submit(a, T0, A, IPX, 501);
    engine_tick(a->e, T0 + 3600); /* automatic unlock */
    assert_int_equal(a->n, 2);
    assert_int_equal(engine_export(a->e, "a:" A, &blob), 1);
    assert_int_equal(engine_import(b->e, "a:" A, blob.s, blob.len, T0 + 3700), 0);
    ev_submit(b, T0 + 3800, A, IPX, 501);
    assert_int_equal(b->n, 1);
    assert_int_equal(b->d[0].action, HJ_A_LOCK);
    assert_int_equal(b->d[0].until, 0); /* escalated after the restart too */
    /* the same blob as version 4 (no automatic-unlock time): read, and nothing to escalate */
    hj_buf v4 = HJ_BUF_INIT;
    size_t head = 2 + 11 * 8;
    buf_add(&v4, blob.s, head);
    buf_add(&v4, blob.s + head + 8, blob.len - head - 8);
    v4.s[0] = 4;
    assert_int_equal(engine_import(c->e, "a:" A, v4.s, v4.len, T0 + 3700), 0);
    ev_submit(c, T0 + 3800, A, IPX, 501);
    assert_int_equal(c->n, 1);
    assert_int_equal(c->d[0].until, T0 + 3800 + 3600);
    buf_free(&blob);
    buf_free(&v4);
    fx_free(a);
    fx_free(b);
    fx_free(c);
}

int
main(void)
{
    static const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_validator),
        cmocka_unit_test(test_decision_fields),
        cmocka_unit_test(test_decision_json_escaping),
        cmocka_unit_test(test_accounts_and_stats),
        cmocka_unit_test(test_auto_unlock_non_account_scopes),
        cmocka_unit_test(test_warn_dedup_at_time_zero),
        cmocka_unit_test(test_engine_lock),
        cmocka_unit_test(test_snapshot_round_trip),
        cmocka_unit_test(test_snapshot_escalation),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
