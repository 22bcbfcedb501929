/*
 * logparse - Postfix log message parsing (see logparse.h)
 *
 * Hand-written prefix and key scans instead of regular expressions: each
 * message is looked at with a few memcmp/memmem calls, which keeps replay
 * within a small multiple of grep's speed (bench/replay-bench.sh).
 */
#include "logparse.h"

#include <string.h>

typedef pf_kind (*pf_handler)(hj_span m, pf_rec *r);

/* pfx - does s start with lit */
static int
pfx(hj_span s, const char *lit)
{
    size_t n = strlen(lit);

    return s.n >= n && memcmp(s.p, lit, n) == 0;
}

/* skip - s without its first k bytes */
static hj_span
skip(hj_span s, size_t k)
{
    return k >= s.n ? (hj_span){s.p + s.n, 0} : (hj_span){s.p + k, s.n - k};
}

/* find - s from the first occurrence of lit, or an empty span with p NULL */
static hj_span
find(hj_span s, const char *lit)
{
    const char *q = memmem(s.p, s.n, lit, strlen(lit));

    return q ? (hj_span){q, s.n - (size_t)(q - s.p)} : (hj_span){NULL, 0};
}

/* upto - the prefix of s before the first stop character */
static hj_span
upto(hj_span s, const char *stops)
{
    size_t i = 0;

    while (i < s.n && strchr(stops, s.p[i]) == NULL)
        i++;
    return (hj_span){s.p, i};
}

/* value - the value after key (e.g. "relay=") up to a stop character */
static hj_span
value(hj_span s, const char *key, const char *stops)
{
    hj_span v = find(s, key);

    return v.p ? upto(skip(v, strlen(key)), stops) : (hj_span){NULL, 0};
}

/* angle - the address in key<...> (e.g. "to=<"); "" for <> */
static hj_span
angle(hj_span s, const char *key, hj_span *rest)
{
    hj_span v = find(s, key);

    if (v.p == NULL)
        return v;
    v = skip(v, strlen(key));
    hj_span a = upto(v, ">");
    if (rest)
        *rest = skip(v, a.n);
    return a;
}

/* number - decimal value after key, -1 if absent */
static int64_t
number(hj_span s, const char *key)
{
    hj_span v = value(s, key, ", ");
    int64_t n = 0;

    if (v.p == NULL || v.n == 0)
        return -1;
    for (size_t i = 0; i < v.n; i++) {
        if (v.p[i] < '0' || v.p[i] > '9')
            return -1;
        n = n * 10 + (v.p[i] - '0');
    }
    return n;
}

static int
isalnum_c(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/*
 * take_qid - a queue ID followed by ": ". Short IDs are upper-case hex;
 * long IDs (enable_long_queue_ids) mix digits and letters. Words such as
 * "warning" or "NOQUEUE" are neither.
 */
static int
take_qid(hj_span m, hj_span *qid, hj_span *rest)
{
    size_t i = 0;
    int hex = 1, digit = 0, alpha = 0;

    while (i < m.n && i < 24 && isalnum_c(m.p[i])) {
        char c = m.p[i];
        digit |= c >= '0' && c <= '9';
        alpha |= !(c >= '0' && c <= '9');
        hex &= (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
        i++;
    }
    if (i < 5 || i + 1 >= m.n || m.p[i] != ':' || m.p[i + 1] != ' ' || !(hex || (digit && alpha)))
        return 0;
    *qid = (hj_span){m.p, i};
    *rest = skip(m, i + 2);
    return 1;
}

/* client_addr - "name[ip]" at the start of s */
static int
client_addr(hj_span s, pf_rec *r)
{
    hj_span name = upto(s, "[");

    if (name.n >= s.n)
        return 0;
    hj_span ip = upto(skip(s, name.n + 1), "]");
    if (name.n + 1 + ip.n >= s.n)
        return 0;
    r->client_name = name;
    r->client_ip = ip;
    return 1;
}

/* any_prefix - s starts with one of the NULL-terminated list */
static int
any_prefix(hj_span s, const char *const *list)
{
    for (; *list; list++)
        if (pfx(s, *list))
            return 1;
    return 0;
}

static const char *const smtpd_noise[] = {
    "connect from ", "disconnect from ", "lost connection ", "timeout after ", "too many errors ",
    "Anonymous TLS", "Trusted TLS", "Untrusted TLS", "Verified TLS", "SSL_accept", "TLS ",
    "improper command pipelining", "setting up TLS", "proxy-", "discarding EHLO", "warning: ",
    "fatal: ", "panic: ", "error: ", "non-SMTP command", "message repeated", "statistics: ",
    "hangup after ", "SMTPUTF8 ", "table ", "dict_", NULL,
};

/* reject_fields - the client, sender, recipient and HELO of a reject line */
static void
reject_fields(hj_span m, pf_rec *r)
{
    hj_span from = find(m, " from ");

    if (from.p)
        (void)client_addr(skip(from, 6), r);
    r->from = angle(m, "; from=<", NULL);
    r->to = angle(m, " to=<", NULL);
    r->helo = angle(m, " helo=<", NULL);
    hj_span code = find(m, "]: ");
    if (code.p)
        r->dsn = upto(skip(code, 3), " ;");
}

/* smtpd_noqueue - "NOQUEUE: ..." lines */
static pf_kind
smtpd_noqueue(hj_span m, pf_rec *r)
{
    if (pfx(m, "reject: ") || pfx(m, "milter-reject: ")) {
        reject_fields(m, r);
        return PF_REJECT;
    }
    return PF_IGNORE; /* lost connection, filter, warn, hold, discard of nothing */
}

/* smtpd_auth_fail - "warning: name[ip]: SASL LOGIN authentication failed: ..." */
static pf_kind
smtpd_warning(hj_span m, pf_rec *r)
{
    hj_span w = skip(m, 9), sasl = find(w, ": SASL ");

    if (sasl.p == NULL || find(sasl, " authentication failed").p == NULL)
        return PF_IGNORE;
    if (!client_addr((hj_span){w.p, (size_t)(sasl.p - w.p)}, r))
        return PF_UNKNOWN;
    r->sasl_method = upto(skip(sasl, 7), " ");
    r->sasl_user = value(sasl, "sasl_username=", ", ");
    return PF_AUTH_FAIL;
}

/* smtpd_queued - "QID: ..." lines of smtpd */
static pf_kind
smtpd_queued(hj_span rest, pf_rec *r)
{
    if (pfx(rest, "client=")) {
        if (!client_addr(skip(rest, 7), r))
            return PF_UNKNOWN;
        r->sasl_method = value(rest, ", sasl_method=", ", ");
        r->sasl_user = value(rest, ", sasl_username=", ", ");
        return PF_CLIENT;
    }
    if (pfx(rest, "reject: ") || pfx(rest, "milter-reject: ")) {
        reject_fields(rest, r);
        return find(rest, "reject: RCPT ").p ? PF_REJECT : PF_DISCARD;
    }
    if (pfx(rest, "discard: ") || pfx(rest, "milter-discard: "))
        return PF_DISCARD;
    return PF_IGNORE; /* hold, filter, redirect, warn, info, proxy-accept ... */
}

static pf_kind
parse_smtpd(hj_span m, pf_rec *r)
{
    hj_span rest;

    if (pfx(m, "warning: "))
        return smtpd_warning(m, r);
    if (pfx(m, "NOQUEUE: "))
        return smtpd_noqueue(skip(m, 9), r);
    if (take_qid(m, &r->qid, &rest))
        return smtpd_queued(rest, r);
    return any_prefix(m, smtpd_noise) ? PF_IGNORE : PF_UNKNOWN;
}

static pf_kind
parse_cleanup(hj_span m, pf_rec *r)
{
    hj_span rest;

    if (!take_qid(m, &r->qid, &rest))
        return pfx(m, "warning: ") || pfx(m, "fatal: ") ? PF_IGNORE : PF_UNKNOWN;
    if (pfx(rest, "message-id=")) {
        hj_span v = skip(rest, 11);
        if (v.n && v.p[0] == '<')
            v = upto(skip(v, 1), ">");
        r->msgid = v;
        return PF_MSGID;
    }
    if (pfx(rest, "reject: ") || pfx(rest, "milter-reject: ") || pfx(rest, "discard: ") ||
        pfx(rest, "milter-discard: "))
        return PF_DISCARD;
    return PF_IGNORE; /* hold, warning, info, replace, redirect, resent-message-id ... */
}

static pf_kind
parse_qmgr(hj_span m, pf_rec *r)
{
    hj_span rest;

    if (!take_qid(m, &r->qid, &rest))
        return pfx(m, "warning: ") || pfx(m, "fatal: ") ? PF_IGNORE : PF_UNKNOWN;
    if (pfx(rest, "removed"))
        return PF_REMOVED;
    if (pfx(rest, "from=<")) {
        if (find(rest, "(queue active)").p == NULL)
            return PF_IGNORE; /* status=expired, returned to sender */
        r->from = angle(rest, "from=<", NULL);
        r->size = number(rest, ", size=");
        r->nrcpt = number(rest, ", nrcpt=");
        return r->size < 0 || r->nrcpt < 0 ? PF_UNKNOWN : PF_QFROM;
    }
    return PF_IGNORE; /* skipped, still being delivered */
}

/* status_of - the delivery status word */
static hj_dlv_status
status_of(hj_span s)
{
    static const struct {
        const char *name;
        hj_dlv_status st;
    } tab[] = {{"sent", HJ_DLV_SENT},
               {"bounced", HJ_DLV_BOUNCED},
               {"deferred", HJ_DLV_DEFERRED},
               {"expired", HJ_DLV_EXPIRED},
               {"undeliverable", HJ_DLV_BOUNCED}};

    for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
        if (span_eq(s, tab[i].name))
            return tab[i].st;
    return HJ_DLV_OTHER;
}

static const char *const agent_noise[] = {
    "connect to ", "warning: ", "Untrusted TLS", "Trusted TLS", "Verified TLS", "Anonymous TLS",
    "SSL_connect", "TLS ", "network address conversion", "setting up TLS", "fatal: ",
    "certificate verification", "server certificate", "host ", NULL,
};

/* parse_agent - smtp, lmtp, local, virtual, pipe, error, discard, retry */
static pf_kind
parse_agent(hj_span m, pf_rec *r)
{
    hj_span rest, after;

    if (!take_qid(m, &r->qid, &rest))
        return any_prefix(m, agent_noise) ? PF_IGNORE : PF_UNKNOWN;
    if (!pfx(rest, "to=<"))
        return PF_IGNORE; /* host said, lost connection, conversation timed out ... */
    r->to = angle(rest, "to=<", &after);
    if (pfx(after, ">, orig_to=<"))
        r->orig_to = angle(after, "orig_to=<", &after);
    r->relay = value(after, "relay=", ",");
    r->dsn = value(after, ", dsn=", ",");
    hj_span st = value(after, ", status=", " ");
    if (st.p == NULL)
        return PF_UNKNOWN;
    r->status = status_of(st);
    return PF_DELIVERY;
}

static pf_kind
parse_local_agent(hj_span m, pf_rec *r)
{
    r->local_agent = 1;
    return parse_agent(m, r);
}

static pf_kind
parse_smtp_agent(hj_span m, pf_rec *r)
{
    r->smtp_agent = 1;
    return parse_agent(m, r);
}

static pf_kind
parse_bounce(hj_span m, pf_rec *r)
{
    hj_span rest, n;

    if (!take_qid(m, &r->qid, &rest))
        return pfx(m, "warning: ") ? PF_IGNORE : PF_UNKNOWN;
    n = find(rest, "notification: ");
    if (n.p == NULL)
        return PF_IGNORE;
    r->newqid = upto(skip(n, 14), " ");
    return PF_DSN_NOTICE;
}

static pf_kind
parse_pickup(hj_span m, pf_rec *r)
{
    hj_span rest;

    if (!take_qid(m, &r->qid, &rest))
        return pfx(m, "warning: ") ? PF_IGNORE : PF_UNKNOWN;
    r->from = angle(rest, "from=<", NULL);
    return PF_PICKUP;
}

static pf_kind
parse_postsuper(hj_span m, pf_rec *r)
{
    hj_span rest;

    if (take_qid(m, &r->qid, &rest) && pfx(rest, "removed"))
        return PF_REMOVED;
    return PF_IGNORE;
}

/* the Postfix daemons; a NULL handler means every line of it is understood noise */
static const struct {
    const char *name;
    pf_handler fn;
} daemons[] = {
    {"smtpd", parse_smtpd},       {"cleanup", parse_cleanup},   {"qmgr", parse_qmgr},
    {"oqmgr", parse_qmgr},        {"smtp", parse_smtp_agent},   {"lmtp", parse_local_agent},
    {"local", parse_local_agent}, {"virtual", parse_local_agent}, {"pipe", parse_agent},
    {"error", parse_agent},       {"discard", parse_agent},     {"retry", parse_agent},
    {"bounce", parse_bounce},     {"pickup", parse_pickup},     {"postsuper", parse_postsuper},
    {"postscreen", NULL},         {"anvil", NULL},              {"master", NULL},
    {"scache", NULL},             {"tlsmgr", NULL},             {"verify", NULL},
    {"trivial-rewrite", NULL},    {"proxymap", NULL},           {"dnsblog", NULL},
    {"tlsproxy", NULL},           {"postlogd", NULL},           {"postdrop", NULL},
    {"sendmail", NULL},           {"postqueue", NULL},          {"postmap", NULL},
    {"postconf", NULL},           {"postfix-script", NULL},     {"flush", NULL},
    {"showq", NULL},              {"spawn", NULL},              {"postalias", NULL},
    {"postmulti", NULL},          {"postlog", NULL},            {"postkick", NULL},
};

/* daemon_index - the table entry of l's daemon, -1 if none */
static int
daemon_index(const hj_logline *l)
{
    for (size_t i = 0; i < sizeof(daemons) / sizeof(daemons[0]); i++)
        if (span_eq(l->daemon, daemons[i].name))
            return (int)i;
    return -1;
}

int
logparse_is_postfix(const hj_logline *l)
{
    if (l->svc.n == 0)
        return span_eq(l->prog, "postfix") || span_eq(l->prog, "postfix-script");
    return daemon_index(l) >= 0 || pfx(l->svc, "postfix");
}

pf_kind
logparse_postfix(const hj_logline *l, pf_rec *r)
{
    int i = daemon_index(l);

    memset(r, 0, sizeof(*r));
    if (i < 0)
        return PF_UNKNOWN;
    if (daemons[i].fn == NULL)
        return PF_IGNORE;
    r->kind = daemons[i].fn(l->msg, r);
    return r->kind;
}
