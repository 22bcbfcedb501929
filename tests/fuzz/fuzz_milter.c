/*
 * fuzz_milter - libFuzzer harness: the milter codec (src/milter/milter.h) on hostile bytes from
 * an MTA, or from anyone who can reach the milter socket.
 *
 * Byte 0 picks the packet limit (64 bytes to 128 KiB, or the default), byte 1 the size of the
 * pieces the rest is fed in (1 to 256 bytes, as reads may split it). The same bytes go to a
 * second parser in one piece. Besides the sanitizers it checks: *used within what was given;
 * every span of a command inside the packet's data, the data within the limit; the parser
 * never holding more than the limit; an error sticky (-1, nothing consumed, a message without
 * control bytes); both parsers seeing the same commands and the same error, however the bytes
 * were split. Each OPTNEG is negotiated and answered, each HEADER and address goes back
 * through the encoders (no CR or LF out, the length field right, the bounds held).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/milter/milter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_CMDS 4096

static void
inside(hj_span s, hj_span pkt)
{
    if (s.p == NULL)
        return;
    if (s.p < pkt.p || s.p + s.n > pkt.p + pkt.n)
        abort();
}

static void
check_spans(const milter_cmd *c, size_t max)
{
    if (c->data.n + 1 > max)
        abort();
    inside(c->host, c->data);
    inside(c->addr, c->data);
    inside(c->arg, c->data);
    inside(c->value, c->data);
    inside(c->body, c->data);
    if (c->nargs < 0 || c->nargs > MILTER_MAX_ARGS || c->nmacros < 0 ||
        c->nmacros > MILTER_MAX_MACROS)
        abort();
    for (int i = 0; i < c->nargs; i++)
        inside(c->args[i], c->data);
    for (int i = 0; i < c->nmacros; i++) {
        inside(c->macros[i].name, c->data);
        inside(c->macros[i].value, c->data);
    }
}

/* check_packet - out holds one packet: its length field right, at most bound bytes, no CR or
 * LF after the letter (text packets: all but OPTNEG, whose numbers may hold any byte) */
static void
check_packet(const hj_buf *out, size_t bound)
{
    int text = out->len > 4 && out->s[4] != 'O';

    if (out->len < 5 || out->len > bound)
        abort();
    const unsigned char *u = (const unsigned char *)out->s;
    size_t n = (size_t)u[0] << 24 | (size_t)u[1] << 16 | (size_t)u[2] << 8 | u[3];
    if (n != out->len - 4 || (text && (memchr(out->s + 5, '\r', out->len - 5) ||
                                       memchr(out->s + 5, '\n', out->len - 5))))
        abort();
}

/* cstr - a span as a NUL-terminated copy (stops at a NUL inside, as C callers would) */
static char *
cstr(hj_span s)
{
    char *p = malloc(s.n + 1);

    memcpy(p, s.p ? s.p : "", s.n);
    p[s.n] = 0;
    return p;
}

static void
encode_back(const milter_cmd *c)
{
    hj_buf out = HJ_BUF_INIT;
    char err[200];
    milter_neg neg;

    if (c->type == MILTER_CMD_OPTNEG &&
        milter_negotiate(c, MILTER_WANT_ACTIONS, MILTER_WANT_PROTOCOL, &neg, err, sizeof(err)) ==
            0) {
        milter_put_optneg(&out, &neg);
        if (((neg.actions & ~c->actions) && c->actions) ||
            ((neg.protocol & ~c->protocol) && c->protocol))
            abort();
        check_packet(&out, 512);
    } else if (c->type == MILTER_CMD_HEADER) {
        char *name = cstr(c->arg), *value = cstr(c->value);
        if (milter_put_addheader(&out, name, value) == 0)
            check_packet(&out, 5 + MILTER_HEADER_NAME_MAX + 1 + MILTER_HEADER_VALUE_MAX + 1);
        buf_reset(&out);
        if (milter_put_quarantine(&out, value) == 0)
            check_packet(&out, 5 + MILTER_QUARANTINE_MAX + 1);
        free(name);
        free(value);
    } else if (c->type == MILTER_CMD_MAIL || c->type == MILTER_CMD_RCPT) {
        char *text = cstr(c->arg);
        if (milter_put_replycode(&out, "550", NULL, text) == 0)
            check_packet(&out, 5 + 4 + MILTER_REPLY_TEXT_MAX + 1);
        buf_reset(&out);
        if (milter_put_replycode(&out, "451", "4.7.1", text) != 0)
            abort();
        check_packet(&out, 5 + 4 + 6 + MILTER_REPLY_TEXT_MAX + 1);
        free(text);
    } else if (c->type == MILTER_CMD_MACRO) {
        for (int i = 0; i < c->nmacros; i++) {
            char *name = cstr(c->macros[i].name);
            inside(milter_getmacro(c, name), c->data);
            free(name);
        }
    }
    buf_free(&out);
}

/* run - parse in pieces of step bytes; record each command's type and data length */
static int
run(const uint8_t *in, size_t n, size_t max, size_t step, uint32_t *seen, int *err)
{
    milter_parser *p = milter_parser_new(max);
    size_t lim = max ? max : MILTER_MAX_PACKET_DEFAULT, off = 0, used;
    int count = 0;
    milter_cmd c;

    *err = 0;
    while (off < n && count < MAX_CMDS) {
        size_t k = n - off < step ? n - off : step;
        int rc = milter_parse(p, (const char *)in + off, k, &used, &c);
        if (used > k || milter_parser_buffered(p) > lim)
            abort();
        off += used;
        if (rc < 0) {
            const char *msg;
            *err = milter_parser_error(p, &msg);
            if (*err == 0 || strlen(msg) == 0 || strlen(msg) >= 160)
                abort();
            for (const char *m = msg; *m; m++)
                if ((unsigned char)*m < 0x20 || *m == 0x7f)
                    abort();
            if (milter_parse(p, (const char *)in, n, &used, &c) != -1 || used != 0)
                abort();
            break;
        }
        if (rc == 1) {
            check_spans(&c, lim);
            if (step == n)
                encode_back(&c);
            seen[count++] = (uint32_t)c.type << 24 ^ (uint32_t)c.data.n;
        } else if (used != k) {
            abort();
        }
    }
    milter_parser_free(p);
    return count;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint32_t a[MAX_CMDS], b[MAX_CMDS];
    int ea, eb;

    if (size < 2)
        return 0;
    size_t max = data[0] < 16 ? (size_t)64 << data[0] % 12 : 0; /* 64 B .. 128 KiB, or default */
    size_t step = (size_t)data[1] + 1;
    const uint8_t *in = data + 2;
    size_t n = size - 2;
    int na = run(in, n, max, n ? n : 1, a, &ea);
    int nb = run(in, n, max, step, b, &eb);
    if (na != nb || ea != eb || memcmp(a, b, (size_t)na * sizeof(a[0])) != 0)
        abort();
    return 0;
}
