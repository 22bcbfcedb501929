/*
 * conf_admin - the settings of the admin surface: control socket, HTTP API, Postfix's queue
 *
 * DESCRIPTION
 *	Their rows are in conf_table.c; here are the checks of the values
 *	that are more than a path or a yes/no (an HTTP listener, an API
 *	token), and conf_admin_check(), which validates them together once
 *	all are read: an HTTP listener off loopback needs http_allow_remote
 *	= yes. Returns 0, or -1 with a message in err. Not thread-safe
 *	(loading).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_int.h"

int
conf_check_http_listen(const conf_setting *s, const char *v, char *err, size_t errlen)
{
    const char *colon = strrchr(v, ':');

    if (*v && (colon == NULL || colon == v || atoi(colon + 1) <= 0 || atoi(colon + 1) > 65535)) {
        snprintf(err, errlen, "%s must be host:port or empty, got \"%s\"", s->name, v);
        return -1;
    }
    return 0;
}

/* conf_check_token - an API token: empty (that role is off) or at least 16 printable characters */
int
conf_check_token(const conf_setting *s, const char *v, char *err, size_t errlen)
{
    size_t n = strlen(v);

    for (size_t i = 0; i < n; i++)
        if (v[i] <= ' ' || v[i] == 0x7f)
            n = 0;
    if (*v && n < 16) {
        snprintf(err, errlen, "%s must be empty or at least 16 printable characters", s->name);
        return -1;
    }
    return 0;
}

/* loopback - is the host part of host:port a loopback address */
static int
loopback(const char *listen)
{
    return strncmp(listen, "127.", 4) == 0 || strncmp(listen, "[::1]:", 6) == 0 ||
           strncmp(listen, "localhost:", 10) == 0;
}

int
conf_admin_check(hj_conf *c, char *err, size_t errlen)
{
    if (*c->http_listen && !loopback(c->http_listen) && !c->http_allow_remote) {
        snprintf(err, errlen,
                 "http_listen = %s is not loopback: set http_allow_remote = yes to serve the API "
                 "there (and put TLS in front of it)",
                 c->http_listen);
        return -1;
    }
    return 0;
}
