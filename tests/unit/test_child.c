/*
 * test_child - running a program with a time limit (src/util/child.h), called directly
 *
 * Each case of the table runs one stub /bin/sh script (or a path that
 * is missing or not executable) through child_run_wait() with the
 * arguments "-x" "two words", and checks what came back: the return
 * code, the error line (the command line, the exit status or signal,
 * the stderr line worth showing: its first "fatal:", else its first),
 * everything the child wrote on stdout (in order, and in more than one
 * chunk when it is big), what was kept of its stderr (at most
 * CHILD_ERR_MAX bytes), how long the call took, and that the call left
 * no descriptor and no child behind. Then what the child inherits: none
 * of the caller's descriptors but 0-2, no blocked signal, SIGPIPE at its
 * default.
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

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "../../src/util/buf.h"
#include "../../src/util/child.h"
#include "proc_fixture.h"

#define BIG_IN (4u << 20)   /* bytes of stdin: far more than a socket buffer holds */
#define BIG_LINE "%063zu\n" /* its lines: 64 bytes each */
#define BIG_OUT 8000000     /* bytes of stdout: far more than a pipe holds */
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

typedef struct child_case {
    const char *name;
    const char *script;       /* the stub's body; NULL: run path */
    const char *path;         /* argv[0] when script is NULL */
    int noexec;               /* the stub is not executable */
    const char *in;           /* stdin; NULL and big_in 0: none (/dev/null) */
    int big_in;               /* stdin is BIG_IN bytes of BIG_LINE lines */
    int merge;                /* r.merge */
    int timeout_s;            /* 0: 10 */
    int want_rc;              /* 0 or -1 */
    const char *want_err;     /* -1: a substring of err after "ARGV0" (checked to start it) */
    const char *not_err;      /* must not occur in err */
    const char *want_out;     /* all of stdout, exactly; NULL: want_out_len bytes */
    size_t want_out_len;      /* with want_out NULL */
    const char *want_errtext; /* r.errtext exactly; NULL: want_errtext_len bytes */
    size_t want_errtext_len;  /* with want_errtext NULL */
    double min_s, max_s;      /* the call's duration; max 0: 10 s */
} child_case;

static const child_case child_cases[] = {
    /* exit 0 */
    {.name = "exit 0: stdout and the arguments",
     .script = "echo \"$#:$1:$2\"",
     .want_out = "2:-x:two words\n",
     .want_errtext = ""},
    {.name = "exit 0 with warnings on stderr",
     .script = "echo 'p: warning: w' >&2; echo out",
     .want_out = "out\n",
     .want_errtext = "p: warning: w\n"},
    {.name = "stdin fed", .script = "cat", .in = "line 1\nline 2", .want_out = "line 1\nline 2"},
    {.name = "no stdin: /dev/null", .script = "cat; echo end", .want_out = "end\n"},
    {.name = "an empty stdin", .script = "cat; echo end", .in = "", .want_out = "end\n"},
    /* exit N: the line shown */
    {.name = "exit N: the first stderr line",
     .script = "echo out; printf '\\n\\nfirst line\\nsecond\\n' >&2; exit 3",
     .want_rc = -1,
     .want_err = " -x two words: exit 3: first line",
     .not_err = "second",
     .want_out = "out\n",
     .want_errtext = "\n\nfirst line\nsecond\n"},
    {.name = "exit N, nothing on stderr",
     .script = "exit 75",
     .want_rc = -1,
     .want_err = ": exit 75: (nothing on stderr)",
     .want_out = "",
     .want_errtext = ""},
    {.name = "the first \"fatal:\" line chosen",
     .script =
         "echo 'p: warning: w' >&2; echo 'p: fatal: one' >&2; echo 'p: fatal: two' >&2; exit 1",
     .want_rc = -1,
     .want_err = ": exit 1: p: fatal: one",
     .not_err = "fatal: two"},
    {.name = "a \"fatal:\" in the middle of a line: the whole line",
     .script = "printf 'a\\nprefix fatal: here\\n' >&2; exit 1",
     .want_rc = -1,
     .want_err = ": exit 1: prefix fatal: here"},
    /* signals, exec */
    {.name = "killed by a signal",
     .script = "kill -TERM $$",
     .want_rc = -1,
     .want_err = " -x two words: killed by signal 15: (nothing on stderr)"},
    {.name = "killed by SIGKILL after a line on stderr",
     .script = "echo dying >&2; kill -KILL $$",
     .want_rc = -1,
     .want_err = ": killed by signal 9: dying"},
    {.name = "exec of a missing path",
     .path = "/nonexistent/prog",
     .want_rc = -1,
     .want_err = ": No such file or directory",
     .not_err = "exit",
     .want_out = "",
     .want_errtext = ""},
    {.name = "exec of a file that is not executable",
     .script = "echo ran",
     .noexec = 1,
     .want_rc = -1,
     .want_err = ": Permission denied",
     .want_out = ""},
    /* big stdin, big stdout */
    {.name = "a big stdin, a child that does not read it",
     .script = "exit 0",
     .big_in = 1,
     .want_out = ""},
    {.name = "a big stdin, a child that reads one line and fails",
     .script = "read l; echo \"$l\"; exit 4",
     .big_in = 1,
     .want_rc = -1,
     .want_err = ": exit 4: (nothing on stderr)",
     .want_out = "000000000000000000000000000000000000000000000000000000000000000\n"},
    {.name = "a big stdin read to its end",
     .script = "wc -c",
     .big_in = 1,
     .want_out = "4194304\n"},
    {.name = "a big stdout streamed",
     .script = "head -c 8000000 /dev/zero",
     .want_out_len = BIG_OUT},
    {.name = "a big stdout and a big stderr at once: stderr kept up to CHILD_ERR_MAX",
     .script = "i=0; while [ $i -lt 3000 ]; do echo \"noise $i\" >&2; i=$((i+1)); done &"
               " head -c 8000000 /dev/zero; wait",
     .want_out_len = BIG_OUT,
     .want_errtext_len = CHILD_ERR_MAX},
    /* merge */
    {.name = "merge: stdout goes where stderr goes",
     .script = "echo out; echo err >&2; exit 1",
     .merge = 1,
     .want_rc = -1,
     .want_err = ": exit 1: out",
     .want_out = "",
     .want_errtext = "out\nerr\n"},
    {.name = "merge, exit 0",
     .script = "echo out",
     .merge = 1,
     .want_out = "",
     .want_errtext = "out\n"},
    /* time limits */
    {.name = "timeout: a sleep 30 killed within the limit",
     .script = "echo started; exec sleep 30",
     .timeout_s = 1,
     .want_rc = -1,
     .want_err = ": no answer in 1 s (killed)",
     .want_out = "started\n",
     .min_s = 0.9,
     .max_s = 5},
    {.name = "timeout: a child that never reads its big stdin",
     .script = "exec sleep 30",
     .big_in = 1,
     .timeout_s = 1,
     .want_rc = -1,
     .want_err = ": no answer in 1 s (killed)",
     .min_s = 0.9,
     .max_s = 5},
    {.name = "timeout: a child that closed its stdout and stderr first",
     .script = "exec sleep 30 >/dev/null 2>&1",
     .timeout_s = 1,
     .want_rc = -1,
     .want_err = ": no answer in 1 s (killed)",
     .min_s = 0.9,
     .max_s = 5},
    {.name = "timeout in merge mode",
     .script = "echo started; exec sleep 30",
     .merge = 1,
     .timeout_s = 1,
     .want_rc = -1,
     .want_err = ": no answer in 1 s (killed)",
     .want_errtext = "started\n",
     .min_s = 0.9,
     .max_s = 5},
};

/* out_sink - what on_out was handed */
typedef struct out_sink {
    hj_buf b;
    size_t chunks;
} out_sink;

static void
on_out(void *ctx, const char *p, size_t n)
{
    out_sink *o = ctx;

    buf_add(&o->b, p, n);
    o->chunks++;
}

/* big_in - BIG_IN bytes of numbered BIG_LINE lines (malloc'ed) */
static char *
big_in(void)
{
    char *s = malloc(BIG_IN + 1);

    if (s == NULL)
        fail_msg("out of memory");
    for (size_t i = 0; i < BIG_IN / 64; i++)
        snprintf(s + i * 64, 65, BIG_LINE, i);
    return s;
}

/* case_path - write the case's stub (or name its path) */
static const char *
case_path(const tmpdir *t, const child_case *c)
{
    if (c->script == NULL)
        return c->path;
    const char *path = tmp_script(t, "stub", c->script);
    if (c->noexec)
        chmod(path, 0644);
    return path;
}

/* check_text - got (n bytes) is want; or, with want NULL, want_len bytes long */
static void
check_text(const char *name, const char *what, const hj_buf *got, const char *want, size_t want_len)
{
    if (want ? got->len != strlen(want) || memcmp(buf_str(got), want, got->len) != 0
             : want_len && got->len != want_len)
        fail_msg("%s: %s is %zu bytes \"%.200s\", want %zu bytes \"%s\"", name, what, got->len,
                 buf_str(got), want ? strlen(want) : want_len, want ? want : "...");
}

/* check_err - the return code and the message */
static void
check_err(const child_case *c, const char *path, int rc, const char *err)
{
    if (rc != c->want_rc)
        fail_msg("%s: rc %d, want %d (err \"%s\")", c->name, rc, c->want_rc, err);
    if (c->want_err && (strncmp(err, path, strlen(path)) != 0 || strstr(err, c->want_err) == NULL))
        fail_msg("%s: err \"%s\", want \"%s...%s\"", c->name, err, path, c->want_err);
    if (c->not_err && strstr(err, c->not_err) != NULL)
        fail_msg("%s: err \"%s\" has \"%s\"", c->name, err, c->not_err);
}

static void
run_case(const tmpdir *t, const child_case *c, const char *in)
{
    const char *path = case_path(t, c);
    char *const argv[] = {(char *)path, "-x", "two words", NULL};
    out_sink o = {HJ_BUF_INIT, 0};
    child_run r = {argv,
                   c->big_in ? in : c->in,
                   c->big_in ? BIG_IN
                   : c->in   ? strlen(c->in)
                             : 0,
                   c->merge,
                   on_out,
                   &o,
                   HJ_BUF_INIT,
                   c->timeout_s ? c->timeout_s : 10};
    char err[1024] = "";
    int fds = open_fds();
    double t0 = mono_s();

    int rc = child_run_wait(&r, err, sizeof(err));
    double took = mono_s() - t0;
    check_err(c, path, rc, err);
    check_text(c->name, "stdout", &o.b, c->want_out, c->want_out_len);
    if (c->want_out_len && o.chunks < 2)
        fail_msg("%s: stdout came in %zu chunk(s), not streamed", c->name, o.chunks);
    check_text(c->name, "stderr", &r.errtext, c->want_errtext, c->want_errtext_len);
    if (took < c->min_s || took > (c->max_s ? c->max_s : 10))
        fail_msg("%s: took %.2f s", c->name, took);
    if (open_fds() != fds)
        fail_msg("%s: %d descriptors open before, %d after", c->name, fds, open_fds());
    if (waitpid(-1, NULL, WNOHANG) != -1 || errno != ECHILD)
        fail_msg("%s: a child was left behind (not reaped)", c->name);
    buf_free(&o.b);
    buf_free(&r.errtext);
}

/* the big stdin, made once; and the stub directory (cmocka group state) */
static char *big;
static tmpdir stubs;

static int
cases_setup(void **state)
{
    (void)state;
    big = big_in();
    tmp_make(&stubs);
    return 0;
}

static int
cases_teardown(void **state)
{
    (void)state;
    tmp_remove(&stubs);
    free(big);
    return 0;
}

/* test_child_case - one case of the table (its cmocka state) */
static void
test_child_case(void **state)
{
    run_case(&stubs, *state, big);
}

/* run_sh - run a script; its rc, stdout (NUL-terminated) and stderr */
static int
run_sh(const tmpdir *t, const char *script, hj_buf *out, hj_buf *errtext, char *err, size_t errlen)
{
    char *const argv[] = {(char *)tmp_script(t, "stub", script), NULL};
    out_sink o = {HJ_BUF_INIT, 0};
    child_run r = {argv, NULL, 0, 0, on_out, &o, HJ_BUF_INIT, 10};
    int rc = child_run_wait(&r, err, errlen);

    *out = o.b;
    *errtext = r.errtext;
    return rc;
}

/* the child gets none of the caller's descriptors but 0-2, even one without FD_CLOEXEC */
static void
test_child_no_inherited_fds(void **state)
{
    tmpdir t;
    hj_buf out, errtext;
    char err[512];

    (void)state;
    tmp_make(&t);
    int fd = open("/dev/null", O_RDONLY); /* not O_CLOEXEC */
    assert_true(fd >= 0);
    assert_int_equal(dup2(fd, 50), 50);
    assert_int_equal(run_sh(&t, "[ -e /proc/self/fd/50 ] && echo inherited || echo clean", &out,
                            &errtext, err, sizeof(err)),
                     0);
    assert_string_equal(buf_str(&out), "clean\n");
    buf_free(&out), buf_free(&errtext);
    close(50), close(fd);
    tmp_remove(&t);
}

/* the caller's blocked signals and its ignored SIGPIPE are not the child's */
static void
test_child_signals(void **state)
{
    tmpdir t;
    hj_buf out, errtext;
    char err[512];
    sigset_t term, old;

    (void)state;
    tmp_make(&t);
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigprocmask(SIG_BLOCK, &term, &old);
    void (*old_pipe)(int) = signal(SIGPIPE, SIG_IGN);
    assert_int_equal(run_sh(&t, "kill -TERM $$; echo survived", &out, &errtext, err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "killed by signal 15"));
    buf_free(&out), buf_free(&errtext);
    /* with SIGPIPE ignored, yes would complain "Broken pipe" on stderr and exit 1 */
    assert_int_equal(
        run_sh(&t, "yes | head -n 1 >/dev/null; echo done", &out, &errtext, err, sizeof(err)), 0);
    assert_string_equal(buf_str(&out), "done\n");
    assert_string_equal(buf_str(&errtext), "");
    buf_free(&out), buf_free(&errtext);
    signal(SIGPIPE, old_pipe);
    sigprocmask(SIG_SETMASK, &old, NULL);
    tmp_remove(&t);
}

int
main(void)
{
    static const struct CMUnitTest more[] = {
        cmocka_unit_test(test_child_no_inherited_fds),
        cmocka_unit_test(test_child_signals),
    };
    struct CMUnitTest tests[NELEM(child_cases) + NELEM(more)];
    size_t n = 0;

    for (size_t i = 0; i < NELEM(child_cases); i++)
        tests[n++] = (struct CMUnitTest){child_cases[i].name, test_child_case, NULL, NULL,
                                         (void *)&child_cases[i]};
    for (size_t i = 0; i < NELEM(more); i++)
        tests[n++] = more[i];
    return _cmocka_run_group_tests("child", tests, n, cases_setup, cases_teardown);
}
