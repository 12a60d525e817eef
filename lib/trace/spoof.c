/*
 * spoof.c: spoofing indicators of one message: From against Reply-To,
 * Return-Path, Sender and Message-ID domains, display names that carry
 * another address or a brand, look-alike and punycode domains, and a Date far
 * from the first hop. Domains are compared as a reader is shown them: their
 * "xn--" labels decoded (RFC 3492), so xn--pypal-4ve.com is the p\u0430ypal.com
 * it imitates, and the Unicode form is shown beside the A-label.
 *
 * Contract: an indicator is evidence, not a verdict; each carries a kind, a
 * severity (high: deception with little innocent use; medium; low: common in
 * legitimate bulk mail, e.g. a bounce domain at an ESP) and a one-line detail
 * made of sanitised text. Inputs were bounded by the callers' limits; nothing
 * here allocates beyond the JSON values it appends.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>

#include "homing/punycode.h"
#include "trace_int.h"

#define SPOOF_SKELETON_MAX 256
#define SPOOF_DETAIL_MAX   640
#define SPOOF_UNICODE_MAX  HOMING_PUNYCODE_DOMAIN_MAX /* a domain, xn-- labels decoded */
#define SPOOF_CODES_MAX    8 /* non-ASCII code points listed for one domain */

/* Brands phishing most often borrows; compared through skeletons. */
static const char *const brands[] = {
    "paypal",   "apple",    "microsoft", "google",          "amazon",        "netflix",
    "facebook", "linkedin", "dropbox",   "docusign",        "chase",         "wellsfargo",
    "dhl",      "fedex",    "office365", "outlook",         "icloud",        "instagram",
    "adobe",    "coinbase", "binance",   "americanexpress", "bankofamerica", "citibank",
};

static int add(json_t *arr, const char *kind, const char *severity, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int add(json_t *arr, const char *kind, const char *severity, const char *fmt, ...)
{
    char raw[SPOOF_DETAIL_MAX], clean[SPOOF_DETAIL_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    /* UTF-8 is kept for the JSON (jansson escapes nothing it need not); the
     * CLI sanitises again for a terminal. Control bytes never pass. */
    size_t o = 0;
    for (size_t i = 0; raw[i] && o + 1 < sizeof clean; i++)
        clean[o++] = (unsigned char)raw[i] < 0x20 ? '?' : raw[i];
    clean[o] = '\0';
    json_t *j = json_pack("{s:s, s:s, s:s}", "kind", kind, "severity", severity, "detail", clean);
    if (!j) {
        /* Invalid UTF-8 from the message: fall back to ASCII only. */
        homing_str_sanitize(clean, sizeof clean, raw, strlen(raw));
        j = json_pack("{s:s, s:s, s:s}", "kind", kind, "severity", severity, "detail", clean);
    }
    if (!j) return -ENOMEM;
    return json_array_append_new(arr, j) == 0 ? 0 : -ENOMEM;
}

/* Folds the Cyrillic and Greek letters that look like Latin ones to those
 * (UTF-8 in, ASCII out; other non-ASCII characters become '?'), so "p\u0430ypal"
 * reads as the "paypal" a person sees. Returns 1 if anything was folded. */
static int fold_confusables(const char *s, char *out, size_t cap)
{
    static const struct {
        unsigned cp;
        char c;
    } map[] = {
        {0x0430, 'a'}, {0x0435, 'e'}, {0x043e, 'o'}, {0x0440, 'p'}, {0x0441, 'c'},
        {0x0443, 'y'}, {0x0445, 'x'}, {0x0456, 'i'}, {0x0455, 's'}, {0x0458, 'j'},
        {0x04bb, 'h'}, {0x0501, 'd'}, {0x04cf, 'l'}, {0x0410, 'a'}, {0x0415, 'e'},
        {0x041e, 'o'}, {0x0420, 'p'}, {0x0421, 'c'}, {0x0425, 'x'}, {0x03b1, 'a'},
        {0x03bf, 'o'}, {0x03bd, 'v'}, {0x03c1, 'p'}, {0x03b9, 'i'}, {0x039f, 'o'},
    };
    size_t o = 0;
    int folded = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p && o + 1 < cap) {
        if (*p < 0x80) {
            out[o++] = (char)*p++;
            continue;
        }
        unsigned cp = 0;
        int len = 0;
        if ((*p & 0xe0) == 0xc0 && (p[1] & 0xc0) == 0x80) {
            cp = (unsigned)(*p & 0x1f) << 6 | (p[1] & 0x3f);
            len = 2;
        } else if ((*p & 0xf0) == 0xe0 && (p[1] & 0xc0) == 0x80 && (p[2] & 0xc0) == 0x80) {
            cp = (unsigned)(*p & 0x0f) << 12 | (unsigned)(p[1] & 0x3f) << 6 | (p[2] & 0x3f);
            len = 3;
        } else {
            len = 1;
        }
        char c = '?';
        for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
            if (map[i].cp == cp) {
                c = map[i].c;
                folded = 1;
            }
        out[o++] = c;
        p += len;
    }
    out[o] = '\0';
    return folded;
}

/* A confusable skeleton: what the name looks like rather than what it is. */
static void skeleton(const char *in, char *out, size_t cap)
{
    char tmp[SPOOF_SKELETON_MAX], ascii[SPOOF_SKELETON_MAX];
    fold_confusables(in, ascii, sizeof ascii);
    const char *s = ascii;
    size_t o = 0;
    for (; *s && o + 1 < sizeof tmp; s++) {
        char c = (char)tolower((unsigned char)*s);
        switch (c) {
        case '0': c = 'o'; break;
        case '1':
        case 'i':
        case '|':
        case '!': c = 'l'; break;
        case '5': c = 's'; break;
        case '3': c = 'e'; break;
        case '4':
        case '@': c = 'a'; break;
        case '-':
        case '_': continue;
        default: break;
        }
        tmp[o++] = c;
    }
    tmp[o] = '\0';
    size_t w = 0;
    for (size_t i = 0; i < o && w + 1 < cap; i++) {
        if (tmp[i] == 'r' && tmp[i + 1] == 'n') {
            out[w++] = 'm';
            i++;
        } else if (tmp[i] == 'v' && tmp[i + 1] == 'v') {
            out[w++] = 'w';
            i++;
        } else if (tmp[i] == 'c' && tmp[i + 1] == 'l') {
            out[w++] = 'd';
            i++;
        } else {
            out[w++] = tmp[i];
        }
    }
    out[w] = '\0';
}

/* The registrable label: "paypa1" of "mail.paypa1.com". */
static void org_label(const char *domain, char *out, size_t cap)
{
    char org[SPOOF_SKELETON_MAX];
    trace_org_domain(domain, org, sizeof org);
    char *dot = strchr(org, '.');
    if (dot) *dot = '\0';
    homing_strlcpy(out, org, cap);
}

/* The domain as a reader is shown it: its xn-- labels decoded into buf (cap
 * bytes), or the domain itself when it has none or one is not Punycode. */
static const char *shown(const char *d, char *buf, size_t cap)
{
    return homing_idna_to_unicode(d, buf, cap) > 0 ? buf : d;
}

/* "xn--pypal-4ve.com (p\u0430ypal.com)" for a domain with A-labels, else the
 * domain, for details. */
static const char *named(const char *d, char *buf, size_t cap)
{
    char u[SPOOF_UNICODE_MAX];
    if (shown(d, u, sizeof u) == d) return d;
    int n = snprintf(buf, cap, "%s (%s)", d, u);
    return n > 0 && (size_t)n < cap ? buf : d;
}

/* The non-ASCII code points of UTF-8 text as "U+0430 U+0440", at most
 * SPOOF_CODES_MAX of them (then "..."): a terminal shows the letters as '?'. */
static void code_points(const char *s, char *out, size_t cap)
{
    size_t o = 0, n = 0;
    out[0] = '\0';
    for (const unsigned char *p = (const unsigned char *)s; *p && o + 12 < cap;) {
        uint32_t cp = *p++;
        if (cp >= 0xc0) { /* a lead byte and what follows of its continuation bytes */
            int more = cp >= 0xf0 ? 3 : cp >= 0xe0 ? 2 : 1;
            cp &= 0x3fu >> more;
            for (; more && (*p & 0xc0) == 0x80; more--) cp = cp << 6 | (*p++ & 0x3f);
        }
        if (cp < 0x80) continue;
        if (n++ == SPOOF_CODES_MAX) {
            snprintf(out + o, cap - o, " ...");
            return;
        }
        o += (size_t)snprintf(out + o, cap - o, "%sU+%04X", o ? " " : "", (unsigned)cp);
    }
}

static int has_punycode(const char *d)
{
    for (const char *p = d; *p; p++)
        if ((p == d || p[-1] == '.') && strncasecmp(p, "xn--", 4) == 0) return 1;
    return 0;
}

static int has_non_ascii(const char *d)
{
    for (const char *p = d; *p; p++)
        if ((unsigned char)*p >= 0x80) return 1;
    return 0;
}

/* An A-label and the Unicode it stands for are one domain. */
static int same_org(const char *a, const char *b)
{
    char ua[SPOOF_UNICODE_MAX], ub[SPOOF_UNICODE_MAX];
    char oa[SPOOF_SKELETON_MAX], ob[SPOOF_SKELETON_MAX];
    trace_org_domain(shown(a, ua, sizeof ua), oa, sizeof oa);
    trace_org_domain(shown(b, ub, sizeof ub), ob, sizeof ob);
    return strcasecmp(oa, ob) == 0;
}

static int lookalike_pair(json_t *arr, const char *what, const char *a, const char *b)
{
    char la[SPOOF_SKELETON_MAX], lb[SPOOF_SKELETON_MAX];
    char sa[SPOOF_SKELETON_MAX], sb[SPOOF_SKELETON_MAX];
    char ua[SPOOF_UNICODE_MAX], ub[SPOOF_UNICODE_MAX];
    org_label(shown(a, ua, sizeof ua), la, sizeof la);
    org_label(shown(b, ub, sizeof ub), lb, sizeof lb);
    if (strcasecmp(la, lb) == 0) return 0;
    skeleton(la, sa, sizeof sa);
    skeleton(lb, sb, sizeof sb);
    if (strcmp(sa, sb) != 0) return 0;
    char na[SPOOF_DETAIL_MAX], nb[SPOOF_DETAIL_MAX];
    return add(arr, "lookalike_domain", "high", "%s domain %s looks like From domain %s", what,
               named(b, nb, sizeof nb), named(a, na, sizeof na));
}

static int check_domain(json_t *arr, const char *what, const char *d)
{
    int r = 0;
    char u[SPOOF_UNICODE_MAX], codes[SPOOF_CODES_MAX * 9 + 16];
    int idn = homing_idna_to_unicode(d, u, sizeof u);
    if (idn > 0) {
        code_points(u, codes, sizeof codes);
        r = add(arr, "punycode_domain", "medium",
                "%s domain %s is %s in Unicode (%s): its letters may imitate another", what, d, u,
                codes);
    } else if (has_punycode(d)) {
        r = add(arr, "punycode_domain", "medium",
                "%s domain %s is internationalised (xn--) but not valid Punycode", what, d);
    } else if (has_non_ascii(d)) {
        r = add(arr, "non_ascii_domain", "medium", "%s domain %s has non-ASCII characters", what,
                d);
    }
    if (r < 0) return r;
    char l[SPOOF_SKELETON_MAX], s[SPOOF_SKELETON_MAX], nd[SPOOF_DETAIL_MAX];
    org_label(idn > 0 ? u : d, l, sizeof l);
    skeleton(l, s, sizeof s);
    for (size_t i = 0; i < sizeof brands / sizeof brands[0]; i++) {
        char bs[SPOOF_SKELETON_MAX];
        skeleton(brands[i], bs, sizeof bs);
        if (strcmp(s, bs) == 0 && strcasecmp(l, brands[i]) != 0)
            return add(arr, "lookalike_domain", "high", "%s domain %s imitates %s", what,
                       named(d, nd, sizeof nd), brands[i]);
    }
    return 0;
}

/* An address or a domain inside the display name that is not the sender's. */
static int check_display(json_t *arr, const struct trace_addr *from)
{
    if (!from->display) return 0;
    const char *dn = from->display;
    const char *at = strchr(dn, '@');
    if (at) {
        /* The domain right of the '@' in the display name. */
        const char *s = at + 1;
        size_t n = 0;
        while (s[n] && (isalnum((unsigned char)s[n]) || s[n] == '.' || s[n] == '-')) n++;
        while (n && s[n - 1] == '.') n--;
        char d[SPOOF_SKELETON_MAX];
        if (n >= sizeof d) n = sizeof d - 1;
        memcpy(d, s, n);
        d[n] = '\0';
        if (n && (!from->domain || !same_org(d, from->domain)))
            return add(arr, "display_name_address", "high",
                       "display name \"%s\" shows an address at %s but the mail is from %s", dn, d,
                       from->addr ? from->addr : "(none)");
        return 0;
    }
    char lower[SPOOF_SKELETON_MAX];
    int folded = fold_confusables(dn, lower, sizeof lower);
    for (size_t i = 0; lower[i]; i++) lower[i] = (char)tolower((unsigned char)lower[i]);
    char fl[SPOOF_SKELETON_MAX] = "";
    if (from->domain) org_label(from->domain, fl, sizeof fl);
    char nf[SPOOF_DETAIL_MAX];
    for (size_t k = 0; k < sizeof brands / sizeof brands[0]; k++)
        if (strstr(lower, brands[k]) && strcasecmp(fl, brands[k]) != 0)
            return add(arr, "display_name_brand", folded ? "high" : "medium",
                       "display name \"%s\" names %s%s but the mail is from %s", dn, brands[k],
                       folded ? " spelt with look-alike letters" : "",
                       from->domain ? named(from->domain, nf, sizeof nf) : "(no domain)");
    return 0;
}

int spoof_indicators(const struct spoof_input *in, json_t *arr)
{
    int r;
    const struct trace_addr *from = in->from;
    if (!from || !from->domain) {
        if ((r = add(arr, "from_missing", "high", "no usable From address")) < 0) return r;
    } else {
        if ((r = check_domain(arr, "From", from->domain)) < 0) return r;
    }
    if (from && (r = check_display(arr, from)) < 0) return r;
    const struct {
        const char *what, *kind, *severity;
        const struct trace_addr *a;
    } others[] = {
        {"Reply-To", "reply_to_mismatch", "medium", in->reply_to},
        {"Return-Path", "return_path_mismatch", "low", in->return_path},
        {"Sender", "sender_mismatch", "low", in->sender},
    };
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        const struct trace_addr *a = others[i].a;
        if (!a || !a->domain) continue;
        /* A domain of the From organisation was already judged as From. */
        if (from && from->domain && same_org(from->domain, a->domain)) continue;
        if ((r = check_domain(arr, others[i].what, a->domain)) < 0) return r;
        if (from && from->domain) {
            char na[SPOOF_DETAIL_MAX], nf[SPOOF_DETAIL_MAX];
            if ((r = add(arr, others[i].kind, others[i].severity,
                         "%s domain %s differs from From domain %s", others[i].what,
                         named(a->domain, na, sizeof na), named(from->domain, nf, sizeof nf))) < 0)
                return r;
            if ((r = lookalike_pair(arr, others[i].what, from->domain, a->domain)) < 0) return r;
        }
    }
    if (in->message_id_domain && from && from->domain &&
        !same_org(from->domain, in->message_id_domain)) {
        char nm[SPOOF_DETAIL_MAX], nf[SPOOF_DETAIL_MAX];
        if ((r = add(arr, "message_id_mismatch", "low",
                     "Message-ID domain %s differs from From domain %s",
                     named(in->message_id_domain, nm, sizeof nm),
                     named(from->domain, nf, sizeof nf))) < 0)
            return r;
        if ((r = lookalike_pair(arr, "Message-ID", from->domain, in->message_id_domain)) < 0)
            return r;
    }
    for (size_t i = 0; i < in->n_dkim && from && from->domain; i++)
        if (!same_org(from->domain, in->dkim_domains[i]) &&
            (r = lookalike_pair(arr, "DKIM d=", from->domain, in->dkim_domains[i])) < 0)
            return r;
    if (in->have_date && in->have_first_hop) {
        int64_t d = in->date - in->first_hop;
        int64_t ad = d < 0 ? -d : d;
        if (ad > in->skew_max && (r = add(arr, "date_far_from_first_hop", "medium",
                                          "Date is %lld s %s the first hop's time stamp",
                                          (long long)ad, d < 0 ? "before" : "after")) < 0)
            return r;
    }
    return 0;
}
