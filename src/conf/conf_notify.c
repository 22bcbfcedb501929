/*
 * conf_notify - the settings of notices and unlock flows: alerts, user notices,
 *               reply-to-unlock, webhooks, and the reply texts' placeholders
 *
 * DESCRIPTION
 *	Their rows are in conf_table.c; here are the checks of addresses,
 *	list items and reply texts, the action-bit sets (alert_on,
 *	webhook_on) and the notice template; conf_notify_check() validates them
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
#include "../util/tmpl.h"
#include "conf_int.h"

const char *const conf_notice_vars[] = {"account", "action",  "rule", "time",
                                        "until",   "contact", "host"};
const size_t conf_notice_nvars = sizeof(conf_notice_vars) / sizeof(conf_notice_vars[0]);
/* the spam prompt's: the notice's and the message's subject */
static const char *const prompt_vars[] = {"account", "action",  "rule", "time",
                                          "until",   "contact", "host", "subject"};

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

/* the built-in outgoing spam prompt (spam_prompt_template = "") */
static const char prompt_default[] =
    "Subject: Mail sent from your account {account} looked like spam\n"
    "\n"
    "Hello,\n"
    "\n"
    "at {time} the mail server {host} judged a message sent from your\n"
    "account {account} to be spam (rule {rule}):\n"
    "\n"
    "    Subject: {subject}\n"
    "\n"
    "If more such messages follow, sending from your account will be locked.\n"
    "\n"
    "If you did not send it, someone else may be sending with your password:\n"
    "  1. Change your mail password now, from a computer you trust.\n"
    "  2. Check your devices for malware.\n"
    "  3. Contact {contact} if you need help, or if the message was not spam.\n"
    "\n"
    "This message was sent automatically; replies are not read by a person.\n";

/* conf_check_address - an empty string or something with no blanks, quotes or angle brackets */
int
conf_check_address(const conf_setting *s, const char *v, char *err, size_t errlen)
{
    if (strpbrk(v, " \t<>\"'(),;\\\n")) {
        snprintf(err, errlen, "%s must be a bare mail address, got \"%s\"", s->name, v);
        return -1;
    }
    return 0;
}

/* conf_item_full_address - an unlock admin: user@domain */
int
conf_item_full_address(const conf_setting *s, char *item, char *err, size_t errlen)
{
    if (strchr(item, '@') == NULL) {
        snprintf(err, errlen, "%s: \"%s\" is not a full address (user@domain)", s->name, item);
        return -1;
    }
    return 0;
}

/* conf_item_url - a webhook: http:// or https:// */
int
conf_item_url(const conf_setting *s, char *item, char *err, size_t errlen)
{
    if (strncmp(item, "http://", 7) && strncmp(item, "https://", 8)) {
        snprintf(err, errlen, "%s: \"%s\" is not an http:// or https:// URL", s->name, item);
        return -1;
    }
    return 0;
}

/* actions - a list of action names into a bit set */
static int
actions(unsigned *bits, const char *v, char *err, size_t errlen)
{
    char *copy = xstrdup(v), *save = NULL;
    int rc = 0;

    *bits = 0;
    for (char *w = strtok_r(copy, ", \t", &save); w && rc == 0; w = strtok_r(NULL, ", \t", &save)) {
        hj_action a;
        if (policy_action_lookup(w, &a) != 0 || a == HJ_A_UNLOCK) {
            snprintf(err, errlen, "bad action \"%s\" (warn, throttle, lock, relay)", w);
            rc = -1;
        }
        *bits |= rc ? 0 : 1u << a;
    }
    free(copy);
    return rc;
}

int
conf_set_alert_on(hj_conf *c, const char *v, char *err, size_t errlen)
{
    return actions(&c->alert_on, v, err, errlen);
}

/* set_template - a mail template from file v (or the built-in one) into *dst, checked */
static int
set_template(char **dst, const char *builtin, const char *const *vars, size_t nvars, const char *v,
             char *err, size_t errlen)
{
    char *text = *v ? conf_read_file(v, err, errlen) : xstrdup(builtin);
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
    if (tmpl_check(text, vars, nvars, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "%s: %s", v, why);
        free(text);
        return -1;
    }
    free(*dst);
    *dst = text;
    return 0;
}

int
conf_set_notice_template(hj_conf *c, const char *v, char *err, size_t errlen)
{
    return set_template(&c->notice_template, notice_default, conf_notice_vars, conf_notice_nvars, v,
                        err, errlen);
}

int
conf_set_prompt_template(hj_conf *c, const char *v, char *err, size_t errlen)
{
    return set_template(&c->spam_prompt_template, prompt_default, prompt_vars,
                        sizeof(prompt_vars) / sizeof(prompt_vars[0]), v, err, errlen);
}

int
conf_set_spam_prompt_on(hj_conf *c, const char *v, char *err, size_t errlen)
{
    return actions(&c->spam_prompt_on, v, err, errlen);
}

int
conf_set_webhook_on(hj_conf *c, const char *v, char *err, size_t errlen)
{
    return actions(&c->webhook_on, v, err, errlen);
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
