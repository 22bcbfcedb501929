#ifndef HJ_PEERCRED_H
#define HJ_PEERCRED_H
/*
 * peercred - who is on the other end of a unix socket, and user names as uids
 *
 *	int peercred_uid(int fd, uid_t *uid, gid_t *gid);
 *	int peercred_user(const char *name, uid_t *uid);
 *	int peercred_allowed(uid_t uid, const uid_t *allow, size_t nallow);
 *
 * peercred_uid() reads the peer's credentials of a connected unix socket (SO_PEERCRED: the
 * user and group that connected, as the kernel saw them; the peer cannot forge them): 0, or -1
 * when fd is not a unix socket (TCP has no peer credentials) or the call fails. gid may be NULL.
 *
 * peercred_user() turns a user name, or a decimal uid ("105"), into a uid: 0, or -1 for a name
 * the system does not know (getpwnam_r) or an empty or malformed one. It asks the name service,
 * which may block: call it at start and reload, never per connection.
 *
 * peercred_allowed() is 1 for root, for the process's own effective user (who may do anything to
 * it anyway) and for a uid in allow[]; else 0. No name service, no allocation: cheap enough for
 * every accept().
 *
 * Thread-safety: all three are reentrant. Nothing is fatal.
 */
#include <stddef.h>
#include <sys/types.h>

int peercred_uid(int fd, uid_t *uid, gid_t *gid);
int peercred_user(const char *name, uid_t *uid);
int peercred_allowed(uid_t uid, const uid_t *allow, size_t nallow);

#endif
