/*
 * policy - rules, overrides, exemptions and IP classes (see policy.h)
 */
#include "policy.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../util/alloc.h"
#include "../util/timeconv.h"
#include "engine_int.h"

static const char *const metric_names[HJ_M__COUNT] = {
    [HJ_M_MESSAGES] = "messages",
    [HJ_M_RECIPIENTS] = "recipients",
    [HJ_M_DISTINCT_RCPTS] = "distinct_recipients",
    [HJ_M_BYTES] = "bytes",
    [HJ_M_DISTINCT_IPS] = "distinct_ips",
    [HJ_M_DISTINCT_NETS] = "distinct_networks",
    [HJ_M_FAILED_LOGINS] = "failed_logins",
    [HJ_M_BOUNCES] = "bounces",
    [HJ_M_RELAY_RCPTS] = "relay_recipients",
    [HJ_M_SIMILAR_SIZES] = "similar_sizes",
    [HJ_M_BOUNCE_RATIO] = "bounce_ratio",
    [HJ_M_SCORE] = "score",
    [HJ_M_SPAM] = "spam",
    [HJ_M_SPAM_SUSPECT] = "spam_suspect",
};
static const char *const signal_names[HJ_SIG__COUNT] = {
    [HJ_SIG_NOVEL_NETWORK] = "novel_network", [HJ_SIG_UNKNOWN_CLIENT] = "unknown_client",
    [HJ_SIG_NOVEL_CLIENT] = "novel_client",   [HJ_SIG_NOVEL_DOMAINS] = "novel_domains",
    [HJ_SIG_FREEMAIL] = "freemail",           [HJ_SIG_ABOVE_NORMAL] = "above_normal",
    [HJ_SIG_IP_DIVERSITY] = "ip_diversity",   [HJ_SIG_FAILED_LOGINS] = "failed_logins",
    [HJ_SIG_SIMILAR_SIZES] = "similar_sizes", [HJ_SIG_SPAM_VERDICTS] = "spam_verdicts",
};
/* the default weights: a network never used before and failed logins weigh most */
static const int signal_weights[HJ_SIG__COUNT] = {
    [HJ_SIG_NOVEL_NETWORK] = 3, [HJ_SIG_UNKNOWN_CLIENT] = 1, [HJ_SIG_NOVEL_CLIENT] = 2,
    [HJ_SIG_NOVEL_DOMAINS] = 1, [HJ_SIG_FREEMAIL] = 1,       [HJ_SIG_ABOVE_NORMAL] = 2,
    [HJ_SIG_IP_DIVERSITY] = 2,  [HJ_SIG_FAILED_LOGINS] = 3,  [HJ_SIG_SIMILAR_SIZES] = 1,
    [HJ_SIG_SPAM_VERDICTS] = 3,
};
static const char *const action_names[HJ_A__COUNT] = {
    [HJ_A_WARN] = "warn",   [HJ_A_THROTTLE] = "throttle", [HJ_A_LOCK] = "lock",
    [HJ_A_RELAY] = "relay", [HJ_A_HOLD] = "hold",         [HJ_A_UNLOCK] = "unlock",
};
static const char *const scope_names[HJ_S__COUNT] = {
    [HJ_S_ACCOUNT] = "account",
    [HJ_S_DOMAIN] = "domain",
    [HJ_S_IP] = "ip",
    [HJ_S_GLOBAL] = "global",
};
static const char *const novelty_names[HJ_N__COUNT] = {
    [HJ_N_ANY] = "any", [HJ_N_NOVEL] = "yes", [HJ_N_KNOWN] = "no"};

static const char *const class_names[HJ_C__COUNT] = {
    [HJ_C_ANY] = "any",
    [HJ_C_RESERVED] = "reserved",
    [HJ_C_OWN] = "own",
    [HJ_C_EXTERNAL] = "external",
};

const char *
policy_metric_name(hj_metric m)
{
    return m < HJ_M__COUNT ? metric_names[m] : "?";
}

const char *
policy_action_name(hj_action a)
{
    return a < HJ_A__COUNT ? action_names[a] : "?";
}

const char *
policy_scope_name(hj_scope s)
{
    return s < HJ_S__COUNT ? scope_names[s] : "?";
}

const char *
policy_novelty_name(hj_novelty n)
{
    return n < HJ_N__COUNT ? novelty_names[n] : "?";
}

const char *
policy_signal_name(hj_signal sg)
{
    return sg < HJ_SIG__COUNT ? signal_names[sg] : "?";
}

const char *
policy_class_name(hj_ipclass c)
{
    return c < HJ_C__COUNT ? class_names[c] : "?";
}

/* name_lookup - index of s in a name table, -1 if absent */
static int
name_lookup(const char *const *names, int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if (names[i] && strcmp(names[i], s) == 0)
            return i;
    return -1;
}

int
policy_action_lookup(const char *s, hj_action *a)
{
    int i = name_lookup(action_names, HJ_A_UNLOCK, s); /* unlock is not a rule action */

    if (i < 0)
        return -1;
    *a = (hj_action)i;
    return 0;
}

int
policy_signal_lookup(const char *s, hj_signal *sig)
{
    int i = name_lookup(signal_names, HJ_SIG__COUNT, s);

    if (i < 0)
        return -1;
    *sig = (hj_signal)i;
    return 0;
}

void
policy_freemail_clear(hj_policy *p)
{
    for (size_t i = 0; i < p->sig.nfreemail; i++)
        free(p->sig.freemail[i]);
    free(p->sig.freemail);
    p->sig.freemail = NULL;
    p->sig.nfreemail = 0;
}

void
policy_freemail_add(hj_policy *p, const char *domain)
{
    char *d = xstrdup(domain);

    for (char *q = d; *q; q++)
        *q = (char)tolower((unsigned char)*q);
    p->sig.freemail = xrealloc(p->sig.freemail, (p->sig.nfreemail + 1) * sizeof(char *));
    p->sig.freemail[p->sig.nfreemail++] = d;
}

hj_policy *
policy_new(void)
{
    hj_policy *p = xcalloc(1, sizeof(*p));

    p->v4_prefix = 24;
    p->v6_prefix = 64;
    p->distinct_max = 256;
    p->net_trust_after = 86400;
    p->trusted_nets_max = 64;
    p->failed_names_max = 10000;
    p->accounts_max = 1000000;
    p->clients_max = 50000;
    p->account_forget = 180 * 86400;
    p->similar_permille = 10;
    p->bounce_ratio_min = 20;
    p->relock_escalate = 7 * 86400;
    memcpy(p->sig.weight, signal_weights, sizeof(signal_weights));
    p->sig.min_kinds = 2;
    p->sig.window = 3600;
    p->sig.learn_time = 2 * 86400;
    p->sig.failed_logins = 5;
    p->sig.networks = 3;
    p->sig.similar = 3;
    p->sig.share = 50;
    p->sig.share_min = 5;
    p->sig.usual_share = 20;
    p->sig.usual_min = 20;
    p->sig.volume_factor = 3;
    p->sig.volume_floor = 30;
    return p;
}

/* lower_dup - a lower-case copy of s */
static char *
lower_dup(const char *s)
{
    char *d = xstrdup(s);

    for (char *q = d; *q; q++)
        *q = (char)tolower((unsigned char)*q);
    return d;
}

/* valid_name - rule names: letters, digits, _ . - */
static int
valid_name(const char *s)
{
    if (*s == 0)
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
            return 0;
    return 1;
}

/* next_token - split "k=v k=v, k=v": returns a token (NUL-terminated in place) */
static char *
next_token(char **cursor)
{
    char *s = *cursor;

    while (*s == ' ' || *s == '\t' || *s == ',')
        s++;
    if (*s == 0)
        return NULL;
    char *tok = s;
    while (*s && *s != ' ' && *s != '\t' && *s != ',')
        s++;
    if (*s)
        *s++ = 0;
    *cursor = s;
    return tok;
}

typedef struct rule_key {
    const char *name;
    int (*set)(hj_rule *r, const char *v);
} rule_key;

static int
set_metric(hj_rule *r, const char *v)
{
    int i = name_lookup(metric_names, HJ_M__COUNT, v);

    return i < 0 ? -1 : (r->metric = (hj_metric)i, 0);
}

static int
set_window(hj_rule *r, const char *v)
{
    return timeconv_duration(v, &r->window) || r->window <= 0 ? -1 : 0;
}

static int
set_limit(hj_rule *r, const char *v)
{
    char *end;

    errno = 0;
    long long n = strtoll(v, &end, 10);
    return *end || end == v || n < 0 || errno ? -1 : (r->limit = n, 0);
}

static int
set_action(hj_rule *r, const char *v)
{
    return policy_action_lookup(v, &r->action);
}

static int
set_throttle(hj_rule *r, const char *v)
{
    return timeconv_duration(v, &r->throttle_for) || r->throttle_for <= 0 ? -1 : 0;
}

static int
set_hold(hj_rule *r, const char *v)
{
    return timeconv_duration(v, &r->hold_for) || r->hold_for <= 0 ? -1 : 0;
}

static int
set_unlock(hj_rule *r, const char *v)
{
    return timeconv_duration(v, &r->unlock_after);
}

static int
set_scope(hj_rule *r, const char *v)
{
    int i = name_lookup(scope_names, HJ_S__COUNT, v);

    return i < 0 ? -1 : (r->scope = (hj_scope)i, 0);
}

static int
set_class(hj_rule *r, const char *v)
{
    int i = name_lookup(class_names, HJ_C__COUNT, v);

    return i < 0 ? -1 : (r->ipclass = (hj_ipclass)i, 0);
}

static int
set_novel(hj_rule *r, const char *v)
{
    int i = name_lookup(novelty_names, HJ_N__COUNT, v);

    return i < 0 ? -1 : (r->novelty = (hj_novelty)i, 0);
}

static const rule_key rule_keys[] = {
    {"metric", set_metric}, {"window", set_window},     {"limit", set_limit},
    {"action", set_action}, {"throttle", set_throttle}, {"unlock_after", set_unlock},
    {"scope", set_scope},   {"class", set_class},       {"novel", set_novel},
    {"hold", set_hold},
};

/* rule_set_key - apply one key=value token to r */
static int
rule_set_key(hj_rule *r, char *tok, unsigned *seen, char *err, size_t errlen)
{
    char *eq = strchr(tok, '=');

    if (eq == NULL) {
        snprintf(err, errlen, "expected key=value, got \"%s\"", tok);
        return -1;
    }
    *eq = 0;
    for (size_t i = 0; i < sizeof(rule_keys) / sizeof(rule_keys[0]); i++) {
        if (strcmp(rule_keys[i].name, tok) != 0)
            continue;
        if (rule_keys[i].set(r, eq + 1) != 0) {
            snprintf(err, errlen, "bad value for %s: \"%s\"", tok, eq + 1);
            return -1;
        }
        *seen |= 1u << i;
        return 0;
    }
    snprintf(err, errlen,
             "unknown rule key \"%s\" (known: metric window limit action throttle "
             "hold unlock_after scope class novel)",
             tok);
    return -1;
}

/* rule_check - cross-field validation of a parsed rule */
static int
rule_check(const hj_rule *r, unsigned seen, char *err, size_t errlen)
{
    static const char *const required[] = {"metric", "window", "limit", "action"};

    for (size_t i = 0; i < 4; i++) {
        if (!(seen & (1u << i))) {
            snprintf(err, errlen, "rule %s: missing %s=", r->name, required[i]);
            return -1;
        }
    }
    if ((r->metric == HJ_M_RELAY_RCPTS) != (r->action == HJ_A_RELAY) ||
        (r->metric == HJ_M_RELAY_RCPTS && r->scope != HJ_S_IP && r->scope != HJ_S_GLOBAL)) {
        snprintf(err, errlen,
                 "rule %s: metric relay_recipients goes with action=relay and "
                 "scope=ip or scope=global, and only with them",
                 r->name);
        return -1;
    }
    if (r->novelty != HJ_N_ANY && r->scope != HJ_S_ACCOUNT) {
        snprintf(err, errlen,
                 "rule %s: novel= is about an account's own networks: "
                 "use it with scope=account",
                 r->name);
        return -1;
    }
    if (r->metric == HJ_M_SCORE && r->scope != HJ_S_ACCOUNT) {
        snprintf(err, errlen, "rule %s: metric score judges accounts: use it with scope=account",
                 r->name);
        return -1;
    }
    if (r->unlock_after && r->action != HJ_A_LOCK) {
        snprintf(err, errlen, "rule %s: unlock_after= is only for action=lock", r->name);
        return -1;
    }
    return 0;
}

int
policy_rule_parse(hj_policy *p, const char *name, const char *spec, char *err, size_t errlen)
{
    hj_rule r = {.throttle_for = 1800, .hold_for = 3600, .scope = HJ_S_ACCOUNT, .ipclass = HJ_C_ANY};
    unsigned seen = 0;
    char *copy = xstrdup(spec), *cur = copy, *tok;
    int rc = 0;

    if (!valid_name(name)) {
        snprintf(err, errlen, "bad rule name \"%s\" (letters, digits, _ . - only)", name);
        free(copy);
        return -1;
    }
    for (size_t i = 0; i < p->nrules; i++) {
        if (strcmp(p->rules[i].name, name) == 0) {
            snprintf(err, errlen, "rule %s is defined twice", name);
            free(copy);
            return -1;
        }
    }
    r.name = (char *)name;
    while (rc == 0 && (tok = next_token(&cur)) != NULL)
        rc = rule_set_key(&r, tok, &seen, err, errlen);
    free(copy);
    if (rc != 0 || rule_check(&r, seen, err, errlen) != 0)
        return -1;
    r.name = xstrdup(name);
    p->rules = xrealloc(p->rules, (p->nrules + 1) * sizeof(*p->rules));
    p->rules[p->nrules++] = r;
    return 0;
}

/* override_token - one "RULE.limit=N", "RULE.action=A" or "RULE=off" */
static int
override_token(hj_override *o, char *tok, char *err, size_t errlen)
{
    char *eq = strchr(tok, '=');

    if (eq == NULL) {
        snprintf(err, errlen, "expected RULE.limit=N, RULE.action=A or RULE=off, got \"%s\"", tok);
        return -1;
    }
    *eq = 0;
    char *dot = strchr(tok, '.');
    if (dot)
        *dot = 0;
    o->rulename = xstrdup(tok);
    if (dot == NULL && strcmp(eq + 1, "off") == 0)
        return o->off = 1, 0;
    hj_rule tmp = {0};
    if (dot && strcmp(dot + 1, "limit") == 0 && set_limit(&tmp, eq + 1) == 0)
        return o->has_limit = 1, o->limit = tmp.limit, 0;
    if (dot && strcmp(dot + 1, "action") == 0 && policy_action_lookup(eq + 1, &o->action) == 0)
        return o->has_action = 1, 0;
    snprintf(err, errlen, "bad override \"%s%s%s=%s\"", tok, dot ? "." : "", dot ? dot + 1 : "",
             eq + 1);
    free(o->rulename);
    return -1;
}

int
policy_override_parse(hj_policy *p, const char *pattern, const char *spec, char *err, size_t errlen)
{
    char *copy = xstrdup(spec), *cur = copy, *tok;
    char *pat = pattern[0] == '@' ? (char *)xmalloc(strlen(pattern) + 2) : lower_dup(pattern);
    int rc = 0, n = 0;

    if (pattern[0] == '@') {
        sprintf(pat, "*%s", pattern);
        for (char *q = pat; *q; q++)
            *q = (char)tolower((unsigned char)*q);
    }
    while (rc == 0 && (tok = next_token(&cur)) != NULL) {
        hj_override o = {.pattern = xstrdup(pat), .exact = strpbrk(pat, "*?[") == NULL};
        rc = override_token(&o, tok, err, errlen);
        if (rc != 0) {
            free(o.pattern);
            break;
        }
        p->overrides = xrealloc(p->overrides, (p->noverrides + 1) * sizeof(*p->overrides));
        p->overrides[p->noverrides++] = o;
        n++;
    }
    if (rc == 0 && n == 0) {
        snprintf(err, errlen, "override %s: nothing to override", pattern);
        rc = -1;
    }
    free(copy);
    free(pat);
    return rc;
}

int
policy_exempt_add(hj_policy *p, const char *pattern, char *err, size_t errlen)
{
    if (*pattern == 0) {
        snprintf(err, errlen, "empty exemption pattern");
        return -1;
    }
    p->exempt = xrealloc(p->exempt, (p->nexempt + 1) * sizeof(*p->exempt));
    p->exempt[p->nexempt] = pattern[0] == '@' ? xmalloc(strlen(pattern) + 2) : lower_dup(pattern);
    if (pattern[0] == '@') {
        sprintf(p->exempt[p->nexempt], "*%s", pattern);
        for (char *q = p->exempt[p->nexempt]; *q; q++)
            *q = (char)tolower((unsigned char)*q);
    }
    p->nexempt++;
    return 0;
}

int
policy_own_net_add(hj_policy *p, const char *cidr, char *err, size_t errlen)
{
    hj_cidr c;

    if (netaddr_cidr_parse(cidr, &c) != 0) {
        snprintf(err, errlen, "bad network \"%s\" (expected a.b.c.d/n or ipv6/n)", cidr);
        return -1;
    }
    p->own_nets = xrealloc(p->own_nets, (p->nown + 1) * sizeof(*p->own_nets));
    p->own_nets[p->nown++] = c;
    return 0;
}

/* counter_for - the index of the counter k, added when new */
static size_t
counter_for(hj_policy *p, hj_counter_def k)
{
    for (size_t i = 0; i < p->ncounters; i++) {
        const hj_counter_def *c = &p->counters[i];
        if (c->metric == k.metric && c->window == k.window && c->ipclass == k.ipclass &&
            c->scope == k.scope && c->novelty == k.novelty)
            return i;
    }
    p->counters = xrealloc(p->counters, (p->ncounters + 1) * sizeof(*p->counters));
    p->counters[p->ncounters] = k;
    return p->ncounters++;
}

/* signal_counters - the counters the score's signals read, shared with rules that match */
static void
signal_counters(hj_policy *p)
{
    static const hj_counter_def defs[HJ_SC__COUNT] = {
        [HJ_SC_FAILED_ACCOUNT] = {HJ_M_FAILED_LOGINS, 0, HJ_C_ANY, HJ_S_ACCOUNT, HJ_N_ANY, 0},
        [HJ_SC_FAILED_IP] = {HJ_M_FAILED_LOGINS, 0, HJ_C_ANY, HJ_S_IP, HJ_N_ANY, 0},
        [HJ_SC_NETWORKS] = {HJ_M_DISTINCT_NETS, 0, HJ_C_EXTERNAL, HJ_S_ACCOUNT, HJ_N_ANY, 0},
        [HJ_SC_SIMILAR] = {HJ_M_SIMILAR_SIZES, 0, HJ_C_ANY, HJ_S_ACCOUNT, HJ_N_ANY, 0},
        [HJ_SC_SPAM] = {HJ_M_SPAM, 0, HJ_C_ANY, HJ_S_ACCOUNT, HJ_N_ANY, 0},
    };

    for (size_t i = 0; i < p->nrules && !p->sig.used; i++)
        p->sig.used = p->rules[i].metric == HJ_M_SCORE;
    if (!p->sig.used)
        return;
    for (int i = 0; i < HJ_SC__COUNT; i++) {
        hj_counter_def k = defs[i];
        k.window = p->sig.window;
        p->sig.counter[i] = counter_for(p, k);
        p->scopes_used |= 1u << k.scope;
    }
    if (p->sig.window > p->max_window)
        p->max_window = p->sig.window;
}

int
policy_finish(hj_policy *p, char *err, size_t errlen)
{
    p->ncounters = 0;
    p->max_window = 0;
    p->scopes_used = 0;
    p->sig.used = 0;
    for (size_t i = 0; i < p->nrules; i++) {
        hj_rule *r = &p->rules[i];
        r->counter = counter_for(
            p, (hj_counter_def){r->metric, r->window, r->ipclass, r->scope, r->novelty, 0});
        if (r->window > p->max_window)
            p->max_window = r->window;
        p->scopes_used |= 1u << r->scope;
    }
    signal_counters(p);
    memset(p->scope_cbytes, 0, sizeof(p->scope_cbytes));
    memset(p->scope_window, 0, sizeof(p->scope_window));
    for (size_t i = 0; i < p->ncounters; i++) {
        hj_counter_def *d = &p->counters[i];
        if (d->window > p->scope_window[d->scope])
            p->scope_window[d->scope] = d->window;
        d->slot = p->scope_cbytes[d->scope];
        p->scope_cbytes[d->scope] += (uint32_t)counter_size(counter_kind_of(d->metric));
    }
    for (size_t i = 0; i < p->noverrides; i++) {
        hj_override *o = &p->overrides[i];
        size_t j;
        for (j = 0; j < p->nrules && strcmp(p->rules[j].name, o->rulename) != 0; j++)
            ;
        if (j == p->nrules) {
            snprintf(err, errlen, "override %s: no rule named %s", o->pattern, o->rulename);
            return -1;
        }
        o->rule = j;
    }
    return 0;
}

void
policy_free(hj_policy *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->nrules; i++)
        free(p->rules[i].name);
    for (size_t i = 0; i < p->noverrides; i++) {
        free(p->overrides[i].pattern);
        free(p->overrides[i].rulename);
    }
    for (size_t i = 0; i < p->nexempt; i++)
        free(p->exempt[i]);
    free(p->rules);
    free(p->overrides);
    free(p->counters);
    free(p->exempt);
    free(p->own_nets);
    policy_freemail_clear(p);
    free(p);
}

hj_ipclass
policy_ipclass_addr(const hj_policy *p, const hj_addr *a)
{
    for (size_t i = 0; i < p->nown; i++)
        if (netaddr_in(a, &p->own_nets[i]))
            return HJ_C_OWN;
    return netaddr_is_reserved(a) ? HJ_C_RESERVED : HJ_C_EXTERNAL;
}

hj_ipclass
policy_ipclass(const hj_policy *p, const char *ip)
{
    hj_addr a;

    if (ip == NULL || netaddr_parse(ip, strlen(ip), &a) != 0)
        return HJ_C_EXTERNAL;
    return policy_ipclass_addr(p, &a);
}

int
policy_pattern_match(const char *pattern, const char *name)
{
    char low[512];
    size_t n = strlen(name);

    if (n >= sizeof(low))
        return 0;
    for (size_t i = 0; i <= n; i++)
        low[i] = (char)tolower((unsigned char)name[i]);
    return fnmatch(pattern, low, 0) == 0;
}

int
policy_is_exempt(const hj_policy *p, const char *account)
{
    for (size_t i = 0; i < p->nexempt; i++)
        if (policy_pattern_match(p->exempt[i], account))
            return 1;
    return 0;
}

/* local_is - the local part of addr (before the last @) equals name, any case */
static int
local_is(const char *addr, const char *name)
{
    const char *at = strrchr(addr, '@');
    size_t n = at ? (size_t)(at - addr) : strlen(addr);

    return n == strlen(name) && strncasecmp(addr, name, n) == 0;
}

/*
 * policy_never_counted - an authenticated account is judged by its login alone: the envelope
 * sender is the client's to choose, and a stolen account that sent with MAIL FROM:<> or
 * MAIL FROM:<postmaster@...> would otherwise never be counted. Mail without a login is never
 * counted when its sender is the null sender (a DSN), MAILER-DAEMON or postmaster.
 */
int
policy_never_counted(const char *account, const char *sender)
{
    if (account && *account)
        return local_is(account, "postmaster") || local_is(account, "mailer-daemon");
    if (sender &&
        (*sender == 0 || local_is(sender, "mailer-daemon") || local_is(sender, "postmaster")))
        return 1;
    return 0;
}

void
policy_rule_format(const hj_rule *r, hj_buf *out)
{
    char w[32], t[32], u[32];

    timeconv_duration_str(r->window, w, sizeof(w));
    buf_printf(out, "rule %s = metric=%s window=%s limit=%lld action=%s", r->name,
               metric_names[r->metric], w, (long long)r->limit, action_names[r->action]);
    if (r->action == HJ_A_THROTTLE) {
        timeconv_duration_str(r->throttle_for, t, sizeof(t));
        buf_printf(out, " throttle=%s", t);
    }
    if (r->action == HJ_A_HOLD) {
        timeconv_duration_str(r->hold_for, t, sizeof(t));
        buf_printf(out, " hold=%s", t);
    }
    if (r->unlock_after) {
        timeconv_duration_str(r->unlock_after, u, sizeof(u));
        buf_printf(out, " unlock_after=%s", u);
    }
    buf_printf(out, " scope=%s class=%s", scope_names[r->scope], class_names[r->ipclass]);
    if (r->novelty != HJ_N_ANY)
        buf_printf(out, " novel=%s", novelty_names[r->novelty]);
}

void
policy_override_format(const hj_policy *p, const hj_override *o, hj_buf *out)
{
    const char *rn = p->rules[o->rule].name;

    buf_printf(out, "override %s = ", o->pattern);
    if (o->off)
        buf_printf(out, "%s=off", rn);
    else if (o->has_limit)
        buf_printf(out, "%s.limit=%lld", rn, (long long)o->limit);
    else
        buf_printf(out, "%s.action=%s", rn, action_names[o->action]);
}
