/*
 * follow - read a log file as it grows (see follow.h)
 */
#include "follow.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../util/alloc.h"
#include "../util/log.h"

#define FOLLOW_MAX (64 * 1024)

struct follow {
    char *path;
    follow_fn fn;
    void *ctx;
    int fd;
    dev_t dev;
    ino_t ino;
    off_t off;
    int missing_logged, skipping;
    char mark[32]; /* the bytes just before off: if they change, the file was rewritten */
    size_t marklen;
    char *buf;
    size_t len;
    follow_counts n;
};

/* follow_open - (re)open the path; at_end: start at its end */
static int
follow_open(follow *f, int at_end)
{
    struct stat st;
    int fd = open(f->path, O_RDONLY | O_CLOEXEC);

    if (fd < 0 || fstat(fd, &st) != 0) {
        if (!f->missing_logged++)
            log_warn("log_follow: %s: %s: will retry", f->path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (f->fd >= 0)
        close(f->fd);
    f->fd = fd;
    f->dev = st.st_dev;
    f->ino = st.st_ino;
    f->off = at_end ? st.st_size : 0;
    f->len = 0;
    f->skipping = 0;
    f->marklen = 0;
    if (f->missing_logged)
        log_info("log_follow: reading %s", f->path);
    f->missing_logged = 0;
    return 0;
}

follow *
follow_new(const char *path, follow_fn fn, void *ctx)
{
    follow *f = xcalloc(1, sizeof(*f));

    f->path = xstrdup(path);
    f->fn = fn;
    f->ctx = ctx;
    f->fd = -1;
    f->buf = xmalloc(FOLLOW_MAX);
    (void)follow_open(f, 1);
    return f;
}

/* follow_lines - hand every complete line in the buffer to fn, keep the rest */
static void
follow_lines(follow *f)
{
    size_t start = 0;

    for (;;) {
        char *nl = memchr(f->buf + start, '\n', f->len - start);
        if (nl == NULL)
            break;
        size_t n = (size_t)(nl - (f->buf + start));
        if (!f->skipping) {
            f->n.lines++;
            f->fn(f->ctx, f->buf + start, n);
        }
        f->skipping = 0;
        start += n + 1;
    }
    memmove(f->buf, f->buf + start, f->len - start);
    f->len -= start;
    if (f->len == FOLLOW_MAX) { /* a line longer than the buffer: drop it to its end */
        f->n.overlong++;
        f->skipping = 1;
        f->len = 0;
    }
}

/* follow_mark - remember the bytes just before the read offset */
static void
follow_mark(follow *f)
{
    size_t n = f->off < (off_t)sizeof(f->mark) ? (size_t)f->off : sizeof(f->mark);
    ssize_t got = n ? pread(f->fd, f->mark, n, f->off - (off_t)n) : 0;

    f->marklen = got == (ssize_t)n ? n : 0;
}

/* follow_rewritten - truncated (and perhaps refilled past our offset) since the last poll */
static int
follow_rewritten(follow *f, off_t size)
{
    char now[sizeof(f->mark)];

    if (size < f->off)
        return 1;
    if (f->marklen == 0)
        return 0;
    ssize_t got = pread(f->fd, now, f->marklen, f->off - (off_t)f->marklen);
    return got != (ssize_t)f->marklen || memcmp(now, f->mark, f->marklen) != 0;
}

/* follow_drain - read from fd until it has nothing more */
static void
follow_drain(follow *f)
{
    ssize_t got;

    while ((got = pread(f->fd, f->buf + f->len, FOLLOW_MAX - f->len, f->off)) > 0) {
        f->off += got;
        f->len += (size_t)got;
        follow_lines(f);
    }
    follow_mark(f);
}

void
follow_poll(follow *f)
{
    struct stat st, cur;

    if (f->fd < 0 && follow_open(f, 0) != 0)
        return;
    if (fstat(f->fd, &cur) == 0 && follow_rewritten(f, cur.st_size)) { /* truncated in place */
        f->n.truncations++;
        f->off = 0;
        f->len = 0;
        f->marklen = 0;
    }
    follow_drain(f);
    if (stat(f->path, &st) == 0 && (st.st_ino != f->ino || st.st_dev != f->dev)) {
        f->n.rotations++; /* the old file was read to its end above: the new one from its start */
        if (follow_open(f, 0) == 0)
            follow_drain(f);
    }
}

void
follow_stats(const follow *f, follow_counts *out)
{
    struct stat st;

    *out = f->n;
    out->lag_bytes = f->fd >= 0 && fstat(f->fd, &st) == 0 && st.st_size > f->off
                         ? (int64_t)(st.st_size - f->off)
                         : 0;
}

void
follow_free(follow *f)
{
    if (f == NULL)
        return;
    if (f->fd >= 0)
        close(f->fd);
    free(f->buf);
    free(f->path);
    free(f);
}
