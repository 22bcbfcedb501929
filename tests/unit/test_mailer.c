/*
 * test_mailer - the mail worker's sending rules (mailer.h) against a stand-in sendmail that
 * counts its runs and fails while a flag file exists: alerts one by one within the budget, and
 * no sendmail run at all for the incidents that come while the MTA is failing (they wait for
 * the retry: a lock storm with a broken MTA forked one sendmail per incident)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../src/notify/mailer.h"

typedef struct fx {
    char dir[64], spool[96], sendmail[96], runs[96], failing[96];
    mailer *m;
} fx;

/* sleep_ms - wait ms milliseconds */
static void
sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

    nanosleep(&ts, NULL);
}

/* runs - how many times the stand-in sendmail ran */
static int
runs(const fx *f)
{
    FILE *fp = fopen(f->runs, "r");
    int n = 0, ch;

    if (fp == NULL)
        return 0;
    while ((ch = fgetc(fp)) != EOF)
        n += ch == '\n';
    fclose(fp);
    return n;
}

/* wait_runs - wait up to 5 s for at least want runs; the count */
static int
wait_runs(const fx *f, int want)
{
    for (int i = 0; i < 500 && runs(f) < want; i++)
        sleep_ms(10);
    return runs(f);
}

static int
setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    char err[256];
    FILE *fp;

    snprintf(f->dir, sizeof(f->dir), "/tmp/hj-test-mailer.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->spool, sizeof(f->spool), "%s/mail", f->dir);
    snprintf(f->sendmail, sizeof(f->sendmail), "%s/sendmail", f->dir);
    snprintf(f->runs, sizeof(f->runs), "%s/runs", f->dir);
    snprintf(f->failing, sizeof(f->failing), "%s/failing", f->dir);
    assert_non_null(fp = fopen(f->sendmail, "w"));
    fprintf(fp, "#!/bin/sh\ncat >/dev/null\necho >>'%s'\n[ -e '%s' ] && exit 75\nexit 0\n", f->runs,
            f->failing);
    fclose(fp);
    chmod(f->sendmail, 0700);
    mailer_conf c = {.a = {.from = "postmaster",
                           .to = "postmaster",
                           .reply_to = "",
                           .notice_template =
                               "Subject: {account} {action}\n\n{account} was {action} by {rule}.\n",
                           .contact = "the admin"},
                     .sendmail_path = f->sendmail,
                     .postqueue_path = "",
                     .config_dir = "",
                     .cmd_timeout = 10,
                     .alert_max = 1000,
                     .alert_interval = 600,
                     .spool_dir = f->spool};
    f->m = mailer_open(&c, err, sizeof(err));
    if (f->m == NULL)
        fail_msg("mailer_open: %s", err);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fx *f = *state;
    char cmd[128];

    mailer_close(f->m);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", f->dir);
    free(f);
    return 0;
}

/* put - one incident about account, as kind */
static void
put(fx *f, const char *kind, int i)
{
    char js[512];

    snprintf(js, sizeof(js),
             "{\"incident\":\"u%d@example.test/1\",\"account\":\"u%d@example.test\","
             "\"action\":\"lock\",\"rule\":\"r\",\"scope\":\"account\",\"summary\":\"u%d locked\","
             "\"decision\":{\"account\":\"u%d@example.test\",\"action\":\"lock\"}}",
             i, i, i, i);
    assert_int_equal(mailer_put(f->m, kind, js, (int64_t)time(NULL)), 0);
}

/* alerts within the budget: one mail each, none left pending */
static void
test_alerts_sent(void **state)
{
    fx *f = *state;
    struct spool_stats st;

    for (int i = 0; i < 3; i++) {
        put(f, "alert", i);
        assert_int_equal(wait_runs(f, i + 1), i + 1);
    }
    for (int i = 0; i < 100; i++) {
        mailer_stats(f->m, &st);
        if (st.done == 3)
            break;
        sleep_ms(10);
    }
    assert_int_equal(st.done, 3);
    assert_int_equal(st.pending, 0);
}

/* a failed send: the alerts and notices that follow wait for the retry without a sendmail run */
static void
test_failing_mta_holds(void **state)
{
    fx *f = *state;
    FILE *fp = fopen(f->failing, "w");
    struct spool_stats st;

    assert_non_null(fp);
    fclose(fp);
    put(f, "alert", 0);
    assert_int_equal(wait_runs(f, 1), 1);
    for (int i = 1; i <= 10; i++) { /* each apart: a batch of its own */
        put(f, i % 2 ? "alert" : "notice", i);
        sleep_ms(20);
    }
    sleep_ms(300);
    assert_int_equal(runs(f), 1);
    mailer_stats(f->m, &st);
    assert_int_equal(st.pending, 11);
    assert_int_equal(st.done, 0);
    assert_true(st.retried >= 11);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_alerts_sent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failing_mta_holds, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
