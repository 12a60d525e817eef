/*
 * route.c: public paths to routes, and the client address behind trusted
 * proxies (contract in route.h). Both read attacker-controlled bytes.
 */
#include <errno.h>
#include <string.h>

#include "homing/token.h"
#include "route.h"

static int has_prefix(const char *p, size_t n, const char *prefix, size_t plen)
{
    return n >= plen && memcmp(p, prefix, plen) == 0;
}

static int field_is(const char *line, size_t n, const char *name, size_t nlen)
{
    if (n <= nlen || line[nlen] != ':') return 0;
    for (size_t i = 0; i < nlen; i++) {
        char c = line[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c != name[i]) return 0;
    }
    return 1;
}

int route_framing_check(const char *head, size_t len)
{
    if (len > ROUTE_HEAD_MAX) len = ROUTE_HEAD_MAX;
    size_t i = 0;
    /* The parser skips an empty line before the request line (a client's
     * stray CRLF after a body). */
    while (i < len && (head[i] == '\r' || head[i] == '\n')) i++;
    int content_length = 0, transfer_encoding = 0, first = 1;
    while (i < len) {
        const char *line = head + i;
        const char *nl = memchr(line, '\n', len - i);
        if (!nl) return -EINVAL;
        size_t n = (size_t)(nl - line);
        i += n + 1;
        if (n && line[n - 1] == '\r') n--;
        if (n == 0) /* the blank line: the head is complete */
            return content_length + transfer_encoding > 1 ? -EINVAL : 0;
        if (first) { /* the request line */
            first = 0;
            continue;
        }
        if (line[0] == ' ' || line[0] == '\t') return -EINVAL; /* obs-fold */
        if (field_is(line, n, "content-length", 14))
            content_length++;
        else if (field_is(line, n, "transfer-encoding", 17))
            transfer_encoding++;
    }
    return -EINVAL;
}

void route_parse(const char *path, size_t len, struct route *out)
{
    struct route r = {ROUTE_NOT_FOUND, {NULL, 0}};
    const char *q = memchr(path, '?', len);
    if (q) len = (size_t)(q - path);
    if (len > ROUTE_PATH_MAX) {
        *out = r;
        return;
    }
    if (len == 8 && memcmp(path, "/healthz", 8) == 0) {
        r.kind = ROUTE_HEALTHZ;
    } else if (has_prefix(path, len, "/o/", 3) && len >= 7 &&
               memcmp(path + len - 4, ".gif", 4) == 0) {
        r.kind = ROUTE_PIXEL;
        r.token = (struct homing_slice){path + 3, len - 7};
    } else if (has_prefix(path, len, "/c/", 3) && len > 3) {
        r.kind = ROUTE_CLICK;
        r.token = (struct homing_slice){path + 3, len - 3};
    } else if (has_prefix(path, len, "/d/", 3) && len > 3) {
        r.kind = ROUTE_DOCUMENT;
        r.token = (struct homing_slice){path + 3, len - 3};
    } else if (has_prefix(path, len, "/u/", 3) && len > 3) {
        r.kind = ROUTE_UNSUBSCRIBE;
        r.token = (struct homing_slice){path + 3, len - 3};
    }
    /* A token never contains '/': anything deeper is not a route of ours. */
    if (r.token.p && memchr(r.token.p, '/', r.token.len)) r = (struct route){ROUTE_NOT_FOUND};
    *out = r;
}

static const char one_click_key[] = "List-Unsubscribe", one_click_value[] = "One-Click";

/* memmem over a bounded slice, for the multipart form. */
static const char *find(const char *p, size_t n, const char *needle, size_t nlen)
{
    for (size_t i = 0; nlen <= n && i <= n - nlen; i++)
        if (memcmp(p + i, needle, nlen) == 0) return p + i;
    return NULL;
}

int route_one_click(const char *body, size_t len)
{
    if (!body || len == 0 || len > ROUTE_FORM_MAX) return 0;
    char v[sizeof one_click_value + 1];
    /* urlencoded: exactly the pair (another value, e.g. "One-Click2", is not it) */
    int n = homing_form_get(body, len, one_click_key, v, sizeof v);
    if (n == (int)sizeof one_click_value - 1 && memcmp(v, one_click_value, (size_t)n) == 0)
        return 1;
    /* multipart: Content-Disposition: form-data; name="List-Unsubscribe", a
     * blank line, then the value up to the next line break */
    static const char name[] = "name=\"List-Unsubscribe\"";
    const char *at = find(body, len, name, sizeof name - 1);
    if (!at) return 0;
    size_t rest = len - (size_t)(at - body);
    const char *blank = find(at, rest, "\r\n\r\n", 4);
    size_t skip = 4;
    if (!blank) blank = find(at, rest, "\n\n", 2), skip = 2;
    if (!blank) return 0;
    const char *val = blank + skip, *end = body + len;
    size_t vl = sizeof one_click_value - 1;
    if ((size_t)(end - val) < vl || memcmp(val, one_click_value, vl) != 0) return 0;
    val += vl;
    return val == end || *val == '\r' || *val == '\n';
}

static int is_space(char c)
{
    return c == ' ' || c == '\t';
}

static void trim(const char **p, size_t *n)
{
    while (*n && is_space(**p)) (*p)++, (*n)--;
    while (*n && is_space((*p)[*n - 1])) (*n)--;
}

int trusted_proxies_parse(const char *text, struct trusted_proxies *out)
{
    struct trusted_proxies t = {0};
    const char *p = text;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        const char *item = p;
        trim(&item, &n);
        if (n) {
            if (t.n >= CLIENTADDR_PROXIES_MAX) return -E2BIG;
            if (homing_cidr_parse(item, n, &t.nets[t.n]) < 0) return -EINVAL;
            t.n++;
        }
        p = comma ? comma + 1 : p + strlen(p);
    }
    *out = t;
    return 0;
}

int trusted_proxies_contains(const struct trusted_proxies *t, const struct homing_addr *a)
{
    for (size_t i = 0; i < t->n; i++)
        if (homing_cidr_contains(&t->nets[i], a)) return 1;
    return 0;
}

/* One element of X-Forwarded-For: an address, maybe with a port ("1.2.3.4:80",
 * "[::1]:80"). */
static int parse_hop(const char *p, size_t n, struct homing_addr *a)
{
    trim(&p, &n);
    if (n >= 2 && p[0] == '"' && p[n - 1] == '"') p++, n -= 2;
    if (n && p[0] == '[') {
        const char *close = memchr(p, ']', n);
        if (!close) return -EINVAL;
        return homing_addr_parse(p + 1, (size_t)(close - p - 1), a);
    }
    if (homing_addr_parse(p, n, a) == 0) return 0;
    const char *colon = memchr(p, ':', n);
    if (colon && !memchr(colon + 1, ':', n - (size_t)(colon - p) - 1))
        return homing_addr_parse(p, (size_t)(colon - p), a);
    return -EINVAL;
}

/* Walks a comma-separated list from the right; pick() extracts one address
 * from an element. Returns 0 with *out set, or -ENOENT. */
static int walk_right(const struct trusted_proxies *t, const char *v, size_t n,
                      int (*pick)(const char *, size_t, struct homing_addr *),
                      struct homing_addr *out)
{
    size_t end = n;
    for (int hops = 0; hops < CLIENTADDR_HOPS_MAX && end > 0; hops++) {
        size_t start = end;
        while (start > 0 && v[start - 1] != ',') start--;
        struct homing_addr a;
        if (pick(v + start, end - start, &a) < 0) return -ENOENT; /* garbage: stop believing */
        if (!trusted_proxies_contains(t, &a)) {
            *out = a;
            return 0;
        }
        *out = a; /* all trusted so far: the leftmost seen is the best guess */
        if (start == 0) return 0;
        end = start - 1;
    }
    return -ENOENT;
}

/* One element of Forwarded (RFC 7239): ";"-separated pairs; we want for=. */
static int parse_forwarded_element(const char *p, size_t n, struct homing_addr *a)
{
    while (n) {
        const char *semi = memchr(p, ';', n);
        size_t len = semi ? (size_t)(semi - p) : n;
        const char *pair = p;
        size_t plen = len;
        trim(&pair, &plen);
        if (plen > 4 && strncasecmp(pair, "for=", 4) == 0) return parse_hop(pair + 4, plen - 4, a);
        if (!semi) break;
        p = semi + 1;
        n -= len + 1;
    }
    return -EINVAL;
}

void clientaddr_resolve(const struct trusted_proxies *t, const struct homing_addr *peer,
                        const char *xff, size_t xff_len, const char *fwd, size_t fwd_len,
                        struct homing_addr *out)
{
    *out = *peer;
    if (!t->n || !trusted_proxies_contains(t, peer)) return;
    struct homing_addr a;
    if (xff && xff_len <= CLIENTADDR_HEADER_MAX && walk_right(t, xff, xff_len, parse_hop, &a) == 0)
        *out = a;
    else if (fwd && fwd_len <= CLIENTADDR_HEADER_MAX &&
             walk_right(t, fwd, fwd_len, parse_forwarded_element, &a) == 0)
        *out = a;
}
