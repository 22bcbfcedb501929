/*
 * token - one-time unlock tokens for reply-to-unlock
 *
 * SYNOPSIS
 *	int token_key_load(const char *path, uint8_t key[TOKEN_KEY_LEN], char *err, size_t errlen);
 *	void token_make(const uint8_t *key, const char *account, int64_t since, int64_t expiry,
 *	                char out[TOKEN_MAX]);
 *	int token_parse(const char *tok, int64_t *since, int64_t *expiry);
 *	int token_verify(const uint8_t *key, const char *account, const char *tok);
 *
 * DESCRIPTION
 *	A token is "HJU1-<since>-<expiry>-<mac>": since is the time the
 *	account was locked (it names the incident: one lock, one token),
 *	expiry the time after which the token is refused, and mac the first
 *	16 bytes, in lower-case hex, of HMAC-SHA256(key, "HJU1\n" account "\n"
 *	since "\n" expiry). The account is not in the token: the daemon tries
 *	the accounts locked at since, so a token names one account and one
 *	incident and cannot be moved to another. Whether it is still unused
 *	is the daemon's to know (the incident is over once the account is
 *	unlocked, and a new lock is a new incident with another since).
 *
 *	token_key_load() reads the 32-byte secret, creating it (0600, from
 *	getrandom) when the file does not exist; 0, or -1 with a message.
 *	token_parse() returns 0, or -1 when tok is not a token.
 *	token_verify() returns 1 when the mac is right for account (compared
 *	in constant time), else 0; it does not look at the expiry.
 *	Thread-safe; no allocation.
 */
#ifndef HJ_TOKEN_H
#define HJ_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#define TOKEN_KEY_LEN 32
#define TOKEN_MAX 80

int token_key_load(const char *path, uint8_t key[TOKEN_KEY_LEN], char *err, size_t errlen);
void token_make(const uint8_t *key, const char *account, int64_t since, int64_t expiry,
                char out[TOKEN_MAX]);
int token_parse(const char *tok, int64_t *since, int64_t *expiry);
int token_verify(const uint8_t *key, const char *account, const char *tok);

#endif
