/*
 * ctl_args - hijackctl's command line (see ctl_args.h)
 */
#include "ctl_args.h"

#include <stdlib.h>
#include <string.h>

#include "../../util/alloc.h"

static const struct ctl_opt {
    const char *name;
    unsigned bit;
    size_t off;       /* where its value goes (-o: appended to opts); 0: it takes none */
    const char *meta; /* its value, for usage */
} ctl_opts[] = {
    {"-c", OPT_CONF, offsetof(ctl_args, conf_path), "FILE"},
    {"-o", OPT_O, offsetof(ctl_args, opts), "name=value"},
    {"--json", OPT_JSON, 0, NULL},
    {"-h", OPT_HELP, 0, NULL},
    {"--help", OPT_HELP, 0, NULL},
    {"--reason", OPT_REASON, offsetof(ctl_args, reason), "TEXT"},
    {"--since", OPT_SINCE, offsetof(ctl_args, since), "T"},
    {"--limit", OPT_LIMIT, offsetof(ctl_args, limit), "N"},
    {"--yes", OPT_YES, 0, NULL},
    {"--config-dir", OPT_CONFIG_DIR, offsetof(ctl_args, config_dir), "DIR"},
    {"--postqueue", OPT_POSTQUEUE, offsetof(ctl_args, postqueue), "PATH"},
    {"--postsuper", OPT_POSTSUPER, offsetof(ctl_args, postsuper), "PATH"},
    {"--sender", OPT_SENDER, offsetof(ctl_args, sender), "ADDRESS"},
    {"--by-sender", OPT_BY_SENDER, 0, NULL},
};

/* opt_find - the option arg names; *val is its attached value ("--x=v", "-cFILE") or NULL */
static const struct ctl_opt *
opt_find(const char *arg, const char **val)
{
    for (size_t i = 0; i < sizeof(ctl_opts) / sizeof(ctl_opts[0]); i++) {
        const struct ctl_opt *o = &ctl_opts[i];
        size_t n = strlen(o->name);
        *val = NULL;
        if (strncmp(arg, o->name, n) != 0)
            continue;
        if (arg[n] == 0)
            return o;
        if (o->off && (arg[1] != '-' || arg[n] == '=')) { /* "-cFILE", "--reason=TEXT" */
            *val = arg + n + (arg[1] == '-');
            return o;
        }
    }
    return NULL;
}

static void
opt_store(ctl_args *a, const struct ctl_opt *o, const char *val)
{
    a->given |= o->bit;
    if (o->bit == OPT_O) {
        a->opts = xrealloc(a->opts, (a->nopts + 1) * sizeof(char *));
        a->opts[a->nopts++] = (char *)val;
    } else if (o->off) {
        *(const char **)((char *)a + o->off) = val; /* the last one given wins */
    }
}

int
ctl_args_parse(int argc, char **argv, ctl_args *a)
{
    int only_words = 0;

    a->words = xcalloc((size_t)argc + 1, sizeof(char *));
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i], *val;
        if (only_words || s[0] != '-' || s[1] == 0) {
            a->words[a->nwords++] = argv[i];
            continue;
        }
        if (strcmp(s, "--") == 0) {
            only_words = 1;
            continue;
        }
        const struct ctl_opt *o = opt_find(s, &val);
        if (o == NULL) {
            fprintf(stderr, "hijackctl: unknown option %s\n", s);
            return -1;
        }
        if (o->off && val == NULL && i + 1 >= argc) {
            fprintf(stderr, "hijackctl: option %s needs a value\n", s);
            return -1;
        }
        opt_store(a, o, o->off && val == NULL ? argv[++i] : val);
    }
    return 0;
}

void
ctl_args_free(ctl_args *a)
{
    free(a->opts);
    free(a->words);
}

void
ctl_args_usage(FILE *f, unsigned bits)
{
    for (size_t i = 0; i < sizeof(ctl_opts) / sizeof(ctl_opts[0]); i++)
        if (bits & ctl_opts[i].bit)
            fprintf(f, " [%s%s%s]", ctl_opts[i].name, ctl_opts[i].meta ? " " : "",
                    ctl_opts[i].meta ? ctl_opts[i].meta : "");
}

const char *
ctl_args_name(unsigned bits)
{
    for (size_t i = 0; i < sizeof(ctl_opts) / sizeof(ctl_opts[0]); i++)
        if (bits & ctl_opts[i].bit)
            return ctl_opts[i].name;
    return "?";
}
