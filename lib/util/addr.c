/*
 * addr.c: IP addresses and prefixes, parsed strictly from untrusted header text
 * (X-Forwarded-For, Forwarded) into a fixed-size value; never allocates.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "homing/util.h"

int homing_addr_parse(const char *s, size_t n, struct homing_addr *out)
{
    char tmp[HOMING_ADDR_STR_MAX];
    if (n == 0 || n >= sizeof tmp) return -EINVAL;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    struct homing_addr a = {0};
    if (inet_pton(AF_INET, tmp, a.bytes) == 1) {
        a.family = 4;
    } else if (inet_pton(AF_INET6, tmp, a.bytes) == 1) {
        a.family = 6;
        /* An IPv4-mapped address is the IPv4 client; store it as such. */
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(a.bytes, mapped, 12) == 0) {
            memmove(a.bytes, a.bytes + 12, 4);
            memset(a.bytes + 4, 0, 12);
            a.family = 4;
        }
    } else {
        return -EINVAL;
    }
    *out = a;
    return 0;
}

void homing_addr_format(const struct homing_addr *a, char *out)
{
    if (a->family == 4) {
        /* By hand: once per hit, and glibc's inet_ntop goes through sprintf
         * (2% of the loop thread under load). */
        char *p = out;
        for (int i = 0; i < 4; i++) {
            unsigned v = a->bytes[i];
            if (v >= 100) *p++ = (char)('0' + v / 100);
            if (v >= 10) *p++ = (char)('0' + v / 10 % 10);
            *p++ = (char)('0' + v % 10);
            *p++ = i < 3 ? '.' : '\0';
        }
    } else if (a->family == 6)
        inet_ntop(AF_INET6, a->bytes, out, HOMING_ADDR_STR_MAX);
    else
        out[0] = '\0';
}

void homing_addr_truncate(struct homing_addr *a, unsigned bits)
{
    unsigned total = a->family == 4 ? 32 : 128;
    if (bits >= total) return;
    unsigned byte = bits / 8, rem = bits % 8;
    if (rem) a->bytes[byte++] &= (uint8_t)(0xff << (8 - rem));
    memset(a->bytes + byte, 0, 16 - byte);
}

int homing_cidr_parse(const char *s, size_t n, struct homing_cidr *out)
{
    const char *slash = memchr(s, '/', n);
    struct homing_cidr c;
    size_t alen = slash ? (size_t)(slash - s) : n;
    int r = homing_addr_parse(s, alen, &c.addr);
    if (r < 0) return r;
    unsigned max = c.addr.family == 4 ? 32 : 128;
    unsigned bits = max;
    if (slash) {
        const char *p = slash + 1, *end = s + n;
        if (p == end || end - p > 3) return -EINVAL;
        bits = 0;
        for (; p < end; p++) {
            if (*p < '0' || *p > '9') return -EINVAL;
            bits = bits * 10 + (unsigned)(*p - '0');
        }
        if (bits > max) return -EINVAL;
    }
    c.bits = (uint8_t)bits;
    homing_addr_truncate(&c.addr, bits);
    *out = c;
    return 0;
}

int homing_cidr_contains(const struct homing_cidr *c, const struct homing_addr *a)
{
    if (c->addr.family != a->family) return 0;
    struct homing_addr t = *a;
    homing_addr_truncate(&t, c->bits);
    return memcmp(t.bytes, c->addr.bytes, 16) == 0;
}

int homing_addr_from_sockaddr(const struct sockaddr *sa, size_t len, struct homing_addr *out)
{
    memset(out, 0, sizeof *out);
    if (sa && sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
        out->family = 4;
        memcpy(out->bytes, &((const struct sockaddr_in *)sa)->sin_addr, 4);
        return 0;
    }
    if (sa && sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        const uint8_t *b = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
        int v4 = memcmp(b, mapped, 12) == 0;
        out->family = v4 ? 4 : 6;
        memcpy(out->bytes, v4 ? b + 12 : b, v4 ? 4 : 16);
        return 0;
    }
    return -EAFNOSUPPORT;
}
