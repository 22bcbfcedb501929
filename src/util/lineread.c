/*
 * lineread - line reader over zlib (see lineread.h)
 */
#include "lineread.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "alloc.h"

#define LINEREAD_BUF (1024 * 1024)

struct lineread {
    gzFile gz;
    char *buf;
    size_t start, end; /* unread bytes are buf[start..end) */
    int eof, skipping; /* skipping: inside an overlong line */
    int64_t overlong;
    off_t size; /* of the file, 0 if unknown (stdin, pipe) */
    char err[256];
};

lineread *
lineread_open(const char *path, char *err, size_t errlen)
{
    int fd = strcmp(path, "-") == 0 ? dup(0) : open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;

    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: is a directory", path);
        close(fd);
        return NULL;
    }
    gzFile gz = gzdopen(fd, "rb");
    if (gz == NULL) {
        snprintf(err, errlen, "%s: cannot read (out of memory)", path);
        close(fd);
        return NULL;
    }
    gzbuffer(gz, 256 * 1024);
    lineread *r = xcalloc(1, sizeof(*r));
    r->gz = gz;
    r->buf = xmalloc(LINEREAD_BUF);
    r->size = S_ISREG(st.st_mode) ? st.st_size : 0;
    return r;
}

/* fill - move the unread tail to the front and read more; -1 on error */
static int
fill(lineread *r)
{
    if (r->start > 0) {
        memmove(r->buf, r->buf + r->start, r->end - r->start);
        r->end -= r->start;
        r->start = 0;
    }
    int n = gzread(r->gz, r->buf + r->end, (unsigned)(LINEREAD_BUF - r->end));
    if (n < 0) {
        int code;
        const char *msg = gzerror(r->gz, &code);
        snprintf(r->err, sizeof(r->err), "%s", code == Z_ERRNO ? strerror(errno) : msg);
        return -1;
    }
    if (n == 0) {
        int code;
        const char *msg = gzerror(r->gz, &code);
        if (code != Z_OK && code != Z_STREAM_END) {
            snprintf(r->err, sizeof(r->err), "%s", msg);
            return -1;
        }
        r->eof = 1;
    }
    r->end += (size_t)n;
    return 0;
}

int
lineread_next(lineread *r, const char **line, size_t *len)
{
    for (;;) {
        char *p = r->buf + r->start;
        size_t avail = r->end - r->start;
        char *nl = memchr(p, '\n', avail);
        if (nl) {
            r->start += (size_t)(nl - p) + 1;
            if (r->skipping || (size_t)(nl - p) > LINEREAD_MAX) {
                r->skipping = 0;
                r->overlong++;
                continue;
            }
            *line = p;
            *len = (size_t)(nl - p);
            return 1;
        }
        if (avail > LINEREAD_MAX) { /* drop the overlong line's head, keep reading */
            r->skipping = 1;
            r->start = r->end;
        }
        if (r->eof) {
            if (avail == 0 || r->skipping) {
                r->overlong += r->skipping;
                r->skipping = 0;
                r->start = r->end;
                return 0;
            }
            *line = p; /* a last line without its newline */
            *len = avail;
            r->start = r->end;
            return 1;
        }
        if (fill(r) != 0)
            return -1;
    }
}

int
lineread_progress(const lineread *r)
{
    if (r->size <= 0)
        return -1;
    z_off_t off = gzoffset(r->gz);
    return off < 0 ? -1 : (int)(100.0 * (double)off / (double)r->size);
}

int64_t
lineread_overlong(const lineread *r)
{
    return r->overlong;
}

const char *
lineread_error(const lineread *r)
{
    return r->err;
}

void
lineread_close(lineread *r)
{
    if (r == NULL)
        return;
    gzclose_r(r->gz);
    free(r->buf);
    free(r);
}
