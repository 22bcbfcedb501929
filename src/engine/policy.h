/*
 * policy - the engine's rule set: rules, overrides, exemptions, IP classes
 *
 * SYNOPSIS
 *	hj_policy *policy_new(void);
 *	int policy_rule_parse(hj_policy *p, const char *name, const char *spec,
 *	                      char *err, size_t errlen);
 *	int policy_override_parse(hj_policy *p, const char *pattern, const char *spec,
 *	                          char *err, size_t errlen);
 *	int policy_finish(hj_policy *p, char *err, size_t errlen);
 *	void policy_free(hj_policy *p);
 *	hj_ipclass policy_ipclass(const hj_policy *p, const char *ip);
 *	hj_ipclass policy_ipclass_addr(const hj_policy *p, const hj_addr *a);
 *	int policy_is_exempt(const hj_policy *p, const char *account);
 *	int policy_never_counted(const char *account, const char *sender);
 *	void policy_rule_format(const hj_rule *r, hj_buf *out);
 *
 * DESCRIPTION
 *	A policy is built once (by the configuration module), finished, and
 *	then read-only: engines share it without locking. A rule is
 *
 *	    metric over window > limit  ->  action   (for one scope and IP class)
 *
 *	with the spec text "metric=recipients window=30m limit=500
 *	action=lock [throttle=30m] [hold=1h] [unlock_after=24h] [scope=account]
 *	[class=any] [novel=any|yes|no]". An override "RULE.limit=N RULE.action=warn RULE=off"
 *	applies to accounts matching a pattern (exact, "@domain" or a glob
 *	such as "*@lists.example.com"); exact patterns win over globs, later
 *	lines over earlier ones. policy_finish() validates, and assigns each
 *	rule its counter: rules with the same metric, window and class share
 *	one. Parse functions return 0, or -1 with a message in err.
 *	Not thread-safe while being built; read-only afterwards.
 */
#ifndef HJ_POLICY_H
#define HJ_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "../util/buf.h"
#include "../util/netaddr.h"

typedef enum hj_metric {
    HJ_M_MESSAGES,
    HJ_M_RECIPIENTS,
    HJ_M_DISTINCT_RCPTS,
    HJ_M_BYTES,
    HJ_M_DISTINCT_IPS,
    HJ_M_DISTINCT_NETS,
    HJ_M_FAILED_LOGINS,
    HJ_M_BOUNCES,
    HJ_M_RELAY_RCPTS,
    HJ_M_SIMILAR_SIZES, /* messages in the window within similar_size_tolerance of this one */
    HJ_M_BOUNCE_RATIO,  /* percent of the window's delivery outcomes that bounced */
    HJ_M_SCORE,         /* the weights of the signals that agreed on each message (signals.h) */
    HJ_M_SPAM,          /* messages an anti-spam engine judged spam (HJ_EV_SPAM) */
    HJ_M_SPAM_SUSPECT,  /* ... judged suspect (rspamd's greylist / add header, spamd near) */
    HJ_M__COUNT
} hj_metric;

typedef enum hj_action {
    HJ_A_WARN,
    HJ_A_THROTTLE,
    HJ_A_LOCK,
    HJ_A_RELAY,
    HJ_A_HOLD, /* accept the account's mail but hold it for review (Postfix HOLD) */
    HJ_A_UNLOCK,
    HJ_A__COUNT
} hj_action;

typedef enum hj_scope { HJ_S_ACCOUNT, HJ_S_DOMAIN, HJ_S_IP, HJ_S_GLOBAL, HJ_S__COUNT } hj_scope;

typedef enum hj_ipclass {
    HJ_C_ANY,
    HJ_C_RESERVED, /* loopback, private, link-local (MDaemon's "reserved") */
    HJ_C_OWN,      /* the server's own networks (own_networks) */
    HJ_C_EXTERNAL, /* everything else */
    HJ_C__COUNT
} hj_ipclass;

/* does a rule count only traffic from networks new to the account (see engine.h) */
typedef enum hj_novelty { HJ_N_ANY, HJ_N_NOVEL, HJ_N_KNOWN, HJ_N__COUNT } hj_novelty;

/* the signals a message is judged on for the score metric (signals.h says when each fires) */
typedef enum hj_signal {
    HJ_SIG_NOVEL_NETWORK,
    HJ_SIG_UNKNOWN_CLIENT,
    HJ_SIG_NOVEL_CLIENT,
    HJ_SIG_NOVEL_DOMAINS,
    HJ_SIG_FREEMAIL,
    HJ_SIG_ABOVE_NORMAL,
    HJ_SIG_IP_DIVERSITY,
    HJ_SIG_FAILED_LOGINS,
    HJ_SIG_SIMILAR_SIZES,
    HJ_SIG_SPAM_VERDICTS, /* the account's mail was judged spam in the window (HJ_EV_SPAM) */
    HJ_SIG__COUNT
} hj_signal;

/* the implicit counters the signals read (added by policy_finish when a score rule exists) */
enum {
    HJ_SC_FAILED_ACCOUNT,
    HJ_SC_FAILED_IP,
    HJ_SC_NETWORKS,
    HJ_SC_SIMILAR,
    HJ_SC_SPAM,
    HJ_SC__COUNT
};

typedef struct hj_sigconf {
    int weight[HJ_SIG__COUNT]; /* 0 = the signal is off */
    uint32_t min_kinds;        /* a message scores only when signals of this many kinds agree (2) */
    int64_t window;            /* the signals look back this far (1h) */
    int64_t learn_time;        /* history an account needs before it is judged against it (2d) */
    uint32_t failed_logins;    /* failed_logins: at least this many, account or client IP (5) */
    uint32_t networks;         /* ip_diversity: at least this many external networks (3) */
    uint32_t similar;          /* similar_sizes: at least this many alike, this one included (3) */
    uint32_t share;            /* novel_domains, freemail: percent of recent recipients (50) */
    uint32_t share_min;        /* ... of at least this many recent recipients (5) */
    uint32_t usual_share;      /* a trait found in more than this percent of an account's
                                  history is normal for it, its signal silent (20) */
    uint32_t usual_min;        /* ... of at least this many messages or recipients (20) */
    uint32_t volume_factor;    /* above_normal: more than this many times the usual (3) */
    uint32_t volume_floor;     /* above_normal: and more than this many recipients (30) */
    char **freemail;           /* lower-case domains of large freemail providers */
    size_t nfreemail;
    size_t counter[HJ_SC__COUNT]; /* set by policy_finish */
    int used;                     /* a score rule exists (set by policy_finish) */
} hj_sigconf;

typedef struct hj_rule {
    char *name;
    hj_metric metric;
    int64_t window; /* seconds */
    int64_t limit;  /* fires when the count exceeds it */
    hj_action action;
    int64_t throttle_for; /* throttle: seconds */
    int64_t hold_for;     /* hold: seconds */
    int64_t unlock_after; /* lock: seconds, 0 = only an admin unlocks */
    hj_scope scope;
    hj_ipclass ipclass;
    hj_novelty novelty;
    size_t counter; /* index into hj_policy.counters (set by policy_finish) */
} hj_rule;

typedef struct hj_counter_def {
    hj_metric metric;
    int64_t window;
    hj_ipclass ipclass;
    hj_scope scope;
    hj_novelty novelty;
    uint32_t slot; /* its byte offset among its scope's counters (set by policy_finish): an
                      entity holds only its own scope's, each in the room its metric needs */
} hj_counter_def;

typedef struct hj_override {
    char *pattern;  /* lower-case; "@dom" is stored as "*@dom" */
    int exact;      /* no wildcard */
    size_t rule;    /* index into rules (resolved by policy_finish) */
    char *rulename; /* as written, until resolved */
    int off;        /* RULE=off */
    int has_limit;
    int64_t limit;
    int has_action;
    hj_action action;
} hj_override;

typedef struct hj_policy {
    hj_rule *rules;
    size_t nrules;
    hj_override *overrides;
    size_t noverrides;
    hj_counter_def *counters;
    size_t ncounters;
    uint32_t scope_cbytes[HJ_S__COUNT]; /* bytes of a scope's counters (set by policy_finish) */
    char **exempt; /* lower-case glob patterns */
    size_t nexempt;
    hj_cidr *own_nets;
    size_t nown;
    int v4_prefix;             /* network size for distinct_nets, IPv4 (24) */
    int v6_prefix;             /* IPv6 (64) */
    uint32_t distinct_max;     /* items kept per distinct counter (256) */
    int64_t max_window;        /* the longest rule window (set by policy_finish) */
    int64_t scope_window[HJ_S__COUNT]; /* the longest window of a scope's counters: its idle
                                          entities are forgotten after it (policy_finish) */
    int64_t net_trust_after;   /* a network new to an account is novel this long (86400) */
    uint32_t trusted_nets_max; /* networks remembered per account (64) */
    uint32_t failed_names_max; /* accounts known only from failed logins, at most (10000) */
    uint32_t accounts_max;     /* account (and domain) entities at most, 0 = no cap (1000000) */
    uint32_t clients_max;      /* client-address entities at most, 0 = no cap (50000) */
    int64_t account_forget;    /* an unlocked account idle this long is forgotten, 0 = never (180d) */
    uint32_t similar_permille; /* similar_sizes: sizes within this many per mille (10 = 1%) */
    uint32_t bounce_ratio_min; /* bounce_ratio: 0 below this many delivery outcomes (20) */
    int64_t relock_escalate;   /* a lock this soon after an automatic unlock has no
                                  automatic unlock (relock_escalate_within, 7d) */
    unsigned scopes_used;      /* bit per hj_scope (set by policy_finish) */
    hj_sigconf sig;            /* the score metric's signals */
} hj_policy;

hj_policy *policy_new(void);
int policy_rule_parse(hj_policy *p, const char *name, const char *spec, char *err, size_t errlen);
int policy_override_parse(hj_policy *p, const char *pattern, const char *spec, char *err,
                          size_t errlen);
int policy_exempt_add(hj_policy *p, const char *pattern, char *err, size_t errlen);
int policy_own_net_add(hj_policy *p, const char *cidr, char *err, size_t errlen);
int policy_finish(hj_policy *p, char *err, size_t errlen);
void policy_free(hj_policy *p);

hj_ipclass policy_ipclass(const hj_policy *p, const char *ip);
hj_ipclass policy_ipclass_addr(const hj_policy *p, const hj_addr *a);
int policy_is_exempt(const hj_policy *p, const char *account);
int policy_never_counted(const char *account, const char *sender);
int policy_pattern_match(const char *pattern, const char *name);

const char *policy_metric_name(hj_metric m);
const char *policy_action_name(hj_action a);
const char *policy_scope_name(hj_scope s);
const char *policy_class_name(hj_ipclass c);
const char *policy_novelty_name(hj_novelty n);
const char *policy_signal_name(hj_signal s);
int policy_signal_lookup(const char *s, hj_signal *sig);
void policy_freemail_clear(hj_policy *p);
void policy_freemail_add(hj_policy *p, const char *domain);
int policy_action_lookup(const char *s, hj_action *a);
void policy_rule_format(const hj_rule *r, hj_buf *out);
void policy_override_format(const hj_policy *p, const hj_override *o, hj_buf *out);

#endif
