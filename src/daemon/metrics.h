/*
 * metrics - the daemon's counters, in Prometheus' text format for /metrics
 *
 * SYNOPSIS
 *	metrics *metrics_new(void);
 *	void metrics_policy(metrics *m, const char *stage, const char *answer);
 *	void metrics_decision(metrics *m, const hj_decision *d);
 *	void metrics_store(metrics *m, double seconds);
 *	void metrics_log_line(metrics *m, int not_understood);
 *	void metrics_format(const metrics *m, const metrics_gauges *g, hj_buf *out);
 *	void metrics_free(metrics *m);
 *
 * DESCRIPTION
 *	Counters only go up (since the start); gauges are read by the caller
 *	when /metrics is asked for. Label values are escaped as the format
 *	asks. A NULL metrics is accepted everywhere and counts nothing.
 *	Not thread-safe (the daemon's one loop). Memory failure is fatal.
 */
#ifndef HJ_METRICS_H
#define HJ_METRICS_H

#include <stdint.h>

#include "../engine/decision.h"
#include "../util/buf.h"

typedef struct metrics metrics;

typedef struct metrics_gauges {
    int64_t locked, throttled, accounts;
    int64_t follow_lag_bytes, follow_lines, follow_rotations;
    int64_t started;
    int64_t outbox[2][4]; /* mail, webhook: pending, done, retried attempts, dropped */
} metrics_gauges;

metrics *metrics_new(void);
void metrics_policy(metrics *m, const char *stage, const char *answer);
void metrics_decision(metrics *m, const hj_decision *d);
void metrics_store(metrics *m, double seconds);
void metrics_log_line(metrics *m, int not_understood);
void metrics_format(const metrics *m, const metrics_gauges *g, hj_buf *out);
void metrics_free(metrics *m);

#endif
