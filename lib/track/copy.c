/*
 * copy.c: the tracking URLs of one recipient's copy of a registered message,
 * as the JSON object the API and `homing message add --json` answer with.
 * Here rather than in lib/token because it reads a store record (a feature
 * over the token and store layers).
 */
#include <jansson.h>

#include "homing/config.h"
#include "homing/store.h"
#include "homing/token.h"
#include "homing/track.h"
#include "homing/util.h"

#define COPY_URL_MAX 4096 /* base_url + token: far below this */

void *homing_copy_json(const char *base_url, const char *domain_base_urls,
                       const struct homing_keyring *k, const struct homing_message *m,
                       uint32_t recipient, const char *address)
{
    char base[HOMING_DOMAIN_URL_MAX + 1];
    if (homing_domain_base_url(domain_base_urls, m->sender, base_url, base, sizeof base) < 0)
        return NULL;
    base_url = base;
    struct homing_buf b;
    homing_buf_init(&b, COPY_URL_MAX);
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
