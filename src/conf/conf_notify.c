/*
 * conf_notify - the settings of notices and unlock flows: alerts, user notices,
 *               reply-to-unlock, webhooks, and the reply texts' placeholders
 *
 * DESCRIPTION
 *	Each function parses one setting's value into hj_conf (conf.c's table
 *	names them and their defaults); conf_notify_check() validates them
 *	together once the rules are read: user_notice_rules must name rules,
 *	reply-to-unlock needs both unlock_address and unlock_admins. The user
 *	notice template is read from its file here, at load time, so a missing
 *	file or an unknown {placeholder} is an error that names the file.
 *	Returns 0, or -1 with a message in err. Not thread-safe (loading).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../util/alloc.h"
#include "../util/timeconv.h"
#include "../util/tmpl.h"
#include "conf_int.h"

const char *const conf_notice_vars[] = {"account", "action",  "rule", "time",
                                        "until",   "contact", "host"};
const size_t conf_notice_nvars = sizeof(conf_notice_vars) / sizeof(conf_notice_vars[0]);

/* the built-in user notice (user_notice_template = "") */
static const char notice_default[] =
    "Subject: Sending from your mail account {account} is {action}\n"
    "\n"
    "Hello,\n"
    "\n"
    "at {time} the mail server {host} stopped mail sent from your account\n"
    "{account}: sending is {action} ({until}). Mail to you still arrives.\n"
    "\n"
    "It looked as if someone else was sending mail with your password:\n"
    "more mail, to more unusual recipients or from more unusual places than\n"
    "you normally send (rule {rule}).\n"
    "\n"
    "What to do:\n"
    "  1. Change your mail password now, from a computer you trust.\n"
    "  2. If you did not send that mail, check your devices for malware.\n"
    "  3. Contact {contact} to get sending back, or if this was you.\n"
    "\n"
    "This message was sent automatically; replies are not read by a person.\n";

static void
strv_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* strv_set - a comma/space separated list into a fresh array */
static void
strv_set(char ***v, size_t *n, const char *value)
{
    char *copy = xstrdup(value), *save = NULL;

    strv_free(*v, *n);
    *v = NULL, *n = 0;
    for (char *t = strtok_r(copy, ", \t", &save); t; t = strtok_r(NULL, ", \t", &save)) {
        *v = xrealloc(*v, (*n + 1) * sizeof(char *));
        (*v)[(*n)++] = xstrdup(t);
    }
    free(copy);
}

/* address - an empty string or something with no blanks, quotes or angle brackets */
static int
address(char **dst, const char *what, const char *v, char *err, size_t errlen)
{
    if (strpbrk(v, " \t<>\"'(),;\\\n")) {
        snprintf(err, errlen, "%s must be a bare mail address, got \"%s\"", what, v);
        return -1;
    }
    conf_set_str(dst, v);
    return 0;
}

/* actions - a list of action names into a bit set */
static int
actions(unsigned *bits, const char *v, char *err, size_t errlen)
{
    char **w = NULL;
    size_t n = 0;
    int rc = 0;

    strv_set(&w, &n, v);
    *bits = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        hj_action a;
        if (policy_action_lookup(w[i], &a) != 0 || a == HJ_A_UNLOCK) {
            snprintf(err, errlen, "bad action \"%s\" (warn, throttle, lock, relay)", w[i]);
            rc = -1;
        }
        *bits |= rc ? 0 : 1u << a;
    }
    strv_free(w, n);
    return rc;
}

int
conf_set_sendmail_path(hj_conf *c, const char *v, char *err, size_t errlen)
{
    if (v[0] != '/') {
        snprintf(err, errlen, "sendmail_path must be an absolute path, got \"%s\"", v);
        return -1;
    }
    conf_set_str(&c->sendmail_path, v);
    return 0;
}

int
conf_set_alert_to(hj_conf *c, const char *v, char *err, size_t errlen)
{
    return address(&c->alert_to, "alert_to", v, err, errlen);
}

int
conf_set_alert_from(hj_conf *c, const char *v, char *err, size_t errlen)
{
    return address(&c->alert_from, "alert_from", v, err, errlen);
}

int
conf_set_alert_on(hj_conf *c, const char *v, char *err, size_t errlen)
{
    return actions(&c->alert_on, v, err, errlen);
}

int
conf_set_alert_max(hj_conf *c, const char *v, char *err, size_t errlen)
{
    long long n;

    return conf_int_in(v, 1, 1000, &n, err, errlen) ? -1 : (c->alert_max = n, 0);
}

int
conf_set_alert_interval(hj_conf *c, const char *v, char *err, size_t errlen)
{
    return conf_duration_min1(v, &c->alert_interval, err, errlen);
}

int
conf_set_unlock_address(hj_conf *c, const char *v, char *err, size_t errlen)
{
    return address(&c->unlock_address, "unlock_address", v, err, errlen);
}

int
conf_set_unlock_admins(hj_conf *c, const char *v, char *err, size_t errlen)
{
    strv_set(&c->unlock_admins, &c->nunlock_admins, v);
    for (size_t i = 0; i < c->nunlock_admins; i++)
        if (strchr(c->unlock_admins[i], '@') == NULL) {
            snprintf(err, errlen, "unlock_admins: \"%s\" is not a full address (user@domain)",
                     c->unlock_admins[i]);
            return -1;
        }
    return 0;
}

int
conf_set_unlock_lifetime(hj_conf *c, const char *v, char *err, size_t errlen)
{
    return conf_duration_min1(v, &c->unlock_token_lifetime, err, errlen);
}

int
conf_set_notice_rules(hj_conf *c, const char *v, char *err, size_t errlen)
{
    (void)err, (void)errlen;
    strv_set(&c->notice_rules, &c->nnotice_rules, v);
    return 0;
}

int
conf_set_notice_template(hj_conf *c, const char *v, char *err, size_t errlen)
{
    char *text = *v ? conf_read_file(v, err, errlen) : xstrdup(notice_default);
    char why[200];

    if (text == NULL)
        return -1;
    if (strncasecmp(text, "Subject:", 8) != 0 || strstr(text, "\n\n") == NULL) {
        snprintf(err, errlen,
                 "%s: a notice template starts with \"Subject: ...\", then a blank "
                 "line, then the body",
                 v);
        free(text);
        return -1;
    }
    if (tmpl_check(text, conf_notice_vars, conf_notice_nvars, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "%s: %s", v, why);
        free(text);
        return -1;
    }
    free(c->notice_template);
    c->notice_template = text;
    return 0;
}

int
conf_set_admin_contact(hj_conf *c, const char *v, char *err, size_t errlen)
{
    (void)err, (void)errlen;
    conf_set_str(&c->admin_contact, v);
    return 0;
}

int
conf_set_webhook_urls(hj_conf *c, const char *v, char *err, size_t errlen)
{
    strv_set(&c->webhook_urls, &c->nwebhook_urls, v);
    for (size_t i = 0; i < c->nwebhook_urls; i++)
        if (strncmp(c->webhook_urls[i], "http://", 7) &&
            strncmp(c->webhook_urls[i], "https://", 8)) {
            snprintf(err, errlen, "webhook_urls: \"%s\" is not an http:// or https:// URL",
                     c->webhook_urls[i]);
            return -1;
        }
    return 0;
}

int
conf_set_webhook_format(hj_conf *c, const char *v, char *err, size_t errlen)
{
    if (strcmp(v, "json") != 0 && strcmp(v, "slack") != 0) {
        snprintf(err, errlen, "bad webhook_format \"%s\" (json or slack)", v);
        return -1;
    }
    c->webhook_format = strcmp(v, "slack") == 0;
    return 0;
}

int
conf_set_webhook_on(hj_conf *c, const char *v, char *err, size_t errlen)
{
    return actions(&c->webhook_on, v, err, errlen);
}

int
conf_set_webhook_timeout(hj_conf *c, const char *v, char *err, size_t errlen)
{
    if (conf_duration_min1(v, &c->webhook_timeout, err, errlen) != 0)
        return -1;
    if (c->webhook_timeout > 300) {
        snprintf(err, errlen, "webhook_timeout is at most 5m, got %s", v);
        return -1;
    }
    return 0;
}

int
conf_set_webhook_retry(hj_conf *c, const char *v, char *err, size_t errlen)
{
    return conf_duration_min1(v, &c->webhook_retry, err, errlen);
}

int
conf_set_webhook_max_age(hj_conf *c, const char *v, char *err, size_t errlen)
{
    return conf_duration_min1(v, &c->webhook_max_age, err, errlen);
}

int
conf_reply_text_check(const char *v, char *err, size_t errlen)
{
    return tmpl_check(v, conf_notice_vars, conf_notice_nvars, err, errlen);
}

/* rule_known - a rule of the policy, or "manual", or "*" */
static int
rule_known(const hj_conf *c, const char *name)
{
    if (strcmp(name, "*") == 0 || strcmp(name, "manual") == 0)
        return 1;
    for (size_t i = 0; i < c->pol->nrules; i++)
        if (strcmp(c->pol->rules[i].name, name) == 0)
            return 1;
    return 0;
}

int
conf_notify_check(hj_conf *c, char *err, size_t errlen)
{
    for (size_t i = 0; i < c->nnotice_rules; i++)
        if (!rule_known(c, c->notice_rules[i])) {
            snprintf(err, errlen, "user_notice_rules: no rule named \"%s\"", c->notice_rules[i]);
            return -1;
        }
    if ((*c->unlock_address != 0) != (c->nunlock_admins != 0)) {
        snprintf(err, errlen,
                 "reply-to-unlock needs both unlock_address (where replies go) and "
                 "unlock_admins (who may reply)");
        return -1;
    }
    if (*c->unlock_address && !*c->alert_to) {
        snprintf(err, errlen, "unlock_address is set but alert_to is empty: no alert to reply to");
        return -1;
    }
    return 0;
}

void
conf_notify_free(hj_conf *c)
{
    char *s[] = {c->sendmail_path,  c->alert_to,        c->alert_from,
                 c->unlock_address, c->notice_template, c->admin_contact};
    for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
        free(s[i]);
    strv_free(c->unlock_admins, c->nunlock_admins);
    strv_free(c->notice_rules, c->nnotice_rules);
    strv_free(c->webhook_urls, c->nwebhook_urls);
}
