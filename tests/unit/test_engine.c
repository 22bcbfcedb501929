/*
 * test_engine - unit tests for the detection engine (engine.h, decision.h)
 *
 * The engine is driven with made-up times (T0 + n seconds) and its
 * decisions are copied into an array by the callback, together with their
 * JSON and text forms; every JSON line is checked for validity and for the
 * "ts", "account", "action", "rule" prefix. Most behaviour is written as
 * scenarios: a configuration, a list of steps and the decisions expected.
 */
#include "engine_fixture.h"

/* ---- scenarios ---- */

enum { S_END, S_SUB, S_LOGIN, S_FAIL, S_BOUNCE, S_SENT, S_RELAY, S_TICK, S_STATE, S_UNLOCK };

typedef struct step {
    int k;
    int64_t t; /* seconds after T0 */
    const char *acct;
    const char *ip;
    int64_t n;  /* SUB: recipients; STATE: the hj_state; UNLOCK: the return value */
    int rep;    /* repeat this many times (0 = once), */
    int64_t dt; /* dt seconds apart */
} step;

typedef struct want {
    int64_t t; /* seconds after T0 */
    hj_action a;
    hj_scope s;
    const char *entity; /* NULL ends the list */
    const char *rule;   /* NULL: no rule (unlock) */
    int64_t count, limit;
    int64_t until;      /* seconds after T0, 0 = none */
    const char *reason; /* checked when set */
} want;

typedef struct scenario {
    const char *name;
    const char *conf;
    step steps[16];
    want wants[10];
} scenario;

static const scenario scenarios[] = {
    {"MDaemon: a 10-recipient message counts 10, lock at 501, fires once",
     MD,
     {{S_SUB, 0, A, IPX, 10, 50, 1}, /* 500 recipients: at the limit, not over it */
      {S_STATE, 50, A, NULL, HJ_ST_OK, 0, 0},
      {S_SUB, 60, A, IPX, 1, 0, 0},
      {S_SUB, 61, A, IPX, 10, 20, 1},
      {S_STATE, 100, A, NULL, HJ_ST_LOCKED, 0, 0},
      {S_TICK, 100000, NULL, NULL, 0, 0, 0},
      {S_STATE, 100000, A, NULL, HJ_ST_LOCKED, 0, 0}, /* no unlock_after: stays locked */
      {S_STATE, 100000, B, NULL, HJ_ST_OK, 0, 0}},
     {{60, HJ_A_LOCK, HJ_S_ACCOUNT, A, "md", 501, 500, 0, NULL}}},
    {"MDaemon: one message to 501 recipients",
     MD,
     {{S_SUB, 0, A, IPX, 501, 0, 0}, {S_SUB, 1, B, IPX, 500, 0, 0}},
     {{0, HJ_A_LOCK, HJ_S_ACCOUNT, A, "md", 501, 500, 0, NULL}}},
    {"sliding, not resetting: 300 before and 201 after the half hour",
     MD,
     {{S_SUB, 1700, A, IPX, 300, 0, 0}, {S_SUB, 1900, A, IPX, 201, 0, 0}},
     {{1900, HJ_A_LOCK, HJ_S_ACCOUNT, A, "md", 501, 500, 0, NULL}}},
    {"sliding: the first batch still counts at 1799s",
     MD,
     {{S_SUB, 0, A, IPX, 300, 0, 0},
      {S_SUB, 1000, A, IPX, 200, 0, 0},
      {S_SUB, 1799, A, IPX, 1, 0, 0}},
     {{1799, HJ_A_LOCK, HJ_S_ACCOUNT, A, "md", 501, 500, 0, NULL}}},
    {"sliding: the first batch has left at 1800s",
     MD,
     {{S_SUB, 0, A, IPX, 300, 0, 0},
      {S_SUB, 1000, A, IPX, 200, 0, 0},
      {S_SUB, 1800, A, IPX, 1, 0, 0},
      {S_SUB, 1801, A, IPX, 300, 0, 0}},
     {{1801, HJ_A_LOCK, HJ_S_ACCOUNT, A, "md", 501, 500, 0, NULL}}},
    {"throttle re-fires only after it expires",
     "rule thr metric=messages window=10m limit=5 action=throttle throttle=15m\n",
     {{S_SUB, 0, A, IPX, 1, 20, 60}, /* one a minute, 0..1140 */
      {S_STATE, 1199, A, NULL, HJ_ST_THROTTLED, 0, 0},
      {S_SUB, 1200, A, IPX, 1, 0, 0},
      {S_STATE, 2099, A, NULL, HJ_ST_THROTTLED, 0, 0},
      {S_STATE, 2100, A, NULL, HJ_ST_OK, 0, 0}},
     {{300, HJ_A_THROTTLE, HJ_S_ACCOUNT, A, "thr", 6, 5, 1200, NULL},
      {1200, HJ_A_THROTTLE, HJ_S_ACCOUNT, A, "thr", 10, 5, 2100, NULL}}},
    {"hold: held for hold=, its messages still count, it fires again only after it ends",
     "rule h metric=messages window=1h limit=2 action=hold hold=10m\n",
     {{S_SUB, 0, A, IPX, 1, 3, 1}, /* 0, 1, 2: the third is over the limit */
      {S_STATE, 100, A, NULL, HJ_ST_HELD, 0, 0},
      {S_SUB, 101, A, IPX, 1, 0, 0}, /* counted (4), no second hold while the first lasts */
      {S_STATE, 601, A, NULL, HJ_ST_HELD, 0, 0},
      {S_STATE, 602, A, NULL, HJ_ST_OK, 0, 0},
      {S_STATE, 602, B, NULL, HJ_ST_OK, 0, 0},
      {S_SUB, 700, A, IPX, 1, 0, 0}}, /* the fifth message: held again */
     {{2, HJ_A_HOLD, HJ_S_ACCOUNT, A, "h", 3, 2, 602, NULL},
      {700, HJ_A_HOLD, HJ_S_ACCOUNT, A, "h", 5, 2, 1300, NULL}}},
    {"lock beats hold beats throttle: a hold stops the throttle, a held account can be locked",
     "rule t metric=messages window=10m limit=2 action=throttle throttle=1h\n"
     "rule w metric=messages window=10m limit=2 action=warn\n"
     "rule h metric=messages window=10m limit=2 action=hold hold=1h\n"
     "rule l metric=messages window=10m limit=4 action=lock\n",
     {{S_SUB, 0, A, IPX, 1, 3, 1},
      {S_STATE, 2, A, NULL, HJ_ST_HELD, 0, 0},
      {S_SUB, 3, A, IPX, 1, 2, 1}, /* counted while held: the fifth locks */
      {S_STATE, 5, A, NULL, HJ_ST_LOCKED, 0, 0},
      {S_UNLOCK, 6, A, NULL, 0, 0, 0},
      {S_STATE, 7, A, NULL, HJ_ST_OK, 0, 0}}, /* an unlock ends the hold too */
     {{2, HJ_A_HOLD, HJ_S_ACCOUNT, A, "h", 3, 2, 3602, NULL},
      {2, HJ_A_WARN, HJ_S_ACCOUNT, A, "w", 3, 2, 0, NULL},
      {4, HJ_A_LOCK, HJ_S_ACCOUNT, A, "l", 5, 4, 0, NULL},
      {6, HJ_A_UNLOCK, HJ_S_ACCOUNT, A, NULL, 0, 0, 0, NULL}}},
    {"warn is not repeated within its window",
     "rule w metric=messages window=10m limit=2 action=warn\n",
     {{S_SUB, 0, A, IPX, 1, 10, 1}, {S_SUB, 601, A, IPX, 1, 0, 0}, {S_SUB, 602, A, IPX, 1, 0, 0}},
     {{2, HJ_A_WARN, HJ_S_ACCOUNT, A, "w", 3, 2, 0, NULL},
      {602, HJ_A_WARN, HJ_S_ACCOUNT, A, "w", 9, 2, 0, NULL}}},
    {"a lock suppresses every further action on the account",
     "rule w metric=messages window=10m limit=2 action=warn\n"
     "rule t metric=messages window=10m limit=2 action=throttle throttle=1h\n"
     "rule l metric=messages window=10m limit=3 action=lock\n"
     "rule f metric=failed_logins window=10m limit=0 action=warn\n",
     {{S_SUB, 0, A, IPX, 1, 3, 1},
      {S_SUB, 3, A, IPX, 1, 0, 0},
      {S_SUB, 4, A, IPX, 1, 5, 1},
      {S_FAIL, 10, A, IPX, 0, 0, 0},
      {S_FAIL, 11, B, IPX, 0, 0, 0},
      {S_STATE, 20, A, NULL, HJ_ST_LOCKED, 0, 0}},
     {{2, HJ_A_THROTTLE, HJ_S_ACCOUNT, A, "t", 3, 2, 3602, NULL},
      {2, HJ_A_WARN, HJ_S_ACCOUNT, A, "w", 3, 2, 0, NULL},
      {3, HJ_A_LOCK, HJ_S_ACCOUNT, A, "l", 4, 3, 0, NULL},
      {11, HJ_A_WARN, HJ_S_ACCOUNT, B, "f", 1, 0, 0, NULL}}},
    {"unlock_after: engine_tick unlocks, the account can be locked again",
     "rule md metric=recipients window=30m limit=500 action=lock unlock_after=1h\n",
     {{S_SUB, 0, A, IPX, 501, 0, 0},
      {S_TICK, 3599, NULL, NULL, 0, 0, 0},
      {S_TICK, 3600, NULL, NULL, 0, 0, 0},
      {S_STATE, 3601, A, NULL, HJ_ST_OK, 0, 0},
      {S_SUB, 4000, A, IPX, 501, 0, 0}},
     {{0, HJ_A_LOCK, HJ_S_ACCOUNT, A, "md", 501, 500, 3600, NULL},
      {3600, HJ_A_UNLOCK, HJ_S_ACCOUNT, A, NULL, 0, 0, 0, "automatic unlock"},
      /* locked again within relock_escalate_within (7d) of the automatic unlock: no until */
      {4000, HJ_A_LOCK, HJ_S_ACCOUNT, A, "md", 501, 500, 0, NULL}}},
    {"relock escalation: not after relock_escalate_within, not after an admin's unlock",
     "rule md metric=recipients window=30m limit=500 action=lock unlock_after=1h\n",
     {{S_SUB, 0, A, IPX, 501, 0, 0},
      {S_SUB, 0, B, IPX, 501, 0, 0},
      {S_TICK, 3600, NULL, NULL, 0, 0, 0},
      {S_SUB, 4000, B, IPX, 501, 0, 0}, /* escalated */
      {S_UNLOCK, 5000, B, NULL, 0, 0, 0},
      {S_SUB, 6000, B, IPX, 501, 0, 0},              /* an admin vouched: automatic again */
      {S_SUB, 3600 + 7 * 86400, A, IPX, 501, 0, 0}}, /* a week later: automatic again */
     {{0, HJ_A_LOCK, HJ_S_ACCOUNT, A, "md", 501, 500, 3600, NULL},
      {0, HJ_A_LOCK, HJ_S_ACCOUNT, B, "md", 501, 500, 3600, NULL},
      {3600, HJ_A_UNLOCK, HJ_S_ACCOUNT, A, NULL, 0, 0, 0, "automatic unlock"},
      {3600, HJ_A_UNLOCK, HJ_S_ACCOUNT, B, NULL, 0, 0, 0, "automatic unlock"},
      {4000, HJ_A_LOCK, HJ_S_ACCOUNT, B, "md", 501, 500, 0, NULL},
      {5000, HJ_A_UNLOCK, HJ_S_ACCOUNT, B, NULL, 0, 0, 0, NULL},
      {6000, HJ_A_LOCK, HJ_S_ACCOUNT, B, "md", 501, 500, 9600, NULL},
      {3600 + 7 * 86400, HJ_A_LOCK, HJ_S_ACCOUNT, A, "md", 501, 500, 7200 + 7 * 86400, NULL},
      {9600, HJ_A_UNLOCK, HJ_S_ACCOUNT, B, NULL, 0, 0, 0, "automatic unlock"}}},
    {"unlock_after: the account's next event unlocks it first",
     "rule md metric=recipients window=30m limit=500 action=lock unlock_after=1h\n",
     {{S_SUB, 0, A, IPX, 501, 0, 0},
      {S_SUB, 3599, A, IPX, 1, 0, 0}, /* still locked: nothing */
      {S_SUB, 3700, A, IPX, 1, 0, 0},
      {S_STATE, 3701, A, NULL, HJ_ST_OK, 0, 0}},
     {{0, HJ_A_LOCK, HJ_S_ACCOUNT, A, "md", 501, 500, 3600, NULL},
      {3600, HJ_A_UNLOCK, HJ_S_ACCOUNT, A, NULL, 0, 0, 0, "automatic unlock"}}},
    {"unlock_after: engine_state unlocks",
     "rule md metric=recipients window=30m limit=500 action=lock unlock_after=1h\n",
     {{S_SUB, 0, A, IPX, 501, 0, 0},
      {S_STATE, 3599, A, NULL, HJ_ST_LOCKED, 0, 0},
      {S_STATE, 3700, A, NULL, HJ_ST_OK, 0, 0},
      {S_STATE, 3701, A, NULL, HJ_ST_OK, 0, 0}},
     {{0, HJ_A_LOCK, HJ_S_ACCOUNT, A, "md", 501, 500, 3600, NULL},
      {3600, HJ_A_UNLOCK, HJ_S_ACCOUNT, A, NULL, 0, 0, 0, "automatic unlock"}}},
    {"engine_unlock",
     MD,
     {{S_SUB, 0, A, IPX, 501, 0, 0},
      {S_UNLOCK, 100, A, NULL, 0, 0, 0},
      {S_UNLOCK, 101, A, NULL, -1, 0, 0}, /* not locked any more */
      {S_UNLOCK, 102, "nobody@example.com", NULL, -1, 0, 0},
      {S_STATE, 103, A, NULL, HJ_ST_OK, 0, 0},
      {S_SUB, 2000, A, IPX, 501, 0, 0}},
     {{0, HJ_A_LOCK, HJ_S_ACCOUNT, A, "md", 501, 500, 0, NULL},
      {100, HJ_A_UNLOCK, HJ_S_ACCOUNT, A, NULL, 0, 0, 0, "unlocked by the test"},
      {2000, HJ_A_LOCK, HJ_S_ACCOUNT, A, "md", 501, 500, 0, NULL}}},
    {"scope=ip failed_logins: any accounts, one client address",
     "rule ipf metric=failed_logins window=10m limit=3 action=warn scope=ip\n",
     {{S_FAIL, 0, "a1@example.com", "203.0.113.9", 0, 0, 0},
      {S_FAIL, 1, "a2@example.com", "203.0.113.9", 0, 0, 0},
      {S_FAIL, 2, NULL, "203.0.113.9", 0, 0, 0}, /* account unknown */
      {S_FAIL, 3, "a1@example.com", "198.51.100.4", 0, 0, 0},
      {S_LOGIN, 3, "a1@example.com", "203.0.113.9", 0, 0, 0},
      {S_FAIL, 4, "a4@example.com", "203.0.113.9", 0, 0, 0}},
     {{4, HJ_A_WARN, HJ_S_IP, "203.0.113.9", "ipf", 4, 3, 0, NULL}}},
    {"scope=global relay rule: action relay, account \"\"",
     "rule relay metric=relay_recipients window=1h limit=2 action=relay scope=global\n",
     {{S_SUB, 0, A, IPX, 100, 0, 0}, /* submissions are not relaying */
      {S_RELAY, 0, NULL, "192.0.2.1", 0, 0, 0},
      {S_RELAY, 10, NULL, "192.0.2.2", 0, 0, 0},
      {S_RELAY, 20, NULL, "192.0.2.3", 0, 0, 0},
      {S_RELAY, 30, NULL, "192.0.2.4", 0, 0, 0}},
     {{20, HJ_A_RELAY, HJ_S_GLOBAL, "", "relay", 3, 2, 0, NULL}}},
    {"scope=ip relay rule",
     "rule relay_ip metric=relay_recipients window=1h limit=1 action=relay scope=ip\n",
     {{S_RELAY, 0, NULL, "192.0.2.1", 0, 0, 0},
      {S_RELAY, 1, NULL, "192.0.2.2", 0, 0, 0},
      {S_RELAY, 2, NULL, "192.0.2.1", 0, 0, 0}},
     {{2, HJ_A_RELAY, HJ_S_IP, "192.0.2.1", "relay_ip", 2, 1, 0, NULL}}},
    {"distinct_ips: logins and submissions, each address once",
     "rule dip metric=distinct_ips window=1h limit=2 action=warn\n",
     {{S_LOGIN, 0, A, "192.0.2.1", 0, 0, 0},
      {S_LOGIN, 1, A, "192.0.2.1", 0, 0, 0},
      {S_SUB, 2, A, "192.0.2.2", 1, 0, 0},
      {S_LOGIN, 3, A, "192.0.2.2", 0, 0, 0},
      {S_FAIL, 3, A, "192.0.2.3", 0, 0, 0}, /* a failed login is no sign of use */
      {S_LOGIN, 4, A, "2001:db8::1", 0, 0, 0}},
     {{4, HJ_A_WARN, HJ_S_ACCOUNT, A, "dip", 3, 2, 0, NULL}}},
    {"distinct_ips: addresses leave the window",
     "rule dip metric=distinct_ips window=1h limit=2 action=warn\n",
     {{S_LOGIN, 0, A, "192.0.2.1", 0, 0, 0},
      {S_LOGIN, 10, A, "192.0.2.2", 0, 0, 0},
      {S_LOGIN, 3610, A, "192.0.2.3", 0, 0, 0},
      {S_LOGIN, 3611, A, "192.0.2.4", 0, 0, 0},
      {S_LOGIN, 3612, A, "192.0.2.5", 0, 0, 0}},
     {{3612, HJ_A_WARN, HJ_S_ACCOUNT, A, "dip", 3, 2, 0, NULL}}},
    {"distinct_networks: one per IPv4 /24 and IPv6 /64",
     "rule dnet metric=distinct_networks window=1h limit=2 action=warn\n",
     {{S_LOGIN, 0, A, "203.0.113.1", 0, 0, 0},
      {S_LOGIN, 1, A, "203.0.113.77", 0, 0, 0},
      {S_SUB, 2, A, "203.0.113.254", 1, 0, 0},
      {S_LOGIN, 3, A, "198.51.100.1", 0, 0, 0},
      {S_LOGIN, 3, A, "2001:db8:0:1::1", 0, 0, 0},
      {S_LOGIN, 5, A, "2001:db8:0:1:ffff::2", 0, 0, 0},
      {S_LOGIN, 6, A, "192.0.2.9", 0, 0, 0}},
     {{3, HJ_A_WARN, HJ_S_ACCOUNT, A, "dnet", 3, 2, 0, NULL}}},
    {"distinct_networks: many addresses of one /24 are one network",
     "rule dnet metric=distinct_networks window=1h limit=1 action=warn\n",
     {{S_LOGIN, 0, A, "203.0.113.1", 0, 0, 0},
      {S_LOGIN, 1, A, "203.0.113.2", 0, 0, 0},
      {S_LOGIN, 2, A, "203.0.113.3", 0, 0, 0},
      {S_LOGIN, 3, A, "2001:db8::1", 0, 0, 0},
      {S_LOGIN, 4, A, "2001:db8::2", 0, 0, 0}},
     {{3, HJ_A_WARN, HJ_S_ACCOUNT, A, "dnet", 2, 1, 0, NULL}}},
    {"failed_logins per account",
     "rule af metric=failed_logins window=1h limit=2 action=warn\n",
     {{S_FAIL, 0, A, "192.0.2.1", 0, 0, 0},
      {S_LOGIN, 1, A, "192.0.2.1", 0, 3, 1},
      {S_FAIL, 5, B, "192.0.2.1", 0, 1, 1},
      {S_FAIL, 10, A, "192.0.2.2", 0, 0, 0},
      {S_FAIL, 20, A, "192.0.2.3", 0, 0, 0}},
     {{20, HJ_A_WARN, HJ_S_ACCOUNT, A, "af", 3, 2, 0, NULL}}},
    {"bounces: delivery status bounced",
     "rule b metric=bounces window=1h limit=2 action=warn\n",
     {{S_SENT, 0, A, IPX, 0, 5, 1},
      {S_BOUNCE, 10, A, IPX, 0, 2, 1},
      {S_SENT, 20, A, IPX, 0, 0, 0},
      {S_BOUNCE, 30, A, IPX, 0, 0, 0}},
     {{30, HJ_A_WARN, HJ_S_ACCOUNT, A, "b", 3, 2, 0, NULL}}},
    {"scope=domain with a per-domain override",
     "rule dom metric=messages window=1h limit=5 action=warn scope=domain\n"
     "override @big.example dom.limit=100\n",
     {{S_SUB, 0, "a@small.example", IPX, 1, 3, 1},
      {S_SUB, 3, "b@small.example", IPX, 1, 3, 1},
      {S_SUB, 10, "a@big.example", IPX, 1, 10, 1}},
     {{5, HJ_A_WARN, HJ_S_DOMAIN, "small.example", "dom", 6, 5, 0, NULL}}},
};

static void
run_scenario(const scenario *sc)
{
    fx *f = fx_new(sc->conf);
    size_t nw = 0;

    for (const step *s = sc->steps; s->k != S_END; s++) {
        for (int r = 0; r < (s->rep ? s->rep : 1); r++) {
            int64_t t = T0 + s->t + r * s->dt;
            switch (s->k) {
            case S_SUB:
                ev_submit(f, t, s->acct, s->ip, s->n);
                break;
            case S_LOGIN:
                ev_simple(f, HJ_EV_LOGIN, t, s->acct, s->ip);
                break;
            case S_FAIL:
                ev_simple(f, HJ_EV_LOGIN_FAIL, t, s->acct, s->ip);
                break;
            case S_BOUNCE:
                ev_delivery(f, t, s->acct, s->ip, HJ_DLV_BOUNCED);
                break;
            case S_SENT:
                ev_delivery(f, t, s->acct, s->ip, HJ_DLV_SENT);
                break;
            case S_RELAY:
                ev_relay(f, t, s->ip);
                break;
            case S_TICK:
                engine_tick(f->e, t);
                break;
            case S_STATE: {
                hj_lockinfo li;
                hj_state st = engine_state(f->e, s->acct, t, &li);
                if ((int64_t)st != s->n) {
                    fx_dump(f);
                    fail_msg("%s: engine_state(%s, T0+%lld) = %d, want %lld", sc->name, s->acct,
                             (long long)s->t, (int)st, (long long)s->n);
                }
                if (st == HJ_ST_OK && (li.rule || li.since || li.until))
                    fail_msg("%s: lock info for an account that is OK", sc->name);
                if (st != HJ_ST_OK && li.since == 0)
                    fail_msg("%s: no lock info for a %s account", sc->name,
                             st == HJ_ST_LOCKED ? "locked" : "throttled");
                break;
            }
            case S_UNLOCK: {
                int rc = engine_unlock(f->e, s->acct, t, 0, "unlocked by the test");
                if (rc != s->n)
                    fail_msg("%s: engine_unlock(%s) = %d, want %lld", sc->name, s->acct, rc,
                             (long long)s->n);
                break;
            }
            default:
                fail_msg("bad step");
            }
        }
    }
    while (nw < sizeof(sc->wants) / sizeof(sc->wants[0]) && sc->wants[nw].entity)
        nw++;
    if ((size_t)f->n != nw || f->dropped) {
        fx_dump(f);
        fail_msg("%s: %d decision(s), want %zu", sc->name, f->n, nw);
    }
    for (size_t i = 0; i < nw; i++) {
        const want *w = &sc->wants[i];
        const got *g = &f->d[i];
        char what[256];
        snprintf(what, sizeof(what), "%s: decision %zu", sc->name, i);
        CHECK_EQ(what, g->t, T0 + w->t);
        CHECK_STR(what, policy_action_name(g->action), policy_action_name(w->a));
        CHECK_STR(what, policy_scope_name(g->scope), policy_scope_name(w->s));
        CHECK_STR(what, g->entity, w->entity);
        CHECK_EQ(what, g->has_rule, w->rule != NULL);
        if (w->rule)
            CHECK_STR(what, g->rule, w->rule);
        CHECK_EQ(what, g->count, w->count);
        CHECK_EQ(what, g->limit, w->limit);
        CHECK_EQ(what, g->until, w->until ? T0 + w->until : 0);
        if (w->reason)
            CHECK_STR(what, g->reason, w->reason);
    }
    check_json(f);
    fx_free(f);
}

/* test_scenario - one scenario (each is a test of its own, named after it) */
static void
test_scenario(void **state)
{
    run_scenario(*state);
}

#define NSCENARIOS (sizeof(scenarios) / sizeof(scenarios[0]))

/* ---- source-IP classes: reserved, own and external, each with its own limit ---- */

#define CLASS_CONF                                                                                 \
    "own 198.51.100.0/24\n"                                                                        \
    "rule res metric=recipients window=30m limit=1000 action=warn class=reserved\n"                \
    "rule own metric=recipients window=30m limit=100 action=warn class=own\n"                      \
    "rule ext metric=recipients window=30m limit=10 action=warn class=external\n"

typedef struct class_case {
    const char *ip;
    int64_t nrcpt;
    const char *rule; /* the rule that fires, NULL for none */
    hj_ipclass cls;
} class_case;

static const class_case class_cases[] = {
    {"10.0.0.5", 11, NULL, 0},
    {"10.0.0.5", 1000, NULL, 0},
    {"10.0.0.5", 1001, "res", HJ_C_RESERVED},
    {"127.0.0.1", 1001, "res", HJ_C_RESERVED},
    {"192.168.7.7", 1001, "res", HJ_C_RESERVED},
    {"::1", 1001, "res", HJ_C_RESERVED},
    {"fd00::1", 1001, "res", HJ_C_RESERVED},
    {"198.51.100.20", 11, NULL, 0},
    {"198.51.100.20", 100, NULL, 0},
    {"198.51.100.20", 101, "own", HJ_C_OWN},
    {"203.0.113.7", 10, NULL, 0},
    {"203.0.113.7", 11, "ext", HJ_C_EXTERNAL},
    {"2a00:1450:4001::1", 11, "ext", HJ_C_EXTERNAL},
    {NULL, 11, "ext", HJ_C_EXTERNAL}, /* an unknown client counts as external */
};

static void
test_ip_classes(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof(class_cases) / sizeof(class_cases[0]); c++) {
        const class_case *k = &class_cases[c];
        fx *f = fx_new(CLASS_CONF);
        char what[96];
        snprintf(what, sizeof(what), "%s sends to %lld", k->ip ? k->ip : "(no ip)",
                 (long long)k->nrcpt);
        ev_submit(f, T0, A, k->ip, k->nrcpt);
        if (f->n != (k->rule ? 1 : 0)) {
            fx_dump(f);
            fail_msg("%s: %d decisions", what, f->n);
        }
        if (k->rule) {
            CHECK_STR(what, f->d[0].rule, k->rule);
            CHECK_EQ(what, f->d[0].evclass, k->cls);
            CHECK_EQ(what, f->d[0].ruleclass, k->cls);
            CHECK_EQ(what, f->d[0].count, k->nrcpt);
            CHECK_HAS(what, f->d[0].json, policy_class_name(k->cls));
        }
        check_json(f);
        fx_free(f);
    }

    /* one account, three separate counters */
    fx *f = fx_new(CLASS_CONF);
    ev_submit(f, T0 + 0, A, "203.0.113.7", 9);
    ev_submit(f, T0 + 1, A, "198.51.100.20", 50);
    ev_submit(f, T0 + 2, A, "10.0.0.5", 500);
    ev_submit(f, T0 + 3, A, "203.0.113.8", 1);
    CHECK_EQ("external 10, own 50, reserved 500", f->n, 0);
    ev_submit(f, T0 + 4, A, "203.0.113.9", 1);
    ev_submit(f, T0 + 5, A, "198.51.100.21", 51);
    ev_submit(f, T0 + 6, A, "192.168.1.1", 501);
    if (f->n != 3) {
        fx_dump(f);
        fail_msg("mixed classes: %d decisions, want 3", f->n);
    }
    CHECK_STR("mixed", f->d[0].rule, "ext");
    CHECK_EQ("mixed", f->d[0].count, 11);
    CHECK_STR("mixed", f->d[1].rule, "own");
    CHECK_EQ("mixed", f->d[1].count, 101);
    CHECK_STR("mixed", f->d[2].rule, "res");
    CHECK_EQ("mixed", f->d[2].count, 1001);
    check_json(f);
    fx_free(f);
}

/* ---- overrides per account and per domain ---- */

#define OVR_CONF                                                                                   \
    MD "override boss@lists.example.com md.limit=50\n"                                             \
       "override *@lists.example.com md.limit=5000\n" /* a later glob: the exact one still wins */ \
       "override @example.org md.action=warn\n"                                                    \
       "override vip@example.org md.limit=1000\n"                                                  \
       "override quiet@example.net md=off\n"                                                       \
       "override Loud@Example.NET md.limit=10\n"                                                   \
       "override *@twice.test md.limit=100\n"                                                      \
       "override *@twice.test md.limit=200\n" /* later lines win */                                \
       "override @off.example md=off\n"

typedef struct ovr_case {
    const char *acct;
    int64_t nrcpt;
    int fires;
    hj_action action;
    int64_t limit;
} ovr_case;

static const ovr_case ovr_cases[] = {
    {"user@plain.test", 500, 0, 0, 0},
    {"user@plain.test", 501, 1, HJ_A_LOCK, 500},
    {"boss@lists.example.com", 50, 0, 0, 0},
    {"boss@lists.example.com", 51, 1, HJ_A_LOCK, 50},
    {"Boss@Lists.Example.com", 51, 1, HJ_A_LOCK, 50},
    {"other@lists.example.com", 5000, 0, 0, 0},
    {"other@lists.example.com", 5001, 1, HJ_A_LOCK, 5000},
    {"a@example.org", 501, 1, HJ_A_WARN, 500},
    {"vip@example.org", 1000, 0, 0, 0},
    {"vip@example.org", 1001, 1, HJ_A_WARN, 1000}, /* exact limit and domain action */
    {"quiet@example.net", 100000, 0, 0, 0},
    {"loud@example.net", 11, 1, HJ_A_LOCK, 10},
    {"x@example.net", 501, 1, HJ_A_LOCK, 500},
    {"a@twice.test", 200, 0, 0, 0},
    {"a@twice.test", 201, 1, HJ_A_LOCK, 200},
    {"anyone@off.example", 100000, 0, 0, 0},
    {"anyone@sub.off.example", 501, 1, HJ_A_LOCK, 500},
};

static void
test_overrides(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof(ovr_cases) / sizeof(ovr_cases[0]); c++) {
        const ovr_case *k = &ovr_cases[c];
        fx *f = fx_new(OVR_CONF);
        char what[128];
        snprintf(what, sizeof(what), "%s sends to %lld", k->acct, (long long)k->nrcpt);
        ev_submit(f, T0, k->acct, IPX, k->nrcpt);
        if (f->n != k->fires) {
            fx_dump(f);
            fail_msg("%s: %d decisions, want %d", what, f->n, k->fires);
        }
        if (k->fires) {
            CHECK_STR(what, policy_action_name(f->d[0].action), policy_action_name(k->action));
            CHECK_EQ(what, f->d[0].limit, k->limit);
            CHECK_EQ(what, f->d[0].count, k->nrcpt);
            CHECK_STR(what, f->d[0].rule, "md");
        }
        check_json(f);
        fx_free(f);
    }
}

/* ---- exemptions ---- */

#define EXEMPT_CONF                                                                                \
    "exempt *@lists.example.com\n"                                                                 \
    "exempt newsletter@*\n"                                                                        \
    "exempt @exempt.org\n"                                                                         \
    "rule md metric=recipients window=30m limit=5 action=lock\n"                                   \
    "rule ipm metric=messages window=30m limit=1 action=warn scope=ip\n"                           \
    "rule glob metric=messages window=30m limit=3 action=warn scope=global\n"                      \
    "rule fl metric=failed_logins window=30m limit=0 action=warn\n"

static void
test_exemptions(void **state)
{
    static const char *const exempt[] = {"news@lists.example.com", "newsletter@shop.test",
                                         "a@exempt.org", "A@EXEMPT.ORG"};
    const char *ip = "198.51.100.1";

    (void)state;
    for (size_t c = 0; c < sizeof(exempt) / sizeof(exempt[0]); c++) {
        fx *f = fx_new(EXEMPT_CONF);
        acct_seen seen = {0};
        ev_simple(f, HJ_EV_LOGIN, T0, exempt[c], ip);
        ev_simple(f, HJ_EV_LOGIN_FAIL, T0 + 1, exempt[c], ip);
        for (int i = 0; i < 10; i++)
            ev_submit(f, T0 + 2 + i, exempt[c], ip, 100);
        if (f->n != 0) {
            fx_dump(f);
            fail_msg("%s is exempt but got decisions", exempt[c]);
        }
        const hj_engine_stats *st = engine_stats(f->e);
        CHECK_EQ(exempt[c], st->exempt, 12);
        CHECK_EQ(exempt[c], st->events[HJ_EV_SUBMIT], 10);
        engine_accounts(f->e, on_account, &seen);
        const hj_totals *t = find_account(&seen, exempt[c]);
        assert_non_null(t);
        CHECK_EQ(exempt[c], t->messages, 10);
        CHECK_EQ(exempt[c], t->recipients, 1000);

        /* the exempt mail is not counted for the client address or the server either */
        ev_submit(f, T0 + 20, "user@plain.test", ip, 1);
        CHECK_EQ(exempt[c], f->n, 0);
        ev_submit(f, T0 + 21, "user@plain.test", ip, 1);
        ev_submit(f, T0 + 22, "user@plain.test", ip, 1);
        ev_submit(f, T0 + 23, "user@plain.test", ip, 1);
        if (f->n != 2) {
            fx_dump(f);
            fail_msg("%s: %d decisions, want 2", exempt[c], f->n);
        }
        CHECK_STR(exempt[c], f->d[0].rule, "ipm");
        CHECK_EQ(exempt[c], f->d[0].count, 2);
        CHECK_STR(exempt[c], f->d[0].entity, ip);
        CHECK_STR(exempt[c], f->d[1].rule, "glob");
        CHECK_EQ(exempt[c], f->d[1].count, 4);
        CHECK_EQ(exempt[c], engine_stats(f->e)->exempt, 12);
        check_json(f);
        fx_free(f);
    }
}

/* ---- senders and accounts that are never counted ---- */

typedef struct never_case {
    const char *acct;
    const char *sender;
    int counted;
} never_case;

static const never_case never_cases[] = {
    {"postmaster@example.com", "postmaster@example.com", 0},
    {"Postmaster@example.com", "someone@example.com", 0},
    {"MAILER-DAEMON@example.com", "", 0},
    /* a login is counted whatever envelope sender it gives (MAIL FROM:<> hides no hijack) */
    {"user@example.com", "", 1},
    {"user@example.com", "MAILER-DAEMON@example.com", 1},
    {"user@example.com", "Postmaster@example.com", 1},
    {"user@example.com", "user@example.com", 1},
    {"user@example.com", NULL, 1},
    {"postmaster2@example.com", "postmaster2@example.com", 1},
};

static void
test_never_counted(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof(never_cases) / sizeof(never_cases[0]); c++) {
        const never_case *k = &never_cases[c];
        fx *f = fx_new("rule m metric=messages window=1h limit=0 action=warn\n"
                       "rule g metric=messages window=1h limit=0 action=warn scope=global\n");
        acct_seen seen = {0};
        char what[160];
        snprintf(what, sizeof(what), "%s from <%s>", k->acct, k->sender ? k->sender : "(unknown)");
        ev_mail(f, T0, k->acct, k->sender, IPX, 1, 1000);
        CHECK_EQ(what, f->n, k->counted ? 2 : 0);
        CHECK_EQ(what, engine_stats(f->e)->never_counted, !k->counted);
        CHECK_EQ(what, engine_stats(f->e)->events[HJ_EV_SUBMIT], 1);
        engine_accounts(f->e, on_account, &seen);
        CHECK_EQ(what, seen.n, k->counted);
        check_json(f);
        fx_free(f);
    }

    /* deliveries of postmaster's mail are not counted; its failed logins are */
    fx *f = fx_new("rule b metric=bounces window=1h limit=0 action=warn\n"
                   "rule fl metric=failed_logins window=1h limit=0 action=warn\n");
    ev_delivery(f, T0, "postmaster@example.com", IPX, HJ_DLV_BOUNCED);
    CHECK_EQ("postmaster bounce", f->n, 0);
    CHECK_EQ("postmaster bounce", engine_stats(f->e)->never_counted, 1);
    ev_simple(f, HJ_EV_LOGIN_FAIL, T0 + 1, "postmaster@example.com", IPX);
    CHECK_EQ("password guessing on postmaster", f->n, 1);
    CHECK_STR("password guessing on postmaster", f->d[0].rule, "fl");
    fx_free(f);
}

/* ---- novelty: networks new to the account, and similar sizes ---- */

#define NOVEL_CONF                                                                                 \
    "rule nr metric=recipients window=1h limit=3 action=warn novel=yes\n"                          \
    "rule kr metric=recipients window=1h limit=3 action=warn novel=no\n"

typedef struct novelty_case {
    const char *name;
    const char *ip; /* the second message's client (the first comes from 198.51.100.1) */
    int64_t dt;     /* seconds after the first */
    int novel;      /* expected novel_network of the decision on the second message */
} novelty_case;

static const novelty_case novelty_cases[] = {
    {"the same /24 is known", "198.51.100.77", 60, 0},
    {"another /24 is novel", "203.0.113.5", 60, 1},
    {"a novel /24 is still novel just before net_trust_after", "203.0.113.5", 86399, 1},
    {"loopback (webmail) is never novel", "127.0.0.1", 60, 0},
    {"a private network is never novel", "10.1.2.3", 60, 0},
    {"IPv6: another /64 is novel", "2001:db8:1:2::5", 60, 1},
};

/* each case: a first message (the account's first network: trusted at once), then a 4-recipient
 * message that crosses one of the two warn rules, novel or known */
static void
test_novelty(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(novelty_cases) / sizeof(novelty_cases[0]); i++) {
        const novelty_case *k = &novelty_cases[i];
        fx *f = fx_new(NOVEL_CONF);
        ev_mail(f, T0, A, A, "198.51.100.1", 1, 1000);
        if (k->dt > 3600) /* a novel network seen earlier, but not yet trusted */
            ev_mail(f, T0 + 1, A, A, k->ip, 1, 1000);
        ev_mail(f, T0 + k->dt, A, A, k->ip, 4, 1000);
        if (f->n != 1)
            fail_msg("%s: %d decisions", k->name, f->n);
        CHECK_STR(k->name, f->d[0].rule, k->novel ? "nr" : "kr");
        check_json(f);
        if (strstr(f->d[0].json, k->novel ? "\"novel_network\":true" : "\"novel_network\":false") ==
            NULL)
            fail_msg("%s: evidence %s", k->name, f->d[0].json);
        fx_free(f);
    }
}

/* a novel network becomes known after net_trust_after; the set of networks is bounded */
static void
test_novelty_trust_and_bound(void **state)
{
    fx *f = fx_new(NOVEL_CONF);

    (void)state;
    /* a webmail-only user (127.0.0.1) has history: its first outside network is novel */
    ev_mail(f, T0, B, B, "127.0.0.1", 1, 1000);
    ev_mail(f, T0 + 60, B, B, "203.0.113.5", 4, 1000);
    assert_int_equal(f->n, 1);
    assert_string_equal(f->d[0].rule, "nr");
    fx_free(f);
    f = fx_new(NOVEL_CONF);
    ev_mail(f, T0, A, A, "198.51.100.1", 1, 1000);
    ev_mail(f, T0 + 10, A, A, "203.0.113.5", 1, 1000);    /* first seen: novel */
    ev_mail(f, T0 + 86410, A, A, "203.0.113.5", 4, 1000); /* a day later: known */
    assert_int_equal(f->n, 1);
    assert_string_equal(f->d[0].rule, "kr");
    fx_free(f);
    /* more networks than trusted_nets_max: the least recently used is forgotten, so the
     * first one, unused since, is novel again a day later */
    f = fx_new(NOVEL_CONF);
    f->p->trusted_nets_max = 2;
    ev_mail(f, T0, A, A, "198.51.100.1", 1, 1000);
    ev_mail(f, T0 + 100, A, A, "203.0.10.1", 1, 1000);
    ev_mail(f, T0 + 101, A, A, "203.0.11.1", 1, 1000); /* full: 198.51.100.0/24 goes */
    ev_mail(f, T0 + 90000, A, A, "198.51.100.1", 4, 1000);
    assert_int_equal(f->n, 1);
    assert_string_equal(f->d[0].rule, "nr");
    fx_free(f);
    /* a novel=yes rule counts only mail from novel networks: 3 known + 2 novel stays under 3 */
    f = fx_new(NOVEL_CONF);
    ev_mail(f, T0, A, A, "198.51.100.1", 3, 1000);
    ev_mail(f, T0 + 10, A, A, "203.0.113.5", 2, 1000);
    assert_int_equal(f->n, 0);
    ev_mail(f, T0 + 20, A, A, "203.0.113.5", 2, 1000); /* 4 novel: now it fires */
    assert_int_equal(f->n, 1);
    assert_string_equal(f->d[0].rule, "nr");
    assert_int_equal(f->d[0].count, 4);
    fx_free(f);
}

typedef struct similar_case {
    const char *name;
    int64_t sizes[8];
    int n;
    int64_t want; /* similar_sizes at the last message; the earlier ones stay below it */
} similar_case;

static const similar_case similar_cases[] = {
    {"identical sizes", {5000, 5000, 5000, 5000}, 4, 4},
    {"within 1 % of the current size", {10000, 10050, 9990, 10020}, 4, 4},
    {"just outside 1 %: 2 of 4 alike", {10000, 10200, 9700, 10000}, 4, 2},
};

/* similar_sizes counts the recent messages within the tolerance of the current one: a warn
 * rule with limit want - 1 fires at the last message, with count want */
static void
test_similar_sizes(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(similar_cases) / sizeof(similar_cases[0]); i++) {
        const similar_case *k = &similar_cases[i];
        char conf[128];
        snprintf(conf, sizeof(conf),
                 "rule sim metric=similar_sizes window=1h limit=%lld "
                 "action=warn\n",
                 (long long)k->want - 1);
        fx *f = fx_new(conf);
        for (int m = 0; m < k->n - 1; m++)
            ev_mail(f, T0 + m, A, A, IPX, 1, k->sizes[m]);
        if (f->n != 0)
            fail_msg("%s: fired before the last message", k->name);
        ev_mail(f, T0 + k->n, A, A, IPX, 1, k->sizes[k->n - 1]);
        if (f->n != 1 || f->d[0].count != k->want)
            fail_msg("%s: want one warn with count %lld, got %d (count %lld)", k->name,
                     (long long)k->want, f->n, f->n ? (long long)f->d[0].count : -1LL);
        fx_free(f);
    }
}

/* similar sizes older than the window do not count */
static void
test_similar_sizes_window(void **state)
{
    fx *f = fx_new("rule sim metric=similar_sizes window=10m limit=2 action=warn\n");

    (void)state;
    ev_mail(f, T0, A, A, IPX, 1, 7000);
    ev_mail(f, T0 + 10, A, A, IPX, 1, 7000);
    ev_mail(f, T0 + 700, A, A, IPX, 1, 7000); /* the first two have left: 1 alike */
    ev_mail(f, T0 + 710, A, A, IPX, 1, 7000); /* 2 alike */
    assert_int_equal(f->n, 0);
    ev_mail(f, T0 + 720, A, A, IPX, 1, 7000); /* 3 alike > 2 */
    assert_int_equal(f->n, 1);
    assert_int_equal(f->d[0].count, 3);
    fx_free(f);
}

/* bounce_ratio: the percent of the window's delivery outcomes that bounced, judged only once there
 * are bounce_ratio_min_deliveries of them */
static void
test_bounce_ratio(void **state)
{
    fx *f = fx_new("rule br metric=bounce_ratio window=1h limit=30 action=warn\n");

    (void)state;
    f->p->bounce_ratio_min = 10;
    for (int i = 0; i < 9; i++) /* 9 bounces of 9: too few to judge */
        ev_delivery(f, T0 + i, A, IPX, HJ_DLV_BOUNCED);
    assert_int_equal(f->n, 0);
    ev_delivery(f, T0 + 9, A, IPX, HJ_DLV_DEFERRED); /* a deferral is no outcome */
    assert_int_equal(f->n, 0);
    ev_delivery(f, T0 + 10, A, IPX, HJ_DLV_SENT); /* 9 of 10 = 90 % > 30 */
    assert_int_equal(f->n, 1);
    assert_int_equal(f->d[0].count, 90);
    fx_free(f);
    f = fx_new("rule br metric=bounce_ratio window=1h limit=30 action=warn\n");
    f->p->bounce_ratio_min = 10;
    for (int i = 0; i < 30; i++) /* 3 of 30 bounce: 10 % */
        ev_delivery(f, T0 + i, A, IPX, i % 10 ? HJ_DLV_SENT : HJ_DLV_BOUNCED);
    assert_int_equal(f->n, 0);
    fx_free(f);
}

/* ---- a password spray: invented names make no accounts ---- */

static void
count_keys(void *ctx, const char *key, int gone)
{
    (void)gone;
    if (strncmp(key, "a:", 2) == 0)
        ++*(int *)ctx;
}

/* 20,000 invented names fail to log in: at most failed_login_names_max of them are kept, in
 * memory only (not listed, never stored), the rest count for the client address; a real name
 * that keeps failing is still locked by an account rule, and from then on is an account */
static void
test_failed_login_spray(void **state)
{
    fx *f = fx_new("rule fl metric=failed_logins window=10m limit=3 action=lock\n"
                   "rule ipfl metric=failed_logins window=10m limit=1000000 action=warn scope=ip\n");
    acct_seen seen = {0};
    char name[64], ip[32];
    int stored = 0;

    (void)state;
    f->p->failed_names_max = 1000;
    for (int i = 0; i < 20000; i++) {
        snprintf(name, sizeof(name), "u%d@spray.test", i);
        snprintf(ip, sizeof(ip), "203.0.113.%d", i % 200);
        ev_simple(f, HJ_EV_LOGIN_FAIL, T0 + i / 100, name, ip);
    }
    const hj_engine_stats *st = engine_stats(f->e);
    CHECK_EQ("names kept", st->unproven, 1000);
    CHECK_EQ("names at the cap, counted per client only", st->unproven_refused, 19000);
    CHECK_EQ("entities: the kept names and 200 client addresses", st->entities, 1200);
    engine_accounts(f->e, on_account, &seen);
    CHECK_EQ("accounts listed", seen.n, 0);
    engine_changed(f->e, count_keys, &stored, 0);
    CHECK_EQ("accounts stored", stored, 0);
    for (int i = 0; i < 4; i++) /* u7 was kept: its failures count, the rule locks it */
        ev_simple(f, HJ_EV_LOGIN_FAIL, T0 + 300 + i, "u7@spray.test", "198.51.100.9");
    CHECK_EQ("a kept name that keeps failing is locked", f->n, 1);
    CHECK_STR("... by the account rule", f->d[0].rule, "fl");
    CHECK_EQ("... and is an account from then on", st->unproven, 999);
    engine_accounts(f->e, on_account, &seen);
    CHECK_EQ("accounts listed", seen.n, 1);
    stored = 0;
    engine_changed(f->e, count_keys, &stored, 0);
    CHECK_EQ("accounts stored", stored, 1);
    engine_tick(f->e, T0 + 300 + 4 + 1200); /* idle past the 10-minute window: all forgotten */
    CHECK_EQ("names forgotten when idle", st->unproven, 0);
    fx_free(f);
}

int
main(void)
{
    static const struct CMUnitTest fixed[] = {
        cmocka_unit_test(test_ip_classes),    cmocka_unit_test(test_overrides),
        cmocka_unit_test(test_exemptions),    cmocka_unit_test(test_never_counted),
        cmocka_unit_test(test_novelty),       cmocka_unit_test(test_novelty_trust_and_bound),
        cmocka_unit_test(test_similar_sizes), cmocka_unit_test(test_similar_sizes_window),
        cmocka_unit_test(test_bounce_ratio),  cmocka_unit_test(test_failed_login_spray),
    };
    struct CMUnitTest tests[NSCENARIOS + sizeof(fixed) / sizeof(fixed[0])];
    size_t n = 0;

    for (size_t i = 0; i < NSCENARIOS; i++)
        tests[n++] = (struct CMUnitTest){scenarios[i].name, test_scenario, NULL, NULL,
                                         (void *)&scenarios[i]};
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        tests[n++] = fixed[i];
    return cmocka_run_group_tests(tests, NULL, NULL);
}
