/*
 * jtime - a time as JSON in the local offset (see jtime.h)
 */
#include "jtime.h"

#include <time.h>

#include "timeconv.h"

json_t *
jtime_local(int64_t t)
{
    char s[48];
    struct tm tm;
    time_t tt = (time_t)t;

    if (t == 0)
        return json_null();
    localtime_r(&tt, &tm);
    timeconv_rfc3339(t, (int32_t)tm.tm_gmtoff, s, sizeof(s));
    return json_string(s);
}
