/*
 * fuzz_punycode.c: libFuzzer target for the Punycode decoder (RFC 3492) and
 * the domain helper of homing trace, checking what they return: at most one
 * code point per input byte, every inserted one a Unicode scalar value past
 * ASCII, a decoded domain that is valid UTF-8 when its other labels are, and
 * agreement with the label decoder.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "homing/punycode.h"

/* 1 if s is valid UTF-8 (shortest forms, no surrogates, at most U+10FFFF). */
static int utf8_valid(const unsigned char *s)
{
    while (*s) {
        uint32_t cp;
        int n;
        if (*s < 0x80) {
            s++;
            continue;
        }
        if ((*s & 0xe0) == 0xc0)
            cp = *s & 0x1f, n = 1;
        else if ((*s & 0xf0) == 0xe0)
            cp = *s & 0x0f, n = 2;
        else if ((*s & 0xf8) == 0xf0)
            cp = *s & 0x07, n = 3;
        else
            return 0;
        for (int i = 1; i <= n; i++) {
            if ((s[i] & 0xc0) != 0x80) return 0;
            cp = cp << 6 | (s[i] & 0x3f);
        }
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
            (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
            return 0;
        s += n + 1;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    uint32_t cp[HOMING_PUNYCODE_MAX];
    size_t n = 0;
    if (homing_punycode_decode(in, size, cp, HOMING_PUNYCODE_MAX, &n) == 0) {
        size_t basic = 0;
        for (size_t j = 0; j < size; j++)
            if (in[j] == '-') basic = j;
        if (n > size) abort();
        size_t wide = 0;
        for (size_t k = 0; k < n; k++) {
            if (cp[k] >= 0x80) wide++;
            if ((cp[k] >= 0xd800 && cp[k] <= 0xdfff) || cp[k] > 0x10ffff) abort();
        }
        if (n - wide != basic) abort(); /* the basic code points are exactly those written */
    }
    /* the same bytes as a domain, and as one A-label */
    char dom[HOMING_PUNYCODE_MAX + 8], out[HOMING_PUNYCODE_DOMAIN_MAX];
    if (size > HOMING_PUNYCODE_MAX || memchr(in, '\0', size)) return 0;
    memcpy(dom, in, size);
    dom[size] = '\0';
    int r = homing_idna_to_unicode(dom, out, sizeof out);
    if (r < 0 && out[0] != '\0') abort();
    /* labels other than A-labels are copied as they are, valid UTF-8 or not */
    if (r >= 0 && utf8_valid((const unsigned char *)dom) && !utf8_valid((const unsigned char *)out))
        abort();
    if (r == 0 && strcmp(out, dom) != 0) abort();
    if (!memchr(in, '.', size) && size >= 4 && size <= HOMING_PUNYCODE_LABEL_MAX &&
        memcmp(in, "xn--", 4) == 0 && r == 1) {
        int d = homing_punycode_decode(in + 4, size - 4, cp, HOMING_PUNYCODE_MAX, &n);
        if (d != 0) abort();
    }
    return 0;
}
