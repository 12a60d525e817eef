/*
 * url.c: the public URL of a token: <base_url>/o/<token>.gif for an open pixel,
 * /c/<token> for a click redirect, /d/<token> for a document, /u/<token> for a
 * one-click unsubscribe. One place so the
 * CLI, the API and `homing track` print exactly the paths the daemon routes.
 */
#include <errno.h>
#include <string.h>

#include "homing/token.h"
#include "homing/util.h"

int homing_token_url(const char *base_url, const struct homing_keyring *k, unsigned kind,
                     uint64_t message, uint32_t recipient, uint32_t item, struct homing_buf *out)
{
    if (!base_url || !k || !out) return -EINVAL;
    const char *prefix, *suffix = "";
    switch (kind) {
    case HOMING_TOKEN_OPEN:
        prefix = "/o/";
        suffix = ".gif";
        break;
    case HOMING_TOKEN_CLICK: prefix = "/c/"; break;
    case HOMING_TOKEN_DOCUMENT: prefix = "/d/"; break;
    case HOMING_TOKEN_UNSUBSCRIBE: prefix = "/u/"; break;
    default: return -EINVAL;
    }
    struct homing_token t = {
        .kind = (uint8_t)kind,
        .message = message,
        .recipient = recipient,
        .item = item,
    };
    char tok[HOMING_TOKEN_LEN + 1];
    int r = homing_token_encode(k, &t, tok);
    if (r < 0) return r;
    /* "https://t.example/" and "https://t.example" mean the same prefix. */
    size_t blen = strlen(base_url);
    while (blen > 0 && base_url[blen - 1] == '/') blen--;
    size_t before = out->len;
    if ((r = homing_buf_append(out, base_url, blen)) < 0 ||
        (r = homing_buf_puts(out, prefix)) < 0 || (r = homing_buf_puts(out, tok)) < 0 ||
        (r = homing_buf_puts(out, suffix)) < 0) {
        /* Outputs only on success: take back a partial append. */
        out->len = before;
        if (out->data) out->data[before] = '\0';
        return r;
    }
    return 0;
}
