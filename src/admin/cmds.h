/*
 * cmds - the admin commands, one implementation for the control socket and the HTTP API
 *
 * SYNOPSIS
 *	int cmds_run(admin_env *A, json_t *req, const cmd_caller *who, json_t **reply);
 *	int cmds_open(const json_t *req);
 *	void cmds_counts(admin_env *A, hj_account_counts *c);
 *
 * DESCRIPTION
 *	See cmds.c. An admin_env is what the admin surface may reach: the
 *	core (state, manual changes, the audit trail), the incidents (the
 *	reply-to-unlock command; NULL if they could not start), the queue
 *	worker (the queue command's release and purge; NULL: 503), the front
 *	ends' counters (for /metrics), and from
 *	the daemon its start time, its control socket's path and its reload
 *	(a new configuration for the core and the incidents; 0 or -1). It is
 *	owned by the daemon and outlives the admin modules. cmds_open() is 1
 *	when req is a command that needs no reader (unlock_token: its token
 *	is the authority), else 0.
 */
#ifndef HJ_CMDS_H
#define HJ_CMDS_H

#include <jansson.h>
#include <stdint.h>

#include "../core/core.h"
#include "../frontend/logfront.h"
#include "../frontend/milterfront.h"
#include "../frontend/pfpolicy.h"
#include "../incident/incident.h"
#include "../incident/purge.h"

typedef struct admin_env {
    core *C;
    incident *inc;
    const pfpolicy *pp; /* the front ends, for /metrics (lf NULL: no log followed) */
    const logfront *lf;
    const milterfront *mf; /* NULL: no milter */
    const miltersrv *ms;
    int64_t started;
    const char *control_path;
    int (*reload)(void *ctx);
    void *reload_ctx;
    purger *pg; /* the queue worker; NULL: not running */
} admin_env;

typedef struct cmd_caller {
    int admin;         /* may change things */
    const char *actor; /* for the audit trail: "uid 0", "api" */
} cmd_caller;

int cmds_run(admin_env *A, json_t *req, const cmd_caller *who, json_t **reply);
int cmds_open(const json_t *req);
void cmds_counts(admin_env *A, hj_account_counts *c);

#endif
