/*
 * lineread - read lines from a plain or gzip file (or stdin), bounded memory
 *
 * SYNOPSIS
 *	lineread *lineread_open(const char *path, char *err, size_t errlen);
 *	int lineread_next(lineread *r, const char **line, size_t *len);
 *	int lineread_progress(const lineread *r);  percent, -1 if unknown
 *	const char *lineread_error(const lineread *r);
 *	void lineread_close(lineread *r);
 *
 * DESCRIPTION
 *	Reads through zlib's gzread(), which decompresses .gz input and
 *	passes plain input through, so one path serves both; "-" is stdin.
 *	lineread_next() returns 1 with a line (without its newline; a
 *	trailing '\r' is kept), 0 at the end, -1 on a read error (message in
 *	lineread_error()). A line longer than LINEREAD_MAX is not returned:
 *	it is skipped and counted in r->overlong, so a 10 MB line costs no
 *	more memory than a short one. The line pointer is valid until the
 *	next call. Not thread-safe per reader.
 */
#ifndef HJ_LINEREAD_H
#define HJ_LINEREAD_H

#include <stddef.h>
#include <stdint.h>

#define LINEREAD_MAX (64 * 1024)

typedef struct lineread lineread;

lineread *lineread_open(const char *path, char *err, size_t errlen);
int lineread_next(lineread *r, const char **line, size_t *len);
int lineread_progress(const lineread *r);
int64_t lineread_overlong(const lineread *r);
const char *lineread_error(const lineread *r);
void lineread_close(lineread *r);

#endif
