/*
 * escape.c: how text from outside (headers of hits, subjects, addresses, URLs,
 * bounce diagnostics) is shown on a terminal, in a log line or in a CSV cell.
 * The rules are in docs/hacking.md, "Output escaping".
 *
 * Contract: nothing that can drive a terminal or a spreadsheet comes out raw,
 * and what was there stays visible: C0 controls, DEL, the C1 controls (as
 * UTF-8 U+0080..U+009F and as raw bytes), the line and paragraph separators and
 * the bidirectional overrides and isolates are written as escapes ("\x1b",
 * "\t", "\u009b", "\u202e"), a byte that is not UTF-8 as "\xHH", and '\\' as
 * "\\\\" so an escape in the output always means an escape. The output is
 * printable ASCII plus, with HOMING_ESCAPE_UTF8, valid UTF-8 of the remaining
 * code points; without it every non-ASCII code point is escaped too ("\u00e9",
 * "\U0001f600") for terminals that are not UTF-8, where a UTF-8 continuation
 * byte of 0x80..0x9f would be a C1 control.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "homing/util.h"

size_t homing_utf8_decode(const char *s, size_t n, uint32_t *cp)
{
    const unsigned char *u = (const unsigned char *)s;
    if (n == 0) return 0;
    unsigned c = u[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t len = c >= 0xc2 && c <= 0xdf   ? 2
                 : c >= 0xe0 && c <= 0xef ? 3
                 : c >= 0xf0 && c <= 0xf4 ? 4
                                          : 0;
    if (!len || len > n) return 0;
    uint32_t v = c & (len == 2 ? 0x1f : len == 3 ? 0x0f : 0x07);
    for (size_t i = 1; i < len; i++) {
        if (u[i] < 0x80 || u[i] > 0xbf) return 0;
        v = (v << 6) | (u[i] & 0x3f);
    }
    /* shortest form only, no surrogates, nothing past U+10FFFF */
    if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return 0;
    if ((len == 3 && v < 0x800) || (len == 4 && v < 0x10000)) return 0;
    *cp = v;
    return len;
}

int homing_escape_codepoint(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || (cp >= 0x2028 && cp <= 0x202e) ||
           (cp >= 0x2066 && cp <= 0x2069);
}

/* The escape for one unit (a code point of len bytes at s, or one bad byte
 * when len is 0) into out (at least ESCAPE_UNIT_MAX bytes); its length, or 0
 * when the unit is copied as it is. */
#define ESCAPE_UNIT_MAX 11 /* "\U0010ffff" and its NUL */
static size_t escape_unit(const char *s, size_t len, uint32_t cp, unsigned flags, char *out)
{
    static const char hex[] = "0123456789abcdef";
    if (len == 0) {
        unsigned char c = (unsigned char)s[0];
        out[0] = '\\';
        out[1] = 'x';
        out[2] = hex[c >> 4];
        out[3] = hex[c & 15];
        return 4;
    }
    if (cp < 0x20 || cp == 0x7f) {
        const char *named = cp == '\t' ? "t" : cp == '\n' ? "n" : cp == '\r' ? "r" : NULL;
        out[0] = '\\';
        if (named) {
            out[1] = named[0];
            return 2;
        }
        out[1] = 'x';
        out[2] = hex[cp >> 4];
        out[3] = hex[cp & 15];
        return 4;
    }
    if (cp == '\\' && !(flags & HOMING_ESCAPE_KEEP_BACKSLASH)) {
        out[0] = out[1] = '\\';
        return 2;
    }
    if (cp < 0x80) return 0;
    if (!homing_escape_codepoint(cp) && (flags & HOMING_ESCAPE_UTF8)) return 0;
    size_t digits = cp > 0xffff ? 8 : 4;
    out[0] = '\\';
    out[1] = digits == 8 ? 'U' : 'u';
    for (size_t i = 0; i < digits; i++) out[2 + i] = hex[(cp >> (4 * (digits - 1 - i))) & 15];
    return 2 + digits;
}

/* With HOMING_ESCAPE_MARK, the escape of k bytes in esc (ESCAPE_MARKED_MAX
 * bytes of room) wrapped in the SGR sequences ESCAPE_MARK_ON and _OFF,
 * so a reader on a colour terminal sees where a hidden character was. A
 * doubled backslash is the input's own character, so it is left plain. The
 * SGR sequences are ours: nothing from the input reaches the terminal raw. */
#define ESCAPE_MARK_ON    "\x1b[1;7;31m"
#define ESCAPE_MARK_OFF   "\x1b[0m"
#define ESCAPE_MARKED_MAX (ESCAPE_UNIT_MAX + sizeof ESCAPE_MARK_ON + sizeof ESCAPE_MARK_OFF)
static size_t escape_mark(size_t k, unsigned flags, char *esc)
{
    if (!k || !(flags & HOMING_ESCAPE_MARK) || (k == 2 && esc[0] == '\\' && esc[1] == '\\'))
        return k;
    size_t on = sizeof ESCAPE_MARK_ON - 1, off = sizeof ESCAPE_MARK_OFF - 1;
    memmove(esc + on, esc, k);
    memcpy(esc, ESCAPE_MARK_ON, on);
    memcpy(esc + on + k, ESCAPE_MARK_OFF, off);
    return on + k + off;
}

size_t homing_str_escape(char *dst, size_t cap, const char *src, size_t n, unsigned flags)
{
    if (cap == 0) return 0;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp = 0;
        size_t len = homing_utf8_decode(src + i, n - i, &cp);
        char esc[ESCAPE_MARKED_MAX];
        size_t k = escape_mark(escape_unit(src + i, len, cp, flags, esc), flags, esc);
        const char *put = k ? esc : src + i;
        size_t m = k ? k : len;
        /* a unit fits whole or not at all: no escape or sequence cut in half */
        if (o + m + 1 > cap) break;
        memcpy(dst + o, put, m);
        o += m;
        i += len ? len : 1;
    }
    dst[o] = '\0';
    return o;
}

int homing_buf_escape(struct homing_buf *b, const char *src, size_t n, unsigned flags)
{
    size_t run = 0, i = 0;
    int rc = 0;
    while (rc == 0 && i < n) {
        unsigned char c = (unsigned char)src[i];
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            i++;
            continue;
        }
        uint32_t cp = 0;
        size_t len = homing_utf8_decode(src + i, n - i, &cp);
        char esc[ESCAPE_MARKED_MAX];
        size_t k = escape_mark(escape_unit(src + i, len, cp, flags, esc), flags, esc);
        if (k) {
            rc = homing_buf_append(b, src + run, i - run);
            if (rc == 0) rc = homing_buf_append(b, esc, k);
            run = i + (len ? len : 1);
        }
        i += len ? len : 1;
    }
    if (rc == 0) rc = homing_buf_append(b, src + run, n - run);
    return rc;
}

int homing_csv_cell(struct homing_buf *b, const char *s, unsigned flags)
{
    if (!s) s = "";
    size_t start = b->len;
    /* A spreadsheet runs a cell that starts like a formula: the quote makes it
     * text (OWASP's CSV injection advice). TAB and CR start one in some. */
    int guard = s[0] && strchr("=+-@\t\r", s[0]) != NULL;
    int quote = guard || strpbrk(s, ",\"") != NULL;
    int rc = quote ? homing_buf_append(b, "\"", 1) : 0;
    if (rc == 0 && guard) rc = homing_buf_append(b, "'", 1);
    /* Escaped first, so no CR or LF is left for the quoting to carry. */
    for (const char *p = s; rc == 0 && *p;) {
        const char *q = strchr(p, '"');
        size_t n = q ? (size_t)(q - p) : strlen(p);
        rc = homing_buf_escape(b, p, n, flags);
        if (rc == 0 && q) rc = homing_buf_append(b, "\"\"", 2);
        p = q ? q + 1 : p + n;
    }
    if (rc == 0 && quote) rc = homing_buf_append(b, "\"", 1);
    if (rc < 0) {
        /* written only on success: drop the part of the cell appended */
        b->len = start;
        if (b->data) b->data[start] = '\0';
    }
    return rc;
}

int homing_buf_html(struct homing_buf *b, const char *s)
{
    if (!s) return 0;
    struct homing_buf e;
    homing_buf_init(&e, b->max ? b->max : (size_t)1 << 24);
    int rc = homing_buf_escape(&e, s, strlen(s), HOMING_ESCAPE_UTF8);
    size_t run = 0;
    for (size_t i = 0; rc == 0 && i < e.len; i++) {
        const char *ref = NULL;
        switch (e.data[i]) {
        case '&': ref = "&amp;"; break;
        case '<': ref = "&lt;"; break;
        case '>': ref = "&gt;"; break;
        case '"': ref = "&quot;"; break;
        case '\'': ref = "&#39;"; break;
        default: continue;
        }
        rc = homing_buf_append(b, e.data + run, i - run);
        if (rc == 0) rc = homing_buf_puts(b, ref);
        run = i + 1;
    }
    if (rc == 0 && e.len > run) rc = homing_buf_append(b, e.data + run, e.len - run);
    homing_buf_free(&e);
    return rc;
}

static int escape_hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int homing_pct_decode(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    if (cap == 0) return -E2BIG;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            if (i + 2 >= n) return -EINVAL;
            int h = escape_hexval(s[i + 1]), l = escape_hexval(s[i + 2]);
            if (h < 0 || l < 0) return -EINVAL;
            c = (char)(h * 16 + l);
            i += 2;
        }
        if (c == '\0') return -EINVAL;
        if (o + 1 >= cap) return -E2BIG;
        out[o++] = c;
    }
    out[o] = '\0';
    return 0;
}

int homing_form_get(const char *s, size_t n, const char *key, char *out, size_t cap)
{
    size_t klen = strlen(key);
    for (size_t i = 0; i < n;) {
        size_t amp = i;
        while (amp < n && s[amp] != '&') amp++;
        if (amp - i > klen && memcmp(s + i, key, klen) == 0 && s[i + klen] == '=') {
            int r = homing_pct_decode(s + i + klen + 1, amp - i - klen - 1, out, cap);
            return r < 0 ? r : (int)strlen(out);
        }
        i = amp + 1;
    }
    return -ENOENT;
}
