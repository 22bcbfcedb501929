/*
 * ctl_show - hijackctl's text for people (see ctl_show.c)
 */
#ifndef HJ_CTL_SHOW_H
#define HJ_CTL_SHOW_H

#include <jansson.h>

#include "../../util/buf.h"

void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void show_status(json_t *body, hj_buf *out);
void show_locked(json_t *body, hj_buf *out);
void show_account(json_t *body, hj_buf *out);
void show_decisions(json_t *body, hj_buf *out);
void show_history(json_t *body, hj_buf *out);
void show_top(json_t *body, hj_buf *out);
void show_exempt(json_t *body, hj_buf *out);
void show_lock(json_t *body, hj_buf *out);
void show_reload(json_t *body, hj_buf *out);
void show_purge(json_t *body, hj_buf *out);
void show_held(json_t *body, hj_buf *out);

#endif
