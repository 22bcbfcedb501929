/*
 * test_policy_codec - the Postfix policy protocol codec (src/postfix/policy.h)
 *
 * A table of byte strings as a client might send them, with the outcome
 * expected (complete, incomplete, malformed) and some attribute values;
 * then the size limits, pipelining, and the reply formatting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/postfix/policy.h"

/* what Postfix 3.7 sends at END-OF-MESSAGE (from a real run, see MAILSTACK.md) */
#define FULL_EOM                                                                                   \
    "request=smtpd_access_policy\nprotocol_state=END-OF-MESSAGE\nprotocol_name=ESMTP\n"            \
    "client_address=127.0.0.1\nclient_name=localhost\nclient_port=40800\n"                         \
    "reverse_client_name=localhost\nserver_address=127.0.0.1\nserver_port=3587\nhelo_name=vm\n"    \
    "sender=alice@example.test\nrecipient=someone@remote.test\nrecipient_count=1\n"                \
    "queue_id=4D66EA723D5\ninstance=5fa2.6b034f9c.4b266.0\nsize=244\netrn_domain=\nstress=\n"      \
    "sasl_method=PLAIN\nsasl_username=alice@example.test\nsasl_sender=\nccert_subject=\n"          \
    "ccert_issuer=\nccert_fingerprint=\nccert_pubkey_fingerprint=\nencryption_protocol=\n"         \
    "encryption_cipher=\nencryption_keysize=0\npolicy_context=\n\n"

typedef struct codec_case {
    const char *name;
    const char *in;
    size_t len; /* 0: strlen(in) */
    int want;   /* 1 complete, 0 incomplete, -1 malformed */
    policy_attr attr;
    const char *value; /* expected value of attr when want == 1 (NULL: not checked) */
} codec_case;

static const codec_case cases[] = {
    {"full END-OF-MESSAGE request", FULL_EOM, 0, 1, PA_SASL_USERNAME, "alice@example.test"},
    {"recipient_count", FULL_EOM, 0, 1, PA_RECIPIENT_COUNT, "1"},
    {"instance", FULL_EOM, 0, 1, PA_INSTANCE, "5fa2.6b034f9c.4b266.0"},
    {"empty value", FULL_EOM, 0, 1, PA_SASL_SENDER, ""},
    {"minimal", "request=smtpd_access_policy\n\n", 0, 1, PA_REQUEST, "smtpd_access_policy"},
    {"value with '='", "request=smtpd_access_policy\nsender=a=b@x\n\n", 0, 1, PA_SENDER, "a=b@x"},
    {"repeated attribute: last wins", "request=smtpd_access_policy\nsize=1\nsize=2\n\n", 0, 1,
     PA_SIZE, "2"},
    {"unknown attribute ignored", "request=smtpd_access_policy\nfuture_thing=1\n\n", 0, 1,
     PA_REQUEST, "smtpd_access_policy"},
    {"no empty line yet", "request=smtpd_access_policy\nsize=1\n", 0, 0, PA_REQUEST, NULL},
    {"half a line", "request=smtpd_acc", 0, 0, PA_REQUEST, NULL},
    {"nothing", "", 0, 0, PA_REQUEST, NULL},
    {"line without =", "request=smtpd_access_policy\nbogus\n\n", 0, -1, PA_REQUEST, NULL},
    {"empty name", "request=smtpd_access_policy\n=x\n\n", 0, -1, PA_REQUEST, NULL},
    {"CR in a line", "request=smtpd_access_policy\r\n\r\n", 0, -1, PA_REQUEST, NULL},
    {"NUL byte in a value: kept, flagged", "request=smtpd_access_policy\nsize=1\0\n\n", 37, 1,
     PA_SIZE, NULL},
    {"CR in sasl_username: kept, flagged", "request=smtpd_access_policy\nsasl_username=al\rice\n\n",
     0, 1, PA_SASL_USERNAME, "al\rice"},
    {"control byte in a name", "request=smtpd_access_policy\nsa\x01sl=x\n\n", 0, -1, PA_REQUEST,
     NULL},
    {"binary junk", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\n\n", 13, -1, PA_REQUEST, NULL},
    {"no request attribute", "size=1\n\n", 0, -1, PA_REQUEST, NULL},
    {"other request type", "request=junk\n\n", 0, -1, PA_REQUEST, NULL},
    {"only an empty line", "\n", 0, -1, PA_REQUEST, NULL},
    {"HTTP instead", "GET / HTTP/1.0\n\n", 0, -1, PA_REQUEST, NULL},
};

/* a value with control bytes is flagged and, copied out, sanitised */
static void
test_control_bytes(void **state)
{
    static const char in[] = "request=smtpd_access_policy\nsasl_username=al\rice\x7f\nsize=1\n\n";
    policy_req req;
    size_t used;
    char err[128], buf[16];

    (void)state;
    assert_int_equal(policy_parse(in, sizeof(in) - 1, &req, &used, err, sizeof(err)), 1);
    assert_int_equal(req.ctl, 1);
    assert_string_equal(policy_value(req.a[PA_SASL_USERNAME], buf, sizeof(buf)), "al?ice?");
    assert_string_equal(policy_value(req.a[PA_SASL_USERNAME], buf, 4), "al?");
    assert_string_equal(policy_value(req.a[PA_SENDER], buf, sizeof(buf)), ""); /* absent */
}

static void
test_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const codec_case *c = &cases[i];
        size_t len = c->len ? c->len : strlen(c->in), used = 0;
        policy_req req;
        char err[128] = "";
        int rc = policy_parse(c->in, len, &req, &used, err, sizeof(err));
        if (rc != c->want)
            fail_msg("%s: got %d (%s), want %d", c->name, rc, err, c->want);
        if (rc == -1 && err[0] == 0)
            fail_msg("%s: malformed without a reason", c->name);
        if (rc == 1 && used != len)
            fail_msg("%s: used %zu of %zu", c->name, used, len);
        if (rc == 1 && c->value) {
            hj_span v = req.a[c->attr];
            if (v.p == NULL || v.n != strlen(c->value) || memcmp(v.p, c->value, v.n) != 0)
                fail_msg("%s: value \"%.*s\", want \"%s\"", c->name, (int)v.n, v.p ? v.p : "",
                         c->value);
        }
    }
}

static void
test_pipelined(void **state)
{
    const char *two =
        "request=smtpd_access_policy\nsize=1\n\nrequest=smtpd_access_policy\nsize=2\n\n";
    policy_req req;
    size_t used;
    char err[64];

    (void)state;
    assert_int_equal(policy_parse(two, strlen(two), &req, &used, err, sizeof(err)), 1);
    assert_int_equal(policy_number(req.a[PA_SIZE]), 1);
    assert_int_equal(policy_parse(two + used, strlen(two) - used, &req, &used, err, sizeof(err)),
                     1);
    assert_int_equal(policy_number(req.a[PA_SIZE]), 2);
}

static void
test_size_limits(void **state)
{
    size_t big = POLICY_MAX_REQUEST + 100, used;
    char *buf = malloc(big), err[64];
    policy_req req;

    (void)state;
    /* one huge line without a newline: incomplete up to the limit, malformed past it */
    memset(buf, 'x', big);
    memcpy(buf, "sender=", 7);
    assert_int_equal(policy_parse(buf, POLICY_MAX_REQUEST, &req, &used, err, sizeof(err)), 0);
    assert_int_equal(policy_parse(buf, big, &req, &used, err, sizeof(err)), -1);
    /* many short lines past the limit */
    size_t off = 0;
    while (off + 8 < big) {
        memcpy(buf + off, "a=bbbbb\n", 8);
        off += 8;
    }
    assert_int_equal(policy_parse(buf, off, &req, &used, err, sizeof(err)), -1);
    /* too many attributes, each short */
    off = 0;
    memcpy(buf, "request=smtpd_access_policy\n", 28);
    off = 28;
    for (int i = 0; i <= POLICY_MAX_ATTRS; i++) {
        memcpy(buf + off, "x=1\n", 4);
        off += 4;
    }
    buf[off++] = '\n';
    assert_int_equal(policy_parse(buf, off, &req, &used, err, sizeof(err)), -1);
    free(buf);
}

/*
 * a request of a few attributes with long values, total bytes long with
 * its final empty line, the last value filling it; -1 if total is too small
 */
static int
long_request(char *buf, size_t total)
{
    static const char head[] = "request=smtpd_access_policy\nsender=";
    static const char mid[] = "\nrecipient=";
    static const char tail[] = "\nsize=1\nccert_subject=";
    size_t fixed = (sizeof(head) - 1) + (sizeof(mid) - 1) + (sizeof(tail) - 1) + 2;
    size_t v = 30000, off = 0;

    if (total < fixed + 2 * v)
        return -1;
    memcpy(buf, head, sizeof(head) - 1), off += sizeof(head) - 1;
    memset(buf + off, 's', v), off += v;
    memcpy(buf + off, mid, sizeof(mid) - 1), off += sizeof(mid) - 1;
    memset(buf + off, 'r', v), off += v;
    memcpy(buf + off, tail, sizeof(tail) - 1), off += sizeof(tail) - 1;
    memset(buf + off, 'c', total - fixed - 2 * v), off += total - fixed - 2 * v;
    memcpy(buf + off, "\n\n", 2);
    return 0;
}

/*
 * the byte limit on a whole request, with few attributes (far from
 * POLICY_MAX_ATTRS); the figure is written out, so that raising
 * POLICY_MAX_REQUEST fails here too
 */
static void
test_size_boundary(void **state)
{
    static const struct {
        const char *name;
        long delta; /* total bytes = 64 KiB + delta */
        int want;
    } t[] = {
        {"a byte under the limit", -1, 1},
        {"exactly the limit", 0, 1},
        {"a byte over (the empty line past the limit)", 1, -1},
        {"two bytes over (the last value crosses it)", 2, -1},
        {"a KiB over", 1024, -1},
    };
    char *buf = malloc(65536 + 2048);

    (void)state;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        size_t total = (size_t)(65536 + t[i].delta), used = 0;
        policy_req req;
        char err[128] = "";
        assert_int_equal(long_request(buf, total), 0);
        int rc = policy_parse(buf, total, &req, &used, err, sizeof(err));
        if (rc != t[i].want)
            fail_msg("%s (%zu bytes): got %d (%s), want %d", t[i].name, total, rc, err, t[i].want);
        if (rc == 1 && (used != total || req.nattrs != 5 || req.a[PA_SENDER].n != 30000))
            fail_msg("%s: used %zu of %zu, %d attributes, sender of %zu bytes", t[i].name, used,
                     total, req.nattrs, req.a[PA_SENDER].n);
        if (rc == -1 && strcmp(err, "request longer than 65536 bytes") != 0)
            fail_msg("%s: error \"%s\", want the size error", t[i].name, err);
    }
    free(buf);
}

static void
test_reply(void **state)
{
    char out[256];

    (void)state;
    assert_int_equal(policy_reply(out, sizeof(out), "DUNNO", NULL), strlen("action=DUNNO\n\n"));
    assert_string_equal(out, "action=DUNNO\n\n");
    policy_reply(out, sizeof(out), "REJECT", "5.7.1 locked\r\ncall x");
    assert_string_equal(out, "action=REJECT 5.7.1 locked  call x\n\n");
    assert_int_equal(policy_reply(out, 8, "REJECT", "too long for the buffer"), 0);
}

static void
test_number(void **state)
{
    static const struct {
        const char *s;
        int64_t want;
    } t[] = {{"0", 0},    {"244", 244}, {"", -1},
             {"12a", -1}, {"-1", -1},   {"9999999999999999999", -1}};

    (void)state;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        hj_span s = {t[i].s, strlen(t[i].s)};
        if (policy_number(s) != t[i].want)
            fail_msg("policy_number(\"%s\") = %lld", t[i].s, (long long)policy_number(s));
    }
}

int
main(void)
{
    static const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_control_bytes),       cmocka_unit_test(test_pipelined),
        cmocka_unit_test(test_size_limits), cmocka_unit_test(test_size_boundary),
        cmocka_unit_test(test_reply),       cmocka_unit_test(test_number),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
