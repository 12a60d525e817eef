/*
 * track_int.h (internal to lib/track): the pieces of `homing track` below the
 * MIME walk: charset conversion that remembers where each byte came from, and
 * the transfer encoders used to write changed parts back.
 */
#ifndef HOMING_LIB_MIME_TRACK_IMPL_H
#define HOMING_LIB_MIME_TRACK_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "homing/util.h"
#include "lib/mime/mime_int.h"

/* Text converted to UTF-8 for the HTML parser, with a map back to the bytes of
 * the original charset. For UTF-8 and US-ASCII nothing is converted (utf8
 * points at the input, lo and hi are NULL). Otherwise, for each UTF-8 offset p:
 * lo[p] is where the input was after the character before p (so a replaced
 * range starting at p takes any shift sequence that follows with it) and hi[p]
 * is where the character at p starts (after shift sequences). A replacement of
 * UTF-8 [a, b) is input [lo[a], hi[b]); an insertion at p goes to hi[p]. */
struct track_text {
    const char *utf8;
    size_t len;
    char *owned;
    uint32_t *lo, *hi;
    int stateful; /* ISO-2022-*: an insertion at the very end resets to ASCII first */
};

#define TRACK_TEXT_MAX (256u * 1024 * 1024) /* the maps use 32-bit offsets */

/* -ENOTSUP: the charset is unknown or cannot carry ASCII unchanged (UTF-16,
 * UTF-7...), so nothing can be spliced into it. */
int track_text_decode(const char *charset, const char *in, size_t n, struct track_text *out);
void track_text_free(struct track_text *t);

/* The charset an HTML part declares in a <meta> element near its start (the
 * HTML standard's prescan of the first 1024 bytes), written to out as the
 * label says it (lower case); 0 if it declares none that fits in cap. For a
 * part whose Content-Type has no charset parameter. */
int track_text_meta_charset(const char *html, size_t len, char *out, size_t cap);
size_t track_text_lo(const struct track_text *t, size_t p);
size_t track_text_hi(const struct track_text *t, size_t p);

/* Calls cb with each text/html part of the message, in UTF-8 as track reads
 * it (track_parts.c; for tests). Stops at and returns cb's first non-zero
 * result; 0 also for input that is no message. */
int track_html_parts(const char *msg, size_t len,
                     int (*cb)(void *ctx, const char *html, size_t len), void *ctx);

/* Transfer encoders writing lines ending in eol ("\r\n" or "\n"). */
int track_encode_base64(struct homing_buf *out, const char *in, size_t n, const char *eol);
int track_encode_qp(struct homing_buf *out, const char *in, size_t n, const char *eol);

/* One hard line of a quoted-printable body (track_qp.c): raw[raw_start,
 * raw_tail) encodes dec[dec_start, dec_end); raw[raw_tail, raw_end) is its
 * terminator (hard line break, final soft break, or nothing), decoded as
 * dec[dec_end, dec_brk). */
struct track_qp_unit {
    size_t raw_start, raw_tail, raw_end;
    size_t dec_start, dec_end, dec_brk;
};
/* The units of raw (n bytes) whose decoding is dec; -EINVAL when they do not
 * decode to dec byte for byte (the part is then re-encoded whole). */
int track_qp_units(const char *raw, size_t n, const char *dec, size_t dec_len,
                   struct track_qp_unit **out, size_t *n_out);

/* mark.c: msg appended to out with every top-level header field named in
 * drop (NULL-ended) removed and the fields of add (NULL-ended "Name: value"
 * lines without a line end) put after the last field, in the message's own
 * line ending; every other byte kept. 0, or -ENOMEM/-E2BIG (out's maximum)
 * with out unchanged. The one writer of the copy mark and the one-click
 * unsubscribe fields. */
int track_fields_replace(const char *msg, size_t len, const char *const *drop,
                         const char *const *add, struct homing_buf *out);

#endif
