/*
 * child - run a program to completion with a time limit: stdin fed, stdout streamed, stderr kept
 *
 * SYNOPSIS
 *	child_run r = {argv, in, inlen, merge, on_out, ctx, HJ_BUF_INIT, timeout_s};
 *	int child_run_wait(child_run *r, char *err, size_t errlen);
 *	buf_free(&r.errtext);
 *
 * DESCRIPTION
 *	Forks and execs argv[0] (an absolute path: no PATH search, no shell)
 *	with argv, feeds it r->in (or /dev/null when NULL), hands its stdout
 *	to r->on_out in chunks as they arrive (or, with r->merge, sends it
 *	where its stderr goes), and keeps the first CHILD_ERR_MAX bytes of
 *	its stderr in r->errtext. All three are pumped at once with poll(),
 *	so no pipe can fill up and block either side. A child that has not
 *	finished within r->timeout_s (> 0) seconds is killed (SIGKILL) and
 *	reaped (also one that closed its stdout and stderr and runs on).
 *	The child gets no descriptor of the caller's but 0-2, an empty
 *	signal mask and SIGPIPE at its default.
 *
 *	Returns 0 when the child exited 0; else -1 with one line in err:
 *	the command, its exit status or signal and the line of its stderr
 *	worth showing (its first "fatal:", else its first), or the exec,
 *	fork, poll error, or "no answer in N s (killed)".
 *
 *	Blocks the calling thread until the child is done or killed: call it
 *	from a worker thread or a command-line program, never from an event
 *	loop. Thread-safe (no shared state; SIGPIPE is not raised in the
 *	caller: stdin is a socket written with MSG_NOSIGNAL). The caller
 *	owns r and frees r->errtext.
 */
#ifndef HJ_CHILD_H
#define HJ_CHILD_H

#include <stddef.h>

#include "buf.h"

#define CHILD_ERR_MAX 4096 /* bytes of a child's stderr kept for the error message */

typedef struct child_run {
    char *const *argv;
    const char *in; /* fed to the child's stdin; NULL: /dev/null */
    size_t inlen;
    int merge; /* the child's stdout goes where its stderr goes */
    void (*on_out)(void *ctx, const char *p, size_t n);
    void *ctx;
    hj_buf errtext; /* the first CHILD_ERR_MAX bytes of its stderr */
    int timeout_s;  /* the child is killed when it has not finished in this time (> 0) */
} child_run;

int child_run_wait(child_run *r, char *err, size_t errlen);

#endif
