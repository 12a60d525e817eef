/*
 * ui_link.c: one-time sign-in links for the dashboard (homing/service.h).
 * `make run` and `homing ui-link` print one, so the local operator reaches the
 * dashboard without first making an API key.
 *
 * Only a hash of the token and its expiry are stored (the store's sync table,
 * name HOMING_UI_LINK_SYNC): a copy of the store does not sign anyone in. One
 * link is outstanding at a time (a new one replaces it), and redeeming it
 * clears it, so a link found later in a browser's history or a terminal's
 * scrollback opens nothing.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "homing/service.h"
#include "homing/store.h"
#include "homing/util.h"

#define UI_LINK_BYTES 32 /* random bytes of a token */
#define UI_LINK_HASH  32 /* BLAKE2b bytes stored */

static void ui_link_hash(const char *token, char hex[2 * UI_LINK_HASH + 1])
{
    unsigned char h[UI_LINK_HASH];
    crypto_generichash(h, sizeof h, (const unsigned char *)token, strlen(token), NULL, 0);
    sodium_bin2hex(hex, 2 * UI_LINK_HASH + 1, h, sizeof h);
}

int homing_ui_link_create(struct homing_store *s, int ttl_s, char token_out[HOMING_UI_LINK_MAX])
{
    if (!s || ttl_s <= 0 || ttl_s > HOMING_UI_LINK_TTL_MAX_S) return -EINVAL;
    uint8_t raw[UI_LINK_BYTES];
    randombytes_buf(raw, sizeof raw);
    char token[HOMING_UI_LINK_MAX];
    homing_b64url_encode(raw, sizeof raw, token);
    sodium_memzero(raw, sizeof raw);
    char hex[2 * UI_LINK_HASH + 1], value[2 * UI_LINK_HASH + 32];
    ui_link_hash(token, hex);
    snprintf(value, sizeof value, "%s %" PRId64, hex, homing_now_us() + (int64_t)ttl_s * 1000000);
    int r = homing_store_sync_set(s, HOMING_UI_LINK_SYNC, value);
    if (r < 0) return r;
    memcpy(token_out, token, sizeof token);
    return 0;
}

int homing_ui_link_redeem(struct homing_store *s, const char *token)
{
    if (!s || !token) return -EINVAL;
    size_t n = strnlen(token, HOMING_UI_LINK_MAX);
    if (n != HOMING_B64URL_LEN(UI_LINK_BYTES)) return -EACCES;
    char *value = NULL;
    int r = homing_store_sync_get(s, HOMING_UI_LINK_SYNC, &value);
    if (r == -ENOENT) return -EACCES;
    if (r < 0) return r;
    char want[2 * UI_LINK_HASH + 1], got[2 * UI_LINK_HASH + 1];
    long long expires = 0;
    int ok = value && sscanf(value, "%64s %lld", want, &expires) == 2 &&
             strlen(want) == 2 * UI_LINK_HASH;
    free(value);
    if (!ok) return -EACCES; /* none outstanding (cleared) */
    ui_link_hash(token, got);
    if (sodium_memcmp(want, got, sizeof want - 1) != 0) return -EACCES;
    /* used or not, an expired link goes; a used one goes before it signs in */
    r = homing_store_sync_set(s, HOMING_UI_LINK_SYNC, "");
    if (r < 0) return r;
    return expires > homing_now_us() ? 0 : -EACCES;
}
