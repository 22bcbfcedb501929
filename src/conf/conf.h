/*
 * conf - hijackd's configuration: settings, rules, overrides; parse, validate, print
 *
 * SYNOPSIS
 *	hj_conf *conf_load(const char *path, char *const *opts, size_t nopts,
 *	                   char *err, size_t errlen);
 *	void conf_print(const hj_conf *c, hj_buf *out);
 *	void conf_free(hj_conf *c);
 *
 *	size_t conf_changed(const hj_conf *old, const hj_conf *cur, unsigned flags_mask,
 *	                    conf_changed_fn fn, void *ctx);
 *	int conf_keep(hj_conf *cur, const hj_conf *old, unsigned flags_mask,
 *	              char *err, size_t errlen);
 *	void conf_reference(hj_buf *out);
 *	size_t conf_nsettings(void);
 *
 * DESCRIPTION
 *	The file is in Postfix main.cf style: "name = value" lines, "#"
 *	comments at the start of a line, and a line starting with white
 *	space continues the previous one. Besides the settings of the table
 *	in conf.c, two kinds of entries hold the detection rules:
 *
 *	    rule NAME = metric=M window=W limit=N action=A [key=value ...]
 *	    override PATTERN = RULE.limit=N RULE.action=A RULE=off ...
 *
 *	path NULL means the built-in default configuration (conf_default.c).
 *	opts are "-o name=value" strings applied after the file, each like
 *	one more line (a "-o rule NAME=..." replaces the file's rule NAME).
 *	Every error names its source and line ("file:12: ...", "-o 1: ...")
 *	and conf_load() then returns NULL with the message in err; nothing
 *	is half-loaded. The result is immutable and owns its policy.
 *	Not thread-safe while loading; the result can be shared read-only.
 *
 *	Every setting is a row of one typed table (conf_table.c), with
 *	flags: CONF_F_RESTART, read only at start (a reload cannot apply it);
 *	CONF_F_NOTIFY, copied by the notification workers (a reload that
 *	changes one must reopen them). conf_changed() calls fn (if not NULL)
 *	for each setting with any of flags_mask (0: any setting) whose value
 *	differs between old and cur, as written (c->text[]; for a file such
 *	as user_notice_template also its content), with the old and new
 *	texts, in table order, and returns how many differ. conf_keep() puts
 *	old's value back into cur for each such setting with any of
 *	flags_mask (the setting's own check runs again; checks across
 *	settings do not): 0, or -1 with a message in err. conf_reference()
 *	appends the Markdown settings reference (docs/SETTINGS.md).
 */
#ifndef HJ_CONF_H
#define HJ_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "../engine/policy.h"
#include "../util/buf.h"


typedef struct hj_conf {
    hj_policy *pol;
    char *source; /* the file read, or "(built-in)" */
    /* settings for the adapters */
    char **local_domains;
    size_t nlocal;
    int64_t queue_id_lifetime;
    int64_t queue_max_tracked;
    /* settings for the daemon */
    char *policy_listen;    /* "host:port" or an absolute unix socket path */
    int policy_socket_mode; /* of a unix socket */
    char *state_dir;
    char *store;            /* "sqlite:", "sqlite:PATH", "memory:" */
    int store_error_action; /* CONF_FAIL_DUNNO or CONF_FAIL_DEFER */
    int internal_error_action;
    int parse_error_action;
    char *reject_text;              /* the text after REJECT for a locked account */
    char *defer_text;               /* the text after DEFER_IF_PERMIT for a throttled one */
    char *hold_text;                /* the text after HOLD for a held one (action=hold) */
    int64_t policy_idle_timeout;    /* s: a connection that sends nothing is closed */
    int64_t policy_request_timeout; /* s: a request begun must end within this */
    int64_t policy_max_connections;
    char **policy_allow_users; /* unix policy socket: these users (and root) may ask */
    size_t npolicy_allow_users;
    char *milter_listen;       /* "" (off), "host:port" or an absolute unix socket path */
    int milter_socket_mode;
    char **milter_allow_users;
    size_t nmilter_allow_users;
    int64_t milter_idle_timeout, milter_packet_timeout, milter_max_connections;
    int64_t milter_max_packet;
    int policy_count_stage;          /* CONF_COUNT_EOM or CONF_COUNT_RCPT */
    int64_t counters_flush_interval; /* s between batches of counters written to the store */
    int64_t audit_keep;              /* s: audit entries older than this are deleted */
    char *log_follow;                /* the Postfix log the daemon follows; "" = none */
    int log_submissions;             /* count submissions from the log too (no policy service) */
    /* the anti-spam scanner (src/scan/: scan_config) */
    char *spam_scanner;              /* "rspamd:http://IP:PORT[/PATH]", "spamd:IP:PORT"; "" = none */
    int64_t spam_scan_timeout;       /* s: no whole reply by then: unscanned */
    int64_t spam_scan_max_size;      /* bytes: a larger message is not sent */
    int64_t spam_scan_max_inflight;  /* scans at once; more are unscanned ("busy") */
    int64_t spam_breaker_failures;   /* consecutive failures that open the breaker; 0 = never */
    int64_t spam_breaker_time;       /* s: the breaker stays open this long, then one probe */
    int64_t spam_scanner_alert_after; /* s: the scanner down this long mails the postmaster; 0 off */
    int64_t spam_suspect_percent;    /* spamd: suspect from this percent of its threshold */
    char **spam_rspamd_classes;      /* "action=class" items over the built-in table */
    size_t nspam_rspamd_classes;
    int spam_scan_mail;           /* CONF_SCAN_EXTERNAL, _AUTHENTICATED, _NONE */
    int spam_action;              /* CONF_SPAM_REJECT, _HOLD, _PASS */
    int spam_suspect_action;      /* the same, for suspect verdicts */
    char *spam_reject_text;       /* after 550 for a message refused for spam */
    int64_t spam_scan_buffer_max; /* bytes held for scanning, all connections */
    char *spam_exporter_auth;     /* "user:password" rspamd's exporter sends; "" = off */
    /* the admin surface (conf_admin.c) */
    char *control_socket;  /* "" = state_dir/control.sock */
    char *admin_group;     /* members may change things over the control socket; "" = root only */
    char *control_read_group;        /* members may read over it; "" = root and admin_group only */
    int64_t control_max_connections; /* control connections served at once */
    char *http_listen;     /* "host:port" of the JSON API and dashboard; "" = none */
    int http_allow_remote; /* http_listen may be off loopback */
    char **http_hosts;     /* Host names the HTTP side answers to, besides its own address */
    size_t nhttp_hosts;
    int64_t http_max_connections; /* HTTP connections open at once */
    char *http_token_read; /* bearer tokens; "" = that role is off */
    char *http_token_admin;
    int metrics_need_token;   /* /metrics asks for a token too */
    char *web_dir;            /* the dashboard's static files; "" = none */
    char *postqueue_path;     /* hijackctl queue */
    char *postsuper_path;     /* hijackctl queue purge, lock_purge_queue */
    char *postfix_config_dir; /* postqueue -c / postsuper -c; "" = Postfix's default */
    int64_t postfix_command_timeout; /* s: postqueue, postsuper, sendmail are killed after it */
    int lock_purge_queue;     /* a lock also deletes the account's queued mail */
    /* notices and unlock flows (conf_notify.c) */
    char *sendmail_path;    /* alerts and notices go through the local MTA: PATH -t */
    char *alert_to;         /* the postmaster's address; "" = no alert mail */
    char *alert_from;       /* envelope sender and From: of alerts and notices */
    unsigned alert_on;      /* bit per hj_action: which decisions alert */
    int64_t alert_max;      /* at most this many alert mails ... */
    int64_t alert_interval; /* ... per this many seconds; the rest go in a digest */
    char *unlock_address;   /* the alert's Reply-To, piped to hijackctl; "" = off */
    char **unlock_admins;   /* replies are taken from these addresses only */
    size_t nunlock_admins;
    int64_t unlock_token_lifetime; /* s */
    char **notice_rules;           /* rules whose locks and throttles notify the user ("*") */
    size_t nnotice_rules;
    char *notice_template; /* the user notice: headers, blank line, body */
    unsigned spam_prompt_on;    /* bit per hj_action: decisions of a content verdict that mail
                                   the account the spam prompt */
    char *spam_prompt_template; /* the prompt: headers, blank line, body */
    char *admin_contact;   /* {contact} in the notice and reply texts */
    char **webhook_urls;
    size_t nwebhook_urls;
    int webhook_format;      /* 0 json, 1 slack */
    unsigned webhook_on;     /* bit per hj_action */
    int webhook_include_token; /* the unlock token also in webhook incidents */
    int64_t webhook_timeout; /* s */
    int64_t webhook_retry;   /* s: the first retry; doubling up to 15 minutes */
    int64_t webhook_max_age; /* s: then the incident is dropped (logged) */
    char **text;             /* [conf_nsettings()] the value of each setting as written */
} hj_conf;

enum { CONF_FAIL_DUNNO, CONF_FAIL_DEFER };
enum { CONF_COUNT_EOM, CONF_COUNT_RCPT };
enum { CONF_SCAN_EXTERNAL, CONF_SCAN_AUTHENTICATED, CONF_SCAN_NONE };
enum { CONF_SPAM_REJECT, CONF_SPAM_HOLD, CONF_SPAM_PASS };
enum { CONF_F_RESTART = 1u << 0, CONF_F_NOTIFY = 1u << 1 }; /* a setting's flags */

typedef void (*conf_changed_fn)(void *ctx, const char *name, const char *old_text,
                                const char *new_text);

hj_conf *conf_load(const char *path, char *const *opts, size_t nopts, char *err, size_t errlen);
void conf_print(const hj_conf *c, hj_buf *out);
void conf_free(hj_conf *c);
size_t conf_changed(const hj_conf *old, const hj_conf *cur, unsigned flags_mask,
                    conf_changed_fn fn, void *ctx);
int conf_keep(hj_conf *cur, const hj_conf *old, unsigned flags_mask, char *err, size_t errlen);
void conf_reference(hj_buf *out);
size_t conf_nsettings(void);
extern const char conf_default_text[];

#endif
