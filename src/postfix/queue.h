/*
 * queue - Postfix queue forensics: who fills the queue, and purging them
 *
 * SYNOPSIS
 *	int queue_read(const char *postqueue_path, const char *config_dir, int timeout_s,
 *	               queue_list *out, char *err, size_t errlen);
 *	int queue_parse_line(const char *line, size_t len, queue_list *out);
 *	void queue_list_free(queue_list *q);
 *
 *	void queue_report_init(queue_report *r);
 *	void queue_group(queue_list *q, const char *(*account_of)(void *ctx, const char *queue_id),
 *	                 void *ctx, int (*is_local_domain)(void *ctx, const char *domain),
 *	                 queue_report *r);
 *	void queue_report_json(const queue_report *r, hj_buf *out);
 *	void queue_report_text(const queue_report *r, hj_buf *out);
 *	void queue_report_free(queue_report *r);
 *
 *	int queue_id_ok(const char *id);
 *	void queue_match(const queue_list *q, const char *account,
 *	                 void (*owner_of)(void *ctx, const char *queue_id, queue_owner *o),
 *	                 void *ctx, unsigned flags, queue_picks *out);
 *	void queue_picks_kept(const queue_picks *p, hj_buf *out);
 *	void queue_picks_free(queue_picks *p);
 *	int queue_purge(const char *postsuper_path, const char *config_dir, int timeout_s,
 *	                const char *const *ids, size_t n, char *err, size_t errlen);
 *	int queue_release(const char *postsuper_path, const char *config_dir, int timeout_s,
 *	                  const char *const *ids, size_t n, char *err, size_t errlen);
 *	int queue_sendmail(const char *sendmail_path, const char *config_dir, int timeout_s,
 *	                   const char *from, const char *rcpt, const char *msg, size_t len,
 *	                   char *err, size_t errlen);
 *
 * DESCRIPTION
 *	queue_read() runs "postqueue [-c config_dir] -j" (fork + execv, no
 *	shell; stdin is /dev/null) and parses its output, one JSON object per
 *	queued message, with queue_parse_line(). *out needs no initialising
 *	(what it held is not freed). It returns 0, or -1 with a message in err
 *	when postqueue cannot be run, exits with a status other than 0 or is
 *	killed, e.g. "/usr/sbin/postqueue -c /x -j: exit 69: postqueue: fatal:
 *	open /x/main.cf: No such file or directory" (the first "fatal:" line
 *	of its stderr, else the first line). Messages read before a failure
 *	stay in *out; the caller frees *out either way.
 *
 *	queue_parse_line() parses one line of that output and appends the
 *	message to out. It returns 1 (a message was added), 0 (a blank line,
 *	ignored) or -1 (malformed: not a JSON object, invalid JSON or UTF-8,
 *	a missing or mistyped queue_id, sender or recipients[].address, a
 *	queue_id that is not a Postfix queue ID, or a mistyped optional
 *	field). A malformed line is counted in out->bad_lines and adds
 *	nothing. Optional fields default to: queue_name "", arrival_time -1
 *	(unknown), message_size 0, forced_expire 0, delay_reason NULL.
 *	Postfix shows the null sender as "MAILER-DAEMON"; it is kept as is.
 *
 *	queue_group() groups the messages of q by SASL account when
 *	account_of (may be NULL) returns one for the queue ID (a non-empty
 *	string, copied), otherwise by envelope sender; an account and a
 *	sender of the same spelling are different groups. A group is
 *	  authenticated  it has an account;
 *	  relay          no account, the sender has a domain that is not local,
 *	                 and every recipient has a domain that is not local;
 *	  unknown        anything else: a local sender or recipient, a sender
 *	                 without a domain, a bounce ("MAILER-DAEMON" or "").
 *	is_local_domain (may be NULL: nothing is local) gets the part after
 *	the last '@' as written (it should compare case-insensitively).
 *	Groups are sorted by recipients, then messages (both descending), then
 *	name; queue IDs inside a group by name. A group dominates when it holds
 *	more than r->dominant_pct percent of the queued recipients and at
 *	least r->dominant_min_rcpts of them; the verdict comes from the first
 *	(largest) dominant group: QUEUE_STOLEN_ACCOUNT if it is authenticated,
 *	QUEUE_OPEN_RELAY if it is relay, otherwise QUEUE_VERDICT_NONE. r must
 *	come from queue_report_init() (defaults 50 % and 20 recipients,
 *	which the caller may change before the call) and holds no groups yet.
 *	The report copies what it keeps: q may be freed afterwards.
 *
 *	queue_report_json() appends one JSON object (no newline):
 *	{"messages":N,"recipients":N,"bad_lines":N,"groups":[{"account":"..."|null,
 *	"sender":"...","kind":"authenticated|relay|unknown","messages":N,"recipients":N,
 *	"bytes":N,"oldest":"RFC 3339 UTC"|null,"dominant":true|false,"queue_ids":[...],
 *	"sample_recipients":[...],"delay_reasons":[...]}],"verdict":"stolen account|open
 *	relay|none"}. queue_report_text() appends a table for people (control
 *	characters in names shown as '?'), the dominant group's sample
 *	recipients and delay reasons, and a one-line verdict.
 *
 *	queue_id_ok() is 1 for a Postfix queue ID: short (5 hex digits of
 *	microseconds then the inode in hex, upper case: 4B1C31002A3) or long
 *	(enable_long_queue_ids: at least 10 characters of time, 'z', the inode;
 *	Postfix's 52-character alphabet without vowels: 4XnZ1k3XyFz9sQ).
 *
 *	queue_match() picks what a purge of account may delete: only what is
 *	provably the account's. The queue-ID map is also fed by log lines,
 *	which any local user can forge ("logger -t postfix/smtpd ..."), so a
 *	mapping alone proves nothing; the envelope sender postqueue shows is
 *	the second key. owner_of (may be NULL) fills *o for a queue ID (o is
 *	zeroed first): the account hijackd mapped it to, and, only when the
 *	policy service made that mapping, the sender its request gave. Each
 *	message of q is matched by the first rule that fits:
 *	  QUEUE_R_ACCOUNT_SENDER  "account+sender": mapped to account, and the
 *	                          sender is the account itself;
 *	  QUEUE_R_POLICY_SENDER   "account+policy-sender": mapped to account
 *	                          by the policy service, and the sender is the
 *	                          one that request gave;
 *	  QUEUE_R_SENDER_DIFFERS  "mapped, sender differs": mapped to account,
 *	                          any other sender: never deleted;
 *	  QUEUE_R_SENDER_ONLY     "sender-only": the sender is the account but
 *	                          the message is not mapped to it (unknown, or
 *	                          mapped to another account): deleted only
 *	                          with QUEUE_BY_SENDER in flags;
 *	other messages are not the account's and are not listed; with
 *	QUEUE_HELD in flags, nor are those outside the hold queue (queue_name
 *	"hold": for a release). Without it every queue counts, the hold queue
 *	too: a purge deletes held messages as well. Senders
 *	compare as Postfix does: the local part exactly, the domain (after
 *	the last '@') case-insensitively. out->v lists the matched messages
 *	sorted by queue ID, each with its rule and whether it is to be
 *	deleted; out->ids (into out->v) the queue IDs to delete, in the same
 *	order, for queue_purge(); out->rcpts their recipients; out->count[rule]
 *	the messages per rule. out needs no initialising.
 *	queue_rule_name() is the rule's name above. queue_picks_kept() appends
 *	what is kept, for a log line or a person: "3 kept: mapped, sender
 *	differs; 1 kept: sender-only", or nothing.
 *
 *	queue_purge() deletes messages: "postsuper [-c config_dir] -d -" with
 *	the IDs on its stdin, one per line. Every ID is checked with
 *	queue_id_ok() first: one bad ID refuses the whole call and nothing
 *	runs. n == 0 runs nothing. Returns 0, or -1 with a message in err.
 *	IDs no longer queued are not an error (postsuper skips them).
 *	queue_release() is the same with "postsuper -H -": it releases held
 *	messages (from the hold queue into the deferred queue, which Postfix
 *	then delivers); an ID not on hold is skipped by postsuper.
 *
 *	queue_sendmail() hands a whole message (headers, blank line, body) to
 *	"sendmail [-C config_dir] -i -f from -- rcpt" on its stdin: the one
 *	recipient is an argument after "--", never read from the message's
 *	headers (no -t: a ',' or <...> in a To: adds no recipient). The
 *	caller checks rcpt is one address. Returns 0 once sendmail exited 0
 *	(the mail is in Postfix's queue), or -1 with a message in err.
 *
 *	The runners wait for their child with waitpid(): the caller must not
 *	ignore SIGCHLD. They block until the child ends, or timeout_s seconds
 *	(> 0): then the child is killed (SIGKILL) and the call fails with
 *	"PATH: no answer in N s (killed)". Between
 *	fork and exec the child makes only async-signal-safe calls, and the
 *	module has no global state: callers may have threads. Allocation
 *	failure is fatal.
 */
#ifndef HJ_QUEUE_H
#define HJ_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "../util/buf.h"

#define QUEUE_SAMPLE_MAX 5          /* sample recipients and delay reasons kept per group */
#define QUEUE_DOMINANT_PCT 50       /* default: more than half of the queued recipients */
#define QUEUE_DOMINANT_MIN_RCPTS 20 /* default: and at least this many */

typedef struct queue_rcpt {
    char *address;
    char *delay_reason; /* NULL: none given */
} queue_rcpt;

typedef struct queue_msg {
    char *queue_name; /* "deferred", "active", "hold", ...; "" if absent */
    char *queue_id;
    int64_t arrival_time; /* seconds since the epoch; -1 unknown */
    int64_t message_size;
    int forced_expire;
    char *sender;
    queue_rcpt *rcpts;
    size_t nrcpts;
} queue_msg;

typedef struct queue_list {
    queue_msg *msgs;
    size_t n, cap;
    size_t bad_lines;
} queue_list;

#define QUEUE_LIST_INIT                                                                            \
    {                                                                                              \
        NULL, 0, 0, 0                                                                              \
    }

typedef enum queue_kind { QUEUE_AUTHENTICATED, QUEUE_RELAY, QUEUE_UNKNOWN } queue_kind;

typedef enum queue_verdict {
    QUEUE_VERDICT_NONE,
    QUEUE_STOLEN_ACCOUNT,
    QUEUE_OPEN_RELAY
} queue_verdict;

typedef struct queue_origin { /* one group: an account, or a sender */
    char *account;            /* NULL: grouped by sender */
    char *sender;             /* the sender of the group's first message */
    queue_kind kind;
    size_t messages, recipients;
    size_t local_rcpts; /* recipients in a local domain or without one */
    uint64_t bytes;
    int64_t oldest; /* earliest arrival_time; -1 unknown */
    int dominant;
    char **ids;
    size_t nids;
    char *sample[QUEUE_SAMPLE_MAX]; /* first distinct recipients */
    size_t nsample;
    char *reasons[QUEUE_SAMPLE_MAX]; /* first distinct delay reasons */
    size_t nreasons;
} queue_origin;

/* what hijackd's queue-ID map says of one queue ID (queue_match) */
typedef struct queue_owner {
    const char *account;       /* NULL: not mapped */
    const char *policy_sender; /* NULL: not mapped by the policy service, or no sender known */
} queue_owner;

typedef enum queue_rule {
    QUEUE_R_ACCOUNT_SENDER, /* "account+sender" */
    QUEUE_R_POLICY_SENDER,  /* "account+policy-sender" */
    QUEUE_R_SENDER_ONLY,    /* "sender-only": with QUEUE_BY_SENDER only */
    QUEUE_R_SENDER_DIFFERS, /* "mapped, sender differs": kept */
    QUEUE_R__COUNT
} queue_rule;

#define QUEUE_BY_SENDER 1u /* queue_match: sender-only messages are deleted too */
#define QUEUE_HELD 2u      /* queue_match: only messages in the hold queue (a release) */

typedef struct queue_pick { /* one matched message */
    char *queue_id, *sender;
    size_t nrcpts;
    queue_rule rule;
    int del; /* to be deleted */
} queue_pick;

typedef struct queue_picks {
    queue_pick *v;
    size_t n;
    const char **ids; /* the queue IDs to delete (into v) */
    size_t nids, rcpts;
    size_t count[QUEUE_R__COUNT];
} queue_picks;

typedef struct queue_report {
    unsigned dominant_pct; /* thresholds, set before queue_group() */
    size_t dominant_min_rcpts;
    size_t messages, recipients, bad_lines;
    queue_origin *groups;
    size_t ngroups;
    queue_verdict verdict;
    const queue_origin *culprit; /* the group behind the verdict, NULL if none */
} queue_report;

int queue_read(const char *postqueue_path, const char *config_dir, int timeout_s,
               queue_list *out, char *err, size_t errlen);
int queue_parse_line(const char *line, size_t len, queue_list *out);
void queue_list_free(queue_list *q);

void queue_report_init(queue_report *r);
void queue_group(queue_list *q, const char *(*account_of)(void *ctx, const char *queue_id),
                 void *ctx, int (*is_local_domain)(void *ctx, const char *domain), queue_report *r);
void queue_report_json(const queue_report *r, hj_buf *out);
void queue_report_text(const queue_report *r, hj_buf *out);
void queue_report_free(queue_report *r);
const char *queue_kind_name(queue_kind k);
const char *queue_verdict_name(queue_verdict v);

int queue_id_ok(const char *id);
void queue_match(const queue_list *q, const char *account,
                 void (*owner_of)(void *ctx, const char *queue_id, queue_owner *o), void *ctx,
                 unsigned flags, queue_picks *out);
const char *queue_rule_name(queue_rule r);
void queue_picks_kept(const queue_picks *p, hj_buf *out);
void queue_picks_free(queue_picks *p);
int queue_purge(const char *postsuper_path, const char *config_dir, int timeout_s,
                const char *const *ids, size_t n, char *err, size_t errlen);
int queue_release(const char *postsuper_path, const char *config_dir, int timeout_s,
                  const char *const *ids, size_t n, char *err, size_t errlen);
int queue_sendmail(const char *sendmail_path, const char *config_dir, int timeout_s,
                   const char *from, const char *rcpt, const char *msg, size_t len, char *err,
                   size_t errlen);

#endif
