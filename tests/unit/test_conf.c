/*
 * test_conf - unit tests for the typed settings table (conf.h, conf_int.h): the bounds of
 * each kind, an ENUM's and a LIST's values, errors named by file:line or -o, the table's own
 * consistency, conf_changed() and conf_keep() for reload, and the generated reference
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../src/conf/conf.h"
#include "../../src/conf/conf_int.h"

/* load - the built-in configuration with one -o; NULL and the message in err on an error */
static hj_conf *
load1(const char *opt, char *err, size_t errlen)
{
    char *opts[] = {(char *)opt};

    return conf_load(NULL, opts, opt ? 1 : 0, err, errlen);
}

/* ---- values that must be refused, with today's exact messages ---- */

typedef struct bad_case {
    const char *opt;
    const char *err;
} bad_case;

static const bad_case bad_cases[] = {
    /* INT */
    {"ipv4_network_prefix=7", "-o:1: bad number \"7\" (expected 8..32)"},
    {"ipv4_network_prefix=33", "-o:1: bad number \"33\" (expected 8..32)"},
    {"signal_similar_sizes=65", "-o:1: bad number \"65\" (expected 2..64)"},
    {"queue_max_tracked=99", "-o:1: bad number \"99\" (expected 100..100000000)"},
    {"alert_max=1x", "-o:1: bad number \"1x\" (expected 1..1000)"},
    /* TIME */
    {"signal_window=0", "-o:1: bad duration \"0\" (e.g. 90s, 30m, 12h, 2d, 1w)"},
    {"queue_id_lifetime=soon", "-o:1: bad duration \"soon\" (e.g. 90s, 30m, 12h, 2d, 1w)"},
    {"relock_escalate_within=-1", "-o:1: bad duration \"-1\" (0 = never escalate)"},
    {"counters_flush_interval=61", "-o:1: counters_flush_interval is at most 1m, got 61"},
    {"webhook_timeout=301s", "-o:1: webhook_timeout is at most 5m, got 301s"},
    {"postfix_command_timeout=2h", "-o:1: postfix_command_timeout is at most 1h, got 2h"},
    /* BOOL, OCTAL */
    {"log_submissions=maybe", "-o:1: bad value \"maybe\" (yes or no)"},
    {"policy_socket_mode=0778", "-o:1: bad mode \"0778\" (octal, e.g. 0660)"},
    {"policy_socket_mode=01000", "-o:1: bad mode \"01000\" (octal, e.g. 0660)"},
    /* ENUM */
    {"store_error_action=reject", "-o:1: bad failure action \"reject\" (dunno or defer)"},
    {"policy_count_stage=data", "-o:1: bad stage \"data\" (end-of-message or rcpt)"},
    {"webhook_format=xml", "-o:1: bad webhook_format \"xml\" (json or slack)"},
    /* LIST */
    {"unlock_admins=bob", "-o:1: unlock_admins: \"bob\" is not a full address (user@domain)"},
    {"webhook_urls=https://ok.example, ftp://x",
     "-o:1: webhook_urls: \"ftp://x\" is not an http:// or https:// URL"},
    /* STR */
    {"state_dir=var/lib", "-o:1: state_dir must be an absolute path, got \"var/lib\""},
    {"log_follow=mail.log", "-o:1: log_follow must be an absolute path or empty, got \"mail.log\""},
    {"policy_listen=nowhere",
     "-o:1: bad address \"nowhere\" (host:port, or an absolute socket path)"},
    {"store=redis:", "-o:1: bad store \"redis:\" (sqlite:, sqlite:PATH or memory:)"},
    {"http_token_read=short", "-o:1: http_token_read must be empty or at least 16 printable "
                              "characters"},
    {"alert_to=a b", "-o:1: alert_to must be a bare mail address, got \"a b\""},
    {"defer_text=5.7.1 no", "-o:1: the text must start with a 4.x.y status code, got \"5.7.1 no\""},
    /* CUSTOM */
    {"similar_size_tolerance=51", "-o:1: bad percentage \"51\" (0 to 50, e.g. 1 or 2.5)"},
    {"alert_on=lock, unlock", "-o:1: bad action \"unlock\" (warn, throttle, lock, relay)"},
    {"own_networks=10.0.0.0/33", "-o:1: bad network \"10.0.0.0/33\""},
    /* checks across settings (conf_admin_check, conf_notify_check) */
    {"http_listen=192.0.2.1:80",
     "http_listen = 192.0.2.1:80 is not loopback: set http_allow_remote = yes to serve the API "
     "there (and put TLS in front of it)"},
    {"unlock_address=unlock@example.com",
     "reply-to-unlock needs both unlock_address (where replies go) and unlock_admins (who may "
     "reply)"},
};

static void
test_bad_values(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        char err[1024] = "";
        hj_conf *c = load1(bad_cases[i].opt, err, sizeof(err));
        if (c != NULL) {
            conf_free(c);
            fail_msg("%s: accepted", bad_cases[i].opt);
        }
        if (strncmp(err, bad_cases[i].err, strlen(bad_cases[i].err)) != 0)
            fail_msg("%s:\n  got  %s\n  want %s", bad_cases[i].opt, err, bad_cases[i].err);
    }
}

/* ---- values that are taken, and where they land ---- */

typedef struct good_case {
    const char *opt;
    long long (*get)(const hj_conf *c);
    long long want;
} good_case;

#define GETTER(name, expr)                                                                         \
    static long long name(const hj_conf *c)                                                        \
    {                                                                                              \
        return (long long)(expr);                                                                  \
    }
GETTER(g_v4, c->pol->v4_prefix)
GETTER(g_similar, c->pol->sig.similar)
GETTER(g_floor, c->pol->sig.volume_floor)
GETTER(g_qmax, c->queue_max_tracked)
GETTER(g_flush, c->counters_flush_interval)
GETTER(g_relock, c->pol->relock_escalate)
GETTER(g_whto, c->webhook_timeout)
GETTER(g_logsub, c->log_submissions)
GETTER(g_mode, c->policy_socket_mode)
GETTER(g_store_err, c->store_error_action)
GETTER(g_stage, c->policy_count_stage)
GETTER(g_format, c->webhook_format)
GETTER(g_permille, c->pol->similar_permille)
GETTER(g_alert_on, c->alert_on)
GETTER(g_nlocal, c->nlocal)
GETTER(g_nurls, c->nwebhook_urls)

static const good_case good_cases[] = {
    {"ipv4_network_prefix=8", g_v4, 8},
    {"ipv4_network_prefix=32", g_v4, 32},
    {"signal_similar_sizes=64", g_similar, 64},
    {"volume_floor=1000000000", g_floor, 1000000000},
    {"queue_max_tracked=100000000", g_qmax, 100000000},
    {"counters_flush_interval=1m", g_flush, 60},
    {"counters_flush_interval=1", g_flush, 1},
    {"relock_escalate_within=0", g_relock, 0},
    {"relock_escalate_within=2w", g_relock, 1209600},
    {"webhook_timeout=5m", g_whto, 300},
    {"log_submissions=yes", g_logsub, 1},
    {"log_submissions=no", g_logsub, 0},
    {"policy_socket_mode=0640", g_mode, 0640},
    {"policy_socket_mode=0777", g_mode, 0777},
    {"store_error_action=defer", g_store_err, CONF_FAIL_DEFER},
    {"store_error_action=dunno", g_store_err, CONF_FAIL_DUNNO},
    {"policy_count_stage=rcpt", g_stage, CONF_COUNT_RCPT},
    {"webhook_format=slack", g_format, 1},
    {"similar_size_tolerance=2.5", g_permille, 25},
    {"alert_on=warn lock", g_alert_on, (1u << HJ_A_WARN) | (1u << HJ_A_LOCK)},
    {"local_domains=@Example.COM, b.org\tc.net", g_nlocal, 3},
    {"local_domains=", g_nlocal, 0},
    {"webhook_urls=http://a.example/x https://b.example", g_nurls, 2},
};

static void
test_good_values(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(good_cases) / sizeof(good_cases[0]); i++) {
        char err[1024] = "";
        hj_conf *c = load1(good_cases[i].opt, err, sizeof(err));
        if (c == NULL)
            fail_msg("%s: refused: %s", good_cases[i].opt, err);
        long long got = good_cases[i].get(c);
        conf_free(c);
        if (got != good_cases[i].want)
            fail_msg("%s: got %lld, want %lld", good_cases[i].opt, got, good_cases[i].want);
    }
}

/* a LIST item is rewritten by its check: local domains lose "@" and their capitals */
static void
test_list_items(void **state)
{
    char err[512];
    hj_conf *c = load1("local_domains=@Example.COM, b.org", err, sizeof(err));

    (void)state;
    assert_non_null(c);
    assert_int_equal(c->nlocal, 2);
    assert_string_equal(c->local_domains[0], "example.com");
    assert_string_equal(c->local_domains[1], "b.org");
    conf_free(c);
}

/* the defaults land where the engine reads them */
static void
test_defaults(void **state)
{
    char err[512];
    hj_conf *c = load1(NULL, err, sizeof(err));

    (void)state;
    assert_non_null(c);
    assert_int_equal(c->pol->v4_prefix, 24);
    assert_int_equal(c->pol->sig.window, 3600);
    assert_int_equal(c->policy_socket_mode, 0666);
    assert_int_equal(c->alert_on, 1u << HJ_A_LOCK);
    assert_int_equal(c->counters_flush_interval, 2);
    assert_string_equal(c->policy_listen, "/var/spool/postfix/private/hijackd");
    assert_int_equal(c->npolicy_allow_users, 1);
    assert_string_equal(c->policy_allow_users[0], "postfix");
    assert_string_equal(c->control_read_group, "");
    assert_int_equal(c->control_max_connections, 32);
    assert_int_equal(c->http_max_connections, 256);
    assert_string_equal(c->http_token_read, "");
    assert_non_null(strstr(c->notice_template, "Subject: "));
    assert_int_equal(c->nunlock_admins, 0);
    conf_free(c);
}

/* an error in a file names file:line */
static void
test_file_line(void **state)
{
    char path[] = "/tmp/test_conf.XXXXXX", err[512];
    int fd = mkstemp(path);

    (void)state;
    assert_true(fd >= 0);
    const char text[] = "# a comment\nalert_max = 5\n\nwebhook_format = xml\n";
    assert_int_equal(write(fd, text, sizeof(text) - 1), sizeof(text) - 1);
    close(fd);
    hj_conf *c = conf_load(path, NULL, 0, err, sizeof(err));
    unlink(path);
    assert_null(c);
    char want[600];
    snprintf(want, sizeof(want), "%s:4: bad webhook_format \"xml\" (json or slack)", path);
    assert_string_equal(err, want);
}

/* ---- the table itself ---- */

static void
test_table(void **state)
{
    (void)state;
    assert_int_equal(conf_nsettings(), conf_nsettings_);
    for (size_t i = 0; i < conf_nsettings_; i++) {
        const conf_setting *s = &conf_settings[i];
        if (s->name == NULL || s->def == NULL || s->help == NULL || s->help[0] == 0)
            fail_msg("row %zu: a name, a default and help", i);
        for (size_t j = 0; j < i; j++)
            if (strcmp(conf_settings[j].name, s->name) == 0)
                fail_msg("%s: twice in the table", s->name);
        switch (s->kind) {
        case CONF_K_INT:
            if ((s->size != 4 && s->size != 8) || s->min > s->max ||
                (s->size == 4 && (s->max > INT32_MAX || s->min < INT32_MIN)))
                fail_msg("%s: an INT field of %zu bytes for %lld..%lld", s->name, s->size, s->min,
                         s->max);
            break;
        case CONF_K_TIME:
            if (s->size != 8 || (s->max && s->min > s->max))
                fail_msg("%s: a TIME field must be int64_t", s->name);
            break;
        case CONF_K_BOOL:
        case CONF_K_OCTAL:
        case CONF_K_ENUM:
            if (s->size != sizeof(int) || (s->kind == CONF_K_ENUM && (!s->names || !s->what)))
                fail_msg("%s: an int field (and an ENUM's names)", s->name);
            break;
        case CONF_K_STR:
        case CONF_K_LIST:
            if (s->size != sizeof(char *) || s->base != CONF_B_CONF ||
                (s->kind == CONF_K_LIST && s->off_n == 0))
                fail_msg("%s: a char * or char ** in hj_conf (and a LIST's count)", s->name);
            break;
        default:
            if (s->apply == NULL)
                fail_msg("%s: a CUSTOM row without its function", s->name);
        }
    }
}

/* ---- reload: conf_changed, conf_keep ---- */

typedef struct seen {
    char names[8][64];
    char olds[8][64];
    char news[8][64];
    size_t n;
} seen;

static void
collect(void *ctx, const char *name, const char *old_text, const char *new_text)
{
    seen *s = ctx;

    if (s->n < 8) {
        snprintf(s->names[s->n], 64, "%s", name);
        snprintf(s->olds[s->n], 64, "%s", old_text);
        snprintf(s->news[s->n], 64, "%s", new_text);
    }
    s->n++;
}

static void
test_changed(void **state)
{
    char *opts[] = {"store = memory:", "alert_max = 7", "ipv4_network_prefix = 16",
                    "policy_listen = 127.0.0.1:10100"};
    char err[512];
    hj_conf *a = conf_load(NULL, NULL, 0, err, sizeof(err));
    hj_conf *b = conf_load(NULL, opts, 4, err, sizeof(err));
    seen s = {0};

    (void)state;
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(conf_changed(a, a, 0, collect, &s), 0);
    assert_int_equal(s.n, 0);
    /* the restart-only ones, in table order, with their texts */
    assert_int_equal(conf_changed(a, b, CONF_F_RESTART, collect, &s), 2);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.names[0], "policy_listen");
    assert_string_equal(s.olds[0], "/var/spool/postfix/private/hijackd");
    assert_string_equal(s.news[0], "127.0.0.1:10100");
    assert_string_equal(s.names[1], "store");
    assert_string_equal(s.olds[1], "sqlite:");
    assert_string_equal(s.news[1], "memory:");
    assert_int_equal(conf_changed(a, b, CONF_F_NOTIFY, NULL, NULL), 1); /* alert_max */
    assert_int_equal(conf_changed(a, b, CONF_F_RESTART | CONF_F_NOTIFY, NULL, NULL), 3);
    assert_int_equal(conf_changed(a, b, 0, NULL, NULL), 4);

    /* keep the running values of the restart-only ones; the others stay new */
    assert_int_equal(conf_keep(b, a, CONF_F_RESTART, err, sizeof(err)), 0);
    assert_int_equal(conf_changed(a, b, CONF_F_RESTART, NULL, NULL), 0);
    assert_string_equal(b->policy_listen, "/var/spool/postfix/private/hijackd");
    assert_string_equal(b->store, "sqlite:");
    assert_int_equal(b->alert_max, 7);
    assert_int_equal(b->pol->v4_prefix, 16);
    assert_int_equal(conf_changed(a, b, 0, NULL, NULL), 2);
    conf_free(a);
    conf_free(b);
}

/* a file setting changes when its content does, though its text (the path) stays */
static void
test_changed_file(void **state)
{
    char path[] = "/tmp/test_conf_tmpl.XXXXXX", opt[100], err[512];
    int fd = mkstemp(path);

    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "Subject: one\n\nbody\n", 19), 19);
    close(fd);
    snprintf(opt, sizeof(opt), "user_notice_template=%s", path);
    hj_conf *a = load1(opt, err, sizeof(err));
    FILE *f = fopen(path, "w");
    fputs("Subject: two\n\nbody {account}\n", f);
    fclose(f);
    hj_conf *b = load1(opt, err, sizeof(err));
    unlink(path);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(conf_changed(a, b, CONF_F_NOTIFY, NULL, NULL), 1);
    assert_int_equal(conf_changed(a, b, CONF_F_RESTART, NULL, NULL), 0);
    /* its old content cannot be put back from the text: conf_keep says so */
    assert_int_equal(conf_keep(b, a, CONF_F_NOTIFY, err, sizeof(err)), -1);
    assert_string_equal(err, "user_notice_template: its old value cannot be kept");
    conf_free(a);
    conf_free(b);
}

/* ---- the reference ---- */

static void
test_reference(void **state)
{
    hj_buf b = HJ_BUF_INIT;

    (void)state;
    conf_reference(&b);
    const char *r = buf_str(&b);
    assert_non_null(strstr(r, "| name | default | type | applies | meaning |"));
    for (size_t i = 0; i < conf_nsettings_; i++) {
        char row[200];
        snprintf(row, sizeof(row), "\n| `%s` | ", conf_settings[i].name);
        if (strstr(r, row) == NULL)
            fail_msg("%s: no row in the reference", conf_settings[i].name);
    }
    assert_non_null(strstr(r, "| `policy_listen` | /var/spool/postfix/private/hijackd | absolute "
                              "socket path or host:port | restart |"));
    assert_non_null(strstr(r, "| `ipv4_network_prefix` | 24 | integer 8..32 | reload |"));
    assert_non_null(strstr(r, "| `counters_flush_interval` | 2s | duration 1s..1m | restart |"));
    assert_non_null(strstr(r, "| `store_error_action` | dunno | dunno or defer | reload |"));
    assert_non_null(strstr(r, "| `own_networks` | (empty) | "));
    buf_free(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_values), cmocka_unit_test(test_good_values),
        cmocka_unit_test(test_list_items), cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_file_line),  cmocka_unit_test(test_table),
        cmocka_unit_test(test_changed),    cmocka_unit_test(test_changed_file),
        cmocka_unit_test(test_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
