/*
 * keyring.h: the in-memory key ring shared by token.c and keyring.c (internal).
 */
#ifndef HOMING_KEYRING_INTERNAL_H
#define HOMING_KEYRING_INTERNAL_H

#include <sodium.h>

#include "homing/token.h"

struct keyring_key {
    uint16_t id;
    int64_t created_us;
    uint8_t secret[HOMING_TOKEN_KEY_LEN];
    crypto_auth_hmacsha256_state hmac; /* keyed once at load */
};

struct homing_keyring {
    size_t n;
    struct keyring_key *keys; /* sorted by id, ascending */
};

const struct keyring_key *keyring_newest(const struct homing_keyring *k);
const struct keyring_key *keyring_find(const struct homing_keyring *k, uint16_t id);

#endif
