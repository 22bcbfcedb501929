/*
 * test_listener - the listening sockets of the front ends (src/util/listener.h)
 *
 * One table: what is already at the unix socket's path (nothing, a stale socket, a live one, a
 * file, a symbolic link, a directory) and whether listener_unix() may take the path. Where it
 * may not, what was there must still be there, untouched. Then the mode, a path too long, and
 * the TCP side (a bad spec, a port in use). Each case runs in a fresh temporary directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "../../src/util/listener.h"

typedef enum { NOTHING, STALE_SOCKET, LIVE_SOCKET, FILE_, SYMLINK, DIRECTORY } prior;

typedef struct unix_case {
    const char *what;
    prior there;
    int ok;          /* listener_unix() takes the path */
    const char *why; /* else: in the message */
} unix_case;

static const unix_case unix_cases[] = {
    {"nothing at the path", NOTHING, 1, NULL},
    {"a stale socket (its daemon died)", STALE_SOCKET, 1, NULL},
    {"a socket another process listens on", LIVE_SOCKET, 0, "in use by a running process"},
    {"a regular file (a mistyped path)", FILE_, 0, "exists and is not a socket"},
    {"a symbolic link to a file", SYMLINK, 0, "exists and is not a socket"},
    {"a directory", DIRECTORY, 0, "exists and is not a socket"},
};

/* bound - a unix socket bound at path; listening or not; its fd */
static int
bound(const char *path, int listening)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);

    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
    assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
    if (listening)
        assert_int_equal(listen(fd, 1), 0);
    return fd;
}

/* put - make what the case says at path; the fd of a socket kept open, or -1 */
static int
put(const char *dir, const char *path, prior p)
{
    char target[300];
    int fd = -1;

    switch (p) {
    case NOTHING:
        break;
    case STALE_SOCKET:
        close(bound(path, 0)); /* the file stays, nobody listens */
        break;
    case LIVE_SOCKET:
        fd = bound(path, 1);
        break;
    case FILE_:
        fd = open(path, O_WRONLY | O_CREAT, 0600);
        assert_int_equal(write(fd, "keep", 4), 4);
        close(fd);
        fd = -1;
        break;
    case SYMLINK:
        snprintf(target, sizeof(target), "%s/target", dir);
        close(open(target, O_WRONLY | O_CREAT, 0600));
        assert_int_equal(symlink(target, path), 0);
        break;
    case DIRECTORY:
        assert_int_equal(mkdir(path, 0700), 0);
        break;
    }
    return fd;
}

/* still_there - what put() made is there as it was */
static int
still_there(const char *path, prior p)
{
    struct stat st;
    char buf[8] = {0};
    int fd;

    if (lstat(path, &st) != 0)
        return 0;
    switch (p) {
    case LIVE_SOCKET:
        return S_ISSOCK(st.st_mode);
    case FILE_:
        fd = open(path, O_RDONLY);
        if (fd < 0 || read(fd, buf, sizeof(buf)) != 4)
            return 0;
        close(fd);
        return S_ISREG(st.st_mode) && strcmp(buf, "keep") == 0;
    case SYMLINK:
        return S_ISLNK(st.st_mode);
    case DIRECTORY:
        return S_ISDIR(st.st_mode);
    default:
        return 1;
    }
}

static void
test_unix_paths(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof(unix_cases) / sizeof(unix_cases[0]); c++) {
        const unix_case *k = &unix_cases[c];
        char dir[] = "/tmp/hj-listener.XXXXXX", path[300], cmd[400], err[512] = "";
        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/sock", dir);
        int keep = put(dir, path, k->there);
        int fd = listener_unix(path, 0660, 8, err, sizeof(err));
        struct stat st;
        if (k->ok && (fd < 0 || lstat(path, &st) != 0 || !S_ISSOCK(st.st_mode)))
            fail_msg("%s: not taken (%s)", k->what, err);
        if (!k->ok && (fd >= 0 || strstr(err, k->why) == NULL || strstr(err, path) == NULL))
            fail_msg("%s: fd %d, message \"%s\", want \"%s: ...%s\"", k->what, fd, err, path, k->why);
        if (!k->ok && !still_there(path, k->there))
            fail_msg("%s: what was at the path was removed or changed", k->what);
        if (fd >= 0)
            close(fd);
        if (keep >= 0)
            close(keep);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
    }
}

static void
test_unix_mode_and_length(void **state)
{
    char dir[] = "/tmp/hj-listener.XXXXXX", path[300], err[512], cmd[400], longp[200];
    struct stat st;

    (void)state;
    assert_non_null(mkdtemp(dir));
    static const int modes[] = {0600, 0660, 0666};
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        snprintf(path, sizeof(path), "%s/s%zu", dir, i);
        umask(027);
        int fd = listener_unix(path, modes[i], 8, err, sizeof(err));
        assert_true(fd >= 0);
        if (umask(022) != 027) /* the mode comes from a umask around bind(), then restored */
            fail_msg("mode %o: the process's umask was not restored", modes[i]);
        assert_int_equal(stat(path, &st), 0);
        if ((st.st_mode & 0777) != (mode_t)modes[i])
            fail_msg("mode %o: the socket has %o", modes[i], st.st_mode & 0777);
        assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
        assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
        close(fd);
    }
    memset(longp, 'x', sizeof(longp) - 1);
    longp[sizeof(longp) - 1] = 0;
    longp[0] = '/';
    assert_int_equal(listener_unix(longp, 0600, 8, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "socket path too long"));
    snprintf(path, sizeof(path), "%s/no/such/dir/sock", dir);
    assert_int_equal(listener_unix(path, 0600, 8, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "No such file or directory"));
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void
test_tcp(void **state)
{
    char err[512], spec[64];
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);

    (void)state;
    static const char *const bad[] = {"localhost:25", "127.0.0.1", "127.0.0.1:99999", "", ":",
                                      "127.0.0.1:", "::1", "::1:25", "[::1]", "127.0.0.1:2x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (listener_tcp(bad[i], 8, err, sizeof(err)) != -1 || strstr(err, "not an address:port") == NULL)
            fail_msg("\"%s\": taken, or message \"%s\"", bad[i], err);
    }
    /* a free port: the kernel's pick for a socket bound to port 0 (libevent refuses port 0) */
    int probe = socket(AF_INET, SOCK_STREAM, 0);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(probe, (struct sockaddr *)&sin, sizeof(sin)), 0);
    assert_int_equal(getsockname(probe, (struct sockaddr *)&sin, &len), 0);
    close(probe);
    snprintf(spec, sizeof(spec), "127.0.0.1:%d", ntohs(sin.sin_port));
    int fd = listener_tcp(spec, 8, err, sizeof(err));
    if (fd < 0)
        fail_msg("%s: %s", spec, err);
    assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
    assert_int_equal(listener_tcp(spec, 8, err, sizeof(err)), -1); /* in use */
    assert_non_null(strstr(err, spec));
    assert_non_null(strstr(err, "Address already in use"));
    close(fd);
    snprintf(spec, sizeof(spec), "[::1]:%d", ntohs(sin.sin_port));
    fd = listener_tcp(spec, 8, err, sizeof(err));
    if (fd >= 0) /* a machine without IPv6 loopback cannot bind it, and says so */
        close(fd);
    else
        assert_non_null(strstr(err, spec));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unix_paths),
        cmocka_unit_test(test_unix_mode_and_length),
        cmocka_unit_test(test_tcp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
