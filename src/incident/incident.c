/*
 * incident - incidents out of the core's decisions (see incident.h)
 */
#include "incident.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "../notify/mailer.h"
#include "../notify/recent.h"
#include "../notify/token.h"
#include "../notify/webhook.h"
#include "../util/alloc.h"
#include "../util/log.h"
#include "../util/jname.h"
#include "../util/jtime.h"
#include "../util/timeconv.h"
#include "../util/version.h"

struct incident {
    core *C;
    mailer *ml;
    webhook *wh;
    uint8_t key[TOKEN_KEY_LEN];
    recent *recent; /* the accounts' recent recipients and queue IDs */
};

/* spools_open - the mail and webhook spools for the running configuration; 0 or -1 (logged) */
static int
spools_open(incident *n)
{
    const hj_conf *c = core_conf(n->C);
    char dir[4200], err[512];

    snprintf(dir, sizeof(dir), "%s/mail", c->state_dir);
    mailer_conf mc = {.a = {.from = c->alert_from,
                            .to = c->alert_to,
                            .reply_to = c->unlock_address,
                            .notice_template = c->notice_template,
                            .prompt_template = c->spam_prompt_template,
                            .contact = c->admin_contact},
                      .sendmail_path = c->sendmail_path,
                      .postqueue_path = c->postqueue_path,
                      .config_dir = c->postfix_config_dir,
                      .cmd_timeout = c->postfix_command_timeout,
                      .alert_max = c->alert_max,
                      .alert_interval = c->alert_interval,
                      .spool_dir = dir,
                      .local_domains = c->local_domains,
                      .nlocal = c->nlocal};
    if ((n->ml = mailer_open(&mc, err, sizeof(err))) == NULL) {
        log_error("notify: cannot open the mail spool: %s", err);
        return -1;
    }
    if (c->nwebhook_urls == 0)
        return 0;
    snprintf(dir, sizeof(dir), "%s/webhook", c->state_dir);
    webhook_conf wc = {.urls = c->webhook_urls,
                       .nurls = c->nwebhook_urls,
                       .format = c->webhook_format ? WEBHOOK_SLACK : WEBHOOK_JSON,
                       .timeout = c->webhook_timeout,
                       .retry_min = c->webhook_retry,
                       .retry_max = 900,
                       .max_age = c->webhook_max_age,
                       .spool_dir = dir,
                       .version = HJ_VERSION};
    if ((n->wh = webhook_open(&wc, err, sizeof(err))) == NULL) {
        log_error("notify: cannot open the webhook spool: %s", err);
        return -1;
    }
    return 0;
}

static void
spools_close(incident *n)
{
    mailer_close(n->ml);
    webhook_close(n->wh);
    n->ml = NULL, n->wh = NULL;
}

static void on_decision(void *ctx, const hj_decision *d, const char *decision_json);
static void on_request(void *ctx, const core_msg *m);

incident *
incident_open(core *C)
{
    incident *n = xcalloc(1, sizeof(*n));
    char path[4200], err[512];

    n->C = C;
    webhook_global_init(); /* before any thread */
    snprintf(path, sizeof(path), "%s/unlock.key", core_conf(C)->state_dir);
    if (token_key_load(path, n->key, err, sizeof(err)) != 0) {
        log_error("notify: the unlock key: %s", err);
        free(n);
        return NULL;
    }
    n->recent = recent_new();
    if (spools_open(n) != 0) {
        incident_close(n);
        return NULL;
    }
    core_observer o = {on_decision, on_request, n};
    core_observe(C, &o);
    return n;
}

void
incident_reload(incident *n)
{
    spools_close(n); /* waits for a batch in progress */
    if (spools_open(n) != 0)
        log_error("notify: alerts and webhooks are off until the next good reload");
}

void
incident_close(incident *n)
{
    if (n == NULL)
        return;
    spools_close(n);
    recent_free(n->recent);
    free(n);
}

/* on_request - the account's recent recipients and queue IDs, from every judged request */
static void
on_request(void *ctx, const core_msg *m)
{
    incident *n = ctx;

    recent_add(n->recent, m->account, m->recipient, m->queue_id);
}

void
incident_stats(incident *n, int64_t out[2][4])
{
    struct spool_stats st[2] = {{0}, {0}};

    if (n && n->ml)
        mailer_stats(n->ml, &st[0]);
    if (n && n->wh)
        webhook_stats(n->wh, &st[1]);
    for (int q = 0; q < 2; q++) {
        int64_t v[4] = {(int64_t)st[q].pending, (int64_t)st[q].done, (int64_t)st[q].retried,
                        (int64_t)st[q].dropped};
        memcpy(out[q], v, sizeof(v));
    }
}

/* ---------------------------------------------------------------- incidents */

/* recent_json - the account's recent recipients and queue IDs into inc (none: nothing) */
static void
recent_json(const recent *r, const char *account, json_t *inc)
{
    const char *rc[RECENT_RCPTS], *q[RECENT_QIDS];
    size_t nr = recent_rcpts(r, account, rc, RECENT_RCPTS),
           nq = recent_qids(r, account, q, RECENT_QIDS);
    json_t *a = json_array(), *b = json_array();

    for (size_t i = 0; i < nr; i++)
        json_array_append_new(a, json_string(rc[i]));
    for (size_t i = 0; i < nq; i++)
        json_array_append_new(b, json_string(q[i]));
    if (nr + nq == 0) {
        json_decref(a), json_decref(b);
        return;
    }
    json_object_set_new(inc, "recipients", a);
    json_object_set_new(inc, "queue_ids", b);
}

/* incident - the incident of a decision, or NULL when its JSON is unreadable */
static json_t *
incident_of(incident *n, const hj_decision *d, const char *decision_json)
{
    const hj_conf *c = core_conf(n->C);
    json_t *dj = json_loads(decision_json, 0, NULL), *inc;
    hj_buf id = HJ_BUF_INIT;

    if (!json_is_object(dj)) {
        json_decref(dj);
        return NULL;
    }
    jname_text(d->entity, &id); /* the names as JSON-safe text, by one rule (jname.h) */
    buf_printf(&id, "/%" PRId64, d->t);
    inc = json_pack("{s:s,s:O,s:s,s:o,s:s,s:s,s:s,s:b}", "incident", buf_str(&id), "ts",
                    json_object_get(dj, "ts"), "host", core_host(n->C), "account", jname(d->entity),
                    "action", policy_action_name(d->action), "rule",
                    d->rule ? d->rule->name : "manual", "scope", policy_scope_name(d->scope),
                    "escalated", d->escalated);
    buf_free(&id);
    if (inc == NULL) {
        json_decref(dj);
        return NULL;
    }
    if (d->rule)
        json_object_set_new(inc, "count", json_integer(d->count)),
            json_object_set_new(inc, "limit", json_integer(d->limit)),
            json_object_set_new(inc, "window", json_integer(d->rule->window));
    if (d->until)
        json_object_set(inc, "until", json_object_get(dj, "until"));
    if (d->scope == HJ_S_ACCOUNT) /* bounded: a storm of locks must not walk every queue ID seen */
        recent_json(n->recent, d->entity, inc);
    if (d->action == HJ_A_LOCK && d->scope == HJ_S_ACCOUNT && *c->unlock_address) {
        char tok[TOKEN_MAX];
        int64_t expiry = d->t + c->unlock_token_lifetime;
        token_make(n->key, d->entity, d->t, expiry, tok);
        json_object_set_new(inc, "token", json_string(tok));
        json_object_set_new(inc, "token_expires", jtime_local(expiry));
    }
    json_object_set_new(inc, "decision", dj);
    hj_buf sum = HJ_BUF_INIT;
    alert_summary(inc, &sum);
    json_object_set_new(inc, "summary", json_string(buf_str(&sum)));
    buf_free(&sum);
    return inc;
}

/* wants_notice - does this decision mail the account itself */
static int
wants_notice(const hj_conf *c, const hj_decision *d)
{
    const char *rule = d->rule ? d->rule->name : "manual";

    if (d->scope != HJ_S_ACCOUNT || (d->action != HJ_A_LOCK && d->action != HJ_A_THROTTLE))
        return 0;
    for (size_t i = 0; i < c->nnotice_rules; i++)
        if (strcmp(c->notice_rules[i], "*") == 0 || strcmp(c->notice_rules[i], rule) == 0)
            return 1;
    return 0;
}

/* wants_prompt - does this decision mail the account the outgoing spam prompt: one a content
 * verdict made, with an action of spam_prompt_on */
static int
wants_prompt(const hj_conf *c, const hj_decision *d)
{
    return d->scope == HJ_S_ACCOUNT && d->spam != HJ_SPAM_NONE &&
           (c->spam_prompt_on & (1u << d->action));
}

/* on_decision - a decision the configuration asks to tell about becomes an incident */
static void
on_decision(void *ctx, const hj_decision *d, const char *decision_json)
{
    incident *n = ctx;
    const hj_conf *c = core_conf(n->C);
    unsigned bit = 1u << d->action;
    int alert = d->rule && *c->alert_to && (c->alert_on & bit);
    int hook = d->rule && n->wh && (c->webhook_on & bit);
    int notice = wants_notice(c, d), prompt = wants_prompt(c, d);

    if ((notice || prompt) && !alert_address_ok(d->entity)) { /* ',' or <...> would add recipients */
        hj_buf shown = HJ_BUF_INIT;
        buf_put_safe(&shown, d->entity);
        if (strchr(d->entity, '@')) /* a bare login ("alice") has no address: no notice, quietly */
            log_warn("notify: no notice to %s: the name is not one mail address", buf_str(&shown));
        buf_free(&shown);
        notice = prompt = 0;
    }
    if (n->ml == NULL || !(alert || hook || notice || prompt))
        return;
    json_t *inc = incident_of(n, d, decision_json);
    if (inc == NULL) {
        log_error("notify: the decision about %s is not valid JSON: no alert", d->entity);
        return;
    }
    char *js = json_dumps(inc, JSON_COMPACT);
    time_t now = time(NULL);
    if (js == NULL) {
        log_error("notify: the incident about %s cannot be written as JSON: no alert",
                  json_string_value(json_object_get(inc, "account")));
        json_decref(inc);
        return;
    }
    if (alert)
        mailer_put(n->ml, "alert", js, now);
    if (notice)
        mailer_put(n->ml, "notice", js, now);
    if (prompt)
        mailer_put(n->ml, "prompt", js, now);
    if (hook && !c->webhook_include_token && json_object_get(inc, "token")) {
        json_object_del(inc, "token"); /* the token stays in the alert mail */
        json_object_del(inc, "token_expires");
        free(js);
        js = json_dumps(inc, JSON_COMPACT);
    }
    if (hook)
        webhook_send(n->wh, js, now);
    free(js);
    json_decref(inc);
}

void
incident_scanner(incident *n, int down, int64_t since, const char *why, int64_t now)
{
    const hj_conf *c = core_conf(n->C);
    char ts[48];

    if (n->ml == NULL || *c->alert_to == 0)
        return;
    timeconv_rfc3339(since, core_tzoff(since), ts, sizeof(ts));
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s}", "state", down ? "down" : "up", "since", ts,
                          "scanner", c->spam_scanner, "why", why ? why : "", "host",
                          core_host(n->C));
    char *js = o ? json_dumps(o, JSON_COMPACT) : NULL;
    if (js)
        mailer_put(n->ml, "scanner", js, now);
    free(js);
    json_decref(o);
}

/* ---------------------------------------------------------------- reply-to-unlock */

static int
refuse(json_t **reply, int status, const char *from, const char *why)
{
    log_warn("unlock reply from %s refused: %s", from, why);
    *reply = json_pack("{s:b,s:s}", "ok", 0, "error", why);
    return status;
}

/* is_admin_addr - one of unlock_admins (case-insensitive) */
static int
is_admin_addr(const hj_conf *c, const char *a)
{
    for (size_t i = 0; a && i < c->nunlock_admins; i++)
        if (strcasecmp(c->unlock_admins[i], a) == 0)
            return 1;
    return 0;
}

typedef struct tok_find {
    incident *n;
    const char *token;
    int64_t since;
    char account[STORE_NAME_MAX];
} tok_find;

static int
tok_one(void *ctx, const hj_lock_rec *k)
{
    tok_find *f = ctx;

    if (k->since != f->since || !token_verify(f->n->key, k->account, f->token))
        return 0;
    snprintf(f->account, sizeof(f->account), "%s", k->account);
    return 1;
}

int
incident_unlock_token(incident *n, json_t *req, json_t **reply)
{
    const char *tok = json_string_value(json_object_get(req, "token"));
    const char *from = json_string_value(json_object_get(req, "from"));
    const char *sender = json_string_value(json_object_get(req, "sender"));
    int64_t since, expiry;
    char err[256], actor[400];
    tok_find f = {n, tok, 0, ""};
    const hj_conf *c = core_conf(n->C);
    hj_store *st = core_store(n->C);

    /* the token is the authority: any local caller may send it */
    if (from == NULL || strlen(from) > 320 || strpbrk(from, "\r\n"))
        return refuse(reply, 400, "(none)", "no valid \"from\"");
    if (tok == NULL || token_parse(tok, &since, &expiry) != 0)
        return refuse(reply, 400, from, "not an unlock token");
    if (!*c->unlock_address)
        return refuse(reply, 403, from, "reply-to-unlock is off (unlock_address is empty)");
    if (!is_admin_addr(c, from) || (sender && *sender && !is_admin_addr(c, sender)))
        return refuse(reply, 403, from, "the reply is not from an address in unlock_admins");
    f.since = since;
    if (st->ops->lock_walk(st, tok_one, &f, err, sizeof(err)) != STORE_OK)
        return refuse(reply, 500, from, "the store failed; try again");
    if (!*f.account)
        return refuse(reply, 409, from,
                      "no open incident for this token: it was used, or the account was "
                      "unlocked or locked again since");
    if ((int64_t)time(NULL) > expiry)
        return refuse(reply, 403, from, "the token has expired");
    snprintf(actor, sizeof(actor), "reply from %s", from);
    int rc = core_unlock(n->C, f.account, actor, "reply to the alert with its unlock token");
    if (rc == -2)
        return refuse(reply, 500, from, "the store failed: the unlock may not survive a restart");
    if (rc != 0)
        return refuse(reply, 409, from, "the account is not locked");
    log_info("unlock reply from %s: %s unlocked", from, f.account);
    *reply = json_pack("{s:b,s:o,s:s}", "ok", 1, "account", jname(f.account), "state", "ok");
    return 200;
}
