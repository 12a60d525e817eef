/*
 * addr_check.c: the pre-scan described in addr_check.h.
 *
 * Two numbers per header. The depth follows the grammar: a ':' outside quotes
 * and comments opens a group, a ';' closes one, '(' and ')' nest comments; a
 * message whose groups or comments nest past MIME_ADDR_DEPTH_MAX is
 * refused with a message that says so. GMime skips comments without recursion,
 * but no real address list nests them, and refusing them too keeps the rule
 * simple to state. The colon count is the guarantee: GMime recurses only after
 * consuming a ':', so however its reading of quotes, comments and broken
 * angle brackets differs from ours, a header with at most
 * MIME_ADDR_COLONS_MAX colons cannot take it deeper than that many
 * levels (about 200 bytes of stack each, measured with GMime 3.2.13).
 *
 * The scan does not follow MIME structure: every line of the message that
 * starts with one of the field names is checked, so headers of message/rfc822
 * parts at any depth are covered, and so is a body line that merely looks like
 * such a header (which can only refuse a message, never let one through).
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "addr_check_int.h"

/* the fields GMime's message parses as address lists, and the one we parse */
static const char *const addr_fields[] = {"from", "sender", "reply-to",     "to",
                                          "cc",   "bcc",    "delivered-to", NULL};

unsigned mime_addr_value_depth(const char *v, size_t len, size_t *colons)
{
    unsigned groups = 0, comments = 0, max = 0;
    size_t nc = 0;
    int quoted = 0;
    for (size_t i = 0; i < len; i++) {
        char c = v[i];
        if (c == ':') nc++;
        if (c == '\\' && (quoted || comments)) {
            if (i + 1 < len && v[i + 1] == ':') nc++;
            i++;
            continue;
        }
        if (quoted) {
            if (c == '"') quoted = 0;
        } else if (comments) {
            if (c == '(') comments++;
            if (c == ')') comments--;
        } else if (c == '"') {
            quoted = 1;
        } else if (c == '(') {
            comments = 1;
        } else if (c == ':') {
            groups++;
        } else if (c == ';' && groups) {
            groups--;
        }
        if (groups > max) max = groups;
        if (comments > max) max = comments;
    }
    *colons = nc;
    return max;
}

/* Length of the field name at s (followed by blanks and ':'), 0 if it is not
 * one of addr_fields. */
static size_t field_at(const char *s, size_t n)
{
    for (size_t f = 0; addr_fields[f]; f++) {
        size_t fl = strlen(addr_fields[f]);
        if (n <= fl || strncasecmp(s, addr_fields[f], fl) != 0) continue;
        size_t i = fl;
        while (i < n && (s[i] == ' ' || s[i] == '\t')) i++;
        if (i < n && s[i] == ':') return i + 1;
    }
    return 0;
}

static const char *line_end(const char *p, const char *end)
{
    while (p < end && *p != '\n') p++;
    return p;
}

int mime_addr_check(const char *msg, size_t len)
{
    const char *p = msg, *end = msg + len;
    while (p < end) {
        const char *e = line_end(p, end);
        size_t name = field_at(p, (size_t)(e - p));
        if (!name) {
            p = e + (e < end);
            continue;
        }
        /* the value runs on over folded lines (those starting with a blank) */
        const char *v = p + name;
        while (e < end && e + 1 < end && (e[1] == ' ' || e[1] == '\t')) e = line_end(e + 1, end);
        size_t colons;
        if (mime_addr_value_depth(v, (size_t)(e - v), &colons) > MIME_ADDR_DEPTH_MAX ||
            colons > MIME_ADDR_COLONS_MAX)
            return -ELOOP;
        p = e + (e < end);
    }
    return 0;
}
