/*
 * fields.c: the one reader of a header section's fields (RFC 5322 section
 * 2.2) for the features that look at raw header bytes themselves: the bounce
 * reader (report), `homing trace` and its DKIM verifier. Each used to carry
 * its own splitter, with three slightly different ideas of where a field
 * ends.
 *
 * Contract: msg is attacker text of any bytes, LF or CRLF line ends; every
 * loop is bounded by len; nothing is copied or allocated. Which lines a
 * caller accepts as fields stays its own decision (DKIM refuses a header
 * with a line that is not a field, as OpenDKIM does; trace and the bounce
 * reader skip it), so the reader reports such a line instead of deciding.
 */
#include <errno.h>

#include "mime_int.h"

static int fields_is_wsp(char c)
{
    return c == ' ' || c == '\t';
}

/* Past the line break ending the line that starts at i, or len. */
static size_t fields_line_end(const char *msg, size_t len, size_t i)
{
    const char *nl = memchr(msg + i, '\n', len - i);
    return nl ? (size_t)(nl - msg) + 1 : len;
}

int homing_mime_field_next(const char *msg, size_t len, size_t *pos, struct homing_mime_field *f)
{
    size_t i = *pos;
    if (i >= len) return 0;
    /* An empty line ends the section. */
    if (msg[i] == '\n' || (msg[i] == '\r' && i + 1 < len && msg[i + 1] == '\n')) {
        *pos = i + (msg[i] == '\n' ? 1 : 2);
        return 0;
    }
    size_t first_end = fields_line_end(msg, len, i);
    /* The field goes on while the next line starts with a blank. */
    size_t end = first_end;
    while (end < len && fields_is_wsp(msg[end])) end = fields_line_end(msg, len, end);
    *f = (struct homing_mime_field){.start = i, .end = end, .colon = end};
    *pos = end;
    const char *colon = memchr(msg + i, ':', first_end - i);
    /* A blank at the start means a continuation with no field open. */
    if (!colon || colon == msg + i || fields_is_wsp(msg[i])) return -EBADMSG;
    size_t c = (size_t)(colon - msg), name_end = c;
    while (name_end > i && fields_is_wsp(msg[name_end - 1])) name_end--;
    f->colon = c;
    f->name = (struct homing_slice){msg + i, name_end - i};
    f->value = (struct homing_slice){msg + c + 1, end - c - 1};
    return 1;
}

bool homing_mime_field_name_strict(const struct homing_mime_field *f)
{
    /* ftext (RFC 5322 section 3.6.8) is printable ASCII but the colon; the
     * obsolete blanks before the colon are not taken. */
    if (f->start + f->name.len != f->colon) return false;
    for (size_t k = 0; k < f->name.len; k++)
        if ((unsigned char)f->name.p[k] <= ' ' || (unsigned char)f->name.p[k] >= 0x7f) return false;
    return true;
}

bool homing_mime_field_is(const struct homing_mime_field *f, const char *name)
{
    size_t n = strlen(name);
    return f->name.len == n && strncasecmp(f->name.p, name, n) == 0;
}
