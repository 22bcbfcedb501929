/*
 * test_milter - the milter protocol codec (src/milter/milter.h)
 *
 * Packets as bytes, each with what the parser must make of it, written as one line by
 * describe() ("CONNECT host=localhost family=4 port=39012 addr=127.0.0.1") or as the error it
 * must give ("error field: HELO: a field without its NUL"); the stream of several packets fed
 * split at every point; an error staying; the memory bound; the streams a real Postfix 3.7.11
 * sent (tests/fixtures/milter/, recorded by record.py: one session with its OPTNEG reply,
 * body chunks of up to 65,535 bytes, a 59 KB header); the negotiation against the offers of Postfix
 * 3.7, Sendmail 8.17 and older MTAs; every encoder's bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../src/milter/milter.h"
#include "check.h"

#define B(s) s, sizeof(s) - 1

/* esc - a span, printable bytes as they are, others as \xNN */
static void
esc(hj_buf *b, hj_span s)
{
    for (size_t i = 0; i < s.n; i++) {
        unsigned char c = (unsigned char)s.p[i];
        if (c >= 0x20 && c < 0x7f && c != '\\')
            buf_putc(b, (char)c);
        else
            buf_printf(b, "\\x%02x", c);
    }
}

/* describe - one command as a line (without the newline) */
static void
describe(const milter_cmd *c, hj_buf *b)
{
    buf_puts(b, milter_cmd_name(c->type));
    switch (c->type) {
    case MILTER_CMD_OPTNEG:
        buf_printf(b, " v=%u a=0x%x p=0x%x", (unsigned)c->version, (unsigned)c->actions,
                   (unsigned)c->protocol);
        break;
    case MILTER_CMD_MACRO:
        buf_printf(b, " @%c", c->stage);
        for (int i = 0; i < c->nmacros; i++) {
            buf_putc(b, ' ');
            esc(b, c->macros[i].name);
            buf_putc(b, '=');
            esc(b, c->macros[i].value);
        }
        break;
    case MILTER_CMD_CONNECT:
        buf_puts(b, " host=");
        esc(b, c->host);
        buf_printf(b, " family=%c", c->family);
        if (c->family != 'U') {
            buf_printf(b, " port=%u addr=", c->port);
            esc(b, c->addr);
        }
        break;
    case MILTER_CMD_HELO:
    case MILTER_CMD_UNKNOWN:
    case MILTER_CMD_MAIL:
    case MILTER_CMD_RCPT:
        buf_putc(b, ' ');
        esc(b, c->arg);
        for (int i = 0; i < c->nargs; i++) {
            buf_putc(b, ' ');
            esc(b, c->args[i]);
        }
        if (c->args_dropped)
            buf_printf(b, " +%d", c->args_dropped);
        break;
    case MILTER_CMD_HEADER:
        buf_putc(b, ' ');
        esc(b, c->arg);
        buf_puts(b, ": ");
        esc(b, c->value.n > 40 ? (hj_span){c->value.p, 40} : c->value);
        if (c->value.n > 40)
            buf_printf(b, "... (%zu bytes)", c->value.n);
        break;
    case MILTER_CMD_BODY:
    case MILTER_CMD_EOB:
        if (c->body.n == 0)
            break;
        buf_printf(b, " %zu:", c->body.n);
        esc(b, c->body.n > 24 ? (hj_span){c->body.p, 24} : c->body);
        break;
    }
}

/* feed - parse in[0..n) given in pieces cut at the points cuts[] (ascending, < n), append a
 * line per command and, on an error, "error NAME: message"; returns the commands' count */
static int
feed(milter_parser *p, const char *in, size_t n, const size_t *cuts, int ncuts, hj_buf *out)
{
    milter_cmd c;
    int count = 0;
    size_t from = 0;

    for (int piece = 0; piece <= ncuts; piece++) {
        size_t to = piece < ncuts ? cuts[piece] : n, used;
        while (from < to) {
            int rc = milter_parse(p, in + from, to - from, &used, &c);
            if (used > to - from)
                fail_msg("used %zu of %zu", used, to - from);
            from += used;
            if (rc < 0) {
                const char *msg;
                int code = milter_parser_error(p, &msg);
                buf_printf(out, "error %s: %s\n", milter_err_name(code), msg);
                return count;
            }
            if (rc == 0)
                break;
            describe(&c, out);
            buf_putc(out, '\n');
            count++;
        }
    }
    return count;
}

/* parse_whole - the lines for in, given at once, with a parser of limit max */
static char *
parse_whole(const char *in, size_t n, size_t max)
{
    milter_parser *p = milter_parser_new(max);
    hj_buf out = HJ_BUF_INIT;

    feed(p, in, n, NULL, 0, &out);
    milter_parser_free(p);
    return out.s ? out.s : strdup("");
}

typedef struct packet_case {
    const char *name;
    int letter; /* the packet is its length, this letter, then in; 0: in is the whole stream */
    const char *in;
    size_t len;
    size_t max;       /* 0: the default limit */
    const char *want; /* the lines */
} packet_case;

static const packet_case packets[] = {
    /* every command; Postfix 3.7.11's bytes where it sends one (postfix37-plain.bin) */
    {"OPTNEG from Postfix 3.7", 'O', B("\0\0\0\x06\0\0\x01\xff\0\x1f\xff\xff"), 0,
     "OPTNEG v=6 a=0x1ff p=0x1fffff\n"},
    {"OPTNEG with bytes after the 12", 'O', B("\0\0\0\x06\0\0\0\x01\0\0\0\x02xx"), 0,
     "OPTNEG v=6 a=0x1 p=0x2\n"},
    {"MACRO at CONNECT, names with and without braces", 'D',
     B("Cj\0mx.example.test\0{daemon_name}\0ORIGINATING\0_\0x [1]\0"), 0,
     "MACRO @C j=mx.example.test daemon_name=ORIGINATING _=x [1]\n"},
    {"MACRO with no macros", 'D', B("H"), 0, "MACRO @H\n"},
    {"MACRO with an empty value", 'D', B("Ti\0\0"), 0, "MACRO @T i=\n"},
    {"MACRO a lone brace stays", 'D', B("M{\0x\0"), 0, "MACRO @M {=x\n"},
    {"CONNECT IPv4", 'C',
     B("localhost\0"
       "4\x98\x64"
       "127.0.0.1\0"),
     0, "CONNECT host=localhost family=4 port=39012 addr=127.0.0.1\n"},
    {"CONNECT IPv6", 'C',
     B("[2001:db8::1]\0"
       "6\x01\xbb"
       "2001:db8::1\0"),
     0, "CONNECT host=[2001:db8::1] family=6 port=443 addr=2001:db8::1\n"},
    {"CONNECT IPv6 with Sendmail's prefix", 'C',
     B("mx\0"
       "6\0\x19"
       "IPv6:::1\0"),
     0, "CONNECT host=mx family=6 port=25 addr=::1\n"},
    {"CONNECT unix socket", 'C',
     B("localhost\0"
       "L\0\0"
       "/run/postfix.sock\0"),
     0, "CONNECT host=localhost family=L port=0 addr=/run/postfix.sock\n"},
    {"CONNECT unknown family 'U': no port, no address", 'C', B("unknown\0U"), 0,
     "CONNECT host=unknown family=U\n"},
    {"HELO", 'H', B("vm\0"), 0, "HELO vm\n"},
    {"MAIL with ESMTP arguments", 'M', B("<a@example.test>\0SIZE=10\0BODY=8BITMIME\0"), 0,
     "MAIL <a@example.test> SIZE=10 BODY=8BITMIME\n"},
    {"MAIL null sender", 'M', B("<>\0"), 0, "MAIL <>\n"},
    {"RCPT", 'R', B("<someone@remote.test>\0"), 0, "RCPT <someone@remote.test>\n"},
    {"RCPT with 18 arguments: 16 kept", 'R',
     B("<x>\0a\0b\0c\0d\0e\0f\0g\0h\0i\0j\0k\0l\0m\0n\0o\0p\0q\0r\0"), 0,
     "RCPT <x> a b c d e f g h i j k l m n o p +2\n"},
    {"DATA", 'T', B(""), 0, "DATA\n"},
    {"HEADER", 'L', B("Subject\0milter fixture\0"), 0, "HEADER Subject: milter fixture\n"},
    {"HEADER folded", 'L', B("X-A\0b\n\tc\0"), 0, "HEADER X-A: b\\x0a\\x09c\n"},
    {"HEADER empty value", 'L', B("X-A\0\0"), 0, "HEADER X-A: \n"},
    {"EOH", 'N', B(""), 0, "EOH\n"},
    {"BODY", 'B', B("hi\r\n."), 0, "BODY 5:hi\\x0d\\x0a.\n"},
    {"BODY empty", 'B', B(""), 0, "BODY\n"},
    {"BODY with NUL bytes", 'B', B("\0a\0"), 0, "BODY 3:\\x00a\\x00\n"},
    {"EOB", 'E', B(""), 0, "EOB\n"},
    {"EOB with data (libmilter passes it on as body)", 'E', B("end"), 0, "EOB 3:end\n"},
    {"ABORT", 'A', B(""), 0, "ABORT\n"},
    {"QUIT", 'Q', B(""), 0, "QUIT\n"},
    {"QUIT_NC", 'K', B(""), 0, "QUIT_NC\n"},
    {"UNKNOWN", 'U', B("XFOO bar\0"), 0, "UNKNOWN XFOO bar\n"},
    {"EOH with data: ignored", 'N', B("xy"), 0, "EOH\n"},
    {"three packets", 0,
     B("\0\0\0\x01T"
       "\0\0\0\x01N"
       "\0\0\0\x01Q"),
     0, "DATA\nEOH\nQUIT\n"},
    {"incomplete: no data yet", 0,
     B("\0\0\0\x05"
       "Hvm"),
     0, ""},
    {"incomplete: half a length", 0, B("\0\0"), 0, ""},
    /* errors */
    {"length 0", 0,
     B("\0\0\0\0"
       "A"),
     0, "error length: packet length 0\n"},
    {"length over the limit", 0, B("\0\x10\0\x01"), 0,
     "error too big: packet of 1048577 bytes, over the limit of 131072\n"},
    {"length at the limit given", 'H', B("vmxy\0"), 6, "HELO vmxy\n"},
    {"a byte over the limit given", 'H', B("vmxyz\0"), 6,
     "error too big: packet of 7 bytes, over the limit of 6\n"},
    {"length 0xffffffff", 0, B("\xff\xff\xff\xff"), 0,
     "error too big: packet of 4294967295 bytes, over the limit of 131072\n"},
    {"unknown command", 'z', B("z"), 0, "error command: unknown command 'z'\n"},
    {"unknown command, a control byte", 1, B(""), 0, "error command: unknown command 0x01\n"},
    {"a reply letter from the MTA", 'c', B(""), 0, "error command: unknown command 'c'\n"},
    {"HTTP instead", 0, B("GET / HTTP/1.0\r\n\r\n"), 0,
     "error too big: packet of 1195725856 bytes, over the limit of 131072\n"},
    {"OPTNEG short", 'O', B("\0\0\0\x06\0\0\x01\xff\0\x1f\xff"), 0,
     "error short: OPTNEG: 11 bytes, want 12\n"},
    {"HELO without its NUL", 'H', B("vm"), 0, "error field: HELO: a field without its NUL\n"},
    {"HELO empty", 'H', B(""), 0, "error field: HELO: a field without its NUL\n"},
    {"MAIL without its NUL", 'M', B("<a@b>\0SIZ"), 0,
     "error field: MAIL: a field without its NUL\n"},
    {"RCPT empty", 'R', B(""), 0, "error field: RCPT: a field without its NUL\n"},
    {"UNKNOWN without its NUL", 'U', B("XYZ"), 0,
     "error field: UNKNOWN: a field without its NUL\n"},
    {"HEADER without a value", 'L', B("X-A\0"), 0,
     "error field: HEADER: 1 fields, want 2 (name, value)\n"},
    {"HEADER with three fields", 'L', B("X\0a\0b\0"), 0,
     "error field: HEADER: 3 fields, want 2 (name, value)\n"},
    {"HEADER value without its NUL", 'L', B("X\0ab"), 0,
     "error field: HEADER: a field without its NUL\n"},
    {"MACRO without its letter", 'D', B(""), 0, "error short: MACRO: no command letter\n"},
    {"MACRO for an unknown command", 'D', B("xi\0a\0"), 0,
     "error stage: MACRO: for unknown command 'x'\n"},
    {"MACRO name without a value", 'D', B("Mab\0"), 0,
     "error field: MACRO: a name without a value\n"},
    {"MACRO value without its NUL", 'D', B("Ma\0b"), 0,
     "error field: MACRO: a field without its NUL\n"},
    {"CONNECT bad family", 'C',
     B("host\0X\0\x19"
       "1.2\0"),
     0, "error family: CONNECT: unknown address family 'X'\n"},
    {"CONNECT family NUL", 'C',
     B("host\0\0\0\x19"
       "1.2\0"),
     0, "error family: CONNECT: unknown address family 0x00\n"},
    {"CONNECT host without its NUL", 'C', B("host"), 0,
     "error field: CONNECT: a field without its NUL\n"},
    {"CONNECT no family", 'C', B("host\0"), 0, "error short: CONNECT: no address family\n"},
    {"CONNECT no port", 'C',
     B("host\0"
       "4\0"),
     0, "error short: CONNECT: no port\n"},
    {"CONNECT no address", 'C',
     B("host\0"
       "4\0\x19"),
     0, "error field: CONNECT: a field without its NUL\n"},
    {"CONNECT address without its NUL", 'C',
     B("host\0"
       "4\0\x19"
       "1.2"),
     0, "error field: CONNECT: a field without its NUL\n"},
    {"a good packet, then garbage", 0,
     B("\0\0\0\x01T"
       "\0\0\0\x01?"),
     0, "DATA\nerror command: unknown command '?'\n"},
};

/* packet - a packet of letter and data (its length computed) */
static void
packet(hj_buf *b, int letter, const char *data, size_t n)
{
    uint32_t len = (uint32_t)n + 1;
    char head[5] = {(char)(len >> 24), (char)(len >> 16), (char)(len >> 8), (char)len,
                    (char)letter};

    buf_add(b, head, 5);
    buf_add(b, data, n);
}

static void
test_packets(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(packets) / sizeof(packets[0]); i++) {
        const packet_case *t = &packets[i];
        hj_buf in = HJ_BUF_INIT;
        if (t->letter)
            packet(&in, t->letter, t->in, t->len);
        else
            buf_add(&in, t->in, t->len);
        char *got = parse_whole(in.s, in.len, t->max);
        CHECK_STR(t->name, got, t->want);
        free(got);
        buf_free(&in);
    }
}

/* 65 macros in one packet: an error; 64: fine */
static void
test_many_macros(void **state)
{
    static const struct {
        int n;
        const char *want;
    } t[] = {{64, "MACRO @C"}, {65, "error macros: MACRO: more than 64 macros\n"}};

    (void)state;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        hj_buf pkt = HJ_BUF_INIT;
        buf_add(&pkt, "\0\0\0\0DC", 6);
        for (int m = 0; m < t[i].n; m++)
            buf_add(&pkt, "a\0b", 4);
        uint32_t n = (uint32_t)pkt.len - 4;
        pkt.s[2] = (char)(n >> 8);
        pkt.s[3] = (char)n;
        char *got = parse_whole(pkt.s, pkt.len, 0);
        CHECK_HAS(t[i].want, got, t[i].want);
        free(got);
        buf_free(&pkt);
    }
}

/* after an error, nothing more: every call -1, nothing consumed, the same message */
static void
test_sticky(void **state)
{
    static const char bad[] = "\0\0\0\x02zz", good[] = "\0\0\0\x01T";
    milter_parser *p = milter_parser_new(0);
    milter_cmd c;
    size_t used = 99;
    const char *msg;

    (void)state;
    CHECK_EQ("fresh", milter_parser_error(p, &msg), 0);
    CHECK_STR("fresh message", msg, "");
    CHECK_EQ("bad", milter_parse(p, bad, sizeof(bad) - 1, &used, &c), -1);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ("good after bad", milter_parse(p, good, sizeof(good) - 1, &used, &c), -1);
        CHECK_EQ("nothing consumed", used, 0);
        CHECK_EQ("still the error", milter_parser_error(p, &msg), MILTER_E_COMMAND);
        CHECK_STR("its message", msg, "unknown command 'z'");
    }
    milter_parser_free(p);
    milter_parser_free(NULL);
}

/* memory: an announced length is refused or buffered only as bytes come, never beyond max */
static void
test_bounded(void **state)
{
    static const size_t max = 70000;
    milter_parser *p = milter_parser_new(max);
    char *chunk = calloc(1, 4096);
    milter_cmd c;
    size_t used;

    (void)state;
    /* a BODY announcing 69999 data bytes, sent 100 bytes at a time */
    CHECK_EQ("head",
             milter_parse(p,
                          "\0\1\x11\x70"
                          "B",
                          5, &used, &c),
             0);
    CHECK_EQ("nothing buffered for an announcement", milter_parser_buffered(p), 0);
    CHECK_EQ("10 bytes", milter_parse(p, chunk, 10, &used, &c), 0);
    CHECK_EQ("a small buffer for 10 bytes", milter_parser_buffered(p) <= 512, 1);
    size_t sent = 10;
    int rc = 0;
    while (rc == 0) {
        rc = milter_parse(p, chunk, 100, &used, &c);
        sent += used;
        if (milter_parser_buffered(p) > max)
            fail_msg("buffered %zu > %zu", milter_parser_buffered(p), max);
    }
    CHECK_EQ("complete", rc, 1);
    CHECK_EQ("all data", sent, 69999);
    CHECK_EQ("body", c.body.n, 69999);
    CHECK_EQ("buffer exactly the packet", milter_parser_buffered(p), 69999);
    milter_parser_free(p);
    free(chunk);
}

/* a stream of every command: cut at every point (and byte by byte) it gives the same lines */
static const struct {
    int letter;
    const char *data;
    size_t n;
} stream_pkts[] = {
    {'O', B("\0\0\0\x06\0\0\x01\xff\0\x1f\xff\xff")},
    {'D', B("Cj\0mx\0")},
    {'C', B("localhost\0"
            "4\x98\x64"
            "127.0.0.1\0")},
    {'H', B("vm\0")},
    {'D', B("M{auth_authen}\0alice\0i\0\0")},
    {'M', B("<a@b>\0SIZE=1\0")},
    {'R', B("<c@d>\0")},
    {'T', B("")},
    {'L', B("Subject\0x\0")},
    {'N', B("")},
    {'B', B("body!")},
    {'E', B("")},
    {'A', B("")},
    {'U', B("NOOP x\0")},
    {'K', B("")},
    {'Q', B("")},
};
#define NSTREAM ((int)(sizeof(stream_pkts) / sizeof(stream_pkts[0])))

static void
test_split_feeds(void **state)
{
    hj_buf in = HJ_BUF_INIT;

    (void)state;
    for (int i = 0; i < NSTREAM; i++)
        packet(&in, stream_pkts[i].letter, stream_pkts[i].data, stream_pkts[i].n);
    size_t n = in.len;
    char *whole = parse_whole(in.s, n, 0);
    CHECK_HAS("the login", whole, "MACRO @M auth_authen=alice i=\n");
    CHECK_HAS("the end", whole, "UNKNOWN NOOP x\nQUIT_NC\nQUIT\n");
    for (size_t k = 1; k < n; k++) {
        milter_parser *p = milter_parser_new(0);
        hj_buf out = HJ_BUF_INIT;
        int count = feed(p, in.s, n, &k, 1, &out);
        if (count != NSTREAM || strcmp(out.s, whole) != 0)
            fail_msg("cut at %zu: %d commands:\n%s\nwant:\n%s", k, count, out.s, whole);
        buf_free(&out);
        milter_parser_free(p);
    }
    size_t *cuts = malloc(n * sizeof(size_t));
    for (size_t k = 1; k < n; k++)
        cuts[k - 1] = k;
    milter_parser *p = milter_parser_new(0);
    hj_buf out = HJ_BUF_INIT;
    CHECK_EQ("byte by byte", feed(p, in.s, n, cuts, (int)n - 1, &out), NSTREAM);
    CHECK_STR("byte by byte", out.s, whole);
    buf_free(&out);
    milter_parser_free(p);
    free(cuts);
    free(whole);
    buf_free(&in);
}

/* fixture - the path of tests/fixtures/milter/NAME, from the top or next to this file */
static const char *
fixture(const char *name)
{
    static char path[4096];
    const char *slash = strrchr(__FILE__, '/');

    snprintf(path, sizeof(path), "tests/fixtures/milter/%s", name);
    if (access(path, R_OK) != 0)
        snprintf(path, sizeof(path), "%.*s/../fixtures/milter/%s",
                 slash ? (int)(slash - __FILE__) : 1, slash ? __FILE__ : ".", name);
    return path;
}

static char *
slurp(const char *name, size_t *n)
{
    FILE *fp = fopen(fixture(name), "rb");
    hj_buf b = HJ_BUF_INIT;
    char chunk[8192];
    size_t k;

    if (fp == NULL)
        fail_msg("cannot open %s", fixture(name));
    while ((k = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        buf_add(&b, chunk, k);
    fclose(fp);
    *n = b.len;
    return b.s;
}

/* the session Postfix 3.7.11 sent after hijackd's negotiation (record.py) */
static const char session_want[] =
    "OPTNEG v=6 a=0x1ff p=0x1fffff\n"
    "MACRO @C j=mx.example.test daemon_name=ORIGINATING daemon_addr=127.0.0.1 daemon_port=3587\n"
    "CONNECT host=localhost family=4 port=39012 addr=127.0.0.1\n"
    "MACRO @H\n"
    "HELO vm\n"
    "MACRO @M auth_type=PLAIN auth_authen=alice@example.test mail_addr=alice@example.test\n"
    "MAIL <alice@example.test>\n"
    "MACRO @R rcpt_addr=someone@remote.test rcpt_host=[127.0.0.1]:3526 rcpt_mailer=smtp\n"
    "RCPT <someone@remote.test>\n"
    "MACRO @R i=34C5DA94550 rcpt_addr=postmaster@example.test rcpt_host=example.test "
    "rcpt_mailer=virtual\n"
    "RCPT <postmaster@example.test>\n"
    "MACRO @T i=34C5DA94550\n"
    "DATA\n"
    "MACRO @L i=34C5DA94550\n"
    "HEADER Date: Fri, 04 Dec 2026 03:58:20 +0000\n";

static void
test_fixture_session(void **state)
{
    size_t n;
    char *in = slurp("postfix37-session.bin", &n);
    char *got = parse_whole(in, n, 0);

    (void)state;
    if (strncmp(got, session_want, strlen(session_want)) != 0)
        fail_msg("the session's start: got\n%s\nwant\n%s", got, session_want);
    CHECK_HAS("the body", got, "MACRO @B i=34C5DA94550\nBODY 52:Hello from the milter fi\n");
    const char *tail = "MACRO @E i=34C5DA94550\nEOB\nABORT\nABORT\nQUIT\n";
    CHECK_STR("the end: EOB, ABORT twice, QUIT", got + strlen(got) - strlen(tail), tail);
    free(got);
    free(in);
}

/* the OPTNEG reply record.py sent, which Postfix took (its macro lists came back), is what
 * milter_negotiate() + milter_put_optneg() write for Postfix's offer */
static void
test_fixture_optneg_reply(void **state)
{
    size_t n, rn, used;
    char *in = slurp("postfix37-session.bin", &n);
    char *reply = slurp("postfix37-session.reply.bin", &rn);
    milter_parser *p = milter_parser_new(0);
    milter_cmd c;
    milter_neg neg;
    char err[200];
    hj_buf out = HJ_BUF_INIT;

    (void)state;
    CHECK_EQ("OPTNEG", milter_parse(p, in, n, &used, &c), 1);
    CHECK_EQ(
        "negotiated",
        milter_negotiate(&c, MILTER_WANT_ACTIONS, MILTER_WANT_PROTOCOL, &neg, err, sizeof(err)), 0);
    milter_put_optneg(&out, &neg);
    size_t len = (size_t)((unsigned char)reply[2] << 8 | (unsigned char)reply[3]) + 4;
    CHECK_EQ("reply length", out.len, len);
    if (memcmp(out.s, reply, len) != 0)
        fail_msg("the encoder's OPTNEG differs from the recorded one");
    CHECK_EQ("then CONTINUE at RCPT, RCPT, EOB", rn, len + 15);
    buf_free(&out);
    milter_parser_free(p);
    free(in);
    free(reply);
}

/* the big ones: three BODY chunks of at most 65535 bytes; a 59,534-byte header packet */
static void
test_fixture_big(void **state)
{
    static const struct {
        const char *file;
        size_t max;
        const char *has;
    } t[] = {
        {"postfix37-bigbody.bin", 0, "BODY 65535:line 000000 xxxxxxxxxxxx\n"},
        {"postfix37-bigbody.bin", 0, "BODY 31734:"},
        {"postfix37-bigbody.bin", 65536, "EOB\nABORT\nABORT\nQUIT\n"},
        {"postfix37-bigbody.bin", 65535, "error too big: packet of 65536 bytes, over the limit"},
        {"postfix37-longheader.bin", 0, "HEADER X-Long: start\\x0a\\x09yyy"},
        {"postfix37-longheader.bin", 0,
         "... (59525 bytes)\nMACRO @L i=68C3AA94588\nHEADER Message-Id"},
        {"postfix37-longheader.bin", 32768, "error too big: packet of 59534 bytes"},
        {"postfix37-plain.bin", 0,
         "MACRO @M auth_type=PLAIN auth_authen=alice@example.test "
         "mail_addr=alice@example.test mail_host=example.test "
         "mail_mailer=virtual\n"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        size_t n;
        char *in = slurp(t[i].file, &n);
        char *got = parse_whole(in, n, t[i].max);
        CHECK_HAS(t[i].file, got, t[i].has);
        free(got);
        free(in);
    }
}

/* milter_getmacro: with or without braces, only in a MACRO */
static void
test_getmacro(void **state)
{
    static const char data[] = "M{auth_authen}\0alice\0i\0Q1\0{x}\0";
    milter_parser *p = milter_parser_new(0);
    hj_buf in = HJ_BUF_INIT;
    milter_cmd c;
    size_t used;
    static const struct {
        const char *name, *want;
    } t[] = {
        {"auth_authen", "alice"}, {"{auth_authen}", "alice"}, {"i", "Q1"}, {"{i}", "Q1"}, {"x", ""},
        {"auth_type", NULL}};

    (void)state;
    packet(&in, 'D', data, sizeof(data));
    CHECK_EQ("parsed", milter_parse(p, in.s, in.len, &used, &c), 1);
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        hj_span v = milter_getmacro(&c, t[i].name);
        if (t[i].want == NULL)
            CHECK_EQ(t[i].name, v.p == NULL, 1);
        else if (v.p == NULL || v.n != strlen(t[i].want) || memcmp(v.p, t[i].want, v.n) != 0)
            fail_msg("%s: got %.*s", t[i].name, (int)v.n, v.p ? v.p : "(absent)");
    }
    c.type = MILTER_CMD_HELO;
    CHECK_EQ("not a MACRO", milter_getmacro(&c, "i").p == NULL, 1);
    milter_parser_free(p);
    buf_free(&in);
}

typedef struct neg_case {
    const char *name;
    uint32_t version, actions, protocol; /* offered */
    int rc;
    uint32_t want_actions, want_protocol;
    int symlist;
    const char *err;
} neg_case;

static const neg_case negs[] = {
    {"Postfix 3.7 (recorded)", 6, 0x1ff, 0x1fffff, 0, MILTER_WANT_ACTIONS, MILTER_WANT_PROTOCOL, 1,
     NULL},
    {"Sendmail 8.17 (SMFI_CURR_ACTS, SMFI_CURR_PROT)", 6, 0x1ff, 0x1fffff, 0, MILTER_WANT_ACTIONS,
     MILTER_WANT_PROTOCOL, 1, NULL},
    {"Sendmail with Milter.maxdatasize 1M: no MDS bit echoed (back to 64 KiB)", 6, 0x1ff,
     0x201fffff, 0, MILTER_WANT_ACTIONS, MILTER_WANT_PROTOCOL, 1, NULL},
    {"an MTA without SETSYMLIST or no-reply bits (Sendmail 8.13's sets)", 6, 0x3f, 0x7f, 0,
     MILTER_F_ADDHDRS | MILTER_F_QUARANTINE, 0, 0, NULL},
    {"no quarantine offered", 6, 0x1df, 0x1fffff, 0, MILTER_F_ADDHDRS | MILTER_F_SETSYMLIST,
     MILTER_WANT_PROTOCOL, 1, NULL},
    {"offer of 0: the version 1 sets", 6, 0, 0, 0, MILTER_F_ADDHDRS, 0, 0, NULL},
    {"a future version 7 gets 6", 7, 0x1ff, 0x1fffff, 0, MILTER_WANT_ACTIONS, MILTER_WANT_PROTOCOL,
     1, NULL},
    {"version 4 refused", 4, 0x3f, 0x3ff, -1, 0, 0, 0,
     "the MTA offers milter protocol version 4; hijackd needs version 6 (Postfix: "
     "milter_protocol = 6; Sendmail 8.14 or later)"},
    {"version 2 refused", 2, 0x1f, 0x7f, -1, 0, 0, 0, "the MTA offers milter protocol version 2"},
};

static void
test_negotiate(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(negs) / sizeof(negs[0]); i++) {
        const neg_case *t = &negs[i];
        milter_cmd c = {.type = MILTER_CMD_OPTNEG,
                        .version = t->version,
                        .actions = t->actions,
                        .protocol = t->protocol};
        milter_neg neg;
        char err[200] = "";
        int rc =
            milter_negotiate(&c, MILTER_WANT_ACTIONS, MILTER_WANT_PROTOCOL, &neg, err, sizeof(err));
        CHECK_EQ(t->name, rc, t->rc);
        if (rc < 0) {
            CHECK_HAS(t->name, err, t->err);
            continue;
        }
        CHECK_EQ(t->name, neg.version, 6);
        CHECK_EQ(t->name, neg.actions, t->want_actions);
        CHECK_EQ(t->name, neg.protocol, t->want_protocol);
        CHECK_EQ(t->name, neg.symlist, t->symlist);
        CHECK_EQ(t->name, neg.mta_version, t->version);
    }
    milter_cmd helo = {.type = MILTER_CMD_HELO};
    milter_neg neg;
    char err[200];
    CHECK_EQ("HELO first", milter_negotiate(&helo, 0, 0, &neg, err, sizeof(err)), -1);
    CHECK_STR("HELO first", err, "HELO before OPTNEG");
}

/* which commands the MTA waits on: with all no-reply bits, and with none */
static void
test_reply_expected(void **state)
{
    static const struct {
        int type;
        int full, none; /* with MILTER_WANT_PROTOCOL granted; with protocol 0 */
    } t[] = {
        {MILTER_CMD_OPTNEG, 1, 1}, {MILTER_CMD_MACRO, 0, 0},  {MILTER_CMD_CONNECT, 0, 1},
        {MILTER_CMD_HELO, 0, 1},   {MILTER_CMD_MAIL, 0, 1},   {MILTER_CMD_RCPT, 1, 1},
        {MILTER_CMD_DATA, 0, 1},   {MILTER_CMD_HEADER, 0, 1}, {MILTER_CMD_EOH, 0, 1},
        {MILTER_CMD_BODY, 0, 1},   {MILTER_CMD_EOB, 1, 1},    {MILTER_CMD_UNKNOWN, 0, 1},
        {MILTER_CMD_ABORT, 0, 0},  {MILTER_CMD_QUIT, 0, 0},   {MILTER_CMD_QUIT_NC, 0, 0},
    };
    milter_neg full = {.protocol = MILTER_WANT_PROTOCOL}, none = {.protocol = 0};

    (void)state;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        const char *name = milter_cmd_name(t[i].type);
        CHECK_EQ(name, milter_reply_expected(&full, t[i].type), t[i].full);
        CHECK_EQ(name, milter_reply_expected(&none, t[i].type), t[i].none);
    }
    CHECK_STR("unknown letter", milter_cmd_name('z'), "?");
}

/* hexof - the bytes of b as hex, for messages */
static char *
hexof(const char *p, size_t n)
{
    char *s = malloc(2 * n + 1);

    for (size_t i = 0; i < n; i++)
        snprintf(s + 2 * i, 3, "%02x", (unsigned char)p[i]);
    s[2 * n] = 0;
    return s;
}

typedef struct put_case {
    const char *name;
    int kind; /* 0 milter_put, 1 replycode, 2 quarantine, 3 addheader */
    int reply;
    const char *a, *b, *c;
    int rc;
    const char *want;
    size_t wlen;
} put_case;

#define W(s) s, sizeof(s) - 1

static const put_case puts_[] = {
    {"CONTINUE", 0, 'c', NULL, NULL, NULL, 0,
     W("\0\0\0\x01"
       "c")},
    {"ACCEPT", 0, 'a', NULL, NULL, NULL, 0,
     W("\0\0\0\x01"
       "a")},
    {"REJECT", 0, 'r', NULL, NULL, NULL, 0,
     W("\0\0\0\x01"
       "r")},
    {"TEMPFAIL", 0, 't', NULL, NULL, NULL, 0,
     W("\0\0\0\x01"
       "t")},
    {"DISCARD", 0, 'd', NULL, NULL, NULL, 0,
     W("\0\0\0\x01"
       "d")},
    {"PROGRESS", 0, 'p', NULL, NULL, NULL, 0,
     W("\0\0\0\x01"
       "p")},
    {"SKIP", 0, 's', NULL, NULL, NULL, 0,
     W("\0\0\0\x01"
       "s")},
    {"a letter with data", 0, 'y', NULL, NULL, NULL, -1, W("")},
    {"no letter", 0, 0, NULL, NULL, NULL, -1, W("")},
    {"a letter past ASCII ('a' + 256)", 0, 'a' + 256, NULL, NULL, NULL, -1, W("")},
    {"REPLYCODE code, xcode, text", 1, 0, "550", "5.7.1", "blocked", 0,
     W("\0\0\0\x13"
       "y550 5.7.1 blocked\0")},
    {"REPLYCODE the text holds the xcode (reject_text)", 1, 0, "550", NULL, "5.7.1 blocked", 0,
     W("\0\0\0\x13"
       "y550 5.7.1 blocked\0")},
    {"REPLYCODE 4xx", 1, 0, "451", "4.7.1", "later", 0,
     W("\0\0\0\x11"
       "y451 4.7.1 later\0")},
    {"REPLYCODE no text", 1, 0, "550", "5.7.1", NULL, 0,
     W("\0\0\0\x0b"
       "y550 5.7.1\0")},
    {"REPLYCODE code only", 1, 0, "554", NULL, "", 0,
     W("\0\0\0\x06"
       "y554 \0")},
    {"REPLYCODE text without xcode", 1, 0, "550", NULL, "no", 0,
     W("\0\0\0\x08"
       "y550 no\0")},
    {"REPLYCODE CR LF and controls become spaces", 1, 0, "550", "5.7.1",
     "a\r\nb\x01\x7f"
     "c",
     0,
     W("\0\0\0\x13"
       "y550 5.7.1 a  b  c\0")},
    {"REPLYCODE % doubled", 1, 0, "550", "5.7.1", "100% sure", 0,
     W("\0\0\0\x16"
       "y550 5.7.1 100%% sure\0")},
    {"REPLYCODE a 3-digit subject", 1, 0, "550", "5.123.456", "x", 0,
     W("\0\0\0\x11"
       "y550 5.123.456 x\0")},
    {"REPLYCODE 2xx refused", 1, 0, "250", "2.0.0", "ok", -1, W("")},
    {"REPLYCODE 6xx refused", 1, 0, "650", NULL, "x", -1, W("")},
    {"REPLYCODE short code", 1, 0, "55", NULL, "x", -1, W("")},
    {"REPLYCODE long code", 1, 0, "5500", NULL, "x", -1, W("")},
    {"REPLYCODE letters", 1, 0, "5a0", NULL, "x", -1, W("")},
    {"REPLYCODE no code", 1, 0, NULL, NULL, "x", -1, W("")},
    {"REPLYCODE xcode of another class", 1, 0, "550", "4.7.1", "x", -1, W("")},
    {"REPLYCODE text's xcode of another class", 1, 0, "550", NULL, "4.7.1 x", -1, W("")},
    {"REPLYCODE text starting with a digit, no xcode", 1, 0, "550", NULL, "3 tries", -1, W("")},
    {"REPLYCODE bad xcode", 1, 0, "550", "5.7", "x", -1, W("")},
    {"REPLYCODE xcode with text glued", 1, 0, "550", "5.7.1x", "x", -1, W("")},
    {"REPLYCODE xcode of 4 digits", 1, 0, "550", "5.7.1234", "x", -1, W("")},
    {"QUARANTINE", 2, 0, "hijackd: spam from alice", NULL, NULL, 0,
     W("\0\0\0\x1a"
       "qhijackd: spam from alice\0")},
    {"QUARANTINE CR LF", 2, 0, "a\r\nb", NULL, NULL, 0,
     W("\0\0\0\x06"
       "qa  b\0")},
    {"QUARANTINE empty refused", 2, 0, "", NULL, NULL, -1, W("")},
    {"QUARANTINE NULL refused", 2, 0, NULL, NULL, NULL, -1, W("")},
    {"ADDHEADER", 3, 0, "X-Hijackd", "spam; score=12.5", NULL, 0,
     W("\0\0\0\x1c"
       "hX-Hijackd\0spam; score=12.5\0")},
    {"ADDHEADER CR LF become spaces, a tab stays", 3, 0, "X-H", "a\r\n\tb", NULL, 0,
     W("\0\0\0\x0b"
       "hX-H\0a  \tb\0")},
    {"ADDHEADER empty value", 3, 0, "X-H", "", NULL, 0,
     W("\0\0\0\x06"
       "hX-H\0\0")},
    {"ADDHEADER name with a colon", 3, 0, "X:H", "v", NULL, -1, W("")},
    {"ADDHEADER name with a space", 3, 0, "X H", "v", NULL, -1, W("")},
    {"ADDHEADER name with a byte over 0x7e", 3, 0, "X-\xc3\xa9", "v", NULL, -1, W("")},
    {"ADDHEADER empty name", 3, 0, "", "v", NULL, -1, W("")},
    {"ADDHEADER name of 65 bytes", 3, 0,
     "X-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "v", NULL, -1, W("")},
};

static void
test_puts(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(puts_) / sizeof(puts_[0]); i++) {
        const put_case *t = &puts_[i];
        hj_buf out = HJ_BUF_INIT;
        int rc = t->kind == 0   ? milter_put(&out, t->reply)
                 : t->kind == 1 ? milter_put_replycode(&out, t->a, t->b, t->c)
                 : t->kind == 2 ? milter_put_quarantine(&out, t->a)
                                : milter_put_addheader(&out, t->a, t->b);
        CHECK_EQ(t->name, rc, t->rc);
        CHECK_EQ(t->name, out.len, t->wlen);
        if (out.len == t->wlen && t->wlen && memcmp(out.s, t->want, t->wlen) != 0) {
            char *got = hexof(out.s, out.len), *want = hexof(t->want, t->wlen);
            fail_msg("%s: %s, want %s", t->name, got, want);
        }
        buf_free(&out);
    }
}

/* the bounds: text cut at 980 bytes (never in the middle of "%%" or of a UTF-8 sequence),
 * a reason at 99, a header value at 900 */
static void
test_put_bounds(void **state)
{
    static const struct {
        const char *name;
        int kind;
        const char *fill; /* repeated */
        size_t reps;
        size_t want; /* the bytes of text, reason or value written */
    } t[] = {
        {"text of 2000 bytes cut at 980", 1, "a", 2000, 980},
        {"text of % cut at 980 (490 doubled)", 1, "%", 2000, 980},
        {"text 'a%' cut without splitting %%", 1, "a%", 1000, 979},
        {"text of 'é' not split", 1, "\xc3\xa9", 1000, 980},
        {"text 'aé' not split", 1, "a\xc3\xa9", 1000, 979},
        {"text of 980 bytes whole", 1, "b", 980, 980},
        {"reason of 500 bytes cut at 99", 2, "r", 500, 99},
        {"value of 2000 bytes cut at 900", 3, "v", 2000, 900},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        hj_buf in = HJ_BUF_INIT, out = HJ_BUF_INIT;
        for (size_t r = 0; r < t[i].reps; r++)
            buf_puts(&in, t[i].fill);
        size_t fixed = t[i].kind == 1 ? 5 + 4 : t[i].kind == 2 ? 5 : 5 + 4;
        int rc = t[i].kind == 1   ? milter_put_replycode(&out, "550", NULL, in.s)
                 : t[i].kind == 2 ? milter_put_quarantine(&out, in.s)
                                  : milter_put_addheader(&out, "X-H", in.s);
        CHECK_EQ(t[i].name, rc, 0);
        CHECK_EQ(t[i].name, out.len - fixed - 1, t[i].want);
        CHECK_EQ(t[i].name, out.s[out.len - 1], 0);
        size_t n = (size_t)((unsigned char)out.s[2] << 8 | (unsigned char)out.s[3]);
        CHECK_EQ("the length field", n, out.len - 4);
        buf_free(&in);
        buf_free(&out);
    }
}

/* the OPTNEG reply's bytes: without SETSYMLIST the 12 bytes only; with it each stage's list */
static void
test_put_optneg(void **state)
{
    milter_neg plain = {.version = 6, .actions = 0x21, .protocol = 0x80};
    milter_neg sym = {.version = 6, .actions = 0x121, .protocol = 0, .symlist = 1};
    hj_buf out = HJ_BUF_INIT;

    (void)state;
    milter_put_optneg(&out, &plain);
    CHECK_EQ("plain", out.len, 17);
    if (memcmp(out.s, "\0\0\0\x0dO\0\0\0\x06\0\0\0\x21\0\0\0\x80", 17) != 0)
        fail_msg("plain: %s", hexof(out.s, out.len));
    buf_reset(&out);
    milter_put_optneg(&out, &sym);
    size_t want = 17;
    for (int m = 0; m < MILTER_M__COUNT; m++)
        want += 4 + strlen(milter_symlist(m)) + 1;
    CHECK_EQ("with lists", out.len, want);
    CHECK_EQ("stage 2 first byte", memcmp(out.s + 17, "\0\0\0\0j {daemon_name}", 19), 0);
    CHECK_HAS("the login asked at MAIL", milter_symlist(MILTER_M_ENVFROM), "{auth_authen}");
    CHECK_STR("the queue ID at DATA", milter_symlist(MILTER_M_DATA), "i");
    CHECK_EQ("no stage 7", milter_symlist(MILTER_M__COUNT) == NULL, 1);
    CHECK_EQ("no stage -1", milter_symlist(-1) == NULL, 1);
    buf_free(&out);
}

static void
test_err_names(void **state)
{
    (void)state;
    CHECK_STR("0", milter_err_name(0), "none");
    CHECK_STR("big", milter_err_name(MILTER_E_BIG), "too big");
    CHECK_STR("macros", milter_err_name(MILTER_E_MACROS), "macros");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_packets),
        cmocka_unit_test(test_many_macros),
        cmocka_unit_test(test_sticky),
        cmocka_unit_test(test_bounded),
        cmocka_unit_test(test_split_feeds),
        cmocka_unit_test(test_fixture_session),
        cmocka_unit_test(test_fixture_optneg_reply),
        cmocka_unit_test(test_fixture_big),
        cmocka_unit_test(test_getmacro),
        cmocka_unit_test(test_negotiate),
        cmocka_unit_test(test_reply_expected),
        cmocka_unit_test(test_puts),
        cmocka_unit_test(test_put_bounds),
        cmocka_unit_test(test_put_optneg),
        cmocka_unit_test(test_err_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
