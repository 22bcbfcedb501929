/*
 * peercred - who is on the other end of a unix socket, and user names as uids (see peercred.h)
 */
#include "peercred.h"

#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int
peercred_uid(int fd, uid_t *uid, gid_t *gid)
{
    struct ucred cr;
    socklen_t sl = sizeof(cr);
    struct sockaddr_storage ss;
    socklen_t al = sizeof(ss);

    if (getsockname(fd, (struct sockaddr *)&ss, &al) != 0 || ss.ss_family != AF_UNIX)
        return -1;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &sl) != 0 || sl != sizeof(cr))
        return -1;
    *uid = cr.uid;
    if (gid)
        *gid = cr.gid;
    return 0;
}

/* number - a decimal uid of at most 10 digits (below (uid_t)-1, which means "no user") */
static int
number(const char *s, uid_t *uid)
{
    size_t n = strspn(s, "0123456789");
    unsigned long long v;

    if (n == 0 || n > 10 || s[n] != 0)
        return -1;
    v = strtoull(s, NULL, 10);
    if (v >= (uid_t)-1)
        return -1;
    *uid = (uid_t)v;
    return 0;
}

int
peercred_user(const char *name, uid_t *uid)
{
    struct passwd pw, *res = NULL;
    char buf[4096];

    if (name == NULL || *name == 0)
        return -1;
    if (number(name, uid) == 0)
        return 0;
    if (getpwnam_r(name, &pw, buf, sizeof(buf), &res) != 0 || res == NULL)
        return -1;
    *uid = res->pw_uid;
    return 0;
}

int
peercred_allowed(uid_t uid, const uid_t *allow, size_t nallow)
{
    if (uid == 0 || uid == geteuid())
        return 1;
    for (size_t i = 0; i < nallow; i++)
        if (allow[i] == uid)
            return 1;
    return 0;
}
