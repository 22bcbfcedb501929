/*
 * child - run a program to completion with a time limit (see child.h)
 */
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* run_fds - the parent's and child's ends: in, out, err, exec status; -1 on failure */
static int
run_fds(const child_run *r, int parent[4], int child[4])
{
    int p[2];

    for (int i = 0; i < 4; i++)
        parent[i] = child[i] = -1;
    if (r->in == NULL) {
        if ((child[0] = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
            return -1;
    } else {
        /* a socket, not a pipe: send(MSG_NOSIGNAL) cannot raise SIGPIPE in the caller */
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p) < 0)
            return -1;
        parent[0] = p[0], child[0] = p[1];
    }
    for (int i = r->merge ? 2 : 1; i < 4; i++) {
        if (pipe2(p, O_CLOEXEC) < 0)
            return -1;
        parent[i] = p[0], child[i] = p[1];
    }
    if (r->merge)
        child[1] = -1;
    return 0;
}

static void
close_fds(int fd[4])
{
    for (int i = 0; i < 4; i++) {
        if (fd[i] >= 0)
            close(fd[i]);
        fd[i] = -1;
    }
}

/* run_exec - in the child: wire stdin/stdout/stderr and exec; reports errno on fd[3] */
static _Noreturn void
run_exec(char *const *argv, const int fd[4])
{
    /* first move all three above 2, so no dup2() below can clobber another */
    int in = fcntl(fd[0], F_DUPFD_CLOEXEC, 3);
    int out = fcntl(fd[1] >= 0 ? fd[1] : fd[2], F_DUPFD_CLOEXEC, 3);
    int errfd = fcntl(fd[2], F_DUPFD_CLOEXEC, 3);

    if (in >= 0 && out >= 0 && errfd >= 0 && dup2(in, 0) == 0 && dup2(out, 1) == 1 &&
        dup2(errfd, 2) == 2) {
#ifdef CLOSE_RANGE_CLOEXEC
        close_range(3, ~0U, CLOSE_RANGE_CLOEXEC); /* the caller's descriptors stay out */
#endif
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL); /* the caller's blocked signals are its own */
        signal(SIGPIPE, SIG_DFL);
        execv(argv[0], argv);
    }
    int e = errno;
    ssize_t w = write(fd[3], &e, sizeof(e));
    (void)w;
    _exit(127);
}

/* run_cmdline - argv as one line, for messages */
static void
run_cmdline(char *const *argv, hj_buf *b)
{
    for (size_t i = 0; argv[i]; i++)
        buf_printf(b, "%s%s", i ? " " : "", argv[i]);
}

/* pump_in - send more of the child's stdin; closes fd when done or refused */
static void
pump_in(child_run *r, int *fd, size_t *off)
{
    ssize_t k = send(*fd, r->in + *off, r->inlen - *off, MSG_NOSIGNAL | MSG_DONTWAIT);

    if (k > 0)
        *off += (size_t)k;
    if ((k < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) || *off == r->inlen) {
        close(*fd); /* EOF for the child; or it went away (its exit status tells) */
        *fd = -1;
    }
}

/* pump_out - read what the child wrote on fd; closes fd at EOF */
static void
pump_out(child_run *r, int *fd, int is_err)
{
    char chunk[65536];
    ssize_t k = read(*fd, chunk, sizeof(chunk));

    if (k < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (k <= 0) {
        close(*fd);
        *fd = -1;
    } else if (is_err) {
        size_t room = r->errtext.len < CHILD_ERR_MAX ? CHILD_ERR_MAX - r->errtext.len : 0;
        buf_add(&r->errtext, chunk, (size_t)k < room ? (size_t)k : room);
    } else if (r->on_out) {
        r->on_out(r->ctx, chunk, (size_t)k);
    }
}

/* ms_left - milliseconds until the deadline (monotonic), 0 when it has passed */
static int
ms_left(const struct timespec *deadline)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t ms = (int64_t)(deadline->tv_sec - now.tv_sec) * 1000 +
                 (deadline->tv_nsec - now.tv_nsec) / 1000000;
    return ms > 0 ? (int)ms : 0;
}

/* pump - feed stdin, collect stdout and stderr, all at once (no pipe can fill up and block);
 * -1 on a poll error, -2 when the deadline passed first */
static int
pump(child_run *r, int fd[3], struct timespec deadline)
{
    size_t off = 0;

    if (fd[0] >= 0 && r->inlen == 0) {
        close(fd[0]);
        fd[0] = -1;
    }
    while (fd[0] >= 0 || fd[1] >= 0 || fd[2] >= 0) {
        struct pollfd p[3];
        for (int i = 0; i < 3; i++)
            p[i] = (struct pollfd){fd[i], i == 0 ? POLLOUT : POLLIN, 0};
        int left = ms_left(&deadline), k = left ? poll(p, 3, left) : 0;
        if (k == 0)
            return -2;
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (fd[0] >= 0 && p[0].revents)
            pump_in(r, &fd[0], &off);
        for (int i = 1; i < 3; i++)
            if (fd[i] >= 0 && p[i].revents)
                pump_out(r, &fd[i], i == 2);
    }
    return 0;
}

/* err_line - the line of the child's stderr worth showing: its first "fatal:", else its first */
static void
err_line(const hj_buf *t, char *out, size_t outlen)
{
    const char *s = buf_str(t), *f = strstr(s, "fatal:");

    if (f != NULL)
        while (f > s && f[-1] != '\n')
            f--;
    else
        for (f = s; *f == '\n' || *f == '\r';)
            f++;
    size_t n = strcspn(f, "\r\n");
    if (n == 0)
        snprintf(out, outlen, "(nothing on stderr)");
    else
        snprintf(out, outlen, "%.*s", (int)n, f);
}

/* wait_exit - reap the child by the deadline: a child that closed its stdout and stderr may
 * still be running; 0 with its status in *st, -1 on a waitpid error, -2 at the deadline */
static int
wait_exit(pid_t pid, struct timespec deadline, int *st)
{
    long nap_ms = 1;
    pid_t k;

    while ((k = waitpid(pid, st, WNOHANG)) == 0 || (k < 0 && errno == EINTR)) {
        int left = ms_left(&deadline);
        if (left == 0)
            return -2;
        nap_ms = nap_ms < left ? nap_ms : left;
        nanosleep(&(struct timespec){nap_ms / 1000, nap_ms % 1000 * 1000000}, NULL);
        nap_ms = nap_ms < 50 ? nap_ms * 2 : 50; /* an exited child is reaped at once */
    }
    return k < 0 ? -1 : 0;
}

/* run_status - 0 if the child exited 0, else -1 with the reason in err */
static int
run_status(const child_run *r, int st, char *err, size_t errlen)
{
    char line[512];
    hj_buf cmd = HJ_BUF_INIT;

    if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
        return 0;
    run_cmdline(r->argv, &cmd);
    err_line(&r->errtext, line, sizeof(line));
    if (WIFEXITED(st))
        snprintf(err, errlen, "%s: exit %d: %s", buf_str(&cmd), WEXITSTATUS(st), line);
    else
        snprintf(err, errlen, "%s: killed by signal %d: %s", buf_str(&cmd),
                 WIFSIGNALED(st) ? WTERMSIG(st) : 0, line);
    buf_free(&cmd);
    return -1;
}

/* reap - wait for a child whose exit status does not matter any more */
static void
reap(pid_t pid)
{
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
}

/* exec_errno - 0 once the child has exec'ed, else the errno of its failed execv */
static int
exec_errno(int fd)
{
    int e = 0;
    ssize_t k;

    while ((k = read(fd, &e, sizeof(e))) < 0 && errno == EINTR)
        ;
    return k == (ssize_t)sizeof(e) ? e : 0;
}

/* run_fail - the message for a run that failed at step ("poll", "waitpid") or its deadline */
static void
run_fail(const child_run *r, int rc, const char *step, char *err, size_t errlen)
{
    if (rc == -2)
        snprintf(err, errlen, "%s: no answer in %d s (killed)", r->argv[0], r->timeout_s);
    else
        snprintf(err, errlen, "%s: %s: %s", r->argv[0], step, strerror(errno));
}

int
child_run_wait(child_run *r, char *err, size_t errlen)
{
    int parent[4], child[4], rc = -1, st;
    struct timespec deadline;

    if (run_fds(r, parent, child) < 0) {
        snprintf(err, errlen, "%s: %s", r->argv[0], strerror(errno));
        close_fds(parent), close_fds(child);
        return -1;
    }
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += r->timeout_s;
    pid_t pid = fork();
    if (pid == 0)
        run_exec(r->argv, child);
    int fork_errno = errno;
    close_fds(child);
    if (pid < 0) {
        snprintf(err, errlen, "%s: fork: %s", r->argv[0], strerror(fork_errno));
    } else if ((rc = exec_errno(parent[3])) != 0) {
        snprintf(err, errlen, "%s: %s", r->argv[0], strerror(rc));
        reap(pid);
        rc = -1;
    } else if ((rc = pump(r, parent, deadline)) < 0 || (rc = wait_exit(pid, deadline, &st)) < 0) {
        run_fail(r, rc, parent[0] >= 0 || parent[1] >= 0 || parent[2] >= 0 ? "poll" : "waitpid",
                 err, errlen);
        rc = -1;
        kill(pid, SIGKILL); /* a hung postqueue holds nothing worth a clean exit */
        reap(pid);
    } else {
        rc = run_status(r, st, err, errlen);
    }
    close_fds(parent);
    return rc;
}
