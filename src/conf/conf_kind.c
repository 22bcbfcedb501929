/*
 * conf_kind - the settings table's kinds: apply, free, compare and document a row
 *
 * DESCRIPTION
 *	conf_setting_apply() parses one value by its row's kind into its
 *	field (conf_int.h lists the kinds); conf_settings_free() frees the
 *	strings and lists the table owns. conf_changed(), conf_keep() and
 *	conf_reference() are conf.h's. Errors are the same texts for every
 *	row of a kind, named by the row. Not thread-safe while loading.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/alloc.h"
#include "../util/timeconv.h"
#include "conf_int.h"

static void *
field(hj_conf *c, const conf_setting *s)
{
    return (char *)(s->base == CONF_B_POL ? (void *)c->pol : (void *)c) + s->off;
}

static const void *
cfield(const hj_conf *c, const conf_setting *s)
{
    return (const char *)(s->base == CONF_B_POL ? (const void *)c->pol : (const void *)c) + s->off;
}

/* put_int - store n into a 4- or 8-byte integer field (the table's test checks the sizes) */
static void
put_int(void *p, size_t size, long long n)
{
    if (size == sizeof(int64_t)) {
        int64_t v = n;
        memcpy(p, &v, sizeof(v));
    } else {
        int32_t v = (int32_t)n;
        memcpy(p, &v, sizeof(v));
    }
}

/* conf_int_in - parse a decimal integer within [lo, hi] */
int
conf_int_in(const char *v, long long lo, long long hi, long long *out, char *err, size_t errlen)
{
    char *end;

    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (end == v || *end || errno || n < lo || n > hi) {
        snprintf(err, errlen, "bad number \"%s\" (expected %lld..%lld)", v, lo, hi);
        return -1;
    }
    *out = n;
    return 0;
}

/* conf_list_each - call fn for each item of a comma/space separated list */
int
conf_list_each(hj_conf *c, const char *value, char *err, size_t errlen,
               int (*fn)(hj_conf *, const char *, char *, size_t))
{
    char *copy = xstrdup(value), *save = NULL;
    int rc = 0;

    for (char *tok = strtok_r(copy, ", \t", &save); tok && rc == 0;
         tok = strtok_r(NULL, ", \t", &save))
        rc = fn(c, tok, err, errlen);
    free(copy);
    return rc;
}

/* conf_check_path - an absolute path (or empty, with CONF_F_EMPTY) */
int
conf_check_path(const conf_setting *s, const char *v, char *err, size_t errlen)
{
    int empty_ok = (s->flags & CONF_F_EMPTY) != 0;

    if ((*v || !empty_ok) && v[0] != '/') {
        snprintf(err, errlen, "%s must be an absolute path%s, got \"%s\"", s->name,
                 empty_ok ? " or empty" : "", v);
        return -1;
    }
    return 0;
}

static int
apply_str(hj_conf *c, const conf_setting *s, const char *v, char *err, size_t errlen)
{
    char **dst = field(c, s);

    if (s->check && s->check(s, v, err, errlen) != 0)
        return -1;
    free(*dst);
    *dst = xstrdup(v);
    return 0;
}

static int
apply_int(hj_conf *c, const conf_setting *s, const char *v, char *err, size_t errlen)
{
    long long n;

    if (conf_int_in(v, s->min, s->max, &n, err, errlen) != 0)
        return -1;
    put_int(field(c, s), s->size, n);
    return 0;
}

static int
apply_time(hj_conf *c, const conf_setting *s, const char *v, char *err, size_t errlen)
{
    int64_t t;
    char max[32];

    if (timeconv_duration(v, &t) != 0 || t < s->min) {
        snprintf(err, errlen, "bad duration \"%s\" (%s)", v,
                 s->what ? s->what : "e.g. 90s, 30m, 12h, 2d, 1w");
        return -1;
    }
    if (s->max && t > s->max) {
        timeconv_duration_str(s->max, max, sizeof(max));
        snprintf(err, errlen, "%s is at most %s, got %s", s->name, max, v);
        return -1;
    }
    put_int(field(c, s), s->size, t);
    return 0;
}

static int
apply_bool(hj_conf *c, const conf_setting *s, const char *v, char *err, size_t errlen)
{
    if (strcmp(v, "yes") != 0 && strcmp(v, "no") != 0) {
        snprintf(err, errlen, "bad value \"%s\" (yes or no)", v);
        return -1;
    }
    put_int(field(c, s), s->size, strcmp(v, "yes") == 0);
    return 0;
}

static int
apply_octal(hj_conf *c, const conf_setting *s, const char *v, char *err, size_t errlen)
{
    char *end;
    long m = strtol(v, &end, 8);

    if (*v == 0 || *end || m < 0 || m > s->max) {
        snprintf(err, errlen, "bad mode \"%s\" (octal, e.g. 0660)", v);
        return -1;
    }
    put_int(field(c, s), s->size, m);
    return 0;
}

/* enum_choices - "a, b or c" */
static void
enum_choices(const conf_setting *s, char *out, size_t outlen)
{
    size_t n = 0, len = 0;

    while (s->names[n])
        n++;
    out[0] = 0;
    for (size_t i = 0; i < n && len < outlen; i++)
        len += (size_t)snprintf(out + len, outlen - len, "%s%s",
                                i == 0       ? ""
                                : i + 1 == n ? " or "
                                             : ", ",
                                s->names[i]);
}

static int
apply_enum(hj_conf *c, const conf_setting *s, const char *v, char *err, size_t errlen)
{
    char choices[200];

    for (int i = 0; s->names[i]; i++)
        if (strcmp(v, s->names[i]) == 0)
            return put_int(field(c, s), s->size, i), 0;
    enum_choices(s, choices, sizeof(choices));
    snprintf(err, errlen, "bad %s \"%s\" (%s)", s->what, v, choices);
    return -1;
}

static void
list_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* apply_list - the words into a fresh array; each item checked (and rewritten) by .item */
static int
apply_list(hj_conf *c, const conf_setting *s, const char *v, char *err, size_t errlen)
{
    char ***vec = field(c, s), *copy = xstrdup(v), *save = NULL;
    size_t *n = (size_t *)((char *)c + s->off_n);
    int rc = 0;

    list_free(*vec, *n);
    *vec = NULL, *n = 0;
    for (char *t = strtok_r(copy, ", \t", &save); t && rc == 0; t = strtok_r(NULL, ", \t", &save)) {
        if (s->item && (rc = s->item(s, t, err, errlen)) != 0)
            break;
        *vec = xrealloc(*vec, (*n + 1) * sizeof(char *));
        (*vec)[(*n)++] = xstrdup(t);
    }
    free(copy);
    return rc;
}

static int
apply_custom(hj_conf *c, const conf_setting *s, const char *v, char *err, size_t errlen)
{
    return s->apply(c, v, err, errlen);
}

typedef int (*kind_apply_fn)(hj_conf *, const conf_setting *, const char *, char *, size_t);

static const kind_apply_fn kind_apply[CONF_K__COUNT] = {
    [CONF_K_STR] = apply_str,   [CONF_K_INT] = apply_int,       [CONF_K_TIME] = apply_time,
    [CONF_K_BOOL] = apply_bool, [CONF_K_OCTAL] = apply_octal,   [CONF_K_ENUM] = apply_enum,
    [CONF_K_LIST] = apply_list, [CONF_K_CUSTOM] = apply_custom,
};

int
conf_setting_apply(hj_conf *c, const conf_setting *s, const char *v, char *err, size_t errlen)
{
    return kind_apply[s->kind](c, s, v, err, errlen);
}

void
conf_settings_free(hj_conf *c)
{
    for (size_t i = 0; i < conf_nsettings_; i++) {
        const conf_setting *s = &conf_settings[i];
        if (s->kind == CONF_K_STR || (s->flags & CONF_F_FILE))
            free(*(char **)field(c, s));
        else if (s->kind == CONF_K_LIST)
            list_free(*(char ***)field(c, s), *(size_t *)((char *)c + s->off_n));
    }
}

size_t
conf_nsettings(void)
{
    return conf_nsettings_;
}

/* differs - the text as written, or for a file the content read */
static int
differs(const hj_conf *old, const hj_conf *cur, size_t i)
{
    const conf_setting *s = &conf_settings[i];

    if (strcmp(old->text[i], cur->text[i]) != 0)
        return 1;
    if (!(s->flags & CONF_F_FILE))
        return 0;
    const char *a = *(char *const *)cfield(old, s), *b = *(char *const *)cfield(cur, s);
    return strcmp(a ? a : "", b ? b : "") != 0;
}

size_t
conf_changed(const hj_conf *old, const hj_conf *cur, unsigned flags_mask, conf_changed_fn fn,
             void *ctx)
{
    size_t n = 0;

    for (size_t i = 0; i < conf_nsettings_; i++) {
        if (flags_mask && !(conf_settings[i].flags & flags_mask))
            continue;
        if (!differs(old, cur, i))
            continue;
        n++;
        if (fn)
            fn(ctx, conf_settings[i].name, old->text[i], cur->text[i]);
    }
    return n;
}

int
conf_keep(hj_conf *cur, const hj_conf *old, unsigned flags_mask, char *err, size_t errlen)
{
    for (size_t i = 0; i < conf_nsettings_; i++) {
        const conf_setting *s = &conf_settings[i];
        if (!(s->flags & flags_mask) || !differs(old, cur, i))
            continue;
        if (s->kind == CONF_K_CUSTOM) {
            snprintf(err, errlen, "%s: its old value cannot be kept", s->name);
            return -1;
        }
        if (conf_setting_apply(cur, s, old->text[i], err, errlen) != 0)
            return -1;
        free(cur->text[i]);
        cur->text[i] = xstrdup(old->text[i]);
    }
    return 0;
}

/* md_cell - text for a Markdown table cell: "|" and "*" escaped, "" as "(empty)" */
static void
md_cell(hj_buf *out, const char *s)
{
    if (*s == 0) {
        buf_puts(out, "(empty)");
        return;
    }
    for (; *s; s++) {
        if (*s == '|' || *s == '*')
            buf_putc(out, '\\');
        buf_putc(out, *s);
    }
}

/* type_text - the reference's type column */
static void
type_text(const conf_setting *s, hj_buf *out)
{
    char lo[32], hi[32];

    if (s->type) {
        buf_puts(out, s->type);
        return;
    }
    switch (s->kind) {
    case CONF_K_INT:
        buf_printf(out, "integer %lld..%lld", s->min, s->max);
        break;
    case CONF_K_TIME:
        timeconv_duration_str(s->min, lo, sizeof(lo));
        timeconv_duration_str(s->max, hi, sizeof(hi));
        buf_printf(out, s->max ? "duration %s..%s" : "duration, at least %s", lo, hi);
        break;
    case CONF_K_BOOL:
        buf_puts(out, "yes or no");
        break;
    case CONF_K_OCTAL:
        buf_printf(out, "octal mode up to 0%llo", s->max);
        break;
    case CONF_K_ENUM:
        enum_choices(s, hi, sizeof(hi));
        buf_puts(out, hi);
        break;
    case CONF_K_LIST:
        buf_puts(out, "list");
        break;
    default:
        buf_puts(out, s->check == conf_check_path
                          ? (s->flags & CONF_F_EMPTY ? "absolute path or empty" : "absolute path")
                          : "text");
    }
}

void
conf_reference(hj_buf *out)
{
    hj_buf type = HJ_BUF_INIT;

    buf_puts(out, "# Settings\n\n"
                  "<!-- Generated by `hijackd config --reference` from the table in "
                  "src/conf/conf_table.c;\n"
                  "     tests/run.sh fails when this file is not current. Edit the table. -->\n\n"
                  "Every setting of the configuration file (`name = value`, see the README's "
                  "\"Configuration\"),\nin the order `hijackd config` prints them. Durations are "
                  "written `90`, `90s`, `30m`, `12h`, `2d`\nor `1w`; a list is separated by commas "
                  "or blanks. *reload*: a reload (SIGHUP, `hijackctl reload`)\napplies it; "
                  "*restart*: only the next start does (a reload logs that it waits).\n\n"
                  "| name | default | type | applies | meaning |\n"
                  "| --- | --- | --- | --- | --- |\n");
    for (size_t i = 0; i < conf_nsettings_; i++) {
        const conf_setting *s = &conf_settings[i];
        buf_printf(out, "| `%s` | ", s->name);
        md_cell(out, s->def);
        buf_puts(out, " | ");
        buf_reset(&type);
        type_text(s, &type);
        md_cell(out, buf_str(&type));
        buf_printf(out, " | %s | ", s->flags & CONF_F_RESTART ? "restart" : "reload");
        md_cell(out, s->help);
        if (s->more) {
            buf_puts(out, ". ");
            md_cell(out, s->more);
        }
        buf_puts(out, " |\n");
    }
    buf_free(&type);
}
