/*
 * statedir - make state_dir safe to keep the daemon's files in (see statedir.h)
 */
#include "statedir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *const statedir_files[] = {"hijackd.db", "hijackd.db-wal", "hijackd.db-shm",
                                      "hijackd.pid", "exempt.list",   NULL};

/* refuse - the reason st (of dir) is unsafe, or NULL */
static const char *
refuse(const struct stat *st)
{
    if (!S_ISDIR(st->st_mode))
        return "is not a directory";
    if (st->st_uid != geteuid() && st->st_uid != 0)
        return "is owned by another user (chown it to the user hijackd runs as)";
    if (st->st_mode & (S_IWGRP | S_IWOTH))
        return "is writable by its group or by others (chmod go-w it)";
    return NULL;
}

/* tighten - drop the bits of mask from path's mode if it has any; a line for warn */
static void
tighten(const char *path, const struct stat *st, mode_t mask,
        void (*warn)(void *ctx, const char *msg), void *ctx)
{
    char msg[4200];

    if ((st->st_mode & mask) == 0)
        return;
    mode_t m = st->st_mode & 07777 & ~mask;
    if (chmod(path, m) != 0)
        snprintf(msg, sizeof(msg), "%s has mode %04o and cannot be made %04o: %s", path,
                 (unsigned)(st->st_mode & 07777), (unsigned)m, strerror(errno));
    else
        snprintf(msg, sizeof(msg), "%s had mode %04o: made %04o", path,
                 (unsigned)(st->st_mode & 07777), (unsigned)m);
    if (warn)
        warn(ctx, msg);
}

int
statedir_prepare(const char *dir, char *err, size_t errlen,
                 void (*warn)(void *ctx, const char *msg), void *ctx)
{
    struct stat st;
    const char *why;
    char path[4096];

    if (mkdir(dir, 0750) == 0) {
        (void)chmod(dir, 0750); /* 0750 whatever the umask (the daemon's is 077) */
    } else if (errno != EEXIST) {
        snprintf(err, errlen, "cannot create state_dir %s: %s", dir, strerror(errno));
        return -1;
    }
    if (stat(dir, &st) != 0) {
        snprintf(err, errlen, "state_dir %s: %s", dir, strerror(errno));
        return -1;
    }
    if ((why = refuse(&st)) != NULL) {
        snprintf(err, errlen, "state_dir %s (mode %04o, owner uid %ld) %s", dir,
                 (unsigned)(st.st_mode & 07777), (long)st.st_uid, why);
        return -1;
    }
    for (size_t i = 0; statedir_files[i]; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, statedir_files[i]);
        if (lstat(path, &st) == 0 && S_ISREG(st.st_mode))
            tighten(path, &st, S_IRWXG | S_IRWXO, warn, ctx);
    }
    return 0;
}
