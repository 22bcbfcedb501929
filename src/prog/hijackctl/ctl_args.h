/*
 * ctl_args - hijackctl's command line: options anywhere, the rest are words
 *
 * SYNOPSIS
 *	int ctl_args_parse(int argc, char **argv, ctl_args *a);
 *	void ctl_args_free(ctl_args *a);
 *	void ctl_args_usage(FILE *f, unsigned bits);
 *	const char *ctl_args_name(unsigned bits);
 *
 * DESCRIPTION
 *	ctl_args_parse() fills a (zeroed by the caller) from argv: each option of the table
 *	(ctl_args.c), its value attached ("--reason=TEXT", "-cFILE") or the next argument, the last
 *	one given winning (-o: each appended); "--" ends the options; every other argument is a
 *	word, in order. It returns 0, or -1 after a message on stderr (an unknown option, a value
 *	missing). The values point into argv. ctl_args_usage() prints " [NAME META]" for each option
 *	in bits; ctl_args_name() is the name of the first option in bits. ctl_args_free() frees
 *	what ctl_args_parse() allocated. No state; allocation failure is fatal.
 */
#ifndef HJ_CTL_ARGS_H
#define HJ_CTL_ARGS_H

#include <stddef.h>
#include <stdio.h>

enum {
    OPT_CONF = 1 << 0,
    OPT_O = 1 << 1,
    OPT_JSON = 1 << 2,
    OPT_HELP = 1 << 3,
    OPT_REASON = 1 << 4,
    OPT_SINCE = 1 << 5,
    OPT_LIMIT = 1 << 6,
    OPT_YES = 1 << 7,
    OPT_CONFIG_DIR = 1 << 8,
    OPT_POSTQUEUE = 1 << 9,
    OPT_POSTSUPER = 1 << 10,
    OPT_SENDER = 1 << 11,
    OPT_BY_SENDER = 1 << 12,
};
#define OPT_GLOBAL (OPT_CONF | OPT_O | OPT_JSON | OPT_HELP)

typedef struct ctl_args {
    unsigned given; /* OPT_* seen */
    const char *conf_path;
    char **opts; /* -o values */
    size_t nopts;
    const char *reason, *since, *limit, *config_dir, *postqueue, *postsuper, *sender;
    char **words; /* the command and its operands, in order */
    size_t nwords;
} ctl_args;

int ctl_args_parse(int argc, char **argv, ctl_args *a);
void ctl_args_free(ctl_args *a);
void ctl_args_usage(FILE *f, unsigned bits);
const char *ctl_args_name(unsigned bits);

#endif
