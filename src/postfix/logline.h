/*
 * logline - split one syslog line into time, host, program and message
 *
 * SYNOPSIS
 *	hj_logclock c; logline_clock_init(&c, ref_year, ref_month, fixed_year);
 *	int logline_parse(hj_logclock *c, const char *line, size_t len, hj_logline *out);
 *
 * DESCRIPTION
 *	Reads the three timestamp forms Postfix logs come in:
 *	  rsyslog traditional  "Nov  2 10:00:01 host prog[pid]: msg"
 *	  postlogd maillog_file "Nov 02 10:00:01 host prog[pid]: msg"
 *	  rsyslog ISO          "2026-11-18T10:00:01.123456+01:00 host prog[pid]: msg"
 *	An ISO line keeps its own offset. A line without a year gets one:
 *	fixed_year (for the first line) when given, else the year that puts the first line at or
 *	before the reference month (the file's mtime), rolling over when the
 *	month goes backwards by more than half a year (Dec -> Jan); its
 *	wall clock is kept and read as local time in $TZ (the offset is
 *	computed once per hour of log time).
 *	out->prog is the program ("postfix/submission/smtpd"), out->daemon
 *	its last component ("smtpd"), out->svc the rest ("postfix/submission",
 *	the syslog_name). All spans point into line; nothing is allocated.
 *	Returns 0, or -1 for a line with no recognisable header (garbled).
 *	Not thread-safe per clock.
 */
#ifndef HJ_LOGLINE_H
#define HJ_LOGLINE_H

#include <stddef.h>
#include <stdint.h>

#include "../util/span.h"

typedef struct hj_logclock {
    int year; /* current year for syslog lines, 0 = not yet known */
    int last_month;
    int ref_year, ref_month; /* from the file's mtime or today */
    int64_t tz_key;          /* hour (epoch / 3600) of the cached offset */
    int32_t tz_off;
} hj_logclock;

typedef struct hj_logline {
    int64_t t;
    int32_t tzoff;
    hj_span host, prog, daemon, svc, msg;
} hj_logline;

void logline_clock_init(hj_logclock *c, int ref_year, int ref_month, int fixed_year);
int logline_parse(hj_logclock *c, const char *line, size_t len, hj_logline *out);

#endif
