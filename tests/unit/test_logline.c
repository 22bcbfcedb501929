/*
 * test_logline - logline_parse(): timestamps, year derivation, program splitting, garbage
 *
 * main() sets TZ=UTC, so a syslog wall clock is UTC (tzoff 0) unless a
 * test sets another zone (and puts UTC back). Expected epochs were
 * computed with date(1): date -u -d '2026-11-02 10:00:01' +%s.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "../../src/postfix/logline.h"
#include "../../src/util/timeconv.h"

#define T_2025_11_02_100001 INT64_C(1762077601)
#define T_2025_12_31_235959 INT64_C(1767225599)
#define T_2026_01_01_000001 INT64_C(1767225601)
#define T_2026_11_02_090001 INT64_C(1793610001)
#define T_2026_11_02_100001 INT64_C(1793613601)
#define T_2026_11_18_100001 INT64_C(1794996001)
#define T_2026_11_22_202500 INT64_C(1795379100)
#define T_2026_12_31_235958 INT64_C(1798761598)
#define T_2026_12_31_235959 INT64_C(1798761599)
#define T_2027_01_01_000001 INT64_C(1798761601)
#define T_2026_07_02_080001 INT64_C(1782979201)

/* span_str - a span as a NUL-terminated string in buf */
static const char *
span_str(hj_span s, char *buf, size_t cap)
{
    size_t n = s.p ? (s.n < cap - 1 ? s.n : cap - 1) : 0;

    if (n)
        memcpy(buf, s.p, n);
    buf[n] = 0;
    return buf;
}

/* check_span - compare a span with want (NULL = do not check); 1 when it differs */
static int
check_span(const char *name, const char *field, hj_span s, const char *want)
{
    char buf[512];

    if (want == NULL || strcmp(span_str(s, buf, sizeof(buf)), want) == 0)
        return 0;
    print_error("[%s] %s: got \"%s\", want \"%s\"\n", name, field, buf, want);
    return 1;
}

/* check_int - compare two integers; 1 when they differ */
static int
check_int(const char *name, const char *field, int64_t got, int64_t want)
{
    if (got == want)
        return 0;
    print_error("[%s] %s: got %lld, want %lld\n", name, field, (long long)got, (long long)want);
    return 1;
}

/* ------------------------------------------------------------------ */
/* single lines: one fresh clock per line                              */

typedef struct line_case {
    const char *name;
    const char *line;
    int ref_year, ref_month, fixed_year;
    int ret; /* 0 or -1 */
    int64_t t;
    int32_t tzoff;
    const char *host, *prog, *daemon, *svc, *msg;
} line_case;

static const line_case good_lines[] = {
    /* timestamp forms */
    {"rsyslog traditional, day padded with a space", "Nov  2 10:00:01 host postfix/smtpd[123]: msg",
     2026, 11, 0, 0, T_2026_11_02_100001, 0, "host", "postfix/smtpd", "smtpd", "postfix", "msg"},
    {"postlogd, day padded with a zero",
     "Nov 02 10:00:01 mx postfix/qmgr[24462]: 4D66EA723D5: removed", 2026, 11, 0, 0,
     T_2026_11_02_100001, 0, "mx", "postfix/qmgr", "qmgr", "postfix", "4D66EA723D5: removed"},
    {"traditional, two-digit day",
     "Nov 22 20:25:00 mx postfix/submission/smtpd[24482]: connect from localhost[127.0.0.1]", 2026,
     11, 0, 0, T_2026_11_22_202500, 0, "mx", "postfix/submission/smtpd", "smtpd",
     "postfix/submission", "connect from localhost[127.0.0.1]"},
    {"ISO, microseconds, +01:00",
     "2026-11-18T10:00:01.123456+01:00 mx postfix/smtps/smtpd[77]: connect from x[192.0.2.1]", 2026,
     11, 0, 0, T_2026_11_18_100001 - 3600, 3600, "mx", "postfix/smtps/smtpd", "smtpd",
     "postfix/smtps", "connect from x[192.0.2.1]"},
    {"ISO, milliseconds, -05:00", "2026-11-18T10:00:01.123-05:00 mx postfix/smtpd[7]: m", 2026, 11,
     0, 0, T_2026_11_18_100001 + 5 * 3600, -5 * 3600, "mx", "postfix/smtpd", "smtpd", "postfix",
     "m"},
    {"ISO, fraction, Z", "2026-11-18T10:00:01.5Z mx postfix/smtpd[7]: m", 2026, 11, 0, 0,
     T_2026_11_18_100001, 0, "mx", "postfix/smtpd", "smtpd", "postfix", "m"},
    {"ISO, no fraction, Z", "2026-11-18T10:00:01Z mx postfix/smtpd[7]: m", 2026, 11, 0, 0,
     T_2026_11_18_100001, 0, "mx", NULL, NULL, NULL, "m"},
    {"ISO, no fraction, +01:00", "2026-11-18T10:00:01+01:00 mx postfix/smtpd[7]: m", 2026, 11, 0, 0,
     T_2026_11_18_100001 - 3600, 3600, "mx", NULL, NULL, NULL, "m"},
    {"ISO, no fraction, -05:00", "2026-11-18T10:00:01-05:00 mx postfix/smtpd[7]: m", 2026, 11, 0, 0,
     T_2026_11_18_100001 + 5 * 3600, -5 * 3600, "mx", NULL, NULL, NULL, "m"},
    {"ISO, +05:30 (minutes in the offset)",
     "2026-11-18T10:00:01.000001+05:30 mx postfix/smtpd[7]: m", 2026, 11, 0, 0,
     T_2026_11_18_100001 - 5 * 3600 - 30 * 60, 5 * 3600 + 30 * 60, "mx", NULL, NULL, NULL, "m"},
    {"ISO, +00:00", "2026-11-18T10:00:01.000000+00:00 mx postfix/smtpd[7]: m", 2026, 11, 0, 0,
     T_2026_11_18_100001, 0, "mx", NULL, NULL, NULL, "m"},
    {"ISO keeps its own year whatever the clock says",
     "2026-11-18T10:00:01Z mx postfix/smtpd[7]: m", 2019, 3, 2001, 0, T_2026_11_18_100001, 0, "mx",
     NULL, NULL, NULL, "m"},

    /* the year of a line without one */
    {"fixed year", "Nov  2 10:00:01 host postfix/smtpd[1]: m", 2026, 11, 2025, 0,
     T_2025_11_02_100001, 0, NULL, NULL, NULL, NULL, NULL},
    {"fixed year beats the reference", "Dec 31 23:59:59 host postfix/smtpd[1]: m", 2027, 1, 2026, 0,
     T_2026_12_31_235959, 0, NULL, NULL, NULL, NULL, NULL},
    {"first line in the reference month: reference year",
     "Nov  2 10:00:01 host postfix/smtpd[1]: m", 2026, 11, 0, 0, T_2026_11_02_100001, 0, NULL, NULL,
     NULL, NULL, NULL},
    {"first line before the reference month: reference year",
     "Nov  2 10:00:01 host postfix/smtpd[1]: m", 2026, 12, 0, 0, T_2026_11_02_100001, 0, NULL, NULL,
     NULL, NULL, NULL},
    {"first line after the reference month: the year before",
     "Dec 31 23:59:59 host postfix/smtpd[1]: m", 2026, 11, 0, 0, T_2025_12_31_235959, 0, NULL, NULL,
     NULL, NULL, NULL},
    {"file written in January, first line in December: last year",
     "Dec 31 23:59:59 host postfix/smtpd[1]: m", 2027, 1, 0, 0, T_2026_12_31_235959, 0, NULL, NULL,
     NULL, NULL, NULL},
    {"file written in January, first line in January", "Jan  1 00:00:01 host postfix/smtpd[1]: m",
     2027, 1, 0, 0, T_2027_01_01_000001, 0, NULL, NULL, NULL, NULL, NULL},
    {"no reference month (0): the reference year", "Dec 31 23:59:59 host postfix/smtpd[1]: m", 2026,
     0, 0, 0, T_2026_12_31_235959, 0, NULL, NULL, NULL, NULL, NULL},

    /* program, daemon, service */
    {"custom syslog_name", "Nov  2 10:00:01 mx postfix-out/smtp[9]: 4D66EA723D5: to=<a@b>", 2026,
     11, 0, 0, T_2026_11_02_100001, 0, "mx", "postfix-out/smtp", "smtp", "postfix-out",
     "4D66EA723D5: to=<a@b>"},
    {"syslog_name with a slash", "Nov  2 10:00:01 mx mail/relay/smtp[9]: m", 2026, 11, 0, 0,
     T_2026_11_02_100001, 0, "mx", "mail/relay/smtp", "smtp", "mail/relay", "m"},
    {"postfix-script",
     "Nov 25 04:49:05 mx postfix/postfix-script[28281]: starting the Postfix mail system", 2026, 11,
     0, 0, INT64_C(1795582145), 0, "mx", "postfix/postfix-script", "postfix-script", "postfix",
     "starting the Postfix mail system"},
    {"program without pid", "Nov  2 10:00:01 mx dovecot: imap-login: Login: user=<alice>", 2026, 11,
     0, 0, T_2026_11_02_100001, 0, "mx", "dovecot", "dovecot", "",
     "imap-login: Login: user=<alice>"},
    {"program with pid, no slash", "Nov  2 10:00:01 mx CRON[1234]: (root) CMD (run-parts)", 2026,
     11, 0, 0, T_2026_11_02_100001, 0, "mx", "CRON", "CRON", "", "(root) CMD (run-parts)"},
    {"ISO line from another program", "2026-11-18T10:00:01.1+01:00 mx dovecot[55]: auth: Info: x",
     2026, 11, 0, 0, T_2026_11_18_100001 - 3600, 3600, "mx", "dovecot", "dovecot", "",
     "auth: Info: x"},
    {"empty message", "Nov  2 10:00:01 mx postfix/smtpd[1]:", 2026, 11, 0, 0, T_2026_11_02_100001,
     0, "mx", "postfix/smtpd", "smtpd", "postfix", ""},
    {"message keeps its colons and brackets",
     "Nov  2 10:00:01 mx postfix/smtpd[1]: warning: unknown[2001:db8::1]: SASL LOGIN "
     "authentication failed: UGFzc3dvcmQ6",
     2026, 11, 0, 0, T_2026_11_02_100001, 0, "mx", "postfix/smtpd", "smtpd", "postfix",
     "warning: unknown[2001:db8::1]: SASL LOGIN authentication failed: UGFzc3dvcmQ6"},
};

/* run_line - parse one line with a fresh clock; number of mismatches */
static int
run_line(const line_case *c, const char *line, size_t len, int want_ret)
{
    hj_logclock clk;
    hj_logline l;
    int bad = 0;

    memset(&l, 0, sizeof(l));
    logline_clock_init(&clk, c->ref_year, c->ref_month, c->fixed_year);
    int ret = logline_parse(&clk, line, len, &l);
    bad += check_int(c->name, "return", ret, want_ret);
    if (ret != 0 || want_ret != 0)
        return bad;
    bad += check_int(c->name, "t", l.t, c->t);
    bad += check_int(c->name, "tzoff", l.tzoff, c->tzoff);
    bad += check_span(c->name, "host", l.host, c->host);
    bad += check_span(c->name, "prog", l.prog, c->prog);
    bad += check_span(c->name, "daemon", l.daemon, c->daemon);
    bad += check_span(c->name, "svc", l.svc, c->svc);
    bad += check_span(c->name, "msg", l.msg, c->msg);
    return bad;
}

static void
test_good_lines(void **state)
{
    int bad = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(good_lines) / sizeof(good_lines[0]); i++)
        bad += run_line(&good_lines[i], good_lines[i].line, strlen(good_lines[i].line), 0);
    assert_int_equal(bad, 0);
}

/* the spans point into the line: nothing is copied */
static void
test_spans_point_into_line(void **state)
{
    static const char line[] = "Nov  2 10:00:01 mx postfix/submission/smtpd[9]: hello";
    hj_logclock clk;
    hj_logline l;

    (void)state;
    logline_clock_init(&clk, 2026, 11, 0);
    assert_int_equal(logline_parse(&clk, line, strlen(line), &l), 0);
    assert_ptr_equal(l.host.p, line + 16);
    assert_ptr_equal(l.prog.p, line + 19);
    assert_ptr_equal(l.svc.p, line + 19);
    assert_ptr_equal(l.daemon.p, line + 19 + strlen("postfix/submission/"));
    assert_ptr_equal(l.msg.p + l.msg.n, line + strlen(line));
}

/* the length is honoured: bytes after len are not read as part of the line */
static void
test_length_bounds_line(void **state)
{
    static const char buf[] = "Nov  2 10:00:01 mx postfix/smtpd[1]: connect from a[192.0.2.1]\nNov";
    hj_logclock clk;
    hj_logline l;

    (void)state;
    logline_clock_init(&clk, 2026, 11, 0);
    size_t len = (size_t)(strchr(buf, '\n') - buf);
    assert_int_equal(logline_parse(&clk, buf, len, &l), 0);
    assert_int_equal(l.msg.n, strlen("connect from a[192.0.2.1]"));
    assert_memory_equal(l.msg.p, "connect from a[192.0.2.1]", l.msg.n);
    /* cut inside the program: no colon within len */
    assert_int_equal(logline_parse(&clk, buf, 30, &l), -1);
}

/*
 * Every good line cut at every length 1..n, in a buffer of exactly that
 * size: no read past the end (run under ASan), and a cut line either is
 * garbled or keeps its timestamp.
 */
static void
test_truncated_lines(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(good_lines) / sizeof(good_lines[0]); i++) {
        const line_case *c = &good_lines[i];
        size_t n = strlen(c->line);
        for (size_t len = 1; len <= n; len++) {
            char *buf = malloc(len);
            hj_logclock clk;
            hj_logline l;
            assert_non_null(buf);
            memcpy(buf, c->line, len);
            logline_clock_init(&clk, c->ref_year, c->ref_month, c->fixed_year);
            if (logline_parse(&clk, buf, len, &l) == 0) {
                assert_int_equal(l.t, c->t);
                assert_true(l.msg.p >= buf && l.msg.p + l.msg.n <= buf + len);
                assert_true(l.prog.p >= buf && l.prog.p + l.prog.n <= buf + len);
            }
            free(buf);
        }
    }
}

/* ------------------------------------------------------------------ */
/* garbled lines                                                       */

typedef struct bad_case {
    const char *name;
    const char *line;
    size_t len; /* 0: strlen(line) */
} bad_case;

static const bad_case bad_lines[] = {
    {"empty", "", 0},
    {"one space", " ", 0},
    {"blanks", "   \t   ", 0},
    {"a word", "garbage", 0},
    {"binary bytes",
     "\x01\x02\xff\xfe\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b\x8c\x8d\x8e\x8f"
     "\x90\x91\x92\x93",
     0},
    {"NUL bytes", "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 24},
    {"binary after a good timestamp", "Nov  2 10:00:01 \xff\xfe\xfd\x01\x02", 0},
    {"timestamp cut in the seconds", "Nov  2 10:00", 0},
    {"timestamp only", "Nov  2 10:00:01", 0},
    {"timestamp and space only", "Nov  2 10:00:01 ", 0},
    {"timestamp and host only", "Nov  2 10:00:01 host", 0},
    {"ISO cut in the minutes", "2026-11-18T10:00", 0},
    {"ISO cut in the fraction", "2026-11-18T10:00:01.12345", 0},
    {"ISO cut in the offset", "2026-11-18T10:00:01.123456+01:", 0},
    {"ISO timestamp and host only", "2026-11-18T10:00:01.123456+01:00 host", 0},
    {"ISO timestamp only", "2026-11-18T10:00:01Z", 0},
    {"ISO date only", "2026-11-18 host postfix/smtpd[1]: m", 0},
    {"ISO bad month", "2026-13-18T10:00:01Z host postfix/smtpd[1]: m", 0},
    {"ISO bad hour", "2026-11-18T24:00:01Z host postfix/smtpd[1]: m", 0},
    {"ISO junk after the seconds", "2026-11-18T10:00:01x host postfix/smtpd[1]: m", 0},
    {"unknown month", "Foo  2 10:00:01 host postfix/smtpd[1]: m", 0},
    {"day 32", "Nov 32 10:00:01 host postfix/smtpd[1]: m", 0},
    {"day 0", "Nov 00 10:00:01 host postfix/smtpd[1]: m", 0},
    {"hour 25", "Nov  2 25:00:01 host postfix/smtpd[1]: m", 0},
    {"minute 60", "Nov  2 10:60:01 host postfix/smtpd[1]: m", 0},
    {"letters in the time", "Nov  2 1a:00:01 host postfix/smtpd[1]: m", 0},
    {"missing program colon", "Nov  2 10:00:01 host postfix/smtpd[123] msg without colon", 0},
    {"missing program colon, no pid", "Nov  2 10:00:01 host just some words", 0},
    {"ISO, missing program colon", "2026-11-18T10:00:01Z host postfix/smtpd[123] msg", 0},
    {"colon right after the host", "Nov  2 10:00:01 host : msg", 0},
};

static void
test_garbled_lines(void **state)
{
    int bad = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(bad_lines) / sizeof(bad_lines[0]); i++) {
        const bad_case *b = &bad_lines[i];
        line_case c = {.name = b->name, .ref_year = 2026, .ref_month = 11};
        bad += run_line(&c, b->line, b->len ? b->len : strlen(b->line), -1);
    }
    assert_int_equal(bad, 0);
}

/*
 * Regression (found by this test, fixed in split_prog): the program must end at ':'
 * ("prog[pid]: msg"), but split_prog takes the first ':' anywhere in
 * the rest of the line. A header without the colon is accepted whenever
 * the message has one (nearly every Postfix message does), giving a
 * program with spaces in it or losing the queue ID:
 *   "... host postfix/smtpd[123] 4D66EA723D5: client=..." -> 0, prog
 *   "postfix/smtpd", msg "client=..." (queue ID gone);
 *   "... host some free text: more" -> 0, prog "some free text".
 * Expected: -1 (garbled), as for the same lines without a later colon.
 */
static const bad_case bad_lines_colon_later[] = {
    {"no program colon, colon later in the message",
     "Nov  2 10:00:01 host postfix/smtpd[123] 4D66EA723D5: client=x[192.0.2.1]", 0},
    {"program with spaces", "Nov  2 10:00:01 host some free text: more", 0},
    {"junk between pid and colon", "Nov  2 10:00:01 host postfix/smtpd[123]x: msg", 0},
};

static void
test_garbled_colon_later(void **state)
{
    int bad = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(bad_lines_colon_later) / sizeof(bad_lines_colon_later[0]); i++) {
        const bad_case *b = &bad_lines_colon_later[i];
        line_case c = {.name = b->name, .ref_year = 2026, .ref_month = 11};
        bad += run_line(&c, b->line, strlen(b->line), -1);
    }
    assert_int_equal(bad, 0);
}

/* ------------------------------------------------------------------ */
/* sequences: one clock for a whole run of lines                       */

typedef struct seq_line {
    const char *line;
    int64_t t;
} seq_line;

typedef struct seq_case {
    const char *name;
    int ref_year, ref_month, fixed_year;
    seq_line lines[8]; /* up to a NULL line */
} seq_case;

static const seq_case sequences[] = {
    {"Dec -> Jan rolls over to the next year",
     2026,
     12,
     0,
     {{"Dec 31 23:59:59 mx postfix/smtpd[1]: a", T_2026_12_31_235959},
      {"Jan  1 00:00:01 mx postfix/smtpd[1]: b", T_2027_01_01_000001},
      {NULL, 0}}},
    {"postlogd Dec -> Jan",
     2026,
     12,
     0,
     {{"Dec 31 23:59:59 mx postfix/smtpd[1]: a", T_2026_12_31_235959},
      {"Jan 01 00:00:01 mx postfix/smtpd[1]: b", T_2027_01_01_000001},
      {NULL, 0}}},
    {"a late December line after January does not roll back the year",
     2026,
     12,
     0,
     {{"Dec 31 23:59:59 mx postfix/smtpd[1]: a", T_2026_12_31_235959},
      {"Jan  1 00:00:01 mx postfix/smtpd[1]: b", T_2027_01_01_000001},
      {"Dec 31 23:59:58 mx postfix/qmgr[2]: late", T_2026_12_31_235958},
      {"Jan  1 00:00:01 mx postfix/smtpd[1]: c", T_2027_01_01_000001},
      {NULL, 0}}},
    {"a late December line does not roll over again either",
     2026,
     12,
     0,
     {{"Dec 31 23:59:59 mx postfix/smtpd[1]: a", T_2026_12_31_235959},
      {"Jan  1 00:00:01 mx postfix/smtpd[1]: b", T_2027_01_01_000001},
      {"Dec 31 23:59:58 mx postfix/qmgr[2]: late", T_2026_12_31_235958},
      {"Dec 31 23:59:59 mx postfix/qmgr[2]: late", T_2026_12_31_235959},
      {"Jan  1 00:00:01 mx postfix/smtpd[1]: c", T_2027_01_01_000001},
      {NULL, 0}}},
    {"file touched in January: December is last year, January this year",
     2027,
     1,
     0,
     {{"Dec 31 23:59:59 mx postfix/smtpd[1]: a", T_2026_12_31_235959},
      {"Jan  1 00:00:01 mx postfix/smtpd[1]: b", T_2027_01_01_000001},
      {NULL, 0}}},
    {"the year rolls from the derived year",
     2026,
     11,
     0,
     {{"Dec 31 23:59:59 mx postfix/smtpd[1]: a", T_2025_12_31_235959},
      {"Jan  1 00:00:01 mx postfix/smtpd[1]: b", T_2026_01_01_000001},
      {"Apr  1 00:00:01 mx postfix/smtpd[1]: c", INT64_C(1775001601)},
      {"Jul  1 00:00:01 mx postfix/smtpd[1]: d", INT64_C(1782864001)},
      {"Nov  2 10:00:01 mx postfix/smtpd[1]: e", T_2026_11_02_100001},
      {NULL, 0}}},
    {"a fixed year is the year of the first line: it still rolls over",
     2027,
     6,
     2025,
     {{"Dec 31 23:59:59 mx postfix/smtpd[1]: a", T_2025_12_31_235959},
      {"Jan  1 00:00:01 mx postfix/smtpd[1]: b", T_2026_01_01_000001},
      {NULL, 0}}},
    {"no roll-over inside a year",
     2026,
     12,
     0,
     {{"Nov  2 10:00:01 mx postfix/smtpd[1]: a", T_2026_11_02_100001},
      {"Nov 18 10:00:01 mx postfix/smtpd[1]: b", T_2026_11_18_100001},
      {"Dec 31 23:59:59 mx postfix/smtpd[1]: c", T_2026_12_31_235959},
      {NULL, 0}}},
    {"a line slightly out of order (same month) keeps the year",
     2026,
     12,
     0,
     {{"Nov 18 10:00:01 mx postfix/smtpd[1]: a", T_2026_11_18_100001},
      {"Nov  2 10:00:01 mx postfix/smtpd[1]: b", T_2026_11_02_100001},
      {NULL, 0}}},
    {"ISO lines in between do not disturb the syslog year",
     2026,
     12,
     0,
     {{"Dec 31 23:59:59 mx postfix/smtpd[1]: a", T_2026_12_31_235959},
      {"2026-11-18T10:00:01Z mx postfix/smtpd[1]: iso", T_2026_11_18_100001},
      {"Jan  1 00:00:01 mx postfix/smtpd[1]: b", T_2027_01_01_000001},
      {NULL, 0}}},
    {"garbled lines in between do not disturb the year",
     2026,
     12,
     0,
     {{"Dec 31 23:59:59 mx postfix/smtpd[1]: a", T_2026_12_31_235959},
      {"Jan  1 00:00", -1},
      {"Jan  1 00:00:01 mx postfix/smtpd[1]: b", T_2027_01_01_000001},
      {NULL, 0}}},
};

static void
test_sequences(void **state)
{
    int bad = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(sequences) / sizeof(sequences[0]); i++) {
        const seq_case *s = &sequences[i];
        hj_logclock clk;
        logline_clock_init(&clk, s->ref_year, s->ref_month, s->fixed_year);
        for (size_t j = 0; s->lines[j].line; j++) {
            hj_logline l;
            char name[200];
            snprintf(name, sizeof(name), "%s, line %zu", s->name, j + 1);
            int ret = logline_parse(&clk, s->lines[j].line, strlen(s->lines[j].line), &l);
            if (s->lines[j].t == -1) {
                bad += check_int(name, "return", ret, -1);
                continue;
            }
            bad += check_int(name, "return", ret, 0);
            if (ret == 0) {
                bad += check_int(name, "t", l.t, s->lines[j].t);
                bad += check_int(name, "tzoff", l.tzoff, 0);
            }
        }
    }
    assert_int_equal(bad, 0);
}

/* ------------------------------------------------------------------ */
/* local time zones: the syslog wall clock is read in $TZ              */

static int
tz_restore(void **state)
{
    (void)state;
    setenv("TZ", "UTC", 1);
    tzset();
    return 0;
}

static void
test_tz_local_offset(void **state)
{
    hj_logclock clk;
    hj_logline l;

    (void)state;
    /* POSIX rule: needs no zoneinfo files. CET +01:00, CEST +02:00 */
    setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);
    tzset();
    logline_clock_init(&clk, 2026, 11, 0);
    const char *winter = "Nov  2 10:00:01 mx postfix/smtpd[1]: m";
    assert_int_equal(logline_parse(&clk, winter, strlen(winter), &l), 0);
    assert_int_equal(l.tzoff, 3600);
    assert_int_equal(l.t, T_2026_11_02_090001);

    logline_clock_init(&clk, 2026, 11, 0);
    const char *summer = "Jul  2 10:00:01 mx postfix/smtpd[1]: m";
    assert_int_equal(logline_parse(&clk, summer, strlen(summer), &l), 0);
    assert_int_equal(l.tzoff, 7200);
    assert_int_equal(l.t, T_2026_07_02_080001);

    /* an ISO line keeps its own offset whatever $TZ says */
    const char *iso = "2026-11-18T10:00:01-05:00 mx postfix/smtpd[1]: m";
    assert_int_equal(logline_parse(&clk, iso, strlen(iso), &l), 0);
    assert_int_equal(l.tzoff, -5 * 3600);
    assert_int_equal(l.t, T_2026_11_18_100001 + 5 * 3600);
}

/* one clock across a DST change: the cached offset follows the wall clock */
static void
test_tz_offset_changes_within_a_file(void **state)
{
    hj_logclock clk;
    hj_logline l;

    (void)state;
    setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);
    tzset();
    logline_clock_init(&clk, 2026, 11, 0);
    /* 2026-10-25: CEST ends at 03:00 local (01:00 UTC) */
    const char *before = "Oct 24 12:00:00 mx postfix/smtpd[1]: m";
    const char *after = "Oct 26 12:00:00 mx postfix/smtpd[1]: m";
    assert_int_equal(logline_parse(&clk, before, strlen(before), &l), 0);
    assert_int_equal(l.tzoff, 7200);
    assert_int_equal(logline_parse(&clk, after, strlen(after), &l), 0);
    assert_int_equal(l.tzoff, 3600);
}

/* ------------------------------------------------------------------ */

static void
test_span_eq(void **state)
{
    const char *s = "smtpd[1]";

    (void)state;
    assert_true(span_eq((hj_span){s, 5}, "smtpd"));
    assert_false(span_eq((hj_span){s, 4}, "smtpd"));
    assert_false(span_eq((hj_span){s, 6}, "smtpd"));
    assert_true(span_eq((hj_span){s, 0}, ""));
}

/* timeconv_parse_rfc3339: what hijackctl --since and the API's ?since= accept */
static void
test_parse_rfc3339(void **state)
{
    static const struct {
        const char *s;
        int ok;
        int64_t t;
    } cases[] = {
        {"2026-11-25T06:00:00+00:00", 1, INT64_C(1795586400)},
        {"2026-11-25T07:00:00+01:00", 1, INT64_C(1795586400)},
        {"2026-11-25T01:30:00-04:30", 1, INT64_C(1795586400)},
        {"2026-11-25T06:00:00Z", 1, INT64_C(1795586400)},
        {"2026-11-25t06:00:00.123456z", 1, INT64_C(1795586400)},
        {"2026-11-25 06:00:00+00:00", 0, 0},  /* a space is not RFC 3339 */
        {"2026-11-25T06:00:00", 0, 0},        /* no offset: ambiguous */
        {"2026-13-25T06:00:00Z", 0, 0},       /* month 13 */
        {"2026-11-25T06:00:00+0100", 0, 0},   /* offset without its colon */
        {"2026-11-25T06:00:00+01:00x", 0, 0}, /* trailing garbage */
        {"", 0, 0},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t t = 0;
        int rc = timeconv_parse_rfc3339(cases[i].s, &t);
        if ((rc == 0) != cases[i].ok || (cases[i].ok && t != cases[i].t))
            fail_msg("\"%s\": rc %d t %lld", cases[i].s, rc, (long long)t);
    }
}

int
main(void)
{
    setenv("TZ", "UTC", 1);
    tzset();

    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_lines),
        cmocka_unit_test(test_spans_point_into_line),
        cmocka_unit_test(test_length_bounds_line),
        cmocka_unit_test(test_truncated_lines),
        cmocka_unit_test(test_garbled_lines),
        cmocka_unit_test(test_garbled_colon_later),
        cmocka_unit_test(test_sequences),
        cmocka_unit_test_teardown(test_tz_local_offset, tz_restore),
        cmocka_unit_test_teardown(test_tz_offset_changes_within_a_file, tz_restore),
        cmocka_unit_test(test_span_eq),
        cmocka_unit_test(test_parse_rfc3339),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
