/*
 * keyring.h: the in-memory key ring shared by token.c and keyring.c (internal).
 */
#ifndef HOMING_KEYRING_INTERNAL_H
#define HOMING_KEYRING_INTERNAL_H

/* SHA256_Init and friends are deprecated in OpenSSL 3.0 in favour of EVP, whose
 * per-call fetch and context costs are several times the hash of a token (see
 * token.c); the low-level functions are still built and use SHA-NI. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include "homing/token.h"

struct keyring_key {
    uint16_t id;
    int64_t created_us;
    uint8_t secret[HOMING_TOKEN_KEY_LEN];
    /* HMAC-SHA-256 keyed once at load: SHA-256 states after the key's inner
     * (0x36) and outer (0x5c) padded blocks (RFC 2104). */
    SHA256_CTX hmac_inner, hmac_outer;
};

/* Prepares key->hmac_inner and hmac_outer from key->secret. */
void keyring_key_prepare(struct keyring_key *key);

struct homing_keyring {
    size_t n;
    struct keyring_key *keys; /* sorted by id, ascending */
};

const struct keyring_key *keyring_newest(const struct homing_keyring *k);
const struct keyring_key *keyring_find(const struct homing_keyring *k, uint16_t id);

#endif
