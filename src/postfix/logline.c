/*
 * logline - syslog line header parsing (see logline.h)
 *
 * Hand-written rather than sscanf/strptime/regex: this runs once per log
 * line and must keep replay within a few times grep's speed; it reads
 * fixed-position digits and one memchr for the program's end.
 */
#include "logline.h"

#include <string.h>
#include <time.h>

#include "../util/timeconv.h"

void
logline_clock_init(hj_logclock *c, int ref_year, int ref_month, int fixed_year)
{
    memset(c, 0, sizeof(*c));
    c->ref_year = ref_year;
    c->ref_month = ref_month;
    c->tz_key = INT64_MIN;
    c->year = fixed_year; /* the first line's year; Dec -> Jan still rolls it over */
}

/* dig - n decimal digits at p, -1 if any is not a digit */
static int
dig(const char *p, int n)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

/* local_offset - seconds east of UTC of local wall time w (cached per hour) */
static int32_t
local_offset(hj_logclock *c, int64_t w)
{
    int64_t key = w / 3600;

    if (key != c->tz_key) {
        time_t tt = (time_t)w;
        struct tm tm;
        gmtime_r(&tt, &tm); /* the wall clock's fields */
        tm.tm_isdst = -1;
        time_t real = mktime(&tm);
        c->tz_off = real == (time_t)-1 ? 0 : (int32_t)(w - (int64_t)real);
        c->tz_key = key;
    }
    return c->tz_off;
}

/* syslog_year - the year of a line in month mon, rolling over Dec -> Jan */
static int
syslog_year(hj_logclock *c, int mon)
{
    if (c->year == 0)
        c->year = c->ref_year - (c->ref_month && mon > c->ref_month ? 1 : 0);
    if (c->last_month && mon < c->last_month - 6)
        c->year++; /* Dec -> Jan */
    else if (c->last_month && mon > c->last_month + 6)
        return c->year - 1; /* a late line from last December: do not roll back */
    c->last_month = mon;
    return c->year;
}

/* ts_syslog - "Mmm dd hh:mm:ss " (day space- or zero-padded); length used or 0 */
static size_t
ts_syslog(hj_logclock *c, const char *p, size_t len, hj_logline *out)
{
    if (len < 16 || p[3] != ' ' || p[6] != ' ' || p[9] != ':' || p[12] != ':' || p[15] != ' ')
        return 0;
    int mon = timeconv_month(p);
    int day = p[4] == ' ' ? dig(p + 5, 1) : dig(p + 4, 2);
    int hh = dig(p + 7, 2), mm = dig(p + 10, 2), ss = dig(p + 13, 2);
    if (mon == 0 || day < 1 || day > 31 || hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 ||
        ss > 60)
        return 0;
    int64_t w = timeconv_epoch(syslog_year(c, mon), mon, day, hh, mm, ss);
    out->tzoff = local_offset(c, w);
    out->t = w - out->tzoff;
    return 16;
}

/* ts_iso - "YYYY-MM-DDThh:mm:ss[.frac](Z|+hh:mm) "; length used or 0 */
static size_t
ts_iso(const char *p, size_t len, hj_logline *out)
{
    if (len < 21 || p[4] != '-' || p[7] != '-' || p[10] != 'T' || p[13] != ':' || p[16] != ':')
        return 0;
    int y = dig(p, 4), mo = dig(p + 5, 2), d = dig(p + 8, 2);
    int hh = dig(p + 11, 2), mm = dig(p + 14, 2), ss = dig(p + 17, 2);
    if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || hh < 0 || hh > 23 || mm < 0 || mm > 59 ||
        ss < 0 || ss > 60)
        return 0;
    size_t i = 19;
    if (i < len && p[i] == '.')
        for (i++; i < len && p[i] >= '0' && p[i] <= '9'; i++)
            ;
    int32_t off = 0;
    if (i < len && p[i] == 'Z') {
        i++;
    } else if (i + 6 <= len && (p[i] == '+' || p[i] == '-') && p[i + 3] == ':') {
        int oh = dig(p + i + 1, 2), om = dig(p + i + 4, 2);
        if (oh < 0 || om < 0)
            return 0;
        off = (p[i] == '-' ? -1 : 1) * (oh * 3600 + om * 60);
        i += 6;
    }
    if (i >= len || p[i] != ' ')
        return 0;
    out->tzoff = off;
    out->t = timeconv_epoch(y, mo, d, hh, mm, ss) - off;
    return i + 1;
}

/* split_prog - program, daemon and syslog_name of "prog[pid]: msg" or "prog: msg" */
static int
split_prog(const char *p, size_t len, hj_logline *out)
{
    const char *e = p + len, *q = p;

    while (q < e && *q != '[' && *q != ':' && *q != ' ')
        q++;
    if (q == p || q == e || *q == ' ')
        return -1; /* no program, or no ':' right after it */
    const char *end = q;
    if (*q == '[') {
        for (q++; q < e && *q >= '0' && *q <= '9'; q++)
            ;
        if (q + 1 >= e || q[0] != ']' || q[1] != ':')
            return -1;
        q++;
    }
    out->prog = (hj_span){p, (size_t)(end - p)};
    const char *slash = memrchr(p, '/', (size_t)(end - p));
    out->daemon = slash ? (hj_span){slash + 1, (size_t)(end - slash - 1)} : out->prog;
    out->svc = slash ? (hj_span){p, (size_t)(slash - p)} : (hj_span){p, 0};
    const char *m = q + 1;
    if (m < e && *m == ' ')
        m++;
    out->msg = (hj_span){m, (size_t)(e - m)};
    return 0;
}

int
logline_parse(hj_logclock *c, const char *line, size_t len, hj_logline *out)
{
    if (len == 0)
        return -1;
    size_t n =
        line[0] >= '0' && line[0] <= '9' ? ts_iso(line, len, out) : ts_syslog(c, line, len, out);

    if (n == 0)
        return -1;
    const char *h = line + n, *e = line + len;
    const char *sp = memchr(h, ' ', (size_t)(e - h));
    if (sp == NULL || sp == h)
        return -1;
    out->host = (hj_span){h, (size_t)(sp - h)};
    return split_prog(sp + 1, (size_t)(e - sp - 1), out);
}
