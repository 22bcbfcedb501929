/*
 * statedir - make state_dir safe to keep the daemon's files in, or say why not
 *
 * SYNOPSIS
 *	int statedir_prepare(const char *dir, char *err, size_t errlen,
 *	                     void (*warn)(void *ctx, const char *msg), void *ctx);
 *	const char *const statedir_files[];   the daemon's files in it, NULL-ended
 *
 * DESCRIPTION
 *	statedir_prepare() creates dir (mode 0750) when it is missing, then
 *	checks what is there, created now or long ago. Refused (-1 with the
 *	reason and the fix in err): a path that is not a directory; a
 *	directory owned by anyone but the daemon's effective user or root; a
 *	directory writable by its group or by others (whoever may write there
 *	could replace the database, the exempt list or the control socket).
 *	Warned about and fixed (0): each of statedir_files[] that exists as a
 *	regular file with group or other permission bits (a database or
 *	exempt list left 0644 by an older hijackd): dropped to the owner's
 *	bits; warn gets one line for each. The directory's read and search
 *	bits are left as they are: its group, or others with o+x (0711), may
 *	need to reach state_dir/control.sock, and the files in it are the
 *	owner's only.
 *
 *	The daemon calls it after umask(077), so every file it creates
 *	afterwards is 0600 and every directory 0700; sockets get the mode
 *	asked for by listener.c's umask around bind.
 */
#ifndef HJ_STATEDIR_H
#define HJ_STATEDIR_H

#include <stddef.h>

extern const char *const statedir_files[];

int statedir_prepare(const char *dir, char *err, size_t errlen,
                     void (*warn)(void *ctx, const char *msg), void *ctx);

#endif
