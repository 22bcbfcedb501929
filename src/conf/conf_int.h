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
int conf_set_postfix_command_timeout(hj_conf *c, const char *v, char *err, size_t errlen);
int conf_set_postfix_config_dir(hj_conf *c, const char *v, char *err, size_t errlen);
int conf_set_lock_purge_queue(hj_conf *c, const char *v, char *err, size_t errlen);
int conf_admin_check(hj_conf *c, char *err, size_t errlen);
char *conf_read_file(const char *path, char *err, size_t errlen);

/* conf_notify.c: alerts, user notices, reply-to-unlock, webhooks, reply texts */
int conf_set_sendmail_path(hj_conf *c, const char *v, char *err, size_t errlen);
int conf_set_alert_to(hj_conf *c, const char *v, char *err, size_t errlen);
int conf_set_alert_from(hj_conf *c, const char *v, char *err, size_t errlen);
int conf_set_alert_on(hj_conf *c, const char *v, char *err, size_t errlen);
int conf_set_alert_max(hj_conf *c, const char *v, char *err, size_t errlen);
int conf_set_alert_interval(hj_conf *c, const char *v, char *err, size_t errlen);
int conf_set_unlock_address(hj_conf *c, const char *v, char *err, size_t errlen);
int conf_set_unlock_admins(hj_conf *c, const char *v, char *err, size_t errlen);
int conf_set_unlock_lifetime(hj_conf *c, const char *v, char *err, size_t errlen);
int conf_set_notice_rules(hj_conf *c, const char *v, char *err, size_t errlen);
int conf_set_notice_template(hj_conf *c, const char *v, char *err, size_t errlen);
int conf_set_admin_contact(hj_conf *c, const char *v, char *err, size_t errlen);
int conf_set_webhook_urls(hj_conf *c, const char *v, char *err, size_t errlen);
int conf_set_webhook_format(hj_conf *c, const char *v, char *err, size_t errlen);
int conf_set_webhook_on(hj_conf *c, const char *v, char *err, size_t errlen);
int conf_set_webhook_timeout(hj_conf *c, const char *v, char *err, size_t errlen);
int conf_set_webhook_retry(hj_conf *c, const char *v, char *err, size_t errlen);
int conf_set_webhook_max_age(hj_conf *c, const char *v, char *err, size_t errlen);
int conf_reply_text_check(const char *v, char *err, size_t errlen);
int conf_notify_check(hj_conf *c, char *err, size_t errlen);
void conf_notify_free(hj_conf *c);
extern const char *const conf_notice_vars[]; /* the placeholders of notices and reply texts */
extern const size_t conf_notice_nvars;

#endif
