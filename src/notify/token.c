/*
 * token - one-time unlock tokens (see token.h)
 *
 * The HMAC is OpenSSL's (libcrypto), not hand-written.
 */
#include "token.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#define TOKEN_MAC_LEN 16

/* read_all - exactly n bytes of fd; 0 or -1 */
static int
read_all(int fd, uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r <= 0) {
            if (r < 0 && errno == EINTR)
                continue;
            return -1;
        }
        p += r, n -= (size_t)r;
    }
    return 0;
}

/* key_create - a new random key in path (never replaces one) */
static int
key_create(const char *path, uint8_t *key, char *err, size_t errlen)
{
    if (getrandom(key, TOKEN_KEY_LEN, 0) != TOKEN_KEY_LEN) {
        snprintf(err, errlen, "getrandom: %s", strerror(errno));
        return -1;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    int bad = write(fd, key, TOKEN_KEY_LEN) != TOKEN_KEY_LEN;
    bad |= fsync(fd) != 0;
    bad |= close(fd) != 0;
    if (bad) {
        snprintf(err, errlen, "%s: cannot write the key: %s", path, strerror(errno));
        unlink(path);
        return -1;
    }
    return 0;
}

int
token_key_load(const char *path, uint8_t key[TOKEN_KEY_LEN], char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0 && errno == ENOENT)
        return key_create(path, key, err, errlen);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    int rc = read_all(fd, key, TOKEN_KEY_LEN);
    close(fd);
    if (rc != 0)
        snprintf(err, errlen, "%s: not a %d-byte key", path, TOKEN_KEY_LEN);
    return rc;
}

/* mac_hex - the token's mac for these fields, as hex */
static void
mac_hex(const uint8_t *key, const char *account, int64_t since, int64_t expiry,
        char hex[2 * TOKEN_MAC_LEN + 1])
{
    char msg[512];
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    int n = snprintf(msg, sizeof(msg), "HJU1\n%s\n%" PRId64 "\n%" PRId64, account, since, expiry);

    if (n < 0 || (size_t)n >= sizeof(msg)) /* an account this long cannot be locked (store) */
        n = (int)sizeof(msg) - 1;
    HMAC(EVP_sha256(), key, TOKEN_KEY_LEN, (const unsigned char *)msg, (size_t)n, md, &mdlen);
    for (int i = 0; i < TOKEN_MAC_LEN; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

void
token_make(const uint8_t *key, const char *account, int64_t since, int64_t expiry,
           char out[TOKEN_MAX])
{
    char hex[2 * TOKEN_MAC_LEN + 1];

    mac_hex(key, account, since, expiry, hex);
    snprintf(out, TOKEN_MAX, "HJU1-%" PRId64 "-%" PRId64 "-%s", since, expiry, hex);
}

/* digits - a run of 1..19 decimal digits at p into *v, at most INT64_MAX; the length, or 0 */
static size_t
digits(const char *p, int64_t *v)
{
    size_t n = 0;

    *v = 0;
    while (p[n] >= '0' && p[n] <= '9' && n < 19) {
        int d = p[n++] - '0';
        if (*v > (INT64_MAX - d) / 10)
            return 0; /* would overflow (undefined behaviour, and a negative time) */
        *v = *v * 10 + d;
    }
    return n;
}

int
token_parse(const char *tok, int64_t *since, int64_t *expiry)
{
    size_t n;

    if (strncmp(tok, "HJU1-", 5) != 0)
        return -1;
    tok += 5;
    if ((n = digits(tok, since)) == 0 || tok[n] != '-')
        return -1;
    tok += n + 1;
    if ((n = digits(tok, expiry)) == 0 || tok[n] != '-')
        return -1;
    tok += n + 1;
    if (strlen(tok) != 2 * TOKEN_MAC_LEN || strspn(tok, "0123456789abcdef") != 2 * TOKEN_MAC_LEN)
        return -1;
    return 0;
}

int
token_verify(const uint8_t *key, const char *account, const char *tok)
{
    int64_t since, expiry;
    char hex[2 * TOKEN_MAC_LEN + 1];

    if (token_parse(tok, &since, &expiry) != 0)
        return 0;
    mac_hex(key, account, since, expiry, hex);
    return CRYPTO_memcmp(hex, strrchr(tok, '-') + 1, 2 * TOKEN_MAC_LEN) == 0;
}
