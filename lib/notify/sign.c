/*
 * sign.c: webhook signatures. Header value "t=TIMESTAMP,v1=HEX" with HEX the
 * HMAC-SHA-256 (libsodium) of "TIMESTAMP." followed by the body, keyed with the
 * webhook's secret as its bytes. The timestamp is inside the MAC so a captured
 * delivery cannot be replayed later with a fresh time; receivers check both
 * (docs/notifications.md shows how, in Python and with openssl).
 *
 * Contract: see homing/notify.h. Comparison is constant-time.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "homing/notify.h"
#include "homing/util.h"

#define SIGN_TIMESTAMP_MAX 24 /* digits of a 64-bit time and the NUL */

static void sign_mac(const char *secret, const char *ts, size_t tslen, const char *body, size_t len,
                     uint8_t mac[crypto_auth_hmacsha256_BYTES])
{
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const uint8_t *)secret, strlen(secret));
    crypto_auth_hmacsha256_update(&st, (const uint8_t *)ts, tslen);
    crypto_auth_hmacsha256_update(&st, (const uint8_t *)".", 1);
    crypto_auth_hmacsha256_update(&st, (const uint8_t *)body, len);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_memzero(&st, sizeof st);
}

int homing_notify_sign(const char *secret, int64_t timestamp, const char *body, size_t len,
                       char out[HOMING_NOTIFY_SIG_MAX])
{
    if (!secret || !*secret || (!body && len) || !out || timestamp < 0) return -EINVAL;
    if (sodium_init() < 0) return -EIO;
    char ts[SIGN_TIMESTAMP_MAX];
    int tslen = snprintf(ts, sizeof ts, "%" PRId64, timestamp);
    uint8_t mac[crypto_auth_hmacsha256_BYTES];
    sign_mac(secret, ts, (size_t)tslen, body ? body : "", len, mac);
    char hex[2 * sizeof mac + 1];
    homing_hex_encode(mac, sizeof mac, hex);
    return snprintf(out, HOMING_NOTIFY_SIG_MAX, "t=%s,v1=%s", ts, hex);
}

int homing_notify_verify(const char *secret, const char *header, const char *body, size_t len,
                         int64_t now_s, int64_t tolerance_s)
{
    if (!secret || !*secret || !header || (!body && len)) return -EINVAL;
    if (sodium_init() < 0) return -EIO;
    if (strncmp(header, "t=", 2) != 0) return -EINVAL;
    const char *ts = header + 2;
    size_t tslen = strspn(ts, "0123456789");
    if (tslen == 0 || tslen >= SIGN_TIMESTAMP_MAX - 1 || strncmp(ts + tslen, ",v1=", 4) != 0)
        return -EINVAL;
    const char *hex = ts + tslen + 4;
    uint8_t got[crypto_auth_hmacsha256_BYTES], want[crypto_auth_hmacsha256_BYTES];
    if (strlen(hex) != 2 * sizeof got ||
        homing_hex_decode(hex, 2 * sizeof got, got, sizeof got) != (int)sizeof got)
        return -EINVAL;
    sign_mac(secret, ts, tslen, body ? body : "", len, want);
    if (sodium_memcmp(got, want, sizeof got) != 0) return -EACCES;
    if (tolerance_s > 0) {
        int64_t t = strtoll(ts, NULL, 10);
        if (t < now_s - tolerance_s || t > now_s + tolerance_s) return -ETIMEDOUT;
    }
    return 0;
}

int homing_notify_secret_new(char out[HOMING_NOTIFY_SECRET_LEN + 1])
{
    uint8_t raw[32];
    if (!out) return -EINVAL;
    if (sodium_init() < 0) return -EIO;
    randombytes_buf(raw, sizeof raw);
    memcpy(out, "whsec_", 6);
    homing_b64url_encode(raw, sizeof raw, out + 6);
    sodium_memzero(raw, sizeof raw);
    return 0;
}
