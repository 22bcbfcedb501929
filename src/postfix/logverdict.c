/*
 * logverdict - hijackd's own verdict log line (see logverdict.h)
 */
#include "logverdict.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define LV_PREFIX "spam verdict "

int
logverdict_is(const hj_logline *l)
{
    size_t n = sizeof(LV_PREFIX) - 1;

    return l->prog.n == 7 && memcmp(l->prog.p, "hijackd", 7) == 0 && l->msg.n > n &&
           memcmp(l->msg.p, LV_PREFIX, n) == 0;
}

/* str - a string member into buf (cut to its room), "" when absent or not a string */
static void
str(json_t *o, const char *key, char *buf, size_t cap)
{
    const char *v = json_string_value(json_object_get(o, key));

    snprintf(buf, cap, "%s", v ? v : "");
}

/* num - a number member, 0 when absent, not a number or not finite */
static double
num(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    double d = json_is_number(v) ? json_number_value(v) : 0.0;

    return isfinite(d) ? d : 0.0;
}

/* class_of - the class name's meaning; -1 if unknown */
static int
class_of(const char *c, hj_spam_class *cls)
{
    static const struct {
        const char *name;
        hj_spam_class cls;
    } t[] = {{"spam", HJ_SPAM_SPAM},
             {"suspect", HJ_SPAM_SUSPECT},
             {"clean", HJ_SPAM_NONE},
             {"unscanned", HJ_SPAM_NONE}};

    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if (strcmp(c, t[i].name) == 0) {
            *cls = t[i].cls;
            return 0;
        }
    return -1;
}

int
logverdict_parse(const hj_logline *l, lv_rec *out)
{
    size_t n = sizeof(LV_PREFIX) - 1;
    char cls[16];
    json_error_t e;

    memset(out, 0, sizeof(*out));
    if (!logverdict_is(l))
        return -1;
    json_t *o = json_loadb(l->msg.p + n, l->msg.n - n, JSON_REJECT_DUPLICATES, &e);
    int rc = -1;
    if (json_is_object(o)) {
        str(o, "class", cls, sizeof(cls));
        str(o, "account", out->account, sizeof(out->account));
        rc = *out->account && class_of(cls, &out->cls) == 0 ? 0 : -1;
        str(o, "queue_id", out->queue_id, sizeof(out->queue_id));
        str(o, "client_ip", out->client_ip, sizeof(out->client_ip));
        str(o, "sender", out->sender, sizeof(out->sender));
        str(o, "service", out->service, sizeof(out->service));
        str(o, "symbols", out->symbols, sizeof(out->symbols));
        str(o, "subject", out->subject, sizeof(out->subject));
        out->score = num(o, "score");
        out->threshold = num(o, "threshold");
        out->repeated = json_is_true(json_object_get(o, "repeated"));
    }
    json_decref(o);
    if (rc != 0)
        memset(out, 0, sizeof(*out));
    return rc;
}
