/*
 * test_mailmsg - reply-to-unlock: the token and sender of a reply (src/notify/mailmsg.h)
 *
 * parse_cases are replies as mail clients write them; each one is parsed
 * as written (LF line ends) and again with every LF turned into CRLF.
 * The mailmsg_unlock() tests feed a message through a memory stream and
 * answer with a fake daemon (fake_talk), checking the request it sent,
 * the exit status and the line printed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "../../src/notify/mailmsg.h"
#include "../../src/util/buf.h"

#define TOK "HJU1-1764057600-1764316800-0123456789abcdef0123456789abcdef"
#define TOK_MAC "0123456789abcdef0123456789abcdef"
#define TOK2 "HJU1-1764057601-1764316801-fedcba9876543210fedcba9876543210"
#define PM "postmaster@example.test"
#define FROM_PM "From: Post Master <" PM ">\n"
#define TO "To: hijackd-unlock@example.test\n"

/* ---------------------------------------------------------------- mailmsg_parse() */

typedef struct parse_case {
    const char *name, *msg;
    int want;          /* 0 or -1 */
    const char *from;  /* the address wanted ("" none) */
    const char *token; /* the token wanted ("" none) */
    const char *err;   /* on -1 */
} parse_case;

static const parse_case parse_cases[] = {
    /* where the token is */
    {"token in the Subject",
     FROM_PM TO "Subject: Re: [hijackd] alice@example.test locked [" TOK "]\n"
                "Date: Tue, 25 Nov 2026 06:10:00 +0000\n\nYes, unlock her please.\n",
     0, PM, TOK, NULL},
    {"token only in a quoted body line",
     FROM_PM TO "Subject: Re: [hijackd] alice@example.test locked\n\n"
                "That was me.\n\nOn 25 Nov 2026, hijackd wrote:\n> alice@example.test is locked.\n"
                "> Reply to this mail to unlock it; the token below\n>   " TOK "\n"
                ">   expires 2026-11-28T06:00:00+00:00\n",
     0, PM, TOK, NULL},
    {"quoted-printable body, the token split by a soft line break",
     FROM_PM TO "Subject: Re: alert\nMIME-Version: 1.0\n"
                "Content-Type: text/plain; charset=utf-8\n"
                "Content-Transfer-Encoding: quoted-printable\n\n"
                "Gr=C3=BC=C3=9Fe, that was me =3D ok.\n"
                "> the token: HJU1-1764057600-17643=\n16800-0123456789abcdef=\n"
                "0123456789abcdef and more text to make a long line\n",
     0, PM, TOK, NULL},
    {"quoted-printable soft break with trailing white space",
     FROM_PM "Subject: Re: alert\nContent-Transfer-Encoding: Quoted-Printable\n\n"
             "HJU1-1764057600-1764316800-0123456789=  \nabcdef0123456789abcdef\n",
     0, PM, TOK, NULL},
    {"base64 body",
     FROM_PM "Subject: Re: alert\nMIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\n"
             "Content-Transfer-Encoding: base64\n\n"
             "WWVzLCB0aGF0IHdhcyBtZSBjaGFuZ2luZyBteSBwYXNzd29yZC4NCg0KPiBUbyB1bmxvY2ssIHJl\n"
             "cGx5IHdpdGggdGhpcyB0b2tlbjogSEpVMS0xNzY0MDU3NjAwLTE3NjQzMTY4MDAtMDEyMzQ1Njc4\n"
             "OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYNCg==\n",
     0, PM, TOK, NULL},
    {"multipart/alternative: text/plain QP, then text/html",
     FROM_PM "Subject: Re: alert\nMIME-Version: 1.0\n"
             "Content-Type: multipart/alternative;\n boundary=\"b1_=_alt; x\"\n\n"
             "This is a multi-part message in MIME format. " TOK2 "\n"
             "--b1_=_alt; x\nContent-Type: text/plain; charset=utf-8\n"
             "Content-Transfer-Encoding: quoted-printable\n\n"
             "ok\n> HJU1-1764057600-1764316800-0123456789abcdef0123456789abcde=\nf\n\n"
             "--b1_=_alt; x\nContent-Type: text/html; charset=utf-8\n\n"
             "<p>ok</p><blockquote>" TOK2 "</blockquote>\n--b1_=_alt; x--\n" TOK2 "\n",
     0, PM, TOK, NULL},
    {"multipart/alternative: the token only in the base64 text/html part",
     FROM_PM "Subject: Re: alert\nContent-Type: multipart/alternative; boundary=ALT\n\n"
             "--ALT\nContent-Type: text/plain\n\nok, see below\n"
             "--ALT\nContent-Type: text/html\nContent-Transfer-Encoding: base64\n\n"
             "PGh0bWw+PGJvZHk+PHA+dW5sb2NrPC9wPjxibG9ja3F1b3RlPkhKVTEtMTc2NDA1NzYwMC0xNzY0\n"
             "MzE2ODAwLTAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmPC9ibG9ja3F1b3RlPjwvYm9k\n"
             "eT48L2h0bWw+\n--ALT--\n",
     0, PM, TOK, NULL},
    {"multipart/mixed holding a multipart/alternative",
     FROM_PM "Subject: Re: alert\nContent-Type: multipart/mixed; boundary=\"outer\"\n\n"
             "--outer\nContent-Type: multipart/alternative; boundary=\"inner\"\n\n"
             "--inner\nContent-Type: text/plain\n\nyes\n> " TOK "\n--inner--\n"
             "--outer\nContent-Type: application/pdf\nContent-Transfer-Encoding: base64\n\n"
             "SEpVMS0xNzY0MDU3NjAxLTE3NjQzMTY4MDEtZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMy\n"
             "--outer--\n",
     0, PM, TOK, NULL},
    {"the original alert attached as message/rfc822",
     FROM_PM "Subject: Fwd: alert\nContent-Type: multipart/mixed; boundary=m\n\n"
             "--m\nContent-Type: text/plain\n\nsee the attachment\n"
             "--m\nContent-Type: message/rfc822\n\nFrom: hijackd@example.test\n"
             "Subject: [hijackd] alice@example.test locked [" TOK "]\n\nbody\n--m--\n",
     0, PM, TOK, NULL},
    {"a token in an attachment that is not text is not searched",
     FROM_PM "Subject: Re: alert\nContent-Type: multipart/mixed; boundary=m\n\n"
             "--m\nContent-Type: text/plain\n\nhere\n"
             "--m\nContent-Type: application/octet-stream\n\n" TOK "\n--m--\n",
     -1, PM, "", "no unlock token"},
    {"folded Subject",
     FROM_PM "Subject: Re: [hijackd] alice@example.test locked, unlock with the token\n"
             "\t[" TOK "]\n\nbody\n",
     0, PM, TOK, NULL},
    {"Subject of RFC 2047 encoded-words splitting the token",
     FROM_PM "Subject: =?UTF-8?Q?AW:_[hijackd]_gesperrt_=E2=80=94_HJU1-1764057600-176?=\n"
             " =?UTF-8?Q?4316800-0123456789abcdef0123456789abcdef]?=\n\nbody\n",
     0, PM, TOK, NULL},
    {"Subject of one base64 encoded-word",
     FROM_PM "Subject: =?utf-8?B?UmU6IEhKVTEtMTc2NDA1NzYwMC0xNzY0MzE2ODAwLTAxMjM0NTY3ODlh"
             "YmNkZWYwMTIzNDU2Nzg5YWJjZGVm?=\n\nbody\n",
     0, PM, TOK, NULL},
    {"header names in any case", "fROM: " PM "\nsubject: Re: " TOK "\n\n", 0, PM, TOK, NULL},
    {"an mbox From_ line first (local(8) to a |command)",
     "From " PM "  Tue Nov 25 06:10:00 2026\nReturn-Path: <" PM ">\n"
     "Delivered-To: hijackd-unlock@example.test\n" FROM_PM "Subject: Re: " TOK "\n\nok\n",
     0, PM, TOK, NULL},
    {"a message without a body", FROM_PM "Subject: Re: " TOK, 0, PM, TOK, NULL},

    /* which token */
    {"two tokens: the Subject wins over the body", FROM_PM "Subject: Re: [" TOK "]\n\n> " TOK2 "\n",
     0, PM, TOK, NULL},
    {"two tokens in the body: the first", FROM_PM "Subject: Re: alert\n\n> " TOK2 "\n> " TOK "\n",
     0, PM, TOK2, NULL},
    {"31 hex digits are no token",
     FROM_PM "Subject: Re: HJU1-1764057600-1764316800-0123456789abcdef0123456789abcde\n\n", -1, PM,
     "", "no unlock token"},
    {"33 hex digits are no token",
     FROM_PM "Subject: Re: HJU1-1764057600-1764316800-0123456789abcdef0123456789abcdef0\n\n", -1,
     PM, "", "no unlock token"},
    {"upper-case hex is no token",
     FROM_PM "Subject: Re: HJU1-1764057600-1764316800-0123456789ABCDEF0123456789ABCDEF\n\n", -1, PM,
     "", "no unlock token"},
    {"a token glued to a word is none; the next one is taken",
     FROM_PM "Subject: Re: x" TOK2 "\n\n" TOK "\n", 0, PM, TOK, NULL},
    {"21 digits are no token", FROM_PM "Subject: HJU1-123456789012345678901-1-" TOK_MAC "\n\n", -1,
     PM, "", "no unlock token"},
    {"a broken token, then a good one",
     FROM_PM "Subject: HJU1--1-" TOK_MAC " HJU1-1x HJU1-\n\n> " TOK "\n", 0, PM, TOK, NULL},
    {"no token", FROM_PM "Subject: Re: alert\n\nplease unlock alice\n", -1, PM, "",
     "no unlock token"},

    /* the From: address */
    {"From: a quoted name with a comma",
     "From: \"Master, Post\" <PostMaster@Example.TEST>\nSubject: " TOK "\n\n", 0, PM, TOK, NULL},
    {"From: a bare address", "From: " PM "\nSubject: " TOK "\n\n", 0, PM, TOK, NULL},
    {"From: with comments", "From: (the boss) " PM " (Post Master)\nSubject: " TOK "\n\n", 0, PM,
     TOK, NULL},
    {"From: comments inside the address",
     "From: postmaster(x)@(y (nested))example.test\nSubject: " TOK "\n\n", 0, PM, TOK, NULL},
    {"From: upper case", "FROM: POSTMASTER@EXAMPLE.TEST\nSubject: " TOK "\n\n", 0, PM, TOK, NULL},
    {"From: folded",
     "From: \"A Very Long Display Name, Postmaster of example.test\"\n\t<" PM ">\n"
     "Subject: " TOK "\n\n",
     0, PM, TOK, NULL},
    {"From: several addresses: the first",
     "From: Post Master <" PM ">, Other <other@example.test>\nSubject: " TOK "\n\n", 0, PM, TOK,
     NULL},
    {"From: a quoted name holding an address",
     "From: \"evil@example.org <evil@example.org>\" <" PM ">\nSubject: " TOK "\n\n", 0, PM, TOK,
     NULL},
    {"From: a group", "From: Admins: " PM ", b@example.test;\nSubject: " TOK "\n\n", 0, PM, TOK,
     NULL},
    {"From: an obsolete route", "From: <@relay.example.test:" PM ">\nSubject: " TOK "\n\n", 0, PM,
     TOK, NULL},
    {"From: the first of two From: headers",
     "From: " PM "\nFrom: other@example.test\nSubject: " TOK "\n\n", 0, PM, TOK, NULL},
    {"From: a domain literal", "From: <root@[192.0.2.1]>\nSubject: " TOK "\n\n", 0,
     "root@[192.0.2.1]", TOK, NULL},
    {"From: empty angle brackets", "From: Nobody <>\nSubject: " TOK "\n\n", -1, "", TOK,
     "no From: address"},
    {"From: no address at all", "From: Post Master\nSubject: " TOK "\n\n", -1, "", TOK,
     "no From: address"},
    {"From: a name and an address without brackets",
     "From: Post Master postmaster@example.test\nSubject: " TOK "\n\n", -1, "", TOK,
     "no From: address"},
    {"no From: header (Sender: does not count)",
     "Sender: " PM "\nReply-To: " PM "\nSubject: " TOK "\n\nbody\n", -1, "", TOK,
     "no From: address"},
    {"no From: and no token", "Subject: hello\n\nhi\n", -1, "", "", "no From: address"},
    {"the empty message", "", -1, "", "", "no From: address"},
    {"a From: line in the body is no header", "Subject: " TOK "\n\nFrom: " PM "\n", -1, "", TOK,
     "no From: address"},
};

/* crlf - msg with every LF turned into CRLF (free it) */
static char *
crlf(const char *msg)
{
    hj_buf b = HJ_BUF_INIT;

    for (const char *p = msg; *p; p++)
        buf_puts(&b, *p == '\n' ? "\r\n" : (char[]){*p, 0});
    buf_putc(&b, 0);
    return b.s;
}

static void
check_case(const parse_case *c, const char *msg, const char *form)
{
    mailmsg_info info;
    char err[128] = "";
    int got = mailmsg_parse(msg, strlen(msg), &info, err, sizeof(err));

    if (got != c->want)
        fail_msg("%s (%s): mailmsg_parse() = %d (%s), want %d", c->name, form, got, err, c->want);
    if (strcmp(info.from, c->from) != 0 || strcmp(info.token, c->token) != 0)
        fail_msg("%s (%s): from \"%s\" token \"%s\", want \"%s\" \"%s\"", c->name, form, info.from,
                 info.token, c->from, c->token);
    if (got < 0 && strcmp(err, c->err) != 0)
        fail_msg("%s (%s): error \"%s\", want \"%s\"", c->name, form, err, c->err);
}

static void
test_parse_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
        char *m = crlf(parse_cases[i].msg);
        check_case(&parse_cases[i], parse_cases[i].msg, "LF");
        check_case(&parse_cases[i], m, "CRLF");
        free(m);
    }
}

/* NUL bytes are bytes: the length counts, not the first NUL */
static void
test_parse_nul_bytes(void **state)
{
    static const char msg[] = "From: " PM "\nX-Junk: a\0b\nSubject: re\n\nbin\0ary\0" TOK "\n";
    mailmsg_info info;
    char err[64];

    (void)state;
    assert_int_equal(mailmsg_parse(msg, sizeof(msg) - 1, &info, err, sizeof(err)), 0);
    assert_string_equal(info.token, TOK);
    assert_string_equal(info.from, PM);
    /* a length that stops before the token */
    assert_int_equal(mailmsg_parse(msg, sizeof(msg) - 10, &info, err, sizeof(err)), -1);
    assert_string_equal(err, "no unlock token");
}

/* a hostile message: no read past the end, no quadratic time, no deep recursion */
static void
test_parse_hostile(void **state)
{
    hj_buf b = HJ_BUF_INIT;
    mailmsg_info info;
    char err[64];

    (void)state;
    buf_puts(&b, "From: " PM "\nSubject: ");
    for (int i = 0; i < 60000; i++) /* encoded-words that never end */
        buf_puts(&b, "=?x?q?HJU1-");
    buf_puts(&b, "\nContent-Type: multipart/mixed; boundary=b0\n\n");
    for (int i = 0; i < 50; i++) /* nested deeper than MAILMSG_DEPTH */
        buf_printf(&b, "--b%d\nContent-Type: multipart/mixed; boundary=b%d\n\n", i, i + 1);
    buf_puts(&b, "--b50\n\n" TOK "\n");
    assert_true(b.len < MAILMSG_MAX);
    assert_int_equal(mailmsg_parse(b.s, b.len, &info, err, sizeof(err)), -1);
    assert_string_equal(err, "no unlock token");
    buf_free(&b);
    buf_puts(&b, "From: " PM "\nContent-Type: multipart/mixed; boundary=b0\n\n");
    for (int i = 0; i < MAILMSG_DEPTH - 1; i++) /* as deep as searched */
        buf_printf(&b, "--b%d\nContent-Type: multipart/mixed; boundary=b%d\n\n", i, i + 1);
    buf_printf(&b, "--b%d\n\n" TOK "\n", MAILMSG_DEPTH - 1);
    assert_int_equal(mailmsg_parse(b.s, b.len, &info, err, sizeof(err)), 0);
    buf_free(&b);
    buf_puts(&b, "From: " PM "\nContent-Type: multipart/mixed; boundary=\"b\"\n\n");
    for (int i = 0; i < 100000; i++) /* many empty parts */
        buf_puts(&b, "--b\n");
    assert_int_equal(mailmsg_parse(b.s, b.len, &info, err, sizeof(err)), -1);
    buf_free(&b);
    buf_puts(&b, "From: " PM "\nContent-Type: multipart/mixed; boundary=\"unterminated\n\n");
    buf_puts(&b, "--unterminated\n\n" TOK);
    assert_int_equal(mailmsg_parse(b.s, b.len, &info, err, sizeof(err)), 0);
    buf_free(&b);
}

/* ---------------------------------------------------------------- mailmsg_unlock() */

typedef struct fake {
    const char *answer; /* the answer line; NULL: no answer */
    int calls;
    char req[1024]; /* the request received */
} fake;

static fake the_fake;

static int
fake_talk(const char *where, json_t *req, hj_buf *answer, char *err, size_t errlen)
{
    char *s = json_dumps(req, JSON_COMPACT | JSON_SORT_KEYS);

    assert_string_equal(where, "/run/hijackd/control.sock");
    the_fake.calls++;
    snprintf(the_fake.req, sizeof(the_fake.req), "%s", s);
    free(s);
    if (the_fake.answer == NULL) {
        snprintf(err, errlen, "cannot reach hijackd at %s: Connection refused: is it running?",
                 where);
        return 4;
    }
    buf_puts(answer, the_fake.answer);
    return 0;
}

typedef struct unlock_run {
    int rc;
    char *out, *diag;
} unlock_run;

/* run - mailmsg_unlock() on msg (len bytes) against the fake answering answer */
static unlock_run
run(const char *msg, size_t len, const char *sender, int json, const char *answer)
{
    unlock_run r = {0, NULL, NULL};
    size_t n1, n2;
    FILE *in = len ? fmemopen((void *)msg, len, "r") : fopen("/dev/null", "r");
    FILE *out = open_memstream(&r.out, &n1), *diag = open_memstream(&r.diag, &n2);

    assert_non_null(in);
    memset(&the_fake, 0, sizeof(the_fake));
    the_fake.answer = answer;
    r.rc = mailmsg_unlock(in, out, diag, sender, json, fake_talk, "/run/hijackd/control.sock");
    fclose(in), fclose(out), fclose(diag);
    return r;
}

static void
run_free(unlock_run *r)
{
    free(r->out);
    free(r->diag);
}

static const char reply[] = "From: Post Master <PostMaster@example.test>\n"
                            "Subject: Re: [hijackd] alice@example.test locked [" TOK "]\n\nyes\n";

static void
test_unlock_ok(void **state)
{
    unlock_run r = run(reply, strlen(reply), "pm@example.test", 0,
                       "{\"ok\":true,\"account\":\"alice@example.test\",\"status\":200}\n");

    (void)state;
    assert_int_equal(r.rc, 0);
    assert_int_equal(the_fake.calls, 1);
    assert_string_equal(the_fake.req, "{\"cmd\":\"unlock_token\",\"from\":\"" PM
                                      "\",\"sender\":\"pm@example.test\",\"token\":\"" TOK "\"}");
    assert_string_equal(r.out, "unlocked alice@example.test (token from " PM ")\n");
    assert_string_equal(r.diag, "");
    run_free(&r);

    r = run(reply, strlen(reply), NULL, 1, "{\"ok\":true,\"account\":\"a\",\"status\":200}");
    assert_int_equal(r.rc, 0);
    assert_string_equal(the_fake.req,
                        "{\"cmd\":\"unlock_token\",\"from\":\"" PM "\",\"token\":\"" TOK "\"}");
    assert_string_equal(r.out, "{\"ok\":true,\"account\":\"a\"}\n");
    run_free(&r);
}

static void
test_unlock_refused(void **state)
{
    static const char *answers[] = {
        "{\"ok\":false,\"error\":\"token expired\",\"status\":403}",
        "{\"ok\":false,\"error\":\"already unlocked\",\"status\":409}",
        "{\"ok\":false,\"error\":\"bad\\u001b[31m token\",\"status\":400}",
    };
    static const char *want[] = {
        "hijackd refused the unlock token from " PM ": token expired (403)\n",
        "hijackd refused the unlock token from " PM ": already unlocked (409)\n",
        "hijackd refused the unlock token from " PM ": bad?[31m token (400)\n",
    };

    (void)state;
    for (size_t i = 0; i < 3; i++) {
        unlock_run r = run(reply, strlen(reply), PM, 0, answers[i]);
        assert_int_equal(r.rc, 0);
        assert_string_equal(r.out, want[i]);
        assert_string_equal(r.diag, "");
        run_free(&r);
    }
    unlock_run r = run(reply, strlen(reply), PM, 1, answers[0]);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.out, "{\"ok\":false,\"error\":\"token expired\",\"status\":403}\n");
    run_free(&r);
}

static void
test_unlock_tempfail(void **state)
{
    static const char *answers[] = {NULL,
                                    "{\"error\":\"store error: disk I/O error\",\"status\":500}",
                                    "not json", "{\"ok\":true}", "{\"status\":302}"};

    (void)state;
    for (size_t i = 0; i < sizeof(answers) / sizeof(answers[0]); i++) {
        unlock_run r = run(reply, strlen(reply), NULL, 0, answers[i]);
        assert_int_equal(r.rc, EX_TEMPFAIL);
        assert_int_equal(the_fake.calls, 1);
        assert_string_equal(r.out, "");
        assert_non_null(strstr(r.diag, "hijackctl: mail-unlock: "));
        assert_non_null(strstr(r.diag, "(Postfix will try again)\n"));
        run_free(&r);
    }
    unlock_run r = run(reply, strlen(reply), NULL, 0, answers[1]);
    assert_string_equal(r.diag, "hijackctl: mail-unlock: unlock_token: store error: disk I/O "
                                "error (500) (Postfix will try again)\n");
    run_free(&r);
}

static void
test_unlock_nothing_to_do(void **state)
{
    static const char no_token[] = "From: " PM "\nSubject: Re: alert\n\nplease unlock\n";
    static const char no_from[] = "Subject: Re: " TOK "\n\nplease unlock\n";
    unlock_run r;

    (void)state;
    r = run(no_token, strlen(no_token), NULL, 0, "{\"status\":200}");
    assert_int_equal(r.rc, 0);
    assert_int_equal(the_fake.calls, 0);
    assert_string_equal(r.out, "");
    assert_string_equal(r.diag, "hijackctl: mail-unlock: no unlock token in the message from " PM
                                ": nothing done\n");
    run_free(&r);
    r = run(no_from, strlen(no_from), NULL, 0, "{\"status\":200}");
    assert_int_equal(r.rc, 0);
    assert_int_equal(the_fake.calls, 0);
    assert_string_equal(r.diag, "hijackctl: mail-unlock: no From: address: nothing done\n");
    run_free(&r);
    r = run("", 0, NULL, 0, "{\"status\":200}");
    assert_int_equal(r.rc, 0);
    assert_int_equal(the_fake.calls, 0);
    run_free(&r);
    r = run(reply, strlen(reply), "bad\xff", 0, "{\"status\":200}");
    assert_int_equal(r.rc, 0);
    assert_int_equal(the_fake.calls, 0);
    assert_non_null(strstr(r.diag, "is not UTF-8: nothing done"));
    run_free(&r);
}

static void
test_unlock_size_limit(void **state)
{
    hj_buf big = HJ_BUF_INIT;
    unlock_run r;

    (void)state;
    buf_puts(&big, reply); /* exactly MAILMSG_MAX bytes: read */
    while (big.len < MAILMSG_MAX)
        buf_putc(&big, big.len % 77 ? 'x' : '\n');
    r = run(big.s, big.len, NULL, 0, "{\"status\":200}");
    assert_int_equal(r.rc, 0);
    assert_int_equal(the_fake.calls, 1);
    run_free(&r);
    buf_putc(&big, '\n'); /* one more: not a reply */
    r = run(big.s, big.len, NULL, 0, "{\"status\":200}");
    assert_int_equal(r.rc, 0);
    assert_int_equal(the_fake.calls, 0);
    assert_string_equal(r.diag, "hijackctl: mail-unlock: the message is over 1048576 bytes, no "
                                "reply to an alert: nothing done\n");
    run_free(&r);
    buf_free(&big);
}

int
main(void)
{
    static const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_cases),          cmocka_unit_test(test_parse_nul_bytes),
        cmocka_unit_test(test_parse_hostile),        cmocka_unit_test(test_unlock_ok),
        cmocka_unit_test(test_unlock_refused),       cmocka_unit_test(test_unlock_tempfail),
        cmocka_unit_test(test_unlock_nothing_to_do), cmocka_unit_test(test_unlock_size_limit),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
