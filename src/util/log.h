/*
 * log - the daemon's log: stderr in the foreground, syslog (facility mail) otherwise
 *
 * SYNOPSIS
 *	log_open(const char *ident, int foreground);
 *	log_info(fmt, ...); log_warn(fmt, ...); log_error(fmt, ...);
 *
 * DESCRIPTION
 *	Only programs log; the engine and the adapters' libraries never do.
 *	One line per call, no trailing newline needed. Thread-safe as far as
 *	stdio and syslog(3) are.
 */
#ifndef HJ_LOG_H
#define HJ_LOG_H

void log_open(const char *ident, int foreground);
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
