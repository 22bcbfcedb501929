/*
 * test_queue_run - running the Postfix commands (src/postfix/queue.h): queue_read (postqueue
 * -j), queue_purge (postsuper -d -) and queue_sendmail, each against a stub /bin/sh script in
 * a temporary directory
 *
 * What the scripts are given (arguments, stdin), what is read back from
 * them (the real samples of tests/fixtures/postqueue, a big queue), and
 * how each failure is reported: a fatal line, an exit status, a signal,
 * a missing or non-executable program, a bad queue ID refused before
 * anything runs, and a hung program killed at the time limit. No path
 * leaves a descriptor or a child behind. The runner itself
 * (src/util/child.h) is tested directly in test_child.c.
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

#include "check.h"

#include <errno.h>
#include <sys/wait.h>

#include "../../src/postfix/queue.h"
#include "../../src/util/buf.h"
#include "proc_fixture.h"
#include "queue_fixture.h"

/* ---------------------------------------------------------------- postqueue */

typedef struct read_case {
    const char *name;
    const char *script; /* %s: the fixture directory, %s: the work directory */
    const char *config_dir;
    int want_rc;
    size_t messages, bad_lines;
    const char *want_err;  /* substring of the message, when want_rc is -1 */
    const char *want_args; /* the arguments the script was given */
} read_case;

static const read_case read_cases[] = {
    {"with -c", "echo \"$@\" >\"$W/args\"; cat \"$F/two_accounts.jsonl\"", "/etc/pf-test", 0, 10, 0,
     NULL, "-c /etc/pf-test -j\n"},
    {"without -c", "echo \"$@\" >\"$W/args\"; cat \"$F/two_accounts.jsonl\"", NULL, 0, 10, 0, NULL,
     "-j\n"},
    {"last line without newline", "printf '%s' \"$(cat \"$F/open_relay.jsonl\")\"", NULL, 0, 5, 0,
     NULL, NULL},
    {"garbage lines counted", "cat \"$F/edge_cases.jsonl\"; echo; echo '{broken'", NULL, 0, 4, 14,
     NULL, NULL},
    {"empty queue", ":", NULL, 0, 0, 0, NULL, NULL},
    {"warnings on stderr, exit 0",
     "echo 'postqueue: warning: Mail system is down -- accessing queue directly' >&2; cat "
     "\"$F/two_accounts.jsonl\"",
     NULL, 0, 10, 0, NULL, NULL},
    {"fatal",
     "echo 'postqueue: warning: something first' >&2; echo 'postqueue: fatal: open "
     "/nonexistent/main.cf: No such file or directory' >&2; exit 69",
     "/nonexistent", -1, 0, 0,
     " -c /nonexistent -j: exit 69: postqueue: fatal: open /nonexistent/main.cf: No such file or "
     "directory",
     NULL},
    {"exit 1 after output, first stderr line",
     "cat \"$F/two_accounts.jsonl\"; printf '\\n\\npostqueue: showq: broken\\nmore\\n' >&2; exit 1",
     NULL, -1, 10, 0, " -j: exit 1: postqueue: showq: broken", NULL},
    {"exit 2, silent", "exit 2", NULL, -1, 0, 0, "exit 2: (nothing on stderr)", NULL},
    {"killed", "kill -TERM $$", NULL, -1, 0, 0, "killed by signal 15", NULL},
};

static void
run_read_case(const tmpdir *t, const read_case *c, const char *fixdir)
{
    char err[512] = "";
    hj_buf body = HJ_BUF_INIT;
    queue_list q;

    buf_printf(&body, "F='%s'; W='%s'\n%s", fixdir, t->path, c->script);
    const char *path = tmp_script(t, "postqueue", buf_str(&body));
    buf_free(&body);
    int rc = queue_read(path, c->config_dir, 30, &q, err, sizeof(err));
    if (rc != c->want_rc || q.n != c->messages || q.bad_lines != c->bad_lines)
        fail_msg("%s: rc %d, %zu messages, %zu bad lines, err \"%s\"", c->name, rc, q.n,
                 q.bad_lines, err);
    if (c->want_err && strstr(err, c->want_err) == NULL)
        fail_msg("%s: err \"%s\", want \"%s\"", c->name, err, c->want_err);
    if (c->want_args) {
        char *args = tmp_read(t, "args");
        if (strcmp(args, c->want_args) != 0)
            fail_msg("%s: args \"%s\"", c->name, args);
        free(args);
    }
    queue_list_free(&q);
}

static void
test_read_cases(void **state)
{
    tmpdir t;
    char fixdir[4096];

    (void)state;
    snprintf(fixdir, sizeof(fixdir), "%s", fixture(""));
    if (fixdir[0] != '/') { /* the script runs with our cwd, but be explicit */
        char cwd[2048];
        if (getcwd(cwd, sizeof(cwd)) == NULL)
            fail_msg("getcwd");
        snprintf(fixdir, sizeof(fixdir), "%s/%s", cwd, fixture(""));
    }
    tmp_make(&t);
    for (size_t i = 0; i < sizeof(read_cases) / sizeof(read_cases[0]); i++)
        run_read_case(&t, &read_cases[i], fixdir);
    tmp_remove(&t);
}

static void
test_read_not_found(void **state)
{
    char err[256];
    queue_list q;

    (void)state;
    assert_int_equal(queue_read("/nonexistent/postqueue", NULL, 30, &q, err, sizeof(err)), -1);
    assert_string_equal(err, "/nonexistent/postqueue: No such file or directory");
    assert_int_equal(q.n, 0);
    queue_list_free(&q);
    /* a file that is not executable */
    char path[4200];
    snprintf(path, sizeof(path), "%s", fixture("two_accounts.jsonl"));
    assert_int_equal(queue_read(path, NULL, 30, &q, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "two_accounts.jsonl: Permission denied"));
    queue_list_free(&q);
}

/* a big queue: 3000 messages, one of them with 20,000 recipients on a ~1 MB line */
static void
test_read_big(void **state)
{
    tmpdir t;
    char err[256] = "", path[128];
    queue_list q;

    (void)state;
    tmp_make(&t);
    snprintf(path, sizeof(path), "%s/big.jsonl", t.path);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    for (int i = 0; i < 3000; i++)
        fprintf(fp,
                "{\"queue_id\":\"%05X%X\",\"sender\":\"s%d@far.test\",\"recipients\":[{"
                "\"address\":\"r@x.test\"}]}\n",
                i, i + 1, i % 7);
    fprintf(fp, "{\"queue_id\":\"FFFFF1\",\"sender\":\"big@far.test\",\"recipients\":[");
    for (int i = 0; i < 20000; i++)
        fprintf(fp,
                "%s{\"address\":\"rcpt%d@victim%d.test\",\"delay_reason\":\"connect to "
                "127.0.0.1[127.0.0.1]:3526: Connection refused\"}",
                i ? "," : "", i, i % 100);
    fprintf(fp, "]}\n");
    fclose(fp);
    char body[256];
    snprintf(body, sizeof(body),
             "cat '%s'; i=0; while [ $i -lt 2000 ]; do echo 'noise on stderr "
             "to fill its pipe' >&2; i=$((i+1)); done",
             path);
    const char *pq = tmp_script(&t, "postqueue", body);
    assert_int_equal(queue_read(pq, NULL, 30, &q, err, sizeof(err)), 0);
    assert_int_equal(q.n, 3001);
    assert_int_equal(q.bad_lines, 0);
    assert_int_equal(q.msgs[3000].nrcpts, 20000);
    assert_string_equal(q.msgs[3000].rcpts[19999].address, "rcpt19999@victim99.test");
    queue_report r;
    queue_report_init(&r);
    queue_group(&q, NULL, NULL, is_local, &r);
    assert_int_equal(r.ngroups, 8);
    assert_string_equal(r.groups[0].sender, "big@far.test");
    assert_int_equal(r.verdict, QUEUE_OPEN_RELAY);
    queue_report_free(&r);
    queue_list_free(&q);
    tmp_remove(&t);
}

/* ---------------------------------------------------------------- postsuper */

typedef struct purge_case {
    const char *name;
    const char *script; /* NULL: the path does not exist */
    const char *config_dir;
    const char *ids[4];
    size_t n;
    int want_rc;
    const char *want_err;
    const char *want_args, *want_stdin;
} purge_case;

static const purge_case purge_cases[] = {
    {"two IDs with -c",
     "echo \"$@\" >\"$W/args\"; cat >\"$W/stdin\"",
     "/etc/pf-test",
     {"4B1C31002A3", "4XnZ1k3XyFz9sQ"},
     2,
     0,
     NULL,
     "-c /etc/pf-test -d -\n",
     "4B1C31002A3\n4XnZ1k3XyFz9sQ\n"},
    {"without -c",
     "echo \"$@\" >\"$W/args\"; cat >\"$W/stdin\"",
     NULL,
     {"22125A744D6"},
     1,
     0,
     NULL,
     "-d -\n",
     "22125A744D6\n"},
    {"no IDs: nothing runs", "echo ran >\"$W/args\"", NULL, {NULL}, 0, 0, NULL, "(missing)", NULL},
    {"a bad ID refuses all",
     "echo ran >\"$W/args\"",
     NULL,
     {"4B1C31002A3", "ALL"},
     2,
     -1,
     "refusing to purge: \"ALL\" is not a Postfix queue ID",
     "(missing)",
     NULL},
    {"an option as ID",
     "echo ran >\"$W/args\"",
     NULL,
     {"-d"},
     1,
     -1,
     "\"-d\" is not",
     "(missing)",
     NULL},
    {"newline in an ID",
     "echo ran >\"$W/args\"",
     NULL,
     {"4B1C31002A3\nALL"},
     1,
     -1,
     "\"4B1C31002A3?ALL\" is not",
     "(missing)",
     NULL},
    {"NULL ID",
     "echo ran >\"$W/args\"",
     NULL,
     {NULL},
     1,
     -1,
     "\"(null)\" is not",
     "(missing)",
     NULL},
    {"fatal",
     "cat >/dev/null; echo 'postsuper: fatal: open /x/main.cf: No such file' >&2; exit 1",
     "/x",
     {"4B1C31002A3"},
     1,
     -1,
     "-c /x -d -: exit 1: postsuper: fatal: open /x/main.cf",
     NULL,
     NULL},
    {"exits without reading",
     "exit 75",
     NULL,
     {"4B1C31002A3"},
     1,
     -1,
     "exit 75: (nothing on stderr)",
     NULL,
     NULL},
    {"not found",
     NULL,
     NULL,
     {"4B1C31002A3"},
     1,
     -1,
     "/postsuper: No such file or directory",
     NULL,
     NULL},
};

static void
run_purge_case(const tmpdir *t, const purge_case *c)
{
    char body[512], err[512] = "", gone[160];
    const char *path = gone;

    snprintf(body, sizeof(body), "%s/args", t->path);
    unlink(body);
    snprintf(gone, sizeof(gone), "%s/postsuper", t->path);
    unlink(gone);
    if (c->script) {
        snprintf(body, sizeof(body), "W='%s'\n%s", t->path, c->script);
        path = tmp_script(t, "postsuper", body);
    }
    int rc = queue_purge(path, c->config_dir, 30, c->ids, c->n, err, sizeof(err));
    if (rc != c->want_rc || (c->want_err && strstr(err, c->want_err) == NULL))
        fail_msg("%s: rc %d, err \"%s\"", c->name, rc, err);
    char *args = c->want_args ? tmp_read(t, "args") : NULL;
    if (args && strcmp(args, c->want_args) != 0)
        fail_msg("%s: args \"%s\"", c->name, args);
    free(args);
    char *in = c->want_stdin ? tmp_read(t, "stdin") : NULL;
    if (in && strcmp(in, c->want_stdin) != 0)
        fail_msg("%s: stdin \"%s\"", c->name, in);
    free(in);
}

static void
test_purge_cases(void **state)
{
    tmpdir t;

    (void)state;
    tmp_make(&t);
    for (size_t i = 0; i < sizeof(purge_cases) / sizeof(purge_cases[0]); i++)
        run_purge_case(&t, &purge_cases[i]);
    tmp_remove(&t);
}

/* queue_release: postsuper -H - with the IDs on stdin, the same ID checks as a purge */
static void
test_release(void **state)
{
    tmpdir t;
    char err[256] = "", body[256];
    const char *ids[] = {"4B1C31002A3", "4XnZ1k3XyFz9sQ"}, *bad[] = {"ALL"};

    (void)state;
    tmp_make(&t);
    snprintf(body, sizeof(body), "W='%s'\necho \"$@\" >\"$W/args\"; cat >\"$W/stdin\"", t.path);
    const char *ps = tmp_script(&t, "postsuper", body);
    assert_int_equal(queue_release(ps, "/etc/pf-test", 30, ids, 2, err, sizeof(err)), 0);
    char *args = tmp_read(&t, "args"), *in = tmp_read(&t, "stdin");
    CHECK_STR("release args", args, "-c /etc/pf-test -H -\n");
    CHECK_STR("release stdin", in, "4B1C31002A3\n4XnZ1k3XyFz9sQ\n");
    free(args);
    free(in);
    assert_int_equal(queue_release(ps, NULL, 30, ids, 1, err, sizeof(err)), 0);
    args = tmp_read(&t, "args");
    CHECK_STR("release args without -c", args, "-H -\n");
    free(args);
    assert_int_equal(queue_release(ps, NULL, 30, bad, 1, err, sizeof(err)), -1);
    CHECK_STR("release of a bad ID", err, "refusing to release: \"ALL\" is not a Postfix queue ID");
    tmp_remove(&t);
}

/* many IDs: more than a socket buffer holds, with the child talking back meanwhile or gone */
static void
test_purge_many(void **state)
{
    enum { N = 30000 };
    tmpdir t;
    char err[256] = "", (*idbuf)[16] = calloc(N, 16);
    const char **ids = calloc(N, sizeof(char *));

    (void)state;
    for (int i = 0; i < N; i++) {
        snprintf(idbuf[i], 16, "%05X%X", i, i + 1);
        ids[i] = idbuf[i];
    }
    tmp_make(&t);
    const char *ps =
        tmp_script(&t, "postsuper", "while read id; do echo \"postsuper: $id: removed\" >&2; done");
    assert_int_equal(queue_purge(ps, NULL, 30, ids, N, err, sizeof(err)), 0);
    ps = tmp_script(&t, "postsuper", "echo 'postsuper: fatal: gone early' >&2; exit 1");
    assert_int_equal(queue_purge(ps, NULL, 30, ids, N, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "exit 1: postsuper: fatal: gone early"));
    tmp_remove(&t);
    free(ids);
    free(idbuf);
}

/* sendmail gets its one recipient as an argument after "--", never -t: a ',' or <...> in the
 * message's To: adds no recipient; the message goes whole to its stdin */
static void
test_sendmail_argv(void **state)
{
    tmpdir t;
    char err[256] = "", body[256];
    static const char msg[] = "To: a@x.test, evil@y.test\nSubject: s\n\nbody\n";

    (void)state;
    tmp_make(&t);
    snprintf(body, sizeof(body), "printf '%%s|' \"$@\" >'%s/args'; cat >'%s/stdin'", t.path, t.path);
    const char *sm = tmp_script(&t, "sendmail", body);
    CHECK_EQ("sendmail", queue_sendmail(sm, NULL, 5, "pm@x.test", "a@x.test", msg, strlen(msg),
                                        err, sizeof(err)), 0);
    char *args = tmp_read(&t, "args"), *in = tmp_read(&t, "stdin");
    CHECK_STR("argv", args, "-i|-f|pm@x.test|--|a@x.test|");
    CHECK_STR("stdin", in, msg);
    free(args);
    free(in);
    CHECK_EQ("sendmail -C", queue_sendmail(sm, "/etc/pf", 5, "pm@x.test", "-t", msg, strlen(msg),
                                           err, sizeof(err)), 0);
    args = tmp_read(&t, "args");
    CHECK_STR("argv -C", args, "-C|/etc/pf|-i|-f|pm@x.test|--|-t|");
    free(args);
    tmp_remove(&t);
}

/* ---------------------------------------------------------------- descriptors, time limits */

/* every path through the runners closes what it opened */
static void
test_no_fd_leak(void **state)
{
    tmpdir t;
    char err[256];
    queue_list q;
    const char *ids[] = {"4B1C31002A3"};

    (void)state;
    tmp_make(&t);
    int before = open_fds();
    for (int i = 0; i < 3; i++) {
        const char *pq = tmp_script(&t, "postqueue",
                                    "echo '{\"queue_id\":\"ABCDEF\",\"sender\":"
                                    "\"\",\"recipients\":[]}'; exit 1");
        assert_int_equal(queue_read(pq, NULL, 30, &q, err, sizeof(err)), -1);
        queue_list_free(&q);
        assert_int_equal(queue_read("/nonexistent", NULL, 30, &q, err, sizeof(err)), -1);
        queue_list_free(&q);
        const char *ps = tmp_script(&t, "postsuper", "cat >/dev/null");
        assert_int_equal(queue_purge(ps, "/x", 30, ids, 1, err, sizeof(err)), 0);
        assert_int_equal(queue_purge("/nonexistent", NULL, 30, ids, 1, err, sizeof(err)), -1);
    }
    assert_int_equal(open_fds(), before);
    tmp_remove(&t);
}

/* a hung postqueue, postsuper or sendmail is killed after the timeout: the call fails, names
 * the program and the time, and leaves no child and no descriptor behind */
static void
test_timeout(void **state)
{
    tmpdir t;
    char err[256];
    queue_list q;
    const char *ids[] = {"4B1C31002A3"};
    struct timespec t0, t1;

    (void)state;
    tmp_make(&t);
    int before = open_fds();
    const char *pq = tmp_script(&t, "postqueue", "echo started; exec sleep 30");
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(queue_read(pq, NULL, 1, &q, err, sizeof(err)), -1);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    queue_list_free(&q);
    double took = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (took < 0.9 || took > 5 || strstr(err, "no answer in 1 s (killed)") == NULL ||
        strstr(err, pq) == NULL)
        fail_msg("a postqueue that never ends: %.2f s, \"%s\"", took, err);
    const char *ps = tmp_script(&t, "postsuper", "exec sleep 30"); /* never reads its stdin */
    assert_int_equal(queue_purge(ps, NULL, 1, ids, 1, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "no answer in 1 s (killed)"));
    const char *sm = tmp_script(&t, "sendmail", "exec sleep 30");
    assert_int_equal(queue_sendmail(sm, NULL, 1, "a@b.c", "d@e.f", "x\n", 2, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "no answer in 1 s (killed)"));
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1); /* no child left: each was reaped */
    assert_int_equal(errno, ECHILD);
    assert_int_equal(open_fds(), before);
    tmp_remove(&t);
}

int
main(void)
{
    static const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_cases), cmocka_unit_test(test_read_not_found),
        cmocka_unit_test(test_read_big),   cmocka_unit_test(test_purge_cases),
        cmocka_unit_test(test_purge_many), cmocka_unit_test(test_no_fd_leak),
        cmocka_unit_test(test_release),
        cmocka_unit_test(test_timeout),    cmocka_unit_test(test_sendmail_argv),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
