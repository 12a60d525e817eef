/*
 * domain_urls.c: the tracking base URL per sending domain
 * (public.domain_base_urls, or [domain NAME] sections with public_base_url).
 *
 * The map is text: entries "DOMAIN=URL" separated by white space or commas.
 * A domain is 1 to HOMING_DOMAIN_NAME_MAX letters, digits, '-' and '.',
 * compared without case with the part after the last '@' of the sender's
 * address (exactly: a subdomain needs an entry of its own, so that mail from
 * a.example.org never goes out with the tracking host of example.org by
 * accident). A URL is http:// or https:// followed by printable ASCII without
 * quotes, angle brackets, a backquote or a backslash (what homing track
 * accepts as public.base_url), at most HOMING_DOMAIN_URL_MAX bytes. The first
 * entry of a domain wins; the map is checked when the configuration is read,
 * so a typo is an error at start.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "homing/config.h"

static int is_sep(char c)
{
    return c == ' ' || c == '\t' || c == ',' || c == '\n' || c == '\r';
}

static int domain_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.';
}

static int url_ok(const char *u, size_t n)
{
    if (n == 0 || n > HOMING_DOMAIN_URL_MAX) return 0;
    size_t scheme = n > 7 && strncasecmp(u, "http://", 7) == 0    ? 7
                    : n > 8 && strncasecmp(u, "https://", 8) == 0 ? 8
                                                                  : 0;
    if (!scheme) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)u[i];
        if (c <= 0x20 || c >= 0x7f || strchr("\"'<>`\\", c)) return 0;
    }
    return 1;
}

/* The next entry of the map at *p: its domain and URL; 0 at the end, 1 for an
 * entry, -EINVAL for a malformed one (*p then points at it). */
static int next_entry(const char **p, const char **dom, size_t *dl, const char **url, size_t *ul)
{
    const char *s = *p;
    while (*s && is_sep(*s)) s++;
    *p = s;
    if (!*s) return 0;
    const char *e = s;
    while (*e && !is_sep(*e)) e++;
    const char *eq = memchr(s, '=', (size_t)(e - s));
    if (!eq || eq == s || (size_t)(eq - s) > HOMING_DOMAIN_NAME_MAX) return -EINVAL;
    for (const char *c = s; c < eq; c++)
        if (!domain_char(*c)) return -EINVAL;
    if (!url_ok(eq + 1, (size_t)(e - eq - 1))) return -EINVAL;
    *dom = s;
    *dl = (size_t)(eq - s);
    *url = eq + 1;
    *ul = (size_t)(e - eq - 1);
    *p = e;
    return 1;
}

int homing_domain_urls_next(const char **p, char *dom, size_t dcap, char *url, size_t ucap)
{
    const char *d, *u;
    size_t dl, ul;
    int r = next_entry(p, &d, &dl, &u, &ul);
    if (r != 1) return r;
    if (dl >= dcap || ul >= ucap) return -ENAMETOOLONG;
    memcpy(dom, d, dl);
    dom[dl] = '\0';
    memcpy(url, u, ul);
    url[ul] = '\0';
    return 1;
}

int homing_domain_urls_check(const char *map, char *err, size_t errcap)
{
    const char *p = map ? map : "", *d, *u;
    size_t dl, ul, n = 0;
    int r;
    while ((r = next_entry(&p, &d, &dl, &u, &ul)) == 1) {
        if (++n > HOMING_DOMAIN_URLS_MAX) {
            if (err) snprintf(err, errcap, "more than %d domains", HOMING_DOMAIN_URLS_MAX);
            return -E2BIG;
        }
    }
    if (r < 0 && err) {
        size_t len = strcspn(p, " \t,\r\n");
        snprintf(err, errcap, "'%.*s' is not DOMAIN=URL (an http:// or https:// URL)",
                 (int)(len > 80 ? 80 : len), p);
    }
    return r;
}

int homing_domain_base_url(const char *map, const char *sender, const char *fallback, char *out,
                           size_t cap)
{
    const char *at = sender ? strrchr(sender, '@') : NULL;
    const char *dom = at ? at + 1 : NULL;
    size_t want = dom ? strcspn(dom, ">") : 0; /* "<a@b>" as well as "a@b" */
    const char *p = map ? map : "", *d, *u, *pick = fallback;
    size_t dl, ul, pick_len = fallback ? strlen(fallback) : 0;
    int r, found = 0;
    while (want > 0 && (r = next_entry(&p, &d, &dl, &u, &ul)) != 0) {
        if (r < 0) return r;
        if (dl == want && strncasecmp(d, dom, dl) == 0) {
            pick = u;
            pick_len = ul;
            found = 1;
            break;
        }
    }
    if (!pick) return -EINVAL;
    if (pick_len >= cap) return -ENAMETOOLONG;
    memcpy(out, pick, pick_len);
    out[pick_len] = '\0';
    return found;
}
