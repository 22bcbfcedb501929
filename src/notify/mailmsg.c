/*
 * mailmsg - reply-to-unlock: the unlock token and sender of a reply to an alert (see mailmsg.h)
 *
 * DESCRIPTION
 *	The message is never copied as a whole: spans point into it, and only
 *	what must be decoded (an unfolded header, a quoted-printable or base64
 *	part) is copied into a buffer. Every scan is bounded by the span's
 *	length, so NUL bytes and a missing final line end are harmless.
 */
#include "mailmsg.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include "../util/alloc.h"

#define LEAD "hijackctl: mail-unlock: " /* diagnostics on diag */
#define RETRY " (Postfix will try again)"
#define TOKEN_PREFIX "HJU1-"
#define TOKEN_DIGITS_MAX 20 /* digits of each number of a token */
#define TOKEN_MAC_HEX 32    /* hex digits of its mac */
#define EW_MAX 256          /* bytes: the longest encoded-word decoded (RFC 2047 says 75) */

typedef struct span { /* bytes of the message (or of a decoded copy), not NUL-terminated */
    const char *p;
    size_t n;
} span;

/* ---------------------------------------------------------------- characters */

static int
c_lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static int
c_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int
c_alnum(int c)
{
    return c_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
c_wsp(int c)
{
    return c == ' ' || c == '\t';
}

/* hex_val - the value of a hex digit (either case), or -1 */
static int
hex_val(int c)
{
    if (c_digit(c))
        return c - '0';
    c = c_lower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static span
bspan(const hj_buf *b)
{
    return (span){buf_str(b), b->len};
}

/* ---------------------------------------------------------------- lines and headers */

/* line_next - the line at *pos of s, without its line end (LF or CRLF); 0 at the end of s */
static int
line_next(span s, size_t *pos, span *line)
{
    if (*pos >= s.n)
        return 0;
    const char *start = s.p + *pos, *nl = memchr(start, '\n', s.n - *pos);
    size_t len = nl ? (size_t)(nl - start) : s.n - *pos;

    *pos += len + (nl != NULL);
    line->p = start;
    line->n = len > 0 && start[len - 1] == '\r' ? len - 1 : len;
    return 1;
}

/* field_name - the length of the field name line l starts with ("Name:", "Name :"), else 0;
 * *colon is where its ':' is */
static size_t
field_name(span l, size_t *colon)
{
    size_t i = 0, k;

    while (i < l.n && (unsigned char)l.p[i] > ' ' && (unsigned char)l.p[i] < 127 && l.p[i] != ':')
        i++;
    for (k = i; k < l.n && c_wsp(l.p[k]); k++)
        ;
    *colon = k;
    return i > 0 && k < l.n && l.p[k] == ':' ? i : 0;
}

/* msg_split - an entity's header block and body. The header block ends at an empty line, or
 * before the first line that is neither a field nor a continuation (the first line may be an
 * mbox "From " line); without either, it is the whole entity. */
static void
msg_split(span m, span *hdr, span *body)
{
    size_t pos = 0, at = 0, colon;
    span l;

    while (at = pos, line_next(m, &pos, &l)) {
        if (l.n == 0) {
            *hdr = (span){m.p, at};
            *body = (span){m.p + pos, m.n - pos};
            return;
        }
        if ((at > 0 && c_wsp(l.p[0])) || field_name(l, &colon) > 0 ||
            (at == 0 && l.n >= 5 && memcmp(l.p, "From ", 5) == 0))
            continue;
        break;
    }
    *hdr = (span){m.p, at};
    *body = (span){m.p + at, m.n - at};
}

/* hdr_find - the value of the first field named name (any case) in hdr, unfolded (its line
 * ends removed) into *val; 0 if there is none */
static int
hdr_find(span hdr, const char *name, hj_buf *val)
{
    size_t pos = 0, colon, nlen = strlen(name);
    int in = 0;
    span l;

    buf_reset(val);
    while (line_next(hdr, &pos, &l)) {
        if (l.n > 0 && c_wsp(l.p[0])) {
            if (in)
                buf_add(val, l.p, l.n);
            continue;
        }
        if (in)
            break;
        if (field_name(l, &colon) == nlen && strncasecmp(l.p, name, nlen) == 0) {
            in = 1;
            buf_add(val, l.p + colon + 1, l.n - colon - 1);
        }
    }
    return in;
}

/* ---------------------------------------------------------------- decoding */

/* qp_decode - quoted-printable (RFC 2045): =XX, and soft line breaks "=" [white space] line
 * end, dropped; a stray '=' stays. q: RFC 2047's Q encoding, where '_' is a space. */
static void
qp_decode(span s, hj_buf *out, int q)
{
    for (size_t i = 0; i < s.n; i++) {
        size_t j = i + 1;
        if (s.p[i] != '=') {
            buf_putc(out, q && s.p[i] == '_' ? ' ' : s.p[i]);
            continue;
        }
        while (j < s.n && c_wsp(s.p[j]))
            j++;
        if (j == s.n || s.p[j] == '\r' || s.p[j] == '\n') { /* a soft line break */
            i = j < s.n && s.p[j] == '\r' && j + 1 < s.n && s.p[j + 1] == '\n' ? j + 1 : j;
            continue;
        }
        if (i + 2 < s.n && hex_val(s.p[i + 1]) >= 0 && hex_val(s.p[i + 2]) >= 0) {
            buf_putc(out, (char)(hex_val(s.p[i + 1]) << 4 | hex_val(s.p[i + 2])));
            i += 2;
            continue;
        }
        buf_putc(out, '=');
    }
}

static int
b64_val(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c_digit(c))
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* b64_decode - base64: other characters (line ends) are skipped, '=' ends a quantum */
static void
b64_decode(span s, hj_buf *out)
{
    uint32_t acc = 0;
    int bits = 0;

    for (size_t i = 0; i < s.n; i++) {
        int v = b64_val((unsigned char)s.p[i]);
        if (s.p[i] == '=')
            acc = 0, bits = 0;
        if (v < 0)
            continue;
        acc = (acc << 6 | (uint32_t)v) & 0xffffff;
        if ((bits += 6) >= 8) {
            bits -= 8;
            buf_putc(out, (char)(acc >> bits & 0xff));
        }
    }
}

/* ew_parse - the length of the RFC 2047 encoded-word "=?charset?Q|B?text?=" s starts with,
 * with its encoding ('q' or 'b') and text; 0 if s starts with none */
static size_t
ew_parse(span s, char *enc, span *text)
{
    const char *q1, *end;

    s.n = s.n > EW_MAX ? EW_MAX : s.n; /* RFC 2047: 75; a bound keeps the scan linear */
    end = s.p + s.n;
    if (s.n < 8 || s.p[0] != '=' || s.p[1] != '?' || (q1 = memchr(s.p + 2, '?', s.n - 2)) == NULL)
        return 0;
    if (q1 == s.p + 2 || end - q1 < 5 || q1[2] != '?')
        return 0;
    *enc = (char)c_lower(q1[1]);
    if (*enc != 'q' && *enc != 'b')
        return 0;
    for (const char *e = q1 + 3; e + 1 < end && !c_wsp(*e); e++)
        if (e[0] == '?' && e[1] == '=') {
            *text = (span){q1 + 3, (size_t)(e - q1 - 3)};
            return (size_t)(e + 2 - s.p);
        }
    return 0;
}

/* hdr_decode - a header value with its encoded-words decoded (charsets are not converted:
 * tokens are ASCII); white space between two encoded-words is dropped */
static void
hdr_decode(span v, hj_buf *out)
{
    span pend = {NULL, 0}, text;
    int after_ew = 0;
    char enc;

    for (size_t i = 0, k; i < v.n;) {
        if ((k = ew_parse((span){v.p + i, v.n - i}, &enc, &text)) > 0) {
            enc == 'q' ? qp_decode(text, out, 1) : b64_decode(text, out);
            after_ew = 1, pend.n = 0, i += k;
        } else if (after_ew && c_wsp(v.p[i])) {
            pend.p = pend.n ? pend.p : v.p + i;
            pend.n++, i++;
        } else {
            if (pend.n)
                buf_add(out, pend.p, pend.n);
            after_ew = 0, pend.n = 0;
            buf_putc(out, v.p[i++]);
        }
    }
    if (pend.n)
        buf_add(out, pend.p, pend.n);
}

/* ---------------------------------------------------------------- the token */

/* token_len - the length of the token p starts with, or 0 */
static size_t
token_len(const char *p, size_t n)
{
    size_t i = sizeof(TOKEN_PREFIX) - 1, d;

    if (n < i || memcmp(p, TOKEN_PREFIX, i) != 0)
        return 0;
    for (int number = 0; number < 2; number++) {
        for (d = 0; i < n && c_digit(p[i]) && d <= TOKEN_DIGITS_MAX; i++, d++)
            ;
        if (d == 0 || d > TOKEN_DIGITS_MAX || i >= n || p[i] != '-')
            return 0;
        i++;
    }
    for (d = 0; i < n && (c_digit(p[i]) || (p[i] >= 'a' && p[i] <= 'f')); i++, d++)
        ;
    return d == TOKEN_MAC_HEX && (i == n || !c_alnum(p[i])) ? i : 0;
}

/* token_find - the first token in s into out; 1 if there is one */
static int
token_find(span s, char *out, size_t outlen)
{
    const char *p = s.p, *end = s.p + s.n;

    for (; (p = memmem(p, (size_t)(end - p), TOKEN_PREFIX, sizeof(TOKEN_PREFIX) - 1)); p++) {
        size_t k = token_len(p, (size_t)(end - p));
        if (k > 0 && k < outlen && (p == s.p || !c_alnum(p[-1]))) {
            memcpy(out, p, k);
            out[k] = 0;
            return 1;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- MIME */

/* comments_strip - v without its comments: "(...)", nested, with \-escapes; quoted strings
 * are kept */
static void
comments_strip(span v, hj_buf *out)
{
    int depth = 0, quoted = 0;

    for (size_t i = 0; i < v.n; i++) {
        char c = v.p[i];
        if (c == '\\' && (depth || quoted) && i + 1 < v.n) {
            if (!depth)
                buf_add(out, v.p + i, 2);
            i++;
        } else if (depth) {
            depth += c == '(' ? 1 : c == ')' ? -1 : 0;
        } else if (c == '(' && !quoted) {
            depth = 1;
        } else {
            quoted ^= c == '"';
            buf_putc(out, c);
        }
    }
}

/* param_value - a parameter value at p (a quoted string, or up to ';' or white space) into
 * out; "" if it does not fit */
static void
param_value(const char *p, char *out, size_t outlen)
{
    size_t k = 0;
    int quoted = *p == '"';

    for (p += quoted; *p && k + 1 < outlen; p++) {
        if (quoted && *p == '\\' && p[1])
            p++;
        else if (quoted ? *p == '"' : (*p == ';' || c_wsp(*p)))
            break;
        out[k++] = *p;
    }
    out[k] = 0;
    if (*p && !(quoted ? *p == '"' : (*p == ';' || c_wsp(*p))))
        *out = 0;
}

/* param_find - the parameter name (any case) of a Content-Type after its type, into out */
static void
param_find(const char *p, const char *name, char *out, size_t outlen)
{
    size_t nlen = strlen(name);

    *out = 0;
    while ((p = strchr(p, ';')) != NULL) {
        p += 1 + strspn(p + 1, " \t");
        size_t k = strcspn(p, "= \t;");
        const char *v = p + k + strspn(p + k, " \t");
        if (*v != '=')
            continue;
        v += 1 + strspn(v + 1, " \t");
        if (k == nlen && strncasecmp(p, name, k) == 0) {
            param_value(v, out, outlen);
            return;
        }
        if (*v == '"') /* skip the quoted value: it may hold a ';' */
            for (p = v + 1; *p && *p != '"'; p++)
                p += *p == '\\' && p[1];
    }
}

/* ctype - the entity's type/subtype in lower case ("text/plain" without a Content-Type) and
 * its boundary ("" without one) */
static void
ctype(span hdr, char *type, size_t tlen, char *bnd, size_t blen)
{
    hj_buf v = HJ_BUF_INIT, s = HJ_BUF_INIT;

    snprintf(type, tlen, "text/plain");
    *bnd = 0;
    if (hdr_find(hdr, "Content-Type", &v)) {
        comments_strip(bspan(&v), &s);
        const char *p = buf_str(&s) + strspn(buf_str(&s), " \t");
        size_t n = strcspn(p, "; \t");
        if (n > 0 && n < tlen) {
            for (size_t i = 0; i < n; i++)
                type[i] = (char)c_lower(p[i]);
            type[n] = 0;
        }
        param_find(p + n, "boundary", bnd, blen);
    }
    buf_free(&v);
    buf_free(&s);
}

/* body_decode - the body as its Content-Transfer-Encoding says: decoded into *dec, or itself */
static span
body_decode(span hdr, span body, hj_buf *dec)
{
    hj_buf v = HJ_BUF_INIT;
    span d = body;

    if (hdr_find(hdr, "Content-Transfer-Encoding", &v)) {
        const char *p = buf_str(&v) + strspn(buf_str(&v), " \t");
        size_t n = strcspn(p, " \t;(");
        if (n == 16 && strncasecmp(p, "quoted-printable", n) == 0)
            qp_decode(body, dec, 0), d = bspan(dec);
        else if (n == 6 && strncasecmp(p, "base64", n) == 0)
            b64_decode(body, dec), d = bspan(dec);
    }
    buf_free(&v);
    return d;
}

static int msg_search(span m, int depth, mailmsg_info *out);
static int entity_search(span e, int depth, mailmsg_info *out);

/* is_delim - line l is "--boundary" (*close = 0) or "--boundary--" (*close = 1), then only
 * white space */
static int
is_delim(span l, const char *bnd, size_t blen, int *close)
{
    size_t i = 2 + blen;

    if (l.n < i || l.p[0] != '-' || l.p[1] != '-' || memcmp(l.p + 2, bnd, blen) != 0)
        return 0;
    *close = l.n >= i + 2 && l.p[i] == '-' && l.p[i + 1] == '-';
    for (i += *close ? 2 : 0; i < l.n; i++)
        if (!c_wsp(l.p[i]))
            return 0;
    return 1;
}

/* multipart_search - the parts between the boundary lines of body, in order */
static int
multipart_search(span body, const char *bnd, int depth, mailmsg_info *out)
{
    size_t pos = 0, at = 0, blen = strlen(bnd);
    const char *part = NULL;
    int close;
    span l;

    while (at = pos, line_next(body, &pos, &l)) {
        if (!is_delim(l, bnd, blen, &close))
            continue;
        if (part && entity_search((span){part, (size_t)(body.p + at - part)}, depth, out))
            return 1;
        if (close)
            return 0;
        part = body.p + pos;
    }
    return part && entity_search((span){part, (size_t)(body.p + body.n - part)}, depth, out);
}

/* entity_search - the token in one entity: a text part, a multipart, or a message/rfc822 */
static int
entity_search(span e, int depth, mailmsg_info *out)
{
    hj_buf dec = HJ_BUF_INIT;
    char type[128], bnd[256];
    span hdr, body;
    int found = 0, multi;

    msg_split(e, &hdr, &body);
    ctype(hdr, type, sizeof(type), bnd, sizeof(bnd));
    multi = strncmp(type, "multipart/", 10) == 0;
    if (multi && *bnd) {
        found = depth < MAILMSG_DEPTH && multipart_search(body, bnd, depth + 1, out);
    } else if (strncmp(type, "text/", 5) == 0 || multi) {
        found = token_find(body_decode(hdr, body, &dec), out->token, sizeof(out->token));
    } else if (strcmp(type, "message/rfc822") == 0 && depth < MAILMSG_DEPTH) {
        found = msg_search(body_decode(hdr, body, &dec), depth + 1, out);
    }
    buf_free(&dec);
    return found;
}

/* msg_search - the token in a message: its Subject, then its body */
static int
msg_search(span m, int depth, mailmsg_info *out)
{
    hj_buf v = HJ_BUF_INIT, d = HJ_BUF_INIT;
    span hdr, body;
    int found = 0;

    msg_split(m, &hdr, &body);
    if (hdr_find(hdr, "Subject", &v)) {
        hdr_decode(bspan(&v), &d);
        found = token_find(bspan(&d), out->token, sizeof(out->token));
    }
    buf_free(&v);
    buf_free(&d);
    return found || entity_search(m, depth, out);
}

/* ---------------------------------------------------------------- the From: address */

/* addr_ok - a plain address: printable ASCII, a local part without specials, '@', a domain
 * of letters, digits, '-' and '.' or a literal "[...]" */
static int
addr_ok(const char *a)
{
    const char *at = strchr(a, '@'), *d;

    if (at == NULL || at == a || at[1] == 0)
        return 0;
    for (const char *p = a; p < at; p++)
        if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 127 || strchr("\"(),:;<>[\\]", *p))
            return 0;
    if (at[1] == '[') {
        for (d = at + 2; *d && (c_alnum(*d) || *d == '.' || *d == ':'); d++)
            ;
        return d > at + 2 && d[0] == ']' && d[1] == 0;
    }
    for (d = at + 1; *d && (c_alnum(*d) || *d == '-' || *d == '.'); d++)
        ;
    return *d == 0;
}

/* mailbox_addr - the address of one mailbox (comments stripped): between '<' and '>' (white
 * space and an obsolete route "@a,@b:" dropped) if it has them, else all of it, trimmed;
 * lower-cased into out; -1 if it is no address */
static int
mailbox_addr(span m, char *out, size_t outlen)
{
    size_t i, k = 0, lt = m.n;
    int quoted = 0;

    for (i = 0; i < m.n && lt == m.n; i++)
        if (quoted && m.p[i] == '\\')
            i++;
        else if (m.p[i] == '"')
            quoted = !quoted;
        else if (m.p[i] == '<' && !quoted)
            lt = i;
    span a = m;
    if (lt < m.n) {
        const char *in = m.p + lt + 1, *gt = memchr(in, '>', m.n - lt - 1), *colon;
        a = (span){in, gt ? (size_t)(gt - in) : m.n - lt - 1}; /* memchr: in <= gt */
        if (a.n > 0 && a.p[0] == '@' && (colon = memchr(a.p, ':', a.n)) != NULL)
            a = (span){colon + 1, (size_t)(a.p + a.n - colon - 1)};
    }
    for (i = 0; i < a.n; i++) {
        if (c_wsp(a.p[i]) && (lt < m.n || k == 0 || i + strspn(a.p + i, " \t") >= a.n))
            continue; /* inside <>, or around a bare address: dropped */
        if (k + 1 >= outlen)
            return -1;
        out[k++] = (char)c_lower(a.p[i]);
    }
    out[k] = 0;
    return addr_ok(out) ? 0 : -1;
}

/* addr_first - the first mailbox with an address of a From: value (comments stripped) */
static int
addr_first(span v, char *out, size_t outlen)
{
    size_t start = 0;
    int quoted = 0, angle = 0;

    for (size_t i = 0; i <= v.n; i++) {
        char c = i < v.n ? v.p[i] : ',';
        if (quoted && i < v.n) {
            i += c == '\\';
            quoted = c != '"';
        } else if (c == '"') {
            quoted = 1;
        } else if (c == '<' || c == '>') {
            angle = c == '<';
        } else if (c == ':' && !angle) {
            start = i + 1; /* a group's name */
        } else if ((c == ',' || c == ';') && (!angle || i == v.n)) {
            if (i > start && mailbox_addr((span){v.p + start, i - start}, out, outlen) == 0)
                return 0;
            start = i + 1;
        }
    }
    *out = 0;
    return -1;
}

/* from_find - the From: address into out, "" if there is none */
static void
from_find(span hdr, char *out, size_t outlen)
{
    hj_buf v = HJ_BUF_INIT, s = HJ_BUF_INIT;

    *out = 0;
    if (hdr_find(hdr, "From", &v)) {
        comments_strip(bspan(&v), &s);
        addr_first(bspan(&s), out, outlen);
    }
    buf_free(&v);
    buf_free(&s);
}

int
mailmsg_parse(const char *msg, size_t len, mailmsg_info *out, char *err, size_t errlen)
{
    span m = {msg ? msg : "", msg ? len : 0}, hdr, body;

    memset(out, 0, sizeof(*out));
    msg_split(m, &hdr, &body);
    from_find(hdr, out->from, sizeof(out->from));
    if (!msg_search(m, 0, out))
        *out->token = 0;
    if (*out->from == 0 || *out->token == 0) {
        snprintf(err, errlen, "%s", *out->from == 0 ? "no From: address" : "no unlock token");
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- mail-unlock */

typedef struct unlock_ctx {
    const char *sender;
    int json;
    mailmsg_talk_fn talk;
    const char *where;
    FILE *out, *diag;
} unlock_ctx;

/* say - lead, then the formatted line with unsafe characters as '?', then a newline */
static void __attribute__((format(printf, 3, 4)))
say(FILE *f, const char *lead, const char *fmt, ...)
{
    hj_buf raw = HJ_BUF_INIT, line = HJ_BUF_INIT;
    va_list ap;

    va_start(ap, fmt);
    buf_vprintf(&raw, fmt, ap);
    va_end(ap);
    buf_puts(&line, lead);
    buf_put_safe(&line, buf_str(&raw));
    buf_putc(&line, '\n');
    fputs(buf_str(&line), f);
    fflush(f);
    buf_free(&raw);
    buf_free(&line);
}

/* say_json - v as one compact JSON line */
static void
say_json(FILE *f, json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT);

    fprintf(f, "%s\n", s ? s : "{}");
    fflush(f);
    free(s);
}

/* msg_read - in to its end into msg: 0, 1 (over MAILMSG_MAX: msg is emptied), -1 (errno) */
static int
msg_read(FILE *in, hj_buf *msg)
{
    char chunk[65536];
    size_t k;
    int over = 0;

    while ((k = fread(chunk, 1, sizeof(chunk), in)) > 0) {
        over |= msg->len + k > MAILMSG_MAX;
        if (over)
            buf_free(msg);
        else
            buf_add(msg, chunk, k);
    }
    return ferror(in) ? -1 : over;
}

/* answer_show - what the daemon answered, on out; the exit status */
static int
answer_show(const unlock_ctx *u, const hj_buf *ans, const mailmsg_info *info)
{
    json_error_t je;
    json_t *r = json_loadb(buf_str(ans), strcspn(buf_str(ans), "\n"), JSON_REJECT_DUPLICATES, &je);
    json_t *st = json_object_get(r, "status");
    json_int_t status = json_integer_value(st);
    const char *why = json_string_value(json_object_get(r, "error"));
    const char *acct = json_string_value(json_object_get(r, "account"));
    int rc = 0;

    if (!json_is_object(r) || !json_is_integer(st)) {
        say(u->diag, LEAD, "malformed answer to unlock_token: %s" RETRY,
            r ? "no integer \"status\"" : je.text);
        rc = EX_TEMPFAIL;
    } else if (status == 200 || (status >= 400 && status < 500)) {
        if (status == 200)
            json_object_del(r, "status");
        if (u->json)
            say_json(u->out, r);
        else if (status == 200)
            say(u->out, "", "unlocked %s (token from %s)", acct ? acct : "the account", info->from);
        else
            say(u->out, "",
                "hijackd refused the unlock token from %s: %s (%" JSON_INTEGER_FORMAT ")",
                info->from, why ? why : "no reason given", status);
    } else {
        say(u->diag, LEAD, "unlock_token: %s (%" JSON_INTEGER_FORMAT ")" RETRY,
            why ? why : "no reason given", status);
        rc = EX_TEMPFAIL;
    }
    json_decref(r);
    return rc;
}

/* req_str_ok - req[key] = v; -1 if v is not UTF-8 */
static int
req_str_ok(json_t *req, const char *key, const char *v)
{
    json_t *s = json_string(v);

    return s ? json_object_set_new(req, key, s) : -1;
}

/* unlock_ask - send the daemon the token; the exit status */
static int
unlock_ask(const unlock_ctx *u, const mailmsg_info *info)
{
    json_t *req = json_pack("{s:s,s:s,s:s}", "cmd", "unlock_token", "token", info->token, "from",
                            info->from); /* both ASCII: never NULL */
    hj_buf ans = HJ_BUF_INIT;
    char err[1024];
    int rc;

    if (u->sender && req_str_ok(req, "sender", u->sender) < 0) {
        say(u->diag, LEAD, "the sender %s is not UTF-8: nothing done", u->sender);
        rc = 0;
    } else if (u->talk(u->where, req, &ans, err, sizeof(err)) != 0) {
        say(u->diag, LEAD, "%s" RETRY, err);
        rc = EX_TEMPFAIL;
    } else {
        rc = answer_show(u, &ans, info);
    }
    json_decref(req);
    buf_free(&ans);
    return rc;
}

int
mailmsg_unlock(FILE *in, FILE *out, FILE *diag, const char *sender, int json, mailmsg_talk_fn talk,
               const char *where)
{
    unlock_ctx u = {sender, json, talk, where, out, diag};
    hj_buf msg = HJ_BUF_INIT;
    mailmsg_info info;
    char err[256];
    int rc = msg_read(in, &msg);

    if (rc < 0) {
        say(diag, LEAD, "reading the message: %s" RETRY, strerror(errno));
        rc = EX_TEMPFAIL;
    } else if (rc > 0) {
        say(diag, LEAD, "the message is over %u bytes, no reply to an alert: nothing done",
            MAILMSG_MAX);
        rc = 0;
    } else if (mailmsg_parse(buf_str(&msg), msg.len, &info, err, sizeof(err)) < 0) {
        say(diag, LEAD, "%s%s%s: nothing done", err, *info.from ? " in the message from " : "",
            info.from);
        rc = 0;
    } else {
        rc = unlock_ask(&u, &info);
    }
    buf_free(&msg);
    return rc;
}
