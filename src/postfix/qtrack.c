/*
 * qtrack - queue-ID tracker (see qtrack.h)
 */
#include "qtrack.h"

#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "../util/alloc.h"
#include "../util/htab.h"

#define QT_SWEEP_EVERY 600

typedef struct qt_msg {
    struct qt_msg *prev, *next; /* by last activity, oldest first */
    int64_t t_last;
    char *account, *client_ip, *client_name, *sasl_method, *service, *msgid, *sender;
    int64_t size, nrcpt;
    bool from_smtpd, from_pickup, is_dsn, submitted, discarded;
    size_t qidlen; /* the table's key is qid[0..qidlen): a hostile ID may hold a NUL */
    char qid[];
} qt_msg;

struct qtrack {
    qtrack_conf conf;
    qtrack_event_fn fn;
    void *ctx;
    htab *msgs;
    htab *domains; /* local domains, configured or learned */
    bool learn;
    qt_msg *oldest, *newest;
    int64_t last_sweep;
    qtrack_counts n;
};

/* sdup - a NUL-terminated copy of a span, NULL when empty */
static char *
sdup(hj_span s)
{
    return s.p && s.n ? xstrndup(s.p, s.n) : NULL;
}

/* scpy - copy a span into a fixed buffer (truncating), returns dst */
static char *
scpy(char *dst, size_t cap, hj_span s)
{
    size_t n = s.p ? (s.n < cap - 1 ? s.n : cap - 1) : 0;

    if (n)
        memcpy(dst, s.p, n);
    dst[n] = 0;
    return dst;
}

static void
list_unlink(qtrack *q, qt_msg *m)
{
    if (m->prev)
        m->prev->next = m->next;
    else
        q->oldest = m->next;
    if (m->next)
        m->next->prev = m->prev;
    else
        q->newest = m->prev;
    m->prev = m->next = NULL;
}

static void
list_append(qtrack *q, qt_msg *m)
{
    m->prev = q->newest;
    m->next = NULL;
    if (q->newest)
        q->newest->next = m;
    else
        q->oldest = m;
    q->newest = m;
}

/* msg_clear - free a message's strings */
static void
msg_clear(qt_msg *m)
{
    free(m->account);
    free(m->client_ip);
    free(m->client_name);
    free(m->sasl_method);
    free(m->service);
    free(m->msgid);
    free(m->sender);
}

/* msg_drop - forget a message */
static void
msg_drop(qtrack *q, qt_msg *m)
{
    list_unlink(q, m);
    htab_del(q->msgs, m->qid, m->qidlen);
    msg_clear(m);
    free(m);
    q->n.in_flight--;
}

/* msg_touch - note activity: move to the newest end */
static void
msg_touch(qtrack *q, qt_msg *m, int64_t t)
{
    if (t > m->t_last)
        m->t_last = t;
    if (q->newest != m) {
        list_unlink(q, m);
        list_append(q, m);
    }
}

/* msg_get - the message with this queue ID; create (fresh) when asked */
static qt_msg *
msg_get(qtrack *q, hj_span qid, int64_t t, bool create)
{
    qt_msg *m = htab_get(q->msgs, qid.p, qid.n);

    if (m || !create) {
        if (m)
            msg_touch(q, m, t);
        return m;
    }
    while (q->n.in_flight >= (int64_t)q->conf.max_tracked && q->oldest) {
        msg_drop(q, q->oldest);
        q->n.forgotten++;
    }
    m = xcalloc(1, sizeof(*m) + qid.n + 1);
    memcpy(m->qid, qid.p, qid.n);
    m->qidlen = qid.n;
    m->t_last = t;
    htab_put(q->msgs, qid.p, qid.n, m, NULL);
    list_append(q, m);
    q->n.in_flight++;
    return m;
}

qtrack *
qtrack_new(const qtrack_conf *conf, qtrack_event_fn fn, void *ctx)
{
    qtrack *q = xcalloc(1, sizeof(*q));

    q->conf = *conf;
    if (q->conf.max_tracked == 0)
        q->conf.max_tracked = 1;
    q->fn = fn;
    q->ctx = ctx;
    q->msgs = htab_new(4096);
    q->domains = htab_new(64);
    for (size_t i = 0; i < conf->nlocal; i++) {
        htab_node *n = htab_put(q->domains, conf->local_domains[i], strlen(conf->local_domains[i]),
                                NULL, NULL);
        n->value = n; /* any non-NULL value marks presence */
    }
    q->learn = conf->nlocal == 0;
    return q;
}

/* domain_of - the lower-cased domain of an address into buf, "" if none */
static const char *
domain_of(hj_span addr, char *buf, size_t cap)
{
    const char *at = addr.p ? memrchr(addr.p, '@', addr.n) : NULL;
    size_t n = at ? addr.n - (size_t)(at - addr.p) - 1 : 0;

    if (n >= cap)
        n = cap - 1;
    for (size_t i = 0; i < n; i++)
        buf[i] = (char)tolower((unsigned char)at[1 + i]);
    buf[n] = 0;
    return buf;
}

/* is_local - is the address's domain one of ours */
static bool
is_local(const qtrack *q, hj_span addr)
{
    char d[256];

    domain_of(addr, d, sizeof(d));
    return *d && htab_get(q->domains, d, strlen(d)) != NULL;
}

/* learn_domain - remember the address's domain as local (when learning) */
static void
learn_domain(qtrack *q, hj_span addr)
{
    char d[256];
    int created;

    if (!q->learn || !*domain_of(addr, d, sizeof(d)))
        return;
    htab_node *n = htab_put(q->domains, d, strlen(d), NULL, &created);
    n->value = n; /* any non-NULL value marks presence */
    q->n.learned_domains += created;
}

/* event_base - an event stamped with the line's time and service */
static hj_event
event_base(const hj_logline *l, hj_event_type type)
{
    return (hj_event){.type = type, .t = l->t, .tzoff = l->tzoff};
}

static void
on_client(qtrack *q, const hj_logline *l, const pf_rec *r)
{
    qt_msg *m = msg_get(q, r->qid, l->t, true);
    char svc[128];

    msg_clear(m); /* a reused short queue ID starts a new message */
    /* not a struct assignment: its trailing padding may overlap qid[] */
    qt_msg *prev = m->prev, *next = m->next;
    size_t qidlen = m->qidlen;
    memset(m, 0, offsetof(qt_msg, qid));
    m->prev = prev;
    m->next = next;
    m->qidlen = qidlen;
    m->t_last = l->t;
    m->from_smtpd = true;
    m->client_ip = sdup(r->client_ip);
    m->client_name = sdup(r->client_name);
    m->account = sdup(r->sasl_user);
    m->sasl_method = sdup(r->sasl_method);
    m->service = sdup(l->svc);
    if (m->account == NULL)
        return;
    learn_domain(q, r->sasl_user);
    hj_event ev = event_base(l, HJ_EV_LOGIN);
    ev.account = m->account;
    ev.client_ip = m->client_ip;
    ev.client_name = m->client_name;
    ev.sasl_method = m->sasl_method;
    ev.service = scpy(svc, sizeof(svc), l->svc);
    ev.queue_id = m->qid;
    q->n.logins++;
    q->fn(q->ctx, &ev);
}

static void
on_auth_fail(qtrack *q, const hj_logline *l, const pf_rec *r)
{
    char user[256], ip[64], name[256], method[32], svc[128];
    hj_event ev = event_base(l, HJ_EV_LOGIN_FAIL);

    scpy(user, sizeof(user), r->sasl_user);
    ev.account = *user && strcmp(user, "(unavailable)") != 0 ? user : NULL;
    ev.client_ip = scpy(ip, sizeof(ip), r->client_ip);
    ev.client_name = scpy(name, sizeof(name), r->client_name);
    ev.sasl_method = scpy(method, sizeof(method), r->sasl_method);
    ev.service = scpy(svc, sizeof(svc), l->svc);
    q->n.login_failures++;
    q->fn(q->ctx, &ev);
}

static void on_qfrom_submit(qtrack *q, const hj_logline *l, qt_msg *m);

/*
 * eom_attempt - an authenticated message refused at END-OF-MESSAGE was
 * still an attempt to send, and the live policy service counted it (it is
 * the message that took the account over its limit): count it the same,
 * so replay decides as the daemon did. Its recipients are not logged:
 * it counts one.
 */
static void
eom_attempt(qtrack *q, const hj_logline *l, qt_msg *m)
{
    m->submitted = true;
    m->nrcpt = 1;
    on_qfrom_submit(q, l, m);
}

/* spam_reject - a milter's END-OF-MESSAGE refusal with hijackd's spam text: the verdict that
 * made it, for the account (the text is compared from the reply's start, or after its enhanced
 * status code when the configured text has none) */
static void
spam_reject(qtrack *q, const hj_logline *l, const pf_rec *r, const qt_msg *m)
{
    const char *t = q->conf.spam_reject_text;
    char svc[128];

    if (t == NULL || *t == 0 || m->account == NULL || !r->eom_reject)
        return;
    size_t n = strlen(t);
    hj_span rp = r->reply;
    int same = rp.n >= n && memcmp(rp.p, t, n) == 0;
    if (!same && rp.n > 6 + n && rp.p[1] == '.' && rp.p[5] == ' ') /* the text without "5.7.1 " */
        same = memcmp(rp.p + 6, t, n) == 0;
    if (!same)
        return;
    hj_event ev = event_base(l, HJ_EV_SPAM);
    ev.account = m->account;
    ev.client_ip = m->client_ip;
    ev.queue_id = m->qid;
    ev.sender = m->sender;
    ev.service = scpy(svc, sizeof(svc), l->svc);
    ev.spam = HJ_SPAM_SPAM;
    q->n.spam_rejects++;
    q->fn(q->ctx, &ev);
}

static void
on_reject(qtrack *q, const hj_logline *l, const pf_rec *r)
{
    char ip[64], name[256], from[320], to[320], helo[256], dsn[64], svc[128];
    qt_msg *m = r->qid.n ? msg_get(q, r->qid, l->t, false) : NULL;
    hj_event ev = event_base(l, HJ_EV_REJECT);

    if (m && r->kind == PF_DISCARD)
        m->discarded = true;
    if (m && r->eom_reject && m->account && m->from_smtpd && !m->submitted) {
        if (m->sender == NULL && r->from.p)
            m->sender = xstrndup(r->from.p, r->from.n);
        eom_attempt(q, l, m);
    }
    if (m)
        spam_reject(q, l, r, m);
    ev.account = m ? m->account : NULL;
    ev.client_ip = scpy(ip, sizeof(ip), r->client_ip);
    ev.client_name = scpy(name, sizeof(name), r->client_name);
    ev.sender = scpy(from, sizeof(from), r->from);
    ev.rcpt = scpy(to, sizeof(to), r->to);
    ev.helo = scpy(helo, sizeof(helo), r->helo);
    ev.dsn = scpy(dsn, sizeof(dsn), r->dsn);
    ev.service = scpy(svc, sizeof(svc), l->svc);
    q->n.rejects++;
    q->fn(q->ctx, &ev);
}

static void
on_qfrom(qtrack *q, const hj_logline *l, const pf_rec *r)
{
    qt_msg *m = msg_get(q, r->qid, l->t, true);

    if (m->submitted)
        return; /* a deferred message coming back: counted once */
    m->submitted = true;
    free(m->sender);
    m->sender = xstrndup(r->from.p ? r->from.p : "", r->from.p ? r->from.n : 0);
    m->size = r->size;
    m->nrcpt = r->nrcpt;
    if (*m->sender == 0)
        m->is_dsn = true;
    /* an authenticated client's MAIL FROM:<> is its choice, not a DSN: the engine judges it by
     * its login (policy_never_counted) */
    if (m->account == NULL || m->discarded || !m->from_smtpd)
        return;
    on_qfrom_submit(q, l, m);
}

/* on_qfrom_submit - the submission event of an authenticated message */
static void
on_qfrom_submit(qtrack *q, const hj_logline *l, qt_msg *m)
{
    hj_event ev = event_base(l, HJ_EV_SUBMIT);
    ev.account = m->account;
    ev.client_ip = m->client_ip;
    ev.client_name = m->client_name;
    ev.sasl_method = m->sasl_method;
    ev.service = m->service;
    ev.queue_id = m->qid;
    ev.sender = m->sender;
    ev.nrcpt = m->nrcpt;
    ev.size = m->size;
    ev.message_id = m->msgid;
    q->n.submissions++;
    q->fn(q->ctx, &ev);
}

/* relayed - unauthenticated outside-to-outside mail that is not a forward */
static bool
relayed(const qtrack *q, const qt_msg *m, const pf_rec *r)
{
    if (m->account || !m->from_smtpd || m->is_dsn || !r->smtp_agent || !m->sender || !*m->sender)
        return false;
    if (r->status != HJ_DLV_SENT && r->status != HJ_DLV_BOUNCED)
        return false;
    if (r->orig_to.p && is_local(q, r->orig_to))
        return false; /* a forward of a local user's mail */
    hj_span sender = {m->sender, strlen(m->sender)};
    return !is_local(q, sender) && !is_local(q, r->to);
}

static void
on_delivery(qtrack *q, const hj_logline *l, const pf_rec *r)
{
    char to[320], orig[320], relay[256], dsn[32];
    qt_msg *m = msg_get(q, r->qid, l->t, false);

    if (r->local_agent) {
        learn_domain(q, r->to);
        if (r->orig_to.p)
            learn_domain(q, r->orig_to);
    }
    if (m == NULL) {
        q->n.orphans++;
        return;
    }
    hj_event ev = event_base(l, HJ_EV_DELIVERY);
    ev.account = m->account;
    ev.client_ip = m->client_ip;
    ev.client_name = m->client_name;
    ev.queue_id = m->qid;
    ev.sender = m->sender;
    ev.service = m->service;
    ev.rcpt = scpy(to, sizeof(to), r->to);
    ev.orig_rcpt = r->orig_to.p ? scpy(orig, sizeof(orig), r->orig_to) : NULL;
    ev.relay = scpy(relay, sizeof(relay), r->relay);
    ev.dsn = scpy(dsn, sizeof(dsn), r->dsn);
    ev.status = r->status;
    q->n.deliveries++;
    if (relayed(q, m, r)) {
        ev.type = HJ_EV_RELAY;
        q->n.relayed++;
    }
    q->fn(q->ctx, &ev);
}

static void
on_simple(qtrack *q, const hj_logline *l, const pf_rec *r)
{
    qt_msg *m;

    switch (r->kind) {
    case PF_MSGID:
        m = msg_get(q, r->qid, l->t, true);
        free(m->msgid);
        m->msgid = sdup(r->msgid);
        break;
    case PF_REMOVED:
        if ((m = msg_get(q, r->qid, l->t, false)) != NULL)
            msg_drop(q, m);
        break;
    case PF_DSN_NOTICE:
        msg_get(q, r->newqid, l->t, true)->is_dsn = true;
        break;
    case PF_PICKUP:
        m = msg_get(q, r->qid, l->t, true);
        m->from_pickup = true;
        break;
    default:
        break;
    }
}

void
qtrack_line(qtrack *q, const hj_logline *l, const pf_rec *r)
{
    switch (r->kind) {
    case PF_CLIENT:
        on_client(q, l, r);
        break;
    case PF_AUTH_FAIL:
        on_auth_fail(q, l, r);
        break;
    case PF_REJECT:
    case PF_DISCARD:
        on_reject(q, l, r);
        break;
    case PF_QFROM:
        on_qfrom(q, l, r);
        break;
    case PF_DELIVERY:
        on_delivery(q, l, r);
        break;
    default:
        on_simple(q, l, r);
        break;
    }
    if (l->t >= q->last_sweep + QT_SWEEP_EVERY)
        qtrack_sweep(q, l->t);
}

void
qtrack_sweep(qtrack *q, int64_t now)
{
    q->last_sweep = now;
    while (q->oldest && q->oldest->t_last < now - q->conf.lifetime) {
        msg_drop(q, q->oldest);
        q->n.forgotten++;
    }
}

void
qtrack_stats(const qtrack *q, qtrack_counts *out)
{
    *out = q->n;
}

void
qtrack_free(qtrack *q)
{
    if (q == NULL)
        return;
    while (q->oldest)
        msg_drop(q, q->oldest);
    htab_free(q->msgs, NULL);
    htab_free(q->domains, NULL);
    free(q);
}
