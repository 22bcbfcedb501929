/*
 * jname - a name as JSON text: invalid UTF-8 bytes as \xNN, and back (see jname.h)
 */
#include "jname.h"

#include <string.h>

void
jname_text(const char *raw, hj_buf *out)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = strlen(raw);

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)raw[i];
        size_t k = c < 0x80 ? 1 : buf_utf8_seq(raw + i, n - i);
        if (k == 0) {
            char esc[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
            buf_add(out, esc, 4);
            continue;
        }
        buf_add(out, raw + i, k);
        i += k - 1;
    }
}

json_t *
jname(const char *raw)
{
    json_t *v = json_string(raw);
    hj_buf b = HJ_BUF_INIT;

    if (v != NULL)
        return v;
    jname_text(raw, &b);
    v = json_stringn(b.s ? b.s : "", b.len);
    buf_free(&b);
    return v;
}

/* hexval - the value of one hex digit, -1 if it is not one */
static int
hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int
jname_raw(const char *shown, char *out, size_t outlen)
{
    size_t k = 0;
    int decoded = 0;

    for (const char *p = shown; *p; p++) {
        int hi = p[0] == '\\' && p[1] == 'x' ? hexval(p[2]) : -1;
        int lo = hi >= 8 ? hexval(p[3]) : -1;
        if (k + 1 >= outlen)
            return -1;
        if (lo >= 0) {
            out[k++] = (char)(hi << 4 | lo);
            p += 3, decoded = 1;
        } else {
            out[k++] = *p;
        }
    }
    if (outlen == 0)
        return -1;
    out[k] = 0;
    return decoded;
}
