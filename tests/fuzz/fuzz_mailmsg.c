/*
 * fuzz_mailmsg - libFuzzer harness: the reply-to-unlock mail parser (mailmsg_parse) on a
 * hostile message: headers, folding, RFC 2047 words, MIME nesting, quoted-printable, base64.
 * Checks: a result is NUL-terminated within its fields, and 0 means both were found.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/notify/mailmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mailmsg_info info;
    char err[128];

    if (size > MAILMSG_MAX)
        return 0;
    int rc = mailmsg_parse((const char *)data, size, &info, err, sizeof(err));
    if (memchr(info.from, 0, sizeof(info.from)) == NULL ||
        memchr(info.token, 0, sizeof(info.token)) == NULL)
        abort();
    if (rc == 0 && (info.from[0] == 0 || strncmp(info.token, "HJU1-", 5) != 0))
        abort();
    if (rc != 0 && rc != -1)
        abort();
    return 0;
}
