/*
 * homing/apikey.h: API keys for the admin listener. A key is "hk_" followed by
 * 43 base64url characters (32 random bytes); the store keeps only its BLAKE2b
 * hash, so a stolen database does not give working keys.
 *
 * Each key has one scope, and the scopes are ordered: a key may call every
 * route whose required scope is at or below its own (read < write < admin).
 * The route table is in src/serve/admin.c; docs/api.md lists it.
 */
#ifndef HOMING_APIKEY_H
#define HOMING_APIKEY_H

#include <stddef.h>
#include <stdint.h>

#define HOMING_APIKEY_LEN 46 /* "hk_" + 43 */

enum homing_apikey_scope {
    HOMING_APIKEY_SCOPE_READ = 1,  /* GET: messages, events, the stream */
    HOMING_APIKEY_SCOPE_WRITE = 2, /* and register messages */
    HOMING_APIKEY_SCOPE_ADMIN = 3, /* and manage keys; what keys made before scopes have */
};
#define HOMING_APIKEY_SCOPE_NAME_MAX 6 /* "admin" + NUL */

/* The scope named s ("read", "write" or "admin", exactly), or -EINVAL. */
int homing_apikey_scope_parse(const char *s);
/* The name of scope, or NULL for a value outside the enum. */
const char *homing_apikey_scope_name(int scope);

/* Writes a new key (HOMING_APIKEY_LEN + 1 bytes with NUL) and its hash. */
int homing_apikey_new(char *key_out, uint8_t hash_out[32]);
/* Hashes presented key text; -EINVAL if it is not shaped like a key. */
int homing_apikey_hash(const char *key, size_t n, uint8_t hash_out[32]);

#endif
