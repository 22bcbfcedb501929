/*
 * cmds - the admin commands, one implementation for the control socket and the HTTP API
 *
 * SYNOPSIS (cmds.h)
 *	int cmds_run(live *L, json_t *req, const cmd_caller *who, json_t **reply);
 *	void cmds_exempt_apply(live *L, hj_conf *c);
 *
 * DESCRIPTION
 *	A request is a JSON object {"cmd": NAME, ...members}; cmds_run()
 *	dispatches it through a table, and returns an HTTP-like status (200,
 *	400 bad request, 403 not allowed, 404 unknown account, 409 conflict,
 *	500 store or internal error) with the reply body in *reply (owned by
 *	the caller; {"error": text} when the status is not 200). The bodies
 *	are documented in docs/hijackctl.md and docs/API.md. Commands that
 *	change something (lock, unlock, exempt add/del, reload) need an
 *	admin caller. Locks, unlocks and exemptions are written to the store
 *	or state_dir before the reply, and survive a restart.
 *
 *	Runtime exemptions live in state_dir/exempt.list, one pattern per
 *	line; cmds_exempt_apply() adds them to a configuration being loaded.
 *	Single-threaded (the daemon's loop). Memory failure is fatal.
 */
#include "cmds.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../postfix/queue.h"
#include "../util/alloc.h"
#include "../util/log.h"
#include "../util/timeconv.h"
#include "notify.h"

#define HISTORY_MAX 500

typedef int (*cmd_fn)(live *L, json_t *req, const cmd_caller *who, json_t **reply);

/* err - an error reply */
static int
err(json_t **reply, int status, const char *msg)
{
    *reply = json_pack("{s:s}", "error", msg);
    return status;
}

/* cmds_local_time - an RFC 3339 time in the server's local offset, or JSON null for 0 */
json_t *
cmds_local_time(int64_t t)
{
    char s[48];
    struct tm tm;
    time_t tt = (time_t)t;

    if (t == 0)
        return json_null();
    localtime_r(&tt, &tm);
    timeconv_rfc3339(t, (int32_t)tm.tm_gmtoff, s, sizeof(s));
    return json_string(s);
}

/* str - a string member of the request, or NULL */
static const char *
str(json_t *req, const char *key)
{
    return json_string_value(json_object_get(req, key));
}

/* account_arg - the request's account: a non-empty string of sane length */
static const char *
account_arg(json_t *req)
{
    const char *a = str(req, "account");

    return a && *a && strlen(a) < STORE_NAME_MAX && !strpbrk(a, "\r\n") ? a : NULL;
}

static int
cmd_status(live *L, json_t *req, const cmd_caller *who, json_t **reply)
{
    const hj_engine_stats *st = engine_stats(L->eng);
    char store[4200];
    int64_t locked = 0, throttled = 0, accounts = 0;

    (void)req;
    cmds_counts(L, &locked, &throttled, &accounts);
    snprintf(store, sizeof(store), "%s", L->store->name);
    *reply = json_pack("{s:s,s:o,s:I,s:s,s:{s:s,s:s,s:s},s:I,s:I,s:I,s:I,s:s}", "version",
                       HJ_VERSION, "started", cmds_local_time(L->started), "uptime",
                       (json_int_t)(time(NULL) - L->started), "store", store, "listeners", "policy",
                       L->conf->policy_listen, "http", L->conf->http_listen, "control",
                       L->control_path, "accounts", (json_int_t)accounts, "locked",
                       (json_int_t)locked, "throttled", (json_int_t)throttled, "entities",
                       (json_int_t)st->entities, "role", who->admin ? "admin" : "read");
    return 200;
}

typedef struct count_ctx {
    live *L;
    int64_t now, locked, throttled, accounts;
} count_ctx;

static void
count_one(void *ctx, const char *name, const hj_totals *t)
{
    count_ctx *c = ctx;

    (void)t;
    c->accounts++;
    hj_state s = engine_state(c->L->eng, name, c->now, NULL);
    c->locked += s == HJ_ST_LOCKED;
    c->throttled += s == HJ_ST_THROTTLED;
}

void
cmds_counts(live *L, int64_t *locked, int64_t *throttled, int64_t *accounts)
{
    count_ctx c = {L, time(NULL), 0, 0, 0};

    engine_accounts(L->eng, count_one, &c);
    *locked = c.locked;
    *throttled = c.throttled;
    *accounts = c.accounts;
}

typedef struct audit_ctx {
    json_t *list;
    const char *action; /* only this action, or NULL */
    int decisions;      /* the decision objects themselves */
} audit_ctx;

/* audit_one - one audit entry, as a history line or as its decision */
static int
audit_one(void *ctx, const hj_audit_rec *a)
{
    audit_ctx *c = ctx;
    json_t *d = a->json ? json_loads(a->json, 0, NULL) : NULL;

    if (c->action && strcmp(a->action, c->action) != 0) {
        json_decref(d);
        return 0;
    }
    if (c->decisions && d) {
        json_array_append_new(c->list, d);
        return 0;
    }
    const char *reason = d ? json_string_value(json_object_get(d, "reason")) : NULL;
    json_array_append_new(c->list,
                          json_pack("{s:o,s:s,s:s,s:s,s:s,s:s}", "ts", cmds_local_time(a->t),
                                    "account", a->account, "action", a->action, "rule", a->rule,
                                    "actor", a->actor, "reason", reason ? reason : ""));
    json_decref(d);
    return 0;
}

/* audit_list - entries of account (NULL: all) since, newest first, at most max; NULL on error */
static json_t *
audit_list(live *L, const char *account, int64_t since, const char *action, int decisions,
           size_t max)
{
    char e[256];
    audit_ctx c = {json_array(), action, decisions};

    if (L->store->ops->audit_walk(L->store, account, since, audit_one, &c, e, sizeof(e)) !=
        STORE_OK) {
        log_error("store: cannot read the audit trail: %s", e);
        json_decref(c.list);
        return NULL;
    }
    size_t n = json_array_size(c.list);
    json_t *out = json_array();
    for (size_t i = 0; i < n && i < max; i++)
        json_array_append(out, json_array_get(c.list, n - 1 - i));
    json_decref(c.list);
    return out;
}

typedef struct locked_ctx {
    live *L;
    json_t *list;
} locked_ctx;

/* evidence - the count, limit, window and client IPs of an account's latest lock decision */
static void
evidence(live *L, const hj_lock_rec *k, json_t *row)
{
    json_t *d = audit_list(L, k->account, k->since, "lock", 1, 1);
    json_t *lock = d ? json_array_get(d, 0) : NULL;
    static const char *const keys[] = {"count", "limit", "window", "client_ips", "signals"};

    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        json_t *v = lock ? json_object_get(lock, keys[i]) : NULL;
        json_object_set(row, keys[i], v ? v : json_null());
    }
    json_decref(d);
}

static int
locked_one(void *ctx, const hj_lock_rec *k)
{
    locked_ctx *c = ctx;
    json_t *row = json_pack("{s:s,s:o,s:o,s:s,s:s,s:s}", "account", k->account, "since",
                            cmds_local_time(k->since), "until", cmds_local_time(k->until), "rule",
                            k->rule, "reason", k->reason, "actor", k->actor);

    evidence(c->L, k, row);
    json_array_append_new(c->list, row);
    return 0;
}

static int
cmd_locked(live *L, json_t *req, const cmd_caller *who, json_t **reply)
{
    char e[256];
    locked_ctx c = {L, json_array()};

    (void)req, (void)who;
    if (L->store->ops->lock_walk(L->store, locked_one, &c, e, sizeof(e)) != STORE_OK) {
        json_decref(c.list);
        return err(reply, 500, e);
    }
    *reply = json_pack("{s:o}", "locked", c.list);
    return 200;
}

/* rule_row - one account rule's count against its limit (show) */
static void
rule_row(void *ctx, const hj_rule *r, int64_t count, int64_t limit)
{
    json_array_append_new(ctx,
                          json_pack("{s:s,s:s,s:I,s:I,s:I,s:s}", "rule", r->name, "metric",
                                    policy_metric_name(r->metric), "window", (json_int_t)r->window,
                                    "count", (json_int_t)count, "limit", (json_int_t)limit,
                                    "action", policy_action_name(r->action)));
}

static const char *const state_names[] = {"ok", "throttled", "locked"};

/* show_state - the lock or throttle in force, as {since, until, rule, reason} or null */
static json_t *
show_state(live *L, const char *account, const hj_account_info *ai, hj_state want)
{
    hj_lock_rec k;
    char e[256];

    if (ai->state != want)
        return json_null();
    const char *rule = ai->lock.rule ? ai->lock.rule->name : "manual", *reason = "";
    if (want == HJ_ST_LOCKED &&
        L->store->ops->lock_get(L->store, account, &k, e, sizeof(e)) == STORE_OK)
        reason = k.reason;
    return json_pack("{s:o,s:o,s:s,s:s}", "since", cmds_local_time(ai->lock.since), "until",
                     cmds_local_time(ai->lock.until), "rule", rule, "reason", reason);
}

/* show_hourly - recipients per hour, oldest first */
static json_t *
show_hourly(const hj_account_info *ai)
{
    json_t *h = json_array();

    for (int i = 0; i < ai->nhours; i++)
        json_array_append_new(h, json_integer(ai->hours[i]));
    return json_pack("{s:o,s:i,s:o}", "start", cmds_local_time(ai->nhours ? ai->hour_start : 0),
                     "step", 3600, "recipients", h);
}

static json_t *
show_ips(const hj_account_info *ai)
{
    json_t *a = json_array();
    char s[64];

    for (int i = 0; i < ai->nips; i++) {
        netaddr_str(&ai->ips[i], s, sizeof(s));
        json_array_append_new(a, json_string(s));
    }
    return a;
}

static int
cmd_show(live *L, json_t *req, const cmd_caller *who, json_t **reply)
{
    const char *a = account_arg(req);
    hj_account_info ai;
    json_t *rules = json_array();

    (void)who;
    if (a == NULL)
        return err(reply, 400, "show: \"account\" is missing or not a valid name");
    if (engine_account(L->eng, a, time(NULL), &ai) != 0) {
        json_decref(rules);
        return err(reply, 404, "no such account: hijackd has seen no mail from it");
    }
    engine_account_rules(L->eng, a, time(NULL), rule_row, rules);
    json_t *dec = audit_list(L, a, 0, NULL, 1, 20);
    *reply = json_pack(
        "{s:s,s:s,s:o,s:o,s:o,s:o,s:{s:i,s:i,s:i,s:i,s:i,s:i,s:i},s:{s:I,s:I,s:o,s:o},s:o,s:o}",
        "account", a, "state", state_names[ai.state], "lock", show_state(L, a, &ai, HJ_ST_LOCKED),
        "throttle", show_state(L, a, &ai, HJ_ST_THROTTLED), "recent_ips", show_ips(&ai), "counters",
        rules, "normal", "networks", (int)ai.networks, "clients", (int)ai.clients, "domains",
        (int)ai.domains, "messages", (int)ai.msgs, "novel_share", (int)ai.novel_pct,
        "unknown_share", (int)ai.unknown_pct, "freemail_share", (int)ai.freemail_pct, "totals",
        "messages", (json_int_t)ai.tot.messages, "recipients", (json_int_t)ai.tot.recipients,
        "first_seen", cmds_local_time(ai.tot.first_seen), "last_seen",
        cmds_local_time(ai.tot.last_seen), "hourly", show_hourly(&ai), "decisions",
        dec ? dec : json_array());
    return 200;
}

/* change - lock or unlock for an admin; the reply says the account's state after it */
static int
change(live *L, json_t *req, const cmd_caller *who, json_t **reply, int lock)
{
    const char *a = account_arg(req), *reason = str(req, "reason");

    if (!who->admin)
        return err(reply, 403, "not allowed: only root or the admin group may change things");
    if (a == NULL)
        return err(reply, 400, "\"account\" is missing or not a valid name");
    if (reason && strlen(reason) > 1000)
        return err(reply, 400, "\"reason\" is longer than 1000 characters");
    if (!lock && engine_state(L->eng, a, time(NULL), NULL) == HJ_ST_OK) {
        hj_account_info ai;
        return engine_account(L->eng, a, time(NULL), &ai) != 0
                   ? err(reply, 404, "no such account: hijackd has seen no mail from it")
                   : err(reply, 409, "the account is not locked");
    }
    int rc = lock ? live_lock(L, a, who->actor, reason ? reason : "")
                  : live_unlock(L, a, who->actor, reason ? reason : "");
    if (rc == -1)
        return err(reply, 409,
                   lock ? "the account is already locked" : "the account is not locked");
    if (rc == -2)
        return err(reply, 500, "the store failed: the change may not survive a restart");
    *reply = json_pack("{s:b,s:s,s:s}", "ok", 1, "account", a, "state", lock ? "locked" : "ok");
    return 200;
}

static int
cmd_lock(live *L, json_t *req, const cmd_caller *who, json_t **reply)
{
    return change(L, req, who, reply, 1);
}

static int
cmd_unlock(live *L, json_t *req, const cmd_caller *who, json_t **reply)
{
    return change(L, req, who, reply, 0);
}

static int
cmd_history(live *L, json_t *req, const cmd_caller *who, json_t **reply)
{
    const char *a = str(req, "account"), *since = str(req, "since");
    int64_t t = 0;

    (void)who;
    if (since && *since && timeconv_parse_rfc3339(since, &t) != 0)
        return err(reply, 400, "\"since\" is not an RFC 3339 time (2026-11-25T06:00:00+00:00)");
    json_t *h = audit_list(L, a && *a ? a : NULL, t, NULL, 0, HISTORY_MAX);
    if (h == NULL)
        return err(reply, 500, "the store failed");
    *reply = json_pack("{s:o}", "history", h);
    return 200;
}

static int
cmd_decisions(live *L, json_t *req, const cmd_caller *who, json_t **reply)
{
    const char *a = str(req, "account");
    json_int_t n = json_integer_value(json_object_get(req, "limit"));

    (void)who;
    json_t *d = audit_list(L, a && *a ? a : NULL, 0, NULL, 1,
                           n <= 0            ? 50
                           : n > HISTORY_MAX ? HISTORY_MAX
                                             : (size_t)n);
    if (d == NULL)
        return err(reply, 500, "the store failed");
    *reply = json_pack("{s:o}", "decisions", d);
    return 200;
}

typedef struct top_ctx {
    live *L;
    int64_t now, window;
    json_t *list;
} top_ctx;

/* top_one - an account's recipients over the last window (whole hours) */
static void
top_one(void *ctx, const char *name, const hj_totals *t)
{
    top_ctx *c = ctx;
    hj_account_info ai;
    int64_t rcpts = 0;

    if (engine_account(c->L->eng, name, c->now, &ai) != 0)
        return;
    for (int i = ai.nhours - 1; i >= 0; i--) {
        if (ai.hour_start + (int64_t)i * 3600 + 3600 <= c->now - c->window)
            break;
        rcpts += ai.hours[i];
    }
    if (rcpts > 0)
        json_array_append_new(c->list,
                              json_pack("{s:s,s:I,s:I,s:s}", "account", name, "messages",
                                        (json_int_t)t->messages, "recipients", (json_int_t)rcpts,
                                        "state", state_names[ai.state]));
}

static int
by_recipients(const void *a, const void *b)
{
    json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "recipients"));
    json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "recipients"));

    return x < y ? 1 : x > y ? -1 : 0;
}

static int
cmd_top(live *L, json_t *req, const cmd_caller *who, json_t **reply)
{
    json_int_t w = json_integer_value(json_object_get(req, "window"));
    top_ctx c = {L, time(NULL), w > 0 && w <= 7 * 86400 ? w : 3600, json_array()};

    (void)who;
    engine_accounts(L->eng, top_one, &c);
    size_t n = json_array_size(c.list);
    json_t **v = xcalloc(n + 1, sizeof(*v));
    for (size_t i = 0; i < n; i++)
        v[i] = json_incref(json_array_get(c.list, i));
    qsort(v, n, sizeof(*v), by_recipients);
    json_t *top = json_array();
    for (size_t i = 0; i < n; i++)
        i < 20 ? json_array_append_new(top, v[i]) : json_decref(v[i]);
    free(v);
    json_decref(c.list);
    *reply = json_pack("{s:I,s:o}", "window", (json_int_t)c.window, "top", top);
    return 200;
}

static int
cmd_reload(live *L, json_t *req, const cmd_caller *who, json_t **reply)
{
    (void)req;
    if (!who->admin)
        return err(reply, 403, "not allowed: only root or the admin group may reload");
    if (live_reload(L) != 0)
        return err(reply, 400,
                   "reload refused: the configuration has an error (see the log); "
                   "the running one stays");
    *reply = json_pack("{s:b}", "ok", 1);
    return 200;
}

static int
cmd_queue_accounts(live *L, json_t *req, const cmd_caller *who, json_t **reply)
{
    json_t *ids = json_object_get(req, "ids"), *out = json_object(), *id;
    size_t i;

    (void)who;
    if (!json_is_array(ids))
        return json_decref(out), err(reply, 400, "\"ids\" must be an array of queue IDs");
    json_array_foreach(ids, i, id)
    {
        const char *q = json_string_value(id), *a = q ? live_account_of(L, q) : NULL;
        if (a)
            json_object_set_new(out, q, json_string(a));
    }
    *reply = json_pack("{s:o}", "accounts", out);
    return 200;
}

static const struct {
    const char *name;
    cmd_fn fn;
} table[] = {
    {"status", cmd_status},
    {"locked", cmd_locked},
    {"show", cmd_show},
    {"lock", cmd_lock},
    {"unlock", cmd_unlock},
    {"exempt", cmds_exempt},
    {"history", cmd_history},
    {"decisions", cmd_decisions},
    {"top", cmd_top},
    {"reload", cmd_reload},
    {"queue_accounts", cmd_queue_accounts},
    {"unlock_token", notify_cmd_unlock_token},
};

int
cmds_run(live *L, json_t *req, const cmd_caller *who, json_t **reply)
{
    const char *name = json_is_object(req) ? str(req, "cmd") : NULL;

    if (name == NULL)
        return err(reply, 400, "a request is a JSON object with a \"cmd\" member");
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (strcmp(table[i].name, name) == 0)
            return table[i].fn(L, req, who, reply);
    return err(reply, 400, "unknown command");
}

/* exempt_path - state_dir/exempt.list */
static void
exempt_path(const hj_conf *c, char *out, size_t len)
{
    snprintf(out, len, "%s/exempt.list", c->state_dir);
}

void
cmds_exempt_apply(live *L, hj_conf *c)
{
    char path[4200], line[1024], e[256];
    FILE *f;

    (void)L;
    exempt_path(c, path, sizeof(path));
    if ((f = fopen(path, "r")) == NULL)
        return;
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (*line && policy_exempt_add(c->pol, line, e, sizeof(e)) != 0)
            log_warn("%s: %s: %s", path, line, e);
    }
    fclose(f);
}

/* exempt_list - the patterns in force (configuration and exempt.list) */
static json_t *
exempt_list(const live *L)
{
    json_t *a = json_array();

    for (size_t i = 0; i < L->conf->pol->nexempt; i++)
        json_array_append_new(a, json_string(L->conf->pol->exempt[i]));
    return a;
}

/* exempt_write - exempt.list with pattern added or removed; 1 when it was not there to remove */
static int
exempt_write(live *L, const char *pattern, int add)
{
    char path[4200], tmp[4300], line[1024];
    int found = 0;

    exempt_path(L->conf, path, sizeof(path));
    snprintf(tmp, sizeof(tmp), "%s.new", path);
    FILE *in = fopen(path, "r"), *out = fopen(tmp, "w");
    if (out == NULL) {
        if (in)
            fclose(in);
        return -1;
    }
    while (in && fgets(line, sizeof(line), in)) {
        line[strcspn(line, "\r\n")] = 0;
        if (strcmp(line, pattern) == 0 && (found = 1))
            continue;
        fprintf(out, "%s\n", line);
    }
    if (add)
        fprintf(out, "%s\n", pattern);
    if (in)
        fclose(in);
    if (fflush(out) != 0 || fsync(fileno(out)) != 0 || fclose(out) != 0 || rename(tmp, path) != 0)
        return -1;
    return !add && !found;
}

int
cmds_exempt(live *L, json_t *req, const cmd_caller *who, json_t **reply)
{
    const char *op = str(req, "op"), *pat = str(req, "pattern");
    char e[256];

    if (op == NULL || strcmp(op, "list") == 0) {
        *reply = json_pack("{s:o}", "exempt", exempt_list(L));
        return 200;
    }
    if (strcmp(op, "add") != 0 && strcmp(op, "del") != 0)
        return err(reply, 400, "\"op\" must be add, del or list");
    if (!who->admin)
        return err(reply, 403, "not allowed: only root or the admin group may change exemptions");
    hj_policy *check = policy_new();
    int bad = pat == NULL || strpbrk(pat, "\r\n") || policy_exempt_add(check, pat, e, sizeof(e));
    policy_free(check);
    if (bad)
        return err(reply, 400, "\"pattern\" is missing or not a valid pattern");
    int rc = exempt_write(L, pat, strcmp(op, "add") == 0);
    if (rc < 0)
        return err(reply, 500, "cannot write exempt.list in state_dir");
    if (rc == 1)
        return err(reply, 404,
                   "no such pattern in exempt.list (patterns of the configuration "
                   "file are changed there)");
    if (live_reload(L) != 0)
        return err(reply, 500, "saved, but the reload failed (see the log)");
    *reply = json_pack("{s:o}", "exempt", exempt_list(L));
    return 200;
}
