/*
 * test_core - the core's verdicts, table-driven, without sockets: a configuration file in a
 * temporary state_dir, the memory store (or its failure switch), and a list of requests with the
 * verdict each must get. Also: a verdict is returned by its own call even when an observer asks
 * the core about another account from inside a decision (no side channel), manual changes, and
 * the queue-ID map's three outcomes.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <unistd.h>

#include "../../src/core/core.h"
#include "../../src/util/log.h"
#include "check.h"

typedef struct step {
    const char *account;
    int count;        /* 1: the counting request; 0: a state check */
    int nrcpt;
    const char *txn;  /* per_rcpt cases */
    core_kind want;
    int decided;
    const char *rule; /* of a REJECT or DEFER */
} step;

typedef struct core_case {
    const char *name;
    const char *conf; /* the file's text (state_dir and store are added) */
    const char *store;
    int per_rcpt;
    step steps[8];
} core_case;

#define LOCK3 "rule burst = metric=messages window=10m limit=3 action=lock\n"
#define RCPT                                                                                       \
    "rule burst = metric=messages window=10m limit=2 action=lock\n"                               \
    "policy_count_stage = rcpt\n"

static const core_case cases[] = {
    {"the message over the limit is itself refused, then every later one",
     LOCK3,
     "memory:",
     0,
     {{"a@x", 1, 1, NULL, CORE_OK, 0, NULL},
      {"a@x", 1, 1, NULL, CORE_OK, 0, NULL},
      {"a@x", 1, 1, NULL, CORE_OK, 0, NULL},
      {"a@x", 1, 1, NULL, CORE_REJECT, 1, "burst"},
      {"a@x", 0, 1, NULL, CORE_REJECT, 0, "burst"},
      {"b@x", 1, 1, NULL, CORE_OK, 0, NULL}}},
    {"a state check counts nothing",
     LOCK3,
     "memory:",
     0,
     {{"a@x", 0, 1, NULL, CORE_OK, 0, NULL},
      {"a@x", 0, 1, NULL, CORE_OK, 0, NULL},
      {"a@x", 0, 1, NULL, CORE_OK, 0, NULL},
      {"a@x", 0, 1, NULL, CORE_OK, 0, NULL},
      {"a@x", 1, 1, NULL, CORE_OK, 0, NULL}}},
    {"a throttle defers, a warn lets the message go",
     "rule slow = metric=recipients window=1h limit=5 action=throttle\n"
     "rule look = metric=messages window=1h limit=1 action=warn\n",
     "memory:",
     0,
     {{"a@x", 1, 1, NULL, CORE_OK, 0, NULL},
      {"a@x", 1, 1, NULL, CORE_WARN, 1, NULL},
      {"a@x", 1, 9, NULL, CORE_DEFER, 1, "slow"},
      {"a@x", 0, 1, NULL, CORE_DEFER, 0, "slow"}}},
    {"a hold accepts and holds, its messages still count: a lock still comes",
     "rule h = metric=messages window=10m limit=2 action=hold hold=1h\n"
     "rule l = metric=messages window=10m limit=4 action=lock\n",
     "memory:",
     0,
     {{"a@x", 1, 1, NULL, CORE_OK, 0, NULL},
      {"a@x", 1, 1, NULL, CORE_OK, 0, NULL},
      {"a@x", 1, 1, NULL, CORE_HOLD, 1, "h"},
      {"a@x", 0, 1, NULL, CORE_HOLD, 0, "h"},
      {"a@x", 1, 1, NULL, CORE_HOLD, 0, "h"}, /* the fourth: counted, held */
      {"a@x", 1, 1, NULL, CORE_REJECT, 1, "l"},
      {"b@x", 1, 1, NULL, CORE_OK, 0, NULL}}},
    {"the store fails while recording the lock: FAIL for that request",
     LOCK3,
     "memory:fail-writes",
     0,
     {{"a@x", 1, 1, NULL, CORE_OK, 0, NULL},
      {"a@x", 1, 1, NULL, CORE_OK, 0, NULL},
      {"a@x", 1, 1, NULL, CORE_OK, 0, NULL},
      {"a@x", 1, 1, NULL, CORE_FAIL, 1, NULL},
      {"a@x", 0, 1, NULL, CORE_REJECT, 0, "burst"}}},
    {"per recipient: recipients of one transaction are one message",
     RCPT,
     "memory:",
     1,
     {{"a@x", 1, 1, "t1", CORE_OK, 0, NULL},
      {"a@x", 1, 1, "t1", CORE_OK, 0, NULL},
      {"a@x", 1, 1, "t1", CORE_OK, 0, NULL},
      {"a@x", 1, 1, "t2", CORE_OK, 0, NULL},
      {"a@x", 1, 1, "t3", CORE_REJECT, 1, "burst"}}},
};

typedef struct fixture {
    char dir[64];
    core *C;
} fixture;

static core *
open_core(fixture *f, const char *text, const char *store)
{
    char path[128], err[512], sd[128], st[128];
    hj_conf *c;

    snprintf(f->dir, sizeof(f->dir), "/tmp/hj-core.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(path, sizeof(path), "%s/hijackd.conf", f->dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    snprintf(sd, sizeof(sd), "state_dir=%s", f->dir);
    snprintf(st, sizeof(st), "store=%s", store);
    char *opts[] = {sd, st};
    c = conf_load(path, opts, 2, err, sizeof(err));
    if (c == NULL)
        fail_msg("conf: %s", err);
    f->C = core_open(c, err, sizeof(err));
    if (f->C == NULL)
        fail_msg("core_open: %s", err);
    return f->C;
}

static void
close_core(fixture *f)
{
    char cmd[128];

    core_close(f->C);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
}

static void
test_case(void **state)
{
    const core_case *k = *state;
    fixture f;
    core *C = open_core(&f, k->conf, k->store);
    int64_t t = 1764000000;

    for (int i = 0; i < 8 && k->steps[i].account; i++) {
        const step *s = &k->steps[i];
        core_msg m = {.account = s->account, .client_ip = "203.0.113.9", .sender = s->account,
                      .service = "test", .nrcpt = s->nrcpt, .count = s->count,
                      .per_rcpt = k->per_rcpt, .txn = s->txn};
        core_verdict v;
        core_judge(C, &m, t + i, &v);
        if (v.kind != s->want || v.decided != s->decided)
            fail_msg("%s: step %d: %s decided %d, want %s decided %d", k->name, i + 1,
                     core_kind_name(v.kind), v.decided, core_kind_name(s->want), s->decided);
        if (s->rule && strcmp(v.rule, s->rule) != 0)
            fail_msg("%s: step %d: rule \"%s\", want \"%s\"", k->name, i + 1, v.rule, s->rule);
        if ((v.kind == CORE_REJECT || v.kind == CORE_DEFER) && v.text[0] != "54"[v.kind ==
                                                                                 CORE_DEFER])
            fail_msg("%s: step %d: reply text \"%s\"", k->name, i + 1, v.text);
        if (v.kind == CORE_HOLD && strcmp(v.text, "held for review by hijackd (rule h)") != 0)
            fail_msg("%s: step %d: hold text \"%s\"", k->name, i + 1, v.text);
        if (v.decided && strstr(v.evidence, "\"account\":\"a@x\"") == NULL)
            fail_msg("%s: step %d: evidence \"%.200s\"", k->name, i + 1, v.evidence);
    }
    close_core(&f);
}

/* an observer that asks the core about another account from inside a decision */
typedef struct nest {
    core *C;
    int calls;
    core_verdict inner;
} nest;

static void
nest_decision(void *ctx, const hj_decision *d, const char *json)
{
    nest *n = ctx;
    core_msg m = {.account = "other@x", .service = "test", .nrcpt = 1, .count = 1};

    (void)json;
    if (d->scope != HJ_S_ACCOUNT || n->calls++)
        return;
    core_judge(n->C, &m, d->t, &n->inner);
}

static void
test_nested_verdicts(void **state)
{
    fixture f;
    core *C = open_core(&f, "rule one = metric=messages window=10m limit=0 action=lock\n",
                        "memory:");
    nest n = {C, 0, {0}};
    core_observer o = {nest_decision, NULL, &n};
    core_msg m = {.account = "a@x", .service = "test", .nrcpt = 1, .count = 1};
    core_verdict v;

    (void)state;
    core_observe(C, &o);
    core_judge(C, &m, 1764000000, &v);
    assert_int_equal(n.calls, 2); /* a@x's lock, then other@x's inside it */
    assert_int_equal(n.inner.kind, CORE_REJECT); /* each call gets its own verdict ... */
    assert_non_null(strstr(n.inner.evidence, "\"account\":\"other@x\""));
    assert_int_equal(v.kind, CORE_REJECT); /* ... and the outer one is still its own */
    assert_int_equal(v.decided, 1);
    assert_non_null(strstr(v.evidence, "\"account\":\"a@x\""));
    close_core(&f);
}

static void
test_manual_and_queue_ids(void **state)
{
    fixture f;
    core *C = open_core(&f, LOCK3, "memory:");
    core_msg m = {.account = "a@x", .queue_id = "4B1C31002A3", .service = "test", .nrcpt = 1,
                  .count = 1};
    core_verdict v;

    (void)state;
    assert_int_equal(core_lock(C, "a@x", "uid 0", "test"), 0);
    assert_int_equal(core_lock(C, "a@x", "uid 0", "test"), -1); /* already locked */
    core_judge(C, &m, 1764000000, &v);
    assert_int_equal(v.kind, CORE_REJECT);
    assert_string_equal(v.rule, "manual");
    assert_int_equal(core_unlock(C, "a@x", "uid 0", "test"), 0);
    assert_int_equal(core_unlock(C, "a@x", "uid 0", "test"), -1); /* not locked */
    core_judge(C, &m, 1764000001, &v);
    assert_int_equal(v.kind, CORE_OK);
    assert_string_equal(core_account_of(C, "4B1C31002A3"), "a@x"); /* found */
    assert_null(core_account_of(C, "4B1C31002A4"));                /* not seen */
    close_core(&f);
}

static void
test_manual_store_error(void **state)
{
    fixture f;
    core *C = open_core(&f, LOCK3, "memory:fail-writes");

    (void)state;
    assert_int_equal(core_lock(C, "a@x", "uid 0", "test"), -2); /* made, but not durable */
    close_core(&f);
}

/* what a log says of a queue ID never replaces what the policy service recorded (a forged log
 * line must not hand another user's queued mail to an account whose purge deletes it) */
static void
test_queue_id_sources(void **state)
{
    fixture f;
    core *C = open_core(&f, LOCK3, "memory:");
    core_msg m = {.account = "victim@x", .queue_id = "4B1C31002A3", .service = "test",
                  .nrcpt = 1, .count = 1};
    core_verdict v;

    (void)state;
    core_judge(C, &m, 1764000000, &v);
    core_note_queue_id(C, "4B1C31002A3", "attacker@x"); /* a forged log line */
    assert_string_equal(core_account_of(C, "4B1C31002A3"), "victim@x");
    core_note_queue_id(C, "5C2D41113B4", "bob@x"); /* only the log saw it: the log's word */
    assert_string_equal(core_account_of(C, "5C2D41113B4"), "bob@x");
    m.account = "carol@x", m.queue_id = "5C2D41113B4"; /* the policy service's word wins */
    core_judge(C, &m, 1764000001, &v);
    assert_string_equal(core_account_of(C, "5C2D41113B4"), "carol@x");
    /* the purge's second key: the sender the policy request gave, never the log's */
    assert_null(core_queue_sender(C, "4B1C31002A3")); /* the request gave none */
    core_note_queue_id(C, "6D3E52224C5", "bob@x");
    assert_null(core_queue_sender(C, "6D3E52224C5")); /* the log's mapping */
    m.account = "dave@x", m.queue_id = "7E4F63335D6", m.sender = "list@y";
    core_judge(C, &m, 1764000002, &v);
    assert_string_equal(core_account_of(C, "7E4F63335D6"), "dave@x");
    assert_string_equal(core_queue_sender(C, "7E4F63335D6"), "list@y");
    m.queue_id = "8F5074446E7", m.sender = ""; /* the null sender is a sender */
    core_judge(C, &m, 1764000003, &v);
    assert_string_equal(core_queue_sender(C, "8F5074446E7"), "");
    assert_null(core_queue_sender(C, "9A6185557F8")); /* not seen */
    close_core(&f);
}

/* utf8_ok - s is well-formed UTF-8 (no sequence cut short) */
static int
utf8_ok(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        int n = *p < 0x80 ? 1 : *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : *p >= 0xc0 ? 2 : 0;
        if (n == 0)
            return 0;
        for (int i = 1; i < n; i++)
            if ((p[i] & 0xc0) != 0x80)
                return 0;
        p += n;
    }
    return 1;
}

/* an expansion longer than the text's room is cut at a character boundary: still a REJECT */
static void
test_long_text(void **state)
{
    fixture f;
    char conf[2048], acct[400];
    core_verdict v;

    (void)state;
    int n = snprintf(conf, sizeof(conf), "rule one = metric=messages window=10m limit=0 "
                                         "action=lock\nreject_text = 5.7.1 ab {account} ");
    for (int i = 0; i < 400; i++) /* an admin's non-ASCII text: the cut falls inside an é */
        n += snprintf(conf + n, sizeof(conf) - (size_t)n, "\xc3\xa9");
    snprintf(conf + n, sizeof(conf) - (size_t)n, "\n");
    memset(acct, 'a', 300);
    snprintf(acct + 300, sizeof(acct) - 300, "@x");
    core *C = open_core(&f, conf, "memory:");
    core_msg m = {.account = acct, .service = "test", .nrcpt = 1, .count = 1};
    core_judge(C, &m, 1764000000, &v);
    assert_int_equal(v.kind, CORE_REJECT);
    assert_true(strlen(v.text) > 1000 && strlen(v.text) < CORE_TEXT_MAX);
    assert_true(utf8_ok(v.text));
    close_core(&f);
}

/* content verdicts: counted once per queue ID by the spam rules, whatever source reports them;
 * clean and unscanned verdicts count nothing; the lock's evidence carries the engine's symbols */
typedef struct spam_step {
    const char *qid;
    core_spam_class cls;
    core_kind want;
    int decided;
} spam_step;

static void
test_spam_verdicts(void **state)
{
    static const spam_step steps[] = {
        {"Q1", CORE_SPAM_CLEAN, CORE_OK, 0},     {"Q2", CORE_SPAM_UNSCANNED, CORE_OK, 0},
        {"Q3", CORE_SPAM_SPAM, CORE_WARN, 1},    /* spam_warn: the first in an hour */
        {"Q3", CORE_SPAM_SPAM, CORE_OK, 0},      /* the same message again: not counted */
        {"Q4", CORE_SPAM_SUSPECT, CORE_OK, 0},   /* suspects have their own metric */
        {"Q5", CORE_SPAM_SPAM, CORE_OK, 0},      {"Q6", CORE_SPAM_SPAM, CORE_REJECT, 1},
        {"Q7", CORE_SPAM_CLEAN, CORE_REJECT, 0}, /* locked: every later verdict says so */
    };
    fixture f;
    core *C = open_core(&f,
                        "rule spam_warn = metric=spam window=1h limit=0 action=warn\n"
                        "rule spam_lock = metric=spam window=1h limit=2 action=lock\n"
                        "rule suspects = metric=spam_suspect window=1h limit=3 action=lock\n",
                        "memory:");
    core_verdict v;

    (void)state;
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        core_spam sp = {.account = "a@x", .queue_id = steps[i].qid, .client_ip = "192.0.2.7",
                        .service = "rspamd", .cls = steps[i].cls, .score = 16.5,
                        .threshold = 15, .symbols = "GTUBE(0.0) \"X\"(1.0)"};
        core_spam_verdict(C, &sp, 1764000000 + (int64_t)i, &v);
        if (v.kind != steps[i].want || v.decided != steps[i].decided)
            fail_msg("step %zu (%s): verdict %s decided %d, want %s decided %d", i, steps[i].qid,
                     core_kind_name(v.kind), v.decided, core_kind_name(steps[i].want),
                     steps[i].decided);
    }
    core_verdict w;
    core_spam nan_score = {.account = "b@x", .queue_id = "Q9", .cls = CORE_SPAM_SPAM,
                           .score = NAN, .threshold = INFINITY};
    core_spam_verdict(C, &nan_score, 1764000100, &w); /* b@x: its first spam, a warn */
    assert_int_equal(w.kind, CORE_WARN);
    assert_non_null(strstr(w.evidence, "\"content\":{\"verdict\":\"spam\"}")); /* no number */
    assert_string_equal(v.rule, "spam_lock");
    const core_stats *st = core_get_stats(C);
    assert_int_equal(st->spam[CORE_SPAM_SPAM], 5);
    assert_int_equal(st->spam_repeated, 1);
    close_core(&f);
}

/* the lock's decision names the content verdict that made it, symbols escaped */
static void
test_spam_evidence(void **state)
{
    fixture f;
    core *C = open_core(&f, "rule one = metric=spam window=1h limit=0 action=lock\n", "memory:");
    core_spam sp = {.account = "a@x", .queue_id = "Q1", .service = "milter",
                    .cls = CORE_SPAM_SPAM, .score = 1000, .threshold = 15,
                    .symbols = "GTUBE(0.0) \"X\"(1.0)"};
    core_verdict v;

    (void)state;
    core_spam_verdict(C, &sp, 1764000000, &v);
    assert_int_equal(v.kind, CORE_REJECT);
    assert_non_null(strstr(v.evidence, "\"metric\":\"spam\""));
    assert_non_null(strstr(v.evidence, "\"content\":{\"verdict\":\"spam\",\"score\":1000.00,"
                                       "\"threshold\":15.00,\"symbols\":\"GTUBE(0.0) "
                                       "\\\"X\\\"(1.0)\"}"));
    assert_non_null(strstr(v.evidence, "\"service\":\"milter\""));
    core_spam none = {.account = "", .cls = CORE_SPAM_SPAM};
    core_spam_verdict(C, &none, 1764000001, &v); /* no account: nothing to judge */
    assert_int_equal(v.kind, CORE_OK);
    close_core(&f);
}

static int
count_blob(void *ctx, const char *key, const void *blob, size_t len)
{
    (void)key, (void)blob, (void)len;
    ++*(int *)ctx;
    return 0;
}

static int
blobs(core *C)
{
    char err[256];
    int n = 0;

    assert_int_equal(core_store(C)->ops->counters_walk(core_store(C), count_blob, &n, err,
                                                       sizeof(err)),
                     STORE_OK);
    return n;
}

/* a flush in chunks: each step writes at most max entities and says how many are left; a
 * batch the store refuses to begin stays noted and is written at the next step */
static void
test_flush_chunks(void **state)
{
    fixture f;
    core *C = open_core(&f, LOCK3, "memory:");
    char name[32];

    (void)state;
    for (int i = 0; i < 5; i++) {
        snprintf(name, sizeof(name), "u%d@x", i);
        core_msg m = {.account = name, .service = "test", .nrcpt = 1, .count = 1};
        core_verdict v;
        core_judge(C, &m, 1764000000 + i, &v);
    }
    size_t left = core_flush_step(C, 2);
    int total = blobs(C) + (int)left;
    assert_int_equal(blobs(C), 2);
    assert_true(total >= 5); /* five accounts, and the entities of other scopes */
    store_mem_set_fail(core_store(C), 1);
    assert_int_equal(core_flush_step(C, 2), left); /* refused: nothing lost, nothing written */
    store_mem_set_fail(core_store(C), 0);
    while (left > 0) {
        size_t next = core_flush_step(C, 2);
        assert_true(next < left);
        left = next;
    }
    assert_int_equal(blobs(C), total);
    assert_int_equal(core_flush_step(C, 2), 0); /* nothing changed since */
    close_core(&f);
}

/* audit entries, by time: n entries of t = t0, t0 + 1, ... */
static void
add_audit(core *C, int64_t t0, int n)
{
    char err[256];
    hj_store *st = core_store(C);

    for (int i = 0; i < n; i++) {
        hj_audit_rec a = {.t = t0 + i, .account = "u@x", .action = "warn", .json = "{}"};
        assert_int_equal(st->ops->audit_add(st, &a, err, sizeof(err)), STORE_OK);
    }
}

static int
count_audit_one(void *ctx, const hj_audit_rec *a)
{
    (void)a;
    ++*(int *)ctx;
    return 0;
}

/* audit entries at or after since */
static int
audit_count(core *C, int64_t since)
{
    char err[256];
    int n = 0;
    hj_store *st = core_store(C);

    assert_int_equal(st->ops->audit_walk(st, NULL, since, count_audit_one, &n, err, sizeof(err)),
                     STORE_OK);
    return n;
}

/* audit_keep: each tick deletes the entries older than it, at most 2,000 (4 batches of 500),
 * and none younger; a failing store is logged and the next tick goes on */
static void
test_audit_trim(void **state)
{
    fixture f;
    core *C = open_core(&f, "audit_keep = 1d\n", "memory:");
    const int64_t now = 1764000000, cut = now - 86400;
    static const struct {
        int old_left; /* entries older than audit_keep left after the tick */
    } tick[] = {{2500}, {500}, {0}, {0}};

    (void)state;
    add_audit(C, cut - 4500, 4500); /* older than a day: 4,500 */
    add_audit(C, cut, 300);         /* a day old or younger: kept */
    store_mem_set_fail(core_store(C), 1);
    core_tick(C, now);
    store_mem_set_fail(core_store(C), 0);
    CHECK_EQ("a failing trim deletes nothing", audit_count(C, INT64_MIN), 4800);
    for (size_t i = 0; i < sizeof(tick) / sizeof(tick[0]); i++) {
        core_tick(C, now);
        CHECK_EQ("old entries left", audit_count(C, INT64_MIN) - audit_count(C, cut),
                 tick[i].old_left);
        CHECK_EQ("young entries kept", audit_count(C, cut), 300);
    }
    CHECK_EQ("counted", core_get_stats(C)->audit_trimmed, 4500);
    close_core(&f);
}

int
main(void)
{
    struct CMUnitTest t[sizeof(cases) / sizeof(cases[0]) + 9];
    size_t n = 0;

    log_open("test_core", 0);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        t[n++] = (struct CMUnitTest){cases[i].name, test_case, NULL, NULL, (void *)&cases[i]};
    t[n++] = (struct CMUnitTest)cmocka_unit_test(test_nested_verdicts);
    t[n++] = (struct CMUnitTest)cmocka_unit_test(test_manual_and_queue_ids);
    t[n++] = (struct CMUnitTest)cmocka_unit_test(test_manual_store_error);
    t[n++] = (struct CMUnitTest)cmocka_unit_test(test_flush_chunks);
    t[n++] = (struct CMUnitTest)cmocka_unit_test(test_queue_id_sources);
    t[n++] = (struct CMUnitTest)cmocka_unit_test(test_long_text);
    t[n++] = (struct CMUnitTest)cmocka_unit_test(test_audit_trim);
    t[n++] = (struct CMUnitTest)cmocka_unit_test(test_spam_verdicts);
    t[n++] = (struct CMUnitTest)cmocka_unit_test(test_spam_evidence);
    return _cmocka_run_group_tests("core", t, n, NULL, NULL);
}
