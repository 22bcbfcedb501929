/*
 * cmds - the admin commands, one implementation for the control socket and the HTTP API
 *
 * SYNOPSIS (cmds.h)
 *	int cmds_run(admin_env *A, json_t *req, const cmd_caller *who, json_t **reply);
 *	int cmds_open(const json_t *req);
 *
 * DESCRIPTION
 *	A request is a JSON object {"cmd": NAME, ...members}; cmds_run()
 *	dispatches it through a table, and returns an HTTP-like status (200,
 *	400 bad request, 403 not allowed, 404 unknown account, 409 conflict,
 *	500 store or internal error) with the reply body in *reply (owned by
 *	the caller; {"error": text} when the status is not 200 or 202; 202
 *	accepted: queued for a worker, 503 the worker is not running). The
 *	bodies are documented in docs/hijackctl.md and docs/API.md. Commands
 *	that change something (lock, unlock, exempt add/del, reload, queue)
 *	need an admin caller. Who may read is the front end's business (control.c:
 *	root, admin_group, control_read_group; httpd.c: a token); cmds_open()
 *	names the commands a front end lets anyone send: unlock_token, whose
 *	token is the authority. Locks, unlocks and exemptions are written to the store
 *	or state_dir before the reply, and survive a restart.
 *
 *	Runtime exemptions live in state_dir/exempt.list (core/exempt.h);
 *	"exempt add/del" rewrites it and reloads through A->reload.
 *	Single-threaded (the daemon's loop). Memory failure is fatal.
 */
#include "cmds.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../util/alloc.h"
#include "../util/log.h"
#include "../util/timeconv.h"
#include "../core/exempt.h"
#include "../util/jname.h"
#include "../util/jtime.h"
#include "../util/version.h"

#define HISTORY_MAX 500

typedef int (*cmd_fn)(admin_env *A, json_t *req, const cmd_caller *who, json_t **reply);

/* err - an error reply */
static int
err(json_t **reply, int status, const char *msg)
{
    *reply = json_pack("{s:s}", "error", msg);
    return status;
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

/*
 * account_key - the engine's and store's key for the request's account, in raw[]: the name as
 * given, or, when hijackd does not know that one, the raw bytes it shows as \xNN (jname.h)
 */
static const char *
account_key(admin_env *A, json_t *req, char raw[STORE_NAME_MAX])
{
    const char *a = account_arg(req);
    hj_account_info ai;
    hj_lock_rec k;
    char e[256];

    if (a == NULL || jname_raw(a, raw, STORE_NAME_MAX) != 1 ||
        engine_account(core_engine(A->C), a, time(NULL), &ai) == 0)
        return a;
    if (engine_account(core_engine(A->C), raw, time(NULL), &ai) == 0 ||
        core_store(A->C)->ops->lock_get(core_store(A->C), raw, &k, e, sizeof(e)) == STORE_OK)
        return raw;
    return a;
}

static int
cmd_status(admin_env *A, json_t *req, const cmd_caller *who, json_t **reply)
{
    const hj_engine_stats *st = engine_stats(core_engine(A->C));
    char store[4200];
    hj_account_counts c;

    (void)req;
    cmds_counts(A, &c);
    snprintf(store, sizeof(store), "%s", core_store(A->C)->name);
    *reply = json_pack("{s:s,s:o,s:I,s:s,s:{s:s,s:s,s:s},s:I,s:I,s:I,s:I,s:I,s:s}", "version",
                       HJ_VERSION, "started", jtime_local(A->started), "uptime",
                       (json_int_t)(time(NULL) - A->started), "store", store, "listeners", "policy",
                       core_conf(A->C)->policy_listen, "http", core_conf(A->C)->http_listen, "control",
                       A->control_path, "accounts", (json_int_t)c.accounts, "locked",
                       (json_int_t)c.locked, "throttled", (json_int_t)c.throttled, "held",
                       (json_int_t)c.held, "entities",
                       (json_int_t)st->entities, "role", who->admin ? "admin" : "read");
    return 200;
}

void
cmds_counts(admin_env *A, hj_account_counts *c)
{
    engine_counts(core_engine(A->C), time(NULL), c);
}

typedef struct audit_ctx {
    json_t *list;
    int decisions; /* the decision objects themselves */
} audit_ctx;

/* audit_one - one audit entry, as a history line or as its decision */
static int
audit_one(void *ctx, const hj_audit_rec *a)
{
    audit_ctx *c = ctx;
    json_t *d = a->json ? json_loads(a->json, 0, NULL) : NULL;

    if (c->decisions && d) {
        json_array_append_new(c->list, d);
        return 0;
    }
    const char *reason = d ? json_string_value(json_object_get(d, "reason")) : NULL;
    json_array_append_new(c->list,
                          json_pack("{s:o,s:o,s:s,s:s,s:s,s:s}", "ts", jtime_local(a->t),
                                    "account", jname(a->account), "action", a->action, "rule", a->rule,
                                    "actor", a->actor, "reason", reason ? reason : ""));
    json_decref(d);
    return 0;
}

/* audit_list - entries of account (NULL: all) and action (NULL: any) since, newest first, at
 * most max; NULL on error. The store reads only those (audit_recent): no read of the whole
 * trail on the event loop. */
static json_t *
audit_list(admin_env *A, const char *account, int64_t since, const char *action, int decisions,
           size_t max)
{
    char e[256];
    hj_store *st = core_store(A->C);
    audit_ctx c = {json_array(), decisions};

    if (st->ops->audit_recent(st, account, since, action, max, audit_one, &c, e, sizeof(e)) !=
        STORE_OK) {
        log_error("store: cannot read the audit trail: %s", e);
        json_decref(c.list);
        return NULL;
    }
    return c.list;
}

typedef struct locked_ctx {
    admin_env *A;
    json_t *list;
} locked_ctx;

/* evidence - the count, limit, window and client IPs of an account's latest lock decision */
static void
evidence(admin_env *A, const hj_lock_rec *k, json_t *row)
{
    json_t *d = audit_list(A, k->account, k->since, "lock", 1, 1);
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
    json_t *row = json_pack("{s:o,s:o,s:o,s:s,s:s,s:s}", "account", jname(k->account), "since",
                            jtime_local(k->since), "until", jtime_local(k->until), "rule",
                            k->rule, "reason", k->reason, "actor", k->actor);

    evidence(c->A, k, row);
    json_array_append_new(c->list, row);
    return 0;
}

static int
cmd_locked(admin_env *A, json_t *req, const cmd_caller *who, json_t **reply)
{
    char e[256];
    locked_ctx c = {A, json_array()};

    (void)req, (void)who;
    if (core_store(A->C)->ops->lock_walk(core_store(A->C), locked_one, &c, e, sizeof(e)) != STORE_OK) {
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

static const char *const state_names[] = {
    [HJ_ST_OK] = "ok", [HJ_ST_THROTTLED] = "throttled", [HJ_ST_LOCKED] = "locked", [HJ_ST_HELD] = "held"};

/* show_state - the lock, hold or throttle in force, as {since, until, rule, reason} or null */
static json_t *
show_state(admin_env *A, const char *account, const hj_account_info *ai, hj_state want)
{
    hj_lock_rec k;
    char e[256];

    if (ai->state != want)
        return json_null();
    const char *rule = ai->lock.rule ? ai->lock.rule->name : "manual", *reason = "";
    if (want == HJ_ST_LOCKED &&
        core_store(A->C)->ops->lock_get(core_store(A->C), account, &k, e, sizeof(e)) == STORE_OK)
        reason = k.reason;
    return json_pack("{s:o,s:o,s:s,s:s}", "since", jtime_local(ai->lock.since), "until",
                     jtime_local(ai->lock.until), "rule", rule, "reason", reason);
}

/* show_hourly - recipients per hour, oldest first */
static json_t *
show_hourly(const hj_account_info *ai)
{
    json_t *h = json_array();

    for (int i = 0; i < ai->nhours; i++)
        json_array_append_new(h, json_integer(ai->hours[i]));
    return json_pack("{s:o,s:i,s:o}", "start", jtime_local(ai->nhours ? ai->hour_start : 0),
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
cmd_show(admin_env *A, json_t *req, const cmd_caller *who, json_t **reply)
{
    char raw[STORE_NAME_MAX];
    const char *a = account_key(A, req, raw);
    hj_account_info ai;
    json_t *rules = json_array();

    (void)who;
    if (a == NULL)
        return err(reply, 400, "show: \"account\" is missing or not a valid name");
    if (engine_account(core_engine(A->C), a, time(NULL), &ai) != 0) {
        json_decref(rules);
        return err(reply, 404, "no such account: hijackd has seen no mail from it");
    }
    engine_account_rules(core_engine(A->C), a, time(NULL), rule_row, rules);
    json_t *dec = audit_list(A, a, 0, NULL, 1, 20);
    *reply = json_pack(
        "{s:o,s:s,s:o,s:o,s:o,s:o,s:o,s:{s:i,s:i,s:i,s:i,s:i,s:i,s:i},s:{s:I,s:I,s:o,s:o},s:o,s:o}",
        "account", jname(a), "state", state_names[ai.state], "lock", show_state(A, a, &ai, HJ_ST_LOCKED),
        "throttle", show_state(A, a, &ai, HJ_ST_THROTTLED), "hold",
        show_state(A, a, &ai, HJ_ST_HELD), "recent_ips", show_ips(&ai), "counters",
        rules, "normal", "networks", (int)ai.networks, "clients", (int)ai.clients, "domains",
        (int)ai.domains, "messages", (int)ai.msgs, "novel_share", (int)ai.novel_pct,
        "unknown_share", (int)ai.unknown_pct, "freemail_share", (int)ai.freemail_pct, "totals",
        "messages", (json_int_t)ai.tot.messages, "recipients", (json_int_t)ai.tot.recipients,
        "first_seen", jtime_local(ai.tot.first_seen), "last_seen",
        jtime_local(ai.tot.last_seen), "hourly", show_hourly(&ai), "decisions",
        dec ? dec : json_array());
    return 200;
}

/* change - lock or unlock for an admin; the reply says the account's state after it */
static int
change(admin_env *A, json_t *req, const cmd_caller *who, json_t **reply, int lock)
{
    char raw[STORE_NAME_MAX];
    const char *a = account_key(A, req, raw), *reason = str(req, "reason");

    if (!who->admin)
        return err(reply, 403, "not allowed: only root or the admin group may change things");
    if (a == NULL)
        return err(reply, 400, "\"account\" is missing or not a valid name");
    if (reason && strlen(reason) > 1000)
        return err(reply, 400, "\"reason\" is longer than 1000 characters");
    if (!lock && engine_state(core_engine(A->C), a, time(NULL), NULL) == HJ_ST_OK) {
        hj_account_info ai;
        return engine_account(core_engine(A->C), a, time(NULL), &ai) != 0
                   ? err(reply, 404, "no such account: hijackd has seen no mail from it")
                   : err(reply, 409, "the account is not locked");
    }
    int rc = lock ? core_lock(A->C, a, who->actor, reason ? reason : "")
                  : core_unlock(A->C, a, who->actor, reason ? reason : "");
    if (rc == -1)
        return err(reply, 409,
                   lock ? "the account is already locked" : "the account is not locked");
    if (rc == -2)
        return err(reply, 500, "the store failed: the change may not survive a restart");
    *reply = json_pack("{s:b,s:o,s:s}", "ok", 1, "account", jname(a), "state",
                       lock ? "locked" : "ok");
    return 200;
}

static int
cmd_lock(admin_env *A, json_t *req, const cmd_caller *who, json_t **reply)
{
    return change(A, req, who, reply, 1);
}

static int
cmd_unlock(admin_env *A, json_t *req, const cmd_caller *who, json_t **reply)
{
    return change(A, req, who, reply, 0);
}

static int
cmd_history(admin_env *A, json_t *req, const cmd_caller *who, json_t **reply)
{
    const char *a = str(req, "account"), *since = str(req, "since");
    int64_t t = 0;

    (void)who;
    if (since && *since && timeconv_parse_rfc3339(since, &t) != 0)
        return err(reply, 400, "\"since\" is not an RFC 3339 time (2026-11-25T06:00:00+00:00)");
    json_t *h = audit_list(A, a && *a ? a : NULL, t, NULL, 0, HISTORY_MAX);
    if (h == NULL)
        return err(reply, 500, "the store failed");
    *reply = json_pack("{s:o}", "history", h);
    return 200;
}

static int
cmd_decisions(admin_env *A, json_t *req, const cmd_caller *who, json_t **reply)
{
    const char *a = str(req, "account");
    json_int_t n = json_integer_value(json_object_get(req, "limit"));

    (void)who;
    json_t *d = audit_list(A, a && *a ? a : NULL, 0, NULL, 1,
                           n <= 0            ? 50
                           : n > HISTORY_MAX ? HISTORY_MAX
                                             : (size_t)n);
    if (d == NULL)
        return err(reply, 500, "the store failed");
    *reply = json_pack("{s:o}", "decisions", d);
    return 200;
}

typedef struct top_ctx {
    admin_env *A;
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

    if (engine_account(core_engine(c->A->C), name, c->now, &ai) != 0)
        return;
    for (int i = ai.nhours - 1; i >= 0; i--) {
        if (ai.hour_start + (int64_t)i * 3600 + 3600 <= c->now - c->window)
            break;
        rcpts += ai.hours[i];
    }
    if (rcpts > 0)
        json_array_append_new(c->list,
                              json_pack("{s:o,s:I,s:I,s:s}", "account", jname(name), "messages",
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
cmd_top(admin_env *A, json_t *req, const cmd_caller *who, json_t **reply)
{
    json_int_t w = json_integer_value(json_object_get(req, "window"));
    top_ctx c = {A, time(NULL), w > 0 && w <= 7 * 86400 ? w : 3600, json_array()};

    (void)who;
    engine_accounts(core_engine(A->C), top_one, &c);
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
cmd_reload(admin_env *A, json_t *req, const cmd_caller *who, json_t **reply)
{
    (void)req;
    if (!who->admin)
        return err(reply, 403, "not allowed: only root or the admin group may reload");
    if (A->reload(A->reload_ctx) != 0)
        return err(reply, 400,
                   "reload refused: the configuration has an error (see the log); "
                   "the running one stays");
    *reply = json_pack("{s:b}", "ok", 1);
    return 200;
}

static int
cmd_queue_accounts(admin_env *A, json_t *req, const cmd_caller *who, json_t **reply)
{
    json_t *ids = json_object_get(req, "ids"), *out = json_object(), *snd = json_object(), *id;
    size_t i;

    (void)who;
    if (!json_is_array(ids))
        return json_decref(out), json_decref(snd),
               err(reply, 400, "\"ids\" must be an array of queue IDs");
    json_array_foreach(ids, i, id)
    {
        const char *q = json_string_value(id), *a = q ? core_account_of(A->C, q) : NULL;
        const char *s = a ? core_queue_sender(A->C, q) : NULL; /* the policy request's sender */
        if (a)
            json_object_set_new(out, q, jname(a));
        if (s)
            json_object_set_new(snd, q, jname(s));
    }
    *reply = json_pack("{s:o,s:o}", "accounts", out, "policy_senders", snd);
    return 200;
}

/*
 * cmd_queue - {"op": "release"|"purge", "account"}: one job for the queue worker with the queue
 * IDs the core mapped to the account (purge.h: purge_account); 202 at once, the worker logs
 * what it did
 */
static int
cmd_queue(admin_env *A, json_t *req, const cmd_caller *who, json_t **reply)
{
    char raw[STORE_NAME_MAX];
    const char *op = str(req, "op"), *a = account_key(A, req, raw);
    hj_account_info ai;

    if (!who->admin)
        return err(reply, 403, "not allowed: only root or the admin group may change things");
    if (op == NULL || (strcmp(op, "release") != 0 && strcmp(op, "purge") != 0))
        return err(reply, 400, "\"op\" must be release or purge");
    if (a == NULL)
        return err(reply, 400, "\"account\" is missing or not a valid name");
    if (engine_account(core_engine(A->C), a, time(NULL), &ai) != 0)
        return err(reply, 404, "no such account: hijackd has seen no mail from it");
    if (A->pg == NULL)
        return err(reply, 503, "the queue worker is not running");
    int release = strcmp(op, "release") == 0;
    if (purge_account(A->pg, A->C, a, release ? PURGE_RELEASE : PURGE_DELETE) != 0)
        return err(reply, 500, "the job could not be queued (see the log)");
    log_info("%s: queued for %s by %s", op, a, who->actor);
    *reply = json_pack("{s:b,s:o,s:s,s:b}", "ok", 1, "account", jname(a), "op", op, "queued", 1);
    return 202;
}

/* exempt_list - the patterns in force (configuration and exempt.list) */
static json_t *
exempt_list(const admin_env *A)
{
    json_t *a = json_array();

    for (size_t i = 0; i < core_conf(A->C)->pol->nexempt; i++)
        json_array_append_new(a, json_string(core_conf(A->C)->pol->exempt[i]));
    return a;
}

static int
cmd_exempt(admin_env *A, json_t *req, const cmd_caller *who, json_t **reply)
{
    const char *op = str(req, "op"), *pat = str(req, "pattern");
    char e[256];

    if (op == NULL || strcmp(op, "list") == 0) {
        *reply = json_pack("{s:o}", "exempt", exempt_list(A));
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
    int rc = exempt_write(core_conf(A->C), pat, strcmp(op, "add") == 0);
    if (rc < 0)
        return err(reply, 500, "cannot write exempt.list in state_dir");
    if (rc == 1)
        return err(reply, 404,
                   "no such pattern in exempt.list (patterns of the configuration "
                   "file are changed there)");
    if (A->reload(A->reload_ctx) != 0)
        return err(reply, 500, "saved, but the reload failed (see the log)");
    *reply = json_pack("{s:o}", "exempt", exempt_list(A));
    return 200;
}

/* cmd_unlock_token - a reply to an alert (hijackctl mail-unlock): the token is the authority */
static int
cmd_unlock_token(admin_env *A, json_t *req, const cmd_caller *who, json_t **reply)
{
    (void)who;
    if (A->inc == NULL)
        return err(reply, 403, "reply-to-unlock is off (the notifications could not start)");
    return incident_unlock_token(A->inc, req, reply);
}

static const struct {
    const char *name;
    cmd_fn fn;
    int open; /* for any caller of the control socket: its request carries its own authority */
} table[] = {
    {"status", cmd_status, 0},
    {"locked", cmd_locked, 0},
    {"show", cmd_show, 0},
    {"lock", cmd_lock, 0},
    {"unlock", cmd_unlock, 0},
    {"exempt", cmd_exempt, 0},
    {"history", cmd_history, 0},
    {"decisions", cmd_decisions, 0},
    {"top", cmd_top, 0},
    {"reload", cmd_reload, 0},
    {"queue_accounts", cmd_queue_accounts, 0},
    {"queue", cmd_queue, 0},
    {"unlock_token", cmd_unlock_token, 1},
};

int
cmds_open(const json_t *req)
{
    const char *name = json_is_object(req) ? json_string_value(json_object_get(req, "cmd")) : NULL;

    for (size_t i = 0; name && i < sizeof(table) / sizeof(table[0]); i++)
        if (strcmp(table[i].name, name) == 0)
            return table[i].open;
    return 0;
}

int
cmds_run(admin_env *A, json_t *req, const cmd_caller *who, json_t **reply)
{
    const char *name = json_is_object(req) ? str(req, "cmd") : NULL;

    if (name == NULL)
        return err(reply, 400, "a request is a JSON object with a \"cmd\" member");
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (strcmp(table[i].name, name) == 0)
            return table[i].fn(A, req, who, reply);
    return err(reply, 400, "unknown command");
}
