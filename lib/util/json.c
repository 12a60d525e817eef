/*
 * json.c: JSON text for data that came from outside.
 *
 * jansson refuses text that is not UTF-8; a header or URL from a hostile
 * message must still be shown, so such text is shown in its escaped terminal
 * form (homing_str_escape: "\\x9b" for a bad byte). Either as a jansson string,
 * or written straight into a buffer as the JSON text homing_json_dumps writes
 * for that string (for output too large or too hot to build jansson trees for).
 *
 * json_dumps writes U+0080..U+009F (C1 controls: U+009B is CSI), DEL, U+2028,
 * U+2029 and the bidirectional overrides as raw UTF-8; a JSON document piped to
 * a terminal, or embedded in a script, must not carry them. homing_json_dumps
 * and homing_json_dumpf are json_dumps and json_dumpf with those escaped as
 * "\u009b" (docs/hacking.md, "Output escaping"): every JSON output of homing
 * goes through them or through homing_json_buf_text.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "homing/util.h"

void *homing_json_text(const char *s)
{
    if (!s) return json_null();
    json_t *j = json_string(s);
    if (j) return j;
    size_t n = strlen(s), cap = n * HOMING_ESCAPE_GROWTH + 1;
    char *c = malloc(cap);
    if (!c) return json_null();
    homing_str_escape(c, cap, s, n, HOMING_ESCAPE_UTF8);
    j = json_string(c);
    free(c);
    return j ? j : json_null();
}

/* jansson's UTF-8 rule (what json_string accepts): the length of the valid
 * sequence at s, or 0. Shortest form only, no surrogates, nothing past
 * U+10FFFF. s is NUL-terminated, so a cut sequence fails at the NUL. */
static inline size_t utf8_seq(const unsigned char *s)
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

/* The JSON escape of the code point at u (of len bytes) that json_dumps leaves
 * raw and homing_json_dumps escapes, into out (6 bytes); 1, or 0 if none. */
static inline int json_escape_extra(const unsigned char *u, size_t len, char out[6])
{
    static const char hex[] = "0123456789abcdef";
    uint32_t cp;
    if (len == 1 && u[0] == 0x7f)
        cp = 0x7f;
    else if (len == 2 && u[0] == 0xc2 && u[1] <= 0x9f)
        cp = u[1];
    else if (len == 3 && u[0] == 0xe2 &&
             ((u[1] == 0x80 && u[2] >= 0xa8 && u[2] <= 0xae) ||
              (u[1] == 0x81 && u[2] >= 0xa6 && u[2] <= 0xa9)))
        cp = 0x2000 | ((uint32_t)(u[1] & 0x3f) << 6) | (u[2] & 0x3f);
    else
        return 0;
    memcpy(out, "\\u", 2);
    for (int i = 0; i < 4; i++) out[2 + i] = hex[(cp >> (12 - 4 * i)) & 15];
    return 1;
}

/* The bytes json_buf_text stops at: NUL, C0 controls, '"', '\\', DEL and
 * every byte of 0x80 and above (a sequence to check, and maybe escape); the
 * rest is written as it is. */
static const unsigned char json_special[256] = {
    [0x00 ... 0x1f] = 1,
    ['"'] = 1,
    ['\\'] = 1,
    [0x7f ... 0xff] = 1,
};

#define JSON_NOT_UTF8 1 /* json_buf_text met a byte that is not UTF-8 */

/* The JSON string of s, escaped as homing_json_dumps does; JSON_NOT_UTF8 (with
 * part of it appended) when s is not UTF-8. One pass: this is the hot loop
 * of scan --json. */
static int json_buf_text(struct homing_buf *b, const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    int rc = homing_buf_append(b, "\"", 1);
    size_t run = 0, i = 0;
    while (rc == 0) {
        while (!json_special[u[i]]) i++;
        unsigned char c = u[i];
        if (!c) break;
        char esc[8];
        size_t k = 0, len = 1;
        if (c == '"' || c == '\\') {
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
            len = c == 0x7f ? 1 : utf8_seq(u + i);
            if (!len) return JSON_NOT_UTF8;
            /* DEL, U+0080..U+00BF (lead 0xc2) or U+2000..U+2FFF (lead 0xe2):
             * maybe escaped; any other code point is written as it is */
            if ((c == 0x7f || c == 0xc2 || c == 0xe2) && json_escape_extra(u + i, len, esc)) {
                k = 6;
            } else {
                i += len;
                continue;
            }
        }
        rc = homing_buf_append(b, s + run, i - run);
        if (rc == 0) rc = homing_buf_append(b, esc, k);
        i += len;
        run = i;
    }
    if (rc == 0) rc = homing_buf_append(b, s + run, i - run);
    if (rc == 0) rc = homing_buf_append(b, "\"", 1);
    return rc;
}

int homing_json_buf_text(struct homing_buf *b, const char *s)
{
    if (!s) return homing_buf_append(b, "null", 4);
    size_t start = b->len;
    int rc = json_buf_text(b, s);
    if (rc != JSON_NOT_UTF8) return rc;
    /* as homing_json_text: the escaped form (which is UTF-8) instead */
    b->len = start;
    if (b->data) b->data[start] = '\0';
    size_t len = strlen(s), cap = len * HOMING_ESCAPE_GROWTH + 1;
    char *c = malloc(cap);
    if (!c) return -ENOMEM;
    homing_str_escape(c, cap, s, len, HOMING_ESCAPE_UTF8);
    rc = json_buf_text(b, c);
    free(c);
    return rc;
}

char *homing_json_escape_dump(char *text)
{
    if (!text) return NULL;
    const unsigned char *u = (const unsigned char *)text;
    size_t extra = 0, n = 0;
    char esc[6];
    for (; u[n]; n++) {
        if (u[n] < 0x7f) continue;
        size_t len = u[n] == 0x7f ? 1 : utf8_seq(u + n);
        if (len && json_escape_extra(u + n, len, esc)) extra += 6 - len;
    }
    if (!extra) return text;
    char *out = malloc(n + extra + 1);
    if (!out) {
        free(text);
        return NULL;
    }
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t len = u[i] < 0x7f ? 1 : u[i] == 0x7f ? 1 : utf8_seq(u + i);
        if (!len) len = 1;
        if (u[i] >= 0x7f && json_escape_extra(u + i, len, esc)) {
            memcpy(out + o, esc, 6);
            o += 6;
        } else {
            memcpy(out + o, text + i, len);
            o += len;
        }
        i += len;
    }
    out[o] = '\0';
    free(text);
    return out;
}

char *homing_json_dumps(const void *j, size_t flags)
{
    return j ? homing_json_escape_dump(json_dumps(j, flags)) : NULL;
}

int homing_json_dumpf(const void *j, FILE *f, size_t flags)
{
    char *text = homing_json_dumps(j, flags);
    if (!text) return -ENOMEM;
    size_t n = strlen(text);
    int rc = fwrite(text, 1, n, f) == n ? 0 : -EIO;
    free(text);
    return rc;
}
