/*
 * timeconv - civil date arithmetic and RFC 3339 formatting (see timeconv.h)
 */
#include "timeconv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int64_t
timeconv_days(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (unsigned)(m > 2 ? m - 3 : m + 9) + 2) / 5 + (unsigned)d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void
timeconv_civil(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)((int64_t)yoe + era * 400 + (*m <= 2));
}

int64_t
timeconv_epoch(int y, int mo, int d, int h, int mi, int s)
{
    return timeconv_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
}

size_t
timeconv_rfc3339(int64_t t, int32_t tzoff, char *out, size_t outlen)
{
    int64_t w = t + tzoff;
    int64_t days = w >= 0 ? w / 86400 : (w - 86399) / 86400;
    int64_t sod = w - days * 86400;
    int y, m, d;
    int32_t off = tzoff < 0 ? -tzoff : tzoff;

    timeconv_civil(days, &y, &m, &d);
    int n = snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", y, m, d,
                     (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60),
                     tzoff < 0 ? '-' : '+', (int)(off / 3600), (int)(off / 60 % 60));
    return n < 0 ? 0 : (size_t)n;
}

int
timeconv_month(const char *p)
{
    static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

    for (int i = 0; i < 12; i++)
        if (p[0] == names[i * 3] && p[1] == names[i * 3 + 1] && p[2] == names[i * 3 + 2])
            return i + 1;
    return 0;
}

int
timeconv_duration(const char *s, int64_t *secs)
{
    char *end;
    static const struct {
        char unit;
        int64_t mult;
    } units[] = {{0, 1}, {'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 604800}};

    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || errno || v < 0)
        return -1;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (*end == units[i].unit && (units[i].unit == 0 || end[1] == 0)) {
            if (v > INT64_MAX / units[i].mult)
                return -1;
            *secs = v * units[i].mult;
            return 0;
        }
    }
    return -1;
}

/* timeconv_duration_str - the shortest exact text form of secs: 30m, 2h, 90s */
void
timeconv_duration_str(int64_t secs, char *out, size_t outlen)
{
    static const struct {
        char unit;
        int64_t mult;
    } units[] = {{'w', 604800}, {'d', 86400}, {'h', 3600}, {'m', 60}};

    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (secs > 0 && secs % units[i].mult == 0) {
            snprintf(out, outlen, "%lld%c", (long long)(secs / units[i].mult), units[i].unit);
            return;
        }
    }
    snprintf(out, outlen, "%llds", (long long)secs);
}

/* digits_at - the n decimal digits at s, or -1 */
static int
digits_at(const char *s, int n)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* tz_offset - "Z", "+HH:MM" or "-HH:MM" (and nothing after) in minutes east of UTC; -1 if bad */
static int
tz_offset(const char *p, int *minutes)
{
    if ((*p == 'Z' || *p == 'z') && p[1] == 0) {
        *minutes = 0;
        return 0;
    }
    if ((*p != '+' && *p != '-') || strlen(p) != 6 || p[3] != ':')
        return -1;
    int h = digits_at(p + 1, 2), m = digits_at(p + 4, 2);
    if (h < 0 || m < 0 || h > 23 || m > 59)
        return -1;
    *minutes = (*p == '-' ? -1 : 1) * (h * 60 + m);
    return 0;
}

int
timeconv_parse_rfc3339(const char *s, int64_t *t)
{
    int off;

    if (s == NULL || strlen(s) < 20 || s[4] != '-' || s[7] != '-' ||
        (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':')
        return -1;
    int y = digits_at(s, 4), mo = digits_at(s + 5, 2), d = digits_at(s + 8, 2);
    int h = digits_at(s + 11, 2), mi = digits_at(s + 14, 2), sec = digits_at(s + 17, 2);
    const char *p = s + 19;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9';)
            p++;
    if (tz_offset(p, &off) < 0 || y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 ||
        h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60)
        return -1;
    *t = timeconv_epoch(y, mo, d, h, mi, sec) - (int64_t)off * 60;
    return 0;
}
