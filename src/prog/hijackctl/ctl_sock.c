/*
 * ctl_sock - hijackctl's one request and one answer over the control socket (see ctl_sock.h)
 */
#include "ctl_sock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static double
mono_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* sock_open - connect to the control socket within CTL_TIMEOUT; a CTL_ code */
static int
sock_open(const char *path, int *fdp, char *err, size_t errlen)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct timeval tv = {CTL_TIMEOUT, 0};

    if ((*fdp = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return CTL_FAIL;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1); /* ctl_setup() checked its length */
    setsockopt(*fdp, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(*fdp, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    while (connect(*fdp, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int e = errno;
        if (e == EINTR)
            continue;
        if (e == EACCES || e == EPERM) {
            snprintf(err, errlen,
                     "cannot reach hijackd at %s: %s: run as root or a member of its admin group",
                     path, strerror(e));
            return CTL_DENIED;
        }
        snprintf(err, errlen, "cannot reach hijackd at %s: %s: is it running?", path, strerror(e));
        return CTL_DOWN;
    }
    return CTL_OK;
}

/* sock_send - the whole request line */
static int
sock_send(int fd, const char *path, const hj_buf *line, char *err, size_t errlen)
{
    for (size_t off = 0; off < line->len;) {
        ssize_t k = send(fd, line->s + off, line->len - off, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            snprintf(err, errlen, "hijackd at %s took no request for %d s", path, CTL_TIMEOUT);
            return CTL_DOWN;
        }
        if (k < 0) {
            snprintf(err, errlen, "sending to hijackd at %s: %s", path, strerror(errno));
            return CTL_FAIL;
        }
        off += (size_t)k;
    }
    return CTL_OK;
}

/* sock_recv - the answer: up to its first newline or the end, within CTL_TIMEOUT */
static int
sock_recv(int fd, const char *path, hj_buf *in, char *err, size_t errlen)
{
    double deadline = mono_now() + CTL_TIMEOUT;
    char chunk[65536];

    for (;;) {
        ssize_t k = recv(fd, chunk, sizeof(chunk), 0);
        if (k < 0 && errno == EINTR)
            continue;
        if ((k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) || mono_now() > deadline) {
            snprintf(err, errlen, "hijackd at %s did not answer within %d s", path, CTL_TIMEOUT);
            return CTL_DOWN;
        }
        if (k < 0) {
            snprintf(err, errlen, "reading from hijackd at %s: %s", path, strerror(errno));
            return CTL_FAIL;
        }
        if (k == 0)
            break;
        buf_add(in, chunk, (size_t)k);
        if (memchr(chunk, '\n', (size_t)k) != NULL)
            break;
        if (in->len > CTL_REPLY_MAX) {
            snprintf(err, errlen, "hijackd at %s sent an answer over %u bytes", path,
                     CTL_REPLY_MAX);
            return CTL_FAIL;
        }
    }
    if (in->len == 0) {
        snprintf(err, errlen, "hijackd at %s closed the connection without an answer", path);
        return CTL_FAIL;
    }
    return CTL_OK;
}

/* status_rc - the exit status for an answer's status */
static int
status_rc(json_int_t status)
{
    if (status == 200)
        return CTL_OK;
    if (status == 403)
        return CTL_DENIED;
    return status >= 400 && status < 500 ? CTL_REFUSED : CTL_FAIL;
}

/* reply_parse - the answer line; on 200 *body is it without "status" */
static int
reply_parse(const hj_buf *in, const char *cmd, json_t **body, char *err, size_t errlen)
{
    json_error_t je;
    size_t n = strcspn(in->s, "\n");
    json_t *r = json_loadb(in->s, n, JSON_REJECT_DUPLICATES, &je);
    json_t *st = json_object_get(r, "status");

    if (!json_is_object(r) || !json_is_integer(st)) {
        snprintf(err, errlen, "malformed answer to %s: %s", cmd,
                 r ? "no integer \"status\"" : je.text);
        json_decref(r);
        return CTL_FAIL;
    }
    json_int_t status = json_integer_value(st);
    int rc = status_rc(status);
    if (rc == CTL_OK) {
        json_object_del(r, "status");
        *body = r;
        return CTL_OK;
    }
    const char *why = json_string_value(json_object_get(r, "error"));
    snprintf(err, errlen, "%s: %s (%" JSON_INTEGER_FORMAT ")", cmd, why ? why : "no reason given",
             status);
    json_decref(r);
    return rc;
}

int
ctl_sock_talk(const char *path, json_t *req, hj_buf *in, char *err, size_t errlen)
{
    hj_buf line = HJ_BUF_INIT;
    char *text = json_dumps(req, JSON_COMPACT);
    int fd, rc;

    buf_printf(&line, "%s\n", text);
    free(text);
    if ((rc = sock_open(path, &fd, err, errlen)) == CTL_OK &&
        (rc = sock_send(fd, path, &line, err, errlen)) == CTL_OK)
        rc = sock_recv(fd, path, in, err, errlen);
    if (fd >= 0)
        close(fd);
    buf_free(&line);
    return rc;
}

int
ctl_sock_call(const char *path, json_t *req, json_t **body, char *err, size_t errlen)
{
    hj_buf in = HJ_BUF_INIT;
    int rc = ctl_sock_talk(path, req, &in, err, errlen);

    *body = NULL;
    if (rc == CTL_OK)
        rc = reply_parse(&in, json_string_value(json_object_get(req, "cmd")), body, err, errlen);
    buf_free(&in);
    return rc;
}
