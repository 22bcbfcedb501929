/*
 * listener - listening sockets for the daemon's front ends (see listener.h)
 */
#include "listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <event2/util.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* fail - the message for what, with errno's reason; closes fd; -1 */
static int
fail(int fd, const char *what, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s: %s", what, strerror(errno));
    if (fd >= 0)
        close(fd);
    return -1;
}

/* in_use - does a process listen on the unix socket at sun (connect is answered at once) */
static int
in_use(const struct sockaddr_un *sun)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int live;

    if (fd < 0)
        return 0;
    live = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0 || errno == EAGAIN;
    close(fd);
    return live;
}

/* clear_path - 0 when path is free for bind: nothing there, or a stale socket now removed */
static int
clear_path(const struct sockaddr_un *sun, char *err, size_t errlen)
{
    struct stat st;

    if (lstat(sun->sun_path, &st) != 0)
        return errno == ENOENT ? 0 : fail(-1, sun->sun_path, err, errlen);
    if (!S_ISSOCK(st.st_mode)) {
        snprintf(err, errlen, "%s: exists and is not a socket (left as it is)", sun->sun_path);
        return -1;
    }
    if (in_use(sun)) {
        snprintf(err, errlen, "%s: in use by a running process", sun->sun_path);
        return -1;
    }
    if (unlink(sun->sun_path) != 0 && errno != ENOENT)
        return fail(-1, sun->sun_path, err, errlen);
    return 0;
}

int
listener_unix(const char *path, int mode, int backlog, char *err, size_t errlen)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};

    if (strlen(path) >= sizeof(sun.sun_path)) {
        snprintf(err, errlen, "%s: socket path too long", path);
        return -1;
    }
    memcpy(sun.sun_path, path, strlen(path) + 1);
    if (clear_path(&sun, err, errlen) != 0)
        return -1;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return fail(fd, path, err, errlen);
    /* the socket is born with its mode (bind creates it 0777 & ~umask): no moment where a
     * chmod has not happened yet. umask is per process; the daemon binds before its threads
     * start, and a thread's file created meanwhile only gets stricter permissions. */
    mode_t old = umask((mode_t)(~mode & 0777));
    int rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
    umask(old);
    if (rc != 0)
        return fail(fd, path, err, errlen);
    if (listen(fd, backlog) != 0) {
        int e = errno;
        unlink(path); /* ours: bound a moment ago */
        errno = e;
        return fail(fd, path, err, errlen);
    }
    return fd;
}

/* has_port - "host:port" or "[v6]:port" with digits after the colon (libevent takes a bare
 * address as port 0, which would listen on a port nobody configured) */
static int
has_port(const char *spec)
{
    const char *colon = strrchr(spec, ':');

    if (colon == NULL || colon[1] == 0 || strspn(colon + 1, "0123456789") != strlen(colon + 1))
        return 0;
    if (spec[0] == '[')
        return colon > spec && colon[-1] == ']';
    return strchr(spec, ':') == colon; /* an IPv6 address needs its brackets */
}

int
listener_tcp(const char *spec, int backlog, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    int sslen = sizeof(ss), one = 1;

    if (!has_port(spec) || evutil_parse_sockaddr_port(spec, (struct sockaddr *)&ss, &sslen) != 0) {
        snprintf(err, errlen, "%s: not an address:port (use a numeric address)", spec);
        return -1;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd >= 0)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (fd < 0 || bind(fd, (struct sockaddr *)&ss, (socklen_t)sslen) != 0 || listen(fd, backlog))
        return fail(fd, spec, err, errlen);
    return fd;
}

void
listener_peer_name(const struct sockaddr *sa, char *out, size_t outlen)
{
    char ip[INET6_ADDRSTRLEN] = "?";

    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s = (const struct sockaddr_in *)sa;
        evutil_inet_ntop(AF_INET, &s->sin_addr, ip, sizeof(ip));
        snprintf(out, outlen, "%s:%d", ip, ntohs(s->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)sa;
        evutil_inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof(ip));
        snprintf(out, outlen, "[%s]:%d", ip, ntohs(s->sin6_port));
    } else {
        snprintf(out, outlen, "unix");
    }
}
