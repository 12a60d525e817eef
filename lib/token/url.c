/*
 * url.c: the public URL of a token: <base_url>/o/<token>.gif for an open pixel,
 * /c/<token> for a click redirect, /d/<token> for a document. One place so the
 * CLI, the API and `homing track` print exactly the paths the daemon routes.
 */
#include <errno.h>
#include <string.h>

#include <jansson.h>

#include "homing/store.h"
#include "homing/token.h"
#include "homing/util.h"

#define HOMING_URL_MAX 4096 /* base_url + token: far below this */

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

void *homing_copy_json(const char *base_url, const struct homing_keyring *k,
                       const struct homing_message *m, uint32_t recipient, const char *address)
{
    struct homing_buf b;
    homing_buf_init(&b, HOMING_URL_MAX);
    json_t *copy = NULL, *links = NULL;
    if (homing_token_url(base_url, k, HOMING_TOKEN_OPEN, m->id, recipient, 0, &b) < 0) goto fail;
    copy = json_pack("{s:I, s:s?, s:s, s:[]}", "recipient", (json_int_t)recipient, "address",
                     address, "open_url", b.data, "links");
    if (!copy) goto fail;
    links = json_object_get(copy, "links");
    for (size_t i = 0; i < m->n_links; i++) {
        homing_buf_reset(&b);
        if (homing_token_url(base_url, k, HOMING_TOKEN_CLICK, m->id, recipient, m->links[i].index,
                             &b) < 0 ||
            json_array_append_new(links, json_pack("{s:I, s:s, s:s}", "index",
                                                   (json_int_t)m->links[i].index, "url",
                                                   m->links[i].url, "click_url", b.data)) < 0)
            goto fail;
    }
    homing_buf_free(&b);
    return copy;
fail:
    json_decref(copy);
    homing_buf_free(&b);
    return NULL;
}
