/*
 * mime_int.h (internal to libhoming, for its feature modules): the one place
 * GMime is set up. Every module that parses MIME (report, scan, track) calls
 * homing_mime_init before its first GMime call (homing_mime_decode_words
 * does); GMime's global tables are
 * made once per process, thread-safely, and never torn down (GMime keeps
 * them until exit, and a module cannot know it is the last user).
 */
#ifndef HOMING_LIB_MIME_INT_H
#define HOMING_LIB_MIME_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "homing/util.h"

void homing_mime_init(void);

/* RFC 2047 encoded words in header text decoded into UTF-8 (GMime's decoder:
 * every charset it knows, blanks between adjacent encoded words dropped), as
 * a malloc'd string; text without "=?" is copied as it is. NULL only when
 * out of memory. */
char *homing_mime_decode_words(const char *s);

/* The decoded bytes (transfer encoding undone) of a leaf part, as a
 * GByteArray the caller frees with g_byte_array_free(ba, TRUE); NULL when the
 * part has no content or it cannot be decoded. Declared with GLib's and
 * GMime's struct tags so that this header does not pull GMime into modules
 * that only read header fields (fields.c, qp.c). */
struct _GByteArray;
struct _GMimePart;
struct _GByteArray *homing_mime_part_bytes(struct _GMimePart *part);

/* A message parsed from memory (GMime copies data) with GMime's default
 * options, GMime set up first; the caller's to g_object_unref; NULL when
 * GMime finds no message. */
struct _GMimeMessage;
struct _GMimeMessage *homing_mime_parse(const char *data, size_t len);

/* One field of a header section, as positions in the message (fields.c). */
struct homing_mime_field {
    size_t start;              /* the field's first byte */
    size_t end;                /* past its last line break (or the input's end) */
    size_t colon;              /* the colon ending the name; end when there is none */
    struct homing_slice name;  /* before the colon, blanks before it dropped */
    struct homing_slice value; /* after the colon to end: folding and line breaks kept */
};

/* Reads the field at *pos of msg. Returns 1 with *f set and *pos past the
 * field; 0 at the end of the header section, with *pos past the empty line
 * (or at len when there is no body); -EBADMSG for a line that is not a field
 * (no colon on its first line, an empty name, or a blank at its start where
 * no field is open), with f->start and f->end spanning it (continuation lines
 * included) and *pos past it, so that a lenient reader skips it. */
int homing_mime_field_next(const char *msg, size_t len, size_t *pos, struct homing_mime_field *f);
/* Whether the name is ftext (RFC 5322: printable ASCII but the colon) with
 * nothing between it and the colon. */
bool homing_mime_field_name_strict(const struct homing_mime_field *f);
/* Case-insensitive test of the field's name. */
bool homing_mime_field_is(const struct homing_mime_field *f, const char *name);

/* Quoted-printable (RFC 2045 6.7, qp.c) of in appended to out: lines of at
 * most 76 characters ending in eol ("\r\n" or "\n"), CRLF or LF in the input
 * are line breaks, trailing white space and "=" encoded, and "-", "." and
 * "From " at the start of a line encoded. The last line gets no line break. */
struct homing_buf;
int homing_mime_encode_qp(struct homing_buf *out, const char *in, size_t n, const char *eol);

#endif
