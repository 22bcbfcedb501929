/*
 * buf - growable, NUL-terminated byte buffer (in the spirit of VSTRING/sds)
 *
 * SYNOPSIS
 *	hj_buf b = HJ_BUF_INIT;
 *	buf_add(&b, p, n); buf_puts(&b, s); buf_putc(&b, c); buf_printf(&b, fmt, ...);
 *	buf_json_str(&b, p, n);   appends p as a quoted, escaped JSON string
 *	buf_utf8_seq(p, n)        the length of the valid UTF-8 sequence at p, 0 if none
 *	buf_put_safe(&b, s);      appends s with characters a terminal or log must not get
 *	                          (C0 and C1 controls, DEL, line/paragraph separators,
 *	                          bidirectional controls) replaced by '?'
 *	buf_reset(&b); buf_free(&b);
 *
 * DESCRIPTION
 *	b.s is always NUL-terminated once anything was added (b.s may be NULL
 *	before); b.len excludes the NUL. The buffer owns b.s; buf_free()
 *	releases it and leaves an empty buffer. Not thread-safe per buffer.
 *	Allocation failure is fatal (alloc.h).
 */
#ifndef HJ_BUF_H
#define HJ_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct hj_buf {
    char *s;
    size_t len;
    size_t cap;
} hj_buf;

#define HJ_BUF_INIT                                                                                \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

void buf_reserve(hj_buf *b, size_t extra);
void buf_add(hj_buf *b, const char *p, size_t n);
void buf_puts(hj_buf *b, const char *s);
void buf_putc(hj_buf *b, char c);
void buf_printf(hj_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(hj_buf *b, const char *fmt, va_list ap);
void buf_json_str(hj_buf *b, const char *p, size_t n);
size_t buf_utf8_seq(const void *p, size_t n);
void buf_put_safe(hj_buf *b, const char *s);
void buf_reset(hj_buf *b);
void buf_free(hj_buf *b);
const char *buf_str(const hj_buf *b);

#endif
