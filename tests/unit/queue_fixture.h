/*
 * queue_fixture.h - shared by test_queue.c and test_queue_run.c (header-only, test code)
 *
 * Where the real "postqueue -j" samples of tests/fixtures/postqueue are
 * (see test_queue.c for what each holds), and the local-domain test both
 * files group with (example.test is local, nothing else).
 */
#ifndef HJ_TEST_QUEUE_FIXTURE_H
#define HJ_TEST_QUEUE_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* is_local - the queue_group() local-domain test: example.test only */
static __attribute__((unused)) int
is_local(void *ctx, const char *domain)
{
    (void)ctx;
    return strcasecmp(domain, "example.test") == 0;
}

/* fixture - the path of a sample file (static), from $HJ_QUEUE_FIXTURES, the repository root or
 * next to this source */
static __attribute__((unused)) const char *
fixture(const char *name)
{
    static char path[4096];
    const char *dir = getenv("HJ_QUEUE_FIXTURES");

    snprintf(path, sizeof(path), "%s/%s", dir ? dir : "tests/fixtures/postqueue", name);
    if (dir == NULL && access(path, R_OK) != 0) {
        const char *slash = strrchr(__FILE__, '/');
        int n = slash ? (int)(slash - __FILE__) : 1;
        snprintf(path, sizeof(path), "%.*s/../fixtures/postqueue/%s", n, slash ? __FILE__ : ".",
                 name);
    }
    return path;
}

#endif
