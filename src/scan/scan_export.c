/*
 * scan_export - rspamd's metadata_exporter JSON (see scan_export.h)
 */
#include "scan_export.h"

#include <jansson.h>
#include <math.h>
#include <string.h>

/* text - a string member into dst (printable, cut); "" when absent or rspamd's "unknown" */
static void
text(json_t *o, const char *key, char *dst, size_t cap)
{
    json_t *s = json_object_get(o, key);

    dst[0] = 0;
    if (json_is_string(s) && strcmp(json_string_value(s), "unknown") != 0)
        scan_copy_text(dst, cap, json_string_value(s), json_string_length(s));
}

/* symbols - [{"name": N, "score": S}, ...] into v */
static void
symbols(json_t *a, scan_verdict *v)
{
    size_t i;
    json_t *s;

    if (!json_is_array(a))
        return;
    json_array_foreach(a, i, s)
    {
        json_t *n = json_object_get(s, "name"), *sc = json_object_get(s, "score");
        if (json_is_string(n))
            scan_add_symbol(v, json_string_value(n), json_string_length(n),
                            json_is_number(sc) && isfinite(json_number_value(sc))
                                ? json_number_value(sc)
                                : 0);
    }
}

static int
bad(scan_verdict *v, const char *why)
{
    scan_unscanned(v, SCAN_R_BAD_REPLY, why);
    return -1;
}

/* fill - the verdict and the envelope of a parsed body: 0, or -1 */
static int
fill(json_t *o, const scan_rules *r, scan_verdict *v, scan_export_meta *m)
{
    json_t *act = json_object_get(o, "action"), *sc = json_object_get(o, "score");

    if (!json_is_object(o))
        return bad(v, "not a JSON object");
    if (!json_is_string(act))
        return bad(v, "no action");
    if (!json_is_number(sc) || !isfinite(json_number_value(sc)))
        return bad(v, "no score");
    text(o, "user", m->user, sizeof(m->user));
    if (m->user[0] == 0)
        return bad(v, "no user");
    text(o, "qid", m->qid, sizeof(m->qid));
    text(o, "ip", m->ip, sizeof(m->ip));
    text(o, "from", m->from, sizeof(m->from));
    text(o, "subject", m->subject, sizeof(m->subject));
    scan_verdict_init(v);
    scan_copy_text(v->action, sizeof(v->action), json_string_value(act), json_string_length(act));
    v->score = json_number_value(sc);
    symbols(json_object_get(o, "symbols"), v);
    v->cls = scan_rules_action(r, v->action, v->score, 0);
    return 0;
}

int
scan_export_parse(const char *json, size_t len, const scan_rules *r, scan_verdict *v,
                  scan_export_meta *m)
{
    scan_rules def;
    json_error_t e;
    json_t *o;

    memset(m, 0, sizeof(*m));
    if (r == NULL) {
        scan_rules_default(&def);
        r = &def;
    }
    if (len > SCAN_MAX_REPLY)
        return bad(v, "body too big");
    if ((o = json_loadb(json, len, JSON_REJECT_DUPLICATES, &e)) == NULL)
        return bad(v, "not JSON");
    int rc = fill(o, r, v, m);
    json_decref(o);
    return rc;
}
