/*
 * fuzz_scan - libFuzzer harness: the anti-spam scanners' reply parsers (src/scan/scan_parse.h)
 * on hostile bytes from a scanner.
 *
 * The first byte chooses: 0 rspamd's /checkv2 JSON body (scan_rspamd_parse), 1 a spamd reply
 * (scan_spamd_parse), 2 a whole HTTP reply (scan_http_reply, scan_reply_complete, then its body
 * through scan_rspamd_parse), as scan_client reads them, 3 a metadata_exporter POST body
 * (scan_export_parse: its envelope texts printable and NUL-terminated too). The rest is the reply. The harness
 * checks the parsers' promises: 0 with a scanned class and -1 with an unscanned "bad reply";
 * every text of the verdict NUL-terminated in its field and printable ASCII; at most
 * SCAN_MAX_SYMBOLS symbols, highest score first; an HTTP body inside the bytes given.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/scan/scan_export.h"
#include "../../src/scan/scan_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_text(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);

    if (n >= cap)
        abort();
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
            abort();
}

static void
check_verdict(int rc, const scan_verdict *v)
{
    if ((rc == 0) != (v->cls != SCAN_UNSCANNED) || (unsigned)v->cls >= SCAN__NCLASS)
        abort();
    if (rc != 0 && v->reason != SCAN_R_BAD_REPLY)
        abort();
    if (v->nsym > SCAN_MAX_SYMBOLS || v->nsym > v->nsym_total)
        abort();
    check_text(v->detail, sizeof(v->detail));
    check_text(v->action, sizeof(v->action));
    for (size_t i = 0; i < v->nsym; i++) {
        check_text(v->sym[i].name, sizeof(v->sym[i].name));
        if (v->sym[i].name[0] == '\0' || (i > 0 && v->sym[i - 1].score < v->sym[i].score))
            abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data + 1, *body;
    size_t n = size ? size - 1 : 0, blen;
    scan_verdict v;
    int status;

    if (size == 0)
        return 0;
    scan_export_meta m;

    switch (data[0] % 4) {
    case 0:
        check_verdict(scan_rspamd_parse(p, n, NULL, &v), &v);
        break;
    case 1:
        check_verdict(scan_spamd_parse(p, n, NULL, &v), &v);
        break;
    case 3:
        check_verdict(scan_export_parse(p, n, NULL, &v, &m), &v);
        check_text(m.user, sizeof(m.user));
        check_text(m.qid, sizeof(m.qid));
        check_text(m.ip, sizeof(m.ip));
        check_text(m.from, sizeof(m.from));
        check_text(m.subject, sizeof(m.subject));
        break;
    default:
        (void)scan_reply_complete(p, n);
        if (scan_http_reply(p, n, &status, &body, &blen) == 0) {
            if (body < p || body + blen > p + n || status < 0 || status > 999)
                abort();
            check_verdict(scan_rspamd_parse(body, blen, NULL, &v), &v);
        }
    }
    return 0;
}
