/*
 * scan_parse - the replies of rspamd and spamd, hostile bytes in, a verdict out (see scan_parse.h)
 */
#include "scan_parse.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_HEAD (16 * 1024) /* the status line and headers of one reply */

/* bad - the verdict of a reply not understood: -1 */
static int
bad(scan_verdict *v, const char *why)
{
    scan_unscanned(v, SCAN_R_BAD_REPLY, why);
    return -1;
}

/* next_line - the line at *p (before CRLF or LF) in [*p, end): 0, or -1 if it has no end */
static int
next_line(const char **p, const char *end, const char **line, size_t *n)
{
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));

    if (nl == NULL)
        return -1;
    *line = *p;
    *n = (size_t)(nl - *p);
    if (*n > 0 && nl[-1] == '\r')
        (*n)--;
    *p = nl + 1;
    return 0;
}

/* number - a strict decimal "-12.5" in [p, p + n) into *out: 0, or -1 */
static int
number(const char *p, size_t n, double *out)
{
    char tmp[32];
    size_t i = 0, digits = 0;

    if (n == 0 || n >= sizeof(tmp))
        return -1;
    if (p[0] == '-' || p[0] == '+')
        i++;
    for (; i < n && p[i] >= '0' && p[i] <= '9'; i++)
        digits++;
    if (i < n && p[i] == '.')
        for (i++; i < n && p[i] >= '0' && p[i] <= '9'; i++)
            digits++;
    if (i != n || digits == 0)
        return -1;
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    *out = strtod(tmp, NULL);
    return isfinite(*out) ? 0 : -1;
}

/* header - "Name: value" with Name case-insensitive: the value without leading blanks, or NULL */
static const char *
header(const char *line, size_t n, const char *name, size_t *vlen)
{
    size_t k = strlen(name);

    if (n <= k || strncasecmp(line, name, k) != 0 || line[k] != ':')
        return NULL;
    for (k++; k < n && (line[k] == ' ' || line[k] == '\t'); k++)
        ;
    *vlen = n - k;
    return line + k;
}

/* content_length - a header's digits: 0 with *cl, or -1 */
static int
content_length(const char *v, size_t n, size_t *cl)
{
    size_t x = 0;

    if (n == 0 || n > 9)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -1;
        x = x * 10 + (size_t)(v[i] - '0');
    }
    *cl = x;
    return 0;
}

/* head_end - the offset of the body (after the blank line), or 0 if the headers did not end */
static size_t
head_end(const char *p, size_t len)
{
    const char *q = p, *end = p + (len < MAX_HEAD ? len : MAX_HEAD), *line;
    size_t n;

    while (next_line(&q, end, &line, &n) == 0)
        if (n == 0)
            return (size_t)(q - p);
    return 0;
}

/* find_length - the Content-Length of the headers in [p, p + hlen): 1 with *cl, 0 none, -1 bad */
static int
find_length(const char *p, size_t hlen, size_t *cl)
{
    const char *q = p, *end = p + hlen, *line, *v;
    size_t n, vn;
    int found = 0;

    while (next_line(&q, end, &line, &n) == 0 && n > 0) {
        if ((v = header(line, n, "Content-Length", &vn)) == NULL)
            continue;
        if (found || content_length(v, vn, cl) != 0)
            return -1;
        found = 1;
    }
    return found;
}

int
scan_reply_complete(const char *p, size_t len)
{
    size_t h = head_end(p, len), cl;

    if (h == 0 || find_length(p, h, &cl) != 1)
        return 0;
    return len - h >= cl;
}

int
scan_http_reply(const char *p, size_t len, int *status, const char **body, size_t *blen)
{
    const char *q = p, *line, *v;
    size_t n, vn, h = head_end(p, len), cl;
    int found;

    if (h == 0 || next_line(&q, p + h, &line, &n) != 0 || n < 12 ||
        memcmp(line, "HTTP/1.", 7) != 0 || line[8] != ' ' || (n > 12 && line[12] != ' ') ||
        content_length(line + 9, 3, &cl) != 0)
        return -1;
    *status = (int)cl;
    for (const char *r = q; next_line(&r, p + h, &line, &n) == 0 && n > 0;) {
        v = header(line, n, "Transfer-Encoding", &vn);
        if (v && (vn != 8 || strncasecmp(v, "identity", 8) != 0))
            return -1; /* chunked: not asked for (HTTP/1.0 request) */
    }
    if ((found = find_length(q, h - (size_t)(q - p), &cl)) < 0 || (found && cl > len - h))
        return -1;
    *body = p + h;
    *blen = found ? cl : len - h;
    return 0;
}

/* rspamd_symbols - each "NAME": {"score": S, ...} of the object into v */
static void
rspamd_symbols(json_t *syms, scan_verdict *v)
{
    const char *key;
    json_t *s;

    if (!json_is_object(syms))
        return;
    json_object_foreach(syms, key, s)
    {
        json_t *sc = json_object_get(s, "score");
        scan_add_symbol(v, key, strlen(key), json_is_number(sc) ? json_number_value(sc) : 0);
    }
}

/* rspamd_fill - the verdict of a parsed /checkv2 object: 0, or -1 */
static int
rspamd_fill(json_t *o, const scan_rules *r, scan_verdict *v)
{
    json_t *act = json_object_get(o, "action"), *sc = json_object_get(o, "score"),
           *req = json_object_get(o, "required_score");

    if (!json_is_object(o))
        return bad(v, "not a JSON object");
    if (json_object_get(o, "error"))
        return bad(v, "rspamd error");
    if (!json_is_string(act))
        return bad(v, "no action");
    if (!json_is_number(sc) || !json_is_number(req) || !isfinite(json_number_value(sc)) ||
        !isfinite(json_number_value(req)))
        return bad(v, "no score");
    scan_verdict_init(v);
    scan_copy_text(v->action, sizeof(v->action), json_string_value(act), json_string_length(act));
    v->score = json_number_value(sc);
    v->threshold = json_number_value(req);
    rspamd_symbols(json_object_get(o, "symbols"), v);
    v->cls = scan_rules_action(r, v->action, v->score, v->threshold);
    return 0;
}

int
scan_rspamd_parse(const char *json, size_t len, const scan_rules *r, scan_verdict *v)
{
    scan_rules def;
    json_error_t e;
    json_t *o;
    int rc;

    if (r == NULL) {
        scan_rules_default(&def);
        r = &def;
    }
    if (len > SCAN_MAX_REPLY)
        return bad(v, "reply too big");
    if ((o = json_loadb(json, len, JSON_REJECT_DUPLICATES, &e)) == NULL)
        return bad(v, "not JSON");
    rc = rspamd_fill(o, r, v);
    json_decref(o);
    return rc;
}

/* spam_header - "True ; 1002.7 / 5.0": 0 with the three values, or -1 */
static int
spam_header(const char *p, size_t n, int *spam, double *score, double *thr)
{
    const char *semi = memchr(p, ';', n), *slash, *a, *end = p + n;
    size_t w;

    if (semi == NULL || (slash = memchr(semi, '/', (size_t)(end - semi))) == NULL)
        return -1;
    for (w = (size_t)(semi - p); w > 0 && p[w - 1] == ' '; w--)
        ;
    if ((w == 4 && strncasecmp(p, "true", 4) == 0) || (w == 3 && strncasecmp(p, "yes", 3) == 0))
        *spam = 1;
    else if ((w == 5 && strncasecmp(p, "false", 5) == 0) || (w == 2 && strncasecmp(p, "no", 2) == 0))
        *spam = 0;
    else
        return -1;
    for (a = semi + 1; a < slash && *a == ' '; a++)
        ;
    for (w = (size_t)(slash - a); w > 0 && a[w - 1] == ' '; w--)
        ;
    if (number(a, w, score) != 0)
        return -1;
    for (a = slash + 1; a < end && *a == ' '; a++)
        ;
    for (w = (size_t)(end - a); w > 0 && a[w - 1] == ' '; w--)
        ;
    return number(a, w, thr);
}

/* spamd_status - "SPAMD/1.1 0 EX_OK": 0, or -1 with the verdict */
static int
spamd_status(const char *line, size_t n, scan_verdict *v)
{
    char why[40];
    size_t i = 8, code = 0;

    if (n < 10 || memcmp(line, "SPAMD/1.", 8) != 0)
        return bad(v, "not a SPAMD reply");
    while (i < n && line[i] >= '0' && line[i] <= '9')
        i++;
    if (i == 8 || i >= n || line[i] != ' ')
        return bad(v, "not a SPAMD reply");
    if (++i >= n || line[i] < '0' || line[i] > '9')
        return bad(v, "not a SPAMD reply");
    for (; i < n && line[i] >= '0' && line[i] <= '9' && code < 1000; i++)
        code = code * 10 + (size_t)(line[i] - '0');
    if (code != 0 || (i < n && line[i] != ' ')) {
        snprintf(why, sizeof(why), "spamd error %zu", code);
        return bad(v, why);
    }
    return 0;
}

/* spamd_symbols - "A,B,C" (blanks and line ends around names dropped) into v */
static void
spamd_symbols(const char *p, size_t n, scan_verdict *v)
{
    const char *end = p + n;

    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p)), *e = comma ? comma : end;
        while (p < e && (*p == ' ' || *p == '\r' || *p == '\n' || *p == '\t'))
            p++;
        const char *t = e;
        while (t > p && (t[-1] == ' ' || t[-1] == '\r' || t[-1] == '\n' || t[-1] == '\t'))
            t--;
        scan_add_symbol(v, p, (size_t)(t - p), 0);
        p = comma ? comma + 1 : end;
    }
}

/* spamd_fill - the headers after the status line, then the body */
static int
spamd_fill(const char *q, const char *body, const char *end, const scan_rules *r, scan_verdict *v)
{
    const char *line, *val;
    size_t n, vn, cl = 0;
    int have_spam = 0, have_cl = 0, spam = 0;
    double score = 0, thr = 0;

    while (next_line(&q, body, &line, &n) == 0 && n > 0) {
        if ((val = header(line, n, "Spam", &vn))) {
            if (have_spam++ || spam_header(val, vn, &spam, &score, &thr) != 0)
                return bad(v, "bad Spam: header");
        } else if ((val = header(line, n, "Content-length", &vn))) {
            if (have_cl++ || content_length(val, vn, &cl) != 0)
                return bad(v, "bad Content-length");
        }
    }
    if (!have_spam)
        return bad(v, "no Spam: header");
    if (have_cl && cl > (size_t)(end - body))
        return bad(v, "body shorter than Content-length");
    scan_verdict_init(v);
    v->score = score;
    v->threshold = thr;
    spamd_symbols(body, have_cl ? cl : (size_t)(end - body), v);
    v->cls = scan_rules_score(r, spam, score, thr);
    return 0;
}

int
scan_spamd_parse(const char *reply, size_t len, const scan_rules *r, scan_verdict *v)
{
    const char *q = reply, *line;
    size_t n, h;
    scan_rules def;

    if (r == NULL) {
        scan_rules_default(&def);
        r = &def;
    }
    if (len > SCAN_MAX_REPLY)
        return bad(v, "reply too big");
    if (next_line(&q, reply + len, &line, &n) != 0)
        return bad(v, "no status line");
    if (spamd_status(line, n, v) != 0)
        return -1;
    if ((h = head_end(reply, len)) == 0)
        return bad(v, "headers do not end");
    return spamd_fill(q, reply + h, reply + len, r, v);
}
