/*
 * apikey.c: API key generation and hashing, and the names of key scopes
 * (format and scope order in homing/apikey.h).
 */
#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "homing/apikey.h"
#include "homing/util.h"

int homing_apikey_new(char *key_out, uint8_t hash_out[32])
{
    if (sodium_init() < 0) return -EIO;
    uint8_t raw[32];
    randombytes_buf(raw, sizeof raw);
    memcpy(key_out, "hk_", 3);
    homing_b64url_encode(raw, sizeof raw, key_out + 3);
    sodium_memzero(raw, sizeof raw);
    return homing_apikey_hash(key_out, HOMING_APIKEY_LEN, hash_out);
}

int homing_apikey_hash(const char *key, size_t n, uint8_t hash_out[32])
{
    if (n != HOMING_APIKEY_LEN || memcmp(key, "hk_", 3) != 0) return -EINVAL;
    uint8_t raw[32];
    if (homing_b64url_decode(key + 3, n - 3, raw, sizeof raw) != 32) return -EINVAL;
    crypto_generichash(hash_out, 32, (const uint8_t *)key, n, NULL, 0);
    sodium_memzero(raw, sizeof raw);
    return 0;
}

static const char *const scope_names[] = {
    [HOMING_APIKEY_SCOPE_READ] = "read",
    [HOMING_APIKEY_SCOPE_WRITE] = "write",
    [HOMING_APIKEY_SCOPE_ADMIN] = "admin",
};

int homing_apikey_scope_parse(const char *s)
{
    if (!s) return -EINVAL;
    for (int i = HOMING_APIKEY_SCOPE_READ; i <= HOMING_APIKEY_SCOPE_ADMIN; i++)
        if (strcmp(s, scope_names[i]) == 0) return i;
    return -EINVAL;
}

const char *homing_apikey_scope_name(int scope)
{
    if (scope < HOMING_APIKEY_SCOPE_READ || scope > HOMING_APIKEY_SCOPE_ADMIN) return NULL;
    return scope_names[scope];
}
