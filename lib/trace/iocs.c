/*
 * iocs.c: indicators of compromise of one message for `homing trace --iocs`:
 * the URLs, domains, IP addresses and e-mail addresses in its header fields
 * and text parts (plain and HTML, transfer encoding and charset decoded by
 * GMime), and its attachments with their names, sizes and SHA-256 hashes,
 * for a blocklist, a ticket or a sandbox.
 *
 * Contract: the message is attacker text. GMime only gets it after the same
 * address pre-scan as scan (mime_addr_check); parts are walked to
 * HOMING_IOCS_DEPTH_MAX nesting and HOMING_IOCS_PARTS_MAX parts, at most
 * HOMING_IOCS_TEXT_MAX bytes of text are searched and HOMING_IOCS_MAX
 * indicators kept (each list in first-seen order, without repeats; what is
 * past a limit is counted in "over_limit"). An indicator is at most
 * IOCS_ITEM_MAX bytes. The output is the same for the same message.
 * Returns -EBADMSG for a message GMime cannot read, -ELOOP from the
 * pre-scan, -ENOMEM.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>
#include <openssl/evp.h>

#include "lib/mime/addr_check_int.h"
#include "lib/mime/mime_int.h"
#include "trace_int.h"

#define IOCS_ITEM_MAX HOMING_IOCS_ITEM_MAX

struct iocs {
    json_t *urls, *domains, *ips, *emails, *attachments;
    size_t n, over, text;
    int err;
};

static int seen(json_t *arr, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) if (strcmp(json_string_value(v), s) == 0) return 1;
    return 0;
}

static void add(struct iocs *c, json_t *arr, const char *p, size_t n, int lower)
{
    if (n == 0 || n > IOCS_ITEM_MAX) return;
    char buf[IOCS_ITEM_MAX + 1];
    for (size_t i = 0; i < n; i++)
        buf[i] = lower && p[i] >= 'A' && p[i] <= 'Z' ? (char)(p[i] + 32) : p[i];
    buf[n] = '\0';
    json_t *s = homing_json_text(buf);
    if (!s) {
        c->err = -ENOMEM;
        return;
    }
    if (seen(arr, json_string_value(s))) {
        json_decref(s);
        return;
    }
    if (c->n >= HOMING_IOCS_MAX) {
        c->over++;
        json_decref(s);
        return;
    }
    c->n++;
    json_array_append_new(arr, s);
}

static int is_dom(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '.' || (unsigned char)ch >= 0x80;
}

static int is_local(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           strchr(".!#$%&'*+/=?^_`{|}~-", ch) != NULL;
}

/* A domain as found: labels of letters, digits and hyphens (UTF-8 too), at
 * least one dot, a final label of two letters or more. */
static int domain_ok(const char *p, size_t n)
{
    while (n && p[n - 1] == '.') n--;
    const char *dot = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!is_dom(p[i]) || (p[i] == '.' && i + 1 < n && p[i + 1] == '.')) return 0;
        if (p[i] == '.') dot = p + i;
    }
    if (!dot || dot == p) return 0;
    size_t tl = (size_t)(p + n - dot - 1);
    if (tl < 2) return 0;
    for (const char *q = dot + 1; q < p + n; q++)
        if (!((*q | 0x20) >= 'a' && (*q | 0x20) <= 'z') && (unsigned char)*q < 0x80 && *q != '-')
            return 0;
    return 1;
}

static void add_domain(struct iocs *c, const char *p, size_t n)
{
    while (n && (p[n - 1] == '.' || p[n - 1] == '-')) n--;
    if (domain_ok(p, n)) add(c, c->domains, p, n, 1);
}

/* URL: scheme "://" up to a blank, quote, angle bracket or control; trailing
 * punctuation a sentence puts after a URL is left out. */
static size_t url_at(struct iocs *c, const char *s, size_t len, size_t i)
{
    static const char *const schemes[] = {"https://", "http://", "ftp://", "hxxps://", "hxxp://"};
    for (size_t k = 0; k < sizeof schemes / sizeof schemes[0]; k++) {
        size_t sl = strlen(schemes[k]);
        if (i + sl >= len || strncasecmp(s + i, schemes[k], sl) != 0) continue;
        if (i > 0 && ((s[i - 1] | 0x20) >= 'a' && (s[i - 1] | 0x20) <= 'z')) return 0;
        size_t e = i + sl;
        while (e < len && (unsigned char)s[e] > 0x20 && s[e] != 0x7f &&
               !strchr("<>\"'`{}|\\^", s[e]))
            e++;
        while (e > i + sl && strchr(".,;:!?)]", s[e - 1])) e--;
        if (e == i + sl) return 0;
        add(c, c->urls, s + i, e - i, 0);
        size_t h = i + sl, he = h;
        while (he < e && s[he] != '/' && s[he] != '?' && s[he] != '#') he++;
        const char *at = memchr(s + h, '@', he - h); /* user:pass@ */
        if (at) h = (size_t)(at - s) + 1;
        size_t hp = he;
        if (h < he && s[h] == '[') { /* [IPv6] */
            const char *rb = memchr(s + h, ']', he - h);
            if (rb) {
                char ip[64];
                size_t il = (size_t)(rb - s - h - 1);
                struct in6_addr a6;
                if (il < sizeof ip) {
                    memcpy(ip, s + h + 1, il);
                    ip[il] = '\0';
                    if (inet_pton(AF_INET6, ip, &a6) == 1) add(c, c->ips, ip, il, 1);
                }
            }
            return e - i;
        }
        for (size_t q = h; q < he; q++)
            if (s[q] == ':') hp = q;
        char host[256];
        size_t hl = hp - h;
        struct in_addr a4;
        if (hl && hl < sizeof host) {
            memcpy(host, s + h, hl);
            host[hl] = '\0';
            if (inet_pton(AF_INET, host, &a4) == 1)
                add(c, c->ips, host, hl, 0);
            else
                add_domain(c, host, hl);
        }
        return e - i;
    }
    return 0;
}

/* Searches text for every kind of indicator. */
static void scan_text(struct iocs *c, const char *s, size_t len)
{
    if (c->text + len > HOMING_IOCS_TEXT_MAX) {
        c->over++;
        len = c->text < HOMING_IOCS_TEXT_MAX ? HOMING_IOCS_TEXT_MAX - c->text : 0;
    }
    c->text += len;
    for (size_t i = 0; i < len && !c->err;) {
        char ch = s[i];
        if ((ch | 0x20) == 'h' || (ch | 0x20) == 'f') {
            size_t k = url_at(c, s, len, i);
            if (k) {
                i += k;
                continue;
            }
        }
        if (ch == '@' && i > 0 && is_local(s[i - 1])) {
            size_t a = i;
            while (a > 0 && is_local(s[a - 1]) && i - a < 64) a--;
            while (a < i && s[a] == '.') a++;
            size_t b = i + 1;
            while (b < len && is_dom(s[b]) && b - i < 255) b++;
            while (b > i + 1 && (s[b - 1] == '.' || s[b - 1] == '-')) b--;
            if (a < i && domain_ok(s + i + 1, b - i - 1)) {
                add(c, c->emails, s + a, b - a, 0);
                add_domain(c, s + i + 1, b - i - 1);
            }
            i = b > i ? b : i + 1;
            continue;
        }
        if (ch >= '0' && ch <= '9' && (i == 0 || !(is_dom(s[i - 1]) || s[i - 1] == ':'))) {
            size_t e = i;
            while (e < len && ((s[e] >= '0' && s[e] <= '9') || s[e] == '.') && e - i < 16) e++;
            while (e > i && s[e - 1] == '.') e--;
            char ip[17];
            struct in_addr a4;
            int alnum_after = e < len && (((s[e] | 0x20) >= 'a' && (s[e] | 0x20) <= 'z') ||
                                          (s[e] >= '0' && s[e] <= '9') || s[e] == '-');
            if (e - i >= 7 && e - i < sizeof ip && !alnum_after) {
                memcpy(ip, s + i, e - i);
                ip[e - i] = '\0';
                if (inet_pton(AF_INET, ip, &a4) == 1) add(c, c->ips, ip, e - i, 0);
            }
            i = e > i ? e : i + 1;
            continue;
        }
        if (ch == '[' && i + 6 < len && strncasecmp(s + i + 1, "IPv6:", 5) == 0) {
            const char *rb = memchr(s + i + 6, ']', len - i - 6 < 64 ? len - i - 6 : 64);
            if (rb) {
                char ip[64];
                size_t il = (size_t)(rb - s - i - 6);
                struct in6_addr a6;
                memcpy(ip, s + i + 6, il);
                ip[il] = '\0';
                if (inet_pton(AF_INET6, ip, &a6) == 1) add(c, c->ips, ip, il, 1);
            }
        }
        i++;
    }
}

/* &amp; in an HTML part's URLs as the browser reads them. */
static char *html_amp(const char *s, size_t n, size_t *out_n)
{
    char *d = malloc(n + 1);
    if (!d) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '&' && i + 5 <= n && strncasecmp(s + i, "&amp;", 5) == 0) {
            d[o++] = '&';
            i += 4;
        } else {
            d[o++] = s[i];
        }
    }
    d[o] = '\0';
    *out_n = o;
    return d;
}

struct walk {
    struct iocs *c;
    size_t parts;
};

static void attachment(struct iocs *c, GMimePart *part, const char *name, GByteArray *ba)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int ml = 0;
    char hex[2 * EVP_MAX_MD_SIZE + 1];
    if (EVP_Digest(ba->data, ba->len, md, &ml, EVP_sha256(), NULL) != 1) {
        c->err = -ENOMEM;
        return;
    }
    for (unsigned i = 0; i < ml; i++) snprintf(hex + 2 * i, 3, "%02x", md[i]);
    if (json_array_size(c->attachments) >= HOMING_IOCS_PARTS_MAX) {
        c->over++;
        return;
    }
    GMimeContentType *ct = g_mime_object_get_content_type(GMIME_OBJECT(part));
    char *mt = ct ? g_mime_content_type_get_mime_type(ct) : NULL;
    json_t *o = json_pack("{s:o, s:o, s:I, s:s}", "name", homing_json_text(name), "content_type",
                          homing_json_text(mt), "size", (json_int_t)ba->len, "sha256", hex);
    g_free(mt);
    if (!o || json_array_append_new(c->attachments, o) < 0) c->err = -ENOMEM;
}

static void walk_obj(struct walk *w, GMimeObject *obj, int depth);

static void walk_headers(struct walk *w, GMimeObject *obj)
{
    GMimeHeaderList *hl = g_mime_object_get_header_list(obj);
    int n = hl ? g_mime_header_list_get_count(hl) : 0;
    for (int i = 0; i < n && !w->c->err; i++) {
        GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
        const char *raw = g_mime_header_get_raw_value(h);
        if (!raw) continue;
        scan_text(w->c, raw, strlen(raw));
        /* the hosts a Received field names are domains too */
        const char *name = g_mime_header_get_name(h);
        struct homing_received *r = NULL;
        if (name && strcasecmp(name, "Received") == 0 &&
            homing_received_parse(raw, strlen(raw), &r) == 0) {
            const char *hosts[] = {r->from_helo, r->from_rdns, r->by_host};
            for (size_t k = 0; k < 3; k++)
                if (hosts[k]) add_domain(w->c, hosts[k], strlen(hosts[k]));
            homing_received_free(r);
        }
    }
}

static void walk_obj(struct walk *w, GMimeObject *obj, int depth)
{
    if (!obj || w->c->err) return;
    if (depth > HOMING_IOCS_DEPTH_MAX || ++w->parts > HOMING_IOCS_PARTS_MAX) {
        w->c->over++;
        return;
    }
    if (GMIME_IS_MULTIPART(obj)) {
        GMimeMultipart *mp = GMIME_MULTIPART(obj);
        int n = g_mime_multipart_get_count(mp);
        for (int i = 0; i < n; i++) walk_obj(w, g_mime_multipart_get_part(mp, i), depth + 1);
        return;
    }
    if (GMIME_IS_MESSAGE_PART(obj)) {
        GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
        if (m) {
            walk_headers(w, GMIME_OBJECT(m));
            walk_obj(w, g_mime_message_get_mime_part(m), depth + 1);
        }
        return;
    }
    if (!GMIME_IS_PART(obj)) return;
    GMimePart *part = GMIME_PART(obj);
    const char *name = g_mime_part_get_filename(part);
    const char *disp = g_mime_object_get_disposition(obj);
    GMimeContentType *ct = g_mime_object_get_content_type(obj);
    int text = ct && g_mime_content_type_is_type(ct, "text", "*");
    int html = ct && g_mime_content_type_is_type(ct, "text", "html");
    GByteArray *ba = homing_mime_part_bytes(part);
    if (!ba) return;
    if (name || (disp && strcasecmp(disp, "attachment") == 0) || !text) {
        attachment(w->c, part, name, ba);
    } else {
        /* text in its charset converted to UTF-8 where GMime knows it */
        const char *cs = g_mime_object_get_content_type_parameter(obj, "charset");
        char *utf8 = NULL;
        if (cs && strcasecmp(cs, "utf-8") != 0 && strcasecmp(cs, "us-ascii") != 0)
            utf8 = g_mime_utils_decode_8bit(NULL, (const char *)ba->data, ba->len);
        const char *s = utf8 ? utf8 : (const char *)ba->data;
        size_t n = utf8 ? strlen(utf8) : ba->len;
        if (html) {
            size_t hn = 0;
            char *h = html_amp(s, n, &hn);
            if (h)
                scan_text(w->c, h, hn);
            else
                w->c->err = -ENOMEM;
            free(h);
        } else {
            scan_text(w->c, s, n);
        }
        g_free(utf8);
    }
    g_byte_array_free(ba, TRUE);
}

int homing_trace_iocs(const char *msg, size_t len, json_t **out)
{
    if (len > HOMING_TRACE_MESSAGE_MAX) return -E2BIG;
    int rc = mime_addr_check(msg, len); /* GMime's group parser recurses */
    if (rc < 0) return rc;
    GMimeMessage *m = homing_mime_parse(msg, len);
    if (!m) return -EBADMSG;
    struct iocs c = {.urls = json_array(),
                     .domains = json_array(),
                     .ips = json_array(),
                     .emails = json_array(),
                     .attachments = json_array()};
    json_t *o = json_object();
    if (!o || !c.urls || !c.domains || !c.ips || !c.emails || !c.attachments) c.err = -ENOMEM;
    struct walk w = {.c = &c};
    if (!c.err) {
        walk_headers(&w, GMIME_OBJECT(m));
        walk_obj(&w, g_mime_message_get_mime_part(m), 0);
    }
    g_object_unref(m);
    if (c.err) {
        json_decref(o);
        json_decref(c.urls);
        json_decref(c.domains);
        json_decref(c.ips);
        json_decref(c.emails);
        json_decref(c.attachments);
        return c.err;
    }
    json_object_set_new(o, "urls", c.urls);
    json_object_set_new(o, "domains", c.domains);
    json_object_set_new(o, "ips", c.ips);
    json_object_set_new(o, "emails", c.emails);
    json_object_set_new(o, "attachments", c.attachments);
    json_object_set_new(o, "over_limit", json_integer((json_int_t)c.over));
    *out = o;
    return 0;
}

/* Defanged for pasting where a link must not be followed: "hxxp://",
 * "example[.]com", "192.0.2[.]1", "user@example[.]com". Into out (cap >= 1). */
void homing_iocs_defang(const char *s, char *out, size_t cap)
{
    size_t o = 0;
    const char *p = s;
    if (strncasecmp(p, "http", 4) == 0 || strncasecmp(p, "ftp", 3) == 0) {
        const char *rest = p + (strncasecmp(p, "ftp", 3) == 0 ? 3 : 4);
        const char *pre = strncasecmp(p, "ftp", 3) == 0 ? "fxp" : "hxxp";
        size_t pl = strlen(pre);
        if (pl + 1 < cap) {
            memcpy(out, pre, pl);
            o = pl;
            p = rest;
        }
    }
    /* only the host part's last dot is bracketed: enough to stop a link */
    const char *hs = strstr(p, "://");
    hs = hs ? hs + 3 : strchr(p, '@') ? strchr(p, '@') + 1 : p;
    const char *he = hs + strcspn(hs, "/?#:");
    const char *dot = NULL;
    for (const char *q = hs; q < he; q++)
        if (*q == '.') dot = q;
    for (; *p && o + 4 < cap; p++) {
        if (p == dot) {
            memcpy(out + o, "[.]", 3);
            o += 3;
        } else {
            out[o++] = *p;
        }
    }
    out[o] = '\0';
}
