/*
 * follow - read a log file as it grows, like tail -F
 *
 * SYNOPSIS
 *	follow *follow_new(const char *path, follow_fn fn, void *ctx);
 *	void follow_poll(follow *f);     read what was appended since the last poll
 *	void follow_free(follow *f);
 *
 * DESCRIPTION
 *	Starts at the end of the file (what is already there is history: use
 *	hijackd replay for it), then hands each complete new line to fn.
 *	Survives rotation (the path now names another file: the old one is
 *	read to its end, then the new one from its start), truncation (the
 *	file shrank: read again from its start) and a missing file (retried
 *	at each poll; logged once). A line longer than 64 KiB is skipped and
 *	counted. Memory: one 64 KiB buffer. Not thread-safe; the caller polls
 *	it from a timer of its event loop.
 */
#ifndef HJ_FOLLOW_H
#define HJ_FOLLOW_H

#include <stddef.h>
#include <stdint.h>

typedef struct follow follow;
typedef void (*follow_fn)(void *ctx, const char *line, size_t len);

typedef struct follow_counts {
    int64_t lines, overlong, rotations, truncations;
    int64_t lag_bytes; /* written to the file but not read yet (follow_stats) */
} follow_counts;

follow *follow_new(const char *path, follow_fn fn, void *ctx);
void follow_poll(follow *f);
void follow_stats(const follow *f, follow_counts *out);
void follow_free(follow *f);

#endif
