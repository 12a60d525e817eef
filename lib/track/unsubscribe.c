/*
 * unsubscribe.c: the one-click unsubscribe fields of a tracked copy
 * (RFC 8058; homing/track.h, homing_list_unsubscribe_add), written by
 * `homing track` when track.list_unsubscribe is on.
 *
 * Contract: the copy gets exactly one List-Unsubscribe (an https or http URI
 * of the public listener's /u/ route, holding a signed token of its message
 * and recipient, so the listener needs no lookup to know whom it names) and
 * one List-Unsubscribe-Post, at the end of the top-level header block in the
 * message's line ending; fields of those names it held are dropped, every
 * other byte is kept. The public URL comes from homing_token_url, the one
 * place that spells the daemon's routes.
 */
#include <errno.h>
#include <string.h>

#include "homing/token.h"
#include "homing/track.h"
#include "homing/util.h"
#include "lib/mime/mime_int.h"
#include "track_int.h"

#define UNSUBSCRIBE_URL_MAX 4096 /* the base URL is configuration, not input */

int homing_list_unsubscribe_add(const char *base_url, const struct homing_keyring *k,
                                uint64_t message, uint32_t recipient, const char *msg, size_t len,
                                struct homing_buf *out)
{
    if (!base_url || !k || !msg || !out || message == 0 || recipient == 0) return -EINVAL;
    struct homing_buf url;
    homing_buf_init(&url, UNSUBSCRIBE_URL_MAX);
    int r = homing_token_url(base_url, k, HOMING_TOKEN_UNSUBSCRIBE, message, recipient, 0, &url);
    if (r < 0) {
        homing_buf_free(&url);
        return r;
    }
    /* any such fields the message held go (RFC 8058 pairs Post with this URI) */
    struct homing_buf field;
    homing_buf_init(&field, UNSUBSCRIBE_URL_MAX + 32);
    r = homing_buf_printf(&field, "List-Unsubscribe: <%s>", url.data);
    homing_buf_free(&url);
    if (r < 0) {
        homing_buf_free(&field);
        return r;
    }
    static const char *const drop[] = {"List-Unsubscribe", "List-Unsubscribe-Post", NULL};
    const char *const add[] = {field.data, "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
                               NULL};
    r = track_fields_replace(msg, len, drop, add, out);
    homing_buf_free(&field);
    return r;
}
