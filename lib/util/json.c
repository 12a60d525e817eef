/*
 * json.c: JSON strings for text that came from outside. jansson refuses text
 * that is not UTF-8; a header or URL from a hostile message must still be shown,
 * so such text is shown with control and non-ASCII bytes replaced by '?'. Either
 * as a jansson string, or written straight into a buffer as the JSON text
 * json_dumps writes for that string (for output too large or too hot to build
 * jansson trees for).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "homing/util.h"

void *homing_json_text(const char *s)
{
    if (!s) return json_null();
    json_t *j = json_string(s);
    if (j) return j;
    size_t n = strlen(s);
    char *c = malloc(n + 1);
    if (!c) return json_null();
    homing_str_sanitize(c, n + 1, s, n);
    j = json_string(c);
    free(c);
    return j ? j : json_null();
}

/* jansson's UTF-8 rule (what json_string accepts): the length of the valid
 * sequence at s, or 0. Shortest form only, no surrogates, nothing past
 * U+10FFFF. s is NUL-terminated, so a cut sequence fails at the NUL. */
static size_t utf8_seq(const unsigned char *s)
{
    unsigned c = s[0];
    if (c < 0x80) return 1;
    size_t n = c >= 0xc2 && c <= 0xdf   ? 2
               : c >= 0xe0 && c <= 0xef ? 3
               : c >= 0xf0 && c <= 0xf4 ? 4
                                        : 0;
    if (!n) return 0;
    uint32_t v = c & (n == 2 ? 0x1f : n == 3 ? 0x0f : 0x07);
    for (size_t i = 1; i < n; i++) {
        if (s[i] < 0x80 || s[i] > 0xbf) return 0;
        v = (v << 6) | (s[i] & 0x3f);
    }
    if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return 0;
    if ((n == 3 && v < 0x800) || (n == 4 && v < 0x10000)) return 0;
    return n;
}

int homing_json_buf_text(struct homing_buf *b, const char *s)
{
    if (!s) return homing_buf_append(b, "null", 4);
    const unsigned char *u = (const unsigned char *)s;
    int utf8 = 1;
    for (size_t i = 0; u[i];) {
        size_t n = utf8_seq(u + i);
        if (!n) {
            utf8 = 0;
            break;
        }
        i += n;
    }
    int rc = homing_buf_append(b, "\"", 1);
    size_t run = 0, i = 0;
    for (; rc == 0 && u[i]; i++) {
        unsigned char c = u[i];
        char esc[8];
        size_t k = 0;
        if (!utf8 && (c < 0x20 || c >= 0x7f)) {
            esc[k++] = '?';
        } else if (c == '"' || c == '\\') {
            esc[k++] = '\\';
            esc[k++] = (char)c;
        } else if (c < 0x20) {
            static const char hex[] = "0123456789ABCDEF";
            const char *named = c == '\b'   ? "b"
                                : c == '\f' ? "f"
                                : c == '\n' ? "n"
                                : c == '\r' ? "r"
                                : c == '\t' ? "t"
                                            : NULL;
            esc[k++] = '\\';
            if (named) {
                esc[k++] = named[0];
            } else {
                memcpy(esc + k, "u00", 3);
                k += 3;
                esc[k++] = hex[c >> 4];
                esc[k++] = hex[c & 15];
            }
        } else {
            continue;
        }
        rc = homing_buf_append(b, s + run, i - run);
        if (rc == 0) rc = homing_buf_append(b, esc, k);
        run = i + 1;
    }
    if (rc == 0) rc = homing_buf_append(b, s + run, i - run);
    if (rc == 0) rc = homing_buf_append(b, "\"", 1);
    return rc;
}
