/*
 * test_notify - unit tests for the notification texts and tokens (alert.h, token.h, tmpl.h)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "check.h"

#include "../../src/notify/alert.h"
#include "../../src/notify/token.h"
#include "../../src/util/tmpl.h"

static const uint8_t key1[TOKEN_KEY_LEN] = {1, 2, 3};
static const uint8_t key2[TOKEN_KEY_LEN] = {9, 9, 9};

/* token: made, parsed, verified; bound to key, account, time and expiry */
static void
test_token(void **state)
{
    char t[TOKEN_MAX], bad[TOKEN_MAX];
    int64_t since, exp;

    (void)state;
    token_make(key1, "alice@example.test", 1764057600, 1764316800, t);
    assert_int_equal(strncmp(t, "HJU1-1764057600-1764316800-", 27), 0);
    assert_int_equal(strlen(t), 27 + 32);
    assert_int_equal(token_parse(t, &since, &exp), 0);
    assert_int_equal(since, 1764057600);
    assert_int_equal(exp, 1764316800);
    assert_int_equal(token_verify(key1, "alice@example.test", t), 1);
    assert_int_equal(token_verify(key2, "alice@example.test", t), 0); /* another secret */
    assert_int_equal(token_verify(key1, "bob@example.test", t), 0);   /* another account */
    snprintf(bad, sizeof(bad), "%s", t);
    bad[16] = bad[16] == '9' ? '8' : '9'; /* another expiry, same mac */
    assert_int_equal(token_verify(key1, "alice@example.test", bad), 0);
    static const char *const not_tokens[] = {
        "",
        "HJU1-",
        "HJU2-1-2-0123456789abcdef0123456789abcdef",
        "HJU1-1-2-0123456789abcdef0123456789abcde",   /* 31 hex */
        "HJU1-1-2-0123456789abcdef0123456789abcdef0", /* 33 hex */
        "HJU1-1-2-0123456789ABCDEF0123456789abcdef",  /* upper case */
        "HJU1--2-0123456789abcdef0123456789abcdef",
        "HJU1-1-x-0123456789abcdef0123456789abcdef",
        "HJU1-9223372036854775808-2-0123456789abcdef0123456789abcdef", /* INT64_MAX + 1 */
        "HJU1-1-9999999999999999999-0123456789abcdef0123456789abcdef",
        "HJU1-12345678901234567890-2-0123456789abcdef0123456789abcdef"}; /* 20 digits */
    for (size_t i = 0; i < sizeof(not_tokens) / sizeof(not_tokens[0]); i++)
        if (token_parse(not_tokens[i], &since, &exp) != -1)
            fail_msg("token_parse(\"%s\") took it: %lld, %lld", not_tokens[i], (long long)since,
                     (long long)exp);
    assert_int_equal(
        token_parse("HJU1-9223372036854775807-0-0123456789abcdef0123456789abcdef", &since, &exp),
        0);
    assert_true(since == INT64_MAX && exp == 0);
}

#define ACC "alice@example.test"
#define SINCE 1764057600
#define EXPIRY 1764316800
/* HMAC-SHA256(key1, "HJU1\n" ACC "\n" SINCE "\n" EXPIRY), first 16 bytes (Python's hmac) */
#define MAC1 "7a02d9735679ad736d2f9540bbd8fda6"

/* one token, made by hand from its fields, and whether token_verify takes it */
static const struct {
    const char *what;
    const uint8_t *key;  /* verified with */
    const char *account; /* verified for */
    int64_t since, expiry;
    const char *mac; /* NULL: token_make's for key1, ACC, SINCE, EXPIRY */
    int want;
} verify_cases[] = {
    {"untouched", key1, ACC, SINCE, EXPIRY, NULL, 1},
    {"lock time + 1 s", key1, ACC, SINCE + 1, EXPIRY, NULL, 0},
    {"lock time - 1 s", key1, ACC, SINCE - 1, EXPIRY, NULL, 0},
    {"lock time 0", key1, ACC, 0, EXPIRY, NULL, 0},
    {"expiry + 1 s", key1, ACC, SINCE, EXPIRY + 1, NULL, 0},
    {"expiry - 1 s", key1, ACC, SINCE, EXPIRY - 1, NULL, 0},
    {"expiry a year later", key1, ACC, SINCE, EXPIRY + 366 * 86400, NULL, 0},
    {"lock time and expiry swapped", key1, ACC, EXPIRY, SINCE, NULL, 0},
    {"another account", key1, "bob@example.test", SINCE, EXPIRY, NULL, 0},
    {"the account with a character more", key1, ACC "x", SINCE, EXPIRY, NULL, 0},
    {"the account with a character less", key1, "alice@example.tes", SINCE, EXPIRY, NULL, 0},
    {"the account in other case", key1, "Alice@example.test", SINCE, EXPIRY, NULL, 0},
    {"the empty account", key1, "", SINCE, EXPIRY, NULL, 0},
    {"another key", key2, ACC, SINCE, EXPIRY, NULL, 0},
    {"a mac of zeros", key1, ACC, SINCE, EXPIRY, "00000000000000000000000000000000", 0},
};

/* the untouched token is accepted; one with a field changed, or checked for another, is not */
static void
test_token_verify(void **state)
{
    char made[TOKEN_MAX], t[TOKEN_MAX];

    (void)state;
    token_make(key1, ACC, SINCE, EXPIRY, made);
    for (size_t i = 0; i < sizeof(verify_cases) / sizeof(verify_cases[0]); i++) {
        const char *mac = verify_cases[i].mac ? verify_cases[i].mac : strrchr(made, '-') + 1;
        snprintf(t, sizeof(t), "HJU1-%lld-%lld-%s", (long long)verify_cases[i].since,
                 (long long)verify_cases[i].expiry, mac);
        int got = token_verify(verify_cases[i].key, verify_cases[i].account, t);
        if (got != verify_cases[i].want)
            fail_msg("%s: token_verify(%s, %s) = %d, want %d", verify_cases[i].what,
                     verify_cases[i].account, t, got, verify_cases[i].want);
    }
}

/* token_make's mac is the HMAC the format says, over the account, lock time and expiry */
static void
test_token_known_answer(void **state)
{
    char t[TOKEN_MAX];

    (void)state;
    token_make(key1, ACC, SINCE, EXPIRY, t);
    assert_string_equal(t, "HJU1-1764057600-1764316800-" MAC1);
}

/* every hex digit of token_make's mac, changed to each of the 15 others: refused */
static void
test_token_mac_digits(void **state)
{
    static const char hex[] = "0123456789abcdef";
    char made[TOKEN_MAX], t[TOKEN_MAX];
    const size_t at = strlen("HJU1-1764057600-1764316800-");

    (void)state;
    token_make(key1, ACC, SINCE, EXPIRY, made);
    assert_int_equal(strlen(made), at + 32);
    assert_int_equal(token_verify(key1, ACC, made), 1);
    for (size_t pos = 0; pos < 32; pos++) {
        for (size_t d = 0; d < 16; d++) {
            memcpy(t, made, sizeof(made));
            if (t[at + pos] == hex[d])
                continue;
            t[at + pos] = hex[d];
            if (token_verify(key1, ACC, t) != 0)
                fail_msg("mac digit %zu changed to '%c': token_verify(%s) took it", pos, hex[d], t);
        }
    }
}

/* the key file: created 0600 once, then read back the same */
static void
test_token_key(void **state)
{
    char dir[] = "/tmp/hj-test-key.XXXXXX", path[64], err[256];
    uint8_t a[TOKEN_KEY_LEN], b[TOKEN_KEY_LEN];

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/unlock.key", dir);
    assert_int_equal(token_key_load(path, a, err, sizeof(err)), 0);
    assert_int_equal(token_key_load(path, b, err, sizeof(err)), 0);
    assert_memory_equal(a, b, TOKEN_KEY_LEN);
    FILE *f = fopen(path, "w"); /* a short file is not a key */
    fputs("short", f);
    fclose(f);
    assert_int_equal(token_key_load(path, b, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "not a 32-byte key"));
    unlink(path);
    rmdir(dir);
}

static const struct {
    const char *tmpl, *want;
    int oneline;
} tmpl_cases[] = {
    {"5.7.1 {account} is {action}", "5.7.1 al\\x01ice is locked", 0},
    {"5.7.1 {account} is {action}", "5.7.1 al?ice is locked", 1},
    {"{{account} {nope} {account", "{account} {nope} {account", 1},
    {"", "", 1},
    {"{action}{action}", "lockedlocked", 1},
};

static void
test_tmpl(void **state)
{
    tmpl_var v[] = {{"account", "al\x01ice"}, {"action", "locked"}};
    const char *names[] = {"account", "action"};
    char err[128];

    (void)state;
    for (size_t i = 0; i < sizeof(tmpl_cases) / sizeof(tmpl_cases[0]); i++) {
        hj_buf b = HJ_BUF_INIT;
        tmpl_expand(tmpl_cases[i].tmpl, v, 2, tmpl_cases[i].oneline, &b);
        const char *want = tmpl_cases[i].want;
        if (i == 0)
            assert_string_equal(buf_str(&b), "5.7.1 al\x01ice is locked");
        else
            assert_string_equal(buf_str(&b), want);
        buf_free(&b);
    }
    assert_int_equal(tmpl_check("x {account} {{ {action}", names, 2, err, sizeof(err)), 0);
    assert_int_equal(tmpl_check("x {acount}", names, 2, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "{acount}"));
    assert_int_equal(tmpl_check("x {account", names, 2, err, sizeof(err)), -1);
}

static const char incident_json[] =
    "{\"incident\":\"alice@example.test/1764057600\",\"ts\":\"2025-11-25T08:00:00+00:00\","
    "\"host\":\"mx.example.test\",\"account\":\"alice@example.test\",\"action\":\"lock\","
    "\"rule\":\"score_lock\",\"count\":72,\"limit\":60,\"window\":3600,\"escalated\":false,"
    "\"recipients\":[\"v1@remote.test\",\"v2@remote.test\"],\"queue_ids\":[\"4ABC1\"],"
    "\"token\":\"HJU1-1764057600-1764316800-0123456789abcdef0123456789abcdef\","
    "\"token_expires\":\"2025-11-28T08:00:00+00:00\",\"decision\":{\"metric\":\"score\","
    "\"limit\":60,\"count\":72,\"window\":3600,\"client_ip\":\"203.0.113.66\","
    "\"event_class\":\"external\",\"novel_network\":true,\"client_ips\":[\"203.0.113.66\"],"
    "\"signals\":{\"novel_network\":1,\"failed_logins\":6},\"score\":12,"
    "\"total_messages\":9,\"total_recipients\":45}}";

static const alert_conf ac = {
    .from = "postmaster@example.test",
    .to = "postmaster@example.test",
    .reply_to = "hijackd-unlock@example.test",
    .notice_template = "Subject: {account} is {action}\n\nHi {account}, ask {contact} "
                       "({rule}, {until}, {time}, {host}).\n",
    .prompt_template = "Subject: spam from {account}\n\nHi {account}, rule {rule}.\n",
    .contact = "the help desk"};

static void
assert_has(const hj_buf *b, const char *s)
{
    if (strstr(buf_str(b), s) == NULL)
        fail_msg("missing \"%s\" in:\n%s", s, buf_str(b));
}

/* one alert: headers, why, evidence, queue, commands, token, the decision */
static void
test_alert_one(void **state)
{
    json_t *inc = json_loads(incident_json, 0, NULL);
    const char *queue[] = {"  6 messages to 30 recipients\n"};
    hj_buf b = HJ_BUF_INIT;

    (void)state;
    assert_non_null(inc);
    alert_mail(&ac, &inc, queue, 1, &b);
    static const char *const want[] = {
        "From: postmaster@example.test\n",
        "To: postmaster@example.test\n",
        "Reply-To: hijackd-unlock@example.test\n",
        "Subject: [hijackd] alice@example.test locked (score_lock) "
        "[HJU1-1764057600-1764316800-0123456789abcdef0123456789abcdef]\n",
        "Auto-Submitted: auto-generated\n",
        "X-Hijackd-Incident: alice@example.test/1764057600\n",
        "\n\nhijackd on mx.example.test locked alice@example.test at 2025-11-25T08:00:00+00:00.",
        "rule score_lock: score was 72 in the last 1h, over the limit of 60",
        "novel_network=1, failed_logins=6 (its score: 12)",
        "came from unknown [203.0.113.66] (external), on a network this account had not used",
        "recent recipients: v1@remote.test, v2@remote.test",
        "In Postfix's queue for this account\n  6 messages to 30 recipients\n",
        "hijackctl show -- 'alice@example.test'\n",
        "hijackctl unlock --reason 'password changed' -- 'alice@example.test'\n",
        "hijackctl queue purge --yes -- 'alice@example.test'\n",
        "until 2025-11-28T08:00:00+00:00:\n    HJU1-1764057600-1764316800-",
        "The decision, as recorded:\n{\"metric\":\"score\","};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        assert_has(&b, want[i]);
    buf_free(&b);
    json_decref(inc);
}

/* a digest: one mail, one subject, a section (and token) per incident */
static void
test_alert_digest(void **state)
{
    json_t *a = json_loads(incident_json, 0, NULL), *b2 = json_deep_copy(a);
    json_t *incs[2] = {a, b2};
    hj_buf b = HJ_BUF_INIT;

    (void)state;
    json_object_set_new(b2, "account", json_string("bob@example.test"));
    alert_mail(&ac, incs, NULL, 2, &b);
    assert_has(&b, "Subject: [hijackd] digest: 2 incidents\n");
    assert_has(&b, "==== 1 of 2: hijackd@mx.example.test: alice@example.test locked by rule "
                   "score_lock (score 72 > 60 in 1h) from 203.0.113.66");
    assert_has(&b, "==== 2 of 2: hijackd@mx.example.test: bob@example.test locked");
    assert_has(&b, "hijackctl unlock --reason 'password changed' -- 'bob@example.test'");
    assert_int_equal(strstr(buf_str(&b), "X-Hijackd-Incident") == NULL, 1);
    buf_free(&b);
    json_decref(a);
    json_decref(b2);
}

/* hostile names in the alert's commands: one sh word each (' as '\''), after "--"; a name with
 * a control or non-ASCII character (a newline, a bidi override) gets no command to paste */
static void
test_alert_hostile_names(void **state)
{
    static const struct {
        const char *name, *show; /* NULL: no paste-ready command */
    } rows[] = {
        {"o'neil@example.test", "hijackctl show -- 'o'\\''neil@example.test'\n"},
        {"x'$(touch /tmp/p)'@e.test", "hijackctl show -- 'x'\\''$(touch /tmp/p)'\\''@e.test'\n"},
        {"''@e.test", "hijackctl show -- ''\\'''\\''@e.test'\n"},
        {"-rf@e.test", "hijackctl show -- '-rf@e.test'\n"},
        {"bad\\xffname@e.test", "hijackctl show -- 'bad\\xffname@e.test'\n"},
        {"a b;c|d`e`@e.test", "hijackctl show -- 'a b;c|d`e`@e.test'\n"},
        {"evil@e.test\n  unlock: rm -rf /", NULL},
        {"tab\t@e.test", NULL},
        {"\xc3\xa9t\xc3\xa9@e.test", NULL},
        {"x\xe2\x80\xae@e.test", NULL}, /* U+202E RIGHT-TO-LEFT OVERRIDE */
    };
    json_t *inc = json_loads(incident_json, 0, NULL);

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        hj_buf b = HJ_BUF_INIT;
        json_object_set_new(inc, "account", json_string(rows[i].name));
        alert_mail(&ac, &inc, NULL, 1, &b);
        if (rows[i].show) {
            CHECK_HAS(rows[i].name, buf_str(&b), rows[i].show);
        } else {
            CHECK_HAS(rows[i].name, buf_str(&b), "not safe to paste");
            if (strstr(buf_str(&b), "hijackctl show") || strstr(buf_str(&b), "hijackctl unlock") ||
                strstr(buf_str(&b), "\n  unlock: rm"))
                fail_msg("%s: a command to paste, or the name's own line:\n%s", rows[i].name,
                         buf_str(&b));
        }
        buf_free(&b);
    }
    json_decref(inc);
}

/* alert_address_ok: one bare address a notice may go to; a name that would add recipients not */
static void
test_address_ok(void **state)
{
    static const struct {
        const char *a;
        int ok;
    } rows[] = {
        {"alice@example.test", 1},
        {"o'neil+tag@example.test", 1},
        {"\xc3\xa9t\xc3\xa9@example.test", 1}, /* SMTPUTF8 */
        {"carol@example.test,boss@evil.test", 0},
        {"carol@example.test boss@evil.test", 0},
        {"Carol <boss@evil.test>", 0},
        {"<boss@evil.test>", 0},
        {"\"a,b\"@example.test", 0},
        {"a@b@example.test", 0},
        {"alice", 0},
        {"@example.test", 0},
        {"alice@", 0},
        {"al\nice@example.test", 0},
        {"al\tice@example.test", 0},
        {"al\x7fice@example.test", 0},
        {"bad\xffname@example.test", 0},
        {"bad\\xffname@example.test", 0}, /* the shown form (jname.h) */
        {"a(comment)@example.test", 0},
        {"a@[127.0.0.1]", 0},
        {"a;b@example.test", 0},
        {"a:b@example.test", 0},
    };
    char long_one[300];

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        CHECK_EQ(rows[i].a, alert_address_ok(rows[i].a), rows[i].ok);
    memset(long_one, 'a', sizeof(long_one));
    memcpy(long_one + 280, "@example.test", 14);
    CHECK_EQ("300 bytes", alert_address_ok(long_one), 0);
}

/* the user notice from its template; no header injection through the account */
static void
test_notice(void **state)
{
    json_t *inc = json_loads(incident_json, 0, NULL);
    hj_buf b = HJ_BUF_INIT;

    (void)state;
    alert_notice(&ac, inc, &b);
    assert_has(&b, "To: alice@example.test\nSubject: alice@example.test is locked\n");
    assert_has(&b, "\n\nHi alice@example.test, ask the help desk (score_lock, until an admin "
                   "lifts it, 2025-11-25T08:00:00+00:00, mx.example.test).\n");
    buf_reset(&b);
    json_object_set_new(inc, "account", json_string("evil@x\nBcc: victim@y"));
    alert_notice(&ac, inc, &b);
    assert_has(&b, "To: evil@x?Bcc: victim@y\n");
    assert_has(&b, "Subject: evil@x?Bcc: victim@y is locked\n");
    buf_free(&b);
    json_decref(inc);
}

int
main(void)
{
    static const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token),
        cmocka_unit_test(test_token_verify),
        cmocka_unit_test(test_token_known_answer),
        cmocka_unit_test(test_token_mac_digits),
        cmocka_unit_test(test_token_key),
        cmocka_unit_test(test_tmpl),
        cmocka_unit_test(test_alert_one),
        cmocka_unit_test(test_alert_digest),
        cmocka_unit_test(test_alert_hostile_names),
        cmocka_unit_test(test_notice),
        cmocka_unit_test(test_address_ok),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
