/*
 * main - the hijackd program: dispatch to its commands
 *
 * SYNOPSIS
 *	hijackd [-c FILE] [-f] [-o name=value]...   the daemon (live.h)
 *	hijackd replay [options] FILE...   replay Postfix logs (replay.h)
 *	hijackd config [-c FILE] [-o name=value]...   print the effective configuration
 *	hijackd config --reference   print the settings reference (docs/SETTINGS.md)
 *	hijackd version
 *
 * DESCRIPTION
 *	One binary, one table of commands; without a command (or with an
 *	option first) it runs the daemon.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../conf/conf.h"
#include "../../util/alloc.h"
#include "../../daemon/live.h"
#include "../../daemon/replay.h"
#include "../../util/version.h"

#ifndef HJ_VERSION
#endif

/* print_reference - "hijackd config --reference": the settings as Markdown */
static int
print_reference(void)
{
    hj_buf b = HJ_BUF_INIT;

    conf_reference(&b);
    fputs(buf_str(&b), stdout);
    buf_free(&b);
    return 0;
}

/* config_main - "hijackd config": print the effective configuration */
static int
config_main(int argc, char **argv)
{
    static const struct option longopts[] = {{"reference", no_argument, NULL, 'R'}, {0}};
    const char *path = NULL;
    char **opts = NULL, err[1024];
    size_t nopts = 0;
    int ch;

    optind = 1;
    while ((ch = getopt_long(argc, argv, "c:o:", longopts, NULL)) != -1) {
        if (ch == 'R') {
            free(opts);
            return print_reference();
        } else if (ch == 'c') {
            path = optarg;
        } else if (ch == 'o') {
            opts = xrealloc(opts, (nopts + 1) * sizeof(char *));
            opts[nopts++] = optarg;
        } else {
            fprintf(stderr, "usage: hijackd config [-c FILE] [-o name=value]... | --reference\n");
            free(opts);
            return 2;
        }
    }
    hj_conf *c = conf_load(path, opts, nopts, err, sizeof(err));
    free(opts);
    if (c == NULL) {
        fprintf(stderr, "hijackd config: configuration error: %s\n", err);
        return 3;
    }
    hj_buf b = HJ_BUF_INIT;
    conf_print(c, &b);
    fputs(buf_str(&b), stdout);
    buf_free(&b);
    conf_free(c);
    return 0;
}

static int
version_main(int argc, char **argv)
{
    (void)argc, (void)argv;
    printf("hijackd %s\n", HJ_VERSION);
    return 0;
}

static const struct {
    const char *name;
    int (*run)(int, char **);
    const char *help;
} commands[] = {
    {"replay", replay_main, "replay Postfix logs through the engine and report"},
    {"config", config_main, "print the effective configuration"},
    {"version", version_main, "print the version"},
};

static void
usage(FILE *f)
{
    fprintf(f, "usage: hijackd [-c FILE] [-f] [-o name=value]...   run the daemon\n"
               "       hijackd COMMAND [options]\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].help);
}

int
main(int argc, char **argv)
{
    if (argc < 2 ||
        (argv[1][0] == '-' && strcmp(argv[1], "-h") != 0 && strcmp(argv[1], "--help") != 0))
        return live_main(argc, argv);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "hijackd: unknown command \"%s\"\n", argv[1]);
    usage(stderr);
    return 2;
}
