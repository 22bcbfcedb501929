/*
 * timeconv - civil date arithmetic and RFC 3339 formatting, no libc time zone state
 *
 * SYNOPSIS
 *	int64_t timeconv_days(int y, int m, int d);       days since 1970-01-01
 *	int64_t timeconv_epoch(int y, int mo, int d, int h, int mi, int s);
 *	void timeconv_civil(int64_t days, int *y, int *m, int *d);
 *	size_t timeconv_rfc3339(int64_t t, int32_t tzoff, char *out, size_t outlen);
 *	int timeconv_parse_rfc3339(const char *s, int64_t *t);
 *	int timeconv_month(const char *p);                 "Jan".."Dec" -> 1..12, 0 if none
 *	int timeconv_duration(const char *s, int64_t *secs);  "90", "30s", "30m", "2h", "1d", "1w"
 *
 * DESCRIPTION
 *	Proleptic Gregorian calendar (Howard Hinnant's algorithms). t is
 *	seconds since the epoch (UTC); tzoff is seconds east of UTC: the
 *	formatted wall clock is t + tzoff followed by +HH:MM. Pure and
 *	thread-safe. timeconv_duration() returns 0, or -1 on a bad value;
 *	timeconv_parse_rfc3339() reads "YYYY-MM-DDTHH:MM:SS[.frac]" with "Z"
 *	or "+HH:MM"/"-HH:MM" into seconds since the epoch: 0, or -1.
 */
#ifndef HJ_TIMECONV_H
#define HJ_TIMECONV_H

#include <stddef.h>
#include <stdint.h>

int64_t timeconv_days(int y, int m, int d);
int64_t timeconv_epoch(int y, int mo, int d, int h, int mi, int s);
void timeconv_civil(int64_t days, int *y, int *m, int *d);
size_t timeconv_rfc3339(int64_t t, int32_t tzoff, char *out, size_t outlen);
int timeconv_parse_rfc3339(const char *s, int64_t *t);
int timeconv_month(const char *p);
int timeconv_duration(const char *s, int64_t *secs);
void timeconv_duration_str(int64_t secs, char *out, size_t outlen);

#endif
