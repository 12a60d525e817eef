/*
 * url.c: the one check of a click destination (rules and contract in
 * homing/util.h, homing_url_check). A destination ends up in the Location
 * header of the daemon's redirect, so what this writes must never carry a byte
 * that ends a header line or that a proxy might read as one: it is printable
 * ASCII without spaces, whatever the input. The input is refused rather than
 * repaired where repairing would change where the link goes (controls, a
 * backslash, user info, a host that is not a plain name or address), and
 * percent-encoded where the encoded form means what the author wrote (a space
 * or a non-ASCII character in the path). Never allocates except through out;
 * the work is linear in the input, which is bounded by HOMING_URL_DEST_MAX
 * before anything else is done.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "homing/util.h"

#define URL_LABEL_MAX 63 /* one DNS label (RFC 1035), ASCII labels only */
#define URL_IPV6_MAX  45 /* INET6_ADDRSTRLEN - 1: the longest IPv6 text */
#define URL_STR_(x)   #x
#define URL_STR(x)    URL_STR_(x)

static const char url_hex[] = "0123456789ABCDEF";

static int is_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static unsigned hex_val(unsigned char c)
{
    return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

static int is_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

/* The length of the well-formed UTF-8 sequence at s[0, n) (shortest form, no
 * surrogate, at most U+10FFFF), 0 if there is none; *cp gets its value. */
static size_t utf8_seq(const unsigned char *s, size_t n, unsigned *cp)
{
    unsigned c = s[0];
    size_t len = c < 0x80             ? 1
                 : (c & 0xe0) == 0xc0 ? 2
                 : (c & 0xf0) == 0xe0 ? 3
                 : (c & 0xf8) == 0xf0 ? 4
                                      : 0;
    if (len == 0 || len > n) return 0;
    unsigned v = len == 1 ? c : c & (0x7fu >> len);
    for (size_t k = 1; k < len; k++) {
        if ((s[k] & 0xc0) != 0x80) return 0;
        v = v << 6 | (s[k] & 0x3f);
    }
    static const unsigned min[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (v < min[len] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return 0;
    *cp = v;
    return len;
}

/* Refuses bytes that may never be part of a destination, encoded or not:
 * C0 controls, DEL, C1 controls, a backslash, anything that is not UTF-8. */
static int bytes_ok(const unsigned char *s, size_t n, const char **why)
{
    for (size_t i = 0; i < n;) {
        unsigned cp;
        size_t k = utf8_seq(s + i, n - i, &cp);
        if (k == 0) {
            *why = "not UTF-8";
            return 0;
        }
        if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) {
            *why = "a control character";
            return 0;
        }
        if (cp == '\\') {
            *why = "a backslash";
            return 0;
        }
        i += k;
    }
    return 1;
}

static int refuse(const char **why, const char *reason)
{
    *why = reason;
    return -EINVAL;
}

static const char bad_name[] = "a bad host name";

static int put_pct(struct homing_buf *b, unsigned char c)
{
    char e[3] = {'%', url_hex[c >> 4], url_hex[c & 15]};
    return homing_buf_append(b, e, 3);
}

/* Whether a host's last label reads as a number to a browser's URL parser
 * (WHATWG "ends in a number"): decimal digits, or 0x and hex digits. */
static int ends_in_number(const char *h, size_t n)
{
    if (n > 0 && h[n - 1] == '.') n--;
    size_t s = n;
    while (s > 0 && h[s - 1] != '.') s--;
    const char *l = h + s;
    size_t ln = n - s;
    if (ln == 0) return 0;
    size_t i = 0;
    int hex = ln >= 2 && l[0] == '0' && (l[1] | 0x20) == 'x';
    if (hex) i = 2;
    for (; i < ln; i++)
        if (hex ? !is_hex((unsigned char)l[i]) : !(l[i] >= '0' && l[i] <= '9')) return 0;
    return 1;
}

/* A registered name or IPv4 address, h[0, n) as written: writes it to b with
 * non-ASCII bytes percent-encoded. Percent-encoding is only taken for bytes
 * past ASCII (RFC 3986 section 3.2.2: UTF-8 of a non-ASCII name), so an
 * encoded '.', '/' or '@' cannot hide in a name. */
static int put_host(struct homing_buf *b, const char *h, size_t n, const char **why)
{
    unsigned char dec[HOMING_URL_HOST_MAX + 1];
    size_t dn = 0, label = 0;
    int ascii_label = 1;
    if (n == 0) return refuse(why, "no host");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)h[i];
        if (c == '%') {
            if (i + 2 >= n || !is_hex((unsigned char)h[i + 1]) || !is_hex((unsigned char)h[i + 2]))
                return refuse(why, bad_name);
            c = (unsigned char)(hex_val((unsigned char)h[i + 1]) << 4 |
                                hex_val((unsigned char)h[i + 2]));
            if (c < 0x80) return refuse(why, bad_name);
            i += 2;
        } else if (c < 0x80 && !is_alnum(c) && c != '-' && c != '_' && c != '.') {
            return refuse(why, bad_name);
        }
        if (dn == HOMING_URL_HOST_MAX) return refuse(why, "a host name that is too long");
        dec[dn++] = c;
        if (c == '.') {
            /* no empty label: "a..b", ".a"; a final dot is the root */
            if (label == 0) return refuse(why, bad_name);
            label = 0;
            ascii_label = 1;
            continue;
        }
        if (c >= 0x80) ascii_label = 0;
        if (++label > URL_LABEL_MAX && ascii_label) return refuse(why, bad_name);
    }
    /* the decoded name must be UTF-8 without controls, like the rest */
    const char *w = NULL;
    if (!bytes_ok(dec, dn, &w)) return refuse(why, bad_name);
    if (ends_in_number(h, n)) {
        char tmp[16];
        struct in_addr a;
        /* only the dotted quad: 0x7f.1, 017.0.0.1 and 2130706433 are also
         * 127.0.0.1 to a browser, and nothing a person can read */
        if (n < sizeof tmp) {
            memcpy(tmp, h, n);
            tmp[n] = '\0';
        }
        if (n >= sizeof tmp || inet_pton(AF_INET, tmp, &a) != 1)
            return refuse(why, "a host that is a number but not a dotted-quad IPv4 address");
    }
    int r = 0;
    for (size_t i = 0; i < dn && r == 0; i++)
        r = dec[i] < 0x80 ? homing_buf_append(b, dec + i, 1) : put_pct(b, dec[i]);
    return r;
}

/* The authority a[0, n): host and optional port, no user info. */
static int put_authority(struct homing_buf *b, const char *a, size_t n, const char **why)
{
    if (memchr(a, '@', n)) return refuse(why, "a user name or password before the host");
    size_t hn; /* the host's length, brackets included */
    int r;
    if (n > 0 && a[0] == '[') {
        const char *close = memchr(a, ']', n);
        size_t in = close ? (size_t)(close - a) - 1 : 0;
        char tmp[URL_IPV6_MAX + 1];
        struct in6_addr a6;
        if (!close || in == 0 || in > URL_IPV6_MAX) return refuse(why, "a bad IPv6 address");
        memcpy(tmp, a + 1, in);
        tmp[in] = '\0';
        if (inet_pton(AF_INET6, tmp, &a6) != 1) return refuse(why, "a bad IPv6 address");
        hn = in + 2;
        if ((r = homing_buf_append(b, a, hn)) < 0) return r;
    } else {
        const char *colon = memchr(a, ':', n);
        hn = colon ? (size_t)(colon - a) : n;
        if ((r = put_host(b, a, hn, why)) < 0) return r;
    }
    if (hn == n) return 0;
    if (a[hn] != ':') return refuse(why, "a bad host");
    /* RFC 3986 section 6.2.3: an empty port is the same as none */
    if (hn + 1 == n) return 0;
    unsigned long port = 0;
    size_t i = hn + 1;
    for (; i < n; i++) {
        if (a[i] < '0' || a[i] > '9' || (port = port * 10 + (unsigned)(a[i] - '0')) > 65535) break;
    }
    if (i < n || port == 0) return refuse(why, "a port that is not 1 to 65535");
    return homing_buf_printf(b, ":%lu", port);
}

/* Path, query and fragment: what RFC 3986 allows is copied, what it does not
 * allow is percent-encoded (bytes_ok refused what may not be encoded). */
static int put_rest(struct homing_buf *b, const char *s, size_t n)
{
    int fragment = 0, r = 0;
    for (size_t i = 0; i < n && r == 0; i++) {
        unsigned char c = (unsigned char)s[i];
        int keep;
        if (c == '%')
            keep = i + 2 < n && is_hex((unsigned char)s[i + 1]) && is_hex((unsigned char)s[i + 2]);
        else if (c == '#')
            keep = !fragment, fragment = 1;
        else
            keep = is_alnum(c) || (c < 0x80 && strchr("-._~!$&'()*+,;=:@/?", c));
        r = keep ? homing_buf_append(b, &c, 1) : put_pct(b, c);
    }
    return r;
}

int homing_url_check(const char *in, size_t len, struct homing_buf *out, const char **why)
{
    const char *w = NULL;
    int r = -EINVAL;
    size_t before = out ? out->len : 0;
    if (!in || !out) goto fail;
    if (len > HOMING_URL_DEST_MAX) {
        w = "longer than " URL_STR(HOMING_URL_DEST_MAX) " bytes";
        r = -E2BIG;
        goto fail;
    }
    if (!bytes_ok((const unsigned char *)in, len, &w)) goto fail;
    size_t skip;
    if (len >= 7 && strncasecmp(in, "http://", 7) == 0)
        skip = 7;
    else if (len >= 8 && strncasecmp(in, "https://", 8) == 0)
        skip = 8;
    else {
        w = "not an http:// or https:// URL";
        goto fail;
    }
    size_t end = skip;
    while (end < len && in[end] != '/' && in[end] != '?' && in[end] != '#') end++;
    if ((r = homing_buf_puts(out, skip == 7 ? "http://" : "https://")) < 0 ||
        (r = put_authority(out, in + skip, end - skip, &w)) < 0 ||
        (r = put_rest(out, in + end, len - end)) < 0)
        goto fail;
    if (out->len - before > HOMING_URL_DEST_MAX) {
        w = "longer than " URL_STR(HOMING_URL_DEST_MAX) " bytes once percent-encoded";
        r = -E2BIG;
        goto fail;
    }
    return 0;
fail:
    if (out) {
        /* outputs only on success: take back a partial append */
        out->len = before;
        if (out->data) out->data[before] = '\0';
    }
    if (r == -ENOMEM) w = "out of memory";
    if (r == -E2BIG && !w) w = "longer than the buffer it goes into";
    if (why) *why = w ? w : "not a valid destination";
    return r;
}

int homing_url_header_safe(const char *s, size_t n)
{
    if (!s || n == 0) return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f) return 0;
    return 1;
}
