/*
 * conf - configuration parsing, validation and printing (see conf.h)
 */
#include "conf.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/alloc.h"
#include "../util/timeconv.h"
#include "conf_int.h"

/* one logical line of input with where it came from */
typedef struct conf_line {
    const char *src;
    int line;
    char *name; /* "rule x", "override p" or a setting name */
    char *value;
} conf_line;

typedef struct conf_setting {
    const char *name;
    const char *def;
    conf_apply_fn apply;
    const char *help;
} conf_setting;

/* conf_list_each - call fn for each item of a comma/space separated list */
int
conf_list_each(hj_conf *c, const char *value, char *err, size_t errlen,
               int (*fn)(hj_conf *, const char *, char *, size_t))
{
    char *copy = xstrdup(value), *save = NULL;
    int rc = 0;

    for (char *tok = strtok_r(copy, ", \t", &save); tok && rc == 0;
         tok = strtok_r(NULL, ", \t", &save))
        rc = fn(c, tok, err, errlen);
    free(copy);
    return rc;
}

static int
add_own_net(hj_conf *c, const char *v, char *err, size_t errlen)
{
    return policy_own_net_add(c->pol, v, err, errlen);
}

static int
add_exempt(hj_conf *c, const char *v, char *err, size_t errlen)
{
    return policy_exempt_add(c->pol, v, err, errlen);
}

static int
add_local_domain(hj_conf *c, const char *v, char *err, size_t errlen)
{
    (void)err, (void)errlen;
    c->local_domains = xrealloc(c->local_domains, (c->nlocal + 1) * sizeof(char *));
    char *d = xstrdup(v[0] == '@' ? v + 1 : v);
    for (char *q = d; *q; q++)
        *q = (char)tolower((unsigned char)*q);
    c->local_domains[c->nlocal++] = d;
    return 0;
}

static int
set_own_networks(hj_conf *c, const char *v, char *err, size_t errlen)
{
    return conf_list_each(c, v, err, errlen, add_own_net);
}

static int
set_exempt(hj_conf *c, const char *v, char *err, size_t errlen)
{
    return conf_list_each(c, v, err, errlen, add_exempt);
}

static int
set_local_domains(hj_conf *c, const char *v, char *err, size_t errlen)
{
    return conf_list_each(c, v, err, errlen, add_local_domain);
}

/* conf_int_in - parse a decimal integer within [lo, hi] */
int
conf_int_in(const char *v, long long lo, long long hi, long long *out, char *err, size_t errlen)
{
    char *end;

    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (end == v || *end || errno || n < lo || n > hi) {
        snprintf(err, errlen, "bad number \"%s\" (expected %lld..%lld)", v, lo, hi);
        return -1;
    }
    *out = n;
    return 0;
}

static int
set_v4_prefix(hj_conf *c, const char *v, char *err, size_t errlen)
{
    long long n;

    return conf_int_in(v, 8, 32, &n, err, errlen) ? -1 : (c->pol->v4_prefix = (int)n, 0);
}

static int
set_v6_prefix(hj_conf *c, const char *v, char *err, size_t errlen)
{
    long long n;

    return conf_int_in(v, 16, 128, &n, err, errlen) ? -1 : (c->pol->v6_prefix = (int)n, 0);
}

static int
set_distinct_max(hj_conf *c, const char *v, char *err, size_t errlen)
{
    long long n;

    return conf_int_in(v, 1, 65536, &n, err, errlen) ? -1 : (c->pol->distinct_max = (uint32_t)n, 0);
}

static int
set_queue_lifetime(hj_conf *c, const char *v, char *err, size_t errlen)
{
    if (timeconv_duration(v, &c->queue_id_lifetime) != 0 || c->queue_id_lifetime <= 0) {
        snprintf(err, errlen, "bad duration \"%s\" (e.g. 90s, 30m, 12h, 2d, 1w)", v);
        return -1;
    }
    return 0;
}

static int
set_queue_max(hj_conf *c, const char *v, char *err, size_t errlen)
{
    long long n;

    return conf_int_in(v, 100, 100000000, &n, err, errlen) ? -1 : (c->queue_max_tracked = n, 0);
}

/* conf_set_str - replace a string setting */
void
conf_set_str(char **dst, const char *v)
{
    free(*dst);
    *dst = xstrdup(v);
}

static int
set_policy_listen(hj_conf *c, const char *v, char *err, size_t errlen)
{
    const char *colon = strrchr(v, ':');

    if (v[0] != '/' &&
        (colon == NULL || colon == v || atoi(colon + 1) <= 0 || atoi(colon + 1) > 65535)) {
        snprintf(err, errlen, "bad address \"%s\" (host:port, or an absolute socket path)", v);
        return -1;
    }
    conf_set_str(&c->policy_listen, v);
    return 0;
}

static int
set_socket_mode(hj_conf *c, const char *v, char *err, size_t errlen)
{
    char *end;
    long m = strtol(v, &end, 8);

    if (*v == 0 || *end || m < 0 || m > 0777) {
        snprintf(err, errlen, "bad mode \"%s\" (octal, e.g. 0660)", v);
        return -1;
    }
    c->policy_socket_mode = (int)m;
    return 0;
}

static int
set_state_dir(hj_conf *c, const char *v, char *err, size_t errlen)
{
    if (v[0] != '/') {
        snprintf(err, errlen, "state_dir must be an absolute path, got \"%s\"", v);
        return -1;
    }
    conf_set_str(&c->state_dir, v);
    return 0;
}

static int
set_store(hj_conf *c, const char *v, char *err, size_t errlen)
{
    if (strncmp(v, "sqlite:", 7) != 0 && strncmp(v, "memory:", 7) != 0) {
        snprintf(err, errlen, "bad store \"%s\" (sqlite:, sqlite:PATH or memory:)", v);
        return -1;
    }
    conf_set_str(&c->store, v);
    return 0;
}

/* fail_action - "dunno" (fail open) or "defer" (fail closed) */
static int
fail_action(const char *v, int *out, char *err, size_t errlen)
{
    if (strcmp(v, "dunno") == 0)
        return *out = CONF_FAIL_DUNNO, 0;
    if (strcmp(v, "defer") == 0)
        return *out = CONF_FAIL_DEFER, 0;
    snprintf(err, errlen, "bad failure action \"%s\" (dunno or defer)", v);
    return -1;
}

static int
set_store_error(hj_conf *c, const char *v, char *err, size_t errlen)
{
    return fail_action(v, &c->store_error_action, err, errlen);
}

static int
set_internal_error(hj_conf *c, const char *v, char *err, size_t errlen)
{
    return fail_action(v, &c->internal_error_action, err, errlen);
}

static int
set_parse_error(hj_conf *c, const char *v, char *err, size_t errlen)
{
    return fail_action(v, &c->parse_error_action, err, errlen);
}

/* smtp_text - a reply text must start with its enhanced status code */
static int
smtp_text(const char *v, char cls, char **dst, char *err, size_t errlen)
{
    if (strlen(v) > 900) {
        snprintf(err, errlen, "the text is longer than 900 characters");
        return -1;
    }
    if (v[0] != cls || v[1] != '.' || strchr(v, '\n')) {
        snprintf(err, errlen, "the text must start with a %c.x.y status code, got \"%s\"", cls, v);
        return -1;
    }
    if (conf_reply_text_check(v, err, errlen) != 0)
        return -1;
    conf_set_str(dst, v);
    return 0;
}

static int
set_reject_text(hj_conf *c, const char *v, char *err, size_t errlen)
{
    return smtp_text(v, '5', &c->reject_text, err, errlen);
}

static int
set_defer_text(hj_conf *c, const char *v, char *err, size_t errlen)
{
    return smtp_text(v, '4', &c->defer_text, err, errlen);
}

/* conf_duration_min1 - a duration of at least one second */
int
conf_duration_min1(const char *v, int64_t *out, char *err, size_t errlen)
{
    if (timeconv_duration(v, out) != 0 || *out < 1) {
        snprintf(err, errlen, "bad duration \"%s\" (e.g. 90s, 30m, 12h, 2d, 1w)", v);
        return -1;
    }
    return 0;
}

static int
set_idle_timeout(hj_conf *c, const char *v, char *err, size_t errlen)
{
    return conf_duration_min1(v, &c->policy_idle_timeout, err, errlen);
}

static int
set_request_timeout(hj_conf *c, const char *v, char *err, size_t errlen)
{
    return conf_duration_min1(v, &c->policy_request_timeout, err, errlen);
}

static int
set_max_conn(hj_conf *c, const char *v, char *err, size_t errlen)
{
    long long n;

    return conf_int_in(v, 1, 1000000, &n, err, errlen) ? -1 : (c->policy_max_connections = n, 0);
}

static int
set_flush_interval(hj_conf *c, const char *v, char *err, size_t errlen)
{
    if (conf_duration_min1(v, &c->counters_flush_interval, err, errlen) != 0)
        return -1;
    if (c->counters_flush_interval > 60) {
        snprintf(err, errlen, "counters_flush_interval is at most 60s (a crash forgets that much)");
        return -1;
    }
    return 0;
}

static int
set_log_follow(hj_conf *c, const char *v, char *err, size_t errlen)
{
    if (*v && v[0] != '/') {
        snprintf(err, errlen, "log_follow must be an absolute path or empty, got \"%s\"", v);
        return -1;
    }
    conf_set_str(&c->log_follow, v);
    return 0;
}

static int
set_log_submissions(hj_conf *c, const char *v, char *err, size_t errlen)
{
    return conf_yes_no(v, &c->log_submissions, err, errlen);
}

static int
set_count_stage(hj_conf *c, const char *v, char *err, size_t errlen)
{
    if (strcmp(v, "end-of-message") == 0)
        return c->policy_count_stage = CONF_COUNT_EOM, 0;
    if (strcmp(v, "rcpt") == 0)
        return c->policy_count_stage = CONF_COUNT_RCPT, 0;
    snprintf(err, errlen, "bad stage \"%s\" (end-of-message or rcpt)", v);
    return -1;
}

static int
set_trust_after(hj_conf *c, const char *v, char *err, size_t errlen)
{
    return conf_duration_min1(v, &c->pol->net_trust_after, err, errlen);
}

static int
set_relock_escalate(hj_conf *c, const char *v, char *err, size_t errlen)
{
    if (timeconv_duration(v, &c->pol->relock_escalate) != 0 || c->pol->relock_escalate < 0) {
        snprintf(err, errlen, "bad duration \"%s\" (0 = never escalate)", v);
        return -1;
    }
    return 0;
}

static int
set_trusted_nets_max(hj_conf *c, const char *v, char *err, size_t errlen)
{
    long long n;

    return conf_int_in(v, 1, 4096, &n, err, errlen) ? -1
                                                    : (c->pol->trusted_nets_max = (uint32_t)n, 0);
}

/* set_similar_tol - a percentage with at most one decimal: "1", "2.5" */
static int
set_similar_tol(hj_conf *c, const char *v, char *err, size_t errlen)
{
    char *end;
    double pct = strtod(v, &end);

    if (end == v || (*end && strcmp(end, "%") != 0) || pct < 0 || pct > 50) {
        snprintf(err, errlen, "bad percentage \"%s\" (0 to 50, e.g. 1 or 2.5)", v);
        return -1;
    }
    c->pol->similar_permille = (uint32_t)(pct * 10 + 0.5);
    return 0;
}

static int
set_bounce_ratio_min(hj_conf *c, const char *v, char *err, size_t errlen)
{
    long long n;

    return conf_int_in(v, 1, 100000, &n, err, errlen) ? -1
                                                      : (c->pol->bounce_ratio_min = (uint32_t)n, 0);
}

/* the settings: name, default, how to apply, one line of help */
static const conf_setting settings[] = {
    {"own_networks", "", set_own_networks,
     "the server's own networks (CIDR list): MDaemon's \"local\" source-IP class"},
    {"local_domains", "", set_local_domains,
     "the domains this server receives mail for; empty = learn them from the log"},
    {"exempt", "", set_exempt,
     "accounts never judged: addresses or globs (*@lists.example.com, newsletter@*)"},
    {"ipv4_network_prefix", "24", set_v4_prefix, "IPv4 network size for distinct_networks"},
    {"ipv6_network_prefix", "64", set_v6_prefix, "IPv6 network size for distinct_networks"},
    {"distinct_max_items", "256", set_distinct_max,
     "items kept per distinct-count window (memory bound; counts saturate there)"},
    {"net_trust_after", "1d", set_trust_after,
     "a network new to an account is \"novel\" (novel=yes rules) until it has been in use this "
     "long"},
    {"relock_escalate_within", "7d", set_relock_escalate,
     "an account locked again this soon after an automatic unlock stays locked until an admin "
     "unlocks it (0 = never escalate)"},
    {"trusted_nets_max", "64", set_trusted_nets_max,
     "networks remembered per account (the least recently used is forgotten first)"},
    {"similar_size_tolerance", "1", set_similar_tol,
     "similar_sizes: two messages are alike when their sizes differ by at most this many percent"},
    {"bounce_ratio_min_deliveries", "20", set_bounce_ratio_min,
     "bounce_ratio: the share of bounced recipients is judged once the window holds this many "
     "delivery outcomes"},
    {"score_weights",
     "novel_network=3, unknown_client=1, novel_client=2, novel_domains=1, freemail=1, "
     "above_normal=2, ip_diversity=2, failed_logins=3, similar_sizes=1",
     conf_set_score_weights, "score: the weight of each signal (0 = off); docs/DETECTION.md"},
    {"score_min_kinds", "2", conf_set_min_kinds,
     "score: a message scores only when signals of this many kinds agree (where from, sent by, "
     "what, logins; 1 to 4)"},
    {"signal_window", "1h", conf_set_signal_window,
     "score: how far back the signals look (failed logins, networks, sizes, recipients)"},
    {"profile_learn_time", "2d", conf_set_learn_time,
     "score: an account is compared with its own history (novel_client, novel_domains, "
     "above_normal) once it has this much of it"},
    {"signal_failed_logins", "5", conf_set_sig_failed,
     "failed_logins signal: at least this many failed logins for the account or from the client"},
    {"signal_networks", "3", conf_set_sig_networks,
     "ip_diversity signal: the account used from at least this many outside networks"},
    {"signal_similar_sizes", "3", conf_set_sig_similar,
     "similar_sizes signal: at least this many messages of nearly the same size"},
    {"signal_share", "50", conf_set_sig_share,
     "novel_domains and freemail signals: at least this percent of the recent recipients"},
    {"signal_share_min", "5", conf_set_sig_share_min,
     "novel_domains and freemail signals: judged from this many recent recipients on (max 32)"},
    {"signal_usual_share", "20", conf_set_usual_share,
     "novel_network, unknown_client, novel_domains, freemail: silent for an account when more "
     "than this percent of its own history has the trait (a roaming salesman, a support desk)"},
    {"signal_usual_min", "20", conf_set_usual_min,
     "signal_usual_share is judged on a history of at least this many messages (recipients)"},
    {"volume_factor", "3", conf_set_volume_factor,
     "above_normal signal: more than this many times the most sent at this time of day in the "
     "last 7 days"},
    {"volume_floor", "30", conf_set_volume_floor,
     "above_normal signal: and more than this many recipients in the hour"},
    {"freemail_domains",
     "gmail.com, googlemail.com, yahoo.com, ymail.com, hotmail.com, outlook.com, live.com, "
     "msn.com, aol.com, icloud.com, me.com, mail.com, gmx.com, gmx.net, gmx.de, web.de, "
     "yandex.ru, mail.ru, qq.com, 163.com, 126.com, proton.me, protonmail.com, zoho.com",
     conf_set_freemail, "freemail signal: large free mail providers"},
    {"queue_id_lifetime", "2d", set_queue_lifetime,
     "log reader: forget a message whose \"removed\" line never came after this long"},
    {"queue_max_tracked", "200000", set_queue_max,
     "log reader: at most this many messages followed at once (oldest forgotten first)"},
    {"policy_listen", "127.0.0.1:10099", set_policy_listen,
     "daemon: where Postfix's policy requests arrive: host:port, or an absolute unix socket path"},
    {"policy_socket_mode", "0666", set_socket_mode, "daemon: the mode of a unix policy socket"},
    {"state_dir", "/var/lib/hijackd", set_state_dir,
     "daemon: its state (the SQLite store, the pid lock); created if missing"},
    {"store", "sqlite:", set_store,
     "daemon: where locks and the audit trail live: sqlite: (state_dir/hijackd.db), sqlite:PATH, "
     "memory:"},
    {"store_error_action", "dunno", set_store_error,
     "daemon: the answer when the store fails: dunno (fail open) or defer (fail closed)"},
    {"internal_error_action", "dunno", set_internal_error,
     "daemon: the answer on an internal error: dunno or defer"},
    {"parse_error_action", "dunno", set_parse_error,
     "daemon: the answer to a request it cannot parse (then the connection is closed)"},
    {"reject_text",
     "5.7.1 Sending from your account is blocked: it looks like someone else is using it. Change "
     "your password and contact your mail administrator",
     set_reject_text,
     "daemon: the text after REJECT for a locked account; placeholders {account} {rule} {time} "
     "{until} {contact} {host} (\"{{\" is a literal \"{\")"},
    {"defer_text",
     "4.7.1 Your account is sending unusually much mail: sending is paused for a while, please try "
     "again later",
     set_defer_text,
     "daemon: the text after DEFER_IF_PERMIT for a throttled account; placeholders as "
     "reject_text"},
    {"policy_idle_timeout", "330s", set_idle_timeout,
     "daemon: close a policy connection idle this long (Postfix closes its own after 300s)"},
    {"policy_request_timeout", "10s", set_request_timeout,
     "daemon: a request begun must be complete within this"},
    {"policy_count_stage", "end-of-message", set_count_stage,
     "daemon: where messages are counted: end-of-message (recipient_count, size), or rcpt "
     "when hijackd is only in smtpd_recipient_restrictions (one recipient per request)"},
    {"counters_flush_interval", "2s", set_flush_interval,
     "daemon: sliding counters are written to the store in a batch this often; a crash forgets "
     "at most this much traffic (locks and the audit trail are written at once)"},
    {"log_follow", "/var/log/mail.log", set_log_follow,
     "daemon: the Postfix log it follows (like tail -F) for failed logins, bounces and relaying; "
     "empty: none"},
    {"log_submissions", "no", set_log_submissions,
     "daemon: also count submissions from the log (yes only when Postfix does not call the "
     "policy service: then hijackd detects but cannot refuse)"},
    {"control_socket", "", conf_set_control_socket,
     "daemon: hijackctl's unix socket; empty: state_dir/control.sock"},
    {"admin_group", "", conf_set_admin_group,
     "daemon: members of this group may change things over the control socket (root always may); "
     "others may only look"},
    {"http_listen", "127.0.0.1:10098", conf_set_http_listen,
     "daemon: the JSON API, dashboard and /metrics (host:port); empty: none"},
    {"http_allow_remote", "no", conf_set_http_allow_remote,
     "daemon: yes lets http_listen be off loopback (put TLS in front: tokens travel in clear)"},
    {"http_token_read", "", conf_set_http_token_read,
     "daemon: the API's read-only bearer token (16+ characters); empty: no read-only access"},
    {"http_token_admin", "", conf_set_http_token_admin,
     "daemon: the API's admin bearer token (lock, unlock, exempt, reload); empty: none"},
    {"metrics_token", "no", conf_set_metrics_token,
     "daemon: yes: /metrics asks for one of the tokens too"},
    {"web_dir", "/usr/local/share/hijackd/web", conf_set_web_dir,
     "daemon: the dashboard's files, served at /; empty: no dashboard"},
    {"postqueue_path", "/usr/sbin/postqueue", conf_set_postqueue_path,
     "hijackctl queue: Postfix's postqueue"},
    {"postsuper_path", "/usr/sbin/postsuper", conf_set_postsuper_path,
     "hijackctl queue purge (and lock_purge_queue): Postfix's postsuper"},
    {"postfix_config_dir", "", conf_set_postfix_config_dir,
     "postqueue -c / postsuper -c: another Postfix instance; empty: the default one"},
    {"postfix_command_timeout", "60s", conf_set_postfix_command_timeout,
     "postqueue, postsuper and sendmail are killed when they have not finished in this time"},
    {"lock_purge_queue", "no", conf_set_lock_purge_queue,
     "daemon: yes: a lock also deletes the account's mail still in Postfix's queue"},
    /* notices and unlock flows (conf_notify.c) */
    {"sendmail_path", "/usr/sbin/sendmail", conf_set_sendmail_path,
     "notify: alerts and notices are handed to the local MTA as \"PATH [-C postfix_config_dir] "
     "-i -t -f alert_from\", so they are queued and retried like any mail"},
    {"alert_to", "postmaster", conf_set_alert_to,
     "notify: the postmaster's address for alerts; empty = no alert mail"},
    {"alert_from", "postmaster", conf_set_alert_from,
     "notify: the envelope sender and From: of alerts and user notices (never counted: it is "
     "not an authenticated submission)"},
    {"alert_on", "lock", conf_set_alert_on,
     "notify: which decisions mail the postmaster: any of warn, throttle, lock, relay"},
    {"alert_max", "5", conf_set_alert_max,
     "notify: at most this many alert mails per alert_interval; more incidents wait and go "
     "out together as one digest"},
    {"alert_interval", "10m", conf_set_alert_interval, "notify: see alert_max"},
    {"unlock_address", "", conf_set_unlock_address,
     "notify: reply-to-unlock: the alert's Reply-To, an address Postfix pipes to \"hijackctl "
     "mail-unlock\" (see the README); empty = off"},
    {"unlock_admins", "", conf_set_unlock_admins,
     "notify: reply-to-unlock: replies are taken only from these addresses (From: and the "
     "envelope sender)"},
    {"unlock_token_lifetime", "3d", conf_set_unlock_lifetime,
     "notify: an alert's unlock token is refused after this long"},
    {"user_notice_rules", "", conf_set_notice_rules,
     "notify: locks and throttles by these rules also mail the account itself (rule names, "
     "\"manual\", or \"*\" for all); empty = no user notices"},
    {"user_notice_template", "", conf_set_notice_template,
     "notify: the user notice: a file with \"Subject: ...\", a blank line, the body; "
     "placeholders {account} {action} {rule} {time} {until} {contact} {host}; empty = built-in"},
    {"admin_contact", "your mail administrator", conf_set_admin_contact,
     "notify: {contact} in user notices and reply texts"},
    {"webhook_urls", "", conf_set_webhook_urls,
     "notify: POST each incident as JSON to these http(s) URLs; empty = none"},
    {"webhook_format", "json", conf_set_webhook_format,
     "notify: json (the incident as is) or slack ({\"text\": ...}, which Slack and Mattermost "
     "incoming webhooks accept)"},
    {"webhook_on", "lock, relay", conf_set_webhook_on,
     "notify: which decisions go to the webhooks: any of warn, throttle, lock, relay"},
    {"webhook_timeout", "5s", conf_set_webhook_timeout,
     "notify: one POST may take this long (it never delays a policy answer)"},
    {"webhook_retry", "30s", conf_set_webhook_retry,
     "notify: a failed POST is retried after this, then twice as long each time (up to 15m)"},
    {"webhook_max_age", "1d", conf_set_webhook_max_age,
     "notify: an incident not delivered by then is dropped (logged); the backlog is kept in "
     "state_dir/webhook across restarts"},
    {"policy_max_connections", "20000", set_max_conn,
     "daemon: policy connections served at once; more wait in the kernel's backlog"},
};
#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

/* setting_index - the table index of a setting name, -1 if unknown */
static int
setting_index(const char *name)
{
    for (size_t i = 0; i < NSETTINGS; i++)
        if (strcmp(settings[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* trim - strip leading and trailing white space in place */
static char *
trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = 0;
    return s;
}

/* split_line - "name = value" into a conf_line; -1 on a line without "=" */
static int
split_line(const char *src, int lineno, char *text, conf_line *out)
{
    char *eq = strchr(text, '=');

    if (eq == NULL)
        return -1;
    *eq = 0;
    char *name = trim(text), *value = trim(eq + 1);
    /* collapse runs of blanks in "rule   x" */
    char *sp = strpbrk(name, " \t");
    if (sp) {
        *sp = 0;
        char *rest = trim(sp + 1);
        size_t n = strlen(name) + strlen(rest) + 2;
        char *joined = xmalloc(n);
        snprintf(joined, n, "%s %s", name, rest);
        *out = (conf_line){src, lineno, joined, xstrdup(value)};
        return 0;
    }
    *out = (conf_line){src, lineno, xstrdup(name), xstrdup(value)};
    return 0;
}

typedef struct line_list {
    conf_line *v;
    size_t n;
} line_list;

static void
lines_push(line_list *l, conf_line cl)
{
    l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
    l->v[l->n++] = cl;
}

static void
lines_free(line_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].name);
        free(l->v[i].value);
    }
    free(l->v);
}

/* read_text - split a whole configuration text into logical lines */
static int
read_text(const char *src, const char *text, line_list *out, char *err, size_t errlen)
{
    hj_buf logical = HJ_BUF_INIT;
    int lineno = 0, start = 0, rc = 0;
    const char *p = text;

    while (rc == 0 && *p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        lineno++;
        int cont = n && (p[0] == ' ' || p[0] == '\t');
        int blank = strspn(p, " \t\r") >= n || p[0] == '#';
        if (!cont && !blank && logical.len) {
            conf_line cl;
            if (split_line(src, start, logical.s, &cl) != 0) {
                snprintf(err, errlen, "%s:%d: expected \"name = value\"", src, start);
                rc = -1;
            } else {
                lines_push(out, cl);
            }
            buf_reset(&logical);
        }
        if (!blank) {
            if (!cont)
                start = lineno;
            else if (logical.len == 0) {
                snprintf(err, errlen, "%s:%d: continuation line without a line to continue", src,
                         lineno);
                rc = -1;
            }
            buf_add(&logical, p, n);
            buf_putc(&logical, ' ');
        }
        p += nl ? n + 1 : n;
    }
    if (rc == 0 && logical.len) {
        conf_line cl;
        if (split_line(src, start, logical.s, &cl) != 0) {
            snprintf(err, errlen, "%s:%d: expected \"name = value\"", src, start);
            rc = -1;
        } else {
            lines_push(out, cl);
        }
    }
    buf_free(&logical);
    return rc;
}

/* conf_read_file - the whole file as a string */
char *
conf_read_file(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    hj_buf b = HJ_BUF_INIT;
    char chunk[8192];
    size_t n;

    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        buf_add(&b, chunk, n);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        snprintf(err, errlen, "%s: read error", path);
        buf_free(&b);
        return NULL;
    }
    if (memchr(b.s ? b.s : "", 0, b.len)) {
        snprintf(err, errlen, "%s: contains NUL bytes: not a configuration file", path);
        buf_free(&b);
        return NULL;
    }
    return b.s ? b.s : xstrdup("");
}

typedef struct conf_build {
    const conf_line *setting[NSETTINGS];
    const conf_line **rules;
    size_t nrules;
    const conf_line **overrides;
    size_t noverrides;
} conf_build;

/* has_prefix_word - "rule x" style names */
static const char *
after_word(const char *name, const char *word)
{
    size_t n = strlen(word);

    return strncmp(name, word, n) == 0 && name[n] == ' ' ? name + n + 1 : NULL;
}

/* sort_rule - place a rule line; -o replaces, a file repeat is an error */
static int
sort_rule(conf_build *b, const conf_line *cl, const char *rname, char *err, size_t errlen)
{
    for (size_t i = 0; i < b->nrules; i++) {
        if (strcmp(after_word(b->rules[i]->name, "rule"), rname) != 0)
            continue;
        if (strcmp(cl->src, "-o") == 0) {
            b->rules[i] = cl;
            return 0;
        }
        snprintf(err, errlen, "%s:%d: rule %s is defined twice (first at line %d)", cl->src,
                 cl->line, rname, b->rules[i]->line);
        return -1;
    }
    b->rules = xrealloc(b->rules, (b->nrules + 1) * sizeof(*b->rules));
    b->rules[b->nrules++] = cl;
    return 0;
}

/* sort_lines - settings (last wins), rules and overrides */
static int
sort_lines(conf_build *b, const line_list *l, char *err, size_t errlen)
{
    for (size_t i = 0; i < l->n; i++) {
        const conf_line *cl = &l->v[i];
        const char *arg;
        if ((arg = after_word(cl->name, "rule")) != NULL) {
            if (sort_rule(b, cl, arg, err, errlen) != 0)
                return -1;
        } else if ((arg = after_word(cl->name, "override")) != NULL) {
            b->overrides = xrealloc(b->overrides, (b->noverrides + 1) * sizeof(*b->overrides));
            b->overrides[b->noverrides++] = cl;
        } else {
            int k = setting_index(cl->name);
            if (k < 0) {
                snprintf(err, errlen, "%s:%d: unknown setting \"%s\"", cl->src, cl->line, cl->name);
                return -1;
            }
            b->setting[k] = cl;
        }
    }
    return 0;
}

/* prefix_err - turn "msg" into "src:line: msg" */
static void
prefix_err(const conf_line *cl, char *err, size_t errlen)
{
    char msg[512];

    snprintf(msg, sizeof(msg), "%s", err);
    snprintf(err, errlen, "%s:%d: %s", cl->src, cl->line, msg);
}

/* apply_all - settings, then rules, then overrides, into c */
static int
apply_all(hj_conf *c, const conf_build *b, char *err, size_t errlen)
{
    for (size_t i = 0; i < NSETTINGS; i++) {
        const conf_line *cl = b->setting[i];
        const char *v = cl ? cl->value : settings[i].def;
        c->text[i] = xstrdup(v);
        if (settings[i].apply(c, v, err, errlen) != 0)
            return cl ? (prefix_err(cl, err, errlen), -1) : -1;
    }
    for (size_t i = 0; i < b->nrules; i++) {
        const conf_line *cl = b->rules[i];
        if (policy_rule_parse(c->pol, after_word(cl->name, "rule"), cl->value, err, errlen))
            return prefix_err(cl, err, errlen), -1;
    }
    for (size_t i = 0; i < b->noverrides; i++) {
        const conf_line *cl = b->overrides[i];
        size_t before = c->pol->noverrides;
        if (policy_override_parse(c->pol, after_word(cl->name, "override"), cl->value, err, errlen))
            return prefix_err(cl, err, errlen), -1;
        for (size_t k = before; k < c->pol->noverrides; k++) {
            const char *rn = c->pol->overrides[k].rulename;
            size_t j = 0;
            while (j < c->pol->nrules && strcmp(c->pol->rules[j].name, rn) != 0)
                j++;
            if (j == c->pol->nrules) {
                snprintf(err, errlen, "%s:%d: override: no rule named \"%s\"", cl->src, cl->line,
                         rn);
                return -1;
            }
        }
    }
    if (conf_admin_check(c, err, errlen) != 0 || conf_notify_check(c, err, errlen) != 0)
        return -1;
    return policy_finish(c->pol, err, errlen);
}

/* read_opts - each -o name=value as one more line */
static int
read_opts(char *const *opts, size_t nopts, line_list *l, char *err, size_t errlen)
{
    for (size_t i = 0; i < nopts; i++) {
        char *copy = xstrdup(opts[i]);
        conf_line cl;
        int rc = split_line("-o", (int)i + 1, copy, &cl);
        free(copy);
        if (rc != 0) {
            snprintf(err, errlen, "-o %s: expected name=value", opts[i]);
            return -1;
        }
        lines_push(l, cl);
    }
    return 0;
}

hj_conf *
conf_load(const char *path, char *const *opts, size_t nopts, char *err, size_t errlen)
{
    char *text = path ? conf_read_file(path, err, errlen) : xstrdup(conf_default_text);
    line_list lines = {0};
    conf_build b = {0};
    int rc;

    if (text == NULL)
        return NULL;
    hj_conf *c = xcalloc(1, sizeof(*c));
    c->pol = policy_new();
    c->source = xstrdup(path ? path : "(built-in)");
    c->text = xcalloc(NSETTINGS, sizeof(char *));
    rc = read_text(c->source, text, &lines, err, errlen);
    if (rc == 0)
        rc = read_opts(opts, nopts, &lines, err, errlen);
    if (rc == 0)
        rc = sort_lines(&b, &lines, err, errlen);
    if (rc == 0)
        rc = apply_all(c, &b, err, errlen);
    free(b.rules);
    free(b.overrides);
    lines_free(&lines);
    free(text);
    if (rc != 0) {
        conf_free(c);
        return NULL;
    }
    return c;
}

void
conf_print(const hj_conf *c, hj_buf *out)
{
    buf_printf(out, "# effective configuration (from %s)\n", c->source);
    for (size_t i = 0; i < NSETTINGS; i++)
        buf_printf(out, "# %s\n%s = %s\n", settings[i].help, settings[i].name, c->text[i]);
    buf_puts(out, "\n# rules: metric over window > limit -> action\n");
    for (size_t i = 0; i < c->pol->nrules; i++) {
        policy_rule_format(&c->pol->rules[i], out);
        buf_putc(out, '\n');
    }
    if (c->pol->noverrides)
        buf_puts(out, "\n# overrides\n");
    for (size_t i = 0; i < c->pol->noverrides; i++) {
        policy_override_format(c->pol, &c->pol->overrides[i], out);
        buf_putc(out, '\n');
    }
}

void
conf_free(hj_conf *c)
{
    if (c == NULL)
        return;
    policy_free(c->pol);
    for (size_t i = 0; i < c->nlocal; i++)
        free(c->local_domains[i]);
    free(c->local_domains);
    if (c->text)
        for (size_t i = 0; i < NSETTINGS; i++)
            free(c->text[i]);
    free(c->text);
    free(c->source);
    free(c->policy_listen);
    free(c->state_dir);
    free(c->store);
    free(c->reject_text);
    free(c->log_follow);
    free(c->defer_text);
    char *admin[] = {c->control_socket,  c->admin_group,      c->http_listen,
                     c->http_token_read, c->http_token_admin, c->web_dir,
                     c->postqueue_path,  c->postsuper_path,   c->postfix_config_dir};
    for (size_t i = 0; i < sizeof(admin) / sizeof(admin[0]); i++)
        free(admin[i]);
    conf_notify_free(c);
    free(c);
}
