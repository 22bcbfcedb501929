/*
 * milterfront - the milter front end (see milterfront.h)
 */
#include "milterfront.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../postfix/policy.h"
#include "milterscan.h"
#include "../util/alloc.h"
#include "../util/log.h"

/* the stages and replies counted for /metrics: fixed tables */
enum { ST_OPTNEG, ST_CONNECT, ST_HELO, ST_MAIL, ST_RCPT, ST_EOM, ST_OTHER, ST__COUNT };
enum { RP_CONTINUE, RP_ACCEPT, RP_REJECT, RP_TEMPFAIL, RP_HOLD, RP_NONE, RP__COUNT };
#define RP_PENDING (-2) /* the reply comes with the scan's verdict */
static const char *const stage_names[ST__COUNT] = {"optneg", "connect", "helo", "mail",
                                                   "rcpt",   "eom",     "other"};
static const char *const reply_names[RP__COUNT] = {"continue", "accept", "reject",
                                                   "tempfail", "hold",   "none"};

struct milterfront {
    core *C;
    milterscan *sc; /* NULL: no scanner */
    int64_t counts[ST__COUNT][RP__COUNT];
    int64_t not_held[SCAN_R__COUNT]; /* wanted for a scan, not held: too big, busy */
};

struct scanjob;

/* one milter connection: what it needs of each stage, in fixed-size copies */
typedef struct msess {
    milterfront *mf;
    miltersrv_conn *conn;
    struct scanjob *job; /* a scan in flight for the message that ended */
    mscan_msg scan;      /* the message held for the scanner */
    char peer[64];
    milter_neg neg;
    char client_ip[64], client_name[256], helo[256]; /* the SMTP session */
    char account[STORE_NAME_MAX], sender[330], qid[32];
    char subject[200];   /* the message's Subject: (cut, control bytes as '?'), for the prompt */
    int64_t nrcpt, size; /* the message: recipients taken, bytes seen */
} msess;

/* copy - a value from the MTA into buf: cut to fit, control bytes as '?' */
static const char *
copy(hj_span s, char *buf, size_t cap)
{
    return policy_value(s, buf, cap);
}

/* a scan in flight outlives its message, and maybe its session: s is NULL once it has gone */
typedef struct scanjob {
    msess *s;
    milterfront *mf;
    char account[STORE_NAME_MAX], qid[32], client_ip[64], sender[330], subject[200];
} scanjob;

static void
message_reset(msess *s)
{
    s->account[0] = s->sender[0] = s->qid[0] = s->subject[0] = 0;
    s->nrcpt = s->size = 0;
    milterscan_reset(s->mf->sc, &s->scan);
}

/* job_cancel - the MTA gave up on the message (ABORT, a new session, the connection closed):
 * its verdict, when it comes, is answered to nobody */
static void
job_cancel(msess *s)
{
    if (s->job)
        s->job->s = NULL;
    s->job = NULL;
}

static void
session_reset(msess *s)
{
    s->client_ip[0] = s->client_name[0] = s->helo[0] = 0;
    message_reset(s);
}

static void *
mf_open(void *ctx, const char *peer, miltersrv_conn *k)
{
    msess *s = xcalloc(1, sizeof(*s));

    s->mf = ctx;
    s->conn = k;
    s->scan = (mscan_msg){.b = HJ_BUF_INIT};
    snprintf(s->peer, sizeof(s->peer), "%s", peer);
    return s;
}

static void
mf_close(void *ctx, void *session)
{
    msess *s = session;

    (void)ctx;
    job_cancel(s);
    message_reset(s);
    free(s);
}

/* macros - keep the login and the queue ID, whichever stage brings them */
static void
macros(msess *s, const milter_cmd *c)
{
    hj_span v = milter_getmacro(c, "auth_authen");

    if (v.p && v.n)
        copy(v, s->account, sizeof(s->account));
    v = milter_getmacro(c, "i");
    if (v.p && v.n)
        copy(v, s->qid, sizeof(s->qid));
}

/* sender_of - MAIL's argument without its angle brackets ("" for the null sender) */
static void
sender_of(msess *s, hj_span arg)
{
    if (arg.n >= 2 && arg.p[0] == '<' && arg.p[arg.n - 1] == '>')
        arg = (hj_span){arg.p + 1, arg.n - 2};
    copy(arg, s->sender, sizeof(s->sender));
}

/* judge - the core's verdict on this message (count: its end) */
static void
judge(msess *s, int count, core_verdict *v)
{
    core_msg m = {.account = s->account, .client_ip = s->client_ip, .client_name = s->client_name,
                  .helo = s->helo, .sender = s->sender, .queue_id = s->qid,
                  .service = "milter", .nrcpt = s->nrcpt, .size = s->size, .count = count};

    core_judge(s->mf->C, &m, (int64_t)time(NULL), v);
}

/* verdict_reply - the verdict as the MTA's answer; the reply kind counted */
static int
verdict_reply(msess *s, const core_verdict *v, hj_buf *out)
{
    const hj_conf *c = core_conf(s->mf->C);
    core_kind k = v->kind;

    if (k == CORE_FAIL && c->store_error_action == CONF_FAIL_DEFER) {
        milter_put_replycode(out, "451", "4.3.0", "hijackd: temporary failure, try again");
        return RP_TEMPFAIL;
    }
    if (k == CORE_REJECT && milter_put_replycode(out, "550", NULL, v->text) == 0)
        return RP_REJECT;
    if (k == CORE_DEFER && milter_put_replycode(out, "450", NULL, v->text) == 0)
        return RP_TEMPFAIL;
    if (k == CORE_REJECT || k == CORE_DEFER) { /* a text the milter cannot carry */
        log_error("internal: the reply text for %s does not fit the milter", s->account);
        milter_put(out, k == CORE_REJECT ? MILTER_R_REJECT : MILTER_R_TEMPFAIL);
        return k == CORE_REJECT ? RP_REJECT : RP_TEMPFAIL;
    }
    milter_put(out, MILTER_R_CONTINUE);
    return RP_CONTINUE;
}

/* on_rcpt - a locked or throttled account is refused here; mail without a login is let go */
static int
on_rcpt(msess *s, const milter_cmd *c, hj_buf *out)
{
    core_verdict v;
    char rcpt[330];

    if (s->account[0] == 0) {
        milter_put(out, MILTER_R_ACCEPT);
        return RP_ACCEPT;
    }
    judge(s, 0, &v);
    int rp = verdict_reply(s, &v, out);
    if (rp == RP_CONTINUE) {
        s->nrcpt++;
        milterscan_rcpt(s->mf->sc, &s->scan, s->account, copy(c->arg, rcpt, sizeof(rcpt)));
    }
    return rp;
}

/* hold - the MTA's quarantine (Postfix: the hold queue), where it was granted */
static int
hold(msess *s, const scanjob *job, const scan_verdict *v, hj_buf *out)
{
    char why[MILTER_QUARANTINE_MAX + 1];

    if (!(s->neg.actions & MILTER_F_QUARANTINE)) {
        log_warn("milter client %s: no quarantine granted: %s's %s message passes", s->peer,
                 job->account, scan_class_name(v->cls));
        milter_put(out, MILTER_R_CONTINUE);
        return RP_CONTINUE;
    }
    snprintf(why, sizeof(why), "hijackd: %s (%.1f/%.1f)", scan_class_name(v->cls), v->score,
             v->threshold);
    milter_put_quarantine(out, why);
    milter_put(out, MILTER_R_CONTINUE);
    return RP_HOLD;
}

/* hold_held - a held account's message (action=hold): quarantined where the MTA granted it */
static int
hold_held(msess *s, const core_verdict *v, hj_buf *out)
{
    char why[MILTER_QUARANTINE_MAX + 1];

    if (!(s->neg.actions & MILTER_F_QUARANTINE)) {
        log_warn("milter client %s: no quarantine granted: held %s's message passes", s->peer,
                 s->account);
        milter_put(out, MILTER_R_CONTINUE);
        return RP_CONTINUE;
    }
    size_t n = strlen(v->text) < sizeof(why) - 1 ? strlen(v->text) : sizeof(why) - 1;
    memcpy(why, v->text, n); /* cut to the milter's room for a reason */
    why[n] = 0;
    milter_put_quarantine(out, why);
    milter_put(out, MILTER_R_CONTINUE);
    return RP_HOLD;
}

/* spam_reply - what the verdict does to the message (spam_action, spam_suspect_action) */
static int
spam_reply(msess *s, const scanjob *job, const scan_verdict *v, hj_buf *out)
{
    const hj_conf *c = core_conf(s->mf->C);
    int action = v->cls == SCAN_SPAM      ? c->spam_action
                 : v->cls == SCAN_SUSPECT ? c->spam_suspect_action
                                          : CONF_SPAM_PASS;

    if (action == CONF_SPAM_REJECT && milter_put_replycode(out, "550", NULL, c->spam_reject_text) == 0)
        return RP_REJECT;
    if (action == CONF_SPAM_HOLD)
        return hold(s, job, v, out);
    milter_put(out, MILTER_R_CONTINUE);
    return RP_CONTINUE;
}

/* count_verdict - the verdict as the account's evidence: counted for the spam rules, the score,
 * the decision's evidence (core_spam_verdict, which logs it) */
static void
count_verdict(const scanjob *job, const scan_verdict *v)
{
    char symbols[400];
    core_verdict cv;
    core_spam sp = {.account = job->account, .queue_id = job->qid, .client_ip = job->client_ip,
                    .sender = job->sender, .service = "milter", .subject = job->subject};

    milterscan_core_spam(v, &sp, symbols, sizeof(symbols));
    core_spam_verdict(job->mf->C, &sp, (int64_t)time(NULL), &cv);
}

/* on_scanned - the scanner's verdict on a message that ended: the reply the MTA waits for */
static void
on_scanned(void *arg, const scan_verdict *v)
{
    scanjob *job = arg;
    msess *s = job->s;
    hj_buf out = HJ_BUF_INIT;

    count_verdict(job, v); /* whether or not the MTA still waits for the answer */
    if (s != NULL) { /* else the MTA gave up on it */
        s->job = NULL;
        int rp = spam_reply(s, job, v, &out);
        s->mf->counts[ST_EOM][rp]++;
        miltersrv_send(s->conn, out.s, out.len);
        buf_free(&out);
    }
    free(job);
}

/* scan - hand the message that ended to the scanner; RP_NONE when it is not scanned */
static int
scan(msess *s)
{
    const char *rcpt = NULL;
    scan_envelope env = {.user = s->account, .ip = s->client_ip, .helo = s->helo,
                         .from = s->sender, .queue_id = s->qid, .rcpt = &rcpt, .nrcpt = 0};
    scanjob *job = xcalloc(1, sizeof(*job));

    job->s = s;
    job->mf = s->mf;
    memcpy(job->account, s->account, sizeof(job->account));
    memcpy(job->qid, s->qid, sizeof(job->qid));
    memcpy(job->client_ip, s->client_ip, sizeof(job->client_ip));
    memcpy(job->sender, s->sender, sizeof(job->sender));
    memcpy(job->subject, s->subject, sizeof(job->subject));
    s->job = job;
    int rc = milterscan_start(s->mf->sc, &s->scan, &env, on_scanned, job);
    if (rc == 1)
        return RP_PENDING;
    s->job = NULL;
    free(job);
    if (rc < 0)
        s->mf->not_held[s->scan.refused]++;
    return RP_NONE;
}

/* on_eom - the message is counted and judged */
static int
on_eom(msess *s, hj_buf *out)
{
    core_verdict v;
    int rp = RP_CONTINUE;

    if (s->account[0] && s->nrcpt > 0) {
        judge(s, 1, &v);
        if (v.kind == CORE_OK || v.kind == CORE_WARN)
            rp = scan(s);
        if (v.kind == CORE_HOLD)
            rp = hold_held(s, &v, out); /* held for review: not scanned */
        else if (rp != RP_PENDING)
            rp = verdict_reply(s, &v, out);
    } else {
        milter_put(out, MILTER_R_CONTINUE);
    }
    message_reset(s);
    return rp;
}

/* on_optneg - version 6 and the macro lists; a peer that cannot have them is closed */
static int
on_optneg(msess *s, const milter_cmd *c, hj_buf *out)
{
    char err[160];

    if (milter_negotiate(c, MILTER_WANT_ACTIONS, MILTER_WANT_PROTOCOL, &s->neg, err,
                         sizeof(err)) != 0) {
        log_warn("milter client %s: %s: closing the connection", s->peer, err);
        return -1;
    }
    milter_put_optneg(out, &s->neg);
    return RP_NONE;
}

/* on_connect - the SMTP client, as the MTA saw it */
static void
on_connect(msess *s, const milter_cmd *c)
{
    session_reset(s);
    copy(c->host, s->client_name, sizeof(s->client_name));
    if (c->family == '4' || c->family == '6')
        copy(c->addr, s->client_ip, sizeof(s->client_ip));
}

/* hold_bytes - a header ("name: value\r\n") or, with name empty and no value, the blank line
 * after the headers, into the message held for the scanner */
static void
hold_bytes(msess *s, hj_span name, hj_span value)
{
    milterscan *sc = s->mf->sc;

    if (sc == NULL || s->account[0] == 0)
        return;
    if (value.p) {
        milterscan_add(sc, &s->scan, name.p, name.n);
        milterscan_add(sc, &s->scan, ": ", 2);
        milterscan_add(sc, &s->scan, value.p, value.n);
    }
    milterscan_add(sc, &s->scan, "\r\n", 2);
}

/* step - what a command does to the session; the reply it wrote (RP_NONE: none yet) */
static int
step(msess *s, const milter_cmd *c, hj_buf *out, int *stage)
{
    switch (c->type) {
    case MILTER_CMD_OPTNEG:
        *stage = ST_OPTNEG;
        return on_optneg(s, c, out);
    case MILTER_CMD_MACRO:
        macros(s, c);
        return RP_NONE;
    case MILTER_CMD_CONNECT:
        *stage = ST_CONNECT;
        on_connect(s, c);
        return RP_NONE;
    case MILTER_CMD_HELO:
        *stage = ST_HELO;
        copy(c->arg, s->helo, sizeof(s->helo));
        return RP_NONE;
    case MILTER_CMD_MAIL:
        *stage = ST_MAIL;
        sender_of(s, c->arg);
        return RP_NONE;
    case MILTER_CMD_RCPT:
        *stage = ST_RCPT;
        return on_rcpt(s, c, out);
    case MILTER_CMD_HEADER: /* the size as the queue file will have it: "name: value\r\n" */
        s->size += (int64_t)(c->arg.n + c->value.n + 4);
        if (c->arg.n == 7 && strncasecmp(c->arg.p, "subject", 7) == 0 && !s->subject[0])
            copy(c->value, s->subject, sizeof(s->subject));
        hold_bytes(s, c->arg, c->value);
        return RP_NONE;
    case MILTER_CMD_EOH:
        s->size += 2;
        hold_bytes(s, (hj_span){"", 0}, (hj_span){NULL, 0});
        return RP_NONE;
    case MILTER_CMD_BODY:
        s->size += (int64_t)c->body.n;
        if (s->account[0])
            milterscan_add(s->mf->sc, &s->scan, c->body.p, c->body.n);
        return RP_NONE;
    case MILTER_CMD_EOB:
        *stage = ST_EOM;
        return on_eom(s, out);
    case MILTER_CMD_ABORT:
        job_cancel(s);
        message_reset(s);
        return RP_NONE;
    case MILTER_CMD_QUIT_NC:
        job_cancel(s);
        session_reset(s);
        return RP_NONE;
    default: /* DATA, UNKNOWN, QUIT */
        return RP_NONE;
    }
}

static int
mf_command(void *ctx, void *session, const milter_cmd *c, hj_buf *out)
{
    milterfront *mf = ctx;
    msess *s = session;
    int stage = ST_OTHER;
    int rp = step(s, c, out, &stage);

    if (rp == RP_PENDING)
        return 0; /* counted when the verdict is answered */
    if (rp < 0)
        return -1;
    if (c->type == MILTER_CMD_QUIT)
        return -1; /* the MTA is done: close */
    if (rp == RP_NONE && c->type != MILTER_CMD_OPTNEG && milter_reply_expected(&s->neg, c->type)) {
        milter_put(out, MILTER_R_CONTINUE);
        rp = RP_CONTINUE;
    }
    if (c->type != MILTER_CMD_MACRO)
        mf->counts[stage][rp]++;
    return 0;
}

const miltersrv_ops milterfront_ops = {mf_open, mf_command, mf_close};

milterfront *
milterfront_new(core *C, struct event_base *base, char *err, size_t errlen)
{
    milterscan *sc = milterscan_new(base, C, err, errlen);

    if (sc == NULL && err[0])
        return NULL;
    milterfront *mf = xcalloc(1, sizeof(*mf));
    mf->C = C;
    mf->sc = sc;
    return mf;
}

void
milterfront_scan_stats(const milterfront *mf, scan_stats *st, int64_t *held,
                       int64_t not_held[SCAN_R__COUNT])
{
    milterscan_stats(mf->sc, st, held);
    memcpy(not_held, mf->not_held, sizeof(mf->not_held));
}

int
milterfront_scans(const milterfront *mf)
{
    return mf->sc != NULL;
}

int64_t
milterfront_scanner_down(const milterfront *mf, const char **why)
{
    return milterscan_down_since(mf->sc, why);
}

void
milterfront_counts(const milterfront *mf,
                   void (*fn)(void *ctx, const char *stage, const char *reply, int64_t n),
                   void *ctx)
{
    for (int s = 0; s < ST__COUNT; s++)
        for (int r = 0; r < RP__COUNT; r++)
            if (mf->counts[s][r])
                fn(ctx, stage_names[s], reply_names[r], mf->counts[s][r]);
}

void
milterfront_free(milterfront *mf)
{
    if (mf == NULL)
        return;
    milterscan_free(mf->sc);
    free(mf);
}
