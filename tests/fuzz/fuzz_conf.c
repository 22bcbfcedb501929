/*
 * fuzz_conf - libFuzzer harness: the configuration parser (conf_load) on a hostile file body.
 * The body is written to an in-memory file (memfd) and loaded by its /proc path, as the daemon
 * loads hijackd.conf; a loaded configuration is printed (conf_print) and loaded again from
 * that print, which must succeed: what conf_print writes, conf_load reads.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../src/conf/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static hj_conf *
load(const void *body, size_t n, char *err, size_t errlen)
{
    char path[64];
    int fd = memfd_create("fuzz_conf", 0);
    hj_conf *c;

    if (fd < 0)
        abort();
    if (n && write(fd, body, n) != (ssize_t)n)
        abort();
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    c = conf_load(path, NULL, 0, err, errlen);
    close(fd);
    return c;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    hj_conf *c;

    if (size > 64 * 1024)
        return 0;
    c = load(data, size, err, sizeof(err));
    if (c == NULL) {
        if (memchr(err, 0, sizeof(err)) == NULL)
            abort();
        return 0;
    }
    hj_buf out = HJ_BUF_INIT;
    conf_print(c, &out);
    conf_free(c);
    c = load(out.s, out.len, err, sizeof(err));
    if (c == NULL) { /* the print of a loaded configuration must load */
        fprintf(stderr, "fuzz_conf: the printed configuration does not load: %s\n", err);
        abort();
    }
    conf_free(c);
    buf_free(&out);
    return 0;
}
