/*
 * conf_table - the settings: one typed row each (conf_int.h), in the order hijackd config prints
 *
 * DESCRIPTION
 *	conf_settings[] is the one list of settings: the parser looks names
 *	up in it, conf_print() prints it, conf_changed() compares it, and
 *	conf_reference() makes docs/SETTINGS.md of it (tests/run.sh checks
 *	that file is current). A row names its field by offsetof, into
 *	hj_conf (CF) or into the engine's hj_policy (PF). Flags: CONF_F_RESTART
 *	(read only at start: a reload keeps the old value), CONF_F_NOTIFY (the
 *	notification workers copy it: a change reopens them). This file also
 *	has the checks and apply functions of the policy's and the daemon's
 *	own settings; the other areas' are in conf_signals.c, conf_admin.c and
 *	conf_notify.c. Each returns 0, or -1 with a message in err.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_int.h"

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
set_own_networks(hj_conf *c, const char *v, char *err, size_t errlen)
{
    return conf_list_each(c, v, err, errlen, add_own_net);
}

static int
set_exempt(hj_conf *c, const char *v, char *err, size_t errlen)
{
    return conf_list_each(c, v, err, errlen, add_exempt);
}

/* item_domain - a local domain: lower case, without a leading "@" */
static int
item_domain(const conf_setting *s, char *d, char *err, size_t errlen)
{
    (void)s, (void)err, (void)errlen;
    if (d[0] == '@')
        memmove(d, d + 1, strlen(d));
    for (char *q = d; *q; q++)
        *q = (char)tolower((unsigned char)*q);
    return 0;
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
check_listen(const conf_setting *s, const char *v, char *err, size_t errlen)
{
    const char *colon = strrchr(v, ':');

    (void)s;
    if (v[0] != '/' &&
        (colon == NULL || colon == v || atoi(colon + 1) <= 0 || atoi(colon + 1) > 65535)) {
        snprintf(err, errlen, "bad address \"%s\" (host:port, or an absolute socket path)", v);
        return -1;
    }
    return 0;
}

/* check_listen_off - "" (off) or what check_listen takes */
static int
check_listen_off(const conf_setting *s, const char *v, char *err, size_t errlen)
{
    return *v == 0 ? 0 : check_listen(s, v, err, errlen);
}

/* check_scanner - "", "rspamd:http://IP:PORT[/PATH]" or "spamd:IP:PORT" ([IPv6] too); the
 * same grammar as scan_target_parse() in src/scan/scan_request.c, which conf may not include */
static int
check_scanner(const conf_setting *s, const char *v, char *err, size_t errlen)
{
    char host[64], ip[INET6_ADDRSTRLEN + 2], *end;
    const char *hp = NULL, *colon;
    unsigned char a[16];
    size_t n = 0;

    (void)s;
    if (strncmp(v, "rspamd:http://", 14) == 0)
        hp = v + 14, n = strcspn(hp, "/");
    else if (strncmp(v, "spamd:", 6) == 0)
        hp = v + 6, n = strlen(hp);
    if (*v == '\0')
        return 0;
    if (hp && n < sizeof(host) && (colon = memrchr(hp, ':', n)) && colon > hp) {
        long port = strtol(colon + 1, &end, 10);
        size_t hl = (size_t)(colon - hp);
        memcpy(host, hp, hl), host[hl] = '\0';
        ip[0] = '\0';
        if (host[0] == '[' && hl > 2 && host[hl - 1] == ']' && hl - 2 < sizeof(ip))
            memcpy(ip, host + 1, hl - 2), ip[hl - 2] = '\0';
        if (end == hp + n && end > colon + 1 && port > 0 && port <= 65535 &&
            (inet_pton(AF_INET, host, a) == 1 || (host[0] == '[' && inet_pton(AF_INET6, ip, a) == 1)) &&
            strpbrk(hp + n, " \t\r\n") == NULL)
            return 0;
    }
    snprintf(err, errlen, "bad scanner \"%.100s\" (rspamd:http://IP:PORT[/PATH] or spamd:IP:PORT, "
             "a numeric address)", v);
    return -1;
}

/* item_rspamd_class - "action=class": an rspamd action ('_' for its blanks) and spam, suspect
 * or clean (scan_rules_set() in src/scan/scan.c applies it) */
static int
item_rspamd_class(const conf_setting *s, char *item, char *err, size_t errlen)
{
    static const char *const classes[] = {"spam", "suspect", "clean"};
    const char *eq = strchr(item, '=');

    (void)s;
    for (size_t i = 0; eq && eq > item && eq - item < 24 && i < 3; i++)
        if (strcmp(eq + 1, classes[i]) == 0)
            return 0;
    snprintf(err, errlen, "bad action=class \"%.80s\" (e.g. add_header=suspect; classes spam, "
             "suspect, clean)", item);
    return -1;
}

static int
check_store(const conf_setting *s, const char *v, char *err, size_t errlen)
{
    (void)s;
    if (strncmp(v, "sqlite:", 7) != 0 && strncmp(v, "memory:", 7) != 0) {
        snprintf(err, errlen, "bad store \"%s\" (sqlite:, sqlite:PATH or memory:)", v);
        return -1;
    }
    return 0;
}

/* smtp_text - a reply text must start with its enhanced status code */
static int
smtp_text(const char *v, char cls, char *err, size_t errlen)
{
    if (strlen(v) > 900) {
        snprintf(err, errlen, "the text is longer than 900 characters");
        return -1;
    }
    if (v[0] != cls || v[1] != '.' || strchr(v, '\n')) {
        snprintf(err, errlen, "the text must start with a %c.x.y status code, got \"%s\"", cls, v);
        return -1;
    }
    return conf_reply_text_check(v, err, errlen);
}

static int
check_reject(const conf_setting *s, const char *v, char *err, size_t errlen)
{
    (void)s;
    return smtp_text(v, '5', err, errlen);
}

/* check_hold - the text after HOLD goes to Postfix's log, not to the client: no status code */
static int
check_hold(const conf_setting *s, const char *v, char *err, size_t errlen)
{
    (void)s;
    if (strlen(v) > 900 || strchr(v, '\n')) {
        snprintf(err, errlen, "the text must be one line of at most 900 characters");
        return -1;
    }
    return conf_reply_text_check(v, err, errlen);
}

static int
check_defer(const conf_setting *s, const char *v, char *err, size_t errlen)
{
    (void)s;
    return smtp_text(v, '4', err, errlen);
}

/* the ENUM names, by their codes (conf.h) */
static const char *const fail_names[] = {"dunno", "defer", NULL};
static const char *const stage_names[] = {"end-of-message", "rcpt", NULL};
static const char *const scan_mail_names[] = {"external", "authenticated", "none", NULL};
static const char *const spam_action_names[] = {"reject", "hold", "pass", NULL};
static const char *const webhook_formats[] = {"json", "slack", NULL};

/* the field: in hj_conf (CF) or in its policy (PF); the kinds */
#define CF(f) .base = CONF_B_CONF, .off = offsetof(hj_conf, f), .size = sizeof(((hj_conf *)0)->f)
#define PF(f) .base = CONF_B_POL, .off = offsetof(hj_policy, f), .size = sizeof(((hj_policy *)0)->f)
#define STR(f) .kind = CONF_K_STR, CF(f)
#define PATH(f) .kind = CONF_K_STR, CF(f), .check = conf_check_path
#define INT(fld, lo, hi) .kind = CONF_K_INT, fld, .min = (lo), .max = (hi)
#define TIME(fld, lo, hi) .kind = CONF_K_TIME, fld, .min = (lo), .max = (hi)
#define BOOL(f) .kind = CONF_K_BOOL, CF(f)
#define OCTAL(f, hi) .kind = CONF_K_OCTAL, CF(f), .max = (hi)
#define ENUM(f, w, n) .kind = CONF_K_ENUM, CF(f), .what = (w), .names = (n)
#define LIST(f, nf) .kind = CONF_K_LIST, CF(f), .off_n = offsetof(hj_conf, nf)
#define CUSTOM(fn) .kind = CONF_K_CUSTOM, .apply = (fn)
/* a row: name, default, kind and field, help, then any of .flags, .type, .what, .more */
/* clang-format off */
#define SET(n, d, k, h, ...) {.name = (n), .def = (d), k, .help = h, __VA_ARGS__}
/* clang-format on */

const conf_setting conf_settings[] = {
    SET("own_networks", "", CUSTOM(set_own_networks),
        "the server's own networks (CIDR list): MDaemon's \"local\" source-IP class",
        .type = "list of networks (CIDR)"),
    SET("local_domains", "", LIST(local_domains, nlocal),
        "the domains this server receives mail for; empty = learn them from the log",
        .item = item_domain, .flags = CONF_F_NOTIFY, .type = "list of domains",
        .more = "Learned from the domains of SASL logins and of mail delivered by local, virtual "
                "or lmtp. Used to tell relaying from forwarding."),
    SET("exempt", "", CUSTOM(set_exempt),
        "accounts never judged: addresses or globs (*@lists.example.com, newsletter@*)",
        .type = "list of addresses or globs",
        .more = "\"@example.org\" is the whole domain. Their mail counts nowhere else either."),
    SET("ipv4_network_prefix", "24", INT(PF(v4_prefix), 8, 32),
        "IPv4 network size for distinct_networks"),
    SET("ipv6_network_prefix", "64", INT(PF(v6_prefix), 16, 128),
        "IPv6 network size for distinct_networks"),
    SET("distinct_max_items", "256", INT(PF(distinct_max), 1, 65536),
        "items kept per distinct-count window (memory bound; counts saturate there)"),
    SET("net_trust_after", "1d", TIME(PF(net_trust_after), 1, 0),
        "a network new to an account is \"novel\" (novel=yes rules) until it has been in use this "
        "long",
        .more = "Private, loopback and own networks never are novel, nor is the first network an "
                "account is seen on."),
    SET("relock_escalate_within", "7d", TIME(PF(relock_escalate), 0, 0),
        "an account locked again this soon after an automatic unlock stays locked until an admin "
        "unlocks it (0 = never escalate)",
        .what = "0 = never escalate"),
    SET("trusted_nets_max", "64", INT(PF(trusted_nets_max), 1, 4096),
        "networks remembered per account (the least recently used is forgotten first)",
        .more = "Kept across restarts."),
    SET("failed_login_names_max", "10000", INT(PF(failed_names_max), 0, 10000000),
        "accounts known only from failed logins kept at most (a password spray invents names)",
        .more = "A name that fails to log in and has never logged in or sent mail is counted "
                "for failed_logins in memory only: never stored, not listed among the accounts, "
                "forgotten when idle past the longest rule window. At the cap the failures of "
                "further new names count only for their client address (logged). 0: such names "
                "are never kept."),
    SET("accounts_max", "1000000", INT(PF(accounts_max), 16, 100000000),
        "accounts (and sender domains) followed at most",
        .more = "Only accounts that logged in or sent count (see failed_login_names_max). At the "
                "cap a new account takes the place of the least recently seen of a sample of 8 "
                "unlocked, unthrottled ones idle for a minute or more, which is forgotten with "
                "its learned profile (logged, counted in hijackd_entities_evicted_total); a "
                "locked account is never dropped, and when none can be a new account is "
                "followed above the cap (counted as refused). About 2.5 KiB per account with a "
                "learned profile: docs/PERFORMANCE.md."),
    SET("client_entities_max", "50000", INT(PF(clients_max), 16, 100000000),
        "client addresses followed at most (for the rules of scope=ip)",
        .more = "At the cap a new address takes the place of the least recently seen of a "
                "sample of 8 (never a locked or throttled one, nor one seen in the last "
                "minute); when none can go the new address is not followed and its events "
                "count only for their account and the server (logged, counted). A spray from "
                "a million addresses stays within this many entities, about 300 bytes each."),
    SET("account_forget_after", "180d", TIME(PF(account_forget), 0, 0),
        "an unlocked account idle this long is forgotten, with its learned profile and its "
        "stored counters (0 = never)",
        .what = "0 = never",
        .more = "If it comes back it is learned again as a new account: its first network is "
                "trusted, as for any new account."),
    SET("similar_size_tolerance", "1", CUSTOM(set_similar_tol),
        "similar_sizes: two messages are alike when their sizes differ by at most this many "
        "percent",
        .type = "percentage 0..50 (one decimal)"),
    SET("bounce_ratio_min_deliveries", "20", INT(PF(bounce_ratio_min), 1, 100000),
        "bounce_ratio: the share of bounced recipients is judged once the window holds this many "
        "delivery outcomes"),
    SET("score_weights",
        "novel_network=3, unknown_client=1, novel_client=2, novel_domains=1, freemail=1, "
        "above_normal=2, ip_diversity=2, failed_logins=3, similar_sizes=1, spam_verdicts=3",
        CUSTOM(conf_set_score_weights),
        "score: the weight of each signal (0 = off); docs/DETECTION.md",
        .type = "list of signal=N (N 0..1000)"),
    SET("score_min_kinds", "2", INT(PF(sig.min_kinds), 1, 5),
        "score: a message scores only when signals of this many kinds agree (where from, sent by, "
        "what, logins, the anti-spam engine's verdicts; 1 to 5)"),
    SET("signal_window", "1h", TIME(PF(sig.window), 1, 0),
        "score: how far back the signals look (failed logins, networks, sizes, recipients)"),
    SET("profile_learn_time", "2d", TIME(PF(sig.learn_time), 1, 0),
        "score: an account is compared with its own history (novel_client, novel_domains, "
        "above_normal) once it has this much of it"),
    SET("signal_failed_logins", "5", INT(PF(sig.failed_logins), 1, 1000000),
        "failed_logins signal: at least this many failed logins for the account or from the "
        "client"),
    SET("signal_networks", "3", INT(PF(sig.networks), 2, 1000000),
        "ip_diversity signal: the account used from at least this many outside networks"),
    SET("signal_similar_sizes", "3", INT(PF(sig.similar), 2, 64),
        "similar_sizes signal: at least this many messages of nearly the same size"),
    SET("signal_share", "50", INT(PF(sig.share), 1, 100),
        "novel_domains and freemail signals: at least this percent of the recent recipients"),
    SET("signal_share_min", "5", INT(PF(sig.share_min), 1, 32),
        "novel_domains and freemail signals: judged from this many recent recipients on (max 32)"),
    SET("signal_usual_share", "20", INT(PF(sig.usual_share), 0, 100),
        "novel_network, unknown_client, novel_domains, freemail: silent for an account when more "
        "than this percent of its own history has the trait (a roaming salesman, a support desk)"),
    SET("signal_usual_min", "20", INT(PF(sig.usual_min), 1, 1000000),
        "signal_usual_share is judged on a history of at least this many messages (recipients)"),
    SET("volume_factor", "3", INT(PF(sig.volume_factor), 1, 1000),
        "above_normal signal: more than this many times the most sent at this time of day in the "
        "last 7 days"),
    SET("volume_floor", "30", INT(PF(sig.volume_floor), 0, 1000000000),
        "above_normal signal: and more than this many recipients in the hour"),
    SET("freemail_domains",
        "gmail.com, googlemail.com, yahoo.com, ymail.com, hotmail.com, outlook.com, live.com, "
        "msn.com, aol.com, icloud.com, me.com, mail.com, gmx.com, gmx.net, gmx.de, web.de, "
        "yandex.ru, mail.ru, qq.com, 163.com, 126.com, proton.me, protonmail.com, zoho.com",
        CUSTOM(conf_set_freemail), "freemail signal: large free mail providers",
        .type = "list of domains"),
    SET("queue_id_lifetime", "2d", TIME(CF(queue_id_lifetime), 1, 0),
        "log reader: forget a message whose \"removed\" line never came after this long",
        .flags = CONF_F_RESTART),
    SET("queue_max_tracked", "200000", INT(CF(queue_max_tracked), 100, 100000000),
        "log reader: at most this many messages followed at once (oldest forgotten first)",
        .flags = CONF_F_RESTART),
    SET("policy_listen", "/var/spool/postfix/private/hijackd", STR(policy_listen),
        "daemon: where Postfix's policy requests arrive: an absolute unix socket path (only "
        "policy_allow_users and root may ask), or host:port (every local user may ask)",
        .check = check_listen, .flags = CONF_F_RESTART,
        .type = "absolute socket path or host:port",
        .more = "The default is in Postfix's private/ directory, which a chrooted smtpd reaches "
                "as `check_policy_service unix:private/hijackd`. On TCP hijackd cannot tell who "
                "connects: any local user could lock any account, so it warns at start."),
    SET("policy_socket_mode", "0666", OCTAL(policy_socket_mode, 0777),
        "daemon: the mode of a unix policy socket (who may ask is policy_allow_users)",
        .flags = CONF_F_RESTART),
    SET("policy_allow_users", "postfix", LIST(policy_allow_users, npolicy_allow_users),
        "daemon: the users (names or uids) whose connections to a unix policy socket are "
        "served; root and hijackd's own user always are; others are closed unanswered",
        .type = "list of users",
        .more = "Checked with SO_PEERCRED at each connection; names are looked up at start and "
                "reload (an unknown name is a warning). A refused user is logged once (at most "
                "64 users). Not checked on TCP."),
    SET("milter_listen", "", STR(milter_listen),
        "daemon: where the MTA's milter connections arrive (off when empty): an absolute unix "
        "socket path (only milter_allow_users and root may connect) or host:port",
        .check = check_listen_off, .flags = CONF_F_RESTART,
        .type = "empty, absolute socket path or host:port",
        .more = "For Postfix smtpd_milters / non_smtpd_milters and Sendmail INPUT_MAIL_FILTER "
                "(docs/MILTER.md): a locked account is refused at RCPT, a message is counted at "
                "its end, once per queue ID whether the policy service, the milter or both see "
                "it. On TCP every local user may connect (a warning at start)."),
    SET("milter_socket_mode", "0666", OCTAL(milter_socket_mode, 0777),
        "daemon: the mode of a unix milter socket (who may connect is milter_allow_users)",
        .flags = CONF_F_RESTART),
    SET("milter_allow_users", "postfix smmta", LIST(milter_allow_users, nmilter_allow_users),
        "daemon: the users (names or uids) whose connections to a unix milter socket are "
        "served; root and hijackd's own user always are",
        .type = "list of users",
        .more = "postfix is Postfix's, smmta Debian's Sendmail's; as policy_allow_users "
                "otherwise."),
    SET("milter_idle_timeout", "330s", TIME(CF(milter_idle_timeout), 1, 0),
        "daemon: close a milter connection idle this long (Postfix keeps its own for an SMTP "
        "session: smtpd_timeout is 300s)",
        .flags = CONF_F_RESTART),
    SET("milter_packet_timeout", "30s", TIME(CF(milter_packet_timeout), 1, 0),
        "daemon: a milter packet begun must be complete within this", .flags = CONF_F_RESTART),
    SET("milter_max_connections", "20000", INT(CF(milter_max_connections), 1, 1000000),
        "daemon: milter connections served at once; more are closed (the MTA applies its "
        "default_action)",
        .flags = CONF_F_RESTART),
    SET("milter_max_packet", "131072", INT(CF(milter_max_packet), 1024, 16777216),
        "daemon: the longest milter packet taken, in bytes; a longer one closes the connection",
        .more = "A body chunk is at most 65,536 bytes; Postfix sends a header in one packet, up "
                "to header_size_limit (102,400).",
        .flags = CONF_F_RESTART),
    SET("state_dir", "/var/lib/hijackd", PATH(state_dir),
        "daemon: its state (the SQLite store, the pid lock); created if missing",
        .flags = CONF_F_RESTART | CONF_F_NOTIFY),
    SET("store", "sqlite:", STR(store),
        "daemon: where locks and the audit trail live: sqlite: (state_dir/hijackd.db), "
        "sqlite:PATH, "
        "memory:",
        .check = check_store, .flags = CONF_F_RESTART, .type = "sqlite:, sqlite:PATH or memory:",
        .more = "sqlite:PATH?sync=full makes SQLite sync each commit."),
    SET("store_error_action", "dunno", ENUM(store_error_action, "failure action", fail_names),
        "daemon: the answer when the store fails: dunno (fail open) or defer (fail closed)"),
    SET("internal_error_action", "dunno", ENUM(internal_error_action, "failure action", fail_names),
        "daemon: the answer on an internal error: dunno or defer"),
    SET("parse_error_action", "dunno", ENUM(parse_error_action, "failure action", fail_names),
        "daemon: the answer to a request it cannot parse (then the connection is closed)",
        .flags = CONF_F_RESTART),
    SET("reject_text",
        "5.7.1 Sending from your account is blocked: it looks like someone else is using it. "
        "Change "
        "your password and contact your mail administrator",
        STR(reject_text),
        "daemon: the text after REJECT for a locked account; placeholders {account} {rule} {time} "
        "{until} {contact} {host} (\"{{\" is a literal \"{\")",
        .check = check_reject, .type = "text: 5.x.y ..., at most 900 characters"),
    SET("defer_text",
        "4.7.1 Your account is sending unusually much mail: sending is paused for a while, please "
        "try "
        "again later",
        STR(defer_text),
        "daemon: the text after DEFER_IF_PERMIT for a throttled account; placeholders as "
        "reject_text",
        .check = check_defer, .type = "text: 4.x.y ..., at most 900 characters"),
    SET("hold_text", "held for review by hijackd (rule {rule})", STR(hold_text),
        "daemon: the text after HOLD for a held account (action=hold): Postfix logs it, the "
        "client never sees it; placeholders as reject_text",
        .check = check_hold, .type = "text: one line, at most 900 characters"),
    SET("policy_idle_timeout", "330s", TIME(CF(policy_idle_timeout), 1, 0),
        "daemon: close a policy connection idle this long (Postfix closes its own after 300s)",
        .flags = CONF_F_RESTART),
    SET("policy_request_timeout", "10s", TIME(CF(policy_request_timeout), 1, 0),
        "daemon: a request begun must be complete within this", .flags = CONF_F_RESTART),
    SET("policy_count_stage", "end-of-message", ENUM(policy_count_stage, "stage", stage_names),
        "daemon: where messages are counted: end-of-message (recipient_count, size), or rcpt "
        "when hijackd is only in smtpd_recipient_restrictions (one recipient per request)"),
    SET("counters_flush_interval", "2s", TIME(CF(counters_flush_interval), 1, 60),
        "daemon: sliding counters are written to the store in a batch this often; a crash forgets "
        "at most this much traffic (locks and the audit trail are written at once)",
        .flags = CONF_F_RESTART, .more = "Locks and the audit trail are written at once."),
    SET("audit_keep", "90d", TIME(CF(audit_keep), 3600, 0),
        "daemon: audit trail entries (decisions, manual changes) older than this are deleted",
        .more = "The daemon deletes them in batches of at most 500 entries, up to four batches "
                "every 5 seconds (2,000 entries), so that no deletion holds the event loop for "
                "long; the trail is bounded by what is decided within audit_keep."),
    SET("log_follow", "/var/log/mail.log", PATH(log_follow),
        "daemon: the Postfix log it follows (like tail -F) for failed logins, bounces and "
        "relaying; "
        "empty: none",
        .flags = CONF_F_EMPTY | CONF_F_RESTART),
    SET("log_submissions", "no", BOOL(log_submissions),
        "daemon: also count submissions from the log (yes only when Postfix does not call the "
        "policy service: then hijackd detects but cannot refuse)"),
    SET("spam_scanner", "", STR(spam_scanner),
        "scan: the anti-spam engine asked about outgoing mail: rspamd:http://IP:PORT (its "
        "/checkv2) or spamd:IP:PORT (SpamAssassin, SPAMC/1.5 SYMBOLS); empty: none",
        .check = check_scanner, .flags = CONF_F_RESTART,
        .type = "rspamd:http://IP:PORT[/PATH], spamd:IP:PORT or empty",
        .more = "A numeric address only (no name lookup on the event loop); [IPv6] in brackets. "
                "docs/SCANNING.md says what is sent and how a reply becomes a verdict."),
    SET("spam_scan_timeout", "5s", TIME(CF(spam_scan_timeout), 1, 300),
        "scan: a scan without a whole reply this long after it began is dropped: the message "
        "is unscanned (timeout)",
        .flags = CONF_F_RESTART),
    SET("spam_scan_max_size", "4194304", INT(CF(spam_scan_max_size), 1024, 1073741824),
        "scan: a message larger than this many bytes is not sent: unscanned (too big)",
        .flags = CONF_F_RESTART),
    SET("spam_scan_max_inflight", "32", INT(CF(spam_scan_max_inflight), 1, 100000),
        "scan: at most this many scans at once; more are unscanned (busy)",
        .flags = CONF_F_RESTART),
    SET("spam_breaker_failures", "5", INT(CF(spam_breaker_failures), 0, 1000000),
        "scan: after this many failed scans in a row (timeout, refused, bad reply) the scanner is "
        "not asked for spam_breaker_time; 0: always asked",
        .more = "Then one message is sent as a probe: a verdict closes the breaker, a failure "
                "opens it again. Each change is logged once.",
        .flags = CONF_F_RESTART),
    SET("spam_breaker_time", "30s", TIME(CF(spam_breaker_time), 1, 86400),
        "scan: how long the open breaker skips the scanner before one probe",
        .flags = CONF_F_RESTART),
    SET("spam_scanner_alert_after", "10m", TIME(CF(spam_scanner_alert_after), 0, 0),
        "scan: the scanner down (its breaker open) this long mails the postmaster (alert_to), "
        "and its return mails again; 0: never",
        .more = "While it is down the milter's mail passes unscanned (counted in "
                "hijackd_scans_unscanned_total{reason}): the spam rules then see nothing."),
    SET("spam_suspect_percent", "60", INT(CF(spam_suspect_percent), 0, 100),
        "scan: spamd: a score from this percent of its threshold (Spam: False) is suspect; 0: "
        "never",
        .flags = CONF_F_RESTART),
    SET("spam_rspamd_classes", "", LIST(spam_rspamd_classes, nspam_rspamd_classes),
        "scan: rspamd: changes to the action-to-class table, as action=class (add_header=clean); "
        "empty: the built-in table",
        .item = item_rspamd_class, .type = "list of action=class",
        .more = "Built in: reject, discard, quarantine = spam; soft_reject, rewrite_subject, "
                "add_header = suspect; greylist, no_action = clean. An action in no row is judged "
                "by its score against required_score (spam at it, suspect from "
                "spam_suspect_percent of it).",
        .flags = CONF_F_RESTART),
    SET("spam_scan_mail", "external", ENUM(spam_scan_mail, "which", scan_mail_names),
        "scan: which mail the milter has scanned: external (authenticated mail with a recipient "
        "outside local_domains), authenticated (all authenticated mail), none",
        .more = "With local_domains empty, the account's own domain is the only local one. Mail "
                "without a login is never scanned (it is not an account's)."),
    SET("spam_action", "reject", ENUM(spam_action, "action", spam_action_names),
        "scan: what a spam verdict does to the message: reject (spam_reject_text), hold "
        "(the MTA's quarantine: Postfix's hold queue) or pass",
        .more = "Where the MTA did not grant quarantine, hold passes the message (logged). "
                "Every spam verdict also counts for the spam rules, whatever this says."),
    SET("spam_suspect_action", "pass", ENUM(spam_suspect_action, "action", spam_action_names),
        "scan: what a suspect verdict does to the message (reject, hold or pass)"),
    SET("spam_reject_text", "5.7.1 Message judged as spam by the content filter and not sent. If "
        "you did not write it, someone else is using your account: change your password",
        STR(spam_reject_text),
        "scan: the text after 550 for a message refused for spam (no placeholders)",
        .check = check_reject, .type = "text: 5.x.y ..., at most 900 characters"),
    SET("spam_scan_buffer_max", "67108864", INT(CF(spam_scan_buffer_max), 65536, 17179869184),
        "scan: bytes of messages held for scanning at once, all milter connections together; "
        "beyond it a message is unscanned (busy)",
        .more = "Bounds the memory of many slow DATA phases at once; each message is also bounded "
                "by spam_scan_max_size."),
    SET("spam_exporter_auth", "", STR(spam_exporter_auth),
        "scan: user:password that rspamd's metadata_exporter sends (HTTP Basic) to POST its "
        "verdicts to /api/verdict on http_listen; empty: the endpoint is off",
        .type = "user:password or empty",
        .more = "For sites that run rspamd as their milter: its verdicts on authenticated mail "
                "count as hijackd's own scans would, and nothing is scanned twice (leave "
                "spam_scanner empty). docs/SCANNING.md has rspamd's lines. Keep the file "
                "readable by root only: it warns like the tokens."),
    SET("control_socket", "", PATH(control_socket),
        "daemon: hijackctl's unix socket; empty: state_dir/control.sock",
        .flags = CONF_F_EMPTY | CONF_F_RESTART),
    SET("admin_group", "", STR(admin_group),
        "daemon: members of this group may change and read things over the control socket "
        "(root always may)",
        .type = "group name or empty"),
    SET("control_read_group", "", STR(control_read_group),
        "daemon: members of this group may read over the control socket (status, show, "
        "decisions...); root and admin_group always may; others may only send unlock_token",
        .type = "group name or empty"),
    SET("control_max_connections", "32", INT(CF(control_max_connections), 1, 10000),
        "daemon: control socket connections served at once; more are closed at once (logged)",
        .flags = CONF_F_RESTART),
    SET("http_listen", "127.0.0.1:10098", STR(http_listen),
        "daemon: the JSON API, dashboard and /metrics (host:port); empty: none",
        .check = conf_check_http_listen, .flags = CONF_F_RESTART, .type = "host:port or empty"),
    SET("http_allow_remote", "no", BOOL(http_allow_remote),
        "daemon: yes lets http_listen be off loopback (put TLS in front: tokens travel in clear)",
        .flags = CONF_F_RESTART, .more = "A warning is logged at start."),
    SET("http_hosts", "", LIST(http_hosts, nhttp_hosts),
        "daemon: Host header names the HTTP side answers to besides http_listen's own address, "
        "localhost, 127.0.0.1 and [::1] (a TLS proxy's name)",
        .type = "list of host names",
        .more = "A request with any other Host (a web page that resolves its own name to "
                "127.0.0.1: DNS rebinding) or none gets 421. The port is not compared."),
    SET("http_max_connections", "256", INT(CF(http_max_connections), 1, 100000),
        "daemon: HTTP connections (API, dashboard, /metrics) open at once; more are closed "
        "unread (logged, counted in /metrics)",
        .flags = CONF_F_RESTART),
    SET("http_token_read", "", STR(http_token_read),
        "daemon: the API's read-only bearer token (16+ characters); empty: no read-only access",
        .check = conf_check_token, .type = "empty or 16+ printable characters"),
    SET("http_token_admin", "", STR(http_token_admin),
        "daemon: the API's admin bearer token (lock, unlock, exempt, reload); empty: none",
        .check = conf_check_token, .type = "empty or 16+ printable characters"),
    SET("metrics_token", "no", BOOL(metrics_need_token),
        "daemon: yes: /metrics asks for one of the tokens too"),
    SET("web_dir", "/usr/local/share/hijackd/web", PATH(web_dir),
        "daemon: the dashboard's files, served at /; empty: no dashboard", .flags = CONF_F_EMPTY,
        .more = "make install puts them there."),
    SET("postqueue_path", "/usr/sbin/postqueue", PATH(postqueue_path),
        "hijackctl queue: Postfix's postqueue", .flags = CONF_F_NOTIFY),
    SET("postsuper_path", "/usr/sbin/postsuper", PATH(postsuper_path),
        "hijackctl queue purge (and lock_purge_queue): Postfix's postsuper"),
    SET("postfix_config_dir", "", PATH(postfix_config_dir),
        "postqueue -c / postsuper -c: another Postfix instance; empty: the default one",
        .flags = CONF_F_EMPTY | CONF_F_NOTIFY),
    SET("postfix_command_timeout", "60s", TIME(CF(postfix_command_timeout), 1, 3600),
        "postqueue, postsuper and sendmail are killed when they have not finished in this time",
        .flags = CONF_F_NOTIFY),
    SET("lock_purge_queue", "no", BOOL(lock_purge_queue),
        "daemon: yes: a lock also deletes the account's mail still in Postfix's queue"),
    SET("sendmail_path", "/usr/sbin/sendmail", PATH(sendmail_path),
        "notify: alerts and notices are handed to the local MTA as \"PATH [-C postfix_config_dir] "
        "-i -f alert_from -- RECIPIENT\" (the recipient an argument, never -t), so they are queued "
        "and retried like any mail",
        .flags = CONF_F_NOTIFY),
    SET("alert_to", "postmaster", STR(alert_to),
        "notify: the postmaster's address for alerts; empty = no alert mail",
        .check = conf_check_address, .flags = CONF_F_NOTIFY, .type = "address or empty"),
    SET("alert_from", "postmaster", STR(alert_from),
        "notify: the envelope sender and From: of alerts and user notices (never counted: it is "
        "not an authenticated submission)",
        .check = conf_check_address, .flags = CONF_F_NOTIFY, .type = "address or empty"),
    SET("alert_on", "lock", CUSTOM(conf_set_alert_on),
        "notify: which decisions mail the postmaster: any of warn, throttle, lock, relay",
        .type = "list of warn, throttle, lock, relay",
        .more = "Rule decisions only: an admin's own locks do not alert."),
    SET("alert_max", "5", INT(CF(alert_max), 1, 1000),
        "notify: at most this many alert mails per alert_interval; more incidents wait and go "
        "out together as one digest",
        .flags = CONF_F_NOTIFY),
    SET("alert_interval", "10m", TIME(CF(alert_interval), 1, 0), "notify: see alert_max",
        .flags = CONF_F_NOTIFY),
    SET("unlock_address", "", STR(unlock_address),
        "notify: reply-to-unlock: the alert's Reply-To, an address Postfix pipes to \"hijackctl "
        "mail-unlock\" (see the README); empty = off",
        .check = conf_check_address, .flags = CONF_F_NOTIFY, .type = "address or empty"),
    SET("unlock_admins", "", LIST(unlock_admins, nunlock_admins),
        "notify: reply-to-unlock: replies are taken only from these addresses (From: and the "
        "envelope sender)",
        .item = conf_item_full_address, .type = "list of addresses"),
    SET("unlock_token_lifetime", "3d", TIME(CF(unlock_token_lifetime), 1, 0),
        "notify: an alert's unlock token is refused after this long"),
    SET("user_notice_rules", "", LIST(notice_rules, nnotice_rules),
        "notify: locks and throttles by these rules also mail the account itself (rule names, "
        "\"manual\", or \"*\" for all); empty = no user notices",
        .type = "list of rule names, manual or *"),
    SET("user_notice_template", "", CUSTOM(conf_set_notice_template),
        "notify: the user notice: a file with \"Subject: ...\", a blank line, the body; "
        "placeholders {account} {action} {rule} {time} {until} {contact} {host}; empty = built-in",
        CF(notice_template), .flags = CONF_F_FILE | CONF_F_NOTIFY, .type = "file or empty"),
    SET("spam_prompt_on", "warn", CUSTOM(conf_set_spam_prompt_on),
        "notify: decisions made by an anti-spam verdict (spam, spam_suspect rules) with these "
        "actions mail the account the outgoing spam prompt; empty = none",
        .flags = CONF_F_NOTIFY, .type = "list of warn, throttle, lock"),
    SET("spam_prompt_template", "", CUSTOM(conf_set_prompt_template),
        "notify: the outgoing spam prompt: a file like user_notice_template, its "
        "placeholders and {subject} (the message's); empty = built-in",
        CF(spam_prompt_template), .flags = CONF_F_FILE | CONF_F_NOTIFY, .type = "file or empty",
        .more = "The built-in prompt tells the user a message looked like spam, that more will "
                "lock the account, and what to do. The rule spam_warn (a warning at an account's "
                "first spam verdict in an hour) makes it at most one prompt an hour."),
    SET("admin_contact", "your mail administrator", STR(admin_contact),
        "notify: {contact} in user notices and reply texts", .flags = CONF_F_NOTIFY),
    SET("webhook_urls", "", LIST(webhook_urls, nwebhook_urls),
        "notify: POST each incident as JSON to these http(s) URLs; empty = none",
        .item = conf_item_url, .flags = CONF_F_NOTIFY, .type = "list of http(s) URLs"),
    SET("webhook_format", "json", ENUM(webhook_format, "webhook_format", webhook_formats),
        "notify: json (the incident as is) or slack ({\"text\": ...}, which Slack and Mattermost "
        "incoming webhooks accept)",
        .flags = CONF_F_NOTIFY),
    SET("webhook_on", "lock, relay", CUSTOM(conf_set_webhook_on),
        "notify: which decisions go to the webhooks: any of warn, throttle, lock, relay",
        .type = "list of warn, throttle, lock, relay"),
    SET("webhook_include_token", "no", BOOL(webhook_include_token),
        "notify: also put the reply-to-unlock token (and its expiry) in webhook incidents; no = "
        "only the alert mail carries it (a chat channel or a plain http:// receiver is no place "
        "for a secret that unlocks an account)"),
    SET("webhook_timeout", "5s", TIME(CF(webhook_timeout), 1, 300),
        "notify: one POST may take this long (it never delays a policy answer)",
        .flags = CONF_F_NOTIFY),
    SET("webhook_retry", "30s", TIME(CF(webhook_retry), 1, 0),
        "notify: a failed POST is retried after this, then twice as long each time (up to 15m)",
        .flags = CONF_F_NOTIFY),
    SET("webhook_max_age", "1d", TIME(CF(webhook_max_age), 1, 0),
        "notify: an incident not delivered by then is dropped (logged); the backlog is kept in "
        "state_dir/webhook across restarts",
        .flags = CONF_F_NOTIFY),
    SET("policy_max_connections", "20000", INT(CF(policy_max_connections), 1, 1000000),
        "daemon: policy connections served at once; more wait in the kernel's backlog",
        .flags = CONF_F_RESTART),
};
const size_t conf_nsettings_ = sizeof(conf_settings) / sizeof(conf_settings[0]);
