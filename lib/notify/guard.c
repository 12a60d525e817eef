/*
 * guard.c: where a webhook may point (the SSRF guard). A webhook URL comes from
 * whoever registers it, and the daemon POSTs to it from inside the operator's
 * network; without a guard a registration could make homing probe loopback
 * services, the cloud metadata address or the LAN.
 *
 * Contract: see homing/notify.h. homing_webhook_url_parse is a strict parser of
 * outside bytes (fuzz/fuzz_webhook_url.c): a host is a canonical DNS name or a
 * canonical IP literal, nothing else (no octal, hex or short IPv4 forms, no
 * zone ids, no percent-encoding, no IDN), so what is checked here is what
 * libcurl and the resolver will read. The check that cannot be dodged is the
 * one at connect time (homing_webhook_addr_check on the address libcurl is
 * about to connect to, lib/notify/post.c): a name is only known safe once
 * resolved, and DNS may answer differently the next time. Nothing here logs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "homing/config.h"
#include "homing/notify.h"

#define GUARD_LABEL_MAX 63 /* bytes of one DNS label (RFC 1035) */
#define GUARD_PORT_MAX  65535

static const char *const guard_class_names[] = {
    [HOMING_ADDR_PUBLIC] = "public",           [HOMING_ADDR_LOOPBACK] = "loopback",
    [HOMING_ADDR_LINK_LOCAL] = "link-local",   [HOMING_ADDR_PRIVATE] = "private",
    [HOMING_ADDR_UNSPECIFIED] = "unspecified", [HOMING_ADDR_MULTICAST] = "multicast",
    [HOMING_ADDR_SHARED] = "shared (CGNAT)",   [HOMING_ADDR_RESERVED] = "reserved",
};

const char *homing_addr_class_name(int c)
{
    if (c < 0 || c > HOMING_ADDR_RESERVED) return "unknown";
    return guard_class_names[c];
}

static int guard_v4_class(const uint8_t b[4])
{
    if (b[0] == 0) return HOMING_ADDR_UNSPECIFIED; /* 0/8: "this network" */
    if (b[0] == 127) return HOMING_ADDR_LOOPBACK;
    if (b[0] == 10) return HOMING_ADDR_PRIVATE;
    if (b[0] == 172 && (b[1] & 0xf0) == 16) return HOMING_ADDR_PRIVATE;
    if (b[0] == 192 && b[1] == 168) return HOMING_ADDR_PRIVATE;
    if (b[0] == 169 && b[1] == 254) return HOMING_ADDR_LINK_LOCAL; /* cloud metadata too */
    if (b[0] == 100 && (b[1] & 0xc0) == 64) return HOMING_ADDR_SHARED;
    if (b[0] == 192 && b[1] == 0 && b[2] == 0) return HOMING_ADDR_RESERVED; /* IETF protocol */
    if (b[0] == 198 && (b[1] & 0xfe) == 18) return HOMING_ADDR_RESERVED;    /* benchmarking */
    if ((b[0] & 0xf0) == 224) return HOMING_ADDR_MULTICAST;
    if ((b[0] & 0xf0) == 240) return HOMING_ADDR_RESERVED; /* and the broadcast address */
    return HOMING_ADDR_PUBLIC;
}

int homing_addr_class(const struct homing_addr *a)
{
    if (!a || (a->family != 4 && a->family != 6)) return -EINVAL;
    const uint8_t *b = a->bytes;
    if (a->family == 4) return guard_v4_class(b);
    static const uint8_t zero[16];
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const uint8_t nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
    /* Forms that carry an IPv4 address reach that address: judge it. */
    if (memcmp(b, mapped, 12) == 0 || memcmp(b, nat64, 12) == 0) return guard_v4_class(b + 12);
    if (memcmp(b, zero, 15) == 0) {
        if (b[15] == 0) return HOMING_ADDR_UNSPECIFIED;
        if (b[15] == 1) return HOMING_ADDR_LOOPBACK;
    }
    if (memcmp(b, zero, 12) == 0) return HOMING_ADDR_RESERVED; /* IPv4-compatible, deprecated */
    if (b[0] == 0xff) return HOMING_ADDR_MULTICAST;
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return HOMING_ADDR_LINK_LOCAL;
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return HOMING_ADDR_PRIVATE; /* site-local */
    if ((b[0] & 0xfe) == 0xfc) return HOMING_ADDR_PRIVATE;                 /* unique local */
    if (b[0] == 0 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b[4] == 0 && b[5] == 1)
        return HOMING_ADDR_PRIVATE; /* 64:ff9b:1::/48, NAT64 for local use */
    if (b[0] == 1 && memcmp(b + 1, zero, 7) == 0) return HOMING_ADDR_RESERVED; /* 100::/64 */
    return HOMING_ADDR_PUBLIC;
}

/* A canonical dotted quad: four decimal parts 0..255, no leading zeros. */
static int guard_v4_canonical(const char *s, size_t n, uint8_t out[4])
{
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part && (i >= n || s[i++] != '.')) return 0;
        size_t start = i;
        unsigned v = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9' && i - start < 4)
            v = v * 10 + (unsigned)(s[i++] - '0');
        size_t len = i - start;
        if (len == 0 || len > 3 || v > 255 || (len > 1 && s[start] == '0')) return 0;
        out[part] = (uint8_t)v;
    }
    return i == n;
}

static int guard_is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.';
}

/* A DNS name of letters, digits and hyphens; labels 1..63 bytes, not starting
 * or ending with a hyphen; a last label with a letter (no all-numeric TLD: the
 * resolver would read "1.2.3" or "0x7f.1" as an address). */
static int guard_name_valid(const char *s, size_t n)
{
    if (n == 0 || n > HOMING_WEBHOOK_HOST_MAX) return 0;
    if (s[n - 1] == '.') n--; /* the root, written out */
    if (n == 0) return 0;
    size_t start = 0;
    int letter = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '.') {
            if (!guard_is_name_char(s[i])) return 0;
            continue;
        }
        size_t len = i - start;
        if (len == 0 || len > GUARD_LABEL_MAX || s[start] == '-' || s[i - 1] == '-') return 0;
        letter = 0;
        for (size_t k = start; k < i; k++)
            if ((s[k] >= 'a' && s[k] <= 'z') || (s[k] >= 'A' && s[k] <= 'Z')) letter = 1;
        start = i + 1;
    }
    if (!letter) return 0;
    /* What inet_aton would take as an address (0x7f000001, 0x7f.0.0.1) is
     * not a name, whatever its letters. */
    char tmp[HOMING_WEBHOOK_HOST_MAX + 1];
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    struct in_addr ia;
    return inet_aton(tmp, &ia) == 0;
}

int homing_webhook_url_parse(const char *url, size_t len, struct homing_webhook_url *out)
{
    if (!url || !out || len >= HOMING_WEBHOOK_URL_MAX) return -EINVAL;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)url[i];
        /* No blanks, controls, non-ASCII or backslashes: parsers disagree on them. */
        if (c <= 0x20 || c >= 0x7f || c == '\\') return -EINVAL;
    }
    struct homing_webhook_url u = {0};
    size_t i;
    if (len >= 7 && memcmp(url, "http://", 7) == 0) {
        i = 7;
        u.port = 80;
    } else if (len >= 8 && memcmp(url, "https://", 8) == 0) {
        i = 8;
        u.https = 1;
        u.port = 443;
    } else {
        return -EINVAL;
    }
    size_t auth_end = i;
    while (auth_end < len && url[auth_end] != '/' && url[auth_end] != '?' && url[auth_end] != '#')
        auth_end++;
    /* userinfo@: one '@' at most, so there is one reading of where the host starts. */
    const char *at = memchr(url + i, '@', auth_end - i);
    if (at) {
        if (memchr(at + 1, '@', (size_t)(url + auth_end - at - 1))) return -EINVAL;
        i = (size_t)(at - url) + 1;
    }
    const char *host = url + i;
    size_t host_len, rest;
    if (i < auth_end && url[i] == '[') {
        const char *close = memchr(url + i, ']', auth_end - i);
        if (!close) return -EINVAL;
        host = url + i + 1;
        host_len = (size_t)(close - host);
        for (size_t k = 0; k < host_len; k++)
            if (!(host[k] == ':' || host[k] == '.' || (host[k] >= '0' && host[k] <= '9') ||
                  (host[k] >= 'a' && host[k] <= 'f') || (host[k] >= 'A' && host[k] <= 'F')))
                return -EINVAL; /* a zone id (%eth0) or anything else */
        struct in6_addr a6;
        char tmp[HOMING_ADDR_STR_MAX];
        if (host_len == 0 || host_len >= sizeof tmp) return -EINVAL;
        memcpy(tmp, host, host_len);
        tmp[host_len] = '\0';
        if (inet_pton(AF_INET6, tmp, &a6) != 1) return -EINVAL;
        u.addr.family = 6;
        memcpy(u.addr.bytes, &a6, 16);
        rest = (size_t)(close - url) + 1;
    } else {
        size_t k = i;
        while (k < auth_end && url[k] != ':') k++;
        host_len = k - i;
        rest = k;
        int numeric = host_len > 0;
        for (size_t m = 0; m < host_len; m++)
            if (!((host[m] >= '0' && host[m] <= '9') || host[m] == '.')) numeric = 0;
        if (numeric) {
            if (!guard_v4_canonical(host, host_len, u.addr.bytes)) return -EINVAL;
            u.addr.family = 4;
        } else if (!guard_name_valid(host, host_len)) {
            return -EINVAL;
        }
    }
    if (host_len > HOMING_WEBHOOK_HOST_MAX) return -EINVAL;
    if (rest < auth_end) {
        if (url[rest] != ':' || rest + 1 == auth_end || auth_end - rest - 1 > 5) return -EINVAL;
        unsigned v = 0;
        for (size_t k = rest + 1; k < auth_end; k++) {
            if (url[k] < '0' || url[k] > '9') return -EINVAL;
            v = v * 10 + (unsigned)(url[k] - '0');
        }
        if (v == 0 || v > GUARD_PORT_MAX) return -EINVAL;
        u.port = (uint16_t)v;
    }
    for (size_t k = 0; k < host_len; k++) {
        char c = host[k];
        u.host[k] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
    }
    u.host[host_len] = '\0';
    *out = u;
    return 0;
}

int homing_webhook_guard_from_config(const struct homing_config *c,
                                     struct homing_webhook_guard *out)
{
    if (!c || !out) return -EINVAL;
    const struct homing_settings *set = homing_config_settings(c);
    struct homing_webhook_guard g = {.allow_private = set->webhooks.allow_private};
    /* admin.listen is HOST:PORT or [V6]:PORT, HOST empty for every address. */
    const char *spec = set->admin.listen;
    const char *host = spec, *port;
    size_t host_len;
    if (spec && spec[0] == '[') {
        const char *close = strchr(spec, ']');
        if (!close || close[1] != ':') return -EINVAL;
        host = spec + 1;
        host_len = (size_t)(close - host);
        port = close + 2;
    } else {
        const char *colon = spec ? strrchr(spec, ':') : NULL;
        if (!colon) return -EINVAL;
        host_len = (size_t)(colon - spec);
        port = colon + 1;
    }
    char *end;
    long p = strtol(port, &end, 10);
    if (*end || p <= 0 || p > GUARD_PORT_MAX) return -EINVAL;
    g.admin_port = (uint16_t)p;
    if (host_len && homing_addr_parse(host, host_len, &g.admin) < 0) return -EINVAL;
    /* A wildcard admin listener (family 0 or 0.0.0.0 / ::) answers on every
     * address of the host. */
    if (g.admin.family && homing_addr_class(&g.admin) == HOMING_ADDR_UNSPECIFIED)
        g.admin.family = 0;
    *out = g;
    return 0;
}

/* Is a one of this host's own addresses? (A wildcard admin listener answers on each.) */
static int guard_is_own(const struct homing_addr *a)
{
    struct ifaddrs *ifs;
    if (getifaddrs(&ifs) < 0) return 0;
    int own = 0;
    for (struct ifaddrs *i = ifs; i && !own; i = i->ifa_next) {
        if (!i->ifa_addr) continue;
        if (i->ifa_addr->sa_family == AF_INET && a->family == 4)
            own = memcmp(&((struct sockaddr_in *)i->ifa_addr)->sin_addr, a->bytes, 4) == 0;
        else if (i->ifa_addr->sa_family == AF_INET6 && a->family == 6)
            own = memcmp(&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, a->bytes, 16) == 0;
    }
    freeifaddrs(ifs);
    return own;
}

int homing_webhook_addr_check(const struct homing_webhook_guard *g, const struct homing_addr *a,
                              uint16_t port, char *why, size_t cap)
{
    if (!g || !a) return -EINVAL;
    struct homing_addr v = *a;
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (v.family == 6 && memcmp(v.bytes, mapped, 12) == 0) {
        memmove(v.bytes, v.bytes + 12, 4);
        memset(v.bytes + 4, 0, 12);
        v.family = 4;
    }
    int c = homing_addr_class(&v);
    if (c < 0) return c;
    char text[HOMING_ADDR_STR_MAX];
    homing_addr_format(&v, text);
    /* The admin API is never a webhook receiver, allow_private or not. */
    if (g->admin_port && port == g->admin_port) {
        int same = g->admin.family ? memcmp(&v, &g->admin, sizeof v) == 0
                                   : c == HOMING_ADDR_LOOPBACK || c == HOMING_ADDR_UNSPECIFIED ||
                                         guard_is_own(&v);
        if (same) {
            if (why && cap)
                snprintf(why, cap, "webhook URL points at homing's own admin listener (%s%s%s:%u)",
                         v.family == 6 ? "[" : "", text, v.family == 6 ? "]" : "", port);
            return -EPERM;
        }
    }
    if (c == HOMING_ADDR_PUBLIC || g->allow_private) return 0;
    if (why && cap)
        snprintf(why, cap,
                 "webhook URL points at a private address (%s, %s); set "
                 "webhooks.allow_private = yes to allow",
                 text, homing_addr_class_name(c));
    return -EPERM;
}

int homing_webhook_url_check(const struct homing_webhook_guard *g, const char *url, char *why,
                             size_t cap)
{
    if (!g || !url) return -EINVAL;
    struct homing_webhook_url u;
    if (homing_webhook_url_parse(url, strlen(url), &u) < 0) {
        if (why && cap)
            snprintf(why, cap,
                     "not a webhook URL: want http:// or https://, then a DNS name or an IP "
                     "address in its usual form, an optional port and a path");
        return -EINVAL;
    }
    if (u.addr.family) return homing_webhook_addr_check(g, &u.addr, u.port, why, cap);
    /* "localhost" is loopback by definition (RFC 6761), whatever DNS says. */
    size_t n = strlen(u.host);
    if (n && u.host[n - 1] == '.') n--;
    if (!g->allow_private && ((n == 9 && memcmp(u.host, "localhost", 9) == 0) ||
                              (n > 10 && memcmp(u.host + n - 10, ".localhost", 10) == 0))) {
        if (why && cap)
            snprintf(why, cap,
                     "webhook URL points at a private address (%.*s, loopback); set "
                     "webhooks.allow_private = yes to allow",
                     (int)n, u.host);
        return -EPERM;
    }
    return 0; /* a name: checked again on each connection, once resolved */
}
