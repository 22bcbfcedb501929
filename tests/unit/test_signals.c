/*
 * test_signals - the score's signals and the learned profile (signals.c), table-driven
 *
 * Each case builds an account's history with made-up events, then sends one probe message
 * and checks which signals fired on it (the "signals" of its decision) and its score. A
 * rule that fires on every message (messages over 1 s > 0, warn) makes every message's
 * signals visible.
 */
#include "engine_fixture.h"

#define ACC "alice@example.com"
#define DAY 86400
#define HOME "198.51.100.10" /* the account's usual network */
#define AWAY "203.0.113.50"  /* a network it never used */

#define CONF                                                                                       \
    "rule probe metric=messages window=1s limit=0 action=warn\n"                                   \
    "rule s metric=score window=1h limit=1000 action=warn\n"

typedef struct msg {
    const char *ip, *name, *helo, *method, *msgid;
    int64_t nrcpt, size;
} msg;

static const msg usual_msg = {HOME, "pc.example.com", "laptop", "PLAIN", "<a1b2.c3@example.com>", 1,
                              2000};

static void
send(fx *f, int64_t t, msg m)
{
    hj_event ev = {.type = HJ_EV_SUBMIT, .t = t, .account = ACC, .sender = ACC};

    ev.client_ip = m.ip;
    ev.client_name = m.name;
    ev.helo = m.helo;
    ev.sasl_method = m.method;
    ev.message_id = m.msgid;
    ev.nrcpt = m.nrcpt ? m.nrcpt : 1;
    ev.size = m.size ? m.size : 2000;
    engine_event(f->e, &ev);
}

static void
deliver(fx *f, int64_t t, const char *rcpt)
{
    hj_event ev = {.type = HJ_EV_DELIVERY, .t = t, .account = ACC, .rcpt = rcpt};

    ev.status = HJ_DLV_SENT;
    engine_event(f->e, &ev);
}

static void
fail_login(fx *f, int64_t t, const char *account, const char *ip)
{
    hj_event ev = {.type = HJ_EV_LOGIN_FAIL, .t = t, .account = account, .client_ip = ip};

    engine_event(f->e, &ev);
}

/* freemail - configure a freemail domain (the engine reads the list when it starts) */
static void
freemail(fx *f, const char *domain)
{
    policy_freemail_add(f->p, domain);
    engine_free(f->e);
    f->e = engine_new(f->p, on_decision, f);
}

/* history: n usual messages, one every 20 minutes from t0, sizes varied; each delivered to
 * a colleague at example.com and a partner at partner.example */
static void
history(fx *f, int64_t t0, int n)
{
    for (int i = 0; i < n; i++) {
        msg m = usual_msg;
        m.size = 1000 + 97 * i;
        send(f, t0 + i * 1200, m);
        deliver(f, t0 + i * 1200 + 1, i % 2 ? "bob@example.com" : "carol@partner.example");
    }
}

/* ---- the setups: each builds a history and returns the probe's time ---- */

static int64_t
setup_learned(fx *f)
{
    history(f, T0, 3 * 72); /* three days, 72 messages a day */
    return T0 + 3 * DAY + 600;
}

static int64_t
setup_fresh(fx *f)
{
    (void)f;
    return T0;
}

static int64_t
setup_roaming(fx *f)
{
    /* half of its mail from networks it never used before, all from unnamed clients */
    for (int i = 0; i < 60; i++) {
        char ip[32];
        msg m = usual_msg;
        snprintf(ip, sizeof(ip), "192.0.%d.7", 2 + (i % 2 ? i : 0));
        m.ip = i % 2 ? ip : HOME;
        m.name = "unknown";
        m.size = 1000 + 97 * i;
        send(f, T0 + i * 3000, m);
    }
    return T0 + 60 * 3000 + 600;
}

static int64_t
setup_bruteforce(fx *f)
{
    history(f, T0, 3 * 72);
    int64_t t = T0 + 3 * DAY;
    for (int i = 0; i < 6; i++) /* older Postfix: failures without the user name */
        fail_login(f, t + i, NULL, AWAY);
    return t + 60;
}

static int64_t
setup_similar(fx *f)
{
    int64_t t = setup_learned(f);
    msg m = usual_msg;
    m.size = 5000;
    send(f, t, m);
    send(f, t + 10, m);
    return t + 20;
}

static int64_t
setup_networks(fx *f)
{
    int64_t t = setup_learned(f);
    msg m = usual_msg;
    m.ip = "192.0.2.1";
    send(f, t, m);
    m.ip = "192.0.3.1";
    send(f, t + 10, m);
    return t + 20;
}

static int64_t
setup_hourly(fx *f)
{
    /* 5 recipients at 10:00 every day for three days */
    for (int d = 0; d < 3; d++) {
        msg m = usual_msg;
        m.nrcpt = 5;
        send(f, T0 + d * DAY, m);
    }
    return T0 + 3 * DAY + 60;
}

static int64_t
setup_weekly(fx *f)
{
    /* a newsletter of 500 a week ago at this hour, small mail since */
    msg m = usual_msg;
    send(f, T0, m);
    m.nrcpt = 500;
    send(f, T0 + DAY, m);
    m.nrcpt = 1;
    for (int d = 2; d < 8; d++)
        send(f, T0 + d * DAY + 7200, m);
    return T0 + 8 * DAY + 60;
}

static int64_t
setup_new_domains(fx *f)
{
    int64_t t = setup_learned(f);
    static const char *const r[] = {"x@one.example", "y@two.example", "z@three.example",
                                    "u@four.example", "v@five.example"};
    for (int i = 0; i < 5; i++)
        deliver(f, t + i, r[i]);
    return t + 30;
}

static int64_t
setup_freemail(fx *f)
{
    freemail(f, "GMail.com"); /* freemail_domains, case-insensitive */
    int64_t t = setup_learned(f);
    for (int i = 0; i < 5; i++)
        deliver(f, t + i, "someone@gmail.com");
    return t + 30;
}

static int64_t
setup_freemail_usual(fx *f)
{
    /* an account that writes to gmail all the time */
    freemail(f, "gmail.com");
    for (int i = 0; i < 40; i++) {
        msg m = usual_msg;
        m.size = 1000 + 97 * i;
        send(f, T0 + i * 1200, m);
        deliver(f, T0 + i * 1200 + 1, "customer@gmail.com");
    }
    return T0 + 40 * 1200 + 60;
}

static int64_t
setup_blast_teaches_nothing(fx *f)
{
    /* 30 suspect messages from a new network with a new mail program: they score, so they
     * do not make the new network usual for the account */
    int64_t t = setup_learned(f);
    for (int i = 0; i < 30; i++) {
        msg m = {AWAY, "unknown", "bot", "LOGIN", "<x@spam.example>", 1, 3000 + 100 * i};
        send(f, t + i * 60, m);
    }
    return t + 30 * 60 + 60;
}

/* two of its earlier messages judged spam by the anti-spam engine within the hour */
static int64_t
setup_spam_verdicts(fx *f)
{
    int64_t t = setup_learned(f);
    for (int i = 0; i < 2; i++) {
        hj_event ev = {.type = HJ_EV_SPAM, .t = t + i * 60, .account = ACC, .sender = ACC};
        ev.client_ip = HOME;
        ev.queue_id = i ? "QB" : "QA";
        ev.spam = HJ_SPAM_SPAM;
        engine_event(f->e, &ev);
    }
    return t + 180;
}

typedef struct sig_case {
    const char *name;
    int64_t (*setup)(fx *f);
    msg probe;
    const char *want; /* the probe's "signals" object, exactly */
    int64_t score;
} sig_case;

static const msg probe_usual = {
    HOME, "pc.example.com", "laptop", "PLAIN", "<9f8e.7d@example.com>", 1, 2222};
static const msg probe_away = {
    AWAY, "pc.example.com", "laptop", "PLAIN", "<9f8e.7d@example.com>", 1, 2222};

static const sig_case cases[] = {
    {"a usual message: nothing", setup_learned, probe_usual, "{}", 0},
    {"a new network alone: one kind, no score", setup_learned, probe_away, "{\"novel_network\":1}",
     0},
    {"a new network and a new mail program: two kinds agree",
     setup_learned,
     {AWAY, "unknown", "bot", "LOGIN", "<RANDOMID-0001@spam.example>", 1, 2222},
     "{\"novel_network\":1,\"unknown_client\":1,\"novel_client\":\"helo+sasl_method+message_id\"}",
     6},
    {"a fresh account is unknown, not unusual",
     setup_fresh,
     {AWAY, "unknown", "bot", "LOGIN", "<x@spam.example>", 1, 2222},
     "{}",
     0},
    {"a roaming account: new networks and unnamed clients are its normal",
     setup_roaming,
     {"192.0.200.7", "unknown", "laptop", "PLAIN", "<a1b2.c3@example.com>", 1, 2222},
     "{}",
     0},
    {"failed logins from the client's address, then its success", setup_bruteforce, probe_away,
     "{\"novel_network\":1,\"failed_logins\":6}", 6},
    {"three messages of the same size", setup_similar,
     (msg){HOME, "pc.example.com", "laptop", "PLAIN", "<a1b2.c3@example.com>", 1, 5000},
     "{\"similar_sizes\":3}", 0},
    {"four outside networks in an hour",
     setup_networks,
     {"192.0.4.1", "pc.example.com", "laptop", "PLAIN", "<a1b2.c3@example.com>", 1, 2222},
     "{\"novel_network\":1,\"ip_diversity\":4}", /* its own network is outside too */
     0},
    {"far above its usual volume at this hour",
     setup_hourly,
     {HOME, "pc.example.com", "laptop", "PLAIN", "<a1b2.c3@example.com>", 40, 2222},
     "{\"above_normal\":40}",
     0},
    {"a weekly newsletter is last week's normal",
     setup_weekly,
     {HOME, "pc.example.com", "laptop", "PLAIN", "<a1b2.c3@example.com>", 500, 2222},
     "{}",
     0},
    {"recipients at domains it never wrote to", setup_new_domains, probe_usual,
     "{\"novel_domains\":71}", 0},
    {"recipients at freemail providers", setup_freemail, probe_usual, "{\"freemail\":71}", 0},
    {"freemail is the normal of an account that writes to it", setup_freemail_usual, probe_usual,
     "{}", 0},
    {"a blast does not teach the profile its network", setup_blast_teaches_nothing,
     (msg){AWAY, "pc.example.com", "laptop", "PLAIN", "<a1b2.c3@example.com>", 1, 2222},
     "{\"novel_network\":1,\"above_normal\":34}", 5}, /* and its volume is not usual */
    {"spam verdicts on its mail, from its usual network: one kind, no score",
     setup_spam_verdicts, probe_usual, "{\"spam_verdicts\":2}", 0},
    {"spam verdicts and a new network: two kinds agree", setup_spam_verdicts, probe_away,
     "{\"novel_network\":1,\"spam_verdicts\":2}", 6},
};

/* probe_signals - the "signals" object and score of the last decision of rule "probe" */
static void
probe_signals(const fx *f, char *sig, size_t len, int64_t *score)
{
    const char *j = NULL;

    for (int i = f->n - 1; i >= 0 && j == NULL; i--)
        if (strcmp(f->d[i].rule, "probe") == 0)
            j = f->d[i].json;
    assert_non_null(j);
    const char *s = strstr(j, "\"signals\":");
    assert_non_null(s);
    s += strlen("\"signals\":");
    size_t n = strcspn(s, "}") + 1;
    snprintf(sig, len, "%.*s", (int)n, s);
    const char *sc = strstr(s, "\"score\":");
    assert_non_null(sc);
    *score = strtoll(sc + 8, NULL, 10);
}

static void
test_signal_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const sig_case *k = &cases[i];
        fx *f = fx_new(CONF);
        char sig[512];
        int64_t score;
        int64_t t = k->setup(f);
        f->n = f->dropped = 0; /* keep the probe's decisions only */
        send(f, t, k->probe);
        probe_signals(f, sig, sizeof(sig), &score);
        if (strcmp(sig, k->want) != 0 || score != k->score) {
            fx_dump(f);
            fail_msg("%s: signals %s score %lld, want %s score %lld", k->name, sig,
                     (long long)score, k->want, (long long)k->score);
        }
        check_json(f);
        fx_free(f);
    }
}

/* the score sums over the window; the rule acts when the sum exceeds its limit, with the
 * signals of the message that crossed it as evidence */
static void
test_score_rule(void **state)
{
    fx *f = fx_new("rule t metric=score window=1h limit=15 action=throttle throttle=1h\n");
    msg bad = {AWAY, "unknown", "bot", "LOGIN", "<RANDOMID-0001@spam.example>", 1, 2222};

    (void)state;
    int64_t t = setup_learned(f);
    for (int i = 0; i < 2; i++, bad.size += 500)
        send(f, t + i, bad); /* 6 + 6 = 12: not yet */
    assert_int_equal(f->n, 0);
    send(f, t + 2, bad); /* 18 > 15 (sizes apart: no similar_sizes) */
    assert_int_equal(f->n, 1);
    CHECK_STR("score rule", f->d[0].rule, "t");
    CHECK_EQ("score rule", f->d[0].count, 18);
    CHECK_HAS("score rule", f->d[0].json, "\"score\":6");
    CHECK_HAS("score rule", f->d[0].text, "signals novel_network=1,unknown_client=1");
    fx_free(f);
}

/* the profile survives a restart (snapshot): the probe scores the same in a new engine */
static void
test_profile_snapshot(void **state)
{
    fx *f = fx_new(CONF), *g = fx_new(CONF);
    hj_buf b = HJ_BUF_INIT;
    char s1[512], s2[512];
    int64_t sc1, sc2;
    msg bad = {AWAY, "unknown", "bot", "LOGIN", "<RANDOMID-0001@spam.example>", 1, 2222};

    (void)state;
    int64_t t = setup_learned(f);
    assert_int_equal(engine_export(f->e, "a:" ACC, &b), 1);
    assert_int_equal(engine_import(g->e, "a:" ACC, b.s, b.len, t), 0);
    f->n = f->dropped = 0;
    send(f, t, bad);
    send(g, t, bad);
    probe_signals(f, s1, sizeof(s1), &sc1);
    probe_signals(g, s2, sizeof(s2), &sc2);
    assert_string_equal(s1, s2);
    assert_int_equal(sc1, sc2);
    assert_int_equal(sc1, 6);
    /* a truncated blob is refused and changes nothing */
    assert_int_equal(engine_import(g->e, "a:" ACC, b.s, b.len - 1, t), -1);
    buf_free(&b);
    fx_free(f);
    fx_free(g);
}

/* policy: score rules judge accounts only; weights and kinds come from the configuration */
static void
test_score_policy(void **state)
{
    hj_policy *p = policy_new();
    char err[256];

    (void)state;
    assert_int_equal(policy_rule_parse(p, "x",
                                       "metric=score window=1h limit=1 action=warn scope=ip", err,
                                       sizeof(err)),
                     -1);
    CHECK_HAS("score scope", err, "scope=account");
    assert_int_equal(
        policy_rule_parse(p, "x", "metric=score window=1h limit=1 action=warn", err, sizeof(err)),
        0);
    assert_int_equal(policy_finish(p, err, sizeof(err)), 0);
    assert_true(p->sig.used);
    assert_int_equal(p->ncounters, 6); /* the rule's and the five the signals read */
    policy_free(p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signal_cases),
        cmocka_unit_test(test_score_rule),
        cmocka_unit_test(test_profile_snapshot),
        cmocka_unit_test(test_score_policy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
