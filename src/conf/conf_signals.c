/*
 * conf_signals - the settings of the score's signals (see conf.h, docs/DETECTION.md)
 *
 * DESCRIPTION
 *	The rows of the signals' settings are in conf_table.c (most are
 *	integers and durations in hj_sigconf); here are the two with
 *	structure: the weights and the freemail domains. Returns 0, or -1
 *	with a message in err. Not thread-safe (configuration loading).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/alloc.h"
#include "conf_int.h"

/* conf_set_score_weights - "signal=N, signal=N": the weights of the score's signals (0 = off) */
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
