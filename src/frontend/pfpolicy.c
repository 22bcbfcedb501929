/*
 * pfpolicy - the Postfix policy front end (see pfpolicy.h)
 */
#include "pfpolicy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../util/alloc.h"
#include "../util/log.h"

static const char *const fail_reply[] = {"action=DUNNO\n\n", "action=DEFER 4.3.0 hijackd: "
                                                             "temporary failure, try again\n\n"};

/* the policy protocol's stages and the answers: fixed tables, so counting a request is two
 * short scans and an increment */
static const char *const stages[] = {"CONNECT", "EHLO",           "HELO", "MAIL", "RCPT",
                                     "DATA",    "END-OF-MESSAGE", "VRFY", "ETRN", "other"};
static const char *const answers[] = {"DUNNO", "REJECT", "DEFER_IF_PERMIT", "DEFER", "HOLD",
                                      "other"};
#define NSTAGES (sizeof(stages) / sizeof(stages[0]))
#define NANSWERS (sizeof(answers) / sizeof(answers[0]))
enum { ANS_DUNNO, ANS_REJECT, ANS_DEFER_IF_PERMIT, ANS_DEFER, ANS_HOLD };

/* the verdict's Postfix action (FAIL: by store_error_action) */
static const int verdict_answer[CORE_KIND__COUNT] = {
    [CORE_OK] = ANS_DUNNO,
    [CORE_WARN] = ANS_DUNNO,
    [CORE_DEFER] = ANS_DEFER_IF_PERMIT,
    [CORE_HOLD] = ANS_HOLD, /* access(5): accepted, into the hold queue; the text is logged */
    [CORE_REJECT] = ANS_REJECT,
    [CORE_FAIL] = -1,
};

struct pfpolicy {
    core *C;
    int64_t counts[NSTAGES][NANSWERS];
};

pfpolicy *
pfpolicy_new(core *C)
{
    pfpolicy *pp = xcalloc(1, sizeof(*pp));

    pp->C = C;
    return pp;
}

void
pfpolicy_free(pfpolicy *pp)
{
    free(pp);
}

const char *
pfpolicy_fail_reply(int action)
{
    return fail_reply[action == CONF_FAIL_DEFER];
}

/* stage_slot - the index of a protocol_state in stages, or the last one ("other") */
static size_t
stage_slot(hj_span s)
{
    size_t i = 0;

    while (i < NSTAGES - 1 && !span_eq(s, stages[i]))
        i++;
    return i;
}

/* cstr - a value as a string: cut to fit, control bytes as '?' (a name with a CR is still
 * counted, under its sanitised name) */
static const char *
cstr(hj_span s, char *buf, size_t cap)
{
    return policy_value(s, buf, cap);
}

/* fail_answer - the reply of a failure action (dunno or defer) */
static size_t
fail_answer(int action, char *out, size_t outlen, int *ans)
{
    const char *r = pfpolicy_fail_reply(action);
    size_t n = strlen(r);

    *ans = action == CONF_FAIL_DEFER ? ANS_DEFER : ANS_DUNNO;
    memcpy(out, r, n < outlen ? n : outlen);
    return n < outlen ? n : outlen;
}

/* reply - the verdict as Postfix's answer; one that does not fit is an internal error */
static size_t
reply(const pfpolicy *pp, const core_verdict *v, char *out, size_t outlen, int *ans)
{
    const hj_conf *c = core_conf(pp->C);

    *ans = verdict_answer[v->kind];
    if (*ans < 0)
        return fail_answer(c->store_error_action, out, outlen, ans);
    const char *text = *ans == ANS_DUNNO ? NULL : v->text;
    size_t n = policy_reply(out, outlen, answers[*ans], text);
    if (n == 0) {
        log_error("internal: the answer %s does not fit in %zu bytes", answers[*ans], outlen);
        n = fail_answer(c->internal_error_action, out, outlen, ans);
    }
    return n;
}

/* judge - the request as the core's message, and its verdict */
static void
judge(pfpolicy *pp, const policy_req *rq, const char *acct, core_verdict *v)
{
    char ip[64], name[256], helo[256], sender[320], qid[32], rcpt[330], inst[128];
    const hj_conf *c = core_conf(pp->C);
    int rcpt_stage = c->policy_count_stage == CONF_COUNT_RCPT;
    core_msg m = {.account = acct, .service = "policy", .per_rcpt = rcpt_stage};

    m.client_ip = cstr(rq->a[PA_CLIENT_ADDRESS], ip, sizeof(ip));
    m.client_name = cstr(rq->a[PA_CLIENT_NAME], name, sizeof(name));
    m.helo = cstr(rq->a[PA_HELO_NAME], helo, sizeof(helo));
    /* a missing attribute is unknown; "sender=" (empty) is the null sender */
    m.sender = rq->a[PA_SENDER].p ? cstr(rq->a[PA_SENDER], sender, sizeof(sender)) : NULL;
    m.queue_id = cstr(rq->a[PA_QUEUE_ID], qid, sizeof(qid));
    m.recipient = rq->a[PA_RECIPIENT].n <= 320 ? cstr(rq->a[PA_RECIPIENT], rcpt, sizeof(rcpt)) : "";
    m.txn = rq->a[PA_INSTANCE].n < sizeof(inst) ? cstr(rq->a[PA_INSTANCE], inst, sizeof(inst)) : "";
    m.nrcpt = policy_number(rq->a[PA_RECIPIENT_COUNT]);
    m.size = policy_number(rq->a[PA_SIZE]);
    m.count = span_eq(rq->a[PA_PROTOCOL_STATE], rcpt_stage ? "RCPT" : "END-OF-MESSAGE");
    core_judge(pp->C, &m, (int64_t)time(NULL), v);
}

size_t
pfpolicy_answer(void *ctx, const policy_req *rq, char *out, size_t outlen)
{
    pfpolicy *pp = ctx;
    char acct[STORE_NAME_MAX];
    core_verdict v;
    size_t n;
    int ans = ANS_DUNNO;

    if (rq->a[PA_SASL_USERNAME].n == 0) {
        n = policy_reply(out, outlen, "DUNNO", NULL);
    } else {
        cstr(rq->a[PA_SASL_USERNAME], acct, sizeof(acct));
        judge(pp, rq, acct, &v);
        n = reply(pp, &v, out, outlen, &ans);
    }
    pp->counts[stage_slot(rq->a[PA_PROTOCOL_STATE])][ans]++;
    return n;
}

void
pfpolicy_counts(const pfpolicy *pp,
                void (*fn)(void *ctx, const char *stage, const char *answer, int64_t n), void *ctx)
{
    for (size_t s = 0; s < NSTAGES; s++)
        for (size_t a = 0; a < NANSWERS; a++)
            if (pp->counts[s][a])
                fn(ctx, stages[s], answers[a], pp->counts[s][a]);
}
