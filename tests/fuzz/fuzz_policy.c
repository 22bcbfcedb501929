/*
 * fuzz_policy - libFuzzer harness: the Postfix policy codec (policy_parse, policy_value,
 * policy_number, policy_reply) on hostile bytes from a policy client.
 *
 * The input is what a client sent on one connection: requests are parsed one after another the
 * way policysrv does (each whole request consumed, pipelined ones following), and every
 * attribute of each is copied out through policy_value() into buffers of several sizes. The
 * harness checks the codec's promises: *used within the bytes given, a copied value
 * NUL-terminated and free of control bytes, a reply within its room.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/postfix/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_value(hj_span s)
{
    static const size_t caps[] = {1, 2, 16, 256, 1100};
    char buf[1100];

    for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
        const char *v = policy_value(s, buf, caps[i]);
        size_t n = strlen(v);
        if (n >= caps[i])
            abort();
        for (size_t j = 0; j < n; j++)
            if ((unsigned char)v[j] < 0x20 || v[j] == 0x7f)
                abort();
    }
    (void)policy_number(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    size_t left = size;
    char err[128], reply[POLICY_MAX_REPLY], text[1100];

    for (int guard = 0; guard < 1000; guard++) {
        policy_req req;
        size_t used = 0;
        int rc = policy_parse(p, left, &req, &used, err, sizeof(err));
        if (rc != 1)
            break;
        if (used == 0 || used > left)
            abort();
        for (int a = 0; a < PA__COUNT; a++)
            if (req.a[a].p)
                check_value(req.a[a]);
        /* the answer carries a value back: CR and LF must not split it */
        const char *t = policy_value(req.a[PA_SASL_USERNAME], text, sizeof(text));
        size_t n = policy_reply(reply, sizeof(reply), "REJECT", t);
        if (n >= sizeof(reply) || memchr(reply, '\n', n) != reply + n - 2)
            abort();
        p += used;
        left -= used;
    }
    return 0;
}
