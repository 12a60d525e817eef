/*
 * scan_url.c: what the scanner asks of one URL: is it remote, does it carry a
 * unique-looking id, which destination does a redirect wrapper hide, and does
 * it leak the recipient's address (plain, percent-encoded, base64, or as an
 * MD5 / SHA-1 / SHA-256 / SHA-512 digest of the address or its local part).
 *
 * Contract: see scan_int.h. URLs are attacker text: at most
 * HOMING_SCAN_URL_MAX bytes of one are examined, no recursion is unbounded.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "scan_int.h"

static int has_prefix_ci(const char *s, const char *p)
{
    return strncasecmp(s, p, strlen(p)) == 0;
}

static const char *skip_ws(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\f') s++;
    return s;
}

int scan_text_url(const char *text, size_t len, size_t *pos, size_t *start, size_t *end)
{
    for (size_t i = *pos; i + 8 <= len; i++) {
        if (!((text[i] == 'h' || text[i] == 'H') && (strncasecmp(text + i, "http://", 7) == 0 ||
                                                     strncasecmp(text + i, "https://", 8) == 0)))
            continue;
        size_t e = i;
        while (e < len && e - i < HOMING_SCAN_URL_MAX - 1 && (unsigned char)text[e] > ' ' &&
               text[e] != '<' && text[e] != '>' && text[e] != '"')
            e++;
        size_t n = e;
        while (n > i && strchr(SCAN_TEXT_URL_TRAIL, text[n - 1])) n--; /* sentence punctuation */
        *start = i;
        *end = n;
        *pos = e;
        return 1;
    }
    *pos = len;
    return 0;
}

int scan_url_is_remote(const char *u)
{
    u = skip_ws(u);
    return has_prefix_ci(u, "http://") || has_prefix_ci(u, "https://") ||
           has_prefix_ci(u, "ftp://") || (u[0] == '/' && u[1] == '/') ||
           (u[0] == '\\' && u[1] == '\\') || (u[0] == '/' && u[1] == '\\') ||
           (u[0] == '\\' && u[1] == '/');
}

int scan_url_needs_strip(const char *u)
{
    u = skip_ws(u);
    if (!*u || *u == '#') return 0;
    static const char *const inert[] = {
        "data:", "cid:", "mid:", "about:", "javascript:", "mailto:", "tel:", "sms:"};
    for (size_t i = 0; i < sizeof inert / sizeof *inert; i++)
        if (has_prefix_ci(u, inert[i])) return 0;
    return 1;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

char *scan_pct_decode(const char *s, size_t n)
{
    char *o = malloc(n + 1);
    if (!o) return NULL;
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        int a, b;
        if (s[i] == '%' && i + 2 < n && (a = hexval((unsigned char)s[i + 1])) >= 0 &&
            (b = hexval((unsigned char)s[i + 2])) >= 0) {
            o[j++] = (char)(a * 16 + b);
            i += 2;
        } else {
            o[j++] = s[i];
        }
    }
    o[j] = '\0';
    return o;
}

int scan_url_parse(const char *u, struct scan_url *out)
{
    u = skip_ws(u);
    size_t n = strnlen(u, HOMING_SCAN_URL_MAX);
    char *c = malloc(n + 1);
    if (!c) return -ENOMEM;
    memcpy(c, u, n);
    c[n] = '\0';
    for (char *p = c; *p; p++)
        if (*p == '\\') *p = '/'; /* browsers read backslashes as slashes in http URLs */
    struct scan_url r = {
        .copy = c, .scheme = "", .host = "", .path = "", .query = "", .fragment = ""};
    char *p = c;
    char *colon = strchr(p, ':');
    char *slash = strchr(p, '/');
    if (colon && (!slash || colon < slash)) {
        *colon = '\0';
        for (char *q = p; *q; q++) *q = (char)tolower((unsigned char)*q);
        r.scheme = p;
        p = colon + 1;
    }
    char *hash = strchr(p, '#');
    if (hash) {
        *hash = '\0';
        r.fragment = hash + 1;
    }
    char *qm = strchr(p, '?');
    if (qm) {
        *qm = '\0';
        r.query = qm + 1;
    }
    if (p[0] == '/' && p[1] == '/') {
        char *h = p + 2;
        char *end = strchr(h, '/');
        char *pathp = end ? end : h + strlen(h);
        /* host = after the last '@' of the authority, before ':' */
        char save = *pathp;
        *pathp = '\0';
        char *at = strrchr(h, '@');
        if (at) h = at + 1;
        char *port = h[0] == '[' ? strchr(h, ']') : strchr(h, ':');
        if (port && *port == ']') port = strchr(port, ':');
        if (port) *port = '\0';
        for (char *q = h; *q; q++) *q = (char)tolower((unsigned char)*q);
        size_t hl = strlen(h);
        while (hl && h[hl - 1] == '.') h[--hl] = '\0'; /* "example.com." is example.com */
        if (save) {
            /* the path needs its leading '/', which the NUL overwrote: shift the
             * host one byte left into the consumed "//" to make room. */
            memmove(p, h, hl + 1);
            r.host = p;
            *pathp = save;
            r.path = pathp;
        } else {
            r.host = h;
            r.path = "/";
        }
    } else {
        r.path = p;
    }
    *out = r;
    return 0;
}

void scan_url_free(struct scan_url *u)
{
    if (!u) return;
    free(u->copy);
    u->copy = NULL;
}

static int is_id_segment(const char *s, size_t n)
{
    if (n < 8) return 0;
    size_t digits = 0, letters = 0;
    for (size_t i = 0; i < n; i++) {
        if (isdigit((unsigned char)s[i]))
            digits++;
        else if (isalpha((unsigned char)s[i]))
            letters++;
    }
    return digits && letters;
}

/* A token of at least HOMING_SCAN_ID_MIN characters that looks machine-made:
 * all hex, all digits, or a segment (between - and _) mixing letters and digits.
 * "hero-image-2024-11-22" is words and a date, and is not. */
static int is_id_token(const char *s, size_t n)
{
    if (n < HOMING_SCAN_ID_MIN) return 0;
    size_t hex = 0, dig = 0;
    for (size_t i = 0; i < n; i++) {
        if (isxdigit((unsigned char)s[i])) hex++;
        if (isdigit((unsigned char)s[i])) dig++;
    }
    if (dig == n && n >= 12) return 1;
    if (hex == n && dig >= 4) return 1;
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '-' || s[i] == '_') {
            if (is_id_segment(s + start, i - start)) return 1;
            start = i + 1;
        }
    }
    return 0;
}

static int find_id(const char *s, char *tok, size_t cap)
{
    const char *p = s;
    while (*p) {
        size_t n = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+");
        if (n && is_id_token(p, n)) {
            size_t k = n < cap - 1 ? n : cap - 1;
            memcpy(tok, p, k);
            tok[k] = '\0';
            return 1;
        }
        p += n ? n : 1;
    }
    return 0;
}

int scan_url_has_id(const struct scan_url *u, char *tok, size_t cap)
{
    return find_id(u->path, tok, cap) || find_id(u->query, tok, cap) ||
           find_id(u->fragment, tok, cap);
}

/* Parameter names that commonly carry a redirect destination. */
static const char *const redirect_params[] = {
    "url",         "u",    "q",           "redirect", "redirect_url", "redirecturl",
    "redirect_to", "dest", "destination", "target",   "to",           "link",
    "goto",        "r",    "rd",          "out",      "href",         "mpre",
    "murl",        "ued",  "a",           "l",        "next",         NULL};

/* Path words of redirect endpoints ("/ls/click", "/track/click", "/redirect"). */
static int path_looks_redirect(const char *path)
{
    static const char *const words[] = {
        "click", "clicks", "redirect", "redir", "track",  "tracking", "trk", "out", "r",  "l", "lt",
        "link",  "links",  "go",       "url",   "jump",   "c",        "ls",  "ct",  "cl", "t", "e",
        "away",  "exit",   "forward",  "fwd",   "tn.jsp", "lt.php",   "rd",  "wf",  NULL};
    char w[64];
    const char *p = path;
    while (*p) {
        size_t n = strcspn(p, "/._-");
        if (n && n < sizeof w) {
            memcpy(w, p, n);
            w[n] = '\0';
            for (size_t i = 0; words[i]; i++)
                if (strcasecmp(w, words[i]) == 0) return 1;
        }
        p += n ? n : 1;
    }
    return strstr(path, "tn.jsp") != NULL;
}

/* The decoded value of a query parameter if it is an absolute http(s) URL. */
static char *param_url(const char *query, const char *name)
{
    const char *p = query;
    size_t nl = strlen(name);
    while (*p) {
        size_t n = strcspn(p, "&;");
        const char *eq = memchr(p, '=', n);
        if (eq && (size_t)(eq - p) == nl && strncasecmp(p, name, nl) == 0) {
            char *v = scan_pct_decode(eq + 1, n - (size_t)(eq - p) - 1);
            if (!v) return NULL;
            for (char *c = v; *c; c++)
                if (*c == '+') *c = ' ';
            const char *s = skip_ws(v);
            if (has_prefix_ci(s, "http%3a")) { /* encoded twice */
                char *w = scan_pct_decode(s, strlen(s));
                free(v);
                v = w;
                s = v;
            }
            if (v && (has_prefix_ci(s, "http://") || has_prefix_ci(s, "https://"))) {
                if (s != v) memmove(v, s, strlen(s) + 1);
                return v;
            }
            free(v);
        }
        p += n;
        if (*p) p++;
    }
    return NULL;
}

/* A destination embedded in the path ("/L0/https:%2F%2Fexample.com%2F/..."). */
static char *path_url(const char *path)
{
    const char *p = NULL;
    const char *cands[] = {"/https%3A",  "/http%3A",  "/https%3a",  "/http%3a",
                           "/https:%2F", "/http:%2F", "/https:%2f", "/http:%2f"};
    for (size_t i = 0; i < sizeof cands / sizeof *cands && !p; i++) p = strstr(path, cands[i]);
    if (!p) return NULL;
    p++;
    size_t n = strcspn(p, "/"); /* the encoded URL is one path segment */
    char *v = scan_pct_decode(p, n);
    if (v && !(has_prefix_ci(v, "http://") || has_prefix_ci(v, "https://"))) {
        free(v);
        return NULL;
    }
    return v;
}

static char *unwrap_once(const struct homing_trackers *t, const char *url, char *why, size_t whycap)
{
    struct scan_url u;
    if (scan_url_parse(url, &u) < 0) return NULL;
    char *dest = NULL;
    if (!*u.host ||
        !(strcmp(u.scheme, "http") == 0 || strcmp(u.scheme, "https") == 0 || !*u.scheme)) {
        scan_url_free(&u);
        return NULL;
    }
    const struct homing_tracker_rule *r =
        homing_trackers_match(t, u.host, u.path, HOMING_TRACKER_CLICK);
    if (r && r->param && (dest = param_url(u.query, r->param)))
        snprintf(why, whycap, "destination in parameter '%s' of a known wrapper", r->param);
    int redirecty = r != NULL || path_looks_redirect(u.path);
    for (size_t i = 0; !dest && redirecty && redirect_params[i]; i++)
        if ((dest = param_url(u.query, redirect_params[i])))
            snprintf(why, whycap, "destination in parameter '%s'", redirect_params[i]);
    if (!dest && (dest = path_url(u.path)))
        snprintf(why, whycap, "destination encoded in the path");
    if (dest) {
        /* a link to the same host with a "url" parameter is navigation, not a wrapper */
        struct scan_url d;
        if (scan_url_parse(dest, &d) == 0) {
            if (!r && strcmp(d.host, u.host) == 0) {
                free(dest);
                dest = NULL;
            }
            scan_url_free(&d);
        }
    }
    scan_url_free(&u);
    return dest;
}

int scan_url_unwrap(const struct homing_trackers *t, const char *url, char **dest, char *why,
                    size_t whycap)
{
    char *cur = NULL;
    for (int i = 0; i < HOMING_SCAN_UNWRAP_MAX; i++) {
        char *next = unwrap_once(t, cur ? cur : url, why, whycap);
        if (!next) break;
        free(cur);
        cur = next;
    }
    if (!cur) return 0;
    /* the destination goes back into an attribute: keep it to printable ASCII */
    struct homing_buf b;
    homing_buf_init(&b, HOMING_SCAN_URL_MAX * 3 + 1);
    int r = 0;
    for (const unsigned char *p = (const unsigned char *)cur; *p && r == 0; p++) {
        if (*p <= 0x20 || *p >= 0x7f)
            r = homing_buf_printf(&b, "%%%02X", *p);
        else
            r = homing_buf_append(&b, p, 1);
    }
    free(cur);
    if (r < 0) {
        homing_buf_free(&b);
        return r;
    }
    *dest = homing_buf_steal(&b);
    return 1;
}

/* ---- recipient address needles ---- */

static void digest_hex(const char *alg, const char *s, char *hex)
{
    unsigned char md[64];
    unsigned int n = 0;
    size_t len = strlen(s);
    if (strcmp(alg, "sha256") == 0) {
        crypto_hash_sha256(md, (const unsigned char *)s, len);
        n = 32;
    } else if (strcmp(alg, "sha512") == 0) {
        crypto_hash_sha512(md, (const unsigned char *)s, len);
        n = 64;
    } else {
        const EVP_MD *m = strcmp(alg, "md5") == 0 ? EVP_md5() : EVP_sha1();
        if (EVP_Digest(s, len, md, &n, m, NULL) != 1) n = 0;
    }
    homing_hex_encode(md, n, hex);
    hex[n * 2] = '\0';
}

static void needles_hash(struct scan_needles *nd)
{
    nd->hashed = 1;
    const char *address = nd->address;
    char local[321], local_lower[321];
    homing_strlcpy(local, address, sizeof local);
    char *at = strrchr(local, '@');
    if (at) *at = '\0';
    homing_strlcpy(local_lower, nd->lower, sizeof local_lower);
    at = strrchr(local_lower, '@');
    if (at) *at = '\0';
    const struct {
        const char *s, *what;
    } srcs[] = {{nd->lower, "the lower-cased address"},
                {nd->address, "the address"},
                {local_lower, "the lower-cased local part"},
                {local, "the local part"}};
    static const char *const algs[] = {"md5", "sha1", "sha256", "sha512"};
    for (size_t a = 0; a < 4; a++) {
        for (size_t s = 0; s < 4; s++) {
            if (s == 1 && strcmp(nd->address, nd->lower) == 0) continue;
            if (s == 3 && strcmp(local, local_lower) == 0) continue;
            if (nd->n == SCAN_NEEDLES_MAX) break;
            digest_hex(algs[a], srcs[s].s, nd->h[nd->n].hex);
            snprintf(nd->h[nd->n].what, sizeof nd->h[nd->n].what, "%s of %s", algs[a],
                     srcs[s].what);
            nd->n++;
        }
    }
}

int scan_needles_init(struct scan_needles *nd, const char *address)
{
    memset(nd, 0, sizeof *nd);
    if (!address || !*address || strlen(address) > 320) return -EINVAL;
    nd->address = strdup(address);
    nd->lower = strdup(address);
    if (!nd->address || !nd->lower) {
        scan_needles_free(nd);
        return -ENOMEM;
    }
    for (char *p = nd->lower; *p; p++) *p = (char)tolower((unsigned char)*p);
    size_t n = strlen(nd->lower);
    if (!(nd->hex = malloc(2 * n + 1))) {
        scan_needles_free(nd);
        return -ENOMEM;
    }
    homing_hex_encode((const uint8_t *)nd->lower, n, nd->hex);
    nd->hex[2 * n] = '\0';
    return 0;
}

void scan_needles_free(struct scan_needles *nd)
{
    if (!nd) return;
    free(nd->address);
    free(nd->lower);
    free(nd->hex);
    nd->address = nd->lower = nd->hex = NULL;
    nd->n = 0;
}

static int has_hex_run(const char *s, size_t min)
{
    size_t run = 0;
    for (; *s; s++) {
        run = isxdigit((unsigned char)*s) ? run + 1 : 0;
        if (run >= min) return 1;
    }
    return 0;
}

static const char *place_of(const char *url, size_t off)
{
    const char *q = strchr(url, '?');
    const char *h = strchr(url, '#');
    if (h && off >= (size_t)(h - url)) return "fragment";
    if (q && off >= (size_t)(q - url)) return "query";
    return "path";
}

/* base64 (either alphabet, padding optional) of s into a malloc'd string. */
static char *b64_decode_any(const char *s, size_t n, size_t *outlen)
{
    char *o = malloc(n + 1);
    if (!o) return NULL;
    int r = homing_base64_decode(s, n, (uint8_t *)o, n, HOMING_B64_URLSAFE);
    if (r < 0) {
        free(o);
        return NULL;
    }
    o[r] = '\0';
    *outlen = (size_t)r;
    return o;
}

static int mem_contains_ci(const char *hay, size_t hn, const char *needle)
{
    size_t nn = strlen(needle);
    if (nn == 0 || nn > hn) return 0;
    for (size_t i = 0; i + nn <= hn; i++)
        if (strncasecmp(hay + i, needle, nn) == 0) return 1;
    return 0;
}

int scan_leak(struct scan_needles *nd, const char *url, char *why, size_t whycap)
{
    if (!nd || !nd->lower) return 0;
    size_t n = strnlen(url, HOMING_SCAN_URL_MAX);
    char *dec = scan_pct_decode(url, n);
    if (!dec) return 0;
    int found = 0;
    char *hit;
    if ((hit = strcasestr(dec, nd->lower))) {
        int raw = strcasestr(url, nd->lower) != NULL;
        snprintf(why, whycap, "address %s in the %s", raw ? "in plain text" : "percent-encoded",
                 place_of(dec, (size_t)(hit - dec)));
        found = 1;
    }
    size_t hexlen = nd->hex ? strlen(nd->hex) : 0;
    if (!found && has_hex_run(dec, hexlen && hexlen < 32 ? hexlen : 32)) {
        /* the shortest digest, MD5, is 32 hex digits; the address in hex
         * may be shorter */
        if (!nd->hashed) needles_hash(nd);
        char *low = strdup(dec);
        if (low) {
            for (char *p = low; *p; p++) *p = (char)tolower((unsigned char)*p);
            if (hexlen && (hit = strstr(low, nd->hex))) {
                snprintf(why, whycap, "address hex-encoded in the %s",
                         place_of(low, (size_t)(hit - low)));
                found = 1;
            }
            for (size_t i = 0; i < nd->n && !found; i++) {
                if ((hit = strstr(low, nd->h[i].hex))) {
                    snprintf(why, whycap, "%s in the %s", nd->h[i].what,
                             place_of(low, (size_t)(hit - low)));
                    found = 1;
                }
            }
            free(low);
        }
    }
    /* base64: try each token between URL delimiters, and its dot-separated parts */
    for (const char *p = dec; !found && *p;) {
        size_t k = strcspn(p, "/?&=#;.,:! ");
        /* the encoded address may follow an id and a '_' or '-' (base64url
         * characters themselves), so try each such start, a bounded number */
        int tries = 0;
        size_t need = (strlen(nd->lower) * 4 + 2) / 3; /* base64 length of the address */
        for (size_t st = 0; k >= need && st + need <= k && !found && tries < 16; st++) {
            if (st && p[st - 1] != '_' && p[st - 1] != '-') continue;
            tries++;
            size_t ol;
            char *b = b64_decode_any(p + st, k - st, &ol);
            if (b && mem_contains_ci(b, ol, nd->lower)) {
                snprintf(why, whycap, "address base64-encoded in the %s",
                         place_of(dec, (size_t)(p - dec)));
                found = 1;
            }
            free(b);
        }
        p += k ? k : 1;
    }
    free(dec);
    return found;
}

/* ---- findings ---- */

static char *dup_or_null(const char *s, int *err)
{
    if (!s) return NULL;
    char *d = strdup(s);
    if (!d) *err = 1;
    return d;
}

int scan_add(struct homing_scan_result *res, int kind, const char *part, const char *element,
             const char *attribute, const char *url, const char *vendor, const char *evidence,
             const char *destination)
{
    if (res->n >= HOMING_SCAN_FINDINGS_MAX) {
        res->truncated = 1;
        return -E2BIG;
    }
    if (res->n == res->cap) {
        size_t nc = res->cap ? res->cap * 2 : 16;
        void *nf = realloc(res->f, nc * sizeof *res->f);
        if (!nf) return -ENOMEM;
        res->f = nf;
        res->cap = nc;
    }
    struct homing_scan_finding *f = &res->f[res->n];
    memset(f, 0, sizeof *f);
    int err = 0;
    f->kind = kind;
    homing_strlcpy(f->part, part ? part : "", sizeof f->part);
    f->element = element;
    f->attribute = attribute;
    f->url = dup_or_null(url, &err);
    f->vendor = dup_or_null(vendor, &err);
    f->evidence = dup_or_null(evidence, &err);
    f->destination = dup_or_null(destination, &err);
    if (err) {
        free(f->url);
        free(f->vendor);
        free(f->evidence);
        free(f->destination);
        return -ENOMEM;
    }
    res->n++;
    return 0;
}

int scan_suspect_add(struct homing_scan_result *res, int kind, const char *part,
                     const char *element, const char *attribute, const char *url,
                     const char *vendor, const char *tok)
{
    if (res->ns >= HOMING_SCAN_SUSPECTS_MAX) return 0; /* only copies compare them */
    int e = homing_array_grow((void **)&res->s, &res->caps, res->ns, sizeof *res->s, 8);
    if (e < 0) return e;
    struct homing_scan_suspect *x = &res->s[res->ns];
    memset(x, 0, sizeof *x);
    homing_strlcpy(x->part, part ? part : "", sizeof x->part);
    x->element = element;
    x->attribute = attribute;
    x->kind = kind;
    homing_strlcpy(x->tok, tok, sizeof x->tok);
    int err = 0;
    x->url = dup_or_null(url, &err);
    x->vendor = dup_or_null(vendor, &err);
    if (err) {
        free(x->url);
        free(x->vendor);
        return -ENOMEM;
    }
    res->ns++;
    return 0;
}

void homing_scan_result_free(struct homing_scan_result *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->ns; i++) {
        free(r->s[i].url);
        free(r->s[i].vendor);
    }
    free(r->s);
    for (size_t i = 0; i < r->n; i++) {
        free(r->f[i].url);
        free(r->f[i].vendor);
        free(r->f[i].evidence);
        free(r->f[i].destination);
    }
    free(r->f);
    free(r->recipient);
    free(r);
}

const char *homing_scan_kind_name(int kind)
{
    static const char *const names[] = {
        "pixel",        "tracker-image", "id-image",       "css-beacon",
        "css-import",   "font-beacon",   "link-load",      "frame",
        "object",       "media",         "script",         "meta-refresh",
        "wrapped-link", "tracked-link",  "recipient-leak", "read-receipt"};
    return kind >= 0 && kind < HOMING_SCAN_KIND_COUNT ? names[kind] : "unknown";
}
