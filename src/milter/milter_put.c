/*
 * milter_put - the milter protocol, filter side: option negotiation and the replies (see
 * milter.h; the parser is milter.c)
 */
#include "milter.h"

#include <stdio.h>
#include <string.h>

/* what an offer of 0 means (libmilter: the version 1 sets) */
#define V1_ACTIONS 0x0fu
#define V1_PROTOCOL 0x3fu

/* the macros asked per stage (SETSYMLIST): who, with which login, which queue ID */
static const char *const symlists[MILTER_M__COUNT] = {
    [MILTER_M_CONNECT] = "j {daemon_name} {daemon_addr} {daemon_port}",
    [MILTER_M_HELO] = "{tls_version} {cipher}",
    [MILTER_M_ENVFROM] = "i {auth_type} {auth_authen} {auth_author} {mail_addr}",
    [MILTER_M_ENVRCPT] = "i {rcpt_addr} {rcpt_host} {rcpt_mailer}",
    [MILTER_M_DATA] = "i",
    [MILTER_M_EOM] = "i",
    [MILTER_M_EOH] = "i",
};

/* the commands the MTA waits on, and the bit that says it will not (0: it always waits) */
static const struct {
    int type;
    uint32_t noreply;
} waits[] = {
    {MILTER_CMD_OPTNEG, 0},
    {MILTER_CMD_CONNECT, MILTER_P_NR_CONN},
    {MILTER_CMD_HELO, MILTER_P_NR_HELO},
    {MILTER_CMD_MAIL, MILTER_P_NR_MAIL},
    {MILTER_CMD_RCPT, MILTER_P_NR_RCPT},
    {MILTER_CMD_DATA, MILTER_P_NR_DATA},
    {MILTER_CMD_HEADER, MILTER_P_NR_HDR},
    {MILTER_CMD_EOH, MILTER_P_NR_EOH},
    {MILTER_CMD_BODY, MILTER_P_NR_BODY},
    {MILTER_CMD_UNKNOWN, MILTER_P_NR_UNKN},
    {MILTER_CMD_EOB, 0},
};

const char *
milter_symlist(int stage)
{
    return stage >= 0 && stage < MILTER_M__COUNT ? symlists[stage] : NULL;
}

int
milter_negotiate(const milter_cmd *o, uint32_t want_actions, uint32_t want_protocol,
                 milter_neg *neg, char *err, size_t errlen)
{
    memset(neg, 0, sizeof(*neg));
    if (o->type != MILTER_CMD_OPTNEG) {
        snprintf(err, errlen, "%s before OPTNEG", milter_cmd_name(o->type));
        return -1;
    }
    neg->mta_version = o->version;
    neg->mta_actions = o->actions ? o->actions : V1_ACTIONS;
    neg->mta_protocol = o->protocol ? o->protocol : V1_PROTOCOL;
    if (o->version < MILTER_VERSION) {
        snprintf(err, errlen,
                 "the MTA offers milter protocol version %u; hijackd needs version %d "
                 "(Postfix: milter_protocol = 6; Sendmail 8.14 or later)",
                 (unsigned)o->version, MILTER_VERSION);
        return -1;
    }
    neg->version = MILTER_VERSION;
    neg->actions = want_actions & neg->mta_actions;
    neg->protocol = want_protocol & neg->mta_protocol;
    neg->symlist = (neg->actions & MILTER_F_SETSYMLIST) != 0;
    return 0;
}

int
milter_reply_expected(const milter_neg *neg, int type)
{
    for (size_t i = 0; i < sizeof(waits) / sizeof(waits[0]); i++)
        if (waits[i].type == type)
            return waits[i].noreply == 0 || (neg->protocol & waits[i].noreply) == 0;
    return 0;
}

static void
put32(hj_buf *out, uint32_t v)
{
    char b[4] = {(char)(v >> 24), (char)(v >> 16), (char)(v >> 8), (char)v};

    buf_add(out, b, 4);
}

/* begin - a packet's length and letter; the data follows; end() sets the length */
static size_t
begin(hj_buf *out, int letter)
{
    size_t at = out->len;

    put32(out, 0);
    buf_putc(out, (char)letter);
    return at;
}

static void
end(hj_buf *out, size_t at)
{
    uint32_t n = (uint32_t)(out->len - at - 4);
    unsigned char *p = (unsigned char *)out->s + at;

    p[0] = (unsigned char)(n >> 24);
    p[1] = (unsigned char)(n >> 16);
    p[2] = (unsigned char)(n >> 8);
    p[3] = (unsigned char)n;
}

void
milter_put_optneg(hj_buf *out, const milter_neg *neg)
{
    size_t at = begin(out, MILTER_CMD_OPTNEG);

    put32(out, neg->version);
    put32(out, neg->actions);
    put32(out, neg->protocol);
    for (int m = 0; neg->symlist && m < MILTER_M__COUNT; m++) {
        put32(out, (uint32_t)m);
        buf_add(out, symlists[m], strlen(symlists[m]) + 1);
    }
    end(out, at);
}

int
milter_put(hj_buf *out, int reply)
{
    if (reply <= 0 || reply > 0x7f || strchr("acdprst", reply) == NULL)
        return -1;
    end(out, begin(out, reply));
    return 0;
}

/* utf8_tail - how many bytes at the end of p[0..n) are an incomplete UTF-8 sequence */
static size_t
utf8_tail(const char *p, size_t n)
{
    size_t k = 0;

    while (k < n && k < 3 && ((unsigned char)p[n - 1 - k] & 0xc0) == 0x80)
        k++;
    if (k == n)
        return 0;
    unsigned char lead = (unsigned char)p[n - 1 - k];
    size_t want = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
    return want > k + 1 ? k + 1 : 0;
}

/* put_text - s with each control byte (but a tab when tab is set) as a space, '%' doubled
 * when pct is set, at most max bytes, not cut inside a UTF-8 sequence; then its NUL */
static void
put_text(hj_buf *out, const char *s, size_t max, int pct, int tab)
{
    size_t start = out->len;

    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        size_t k = pct && c == '%' ? 2 : 1;
        if (out->len - start + k > max) {
            out->len -= utf8_tail(out->s + start, out->len - start);
            break;
        }
        if ((c < 0x20 && !(tab && c == '\t')) || c == 0x7f)
            c = ' ';
        buf_add(out, k == 2 ? "%%" : (const char *)&c, k);
    }
    buf_add(out, "", 1);
}

static int
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* digits - how many digits start s (at most 4: enough to tell "too many") */
static size_t
digits(const char *s)
{
    size_t k = 0;

    while (k < 4 && is_digit(s[k]))
        k++;
    return k;
}

/* xcode_len - the length of an enhanced status code of class cls at s ("5.7.1": subject and
 * detail 1 to 3 digits each, RFC 3463), followed by the end or a space; 0 if there is none */
static size_t
xcode_len(const char *s, char cls)
{
    size_t i = 2, k;

    if (s[0] != cls || s[1] != '.')
        return 0;
    k = digits(s + i);
    if (k < 1 || k > 3 || s[i + k] != '.')
        return 0;
    i += k + 1;
    k = digits(s + i);
    if (k < 1 || k > 3 || (s[i + k] != 0 && s[i + k] != ' '))
        return 0;
    return i + k;
}

int
milter_put_replycode(hj_buf *out, const char *code, const char *xcode, const char *text)
{
    if (code == NULL || (code[0] != '4' && code[0] != '5') || !is_digit(code[1]) ||
        !is_digit(code[2]) || code[3] != 0)
        return -1;
    if (xcode && (xcode_len(xcode, code[0]) == 0 || xcode[xcode_len(xcode, code[0])] != 0))
        return -1;
    if (xcode == NULL && text && is_digit(text[0]) && xcode_len(text, code[0]) == 0)
        return -1;
    size_t at = begin(out, MILTER_R_REPLYCODE);
    buf_add(out, code, 3);
    buf_putc(out, ' ');
    if (xcode) {
        buf_puts(out, xcode);
        if (text && *text)
            buf_putc(out, ' ');
    }
    put_text(out, text, MILTER_REPLY_TEXT_MAX, 1, 0);
    end(out, at);
    return 0;
}

int
milter_put_quarantine(hj_buf *out, const char *reason)
{
    if (reason == NULL || *reason == 0)
        return -1;
    size_t at = begin(out, MILTER_R_QUARANTINE);
    put_text(out, reason, MILTER_QUARANTINE_MAX, 0, 0);
    end(out, at);
    return 0;
}

int
milter_put_addheader(hj_buf *out, const char *name, const char *value)
{
    size_t n = name ? strlen(name) : 0;

    if (n == 0 || n > MILTER_HEADER_NAME_MAX)
        return -1;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)name[i] <= 0x20 || (unsigned char)name[i] >= 0x7f || name[i] == ':')
            return -1;
    size_t at = begin(out, MILTER_R_ADDHEADER);
    buf_add(out, name, n + 1);
    put_text(out, value, MILTER_HEADER_VALUE_MAX, 0, 1);
    end(out, at);
    return 0;
}
