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

#define UNSUBSCRIBE_URL_MAX 4096 /* the base URL is configuration, not input */

static const char *unsub_eol(const char *msg, size_t len)
{
    const char *nl = memchr(msg, '\n', len);
    return nl && nl > msg && nl[-1] == '\r' ? "\r\n" : "\n";
}

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
    const char *eol = unsub_eol(msg, len);
    size_t before = out->len, pos = 0, copied = 0, last_end = 0;
    struct homing_mime_field f;
    int fr;
    while ((fr = homing_mime_field_next(msg, len, &pos, &f)) != 0) {
        if (fr == 1 && (homing_mime_field_is(&f, "List-Unsubscribe") ||
                        homing_mime_field_is(&f, "List-Unsubscribe-Post"))) {
            if ((r = homing_buf_append(out, msg + copied, f.start - copied)) < 0) goto fail;
            copied = f.end;
        }
        last_end = f.end;
    }
    if ((r = homing_buf_append(out, msg + copied, last_end > copied ? last_end - copied : 0)) < 0)
        goto fail;
    if (last_end > copied) copied = last_end;
    if (last_end > 0 && msg[last_end - 1] != '\n' && (r = homing_buf_puts(out, eol)) < 0) goto fail;
    if ((r = homing_buf_printf(out,
                               "List-Unsubscribe: <%s>%sList-Unsubscribe-Post: "
                               "List-Unsubscribe=One-Click%s",
                               url.data, eol, eol)) < 0)
        goto fail;
    if ((r = homing_buf_append(out, msg + copied, len - copied)) < 0) goto fail;
    homing_buf_free(&url);
    return 0;
fail:
    homing_buf_free(&url);
    out->len = before;
    if (out->data) out->data[before] = '\0';
    return r;
}
