/*
 * conf_int - shared by the configuration's files only: the typed settings table
 *
 * DESCRIPTION
 *	Not an API: programs use conf.h. conf_table.c holds conf_settings[],
 *	one row per setting in the order "hijackd config" prints them: name,
 *	default text, kind, the field (by offsetof, into hj_conf or into its
 *	hj_policy), bounds, flags and help. conf_kind.c applies, frees,
 *	compares and documents a row by its kind, in the style of Postfix's
 *	mail_conf.h:
 *
 *	    STR     a string; .check (optional) validates it first
 *	    INT     a decimal integer in [min, max] (a 4- or 8-byte field)
 *	    TIME    a duration (timeconv_duration) in [min, max] seconds, max 0 = none;
 *	            .what is the hint in "bad duration" (default: examples)
 *	    BOOL    yes or no, into an int
 *	    OCTAL   a file mode up to max, into an int
 *	    ENUM    one of .names (NULL-terminated), their index into an int;
 *	            .what names it in "bad WHAT"
 *	    LIST    a comma/space list into a char ** and its size_t count
 *	            (.off_n); .item (optional) checks and may rewrite each word
 *	    CUSTOM  .apply does it all: values with real structure (networks,
 *	            exempt patterns, action-bit sets, weights, a file)
 *
 *	Each apply or check function returns 0, or -1 with a message in err
 *	(conf.c prefixes "file:line: "). The area files keep the functions of
 *	their settings and the checks that span settings: conf_admin.c,
 *	conf_notify.c, conf_signals.c. Not thread-safe while loading.
 */
#ifndef HJ_CONF_INT_H
#define HJ_CONF_INT_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"

typedef enum conf_kind {
    CONF_K_STR,
    CONF_K_INT,
    CONF_K_TIME,
    CONF_K_BOOL,
    CONF_K_OCTAL,
    CONF_K_ENUM,
    CONF_K_LIST,
    CONF_K_CUSTOM,
    CONF_K__COUNT
} conf_kind;

enum { CONF_B_CONF, CONF_B_POL }; /* the field is in hj_conf, or in its hj_policy */

/* flags that only the table's own code reads (conf.h has the public ones) */
enum {
    CONF_F_EMPTY = 1u << 8, /* conf_check_path: "" is allowed too */
    CONF_F_FILE = 1u << 9,  /* the value names a file whose content the char * field holds:
                               owned, freed, and compared by conf_changed() too */
};

typedef struct conf_setting conf_setting;
typedef int (*conf_apply_fn)(hj_conf *c, const char *value, char *err, size_t errlen);
typedef int (*conf_check_fn)(const conf_setting *s, const char *value, char *err, size_t errlen);
typedef int (*conf_item_fn)(const conf_setting *s, char *item, char *err, size_t errlen);

struct conf_setting {
    const char *name;
    const char *def;
    conf_kind kind;
    int base;                 /* CONF_B_CONF or CONF_B_POL */
    size_t off, size;         /* the field (not CUSTOM, but for CONF_F_FILE) */
    size_t off_n;             /* LIST: the count, in hj_conf */
    long long min, max;       /* INT, TIME, OCTAL */
    unsigned flags;           /* CONF_F_* */
    conf_check_fn check;      /* STR */
    conf_item_fn item;        /* LIST */
    conf_apply_fn apply;      /* CUSTOM */
    const char *const *names; /* ENUM */
    const char *what;         /* ENUM: "bad WHAT"; TIME: the hint */
    const char *type;         /* the reference's type column, when the kind says too little */
    const char *help;         /* one line: "hijackd config" prints it above the setting */
    const char *more;         /* the reference only: what the line has no room for */
};

extern const conf_setting conf_settings[];
extern const size_t conf_nsettings_;

/* conf.c */
char *conf_read_file(const char *path, char *err, size_t errlen);

/* conf_kind.c */
int conf_setting_apply(hj_conf *c, const conf_setting *s, const char *v, char *err, size_t errlen);
void conf_settings_free(hj_conf *c);
int conf_int_in(const char *v, long long lo, long long hi, long long *out, char *err,
                size_t errlen);
int conf_list_each(hj_conf *c, const char *value, char *err, size_t errlen,
                   int (*fn)(hj_conf *, const char *, char *, size_t));
int conf_check_path(const conf_setting *s, const char *v, char *err, size_t errlen);

/* conf_signals.c: the score's signals */
int conf_set_score_weights(hj_conf *c, const char *v, char *err, size_t errlen);
int conf_set_freemail(hj_conf *c, const char *v, char *err, size_t errlen);

/* conf_admin.c: the admin surface (control socket, HTTP API, queue) */
int conf_check_http_listen(const conf_setting *s, const char *v, char *err, size_t errlen);
int conf_check_token(const conf_setting *s, const char *v, char *err, size_t errlen);
int conf_admin_check(hj_conf *c, char *err, size_t errlen);

/* conf_notify.c: alerts, user notices, reply-to-unlock, webhooks, reply texts */
int conf_check_address(const conf_setting *s, const char *v, char *err, size_t errlen);
int conf_item_full_address(const conf_setting *s, char *item, char *err, size_t errlen);
int conf_item_url(const conf_setting *s, char *item, char *err, size_t errlen);
int conf_set_alert_on(hj_conf *c, const char *v, char *err, size_t errlen);
int conf_set_webhook_on(hj_conf *c, const char *v, char *err, size_t errlen);
int conf_set_notice_template(hj_conf *c, const char *v, char *err, size_t errlen);
int conf_set_prompt_template(hj_conf *c, const char *v, char *err, size_t errlen);
int conf_set_spam_prompt_on(hj_conf *c, const char *v, char *err, size_t errlen);
int conf_reply_text_check(const char *v, char *err, size_t errlen);
int conf_notify_check(hj_conf *c, char *err, size_t errlen);
extern const char *const conf_notice_vars[]; /* the placeholders of notices and reply texts */
extern const size_t conf_notice_nvars;

#endif
