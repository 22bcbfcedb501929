/*
 * log - stderr or syslog (see log.h)
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>
#include <time.h>

static int log_fg = 1;
static const char *log_ident = "hijackd";

void
log_open(const char *ident, int foreground)
{
    log_ident = ident;
    log_fg = foreground;
    if (!foreground)
        openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

/* log_v - one line at a priority */
static void
log_v(int prio, const char *tag, const char *fmt, va_list ap)
{
    if (!log_fg) {
        vsyslog(prio, fmt, ap);
        return;
    }
    char ts[32];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(stderr, "%s %s: %s", ts, log_ident, tag);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void
log_info(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_v(LOG_INFO, "", fmt, ap);
    va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_v(LOG_WARNING, "warning: ", fmt, ap);
    va_end(ap);
}

void
log_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_v(LOG_ERR, "error: ", fmt, ap);
    va_end(ap);
}
