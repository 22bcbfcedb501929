/*
 * milter - the milter protocol parser: framing and the commands' fields (see milter.h;
 * negotiation and replies are in milter_put.c)
 */
#include "milter.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../util/alloc.h"

struct milter_parser {
    size_t max;            /* limit on a packet's length, the command letter included */
    unsigned char head[5]; /* the length (4 bytes, big-endian) and the command letter */
    size_t nhead;          /* bytes of head received */
    size_t want, have;     /* the packet's data bytes: announced, received */
    char *pkt;             /* the data, at most one packet's */
    size_t cap;            /* allocated for pkt, <= max */
    int err;               /* MILTER_E_*, sticky */
    char msg[160];
};

typedef int (*decode_fn)(milter_cmd *c, milter_parser *p);

static int dec_none(milter_cmd *c, milter_parser *p);
static int dec_optneg(milter_cmd *c, milter_parser *p);
static int dec_macro(milter_cmd *c, milter_parser *p);
static int dec_connect(milter_cmd *c, milter_parser *p);
static int dec_one(milter_cmd *c, milter_parser *p);
static int dec_argv(milter_cmd *c, milter_parser *p);
static int dec_header(milter_cmd *c, milter_parser *p);
static int dec_body(milter_cmd *c, milter_parser *p);

/* the commands: letter, name, decoder */
static const struct {
    int type;
    const char *name;
    decode_fn decode;
} cmds[] = {
    {MILTER_CMD_ABORT, "ABORT", dec_none},
    {MILTER_CMD_BODY, "BODY", dec_body},
    {MILTER_CMD_CONNECT, "CONNECT", dec_connect},
    {MILTER_CMD_MACRO, "MACRO", dec_macro},
    {MILTER_CMD_EOB, "EOB", dec_body},
    {MILTER_CMD_HELO, "HELO", dec_one},
    {MILTER_CMD_QUIT_NC, "QUIT_NC", dec_none},
    {MILTER_CMD_HEADER, "HEADER", dec_header},
    {MILTER_CMD_MAIL, "MAIL", dec_argv},
    {MILTER_CMD_EOH, "EOH", dec_none},
    {MILTER_CMD_OPTNEG, "OPTNEG", dec_optneg},
    {MILTER_CMD_QUIT, "QUIT", dec_none},
    {MILTER_CMD_RCPT, "RCPT", dec_argv},
    {MILTER_CMD_DATA, "DATA", dec_none},
    {MILTER_CMD_UNKNOWN, "UNKNOWN", dec_one},
};
#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

static const struct {
    int code;
    const char *name;
} err_names[] = {
    {MILTER_E_LENGTH, "length"}, {MILTER_E_BIG, "too big"},   {MILTER_E_COMMAND, "command"},
    {MILTER_E_SHORT, "short"},   {MILTER_E_FIELD, "field"},   {MILTER_E_FAMILY, "family"},
    {MILTER_E_STAGE, "stage"},   {MILTER_E_MACROS, "macros"},
};

/* cmd_index - the row of a command letter, -1 if unknown */
static int
cmd_index(int type)
{
    for (size_t i = 0; i < NCMDS; i++)
        if (cmds[i].type == type)
            return (int)i;
    return -1;
}

const char *
milter_cmd_name(int type)
{
    int i = cmd_index(type);

    return i < 0 ? "?" : cmds[i].name;
}

/* fail - make the parser's error sticky, with a message; returns -1 */
static int fail(milter_parser *p, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(milter_parser *p, int code, const char *fmt, ...)
{
    va_list ap;

    p->err = code;
    va_start(ap, fmt);
    vsnprintf(p->msg, sizeof(p->msg), fmt, ap);
    va_end(ap);
    return -1;
}

/* letter - a byte for a message: 'x' if printable, else 0xNN */
static const char *
letter(unsigned char c, char buf[8])
{
    if (c > 0x20 && c < 0x7f)
        snprintf(buf, 8, "'%c'", c);
    else
        snprintf(buf, 8, "0x%02x", c);
    return buf;
}

milter_parser *
milter_parser_new(size_t max_packet)
{
    milter_parser *p = xcalloc(1, sizeof(*p));

    p->max = max_packet ? max_packet : MILTER_MAX_PACKET_DEFAULT;
    return p;
}

void
milter_parser_free(milter_parser *p)
{
    if (p == NULL)
        return;
    free(p->pkt);
    free(p);
}

int
milter_parser_error(const milter_parser *p, const char **msg)
{
    if (msg)
        *msg = p->err ? p->msg : "";
    return p->err;
}

size_t
milter_parser_buffered(const milter_parser *p)
{
    return p->cap;
}

/* head_done - the length and letter are in: check them before any data is buffered */
static int
head_done(milter_parser *p)
{
    size_t n =
        (size_t)p->head[0] << 24 | (size_t)p->head[1] << 16 | (size_t)p->head[2] << 8 | p->head[3];
    char b[8];

    if (p->nhead == 4) {
        if (n == 0)
            return fail(p, MILTER_E_LENGTH, "packet length 0");
        if (n > p->max)
            return fail(p, MILTER_E_BIG, "packet of %zu bytes, over the limit of %zu", n, p->max);
        return 0;
    }
    if (cmd_index(p->head[4]) < 0)
        return fail(p, MILTER_E_COMMAND, "unknown command %s", letter(p->head[4], b));
    p->want = n - 1;
    p->have = 0;
    return 0;
}

/* take - copy up to n bytes of data into the packet buffer, grown as they arrive */
static size_t
take(milter_parser *p, const char *in, size_t n)
{
    size_t k = p->want - p->have < n ? p->want - p->have : n;

    if (p->have + k > p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 512;
        if (cap < p->have + k)
            cap = p->have + k;
        if (cap > p->want)
            cap = p->want;
        p->pkt = xrealloc(p->pkt, cap);
        p->cap = cap;
    }
    memcpy(p->pkt + p->have, in, k);
    p->have += k;
    return k;
}

/* decode - a whole packet into *c */
static int
decode(milter_parser *p, milter_cmd *c)
{
    int i = cmd_index(p->head[4]);

    memset(c, 0, sizeof(*c));
    c->type = p->head[4];
    c->data.p = p->pkt ? p->pkt : "";
    c->data.n = p->want;
    p->nhead = 0;
    return cmds[i].decode(c, p) < 0 ? -1 : 1;
}

int
milter_parse(milter_parser *p, const char *in, size_t len, size_t *used, milter_cmd *cmd)
{
    size_t off = 0;

    *used = 0;
    if (p->err)
        return -1;
    while (off < len || (p->nhead == 5 && p->have == p->want)) {
        if (p->nhead < 5) {
            p->head[p->nhead++] = (unsigned char)in[off++];
            if ((p->nhead == 4 || p->nhead == 5) && head_done(p) < 0)
                return -1;
            continue;
        }
        if (p->have < p->want)
            off += take(p, in + off, len - off);
        if (p->have == p->want) {
            *used = off;
            return decode(p, cmd);
        }
    }
    *used = off;
    return 0;
}

/* fields - split data[0..n) into NUL-terminated strings: each must end in its NUL */
static int
fields(milter_parser *p, const char *what, const char *s, size_t n, hj_span *f, int max, int *count,
       int *dropped)
{
    *count = 0;
    if (dropped)
        *dropped = 0;
    if (n == 0 || s[n - 1] != 0)
        return fail(p, MILTER_E_FIELD, "%s: a field without its NUL", what);
    for (size_t off = 0; off < n;) {
        size_t k = strlen(s + off); /* stops at the NUL that ends the data at the latest */
        if (*count < max)
            f[(*count)++] = (hj_span){s + off, k};
        else if (dropped)
            (*dropped)++;
        else
            return fail(p, MILTER_E_MACROS, "%s: more than %d fields", what, max);
        off += k + 1;
    }
    return 0;
}

static int
dec_none(milter_cmd *c, milter_parser *p)
{
    (void)c;
    (void)p;
    return 0;
}

static int
dec_body(milter_cmd *c, milter_parser *p)
{
    (void)p;
    c->body = c->data;
    return 0;
}

static uint32_t
be32(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;

    return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3];
}

static int
dec_optneg(milter_cmd *c, milter_parser *p)
{
    if (c->data.n < 12)
        return fail(p, MILTER_E_SHORT, "OPTNEG: %zu bytes, want 12", c->data.n);
    c->version = be32(c->data.p);
    c->actions = be32(c->data.p + 4);
    c->protocol = be32(c->data.p + 8);
    return 0;
}

/* unbrace - "{name}" -> "name" */
static hj_span
unbrace(hj_span s)
{
    if (s.n >= 2 && s.p[0] == '{' && s.p[s.n - 1] == '}')
        return (hj_span){s.p + 1, s.n - 2};
    return s;
}

static int
dec_macro(milter_cmd *c, milter_parser *p)
{
    hj_span f[2 * MILTER_MAX_MACROS];
    int n;
    char b[8];

    if (c->data.n < 1)
        return fail(p, MILTER_E_SHORT, "MACRO: no command letter");
    c->stage = (unsigned char)c->data.p[0];
    if (cmd_index(c->stage) < 0)
        return fail(p, MILTER_E_STAGE, "MACRO: for unknown command %s",
                    letter((unsigned char)c->stage, b));
    if (c->data.n == 1)
        return 0;
    if (fields(p, "MACRO", c->data.p + 1, c->data.n - 1, f, 2 * MILTER_MAX_MACROS, &n, NULL) < 0)
        return p->err == MILTER_E_MACROS
                   ? fail(p, MILTER_E_MACROS, "MACRO: more than %d macros", MILTER_MAX_MACROS)
                   : -1;
    if (n % 2)
        return fail(p, MILTER_E_FIELD, "MACRO: a name without a value");
    for (int i = 0; i < n; i += 2)
        c->macros[c->nmacros++] = (milter_macro){unbrace(f[i]), f[i + 1]};
    return 0;
}

/* dec_connect - host NUL, family, then (but for 'U') port (2 bytes) and address NUL */
static int
dec_connect(milter_cmd *c, milter_parser *p)
{
    const char *s = c->data.p, *nul = memchr(s, 0, c->data.n);
    char b[8];

    if (nul == NULL)
        return fail(p, MILTER_E_FIELD, "CONNECT: a field without its NUL");
    c->host = (hj_span){s, (size_t)(nul - s)};
    size_t off = (size_t)(nul - s) + 1, n = c->data.n;
    if (off >= n)
        return fail(p, MILTER_E_SHORT, "CONNECT: no address family");
    c->family = s[off++];
    if (c->family == 'U')
        return 0;
    if (c->family == 0 || strchr("46L", c->family) == NULL)
        return fail(p, MILTER_E_FAMILY, "CONNECT: unknown address family %s",
                    letter((unsigned char)c->family, b));
    if (off + 2 > n)
        return fail(p, MILTER_E_SHORT, "CONNECT: no port");
    c->port =
        c->family == 'L' ? 0 : ((unsigned)(unsigned char)s[off] << 8 | (unsigned char)s[off + 1]);
    off += 2;
    if (off >= n || s[n - 1] != 0)
        return fail(p, MILTER_E_FIELD, "CONNECT: a field without its NUL");
    c->addr = (hj_span){s + off, strlen(s + off)};
    if (c->family == '6' && c->addr.n >= 5 && strncasecmp(c->addr.p, "IPv6:", 5) == 0)
        c->addr = (hj_span){c->addr.p + 5, c->addr.n - 5};
    return 0;
}

/* dec_one - one string: HELO, UNKNOWN */
static int
dec_one(milter_cmd *c, milter_parser *p)
{
    hj_span f[1];
    int n, dropped;

    if (fields(p, milter_cmd_name(c->type), c->data.p, c->data.n, f, 1, &n, &dropped) < 0)
        return -1;
    c->arg = f[0];
    return 0;
}

/* dec_argv - an address and its ESMTP arguments: MAIL, RCPT */
static int
dec_argv(milter_cmd *c, milter_parser *p)
{
    hj_span f[1 + MILTER_MAX_ARGS];
    int n;

    if (fields(p, milter_cmd_name(c->type), c->data.p, c->data.n, f, 1 + MILTER_MAX_ARGS, &n,
               &c->args_dropped) < 0)
        return -1;
    c->arg = f[0];
    c->nargs = n - 1;
    memcpy(c->args, f + 1, (size_t)c->nargs * sizeof(f[0]));
    return 0;
}

static int
dec_header(milter_cmd *c, milter_parser *p)
{
    hj_span f[2];
    int n, dropped;

    if (fields(p, "HEADER", c->data.p, c->data.n, f, 2, &n, &dropped) < 0)
        return -1;
    if (n != 2 || dropped)
        return fail(p, MILTER_E_FIELD, "HEADER: %d fields, want 2 (name, value)", n + dropped);
    c->arg = f[0];
    c->value = f[1];
    return 0;
}

hj_span
milter_getmacro(const milter_cmd *cmd, const char *name)
{
    hj_span want = unbrace((hj_span){name, strlen(name)});

    for (int i = 0; cmd->type == MILTER_CMD_MACRO && i < cmd->nmacros; i++)
        if (cmd->macros[i].name.n == want.n && memcmp(cmd->macros[i].name.p, want.p, want.n) == 0)
            return cmd->macros[i].value;
    return (hj_span){NULL, 0};
}

const char *
milter_err_name(int code)
{
    for (size_t i = 0; i < sizeof(err_names) / sizeof(err_names[0]); i++)
        if (err_names[i].code == code)
            return err_names[i].name;
    return "none";
}
