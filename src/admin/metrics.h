/*
 * metrics - the daemon's counters in Prometheus' text format, for /metrics
 *
 * SYNOPSIS
 *	void metrics_format(const metrics_src *src, hj_buf *out);
 *
 * DESCRIPTION
 *	Nothing is counted here: each layer counts what it does (the core
 *	its verdicts, decisions and store writes; the policy front end its
 *	answers by stage; the log front end its lines) and metrics_format()
 *	reads those counters and the gauges the caller gathered when
 *	/metrics is asked for. Counters only go up (since the start). Label
 *	values are escaped as the format asks. A NULL policy or log front
 *	end reports nothing for it. Not thread-safe (the daemon's one loop).
 */
#ifndef HJ_METRICS_H
#define HJ_METRICS_H

#include <stdint.h>

#include "../core/core.h"
#include "../frontend/logfront.h"
#include "../frontend/milterfront.h"
#include "../frontend/pfpolicy.h"
#include "../util/buf.h"

typedef struct metrics_src {
    core *C;
    const pfpolicy *pp;
    const milterfront *mf; /* NULL: no milter */
    const miltersrv *ms;
    logfront_counts log;
    int64_t http_now, http_refused; /* HTTP connections open, refused at http_max_connections */
    hj_account_counts counts; /* accounts, locked, throttled, held now */
    int64_t started;
    int64_t outbox[2][4]; /* mail, webhook: pending, done, retried attempts, dropped */
} metrics_src;

void metrics_format(const metrics_src *src, hj_buf *out);

#endif
