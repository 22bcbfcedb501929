/*
 * core - the one judge every front end asks: engine, store, persistence, reload, manual changes
 *
 * SYNOPSIS
 *	core *core_open(hj_conf *conf, char *err, size_t errlen);
 *	void core_judge(core *C, const core_msg *m, int64_t now, core_verdict *v);
 *	void core_event(core *C, const hj_event *ev);
 *	void core_spam_verdict(core *C, const core_spam *s, int64_t now, core_verdict *v);
 *	int core_lock(core *C, const char *account, const char *actor, const char *reason);
 *	int core_unlock(core *C, const char *account, const char *actor, const char *reason);
 *	int core_reload(core *C, hj_conf *nc, unsigned *changed);
 *	void core_tick(core *C, int64_t now);
 *	size_t core_flush_step(core *C, size_t max);
 *	void core_flush(core *C);
 *	void core_close(core *C);
 *
 * DESCRIPTION
 *	The core owns the running configuration, the engine, the store and
 *	what joins them: every decision is logged, written to the store
 *	(audit trail, lock table) and handed to the observers (incidents,
 *	the queue purge) before the call that made it returns; the counters
 *	are written to the store in batches, restored at start and carried
 *	over a reload. It knows no protocol: a front end (the Postfix policy
 *	service, the log follower; a milter or Dovecot's auth policy next)
 *	turns what it received into a core_msg or an hj_event, and the
 *	core_verdict it gets back into its own protocol's answer.
 *
 *	core_judge() answers one message or recipient of an account: the
 *	verdict is returned by the call that made it (no side channel), so
 *	two front ends, or a worker handing results back to the loop, never
 *	see each other's answers. m->count says whether this request is the
 *	one that counts (Postfix: the END-OF-MESSAGE or RCPT stage); when 0,
 *	the account's state is only read. A message is counted once per
 *	queue ID, by the first front end that counts it (the policy service
 *	at END-OF-MESSAGE, then the milter at its end of message, see the
 *	same one): a later request with that queue ID only reads the state
 *	(per-recipient counting, m->per_rcpt, is not joined this way).
 *
 *	Verdicts: CORE_OK (nothing against it), CORE_WARN (a warn decision
 *	was made by this request: the message goes), CORE_DEFER (throttled:
 *	try later), CORE_HOLD (held by an action=hold rule: accept the message
 *	but put it on hold for review), CORE_REJECT (locked), CORE_FAIL (the
 *	store failed while recording a decision of this request: answer with
 *	the configured store_error_action; the engine's state has changed all
 *	the same). A held account's messages are counted as an OK account's
 *	are (a lock can still come: then REJECT). A REJECT, DEFER or HOLD
 *	carries the text of reject_text/defer_text/hold_text with its
 *	placeholders expanded, the rule ("manual" for an admin's lock) and the
 *	times; a verdict decided by this request also carries the decision's
 *	JSON as its evidence.
 *
 *	core_spam_verdict() takes an anti-spam engine's verdict on a message
 *	an account sent (the milter's scan, rspamd's metadata exporter): a
 *	spam or suspect verdict is an HJ_EV_SPAM event for the account, counted
 *	by the spam and spam_suspect rules once per queue ID whichever source
 *	reports it (a second verdict on a queue ID is only logged); clean and
 *	unscanned verdicts are logged and counted in the stats only. Each
 *	verdict is one log line "spam verdict {JSON}" (account, queue_id,
 *	class, score, threshold, service, symbols). The core_verdict says what
 *	the account's state is now (a rule of this verdict may have locked it)
 *	with the same texts as core_judge(); the message in hand has already
 *	been counted by its own submission. A score that is not a finite number
 *	is taken as 0.
 *
 *	core_lock() and core_unlock() change an account for an admin
 *	(actor "uid 0", "api", "reply from ..."): 0, -1 when there is
 *	nothing to do (already locked, not locked), -2 on a store error (the
 *	change is made in memory but may not survive a restart).
 *	core_account_of() looks a queue ID up: the account, or NULL when
 *	hijackd has not seen it (the map is in memory only and bounded).
 *	The map is filled by core_judge() for the messages it counts, and by
 *	core_note_queue_id() for what a log says; a log's entry never
 *	replaces one of core_judge() (a forged log line must not hand a
 *	message to another account, whose purge would then delete it).
 *	core_queue_sender() is the sender the policy request gave for a
 *	queue ID core_judge() mapped, or NULL (the log's mapping, no sender
 *	known, or not seen): the purge's second key (queue.h: queue_match).
 *
 *	core_reload() takes a configuration loaded by the caller: on 0 it
 *	owns and runs it, and *changed has CONF_F_NOTIFY set when a setting
 *	the notification workers copy changed (the caller reopens them). The
 *	settings flagged CONF_F_RESTART in the table keep their running
 *	values, each change logged. On -1 it has freed nc and the old one
 *	stays.
 *
 *	Counters. core_flush_step() notes the entities changed since the
 *	last flush (when none are left from the one in progress) and writes
 *	at most max of them (0: all) in one store batch; it returns how many
 *	are left, for the caller's next turn of its loop, so that a flush of
 *	many accounts never holds the loop for long. core_flush() finishes
 *	the flush in progress and writes everything changed since (reload,
 *	stop). A batch the store refused to begin stays noted and is tried
 *	again; one whose commit failed is lost, and those entities are
 *	written again when they next change (logged once until a flush
 *	succeeds).
 *
 *	core_tick() makes the engine's timed changes (automatic unlocks) and
 *	deletes audit entries older than audit_keep: at most
 *	CORE_TRIM_BATCHES store calls of CORE_TRIM_BATCH entries each
 *	(core.c: 4 x 500), fewer once a call deletes less than a batch, so
 *	that a tick never holds the loop for long and a backlog (a new
 *	audit_keep, a long stop) goes over the next ticks. A failing trim is
 *	logged once until one succeeds; stats.audit_trimmed counts the
 *	deleted entries.
 *
 *	Single-threaded: every call from the daemon's loop. Memory failure
 *	is fatal; a store failure is logged and answered, never fatal.
 */
#ifndef HJ_CORE_H
#define HJ_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "../conf/conf.h"
#include "../engine/engine.h"
#include "../store/store.h"

typedef struct core core;

typedef enum core_kind {
    CORE_OK,
    CORE_WARN,
    CORE_DEFER,
    CORE_HOLD, /* held (action=hold): accept the message and put it on hold */
    CORE_REJECT,
    CORE_FAIL,
    CORE_KIND__COUNT
} core_kind;

typedef enum core_spam_class {
    CORE_SPAM_CLEAN,
    CORE_SPAM_SUSPECT,
    CORE_SPAM_SPAM,
    CORE_SPAM_UNSCANNED,
    CORE_SPAM__COUNT
} core_spam_class;

/* an anti-spam engine's verdict on one message of an account; strings borrowed, NULL = unknown */
typedef struct core_spam {
    const char *account, *queue_id, *client_ip, *sender;
    const char *service; /* "milter", "rspamd" (its exporter): the decision's evidence */
    core_spam_class cls;
    double score, threshold; /* the engine's, as it reported them */
    const char *symbols;     /* "NAME(score) ...", the rules that fired */
    const char *subject;     /* the message's Subject:, for the prompt and the alert */
} core_spam;

/* one message (or one recipient) of an account, as a front end saw it; strings borrowed */
typedef struct core_msg {
    const char *account;
    const char *client_ip, *client_name, *helo;
    const char *sender; /* NULL: unknown; "": the null sender */
    const char *queue_id;
    const char *recipient; /* evidence for incidents; NULL or "" when unknown */
    const char *service;   /* "policy", "milter", ... (the decision's evidence) */
    const char *txn;       /* a transaction's id: recipients of one message share it */
    int64_t nrcpt, size;
    int count;    /* 1: count and judge this request; 0: only read the account's state */
    int per_rcpt; /* count one recipient per request, one message per txn */
} core_msg;

#define CORE_TEXT_MAX 1024 /* a longer expansion is cut at a character boundary */
#define CORE_EVIDENCE_MAX 4096

typedef struct core_verdict {
    core_kind kind;
    char rule[64];   /* of the lock, hold or throttle in force: a rule's name, "manual"; "" */
    int64_t since, until;
    int decided;                       /* this request made the decision */
    char text[CORE_TEXT_MAX];          /* REJECT, DEFER, HOLD: the reply text */
    char evidence[CORE_EVIDENCE_MAX];  /* decided: the decision's JSON ("" if it did not fit) */
} core_verdict;

/* observers of every decision and of every judged request (incidents, the queue purge) */
typedef struct core_observer {
    void (*decision)(void *ctx, const hj_decision *d, const char *json);
    void (*request)(void *ctx, const core_msg *m); /* may be NULL */
    void *ctx;
} core_observer;

/* what /metrics reports about the core */
#define CORE_STORE_BUCKETS 10
typedef struct core_stats {
    int64_t verdicts[CORE_KIND__COUNT];
    int64_t store_n, store_bucket[CORE_STORE_BUCKETS];
    double store_sum;
    int64_t audit_trimmed; /* audit entries deleted for audit_keep */
    int64_t spam[CORE_SPAM__COUNT]; /* content verdicts by class (core_spam_verdict) */
    int64_t spam_repeated;          /* ... on a queue ID that had one: logged, not counted */
} core_stats;
extern const double core_store_buckets[CORE_STORE_BUCKETS]; /* seconds, upper bounds */

core *core_open(hj_conf *conf, char *err, size_t errlen);
void core_observe(core *C, const core_observer *o);
void core_judge(core *C, const core_msg *m, int64_t now, core_verdict *v);
void core_event(core *C, const hj_event *ev);
void core_spam_verdict(core *C, const core_spam *s, int64_t now, core_verdict *v);
const char *core_spam_class_name(core_spam_class c);
int core_lock(core *C, const char *account, const char *actor, const char *reason);
int core_unlock(core *C, const char *account, const char *actor, const char *reason);
int core_reload(core *C, hj_conf *nc, unsigned *changed);
void core_tick(core *C, int64_t now);
size_t core_flush_step(core *C, size_t max);
void core_flush(core *C);
void core_note_queue_id(core *C, const char *queue_id, const char *account);
const char *core_account_of(core *C, const char *queue_id);
const char *core_queue_sender(core *C, const char *queue_id);
void core_queue_ids(core *C, const char *account, void (*fn)(void *ctx, const char *qid),
                    void *ctx);
const hj_conf *core_conf(const core *C);
hj_engine *core_engine(core *C); /* for the admin's reads (inspect, top) */
hj_store *core_store(core *C);   /* for the admin's reads (audit trail) */
const char *core_host(const core *C);
const core_stats *core_get_stats(const core *C);
void core_decisions(core *C, void (*fn)(void *ctx, const char *rule, const char *action,
                                              int64_t n), void *ctx);
const char *core_kind_name(core_kind k);
int32_t core_tzoff(int64_t t); /* this machine's offset east of UTC at t */
void core_close(core *C);

#endif
