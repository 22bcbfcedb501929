/*
 * proc_fixture.h - shared by test_queue_run.c and test_child.c (header-only, test code)
 *
 * A temporary directory for stub programs (executable /bin/sh scripts)
 * and the files they leave behind, the count of the caller's open
 * descriptors (to prove nothing leaks), and a monotonic stopwatch (to
 * prove a time limit holds). Every helper fails the running cmocka test
 * when the system refuses it.
 */
#ifndef HJ_TEST_PROC_FIXTURE_H
#define HJ_TEST_PROC_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../src/util/buf.h"

typedef struct tmpdir {
    char path[64];
} tmpdir;

static __attribute__((unused)) void
tmp_make(tmpdir *t)
{
    snprintf(t->path, sizeof(t->path), "/tmp/hj-unit-proc.XXXXXX");
    if (mkdtemp(t->path) == NULL)
        fail_msg("mkdtemp failed");
}

/* tmp_script - an executable /bin/sh script NAME in the temporary directory (a static path) */
static __attribute__((unused)) const char *
tmp_script(const tmpdir *t, const char *name, const char *body)
{
    static char path[128];
    snprintf(path, sizeof(path), "%s/%s", t->path, name);
    FILE *fp = fopen(path, "w");
    if (fp == NULL)
        fail_msg("cannot write %s", path);
    fprintf(fp, "#!/bin/sh\n%s\n", body);
    fclose(fp);
    chmod(path, 0755);
    return path;
}

/* tmp_read - the contents of file NAME in the directory (malloc'ed), "(missing)" if none */
static __attribute__((unused)) char *
tmp_read(const tmpdir *t, const char *name)
{
    char path[128];
    hj_buf b = HJ_BUF_INIT;
    char chunk[4096];
    size_t k;

    snprintf(path, sizeof(path), "%s/%s", t->path, name);
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return strdup("(missing)");
    while ((k = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        buf_add(&b, chunk, k);
    fclose(fp);
    return b.s ? b.s : strdup("");
}

static __attribute__((unused)) void
tmp_remove(const tmpdir *t)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->path);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", t->path);
}

/* open_fds - how many of the descriptors 0..1023 are open */
static __attribute__((unused)) int
open_fds(void)
{
    int n = 0;

    for (int fd = 0; fd < 1024; fd++)
        n += fcntl(fd, F_GETFD) >= 0;
    return n;
}

/* mono_s - seconds on the monotonic clock */
static __attribute__((unused)) double
mono_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

#endif
