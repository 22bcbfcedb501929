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

/* pfx_n - does s start with the n bytes of lit */
static int
pfx_n(hj_span s, const char *lit, size_t n)
{
    return s.n >= n && memcmp(s.p, lit, n) == 0;
}

/* pfx - does s start with the string literal lit (length known at compile time) */
#define pfx(s, lit) pfx_n((s), (lit), sizeof(lit) - 1)

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
    size_t n = strlen(lit);

    if (s.n >= n && memcmp(s.p, lit, n) == 0) /* fields are most often right here */
        return s;
    const char *q = memmem(s.p, s.n, lit, n);

    return q ? (hj_span){q, s.n - (size_t)(q - s.p)} : (hj_span){NULL, 0};
}

/* upto - the prefix of s before the first stop character (at most two stops) */
static hj_span
upto(hj_span s, const char *stops)
{
    char a = stops[0], b = stops[1] ? stops[1] : stops[0];
    size_t i = 0;

    if (a == b) {
        const char *q = memchr(s.p, a, s.n);
        return (hj_span){s.p, q ? (size_t)(q - s.p) : s.n};
    }
    while (i < s.n && s.p[i] != a && s.p[i] != b)
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

/* rfind - s from the last occurrence of lit, or an empty span with p NULL */
static hj_span
rfind(hj_span s, const char *lit)
{
    size_t n = strlen(lit);

    for (size_t i = s.n >= n ? s.n - n + 1 : 0; i-- > 0;)
        if (memcmp(s.p + i, lit, n) == 0)
            return (hj_span){s.p + i, s.n - i};
    return (hj_span){NULL, 0};
}

/* digits - the decimal number that is all of p[0..n), -1 if empty, not digits or over 18 digits */
static int64_t
digits(const char *p, size_t n)
{
    int64_t v = 0;

    if (n == 0 || n > 18)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

/*
 * qmgr_counts - "from=<SENDER>, size=N, nrcpt=N" (the " (queue active)" cut off), read from the
 * end: a quoted sender may hold ">, size=1, nrcpt=1" itself (Postfix logs it as it is), so the
 * last ", nrcpt=" and the last ">, size=" before it are the real ones; 0, or -1 if malformed.
 */
static int
qmgr_counts(hj_span body, pf_rec *r)
{
    static const char from[] = "from=<", size[] = ">, size=", nrcpt[] = ", nrcpt=";
    hj_span nr = rfind(body, nrcpt), sz = {NULL, 0};

    if (nr.p)
        sz = rfind((hj_span){body.p, (size_t)(nr.p - body.p)}, size);
    if (sz.p == NULL || (size_t)(sz.p - body.p) < sizeof(from) - 1)
        return -1;
    r->from = (hj_span){body.p + sizeof(from) - 1, (size_t)(sz.p - body.p) - (sizeof(from) - 1)};
    r->size = digits(sz.p + sizeof(size) - 1, (size_t)(nr.p - sz.p) - (sizeof(size) - 1));
    r->nrcpt = digits(nr.p + sizeof(nrcpt) - 1, nr.n - (sizeof(nrcpt) - 1));
    return r->size < 0 || r->nrcpt < 0 ? -1 : 0;
}

/* character classes for queue IDs: 1 digit, 2 upper-case hex letter, 4 other letter */
static const unsigned char qid_class[256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1, ['A'] = 2, ['B'] = 2, ['C'] = 2, ['D'] = 2, ['E'] = 2, ['F'] = 2,
    ['G'] = 4, ['H'] = 4, ['I'] = 4, ['J'] = 4, ['K'] = 4, ['L'] = 4, ['M'] = 4, ['N'] = 4,
    ['O'] = 4, ['P'] = 4, ['Q'] = 4, ['R'] = 4, ['S'] = 4, ['T'] = 4, ['U'] = 4, ['V'] = 4,
    ['W'] = 4, ['X'] = 4, ['Y'] = 4, ['Z'] = 4, ['a'] = 4, ['b'] = 4, ['c'] = 4, ['d'] = 4,
    ['e'] = 4, ['f'] = 4, ['g'] = 4, ['h'] = 4, ['i'] = 4, ['j'] = 4, ['k'] = 4, ['l'] = 4,
    ['m'] = 4, ['n'] = 4, ['o'] = 4, ['p'] = 4, ['q'] = 4, ['r'] = 4, ['s'] = 4, ['t'] = 4,
    ['u'] = 4, ['v'] = 4, ['w'] = 4, ['x'] = 4, ['y'] = 4, ['z'] = 4,
};

/*
 * take_qid - a queue ID followed by ": ". Short IDs are upper-case hex;
 * long IDs (enable_long_queue_ids) mix digits and letters. Words such as
 * "warning" or "NOQUEUE" are neither.
 */
static int
take_qid(hj_span m, hj_span *qid, hj_span *rest)
{
    const unsigned char *cls = qid_class;
    size_t i = 0;
    unsigned seen = 0, k;

    while (i < m.n && i < 24 && (k = cls[(unsigned char)m.p[i]]) != 0) {
        seen |= k;
        i++;
    }
    /* hex only (short ID), or digits with letters (long ID) */
    if (i < 5 || i + 1 >= m.n || m.p[i] != ':' || m.p[i + 1] != ' ' || (seen & 4 && !(seen & 1)))
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

typedef struct lit {
    const char *s;
    size_t n;
} lit;
#define L(x)                                                                                       \
    {                                                                                              \
        x, sizeof(x) - 1                                                                           \
    }

/* any_prefix - s starts with one of the list (ended by an entry with s NULL) */
static int
any_prefix(hj_span s, const lit *list)
{
    for (; list->s; list++)
        if (pfx_n(s, list->s, list->n))
            return 1;
    return 0;
}

static const lit smtpd_noise[] = {
    L("connect from "),
    L("disconnect from "),
    L("lost connection "),
    L("timeout after "),
    L("too many errors "),
    L("Anonymous TLS"),
    L("Trusted TLS"),
    L("Untrusted TLS"),
    L("Verified TLS"),
    L("SSL_accept"),
    L("TLS "),
    L("improper command pipelining"),
    L("setting up TLS"),
    L("proxy-"),
    L("discarding EHLO"),
    L("warning: "),
    L("fatal: "),
    L("panic: "),
    L("error: "),
    L("non-SMTP command"),
    L("message repeated"),
    L("statistics: "),
    L("hangup after "),
    L("SMTPUTF8 "),
    L("table "),
    L("dict_"),
    {NULL, 0},
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
    if (code.p) {
        r->dsn = upto(skip(code, 3), " ;");
        hj_span text = skip(code, 3), end = rfind(text, "; from=<");
        r->reply = end.p ? (hj_span){text.p, (size_t)(end.p - text.p)} : text;
    }
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
        r->eom_reject = find(rest, "reject: END-OF-MESSAGE ").p != NULL;
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
    if (pfx(rest, "milter-reject: END-OF-MESSAGE ")) { /* a milter refused the message */
        reject_fields(rest, r);
        r->eom_reject = 1;
        return PF_DISCARD;
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
        static const char active[] = " (queue active)";
        size_t na = sizeof(active) - 1;
        if (rest.n < na || memcmp(rest.p + rest.n - na, active, na) != 0)
            return PF_IGNORE; /* status=expired, returned to sender */
        return qmgr_counts((hj_span){rest.p, rest.n - na}, r) != 0 ? PF_UNKNOWN : PF_QFROM;
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

static const lit agent_noise[] = {
    L("connect to "),        L("warning: "),    L("Untrusted TLS"),
    L("Trusted TLS"),        L("Verified TLS"), L("Anonymous TLS"),
    L("SSL_connect"),        L("TLS "),         L("network address conversion"),
    L("setting up TLS"),     L("fatal: "),      L("certificate verification"),
    L("server certificate"), L("host "),        {NULL, 0},
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
    /* the fields come in a fixed order: walk them once instead of searching for each */
    hj_span f = skip(after, 1), st = {NULL, 0};
    while (f.n > 2 && f.p[0] == ',' && f.p[1] == ' ') {
        f = skip(f, 2);
        if (pfx(f, "status=")) {
            st = upto(skip(f, 7), " ");
            break;
        }
        hj_span v = upto(f, ",");
        if (pfx(v, "relay="))
            r->relay = skip(v, 6);
        else if (pfx(v, "dsn="))
            r->dsn = skip(v, 4);
        f = skip(f, v.n);
    }
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
#define D(name, fn)                                                                                \
    {                                                                                              \
        name, sizeof(name) - 1, fn                                                                 \
    }
static const struct {
    const char *name;
    size_t len;
    pf_handler fn;
} daemons[] = {
    D("smtpd", parse_smtpd),
    D("cleanup", parse_cleanup),
    D("qmgr", parse_qmgr),
    D("oqmgr", parse_qmgr),
    D("smtp", parse_smtp_agent),
    D("lmtp", parse_local_agent),
    D("local", parse_local_agent),
    D("virtual", parse_local_agent),
    D("pipe", parse_agent),
    D("error", parse_agent),
    D("discard", parse_agent),
    D("retry", parse_agent),
    D("bounce", parse_bounce),
    D("pickup", parse_pickup),
    D("postsuper", parse_postsuper),
    D("postscreen", NULL),
    D("anvil", NULL),
    D("master", NULL),
    D("scache", NULL),
    D("tlsmgr", NULL),
    D("verify", NULL),
    D("trivial-rewrite", NULL),
    D("proxymap", NULL),
    D("dnsblog", NULL),
    D("tlsproxy", NULL),
    D("postlogd", NULL),
    D("postdrop", NULL),
    D("sendmail", NULL),
    D("postqueue", NULL),
    D("postmap", NULL),
    D("postconf", NULL),
    D("postfix-script", NULL),
    D("flush", NULL),
    D("showq", NULL),
    D("spawn", NULL),
    D("postalias", NULL),
    D("postmulti", NULL),
    D("postlog", NULL),
    D("postkick", NULL),
};

/* daemon_index - the table entry of l's daemon, -1 if none */
static int
daemon_index(const hj_logline *l)
{
    for (size_t i = 0; i < sizeof(daemons) / sizeof(daemons[0]); i++)
        if (l->daemon.n == daemons[i].len && memcmp(l->daemon.p, daemons[i].name, l->daemon.n) == 0)
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
        return r->kind = PF_UNKNOWN;
    if (daemons[i].fn == NULL)
        return r->kind = PF_IGNORE;
    r->kind = daemons[i].fn(l->msg, r);
    return r->kind;
}
