/*
 * scan - an anti-spam engine's verdict; the engine-answer-to-class rules (see scan.h)
 */
#include "scan.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const class_names[SCAN__NCLASS] = {"unscanned", "clean", "suspect", "spam"};

static const char *const reason_names[SCAN_R__COUNT] = {
    "scanned",  "timeout",   "refused",      "io error", "too big",
    "busy",     "bad reply", "breaker open", "shutdown",
};

static const char *const breaker_names[SCAN_B__COUNT] = {"closed", "open", "half-open"};

/* rspamd's actions (rspamd.com/doc/configuration/metrics.html) and what each means here */
static const struct {
    const char *action;
    scan_class cls;
} default_map[] = {
    {"reject", SCAN_SPAM},          {"discard", SCAN_SPAM},        {"quarantine", SCAN_SPAM},
    {"soft reject", SCAN_SUSPECT},  {"rewrite subject", SCAN_SUSPECT},
    {"add header", SCAN_SUSPECT},   {"greylist", SCAN_CLEAN},      {"no action", SCAN_CLEAN},
};

const char *
scan_class_name(scan_class c)
{
    return (unsigned)c < SCAN__NCLASS ? class_names[c] : "?";
}

const char *
scan_reason_name(scan_reason r)
{
    return (unsigned)r < SCAN_R__COUNT ? reason_names[r] : "?";
}

const char *
scan_breaker_name(scan_breaker b)
{
    return (unsigned)b < SCAN_B__COUNT ? breaker_names[b] : "?";
}

/* scan_copy_text - src[0..len) into dst, cut to cap - 1, each byte but printable ASCII as '?' */
void
scan_copy_text(char *dst, size_t cap, const char *src, size_t len)
{
    size_t n = len < cap - 1 ? len : cap - 1;

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)src[i];
        dst[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    dst[n] = '\0';
}

void
scan_verdict_init(scan_verdict *v)
{
    memset(v, 0, sizeof(*v));
    v->cls = SCAN_UNSCANNED;
}

void
scan_unscanned(scan_verdict *v, scan_reason why, const char *detail)
{
    double ms = v->elapsed_ms;

    scan_verdict_init(v);
    v->reason = why;
    v->elapsed_ms = ms;
    if (detail)
        scan_copy_text(v->detail, sizeof(v->detail), detail, strlen(detail));
}

/* scan_add_symbol - keep the SCAN_MAX_SYMBOLS highest scores, highest first, ties by arrival */
void
scan_add_symbol(scan_verdict *v, const char *name, size_t len, double score)
{
    size_t at;

    if (len == 0)
        return;
    if (!isfinite(score))
        score = 0;
    v->nsym_total++;
    for (at = v->nsym; at > 0 && v->sym[at - 1].score < score; at--)
        ;
    if (at >= SCAN_MAX_SYMBOLS)
        return;
    if (v->nsym < SCAN_MAX_SYMBOLS)
        v->nsym++;
    memmove(&v->sym[at + 1], &v->sym[at], (v->nsym - 1 - at) * sizeof(v->sym[0]));
    scan_copy_text(v->sym[at].name, sizeof(v->sym[at].name), name, len);
    v->sym[at].score = score;
}

void
scan_rules_default(scan_rules *r)
{
    memset(r, 0, sizeof(*r));
    for (size_t i = 0; i < sizeof(default_map) / sizeof(default_map[0]); i++) {
        snprintf(r->map[i].action, sizeof(r->map[i].action), "%s", default_map[i].action);
        r->map[i].cls = default_map[i].cls;
    }
    r->nmap = sizeof(default_map) / sizeof(default_map[0]);
    r->suspect_percent = SCAN_SUSPECT_PERCENT;
}

/* class_of - "spam", "suspect", "clean" */
static int
class_of(const char *s, scan_class *c)
{
    for (int i = SCAN_CLEAN; i < SCAN__NCLASS; i++)
        if (strcmp(s, class_names[i]) == 0) {
            *c = (scan_class)i;
            return 0;
        }
    return -1;
}

/* scan_rules_set - one "action=class" item: replaces that action's row or adds one */
int
scan_rules_set(scan_rules *r, const char *item, char *err, size_t errlen)
{
    const char *eq = strchr(item, '=');
    char action[SCAN_ACTION_LEN];
    size_t n = eq ? (size_t)(eq - item) : 0, i;
    scan_class c;

    if (eq == NULL || n == 0 || n >= sizeof(action) || class_of(eq + 1, &c) != 0) {
        snprintf(err, errlen, "bad action=class \"%.80s\" (e.g. add_header=suspect; classes "
                 "spam, suspect, clean)", item);
        return -1;
    }
    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)item[i];
        if (ch <= 0x20 || ch >= 0x7f) {
            snprintf(err, errlen, "bad action name in \"%.80s\"", item);
            return -1;
        }
        action[i] = ch == '_' ? ' ' : (char)ch;
    }
    action[n] = '\0';
    for (i = 0; i < r->nmap && strcmp(r->map[i].action, action) != 0; i++)
        ;
    if (i == SCAN_MAX_RULES) {
        snprintf(err, errlen, "more than %d actions", SCAN_MAX_RULES);
        return -1;
    }
    memcpy(r->map[i].action, action, n + 1);
    r->map[i].cls = c;
    if (i == r->nmap)
        r->nmap++;
    return 0;
}

scan_class
scan_rules_score(const scan_rules *r, int spam, double score, double threshold)
{
    if (spam)
        return SCAN_SPAM;
    if (r->suspect_percent > 0 && threshold > 0 && score * 100 >= threshold * r->suspect_percent)
        return SCAN_SUSPECT;
    return SCAN_CLEAN;
}

scan_class
scan_rules_action(const scan_rules *r, const char *action, double score, double threshold)
{
    for (size_t i = 0; i < r->nmap; i++)
        if (strcmp(r->map[i].action, action) == 0)
            return r->map[i].cls;
    return scan_rules_score(r, threshold > 0 && score >= threshold, score, threshold);
}
