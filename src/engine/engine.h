/*
 * engine - the detection engine: events in, decisions out
 *
 * SYNOPSIS
 *	hj_engine *engine_new(const hj_policy *pol, hj_decision_fn fn, void *ctx);
 *	size_t engine_entities(const hj_engine *e, hj_scope s);
 *	void engine_event(hj_engine *e, const hj_event *ev);
 *	void engine_tick(hj_engine *e, int64_t now);
 *	hj_state engine_state(hj_engine *e, const char *account, int64_t now, hj_lockinfo *info);
 *	int engine_lock(hj_engine *e, const char *account, int64_t t, int32_t tzoff, int64_t until,
                const char *reason, bool announce);
int engine_unlock(hj_engine *e, const char *account, int64_t t, int32_t tzoff, const char
 **reason); void engine_accounts(hj_engine *e, void (*fn)(void *, const char *, const hj_totals *),
 *void *ctx); void engine_free(hj_engine *e);
 *
 * DESCRIPTION
 *	A library with no sockets, no logging, no global state and no clock:
 *	time comes with each event (and with engine_tick()), so the same code
 *	decides live and in replay, and tests drive it with made-up times.
 *	The engine keeps, per entity (account, domain, client IP or the whole
 *	server, as the rules' scopes need), one sliding counter per distinct
 *	(metric, window, IP class) of the policy, the current lock, hold and
 *	throttle, and a few recent client IPs as evidence. Each decision is
 *	passed to fn(ctx, decision) before engine_event() returns.
 *
 *	Memory per active account: about 300 bytes plus, per counter in use,
 *	at most 16 KiB (a sum window, see window.h) or distinct_max x 16 bytes
 *	(a distinct set, see dset.h); counters and sets are freed when idle
 *	for the longest rule window, and non-account entities are forgotten
 *	then (engine_tick() sweeps every 10 minutes of event time). Account
 *	entities keep their totals (about 300 bytes) for the report.
 *
 *	Actions. A lock stops everything; a rule with action=hold makes the
 *	account HELD until the rule's hold= (its mail is accepted and put on
 *	hold by the front ends; it still counts, so a lock can still come, and
 *	no throttle fires while it lasts; a second hold fires only after the
 *	first ends); a throttle makes it THROTTLED (its mail is deferred, not
 *	counted). engine_state() answers lock, then hold, then throttle. A
 *	hold is not in the snapshot (snapshot.c): a restart ends it, as holds
 *	are short; the messages already held stay in the MTA's hold queue.
 *
 *	engine_lock() locks an account from outside the rules: a lock restored
 *	from the store at start-up (announce false: no decision is emitted) or
 *	an admin's (announce true: a "lock" decision without a rule). It and
 *	engine_unlock() return -1 when there is nothing to do.
 *
 *	engine_unlock() (and an automatic unlock) also clears the counters of
 *	the account, so the evidence that locked it does not lock it again at
 *	its next message; a hijacker who keeps sending is caught afresh.
 *
 *	engine_changed(), engine_export() and engine_import() (snapshot.c) let
 *	a program keep the sliding counters across restarts: it writes the
 *	entities changed since the last call to a store, and reads them back
 *	into a new engine.
 *
 *	Not thread-safe: one engine per thread, or a lock around it. The
 *	policy must outlive the engine. Memory failure is fatal.
 */
#ifndef HJ_ENGINE_H
#define HJ_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "../util/buf.h"
#include "decision.h"
#include "event.h"
#include "policy.h"

typedef struct hj_engine hj_engine;
typedef void (*hj_decision_fn)(void *ctx, const hj_decision *d);

/* HELD: a hold rule fired: the account's mail is accepted and held (lock > hold > throttle) */
typedef enum hj_state { HJ_ST_OK, HJ_ST_THROTTLED, HJ_ST_LOCKED, HJ_ST_HELD } hj_state;

typedef struct hj_lockinfo {
    const hj_rule *rule; /* NULL for a manual lock */
    int64_t since;
    int64_t until; /* throttle or hold end, or automatic unlock, 0 = none */
} hj_lockinfo;

typedef struct hj_totals {
    int64_t messages, recipients, bytes;
    int64_t logins, failed_logins, bounces, deliveries;
    int64_t first_seen, last_seen;
    hj_state state;
} hj_totals;

typedef struct hj_engine_stats {
    int64_t events[HJ_EV__COUNT];
    int64_t never_counted; /* postmaster, MAILER-DAEMON, null sender */
    int64_t exempt;        /* events of exempt accounts */
    int64_t decisions[HJ_A__COUNT];
    int64_t entities; /* live entities, all scopes */
    int64_t unproven; /* of which accounts known only from failed logins (capped) */
    int64_t unproven_refused; /* failed logins of new names at the cap: counted per client only */
    int64_t evicted[HJ_S__COUNT]; /* entities dropped at their scope's cap, least recent first */
    int64_t refused[HJ_S__COUNT]; /* entities not made at the cap: none could be dropped */
    int64_t forgotten;            /* accounts idle past account_forget_after, forgotten */
} hj_engine_stats;

/* what the engine knows about one account (inspect.c) */
typedef struct hj_account_info {
    hj_state state;
    hj_lockinfo lock; /* of the lock, hold or throttle in force */
    hj_totals tot;
    int32_t tzoff;
    hj_addr ips[4]; /* recent distinct client IPs */
    int nips;
    uint32_t networks;  /* networks it has used (novelty) */
    int64_t hour_start; /* epoch of the first hour in hours[] */
    uint32_t hours[192];
    int nhours;                /* recipients per hour, oldest first */
    uint32_t clients, domains; /* learned HELO/SASL/Message-ID styles; recipient domains */
    uint32_t msgs;             /* messages in its learned history */
    uint32_t novel_pct, unknown_pct, freemail_pct; /* its usual shares */
} hj_account_info;

int engine_account(hj_engine *e, const char *account, int64_t now, hj_account_info *out);
typedef struct hj_account_counts {
    int64_t accounts, locked, throttled, held;
} hj_account_counts;
void engine_counts(hj_engine *e, int64_t now, hj_account_counts *out);
void engine_account_rules(hj_engine *e, const char *account, int64_t now,
                          void (*fn)(void *ctx, const hj_rule *r, int64_t count, int64_t limit),
                          void *ctx);

hj_engine *engine_new(const hj_policy *pol, hj_decision_fn fn, void *ctx);
/* the live entities of scope s */
size_t engine_entities(const hj_engine *e, hj_scope s);
void engine_event(hj_engine *e, const hj_event *ev);
void engine_tick(hj_engine *e, int64_t now);
hj_state engine_state(hj_engine *e, const char *account, int64_t now, hj_lockinfo *info);
int engine_lock(hj_engine *e, const char *account, int64_t t, int32_t tzoff, int64_t until,
                const char *reason, bool announce);
int engine_unlock(hj_engine *e, const char *account, int64_t t, int32_t tzoff, const char *reason);
void engine_accounts(hj_engine *e, void (*fn)(void *, const char *, const hj_totals *), void *ctx);
/* the names known only from failed logins (failed_login_names_max of them at most): not
 * accounts, never stored; replay's report lists them */
void engine_failed_names(hj_engine *e, void (*fn)(void *, const char *, const hj_totals *),
                         void *ctx);
const hj_engine_stats *engine_stats(const hj_engine *e);

/* counters that survive a restart (snapshot.c): keys "a:account", "d:", "i:", "g:" */
void engine_changed(hj_engine *e, void (*fn)(void *ctx, const char *key, int gone), void *ctx,
                    int all);
int engine_export(hj_engine *e, const char *key, hj_buf *out);
int engine_import(hj_engine *e, const char *key, const void *blob, size_t len, int64_t now);
void engine_free(hj_engine *e);

#endif
