/*
 * jname - a name (an account, a rule's entity) as JSON text, and back to its raw bytes
 *
 * SYNOPSIS
 *	json_t *jname(const char *raw);
 *	void jname_text(const char *raw, hj_buf *out);
 *	int jname_raw(const char *shown, char *out, size_t outlen);
 *
 * DESCRIPTION
 *	Account names come from SASL logins and log lines: any bytes. JSON
 *	(and jansson) take only UTF-8, so a name is made JSON-safe once, by
 *	one rule: a name that is valid UTF-8 is shown as it is; otherwise
 *	each byte that is not part of a valid UTF-8 sequence is shown as
 *	the four characters \xNN (lower-case hex, NN >= 80), the rest as it
 *	is. "bad\377name@example.org" is shown as "bad\xffname@example.org".
 *	The raw name stays the key of the engine and the store.
 *
 *	jname() is that text as a new JSON string (owned by the caller);
 *	jname_text() appends it to out. jname_raw() undoes it for a name an
 *	admin gives back: every \xNN with NN >= 80 becomes that byte. It
 *	returns 1 when it decoded any (out holds the raw name), 0 when there
 *	was none (out holds the name unchanged), -1 when out is too small.
 *	A valid UTF-8 name that holds the text "\xff" itself is ambiguous;
 *	callers look the name up as given first, then its raw form.
 *	Pure; thread-safe.
 */
#ifndef HJ_JNAME_H
#define HJ_JNAME_H

#include <jansson.h>
#include <stddef.h>

#include "buf.h"

json_t *jname(const char *raw);
void jname_text(const char *raw, hj_buf *out);
int jname_raw(const char *shown, char *out, size_t outlen);

#endif
