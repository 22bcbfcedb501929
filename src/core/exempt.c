/*
 * exempt - runtime exemptions in state_dir/exempt.list (see exempt.h)
 */
#include "exempt.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../util/log.h"

/* exempt_path - state_dir/exempt.list */
static void
exempt_path(const hj_conf *c, char *out, size_t len)
{
    snprintf(out, len, "%s/exempt.list", c->state_dir);
}

void
exempt_apply(hj_conf *c)
{
    char path[4200], line[1024], e[256];
    FILE *f;

    exempt_path(c, path, sizeof(path));
    if ((f = fopen(path, "r")) == NULL)
        return;
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (*line && policy_exempt_add(c->pol, line, e, sizeof(e)) != 0)
            log_warn("%s: %s: %s", path, line, e);
    }
    fclose(f);
}

int
exempt_write(const hj_conf *c, const char *pattern, int add)
{
    char path[4200], tmp[4300], line[1024];
    int found = 0;

    exempt_path(c, path, sizeof(path));
    snprintf(tmp, sizeof(tmp), "%s.new", path);
    FILE *in = fopen(path, "r"), *out = fopen(tmp, "w");
    if (out == NULL) {
        if (in)
            fclose(in);
        return -1;
    }
    while (in && fgets(line, sizeof(line), in)) {
        line[strcspn(line, "\r\n")] = 0;
        if (strcmp(line, pattern) == 0 && (found = 1))
            continue;
        fprintf(out, "%s\n", line);
    }
    if (add)
        fprintf(out, "%s\n", pattern);
    if (in)
        fclose(in);
    if (fflush(out) != 0 || fsync(fileno(out)) != 0 || fclose(out) != 0 || rename(tmp, path) != 0)
        return -1;
    return !add && !found;
}
