/*
 * buf - growable byte buffer (see buf.h)
 */
#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

/* buf_reserve - make room for extra bytes plus the terminating NUL */
void
buf_reserve(hj_buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;

    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    b->s = xrealloc(b->s, cap);
    b->cap = cap;
}

void
buf_add(hj_buf *b, const char *p, size_t n)
{
    buf_reserve(b, n);
    memcpy(b->s + b->len, p, n);
    b->len += n;
    b->s[b->len] = 0;
}

void
buf_puts(hj_buf *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

void
buf_putc(hj_buf *b, char c)
{
    buf_reserve(b, 1);
    b->s[b->len++] = c;
    b->s[b->len] = 0;
}

void
buf_vprintf(hj_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;

    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return;
    buf_reserve(b, (size_t)n);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void
buf_printf(hj_buf *b, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    buf_vprintf(b, fmt, ap);
    va_end(ap);
}

/* buf_utf8_seq - length of a valid UTF-8 sequence at p (n bytes left, n > 0), 0 if invalid */
size_t
buf_utf8_seq(const void *ptr, size_t n)
{
    const unsigned char *p = ptr;
    size_t len;
    unsigned cp;

    if (p[0] >= 0xc2 && p[0] <= 0xdf)
        len = 2, cp = p[0] & 0x1f;
    else if (p[0] >= 0xe0 && p[0] <= 0xef)
        len = 3, cp = p[0] & 0x0f;
    else if (p[0] >= 0xf0 && p[0] <= 0xf4)
        len = 4, cp = p[0] & 0x07;
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return len;
}

/* buf_json_str - append a JSON string literal; invalid UTF-8 becomes U+FFFD */
void
buf_json_str(hj_buf *b, const char *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";

    buf_reserve(b, n + 2);
    buf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '"' || c == '\\') {
            buf_putc(b, '\\');
            buf_putc(b, (char)c);
        } else if (c < 0x20 || c == 0x7f) {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            buf_add(b, esc, 6);
        } else if (c >= 0x80) {
            size_t k = buf_utf8_seq(p + i, n - i);
            if (k == 0) {
                buf_puts(b, "\\ufffd");
            } else {
                buf_add(b, p + i, k);
                i += k - 1;
            }
        } else {
            buf_putc(b, (char)c);
        }
    }
    buf_putc(b, '"');
}

void
buf_reset(hj_buf *b)
{
    b->len = 0;
    if (b->s)
        b->s[0] = 0;
}

void
buf_free(hj_buf *b)
{
    free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
}

const char *
buf_str(const hj_buf *b)
{
    return b->s ? b->s : "";
}

/* unsafe_at - the bytes of the character at p if a terminal or log must not get it, else 0: C0
 * controls, DEL, C1 controls, line and paragraph separators, bidirectional controls */
static int
unsafe_at(const unsigned char *p)
{
    if (p[0] < 0x20 || p[0] == 0x7f)
        return 1;
    if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
        return 2;
    if (p[0] == 0xe2 && ((p[1] == 0x80 && p[2] >= 0xa8 && p[2] <= 0xae) ||
                         (p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9)))
        return 3;
    return 0;
}

void
buf_put_safe(hj_buf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    while (*p) {
        int bad = unsafe_at(p);
        buf_putc(b, bad ? '?' : (char)*p);
        p += bad ? bad : 1;
    }
}
