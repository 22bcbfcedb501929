/*
 * scan - an anti-spam engine's verdict on one message: class, score, symbols, why unscanned
 *
 * SYNOPSIS
 *	void scan_verdict_init(scan_verdict *v);
 *	void scan_unscanned(scan_verdict *v, scan_reason why, const char *detail);
 *	void scan_add_symbol(scan_verdict *v, const char *name, size_t len, double score);
 *	const char *scan_class_name(scan_class c);
 *	const char *scan_reason_name(scan_reason r);
 *	const char *scan_breaker_name(scan_breaker b);
 *
 *	void scan_rules_default(scan_rules *r);
 *	int scan_rules_set(scan_rules *r, const char *item, char *err, size_t errlen);
 *	scan_class scan_rules_action(const scan_rules *r, const char *action,
 *	                             double score, double threshold);
 *	scan_class scan_rules_score(const scan_rules *r, int spam, double score,
 *	                            double threshold);
 *
 * DESCRIPTION
 *	A scan_verdict is plain data of fixed size: class (SCAN_SPAM,
 *	SCAN_SUSPECT, SCAN_CLEAN, or SCAN_UNSCANNED with a reason and a short
 *	detail), the engine's score and threshold, rspamd's action, and the
 *	SCAN_MAX_SYMBOLS highest-scoring symbols (nsym_total counts all the
 *	reply named). Every text in it is NUL-terminated, cut to its field and
 *	printable ASCII only (each other byte is '?'): safe in a log line or
 *	JSON string. scan_add_symbol() keeps the top symbols by score (ties: the
 *	first seen); an empty name is skipped. scan_unscanned() resets v to
 *	unscanned with why and detail (may be NULL).
 *
 *	scan_rules maps an engine's answer to a class. rspamd: its action, by
 *	a table (scan_rules_default(): reject, discard, quarantine -> spam;
 *	soft reject, rewrite subject, add header -> suspect; greylist, no
 *	action -> clean), which scan_rules_set() changes one "action=class"
 *	item at a time ("add_header=clean": '_' stands for the blank, up to
 *	SCAN_MAX_RULES actions, custom ones included). An action in no row is
 *	judged by score: >= threshold spam, >= suspect_percent of it suspect,
 *	else clean. spamd (scan_rules_score): "Spam: True" is spam, a score >=
 *	suspect_percent of the threshold suspect, else clean. Pure; thread-safe.
 */
#ifndef HJ_SCAN_H
#define HJ_SCAN_H

#include <stddef.h>

#define SCAN_MAX_SYMBOLS 8 /* kept per verdict: the highest scores */
#define SCAN_SYMBOL_LEN 48 /* a symbol's name, NUL included (longer ones are cut) */
#define SCAN_ACTION_LEN 24
#define SCAN_DETAIL_LEN 64
#define SCAN_MAX_RULES 16
#define SCAN_MAX_REPLY (256 * 1024) /* a longer reply is a bad reply */
#define SCAN_SUSPECT_PERCENT 60     /* scan_rules_default(): suspect from 60% of the threshold */

typedef enum scan_class { SCAN_UNSCANNED, SCAN_CLEAN, SCAN_SUSPECT, SCAN_SPAM, SCAN__NCLASS } scan_class;

typedef enum scan_reason {
    SCAN_R_NONE,         /* scanned */
    SCAN_R_TIMEOUT,      /* no whole reply within the scan timeout */
    SCAN_R_REFUSED,      /* the connection could not be made */
    SCAN_R_IO,           /* the connection failed after it was made */
    SCAN_R_TOO_BIG,      /* over the size limit: not sent */
    SCAN_R_BUSY,         /* the in-flight limit was reached: not sent */
    SCAN_R_BAD_REPLY,    /* the reply was not understood (detail says why) */
    SCAN_R_BREAKER_OPEN, /* the scanner failed too often: not tried */
    SCAN_R_SHUTDOWN,     /* the client was freed with the scan in flight */
    SCAN_R__COUNT
} scan_reason;

typedef enum scan_breaker { SCAN_B_CLOSED, SCAN_B_OPEN, SCAN_B_HALF_OPEN, SCAN_B__COUNT } scan_breaker;

typedef struct scan_symbol {
    char name[SCAN_SYMBOL_LEN];
    double score;
} scan_symbol;

typedef struct scan_verdict {
    scan_class cls;
    scan_reason reason;            /* SCAN_R_NONE unless unscanned */
    char detail[SCAN_DETAIL_LEN];  /* unscanned: e.g. "HTTP 500", "no action" */
    double score, threshold;       /* rspamd: score, required_score; spamd: score / threshold */
    char action[SCAN_ACTION_LEN];  /* rspamd's action; "" for spamd */
    size_t nsym, nsym_total;       /* kept in sym[], named by the reply */
    scan_symbol sym[SCAN_MAX_SYMBOLS]; /* highest score first */
    double elapsed_ms;             /* filled by scan_client: submit to verdict */
} scan_verdict;

typedef struct scan_rules {
    struct {
        char action[SCAN_ACTION_LEN]; /* blanks as in rspamd's reply: "add header" */
        scan_class cls;
    } map[SCAN_MAX_RULES];
    size_t nmap;
    unsigned suspect_percent; /* of the threshold; 0: no suspect by score */
} scan_rules;

void scan_verdict_init(scan_verdict *v);
void scan_unscanned(scan_verdict *v, scan_reason why, const char *detail);
void scan_add_symbol(scan_verdict *v, const char *name, size_t len, double score);
void scan_copy_text(char *dst, size_t cap, const char *src, size_t len);
const char *scan_class_name(scan_class c);
const char *scan_reason_name(scan_reason r);
const char *scan_breaker_name(scan_breaker b);

void scan_rules_default(scan_rules *r);
int scan_rules_set(scan_rules *r, const char *item, char *err, size_t errlen);
scan_class scan_rules_action(const scan_rules *r, const char *action, double score,
                             double threshold);
scan_class scan_rules_score(const scan_rules *r, int spam, double score, double threshold);

#endif
