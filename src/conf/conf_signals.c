/*
 * conf_signals - the settings of the score's signals (see conf.h, docs/DETECTION.md)
 *
 * DESCRIPTION
 *	Each function parses one setting's value into the policy's signal
 *	configuration (hj_sigconf); conf.c's table names them. Returns 0, or
 *	-1 with a message in err. Not thread-safe (configuration loading).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/alloc.h"
#include "conf_int.h"

/* set_score_weights - "signal=N, signal=N": the weights of the score's signals (0 = off) */
int
conf_set_score_weights(hj_conf *c, const char *v, char *err, size_t errlen)
{
    char *copy = xstrdup(v), *save = NULL;
    int rc = 0;

    for (char *tok = strtok_r(copy, ", \t", &save); tok && rc == 0;
         tok = strtok_r(NULL, ", \t", &save)) {
        char *eq = strchr(tok, '=');
        hj_signal sg;
        long long n;
        if (eq)
            *eq = 0;
        if (eq == NULL || policy_signal_lookup(tok, &sg) != 0) {
            snprintf(err, errlen,
                     "bad weight \"%s\" (signal=N; signals: novel_network, "
                     "unknown_client, novel_client, novel_domains, freemail, "
                     "above_normal, ip_diversity, failed_logins, similar_sizes)",
                     tok);
            rc = -1;
        } else if ((rc = conf_int_in(eq + 1, 0, 1000, &n, err, errlen)) == 0) {
            c->pol->sig.weight[sg] = (int)n;
        }
    }
    free(copy);
    return rc;
}

/* conf_u32_in - an unsigned setting within [lo, hi] */
int
conf_u32_in(const char *v, long long lo, long long hi, uint32_t *out, char *err, size_t errlen)
{
    long long n;

    return conf_int_in(v, lo, hi, &n, err, errlen) ? -1 : (*out = (uint32_t)n, 0);
}

int
conf_set_min_kinds(hj_conf *c, const char *v, char *err, size_t errlen)
{
    return conf_u32_in(v, 1, 4, &c->pol->sig.min_kinds, err, errlen);
}

int
conf_set_signal_window(hj_conf *c, const char *v, char *err, size_t errlen)
{
    return conf_duration_min1(v, &c->pol->sig.window, err, errlen);
}

int
conf_set_learn_time(hj_conf *c, const char *v, char *err, size_t errlen)
{
    return conf_duration_min1(v, &c->pol->sig.learn_time, err, errlen);
}

int
conf_set_sig_failed(hj_conf *c, const char *v, char *err, size_t errlen)
{
    return conf_u32_in(v, 1, 1000000, &c->pol->sig.failed_logins, err, errlen);
}

int
conf_set_sig_networks(hj_conf *c, const char *v, char *err, size_t errlen)
{
    return conf_u32_in(v, 2, 1000000, &c->pol->sig.networks, err, errlen);
}

int
conf_set_sig_similar(hj_conf *c, const char *v, char *err, size_t errlen)
{
    return conf_u32_in(v, 2, 64, &c->pol->sig.similar, err, errlen);
}

int
conf_set_sig_share(hj_conf *c, const char *v, char *err, size_t errlen)
{
    return conf_u32_in(v, 1, 100, &c->pol->sig.share, err, errlen);
}

int
conf_set_sig_share_min(hj_conf *c, const char *v, char *err, size_t errlen)
{
    return conf_u32_in(v, 1, 32, &c->pol->sig.share_min, err, errlen);
}

int
conf_set_usual_share(hj_conf *c, const char *v, char *err, size_t errlen)
{
    return conf_u32_in(v, 0, 100, &c->pol->sig.usual_share, err, errlen);
}

int
conf_set_usual_min(hj_conf *c, const char *v, char *err, size_t errlen)
{
    return conf_u32_in(v, 1, 1000000, &c->pol->sig.usual_min, err, errlen);
}

int
conf_set_volume_factor(hj_conf *c, const char *v, char *err, size_t errlen)
{
    return conf_u32_in(v, 1, 1000, &c->pol->sig.volume_factor, err, errlen);
}

int
conf_set_volume_floor(hj_conf *c, const char *v, char *err, size_t errlen)
{
    return conf_u32_in(v, 0, 1000000000, &c->pol->sig.volume_floor, err, errlen);
}

static int
add_freemail(hj_conf *c, const char *v, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    policy_freemail_add(c->pol, v);
    return 0;
}

int
conf_set_freemail(hj_conf *c, const char *v, char *err, size_t errlen)
{
    policy_freemail_clear(c->pol);
    return conf_list_each(c, v, err, errlen, add_freemail);
}
