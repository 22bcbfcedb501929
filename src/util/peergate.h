/*
 * peergate - who may connect to a unix socket: root, hijackd's own user and a list of users,
 * checked with SO_PEERCRED at each accept, each refused uid logged once
 *
 * SYNOPSIS
 *	void peergate_init(peergate *g, const char *what, const char *setting, int is_unix);
 *	void peergate_allow(peergate *g, char *const *users, size_t nusers);
 *	int peergate_ok(peergate *g, int fd);
 *	void peergate_free(peergate *g);
 *
 * DESCRIPTION
 *	A front end's listener (the policy service, the milter) keeps one. what names it in the
 *	log ("policy", "milter") and the setting that lists the users ("policy_allow_users").
 *	peergate_allow() looks the names (or decimal uids) up (the name service may block: at
 *	start and reload only), warns about unknown ones on a unix socket, and forgets which uids
 *	were logged (a user refused before may be allowed now). peergate_ok() is 1 for a
 *	connection that may be served: any on TCP (there are no peer credentials), and on a unix
 *	socket root, the process's own user and the allowed ones; else 0, and the first
 *	PEERGATE_LOGGED uids refused are logged once each, then one line saying that further ones
 *	are not. No allocation in peergate_ok(): cheap enough for every accept().
 *	Single-threaded (the loop); nothing is fatal.
 */
#ifndef HJ_PEERGATE_H
#define HJ_PEERGATE_H

#include <stddef.h>
#include <sys/types.h>

#define PEERGATE_LOGGED 64

typedef struct peergate {
    char what[24], setting[40];
    int is_unix;
    uid_t *allow;
    size_t nallow;
    uid_t logged[PEERGATE_LOGGED]; /* refused uids already logged */
    size_t nlogged;
} peergate;

void peergate_init(peergate *g, const char *what, const char *setting, int is_unix);
void peergate_allow(peergate *g, char *const *users, size_t nusers);
int peergate_ok(peergate *g, int fd);
void peergate_free(peergate *g);

#endif
