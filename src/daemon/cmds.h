/*
 * cmds - the admin commands shared by the control socket and the HTTP API (see cmds.c)
 */
#ifndef HJ_CMDS_H
#define HJ_CMDS_H

#include <jansson.h>

#include "live_int.h"

typedef struct cmd_caller {
    int admin;         /* may change things */
    const char *actor; /* for the audit trail: "uid 0", "api" */
} cmd_caller;

int cmds_run(live *L, json_t *req, const cmd_caller *who, json_t **reply);
int cmds_exempt(live *L, json_t *req, const cmd_caller *who, json_t **reply);
void cmds_exempt_apply(live *L, hj_conf *c);
void cmds_counts(live *L, int64_t *locked, int64_t *throttled, int64_t *accounts);
json_t *cmds_local_time(int64_t t); /* RFC 3339 in the local offset; null for 0 */

#endif
