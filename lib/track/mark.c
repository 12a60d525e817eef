/*
 * mark.c: the X-Homing-Copy header, which says inside a tracked copy which
 * message and which recipient it was made for (homing/track.h).
 *
 * Why inside the copy: `homing send` used to take a copy's recipient from its
 * file name (NNN-ADDRESS.eml), so a copy saved under another name went to
 * every recipient and their opens were recorded as the copy's recipient's.
 * The header holds one signed token (HOMING_TOKEN_COPY: message, recipient
 * index; 0 for a copy meant for everyone), so it cannot be edited into naming
 * another recipient, and it names the recipient by index rather than by an
 * address that could be copied between files. It authorises nothing on the
 * public listener (a pixel or click needs its own kind), and `homing send`
 * removes it before the message leaves.
 *
 * Contract: homing_copy_mark writes the message with exactly one such field,
 * at the end of the top-level header block in the message's own line ending
 * (any it held before are dropped: re-tracking a copy gives a new mark), every
 * other byte as it was. homing_copy_find reads it back: one field whose token
 * verifies, or an error; it never allocates.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "homing/token.h"
#include "homing/track.h"
#include "homing/util.h"
#include "lib/mime/mime_int.h"
#include "track_int.h"

/* The field's value is one token; anything longer is not one of ours. */
#define MARK_VALUE_MAX (HOMING_TOKEN_LEN + 64)

/* Whether the message's first line ends in CRLF: the copy keeps its style. */
static const char *mark_eol(const char *msg, size_t len)
{
    const char *nl = memchr(msg, '\n', len);
    return nl && nl > msg && nl[-1] == '\r' ? "\r\n" : "\n";
}

int track_fields_replace(const char *msg, size_t len, const char *const *drop,
                         const char *const *add, struct homing_buf *out)
{
    const char *eol = mark_eol(msg, len);
    size_t before = out->len, pos = 0, copied = 0, last_end = 0;
    struct homing_mime_field f;
    int fr, r = 0;
    while ((fr = homing_mime_field_next(msg, len, &pos, &f)) != 0) {
        int dropped = 0;
        for (size_t k = 0; fr == 1 && drop[k] && !dropped; k++)
            dropped = homing_mime_field_is(&f, drop[k]);
        if (dropped) {
            /* everything before it is kept, the field is not */
            if ((r = homing_buf_append(out, msg + copied, f.start - copied)) < 0) goto fail;
            copied = f.end;
        }
        last_end = f.end;
    }
    /* the new fields after the last one, before the empty line */
    if ((r = homing_buf_append(out, msg + copied, last_end > copied ? last_end - copied : 0)) < 0)
        goto fail;
    if (last_end > copied) copied = last_end;
    if (last_end > 0 && msg[last_end - 1] != '\n' && (r = homing_buf_puts(out, eol)) < 0) goto fail;
    for (size_t k = 0; add[k]; k++)
        if ((r = homing_buf_printf(out, "%s%s", add[k], eol)) < 0) goto fail;
    if ((r = homing_buf_append(out, msg + copied, len - copied)) < 0) goto fail;
    return 0;
fail:
    out->len = before;
    if (out->data) out->data[before] = '\0';
    return r;
}

int homing_copy_mark(const struct homing_keyring *k, uint64_t message, uint32_t recipient,
                     const char *msg, size_t len, struct homing_buf *out)
{
    if (!k || !msg || !out || message == 0) return -EINVAL;
    struct homing_token t = {.kind = HOMING_TOKEN_COPY, .message = message, .recipient = recipient};
    char tok[HOMING_TOKEN_LEN + 1];
    int r = homing_token_encode(k, &t, tok);
    if (r < 0) return r;
    /* an old mark is dropped: re-tracking a copy gives a new one */
    char field[sizeof HOMING_COPY_HEADER + 2 + sizeof tok];
    snprintf(field, sizeof field, "%s: %s", HOMING_COPY_HEADER, tok);
    static const char *const drop[] = {HOMING_COPY_HEADER, NULL};
    const char *const add[] = {field, NULL};
    return track_fields_replace(msg, len, drop, add, out);
}

int homing_copy_find(const struct homing_keyring *k, const char *msg, size_t len,
                     struct homing_copy_mark *out)
{
    if (!k || !msg || !out) return -EINVAL;
    size_t pos = 0;
    struct homing_mime_field f;
    int fr, found = 0;
    struct homing_copy_mark m = {0};
    while ((fr = homing_mime_field_next(msg, len, &pos, &f)) != 0) {
        if (fr != 1 || !homing_mime_field_is(&f, HOMING_COPY_HEADER)) continue;
        if (found) return -EBADMSG; /* two marks: which one is meant cannot be told */
        found = 1;
        const char *v = f.value.p;
        size_t n = f.value.len;
        while (n && (v[0] == ' ' || v[0] == '\t')) v++, n--;
        while (n && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r' || v[n - 1] == '\n'))
            n--;
        struct homing_token t;
        if (n == 0 || n > MARK_VALUE_MAX || homing_token_verify(k, v, n, &t) < 0 ||
            t.kind != HOMING_TOKEN_COPY)
            return -EBADMSG;
        m.message = t.message;
        m.recipient = t.recipient;
        m.start = f.start;
        m.end = f.end;
    }
    if (!found) return -ENOENT;
    *out = m;
    return 0;
}
