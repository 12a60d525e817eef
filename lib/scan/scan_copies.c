/*
 * scan_copies.c: what scan decides beyond one message. Copies of one mailing
 * sent to different recipients are compared (an image whose id token changes
 * from copy to copy names the recipient, which one copy alone cannot show),
 * and a raw HTML file is scanned as the one text/html part of a message.
 *
 * Contract: see homing/scan.h. The results compared are the caller's; the
 * comparison reads at most HOMING_SCAN_SUSPECTS_MAX suspects of each (sorted
 * by the image they are, so the work is n log n in the suspects, plus the
 * square of the copies holding one image with the same id), at most
 * HOMING_SCAN_COPIES_MAX results, and adds findings only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scan_int.h"

/* One suspect and the image it is but for its id: the URL with the first
 * occurrence of its token cut out, with the part, element and attribute. */
struct copy_key {
    char *key; /* owned */
    size_t msg, idx;
};

static int cmp_key(const void *a, const void *b)
{
    const struct copy_key *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    if (c) return c;
    return x->msg < y->msg ? -1 : x->msg > y->msg;
}

static char *key_of(const struct homing_scan_suspect *s)
{
    const char *p = strstr(s->url, s->tok);
    if (!p || !s->tok[0]) return NULL;
    size_t pre = (size_t)(p - s->url);
    const char *post = p + strlen(s->tok);
    size_t n = pre + strlen(post) + strlen(s->part) + strlen(s->element) + strlen(s->attribute) + 8;
    char *k = malloc(n);
    if (k)
        snprintf(k, n, "%.*s\x01%s\x01%s\x01%s\x01%s", (int)pre, s->url, post, s->part, s->element,
                 s->attribute);
    return k;
}

int homing_scan_copies(struct homing_scan_result *const *res, size_t n)
{
    if (n > HOMING_SCAN_COPIES_MAX) return -E2BIG;
    size_t total = 0;
    for (size_t i = 0; i < n; i++) total += res[i] ? res[i]->ns : 0;
    if (total == 0) return 0;
    struct copy_key *v = calloc(total, sizeof *v);
    if (!v) return -ENOMEM;
    size_t m = 0;
    int r = 0;
    for (size_t i = 0; i < n && r == 0; i++)
        for (size_t k = 0; res[i] && k < res[i]->ns; k++) {
            char *key = key_of(&res[i]->s[k]);
            if (!key) {
                if (strstr(res[i]->s[k].url, res[i]->s[k].tok)) r = -ENOMEM;
                continue;
            }
            v[m++] = (struct copy_key){key, i, k};
        }
    /* equal keys sit together: the same image in several copies, its id aside */
    if (r == 0 && m > 1) qsort(v, m, sizeof *v, cmp_key);
    int added = 0;
    for (size_t a = 0; r == 0 && a < m;) {
        size_t b = a + 1;
        while (b < m && strcmp(v[a].key, v[b].key) == 0) b++;
        for (size_t x = a; x < b && r == 0; x++) {
            struct homing_scan_result *rx = res[v[x].msg];
            const struct homing_scan_suspect *s = &rx->s[v[x].idx];
            const struct homing_scan_suspect *other = NULL;
            for (size_t y = a; y < b && !other; y++) {
                const struct homing_scan_result *ry = res[v[y].msg];
                /* two mails to one address are not copies for different people */
                if (v[y].msg == v[x].msg || (rx->recipient && ry->recipient &&
                                             strcasecmp(rx->recipient, ry->recipient) == 0))
                    continue;
                if (strcmp(ry->s[v[y].idx].tok, s->tok) != 0) other = &ry->s[v[y].idx];
            }
            if (!other) continue;
            char why[400];
            snprintf(why, sizeof why,
                     "remote image whose id differs per recipient: '%s' here, '%s' in another "
                     "copy of the mailing",
                     s->tok, other->tok);
            int e = scan_add(rx, s->kind, s->part, s->element, s->attribute, s->url, s->vendor, why,
                             NULL);
            if (e == -ENOMEM) r = e;
            if (e == 0) added++;
        }
        a = b;
    }
    for (size_t i = 0; i < m; i++) free(v[i].key);
    free(v);
    return r < 0 ? r : added;
}

int homing_scan_looks_html(const char *data, size_t len)
{
    size_t i = 0;
    if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) i = 3;
    while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
        i++;
    return i < len && data[i] == '<';
}

int homing_scan_html_file(const char *data, size_t len, const struct homing_scan_options *o,
                          struct homing_scan_result **out)
{
    if (len > HOMING_SCAN_HTML_MAX) return -E2BIG;
    struct homing_scan_result *res = calloc(1, sizeof *res);
    if (!res) return -ENOMEM;
    if (o && o->recipient && *o->recipient && !(res->recipient = strdup(o->recipient))) {
        free(res);
        return -ENOMEM;
    }
    res->html_parts = 1;
    int r = homing_scan_html(data, len, o, NULL, "1", res);
    if (r < 0) {
        homing_scan_result_free(res);
        return r;
    }
    *out = res;
    return 0;
}
