/*
 * punycode.c: Punycode decoding (RFC 3492 section 6.2 with the parameter
 * values of section 5 and the overflow checks of section 6.4), and the domain
 * helper that shows a name's "xn--" labels in Unicode for homing trace.
 *
 * Contract: see homing/punycode.h. The input is at most HOMING_PUNYCODE_MAX
 * bytes, so every loop is bounded by that and the insertion buffer (one code
 * point per input byte at most) lives on the stack.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "homing/punycode.h"
#include "homing/util.h"

enum {
    PUNY_BASE = 36,
    PUNY_TMIN = 1,
    PUNY_TMAX = 26,
    PUNY_SKEW = 38,
    PUNY_DAMP = 700,
    PUNY_INITIAL_BIAS = 72,
    PUNY_INITIAL_N = 0x80,
};

/* a-z and A-Z are 0-25, 0-9 are 26-35; PUNY_BASE for anything else. */
static uint32_t digit_value(unsigned char c)
{
    if (c >= 'a' && c <= 'z') return c - 'a';
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= '0' && c <= '9') return c - '0' + 26u;
    return PUNY_BASE;
}

/* The bias after a delta (section 6.1). */
static uint32_t adapt(uint32_t delta, uint32_t points, int first)
{
    delta = first ? delta / PUNY_DAMP : delta / 2;
    delta += delta / points;
    uint32_t k = 0;
    while (delta > (PUNY_BASE - PUNY_TMIN) * PUNY_TMAX / 2) {
        delta /= PUNY_BASE - PUNY_TMIN;
        k += PUNY_BASE;
    }
    return k + (PUNY_BASE - PUNY_TMIN + 1) * delta / (delta + PUNY_SKEW);
}

int homing_punycode_decode(const char *in, size_t len, uint32_t *out, size_t cap, size_t *outlen)
{
    if (len > HOMING_PUNYCODE_MAX) return -E2BIG;
    /* The basic code points are those before the last '-'; a '-' at the very
     * start delimits nothing and is read as (an invalid) digit. */
    size_t basic = 0;
    for (size_t j = 0; j < len; j++)
        if (in[j] == '-') basic = j;
    uint32_t buf[HOMING_PUNYCODE_MAX];
    size_t n_out = 0;
    for (size_t j = 0; j < basic; j++) {
        if ((unsigned char)in[j] >= 0x80) return -EINVAL;
        buf[n_out++] = (unsigned char)in[j];
    }
    uint32_t n = PUNY_INITIAL_N, i = 0, bias = PUNY_INITIAL_BIAS;
    size_t p = basic ? basic + 1 : 0;
    while (p < len) {
        /* one generalized variable-length integer: the next insertion's delta */
        uint32_t oldi = i, w = 1;
        for (uint32_t k = PUNY_BASE;; k += PUNY_BASE) {
            if (p >= len) return -EINVAL;
            uint32_t d = digit_value((unsigned char)in[p++]);
            if (d >= PUNY_BASE || d > (UINT32_MAX - i) / w) return -EINVAL;
            i += d * w;
            uint32_t t = k <= bias ? PUNY_TMIN : k >= bias + PUNY_TMAX ? PUNY_TMAX : k - bias;
            if (d < t) break;
            if (w > UINT32_MAX / (PUNY_BASE - t)) return -EINVAL;
            w *= PUNY_BASE - t;
        }
        uint32_t points = (uint32_t)n_out + 1;
        bias = adapt(i - oldi, points, oldi == 0);
        if (i / points > UINT32_MAX - n) return -EINVAL;
        n += i / points;
        i %= points;
        /* a basic code point is written, never encoded; nor is a non-character */
        if (n < 0x80 || (n >= 0xd800 && n <= 0xdfff) || n > 0x10ffff) return -EINVAL;
        if (n_out >= HOMING_PUNYCODE_MAX) return -E2BIG; /* each takes an input byte */
        memmove(buf + i + 1, buf + i, (n_out - i) * sizeof *buf);
        buf[i++] = n;
        n_out++;
    }
    if (n_out > cap) return -E2BIG;
    memcpy(out, buf, n_out * sizeof *buf);
    *outlen = n_out;
    return 0;
}

/* Appends label p[0, n) to out[*o], decoded when it is an A-label. */
static int label_put(const char *p, size_t n, char *out, size_t cap, size_t *o, int *decoded)
{
    if (n < 4 || strncasecmp(p, "xn--", 4) != 0) {
        if (*o + n >= cap) return -E2BIG;
        memcpy(out + *o, p, n);
        *o += n;
        return 0;
    }
    if (n > HOMING_PUNYCODE_LABEL_MAX) return -E2BIG;
    uint32_t cp[HOMING_PUNYCODE_LABEL_MAX];
    size_t ncp = 0, wide = 0;
    int r = homing_punycode_decode(p + 4, n - 4, cp, HOMING_PUNYCODE_LABEL_MAX, &ncp);
    if (r < 0) return r;
    for (size_t k = 0; k < ncp; k++) wide += cp[k] >= 0x80;
    /* "xn--abc-" spells abc: shown as such it would pass for another name */
    if (!wide) return -EINVAL;
    for (size_t k = 0; k < ncp; k++) {
        char u[4];
        size_t ul = homing_utf8_encode(cp[k], u);
        if (*o + ul >= cap) return -E2BIG;
        memcpy(out + *o, u, ul);
        *o += ul;
    }
    (*decoded)++;
    return 0;
}

int homing_idna_to_unicode(const char *domain, char *out, size_t cap)
{
    if (!cap) return -E2BIG;
    size_t o = 0;
    int decoded = 0, r = 0;
    for (const char *p = domain;;) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if ((r = label_put(p, n, out, cap, &o, &decoded)) < 0) break;
        if (!dot) break;
        if (o + 1 >= cap) {
            r = -E2BIG;
            break;
        }
        out[o++] = '.';
        p = dot + 1;
    }
    out[r < 0 ? 0 : o] = '\0';
    return r < 0 ? r : decoded;
}
