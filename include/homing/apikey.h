/*
 * homing/apikey.h: API keys for the admin listener. A key is "hk_" followed by
 * 43 base64url characters (32 random bytes); the store keeps only its BLAKE2b
 * hash, so a stolen database does not give working keys.
 */
#ifndef HOMING_APIKEY_H
#define HOMING_APIKEY_H

#include <stddef.h>
#include <stdint.h>

#define HOMING_APIKEY_LEN 46 /* "hk_" + 43 */

/* Writes a new key (HOMING_APIKEY_LEN + 1 bytes with NUL) and its hash. */
int homing_apikey_new(char *key_out, uint8_t hash_out[32]);
/* Hashes presented key text; -EINVAL if it is not shaped like a key. */
int homing_apikey_hash(const char *key, size_t n, uint8_t hash_out[32]);

#endif
