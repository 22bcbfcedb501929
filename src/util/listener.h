#ifndef HJ_LISTENER_H
#define HJ_LISTENER_H
/*
 * listener - listening sockets for the daemon's front ends: one helper for unix and TCP
 *
 *	int listener_unix(const char *path, int mode, int backlog, char *err, size_t errlen);
 *	int listener_tcp(const char *spec, int backlog, char *err, size_t errlen);
 *	void listener_peer_name(const struct sockaddr *sa, char *out, size_t outlen);
 *
 * listener_unix() binds a stream socket at path, born with mode (a umask around bind(), then
 * restored; no chmod window). What is already at the path is
 * removed only when it is a stale socket (one nobody listens on): a live socket ("in use"), a
 * regular file, a directory or a symbolic link is left alone and is an error, so a mistyped path
 * never deletes a file. listener_tcp() takes "host:port" with a numeric host (IPv6 as
 * "[addr]:port") and sets SO_REUSEADDR. Both return a non-blocking, close-on-exec descriptor
 * that listens, or -1 with a message (naming the path or address) in err. listener_peer_name()
 * names an accepted peer for the log: "ip:port", "[ip6]:port" or "unix".
 *
 * Ownership: the caller owns the descriptor and, for a unix socket, unlinks the path when done.
 * Thread-safety: none needed (no shared state); call them before worker threads share the cwd.
 * Nothing is fatal.
 */
#include <stddef.h>

int listener_unix(const char *path, int mode, int backlog, char *err, size_t errlen);
int listener_tcp(const char *spec, int backlog, char *err, size_t errlen);
struct sockaddr;
void listener_peer_name(const struct sockaddr *sa, char *out, size_t outlen);

#endif
