/*
 * peergate - who may connect to a unix socket (see peergate.h)
 */
#include "peergate.h"

#include <stdio.h>
#include <stdlib.h>

#include "alloc.h"
#include "log.h"
#include "peercred.h"

void
peergate_init(peergate *g, const char *what, const char *setting, int is_unix)
{
    *g = (peergate){.is_unix = is_unix};
    snprintf(g->what, sizeof(g->what), "%s", what);
    snprintf(g->setting, sizeof(g->setting), "%s", setting);
}

void
peergate_allow(peergate *g, char *const *users, size_t nusers)
{
    uid_t *u = nusers ? xcalloc(nusers, sizeof(*u)) : NULL;
    size_t n = 0;

    for (size_t i = 0; i < nusers; i++) {
        if (peercred_user(users[i], &u[n]) == 0)
            n++;
        else if (g->is_unix)
            log_warn("%s: no such user \"%s\": ignored", g->setting, users[i]);
    }
    free(g->allow);
    g->allow = u;
    g->nallow = n;
    g->nlogged = 0; /* a user refused before may be allowed now, or refused again: log anew */
}

/* refused_log - one line per refused uid, for the first PEERGATE_LOGGED of them */
static void
refused_log(peergate *g, long uid)
{
    for (size_t i = 0; i < g->nlogged; i++)
        if (g->logged[i] == (uid_t)uid)
            return;
    if (g->nlogged == PEERGATE_LOGGED)
        return;
    g->logged[g->nlogged++] = (uid_t)uid;
    if (uid < 0)
        log_warn("%s: a connection without peer credentials: refused (closed unanswered)",
                 g->what);
    else
        log_warn("%s: uid %ld is not in %s: its connections are refused (closed unanswered; "
                 "logged once)",
                 g->what, uid, g->setting);
    if (g->nlogged == PEERGATE_LOGGED)
        log_warn("%s: %d users refused: further ones are not logged", g->what, PEERGATE_LOGGED);
}

int
peergate_ok(peergate *g, int fd)
{
    uid_t uid;

    if (!g->is_unix)
        return 1;
    if (peercred_uid(fd, &uid, NULL) != 0) {
        refused_log(g, -1);
        return 0;
    }
    if (peercred_allowed(uid, g->allow, g->nallow))
        return 1;
    refused_log(g, (long)uid);
    return 0;
}

void
peergate_free(peergate *g)
{
    free(g->allow);
    g->allow = NULL;
    g->nallow = 0;
}
