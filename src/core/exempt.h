/*
 * exempt - runtime exemptions: state_dir/exempt.list, one pattern per line
 *
 * SYNOPSIS
 *	void exempt_apply(hj_conf *c);
 *	int exempt_write(const hj_conf *c, const char *pattern, int add);
 *
 * DESCRIPTION
 *	An admin's exemptions (hijackctl exempt add, the API) outlive a
 *	restart in state_dir/exempt.list. exempt_apply() adds the file's
 *	patterns to a configuration being loaded (a bad line is logged and
 *	skipped; a missing file means none). exempt_write() rewrites the
 *	file with pattern added or removed, durably (fsync, rename): 0, 1
 *	when the pattern to remove was not there, -1 when the file cannot be
 *	written. Patterns are checked by the caller. Single-threaded.
 */
#ifndef HJ_EXEMPT_H
#define HJ_EXEMPT_H

#include "../conf/conf.h"

void exempt_apply(hj_conf *c);
int exempt_write(const hj_conf *c, const char *pattern, int add);

#endif
