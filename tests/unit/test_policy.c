/*
 * test_policy - unit tests for the rule set (policy.h): rule and override
 * parsing, policy_finish, patterns and exemptions, source-IP classes and
 * the senders that are never counted
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/engine/policy.h"
#include "../../src/util/buf.h"
#include "check.h"

/* ---- policy_rule_parse: valid rules ---- */

typedef struct rule_ok_case {
    const char *name;
    const char *spec;
    hj_metric metric;
    int64_t window;
    int64_t limit;
    hj_action action;
    int64_t throttle_for;
    int64_t unlock_after;
    hj_scope scope;
    hj_ipclass ipclass;
    int64_t hold_for; /* checked when set */
} rule_ok_case;

static const rule_ok_case rule_ok_cases[] = {
    {"mdaemon", "metric=recipients window=30m limit=500 action=lock", HJ_M_RECIPIENTS, 1800, 500,
     HJ_A_LOCK, 1800, 0, HJ_S_ACCOUNT, HJ_C_ANY, 0},
    {"throttle_1h", "metric=messages window=10m limit=100 action=throttle throttle=1h",
     HJ_M_MESSAGES, 600, 100, HJ_A_THROTTLE, 3600, 0, HJ_S_ACCOUNT, HJ_C_ANY, 0},
    {"lock_unlock",
     "metric=recipients window=30m limit=500 action=lock unlock_after=24h class=external",
     HJ_M_RECIPIENTS, 1800, 500, HJ_A_LOCK, 1800, 86400, HJ_S_ACCOUNT, HJ_C_EXTERNAL, 0},
    {"commas", "metric=failed_logins, window=1h, limit=50, action=warn, scope=ip",
     HJ_M_FAILED_LOGINS, 3600, 50, HJ_A_WARN, 1800, 0, HJ_S_IP, HJ_C_ANY, 0},
    {"blanks", "  metric=bounces\twindow=1h   limit=30\t action=warn class=reserved  ",
     HJ_M_BOUNCES, 3600, 30, HJ_A_WARN, 1800, 0, HJ_S_ACCOUNT, HJ_C_RESERVED, 0},
    {"relay_global", "metric=relay_recipients window=1h limit=10 action=relay scope=global",
     HJ_M_RELAY_RCPTS, 3600, 10, HJ_A_RELAY, 1800, 0, HJ_S_GLOBAL, HJ_C_ANY, 0},
    {"relay_ip", "metric=relay_recipients window=1h limit=10 action=relay scope=ip",
     HJ_M_RELAY_RCPTS, 3600, 10, HJ_A_RELAY, 1800, 0, HJ_S_IP, HJ_C_ANY, 0},
    {"nets.own", "metric=distinct_networks window=1d limit=3 action=warn class=own",
     HJ_M_DISTINCT_NETS, 86400, 3, HJ_A_WARN, 1800, 0, HJ_S_ACCOUNT, HJ_C_OWN, 0},
    {"bytes-week", "metric=bytes window=1w limit=0 action=warn", HJ_M_BYTES, 604800, 0, HJ_A_WARN,
     1800, 0, HJ_S_ACCOUNT, HJ_C_ANY, 0},
    {"seconds", "metric=distinct_ips window=90 limit=2 action=warn class=any", HJ_M_DISTINCT_IPS,
     90, 2, HJ_A_WARN, 1800, 0, HJ_S_ACCOUNT, HJ_C_ANY, 0},
    {"dom", "metric=distinct_recipients window=2h limit=1000 action=throttle scope=domain",
     HJ_M_DISTINCT_RCPTS, 7200, 1000, HJ_A_THROTTLE, 1800, 0, HJ_S_DOMAIN, HJ_C_ANY, 0},
    {"order_free", "action=lock scope=account limit=7 window=30s metric=messages", HJ_M_MESSAGES,
     30, 7, HJ_A_LOCK, 1800, 0, HJ_S_ACCOUNT, HJ_C_ANY, 0},
    {"unlock_zero", "metric=messages window=1h limit=5 action=warn unlock_after=0", HJ_M_MESSAGES,
     3600, 5, HJ_A_WARN, 1800, 0, HJ_S_ACCOUNT, HJ_C_ANY, 0},
    {"hold_10m", "metric=messages window=1h limit=2 action=hold hold=10m", HJ_M_MESSAGES, 3600, 2,
     HJ_A_HOLD, 1800, 0, HJ_S_ACCOUNT, HJ_C_ANY, 600},
    {"hold_default", "metric=messages window=1h limit=2 action=hold", HJ_M_MESSAGES, 3600, 2,
     HJ_A_HOLD, 1800, 0, HJ_S_ACCOUNT, HJ_C_ANY, 3600},
};

static void
test_rule_parse_valid(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof(rule_ok_cases) / sizeof(rule_ok_cases[0]); c++) {
        const rule_ok_case *k = &rule_ok_cases[c];
        hj_policy *p = policy_new();
        char err[256] = "";
        if (policy_rule_parse(p, k->name, k->spec, err, sizeof(err)) != 0)
            fail_msg("%s: rejected: %s", k->name, err);
        CHECK_EQ(k->name, p->nrules, 1);
        const hj_rule *r = &p->rules[0];
        CHECK_STR(k->name, r->name, k->name);
        CHECK_EQ(k->name, r->metric, k->metric);
        CHECK_EQ(k->name, r->window, k->window);
        CHECK_EQ(k->name, r->limit, k->limit);
        CHECK_EQ(k->name, r->action, k->action);
        CHECK_EQ(k->name, r->throttle_for, k->throttle_for);
        CHECK_EQ(k->name, r->unlock_after, k->unlock_after);
        CHECK_EQ(k->name, r->scope, k->scope);
        CHECK_EQ(k->name, r->ipclass, k->ipclass);
        if (k->hold_for)
            CHECK_EQ(k->name, r->hold_for, k->hold_for);

        /* the formatted rule parses back to the same rule */
        hj_buf b = HJ_BUF_INIT;
        policy_rule_format(r, &b);
        const char *spec = strstr(buf_str(&b), " = ");
        assert_non_null(spec);
        hj_policy *q = policy_new();
        if (policy_rule_parse(q, k->name, spec + 3, err, sizeof(err)) != 0)
            fail_msg("%s: formatted \"%s\" rejected: %s", k->name, buf_str(&b), err);
        const hj_rule *r2 = &q->rules[0];
        CHECK_EQ(k->name, r2->metric, r->metric);
        CHECK_EQ(k->name, r2->window, r->window);
        CHECK_EQ(k->name, r2->limit, r->limit);
        CHECK_EQ(k->name, r2->action, r->action);
        if (r->action == HJ_A_THROTTLE)
            CHECK_EQ(k->name, r2->throttle_for, r->throttle_for);
        if (r->action == HJ_A_HOLD)
            CHECK_EQ(k->name, r2->hold_for, r->hold_for);
        CHECK_EQ(k->name, r2->unlock_after, r->unlock_after);
        CHECK_EQ(k->name, r2->scope, r->scope);
        CHECK_EQ(k->name, r2->ipclass, r->ipclass);
        buf_free(&b);
        policy_free(q);
        policy_free(p);
    }
}

/* ---- policy_rule_parse: invalid rules ---- */

typedef struct rule_bad_case {
    const char *name;
    const char *spec;
    const char *err; /* a substring of the message */
} rule_bad_case;

#define MD "metric=recipients window=30m limit=500 "

static const rule_bad_case rule_bad_cases[] = {
    /* missing keys */
    {"r", "window=30m limit=500 action=lock", "missing metric="},
    {"r", "metric=recipients limit=500 action=lock", "missing window="},
    {"r", "metric=recipients window=30m action=lock", "missing limit="},
    {"r", MD, "missing action="},
    {"r", "", "missing metric="},
    {"r", "   ,  ", "missing metric="},
    /* bad values */
    {"r", "metric=recipient window=30m limit=500 action=lock", "bad value for metric"},
    {"r", "metric= window=30m limit=500 action=lock", "bad value for metric"},
    {"r", "metric=recipients window=30x limit=500 action=lock", "bad value for window"},
    {"r", "metric=recipients window=0 limit=500 action=lock", "bad value for window"},
    {"r", "metric=recipients window=0m limit=500 action=lock", "bad value for window"},
    {"r", "metric=recipients window=-5m limit=500 action=lock", "bad value for window"},
    {"r", "metric=recipients window= limit=500 action=lock", "bad value for window"},
    {"r", "metric=recipients window=m limit=500 action=lock", "bad value for window"},
    {"r", "metric=recipients window=30m5 limit=500 action=lock", "bad value for window"},
    {"r", "metric=recipients window=99999999999999w limit=1 action=lock", "bad value for window"},
    {"r", "metric=recipients window=30m limit=-1 action=lock", "bad value for limit"},
    {"r", "metric=recipients window=30m limit=abc action=lock", "bad value for limit"},
    {"r", "metric=recipients window=30m limit= action=lock", "bad value for limit"},
    {"r", "metric=recipients window=30m limit=5x action=lock", "bad value for limit"},
    {"r", "metric=recipients window=30m limit=1.5 action=lock", "bad value for limit"},
    {"r", MD "action=block", "bad value for action"},
    {"r", MD "action=unlock", "bad value for action"}, /* not a rule action */
    {"r", MD "action=", "bad value for action"},
    {"r", MD "action=throttle throttle=0", "bad value for throttle"},
    {"r", MD "action=throttle throttle=later", "bad value for throttle"},
    {"r", MD "action=hold hold=0", "bad value for hold"},
    {"r", MD "action=hold hold=soon", "bad value for hold"},
    {"r", MD "action=lock unlock_after=soon", "bad value for unlock_after"},
    {"r", MD "action=lock scope=user", "bad value for scope"},
    {"r", MD "action=lock class=internal", "bad value for class"},
    /* unknown keys and malformed tokens */
    {"r", MD "action=lock foo=bar", "unknown rule key \"foo\""},
    {"r", MD "action=lock Metric=messages", "unknown rule key"},
    {"r", MD "action=lock lock", "expected key=value"},
    {"r", "metric", "expected key=value"},
    /* relay_recipients goes with action=relay and scope=ip/global, only */
    {"r", "metric=relay_recipients window=1h limit=10 action=relay", "relay_recipients"},
    {"r", "metric=relay_recipients window=1h limit=10 action=relay scope=account",
     "relay_recipients"},
    {"r", "metric=relay_recipients window=1h limit=10 action=relay scope=domain",
     "relay_recipients"},
    {"r", "metric=relay_recipients window=1h limit=10 action=lock scope=global",
     "relay_recipients"},
    {"r", "metric=relay_recipients window=1h limit=10 action=warn scope=ip", "relay_recipients"},
    {"r", "metric=messages window=1h limit=10 action=relay scope=global", "relay_recipients"},
    {"r", "metric=recipients window=1h limit=10 action=relay", "relay_recipients"},
    /* unlock_after is only for action=lock */
    {"r", MD "action=warn unlock_after=1h", "only for action=lock"},
    {"r", MD "action=throttle unlock_after=1h", "only for action=lock"},
    {"r", "metric=relay_recipients window=1h limit=10 action=relay scope=global unlock_after=1h",
     "only for action=lock"},
    /* rule names */
    {"", MD "action=lock", "bad rule name"},
    {"bad name", MD "action=lock", "bad rule name"},
    {"rule!", MD "action=lock", "bad rule name"},
    {"a/b", MD "action=lock", "bad rule name"},
    {"a=b", MD "action=lock", "bad rule name"},
};

static void
test_rule_parse_invalid(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof(rule_bad_cases) / sizeof(rule_bad_cases[0]); c++) {
        const rule_bad_case *k = &rule_bad_cases[c];
        hj_policy *p = policy_new();
        char err[256] = "";
        char what[320];
        snprintf(what, sizeof(what), "case %zu \"%s\" = \"%s\"", c, k->name, k->spec);
        CHECK_EQ(what, policy_rule_parse(p, k->name, k->spec, err, sizeof(err)), -1);
        CHECK_EQ(what, p->nrules, 0); /* nothing added */
        if (strstr(err, k->err) == NULL)
            fail_msg("%s: error \"%s\" does not mention \"%s\"", what, err, k->err);
        /* a tiny error buffer is truncated, not overrun */
        char small[8];
        memset(small, 'x', sizeof(small));
        CHECK_EQ(what, policy_rule_parse(p, k->name, k->spec, small, sizeof(small)), -1);
        CHECK_EQ(what, strlen(small) < sizeof(small), 1);
        policy_free(p);
    }
}

static void
test_rule_parse_duplicate(void **state)
{
    hj_policy *p = policy_new();
    char err[256] = "";

    (void)state;
    CHECK_EQ("first", policy_rule_parse(p, "r1", MD "action=lock", err, sizeof(err)), 0);
    CHECK_EQ("other", policy_rule_parse(p, "r2", MD "action=warn", err, sizeof(err)), 0);
    CHECK_EQ("twice", policy_rule_parse(p, "r1", MD "action=warn", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "defined twice"));
    assert_non_null(strstr(err, "r1"));
    CHECK_EQ("still two rules", p->nrules, 2);
    CHECK_EQ("the first r1 is kept", p->rules[0].action, HJ_A_LOCK);
    /* names are case-sensitive */
    CHECK_EQ("R1", policy_rule_parse(p, "R1", MD "action=warn", err, sizeof(err)), 0);
    CHECK_EQ("three rules", p->nrules, 3);
    policy_free(p);
}

/*
 * Regression (found by this test, now fixed; was in src/engine/policy.c, set_limit): strtoll()
 * overflow is not checked, so limit=99999999999999999999 is accepted as INT64_MAX (a rule that
 * silently never fires) instead of being rejected like an overflowing
 * window= is. The same goes for an override's RULE.limit=.
 */
static void
test_limit_overflow_rejected(void **state)
{
    hj_policy *p = policy_new();
    char err[256] = "";
    int rc_rule, rc_override;

    (void)state;
    /* everything is freed before the checks, so a failure leaks nothing */
    rc_rule = policy_rule_parse(p, "r",
                                "metric=messages window=1h limit=99999999999999999999 "
                                "action=warn",
                                err, sizeof(err));
    policy_free(p);
    p = policy_new();
    assert_int_equal(policy_rule_parse(p, "r", "metric=messages window=1h limit=1 action=warn", err,
                                       sizeof(err)),
                     0);
    rc_override = policy_override_parse(p, "a@b", "r.limit=99999999999999999999", err, sizeof(err));
    policy_free(p);
    CHECK_EQ("rule limit=99999999999999999999", rc_rule, -1);
    CHECK_EQ("override r.limit=99999999999999999999", rc_override, -1);
}

/* ---- policy_override_parse and policy_finish ---- */

/* policy_with_rules - a policy with rules r1 (lock), r2 (warn) and r3 (throttle) */
static hj_policy *
policy_with_rules(void)
{
    hj_policy *p = policy_new();
    char err[256];

    assert_int_equal(policy_rule_parse(p, "r1", MD "action=lock", err, sizeof(err)), 0);
    assert_int_equal(policy_rule_parse(p, "r2", "metric=messages window=1h limit=50 action=warn",
                                       err, sizeof(err)),
                     0);
    assert_int_equal(policy_rule_parse(p, "r3",
                                       "metric=messages window=10m limit=100 "
                                       "action=throttle",
                                       err, sizeof(err)),
                     0);
    return p;
}

typedef struct ovr_want {
    const char *pattern;
    int exact;
    const char *rulename;
    size_t rule; /* after policy_finish */
    int off;
    int has_limit;
    int64_t limit;
    int has_action;
    hj_action action;
} ovr_want;

typedef struct ovr_ok_case {
    const char *pattern;
    const char *spec;
    size_t n;
    ovr_want want[3];
} ovr_ok_case;

static const ovr_ok_case ovr_ok_cases[] = {
    {"boss@Example.com", "r1.limit=1000", 1, {{"boss@example.com", 1, "r1", 0, 0, 1, 1000, 0, 0}}},
    {"@Example.ORG", "r1.action=warn", 1, {{"*@example.org", 0, "r1", 0, 0, 0, 0, 1, HJ_A_WARN}}},
    {"*@lists.example.com", "r2=off", 1, {{"*@lists.example.com", 0, "r2", 1, 1, 0, 0, 0, 0}}},
    {"newsletter@*",
     "r1.limit=5, r3.action=lock r2=off",
     3,
     {{"newsletter@*", 0, "r1", 0, 0, 1, 5, 0, 0},
      {"newsletter@*", 0, "r3", 2, 0, 0, 0, 1, HJ_A_LOCK},
      {"newsletter@*", 0, "r2", 1, 1, 0, 0, 0, 0}}},
    {"a?c@x.org", "r3.limit=0", 1, {{"a?c@x.org", 0, "r3", 2, 0, 1, 0, 0, 0}}},
    {"user@x.org",
     "r3.action=throttle",
     1,
     {{"user@x.org", 1, "r3", 2, 0, 0, 0, 1, HJ_A_THROTTLE}}},
};

static void
test_override_parse_valid(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof(ovr_ok_cases) / sizeof(ovr_ok_cases[0]); c++) {
        const ovr_ok_case *k = &ovr_ok_cases[c];
        hj_policy *p = policy_with_rules();
        char err[256] = "";
        if (policy_override_parse(p, k->pattern, k->spec, err, sizeof(err)) != 0)
            fail_msg("%s = %s: rejected: %s", k->pattern, k->spec, err);
        if (policy_finish(p, err, sizeof(err)) != 0)
            fail_msg("%s = %s: policy_finish: %s", k->pattern, k->spec, err);
        CHECK_EQ(k->pattern, p->noverrides, k->n);
        for (size_t i = 0; i < k->n; i++) {
            const hj_override *o = &p->overrides[i];
            const ovr_want *w = &k->want[i];
            CHECK_STR(k->pattern, o->pattern, w->pattern);
            CHECK_EQ(k->pattern, o->exact, w->exact);
            CHECK_STR(k->pattern, o->rulename, w->rulename);
            CHECK_EQ(k->pattern, o->rule, w->rule);
            CHECK_EQ(k->pattern, o->off, w->off);
            CHECK_EQ(k->pattern, o->has_limit, w->has_limit);
            if (w->has_limit)
                CHECK_EQ(k->pattern, o->limit, w->limit);
            CHECK_EQ(k->pattern, o->has_action, w->has_action);
            if (w->has_action)
                CHECK_EQ(k->pattern, o->action, w->action);
            hj_buf b = HJ_BUF_INIT;
            policy_override_format(p, o, &b);
            if (strstr(buf_str(&b), w->rulename) == NULL)
                fail_msg("%s: formatted override \"%s\"", k->pattern, buf_str(&b));
            buf_free(&b);
        }
        policy_free(p);
    }
}

typedef struct ovr_bad_case {
    const char *spec;
    const char *err;
} ovr_bad_case;

static const ovr_bad_case ovr_bad_cases[] = {
    {"", "nothing to override"},
    {"  ,, ", "nothing to override"},
    {"r1", "expected RULE.limit=N"},
    {"r1.limit=-5", "bad override"},
    {"r1.limit=abc", "bad override"},
    {"r1.limit=", "bad override"},
    {"r1.action=unlock", "bad override"},
    {"r1.action=nuke", "bad override"},
    {"r1=on", "bad override"},
    {"r1.off=1", "bad override"},
    {"r1.window=5m", "bad override"},
};

static void
test_override_parse_invalid(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof(ovr_bad_cases) / sizeof(ovr_bad_cases[0]); c++) {
        const ovr_bad_case *k = &ovr_bad_cases[c];
        hj_policy *p = policy_with_rules();
        char err[256] = "";
        CHECK_EQ(k->spec, policy_override_parse(p, "a@b.c", k->spec, err, sizeof(err)), -1);
        if (strstr(err, k->err) == NULL)
            fail_msg("\"%s\": error \"%s\" does not mention \"%s\"", k->spec, err, k->err);
        policy_free(p);
    }
}

static void
test_finish_unknown_rule(void **state)
{
    hj_policy *p = policy_with_rules();
    char err[256] = "";

    (void)state;
    CHECK_EQ("parse", policy_override_parse(p, "@x.org", "nosuch.limit=5", err, sizeof(err)), 0);
    CHECK_EQ("finish", policy_finish(p, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "no rule named nosuch"));
    policy_free(p);

    p = policy_with_rules(); /* rule names are case-sensitive */
    CHECK_EQ("parse", policy_override_parse(p, "@x.org", "R1.limit=5", err, sizeof(err)), 0);
    CHECK_EQ("finish", policy_finish(p, err, sizeof(err)), -1);
    policy_free(p);
}

/* policy_finish assigns counters: one per distinct (metric, window, class, scope) */
static void
test_finish_counters(void **state)
{
    static const struct {
        const char *name, *spec;
        size_t counter;
    } rules[] = {
        {"a", "metric=recipients window=30m limit=500 action=lock", 0},
        {"b", "metric=recipients window=30m limit=300 action=throttle", 0},
        {"c", "metric=recipients window=1h limit=150 action=warn", 1},
        {"d", "metric=recipients window=30m limit=500 action=lock class=external", 2},
        {"e", "metric=messages window=30m limit=500 action=lock", 3},
        {"f", "metric=failed_logins window=1h limit=50 action=warn scope=ip", 4},
        {"g", "metric=failed_logins window=1h limit=20 action=warn", 5},
        {"h", "metric=relay_recipients window=2h limit=10 action=relay scope=global", 6},
        {"i", "metric=recipients window=1h limit=1 action=warn", 1},
    };
    hj_policy *p = policy_new();
    char err[256] = "";

    (void)state;
    for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
        assert_int_equal(policy_rule_parse(p, rules[i].name, rules[i].spec, err, sizeof(err)), 0);
    CHECK_EQ("finish", policy_finish(p, err, sizeof(err)), 0);
    for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
        CHECK_EQ(rules[i].name, p->rules[i].counter, rules[i].counter);
    CHECK_EQ("ncounters", p->ncounters, 7);
    CHECK_EQ("max_window", p->max_window, 7200);
    CHECK_EQ("scopes_used", p->scopes_used, 1u << HJ_S_ACCOUNT | 1u << HJ_S_IP | 1u << HJ_S_GLOBAL);
    /* finishing twice gives the same result */
    CHECK_EQ("finish again", policy_finish(p, err, sizeof(err)), 0);
    CHECK_EQ("ncounters again", p->ncounters, 7);
    policy_free(p);

    p = policy_new(); /* an empty policy is valid */
    CHECK_EQ("empty", policy_finish(p, err, sizeof(err)), 0);
    CHECK_EQ("empty", p->ncounters, 0);
    policy_free(p);
}

/* ---- policy_pattern_match and policy_is_exempt ---- */

typedef struct match_case {
    const char *pattern; /* as stored: lower case, "@dom" already "*@dom" */
    const char *name;
    int want;
} match_case;

static const match_case match_cases[] = {
    {"*@lists.example.com", "news@lists.example.com", 1},
    {"*@lists.example.com", "NEWS@Lists.Example.COM", 1},
    {"*@lists.example.com", "news@example.com", 0},
    {"*@lists.example.com", "news@sub.lists.example.com", 0},
    {"*@lists.example.com", "news@lists.example.com.evil", 0},
    {"newsletter@*", "newsletter@foo.com", 1},
    {"newsletter@*", "NewsLetter@BAR.org", 1},
    {"newsletter@*", "newsletters@foo.com", 0},
    {"newsletter@*", "xnewsletter@foo.com", 0},
    {"*@example.org", "a@example.org", 1},
    {"*@example.org", "A.B@EXAMPLE.ORG", 1},
    {"*@example.org", "a@example.org.evil.com", 0},
    {"*@example.org", "a@notexample.org", 0},
    {"*@example.org", "example.org", 0},
    {"boss@example.com", "boss@example.com", 1},
    {"boss@example.com", "BOSS@Example.Com", 1},
    {"boss@example.com", "boss@example.comx", 0},
    {"boss@example.com", "xboss@example.com", 0},
    {"?@x.com", "a@x.com", 1},
    {"?@x.com", "ab@x.com", 0},
    {"*", "anything@at.all", 1},
    {"*", "", 1},
    {"a@x.com", "", 0},
};

static void
test_pattern_match(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof(match_cases) / sizeof(match_cases[0]); c++) {
        const match_case *k = &match_cases[c];
        char what[160];
        snprintf(what, sizeof(what), "\"%s\" ~ \"%s\"", k->pattern, k->name);
        CHECK_EQ(what, policy_pattern_match(k->pattern, k->name) != 0, k->want);
    }
    /* overlong names never match (and do not overrun) */
    char long_name[1024];
    memset(long_name, 'a', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = 0;
    CHECK_EQ("long name", policy_pattern_match("*", long_name), 0);
}

typedef struct exempt_case {
    const char *account;
    int want;
} exempt_case;

static const exempt_case exempt_cases[] = {
    {"news@lists.example.com", 1}, {"NEWS@LISTS.EXAMPLE.COM", 1},
    {"news@example.com", 0},       {"newsletter@shop.test", 1},
    {"Newsletter@Other.Test", 1},  {"newsletters@shop.test", 0},
    {"anyone@example.org", 1},     {"Anyone@Example.Org", 1},
    {"anyone@sub.example.org", 0}, {"boss@corp.com", 1},
    {"BOSS@CORP.COM", 1},          {"boss2@corp.com", 0},
    {"user@plain.test", 0},        {"", 0},
};

static void
test_is_exempt(void **state)
{
    static const char *const patterns[] = {"*@Lists.Example.com", "NewsLetter@*", "@Example.ORG",
                                           "Boss@Corp.com"};
    hj_policy *p = policy_new();
    char err[256] = "";

    (void)state;
    CHECK_EQ("none yet", policy_is_exempt(p, "boss@corp.com"), 0);
    for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++)
        CHECK_EQ(patterns[i], policy_exempt_add(p, patterns[i], err, sizeof(err)), 0);
    CHECK_STR("@dom form", p->exempt[2], "*@example.org");
    for (size_t c = 0; c < sizeof(exempt_cases) / sizeof(exempt_cases[0]); c++)
        CHECK_EQ(exempt_cases[c].account, policy_is_exempt(p, exempt_cases[c].account) != 0,
                 exempt_cases[c].want);
    CHECK_EQ("empty pattern", policy_exempt_add(p, "", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "empty"));
    CHECK_EQ("count", p->nexempt, 4);
    policy_free(p);
}

/* ---- policy_ipclass ---- */

typedef struct ipclass_case {
    const char *ip;
    hj_ipclass with_own; /* with own networks 198.51.100.0/24, 2001:db8:1::/48, 10.9.0.0/16 */
    hj_ipclass without;  /* with no own networks */
} ipclass_case;

static const ipclass_case ipclass_cases[] = {
    {"127.0.0.1", HJ_C_RESERVED, HJ_C_RESERVED},
    {"127.255.0.9", HJ_C_RESERVED, HJ_C_RESERVED},
    {"10.1.2.3", HJ_C_RESERVED, HJ_C_RESERVED},
    {"10.9.1.1", HJ_C_OWN, HJ_C_RESERVED}, /* own wins over reserved */
    {"192.168.1.1", HJ_C_RESERVED, HJ_C_RESERVED},
    {"192.169.0.1", HJ_C_EXTERNAL, HJ_C_EXTERNAL},
    {"172.16.0.1", HJ_C_RESERVED, HJ_C_RESERVED},
    {"172.31.255.254", HJ_C_RESERVED, HJ_C_RESERVED},
    {"172.15.255.255", HJ_C_EXTERNAL, HJ_C_EXTERNAL},
    {"172.32.0.1", HJ_C_EXTERNAL, HJ_C_EXTERNAL},
    {"169.254.1.1", HJ_C_RESERVED, HJ_C_RESERVED},
    {"100.64.0.1", HJ_C_RESERVED, HJ_C_RESERVED},
    {"0.0.0.0", HJ_C_RESERVED, HJ_C_RESERVED},
    {"::1", HJ_C_RESERVED, HJ_C_RESERVED},
    {"::", HJ_C_RESERVED, HJ_C_RESERVED},
    {"fc00::1", HJ_C_RESERVED, HJ_C_RESERVED},
    {"fd12:3456:789a::1", HJ_C_RESERVED, HJ_C_RESERVED},
    {"FDFF:ffff::1", HJ_C_RESERVED, HJ_C_RESERVED},
    {"fe00::1", HJ_C_EXTERNAL, HJ_C_EXTERNAL}, /* just outside fc00::/7 */
    {"fbff::1", HJ_C_EXTERNAL, HJ_C_EXTERNAL},
    {"fe80::1", HJ_C_RESERVED, HJ_C_RESERVED},
    {"febf:ffff::1", HJ_C_RESERVED, HJ_C_RESERVED}, /* the top of fe80::/10 */
    {"fec0::1", HJ_C_EXTERNAL, HJ_C_EXTERNAL},       /* just above it */
    {"::2", HJ_C_EXTERNAL, HJ_C_EXTERNAL},           /* neither :: nor ::1 */
    {"0:0:0:0:0:1:0:1", HJ_C_EXTERNAL, HJ_C_EXTERNAL},
    {"::ffff:192.168.0.1", HJ_C_RESERVED, HJ_C_RESERVED},
    {"::ffff:127.0.0.1", HJ_C_RESERVED, HJ_C_RESERVED},
    {"::ffff:8.8.8.8", HJ_C_EXTERNAL, HJ_C_EXTERNAL},
    {"::ffff:198.51.100.9", HJ_C_OWN, HJ_C_EXTERNAL},
    {"8.8.8.8", HJ_C_EXTERNAL, HJ_C_EXTERNAL},
    {"198.51.100.7", HJ_C_OWN, HJ_C_EXTERNAL},
    {"198.51.100.255", HJ_C_OWN, HJ_C_EXTERNAL},
    {"198.51.101.7", HJ_C_EXTERNAL, HJ_C_EXTERNAL},
    {"198.51.99.255", HJ_C_EXTERNAL, HJ_C_EXTERNAL},
    {"2001:db8:1::5", HJ_C_OWN, HJ_C_EXTERNAL},
    {"2001:db8:1:ffff::5", HJ_C_OWN, HJ_C_EXTERNAL},
    {"2001:db8:2::5", HJ_C_EXTERNAL, HJ_C_EXTERNAL},
    {"2a00:1450:4001::1", HJ_C_EXTERNAL, HJ_C_EXTERNAL},
    /* unknown or unparsable: treated as external */
    {NULL, HJ_C_EXTERNAL, HJ_C_EXTERNAL},
    {"", HJ_C_EXTERNAL, HJ_C_EXTERNAL},
    {"unknown", HJ_C_EXTERNAL, HJ_C_EXTERNAL},
    {"10.0.0.256", HJ_C_EXTERNAL, HJ_C_EXTERNAL},
    {"10.0.0.1/8", HJ_C_EXTERNAL, HJ_C_EXTERNAL},
};

static void
test_ipclass(void **state)
{
    static const char *const own[] = {"198.51.100.0/24", "2001:db8:1::/48", "10.9.0.0/16"};
    hj_policy *with = policy_new(), *without = policy_new();
    char err[256] = "";

    (void)state;
    for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
        CHECK_EQ(own[i], policy_own_net_add(with, own[i], err, sizeof(err)), 0);
    for (size_t c = 0; c < sizeof(ipclass_cases) / sizeof(ipclass_cases[0]); c++) {
        const ipclass_case *k = &ipclass_cases[c];
        const char *what = k->ip ? k->ip : "(null)";
        CHECK_EQ(what, policy_ipclass(with, k->ip), k->with_own);
        CHECK_EQ(what, policy_ipclass(without, k->ip), k->without);
    }
    policy_free(with);
    policy_free(without);
}

static void
test_own_net_invalid(void **state)
{
    static const char *const bad[] = {"10.0.0.0/33", "nonsense", "10.0.0.0/", "10.0.0.0/-1",
                                      "::/129",      "",         "10.0.0/8",  "10.0.0.0/8x"};
    static const char *const good[] = {"10.0.0.0/8", "192.0.2.1", "fd00::/8", "2001:db8::/32"};
    hj_policy *p = policy_new();
    char err[256] = "";

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_EQ(bad[i], policy_own_net_add(p, bad[i], err, sizeof(err)), -1);
        assert_non_null(strstr(err, "bad network"));
    }
    CHECK_EQ("none added", p->nown, 0);
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        CHECK_EQ(good[i], policy_own_net_add(p, good[i], err, sizeof(err)), 0);
    CHECK_EQ("a single address is a /32", policy_ipclass(p, "192.0.2.1"), HJ_C_OWN);
    CHECK_EQ("a single address is a /32", policy_ipclass(p, "192.0.2.2"), HJ_C_EXTERNAL);
    policy_free(p);
}

/* ---- policy_never_counted ---- */

typedef struct never_case {
    const char *account;
    const char *sender;
    int want;
} never_case;

static const never_case never_cases[] = {
    {"postmaster@example.com", "postmaster@example.com", 1},
    {"Postmaster@Example.com", "someone@example.com", 1},
    {"postmaster", NULL, 1},
    {"MAILER-DAEMON@mx.example.com", NULL, 1},
    {"mailer-daemon", NULL, 1},
    /* a login is counted whatever envelope sender it gives: MAIL FROM:<> hides no hijack */
    {"user@example.com", "", 0},
    {"user@example.com", "MAILER-DAEMON@example.com", 0},
    {"user@example.com", "postmaster@example.com", 0},
    {NULL, "", 1}, /* no login: the null sender (a DSN), MAILER-DAEMON and postmaster are not */
    {"", "", 1},
    {NULL, "MAILER-DAEMON@mx.example.com", 1},
    {NULL, "postmaster@example.com", 1},
    {NULL, "someone@example.com", 0},
    {"user@example.com", "user@example.com", 0},
    {"user@example.com", NULL, 0}, /* unknown sender is not the null sender */
    {NULL, NULL, 0},
    {"", NULL, 0},
    {"postmaster2@example.com", "x@example.com", 0},
    {"xpostmaster@example.com", "x@example.com", 0},
    {"user@postmaster.example.com", "user@postmaster.example.com", 0},
    {"mailer-daemon-bot@example.com", "mailer-daemon-bot@example.com", 0},
    {"user@example.com", "postmaster.bot@example.com", 0},
};

static void
test_never_counted(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof(never_cases) / sizeof(never_cases[0]); c++) {
        const never_case *k = &never_cases[c];
        char what[160];
        snprintf(what, sizeof(what), "account %s%s%s sender %s%s%s", k->account ? "\"" : "",
                 k->account ? k->account : "NULL", k->account ? "\"" : "", k->sender ? "\"" : "",
                 k->sender ? k->sender : "NULL", k->sender ? "\"" : "");
        CHECK_EQ(what, policy_never_counted(k->account, k->sender) != 0, k->want);
    }
}

/* ---- names ---- */

static void
test_names(void **state)
{
    hj_action a;

    (void)state;
    CHECK_STR("metric", policy_metric_name(HJ_M_DISTINCT_NETS), "distinct_networks");
    CHECK_STR("metric", policy_metric_name(HJ_M__COUNT), "?");
    CHECK_STR("action", policy_action_name(HJ_A_UNLOCK), "unlock");
    CHECK_STR("scope", policy_scope_name(HJ_S_GLOBAL), "global");
    CHECK_STR("class", policy_class_name(HJ_C_OWN), "own");
    CHECK_EQ("lookup lock", policy_action_lookup("lock", &a), 0);
    CHECK_EQ("lookup lock", a, HJ_A_LOCK);
    CHECK_EQ("lookup relay", policy_action_lookup("relay", &a), 0);
    CHECK_EQ("lookup unlock", policy_action_lookup("unlock", &a), -1);
}

/* novel= takes any, yes or no, and only with scope=account */
static void
test_novel_key(void **state)
{
    static const struct {
        const char *spec;
        int ok;
    } t[] = {
        {"metric=recipients window=1h limit=5 action=lock novel=yes", 1},
        {"metric=similar_sizes window=1h limit=5 action=throttle novel=no", 1},
        {"metric=recipients window=1h limit=5 action=lock novel=any", 1},
        {"metric=recipients window=1h limit=5 action=lock novel=maybe", 0},
        {"metric=failed_logins window=1h limit=5 action=warn scope=ip novel=yes", 0},
        {"metric=relay_recipients window=1h limit=5 action=relay scope=global novel=yes", 0},
    };
    char err[256];

    (void)state;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        hj_policy *p = policy_new();
        int rc = policy_rule_parse(p, "r", t[i].spec, err, sizeof(err));
        if ((rc == 0) != t[i].ok)
            fail_msg("%s: rc %d (%s)", t[i].spec, rc, err);
        policy_free(p);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_novel_key),
        cmocka_unit_test(test_rule_parse_valid),
        cmocka_unit_test(test_rule_parse_invalid),
        cmocka_unit_test(test_rule_parse_duplicate),
        cmocka_unit_test(test_limit_overflow_rejected),
        cmocka_unit_test(test_override_parse_valid),
        cmocka_unit_test(test_override_parse_invalid),
        cmocka_unit_test(test_finish_unknown_rule),
        cmocka_unit_test(test_finish_counters),
        cmocka_unit_test(test_pattern_match),
        cmocka_unit_test(test_is_exempt),
        cmocka_unit_test(test_ipclass),
        cmocka_unit_test(test_own_net_invalid),
        cmocka_unit_test(test_never_counted),
        cmocka_unit_test(test_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
