/*
 * conf_int - shared by the configuration's files only (conf.c, conf_signals.c, conf_admin.c)
 *
 * DESCRIPTION
 *	Not an API: programs use conf.h. The value parsers every setting
 *	uses, and the apply functions of the settings defined outside conf.c
 *	(the table of all settings stays in conf.c). Each apply function
 *	returns 0, or -1 with a message in err.
 */
#ifndef HJ_CONF_INT_H
#define HJ_CONF_INT_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"

typedef int (*conf_apply_fn)(hj_conf *c, const char *value, char *err, size_t errlen);

int conf_list_each(hj_conf *c, const char *value, char *err, size_t errlen,
                   int (*fn)(hj_conf *, const char *, char *, size_t));
int conf_int_in(const char *v, long long lo, long long hi, long long *out, char *err,
                size_t errlen);
int conf_u32_in(const char *v, long long lo, long long hi, uint32_t *out, char *err, size_t errlen);
int conf_duration_min1(const char *v, int64_t *out, char *err, size_t errlen);
void conf_set_str(char **dst, const char *v);
int conf_yes_no(const char *v, int *out, char *err, size_t errlen);

/* conf_signals.c: the score's signals */
int conf_set_score_weights(hj_conf *c, const char *v, char *err, size_t errlen);
int conf_set_min_kinds(hj_conf *c, const char *v, char *err, size_t errlen);
int conf_set_signal_window(hj_conf *c, const char *v, char *err, size_t errlen);
int conf_set_learn_time(hj_conf *c, const char *v, char *err, size_t errlen);
int conf_set_sig_failed(hj_conf *c, const char *v, char *err, size_t errlen);
int conf_set_sig_networks(hj_conf *c, const char *v, char *err, size_t errlen);
int conf_set_sig_similar(hj_conf *c, const char *v, char *err, size_t errlen);
int conf_set_sig_share(hj_conf *c, const char *v, char *err, size_t errlen);
int conf_set_sig_share_min(hj_conf *c, const char *v, char *err, size_t errlen);
int conf_set_usual_share(hj_conf *c, const char *v, char *err, size_t errlen);
int conf_set_usual_min(hj_conf *c, const char *v, char *err, size_t errlen);
int conf_set_volume_factor(hj_conf *c, const char *v, char *err, size_t errlen);
int conf_set_volume_floor(hj_conf *c, const char *v, char *err, size_t errlen);
int conf_set_freemail(hj_conf *c, const char *v, char *err, size_t errlen);

/* conf_admin.c: the admin surface (control socket, HTTP API, queue) */
int conf_set_control_socket(hj_conf *c, const char *v, char *err, size_t errlen);
int conf_set_admin_group(hj_conf *c, const char *v, char *err, size_t errlen);
int conf_set_http_listen(hj_conf *c, const char *v, char *err, size_t errlen);
int conf_set_http_allow_remote(hj_conf *c, const char *v, char *err, size_t errlen);
int conf_set_http_token_read(hj_conf *c, const char *v, char *err, size_t errlen);
int conf_set_http_token_admin(hj_conf *c, const char *v, char *err, size_t errlen);
int conf_set_metrics_token(hj_conf *c, const char *v, char *err, size_t errlen);
int conf_set_web_dir(hj_conf *c, const char *v, char *err, size_t errlen);
int conf_set_postqueue_path(hj_conf *c, const char *v, char *err, size_t errlen);
int conf_set_postsuper_path(hj_conf *c, const char *v, char *err, size_t errlen);
int conf_set_postfix_config_dir(hj_conf *c, const char *v, char *err, size_t errlen);
int conf_set_lock_purge_queue(hj_conf *c, const char *v, char *err, size_t errlen);
int conf_admin_check(hj_conf *c, char *err, size_t errlen);

#endif
