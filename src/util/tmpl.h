/*
 * tmpl - text templates with {name} placeholders
 *
 * SYNOPSIS
 *	typedef struct tmpl_var { const char *name, *value; } tmpl_var;
 *	void tmpl_expand(const char *tmpl, const tmpl_var *vars, size_t n, int oneline,
 *	                 hj_buf *out);
 *	int tmpl_check(const char *tmpl, const char *const *names, size_t n, char *err,
 *	               size_t errlen);
 *
 * DESCRIPTION
 *	"{account}" is replaced by the value of the variable named account;
 *	"{{" is a literal "{". A placeholder that names no variable is kept
 *	as written (tmpl_check() reports it when the template is loaded, so
 *	an admin's typo is an error at start-up, not a strange mail later).
 *	With oneline, control characters and bytes above 126 in values become
 *	'?' (an SMTP reply text is one line of ASCII). Pure; thread-safe.
 */
#ifndef HJ_TMPL_H
#define HJ_TMPL_H

#include <stddef.h>

#include "buf.h"

typedef struct tmpl_var {
    const char *name, *value;
} tmpl_var;

void tmpl_expand(const char *tmpl, const tmpl_var *vars, size_t n, int oneline, hj_buf *out);
int tmpl_check(const char *tmpl, const char *const *names, size_t n, char *err, size_t errlen);

#endif
