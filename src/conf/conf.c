/*
 * conf - configuration parsing, loading and printing (see conf.h)
 *
 * DESCRIPTION
 *	Splits the text into logical lines, sorts them into settings (the
 *	table of conf_table.c, applied by conf_kind.c), rules and overrides,
 *	applies them in that order, then the checks that span settings.
 */
#include "conf.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/alloc.h"
#include "conf_int.h"

/* one logical line of input with where it came from */
typedef struct conf_line {
    const char *src;
    int line;
    char *name; /* "rule x", "override p" or a setting name */
    char *value;
} conf_line;
/* setting_index - the table index of a setting name, -1 if unknown */
static int
setting_index(const char *name)
{
    for (size_t i = 0; i < conf_nsettings_; i++)
        if (strcmp(conf_settings[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* trim - strip leading and trailing white space in place */
static char *
trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = 0;
    return s;
}

/* split_line - "name = value" into a conf_line; -1 on a line without "=" */
static int
split_line(const char *src, int lineno, char *text, conf_line *out)
{
    char *eq = strchr(text, '=');

    if (eq == NULL)
        return -1;
    *eq = 0;
    char *name = trim(text), *value = trim(eq + 1);
    /* collapse runs of blanks in "rule   x" */
    char *sp = strpbrk(name, " \t");
    if (sp) {
        *sp = 0;
        char *rest = trim(sp + 1);
        size_t n = strlen(name) + strlen(rest) + 2;
        char *joined = xmalloc(n);
        snprintf(joined, n, "%s %s", name, rest);
        *out = (conf_line){src, lineno, joined, xstrdup(value)};
        return 0;
    }
    *out = (conf_line){src, lineno, xstrdup(name), xstrdup(value)};
    return 0;
}

typedef struct line_list {
    conf_line *v;
    size_t n;
} line_list;

static void
lines_push(line_list *l, conf_line cl)
{
    l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
    l->v[l->n++] = cl;
}

static void
lines_free(line_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].name);
        free(l->v[i].value);
    }
    free(l->v);
}

/* read_text - split a whole configuration text into logical lines */
static int
read_text(const char *src, const char *text, line_list *out, char *err, size_t errlen)
{
    hj_buf logical = HJ_BUF_INIT;
    int lineno = 0, start = 0, rc = 0;
    const char *p = text;

    while (rc == 0 && *p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        lineno++;
        int cont = n && (p[0] == ' ' || p[0] == '\t');
        int blank = strspn(p, " \t\r") >= n || p[0] == '#';
        if (!cont && !blank && logical.len) {
            conf_line cl;
            if (split_line(src, start, logical.s, &cl) != 0) {
                snprintf(err, errlen, "%s:%d: expected \"name = value\"", src, start);
                rc = -1;
            } else {
                lines_push(out, cl);
            }
            buf_reset(&logical);
        }
        if (!blank) {
            if (!cont)
                start = lineno;
            else if (logical.len == 0) {
                snprintf(err, errlen, "%s:%d: continuation line without a line to continue", src,
                         lineno);
                rc = -1;
            }
            buf_add(&logical, p, n);
            buf_putc(&logical, ' ');
        }
        p += nl ? n + 1 : n;
    }
    if (rc == 0 && logical.len) {
        conf_line cl;
        if (split_line(src, start, logical.s, &cl) != 0) {
            snprintf(err, errlen, "%s:%d: expected \"name = value\"", src, start);
            rc = -1;
        } else {
            lines_push(out, cl);
        }
    }
    buf_free(&logical);
    return rc;
}

/* conf_read_file - the whole file as a string */
char *
conf_read_file(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    hj_buf b = HJ_BUF_INIT;
    char chunk[8192];
    size_t n;

    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        buf_add(&b, chunk, n);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        snprintf(err, errlen, "%s: read error", path);
        buf_free(&b);
        return NULL;
    }
    if (memchr(b.s ? b.s : "", 0, b.len)) {
        snprintf(err, errlen, "%s: contains NUL bytes: not a configuration file", path);
        buf_free(&b);
        return NULL;
    }
    return b.s ? b.s : xstrdup("");
}

typedef struct conf_build {
    const conf_line **setting; /* [conf_nsettings_]: the last line of each, or NULL */
    const conf_line **rules;
    size_t nrules;
    const conf_line **overrides;
    size_t noverrides;
} conf_build;

/* has_prefix_word - "rule x" style names */
static const char *
after_word(const char *name, const char *word)
{
    size_t n = strlen(word);

    return strncmp(name, word, n) == 0 && name[n] == ' ' ? name + n + 1 : NULL;
}

/* sort_rule - place a rule line; -o replaces, a file repeat is an error */
static int
sort_rule(conf_build *b, const conf_line *cl, const char *rname, char *err, size_t errlen)
{
    for (size_t i = 0; i < b->nrules; i++) {
        if (strcmp(after_word(b->rules[i]->name, "rule"), rname) != 0)
            continue;
        if (strcmp(cl->src, "-o") == 0) {
            b->rules[i] = cl;
            return 0;
        }
        snprintf(err, errlen, "%s:%d: rule %s is defined twice (first at line %d)", cl->src,
                 cl->line, rname, b->rules[i]->line);
        return -1;
    }
    b->rules = xrealloc(b->rules, (b->nrules + 1) * sizeof(*b->rules));
    b->rules[b->nrules++] = cl;
    return 0;
}

/* sort_lines - settings (last wins), rules and overrides */
static int
sort_lines(conf_build *b, const line_list *l, char *err, size_t errlen)
{
    for (size_t i = 0; i < l->n; i++) {
        const conf_line *cl = &l->v[i];
        const char *arg;
        if ((arg = after_word(cl->name, "rule")) != NULL) {
            if (sort_rule(b, cl, arg, err, errlen) != 0)
                return -1;
        } else if ((arg = after_word(cl->name, "override")) != NULL) {
            b->overrides = xrealloc(b->overrides, (b->noverrides + 1) * sizeof(*b->overrides));
            b->overrides[b->noverrides++] = cl;
        } else {
            int k = setting_index(cl->name);
            if (k < 0) {
                snprintf(err, errlen, "%s:%d: unknown setting \"%s\"", cl->src, cl->line, cl->name);
                return -1;
            }
            b->setting[k] = cl;
        }
    }
    return 0;
}

/* prefix_err - turn "msg" into "src:line: msg" */
static void
prefix_err(const conf_line *cl, char *err, size_t errlen)
{
    char msg[512];

    snprintf(msg, sizeof(msg), "%s", err);
    snprintf(err, errlen, "%s:%d: %s", cl->src, cl->line, msg);
}

/* apply_all - settings, then rules, then overrides, into c */
static int
apply_all(hj_conf *c, const conf_build *b, char *err, size_t errlen)
{
    for (size_t i = 0; i < conf_nsettings_; i++) {
        const conf_line *cl = b->setting[i];
        const char *v = cl ? cl->value : conf_settings[i].def;
        c->text[i] = xstrdup(v);
        if (conf_setting_apply(c, &conf_settings[i], v, err, errlen) != 0)
            return cl ? (prefix_err(cl, err, errlen), -1) : -1;
    }
    for (size_t i = 0; i < b->nrules; i++) {
        const conf_line *cl = b->rules[i];
        if (policy_rule_parse(c->pol, after_word(cl->name, "rule"), cl->value, err, errlen))
            return prefix_err(cl, err, errlen), -1;
    }
    for (size_t i = 0; i < b->noverrides; i++) {
        const conf_line *cl = b->overrides[i];
        size_t before = c->pol->noverrides;
        if (policy_override_parse(c->pol, after_word(cl->name, "override"), cl->value, err, errlen))
            return prefix_err(cl, err, errlen), -1;
        for (size_t k = before; k < c->pol->noverrides; k++) {
            const char *rn = c->pol->overrides[k].rulename;
            size_t j = 0;
            while (j < c->pol->nrules && strcmp(c->pol->rules[j].name, rn) != 0)
                j++;
            if (j == c->pol->nrules) {
                snprintf(err, errlen, "%s:%d: override: no rule named \"%s\"", cl->src, cl->line,
                         rn);
                return -1;
            }
        }
    }
    if (conf_admin_check(c, err, errlen) != 0 || conf_notify_check(c, err, errlen) != 0)
        return -1;
    return policy_finish(c->pol, err, errlen);
}

/* read_opts - each -o name=value as one more line */
static int
read_opts(char *const *opts, size_t nopts, line_list *l, char *err, size_t errlen)
{
    for (size_t i = 0; i < nopts; i++) {
        char *copy = xstrdup(opts[i]);
        conf_line cl;
        int rc = split_line("-o", (int)i + 1, copy, &cl);
        free(copy);
        if (rc != 0) {
            snprintf(err, errlen, "-o %s: expected name=value", opts[i]);
            return -1;
        }
        lines_push(l, cl);
    }
    return 0;
}

hj_conf *
conf_load(const char *path, char *const *opts, size_t nopts, char *err, size_t errlen)
{
    char *text = path ? conf_read_file(path, err, errlen) : xstrdup(conf_default_text);
    line_list lines = {0};
    conf_build b = {0};
    int rc;

    if (text == NULL)
        return NULL;
    hj_conf *c = xcalloc(1, sizeof(*c));
    c->pol = policy_new();
    c->source = xstrdup(path ? path : "(built-in)");
    c->text = xcalloc(conf_nsettings_, sizeof(char *));
    b.setting = xcalloc(conf_nsettings_, sizeof(*b.setting));
    rc = read_text(c->source, text, &lines, err, errlen);
    if (rc == 0)
        rc = read_opts(opts, nopts, &lines, err, errlen);
    if (rc == 0)
        rc = sort_lines(&b, &lines, err, errlen);
    if (rc == 0)
        rc = apply_all(c, &b, err, errlen);
    free(b.setting);
    free(b.rules);
    free(b.overrides);
    lines_free(&lines);
    free(text);
    if (rc != 0) {
        conf_free(c);
        return NULL;
    }
    return c;
}

void
conf_print(const hj_conf *c, hj_buf *out)
{
    buf_printf(out, "# effective configuration (from %s)\n", c->source);
    for (size_t i = 0; i < conf_nsettings_; i++)
        buf_printf(out, "# %s\n%s = %s\n", conf_settings[i].help, conf_settings[i].name,
                   c->text[i]);
    buf_puts(out, "\n# rules: metric over window > limit -> action\n");
    for (size_t i = 0; i < c->pol->nrules; i++) {
        policy_rule_format(&c->pol->rules[i], out);
        buf_putc(out, '\n');
    }
    if (c->pol->noverrides)
        buf_puts(out, "\n# overrides\n");
    for (size_t i = 0; i < c->pol->noverrides; i++) {
        policy_override_format(c->pol, &c->pol->overrides[i], out);
        buf_putc(out, '\n');
    }
}

void
conf_free(hj_conf *c)
{
    if (c == NULL)
        return;
    conf_settings_free(c);
    policy_free(c->pol);
    if (c->text)
        for (size_t i = 0; i < conf_nsettings_; i++)
            free(c->text[i]);
    free(c->text);
    free(c->source);
    free(c);
}
