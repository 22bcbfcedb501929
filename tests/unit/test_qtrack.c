/*
 * test_qtrack - qtrack: Postfix lines in, hj_events out
 *
 * Each test feeds literal log lines through logline_parse() and
 * logparse_postfix() into a qtrack and checks the events it emits and
 * its counters. Events are copied as they arrive (their strings are
 * borrowed); a NULL string is recorded as "" (both mean "unknown").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "../../src/postfix/logline.h"
#include "../../src/postfix/logparse.h"
#include "../../src/postfix/qtrack.h"

#define MAX_EVENTS 64
#define T_2026_11_22_202500 INT64_C(1795379100)

typedef struct ev_copy {
    hj_event_type type;
    int64_t t;
    int32_t tzoff;
    char account[128], client_ip[64], client_name[128], service[64], sasl_method[32];
    char queue_id[32], sender[128], message_id[128], rcpt[128], orig_rcpt[128], relay[128];
    char dsn[32], helo[64];
    int64_t nrcpt, size;
    hj_dlv_status status;
} ev_copy;

typedef struct fixture {
    qtrack *q;
    hj_logclock clk;
    ev_copy ev[MAX_EVENTS];
    int nev;
} fixture;

static const char *const type_names[] = {"LOGIN",    "LOGIN_FAIL", "SUBMIT",
                                         "DELIVERY", "RELAY",      "REJECT"};

static void
cp(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

static void
collect(void *ctx, const hj_event *e)
{
    fixture *fx = ctx;

    assert_true(fx->nev < MAX_EVENTS);
    ev_copy *c = &fx->ev[fx->nev++];
    memset(c, 0, sizeof(*c));
    c->type = e->type;
    c->t = e->t;
    c->tzoff = e->tzoff;
    cp(c->account, sizeof(c->account), e->account);
    cp(c->client_ip, sizeof(c->client_ip), e->client_ip);
    cp(c->client_name, sizeof(c->client_name), e->client_name);
    cp(c->service, sizeof(c->service), e->service);
    cp(c->sasl_method, sizeof(c->sasl_method), e->sasl_method);
    cp(c->queue_id, sizeof(c->queue_id), e->queue_id);
    cp(c->sender, sizeof(c->sender), e->sender);
    cp(c->message_id, sizeof(c->message_id), e->message_id);
    cp(c->rcpt, sizeof(c->rcpt), e->rcpt);
    cp(c->orig_rcpt, sizeof(c->orig_rcpt), e->orig_rcpt);
    cp(c->relay, sizeof(c->relay), e->relay);
    cp(c->dsn, sizeof(c->dsn), e->dsn);
    cp(c->helo, sizeof(c->helo), e->helo);
    c->nrcpt = e->nrcpt;
    c->size = e->size;
    c->status = e->status;
}

static int
fx_setup(void **state)
{
    fixture *fx = calloc(1, sizeof(*fx));

    assert_non_null(fx);
    logline_clock_init(&fx->clk, 2026, 11, 0);
    *state = fx;
    return 0;
}

static int
fx_teardown(void **state)
{
    fixture *fx = *state;

    qtrack_free(fx->q);
    free(fx);
    return 0;
}

/* start - a tracker with this configuration (lifetime 0 = 2 days, max 0 = 1000) */
static fixture *
start(void **state, int64_t lifetime, size_t max_tracked, char **local, size_t nlocal)
{
    fixture *fx = *state;
    qtrack_conf conf = {.lifetime = lifetime ? lifetime : 2 * 86400,
                        .max_tracked = max_tracked ? max_tracked : 1000,
                        .local_domains = local,
                        .nlocal = nlocal};

    fx->q = qtrack_new(&conf, collect, fx);
    assert_non_null(fx->q);
    return fx;
}

/* feed - one line "Nov 22 <hms> mx <rest>" through the parsers into the tracker */
static void
feed(fixture *fx, const char *hms, const char *rest)
{
    char line[1024];
    hj_logline l;
    pf_rec r;

    int n = snprintf(line, sizeof(line), "Nov 22 %s mx %s", hms, rest);
    assert_true(n > 0 && (size_t)n < sizeof(line));
    if (logline_parse(&fx->clk, line, (size_t)n, &l) != 0)
        fail_msg("logline_parse failed: %s", line);
    assert_true(logparse_is_postfix(&l));
    pf_kind k = logparse_postfix(&l, &r);
    if (k == PF_UNKNOWN)
        fail_msg("logparse_postfix: PF_UNKNOWN: %s", line);
    qtrack_line(fx->q, &l, &r);
}

static qtrack_counts
counts(const fixture *fx)
{
    qtrack_counts c;

    qtrack_stats(fx->q, &c);
    return c;
}

/* count_type - events of one type */
static int
count_type(const fixture *fx, hj_event_type t)
{
    int n = 0;

    for (int i = 0; i < fx->nev; i++)
        n += fx->ev[i].type == t;
    return n;
}

/* nth - the i-th event of type t (0-based), failing the test if there is none */
static const ev_copy *
nth(const fixture *fx, hj_event_type t, int i)
{
    for (int j = 0; j < fx->nev; j++)
        if (fx->ev[j].type == t && i-- == 0)
            return &fx->ev[j];
    fail_msg("no %s event #%d", type_names[t], i);
    return NULL;
}

/* types - the event types in order, e.g. "LOGIN SUBMIT DELIVERY" */
static const char *
types(const fixture *fx, char *buf, size_t cap)
{
    size_t o = 0;

    buf[0] = 0;
    for (int i = 0; i < fx->nev && o < cap; i++)
        o += (size_t)snprintf(buf + o, cap - o, "%s%s", i ? " " : "", type_names[fx->ev[i].type]);
    return buf;
}

#define assert_types(fx, want)                                                                     \
    do {                                                                                           \
        char tb_[512];                                                                             \
        assert_string_equal(types((fx), tb_, sizeof(tb_)), (want));                                \
    } while (0)

/* common lines */
#define SUB "postfix/submission/smtpd[24482]: "
#define MX "postfix/smtpd[9283]: "
#define QMGR "postfix/qmgr[24462]: "
#define SMTP "postfix/smtp[24489]: "
#define VIRT "postfix/virtual[9267]: "
#define SENT_TAIL ", delay=0.03, delays=0.01/0.01/0/0, dsn=2.0.0, status=sent (250 2.0.0 Ok)"
#define SINK "relay=127.0.0.1[127.0.0.1]:3526"

/* ------------------------------------------------------------------ */

static void
test_login(void **state)
{
    fixture *fx = start(state, 0, 0, NULL, 0);

    feed(fx, "20:25:00", SUB "connect from localhost[127.0.0.1]");
    feed(fx, "20:25:00",
         SUB "4D66EA723D5: client=localhost[127.0.0.1], sasl_method=PLAIN, "
             "sasl_username=alice@example.test");
    feed(fx, "20:25:01", MX "35105A722DB: client=mx.outside.test[192.0.2.10]");
    assert_types(fx, "LOGIN");
    const ev_copy *e = nth(fx, HJ_EV_LOGIN, 0);
    assert_string_equal(e->account, "alice@example.test");
    assert_string_equal(e->client_ip, "127.0.0.1");
    assert_string_equal(e->client_name, "localhost");
    assert_string_equal(e->sasl_method, "PLAIN");
    assert_string_equal(e->service, "postfix/submission");
    assert_string_equal(e->queue_id, "4D66EA723D5");
    assert_int_equal(e->t, T_2026_11_22_202500);
    assert_int_equal(e->tzoff, 0);
    qtrack_counts c = counts(fx);
    assert_int_equal(c.logins, 1);
    assert_int_equal(c.in_flight, 2);
}

static void
test_login_failures(void **state)
{
    fixture *fx = start(state, 0, 0, NULL, 0);

    feed(fx, "20:25:00",
         SUB "warning: localhost[127.0.0.1]: SASL PLAIN authentication failed: "
             "(reason unavailable), sasl_username=alice@example.com");
    feed(fx, "20:25:01",
         "postfix/smtps/smtpd[5]: warning: unknown[203.0.113.66]: SASL LOGIN "
         "authentication failed: UGFzc3dvcmQ6");
    feed(fx, "20:25:02", MX "warning: unknown[203.0.113.67]: SASL PLAIN authentication failed: ");
    feed(fx, "20:25:03",
         SUB "warning: localhost[127.0.0.1]: SASL PLAIN authentication failed: "
             "Connection lost to authentication server, sasl_username=(unavailable)");
    assert_types(fx, "LOGIN_FAIL LOGIN_FAIL LOGIN_FAIL LOGIN_FAIL");
    assert_string_equal(fx->ev[0].account, "alice@example.com");
    assert_string_equal(fx->ev[0].client_ip, "127.0.0.1");
    assert_string_equal(fx->ev[0].sasl_method, "PLAIN");
    assert_string_equal(fx->ev[0].service, "postfix/submission");
    assert_string_equal(fx->ev[1].account, "");
    assert_string_equal(fx->ev[1].client_ip, "203.0.113.66");
    assert_string_equal(fx->ev[1].sasl_method, "LOGIN");
    assert_string_equal(fx->ev[1].service, "postfix/smtps");
    assert_string_equal(fx->ev[2].account, "");
    assert_string_equal(fx->ev[2].client_ip, "203.0.113.67");
    assert_string_equal(fx->ev[3].account, ""); /* (unavailable) is no user */
    assert_int_equal(counts(fx).login_failures, 4);
    assert_int_equal(counts(fx).in_flight, 0);
}

/* an authenticated message from client= to removed */
static void
test_submit_and_deliveries(void **state)
{
    fixture *fx = start(state, 0, 0, NULL, 0);

    feed(fx, "20:25:00",
         SUB "5B1DAA723C1: client=mail.branch.test[192.0.2.44], sasl_method=LOGIN, "
             "sasl_username=postmaster@example.test");
    feed(fx, "20:25:00", "postfix/cleanup[24488]: 5B1DAA723C1: message-id=<m1@example.test>");
    feed(fx, "20:25:01",
         QMGR "5B1DAA723C1: from=<postmaster@example.test>, size=445, nrcpt=2 "
              "(queue active)");
    feed(fx, "20:25:01",
         SUB "disconnect from mail.branch.test[192.0.2.44] ehlo=1 auth=1 mail=1 "
             "rcpt=2 data=1 quit=1 commands=7");
    feed(fx, "20:25:02", SMTP "5B1DAA723C1: to=<vendor@remote.test>, " SINK SENT_TAIL);
    feed(fx, "20:25:02",
         VIRT "5B1DAA723C1: to=<alice@example.test>, relay=virtual, delay=0.01, "
              "delays=0/0.01/0/0, dsn=2.0.0, status=sent (delivered to maildir)");
    assert_int_equal(counts(fx).in_flight, 1);
    feed(fx, "20:25:02", QMGR "5B1DAA723C1: removed");

    assert_types(fx, "LOGIN SUBMIT DELIVERY DELIVERY");
    const ev_copy *s = nth(fx, HJ_EV_SUBMIT, 0);
    assert_string_equal(s->account, "postmaster@example.test");
    assert_string_equal(s->sender, "postmaster@example.test");
    assert_string_equal(s->queue_id, "5B1DAA723C1");
    assert_string_equal(s->client_ip, "192.0.2.44");
    assert_string_equal(s->client_name, "mail.branch.test");
    assert_string_equal(s->sasl_method, "LOGIN");
    assert_string_equal(s->service, "postfix/submission");
    assert_string_equal(s->message_id, "m1@example.test");
    assert_int_equal(s->nrcpt, 2);
    assert_int_equal(s->size, 445);
    assert_int_equal(s->t, T_2026_11_22_202500 + 1);

    const ev_copy *d = nth(fx, HJ_EV_DELIVERY, 0);
    assert_string_equal(d->account, "postmaster@example.test");
    assert_string_equal(d->rcpt, "vendor@remote.test");
    assert_string_equal(d->orig_rcpt, "");
    assert_string_equal(d->relay, "127.0.0.1[127.0.0.1]:3526");
    assert_string_equal(d->dsn, "2.0.0");
    assert_string_equal(d->sender, "postmaster@example.test");
    assert_string_equal(d->queue_id, "5B1DAA723C1");
    assert_int_equal(d->status, HJ_DLV_SENT);
    assert_int_equal(d->t, T_2026_11_22_202500 + 2);
    d = nth(fx, HJ_EV_DELIVERY, 1);
    assert_string_equal(d->account, "postmaster@example.test");
    assert_string_equal(d->rcpt, "alice@example.test");
    assert_string_equal(d->relay, "virtual");

    qtrack_counts c = counts(fx);
    assert_int_equal(c.submissions, 1);
    assert_int_equal(c.deliveries, 2);
    assert_int_equal(c.relayed, 0);
    assert_int_equal(c.in_flight, 0);
    assert_int_equal(c.orphans, 0);
    assert_int_equal(c.forgotten, 0);
}

/* a deferred message comes back to the active queue: one submission */
static void
test_deferred_counted_once(void **state)
{
    fixture *fx = start(state, 0, 0, NULL, 0);

    feed(fx, "20:25:00",
         SUB "CADEBA723FF: client=localhost[127.0.0.1], sasl_method=PLAIN, "
             "sasl_username=bob@example.test");
    feed(fx, "20:25:00",
         QMGR "CADEBA723FF: from=<bob@example.test>, size=412, nrcpt=2 (queue active)");
    feed(fx, "20:25:01",
         SMTP "CADEBA723FF: to=<b@other.test>, relay=none, delay=0, "
              "delays=0/0/0/0, dsn=4.4.1, status=deferred (connect to "
              "127.0.0.1[127.0.0.1]:3526: Connection refused)");
    feed(fx, "20:25:01",
         SMTP "CADEBA723FF: to=<a@remote.test>, relay=none, delay=0, "
              "delays=0/0/0/0, dsn=4.4.1, status=deferred (connect to "
              "127.0.0.1[127.0.0.1]:3526: Connection refused)");
    feed(fx, "20:35:00",
         QMGR "CADEBA723FF: from=<bob@example.test>, size=412, nrcpt=2 (queue active)");
    feed(fx, "20:35:01", SMTP "CADEBA723FF: to=<b@other.test>, " SINK SENT_TAIL);
    feed(fx, "20:35:01", SMTP "CADEBA723FF: to=<a@remote.test>, " SINK SENT_TAIL);
    feed(fx, "20:35:01", QMGR "CADEBA723FF: removed");

    assert_types(fx, "LOGIN SUBMIT DELIVERY DELIVERY DELIVERY DELIVERY");
    assert_int_equal(fx->ev[2].status, HJ_DLV_DEFERRED);
    assert_int_equal(fx->ev[4].status, HJ_DLV_SENT);
    assert_string_equal(fx->ev[4].account, "bob@example.test");
    qtrack_counts c = counts(fx);
    assert_int_equal(c.submissions, 1);
    assert_int_equal(c.deliveries, 4);
    assert_int_equal(c.in_flight, 0);
}

/* a null sender from an authenticated client, and a bounce's DSN: no SUBMIT */
static void
test_null_sender_submits_dsn_not(void **state)
{
    fixture *fx = start(state, 0, 0, NULL, 0);

    /* authenticated client sending with MAIL FROM:<>: its choice, counted like any submission */
    feed(fx, "20:25:00",
         SUB "1A2B3C4D5E: client=localhost[127.0.0.1], sasl_method=PLAIN, "
             "sasl_username=alice@example.test");
    feed(fx, "20:25:00", QMGR "1A2B3C4D5E: from=<>, size=300, nrcpt=1 (queue active)");
    feed(fx, "20:25:00", SMTP "1A2B3C4D5E: to=<x@remote.test>, " SINK SENT_TAIL);
    feed(fx, "20:25:00", QMGR "1A2B3C4D5E: removed");

    /* a submission that bounces, and the bounce's notification */
    feed(fx, "20:25:01",
         SUB "76F35A723DF: client=localhost[127.0.0.1], sasl_method=PLAIN, "
             "sasl_username=alice@example.test");
    feed(fx, "20:25:01",
         QMGR "76F35A723DF: from=<alice@example.test>, size=444, nrcpt=1 (queue active)");
    feed(fx, "20:25:01",
         "postfix/pipe[24534]: 76F35A723DF: to=<victim@bounce.test>, "
         "relay=mailstack-bounce, delay=0.02, delays=0/0.01/0/0.01, dsn=5.1.1, "
         "status=bounced (user unknown. Command output: simulated failure by "
         "mailstack (exit 67) )");
    feed(fx, "20:25:01",
         "postfix/cleanup[24488]: 7B77DA722A3: "
         "message-id=<20261122202501.7B77DA722A3@mx.example.test>");
    feed(fx, "20:25:01",
         "postfix/bounce[24539]: 76F35A723DF: sender non-delivery notification: 7B77DA722A3");
    feed(fx, "20:25:01", QMGR "7B77DA722A3: from=<>, size=2335, nrcpt=1 (queue active)");
    feed(fx, "20:25:01", QMGR "76F35A723DF: removed");
    feed(fx, "20:25:01",
         VIRT "7B77DA722A3: to=<alice@example.test>, relay=virtual, delay=0.01, "
              "delays=0.01/0/0/0, dsn=2.0.0, status=sent (delivered to maildir)");
    feed(fx, "20:25:01", QMGR "7B77DA722A3: removed");

    assert_types(fx, "LOGIN SUBMIT DELIVERY LOGIN SUBMIT DELIVERY DELIVERY");
    const ev_copy *s = nth(fx, HJ_EV_SUBMIT, 0);
    assert_string_equal(s->queue_id, "1A2B3C4D5E");
    assert_string_equal(s->account, "alice@example.test");
    assert_string_equal(s->sender, "");
    s = nth(fx, HJ_EV_SUBMIT, 1);
    assert_string_equal(s->queue_id, "76F35A723DF");
    const ev_copy *d = nth(fx, HJ_EV_DELIVERY, 1);
    assert_int_equal(d->status, HJ_DLV_BOUNCED);
    d = nth(fx, HJ_EV_DELIVERY, 2); /* the NDR: nobody's submission */
    assert_string_equal(d->queue_id, "7B77DA722A3");
    assert_string_equal(d->account, "");
    assert_string_equal(d->sender, "");
    qtrack_counts c = counts(fx);
    assert_int_equal(c.submissions, 2);
    assert_int_equal(c.relayed, 0);
    assert_int_equal(c.in_flight, 0);
}

/* local injection through sendmail/pickup is not an SMTP submission, nor a relay */
static void
test_pickup_not_submit(void **state)
{
    fixture *fx = start(state, 0, 0, NULL, 0);

    feed(fx, "20:25:00", "postfix/pickup[28284]: DB618A72209: uid=0 from=<root>");
    feed(fx, "20:25:00", "postfix/cleanup[24488]: DB618A72209: message-id=<p1@mx.example.test>");
    feed(fx, "20:25:00",
         QMGR "DB618A72209: from=<root@mx.example.test>, size=300, nrcpt=1 (queue active)");
    feed(fx, "20:25:00", SMTP "DB618A72209: to=<report@remote.test>, " SINK SENT_TAIL);
    feed(fx, "20:25:00", QMGR "DB618A72209: removed");
    assert_types(fx, "DELIVERY");
    assert_string_equal(fx->ev[0].account, "");
    assert_string_equal(fx->ev[0].sender, "root@mx.example.test");
    assert_int_equal(counts(fx).submissions, 0);
    assert_int_equal(counts(fx).relayed, 0);
    assert_int_equal(counts(fx).in_flight, 0);
}

/* ------------------------------------------------------------------ */
/* open relay                                                          */

/* learn example.test as local from a SASL login (on another message) */
static void
learn_example_test(fixture *fx)
{
    feed(fx, "20:20:00",
         SUB "00EDCA7238D: client=localhost[127.0.0.1], sasl_method=PLAIN, "
             "sasl_username=alice@example.test");
    feed(fx, "20:20:00", QMGR "00EDCA7238D: removed");
}

/* unauthenticated mail over SMTP: client=, qmgr, one smtp/lmtp/virtual delivery */
static void
inbound(fixture *fx, const char *qid, const char *from, const char *agent_line)
{
    char buf[512];

    snprintf(buf, sizeof(buf), MX "%s: client=unknown[203.0.113.200]", qid);
    feed(fx, "20:25:00", buf);
    snprintf(buf, sizeof(buf), QMGR "%s: from=<%s>, size=431, nrcpt=1 (queue active)", qid, from);
    feed(fx, "20:25:00", buf);
    snprintf(buf, sizeof(buf), "%s", agent_line);
    feed(fx, "20:25:01", buf);
}

static void
test_relay_detected(void **state)
{
    fixture *fx = start(state, 0, 0, NULL, 0);

    learn_example_test(fx);
    inbound(fx, "42375A723EF", "spammer@outside.test",
            SMTP "42375A723EF: to=<a@victims.test>, " SINK SENT_TAIL);
    feed(fx, "20:25:01",
         SMTP "42375A723EF: to=<b@victims.test>, relay=mx[192.0.2.5]:25, delay=1, "
              "delays=0/0/0/1, dsn=5.1.1, status=bounced (host mx said: 550 no)");
    feed(fx, "20:25:01",
         SMTP "42375A723EF: to=<c@victims.test>, relay=none, delay=1, "
              "delays=0/0/0/1, dsn=4.4.1, status=deferred (connection refused)");
    assert_types(fx, "LOGIN RELAY RELAY DELIVERY");
    assert_int_equal(count_type(fx, HJ_EV_RELAY), 2);
    const ev_copy *r = nth(fx, HJ_EV_RELAY, 0);
    assert_string_equal(r->sender, "spammer@outside.test");
    assert_string_equal(r->rcpt, "a@victims.test");
    assert_string_equal(r->client_ip, "203.0.113.200");
    assert_string_equal(r->queue_id, "42375A723EF");
    assert_string_equal(r->account, "");
    assert_int_equal(r->status, HJ_DLV_SENT);
    assert_int_equal(nth(fx, HJ_EV_RELAY, 1)->status, HJ_DLV_BOUNCED);
    assert_int_equal(nth(fx, HJ_EV_DELIVERY, 0)->status, HJ_DLV_DEFERRED);
    qtrack_counts c = counts(fx);
    assert_int_equal(c.relayed, 2);
    assert_int_equal(c.deliveries, 3);
    assert_int_equal(c.submissions, 0);
}

/* with nothing known to be local, outside -> outside over smtp is still a relay */
static void
test_relay_without_local_domains(void **state)
{
    fixture *fx = start(state, 0, 0, NULL, 0);

    inbound(fx, "4C94AA723EF", "bulk@outside.test",
            SMTP "4C94AA723EF: to=<d@victims2.test>, " SINK SENT_TAIL);
    assert_types(fx, "RELAY");
}

typedef struct relay_case {
    const char *name;
    const char *from;
    const char *agent_line;
    hj_event_type want;
} relay_case;

/* example.test is local (learned); every message arrives over SMTP without AUTH */
static const relay_case relay_cases[] = {
    {"outside -> outside by smtp", "spammer@outside.test",
     SMTP "51976A723C1: to=<x@victims.test>, " SINK SENT_TAIL, HJ_EV_RELAY},
    {"forward: orig_to is a local user", "friend@outside.test",
     SMTP "51976A723C1: to=<bob@gmail.example>, orig_to=<bob@example.test>, " SINK SENT_TAIL,
     HJ_EV_DELIVERY},
    {"forward: orig_to local, upper case", "friend@outside.test",
     SMTP "51976A723C1: to=<bob@gmail.example>, orig_to=<Bob@EXAMPLE.test>, " SINK SENT_TAIL,
     HJ_EV_DELIVERY},
    {"orig_to outside is no forward", "spammer@outside.test",
     SMTP "51976A723C1: to=<x@victims.test>, orig_to=<y@victims.test>, " SINK SENT_TAIL,
     HJ_EV_RELAY},
    {"sender is local", "alice@example.test",
     SMTP "51976A723C1: to=<x@victims.test>, " SINK SENT_TAIL, HJ_EV_DELIVERY},
    {"sender is local, mixed case", "Alice@Example.TEST",
     SMTP "51976A723C1: to=<x@victims.test>, " SINK SENT_TAIL, HJ_EV_DELIVERY},
    {"recipient is local (smtp to a backend)", "friend@outside.test",
     SMTP "51976A723C1: to=<bob@example.test>, " SINK SENT_TAIL, HJ_EV_DELIVERY},
    {"delivered by lmtp", "friend@outside.test",
     "postfix/lmtp[5]: 51976A723C1: to=<x@victims.test>, relay=mail[private/dovecot-lmtp], "
     "delay=0.05, delays=0.01/0.01/0.01/0.02, dsn=2.0.0, status=sent (250 2.0.0 Saved)",
     HJ_EV_DELIVERY},
    {"delivered by virtual", "friend@outside.test",
     VIRT "51976A723C1: to=<bob@example.test>, relay=virtual, delay=0.01, delays=0/0.01/0/0, "
          "dsn=2.0.0, status=sent (delivered to maildir)",
     HJ_EV_DELIVERY},
    {"delivered by pipe", "friend@outside.test",
     "postfix/pipe[5]: 51976A723C1: to=<x@victims.test>, relay=mailman, delay=0.05, "
     "delays=0/0/0/0.05, dsn=2.0.0, status=sent (delivered via mailman service)",
     HJ_EV_DELIVERY},
    {"deferred is not (yet) a relay", "spammer@outside.test",
     SMTP "51976A723C1: to=<x@victims.test>, relay=none, delay=0, delays=0/0/0/0, dsn=4.4.1, "
          "status=deferred (connection refused)",
     HJ_EV_DELIVERY},
    {"null sender (a bounce passing through)", "",
     SMTP "51976A723C1: to=<x@victims.test>, " SINK SENT_TAIL, HJ_EV_DELIVERY},
    {"custom syslog_name for the smtp client", "spammer@outside.test",
     "postfix-out/smtp[5]: 51976A723C1: to=<x@victims.test>, " SINK SENT_TAIL, HJ_EV_RELAY},
};

static void
test_relay_table(void **state)
{
    int bad = 0;

    for (size_t i = 0; i < sizeof(relay_cases) / sizeof(relay_cases[0]); i++) {
        const relay_case *c = &relay_cases[i];
        fixture *fx = start(state, 0, 0, NULL, 0);
        learn_example_test(fx);
        fx->nev = 0;
        inbound(fx, "51976A723C1", c->from, c->agent_line);
        if (fx->nev != 1 || fx->ev[0].type != c->want) {
            char tb[256];
            print_error("[%s] events: got \"%s\", want \"%s\"\n", c->name,
                        types(fx, tb, sizeof(tb)), type_names[c->want]);
            bad++;
        }
        qtrack_free(fx->q);
        fx->q = NULL;
        fx->nev = 0;
    }
    assert_int_equal(bad, 0);
}

/* an authenticated message to the outside is a submission, never a relay */
static void
test_authenticated_not_relay(void **state)
{
    fixture *fx = start(state, 0, 0, NULL, 0);

    feed(fx, "20:25:00",
         SUB "E813DA723E4: client=unknown[198.51.100.7], sasl_method=PLAIN, "
             "sasl_username=alice@example.test");
    feed(fx, "20:25:00",
         QMGR "E813DA723E4: from=<ceo@outside.test>, size=400, nrcpt=1 (queue active)");
    feed(fx, "20:25:00", SMTP "E813DA723E4: to=<spam1@remote.test>, " SINK SENT_TAIL);
    assert_types(fx, "LOGIN SUBMIT DELIVERY");
    assert_string_equal(fx->ev[1].sender, "ceo@outside.test");
    assert_string_equal(fx->ev[2].account, "alice@example.test");
}

/* local domains: learned from logins and local deliveries */
static void
test_learned_domains(void **state)
{
    fixture *fx = start(state, 0, 0, NULL, 0);

    feed(fx, "20:20:00",
         SUB "00EDCA7238D: client=localhost[127.0.0.1], sasl_method=PLAIN, "
             "sasl_username=alice@example.test");
    feed(fx, "20:20:00",
         SUB "0BA85A7238D: client=localhost[127.0.0.1], sasl_method=PLAIN, "
             "sasl_username=bob@Example.Test");
    feed(fx, "20:20:00",
         SUB "15F82A7238D: client=localhost[127.0.0.1], sasl_method=PLAIN, "
             "sasl_username=carol");
    assert_int_equal(counts(fx).learned_domains, 1);
    /* a local delivery (even of an orphan line) teaches its domain */
    feed(fx, "20:20:01",
         VIRT "1F9BAA7238D: to=<info@hosted.test>, orig_to=<sales@alias.test>, "
              "relay=virtual, delay=0.01, delays=0/0/0/0, dsn=2.0.0, status=sent "
              "(delivered to maildir)");
    assert_int_equal(counts(fx).learned_domains, 3);
    assert_int_equal(counts(fx).orphans, 1);
    /* an smtp delivery does not */
    feed(fx, "20:20:02", SMTP "15F82A7238D: to=<x@remote.test>, " SINK SENT_TAIL);
    assert_int_equal(counts(fx).learned_domains, 3);

    fx->nev = 0;
    inbound(fx, "42375A723EF", "friend@outside.test",
            SMTP "42375A723EF: to=<x@victims.test>, orig_to=<sales@alias.test>, " SINK SENT_TAIL);
    inbound(fx, "4C94AA723EF", "someone@hosted.test",
            SMTP "4C94AA723EF: to=<x@victims.test>, " SINK SENT_TAIL);
    inbound(fx, "51976A723C1", "spammer@outside.test",
            SMTP "51976A723C1: to=<x@victims.test>, " SINK SENT_TAIL);
    assert_types(fx, "DELIVERY DELIVERY RELAY");
}

/*
 * Configured local_domains: nothing is learned, and the configured
 * domains are the local ones.
 *
 * Regression (found by this test, fixed in qtrack_new): configured domains were put in
 * q->domains with a NULL value, and is_local() tests htab_get() != NULL,
 * i.e. the value, so no configured domain is ever local. With
 * local_domains = example.test, mail from friend@outside.test delivered
 * by smtp to bob@gmail.example with orig_to=<bob@example.test> (a
 * forward), or mail from alice@example.test, is reported as HJ_EV_RELAY;
 * it should be HJ_EV_DELIVERY (as it is when example.test is learned).
 */
static void
test_configured_domains(void **state)
{
    char d1[] = "example.test", d2[] = "example.org";
    char *local[] = {d1, d2};
    fixture *fx = start(state, 0, 0, local, 2);

    /* nothing is learned */
    feed(fx, "20:20:00",
         SUB "00EDCA7238D: client=localhost[127.0.0.1], sasl_method=PLAIN, "
             "sasl_username=alice@branch.test");
    feed(fx, "20:20:01",
         VIRT "1F9BAA7238D: to=<info@hosted.test>, relay=virtual, delay=0.01, "
              "delays=0/0/0/0, dsn=2.0.0, status=sent (delivered to maildir)");
    assert_int_equal(counts(fx).learned_domains, 0);
    fx->nev = 0;

    /* branch.test and hosted.test are not local: a relay */
    inbound(fx, "42375A723EF", "x@branch.test",
            SMTP "42375A723EF: to=<y@hosted.test>, " SINK SENT_TAIL);
    assert_types(fx, "RELAY");
    fx->nev = 0;

    /* the configured domains are local */
    inbound(fx, "4C94AA723EF", "alice@example.test",
            SMTP "4C94AA723EF: to=<x@victims.test>, " SINK SENT_TAIL);
    inbound(fx, "51976A723C1", "friend@outside.test",
            SMTP
            "51976A723C1: to=<bob@gmail.example>, orig_to=<bob@example.test>, " SINK SENT_TAIL);
    inbound(fx, "52D51A72403", "friend@outside.test",
            SMTP "52D51A72403: to=<bob@EXAMPLE.org>, " SINK SENT_TAIL);
    assert_types(fx, "DELIVERY DELIVERY DELIVERY");
}

/* ------------------------------------------------------------------ */
/* rejects                                                             */

static void
test_rejects(void **state)
{
    fixture *fx = start(state, 0, 0, NULL, 0);

    feed(fx, "20:25:00",
         MX "NOQUEUE: reject: RCPT from localhost[127.0.0.1]: 554 5.7.1 "
            "<someone@remote.test>: Relay access denied; from=<x@evil.test> "
            "to=<someone@remote.test> proto=ESMTP helo=<vm>");
    /* one recipient of an authenticated message refused: the rest is still submitted */
    feed(fx, "20:25:01",
         SUB "3DA45A723C1: client=localhost[127.0.0.1], sasl_method=PLAIN, "
             "sasl_username=bob@example.test");
    feed(fx, "20:25:01",
         SUB "3DA45A723C1: reject: RCPT from localhost[127.0.0.1]: 550 5.1.1 "
             "<nobody@reject.test>: Recipient address rejected: simulated; "
             "from=<bob@example.test> to=<nobody@reject.test> proto=ESMTP helo=<vm>");
    feed(fx, "20:25:01",
         QMGR "3DA45A723C1: from=<bob@example.test>, size=400, nrcpt=1 (queue active)");
    /* a discarded message is not a submission even if qmgr sees it */
    feed(fx, "20:25:02",
         SUB "4D66EA723D5: client=localhost[127.0.0.1], sasl_method=PLAIN, "
             "sasl_username=alice@example.test");
    feed(fx, "20:25:02",
         SUB "4D66EA723D5: discard: RCPT from localhost[127.0.0.1]: "
             "<a@remote.test>: Recipient address triggers DISCARD action; "
             "from=<alice@example.test> to=<a@remote.test> proto=ESMTP helo=<vm>");
    feed(fx, "20:25:02",
         QMGR "4D66EA723D5: from=<alice@example.test>, size=400, nrcpt=1 (queue active)");

    assert_types(fx, "REJECT LOGIN REJECT SUBMIT LOGIN REJECT");
    const ev_copy *r = &fx->ev[0];
    assert_string_equal(r->account, "");
    assert_string_equal(r->client_ip, "127.0.0.1");
    assert_string_equal(r->client_name, "localhost");
    assert_string_equal(r->sender, "x@evil.test");
    assert_string_equal(r->rcpt, "someone@remote.test");
    assert_string_equal(r->helo, "vm");
    assert_string_equal(r->service, "postfix");
    r = &fx->ev[2];
    assert_string_equal(r->account, "bob@example.test");
    assert_string_equal(r->rcpt, "nobody@reject.test");
    assert_string_equal(fx->ev[5].account, "alice@example.test");
    qtrack_counts c = counts(fx);
    assert_int_equal(c.rejects, 3);
    assert_int_equal(c.submissions, 1);
}

/*
 * A message the policy service refused at END-OF-MESSAGE (the one that took
 * the account over its limit) was an attempt the daemon counted: replay
 * counts it too, once, as one recipient; its later lines change nothing.
 */
static void
test_eom_reject_counts_as_attempt(void **state)
{
    fixture *fx = start(state, 0, 0, NULL, 0);

    feed(fx, "20:30:00",
         SUB "5E1F0A7233C: client=localhost[127.0.0.1], sasl_method=PLAIN, "
             "sasl_username=alice@example.test");
    feed(fx, "20:30:00",
         SUB "5E1F0A7233C: reject: END-OF-MESSAGE from localhost[127.0.0.1]: 554 5.7.1 "
             "Sending from your account is blocked; from=<alice@example.test> "
             "to=<a@remote.test> proto=ESMTP helo=<vm>");
    feed(fx, "20:30:00", QMGR "5E1F0A7233C: removed");
    assert_types(fx, "LOGIN SUBMIT REJECT");
    assert_int_equal(fx->ev[1].nrcpt, 1);
    assert_string_equal(fx->ev[1].account, "alice@example.test");
    assert_string_equal(fx->ev[1].sender, "alice@example.test");
    assert_int_equal(counts(fx).submissions, 1);
}

/* ------------------------------------------------------------------ */
/* queue IDs reused, orphans, memory bounds                            */

/* a short queue ID comes back for another message after "removed" */
static void
test_reused_qid_after_removed(void **state)
{
    fixture *fx = start(state, 0, 0, NULL, 0);

    learn_example_test(fx);
    fx->nev = 0;
    feed(fx, "20:25:00",
         SUB "4D66EA723D5: client=localhost[127.0.0.1], sasl_method=PLAIN, "
             "sasl_username=alice@example.test");
    feed(fx, "20:25:00", "postfix/cleanup[1]: 4D66EA723D5: message-id=<first@example.test>");
    feed(fx, "20:25:00",
         QMGR "4D66EA723D5: from=<alice@example.test>, size=446, nrcpt=1 (queue active)");
    feed(fx, "20:25:00", SMTP "4D66EA723D5: to=<someone@remote.test>, " SINK SENT_TAIL);
    feed(fx, "20:25:00", QMGR "4D66EA723D5: removed");
    assert_int_equal(counts(fx).in_flight, 0);

    /* the same ID, now an unauthenticated relay */
    feed(fx, "21:25:00", MX "4D66EA723D5: client=unknown[203.0.113.200]");
    feed(fx, "21:25:00",
         QMGR "4D66EA723D5: from=<spammer@outside.test>, size=431, nrcpt=1 (queue active)");
    feed(fx, "21:25:00", SMTP "4D66EA723D5: to=<a@victims.test>, " SINK SENT_TAIL);
    feed(fx, "21:25:00", QMGR "4D66EA723D5: removed");

    /* and again, submitted by bob: a new SUBMIT without alice's message-id */
    feed(fx, "22:25:00",
         SUB "4D66EA723D5: client=localhost[127.0.0.1], sasl_method=LOGIN, "
             "sasl_username=bob@example.test");
    feed(fx, "22:25:00",
         QMGR "4D66EA723D5: from=<bob@example.test>, size=100, nrcpt=3 (queue active)");

    assert_types(fx, "LOGIN SUBMIT DELIVERY RELAY LOGIN SUBMIT");
    assert_string_equal(fx->ev[3].account, "");
    assert_string_equal(fx->ev[3].sender, "spammer@outside.test");
    assert_string_equal(fx->ev[5].account, "bob@example.test");
    assert_string_equal(fx->ev[5].sasl_method, "LOGIN");
    assert_string_equal(fx->ev[5].message_id, "");
    assert_int_equal(fx->ev[5].nrcpt, 3);
    assert_int_equal(counts(fx).in_flight, 1);
}

/* a reused ID whose "removed" was never seen: client= starts a new message */
static void
test_reused_qid_without_removed(void **state)
{
    fixture *fx = start(state, 0, 0, NULL, 0);

    feed(fx, "20:25:00",
         SUB "4D66EA723D5: client=localhost[127.0.0.1], sasl_method=PLAIN, "
             "sasl_username=alice@example.test");
    feed(fx, "20:25:00", "postfix/cleanup[1]: 4D66EA723D5: message-id=<first@example.test>");
    feed(fx, "20:25:00",
         QMGR "4D66EA723D5: from=<alice@example.test>, size=446, nrcpt=1 (queue active)");
    feed(fx, "20:26:00",
         "postfix/submission/smtpd[7]: 4D66EA723D5: client=other[192.0.2.77], "
         "sasl_method=LOGIN, sasl_username=bob@example.test");
    feed(fx, "20:26:00",
         QMGR "4D66EA723D5: from=<bob@example.test>, size=100, nrcpt=2 (queue active)");
    feed(fx, "20:26:00", SMTP "4D66EA723D5: to=<x@remote.test>, " SINK SENT_TAIL);
    assert_types(fx, "LOGIN SUBMIT LOGIN SUBMIT DELIVERY");
    const ev_copy *s = nth(fx, HJ_EV_SUBMIT, 1);
    assert_string_equal(s->account, "bob@example.test");
    assert_string_equal(s->client_ip, "192.0.2.77");
    assert_string_equal(s->client_name, "other");
    assert_string_equal(s->sender, "bob@example.test");
    assert_string_equal(s->message_id, "");
    assert_int_equal(s->nrcpt, 2);
    assert_string_equal(fx->ev[4].account, "bob@example.test");
    assert_int_equal(counts(fx).in_flight, 1);
    assert_int_equal(counts(fx).submissions, 2);
}

/* lines for a queue ID never seen arriving */
static void
test_orphans(void **state)
{
    fixture *fx = start(state, 0, 0, NULL, 0);

    feed(fx, "20:25:00", SMTP "52D51A72403: to=<report@remote.test>, " SINK SENT_TAIL);
    feed(fx, "20:25:00", QMGR "52D51A72403: removed");
    assert_int_equal(fx->nev, 0);
    qtrack_counts c = counts(fx);
    assert_int_equal(c.orphans, 1);
    assert_int_equal(c.deliveries, 0);
    assert_int_equal(c.in_flight, 0);
}

/* the cap: at most max_tracked messages, the least recently active forgotten first */
static void
test_max_tracked(void **state)
{
    fixture *fx = start(state, 0, 2, NULL, 0);

    feed(fx, "20:25:00",
         SUB "AAAAA1: client=a[192.0.2.1], sasl_method=PLAIN, sasl_username=a@example.test");
    feed(fx, "20:25:01",
         SUB "BBBBB2: client=b[192.0.2.2], sasl_method=PLAIN, sasl_username=b@example.test");
    feed(fx, "20:25:02",
         "postfix/cleanup[1]: AAAAA1: message-id=<a@example.test>"); /* A is newer now */
    assert_int_equal(counts(fx).in_flight, 2);
    feed(fx, "20:25:03",
         SUB "CCCCC3: client=c[192.0.2.3], sasl_method=PLAIN, sasl_username=c@example.test");
    qtrack_counts c = counts(fx);
    assert_int_equal(c.in_flight, 2);
    assert_int_equal(c.forgotten, 1);

    fx->nev = 0;
    feed(fx, "20:25:04", QMGR "AAAAA1: from=<a@example.test>, size=1, nrcpt=1 (queue active)");
    feed(fx, "20:25:05", QMGR "CCCCC3: from=<c@example.test>, size=1, nrcpt=1 (queue active)");
    assert_types(fx, "SUBMIT SUBMIT");
    assert_string_equal(fx->ev[0].account, "a@example.test");
    assert_string_equal(fx->ev[0].message_id, "a@example.test");
    assert_string_equal(fx->ev[1].account, "c@example.test");
    /* B was forgotten: its delivery is an orphan */
    feed(fx, "20:25:06", SMTP "BBBBB2: to=<x@remote.test>, " SINK SENT_TAIL);
    assert_int_equal(fx->nev, 2);
    c = counts(fx);
    assert_int_equal(c.orphans, 1);
    assert_int_equal(c.in_flight, 2);
    assert_int_equal(c.forgotten, 1);
}

/* many messages through a small cap: the count never goes over it */
static void
test_max_tracked_many(void **state)
{
    fixture *fx = start(state, 0, 5, NULL, 0);
    char buf[256];

    for (int i = 0; i < 100; i++) {
        snprintf(buf, sizeof(buf), MX "%05X0: client=unknown[192.0.2.%d]", 0xA0000 + i, i);
        feed(fx, "20:25:00", buf);
        assert_true(counts(fx).in_flight <= 5);
    }
    qtrack_counts c = counts(fx);
    assert_int_equal(c.in_flight, 5);
    assert_int_equal(c.forgotten, 95);
}

/* the lifetime: a message without "removed" is forgotten after its last line */
static void
test_lifetime_sweep(void **state)
{
    fixture *fx = start(state, 3600, 0, NULL, 0);

    feed(fx, "20:00:00",
         SUB "AAAAA1: client=a[192.0.2.1], sasl_method=PLAIN, sasl_username=a@example.test");
    feed(fx, "20:00:00",
         SUB "DDDDD4: client=d[192.0.2.4], sasl_method=PLAIN, sasl_username=d@example.test");
    feed(fx, "20:50:00",
         SUB "BBBBB2: client=b[192.0.2.2], sasl_method=PLAIN, sasl_username=b@example.test");
    feed(fx, "20:55:00",
         "postfix/cleanup[1]: DDDDD4: message-id=<d@example.test>"); /* D is alive */
    assert_int_equal(counts(fx).forgotten, 0);
    /* 20:00 + 1h + a bit: A is stale (last line 20:00), B and D are not */
    feed(fx, "21:06:40",
         SUB "CCCCC3: client=c[192.0.2.3], sasl_method=PLAIN, sasl_username=c@example.test");
    qtrack_counts c = counts(fx);
    assert_int_equal(c.forgotten, 1);
    assert_int_equal(c.in_flight, 3);

    fx->nev = 0;
    feed(fx, "21:06:41", QMGR "AAAAA1: from=<a@example.test>, size=1, nrcpt=1 (queue active)");
    feed(fx, "21:06:41", QMGR "BBBBB2: from=<b@example.test>, size=1, nrcpt=1 (queue active)");
    feed(fx, "21:06:41", QMGR "DDDDD4: from=<d@example.test>, size=1, nrcpt=1 (queue active)");
    assert_types(fx, "SUBMIT SUBMIT");
    assert_string_equal(fx->ev[0].account, "b@example.test");
    assert_string_equal(fx->ev[1].account, "d@example.test");

    /* an explicit sweep far in the future forgets everything */
    qtrack_sweep(fx->q, T_2026_11_22_202500 + 86400);
    c = counts(fx);
    assert_int_equal(c.in_flight, 0);
    assert_int_equal(c.forgotten, 5); /* A, then B, C, D and the new A */
}

/* feed_raw - one whole line of n bytes (NUL bytes in it) through the parsers into the tracker */
static void
feed_raw(fixture *fx, const char *line, size_t n)
{
    hj_logline l;
    pf_rec r;

    assert_int_equal(logline_parse(&fx->clk, line, n, &l), 0);
    assert_int_not_equal(logparse_postfix(&l, &r), PF_UNKNOWN);
    qtrack_line(fx->q, &l, &r);
}

/*
 * a NUL byte in a bounce line's new queue ID (fuzz_logline): the message was kept under its
 * whole ID but deleted from the table under the ID up to the NUL, so the table kept a pointer
 * to the freed message, which the next line of that ID used (heap-use-after-free)
 */
static void
test_nul_in_dsn_qid(void **state)
{
    fixture *fx = start(state, 0, 1, NULL, 0);
    static const char dsn[] = "Nov 22 20:25:00 mx postfix/bounce[1]: AAAAA1: sender non-delivery "
                              "notification: B\0X";

    feed_raw(fx, dsn, sizeof(dsn) - 1); /* "B\0X" followed */
    assert_int_equal(counts(fx).in_flight, 1);
    feed(fx, "20:25:01", SUB "CCCCC3: client=c[192.0.2.3], sasl_method=PLAIN, sasl_username=c@x.test");
    assert_int_equal(counts(fx).forgotten, 1); /* the cap of 1 forgot "B\0X" */
    feed_raw(fx, dsn, sizeof(dsn) - 1);        /* a new message, not the forgotten one */
    qtrack_counts c = counts(fx);
    assert_int_equal(c.forgotten, 2);
    assert_int_equal(c.in_flight, 1);
}

int
main(void)
{
    setenv("TZ", "UTC", 1);
    tzset();

#define T(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)
    const struct CMUnitTest tests[] = {
        T(test_login),
        T(test_login_failures),
        T(test_submit_and_deliveries),
        T(test_deferred_counted_once),
        T(test_null_sender_submits_dsn_not),
        T(test_pickup_not_submit),
        T(test_relay_detected),
        T(test_relay_without_local_domains),
        T(test_relay_table),
        T(test_authenticated_not_relay),
        T(test_learned_domains),
        T(test_configured_domains),
        T(test_eom_reject_counts_as_attempt),
        T(test_rejects),
        T(test_reused_qid_after_removed),
        T(test_reused_qid_without_removed),
        T(test_orphans),
        T(test_max_tracked),
        T(test_max_tracked_many),
        T(test_lifetime_sweep),
        T(test_nul_in_dsn_qid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
