/*
 * conf_admin - the settings of the admin surface: control socket, HTTP API, Postfix's queue
 *
 * DESCRIPTION
 *	Each function parses one setting's value into hj_conf (conf.c's table
 *	names them); conf_admin_check() validates them together once all are
 *	read: an HTTP listener off loopback needs http_allow_remote = yes.
 *	Returns 0, or -1 with a message in err. Not thread-safe (loading).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_int.h"

int
conf_yes_no(const char *v, int *out, char *err, size_t errlen)
{
    if (strcmp(v, "yes") != 0 && strcmp(v, "no") != 0) {
        snprintf(err, errlen, "bad value \"%s\" (yes or no)", v);
        return -1;
    }
    *out = strcmp(v, "yes") == 0;
    return 0;
}

/* abs_path - an absolute path, or empty when empty_ok */
static int
abs_path(char **dst, const char *what, const char *v, int empty_ok, char *err, size_t errlen)
{
    if ((*v || !empty_ok) && v[0] != '/') {
        snprintf(err, errlen, "%s must be an absolute path%s, got \"%s\"", what,
                 empty_ok ? " or empty" : "", v);
        return -1;
    }
    conf_set_str(dst, v);
    return 0;
}

int
conf_set_control_socket(hj_conf *c, const char *v, char *err, size_t errlen)
{
    return abs_path(&c->control_socket, "control_socket", v, 1, err, errlen);
}

int
conf_set_admin_group(hj_conf *c, const char *v, char *err, size_t errlen)
{
    (void)err, (void)errlen;
    conf_set_str(&c->admin_group, v);
    return 0;
}

int
conf_set_http_listen(hj_conf *c, const char *v, char *err, size_t errlen)
{
    const char *colon = strrchr(v, ':');

    if (*v && (colon == NULL || colon == v || atoi(colon + 1) <= 0 || atoi(colon + 1) > 65535)) {
        snprintf(err, errlen, "http_listen must be host:port or empty, got \"%s\"", v);
        return -1;
    }
    conf_set_str(&c->http_listen, v);
    return 0;
}

int
conf_set_http_allow_remote(hj_conf *c, const char *v, char *err, size_t errlen)
{
    return conf_yes_no(v, &c->http_allow_remote, err, errlen);
}

/* token - an API token: empty (that role is off) or at least 16 printable characters */
static int
token(char **dst, const char *what, const char *v, char *err, size_t errlen)
{
    size_t n = strlen(v);

    for (size_t i = 0; i < n; i++)
        if (v[i] <= ' ' || v[i] == 0x7f)
            n = 0;
    if (*v && n < 16) {
        snprintf(err, errlen, "%s must be empty or at least 16 printable characters", what);
        return -1;
    }
    conf_set_str(dst, v);
    return 0;
}

int
conf_set_http_token_read(hj_conf *c, const char *v, char *err, size_t errlen)
{
    return token(&c->http_token_read, "http_token_read", v, err, errlen);
}

int
conf_set_http_token_admin(hj_conf *c, const char *v, char *err, size_t errlen)
{
    return token(&c->http_token_admin, "http_token_admin", v, err, errlen);
}

int
conf_set_metrics_token(hj_conf *c, const char *v, char *err, size_t errlen)
{
    return conf_yes_no(v, &c->metrics_need_token, err, errlen);
}

int
conf_set_web_dir(hj_conf *c, const char *v, char *err, size_t errlen)
{
    return abs_path(&c->web_dir, "web_dir", v, 1, err, errlen);
}

int
conf_set_postqueue_path(hj_conf *c, const char *v, char *err, size_t errlen)
{
    return abs_path(&c->postqueue_path, "postqueue_path", v, 0, err, errlen);
}

int
conf_set_postsuper_path(hj_conf *c, const char *v, char *err, size_t errlen)
{
    return abs_path(&c->postsuper_path, "postsuper_path", v, 0, err, errlen);
}

int
conf_set_postfix_command_timeout(hj_conf *c, const char *v, char *err, size_t errlen)
{
    if (conf_duration_min1(v, &c->postfix_command_timeout, err, errlen) != 0)
        return -1;
    if (c->postfix_command_timeout > 3600) {
        snprintf(err, errlen, "postfix_command_timeout is at most 1h, got %s", v);
        return -1;
    }
    return 0;
}

int
conf_set_postfix_config_dir(hj_conf *c, const char *v, char *err, size_t errlen)
{
    return abs_path(&c->postfix_config_dir, "postfix_config_dir", v, 1, err, errlen);
}

int
conf_set_lock_purge_queue(hj_conf *c, const char *v, char *err, size_t errlen)
{
    return conf_yes_no(v, &c->lock_purge_queue, err, errlen);
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
