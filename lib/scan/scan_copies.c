/*
 * scan_copies.c: what scan decides beyond one message. Copies of one mailing
 * sent to different recipients are compared (an image whose id token changes
 * from copy to copy names the recipient, which one copy alone cannot show),
 * and a raw HTML file is scanned as the one text/html part of a message.
 *
 * Contract: see homing/scan.h. The results compared are the caller's; the
 * comparison reads at most HOMING_SCAN_SUSPECTS_MAX suspects of each and adds
 * findings only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scan_int.h"

/* The URL with its first occurrence of tok removed, compared with another's:
 * the same image but for its id. */
static int same_but_id(const struct homing_scan_suspect *a, const struct homing_scan_suspect *b)
{
    if (strcmp(a->tok, b->tok) == 0 || strcmp(a->element, b->element) != 0 ||
        strcmp(a->attribute, b->attribute) != 0 || strcmp(a->part, b->part) != 0)
        return 0;
    const char *pa = strstr(a->url, a->tok), *pb = strstr(b->url, b->tok);
    if (!pa || !pb) return 0;
    size_t la = (size_t)(pa - a->url), lb = (size_t)(pb - b->url);
    if (la != lb || strncmp(a->url, b->url, la) != 0) return 0;
    return strcmp(pa + strlen(a->tok), pb + strlen(b->tok)) == 0;
}

int homing_scan_copies(struct homing_scan_result *const *res, size_t n)
{
    int added = 0;
    for (size_t i = 0; i < n; i++) {
        struct homing_scan_result *r = res[i];
        if (!r) continue;
        for (size_t k = 0; k < r->ns; k++) {
            const struct homing_scan_suspect *s = &r->s[k];
            const struct homing_scan_suspect *other = NULL;
            for (size_t j = 0; j < n && !other; j++) {
                const struct homing_scan_result *q = res[j];
                if (j == i || !q) continue;
                /* two mails to one address are not copies for different people */
                if (r->recipient && q->recipient && strcasecmp(r->recipient, q->recipient) == 0)
                    continue;
                for (size_t m = 0; m < q->ns && !other; m++)
                    if (same_but_id(s, &q->s[m])) other = &q->s[m];
            }
            if (!other) continue;
            char why[400];
            snprintf(why, sizeof why,
                     "remote image whose id differs per recipient: '%s' here, '%s' in another "
                     "copy of the mailing",
                     s->tok, other->tok);
            int e = scan_add(r, s->kind, s->part, s->element, s->attribute, s->url, s->vendor, why,
                             NULL);
            if (e == -ENOMEM) return e;
            if (e == 0) added++;
        }
    }
    return added;
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
