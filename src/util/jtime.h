/*
 * jtime - a time as JSON: RFC 3339 in this machine's local offset
 *
 * SYNOPSIS
 *	json_t *jtime_local(int64_t t);
 *
 * DESCRIPTION
 *	The string "2026-11-25T07:00:00+01:00" for epoch seconds t, in the
 *	offset of the local time zone at t; JSON null for 0 (never). A new
 *	reference, owned by the caller. Thread-safe (localtime_r).
 */
#ifndef HJ_JTIME_H
#define HJ_JTIME_H

#include <jansson.h>
#include <stdint.h>

json_t *jtime_local(int64_t t);

#endif
