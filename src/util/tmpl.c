/*
 * tmpl - text templates with {name} placeholders (see tmpl.h)
 */
#include "tmpl.h"

#include <stdio.h>
#include <string.h>

/* value_of - the value of the placeholder name[0..len), or NULL */
static const char *
value_of(const tmpl_var *vars, size_t n, const char *name, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(vars[i].name) == len && memcmp(vars[i].name, name, len) == 0)
            return vars[i].value ? vars[i].value : "";
    return NULL;
}

/* put_value - a value, made safe for one line when asked */
static void
put_value(const char *v, int oneline, hj_buf *out)
{
    for (; *v; v++) {
        unsigned char c = (unsigned char)*v;
        buf_putc(out, oneline && (c < 32 || c > 126) ? '?' : (char)c);
    }
}

void
tmpl_expand(const char *t, const tmpl_var *vars, size_t n, int oneline, hj_buf *out)
{
    while (*t) {
        const char *open = strchr(t, '{');
        if (open == NULL) {
            buf_puts(out, t);
            return;
        }
        buf_add(out, t, (size_t)(open - t));
        if (open[1] == '{') {
            buf_putc(out, '{');
            t = open + 2;
            continue;
        }
        const char *close = strchr(open + 1, '}');
        const char *v = close ? value_of(vars, n, open + 1, (size_t)(close - open - 1)) : NULL;
        if (v == NULL) { /* not a placeholder: as written */
            buf_putc(out, '{');
            t = open + 1;
            continue;
        }
        put_value(v, oneline, out);
        t = close + 1;
    }
}

int
tmpl_check(const char *t, const char *const *names, size_t n, char *err, size_t errlen)
{
    for (const char *open = strchr(t, '{'); open; open = strchr(open, '{')) {
        if (open[1] == '{') {
            open += 2;
            continue;
        }
        const char *close = strchr(open + 1, '}');
        size_t len = close ? (size_t)(close - open - 1) : 0, i;
        for (i = 0; close && i < n; i++)
            if (strlen(names[i]) == len && memcmp(names[i], open + 1, len) == 0)
                break;
        if (close == NULL || i == n) {
            snprintf(err, errlen, "unknown placeholder \"%.*s\" (write {{ for a literal {)",
                     close ? (int)(close - open + 1) : 20, open);
            return -1;
        }
        open = close + 1;
    }
    return 0;
}
